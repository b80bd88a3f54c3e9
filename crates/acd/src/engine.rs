//! The routing engine: state, inputs, decisions.

use crate::config::{AgentProfile, EngineConfig, NoAgentsPolicy, QueueConfig, Ring, WrapUpPolicy};
use crate::error::EngineError;
use crate::ids::{AgentId, CallId, QueueId, ReasonCode, TimerId};
use crate::io::{
    Action, AgentInterval, CallRecord, CallSpec, EndReason, Input, OfferCancel, Party,
    QueueInterval, RequeueReason, TransferTarget,
};
use crate::kpi;
use crate::line::{Entry, Line};
use crate::pool::{Pool, ReadyKey};
use crate::rng::Rng;
use crate::state::{AgentState, AgentStateKind, CallPlace};
use crate::stats::{AgentSnapshot, AgentTally, QueuePeriod, QueueSnapshot};
use crate::time::{Span, Time};
use std::collections::VecDeque;

const TIMER_CALL: u64 = 0;
const TIMER_AGENT: u64 = 1;
const TIMER_INTERVAL: u64 = 2;

/// What an agent does once their current call (offer, conversation, wrap-up) is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterCall {
    Ready,
    NotReady(ReasonCode),
    Logout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Waiting,
    Offered(u32),
    Connected(u32),
    WrapUp(u32),
}

#[derive(Debug, Clone, Copy, Default)]
struct Leg {
    queue: u32,
    connected_at: Time,
    hold: Span,
    hold_started: Option<Time>,
    talk: Span,
    wrap_started: Time,
}

#[derive(Debug)]
struct Agent {
    profile: AgentProfile,
    state: AgentState,
    since: Time,
    ready_seq: u64,
    /// In the ready pools of its rings (true while Ready and not being offered).
    in_pools: bool,
    /// (queue, ring) for every queue the agent qualifies for while logged in.
    rings: Vec<(u32, u8)>,
    timer: Option<TimerId>,
    after_call: AfterCall,
    /// Calls waiting for this agent as their preferred agent, oldest first.
    held: Vec<Entry>,
    leg: Leg,
    calls_since_login: u64,
    talk_since_login: Span,
    total: AgentTally,
    interval: AgentTally,
    active_in_interval: bool,
}

#[derive(Debug)]
struct Queue {
    config: QueueConfig,
    rings: Vec<Ring>,
    pools: Vec<Pool>,
    line: Line,
    waiting: u32,
    ringing: u32,
    unanswered: u32,
    total: QueuePeriod,
    interval: QueuePeriod,
    by_state: [u32; 6],
    dirty: bool,
}

impl Queue {
    fn staffed(&self) -> u32 {
        self.by_state[1..].iter().sum()
    }
}

#[derive(Debug, Clone)]
struct Call {
    generation: u32,
    live: bool,
    tag: u64,
    queue: u32,
    first_queue: u32,
    priority: u8,
    place: Place,
    order: u64,
    line_token: u64,
    held_for: Option<u32>,
    preferred_until: Time,
    arrived: Time,
    queued: Time,
    answered_here: bool,
    callback: bool,
    timer: Option<TimerId>,
    first_offered: Option<Time>,
    answered: Option<Time>,
    wait: Option<Span>,
    talk: Span,
    hold: Span,
    first_agent: Option<AgentId>,
    last_agent: Option<AgentId>,
    offers: u16,
    requeues: u16,
    transfers: u16,
    conversation_ended: Option<(Time, Party)>,
}

impl Call {
    fn vacant() -> Call {
        Call {
            generation: 0,
            live: false,
            tag: 0,
            queue: 0,
            first_queue: 0,
            priority: 0,
            place: Place::Waiting,
            order: 0,
            line_token: 0,
            held_for: None,
            preferred_until: Time::ZERO,
            arrived: Time::ZERO,
            queued: Time::ZERO,
            answered_here: false,
            callback: false,
            timer: None,
            first_offered: None,
            answered: None,
            wait: None,
            talk: Span::ZERO,
            hold: Span::ZERO,
            first_agent: None,
            last_agent: None,
            offers: 0,
            requeues: 0,
            transfers: 0,
            conversation_ended: None,
        }
    }
}

/// One call waiting in a queue, as [`Engine::waiting_calls`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WaitingCall {
    /// The call.
    pub call: CallId,
    /// Priority class.
    pub priority: u8,
    /// Place in line: smaller entered earlier (kept through requeues).
    pub order: u64,
    /// When it entered the queue.
    pub queued: Time,
    /// Held for its preferred agent.
    pub held_for: Option<AgentId>,
    /// Waiting for a callback.
    pub callback: bool,
}

/// The sans-IO ACD: feed it inputs with their time, drain its actions.
///
/// ```
/// use hotline_acd::*;
/// let mut e = Engine::new(EngineConfig::default(), Time::ZERO);
/// let q = e.add_queue(QueueConfig { skill: SkillId(1), ..QueueConfig::default() }).unwrap();
/// let a = e.add_agent(AgentProfile { skills: vec![(SkillId(1), 5)], groups: vec![] }).unwrap();
/// e.handle(Time::ZERO, Input::Login(a)).unwrap();
/// e.handle(Time::ZERO, Input::Ready(a)).unwrap();
/// let call = e.arrive(Time::from_secs_f64(1.0), CallSpec { queue: q, priority: 0, preferred_agent: None, tag: 7 }).unwrap();
/// assert!(std::iter::from_fn(|| e.poll_action()).any(|x| matches!(x, Action::Offer { agent, .. } if agent == a)));
/// assert_eq!(e.call_place(call), Some(CallPlace::Offered { queue: q, agent: a }));
/// ```
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    now: Time,
    queues: Vec<Queue>,
    agents: Vec<Agent>,
    calls: Vec<Call>,
    free: Vec<u32>,
    live_calls: u32,
    actions: VecDeque<Action>,
    order_seq: u64,
    token_seq: u64,
    ready_seq: u64,
    timer_nonce: u32,
    rng: Rng,
    interval_start: Time,
    interval_end: Time,
    interval_timer: TimerId,
    dirty: Vec<u32>,
}

fn agent_key(a: &Agent, id: u32, ring: &Ring) -> ReadyKey {
    ReadyKey {
        agent: id,
        seq: a.ready_seq,
        level: a.profile.level(ring.skill),
        calls: a.calls_since_login,
        talk: a.talk_since_login.0,
    }
}

fn qualifies(profile: &AgentProfile, cfg: &QueueConfig, rings: &[Ring]) -> Option<u8> {
    if let Some(g) = cfg.group {
        if !profile.groups.contains(&g) {
            return None;
        }
    }
    rings
        .iter()
        .position(|r| profile.level(r.skill) >= r.min_level)
        .map(|i| i as u8)
}

impl Engine {
    /// A new engine whose clock starts at `now`. It asks at once for the timer that
    /// closes the first statistics interval.
    pub fn new(config: EngineConfig, now: Time) -> Engine {
        let len = config.interval.0.max(1_000_000);
        let boundary = Time(now.0 / len * len);
        let start = if config.first_interval_from_start {
            now
        } else {
            boundary
        };
        let mut e = Engine {
            rng: Rng::seeded(config.seed),
            config,
            now,
            queues: Vec::new(),
            agents: Vec::new(),
            calls: Vec::new(),
            free: Vec::new(),
            live_calls: 0,
            actions: VecDeque::new(),
            order_seq: 0,
            token_seq: 0,
            ready_seq: 0,
            timer_nonce: 0,
            interval_start: start,
            interval_end: Time(boundary.0 + len),
            interval_timer: TimerId(0),
            dirty: Vec::new(),
        };
        e.arm_interval_timer();
        e
    }

    /// The next action for the driver, in the order they happened.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The latest time the engine has seen.
    pub fn now(&self) -> Time {
        self.now
    }

    // ---------------------------------------------------------------- set-up

    /// Add a queue.
    pub fn add_queue(&mut self, config: QueueConfig) -> Result<QueueId, EngineError> {
        config.validate()?;
        let rings = config.rings();
        let pools = rings.iter().map(|_| Pool::new(config.strategy)).collect();
        self.queues.push(Queue {
            config,
            rings,
            pools,
            line: Line::default(),
            waiting: 0,
            ringing: 0,
            unanswered: 0,
            total: QueuePeriod::default(),
            interval: QueuePeriod::default(),
            by_state: [0; 6],
            dirty: false,
        });
        let q = (self.queues.len() - 1) as u32;
        self.requalify_agents(q);
        Ok(QueueId(q))
    }

