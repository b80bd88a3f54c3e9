//! Property tests: thousands of random inputs, valid and invalid, and after every step
//! the engine's invariants hold (and nothing panics: a panic fails the property).
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

mod support;
use hotline_acd::Strategy as Selection;
use hotline_acd::*;
use proptest::prelude::*;
use proptest::strategy::Strategy as _;
use std::collections::{BTreeMap, HashMap};
use support::*;

#[derive(Debug, Clone)]
enum Op {
    Login(u8),
    Ready(u8),
    NotReady(u8),
    Logout(u8),
    ForceLogout(u8),
    Answer(u8),
    Reject(u8),
    Hold(u8),
    Resume(u8),
    HangUp(u8),
    TransferQueue(u8, u8),
    TransferAgent(u8, u8),
    Extend(u8),
    Finish(u8),
    Arrive {
        queue: u8,
        priority: u8,
        preferred: Option<u8>,
    },
    CallerHangUp(u16),
    AcceptCallback(u16),
    SetPriority(u16, u8),
    /// Transfer agent a's call to the k-th agent who is ready now (a transfer aimed at
    /// someone who can take it, so the walk reaches transfers to an agent often).
    TransferToReady(u8, u8),
    /// Log out the k-th agent whose phone is ringing (an agent lost while ringing).
    DropRinging(u8),
    /// Change a queue's settings at run time (ring-no-answer, cap, strategy).
    Reconfigure(u8, u8),
}

const AGENTS: u8 = 7;

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    let a = 0..AGENTS;
    prop_oneof![
        2 => a.clone().prop_map(Op::Login),
        8 => a.clone().prop_map(Op::Ready),
        1 => a.clone().prop_map(Op::NotReady),
        1 => a.clone().prop_map(Op::Logout),
        1 => a.clone().prop_map(Op::ForceLogout),
        16 => a.clone().prop_map(Op::Answer),
        1 => a.clone().prop_map(Op::Reject),
        1 => a.clone().prop_map(Op::Hold),
        1 => a.clone().prop_map(Op::Resume),
        4 => a.clone().prop_map(Op::HangUp),
        3 => (a.clone(), 0..4u8).prop_map(|(x, q)| Op::TransferQueue(x, q)),
        4 => (a.clone(), a.clone()).prop_map(|(x, y)| Op::TransferAgent(x, y)),
        1 => a.clone().prop_map(Op::Extend),
        2 => a.clone().prop_map(Op::Finish),
        3 => (0..3u8, 0..3u8, proptest::option::weighted(0.2, 0..AGENTS))
            .prop_map(|(queue, priority, preferred)| Op::Arrive { queue, priority, preferred }),
        3 => any::<u16>().prop_map(Op::CallerHangUp),
        1 => any::<u16>().prop_map(Op::AcceptCallback),
        1 => (any::<u16>(), 0..3u8).prop_map(|(c, p)| Op::SetPriority(c, p)),
        8 => (a.clone(), 0..AGENTS).prop_map(|(x, k)| Op::TransferToReady(x, k)),
        1 => (0..AGENTS).prop_map(Op::DropRinging),
        1 => (0..3u8, any::<u8>()).prop_map(|(q, v)| Op::Reconfigure(q, v)),
    ]
}

fn strategy_of(i: u8) -> Selection {
    [
        Selection::LongestIdle,
        Selection::MostSkilled,
        Selection::FewestCalls,
        Selection::LeastTalkTime,
        Selection::RoundRobin,
        Selection::Random,
    ][i as usize % 6]
}

/// What one call's record must say, kept from the inputs the engine accepted and the
/// actions it emitted — never read from the engine's own call or record.
struct Expect {
    arrived: Time,
    first_queue: QueueId,
    queue: QueueId,
    /// When it entered the queue it is in (arrival, or the last transfer to a queue).
    queued_here: Time,
    priority: u8,
    first_offered: Option<Time>,
    answered: Option<Time>,
    /// Answered since it entered the queue it is in.
    answered_here: bool,
    first_agent: Option<AgentId>,
    last_agent: Option<AgentId>,
    offers: u16,
    requeues: u16,
    transfers: u16,
    callback: bool,
    /// The agent talking with the caller now, since when.
    connected: Option<(AgentId, Time)>,
    /// Time connected over all legs, holds included.
    connected_total: Span,
    hold: Span,
    /// The conversation's end, and who hung up.
    ended: Option<(Time, Party)>,
    /// Still in the step of its own arrival (where only a refusal can end it; an abandon
    /// at the same instant comes in a later step).
    arriving: bool,
}

/// The model of every live call's record, and who holds which call on hold since when.
#[derive(Default)]
struct Ledger {
    calls: HashMap<CallId, Expect>,
    on_call: HashMap<AgentId, CallId>,
    held_since: HashMap<AgentId, Time>,
}

