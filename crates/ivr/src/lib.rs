//! The hotline's IVR (voice menu): flows loaded from data files in `assets/ivr/`,
//! validated at start (an error names the file, the node and the field), and a sans-IO
//! interpreter the router and the simulator drive — every input carries its time, every output is an
//! action (say, collect digits until, run a self-service, queue the call, hang up).
//!
//! Node kinds: menus with digit maps, retries and time-outs; digit collection (ticket
//! numbers); self-service on the store (bill and balance, ticket progress, value-added
//! sign-up, fault report); information read out from data files in `assets/info/`
//! (tariffs, packages, promotions, shop hours); queue hand-off with priority and reason, diverted outside
//! business hours; language switch (zh-CN / English); the post-call survey (1–5).
//! Key accounts begin at the flow's green-channel node.

mod flow;
mod session;

/// The 1000 flow as shipped (`assets/ivr/1000.toml`), built in so the router runs with
/// no files at hand.
pub const BUILTIN_1000: &str = include_str!("../../../assets/ivr/1000.toml");

pub use flow::{
    Announcements, Flow, FlowError, FlowFile, Hours, InfoFile, Node, NodeKind, Prompt,
    PromptSeconds, Service, Topic, estimate_seconds,
};
pub use session::{Action, Input, Lang, Session, menu_route, render};