    /// Change a queue's settings while it runs (skills, thresholds, strategy …). Calls
    /// keep their places; agents are re-qualified; any call that a ready agent now
    /// qualifies for is offered at once.
    pub fn update_queue(&mut self, queue: QueueId, config: QueueConfig) -> Result<(), EngineError> {
        let q = self.queue_index(queue)?;
        config.validate()?;
        let qu = &mut self.queues[q as usize];
        qu.rings = config.rings();
        qu.pools = qu
            .rings
            .iter()
            .map(|_| Pool::new(config.strategy))
            .collect();
        qu.config = config;
        self.requalify_agents(q);
        // re-arm deadlines and route what can be routed, oldest first
        let waiting = self.waiting_slots(q);
        for slot in waiting {
            self.arm_call_timer(slot);
            self.route_call(slot);
        }
        self.flush_dirty();
        Ok(())
    }

    /// Register an agent (logged out).
    pub fn add_agent(&mut self, profile: AgentProfile) -> Result<AgentId, EngineError> {
        profile.validate()?;
        self.agents.push(Agent {
            profile,
            state: AgentState::LoggedOut,
            since: self.now,
            ready_seq: 0,
            in_pools: false,
            rings: Vec::new(),
            timer: None,
            after_call: AfterCall::Ready,
            held: Vec::new(),
            leg: Leg::default(),
            calls_since_login: 0,
            talk_since_login: Span::ZERO,
            total: AgentTally::default(),
            interval: AgentTally::default(),
            active_in_interval: false,
        });
        Ok(AgentId((self.agents.len() - 1) as u32))
    }

    /// Change an agent's skills and groups (only while logged out).
    pub fn set_agent_profile(
        &mut self,
        agent: AgentId,
        profile: AgentProfile,
    ) -> Result<(), EngineError> {
        let a = self.agent_index(agent)?;
        profile.validate()?;
        if self.agents[a as usize].state != AgentState::LoggedOut {
            return Err(EngineError::AgentLoggedIn(agent));
        }
        self.agents[a as usize].profile = profile;
        Ok(())
    }

    /// Recompute which ring of queue `q` every logged-in agent belongs to.
    fn requalify_agents(&mut self, q: u32) {
        let mut ready: Vec<(u64, u32)> = Vec::new();
        for ai in 0..self.agents.len() {
            let ag = &mut self.agents[ai];
            if ag.state == AgentState::LoggedOut {
                continue;
            }
            let kind = ag.state.kind().index();
            let qu = &mut self.queues[q as usize];
            if let Some(i) = ag.rings.iter().position(|&(x, _)| x == q) {
                ag.rings.remove(i);
                qu.by_state[kind] -= 1;
            }
            if let Some(r) = qualifies(&ag.profile, &qu.config, &qu.rings) {
                ag.rings.push((q, r));
                qu.by_state[kind] += 1;
                if ag.in_pools {
                    ready.push((ag.ready_seq, ai as u32));
                }
            }
        }
        ready.sort_unstable();
        for (_, ai) in ready {
            let r = self.agents[ai as usize]
                .rings
                .iter()
                .find(|x| x.0 == q)
                .map(|x| x.1);
            if let Some(r) = r {
                self.pool_insert(ai, q, r);
            }
        }
        self.mark_dirty(q);
    }

    // ---------------------------------------------------------------- inputs

    /// A call arrives for a queue. It is offered at once if an agent qualifies, queued
    /// otherwise, or refused (with its record) if the queue is full or nobody is logged
    /// in and the queue refuses then.
    pub fn arrive(&mut self, now: Time, spec: CallSpec) -> Result<CallId, EngineError> {
        let q = self.queue_index(spec.queue)?;
        let preferred = match spec.preferred_agent {
            Some(p) => Some(self.agent_index(p)?),
            None => None,
        };
        self.advance_clock(now)?;
        let slot = self.alloc_call();
        {
            let c = &mut self.calls[slot as usize];
            c.tag = spec.tag;
            c.queue = q;
            c.first_queue = q;
            c.priority = spec.priority;
            c.arrived = now;
            c.queued = now;
        }
        let id = self.call_id(slot);
        let qu = &self.queues[q as usize];
        let refusal = if qu.config.when_no_agents == NoAgentsPolicy::Refuse && qu.staffed() == 0 {
            Some(EndReason::RefusedNoAgents)
        } else if qu.config.max_waiting.is_some_and(|m| qu.waiting >= m) {
            Some(EndReason::RefusedQueueFull)
        } else {
            None
        };
        if let Some(end) = refusal {
            let qu = &mut self.queues[q as usize];
            qu.total.tally.refused += 1;
            qu.interval.tally.refused += 1;
            self.end_call(slot, end, now);
            self.mark_dirty(q);
            self.flush_dirty();
            return Ok(id);
        }
        self.enter_queue(slot, q, preferred);
        self.flush_dirty();
        Ok(id)
    }

    /// Handle one input at time `now`. On an error nothing changed (except that the
    /// clock moved to `now`, closing any statistics interval that ended before it).
    pub fn handle(&mut self, now: Time, input: Input) -> Result<(), EngineError> {
        self.advance_clock(now)?;
        let r = self.dispatch(input);
        self.flush_dirty();
        r
    }

    fn dispatch(&mut self, input: Input) -> Result<(), EngineError> {
        match input {
            Input::Login(a) => self.login(a),
            Input::Ready(a) => self.ready(a),
            Input::NotReady(a, reason) => self.not_ready(a, reason),
            Input::Logout(a) => self.logout(a),
            Input::ForceLogout(a) => self.force_logout(a),
            Input::Answer(a) => self.answer(a),
            Input::Reject(a) => self.reject(a),
            Input::Hold(a) => self.hold(a, true),
            Input::Resume(a) => self.hold(a, false),
            Input::HangUp(a) => {
                let ai = self.agent_index(a)?;
                match self.agents[ai as usize].state {
                    AgentState::Connected { call, .. } => {
                        self.end_conversation(call.slot() as u32, Party::Agent);
                        Ok(())
                    }
                    s => Err(self.illegal(a, s, "hang up")),
                }
            }
            Input::Transfer(a, target) => self.transfer(a, target),
            Input::ExtendWrapUp(a, by) => self.extend_wrap_up(a, by),
            Input::FinishWrapUp(a) => {
                let ai = self.agent_index(a)?;
                match self.agents[ai as usize].state {
                    AgentState::AfterCallWork { .. } => {
                        self.finish_wrap_up(ai);
                        Ok(())
                    }
                    s => Err(self.illegal(a, s, "finish wrap-up")),
                }
            }
            Input::CallerHangUp(c) => self.caller_hang_up(c),
            Input::AcceptCallback(c) => {
                let slot = self.call_slot(c)?;
                let call = &mut self.calls[slot as usize];
                if call.place != Place::Waiting || call.answered_here {
                    return Err(EngineError::CallNotWaiting {
                        call: c,
                        request: "take a callback",
                    });
                }
                if !call.callback {
                    call.callback = true;
                    let q = call.queue;
                    let qu = &mut self.queues[q as usize];
                    qu.total.tally.callbacks_accepted += 1;
                    qu.interval.tally.callbacks_accepted += 1;
                    self.mark_dirty(q);
                }
                Ok(())
            }
            Input::SetPriority(c, p) => {
                let slot = self.call_slot(c)?;
                let call = &self.calls[slot as usize];
                if call.place == Place::Waiting && call.held_for.is_none() {
                    let (q, old) = (call.queue, call.priority);
                    self.queues[q as usize].line.remove(old);
                    self.calls[slot as usize].priority = p;
                    self.insert_line(slot);
                    self.mark_dirty(q);
                } else {
                    self.calls[slot as usize].priority = p;
                }
                Ok(())
            }
            Input::TimerFired(t) => {
                self.timer_fired(t);
                Ok(())
            }
        }
    }

    fn login(&mut self, a: AgentId) -> Result<(), EngineError> {
        let ai = self.agent_index(a)?;
        let s = self.agents[ai as usize].state;
        if s != AgentState::LoggedOut {
            return Err(self.illegal(a, s, "log in"));
        }
        self.accrue(ai, self.now);
        let mut rings = Vec::new();
        for (q, qu) in self.queues.iter_mut().enumerate() {
            if let Some(r) = qualifies(&self.agents[ai as usize].profile, &qu.config, &qu.rings) {
                rings.push((q as u32, r));
                qu.by_state[AgentStateKind::LoggedOut.index()] += 1; // moved below by set_state
                qu.dirty = true;
                if !self.dirty.contains(&(q as u32)) {
                    self.dirty.push(q as u32);
                }
            }
        }
        let ag = &mut self.agents[ai as usize];
        ag.rings = rings;
        ag.calls_since_login = 0;
        ag.talk_since_login = Span::ZERO;
        ag.after_call = AfterCall::Ready;
        self.set_state(ai, AgentState::NotReady(ReasonCode::LOGGED_IN));
        Ok(())
    }