impl Ledger {
    fn arrive(&mut self, call: CallId, now: Time, spec: &CallSpec) {
        self.calls.insert(
            call,
            Expect {
                arrived: now,
                first_queue: spec.queue,
                queue: spec.queue,
                queued_here: now,
                priority: spec.priority,
                first_offered: None,
                answered: None,
                answered_here: false,
                first_agent: None,
                last_agent: None,
                offers: 0,
                requeues: 0,
                transfers: 0,
                callback: false,
                connected: None,
                connected_total: Span::ZERO,
                hold: Span::ZERO,
                ended: None,
                arriving: true,
            },
        );
    }

    /// The step of the call's arrival is over.
    fn arrived(&mut self, call: CallId) {
        if let Some(x) = self.calls.get_mut(&call) {
            x.arriving = false;
        }
    }

    /// An input the engine accepted.
    fn accepted(&mut self, now: Time, input: &Input) {
        match *input {
            Input::Hold(a) if self.on_call.contains_key(&a) => {
                self.held_since.entry(a).or_insert(now);
            }
            Input::Resume(a) => {
                if let (Some(h), Some(c)) = (self.held_since.remove(&a), self.on_call.get(&a)) {
                    self.calls.get_mut(c).unwrap().hold += now.since(h);
                }
            }
            Input::AcceptCallback(c) => self.calls.get_mut(&c).unwrap().callback = true,
            Input::SetPriority(c, p) => self.calls.get_mut(&c).unwrap().priority = p,
            _ => {}
        }
    }

    /// The agent's leg of the call ends now.
    fn end_leg(&mut self, call: CallId, now: Time) {
        let x = self.calls.get_mut(&call).unwrap();
        if let Some((a, since)) = x.connected.take() {
            x.connected_total += now.since(since);
            if let Some(h) = self.held_since.remove(&a) {
                x.hold += now.since(h);
            }
            self.on_call.remove(&a);
        }
    }

    /// An action the engine emitted; `refusal` says why a call to the queue would be
    /// turned away on arrival in this step.
    fn see(
        &mut self,
        now: Time,
        act: &Action,
        refusal: impl Fn(QueueId) -> EndReason,
        short: impl Fn(QueueId) -> Span,
    ) {
        match *act {
            Action::Offer { call, queue, .. } => {
                let x = self.calls.get_mut(&call).unwrap();
                assert_eq!(queue, x.queue, "{call} offered from the wrong queue");
                x.offers += 1;
                x.first_offered.get_or_insert(now);
            }
            Action::Connected { call, agent } => {
                let x = self.calls.get_mut(&call).unwrap();
                x.answered.get_or_insert(now);
                x.first_agent.get_or_insert(agent);
                x.last_agent = Some(agent);
                x.answered_here = true;
                x.connected = Some((agent, now));
                self.on_call.insert(agent, call);
            }
            Action::Requeued { call, .. } => {
                self.end_leg(call, now);
                self.calls.get_mut(&call).unwrap().requeues += 1;
            }
            Action::Transferred { call, to, .. } => {
                self.end_leg(call, now);
                let x = self.calls.get_mut(&call).unwrap();
                x.transfers += 1;
                if let TransferTarget::Queue(q) = to {
                    x.queue = q;
                    x.queued_here = now;
                    x.answered_here = false;
                }
            }
            Action::ConversationEnded { call, by, .. } => {
                self.end_leg(call, now);
                self.calls.get_mut(&call).unwrap().ended = Some((now, by));
            }
            Action::CallEnded(ref rec) => {
                let x = self.calls.remove(&rec.call).unwrap();
                let (end, conversation_ended, wrap_up) = match x.ended {
                    Some((t, by)) => (EndReason::Completed(by), t, now.since(t)),
                    None => {
                        let end = if x.arriving {
                            refusal(x.queue) // turned away on arrival
                        } else if x.answered_here {
                            EndReason::DroppedAfterAnswer
                        } else if x.callback {
                            EndReason::CallbackCancelled
                        } else {
                            EndReason::Abandoned {
                                short: now.since(x.queued_here) < short(x.queue),
                            }
                        };
                        (end, now, Span::ZERO)
                    }
                };
                let want = CallRecord {
                    call: rec.call,
                    tag: 0,
                    first_queue: x.first_queue,
                    queue: x.queue,
                    priority: x.priority,
                    arrived: x.arrived,
                    first_offered: x.first_offered,
                    answered: x.answered,
                    conversation_ended,
                    closed: now,
                    wait: x.answered.unwrap_or(now).since(x.arrived),
                    talk: Span(x.connected_total.0 - x.hold.0),
                    hold: x.hold,
                    wrap_up,
                    first_agent: x.first_agent,
                    last_agent: x.last_agent,
                    offers: x.offers,
                    requeues: x.requeues,
                    transfers: x.transfers,
                    callback: x.callback,
                    end,
                };
                assert_eq!(
                    **rec, want,
                    "the record of {} is not what happened",
                    rec.call
                );
            }
            _ => {}
        }
    }
}

