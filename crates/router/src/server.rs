//! The gRPC server around the switchboard: one core task owns the switchboard and is
//! the only one to touch it; gRPC handlers send it inputs and get events back through
//! channels; store work runs on the blocking pool and reports back to the core; timers
//! are tokio sleeps that send the core a message.
//!
//! Served so far: `AgentService` (login with argon2 against the store, tokens, one live
//! session per agent, commands and events) and `CallerService` (the telephone side),
//! with health and reflection.

use crate::convert;
use crate::self_service;
use crate::switchboard::{
    AgentEvent, AgentSetup, CallNo, CallerEvent, Command, In, Out, QueueSetup, SwitchError,
    Switchboard, WrapUp,
};
use hotline_acd::{AgentProfile, AgentStateKind, SkillId};
use hotline_ivr::Flow;
use hotline_proto::v1 as pb;
use hotline_proto::v1::agent_service_server::{AgentService, AgentServiceServer};
use hotline_proto::v1::caller_service_server::{CallerService, CallerServiceServer};
use hotline_proto::v1::crm_service_server::CrmServiceServer;
use hotline_proto::v1::supervisor_service_server::SupervisorServiceServer;
use hotline_store::{Millis, Role, SledStore, Store};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use tonic::{Request, Response, Status, Streaming};

/// Where the router puts events for one client stream. Events wait boxed: the channel
/// allocates its slots 32 at a time, and 32 unboxed agent events (584 bytes each, the
/// offer's screen pop inline) would cost every idle agent session ~19 KB.
pub(crate) type EventTx<T> = mpsc::UnboundedSender<Box<T>>;

/// The stream tonic sends to a client: the events of an [`EventTx`], in order.
pub struct EventStream<T>(mpsc::UnboundedReceiver<Box<T>>);

impl<T> EventStream<T> {
    pub(crate) fn channel() -> (EventTx<T>, Self) {
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, Self(rx))
    }
}

impl<T> tokio_stream::Stream for EventStream<T> {
    type Item = Result<T, Status>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|e| e.map(|e| Ok(*e)))
    }
}

/// Work run on the switchboard inside the core task.
type Job = Box<dyn FnOnce(&mut Switchboard, Millis) + Send>;

enum CoreMsg {
    Input(In, Option<oneshot::Sender<Result<(), SwitchError>>>),
    Caller(CallNo, EventTx<pb::CallEvent>),
    Agent {
        agent: String,
        session: u64,
        tx: EventTx<pb::AgentEvent>,
    },
    AgentClosed {
        agent: String,
        session: u64,
    },
    Notify(String, Box<pb::AgentEvent>),
    /// Run this on the switchboard (queries, queue changes).
    Query(Job),
    /// A supervisor's statistics stream (queue filter; empty: all).
    Watch(Vec<String>, EventTx<pb::StatsUpdate>),
    /// Once a second: send watchers what changed.
    Tick,
    /// Fresh ticket counts by back-office group.
    BackOffice(Vec<pb::BackOfficeLoad>),
    /// Stop: end every call with its record (written before the answer), close every
    /// stream.
    Shutdown(oneshot::Sender<()>),
}

#[derive(Debug, Clone)]
struct Who {
    agent: String,
    role: Role,
}

/// What the router runs: the IVR flow, the queues, and the skill names (a queue's or an
/// agent's skill named here is `SkillId(index)`).
pub struct RouterSetup {
    /// The IVR.
    pub flow: Arc<Flow>,
    /// Queues.
    pub queues: Vec<QueueSetup>,
    /// Skill names in `SkillId` order.
    pub skills: Vec<String>,
    /// Heartbeats to agents' sessions: (every, silence that closes the session). A
    /// session that does not answer is treated like a dropped one: its ringing or
    /// connected call goes back to the head of its queue. `None`: no heartbeats.
    pub heartbeat: Option<(std::time::Duration, std::time::Duration)>,
}

/// A certificate chain and its private key, both PEM, for serving over TLS.
#[derive(Clone)]
pub struct Tls {
    /// The server's certificate chain, PEM.
    pub cert_pem: Vec<u8>,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: Vec<u8>,
}

/// The router's default heartbeat: every 250 ms, closed after 750 ms of silence, so a
/// silent agent loses their call to the queue within a second.
pub const HEARTBEAT: (std::time::Duration, std::time::Duration) = (
    std::time::Duration::from_millis(250),
    std::time::Duration::from_millis(750),
);