    fn ready(&mut self, a: AgentId) -> Result<(), EngineError> {
        let ai = self.agent_index(a)?;
        match self.agents[ai as usize].state {
            s @ AgentState::LoggedOut => Err(self.illegal(a, s, "go ready")),
            AgentState::NotReady(_) => {
                self.make_ready(ai);
                Ok(())
            }
            AgentState::Ready => Ok(()),
            AgentState::Reserved { .. } | AgentState::Connected { .. } => {
                self.agents[ai as usize].after_call = AfterCall::Ready;
                Ok(())
            }
            AgentState::AfterCallWork { .. } => {
                self.agents[ai as usize].after_call = AfterCall::Ready;
                self.finish_wrap_up(ai);
                Ok(())
            }
        }
    }

    fn not_ready(&mut self, a: AgentId, reason: ReasonCode) -> Result<(), EngineError> {
        let ai = self.agent_index(a)?;
        match self.agents[ai as usize].state {
            s @ AgentState::LoggedOut => Err(self.illegal(a, s, "go not ready")),
            AgentState::NotReady(_) | AgentState::Ready => {
                self.set_state(ai, AgentState::NotReady(reason));
                Ok(())
            }
            AgentState::Reserved { .. }
            | AgentState::Connected { .. }
            | AgentState::AfterCallWork { .. } => {
                self.agents[ai as usize].after_call = AfterCall::NotReady(reason);
                Ok(())
            }
        }
    }

    fn logout(&mut self, a: AgentId) -> Result<(), EngineError> {
        let ai = self.agent_index(a)?;
        match self.agents[ai as usize].state {
            AgentState::LoggedOut => Ok(()),
            AgentState::NotReady(_) | AgentState::Ready => {
                self.do_logout(ai);
                Ok(())
            }
            AgentState::AfterCallWork { .. } => {
                self.agents[ai as usize].after_call = AfterCall::Logout;
                Ok(())
            }
            s => Err(self.illegal(a, s, "log out")),
        }
    }

    fn force_logout(&mut self, a: AgentId) -> Result<(), EngineError> {
        let ai = self.agent_index(a)?;
        match self.agents[ai as usize].state {
            AgentState::LoggedOut => return Ok(()),
            AgentState::Reserved { call, .. } => {
                let slot = self.withdraw_offer(ai, call, OfferCancel::AgentLost);
                self.set_state(ai, AgentState::NotReady(ReasonCode::SUPERVISOR));
                self.do_logout(ai);
                self.requeue(slot, RequeueReason::AgentLost);
                return Ok(());
            }
            AgentState::Connected { call, .. } => {
                let slot = call.slot() as u32;
                let leg = self.close_leg(ai);
                let c = &mut self.calls[slot as usize];
                c.talk += leg.talk;
                c.hold += leg.hold;
                self.set_state(ai, AgentState::NotReady(ReasonCode::SUPERVISOR));
                self.do_logout(ai);
                self.requeue(slot, RequeueReason::AgentLost);
                return Ok(());
            }
            AgentState::AfterCallWork { .. } => {
                self.agents[ai as usize].after_call = AfterCall::Logout;
                self.finish_wrap_up(ai);
            }
            AgentState::NotReady(_) | AgentState::Ready => self.do_logout(ai),
        }
        Ok(())
    }

    fn answer(&mut self, a: AgentId) -> Result<(), EngineError> {
        let ai = self.agent_index(a)?;
        let call = match self.agents[ai as usize].state {
            AgentState::Reserved { call, .. } => call,
            s => return Err(self.illegal(a, s, "answer")),
        };
        let slot = call.slot() as u32;
        let now = self.now;
        self.cancel_agent_timer(ai);
        let c = &mut self.calls[slot as usize];
        let q = c.queue;
        c.place = Place::Connected(ai);
        c.last_agent = Some(a);
        c.first_agent.get_or_insert(a);
        c.answered.get_or_insert(now);
        let first_here = !c.answered_here;
        c.answered_here = true;
        let wait = now.since(c.queued);
        if c.wait.is_none() {
            c.wait = Some(wait);
        }
        let qu = &mut self.queues[q as usize];
        qu.ringing -= 1;
        if first_here {
            qu.unanswered -= 1;
            let th = qu.config.thresholds;
            qu.total.tally.on_answered(wait, &th);
            qu.interval.tally.on_answered(wait, &th);
        }
        let ag = &mut self.agents[ai as usize];
        ag.total.answered += 1;
        ag.interval.answered += 1;
        ag.leg = Leg {
            queue: q,
            connected_at: now,
            ..Leg::default()
        };
        self.set_state(
            ai,
            AgentState::Connected {
                call,
                on_hold: false,
            },
        );
        self.push(Action::Connected { call, agent: a });
        self.mark_dirty(q);
        Ok(())
    }

    fn reject(&mut self, a: AgentId) -> Result<(), EngineError> {
        let ai = self.agent_index(a)?;
        let call = match self.agents[ai as usize].state {
            AgentState::Reserved { call, .. } => call,
            s => return Err(self.illegal(a, s, "reject a call")),
        };
        let ag = &mut self.agents[ai as usize];
        ag.total.rejected += 1;
        ag.interval.rejected += 1;
        self.bounce(ai, call, OfferCancel::Rejected);
        Ok(())
    }

    /// Withdraw the offer ringing at `ai`; the call is then nowhere until the caller
    /// puts it somewhere. Returns its slot.
    fn withdraw_offer(&mut self, ai: u32, call: CallId, reason: OfferCancel) -> u32 {
        let slot = call.slot() as u32;
        self.cancel_agent_timer(ai);
        self.push(Action::OfferCancelled {
            call,
            agent: AgentId(ai),
            reason,
        });
        self.queues[self.calls[slot as usize].queue as usize].ringing -= 1;
        slot
    }

    /// A rejected or unanswered offer: the call goes back to the head of its queue and
    /// the agent goes not ready with the matching reason.
    fn bounce(&mut self, ai: u32, call: CallId, why: OfferCancel) {
        let (code, requeue) = match why {
            OfferCancel::NoAnswer => (ReasonCode::RONA, RequeueReason::NoAnswer),
            _ => (ReasonCode::REJECTED, RequeueReason::Rejected),
        };
        let slot = self.withdraw_offer(ai, call, why);
        self.set_state(ai, AgentState::NotReady(code));
        self.agents[ai as usize].after_call = AfterCall::Ready;
        self.requeue(slot, requeue);
    }

    fn hold(&mut self, a: AgentId, on: bool) -> Result<(), EngineError> {
        let ai = self.agent_index(a)?;
        let (call, on_hold) = match self.agents[ai as usize].state {
            AgentState::Connected { call, on_hold } => (call, on_hold),
            s => return Err(self.illegal(a, s, if on { "hold" } else { "resume" })),
        };
        if on_hold == on {
            return Ok(());
        }
        let now = self.now;
        let ag = &mut self.agents[ai as usize];
        if on {
            ag.leg.hold_started = Some(now);
            ag.total.holds += 1;
            ag.interval.holds += 1;
        } else if let Some(h) = ag.leg.hold_started.take() {
            ag.leg.hold += now.since(h);
        }
        // same state kind; no time accrual needed, but tell the driver
        ag.state = AgentState::Connected { call, on_hold: on };
        self.push(Action::AgentState {
            agent: a,
            state: AgentStateKind::Connected,
            reason: None,
        });
        Ok(())
    }

