//! The router's core: the routing engine, the IVR sessions and every call's context in
//! one place, sans-IO like the engine itself. The server feeds it what callers and
//! agents do, timers that fell due, and the results of store work, each with its time;
//! it answers with what each caller hears, what each agent's desktop receives, store
//! work to do (self-service, wrap-up tickets) and the interaction record of every call
//! that ends — exactly one per call.

use hotline_acd::{
    self as acd, Action as EngineAction, AgentId, AgentProfile, AgentStateKind, CallId, CallPlace,
    CallSpec, EndReason, Engine, EngineConfig, EngineError, Input as EngineInput, Party,
    QueueConfig, QueueId, ReasonCode, Span, Time, TransferTarget,
};
use hotline_catalog::codes::FAULT_GROUP;
use hotline_ivr::{Action as IvrAction, Flow, Input as IvrInput, Lang, Service, Session};
use hotline_store::{
    CallBackOutcome, CallEnd, CallLeg, Customer, Incident, Interaction, IntervalFigures,
    IntervalRecord, LegOutcome, Millis, NewTicket, ScreenPop, Segment, SelfService, Ticket,
    TicketChange,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use thiserror::Error;

mod areas;
mod call_back;
mod incidents;
use crate::ivr_intervals::{IvrCounts, IvrExit};
use call_back::CallBackJob;
pub use call_back::{CallBackPolicy, CustomerLine};
pub use hotline_outage::{Area, Baseline, Detector, DetectorConfig, OutageEvent};

/// The router's number for a call (also the interaction's call id).
pub type CallNo = u64;

/// A queue the router runs.
#[derive(Debug, Clone)]
pub struct QueueSetup {
    /// Name (IVR flows and supervisors use it).
    pub name: String,
    /// Routing settings.
    pub config: QueueConfig,
}

/// An agent the router knows.
#[derive(Debug, Clone)]
pub struct AgentSetup {
    /// Work number.
    pub id: String,
    /// Skills and groups.
    pub profile: AgentProfile,
}

/// How an agent closes a call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrapUp {
    /// Disposition.
    pub disposition: String,
    /// Reason code (FCR repeats are matched on it).
    pub reason: String,
    /// Notes.
    pub notes: String,
    /// Tickets to open (the agent owns them).
    pub new_tickets: Vec<NewTicket>,
    /// Changes to existing tickets.
    pub ticket_changes: Vec<(u64, TicketChange)>,
    /// Resolved at first contact (FCR claimed).
    pub resolved_first_contact: bool,
    /// The client's id of the command that carried this wrap-up, handed back with its
    /// ticket work so the answer names the command.
    pub command_id: u64,
    /// What came of a 回访 call-back (a call-back task's wrap-up needs one; any other
    /// call's refuses one).
    pub call_back: Option<CallBackOutcome>,
}

/// What an agent does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Log in (not ready).
    Login,
    /// Ready for calls.
    Ready,
    /// Not ready with a reason code.
    NotReady(u16),
    /// Answer.
    Answer,
    /// Reject.
    Reject,
    /// Hold.
    Hold,
    /// Resume.
    Resume,
    /// Transfer to a queue by name.
    TransferToQueue(String),
    /// Transfer to an agent by work number.
    TransferToAgent(String),
    /// End the conversation.
    HangUp,
    /// Close the call.
    WrapUp(WrapUp),
    /// More wrap-up time, seconds.
    ExtendWrapUp(u32),
    /// Log out.
    Logout,
}

/// A timer the driver runs for the switchboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TimerKey {
    /// The routing engine's.
    Engine(acd::TimerId),
    /// An IVR wait for keys of a call, due at the given time.
    Ivr(CallNo, Millis),
    /// A call-back's customer telephone has rung long enough.
    CustomerRing(CallNo),
    /// A call-back task has waited long enough for its owner to log in.
    OwnerWait(CallNo),
    /// Time to judge the areas' fault counts again.
    Areas,
}

/// An input with its time. Serializable: an owner appends every input (with its time)
/// to its partition's log before it takes effect, and a standby applying the log holds
/// the same state (`crates/router/tests/replay.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum In {
    /// A call comes in; `pop` is the store's screen pop for the calling number (the
    /// driver looks it up before dialling in).
    Dial {
        /// The router's number for the call.
        call: CallNo,
        /// Calling number.
        from: String,
        /// Dialled number.
        to: String,
        /// The customer's screen pop, if the number is known.
        pop: Option<Box<ScreenPop>>,
        /// The store could not be reached to look the number up (`pop` is `None` for
        /// want of an answer, not because the caller is unknown).
        store_unavailable: bool,
    },
    /// Keys the caller pressed.
    Keys {
        /// The call.
        call: CallNo,
        /// The keys.
        digits: String,
    },
    /// The caller hung up.
    CallerHangUp(CallNo),
    /// The caller took the callback offered.
    AcceptCallback(CallNo),
    /// A self-service action finished.
    ServiceDone {
        /// The call.
        call: CallNo,
        /// Fields for the prompt, or what to tell the caller.
        outcome: Result<Vec<(String, String)>, String>,
    },
    /// An agent's command.
    Agent {
        /// Work number.
        agent: String,
        /// The command.
        command: Command,
    },
    /// An agent's connection is gone (stream closed, heartbeats missed).
    AgentGone(String),
    /// The store finished an agent's wrap-up ticket work: all of it was written
    /// (`written`, with the tickets opened) or none of it. Written, the wrap-up ends;
    /// not written, the agent stays in wrap-up and may send a corrected one.
    TicketsDone {
        /// Work number.
        agent: String,
        /// Every ticket change was stored.
        written: bool,
        /// Tickets opened.
        opened: Vec<u64>,
    },
    /// A timer fell due.
    Timer(TimerKey),
    /// A resolved ticket's 回访 call-back is due (attempt 1, or a retry the switchboard
    /// asked for with [`Out::CallBackLater`]): route it to the ticket's owner, or to the
    /// call-back queue's agents after the policy's wait.
    CallBackDue {
        /// The router's number for this attempt's call.
        call: CallNo,
        /// The ticket as it is now.
        ticket: Box<Ticket>,
        /// The customer's number to dial.
        number: String,
        /// The customer's screen pop.
        pop: Option<Box<ScreenPop>>,
        /// Which attempt, from 1.
        attempt: u32,
    },
    /// The customer answered a call-back ringing their telephone.
    CustomerAnswered(CallNo),
    /// The areas' usual fault rates by hour of day, learned from the store's history
    /// (the driver reads them after start; until then every area is at the floor).
    AreaBaseline(Box<Baseline>),
    /// The area incidents open now, all of them (the driver sends them at start and
    /// whenever one is declared, edited or ended).
    Incidents(Vec<Incident>),
}