struct World {
    r: Rig,
    calls: Vec<CallId>,
    /// calls not yet ended, for inputs aimed at a call
    live: Vec<CallId>,
    /// what each agent holds according to the actions seen so far
    holds: HashMap<AgentId, CallId>,
    /// calls whose next offer is directed (preferred agent or transfer to an agent)
    directed: HashMap<CallId, AgentId>,
    records: BTreeMap<CallId, usize>,
    /// What each call's record must say.
    ledger: Ledger,
    arrivals: usize,
    /// Each queue's running totals after the last step (counters only grow).
    totals: Vec<kpi::Tally>,
    /// What the walk reached, by kind.
    reached: BTreeMap<&'static str, usize>,
}

impl World {
    fn new(strategies: [u8; 3]) -> World {
        let mut r = Rig::new();
        let s = SkillId;
        r.queue(QueueConfig {
            name: "inquiry".into(),
            skill: s(1),
            min_level: 4,
            overflow: vec![
                OverflowStep {
                    after: Span::from_secs(20),
                    skill: s(1),
                    min_level: 1,
                },
                OverflowStep {
                    after: Span::from_secs(40),
                    skill: s(2),
                    min_level: 5,
                },
            ],
            strategy: strategy_of(strategies[0]),
            ring_timeout: Some(Span::from_secs(12)),
            wrap_up: WrapUpPolicy::Skip,
            ..QueueConfig::default()
        });
        r.queue(QueueConfig {
            name: "faults".into(),
            skill: s(2),
            strategy: strategy_of(strategies[1]),
            preferred_agent_wait: Span::from_secs(30),
            ring_timeout: Some(Span::from_secs(10)),
            wrap_up: WrapUpPolicy::Timed(Span::from_secs(5)),
            callback_threshold: Some(Span::from_secs(30)),
            ..QueueConfig::default()
        });
        r.queue(QueueConfig {
            name: "key accounts".into(),
            skill: s(3),
            group: Some(GroupId(1)),
            strategy: strategy_of(strategies[2]),
            max_waiting: Some(4),
            when_no_agents: NoAgentsPolicy::Refuse,
            ring_timeout: None,
            wrap_up: WrapUpPolicy::UntilAgentFinishes,
            ..QueueConfig::default()
        });
        type Profile = (&'static [(u16, u8)], &'static [u16]);
        let profiles: [Profile; AGENTS as usize] = [
            (&[(1, 8)], &[]),
            (&[(1, 2)], &[]),
            (&[(1, 5), (2, 5)], &[]),
            (&[(2, 9)], &[]),
            (&[(2, 6), (3, 7)], &[1]),
            (&[(3, 4)], &[1]),
            (&[(1, 9), (2, 3), (3, 9)], &[]),
        ];
        for (skills, groups) in profiles {
            r.e.add_agent(AgentProfile {
                skills: skills.iter().map(|&(k, l)| (s(k), l)).collect(),
                groups: groups.iter().map(|&g| GroupId(g)).collect(),
            })
            .unwrap();
        }
        World {
            r,
            calls: Vec::new(),
            live: Vec::new(),
            holds: HashMap::new(),
            directed: HashMap::new(),
            records: BTreeMap::new(),
            ledger: Ledger::default(),
            arrivals: 0,
            totals: vec![kpi::Tally::default(); 3],
            reached: BTreeMap::new(),
        }
    }

    /// Agents in `kind` now, in id order.
    fn agents_in(&self, kind: AgentStateKind) -> Vec<AgentId> {
        (0..self.r.e.agent_count() as u32)
            .map(AgentId)
            .filter(|a| self.r.e.agent_state(*a).is_ok_and(|s| s.kind() == kind))
            .collect()
    }

    /// Everything an illegal input must leave as it was.
    fn state(&self) -> (Vec<Option<AgentState>>, Vec<Vec<WaitingCall>>, u32) {
        let agents = (0..self.r.e.agent_count() as u32)
            .map(|a| self.r.e.agent_state(AgentId(a)).ok())
            .collect();
        let lines = (0..self.r.e.queue_count() as u32)
            .map(|q| self.r.e.waiting_calls(QueueId(q)).unwrap())
            .collect();
        (agents, lines, self.r.e.live_calls())
    }

