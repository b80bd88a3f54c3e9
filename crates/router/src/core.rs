//! The router's core task: the only owner of the switchboard. gRPC handlers send it
//! messages ([`CoreMsg`]); it hands each to the switchboard with the time, then carries
//! out what the switchboard asks for ([`Out`]): events to callers' and agents' streams,
//! store work on the blocking pool (which reports back as a message), timers as tokio
//! sleeps. One short method per message kind and per output kind; the wire mapping is
//! in [`crate::convert`].

use crate::alarms::{Alarms, LiveFigures};
use crate::convert::{self, Labels};
use crate::self_service;
use crate::server::EventTx;
use crate::spool::RecordSpool;
use crate::store_watch::StoreState;
use crate::switchboard::{
    AgentEvent, CallNo, CallerEvent, Command, In, Out, OutageEvent, SwitchError, Switchboard,
};
use crate::tokens::Tokens;
use hotline_acd::AgentStateKind;
use hotline_proto::v1 as pb;
use hotline_store::{Millis, NewTicket, Store, TicketChange};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};
use tonic::Status;

/// Work run on the switchboard inside the core task.
pub(crate) type Job = Box<dyn FnOnce(&mut Switchboard, Millis) + Send>;

/// Work run on the alarm rules inside the core task (a supervisor's change, a listing).
pub(crate) type AlarmJob = Box<dyn FnOnce(&mut Alarms) + Send>;

/// The answer to an input.
pub(crate) type Reply = oneshot::Sender<Result<(), SwitchError>>;

/// What the core task is asked to do.
pub(crate) enum CoreMsg {
    /// An input for the switchboard; the answer goes back if asked for.
    Input(In, Option<Reply>),
    /// An agent's command from one session: refused unless that session is the agent's
    /// live one (a superseded or closed session acts no more).
    Command {
        /// The agent.
        agent: String,
        /// The session it came on.
        session: u64,
        /// The call the command means (0: whatever call the agent has).
        call: CallNo,
        /// The switchboard input.
        input: In,
        /// The answer.
        reply: oneshot::Sender<Result<(), Status>>,
    },
    /// A caller's event stream.
    Caller(CallNo, EventTx<pb::CallEvent>),
    /// A telephone listening for call-backs to a number (empty: every number no other
    /// telephone listens on).
    Line {
        /// The line's number for this router.
        line: u64,
        /// The customer's number.
        number: String,
        /// Its event stream.
        tx: EventTx<pb::CallEvent>,
    },
    /// A listening telephone answers (`true`) or hangs up a call that rang it.
    LineAction {
        /// The line.
        line: u64,
        /// The call.
        call: CallNo,
        /// Answer; else hang up.
        answer: bool,
    },
    /// A listening telephone is gone.
    LineClosed(u64),
    /// An agent's new session; an older one is closed ("logged in elsewhere").
    Agent {
        /// The agent.
        agent: String,
        /// The session's number.
        session: u64,
        /// Its event stream.
        tx: EventTx<pb::AgentEvent>,
        /// The words it wants.
        labels: Labels,
    },
    /// A session's connection is gone (stream closed, heartbeats missed, bad input).
    AgentClosed {
        /// The agent.
        agent: String,
        /// The session.
        session: u64,
    },
    /// Pass this event to the agent's live session.
    Notify(String, Box<pb::AgentEvent>),
    /// A supervisor logs an agent out: the call goes back to its queue and the
    /// session is closed.
    ForceLogout(String, Reply),
    /// Run this on the switchboard (queries, queue changes).
    Query(Job),
    /// Run this on the alarm rules.
    Alarms(AlarmJob),
    /// A supervisor's statistics stream (queue filter; empty: all).
    Watch(Vec<String>, EventTx<pb::StatsUpdate>),
    /// Once a second: send watchers what changed.
    Tick,
    /// The area incidents open now (read from the store).
    Incidents(crate::incidents::OpenIncidents),
    /// The store's minutely figures: back-office loads and FCR.
    BackOffice(Vec<pb::BackOfficeLoad>, Vec<pb::FcrFigures>),
    /// Stop: end every call with its record (written before the answer), close every
    /// stream.
    Shutdown(oneshot::Sender<()>),
}

pub(crate) fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

/// An agent's live session.
struct Live {
    session: u64,
    tx: EventTx<pb::AgentEvent>,
    labels: Labels,
}