    fn transfer(&mut self, a: AgentId, target: TransferTarget) -> Result<(), EngineError> {
        let ai = self.agent_index(a)?;
        let call = match self.agents[ai as usize].state {
            AgentState::Connected { call, .. } => call,
            s => return Err(self.illegal(a, s, "transfer")),
        };
        let slot = call.slot() as u32;
        let from_q = self.calls[slot as usize].queue;
        // validate before changing anything
        enum Dest {
            Queue(u32),
            Agent(u32),
        }
        let dest = match target {
            TransferTarget::Queue(q) => Dest::Queue(self.queue_index(q)?),
            TransferTarget::Agent(b) => {
                let bi = self.agent_index(b)?;
                if bi == ai {
                    return Err(EngineError::TransferToSelf);
                }
                if self.agents[bi as usize].state != AgentState::Ready {
                    return Err(EngineError::TargetNotReady(b));
                }
                if !self.agents[bi as usize]
                    .rings
                    .iter()
                    .any(|&(q, _)| q == from_q)
                {
                    return Err(EngineError::NotQualified {
                        agent: b,
                        queue: QueueId(from_q),
                    });
                }
                Dest::Agent(bi)
            }
        };
        let leg = self.close_leg(ai);
        let ag = &mut self.agents[ai as usize];
        ag.total.transfers += 1;
        ag.interval.transfers += 1;
        {
            let c = &mut self.calls[slot as usize];
            c.talk += leg.talk;
            c.hold += leg.hold;
            c.transfers = c.transfers.saturating_add(1);
        }
        let qu = &mut self.queues[from_q as usize];
        qu.total.tally.transferred_out += 1;
        qu.interval.tally.transferred_out += 1;
        self.push(Action::Transferred {
            call,
            from: a,
            to: target,
        });
        // move the call first, so it cannot come straight back to this agent
        match dest {
            Dest::Queue(q2) => {
                let order = self.next_order();
                let c = &mut self.calls[slot as usize];
                c.place = Place::Waiting;
                c.queue = q2;
                c.queued = self.now;
                c.order = order;
                c.answered_here = false;
                c.held_for = None;
                self.enter_queue_counted(slot, q2, None);
            }
            Dest::Agent(bi) => {
                self.queues[from_q as usize].ringing += 1;
                self.offer(slot, bi);
            }
        }
        self.start_wrap_up(ai, call, from_q);
        self.mark_dirty(from_q);
        Ok(())
    }

    fn extend_wrap_up(&mut self, a: AgentId, by: Span) -> Result<(), EngineError> {
        let ai = self.agent_index(a)?;
        match self.agents[ai as usize].state {
            AgentState::AfterCallWork {
                call,
                until: Some(u),
            } => {
                let until = u + by;
                self.cancel_agent_timer(ai);
                self.agents[ai as usize].state = AgentState::AfterCallWork {
                    call,
                    until: Some(until),
                };
                self.arm_agent_timer(ai, until);
                Ok(())
            }
            AgentState::AfterCallWork { until: None, .. } => Ok(()),
            s => Err(self.illegal(a, s, "extend wrap-up")),
        }
    }

    fn caller_hang_up(&mut self, c: CallId) -> Result<(), EngineError> {
        let slot = self.call_slot(c)?;
        let now = self.now;
        match self.calls[slot as usize].place {
            Place::Waiting => {
                self.leave_line(slot);
                let q = self.calls[slot as usize].queue;
                self.queues[q as usize].waiting -= 1;
                let end = self.count_abandon(slot);
                self.end_call(slot, end, now);
            }
            Place::Offered(ai) => {
                self.withdraw_offer(ai, c, OfferCancel::CallerHungUp);
                let end = self.count_abandon(slot);
                self.end_call(slot, end, now);
                self.after_call(ai);
            }
            Place::Connected(_) => self.end_conversation(slot, Party::Caller),
            Place::WrapUp(_) => return Err(EngineError::CallerGone(c)),
        }
        Ok(())
    }

    /// Abandon accounting for a call leaving before an answer here; returns its end.
    fn count_abandon(&mut self, slot: u32) -> EndReason {
        let c = &self.calls[slot as usize];
        let q = c.queue;
        if c.answered_here {
            return EndReason::DroppedAfterAnswer;
        }
        let wait = self.now.since(c.queued);
        let callback = c.callback;
        if c.wait.is_none() {
            self.calls[slot as usize].wait = Some(wait);
        }
        let qu = &mut self.queues[q as usize];
        qu.unanswered -= 1;
        let th = qu.config.thresholds;
        qu.total.tally.on_abandoned(wait, &th);
        qu.interval.tally.on_abandoned(wait, &th);
        if callback {
            EndReason::CallbackCancelled
        } else {
            EndReason::Abandoned {
                short: wait < th.short_abandon,
            }
        }
    }

    fn timer_fired(&mut self, t: TimerId) {
        let kind = t.0 >> 62;
        let index = ((t.0 >> 32) & 0x3fff_ffff) as usize;
        match kind {
            TIMER_INTERVAL => {} // the clock already rolled the interval over
            TIMER_AGENT => {
                let Some(ag) = self.agents.get(index) else {
                    return;
                };
                if ag.timer != Some(t) {
                    return;
                }
                let ai = index as u32;
                self.agents[index].timer = None;
                match self.agents[index].state {
                    AgentState::Reserved { call, .. } => {
                        let ag = &mut self.agents[index];
                        ag.total.no_answer += 1;
                        ag.interval.no_answer += 1;
                        self.bounce(ai, call, OfferCancel::NoAnswer);
                    }
                    AgentState::AfterCallWork { .. } => self.finish_wrap_up(ai),
                    _ => {}
                }
            }
            TIMER_CALL => {
                let Some(c) = self.calls.get(index) else {
                    return;
                };
                if !c.live || c.timer != Some(t) {
                    return;
                }
                let (place, held, until) = (c.place, c.held_for.is_some(), c.preferred_until);
                let slot = index as u32;
                self.calls[index].timer = None;
                if place != Place::Waiting {
                    return;
                }
                if held && self.now >= until {
                    // the preferred agent did not come in time: join the line in place
                    self.leave_line(slot);
                    self.calls[index].held_for = None;
                    self.insert_line(slot);
                }
                self.arm_call_timer(slot);
                if self.calls[index].held_for.is_some() {
                    self.route_call(slot);
                } else {
                    self.ring_opened(slot);
                }
            }
            _ => {}
        }
    }

    // ---------------------------------------------------------------- routing

    /// Put a call that is not yet counted into queue `q`: count it offered, then route.
    fn enter_queue(&mut self, slot: u32, q: u32, preferred: Option<u32>) {
        let order = self.next_order();
        self.calls[slot as usize].order = order;
        self.enter_queue_counted(slot, q, preferred);
    }

    fn enter_queue_counted(&mut self, slot: u32, q: u32, preferred: Option<u32>) {
        let now = self.now;
        let qu = &mut self.queues[q as usize];
        qu.total.tally.on_offered();
        qu.interval.tally.on_offered();
        qu.unanswered += 1;
        self.mark_dirty(q);
        // the key account's manager: offer at once if ready, else hold the call for them
        if let Some(p) = preferred {
            let wait = self.queues[q as usize].config.preferred_agent_wait;
            let ag = &self.agents[p as usize];
            let qualified = ag.rings.iter().any(|&(x, _)| x == q);
            if qualified && ag.state == AgentState::Ready {
                self.queues[q as usize].ringing += 1;
                self.offer(slot, p);
                return;
            }
            if qualified && wait > Span::ZERO {
                let c = &mut self.calls[slot as usize];
                c.held_for = Some(p);
                c.preferred_until = now + wait;
            }
        }
        if self.calls[slot as usize].held_for.is_none() {
            if let Some(ai) = self.pick_agent(q, Span::ZERO) {
                self.queues[q as usize].ringing += 1;
                self.offer(slot, ai);
                return;
            }
        }
        self.queues[q as usize].waiting += 1;
        self.insert_line(slot);
        self.arm_call_timer(slot);
        self.announce(slot);
    }

    /// Tell a newly queued caller where they are; offer a callback if the wait is long.
    fn announce(&mut self, slot: u32) {
        let c = &self.calls[slot as usize];
        let qu = &self.queues[c.queue as usize];
        let position = qu.line.at_or_above(c.priority).max(1);
        let aht =
            kpi::average_handle_time(&qu.total.tally).unwrap_or(qu.config.expected_handle_time);
        let expected_wait =
            Span(aht.0.saturating_mul(position as u64) / qu.staffed().max(1) as u64);
        let call = self.call_id(slot);
        let queue = QueueId(c.queue);
        let offer_callback = qu
            .config
            .callback_threshold
            .is_some_and(|t| expected_wait >= t);
        self.push(Action::Queued {
            call,
            queue,
            position,
            expected_wait,
        });
        if offer_callback {
            self.push(Action::OfferCallback {
                call,
                expected_wait,
            });
        }
    }

    /// The best ready agent of queue `q` for a call that has waited `wait`: the inner
    /// ring first, wider rings only once they are open.
    fn pick_agent(&mut self, q: u32, wait: Span) -> Option<u32> {
        let agents = &self.agents;
        let valid = |a: u32, seq: u64| {
            let ag = &agents[a as usize];
            ag.state == AgentState::Ready && ag.ready_seq == seq
        };
        let qu = &mut self.queues[q as usize];
        for (r, ring) in qu.rings.iter().enumerate() {
            if ring.after > wait {
                break;
            }
            if let Some(a) = qu.pools[r].best(valid, &mut self.rng) {
                return Some(a);
            }
        }
        None
    }

