//! The hotline router: it will serve the callcenter.v1 contract (`hotline-proto`) by
//! driving the routing core (`hotline-acd`) with real timers, the IVR (`hotline-ivr`)
//! and the customer store (`hotline-store`).
//!
//! Built so far:
//! * [`switchboard`] — the router's sans-IO core: the engine, the IVR sessions and every
//!   call's context; inputs with their time in, caller and agent events, store work and
//!   one interaction record per call out;
//! * [`self_service`] — the IVR's self-service on the real store (bill and balance,
//!   ticket progress, value-added sign-up, fault report);
//! * [`convert`] — store records ↔ callcenter.v1 messages, and errors → gRPC statuses.
//!
//! * [`server`] — the gRPC server around the switchboard: `AgentService` (argon2 login,
//!   tokens, one live session per agent), `CallerService`, `CrmService` and
//!   `SupervisorService` (statistics stream, agents, force not-ready/logout, queue
//!   settings), with health and reflection.
//!
//! Heartbeats close silent agent sessions; `tracing` logs mask personal data. The
//! configuration file, `hotline serve`, `demo` and `live` are in the `hotline` command
//! and `hotline-live`. Still to come: TLS and `hotline bench route`.

pub mod convert;
mod core;
mod crm;
pub mod self_service;
pub mod server;
mod supervisor;
pub mod switchboard;
pub mod tokens;
