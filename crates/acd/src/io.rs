//! What goes into the engine ([`Input`]) and what comes out ([`Action`]).

use crate::ids::{AgentId, CallId, QueueId, ReasonCode, TimerId};
use crate::kpi::Tally;
use crate::state::AgentStateKind;
use crate::time::{Span, Time};
use serde::{Deserialize, Serialize};

/// A new call for a queue (the IVR decided where it goes and how urgent it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSpec {
    /// Queue the call enters.
    pub queue: QueueId,
    /// Priority class; higher is served first (key accounts on the green channel above
    /// public customers). Within a class, first come first served.
    pub priority: u8,
    /// An agent to wait for first (the key account's account manager).
    pub preferred_agent: Option<AgentId>,
    /// The driver's own reference (its call id, the caller's reason …), echoed in the
    /// record.
    pub tag: u64,
}

/// Where an agent sends a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransferTarget {
    /// Into another queue (it waits there as a new arrival, keeping its priority).
    Queue(QueueId),
    /// Straight to a ready agent qualified for the call's queue.
    Agent(AgentId),
}

/// An event, with its time passed beside it to [`crate::Engine::handle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Input {
    /// The agent logs in; they start not ready.
    Login(AgentId),
    /// The agent is ready for calls (during a call or wrap-up: once wrap-up ends; in
    /// wrap-up: ends it now).
    Ready(AgentId),
    /// The agent (or a supervisor for them) goes not ready; during a call, after it.
    NotReady(AgentId, ReasonCode),
    /// The agent logs out (not while a call rings or is connected: use `ForceLogout`).
    Logout(AgentId),
    /// A supervisor logs the agent out, or their connection was lost: a ringing or
    /// connected call goes back to the head of its queue.
    ForceLogout(AgentId),
    /// The agent answers the ringing call.
    Answer(AgentId),
    /// The agent rejects the ringing call: it goes back to the head of its queue and the
    /// agent goes not ready (reason REJECTED).
    Reject(AgentId),
    /// The agent puts the caller on hold.
    Hold(AgentId),
    /// The agent takes the caller off hold.
    Resume(AgentId),
    /// The agent ends the conversation.
    HangUp(AgentId),
    /// The agent transfers the caller; their own wrap-up starts.
    Transfer(AgentId, TransferTarget),
    /// More wrap-up time.
    ExtendWrapUp(AgentId, Span),
    /// Wrap-up done: the agent goes to the state they asked for (ready by default).
    FinishWrapUp(AgentId),
    /// The caller hangs up, wherever the call is.
    CallerHangUp(CallId),
    /// The caller accepts the callback offer: they leave the line but keep their place.
    AcceptCallback(CallId),
    /// The call's priority changes while it waits; the line re-sorts at once.
    SetPriority(CallId, u8),
    /// A timer the engine asked for is due.
    TimerFired(TimerId),
}

/// Who ended a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Party {
    /// The caller hung up.
    Caller,
    /// The agent hung up.
    Agent,
}

/// Why a ringing offer was withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OfferCancel {
    /// The caller hung up while it rang.
    CallerHungUp,
    /// Nobody answered in time (ring-no-answer).
    NoAnswer,
    /// The agent rejected it.
    Rejected,
    /// The agent was logged out or lost their connection.
    AgentLost,
}

/// Why a call went back into its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequeueReason {
    /// Ring-no-answer.
    NoAnswer,
    /// The agent rejected the offer.
    Rejected,
    /// The agent was logged out or lost their connection while it rang or was connected.
    AgentLost,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndReason {
    /// Answered, talked, wrapped up.
    Completed(Party),
    /// The caller hung up before an answer (`short` below the short-abandon threshold).
    Abandoned {
        /// A short abandon.
        short: bool,
    },
    /// The caller hung up while waiting again after an answer (their agent was lost).
    DroppedAfterAnswer,
    /// The caller cancelled a callback they had accepted.
    CallbackCancelled,
    /// Turned away: the queue was full.
    RefusedQueueFull,
    /// Turned away: no qualified agent was logged in.
    RefusedNoAgents,
}