    /// Try to place a waiting call with an agent now.
    fn route_call(&mut self, slot: u32) {
        let c = &self.calls[slot as usize];
        if !c.live || c.place != Place::Waiting {
            return;
        }
        let q = c.queue;
        let agent = match c.held_for {
            Some(p) => (self.agents[p as usize].state == AgentState::Ready).then_some(p),
            None => {
                let wait = self.now.since(c.queued);
                self.pick_agent(q, wait)
            }
        };
        if let Some(ai) = agent {
            self.ring_waiting(slot, ai);
        }
    }

    /// A ring opened for a waiting call: the agent it brings in takes the best call open
    /// to them now, which need not be this one — rings opening at the same instant fire
    /// one timer at a time, and a higher class (or an older call) whose timer comes next
    /// goes first.
    fn ring_opened(&mut self, slot: u32) {
        let c = &self.calls[slot as usize];
        if !c.live || c.place != Place::Waiting {
            return;
        }
        let wait = self.now.since(c.queued);
        if let Some(ai) = self.pick_agent(c.queue, wait) {
            let best = self.find_call_for(ai).unwrap_or(slot);
            self.ring_waiting(best, ai);
        }
    }

    /// Take a waiting call out of its line and ring `ai` with it.
    fn ring_waiting(&mut self, slot: u32, ai: u32) {
        self.leave_line(slot);
        let q = self.calls[slot as usize].queue;
        let qu = &mut self.queues[q as usize];
        qu.waiting -= 1;
        qu.ringing += 1;
        self.offer(slot, ai);
    }

    /// The call a newly ready agent should take: one held for them first, else the
    /// highest-priority, longest-waiting call they qualify for across their queues.
    fn find_call_for(&mut self, ai: u32) -> Option<u32> {
        let calls = &self.calls;
        let valid = |e: &Entry| calls[e.slot as usize].line_token == e.token;
        let ag = &mut self.agents[ai as usize];
        if let Some(e) = ag.held.first() {
            return Some(e.slot);
        }
        let now = self.now;
        // (priority, queued, order, slot)
        let mut best: Option<(u8, Time, u64, u32)> = None;
        for &(q, r) in &ag.rings {
            let qu = &mut self.queues[q as usize];
            let need = qu.rings[r as usize].after;
            for class in qu.line.classes.iter_mut() {
                if best.is_some_and(|b| class.priority < b.0) {
                    break;
                }
                let Some(e) = class.front(valid) else {
                    continue;
                };
                let c = &calls[e.slot as usize];
                if now.since(c.queued) < need {
                    continue; // this ring is not open for the oldest of the class yet
                }
                let cand = (class.priority, c.queued, c.order, e.slot);
                let better = match best {
                    None => true,
                    Some(b) => cand.0 > b.0 || (cand.0 == b.0 && (cand.1, cand.2) < (b.1, b.2)),
                };
                if better {
                    best = Some(cand);
                }
                break;
            }
        }
        best.map(|b| b.3)
    }

    /// Ring `ai` with the call in `slot` (the call is out of the line, counted ringing).
    fn offer(&mut self, slot: u32, ai: u32) {
        let now = self.now;
        self.cancel_call_timer(slot);
        let call = self.call_id(slot);
        let c = &mut self.calls[slot as usize];
        c.place = Place::Offered(ai);
        c.held_for = None;
        c.offers = c.offers.saturating_add(1);
        c.first_offered.get_or_insert(now);
        let (q, callback) = (c.queue, c.callback);
        let until = self.queues[q as usize].config.ring_timeout.map(|t| now + t);
        let ag = &mut self.agents[ai as usize];
        ag.total.offers += 1;
        ag.interval.offers += 1;
        self.set_state(ai, AgentState::Reserved { call, until });
        if let Some(u) = until {
            self.arm_agent_timer(ai, u);
        }
        self.push(Action::Offer {
            call,
            agent: AgentId(ai),
            queue: QueueId(q),
            callback,
            ring_until: until,
        });
        self.mark_dirty(q);
    }

    /// Put an offered or connected call back at its old place in its queue and route it.
    fn requeue(&mut self, slot: u32, reason: RequeueReason) {
        let call = self.call_id(slot);
        let c = &mut self.calls[slot as usize];
        c.place = Place::Waiting;
        c.held_for = None;
        c.requeues = c.requeues.saturating_add(1);
        let q = c.queue;
        let qu = &mut self.queues[q as usize];
        qu.waiting += 1;
        qu.total.tally.requeued += 1;
        qu.interval.tally.requeued += 1;
        self.insert_line(slot);
        self.push(Action::Requeued {
            call,
            queue: QueueId(q),
            reason,
        });
        self.arm_call_timer(slot);
        self.route_call(slot);
        self.mark_dirty(q);
    }

    fn make_ready(&mut self, ai: u32) {
        self.ready_seq += 1;
        self.agents[ai as usize].ready_seq = self.ready_seq;
        self.agents[ai as usize].after_call = AfterCall::Ready;
        self.set_state(ai, AgentState::Ready);
        if let Some(slot) = self.find_call_for(ai) {
            self.ring_waiting(slot, ai);
        } else {
            let rings = std::mem::take(&mut self.agents[ai as usize].rings);
            for &(q, r) in &rings {
                self.pool_insert(ai, q, r);
            }
            self.agents[ai as usize].rings = rings;
            self.agents[ai as usize].in_pools = true;
        }
    }

    fn pool_insert(&mut self, ai: u32, q: u32, r: u8) {
        let agents = &self.agents;
        let qu = &mut self.queues[q as usize];
        let key = agent_key(&agents[ai as usize], ai, &qu.rings[r as usize]);
        let valid = |a: u32, seq: u64| {
            let ag = &agents[a as usize];
            ag.state == AgentState::Ready && ag.ready_seq == seq
        };
        qu.pools[r as usize].insert(&key, valid);
    }

    /// Apply what the agent asked for once their call is over.
    fn after_call(&mut self, ai: u32) {
        match self.agents[ai as usize].after_call {
            AfterCall::Ready => self.make_ready(ai),
            AfterCall::NotReady(r) => self.set_state(ai, AgentState::NotReady(r)),
            AfterCall::Logout => {
                self.set_state(ai, AgentState::NotReady(ReasonCode::LOGGED_IN));
                self.do_logout(ai);
            }
        }
    }

    fn do_logout(&mut self, ai: u32) {
        // calls waiting for this agent stop waiting for them, in place
        let held = std::mem::take(&mut self.agents[ai as usize].held);
        self.set_state(ai, AgentState::LoggedOut);
        let rings = std::mem::take(&mut self.agents[ai as usize].rings);
        for &(q, _) in &rings {
            let qu = &mut self.queues[q as usize];
            qu.by_state[AgentStateKind::LoggedOut.index()] -= 1;
        }
        for e in held {
            let slot = e.slot;
            let c = &mut self.calls[slot as usize];
            if c.line_token != e.token {
                continue;
            }
            c.held_for = None;
            c.line_token = 0;
            self.insert_line(slot);
            self.arm_call_timer(slot);
            self.route_call(slot);
        }
    }

    // ---------------------------------------------------------------- conversations

    fn close_leg(&mut self, ai: u32) -> Leg {
        let now = self.now;
        let ag = &mut self.agents[ai as usize];
        if let Some(h) = ag.leg.hold_started.take() {
            ag.leg.hold += now.since(h);
        }
        let held = ag.leg.hold;
        ag.leg.talk = Span(now.since(ag.leg.connected_at).0.saturating_sub(held.0));
        ag.leg
    }

    fn end_conversation(&mut self, slot: u32, by: Party) {
        let Place::Connected(ai) = self.calls[slot as usize].place else {
            return;
        };
        let now = self.now;
        let call = self.call_id(slot);
        let leg = self.close_leg(ai);
        let c = &mut self.calls[slot as usize];
        c.talk += leg.talk;
        c.hold += leg.hold;
        c.place = Place::WrapUp(ai);
        c.conversation_ended = Some((now, by));
        let q = c.queue;
        self.push(Action::ConversationEnded {
            call,
            agent: AgentId(ai),
            by,
        });
        self.start_wrap_up(ai, call, q);
    }