    /// Mostly a live call; now and then one that has ended or never existed.
    fn call(&self, k: u16) -> CallId {
        if k % 16 == 0 && !self.calls.is_empty() {
            self.calls[k as usize % self.calls.len()]
        } else if self.live.is_empty() {
            CallId(u64::MAX)
        } else {
            self.live[k as usize % self.live.len()]
        }
    }

    fn apply(&mut self, op: &Op) {
        let ag = |x: u8| AgentId(x as u32);
        let input = match *op {
            Op::Login(a) => Input::Login(ag(a)),
            Op::Ready(a) => Input::Ready(ag(a)),
            Op::NotReady(a) => Input::NotReady(ag(a), ReasonCode(20)),
            Op::Logout(a) => Input::Logout(ag(a)),
            Op::ForceLogout(a) => Input::ForceLogout(ag(a)),
            Op::Answer(a) => Input::Answer(ag(a)),
            Op::Reject(a) => Input::Reject(ag(a)),
            Op::Hold(a) => Input::Hold(ag(a)),
            Op::Resume(a) => Input::Resume(ag(a)),
            Op::HangUp(a) => Input::HangUp(ag(a)),
            Op::TransferQueue(a, q) => {
                // mostly an agent on a call (queue 3 does not exist: refused)
                let talking = self.agents_in(AgentStateKind::Connected);
                let from = talking
                    .get(a as usize % talking.len().max(1))
                    .copied()
                    .filter(|_| a % 4 != 0)
                    .unwrap_or(ag(a));
                Input::Transfer(from, TransferTarget::Queue(QueueId(q as u32)))
            }
            Op::TransferAgent(a, b) => Input::Transfer(ag(a), TransferTarget::Agent(ag(b))),
            Op::Extend(a) => Input::ExtendWrapUp(ag(a), Span::from_secs(3)),
            Op::Finish(a) => Input::FinishWrapUp(ag(a)),
            Op::CallerHangUp(k) => Input::CallerHangUp(self.call(k)),
            Op::AcceptCallback(k) => Input::AcceptCallback(self.call(k)),
            Op::SetPriority(k, p) => Input::SetPriority(self.call(k), p),
            Op::TransferToReady(a, k) => {
                // the a-th agent on a call hands it to the k-th ready agent who may take it
                let talking = self.agents_in(AgentStateKind::Connected);
                let from = talking.get(a as usize % talking.len().max(1)).copied();
                let queue = from.and_then(|f| match self.r.e.agent_state(f) {
                    Ok(AgentState::Connected { call, .. }) => match self.r.e.call_place(call) {
                        Some(CallPlace::Connected { queue, .. }) => Some(queue),
                        _ => None,
                    },
                    _ => None,
                });
                let takers: Vec<AgentId> = self
                    .agents_in(AgentStateKind::Ready)
                    .into_iter()
                    .filter(|b| queue.is_some_and(|q| self.r.e.qualified(*b, q, Span(u64::MAX))))
                    .collect();
                match (from, takers.get(k as usize % takers.len().max(1))) {
                    (Some(f), Some(&b)) => Input::Transfer(f, TransferTarget::Agent(b)),
                    _ => Input::Transfer(ag(a), TransferTarget::Agent(ag(k))),
                }
            }
            Op::DropRinging(k) => {
                let ringing = self.agents_in(AgentStateKind::Reserved);
                match ringing.get(k as usize % ringing.len().max(1)) {
                    Some(&b) => Input::ForceLogout(b),
                    None => Input::ForceLogout(ag(k)),
                }
            }
            Op::Reconfigure(q, v) => {
                let before = self.snapshot();
                let queue = QueueId(q as u32);
                let mut c = self.r.e.queue_config(queue).unwrap().clone();
                match v % 3 {
                    0 => {
                        c.ring_timeout = (v % 2 == 0).then(|| Span::from_secs(5 + (v % 20) as u64))
                    }
                    1 => c.max_waiting = (v % 4 != 1).then_some(1 + (v % 5) as u32),
                    _ => c.strategy = strategy_of(v),
                }
                self.r
                    .e
                    .update_queue(queue, c)
                    .expect("a valid configuration");
                *self.reached.entry("queue reconfigured").or_default() += 1;
                let acts = self.r.drain();
                self.check(&before, &acts);
                return;
            }
            Op::Arrive {
                queue,
                priority,
                preferred,
            } => {
                let before = self.snapshot();
                let spec = CallSpec {
                    queue: QueueId(queue as u32),
                    priority,
                    preferred_agent: preferred.map(ag),
                    tag: 0,
                };
                let c = self
                    .r
                    .e
                    .arrive(self.r.now, spec)
                    .expect("arrive on a known queue");
                self.arrivals += 1;
                self.ledger.arrive(c, self.r.now, &spec);
                self.calls.push(c);
                self.live.push(c);
                if let Some(p) = preferred {
                    self.directed.insert(c, ag(p));
                }
                let acts = self.r.drain();
                self.check(&before, &acts);
                self.ledger.arrived(c);
                return;
            }
        };
        if let Input::Transfer(_, TransferTarget::Agent(b)) = input {
            if let Input::Transfer(a, _) = input {
                if let Some(&c) = self.holds.get(&a) {
                    self.directed.insert(c, b);
                }
            }
        }
        let before = self.snapshot();
        let state = self.state();
        let r = self.r.e.handle(self.r.now, input); // errors are fine; panics are not
        let acts = self.r.drain();
        if r.is_ok() {
            self.ledger.accepted(self.r.now, &input);
        }
        if r.is_err() {
            // an illegal input changes nothing and says nothing (time still passes: the
            // live figures move on, so queues may report a change)
            let said: Vec<&Action> = acts
                .iter()
                .filter(|a| !matches!(a, Action::QueueChanged(_)))
                .collect();
            assert!(said.is_empty(), "{input:?} was refused but acted: {said:?}");
            assert_eq!(
                self.state(),
                state,
                "{input:?} was refused but changed the state"
            );
            *self.reached.entry("illegal input").or_default() += 1;
        }
        self.check(&before, &acts);
    }