/// Everything the engine knows about a call, written once when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The call.
    pub call: CallId,
    /// The driver's reference from [`CallSpec::tag`].
    pub tag: u64,
    /// The queue it first entered.
    pub first_queue: QueueId,
    /// The queue it ended in.
    pub queue: QueueId,
    /// Its priority when it ended.
    pub priority: u8,
    /// Arrival at the engine.
    pub arrived: Time,
    /// First offer to an agent.
    pub first_offered: Option<Time>,
    /// First answer.
    pub answered: Option<Time>,
    /// End of the conversation (or the abandon / refusal).
    pub conversation_ended: Time,
    /// When the record closed (after the last agent's wrap-up).
    pub closed: Time,
    /// Wait from arrival to the first answer, or to the abandon.
    pub wait: Span,
    /// Talk time over all agent legs (hold excluded).
    pub talk: Span,
    /// Hold time over all legs.
    pub hold: Span,
    /// The last agent's wrap-up.
    pub wrap_up: Span,
    /// First agent who answered.
    pub first_agent: Option<AgentId>,
    /// Last agent who answered.
    pub last_agent: Option<AgentId>,
    /// Times it was offered to an agent.
    pub offers: u16,
    /// Times it went back into a queue (ring-no-answer, reject, agent lost).
    pub requeues: u16,
    /// Transfers.
    pub transfers: u16,
    /// The caller took a callback.
    pub callback: bool,
    /// How it ended.
    pub end: EndReason,
}

/// One queue's figures for a closed statistics interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueInterval {
    /// The queue.
    pub queue: QueueId,
    /// Interval start.
    pub start: Time,
    /// Interval end.
    pub end: Time,
    /// Counters of the interval.
    pub tally: Tally,
    /// Busy time of the queue's agents in the interval.
    pub busy: Span,
    /// Staffed time of the queue's agents in the interval.
    pub staffed: Span,
    /// Calls waiting at the end of the interval.
    pub waiting_at_end: u32,
}

/// One agent's figures for a closed statistics interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInterval {
    /// The agent.
    pub agent: AgentId,
    /// Interval start.
    pub start: Time,
    /// Interval end.
    pub end: Time,
    /// Counters of the interval.
    pub tally: crate::stats::AgentTally,
}

/// What the engine asks its driver to do, or tells it. Drain with
/// [`crate::Engine::poll_action`] after every input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Deliver `Input::TimerFired(timer)` at `at`.
    StartTimer {
        /// The timer.
        timer: TimerId,
        /// When it is due.
        at: Time,
    },
    /// The timer is no longer wanted (optional to honour: a stale timer is ignored).
    CancelTimer(TimerId),
    /// The call is waiting: tell the caller their position and the estimated wait.
    Queued {
        /// The call.
        call: CallId,
        /// Its queue.
        queue: QueueId,
        /// 1 = next in line (counting higher-priority calls ahead).
        position: u32,
        /// Position × AHT ÷ agents staffed for the queue.
        expected_wait: Span,
    },
    /// Offer the caller a callback: the estimated wait passed the queue's threshold.
    OfferCallback {
        /// The call.
        call: CallId,
        /// The estimated wait that triggered it.
        expected_wait: Span,
    },
    /// Ring the agent with the call (screen pop now).
    Offer {
        /// The call.
        call: CallId,
        /// The agent.
        agent: AgentId,
        /// The queue it comes from.
        queue: QueueId,
        /// A callback: the agent calls the customer back.
        callback: bool,
        /// When it times out, if ever.
        ring_until: Option<Time>,
    },
    /// The offer was withdrawn.
    OfferCancelled {
        /// The call.
        call: CallId,
        /// The agent it rang at.
        agent: AgentId,
        /// Why.
        reason: OfferCancel,
    },
    /// Agent and caller are talking.
    Connected {
        /// The call.
        call: CallId,
        /// The agent.
        agent: AgentId,
    },
    /// The call went back into its queue at its old place.
    Requeued {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// Why.
        reason: RequeueReason,
    },
    /// The agent transferred the call.
    Transferred {
        /// The call.
        call: CallId,
        /// The transferring agent.
        from: AgentId,
        /// Where it went.
        to: TransferTarget,
    },
    /// The conversation ended; the agent wraps up.
    ConversationEnded {
        /// The call.
        call: CallId,
        /// The agent.
        agent: AgentId,
        /// Who hung up.
        by: Party,
    },
    /// The agent's state changed.
    AgentState {
        /// The agent.
        agent: AgentId,
        /// New state.
        state: AgentStateKind,
        /// For not ready, the reason.
        reason: Option<ReasonCode>,
    },
    /// The call ended; this is its one record (boxed, as are the intervals: the other
    /// actions are a few words, and every action is moved through the queue of them).
    CallEnded(Box<CallRecord>),
    /// The queue's live statistics changed (emitted once per input per queue).
    QueueChanged(QueueId),
    /// A queue's interval closed.
    QueueIntervalClosed(Box<QueueInterval>),
    /// An agent's interval closed (only agents logged in at some time in it).
    AgentIntervalClosed(Box<AgentInterval>),
}