/// What a caller hears or what happens to their call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerEvent {
    /// A prompt.
    Say {
        /// IVR node.
        node: String,
        /// Text.
        text: String,
    },
    /// The IVR waits for keys.
    Collect {
        /// Most keys.
        max_digits: u32,
        /// Until.
        until: Millis,
    },
    /// Waiting in a queue.
    Queued {
        /// Queue.
        queue: String,
        /// Position.
        position: u32,
        /// Estimated wait, seconds.
        wait_seconds: u64,
    },
    /// A callback is offered.
    CallbackOffered,
    /// The callback is booked; the line can be released.
    CallbackBooked,
    /// Talking with this agent.
    Connected(String),
    /// On hold (true) or back (false).
    OnHold(bool),
    /// The call ended.
    Ended(CallEnd),
    /// A call-back rings the customer's telephone.
    Ringing {
        /// Calling number (the hotline's).
        from: String,
        /// The customer's number.
        to: String,
        /// The ticket it is about.
        ticket: u64,
    },
    /// A call-back rang out unanswered (or the agent gave up dialling).
    RangOut,
}

/// What an agent's desktop receives.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// A call rings.
    Offer {
        /// The call.
        call: CallNo,
        /// Queue.
        queue: String,
        /// A callback to make.
        callback: bool,
        /// When it stops ringing.
        ring_until: Option<Millis>,
        /// Calling number.
        caller: String,
        /// The customer's screen pop (None: unknown caller, or the store did not answer).
        pop: Option<Box<ScreenPop>>,
        /// The store could not be reached to look the caller up.
        store_unavailable: bool,
        /// IVR path.
        ivr_path: Vec<String>,
        /// The path in words (node labels, keys), both languages.
        ivr_words: Vec<(String, String)>,
        /// Reason chosen in the IVR.
        reason: Option<String>,
        /// Priority class the IVR gave the call (higher for the green channel).
        priority: u8,
        /// A 回访 call-back task: the ticket, the attempt, when it is due.
        call_back: Option<Box<CallBackOffer>>,
        /// The area incident open for the customer's 小区.
        incident: Option<Box<Incident>>,
    },
    /// The offer was withdrawn.
    OfferCancelled(&'static str),
    /// Talking.
    Connected(CallNo),
    /// The conversation ended (by the caller or the agent); wrap-up starts.
    ConversationEnded {
        /// The call.
        call: CallNo,
        /// The caller hung up.
        by_caller: bool,
    },
    /// State changed.
    State {
        /// New state.
        state: AgentStateKind,
        /// Not-ready reason code.
        reason: Option<u16>,
    },
    /// The customer's line during a call-back.
    CustomerLine(CallNo, CustomerLine),
}

/// What an agent is offered with a call-back task.
#[derive(Debug, Clone, PartialEq)]
pub struct CallBackOffer {
    /// The ticket.
    pub ticket: Ticket,
    /// This attempt, from 1.
    pub attempt: u32,
    /// Attempts allowed.
    pub attempts: u32,
    /// When it is due.
    pub due: Millis,
    /// The number to be dialled.
    pub number: String,
}

/// Work and news for the driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// Tell a caller.
    Caller(CallNo, CallerEvent),
    /// Tell an agent.
    Agent(String, AgentEvent),
    /// Run a self-service action on the store, then send [`In::ServiceDone`].
    SelfService {
        /// The call.
        call: CallNo,
        /// What.
        service: Service,
        /// Keys entered for it.
        input: String,
        /// The caller's customer record.
        customer: Option<Customer>,
        /// The call's language.
        lang: Lang,
    },
    /// Do an agent's wrap-up ticket work on the store, then send [`In::TicketsDone`].
    TicketWork {
        /// Work number (owner of new tickets).
        agent: String,
        /// The wrap-up command's id (to answer it once the work is done).
        command_id: u64,
        /// New tickets.
        new: Vec<NewTicket>,
        /// Changes.
        changes: Vec<(u64, TicketChange)>,
        /// A call-back's outcome to record on its ticket (after the tickets).
        call_back: Option<hotline_store::CallBackRecord>,
    },
    /// Ring this customer's telephone for a call-back (any telephone listening on the
    /// number); its answer comes back as [`In::CustomerAnswered`].
    RingCustomer {
        /// The call.
        call: CallNo,
        /// Calling number.
        from: String,
        /// The customer's number.
        to: String,
        /// The ticket.
        ticket: u64,
    },
    /// Send [`In::CallBackDue`] for this ticket at `at` (looking the ticket up again
    /// then: one no longer resolved needs no call-back; the attempt is counted from its
    /// history).
    CallBackLater {
        /// The ticket.
        ticket: u64,
        /// When.
        at: Millis,
    },
    /// Write this call's record (once per call).
    Record(Interaction),
    /// Keep this closed statistics interval of a queue or an agent (history).
    Interval(IntervalRecord),
    /// Send [`In::Timer`] at `at`.
    StartTimer {
        /// Which.
        key: TimerKey,
        /// When.
        at: Millis,
    },
    /// A queue's statistics changed.
    QueueChanged(String),
    /// The watch on areas raised, grew or cleared a fault-surge alarm.
    Area(OutageEvent),
}

/// An input the switchboard refused; the session carries on.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SwitchError {
    /// No such agent.
    #[error("agent {0} is not known")]
    UnknownAgent(String),
    /// No such call.
    #[error("call {0} is not known or has ended")]
    UnknownCall(CallNo),
    /// The call number is in use.
    #[error("call {0} exists already")]
    DuplicateCall(CallNo),
    /// No such queue.
    #[error("there is no queue '{0}'")]
    UnknownQueue(String),
    /// The agent has no call to wrap up.
    #[error("agent {0} has no call in wrap-up")]
    NothingToWrapUp(String),
    /// The agent's last wrap-up is still being written.
    #[error("the tickets of agent {0}'s wrap-up are still being written; wait for the answer")]
    WrapUpPending(String),
    /// The agent cannot do that in their state.
    #[error("agent {agent} cannot {request} while {state}")]
    AgentRefused {
        /// Work number.
        agent: String,
        /// What they asked for.
        request: &'static str,
        /// Their state.
        state: AgentStateKind,
    },
    /// A call-back's wrap-up must say what came of it.
    #[error(
        "call {0} is a call-back: its wrap-up must say whether the customer was reached (satisfaction and solved) or did not answer"
    )]
    CallBackOutcomeMissing(CallNo),
    /// Only a call-back's wrap-up records a call-back outcome.
    #[error("call {0} is not a call-back task: it has no call-back outcome to record")]
    NotACallBack(CallNo),
    /// The agent says reached, but nobody answered the customer's line.
    #[error("the customer did not answer call-back {0}: record no answer")]
    CustomerNotReached(CallNo),
    /// The customer's telephone is not ringing for this call.
    #[error("call-back {0} is not ringing")]
    NotRinging(CallNo),
    /// Satisfaction outside 1–5.
    #[error("satisfaction must be 1 to 5, got {0}")]
    BadSatisfaction(u8),
    /// The routing core refused.
    #[error("{0}")]
    Engine(#[from] EngineError),
}