/// The core task's state around the switchboard.
pub(crate) struct Core {
    sb: Switchboard,
    store: Arc<Store>,
    /// Records the store could not be reached for.
    spool: Arc<RecordSpool>,
    /// The store's state as the watcher last saw it (`store_watch`).
    store_state: watch::Receiver<StoreState>,
    /// Where store work and timers report back.
    tx: mpsc::UnboundedSender<CoreMsg>,
    tokens: Arc<Tokens>,
    names: HashMap<String, String>,
    callers: HashMap<CallNo, EventTx<pb::CallEvent>>,
    /// Telephones listening for call-backs: line → (number, stream).
    lines: std::collections::BTreeMap<u64, (String, EventTx<pb::CallEvent>)>,
    /// Call-backs that rang a line, and which.
    rang: HashMap<CallNo, u64>,
    /// Where retries of call-backs go.
    call_backs: Option<crate::call_backs::CallBacks>,
    agents: HashMap<String, Live>,
    /// Why an agent's session will close when they are logged out (a supervisor).
    closing: HashMap<String, pb::SessionEnd>,
    watchers: Vec<(Vec<String>, EventTx<pb::StatsUpdate>)>,
    dirty_queues: BTreeSet<String>,
    dirty_agents: BTreeSet<String>,
    back_office: Vec<pb::BackOfficeLoad>,
    /// FCR by queue and agent (with the back-office loads, once a minute).
    fcr: Vec<pb::FcrFigures>,
    back_office_fresh: bool,
    last: Millis,
    /// Closed intervals and checkpoints of the one in progress, kept in order.
    intervals: crate::intervals::Intervals,
    /// What `/metrics` counts.
    metrics: Arc<crate::metrics::Metrics>,
    /// The alarm rules and the alarms standing.
    alarms: Alarms,
    /// Fault-surge alarms standing, by (district, 小区).
    area_alarms: BTreeMap<(String, String), pb::AreaAlarm>,
    /// Area alarms raised, grown or cleared since the last stats update.
    area_news: Vec<pb::AreaAlarm>,
    /// The area incidents open now.
    incidents: crate::incidents::OpenIncidents,
    /// They changed since the last stats update.
    incidents_fresh: bool,
    /// Declare an incident when a surge crosses the stricter level, saying this.
    auto_declare: Option<crate::incidents::AutoDeclare>,
}

impl Core {
    pub(crate) fn new(
        sb: Switchboard,
        store: Arc<Store>,
        tx: mpsc::UnboundedSender<CoreMsg>,
        tokens: Arc<Tokens>,
        names: HashMap<String, String>,
        spool: Arc<RecordSpool>,
        store_state: watch::Receiver<StoreState>,
    ) -> Core {
        let intervals = crate::intervals::Intervals::new(store.clone(), None, now_ms());
        let alarms = Alarms::new(crate::alarms::AlarmRules::defaults(sb.queue_names()));
        Core {
            sb,
            store,
            spool,
            store_state,
            tx,
            tokens,
            names,
            callers: HashMap::new(),
            lines: Default::default(),
            rang: HashMap::new(),
            call_backs: None,
            agents: HashMap::new(),
            closing: HashMap::new(),
            watchers: Vec::new(),
            dirty_queues: BTreeSet::new(),
            dirty_agents: BTreeSet::new(),
            back_office: Vec::new(),
            fcr: Vec::new(),
            back_office_fresh: false,
            last: 0,
            intervals,
            metrics: Arc::default(),
            alarms,
            area_alarms: BTreeMap::new(),
            area_news: Vec::new(),
            incidents: Default::default(),
            incidents_fresh: false,
            auto_declare: None,
        }
    }

    /// Declare incidents by the surge rule's stricter level, saying `auto`.
    pub(crate) fn with_auto_declare(mut self, auto: crate::incidents::AutoDeclare) -> Core {
        self.auto_declare = Some(auto);
        self
    }

    /// Raise and clear alarms by these rules.
    pub(crate) fn with_alarms(mut self, rules: crate::alarms::AlarmRules) -> Core {
        self.alarms = Alarms::new(rules);
        self
    }

    /// Keep a checkpoint of the statistics interval in progress every `every` ms.
    pub(crate) fn with_checkpoints(mut self, every: Option<Millis>) -> Core {
        self.intervals.checkpoint_every = every;
        self
    }

    /// Count for `/metrics` into `m`.
    pub(crate) fn with_metrics(mut self, m: Arc<crate::metrics::Metrics>) -> Core {
        self.metrics = m;
        self
    }

    /// Resolved tickets' call-backs come from `c` (and retries go to it).
    pub(crate) fn with_call_backs(mut self, c: crate::call_backs::CallBacks) -> Core {
        self.call_backs = Some(c);
        self
    }