struct Shared {
    core: mpsc::UnboundedSender<CoreMsg>,
    store: Arc<SledStore>,
    tokens: Mutex<HashMap<String, Who>>,
    next_call: AtomicU64,
    next_session: AtomicU64,
    /// Password checks running at once. An argon2 check is ~20 ms of a whole core; at a
    /// shift change a thousand of them at once starve the runtime, heartbeats go
    /// unanswered and agents already at work are logged out. Logins wait their turn
    /// instead, leaving a core for calls.
    password_checks: tokio::sync::Semaphore,
    skills: Vec<String>,
    queues: Vec<QueueSetup>,
    names: HashMap<String, String>,
    heartbeat: Option<(std::time::Duration, std::time::Duration)>,
}

/// The router's gRPC services (cheap to clone).
#[derive(Clone)]
pub struct Router(Arc<Shared>);

fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

fn token() -> String {
    use rand_core::RngCore;
    let mut b = [0u8; 24];
    rand_core::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn duration(ms: u64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: (ms / 1000) as i64,
        nanos: ((ms % 1000) * 1_000_000) as i32,
    })
}

fn agent_event(e: pb::agent_event::Event) -> pb::AgentEvent {
    pb::AgentEvent { event: Some(e) }
}

fn state(s: AgentStateKind) -> i32 {
    (match s {
        AgentStateKind::LoggedOut => pb::AgentState::LoggedOut,
        AgentStateKind::NotReady => pb::AgentState::NotReady,
        AgentStateKind::Ready => pb::AgentState::Ready,
        AgentStateKind::Reserved => pb::AgentState::Reserved,
        AgentStateKind::Connected => pb::AgentState::Connected,
        AgentStateKind::AfterCallWork => pb::AgentState::AfterCallWork,
    }) as i32
}

fn reason_label(code: u16) -> &'static str {
    match code {
        0 => "logged in",
        1 => "no answer",
        2 => "rejected a call",
        3 => "set by a supervisor",
        16 => "break",
        17 => "end of shift",
        _ => "not ready",
    }
}

fn to_agent_pb(ev: AgentEvent, now: Millis) -> pb::AgentEvent {
    use pb::agent_event::Event as E;
    agent_event(match ev {
        AgentEvent::Offer {
            call,
            queue,
            callback,
            ring_until,
            caller,
            pop,
            ivr_path,
            reason,
            priority,
        } => E::Offer(pb::Offer {
            call_id: call,
            queue,
            callback,
            ring_until: ring_until.and_then(convert::ts),
            screen_pop: Some(convert::screen_pop(
                &caller,
                pop.as_deref(),
                &ivr_path,
                reason.as_deref(),
                now,
            )),
            priority: priority.into(),
        }),
        AgentEvent::OfferCancelled(why) => E::OfferCancelled(why.into()),
        AgentEvent::Connected(call) => E::Connected(call),
        AgentEvent::ConversationEnded { by_caller, .. } => E::ConversationEnded(
            if by_caller {
                "caller hung up"
            } else {
                "agent hung up"
            }
            .into(),
        ),
        AgentEvent::State { state: s, reason } => E::State(pb::StateChange {
            state: state(s),
            reason: reason.map(|code| pb::NotReadyReason {
                code: code as u32,
                label: reason_label(code).into(),
            }),
            since: convert::ts(now),
            wrap_up_until: None,
        }),
    })
}

fn to_caller_pb(call: CallNo, ev: CallerEvent, now: Millis) -> pb::CallEvent {
    use pb::call_event::Event as E;
    let event = match ev {
        CallerEvent::Say { node, text } => E::Prompt(pb::Prompt { node, text }),
        CallerEvent::Collect { max_digits, until } => E::Collect(pb::CollectDigits {
            max_digits,
            timeout: duration(until.saturating_sub(now)),
        }),
        CallerEvent::Queued {
            queue,
            position,
            wait_seconds,
        } => E::Queued(pb::QueueStatus {
            queue,
            position,
            expected_wait: duration(wait_seconds * 1000),
        }),
        CallerEvent::CallbackOffered => E::CallbackOffered(true),
        CallerEvent::CallbackBooked => E::CallbackBooked(true),
        CallerEvent::Connected(agent) => E::Connected(agent),
        CallerEvent::OnHold(on) => E::OnHold(on),
        CallerEvent::Ended(end) => E::Ended(
            serde_json::to_value(end)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        ),
    };
    pb::CallEvent {
        call_id: call,
        event: Some(event),
    }
}