#[derive(Debug)]
struct Call {
    from: String,
    to: String,
    arrived: Millis,
    pop: Option<Box<ScreenPop>>,
    /// The number could not be looked up: the store did not answer.
    store_unavailable: bool,
    ivr: Option<Session>,
    survey: Option<Session>,
    ivr_ended: Option<Millis>,
    self_service: Option<SelfService>,
    /// The self-service action running now.
    running: Option<Service>,
    reason: Option<String>,
    queue: Option<String>,
    /// Priority class the IVR queued it with.
    priority: u8,
    /// Counted as a fault report from the caller's area (once per call).
    fault_reported: bool,
    engine: Option<CallId>,
    caller_gone: bool,
    in_survey: bool,
    satisfaction: Option<u8>,
    record: Option<acd::CallRecord>,
    wrap: Option<WrapUp>,
    tickets: Vec<u64>,
    agents: Vec<String>,
    /// Each offer to an agent and what came of it.
    legs: Vec<CallLeg>,
    /// A 回访 call-back task (an outbound call an agent makes).
    call_back: Option<CallBackJob>,
}

impl Call {
    fn new(from: String, to: String, now: Millis, pop: Option<Box<ScreenPop>>) -> Call {
        Call {
            from,
            to,
            arrived: now,
            pop,
            store_unavailable: false,
            ivr: None,
            survey: None,
            ivr_ended: None,
            self_service: None,
            running: None,
            reason: None,
            queue: None,
            priority: 0,
            fault_reported: false,
            engine: None,
            caller_gone: false,
            in_survey: false,
            satisfaction: None,
            record: None,
            wrap: None,
            tickets: Vec::new(),
            agents: Vec::new(),
            legs: Vec::new(),
            call_back: None,
        }
    }

    /// The call's one record: how it `end`ed at `ended`, with the engine's figures if
    /// it reached a queue and the engine closed it; `agent_names` names the engine's
    /// agents.
    fn into_record(
        self,
        call: CallNo,
        end: CallEnd,
        ended: Millis,
        agent_names: &[String],
    ) -> Interaction {
        let r = self.record;
        let secs = |s: Span| (s.0 / 1_000_000) as u32;
        let wrap = self.wrap.unwrap_or_default();
        let name = |a: Option<AgentId>| a.and_then(|a| agent_names.get(a.0 as usize).cloned());
        let mut agents = self.agents;
        if let Some(r) = &r {
            for a in [name(r.first_agent), name(r.last_agent)]
                .into_iter()
                .flatten()
            {
                if !agents.contains(&a) {
                    agents.push(a);
                }
            }
        }
        let mut tickets = self.tickets;
        tickets.sort_unstable();
        tickets.dedup();
        let mut legs = self.legs;
        for l in legs.iter_mut().filter(|l| l.ended.is_none()) {
            l.ended = Some(ended);
            if end == CallEnd::Dropped {
                l.outcome = LegOutcome::Dropped;
            }
        }
        let in_ivr_only = self.queue.is_none();
        Interaction {
            id: 0,
            call_id: call,
            customer: self.pop.as_ref().map(|p| p.customer.id),
            caller_number: self.from,
            dialled: self.to,
            arrived: self.arrived,
            ivr_ended: self.ivr_ended.or(in_ivr_only.then_some(ended)),
            queued: r
                .map(|r| ms(r.arrived))
                .or(self.ivr_ended.filter(|_| !in_ivr_only)),
            offered: r.and_then(|r| r.first_offered).map(ms),
            answered: r.and_then(|r| r.answered).map(ms),
            ended: ended.max(self.arrived),
            ivr_path: self.ivr.as_ref().map(Session::path).unwrap_or_default(),
            self_service: self.self_service,
            queue: self.queue,
            agents,
            transfers: r.map_or(0, |r| r.transfers),
            wait_s: r.map_or(0, |r| secs(r.wait)),
            talk_s: r.map_or(0, |r| secs(r.talk)),
            hold_s: r.map_or(0, |r| secs(r.hold)),
            wrap_up_s: r.map_or(0, |r| secs(r.wrap_up)),
            end,
            disposition: (!wrap.disposition.is_empty()).then_some(wrap.disposition),
            reason: if wrap.reason.is_empty() {
                self.reason
            } else {
                Some(wrap.reason)
            },
            notes: wrap.notes,
            tickets,
            fcr_claimed: end == CallEnd::Completed
                && wrap.resolved_first_contact
                && self.call_back.is_none(),
            fcr_verified: None,
            satisfaction: self.satisfaction,
            legs,
        }
    }
}

/// A wrap-up waiting for its ticket work.
#[derive(Debug)]
struct TicketJob {
    /// The engine's call in wrap-up.
    engine: CallId,
    /// The router's call, if it is still here.
    call: Option<CallNo>,
    /// Existing tickets the wrap-up changes.
    changed: Vec<u64>,
    /// A call-back whose outcome is being recorded, to try again later after no answer.
    retry: Option<u64>,
    /// The subcategory of the first fault ticket the wrap-up opens (a fault report of
    /// the caller's area once it is written, if the call was not counted as one yet).
    fault: Option<String>,
}

/// The router's core.
pub struct Switchboard {
    engine: Engine,
    flow: Arc<Flow>,
    queue_names: Vec<String>,
    queue_ids: HashMap<String, QueueId>,
    agent_names: Vec<String>,
    agent_ids: HashMap<String, AgentId>,
    calls: HashMap<CallNo, Call>,
    by_engine: HashMap<CallId, CallNo>,
    /// Agent → the wrap-up whose tickets the store is working on.
    ticket_work: HashMap<String, TicketJob>,
    /// How call-backs are routed; `None`: resolved tickets make no call-back tasks.
    call_backs: Option<CallBackPolicy>,
    /// The calls that left the IVR in the statistics interval so far.
    ivr_counts: IvrCounts,
    /// The watch on fault surges by area; `None`: not watched.
    areas: Option<Detector>,
    /// The area incidents open now.
    incidents: Vec<Incident>,
    out: VecDeque<Out>,
}