    /// Waiting calls per queue before a step.
    fn snapshot(&self) -> HashMap<CallId, (QueueId, WaitingCall)> {
        let mut m = HashMap::new();
        for q in 0..self.r.e.queue_count() {
            let q = QueueId(q as u32);
            for w in self.r.e.waiting_calls(q).unwrap() {
                m.insert(w.call, (q, w));
            }
        }
        m
    }

    fn check(&mut self, before: &HashMap<CallId, (QueueId, WaitingCall)>, acts: &[Action]) {
        let e = &self.r.e;
        if let Err(msg) = e.audit() {
            panic!("audit: {msg}");
        }
        let now = e.now();
        for act in acts {
            let config = |q: QueueId| e.queue_config(q).unwrap();
            self.ledger.see(
                now,
                act,
                |q| {
                    // nobody logged in who could take it (where the queue refuses then)
                    // comes before a full line
                    let staffed = (0..AGENTS).map(|a| AgentId(a as u32)).any(|a| {
                        e.agent_state(a).is_ok_and(|s| s != AgentState::LoggedOut)
                            && e.qualified(a, q, Span(u64::MAX))
                    });
                    if config(q).when_no_agents == NoAgentsPolicy::Refuse && !staffed {
                        return EndReason::RefusedNoAgents;
                    }
                    let waiting = before.values().filter(|(wq, _)| *wq == q).count();
                    assert!(
                        config(q).max_waiting.is_some_and(|m| waiting >= m as usize),
                        "a call turned away from {q} with room in its line"
                    );
                    EndReason::RefusedQueueFull
                },
                |q| config(q).thresholds.short_abandon,
            );
            match *act {
                Action::Offer {
                    call, agent, queue, ..
                } => {
                    // an agent holds at most one call
                    assert!(
                        !self.holds.contains_key(&agent),
                        "{agent} offered {call} while holding {:?}",
                        self.holds.get(&agent)
                    );
                    self.holds.insert(agent, call);
                    let directed = self.directed.get(&call) == Some(&agent);
                    // nobody lacking the skill (a directed offer may skip the ring wait)
                    assert!(
                        e.qualified(agent, queue, Span(u64::MAX)),
                        "{call} offered to unqualified {agent}"
                    );
                    // from the line: the agent's ring was open for this call, and no older
                    // call of the same class that the agent could take was passed over
                    if let Some(&(q, me)) = before.get(&call) {
                        if me.held_for == Some(agent) {
                            // a call held for this agent: no call held for them that
                            // entered earlier was passed over (held calls are served in
                            // order of entry; their class does not reorder them)
                            *self.reached.entry("held call offered").or_default() += 1;
                            for (wq, w) in before.values() {
                                assert!(
                                    !(w.held_for == Some(agent)
                                        && w.order < me.order
                                        && e.call_place(w.call).is_some_and(|p| matches!(
                                            p,
                                            CallPlace::Waiting { .. }
                                        ))),
                                    "held {call} ({me:?}, queue {q}) offered to {agent} ahead of older held {} ({w:?}, queue {wq})",
                                    w.call
                                );
                            }
                        }
                        if me.held_for.is_none() && !directed {
                            assert!(
                                e.qualified(agent, q, now.since(me.queued)),
                                "{call} offered to {agent} before their ring opened"
                            );
                            // across all the agent's queues: higher class first, then
                            // longest waiting (within one queue: order of entry)
                            for wq in 0..e.queue_count() {
                                let wq = QueueId(wq as u32);
                                for w in e.waiting_calls(wq).unwrap() {
                                    let ahead = w.priority > me.priority
                                        || (w.priority == me.priority
                                            && if wq == q {
                                                w.order < me.order
                                            } else {
                                                w.queued < me.queued
                                            });
                                    // including a ring that opens at this very instant,
                                    // whose timer has not fired yet
                                    if ahead && w.held_for.is_none() {
                                        assert!(
                                            !e.qualified(agent, wq, now.since(w.queued)),
                                            "{call} (class {}, order {}) offered to {agent} ahead of {} in {wq} (class {}, order {})",
                                            me.priority,
                                            me.order,
                                            w.call,
                                            w.priority,
                                            w.order
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
                Action::OfferCancelled { agent, reason, .. } => {
                    self.holds.remove(&agent);
                    if reason == OfferCancel::AgentLost {
                        *self.reached.entry("agent lost while ringing").or_default() += 1;
                    }
                }
                Action::AgentState { agent, state, .. } => {
                    if matches!(
                        state,
                        AgentStateKind::Ready
                            | AgentStateKind::NotReady
                            | AgentStateKind::LoggedOut
                    ) {
                        self.holds.remove(&agent);
                    }
                }
                Action::CallEnded(ref rec) => {
                    // each record was just checked field by field against the ledger
                    let kind = match rec.end {
                        EndReason::Completed(_) => "record: completed",
                        EndReason::Abandoned { .. } => "record: abandoned",
                        EndReason::DroppedAfterAnswer => "record: dropped after answer",
                        EndReason::CallbackCancelled => "record: callback cancelled",
                        EndReason::RefusedQueueFull => "record: refused, line full",
                        EndReason::RefusedNoAgents => "record: refused, nobody in",
                    };
                    *self.reached.entry(kind).or_default() += 1;
                    if rec.hold > Span::ZERO {
                        *self.reached.entry("record: with hold").or_default() += 1;
                    }
                    *self.records.entry(rec.call).or_default() += 1;
                    assert_eq!(self.records[&rec.call], 1, "{} ended twice", rec.call);
                    assert!(e.call_place(rec.call).is_none());
                    if let Some(i) = self.live.iter().position(|c| *c == rec.call) {
                        self.live.swap_remove(i);
                    }
                }
                Action::Transferred {
                    call,
                    to: TransferTarget::Queue(_),
                    ..
                } => {
                    self.directed.remove(&call);
                    *self.reached.entry("transfer to a queue").or_default() += 1;
                }
                Action::Transferred {
                    to: TransferTarget::Agent(_),
                    ..
                } => {
                    *self.reached.entry("transfer to an agent").or_default() += 1;
                }
                Action::Connected { call, .. } => {
                    self.directed.remove(&call);
                }
                _ => {}
            }
        }
        // statistics: counts consistent, KPIs within range
        for q in 0..e.queue_count() {
            let s = e.queue_snapshot(QueueId(q as u32)).unwrap();
            let t = s.total.tally;
            assert_eq!(
                t.offered,
                t.answered + t.abandoned + s.unanswered_in_queue as u64
            );
            assert!(t.answered_within_threshold <= t.answered);
            assert!(t.abandoned_short <= t.abandoned);
            for f in [
                ServiceLevelFormula::ExcludeShortAbandons,
                ServiceLevelFormula::AllCalls,
                ServiceLevelFormula::AnsweredOnly,
                ServiceLevelFormula::AbandonsWithinThresholdMet,
            ] {
                if let Some(v) = kpi::service_level(&t, f) {
                    assert!((0.0..=1.0).contains(&v), "SL {v}");
                }
            }
            if let Some(o) = s.occupancy() {
                assert!((0.0..=1.0).contains(&o), "occupancy {o}");
            }
            assert!(s.total.busy <= s.total.staffed);
            // counters only grow
            let p = self.totals[q];
            let grew = [
                (t.offered, p.offered, "offered"),
                (t.refused, p.refused, "refused"),
                (t.answered, p.answered, "answered"),
                (
                    t.answered_within_threshold,
                    p.answered_within_threshold,
                    "within T",
                ),
                (t.abandoned, p.abandoned, "abandoned"),
                (t.abandoned_short, p.abandoned_short, "short abandons"),
                (t.requeued, p.requeued, "requeued"),
                (t.transferred_out, p.transferred_out, "transferred out"),
                (t.callbacks_accepted, p.callbacks_accepted, "callbacks"),
                (t.handled, p.handled, "handled"),
                (t.wait_of_answered.0, p.wait_of_answered.0, "wait"),
                (t.longest_wait.0, p.longest_wait.0, "longest wait"),
                (t.talk.0, p.talk.0, "talk"),
                (t.hold.0, p.hold.0, "hold"),
                (t.wrap_up.0, p.wrap_up.0, "wrap-up"),
            ];
            for (now, before, what) in grew {
                assert!(
                    now >= before,
                    "queue {q}: {what} went down from {before} to {now}"
                );
            }
            self.totals[q] = t;
        }
        // an agent's not-ready time is all counted under some reason
        for a in 0..e.agent_count() {
            let s = e.agent_snapshot(AgentId(a as u32)).unwrap();
            for t in [&s.total, &s.interval] {
                let by_reason = t
                    .not_ready_by_reason
                    .iter()
                    .fold(Span::ZERO, |sum, (_, d)| sum + d);
                assert_eq!(by_reason, t.time_in_state[AgentStateKind::NotReady.index()]);
            }
        }
        // every call is either live in exactly one place or has exactly one record
        let live = self
            .calls
            .iter()
            .filter(|c| e.call_place(**c).is_some())
            .count();
        assert_eq!(live + self.records.len(), self.arrivals);
        assert_eq!(live as u32, e.live_calls());
    }
}

/// The least each case must reach, out of 1,000–3,000 random inputs (printed with
/// `--nocapture`): a property proves little about what its walk never did. (A
/// reconfiguration is 1 input in 64, so ≥ 15 are expected; 2 keeps a fresh random run
/// from failing by chance.)
const REACHED_AT_LEAST: [(&str, usize); 2] = [("illegal input", 20), ("queue reconfigured", 2)];

/// What only some cases reach (a transfer to an agent needs a ready agent who may take
/// the call while nobody waits for them), and the share of the 48 cases that must reach
/// it (a record is counted by how it ended, each one checked field by field against the
/// ledger). Seen over runs: completed records in 47–48 of 48 cases, abandoned and
/// callback-cancelled in 48, dropped after answer in 41–42, with hold in 22–27; a
/// transfer to a queue in 47–48 of 48 cases, an agent lost while
/// ringing in 47–48, a transfer to an agent in 36–40, a held call offered to its agent
/// in 18–29; the bounds sit 3–4 standard deviations below, so a run with fresh random
/// cases does not fail by chance.
const REACHED_IN_SHARE_OF_CASES: [(&str, f64); 9] = [
    ("record: completed", 0.85),
    ("record: abandoned", 0.9),
    ("record: dropped after answer", 0.65),
    ("record: callback cancelled", 0.9),
    ("record: with hold", 0.25),
    ("transfer to a queue", 0.8),
    ("agent lost while ringing", 0.8),
    ("transfer to an agent", 0.5),
    ("held call offered", 0.15),
];

fn run(ops: &[(u16, Op)], strategies: [u8; 3]) -> BTreeMap<&'static str, usize> {
    let w = walk(ops, strategies);
    eprintln!("reached in {} inputs: {:?}", ops.len(), w.reached);
    for (what, least) in REACHED_AT_LEAST {
        let n = w.reached.get(what).copied().unwrap_or(0);
        assert!(
            n >= least,
            "the walk reached {what} {n} times, fewer than {least}"
        );
    }
    w.reached
}

fn walk(ops: &[(u16, Op)], strategies: [u8; 3]) -> World {
    let mut w = World::new(strategies);
    for (dt_ms, op) in ops {
        let t = w.r.now + Span::from_millis(*dt_ms as u64 * 10);
        // deliver due timers in order, checking after each like any other input
        while let Some((at, id)) = w.r.pop_due(t) {
            w.r.now = at;
            let before = w.snapshot();
            w.r.e
                .handle(at, Input::TimerFired(id))
                .expect("timers are always accepted");
            let acts = w.r.drain();
            w.check(&before, &acts);
        }
        w.r.now = t;
        w.apply(op);
    }
    w
}

#[test]
fn invariants_hold_after_every_step() {
    use proptest::test_runner::{Config, TestRunner};
    let cases = 48;
    let mut runner = TestRunner::new(Config {
        cases,
        max_shrink_iters: 2000,
        ..Config::default()
    });
    let reached = std::sync::Mutex::new(Vec::new());
    let inputs = (
        proptest::collection::vec((0u16..300, op()), 1000..3000),
        any::<[u8; 3]>(),
    );
    let result = runner.run(&inputs, |(ops, strategies)| {
        let r = run(&ops, strategies);
        if let Ok(mut all) = reached.lock() {
            all.push(r);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let all = reached.into_inner().unwrap_or_default();
    for (what, share) in REACHED_IN_SHARE_OF_CASES {
        let hit = all
            .iter()
            .filter(|r| r.get(what).is_some_and(|n| *n > 0))
            .count();
        eprintln!("{what}: reached in {hit} of {} cases", all.len());
        assert!(
            hit as f64 >= share * all.len() as f64,
            "{what} reached in only {hit} of {} cases",
            all.len()
        );
    }
}

/// The generator above must reach every kind of event, or the properties prove little:
/// one long deterministic walk with the same generator, counting what happened.
#[test]
fn the_random_walk_reaches_every_kind_of_event() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let ops: Vec<(u16, Op)> = (0..15_000)
        .map(|_| (0u16..300, op()).new_tree(&mut runner).unwrap().current())
        .collect();
    let mut w = World::new([0, 4, 5]);
    for (dt, o) in &ops {
        let t = w.r.now + Span::from_millis(*dt as u64 * 10);
        while let Some((at, id)) = w.r.pop_due(t) {
            w.r.now = at;
            let before = w.snapshot();
            w.r.e.handle(at, Input::TimerFired(id)).unwrap();
            let acts = w.r.drain();
            w.check(&before, &acts);
        }
        w.r.now = t;
        w.apply(o);
    }
    let log = &w.r.log;
    let count = |f: &dyn Fn(&Action) -> bool| log.iter().filter(|a| f(a)).count();
    let seen = [
        ("offer", count(&|a| matches!(a, Action::Offer { .. }))),
        (
            "connected",
            count(&|a| matches!(a, Action::Connected { .. })),
        ),
        (
            "ring-no-answer",
            count(&|a| {
                matches!(
                    a,
                    Action::OfferCancelled {
                        reason: OfferCancel::NoAnswer,
                        ..
                    }
                )
            }),
        ),
        (
            "reject",
            count(&|a| {
                matches!(
                    a,
                    Action::OfferCancelled {
                        reason: OfferCancel::Rejected,
                        ..
                    }
                )
            }),
        ),
        (
            "agent lost",
            count(&|a| {
                matches!(
                    a,
                    Action::Requeued {
                        reason: RequeueReason::AgentLost,
                        ..
                    }
                )
            }),
        ),
        (
            "caller gone while ringing",
            count(&|a| {
                matches!(
                    a,
                    Action::OfferCancelled {
                        reason: OfferCancel::CallerHungUp,
                        ..
                    }
                )
            }),
        ),
        (
            "transfer to queue",
            count(&|a| {
                matches!(
                    a,
                    Action::Transferred {
                        to: TransferTarget::Queue(_),
                        ..
                    }
                )
            }),
        ),
        (
            "transfer to agent",
            count(&|a| {
                matches!(
                    a,
                    Action::Transferred {
                        to: TransferTarget::Agent(_),
                        ..
                    }
                )
            }),
        ),
        (
            "callback offered",
            count(&|a| matches!(a, Action::OfferCallback { .. })),
        ),
        (
            "callback offer rung",
            count(&|a| matches!(a, Action::Offer { callback: true, .. })),
        ),
        (
            "completed",
            count(
                &|a| matches!(a, Action::CallEnded(r) if matches!(r.end, EndReason::Completed(_))),
            ),
        ),
        (
            "abandoned",
            count(
                &|a| matches!(a, Action::CallEnded(r) if matches!(r.end, EndReason::Abandoned { .. })),
            ),
        ),
        (
            "refused, nobody in",
            count(&|a| matches!(a, Action::CallEnded(r) if r.end == EndReason::RefusedNoAgents)),
        ),
        (
            "refused, full",
            count(&|a| matches!(a, Action::CallEnded(r) if r.end == EndReason::RefusedQueueFull)),
        ),
        (
            "interval closed",
            count(&|a| matches!(a, Action::QueueIntervalClosed(_))),
        ),
    ];
    for (what, n) in seen {
        assert!(n > 0, "the random walk never produced: {what} ({seen:?})");
    }
    // offers to the overflow rings and to preferred agents happened too
    let e = &w.r.e;
    let held_or_overflow = log.iter().any(|a| {
        matches!(a, Action::Offer { agent, queue, .. }
        if *queue == QueueId(0) && !e.qualified(*agent, *queue, Span::ZERO))
    });
    assert!(held_or_overflow, "no call reached an overflow ring");
    eprintln!("{seen:?}");
}

/// Found by a fresh-clone CI run: a caller who hangs up at the very instant they arrived
/// (a later step, the same time) abandoned; the ledger had taken it for a refusal.
#[test]
fn an_abandon_at_the_instant_of_arrival_is_no_refusal() {
    let arrive = Op::Arrive {
        queue: 0,
        priority: 0,
        preferred: None,
    };
    let w = walk(&[(0, arrive), (0, Op::CallerHangUp(0))], [0, 0, 0]);
    assert_eq!(
        w.reached.get("record: abandoned"),
        Some(&1),
        "{:?}",
        w.reached
    );
}
