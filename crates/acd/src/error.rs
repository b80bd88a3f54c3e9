//! Why the engine refused an input. Nothing the driver sends makes the engine panic;
//! every refusal is one of these, and the engine's state is unchanged by it.

use crate::ids::{AgentId, CallId, QueueId};
use crate::state::AgentStateKind;
use crate::time::Time;
use thiserror::Error;

/// A refused input, worded for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EngineError {
    /// No such agent.
    #[error("{0} is not known")]
    UnknownAgent(AgentId),
    /// No such queue.
    #[error("{0} is not known")]
    UnknownQueue(QueueId),
    /// No such call, or it has ended.
    #[error("{0} is not known or has already ended")]
    UnknownCall(CallId),
    /// The agent cannot do this in its current state.
    #[error("{agent} cannot {request} while {state}")]
    IllegalTransition {
        /// Who asked.
        agent: AgentId,
        /// The state it is in.
        state: AgentStateKind,
        /// What it asked for, in words ("answer", "go ready" …).
        request: &'static str,
    },
    /// The call is not waiting in a queue (it is ringing, connected or wrapping up).
    #[error("{call} is not waiting in a queue, so it cannot {request}")]
    CallNotWaiting {
        /// The call.
        call: CallId,
        /// What was asked.
        request: &'static str,
    },
    /// The caller already left the conversation.
    #[error("{0} has no caller on the line any more")]
    CallerGone(CallId),
    /// A transfer to an agent who is not ready.
    #[error("{0} is not ready to take a transfer")]
    TargetNotReady(AgentId),
    /// A transfer to the transferring agent.
    #[error("an agent cannot transfer a call to themself")]
    TransferToSelf,
    /// A transfer to an agent who lacks the skill for the call's queue.
    #[error("{agent} is not qualified for {queue}")]
    NotQualified {
        /// The target agent.
        agent: AgentId,
        /// The queue of the call.
        queue: QueueId,
    },
    /// Inputs must come in time order.
    #[error("time went backwards: {now} is before {last}")]
    ClockWentBackwards {
        /// The time given.
        now: Time,
        /// The latest time seen.
        last: Time,
    },
    /// A setting is out of range.
    #[error("invalid setting {field}: {why}")]
    InvalidConfig {
        /// The field, as named in the configuration.
        field: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// Skills can only change while the agent is logged out.
    #[error("{0} must be logged out to change skills")]
    AgentLoggedIn(AgentId),
}
