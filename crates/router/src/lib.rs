//! The hotline router: it will serve the callcenter.v1 contract (`hotline-proto`) by
//! driving the routing core (`hotline-acd`) with real timers, the IVR (`hotline-ivr`)
//! and the customer store (`hotline-store`).
//!
//! Built so far: [`self_service`], the IVR's self-service on the real store (bill and
//! balance, ticket progress, value-added sign-up, fault report). The gRPC server, auth,
//! sessions and `hotline serve` come next.

pub mod self_service;