fn service_name(s: Service) -> String {
    match s {
        Service::Bill => "bill",
        Service::TicketProgress => "ticket-progress",
        Service::ValueAddedSignup => "value-added-signup",
        Service::FaultReport => "fault-report",
        Service::OutageNotify => "outage-notify",
    }
    .to_string()
}

fn us(ms: Millis) -> Time {
    Time(ms.saturating_mul(1000))
}

fn ms(t: Time) -> Millis {
    t.0 / 1000
}

impl Switchboard {
    /// A switchboard with these queues and agents, running `flow`, its clock at `now`,
    /// with 15-minute statistics intervals.
    pub fn new(
        flow: Arc<Flow>,
        queues: Vec<QueueSetup>,
        agents: Vec<AgentSetup>,
        now: Millis,
    ) -> Result<Switchboard, SwitchError> {
        Switchboard::with_intervals(flow, queues, agents, now, EngineConfig::default().interval)
    }

    /// As [`Switchboard::new`], with statistics intervals of `interval` (aligned to the
    /// clock: a 15-minute interval starts at :00, :15, :30, :45).
    pub fn with_intervals(
        flow: Arc<Flow>,
        queues: Vec<QueueSetup>,
        agents: Vec<AgentSetup>,
        now: Millis,
        interval: Span,
    ) -> Result<Switchboard, SwitchError> {
        // a restarted router goes on from its start: the interval it closed early when
        // it stopped and the one it opens now do not overlap
        let config = EngineConfig {
            interval,
            first_interval_from_start: true,
            ..EngineConfig::default()
        };
        let mut sb = Switchboard {
            flow,
            queue_names: Vec::new(),
            queue_ids: HashMap::new(),
            agent_names: Vec::new(),
            agent_ids: HashMap::new(),
            calls: HashMap::new(),
            by_engine: HashMap::new(),
            ticket_work: HashMap::new(),
            call_backs: None,
            ivr_counts: IvrCounts::default(),
            areas: None,
            incidents: Vec::new(),
            out: VecDeque::new(),
            engine: Engine::new(config, us(now)),
        };
        for q in queues {
            let id = sb.engine.add_queue(q.config)?;
            sb.queue_ids.insert(q.name.clone(), id);
            sb.queue_names.push(q.name);
        }
        for a in agents {
            let id = sb.engine.add_agent(a.profile)?;
            sb.agent_ids.insert(a.id.clone(), id);
            sb.agent_names.push(a.id);
        }
        sb.drain_engine(now);
        Ok(sb)
    }

    /// The next piece of work or news.
    pub fn poll(&mut self) -> Option<Out> {
        self.out.pop_front()
    }

    /// The routing engine (for statistics and snapshots).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Queue names, in engine order.
    pub fn queue_names(&self) -> &[String] {
        &self.queue_names
    }

    /// Calls in the switchboard now (IVR, queue, agents, survey).
    pub fn live_calls(&self) -> usize {
        self.calls.len()
    }

    /// Agents' work numbers, in engine order (`AgentId(i)` is the i-th).
    pub fn agent_names(&self) -> &[String] {
        &self.agent_names
    }

    /// The engine's id of an agent.
    pub fn agent_id(&self, agent: &str) -> Option<AgentId> {
        self.agent_ids.get(agent).copied()
    }

    /// The engine's id of a queue.
    pub fn queue_id(&self, queue: &str) -> Option<QueueId> {
        self.queue_ids.get(queue).copied()
    }

    /// The router's number of an engine call.
    pub fn call_no(&self, call: CallId) -> Option<CallNo> {
        self.by_engine.get(&call).copied()
    }

    /// Change a queue's settings now (calls keep their places).
    pub fn update_queue(
        &mut self,
        now: Millis,
        queue: &str,
        config: QueueConfig,
    ) -> Result<(), SwitchError> {
        let q = self
            .queue_id(queue)
            .ok_or_else(|| SwitchError::UnknownQueue(queue.to_string()))?;
        self.engine.update_queue(q, config)?;
        self.drain_engine(now);
        Ok(())
    }

    /// Handle one input at `now` (milliseconds since the Unix epoch).
    pub fn handle(&mut self, now: Millis, input: In) -> Result<(), SwitchError> {
        let r = self.dispatch(now, input);
        self.drain_engine(now);
        r
    }

    fn agent(&self, id: &str) -> Result<AgentId, SwitchError> {
        self.agent_ids
            .get(id)
            .copied()
            .ok_or_else(|| SwitchError::UnknownAgent(id.to_string()))
    }