/// Runs the switchboard; the only owner of it.
async fn core_loop(
    mut sb: Switchboard,
    mut rx: mpsc::UnboundedReceiver<CoreMsg>,
    tx: mpsc::UnboundedSender<CoreMsg>,
    store: Arc<SledStore>,
    names: HashMap<String, String>,
) {
    let mut watchers: Vec<(Vec<String>, EventTx<pb::StatsUpdate>)> = Vec::new();
    let mut dirty_queues: std::collections::BTreeSet<String> = Default::default();
    let mut dirty_agents: std::collections::BTreeSet<String> = Default::default();
    let mut back_office: Vec<pb::BackOfficeLoad> = Vec::new();
    let mut back_office_fresh = false;
    let mut callers: HashMap<CallNo, EventTx<pb::CallEvent>> = HashMap::new();
    let mut agents: HashMap<String, (u64, EventTx<pb::AgentEvent>)> = HashMap::new();
    let mut last = 0;
    while let Some(msg) = rx.recv().await {
        let now = now_ms().max(last);
        last = now;
        // a caller who hung up hears nothing more: their stream ends after this message
        let mut hung_up = None;
        match msg {
            CoreMsg::Input(input, reply) => {
                if let In::CallerHangUp(call) = &input {
                    hung_up = Some(*call);
                }
                let r = sb.handle(now, input);
                if let Some(reply) = reply {
                    let _ = reply.send(r);
                }
            }
            CoreMsg::Caller(call, t) => {
                callers.insert(call, t);
            }
            CoreMsg::Agent {
                agent,
                session,
                tx: t,
            } => {
                if let Some((_, old)) = agents.insert(agent, (session, t)) {
                    let _ = old.send(Box::new(agent_event(pb::agent_event::Event::Closed(
                        pb::SessionClosed {
                            reason: "logged in elsewhere".into(),
                        },
                    ))));
                }
            }
            CoreMsg::AgentClosed { agent, session } => {
                if agents.get(&agent).is_some_and(|(s, _)| *s == session) {
                    tracing::info!(%agent, session, "agent session closed");
                    agents.remove(&agent);
                    // a ringing or connected call goes back to the head of its queue
                    let _ = sb.handle(now, In::AgentGone(agent));
                }
            }
            CoreMsg::Notify(agent, ev) => {
                if let Some((_, t)) = agents.get(&agent) {
                    let _ = t.send(ev);
                }
            }
            CoreMsg::Query(f) => f(&mut sb, now),
            CoreMsg::Watch(filter, t) => {
                let wanted = |q: &String| filter.is_empty() || filter.contains(q);
                let update = pb::StatsUpdate {
                    at: convert::ts(now),
                    queues: sb
                        .queue_names()
                        .iter()
                        .filter(|q| wanted(q))
                        .filter_map(|q| crate::supervisor::queue_stats(&sb, q, now))
                        .collect(),
                    agents: sb
                        .agent_names()
                        .iter()
                        .filter_map(|a| crate::supervisor::agent_status(&sb, a, &names, now))
                        .collect(),
                    back_office: back_office.clone(),
                };
                if t.send(Box::new(update)).is_ok() {
                    watchers.push((filter, t));
                }
            }
            CoreMsg::Shutdown(done) => {
                tracing::info!(
                    calls = sb.live_calls(),
                    "shutting down: calls in progress end as dropped"
                );
                sb.shutdown(now);
                while let Some(out) = sb.poll() {
                    match out {
                        Out::Record(i) => {
                            let store = store.clone();
                            // written before the router reports itself stopped
                            let _ =
                                tokio::task::spawn_blocking(move || store.record_interaction(i))
                                    .await;
                        }
                        Out::Caller(call, ev) => {
                            if let Some(t) = callers.get(&call) {
                                let _ = t.send(Box::new(to_caller_pb(call, ev, now)));
                            }
                        }
                        _ => {}
                    }
                }
                for (_, (_, t)) in agents.drain() {
                    let _ = t.send(Box::new(agent_event(pb::agent_event::Event::Closed(
                        pb::SessionClosed {
                            reason: "router shutting down".into(),
                        },
                    ))));
                }
                callers.clear();
                watchers.clear();
                let _ = store.flush();
                let _ = done.send(());
                return;
            }
            CoreMsg::BackOffice(loads) => {
                back_office = loads;
                back_office_fresh = true;
            }
            CoreMsg::Tick => {
                let changed =
                    !dirty_queues.is_empty() || !dirty_agents.is_empty() || back_office_fresh;
                if !watchers.is_empty() && changed {
                    let queues: Vec<pb::QueueStats> = dirty_queues
                        .iter()
                        .filter_map(|q| crate::supervisor::queue_stats(&sb, q, now))
                        .collect();
                    let agent_list: Vec<pb::AgentStatus> = dirty_agents
                        .iter()
                        .filter_map(|a| crate::supervisor::agent_status(&sb, a, &names, now))
                        .collect();
                    watchers.retain(|(filter, t)| {
                        let update = pb::StatsUpdate {
                            at: convert::ts(now),
                            queues: queues
                                .iter()
                                .filter(|q| filter.is_empty() || filter.contains(&q.queue))
                                .cloned()
                                .collect(),
                            agents: agent_list.clone(),
                            back_office: if back_office_fresh {
                                back_office.clone()
                            } else {
                                vec![]
                            },
                        };
                        t.send(Box::new(update)).is_ok()
                    });
                }
                dirty_queues.clear();
                dirty_agents.clear();
                back_office_fresh = false;
            }
        }
        while let Some(out) = sb.poll() {
            match out {
                Out::Caller(call, ev) => {
                    let ended = matches!(ev, CallerEvent::Ended(_));
                    if let Some(t) = callers.get(&call) {
                        let _ = t.send(Box::new(to_caller_pb(call, ev, now)));
                    }
                    if ended {
                        callers.remove(&call); // ends the caller's stream
                    }
                }
                Out::Agent(agent, ev) => {
                    if matches!(ev, AgentEvent::State { .. }) {
                        dirty_agents.insert(agent.clone());
                    }
                    if let Some((_, t)) = agents.get(&agent) {
                        let _ = t.send(Box::new(to_agent_pb(ev, now)));
                    }
                }
                Out::SelfService {
                    call,
                    service,
                    input,
                    customer,
                    lang,
                } => {
                    let (store, tx) = (store.clone(), tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let outcome = self_service::run(
                            &*store,
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
                    new,
                    changes,
                } => {
                    let (store, tx) = (store.clone(), tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let now = now_ms();
                        let mut opened = Vec::new();
                        let mut failed = Vec::new();
                        for t in new {
                            match store.create_ticket(t, &agent, now) {
                                Ok(t) => opened.push(t),
                                Err(e) => failed.push(e.to_string()),
                            }
                        }
                        for (id, change) in changes {
                            if let Err(e) = store.update_ticket(id, change, &agent, now) {
                                failed.push(format!("ticket {id}: {e}"));
                            }
                        }
                        use pb::agent_event::Event as E;
                        if !opened.is_empty() {
                            let list = pb::TicketList {
                                tickets: opened.iter().map(|t| convert::ticket(t, now)).collect(),
                            };
                            let _ = tx.send(CoreMsg::Notify(
                                agent.clone(),
                                Box::new(agent_event(E::TicketsCreated(list))),
                            ));
                        }
                        for f in failed {
                            let _ = tx.send(CoreMsg::Notify(
                                agent.clone(),
                                Box::new(agent_event(E::Error(pb::CommandError {
                                    command_id: 0,
                                    code: "FAILED_PRECONDITION".into(),
                                    message: format!("wrap-up ticket not done: {f}"),
                                }))),
                            ));
                        }
                        let opened = opened.iter().map(|t| t.id).collect();
                        let _ = tx.send(CoreMsg::Input(In::TicketsDone { agent, opened }, None));
                    });
                }
                Out::Record(i) => {
                    let store = store.clone();
                    tokio::task::spawn_blocking(move || {
                        let call = i.call_id;
                        if let Err(e) = store.record_interaction(i) {
                            tracing::error!(call, error = %e, "interaction record not written");
                        }
                    });
                }
                Out::StartTimer { key, at } => {
                    let tx = tx.clone();
                    let wait = at.saturating_sub(now_ms());
                    tokio::spawn(async move {
                        tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                        let _ = tx.send(CoreMsg::Input(In::Timer(key), None));
                    });
                }
                Out::QueueChanged(q) => {
                    dirty_queues.insert(q);
                }
            }
        }
        if let Some(call) = hung_up {
            callers.remove(&call);
        }
    }
}

impl Router {
    /// Start the router's core on the current tokio runtime, with the store's agent
    /// accounts as agents.
    pub fn start(store: Arc<SledStore>, setup: RouterSetup) -> Result<Router, Status> {
        let accounts = store.agent_accounts().map_err(convert::store_status)?;
        let skill = |name: &str| {
            setup
                .skills
                .iter()
                .position(|s| s == name)
                .map(|i| SkillId(i as u16))
        };
        let agents = accounts
            .iter()
            .map(|a| AgentSetup {
                id: a.id.clone(),
                profile: AgentProfile {
                    skills: a
                        .skills
                        .iter()
                        .filter_map(|(n, l)| skill(n).map(|s| (s, *l)))
                        .collect(),
                    groups: vec![],
                },
            })
            .collect();
        let sb = Switchboard::new(setup.flow, setup.queues.clone(), agents, now_ms())
            .map_err(convert::switch_status)?;
        let names: HashMap<String, String> = accounts
            .iter()
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(core_loop(sb, rx, tx.clone(), store.clone(), names.clone()));
        // statistics to watchers once a second
        let ticker = tx.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                every.tick().await;
                if ticker.send(CoreMsg::Tick).is_err() {
                    return;
                }
            }
        });
        // open and overdue tickets by back-office group, once a minute
        let (loads_tx, loads_store) = (tx.clone(), store.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                let store = loads_store.clone();
                let Ok(Ok(loads)) =
                    tokio::task::spawn_blocking(move || back_office_loads(&store)).await
                else {
                    continue;
                };
                if loads_tx.send(CoreMsg::BackOffice(loads)).is_err() {
                    return;
                }
            }
        });
        Ok(Router(Arc::new(Shared {
            core: tx,
            store,
            tokens: Mutex::new(HashMap::new()),
            next_call: AtomicU64::new(0),
            next_session: AtomicU64::new(0),
            password_checks: tokio::sync::Semaphore::new(
                std::thread::available_parallelism()
                    .map(|n| n.get().saturating_sub(1))
                    .unwrap_or(1)
                    .max(1),
            ),
            skills: setup.skills,
            queues: setup.queues,
            names,
            heartbeat: setup.heartbeat,
        })))
    }

    /// The store the router runs on.
    pub(crate) fn store(&self) -> Arc<SledStore> {
        self.0.store.clone()
    }

    /// Refuse unless the caller of the RPC has the supervisor or admin role.
    pub(crate) fn supervisor<T>(&self, req: &Request<T>) -> Result<String, Status> {
        let who = self.who_full(req)?;
        match who.role {
            Role::Supervisor | Role::Admin => Ok(who.agent),
            Role::Agent => Err(Status::permission_denied("this needs the supervisor role")),
        }
    }

    /// Agents' names by work number.
    pub(crate) fn names(&self) -> HashMap<String, String> {
        self.0.names.clone()
    }

    /// Run `f` on the switchboard in the core task and return its answer.
    pub(crate) async fn query<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Switchboard, Millis) -> T + Send + 'static,
    ) -> Result<T, Status> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |sb, now| {
            let _ = tx.send(f(sb, now));
        });
        self.0
            .core
            .send(CoreMsg::Query(job))
            .map_err(|_| Status::unavailable("the router is shutting down"))?;
        rx.await
            .map_err(|_| Status::unavailable("the router is shutting down"))
    }

    /// An input for the switchboard, its refusal as a status.
    pub(crate) async fn command(&self, input: In) -> Result<(), Status> {
        self.ask(input).await.map_err(convert::switch_status)
    }

    /// An agent's status now.
    pub(crate) async fn status_of(
        &self,
        agent: String,
    ) -> Result<Response<pb::AgentStatus>, Status> {
        let names = self.names();
        let a = agent.clone();
        self.query(move |sb, now| crate::supervisor::agent_status(sb, &a, &names, now))
            .await?
            .map(Response::new)
            .ok_or_else(|| Status::not_found(format!("agent {agent} is not known")))
    }

    /// Register a statistics stream.
    pub(crate) fn watch(
        &self,
        queues: Vec<String>,
    ) -> Result<EventStream<pb::StatsUpdate>, Status> {
        let (tx, rx) = EventStream::channel();
        self.0
            .core
            .send(CoreMsg::Watch(queues, tx))
            .map_err(|_| Status::unavailable("the router is shutting down"))?;
        Ok(rx)
    }

    /// The work number of the logged-in caller of an RPC.
    pub(crate) fn who<T>(&self, req: &Request<T>) -> Result<String, Status> {
        self.who_full(req).map(|w| w.agent)
    }

    fn who_full<T>(&self, req: &Request<T>) -> Result<Who, Status> {
        let token = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                Status::unauthenticated(
                    "log in first, then send the token as `authorization: Bearer <token>`",
                )
            })?;
        self.0
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
            .cloned()
            .ok_or_else(|| {
                Status::unauthenticated("the session token is unknown or expired; log in again")
            })
    }

    async fn ask(&self, input: In) -> Result<(), SwitchError> {
        let (tx, rx) = oneshot::channel();
        if self.0.core.send(CoreMsg::Input(input, Some(tx))).is_err() {
            return Err(SwitchError::UnknownCall(0));
        }
        rx.await.unwrap_or(Err(SwitchError::UnknownCall(0)))
    }

    /// Stop taking calls: end every call with its record, close every stream, flush the
    /// store. Returns once the records are written.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.0.core.send(CoreMsg::Shutdown(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Serve on `listener` until `shutdown` completes, with health and reflection.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.serve_tls(listener, None, shutdown).await
    }

    /// As [`Router::serve`], over TLS (rustls) when `tls` is given: clients must then
    /// connect with `https://` and trust the certificate.
    pub async fn serve_tls(
        self,
        listener: tokio::net::TcpListener,
        tls: Option<Tls>,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let (reporter, health) = tonic_health::server::health_reporter();
        reporter.set_serving::<AgentServiceServer<Router>>().await;
        reporter.set_serving::<CallerServiceServer<Router>>().await;
        reporter.set_serving::<CrmServiceServer<Router>>().await;
        reporter
            .set_serving::<SupervisorServiceServer<Router>>()
            .await;
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(hotline_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let mut server = tonic::transport::Server::builder();
        if let Some(tls) = tls {
            server = server
                .tls_config(tonic::transport::ServerTlsConfig::new().identity(
                    tonic::transport::Identity::from_pem(tls.cert_pem, tls.key_pem),
                ))
                .map_err(|e| format!("the TLS certificate or key is not usable: {e}"))?;
        }
        server
            .add_service(health)
            .add_service(reflection)
            .add_service(AgentServiceServer::new(self.clone()))
            .add_service(CrmServiceServer::new(self.clone()))
            .add_service(SupervisorServiceServer::new(self.clone()))
            .add_service(CallerServiceServer::new(self))
            .serve_with_incoming_shutdown(
                // Nagle's algorithm would hold small frames (an offer, a heartbeat) back
                // until the peer's delayed ACK: tens of milliseconds at low traffic
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
                shutdown,
            )
            .await?;
        Ok(())
    }
}

