//! Agent and call states as the outside world sees them.

use crate::ids::{AgentId, CallId, QueueId, ReasonCode};
use crate::time::Time;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The agent's state without its data, for statistics, errors and displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentStateKind {
    /// Not logged in.
    LoggedOut,
    /// Logged in, not taking calls (with a reason).
    NotReady,
    /// Waiting for a call.
    Ready,
    /// A call is ringing at the agent.
    Reserved,
    /// Talking or holding.
    Connected,
    /// After-call work.
    AfterCallWork,
}

impl AgentStateKind {
    /// Every kind, in display order.
    pub const ALL: [AgentStateKind; 6] = [
        AgentStateKind::LoggedOut,
        AgentStateKind::NotReady,
        AgentStateKind::Ready,
        AgentStateKind::Reserved,
        AgentStateKind::Connected,
        AgentStateKind::AfterCallWork,
    ];

    /// Index into per-state arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Busy for occupancy: ringing, connected or wrapping up.
    pub fn is_busy(self) -> bool {
        matches!(
            self,
            AgentStateKind::Reserved | AgentStateKind::Connected | AgentStateKind::AfterCallWork
        )
    }
}

impl fmt::Display for AgentStateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AgentStateKind::LoggedOut => "logged out",
            AgentStateKind::NotReady => "not ready",
            AgentStateKind::Ready => "ready",
            AgentStateKind::Reserved => "being offered a call",
            AgentStateKind::Connected => "on a call",
            AgentStateKind::AfterCallWork => "in wrap-up",
        })
    }
}

/// An agent's full state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AgentState {
    /// Not logged in.
    LoggedOut,
    /// Logged in, not taking calls.
    NotReady(ReasonCode),
    /// Waiting for a call.
    Ready,
    /// `call` is ringing; ring-no-answer at `until` unless the queue never times out.
    Reserved {
        /// The offered call.
        call: CallId,
        /// When the offer times out.
        until: Option<Time>,
    },
    /// Talking with `call`'s caller.
    Connected {
        /// The call.
        call: CallId,
        /// The caller is on hold.
        on_hold: bool,
    },
    /// Wrapping up `call` (which may already have moved on after a transfer).
    AfterCallWork {
        /// The call being wrapped up.
        call: CallId,
        /// When wrap-up ends by itself; `None` when the agent must finish it.
        until: Option<Time>,
    },
}

impl AgentState {
    /// The state's kind.
    pub fn kind(&self) -> AgentStateKind {
        match self {
            AgentState::LoggedOut => AgentStateKind::LoggedOut,
            AgentState::NotReady(_) => AgentStateKind::NotReady,
            AgentState::Ready => AgentStateKind::Ready,
            AgentState::Reserved { .. } => AgentStateKind::Reserved,
            AgentState::Connected { .. } => AgentStateKind::Connected,
            AgentState::AfterCallWork { .. } => AgentStateKind::AfterCallWork,
        }
    }
}

/// Where a call is. Every live call is in exactly one of these; an ended call is in
/// none (its record was emitted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallPlace {
    /// In `queue`, waiting (on the line, or for a callback).
    Waiting {
        /// The queue.
        queue: QueueId,
        /// Held for its preferred agent until the preferred-agent wait ends.
        held_for: Option<AgentId>,
        /// The caller took a callback and is no longer on the line.
        callback: bool,
    },
    /// Ringing at `agent`.
    Offered {
        /// The queue it came from.
        queue: QueueId,
        /// The agent.
        agent: AgentId,
    },
    /// Talking with `agent`.
    Connected {
        /// The queue it came from.
        queue: QueueId,
        /// The agent.
        agent: AgentId,
    },
    /// Conversation over, `agent` is wrapping up; the record is written when they finish.
    WrapUp {
        /// The queue it came from.
        queue: QueueId,
        /// The agent.
        agent: AgentId,
    },
}