    fn dispatch(&mut self, now: Millis, input: In) -> Result<(), SwitchError> {
        match input {
            In::Dial {
                call,
                from,
                to,
                pop,
                store_unavailable,
            } => {
                if self.calls.contains_key(&call) {
                    return Err(SwitchError::DuplicateCall(call));
                }
                let key_account = pop
                    .as_ref()
                    .is_some_and(|p| p.customer.segment == Segment::KeyAccount);
                let (session, actions) = Session::start(&self.flow, now, key_account);
                let mut c = Call::new(from, to, now, pop);
                c.store_unavailable = store_unavailable;
                c.ivr = Some(session);
                self.calls.insert(call, c);
                self.ivr_actions(call, now, actions)
            }
            In::Keys { call, digits } => self.ivr_input(call, now, IvrInput::Digits(digits)),
            In::ServiceDone { call, outcome } => {
                let c = self
                    .calls
                    .get_mut(&call)
                    .ok_or(SwitchError::UnknownCall(call))?;
                let service = c
                    .running
                    .take()
                    .map_or("self-service".to_string(), service_name);
                c.self_service = Some(match &outcome {
                    Ok(_) => SelfService::Completed(service),
                    Err(why) => SelfService::ToAgent(format!("{service}: {why}")),
                });
                self.ivr_input(call, now, IvrInput::ServiceDone(outcome))
            }
            In::Timer(TimerKey::Ivr(call, until)) => {
                if self.calls.contains_key(&call) {
                    self.ivr_input(call, now.max(until), IvrInput::Timeout)?;
                }
                Ok(())
            }
            In::Timer(TimerKey::Engine(t)) => {
                Ok(self.engine.handle(us(now), EngineInput::TimerFired(t))?)
            }
            In::Timer(TimerKey::CustomerRing(call)) => {
                self.ring_out(call);
                Ok(())
            }
            In::Timer(TimerKey::OwnerWait(call)) => self.owner_wait_over(call, now),
            In::Timer(TimerKey::Areas) => {
                self.judge_areas(now);
                Ok(())
            }
            In::Incidents(open) => {
                self.incidents = open;
                Ok(())
            }
            In::AreaBaseline(b) => {
                if let Some(d) = &mut self.areas {
                    d.learned(*b);
                }
                Ok(())
            }
            In::CallBackDue {
                call,
                ticket,
                number,
                pop,
                attempt,
            } => self.call_back_due(now, call, ticket, number, pop, attempt),
            In::CustomerAnswered(call) => self.customer_answered(call, now),
            In::CallerHangUp(call) => self.caller_hang_up(call, now),
            In::AcceptCallback(call) => {
                let c = self
                    .calls
                    .get_mut(&call)
                    .ok_or(SwitchError::UnknownCall(call))?;
                let e = c.engine.ok_or(SwitchError::UnknownCall(call))?;
                self.engine
                    .handle(us(now), EngineInput::AcceptCallback(e))?;
                c.caller_gone = true;
                self.out
                    .push_back(Out::Caller(call, CallerEvent::CallbackBooked));
                Ok(())
            }
            In::Agent { agent, command } => {
                self.agent_command(&agent, command, now)
                    .map_err(|e| match e {
                        // name the agent by work number, not the engine's index
                        SwitchError::Engine(EngineError::IllegalTransition {
                            request,
                            state,
                            ..
                        }) => SwitchError::AgentRefused {
                            agent,
                            request,
                            state,
                        },
                        e => e,
                    })
            }
            In::AgentGone(agent) => {
                let a = self.agent(&agent)?;
                Ok(self.engine.handle(us(now), EngineInput::ForceLogout(a))?)
            }
            In::TicketsDone {
                agent,
                written,
                opened,
            } => {
                let a = self.agent(&agent)?;
                let Some(job) = self.ticket_work.remove(&agent) else {
                    return Ok(());
                };
                if written {
                    self.call_back_recorded(job.call, job.retry, now);
                    if let (Some(no), Some(what)) = (job.call, &job.fault) {
                        self.fault_call(no, now, what);
                    }
                }
                if let Some(c) = job.call.and_then(|no| self.calls.get_mut(&no)) {
                    if written {
                        c.tickets.extend(opened);
                        c.tickets.extend(job.changed);
                    } else {
                        c.wrap = None; // refused as a whole
                    }
                }
                let still_in_wrap_up = matches!(
                    self.engine.agent_state(a),
                    Ok(acd::AgentState::AfterCallWork { call, .. }) if call == job.engine
                );
                if written && still_in_wrap_up {
                    self.engine.handle(us(now), EngineInput::FinishWrapUp(a))?;
                }
                // a timed wrap-up may have ended while the store worked: the record was
                // waiting for this
                if let Some(no) = job.call {
                    self.try_finish(no);
                }
                Ok(())
            }
        }
    }

    fn agent_command(
        &mut self,
        agent: &str,
        command: Command,
        now: Millis,
    ) -> Result<(), SwitchError> {
        let a = self.agent(agent)?;
        let t = us(now);
        let input = match command {
            Command::Login => {
                self.engine.handle(t, EngineInput::Login(a))?;
                return self.owner_logged_in(agent, now);
            }
            Command::Ready => EngineInput::Ready(a),
            Command::NotReady(r) => EngineInput::NotReady(a, ReasonCode(r)),
            Command::Answer => EngineInput::Answer(a),
            Command::Reject => EngineInput::Reject(a),
            Command::Hold => EngineInput::Hold(a),
            Command::Resume => EngineInput::Resume(a),
            Command::TransferToQueue(q) => {
                let id = *self.queue_ids.get(&q).ok_or(SwitchError::UnknownQueue(q))?;
                EngineInput::Transfer(a, TransferTarget::Queue(id))
            }
            Command::TransferToAgent(b) => {
                EngineInput::Transfer(a, TransferTarget::Agent(self.agent(&b)?))
            }
            Command::HangUp => EngineInput::HangUp(a),
            Command::ExtendWrapUp(s) => EngineInput::ExtendWrapUp(a, Span::from_secs(s as u64)),
            Command::Logout => EngineInput::Logout(a),
            Command::WrapUp(w) => {
                let acd::AgentState::AfterCallWork { call, .. } = self.engine.agent_state(a)?
                else {
                    return Err(SwitchError::NothingToWrapUp(agent.to_string()));
                };
                if self.ticket_work.contains_key(agent) {
                    return Err(SwitchError::WrapUpPending(agent.to_string()));
                }
                let no = self.by_engine.get(&call).copied();
                let call_back = self.call_back_work(no, w.call_back)?;
                let has_tickets = !w.new_tickets.is_empty()
                    || !w.ticket_changes.is_empty()
                    || call_back.is_some();
                let job = has_tickets.then(|| {
                    let retry = call_back.as_ref().and_then(call_back::retry_after);
                    self.out.push_back(Out::TicketWork {
                        agent: agent.to_string(),
                        command_id: w.command_id,
                        new: w.new_tickets.clone(),
                        changes: w.ticket_changes.clone(),
                        call_back,
                    });
                    TicketJob {
                        engine: call,
                        call: no,
                        changed: w.ticket_changes.iter().map(|(id, _)| *id).collect(),
                        retry,
                        fault: w
                            .new_tickets
                            .iter()
                            .find(|t| t.kind == hotline_store::TicketKind::Fault)
                            .map(|t| t.subcategory.clone()),
                    }
                });
                // the last agent's wrap-up describes the call
                let last_leg = matches!(
                    self.engine.call_place(call),
                    Some(CallPlace::WrapUp { .. }) | None
                );
                if let Some(c) = no.and_then(|no| self.calls.get_mut(&no)) {
                    if last_leg {
                        c.wrap = Some(w);
                    }
                }
                if let Some(job) = job {
                    self.ticket_work.insert(agent.to_string(), job);
                    return Ok(()); // wrap-up finishes when the store is done
                }
                EngineInput::FinishWrapUp(a)
            }
        };
        let hold = match input {
            EngineInput::Hold(_) => Some(true),
            EngineInput::Resume(_) => Some(false),
            _ => None,
        };
        self.engine.handle(t, input)?;
        if let (Some(on), Ok(acd::AgentState::Connected { call, .. })) =
            (hold, self.engine.agent_state(a))
        {
            if let Some(&no) = self.by_engine.get(&call) {
                self.out.push_back(Out::Caller(no, CallerEvent::OnHold(on)));
            }
        }
        Ok(())
    }