/// The canonical gRPC name of a status code, as the contract documents it.
fn code_name(c: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match c {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Open and overdue tickets per back-office group (unassigned ones as "front office").
fn back_office_loads(
    store: &SledStore,
) -> Result<Vec<pb::BackOfficeLoad>, hotline_store::StoreError> {
    use hotline_store::TicketStatus as S;
    let now = now_ms();
    let mut by: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for status in [S::New, S::Dispatched, S::InProgress, S::Reopened] {
        for t in store.tickets_by_status(status, usize::MAX)? {
            let e = by
                .entry(
                    t.back_office
                        .clone()
                        .unwrap_or_else(|| "front office".into()),
                )
                .or_default();
            e.0 += 1;
            e.1 += t.is_overdue(now) as u64;
        }
    }
    Ok(by
        .into_iter()
        .map(|(group, (open, overdue))| pb::BackOfficeLoad {
            group,
            open,
            overdue,
        })
        .collect())
}

fn command_of(c: pb::agent_command::Command) -> Result<Command, Status> {
    use pb::agent_command::Command as C;
    Ok(match c {
        C::Ready(_) => Command::Ready,
        C::NotReady(r) => Command::NotReady(r.min(u16::MAX as u32) as u16),
        C::Answer(_) => Command::Answer,
        C::Reject(_) => Command::Reject,
        C::Hold(_) => Command::Hold,
        C::Resume(_) => Command::Resume,
        C::TransferToQueue(q) => Command::TransferToQueue(q),
        C::TransferToAgent(a) => Command::TransferToAgent(a),
        C::HangUp(_) => Command::HangUp,
        C::ExtendWrapUp(d) => Command::ExtendWrapUp(d.seconds.clamp(0, u32::MAX as i64) as u32),
        C::Logout(_) => Command::Logout,
        // answered in the session loop before commands are mapped
        C::HeartbeatAck(_) => {
            return Err(Status::internal(
                "a heartbeat answer reached the command path",
            ));
        }
        C::WrapUp(w) => Command::WrapUp(WrapUp {
            disposition: w.disposition,
            reason: w.reason,
            notes: w.notes,
            new_tickets: w
                .new_tickets
                .into_iter()
                .map(convert::new_ticket)
                .collect::<Result<_, _>>()?,
            ticket_changes: w
                .ticket_changes
                .into_iter()
                .map(|u| Ok((u.id, convert::change_in(u.change)?)))
                .collect::<Result<_, Status>>()?,
            resolved_first_contact: w.resolved_first_contact,
        }),
    })
}

#[tonic::async_trait]
impl AgentService for Router {
    async fn login(
        &self,
        req: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        let r = req.into_inner();
        if r.agent_id.trim().is_empty() {
            return Err(Status::invalid_argument("agent_id is empty"));
        }
        let store = self.0.store.clone();
        let (id, password) = (r.agent_id.clone(), r.password);
        let _turn = self
            .0
            .password_checks
            .acquire()
            .await
            .map_err(|_| Status::unavailable("the router is shutting down"))?;
        let account = tokio::task::spawn_blocking(move || store.verify_agent(&id, &password))
            .await
            .map_err(|_| Status::internal("the login check failed"))?
            .map_err(|e| {
                tracing::info!(agent = %r.agent_id, "login refused");
                convert::store_status(e)
            })?;
        tracing::info!(agent = %account.id, "logged in");
        let t = token();
        self.0
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                t.clone(),
                Who {
                    agent: account.id.clone(),
                    role: account.role,
                },
            );
        let level = |skill: &str| {
            account
                .skills
                .iter()
                .find(|(s, _)| s == skill)
                .map_or(0, |x| x.1)
        };
        let queues = self
            .0
            .queues
            .iter()
            .filter(|q| {
                let name = self
                    .0
                    .skills
                    .get(q.config.skill.0 as usize)
                    .map_or("", String::as_str);
                level(name) >= q.config.min_level
            })
            .map(|q| q.name.clone())
            .collect();
        Ok(Response::new(pb::LoginResponse {
            token: t,
            name: account.name.clone(),
            role: match account.role {
                Role::Agent => "agent",
                Role::Supervisor => "supervisor",
                Role::Admin => "admin",
            }
            .into(),
            skills: account
                .skills
                .iter()
                .map(|(s, l)| (s.clone(), *l as u32))
                .collect(),
            queues,
        }))
    }

    type SessionStream = EventStream<pb::AgentEvent>;

    async fn session(
        &self,
        req: Request<Streaming<pb::AgentCommand>>,
    ) -> Result<Response<Self::SessionStream>, Status> {
        let who = self.who_full(&req)?;
        let mut commands = req.into_inner();
        let (tx, rx) = EventStream::channel();
        let session = self.0.next_session.fetch_add(1, Ordering::Relaxed);
        let agent = who.agent;
        let _ = self.0.core.send(CoreMsg::Agent {
            agent: agent.clone(),
            session,
            tx: tx.clone(),
        });
        // into routing; an agent still logged in from an earlier session stays as they are
        let _ = self
            .ask(In::Agent {
                agent: agent.clone(),
                command: Command::Login,
            })
            .await;
        // heartbeats: the session must answer, or it is closed like a dropped one
        let last_ack = Arc::new(AtomicU64::new(now_ms()));
        if let Some((every, silence)) = self.0.heartbeat {
            let (tx, me, agent, last_ack) =
                (tx.clone(), self.clone(), agent.clone(), last_ack.clone());
            tokio::spawn(async move {
                use pb::agent_event::Event as E;
                let mut tick = tokio::time::interval(every);
                let mut n = 0u64;
                loop {
                    tick.tick().await;
                    if now_ms().saturating_sub(last_ack.load(Ordering::Relaxed))
                        > silence.as_millis() as u64
                    {
                        let _ = tx.send(Box::new(agent_event(E::Closed(pb::SessionClosed {
                            reason: "heartbeats missed".into(),
                        }))));
                        let _ = me.0.core.send(CoreMsg::AgentClosed { agent, session });
                        return;
                    }
                    n += 1;
                    if tx.send(Box::new(agent_event(E::Heartbeat(n)))).is_err() {
                        return; // the session ended
                    }
                }
            });
        }
        let me = self.clone();
        tokio::spawn(async move {
            use pb::agent_event::Event as E;
            while let Ok(Some(cmd)) = commands.message().await {
                let id = cmd.command_id;
                if let Some(pb::agent_command::Command::HeartbeatAck(_)) = cmd.command {
                    last_ack.store(now_ms(), Ordering::Relaxed);
                    continue;
                }
                let result = match cmd.command {
                    None => Err(Status::invalid_argument("the command is empty")),
                    Some(c) => match command_of(c) {
                        Ok(c) => me
                            .ask(In::Agent {
                                agent: agent.clone(),
                                command: c,
                            })
                            .await
                            .map_err(convert::switch_status),
                        Err(s) => Err(s),
                    },
                };
                let ev = match result {
                    Ok(()) => E::Done(id),
                    Err(s) => E::Error(pb::CommandError {
                        command_id: id,
                        code: code_name(s.code()).into(),
                        message: s.message().to_string(),
                    }),
                };
                let _ = tx.send(Box::new(agent_event(ev)));
            }
            let _ = me.0.core.send(CoreMsg::AgentClosed { agent, session });
        });
        Ok(Response::new(rx))
    }
}

#[tonic::async_trait]
impl CallerService for Router {
    type CallStream = EventStream<pb::CallEvent>;

    async fn call(
        &self,
        req: Request<Streaming<pb::CallerAction>>,
    ) -> Result<Response<Self::CallStream>, Status> {
        use pb::caller_action::Action as A;
        let mut actions = req.into_inner();
        let first = actions.message().await?.ok_or_else(|| {
            Status::invalid_argument("the first message of a call must be `dial`")
        })?;
        let Some(A::Dial(dial)) = first.action else {
            return Err(Status::invalid_argument(
                "the first message of a call must be `dial`",
            ));
        };
        if dial.from.trim().is_empty() || dial.to.trim().is_empty() {
            return Err(Status::invalid_argument(
                "dial needs `from` and `to` numbers",
            ));
        }
        let store = self.0.store.clone();
        let from = dial.from.clone();
        let pop = tokio::task::spawn_blocking(move || store.screen_pop(&from, 5))
            .await
            .map_err(|_| Status::internal("the customer lookup failed"))?
            .map_err(convert::store_status)?;
        let call = self.0.next_call.fetch_add(1, Ordering::Relaxed) + 1;
        // numbers are personal data: masked in logs
        tracing::info!(
            call,
            from = %hotline_store::mask::phone(&dial.from),
            known = pop.is_some(),
            "call in"
        );
        let (tx, rx) = EventStream::channel();
        let _ = self.0.core.send(CoreMsg::Caller(call, tx));
        self.ask(In::Dial {
            call,
            from: dial.from,
            to: dial.to,
            pop: pop.map(Box::new),
        })
        .await
        .map_err(convert::switch_status)?;
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                let input = match actions.message().await {
                    Ok(Some(pb::CallerAction {
                        action: Some(A::Digits(d)),
                    })) => In::Keys { call, digits: d },
                    Ok(Some(pb::CallerAction {
                        action: Some(A::AcceptCallback(_)),
                    })) => In::AcceptCallback(call),
                    Ok(Some(pb::CallerAction {
                        action: Some(A::HangUp(_)),
                    }))
                    | Ok(None)
                    | Err(_) => {
                        let _ = me.ask(In::CallerHangUp(call)).await;
                        return;
                    }
                    Ok(Some(_)) => continue, // a second dial, or nothing: ignored
                };
                let _ = me.ask(input).await;
            }
        });
        Ok(Response::new(rx))
    }
}