    fn start_wrap_up(&mut self, ai: u32, call: CallId, q: u32) {
        let now = self.now;
        self.agents[ai as usize].leg.wrap_started = now;
        self.agents[ai as usize].leg.queue = q;
        match self.queues[q as usize].config.wrap_up {
            WrapUpPolicy::Skip => {
                self.set_state(
                    ai,
                    AgentState::AfterCallWork {
                        call,
                        until: Some(now),
                    },
                );
                self.finish_wrap_up(ai);
            }
            WrapUpPolicy::Timed(d) => {
                let until = now + d;
                self.set_state(
                    ai,
                    AgentState::AfterCallWork {
                        call,
                        until: Some(until),
                    },
                );
                self.arm_agent_timer(ai, until);
            }
            WrapUpPolicy::UntilAgentFinishes => {
                self.set_state(ai, AgentState::AfterCallWork { call, until: None });
            }
        }
    }

    fn finish_wrap_up(&mut self, ai: u32) {
        let AgentState::AfterCallWork { call, .. } = self.agents[ai as usize].state else {
            return;
        };
        let now = self.now;
        self.cancel_agent_timer(ai);
        let ag = &mut self.agents[ai as usize];
        let leg = ag.leg;
        let wrap = now.since(leg.wrap_started);
        for t in [&mut ag.total, &mut ag.interval] {
            t.handled += 1;
            t.talk += leg.talk;
            t.hold += leg.hold;
            t.wrap_up += wrap;
        }
        ag.calls_since_login += 1;
        ag.talk_since_login += leg.talk;
        let qu = &mut self.queues[leg.queue as usize];
        qu.total.tally.on_handled(leg.talk, leg.hold, wrap);
        qu.interval.tally.on_handled(leg.talk, leg.hold, wrap);
        self.mark_dirty(leg.queue);
        let slot = call.slot();
        if self.calls[slot].live
            && self.calls[slot].generation == call.generation()
            && self.calls[slot].place == Place::WrapUp(ai)
        {
            let (ended_at, by) = self.calls[slot]
                .conversation_ended
                .unwrap_or((now, Party::Agent));
            self.close_record(slot as u32, EndReason::Completed(by), ended_at, wrap);
        }
        self.after_call(ai);
    }

    // ---------------------------------------------------------------- calls