    fn caller_hang_up(&mut self, call: CallNo, now: Millis) -> Result<(), SwitchError> {
        if self.customer_hung_up(call, now)? {
            return Ok(());
        }
        let c = self
            .calls
            .get_mut(&call)
            .ok_or(SwitchError::UnknownCall(call))?;
        if c.caller_gone {
            // already off the line (a booked callback releases it): the line closing
            // must not cancel anything
            return Ok(());
        }
        c.caller_gone = true;
        match c.engine {
            None => {
                // still in the IVR
                let (end, exit) = if c.self_service.is_some() {
                    (CallEnd::SelfService, IvrExit::Contained)
                } else {
                    (CallEnd::Abandoned, IvrExit::HungUp)
                };
                self.left_ivr(call, now, exit);
                self.finish_in_ivr(call, now, end);
            }
            Some(e) => {
                if matches!(
                    self.engine.call_place(e),
                    Some(
                        CallPlace::Waiting { .. }
                            | CallPlace::Offered { .. }
                            | CallPlace::Connected { .. }
                    )
                ) {
                    self.engine.handle(us(now), EngineInput::CallerHangUp(e))?;
                }
                self.try_finish(call);
            }
        }
        Ok(())
    }

    fn ivr_input(&mut self, call: CallNo, now: Millis, input: IvrInput) -> Result<(), SwitchError> {
        let c = self
            .calls
            .get_mut(&call)
            .ok_or(SwitchError::UnknownCall(call))?;
        let session = if c.in_survey {
            c.survey.as_mut()
        } else {
            c.ivr.as_mut()
        };
        let Some(s) = session else { return Ok(()) };
        if s.is_done() {
            return Ok(());
        }
        let actions = s.handle(now, input);
        self.ivr_actions(call, now, actions)
    }

    fn ivr_actions(
        &mut self,
        call: CallNo,
        now: Millis,
        actions: Vec<IvrAction>,
    ) -> Result<(), SwitchError> {
        for a in actions {
            match a {
                IvrAction::Say { node, text, .. } => self.out.push_back(Out::Caller(
                    call,
                    CallerEvent::Say {
                        node: node.to_string(),
                        text,
                    },
                )),
                IvrAction::Collect { max_digits, until } => {
                    self.out.push_back(Out::Caller(
                        call,
                        CallerEvent::Collect { max_digits, until },
                    ));
                    self.out.push_back(Out::StartTimer {
                        key: TimerKey::Ivr(call, until),
                        at: until,
                    });
                }
                IvrAction::SelfService { service, input, .. } => {
                    if let Some(c) = self.calls.get_mut(&call) {
                        c.running = Some(service);
                    }
                    if service == Service::FaultReport {
                        self.fault_call(call, now, FAULT_GROUP);
                    }
                    let c = &self.calls[&call];
                    self.out.push_back(Out::SelfService {
                        call,
                        service,
                        input,
                        customer: c.pop.as_ref().map(|p| p.customer.clone()),
                        lang: c.ivr.as_ref().map_or(Lang::Zh, Session::language),
                    });
                }
                IvrAction::Queue {
                    queue,
                    priority,
                    reason,
                } => {
                    let q = *self
                        .queue_ids
                        .get(&queue)
                        .ok_or(SwitchError::UnknownQueue(queue.clone()))?;
                    let preferred = self.calls[&call]
                        .pop
                        .as_ref()
                        .and_then(|p| p.customer.account_manager.as_ref())
                        .and_then(|m| self.agent_ids.get(m).copied());
                    self.left_ivr(call, now, IvrExit::ToAgent);
                    if reason == FAULT_GROUP {
                        self.fault_call(call, now, &reason);
                    }
                    let c = self
                        .calls
                        .get_mut(&call)
                        .ok_or(SwitchError::UnknownCall(call))?;
                    c.ivr_ended = Some(now);
                    c.reason = Some(reason);
                    c.queue = Some(queue);
                    c.priority = priority;
                    let e = self.engine.arrive(
                        us(now),
                        CallSpec {
                            queue: q,
                            priority,
                            preferred_agent: preferred,
                            tag: call,
                        },
                    )?;
                    c.engine = Some(e);
                    self.by_engine.insert(e, call);
                }
                IvrAction::Outage { .. } => self.tell_outage(call, now)?,
                IvrAction::SurveyAnswer(n) => {
                    if let Some(c) = self.calls.get_mut(&call) {
                        c.satisfaction = Some(n);
                    }
                }
                IvrAction::Hangup { finished_in_ivr } => {
                    let c = self
                        .calls
                        .get_mut(&call)
                        .ok_or(SwitchError::UnknownCall(call))?;
                    if c.in_survey {
                        c.caller_gone = true;
                        self.out
                            .push_back(Out::Caller(call, CallerEvent::Ended(CallEnd::Completed)));
                        self.try_finish(call);
                    } else {
                        let (end, exit) = if finished_in_ivr {
                            (CallEnd::SelfService, IvrExit::Contained)
                        } else {
                            (CallEnd::Completed, IvrExit::HungUp)
                        };
                        c.caller_gone = true;
                        self.left_ivr(call, now, exit);
                        self.finish_in_ivr(call, now, end);
                    }
                }
            }
        }
        Ok(())
    }

    /// The statistics interval in progress as it stands at `now`, as records to keep
    /// (a checkpoint: a crash then loses only what came after it). The interval's close
    /// writes the same keys again with the whole interval.
    pub fn checkpoint(&mut self, now: Millis) -> Vec<IntervalRecord> {
        let Ok((queues, agents)) = self.engine.interval_so_far(us(now)) else {
            return Vec::new();
        };
        let mut records: Vec<IntervalRecord> =
            queues.iter().map(|q| self.queue_interval(q)).collect();
        records.extend(agents.iter().map(|a| self.agent_interval(a)));
        if let Some(q) = queues.first() {
            records.extend(self.ivr_counts.records(ms(q.start), ms(q.end)));
        }
        records
    }

    /// A queue's interval figures as the store keeps them.
    fn queue_interval(&self, q: &hotline_acd::QueueInterval) -> IntervalRecord {
        let (formula, sl_seconds) = self
            .engine
            .queue_config(q.queue)
            .map(|c| {
                let t = c.thresholds.service_level.0 / 1_000_000;
                (c.service_level_formula, t as u32)
            })
            .unwrap_or_default();
        IntervalRecord {
            start: ms(q.start),
            end: ms(q.end),
            figures: IntervalFigures::Queue {
                queue: self.queue_names[q.queue.0 as usize].clone(),
                tally: q.tally,
                busy_ms: q.busy.0 / 1000,
                staffed_ms: q.staffed.0 / 1000,
                waiting_at_end: q.waiting_at_end,
                formula,
                sl_seconds,
            },
        }
    }

    /// An agent's interval figures as the store keeps them.
    fn agent_interval(&self, a: &hotline_acd::AgentInterval) -> IntervalRecord {
        IntervalRecord {
            start: ms(a.start),
            end: ms(a.end),
            figures: IntervalFigures::Agent {
                agent: self.agent_names[a.agent.0 as usize].clone(),
                tally: a.tally.clone(),
            },
        }
    }