    /// Run until shutdown (or until every sender is gone).
    pub(crate) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<CoreMsg>) {
        while let Some(msg) = rx.recv().await {
            let now = now_ms().max(self.last);
            self.last = now;
            if let CoreMsg::Shutdown(done) = msg {
                self.shutdown(now).await;
                let _ = done.send(());
                return;
            }
            let hung_up = self.on_message(msg, now);
            self.drain(now);
            // a caller who hung up hears nothing more: their stream ends now
            if let Some(call) = hung_up {
                self.callers.remove(&call);
            }
        }
    }

    /// One message; the call whose caller hung up, if any.
    fn on_message(&mut self, msg: CoreMsg, now: Millis) -> Option<CallNo> {
        match msg {
            CoreMsg::Input(input, reply) => return self.on_input(input, reply, now),
            CoreMsg::Command {
                agent,
                session,
                call,
                input,
                reply,
            } => {
                let r = self.on_command(&agent, session, call, input, now);
                let _ = reply.send(r);
            }
            CoreMsg::Caller(call, t) => {
                self.callers.insert(call, t);
            }
            CoreMsg::Line { line, number, tx } => {
                self.lines.insert(line, (number, tx));
            }
            CoreMsg::LineAction { line, call, answer } => {
                return self.on_line_action(line, call, answer, now);
            }
            CoreMsg::LineClosed(line) => {
                self.lines.remove(&line);
                let calls: Vec<CallNo> = self
                    .rang
                    .iter()
                    .filter(|(_, l)| **l == line)
                    .map(|(c, _)| *c)
                    .collect();
                for call in calls {
                    self.rang.remove(&call);
                    let _ = self.sb.handle(now, In::CallerHangUp(call));
                    self.callers.remove(&call);
                }
            }
            CoreMsg::Agent {
                agent,
                session,
                tx,
                labels,
            } => self.on_session(agent, session, tx, labels),
            CoreMsg::AgentClosed { agent, session } => self.on_session_gone(agent, session, now),
            CoreMsg::Notify(agent, ev) => {
                if let Some(live) = self.agents.get(&agent) {
                    live.tx.send(*ev);
                }
            }
            CoreMsg::ForceLogout(agent, reply) => {
                self.closing
                    .insert(agent.clone(), pb::SessionEnd::ForcedLogout);
                let r = self.sb.handle(now, In::AgentGone(agent.clone()));
                if r.is_err() {
                    self.closing.remove(&agent);
                }
                let _ = reply.send(r);
            }
            CoreMsg::Query(f) => f(&mut self.sb, now),
            CoreMsg::Alarms(f) => f(&mut self.alarms),
            CoreMsg::Watch(filter, t) => self.on_watch(filter, t, now),
            CoreMsg::Tick => self.on_tick(now),
            CoreMsg::BackOffice(loads, fcr) => {
                self.back_office = loads;
                self.fcr = fcr;
                self.back_office_fresh = true;
            }
            CoreMsg::Incidents(open) => {
                if open.wire != self.incidents.wire {
                    self.incidents_fresh = true;
                }
                if open.open != self.incidents.open {
                    let _ = self.sb.handle(now, In::Incidents(open.open.clone()));
                }
                self.incidents = open;
            }
            CoreMsg::Shutdown(_) => {} // handled in `run`
        }
        None
    }

    fn on_input(&mut self, input: In, reply: Option<Reply>, now: Millis) -> Option<CallNo> {
        let hung_up = match &input {
            In::CallerHangUp(call) => Some(*call),
            _ => None,
        };
        let r = self.sb.handle(now, input);
        if let Some(reply) = reply {
            let _ = reply.send(r);
        }
        hung_up
    }

    /// A listening telephone answers or hangs up a call-back that rang it; a call that
    /// did not ring this telephone is not its to answer.
    fn on_line_action(
        &mut self,
        line: u64,
        call: CallNo,
        answer: bool,
        now: Millis,
    ) -> Option<CallNo> {
        if self.rang.get(&call) != Some(&line) {
            tracing::debug!(
                line,
                call,
                "a telephone acted on a call that did not ring it"
            );
            return None;
        }
        if answer {
            if let Err(e) = self.sb.handle(now, In::CustomerAnswered(call)) {
                tracing::debug!(call, error = %e, "answer refused");
            }
            None
        } else {
            self.rang.remove(&call);
            let _ = self.sb.handle(now, In::CallerHangUp(call));
            Some(call)
        }
    }

    /// Ring the telephone listening on `to` (or the network's) for a call-back.
    fn ring_customer(&mut self, call: CallNo, from: String, to: String, ticket: u64, now: Millis) {
        let line = self
            .lines
            .iter()
            .rev()
            .find(|(_, (n, tx))| *n == to && !tx.is_closed())
            .or_else(|| {
                self.lines
                    .iter()
                    .rev()
                    .find(|(_, (n, tx))| n.is_empty() && !tx.is_closed())
            })
            .map(|(id, (_, tx))| (*id, tx.clone()));
        // no telephone there: it rings into the void until the ring times out
        if let Some((id, tx)) = line {
            self.rang.insert(call, id);
            self.callers.insert(call, tx);
            self.tell_caller(call, CallerEvent::Ringing { from, to, ticket }, now);
        }
    }

    fn on_command(
        &mut self,
        agent: &str,
        session: u64,
        call: CallNo,
        input: In,
        now: Millis,
    ) -> Result<(), Status> {
        if self.agents.get(agent).is_none_or(|l| l.session != session) {
            return Err(Status::failed_precondition(
                "this session is closed (logged out, or logged in elsewhere); log in again",
            ));
        }
        let about_a_call = matches!(
            &input,
            In::Agent { command, .. } if matches!(
                command,
                Command::Answer
                    | Command::Reject
                    | Command::Hold
                    | Command::Resume
                    | Command::TransferToQueue(_)
                    | Command::TransferToAgent(_)
                    | Command::HangUp
                    | Command::WrapUp(_)
            )
        );
        if call != 0 && about_a_call {
            let current = self.sb.current_call(agent);
            if current != Some(call) {
                return Err(Status::failed_precondition(match current {
                    Some(c) => format!("call {call} is not your call now (yours is {c})"),
                    None => format!("call {call} is not your call now (you have none)"),
                }));
            }
        }
        self.sb.handle(now, input).map_err(convert::switch_status)
    }

    fn on_session(
        &mut self,
        agent: String,
        session: u64,
        tx: EventTx<pb::AgentEvent>,
        labels: Labels,
    ) {
        let new = Live {
            session,
            tx,
            labels,
        };
        if let Some(old) = self.agents.insert(agent, new) {
            old.tx.send(convert::closed(
                pb::SessionEnd::LoggedInElsewhere,
                old.labels,
            ));
        }
    }

    fn on_session_gone(&mut self, agent: String, session: u64, now: Millis) {
        if self
            .agents
            .get(&agent)
            .is_some_and(|l| l.session == session)
        {
            tracing::info!(%agent, session, "agent session closed");
            self.agents.remove(&agent);
            // a ringing or connected call goes back to the head of its queue
            let _ = self.sb.handle(now, In::AgentGone(agent));
        }
    }

    /// The agent is logged out: their session ends and their token with it.
    fn logged_out(&mut self, agent: &str) {
        let why = self
            .closing
            .remove(agent)
            .unwrap_or(pb::SessionEnd::LoggedOut);
        if let Some(live) = self.agents.remove(agent) {
            live.tx.send(convert::closed(why, live.labels));
            self.tokens.revoke_agent(agent, self.last);
        }
    }

    fn snapshot(&self, filter: &[String], now: Millis) -> pb::StatsUpdate {
        let wanted = |q: &String| filter.is_empty() || filter.contains(q);
        let advice =
            crate::staffing::floor_advice(&self.sb, now, crate::supervisor::SERVICE_LEVEL_TARGET);
        pb::StatsUpdate {
            at: convert::ts(now),
            queues: self
                .sb
                .queue_names()
                .iter()
                .filter(|q| wanted(q))
                .filter_map(|q| crate::supervisor::queue_stats(&self.sb, q, &advice))
                .collect(),
            agents: self
                .sb
                .agent_names()
                .iter()
                .filter_map(|a| crate::supervisor::agent_status(&self.sb, a, &self.names, now))
                .collect(),
            back_office: self.back_office.clone(),
            store: Some(convert::store_state(&self.store_state.borrow())),
            fcr: self.fcr.clone(),
            alarms: self
                .alarms
                .standing()
                .iter()
                .filter(|a| wanted(&a.queue))
                .map(convert::alarm)
                .collect(),
            area_alarms: self.area_alarms.values().cloned().collect(),
            incidents: Some(pb::IncidentList {
                incidents: self.incidents.wire.clone(),
            }),
        }
    }

    /// Judge every queue's live figures by the alarm rules; what was raised or cleared
    /// is kept in the history and returned for the wallboards.
    fn judge_alarms(&mut self, now: Millis) -> Vec<pb::Alarm> {
        let e = self.sb.engine();
        let mut changed = Vec::new();
        for name in self.sb.queue_names() {
            let Some(snap) = self
                .sb
                .queue_id(name)
                .and_then(|q| e.queue_snapshot(q).ok())
            else {
                continue;
            };
            changed.extend(self.alarms.evaluate(now, name, &LiveFigures::of(&snap)));
        }
        for a in &changed {
            match a.cleared_at {
                None if a.raised_at == now => tracing::warn!(queue = %a.queue,
                    rule = a.kind.code(), value = a.value, threshold = a.threshold,
                    "alarm raised"),
                None => tracing::debug!(queue = %a.queue, rule = a.kind.code(),
                    worst = a.worst, "alarm worse"),
                Some(_) => tracing::info!(queue = %a.queue, rule = a.kind.code(),
                    worst = a.worst, "alarm cleared"),
            }
        }
        self.metrics.alarms(&self.alarms.standing());
        if !changed.is_empty() {
            self.intervals
                .keep(changed.iter().map(|a| a.record()).collect());
        }
        changed.iter().map(convert::alarm).collect()
    }

    fn on_watch(&mut self, filter: Vec<String>, t: EventTx<pb::StatsUpdate>, now: Millis) {
        if t.send(self.snapshot(&filter, now)) {
            self.watchers.push((filter, t));
        }
    }

    fn on_tick(&mut self, now: Millis) {
        self.metrics.streams(self.agents.len(), self.callers.len());
        if self.intervals.checkpoint_due(now) {
            let records = self.sb.checkpoint(now);
            self.intervals.keep(records);
        }
        let alarms = self.judge_alarms(now);
        let store = match self.store_state.has_changed() {
            Ok(true) => Some(convert::store_state(&self.store_state.borrow_and_update())),
            _ => None,
        };
        let area_alarms = std::mem::take(&mut self.area_news);
        let incidents = std::mem::take(&mut self.incidents_fresh).then(|| pb::IncidentList {
            incidents: self.incidents.wire.clone(),
        });
        let changed = !alarms.is_empty()
            || !area_alarms.is_empty()
            || incidents.is_some()
            || !self.dirty_queues.is_empty()
            || !self.dirty_agents.is_empty()
            || self.back_office_fresh
            || store.is_some();
        if !self.watchers.is_empty() && changed {
            let advice = crate::staffing::floor_advice(
                &self.sb,
                now,
                crate::supervisor::SERVICE_LEVEL_TARGET,
            );
            let queues: Vec<pb::QueueStats> = self
                .dirty_queues
                .iter()
                .filter_map(|q| crate::supervisor::queue_stats(&self.sb, q, &advice))
                .collect();
            let agents: Vec<pb::AgentStatus> = self
                .dirty_agents
                .iter()
                .filter_map(|a| crate::supervisor::agent_status(&self.sb, a, &self.names, now))
                .collect();
            let (back_office, fcr) = if self.back_office_fresh {
                (self.back_office.clone(), self.fcr.clone())
            } else {
                (vec![], vec![])
            };
            self.watchers.retain(|(filter, t)| {
                t.send(pb::StatsUpdate {
                    at: convert::ts(now),
                    queues: queues
                        .iter()
                        .filter(|q| filter.is_empty() || filter.contains(&q.queue))
                        .cloned()
                        .collect(),
                    agents: agents.clone(),
                    back_office: back_office.clone(),
                    store: store.clone(),
                    fcr: fcr.clone(),
                    alarms: alarms
                        .iter()
                        .filter(|a| filter.is_empty() || filter.contains(&a.queue))
                        .cloned()
                        .collect(),
                    area_alarms: area_alarms.clone(),
                    incidents: incidents.clone(),
                })
            });
        }
        self.dirty_queues.clear();
        self.dirty_agents.clear();
        self.back_office_fresh = false;
    }

    /// Everything the switchboard asked for.
    fn drain(&mut self, now: Millis) {
        while let Some(out) = self.sb.poll() {
            match out {
                Out::Caller(call, ev) => self.tell_caller(call, ev, now),
                Out::Agent(agent, ev) => self.tell_agent(agent, ev, now),
                Out::SelfService {
                    call,
                    service,
                    input,
                    customer,
                    lang,
                } => {
                    let (store, tx) = (self.store.clone(), self.tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let outcome = self_service::run(
                            &store,
                            service,
                            &input,
                            customer.as_ref(),
                            lang,
                            now_ms(),
                        );
                        let _ = tx.send(CoreMsg::Input(In::ServiceDone { call, outcome }, None));
                    });
                }
                Out::TicketWork {
                    agent,
                    command_id,
                    new,
                    changes,
                    call_back,
                } => {
                    let (store, tx) = (self.store.clone(), self.tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let work = WrapUpWork {
                            agent,
                            command_id,
                            new,
                            changes,
                            call_back,
                        };
                        ticket_work(&store, &tx, work)
                    });
                }
                Out::RingCustomer {
                    call,
                    from,
                    to,
                    ticket,
                } => self.ring_customer(call, from, to, ticket, now),
                Out::CallBackLater { ticket, at } => {
                    if let Some(c) = &self.call_backs {
                        c.later(ticket, at);
                    }
                }
                Out::Record(i) => {
                    self.metrics.call_ended(&i);
                    let (store, spool) = (self.store.clone(), self.spool.clone());
                    let metrics = self.metrics.clone();
                    tokio::task::spawn_blocking(move || write_record(&store, &spool, &metrics, i));
                }
                Out::Interval(r) => self.intervals.keep(vec![r]),
                Out::StartTimer { key, at } => {
                    let tx = self.tx.clone();
                    let wait = at.saturating_sub(now_ms());
                    tokio::spawn(async move {
                        tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                        let _ = tx.send(CoreMsg::Input(In::Timer(key), None));
                    });
                }
                Out::QueueChanged(q) => {
                    self.dirty_queues.insert(q);
                }
                Out::Area(e) => self.on_area(e),
            }
        }
    }

    /// The watch on areas raised, grew or cleared an alarm: keep it standing (or not),
    /// and tell the wallboards with the next update.
    fn on_area(&mut self, e: OutageEvent) {
        let window = self.sb.area_window().unwrap_or_default();
        let mut a = convert::area_alarm(&e, window);
        let key = (a.district.clone(), a.area.clone());
        match &e {
            OutageEvent::Cleared { .. } => {
                if let Some(mut was) = self.area_alarms.remove(&key) {
                    (was.cleared_at, was.peak) = (a.cleared_at, a.peak);
                    a = was;
                }
                tracing::info!(district = %a.district, area = %a.area, peak = a.peak,
                    "fault surge over: area alarm cleared");
            }
            OutageEvent::Declare(surge) => {
                if let Some(auto) = &self.auto_declare {
                    crate::incidents::declare_for(surge, auto, self.store.clone(), self.tx.clone());
                }
                self.area_alarms.insert(key, a.clone());
            }
            _ => {
                if matches!(e, OutageEvent::Raised(_)) {
                    tracing::warn!(district = %a.district, area = %a.area, count = a.count,
                        expected = a.expected, chance = a.chance, "fault surge: area alarm raised");
                }
                self.area_alarms.insert(key, a.clone());
            }
        }
        let raised = matches!(e, OutageEvent::Raised(_)).then_some(a.district.as_str());
        self.metrics.area_alarms(raised, self.area_alarms.len());
        self.area_news.push(a);
    }

    fn tell_caller(&mut self, call: CallNo, ev: CallerEvent, now: Millis) {
        let ended = matches!(ev, CallerEvent::Ended(_) | CallerEvent::RangOut);
        if ended {
            self.rang.remove(&call);
        }
        if let Some(t) = self.callers.get(&call) {
            t.send(convert::caller_event(call, ev, now));
        }
        if ended {
            self.callers.remove(&call); // ends the caller's stream
        }
    }

    fn tell_agent(&mut self, agent: String, ev: AgentEvent, now: Millis) {
        let logged_out = matches!(
            ev,
            AgentEvent::State {
                state: AgentStateKind::LoggedOut,
                ..
            }
        );
        if matches!(ev, AgentEvent::State { .. }) {
            self.dirty_agents.insert(agent.clone());
        }
        if let Some(live) = self.agents.get(&agent) {
            live.tx.send(convert::agent_event(
                ev,
                now,
                live.labels,
                self.store.catalog(),
            ));
        }
        if logged_out {
            self.logged_out(&agent);
        }
    }

    /// End every call with its record (written before this returns), close every
    /// stream.
    async fn shutdown(&mut self, now: Millis) {
        tracing::info!(
            calls = self.sb.live_calls(),
            "shutting down: calls in progress end as dropped"
        );
        self.sb.shutdown(now);
        while let Some(out) = self.sb.poll() {
            match out {
                Out::Record(i) => {
                    self.metrics.call_ended(&i);
                    let (store, spool) = (self.store.clone(), self.spool.clone());
                    let metrics = self.metrics.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        write_record(&store, &spool, &metrics, i)
                    })
                    .await;
                }
                Out::Caller(call, ev) => {
                    if let Some(t) = self.callers.get(&call) {
                        t.send(convert::caller_event(call, ev, now));
                    }
                }
                Out::Interval(r) => self.intervals.keep_now(vec![r]).await,
                _ => {}
            }
        }
        let standing = self.alarms.stopped(now);
        if !standing.is_empty() {
            self.intervals.keep_now(standing).await;
        }
        for (agent, live) in self.agents.drain() {
            // the token stays: the desktop resumes with it when the router is back
            tracing::debug!(%agent, "session closed by the stop");
            live.tx.send(convert::closed(
                pb::SessionEnd::RouterShuttingDown,
                live.labels,
            ));
        }
        for (_, t) in self.callers.drain() {
            t.end(Status::unavailable("the router is shutting down"));
        }
        for (_, t) in self.watchers.drain(..) {
            t.end(Status::unavailable("the router is shutting down"));
        }
    }
}

