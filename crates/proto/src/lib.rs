//! The callcenter.v1 contract of the hotline router: the Rust types and tonic
//! client/server code generated from `proto/callcenter/v1/*.proto` (compiled by protox
//! in the build script, so no system `protoc` is needed), and the encoded descriptor set
//! for gRPC reflection.
//!
//! Services: `AgentService` (login and the agent's session stream), `CallerService` (the
//! telephone side), `SupervisorService` (live statistics and control), `CrmService`
//! (customers, tickets, call records), `ReportService` (reports over the kept history).

pub mod client;
pub mod codec;

/// Generated code of package `callcenter.v1`.
#[allow(clippy::all, missing_docs)]
pub mod v1 {
    tonic::include_proto!("callcenter.v1");
}

/// Generated code of `proto/bench/echo.proto`: the bare relay `hotline bench echo`
/// measures as the ceiling for the router (not part of the contract).
#[allow(clippy::all, missing_docs)]
pub mod echo {
    tonic::include_proto!("hotline.bench");
}

/// The encoded `FileDescriptorSet` of the contract (imports included), for
/// `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/callcenter_v1_descriptor.bin"));