    /// The router is stopping: every call still here ends now, each with its record
    /// (ended as dropped), and callers are told; the statistics interval in progress is
    /// closed now, shorter, so its figures are kept.
    pub fn shutdown(&mut self, now: Millis) {
        let calls: Vec<CallNo> = self.calls.keys().copied().collect();
        for call in calls {
            let Some(c) = self.calls.remove(&call) else {
                continue;
            };
            if !c.caller_gone {
                self.out
                    .push_back(Out::Caller(call, CallerEvent::Ended(CallEnd::Dropped)));
            }
            self.out.push_back(Out::Record(c.into_record(
                call,
                CallEnd::Dropped,
                now,
                &self.agent_names,
            )));
        }
        self.by_engine.clear();
        if self.engine.close_interval_now(us(now)).is_ok() {
            self.drain_engine(now);
        }
    }

    /// A call that never left the IVR ends: its record is written now.
    /// `call` leaves the IVR at `now`: counted in the IVR's interval.
    fn left_ivr(&mut self, call: CallNo, now: Millis, exit: IvrExit) {
        if let Some(c) = self.calls.get(&call) {
            let path = c.ivr.as_ref().map(Session::path).unwrap_or_default();
            let ivr_ms = now.saturating_sub(c.arrived);
            self.ivr_counts
                .left(&path, c.self_service.as_ref(), exit, ivr_ms);
        }
    }

    fn finish_in_ivr(&mut self, call: CallNo, now: Millis, end: CallEnd) {
        let Some(c) = self.calls.remove(&call) else {
            return;
        };
        self.out
            .push_back(Out::Caller(call, CallerEvent::Ended(end)));
        self.out.push_back(Out::Record(c.into_record(
            call,
            end,
            now,
            &self.agent_names,
        )));
    }

    /// Write the record once the engine has closed the call and the caller is gone (or
    /// done with the survey), and no wrap-up ticket work is pending.
    fn try_finish(&mut self, call: CallNo) {
        let ready = self.calls.get(&call).is_some_and(|c| {
            c.record.is_some()
                && c.caller_gone
                && !self.ticket_work.values().any(|j| j.call == Some(call))
        });
        if !ready {
            return;
        }
        let Some(c) = self.calls.remove(&call) else {
            return;
        };
        let Some(r) = c.record else { return };
        if let Some(e) = c.engine {
            self.by_engine.remove(&e);
        }
        self.call_back_unfinished(&c, ms(r.conversation_ended).max(c.arrived));
        let end = match r.end {
            EndReason::Completed(_) => CallEnd::Completed,
            EndReason::Abandoned { .. }
            | EndReason::DroppedAfterAnswer
            | EndReason::CallbackCancelled => CallEnd::Abandoned,
            EndReason::RefusedNoAgents | EndReason::RefusedQueueFull => CallEnd::Refused,
        };
        let ended = ms(r.conversation_ended);
        self.out.push_back(Out::Record(c.into_record(
            call,
            end,
            ended,
            &self.agent_names,
        )));
    }

    /// The open leg of `call` at `agent`.
    fn leg(&mut self, call: CallId, agent: AgentId) -> Option<&mut CallLeg> {
        let no = self.by_engine.get(&call)?;
        let name = self.agent_names.get(agent.0 as usize)?;
        self.calls
            .get_mut(no)?
            .legs
            .iter_mut()
            .rev()
            .find(|l| &l.agent == name && l.ended.is_none())
    }

    /// End the open leg of `call` at `agent` with `outcome`.
    fn end_leg(&mut self, call: CallId, agent: AgentId, now: Millis, outcome: LegOutcome) {
        if let Some(l) = self.leg(call, agent) {
            l.ended = Some(now);
            l.outcome = outcome;
        }
    }

    /// The call an agent has now (ringing, connected or in wrap-up).
    pub fn current_call(&self, agent: &str) -> Option<CallNo> {
        let a = self.agent_ids.get(agent)?;
        let call = match self.engine.agent_state(*a).ok()? {
            acd::AgentState::Reserved { call, .. }
            | acd::AgentState::Connected { call, .. }
            | acd::AgentState::AfterCallWork { call, .. } => call,
            _ => return None,
        };
        self.by_engine.get(&call).copied()
    }