/// A wrap-up's store work.
struct WrapUpWork {
    agent: String,
    command_id: u64,
    new: Vec<NewTicket>,
    changes: Vec<(u64, TicketChange)>,
    call_back: Option<hotline_store::CallBackRecord>,
}

/// A wrap-up's tickets, all or none, then its call-back's outcome on its ticket; then the
/// answer to the wrap-up command (its id), and the switchboard told whether the wrap-up
/// may end.
fn ticket_work(store: &Store, tx: &mpsc::UnboundedSender<CoreMsg>, work: WrapUpWork) {
    use pb::agent_event::Event as E;
    let now = now_ms();
    let WrapUpWork {
        agent,
        command_id,
        new,
        changes,
        call_back,
    } = work;
    let result = store.wrap_up(new, changes, call_back, &agent, now);
    let written = result.is_ok();
    let (opened, answer) = match result {
        Ok(written) => (written.opened, E::Done(command_id)),
        Err(e) => {
            let s = convert::store_status(e);
            let message = format!(
                "the wrap-up was not done (no ticket was written): {}; you are still in wrap-up",
                s.message()
            );
            (
                vec![],
                convert::command_error(command_id, s.code(), message),
            )
        }
    };
    if !opened.is_empty() {
        let list = pb::TicketList {
            tickets: opened.iter().map(|t| convert::ticket(t, now)).collect(),
        };
        let ev = pb::AgentEvent {
            event: Some(E::TicketsCreated(list)),
        };
        let _ = tx.send(CoreMsg::Notify(agent.clone(), Box::new(ev)));
    }
    let opened = opened.iter().map(|t| t.id).collect();
    let done = In::TicketsDone {
        agent: agent.clone(),
        written,
        opened,
    };
    let _ = tx.send(CoreMsg::Input(done, None));
    let ev = pb::AgentEvent {
        event: Some(answer),
    };
    let _ = tx.send(CoreMsg::Notify(agent, Box::new(ev)));
}

