//! The hotline router: it serves the callcenter.v1 contract (`hotline-proto`) by
//! driving the routing core (`hotline-acd`) with real timers, the IVR (`hotline-ivr`)
//! and the customer store (`hotline-store`, held as its trait).
//!
//! * [`switchboard`] — the router's sans-IO core: the engine, the IVR sessions and every
//!   call's context; inputs with their time in, caller and agent events, store work and
//!   one interaction record per call (with its legs) out;
//! * `core` — the core task: the only owner of the switchboard, one method per message
//!   and per output kind; store work on the blocking pool, timers as tokio sleeps;
//! * [`convert`] — all wire mapping: store records and switchboard events ↔
//!   callcenter.v1 messages, commands from the wire (checked, never clamped), errors →
//!   gRPC statuses;
//! * [`server`] — the gRPC services: `AgentService` (argon2 login, one live session per
//!   agent), `CallerService`, `CrmService`, `SupervisorService` (statistics, force
//!   not-ready/logout, queue settings, the audit trail), health, reflection v1 and
//!   v1alpha, TLS and mTLS, HTTP/2 keepalive;
//! * [`store_watch`] and [`spool`] — the store as the router sees it: while it cannot
//!   be reached calls go on without screen pops, records wait in a synced file and are
//!   written once the store answers, supervisors and the health service are told;
//! * `ticket_watch` — worklists and "my tickets" live: every ticket the store writes,
//!   fanned out to the `WatchTickets` streams that hold it;
//! * [`incidents`] — area incidents (区域障碍): the supervisor's declare, edit, end and
//!   list, the router's own declaration past the surge rule's stricter level, and the
//!   open ones kept current for the IVR's outage node, the screen pop and the wallboards;
//! * [`tokens`] — session tokens, kept in the store as digests so a restart keeps them;
//! * [`self_service`] — the IVR's self-service on the real store (bill and balance,
//!   ticket progress, value-added sign-up, fault report, the request to be told when an
//!   area incident is fixed).
//!
//! `tracing` logs mask personal data. The configuration file, `hotline serve`, `demo`
//! and `live` are in the `hotline` command and `hotline-live`.

pub mod alarms;
mod call_backs;
pub mod convert;
mod core;
mod crm;
pub mod incidents;
mod intervals;
pub mod ivr_intervals;
pub mod metrics;
pub mod replica;
mod report;
pub mod self_service;
pub mod server;
pub mod spool;
pub mod staffing;
pub mod store_watch;
pub mod supervisor;
pub mod switchboard;
mod ticket_watch;
pub mod tokens;