    fn drain_engine(&mut self, now: Millis) {
        while let Some(a) = self.engine.poll_action() {
            match a {
                EngineAction::StartTimer { timer, at } => self.out.push_back(Out::StartTimer {
                    key: TimerKey::Engine(timer),
                    at: ms(at),
                }),
                EngineAction::Queued {
                    call,
                    queue,
                    position,
                    expected_wait,
                } => {
                    if let Some(&no) = self.by_engine.get(&call) {
                        self.out.push_back(Out::Caller(
                            no,
                            CallerEvent::Queued {
                                queue: self.queue_names[queue.0 as usize].clone(),
                                position,
                                wait_seconds: expected_wait.0 / 1_000_000,
                            },
                        ));
                        if let Some(s) = self.calls.get(&no).and_then(|c| c.ivr.as_ref()) {
                            let text = s.announce_position(position, expected_wait.0 / 1_000_000);
                            self.out.push_back(Out::Caller(
                                no,
                                CallerEvent::Say {
                                    node: "queue".into(),
                                    text,
                                },
                            ));
                        }
                    }
                }
                EngineAction::OfferCallback { call, .. } => {
                    if let Some(&no) = self.by_engine.get(&call) {
                        if let Some(s) = self.calls.get(&no).and_then(|c| c.ivr.as_ref()) {
                            let (offer, _) = s.callback_texts();
                            self.out.push_back(Out::Caller(
                                no,
                                CallerEvent::Say {
                                    node: "callback".into(),
                                    text: offer,
                                },
                            ));
                        }
                        self.out
                            .push_back(Out::Caller(no, CallerEvent::CallbackOffered));
                    }
                }
                EngineAction::Offer {
                    call,
                    agent,
                    queue,
                    callback,
                    ring_until,
                } => {
                    let Some(&no) = self.by_engine.get(&call) else {
                        continue;
                    };
                    let c = &self.calls[&no];
                    let ev = AgentEvent::Offer {
                        call: no,
                        queue: self.queue_names[queue.0 as usize].clone(),
                        callback,
                        ring_until: ring_until.map(ms),
                        // a call-back's pop names the customer's number, not the hotline's
                        caller: if c.call_back.is_some() {
                            c.to.clone()
                        } else {
                            c.from.clone()
                        },
                        pop: c.pop.clone(),
                        store_unavailable: c.store_unavailable,
                        ivr_words: c
                            .ivr
                            .as_ref()
                            .map(|s| {
                                s.path()
                                    .iter()
                                    .map(|step| match self.flow.step_words(step) {
                                        Some(w) => (w.zh, w.en),
                                        None => (step.clone(), step.clone()),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        ivr_path: c.ivr.as_ref().map(Session::path).unwrap_or_default(),
                        reason: c.reason.clone(),
                        priority: c.priority,
                        call_back: self.call_back_offer(c),
                        incident: self.incident_of(c.pop.as_deref()).cloned().map(Box::new),
                    };
                    let name = self.agent_names[agent.0 as usize].clone();
                    let leg = CallLeg {
                        agent: name.clone(),
                        queue: self.queue_names[queue.0 as usize].clone(),
                        offered: now,
                        answered: None,
                        ended: None,
                        outcome: LegOutcome::Handled,
                    };
                    if let Some(c) = self.calls.get_mut(&no) {
                        c.legs.push(leg);
                    }
                    self.out.push_back(Out::Agent(name, ev));
                }
                EngineAction::OfferCancelled {
                    call,
                    agent,
                    reason,
                } => {
                    let (words, outcome) = match reason {
                        acd::OfferCancel::CallerHungUp => {
                            ("caller hung up", LegOutcome::CallerHungUp)
                        }
                        acd::OfferCancel::NoAnswer => ("no answer", LegOutcome::NoAnswer),
                        acd::OfferCancel::Rejected => ("rejected", LegOutcome::Rejected),
                        acd::OfferCancel::AgentLost => ("agent logged out", LegOutcome::AgentLost),
                    };
                    self.end_leg(call, agent, now, outcome);
                    self.out.push_back(Out::Agent(
                        self.agent_names[agent.0 as usize].clone(),
                        AgentEvent::OfferCancelled(words),
                    ));
                }
                EngineAction::Connected { call, agent } => {
                    if let Some(l) = self.leg(call, agent) {
                        l.answered = Some(now);
                    }
                    let name = self.agent_names[agent.0 as usize].clone();
                    if let Some(&no) = self.by_engine.get(&call) {
                        let mut call_back = false;
                        if let Some(c) = self.calls.get_mut(&no) {
                            if !c.agents.contains(&name) {
                                c.agents.push(name.clone());
                            }
                            call_back = c.call_back.is_some();
                        }
                        if !call_back {
                            self.out
                                .push_back(Out::Caller(no, CallerEvent::Connected(name.clone())));
                        }
                        self.out
                            .push_back(Out::Agent(name.clone(), AgentEvent::Connected(no)));
                        if call_back {
                            self.dial_customer(no, &name, now);
                        }
                    }
                }
                EngineAction::ConversationEnded { call, agent, by } => {
                    self.end_leg(call, agent, now, LegOutcome::Handled);
                    let Some(&no) = self.by_engine.get(&call) else {
                        continue;
                    };
                    let name = self.agent_names[agent.0 as usize].clone();
                    self.out.push_back(Out::Agent(
                        name,
                        AgentEvent::ConversationEnded {
                            call: no,
                            by_caller: by == Party::Caller,
                        },
                    ));
                    if self.calls.get(&no).is_some_and(|c| c.call_back.is_some()) {
                        self.call_back_conversation_ended(no);
                        continue;
                    }
                    let caller_on_line = self.calls.get(&no).is_some_and(|c| !c.caller_gone);
                    if by == Party::Agent && caller_on_line {
                        // the caller stays on the line for the survey
                        let lang = self.calls[&no]
                            .ivr
                            .as_ref()
                            .map_or(Lang::Zh, Session::language);
                        let (survey, acts) = Session::survey(&self.flow, now, lang);
                        if let Some(c) = self.calls.get_mut(&no) {
                            c.survey = Some(survey);
                            c.in_survey = true;
                        }
                        let _ = self.ivr_actions(no, now, acts);
                    } else if by == Party::Caller {
                        if let Some(c) = self.calls.get_mut(&no) {
                            c.caller_gone = true;
                        }
                    }
                }
                EngineAction::AgentState {
                    agent,
                    state,
                    reason,
                } => {
                    self.out.push_back(Out::Agent(
                        self.agent_names[agent.0 as usize].clone(),
                        AgentEvent::State {
                            state,
                            reason: reason.map(|r| r.0),
                        },
                    ));
                }
                EngineAction::CallEnded(rec) => {
                    let Some(&no) = self.by_engine.get(&rec.call) else {
                        continue;
                    };
                    if let Some(c) = self.calls.get_mut(&no) {
                        c.record = Some(*rec);
                        if !matches!(rec.end, EndReason::Completed(_)) {
                            // abandoned or refused: nobody is on the line any more
                            if !c.caller_gone {
                                c.caller_gone = true;
                                let end = if matches!(
                                    rec.end,
                                    EndReason::RefusedNoAgents | EndReason::RefusedQueueFull
                                ) {
                                    CallEnd::Refused
                                } else {
                                    CallEnd::Abandoned
                                };
                                self.out.push_back(Out::Caller(no, CallerEvent::Ended(end)));
                            }
                        }
                    }
                    self.try_finish(no);
                }
                EngineAction::QueueChanged(q) => self
                    .out
                    .push_back(Out::QueueChanged(self.queue_names[q.0 as usize].clone())),
                EngineAction::Requeued {
                    call,
                    reason: acd::RequeueReason::AgentLost,
                    ..
                } => {
                    // lost while talking (a lost ringing offer was cancelled above)
                    let open = self
                        .by_engine
                        .get(&call)
                        .and_then(|no| self.calls[no].legs.iter().rposition(|l| l.ended.is_none()));
                    if let (Some(k), Some(no)) = (open, self.by_engine.get(&call).copied()) {
                        if let Some(c) = self.calls.get_mut(&no) {
                            c.legs[k].ended = Some(now);
                            c.legs[k].outcome = LegOutcome::AgentLost;
                        }
                    }
                    if let Some(no) = self.by_engine.get(&call).copied() {
                        self.call_back_requeued(no);
                    }
                }
                EngineAction::Transferred { call, from, .. } => {
                    self.end_leg(call, from, now, LegOutcome::Transferred);
                }
                EngineAction::QueueIntervalClosed(q) => {
                    let r = self.queue_interval(&q);
                    self.out.push_back(Out::Interval(r));
                    // the IVR's interval closes with the queues' (after the last of them)
                    if q.queue.0 as usize + 1 == self.queue_names.len() {
                        for r in self.ivr_counts.close(ms(q.start), ms(q.end)) {
                            self.out.push_back(Out::Interval(r));
                        }
                    }
                }
                EngineAction::AgentIntervalClosed(a) => {
                    let r = self.agent_interval(&a);
                    self.out.push_back(Out::Interval(r))
                }
                EngineAction::CancelTimer(_) | EngineAction::Requeued { .. } => {}
            }
        }
    }
}