    fn alloc_call(&mut self) -> u32 {
        self.live_calls += 1;
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.calls.push(Call::vacant());
                (self.calls.len() - 1) as u32
            }
        };
        let c = &mut self.calls[slot as usize];
        let generation = c.generation;
        *c = Call::vacant();
        c.generation = generation;
        c.live = true;
        slot
    }

    fn end_call(&mut self, slot: u32, end: EndReason, at: Time) {
        self.close_record(slot, end, at, Span::ZERO);
    }

    fn close_record(&mut self, slot: u32, end: EndReason, conversation_ended: Time, wrap_up: Span) {
        self.cancel_call_timer(slot);
        let now = self.now;
        let call = self.call_id(slot);
        let c = &mut self.calls[slot as usize];
        let record = CallRecord {
            call,
            tag: c.tag,
            first_queue: QueueId(c.first_queue),
            queue: QueueId(c.queue),
            priority: c.priority,
            arrived: c.arrived,
            first_offered: c.first_offered,
            answered: c.answered,
            conversation_ended,
            closed: now,
            wait: c.wait.unwrap_or(Span::ZERO),
            talk: c.talk,
            hold: c.hold,
            wrap_up,
            first_agent: c.first_agent,
            last_agent: c.last_agent,
            offers: c.offers,
            requeues: c.requeues,
            transfers: c.transfers,
            callback: c.callback,
            end,
        };
        let q = c.queue;
        c.live = false;
        c.line_token = 0;
        c.generation = c.generation.wrapping_add(1);
        self.free.push(slot);
        self.live_calls -= 1;
        self.push(Action::CallEnded(Box::new(record)));
        self.mark_dirty(q);
    }

    fn next_order(&mut self) -> u64 {
        self.order_seq += 1;
        self.order_seq
    }

    /// Put a waiting call into its line (or its preferred agent's held list) under a new
    /// token, keeping its `order`.
    fn insert_line(&mut self, slot: u32) {
        self.token_seq += 1;
        let token = self.token_seq;
        let c = &mut self.calls[slot as usize];
        c.line_token = token;
        let e = Entry {
            order: c.order,
            slot,
            token,
        };
        match c.held_for {
            Some(p) => {
                let held = &mut self.agents[p as usize].held;
                let at = held.partition_point(|x| x.order < e.order);
                held.insert(at, e);
            }
            None => {
                let (q, prio) = (c.queue, c.priority);
                let calls = &self.calls;
                self.queues[q as usize]
                    .line
                    .insert(prio, e, |x| calls[x.slot as usize].line_token == x.token);
            }
        }
    }

    /// Take a waiting call out of its line or held list.
    fn leave_line(&mut self, slot: u32) {
        let c = &mut self.calls[slot as usize];
        let token = std::mem::replace(&mut c.line_token, 0);
        if token == 0 {
            return;
        }
        match c.held_for {
            Some(p) => self.agents[p as usize].held.retain(|e| e.token != token),
            None => {
                let (q, prio) = (c.queue, c.priority);
                self.queues[q as usize].line.remove(prio);
            }
        }
    }

    fn waiting_slots(&self, q: u32) -> Vec<u32> {
        let mut v: Vec<(std::cmp::Reverse<u8>, u64, u32)> = self
            .calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.live && c.queue == q && c.place == Place::Waiting)
            .map(|(i, c)| (std::cmp::Reverse(c.priority), c.order, i as u32))
            .collect();
        v.sort_unstable();
        v.into_iter().map(|x| x.2).collect()
    }

    // ---------------------------------------------------------------- agent state & time

    fn set_state(&mut self, ai: u32, new: AgentState) {
        let now = self.now;
        self.accrue(ai, now);
        let old = self.agents[ai as usize].state;
        if self.agents[ai as usize].in_pools && new != AgentState::Ready {
            self.agents[ai as usize].in_pools = false;
            let rings = std::mem::take(&mut self.agents[ai as usize].rings);
            for &(q, r) in &rings {
                let qu = &mut self.queues[q as usize];
                let key = agent_key(&self.agents[ai as usize], ai, &qu.rings[r as usize]);
                qu.pools[r as usize].remove(&key);
            }
            self.agents[ai as usize].rings = rings;
        }
        let (ok, nk) = (old.kind().index(), new.kind().index());
        let ag = &mut self.agents[ai as usize];
        ag.state = new;
        ag.since = now;
        if new != AgentState::LoggedOut {
            ag.active_in_interval = true;
        }
        if ok != nk {
            for i in 0..ag.rings.len() {
                let q = ag.rings[i].0;
                let qu = &mut self.queues[q as usize];
                qu.by_state[ok] -= 1;
                qu.by_state[nk] += 1;
                if !qu.dirty {
                    qu.dirty = true;
                    self.dirty.push(q);
                }
            }
        }
        let reason = match new {
            AgentState::NotReady(r) => Some(r),
            _ if self.config.quiet => return,
            _ => None,
        };
        self.push(Action::AgentState {
            agent: AgentId(ai),
            state: new.kind(),
            reason,
        });
    }

    /// Count the time the agent spent in its state up to `upto`.
    fn accrue(&mut self, ai: u32, upto: Time) {
        let ag = &mut self.agents[ai as usize];
        let d = upto.since(ag.since);
        if d == Span::ZERO {
            return;
        }
        ag.since = upto;
        let kind = ag.state.kind();
        ag.total.accrue(&ag.state, d);
        ag.interval.accrue(&ag.state, d);
        if kind == AgentStateKind::LoggedOut {
            return;
        }
        for &(q, _) in &ag.rings {
            let qu = &mut self.queues[q as usize];
            qu.total.staffed += d;
            qu.interval.staffed += d;
            if kind.is_busy() {
                qu.total.busy += d;
                qu.interval.busy += d;
            }
        }
    }

    fn advance_clock(&mut self, now: Time) -> Result<(), EngineError> {
        if now < self.now {
            return Err(EngineError::ClockWentBackwards {
                now,
                last: self.now,
            });
        }
        self.now = now;
        while now >= self.interval_end {
            self.close_interval();
        }
        Ok(())
    }

    /// The driver is stopping: close the statistics interval in progress at `now`, shorter
    /// than the others, with its figures so far (a driver that starts again with
    /// `first_interval_from_start` goes on from there: nothing lost, nothing counted
    /// twice). The next interval then starts at `now`.
    pub fn close_interval_now(&mut self, now: Time) -> Result<(), EngineError> {
        self.advance_clock(now)?;
        if now > self.interval_start {
            let next_end = self.interval_end;
            self.interval_end = now;
            self.close_interval();
            self.interval_end = next_end;
            self.arm_interval_timer();
        }
        Ok(())
    }

    /// The statistics interval in progress as it would close at `now`, without closing
    /// it: each queue's figures and each agent's who was active in it, ending at `now`.
    /// A driver keeps these as a checkpoint so that a crash loses at most what came
    /// after the last one; the interval's real close later replaces them.
    pub fn interval_so_far(
        &mut self,
        now: Time,
    ) -> Result<(Vec<QueueInterval>, Vec<AgentInterval>), EngineError> {
        self.advance_clock(now)?;
        let start = self.interval_start;
        let mut agents = Vec::new();
        for ai in 0..self.agents.len() {
            self.accrue(ai as u32, now);
            let ag = &self.agents[ai];
            if ag.active_in_interval {
                agents.push(AgentInterval {
                    agent: AgentId(ai as u32),
                    start,
                    end: now,
                    tally: ag.interval.clone(),
                });
            }
        }
        let queues = self
            .queues
            .iter()
            .enumerate()
            .map(|(q, qu)| QueueInterval {
                queue: QueueId(q as u32),
                start,
                end: now,
                tally: qu.interval.tally,
                busy: qu.interval.busy,
                staffed: qu.interval.staffed,
                waiting_at_end: qu.waiting,
            })
            .collect();
        Ok((queues, agents))
    }

    fn close_interval(&mut self) {
        let (start, end) = (self.interval_start, self.interval_end);
        for ai in 0..self.agents.len() {
            self.accrue(ai as u32, end);
            let ag = &mut self.agents[ai];
            if ag.active_in_interval {
                let tally = std::mem::take(&mut ag.interval);
                self.actions
                    .push_back(Action::AgentIntervalClosed(Box::new(AgentInterval {
                        agent: AgentId(ai as u32),
                        start,
                        end,
                        tally,
                    })));
            }
            ag.interval = AgentTally::default();
            ag.active_in_interval = ag.state != AgentState::LoggedOut;
        }
        for (q, qu) in self.queues.iter_mut().enumerate() {
            let p = std::mem::take(&mut qu.interval);
            self.actions
                .push_back(Action::QueueIntervalClosed(Box::new(QueueInterval {
                    queue: QueueId(q as u32),
                    start,
                    end,
                    tally: p.tally,
                    busy: p.busy,
                    staffed: p.staffed,
                    waiting_at_end: qu.waiting,
                })));
        }
        self.interval_start = end;
        self.interval_end = Time(end.0 + self.config.interval.0.max(1_000_000));
        self.arm_interval_timer();
    }

    // ---------------------------------------------------------------- timers

    fn new_timer(&mut self, kind: u64, index: u32) -> TimerId {
        self.timer_nonce = self.timer_nonce.wrapping_add(1);
        TimerId((kind << 62) | ((index as u64 & 0x3fff_ffff) << 32) | self.timer_nonce as u64)
    }

    fn arm_interval_timer(&mut self) {
        let t = self.new_timer(TIMER_INTERVAL, 0);
        self.interval_timer = t;
        self.push(Action::StartTimer {
            timer: t,
            at: self.interval_end,
        });
    }

    fn arm_agent_timer(&mut self, ai: u32, at: Time) {
        let t = self.new_timer(TIMER_AGENT, ai);
        self.agents[ai as usize].timer = Some(t);
        self.push(Action::StartTimer { timer: t, at });
    }

    fn cancel_agent_timer(&mut self, ai: u32) {
        if let Some(t) = self.agents[ai as usize].timer.take() {
            self.push(Action::CancelTimer(t));
        }
    }

    fn cancel_call_timer(&mut self, slot: u32) {
        if let Some(t) = self.calls[slot as usize].timer.take() {
            self.push(Action::CancelTimer(t));
        }
    }

    /// The next moment a waiting call's options change: its preferred-agent wait ends,
    /// or the next overflow ring opens.
    fn arm_call_timer(&mut self, slot: u32) {
        self.cancel_call_timer(slot);
        let c = &self.calls[slot as usize];
        let at = match c.held_for {
            Some(_) => Some(c.preferred_until),
            None => {
                let waited = self.now.since(c.queued);
                self.queues[c.queue as usize]
                    .rings
                    .iter()
                    .find(|r| r.after > waited)
                    .map(|r| c.queued + r.after)
            }
        };
        if let Some(at) = at {
            let t = self.new_timer(TIMER_CALL, slot);
            self.calls[slot as usize].timer = Some(t);
            self.push(Action::StartTimer { timer: t, at });
        }
    }

    // ---------------------------------------------------------------- helpers

    #[inline]
    fn push(&mut self, a: Action) {
        self.actions.push_back(a);
    }

    fn mark_dirty(&mut self, q: u32) {
        let qu = &mut self.queues[q as usize];
        if !qu.dirty {
            qu.dirty = true;
            self.dirty.push(q);
        }
    }

    fn flush_dirty(&mut self) {
        for i in 0..self.dirty.len() {
            let q = self.dirty[i];
            self.queues[q as usize].dirty = false;
            if !self.config.quiet {
                self.actions.push_back(Action::QueueChanged(QueueId(q)));
            }
        }
        self.dirty.clear();
    }

    fn illegal(&self, agent: AgentId, s: AgentState, request: &'static str) -> EngineError {
        EngineError::IllegalTransition {
            agent,
            state: s.kind(),
            request,
        }
    }

    fn agent_index(&self, a: AgentId) -> Result<u32, EngineError> {
        if (a.0 as usize) < self.agents.len() {
            Ok(a.0)
        } else {
            Err(EngineError::UnknownAgent(a))
        }
    }

    fn queue_index(&self, q: QueueId) -> Result<u32, EngineError> {
        if (q.0 as usize) < self.queues.len() {
            Ok(q.0)
        } else {
            Err(EngineError::UnknownQueue(q))
        }
    }

    fn call_slot(&self, c: CallId) -> Result<u32, EngineError> {
        match self.calls.get(c.slot()) {
            Some(x) if x.live && x.generation == c.generation() => Ok(c.slot() as u32),
            _ => Err(EngineError::UnknownCall(c)),
        }
    }

    fn call_id(&self, slot: u32) -> CallId {
        CallId::new(slot, self.calls[slot as usize].generation)
    }

    // ---------------------------------------------------------------- queries

    /// Where a call is now; `None` once it has ended.
    pub fn call_place(&self, call: CallId) -> Option<CallPlace> {
        let slot = self.call_slot(call).ok()?;
        let c = &self.calls[slot as usize];
        let queue = QueueId(c.queue);
        Some(match c.place {
            Place::Waiting => CallPlace::Waiting {
                queue,
                held_for: c.held_for.map(AgentId),
                callback: c.callback,
            },
            Place::Offered(a) => CallPlace::Offered {
                queue,
                agent: AgentId(a),
            },
            Place::Connected(a) => CallPlace::Connected {
                queue,
                agent: AgentId(a),
            },
            Place::WrapUp(a) => CallPlace::WrapUp {
                queue,
                agent: AgentId(a),
            },
        })
    }

    /// The agent's state now.
    pub fn agent_state(&self, agent: AgentId) -> Result<AgentState, EngineError> {
        Ok(self.agents[self.agent_index(agent)? as usize].state)
    }

    /// The agent's skills and groups.
    pub fn agent_profile(&self, agent: AgentId) -> Result<&AgentProfile, EngineError> {
        Ok(&self.agents[self.agent_index(agent)? as usize].profile)
    }

    /// The agent's state and statistics, with time in the current state counted to now.
    pub fn agent_snapshot(&self, agent: AgentId) -> Result<AgentSnapshot, EngineError> {
        let ag = &self.agents[self.agent_index(agent)? as usize];
        let mut total = ag.total.clone();
        let mut interval = ag.interval.clone();
        let d = self.now.since(ag.since);
        total.accrue(&ag.state, d);
        interval.accrue(&ag.state, d);
        Ok(AgentSnapshot {
            state: ag.state,
            since: ag.since,
            total,
            interval,
        })
    }

    /// The queue's settings.
    pub fn queue_config(&self, queue: QueueId) -> Result<&QueueConfig, EngineError> {
        Ok(&self.queues[self.queue_index(queue)? as usize].config)
    }

    /// Number of queues (ids are 0..n).
    pub fn queue_count(&self) -> usize {
        self.queues.len()
    }

    /// Number of agents (ids are 0..n).
    pub fn agent_count(&self) -> usize {
        self.agents.len()
    }

    /// Calls in the engine now (waiting, ringing, connected, wrapping up).
    pub fn live_calls(&self) -> u32 {
        self.live_calls
    }

    /// A queue's live statistics, with agents' time in their current state counted to
    /// now.
    pub fn queue_snapshot(&self, queue: QueueId) -> Result<QueueSnapshot, EngineError> {
        let q = self.queue_index(queue)?;
        let qu = &self.queues[q as usize];
        let mut total = qu.total;
        let mut interval = qu.interval;
        for ag in &self.agents {
            if ag.state == AgentState::LoggedOut || !ag.rings.iter().any(|&(x, _)| x == q) {
                continue;
            }
            let d = self.now.since(ag.since);
            total.staffed += d;
            interval.staffed += d;
            if ag.state.kind().is_busy() {
                total.busy += d;
                interval.busy += d;
            }
        }
        let longest = self
            .calls
            .iter()
            .filter(|c| c.live && c.queue == q && c.place == Place::Waiting)
            .map(|c| self.now.since(c.queued))
            .max()
            .unwrap_or(Span::ZERO);
        Ok(QueueSnapshot {
            queue,
            name: qu.config.name.clone(),
            total,
            interval,
            interval_start: self.interval_start,
            waiting: qu.waiting,
            ringing: qu.ringing,
            unanswered_in_queue: qu.unanswered,
            longest_wait: longest,
            agents_by_state: qu.by_state,
            formula: qu.config.service_level_formula,
        })
    }

    /// The calls waiting in a queue in the order they will be served (priority, then
    /// place in line; calls held for a preferred agent are listed at their place).
    pub fn waiting_calls(&self, queue: QueueId) -> Result<Vec<WaitingCall>, EngineError> {
        let q = self.queue_index(queue)?;
        Ok(self
            .waiting_slots(q)
            .into_iter()
            .map(|s| {
                let c = &self.calls[s as usize];
                WaitingCall {
                    call: self.call_id(s),
                    priority: c.priority,
                    order: c.order,
                    queued: c.queued,
                    held_for: c.held_for.map(AgentId),
                    callback: c.callback,
                }
            })
            .collect())
    }

    /// Whether `agent` may take calls of `queue` after a wait of `waited` (its ring is
    /// open). For tests and displays.
    pub fn qualified(&self, agent: AgentId, queue: QueueId, waited: Span) -> bool {
        let (Ok(a), Ok(q)) = (self.agent_index(agent), self.queue_index(queue)) else {
            return false;
        };
        let qu = &self.queues[q as usize];
        match qualifies(&self.agents[a as usize].profile, &qu.config, &qu.rings) {
            Some(r) => qu.rings[r as usize].after <= waited,
            None => false,
        }
    }

    /// Check every internal invariant; the error says which one broke. Cheap enough for
    /// tests after every step, too slow for production hot paths (O(agents × calls)).
    pub fn audit(&self) -> Result<(), String> {
        let mut waiting = vec![0u32; self.queues.len()];
        let mut ringing = vec![0u32; self.queues.len()];
        let mut unanswered = vec![0u32; self.queues.len()];
        let mut live = 0;
        for (slot, c) in self.calls.iter().enumerate() {
            if !c.live {
                continue;
            }
            live += 1;
            let id = CallId::new(slot as u32, c.generation);
            let q = c.queue as usize;
            if !c.answered_here && matches!(c.place, Place::Waiting | Place::Offered(_)) {
                unanswered[q] += 1;
            }
            match c.place {
                Place::Waiting => {
                    waiting[q] += 1;
                    if c.line_token == 0 {
                        return Err(format!("{id} waits but is in no line"));
                    }
                    let found = match c.held_for {
                        Some(p) => self.agents[p as usize]
                            .held
                            .iter()
                            .filter(|e| e.token == c.line_token && e.slot as usize == slot)
                            .count(),
                        None => self.queues[q]
                            .line
                            .classes
                            .iter()
                            .filter(|cl| cl.priority == c.priority)
                            .flat_map(|cl| cl.entries(|e| e.token == c.line_token))
                            .filter(|e| e.slot as usize == slot)
                            .count(),
                    };
                    if found != 1 {
                        return Err(format!("{id} is in its line {found} times"));
                    }
                }
                Place::Offered(a) => {
                    ringing[q] += 1;
                    if !matches!(self.agents[a as usize].state, AgentState::Reserved { call, .. } if call == id)
                    {
                        return Err(format!(
                            "{id} rings at agent {a} who is not reserved for it"
                        ));
                    }
                }
                Place::Connected(a) => {
                    if !matches!(self.agents[a as usize].state, AgentState::Connected { call, .. } if call == id)
                    {
                        return Err(format!("{id} is connected to agent {a} who is not on it"));
                    }
                }
                Place::WrapUp(a) => {
                    if !matches!(self.agents[a as usize].state, AgentState::AfterCallWork { call, .. } if call == id)
                    {
                        return Err(format!(
                            "{id} is in wrap-up with agent {a} who is not wrapping it"
                        ));
                    }
                }
            }
        }
        if live != self.live_calls {
            return Err(format!(
                "live call count {} but {live} live calls",
                self.live_calls
            ));
        }
        for (q, qu) in self.queues.iter().enumerate() {
            if qu.waiting != waiting[q]
                || qu.ringing != ringing[q]
                || qu.unanswered != unanswered[q]
            {
                return Err(format!(
                    "queue {q}: counts waiting/ringing/unanswered {}/{}/{} but calls say {}/{}/{}",
                    qu.waiting, qu.ringing, qu.unanswered, waiting[q], ringing[q], unanswered[q]
                ));
            }
            let t = &qu.total.tally;
            if t.offered != t.answered + t.abandoned + qu.unanswered as u64 {
                return Err(format!(
                    "queue {q}: offered {} ≠ answered {} + abandoned {} + unanswered {}",
                    t.offered, t.answered, t.abandoned, qu.unanswered
                ));
            }
            let line_live: u32 = qu.line.classes.iter().map(|c| c.live).sum();
            let held: u32 = self
                .calls
                .iter()
                .filter(|c| {
                    c.live
                        && c.queue as usize == q
                        && c.place == Place::Waiting
                        && c.held_for.is_some()
                })
                .count() as u32;
            if line_live + held != qu.waiting {
                return Err(format!(
                    "queue {q}: line holds {line_live} + {held} held, {} waiting",
                    qu.waiting
                ));
            }
            let mut by_state = [0u32; 6];
            for ag in &self.agents {
                if ag.rings.iter().any(|&(x, _)| x as usize == q) {
                    by_state[ag.state.kind().index()] += 1;
                }
            }
            if by_state != qu.by_state {
                return Err(format!(
                    "queue {q}: agents by state {:?} but agents say {by_state:?}",
                    qu.by_state
                ));
            }
            for (r, pool) in qu.pools.iter().enumerate() {
                let ready = self
                    .agents
                    .iter()
                    .filter(|ag| {
                        ag.state == AgentState::Ready && ag.rings.contains(&(q as u32, r as u8))
                    })
                    .count();
                if pool.live() != ready {
                    return Err(format!(
                        "queue {q} ring {r}: pool has {} but {ready} agents ready",
                        pool.live()
                    ));
                }
            }
        }
        for (ai, ag) in self.agents.iter().enumerate() {
            let held_calls = |call: CallId| {
                let s = call.slot();
                self.calls[s].live && self.calls[s].generation == call.generation()
            };
            match ag.state {
                AgentState::Reserved { call, .. } | AgentState::Connected { call, .. }
                    if !held_calls(call) =>
                {
                    return Err(format!("agent {ai} holds {call} which has ended"));
                }
                AgentState::Ready => {
                    if !ag.in_pools {
                        return Err(format!("ready agent {ai} is in no pool"));
                    }
                    for &(q, r) in &ag.rings {
                        let qu = &self.queues[q as usize];
                        let key = agent_key(ag, ai as u32, &qu.rings[r as usize]);
                        if !qu.pools[r as usize].contains(&key) {
                            return Err(format!(
                                "ready agent {ai} missing from queue {q} ring {r}"
                            ));
                        }
                        // nobody ready while a call they may take waits
                        let open = qu.rings[r as usize].after;
                        if let Some(c) = self.calls.iter().find(|c| {
                            c.live
                                && c.queue == q
                                && c.place == Place::Waiting
                                && c.held_for.is_none()
                                && self.now.since(c.queued) > open
                        }) {
                            return Err(format!(
                                "agent {ai} is ready while call in slot with order {} waits in queue {q}",
                                c.order
                            ));
                        }
                    }
                    if !ag.held.is_empty() {
                        return Err(format!("agent {ai} is ready while calls are held for them"));
                    }
                }
                AgentState::LoggedOut if !ag.rings.is_empty() || !ag.held.is_empty() => {
                    return Err(format!(
                        "logged-out agent {ai} still has queues or held calls"
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}
