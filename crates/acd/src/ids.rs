//! Identifiers. The engine hands out agent, queue and call ids; skills, groups and
//! not-ready reasons are numbers the driver gives meaning to (its catalogue of names).

use serde::{Deserialize, Serialize};
use std::fmt;

/// An agent known to the engine (dense index, from [`crate::Engine::add_agent`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AgentId(pub u32);

/// A queue (dense index, from [`crate::Engine::add_queue`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct QueueId(pub u32);

/// A skill, e.g. "broadband faults" or "key accounts"; names live in the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SkillId(pub u16);

/// An agent group (team), e.g. the key-account team of the green channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GroupId(pub u16);

/// A call in the engine: a slot and a generation, so a stale id never reaches a new call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CallId(pub u64);

impl CallId {
    pub(crate) fn new(slot: u32, generation: u32) -> CallId {
        CallId(((generation as u64) << 32) | slot as u64)
    }
    /// The call's slot: a small dense number, reused once the call has ended (the
    /// whole id never is). Drivers index their own per-call state with it.
    pub fn slot(self) -> usize {
        (self.0 & 0xffff_ffff) as usize
    }
    pub(crate) fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

/// A timer the engine asked the driver to run. Drivers deliver
/// [`crate::Input::TimerFired`] at or after its time; a timer that is no longer wanted
/// is ignored when it fires, so honouring [`crate::Action::CancelTimer`] is optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TimerId(pub u64);

/// Why an agent is not ready. Codes below 16 are the engine's own; drivers number the
/// rest (break, lunch, training, meeting, back-office work …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReasonCode(pub u16);

impl ReasonCode {
    /// Just logged in, not yet ready.
    pub const LOGGED_IN: ReasonCode = ReasonCode(0);
    /// Ring-no-answer: an offer timed out.
    pub const RONA: ReasonCode = ReasonCode(1);
    /// The agent rejected an offer.
    pub const REJECTED: ReasonCode = ReasonCode(2);
    /// A supervisor set the agent not ready.
    pub const SUPERVISOR: ReasonCode = ReasonCode(3);
    /// First code free for the driver's own reasons.
    pub const FIRST_CUSTOM: ReasonCode = ReasonCode(16);
}

macro_rules! display_id {
    ($t:ty, $p:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($p, "{}"), self.0)
            }
        }
    };
}
display_id!(AgentId, "agent ");
display_id!(QueueId, "queue ");
display_id!(SkillId, "skill ");
display_id!(GroupId, "group ");
display_id!(ReasonCode, "reason ");

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call {}.{}", self.slot(), self.generation())
    }
}