/// Pauses before each retry of a record write.
pub(crate) const RECORD_RETRIES: [u64; 3] = [100, 400, 1600];

/// Write a call's record (once per call, so a retry never doubles it). A failure is
/// retried; a record the store cannot be reached for waits in the spool until it can, one
/// it refuses for its content is set aside as a dead letter (`hotline store check`
/// reports it). None is dropped while the spool's disk takes it.
pub(crate) fn write_record(
    store: &Store,
    spool: &RecordSpool,
    metrics: &crate::metrics::Metrics,
    i: hotline_store::Interaction,
) {
    use hotline_store::StoreError;
    let call = i.call_id;
    let mut last = None;
    for pause in std::iter::once(0).chain(RECORD_RETRIES) {
        std::thread::sleep(std::time::Duration::from_millis(pause));
        let started = std::time::Instant::now();
        match store.record_call(i.clone()) {
            Ok(_) => {
                metrics.record_written(started.elapsed().as_secs_f64());
                return;
            }
            // bad data does not get better by waiting
            Err(e @ StoreError::Invalid { .. }) => {
                last = Some(e);
                break;
            }
            Err(e) => {
                tracing::warn!(call, error = %e, "interaction record not written; retrying");
                last = Some(e);
            }
        }
    }
    if !matches!(last, Some(StoreError::Unavailable(_))) {
        let error = last.map(|e| e.to_string()).unwrap_or_default();
        tracing::error!(call, %error, "interaction record set aside as a dead letter");
        let letter = crate::spool::dead_letter(now_ms(), error, i.to_json_line());
        match store.put_dead_letter(letter) {
            Ok(()) => return,
            Err(e) => tracing::error!(call, error = %e, "the dead letter could not be written"),
        }
    }
    match spool.push(&i) {
        Ok(()) => tracing::warn!(
            call,
            waiting = spool.waiting(),
            "the store cannot be reached: the record waits in the spool"
        ),
        Err(e) => {
            tracing::error!(call, error = %e, "interaction record lost: the spool failed too")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::EventStream;
    use crate::switchboard::{AgentSetup, QueueSetup};
    use hotline_acd::{AgentProfile, QueueConfig, SkillId};
    use hotline_store::Catalog;

    const QUEUES: [&str; 5] = [
        "inquiry",
        "fault",
        "complaint",
        "new-service",
        "green-channel",
    ];

    fn core() -> (Core, watch::Sender<StoreState>) {
        let flow =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/ivr/1000.toml");
        let flow = Arc::new(hotline_ivr::Flow::load(&flow, &QUEUES).unwrap());
        let queues = QUEUES
            .iter()
            .enumerate()
            .map(|(i, n)| QueueSetup {
                name: n.to_string(),
                config: QueueConfig {
                    name: n.to_string(),
                    skill: SkillId(i as u16),
                    ..QueueConfig::default()
                },
            })
            .collect();
        let agents = vec![AgentSetup {
            id: "1001".into(),
            profile: AgentProfile {
                skills: vec![(SkillId(0), 5)],
                groups: vec![],
            },
        }];
        let sb = Switchboard::new(flow, queues, agents, 0).unwrap();
        let store = Arc::new(Store::temporary(Catalog::builtin()).unwrap());
        let tokens = Arc::new(Tokens::load(store.clone(), 3_600_000, 0).unwrap());
        let (tx, _rx) = mpsc::unbounded_channel();
        let spool = Arc::new(RecordSpool::open(None).unwrap());
        let (state_tx, state) = watch::channel(StoreState::default());
        let core = Core::new(sb, store, tx, tokens, HashMap::new(), spool, state);
        (core, state_tx)
    }

    /// A wallboard gets a snapshot, then at each tick only what changed since the last
    /// one — and nothing at all when nothing did.
    #[test]
    fn the_wallboard_hears_only_of_what_changed() {
        let (mut c, store_state) = core();
        let (tx, mut board) = EventStream::channel();
        c.on_watch(vec![], tx, 1_000);
        let snapshot = board.try_next().expect("a snapshot at once");
        assert_eq!(snapshot.queues.len(), 5);
        assert_eq!(snapshot.agents.len(), 1);
        assert_eq!(snapshot.store.map(|s| s.degraded), Some(false));

        c.on_tick(2_000);
        assert!(board.try_next().is_none(), "nothing changed, nothing sent");

        c.dirty_agents.insert("1001".into());
        c.on_tick(3_000);
        let u = board.try_next().expect("an agent changed");
        assert_eq!(
            (u.queues.len(), u.agents.len(), u.back_office.len()),
            (0, 1, 0)
        );
        assert!(board.try_next().is_none());

        c.dirty_queues.insert("fault".into());
        c.on_tick(4_000);
        let u = board.try_next().expect("a queue changed");
        assert_eq!((u.queues.len(), u.agents.len()), (1, 0));
        assert_eq!(u.queues[0].queue, "fault");

        c.back_office = vec![pb::BackOfficeLoad {
            group: "repair-crew".into(),
            open: 3,
            overdue: 1,
            ..Default::default()
        }];
        c.back_office_fresh = true;
        c.on_tick(5_000);
        let u = board.try_next().expect("the back office's load changed");
        assert_eq!(
            (u.queues.len(), u.agents.len(), u.back_office.len()),
            (0, 0, 1)
        );

        c.on_tick(6_000);
        assert!(board.try_next().is_none(), "and then nothing again");

        store_state.send_replace(StoreState {
            health: hotline_store::Health::Degraded {
                since: 6_500,
                reason: "the PostgreSQL database hotline on db1:5432: connection refused".into(),
            },
            waiting: 2,
        });
        c.on_tick(7_000);
        let u = board.try_next().expect("the store went away");
        assert_eq!((u.queues.len(), u.agents.len()), (0, 0));
        let store = u.store.expect("the store's state");
        assert!(store.degraded);
        assert_eq!(store.records_waiting, 2);
        assert!(store.reason.contains("connection refused"));
        assert_eq!(store.since.map(|t| t.seconds), Some(6));
        c.on_tick(8_000);
        assert!(board.try_next().is_none(), "told once");
    }
}
