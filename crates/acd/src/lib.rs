//! The routing core of the hotline: a sans-IO ACD (automatic call distributor).
//!
//! No tokio, no I/O, no wall clock. Every input carries its time (`now`); every output is
//! an [`Action`] the driver carries out: ring an agent with a call, start or cancel a
//! timer, write a call's record, refresh a wallboard. The router drives it with real
//! timers and gRPC streams; the simulator drives the very same engine on a virtual clock,
//! so a simulated day is a faithful test of the production routing.
//!
//! What it models:
//! * **agents** with skills (levels 1–10) and groups, in the states logged out, not
//!   ready (with a reason), ready, reserved (ringing), connected (talking or holding),
//!   after-call work (timed, extendable, finishable); an illegal transition is an
//!   [`EngineError`], never a panic;
//! * **queues** with a required skill and level, overflow rings that open while a caller
//!   waits (the caller keeps their place), a maximum length, a no-agents policy, a
//!   callback offer above an estimated wait, six agent-selection [`Strategy`]s;
//! * **calls** in priority classes (the green channel above public customers), first come
//!   first served within a class, a preferred agent (the account manager) waited for up
//!   to a limit, transfers, ring-no-answer and reject back to the head of the queue,
//!   abandons anywhere, agents lost mid-call;
//! * **statistics** per queue and agent, live and per 15-minute interval, with every KPI
//!   defined once in [`kpi`].
//!
//! Invariants (checked by [`Engine::audit`] and the property tests): a live call is in
//! exactly one place; an agent holds at most one call; no call is offered to an agent
//! who does not qualify for it; within a class calls are served in order of entry unless
//! a preferred-agent wait or an overflow ring says otherwise; no agent is ready while a
//! call they may take waits; per queue, offered = answered + abandoned + waiting or
//! ringing unanswered.

mod config;
mod engine;
mod error;
mod ids;
mod io;
pub mod kpi;
mod line;
mod pool;
pub mod rng;
mod state;
pub mod stats;
mod time;

pub use config::{
    AgentProfile, EngineConfig, NoAgentsPolicy, OverflowStep, QueueConfig, Strategy, WrapUpPolicy,
};
pub use engine::{Engine, WaitingCall};
pub use error::EngineError;
pub use ids::{AgentId, CallId, GroupId, QueueId, ReasonCode, SkillId, TimerId};
pub use io::{
    Action, AgentInterval, CallRecord, CallSpec, EndReason, Input, OfferCancel, Party,
    QueueInterval, RequeueReason, TransferTarget,
};
pub use kpi::{ServiceLevelFormula, Tally, Thresholds};
pub use state::{AgentState, AgentStateKind, CallPlace};
pub use time::{Span, Time};
