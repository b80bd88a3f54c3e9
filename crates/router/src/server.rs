//! The gRPC services around the core task (`crate::core`, the only owner of the
//! switchboard): `AgentService` (login, the agent's session: commands in with their
//! session and call, events out until a final one), `CallerService` (the telephone
//! side), and the serving itself (health, reflection v1 and v1alpha, TLS and mTLS,
//! HTTP/2 keepalive, a short grace after a stop). `CrmService` and `SupervisorService`
//! are in `crm.rs` and `supervisor.rs`.

use crate::convert::{self, Labels};
use crate::core::{Core, CoreMsg, Job, now_ms};
use crate::spool::RecordSpool;
use crate::store_watch::{self, StoreState};
use crate::switchboard::{AgentSetup, CallNo, Command, In, QueueSetup, SwitchError, Switchboard};
use crate::tokens::{Refused, Tokens, Who};
use hotline_acd::{AgentProfile, SkillId};
use hotline_ivr::Flow;
use hotline_proto::v1 as pb;
use hotline_proto::v1::agent_service_server::{AgentService, AgentServiceServer};
use hotline_proto::v1::caller_service_server::{CallerService, CallerServiceServer};
use hotline_proto::v1::crm_service_server::CrmServiceServer;
use hotline_proto::v1::report_service_server::ReportServiceServer;
use hotline_proto::v1::supervisor_service_server::SupervisorServiceServer;
use hotline_store::{Millis, Role, Store};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, oneshot, watch};
use tonic::{Request, Response, Status, Streaming};

/// The last event of a stream: after it the stream ends.
pub(crate) trait Final {
    /// This event ends its stream.
    fn is_final(&self) -> bool;
}

impl Final for pb::AgentEvent {
    fn is_final(&self) -> bool {
        matches!(self.event, Some(pb::agent_event::Event::Closed(_)))
    }
}

impl Final for pb::CallEvent {
    fn is_final(&self) -> bool {
        matches!(self.event, Some(pb::call_event::Event::Ended(_)))
    }
}

impl Final for pb::TicketUpdate {
    fn is_final(&self) -> bool {
        false
    }
}

impl Final for pb::StatsUpdate {
    fn is_final(&self) -> bool {
        false
    }
}

/// Where the router puts events for one client stream. Events wait boxed: the channel
/// allocates its slots 32 at a time, and 32 unboxed agent events (584 bytes each, the
/// offer's screen pop inline) would cost every idle agent session ~19 KB.
pub(crate) struct EventTx<T>(mpsc::UnboundedSender<Result<Box<T>, Status>>);

impl<T> Clone for EventTx<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> EventTx<T> {
    /// Queue an event; false when the client's stream is gone.
    pub(crate) fn send(&self, ev: T) -> bool {
        self.0.send(Ok(Box::new(ev))).is_ok()
    }

    /// The stream's reader is gone.
    pub(crate) fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    /// End the stream with this status.
    pub(crate) fn end(&self, status: Status) {
        let _ = self.0.send(Err(status));
    }

    /// The client's stream is gone.
    pub(crate) async fn closed(&self) {
        self.0.closed().await
    }
}

/// The stream tonic sends to a client: the events of an [`EventTx`], in order, until a
/// final event or an error status.
pub struct EventStream<T> {
    rx: mpsc::UnboundedReceiver<Result<Box<T>, Status>>,
    ended: bool,
    /// A final event ends the stream (not on a listening telephone, whose calls end one
    /// after another on one stream).
    ends_on_final: bool,
}

impl<T> EventStream<T> {
    pub(crate) fn channel() -> (EventTx<T>, Self) {
        let (tx, rx) = mpsc::unbounded_channel();
        let stream = Self {
            rx,
            ended: false,
            ends_on_final: true,
        };
        (EventTx(tx), stream)
    }

    /// A channel whose stream lasts past final events (until its sender is gone or an
    /// error status).
    pub(crate) fn lasting() -> (EventTx<T>, Self) {
        let (tx, mut stream) = Self::channel();
        stream.ends_on_final = false;
        (tx, stream)
    }

    /// The next event already queued, if any (tests of the core, without a runtime).
    #[cfg(test)]
    pub(crate) fn try_next(&mut self) -> Option<T> {
        self.rx.try_recv().ok().and_then(Result::ok).map(|b| *b)
    }
}

impl<T: Final> tokio_stream::Stream for EventStream<T> {
    type Item = Result<T, Status>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.ended {
            return Poll::Ready(None);
        }
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(e))) => {
                self.ended = self.ends_on_final && e.is_final();
                Poll::Ready(Some(Ok(*e)))
            }
            Poll::Ready(Some(Err(s))) => {
                self.ended = true;
                Poll::Ready(Some(Err(s)))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
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
    /// HTTP/2 keepalive PINGs on every connection: (every, answer within). hyper sends
    /// and answers them, so they cost the core nothing; a connection that does not
    /// answer in time is closed, and the sessions on it end like dropped ones. `None`:
    /// no PINGs.
    pub keepalive: Option<(std::time::Duration, std::time::Duration)>,
    /// How often claimed first-contact resolutions whose window passed are verified
    /// (`Store::settle_fcr`).
    pub fcr_settle_every: std::time::Duration,
    /// The file call records wait in while the store cannot be reached
    /// ([`crate::spool`]); `None`: in memory, lost if the router stops before the store
    /// is back.
    pub spool: Option<std::path::PathBuf>,
    /// How resolved tickets' 回访 call-backs are routed (the queue must be one of
    /// `queues`); `None`: no call-back tasks.
    pub call_backs: Option<crate::switchboard::CallBackPolicy>,
    /// Length of the statistics intervals kept as history (15 minutes; 30 and 60 are
    /// the other usual lengths).
    pub interval: std::time::Duration,
    /// How often the interval in progress is kept as a checkpoint, so that a crash
    /// loses at most this much of it; `None`: only closed intervals are kept.
    pub checkpoint: Option<std::time::Duration>,
    /// The alarm rules on the queues' live figures; `None`: the defaults
    /// ([`crate::alarms::DEFAULT_THRESHOLDS`]) for every queue.
    pub alarms: Option<crate::alarms::AlarmRules>,
    /// The watch on fault surges by area; `None`: areas are not watched.
    pub areas: Option<AreaWatch>,
}

/// How the router watches the areas for fault surges.
#[derive(Debug, Clone)]
pub struct AreaWatch {
    /// The detector's rule.
    pub detector: hotline_outage::DetectorConfig,
    /// The hotline's local time minus UTC, ms (the usual rates are by local hour).
    pub utc_offset_ms: i64,
    /// Days of the store's history the usual rates are learned from (0: none; every
    /// area at the detector's floor).
    pub learn_days: u32,
    /// What an incident the router declares when a surge crosses the detector's
    /// stricter `declare_p` says (only with `declare_p` set).
    pub declare: crate::incidents::AutoDeclare,
}

/// Learn the areas' usual fault rates from the store's last `learn_days` and hand them
/// to the switchboard (in the background: a big store takes a few seconds).
fn learn_areas(store: Arc<Store>, tx: mpsc::UnboundedSender<CoreMsg>, w: AreaWatch) {
    if w.learn_days == 0 {
        return;
    }
    tokio::task::spawn_blocking(move || {
        let to = now_ms();
        let from = to.saturating_sub(Millis::from(w.learn_days) * 86_400_000);
        let period = hotline_report::Period::new(from, to);
        let calls = period.and_then(|p| hotline_report::fault_calls(&store, p));
        match calls {
            Ok(calls) => {
                let n = calls.len();
                let baseline = hotline_outage::Baseline::learn(
                    w.utc_offset_ms,
                    from,
                    to,
                    calls
                        .into_iter()
                        .map(|(d, a, at)| (hotline_outage::Area::new(&d, &a), at)),
                );
                tracing::info!(
                    fault_calls = n,
                    areas = baseline.areas(),
                    days = w.learn_days,
                    "areas' usual fault rates learned"
                );
                let _ = tx.send(CoreMsg::Input(In::AreaBaseline(Box::new(baseline)), None));
            }
            Err(e) => tracing::warn!(error = %e,
                "the areas' usual fault rates could not be learned: every area is judged at the floor"),
        }
    });
}

/// A certificate chain and its private key, both PEM, for serving over TLS.
#[derive(Clone)]
pub struct Tls {
    /// The server's certificate chain, PEM.
    pub cert_pem: Vec<u8>,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: Vec<u8>,
    /// Ask every client for a certificate signed by this authority (mTLS), PEM; a
    /// client without one cannot connect. None: clients need no certificate.
    pub client_ca_pem: Option<Vec<u8>>,
}

/// The router's default heartbeat: every 250 ms, closed after 750 ms of silence, so a
/// silent agent loses their call to the queue within a second.
pub const HEARTBEAT: (std::time::Duration, std::time::Duration) = (
    std::time::Duration::from_millis(250),
    std::time::Duration::from_millis(750),
);

/// The router's default keepalive: a PING every 500 ms, answered within 500 ms, so a
/// frozen desktop loses its call to the queue within about a second.
pub const KEEPALIVE: (std::time::Duration, std::time::Duration) = (
    std::time::Duration::from_millis(500),
    std::time::Duration::from_millis(500),
);

/// How long a call waits for its screen pop before it goes on without one.
pub const LOOKUP_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// How long a session token lives unless configured: a long shift.
pub const TOKEN_TTL: Millis = 12 * 3_600_000;

/// After a stop was asked for and every call ended, how long the server waits for
/// clients to hang up before it exits anyway.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

struct Shared {
    core: mpsc::UnboundedSender<CoreMsg>,
    store: Arc<Store>,
    tokens: Arc<Tokens>,
    next_call: Arc<AtomicU64>,
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
    keepalive: Option<(std::time::Duration, std::time::Duration)>,
    /// The store's state (`store_watch`), for the health service.
    store_state: watch::Receiver<StoreState>,
    /// What `/metrics` serves.
    metrics: Arc<crate::metrics::Metrics>,
    /// Every ticket the store writes, for worklists and "my tickets".
    tickets: crate::ticket_watch::TicketNews,
}

/// The router's gRPC services (cheap to clone).
#[derive(Clone)]
pub struct Router(Arc<Shared>);

impl Router {
    /// Start the router's core on the current tokio runtime, with the store's agent
    /// accounts as agents.
    pub fn start(store: Arc<Store>, setup: RouterSetup) -> Result<Router, Status> {
        Router::start_with(store, setup, TOKEN_TTL)
    }

    /// As [`Router::start`], with session tokens that live `token_ttl` milliseconds.
    pub fn start_with(
        store: Arc<Store>,
        setup: RouterSetup,
        token_ttl: Millis,
    ) -> Result<Router, Status> {
        let accounts = store.agent_accounts().map_err(convert::store_status)?;
        let agents = agent_setups(&accounts, &setup.skills);
        let interval = hotline_acd::Span(setup.interval.as_micros() as u64);
        let mut sb = Switchboard::with_intervals(
            setup.flow,
            setup.queues.clone(),
            agents,
            now_ms(),
            interval,
        )
        .map_err(convert::switch_status)?;
        if let Some(policy) = setup.call_backs.clone() {
            sb = sb
                .with_call_backs(policy)
                .map_err(|e| Status::invalid_argument(format!("call-backs: {e}")))?;
        }
        // unique across restarts: a thousand numbers per millisecond since the epoch,
        // counted on from the router's start
        let next_call = Arc::new(AtomicU64::new(now_ms().saturating_mul(1000)));
        let names: HashMap<String, String> = accounts
            .iter()
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect();
        let (tx, rx) = mpsc::unbounded_channel();
        let tokens = Arc::new(
            Tokens::load(store.clone(), token_ttl, now_ms()).map_err(convert::store_status)?,
        );
        let spool =
            Arc::new(RecordSpool::open(setup.spool).map_err(|e| {
                Status::failed_precondition(format!("the router cannot start: {e}"))
            })?);
        let (state_tx, store_state) = watch::channel(StoreState::default());
        let tickets = crate::ticket_watch::TicketNews::on(&store);
        store_watch::spawn(store.clone(), spool.clone(), state_tx);
        let metrics = Arc::new(crate::metrics::Metrics::default());
        if let Some(w) = &setup.areas {
            let detector = hotline_outage::Detector::new(
                w.detector.clone(),
                hotline_outage::Baseline::empty(w.utc_offset_ms),
            )
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
            sb.watch_areas(detector, now_ms());
            learn_areas(store.clone(), tx.clone(), w.clone());
        }
        crate::incidents::follow(store.clone(), tx.clone());
        let mut core = Core::new(
            sb,
            store.clone(),
            tx.clone(),
            tokens.clone(),
            names.clone(),
            spool,
            store_state.clone(),
        )
        .with_checkpoints(setup.checkpoint.map(|d| d.as_millis() as Millis))
        .with_metrics(metrics.clone());
        if let Some(rules) = setup.alarms {
            core = core.with_alarms(rules);
        }
        if let Some(w) = &setup.areas {
            core = core.with_auto_declare(w.declare.clone());
        }
        if setup.call_backs.is_some() {
            let c =
                crate::call_backs::CallBacks::start(store.clone(), tx.clone(), next_call.clone());
            core = core.with_call_backs(c);
        }
        tokio::spawn(core.run(rx));
        spawn_tickers(tx.clone(), store.clone(), setup.fcr_settle_every);
        Ok(Router(Arc::new(Shared {
            core: tx,
            store,
            tokens,
            next_call,
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
            keepalive: setup.keepalive,
            store_state,
            tickets,
            metrics,
        })))
    }

    /// Where the core takes its messages.
    pub(crate) fn core(&self) -> mpsc::UnboundedSender<CoreMsg> {
        self.0.core.clone()
    }

    /// The store the router runs on.
    pub(crate) fn store(&self) -> Arc<Store> {
        self.0.store.clone()
    }

    /// What the router counts for `/metrics`.
    pub(crate) fn metrics(&self) -> &crate::metrics::Metrics {
        &self.0.metrics
    }

    /// The store answers, as the store watcher last saw it.
    pub(crate) fn store_up(&self) -> bool {
        self.0.store_state.borrow().up()
    }

    /// Tickets as the store writes them.
    pub(crate) fn ticket_news(&self) -> &crate::ticket_watch::TicketNews {
        &self.0.tickets
    }

    /// The caller's role, from their session token.
    pub(crate) fn role<T>(&self, req: &Request<T>) -> Result<(String, Role), Status> {
        self.who_full(req).map(|w| (w.agent, w.role))
    }

    /// Refuse unless the caller of the RPC has the supervisor or admin role.
    pub(crate) fn supervisor<T>(&self, req: &Request<T>) -> Result<String, Status> {
        let who = self.who_full(req)?;
        match who.role {
            Role::Supervisor | Role::Admin => Ok(who.agent),
            Role::Agent | Role::BackOffice => {
                Err(Status::permission_denied("this needs the supervisor role"))
            }
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

    /// Run `f` on the alarm rules in the core task.
    pub(crate) async fn on_alarms<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut crate::alarms::Alarms) -> T + Send + 'static,
    ) -> Result<T, Status> {
        let (tx, rx) = oneshot::channel();
        let job: crate::core::AlarmJob = Box::new(move |a| {
            let _ = tx.send(f(a));
        });
        self.0
            .core
            .send(CoreMsg::Alarms(job))
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
        self.0.tokens.check(token, now_ms()).map_err(|r| match r {
            Refused::Unknown => Status::unauthenticated(
                "the session token is not known (revoked by a newer login or a logout); log in again",
            ),
            Refused::Expired => Status::unauthenticated("the session token expired; log in again"),
        })
    }

    /// A supervisor logs an agent out: their call goes back to its queue, their
    /// session is closed and their token revoked.
    pub(crate) async fn force_logout(&self, agent: String) -> Result<(), Status> {
        let (tx, rx) = oneshot::channel();
        self.0
            .core
            .send(CoreMsg::ForceLogout(agent, tx))
            .map_err(|_| Status::unavailable("the router is shutting down"))?;
        rx.await
            .map_err(|_| Status::unavailable("the router is shutting down"))?
            .map_err(convert::switch_status)
    }

    /// An agent's command on one session; refused when the session is no longer live.
    async fn command_on(
        &self,
        agent: &str,
        session: u64,
        call: CallNo,
        command: Command,
    ) -> Result<(), Status> {
        let (tx, rx) = oneshot::channel();
        let msg = CoreMsg::Command {
            agent: agent.to_string(),
            session,
            call,
            input: In::Agent {
                agent: agent.to_string(),
                command,
            },
            reply: tx,
        };
        self.0
            .core
            .send(msg)
            .map_err(|_| Status::unavailable("the router is shutting down"))?;
        rx.await
            .map_err(|_| Status::unavailable("the router is shutting down"))?
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
        reporter.set_serving::<ReportServiceServer<Router>>().await;
        let mut store_state = self.0.store_state.clone();
        tokio::spawn(async move {
            loop {
                let status = if store_state.borrow_and_update().up() {
                    tonic_health::ServingStatus::Serving
                } else {
                    tonic_health::ServingStatus::NotServing
                };
                reporter
                    .set_service_status(store_watch::HEALTH_SERVICE, status)
                    .await;
                if store_state.changed().await.is_err() {
                    return;
                }
            }
        });
        // both reflection versions: grpcurl speaks v1, Python's grpcio-reflection and
        // other older tools only v1alpha
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(hotline_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        let reflection_v1alpha = reflection().build_v1alpha()?;
        let reflection = reflection().build_v1()?;
        let mut server = tonic::transport::Server::builder()
            .http2_keepalive_interval(self.0.keepalive.map(|k| k.0))
            .http2_keepalive_timeout(self.0.keepalive.map(|k| k.1));
        if let Some(tls) = tls {
            let mut config = tonic::transport::ServerTlsConfig::new().identity(
                tonic::transport::Identity::from_pem(tls.cert_pem, tls.key_pem),
            );
            if let Some(ca) = tls.client_ca_pem {
                config = config.client_ca_root(tonic::transport::Certificate::from_pem(ca));
            }
            server = server
                .tls_config(config)
                .map_err(|e| format!("the TLS certificate or key is not usable: {e}"))?;
        }
        let limit = hotline_proto::codec::TRANSPORT_LIMIT_BYTES;
        // once the stop has ended every call and closed every stream, clients get a
        // short grace to hang up; then the server stops whatever they do
        let (stopped_tx, stopped_rx) = oneshot::channel::<()>();
        let shutdown = async move {
            shutdown.await;
            let _ = stopped_tx.send(());
        };
        let serving = server
            .add_service(health)
            .add_service(reflection)
            .add_service(reflection_v1alpha)
            .add_service(AgentServiceServer::new(self.clone()).max_decoding_message_size(limit))
            .add_service(CrmServiceServer::new(self.clone()).max_decoding_message_size(limit))
            .add_service(
                SupervisorServiceServer::new(self.clone()).max_decoding_message_size(limit),
            )
            .add_service(ReportServiceServer::new(self.clone()).max_decoding_message_size(limit))
            .add_service(CallerServiceServer::new(self).max_decoding_message_size(limit))
            .serve_with_incoming_shutdown(
                // Nagle's algorithm would hold small frames (an offer, a heartbeat) back
                // until the peer's delayed ACK: tens of milliseconds at low traffic
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
                shutdown,
            );
        let grace = async move {
            if stopped_rx.await.is_ok() {
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            r = serving => r?,
            _ = grace => tracing::warn!("clients still connected after the stop; stopping anyway"),
        }
        Ok(())
    }
}

/// The store's agent accounts as the routing core knows them (skills by the router's
/// skill numbers; skills no queue uses are left out).
fn agent_setups(accounts: &[hotline_store::AgentAccount], skills: &[String]) -> Vec<AgentSetup> {
    let skill = |name: &str| {
        skills
            .iter()
            .position(|s| s == name)
            .map(|i| SkillId(i as u16))
    };
    accounts
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
        .collect()
}

/// The router's clocks: the statistics tick once a second, FCR settlement every
/// `fcr_every`, and the store's figures (back-office ticket counts, FCR by queue and
/// agent) once a minute or every `fcr_every` if that is sooner.
fn spawn_tickers(
    tx: mpsc::UnboundedSender<CoreMsg>,
    store: Arc<Store>,
    fcr_every: std::time::Duration,
) {
    let settling = store.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(fcr_every);
        loop {
            every.tick().await;
            let store = settling.clone();
            match tokio::task::spawn_blocking(move || store.settle_fcr(now_ms())).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(settled = n, "first-contact resolutions verified"),
                Ok(Err(e)) => tracing::warn!(error = %e, "FCR settlement failed; retried later"),
                Err(_) => return, // the runtime is going down
            }
        }
    });
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
    // the store's figures once a minute (as often as FCR is settled, when that is sooner)
    let figures_every = fcr_every.min(std::time::Duration::from_secs(60));
    tokio::spawn(async move {
        let mut every = tokio::time::interval(figures_every);
        loop {
            every.tick().await;
            let store = store.clone();
            let figures = tokio::task::spawn_blocking(move || {
                Ok::<_, hotline_store::StoreError>((
                    back_office_loads(&store)?,
                    fcr_figures(&store)?,
                ))
            });
            let Ok(Ok((loads, fcr))) = figures.await else {
                continue;
            };
            if tx.send(CoreMsg::BackOffice(loads, fcr)).is_err() {
                return;
            }
        }
    });
}

/// FCR per queue and per agent over the contacts of the last two FCR windows (so the
/// older half has been settled).
fn fcr_figures(store: &Store) -> Result<Vec<pb::FcrFigures>, hotline_store::StoreError> {
    let now = now_ms();
    let since = now.saturating_sub(2 * store.fcr_window());
    let t = store.fcr_tally(since, now)?;
    let figures = |queue: &str, agent: &str, c: &hotline_store::FcrCount| pb::FcrFigures {
        queue: queue.into(),
        agent_id: agent.into(),
        handled: c.handled,
        claimed: c.claimed,
        verified: c.verified,
        not_resolved: c.not_resolved,
        since: convert::ts(since),
    };
    Ok(t.by_queue
        .iter()
        .map(|(q, c)| figures(q, "", c))
        .chain(t.by_agent.iter().map(|(a, c)| figures("", a, c)))
        .collect())
}

/// Open, escalated and overdue tickets per back-office group (by code; not yet
/// dispatched ones as "front-office"), with the one overdue the longest.
fn back_office_loads(store: &Store) -> Result<Vec<pb::BackOfficeLoad>, hotline_store::StoreError> {
    use hotline_store::TicketStatus as S;
    let now = now_ms();
    let catalog = store.catalog();
    let mut by: std::collections::BTreeMap<String, pb::BackOfficeLoad> = Default::default();
    for status in [S::New, S::Dispatched, S::InProgress, S::Reopened] {
        for t in store.tickets_by_status(status, usize::MAX)? {
            // a group by its code, whatever name an older ticket carries
            let group = match t.back_office.as_deref() {
                Some(g) => catalog
                    .office(g)
                    .map_or_else(|| g.to_string(), |o| o.code.clone()),
                None => "front-office".into(),
            };
            let load = by
                .entry(group.clone())
                .or_insert_with(|| pb::BackOfficeLoad {
                    group,
                    ..Default::default()
                });
            load.open += 1;
            if t.is_overdue(now) {
                load.overdue += 1;
                let oldest = convert::ms(&load.oldest_overdue_deadline);
                if oldest.is_none_or(|d| t.deadline < d) {
                    load.oldest_overdue_ticket = t.id;
                    load.oldest_overdue_deadline = convert::ts(t.deadline);
                }
            } else if escalated(store, &t, now)? {
                load.due_soon += 1;
            }
        }
    }
    Ok(by.into_values().collect())
}

/// Whether an open ticket is escalated at `now`. The segments' rules agree for most
/// tickets (long before or past the deadline); only where they differ is the customer
/// read for their segment.
fn escalated(
    store: &Store,
    t: &hotline_store::Ticket,
    now: u64,
) -> Result<bool, hotline_store::StoreError> {
    use hotline_store::Segment;
    let rule = |segment| store.catalog().escalated(t.kind, segment, t.deadline, now);
    let (public, key) = (rule(Segment::Public), rule(Segment::KeyAccount));
    if public == key {
        return Ok(public);
    }
    let segment = store
        .customer(t.customer)?
        .map_or(Segment::Public, |c| c.segment);
    Ok(if segment == Segment::KeyAccount {
        key
    } else {
        public
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
        let labels = Labels::of(r.language)?;
        let (store, tokens) = (self.0.store.clone(), self.0.tokens.clone());
        let (id, password) = (r.agent_id.clone(), r.password);
        let _turn = self
            .0
            .password_checks
            .acquire()
            .await
            .map_err(|_| Status::unavailable("the router is shutting down"))?;
        // the password check, then the token kept in the store (one login at a time:
        // the agent's older tokens are revoked)
        let (account, t) = tokio::task::spawn_blocking(move || {
            let account = store.verify_agent(&id, &password)?;
            let who = Who {
                agent: account.id.clone(),
                role: account.role,
                labels,
            };
            let t = tokens.issue(who, now_ms())?;
            Ok::<_, hotline_store::StoreError>((account, t))
        })
        .await
        .map_err(|_| Status::internal("the login check failed"))?
        .map_err(|e| {
            tracing::info!(agent = %r.agent_id, "login refused");
            convert::store_status(e)
        })?;
        tracing::info!(agent = %account.id, "logged in");
        Ok(Response::new(self.welcome(&account, t)))
    }

    type SessionStream = EventStream<pb::AgentEvent>;

    async fn session(
        &self,
        req: Request<Streaming<pb::AgentCommand>>,
    ) -> Result<Response<Self::SessionStream>, Status> {
        let who = self.who_full(&req)?;
        let commands = req.into_inner();
        let (tx, rx) = EventStream::channel();
        let session = self.0.next_session.fetch_add(1, Ordering::Relaxed);
        let agent = who.agent;
        let labels = who.labels;
        let _ = self.0.core.send(CoreMsg::Agent {
            agent: agent.clone(),
            session,
            tx: tx.clone(),
            labels,
        });
        // into routing; an agent still logged in from an earlier session stays as they are
        let _ = self.command_on(&agent, session, 0, Command::Login).await;
        let last_ack = Arc::new(AtomicU64::new(now_ms()));
        if let Some((every, silence)) = self.0.heartbeat {
            let heart = Heartbeat {
                router: self.clone(),
                agent: agent.clone(),
                session,
                tx: tx.clone(),
                last_ack: last_ack.clone(),
                labels,
            };
            tokio::spawn(heart.run(every, silence));
        }
        let me = self.clone();
        tokio::spawn(async move {
            me.read_commands(agent, session, commands, tx, last_ack)
                .await
        });
        Ok(Response::new(rx))
    }
}

/// The router's heartbeats to one session: it must answer, or it is closed like a
/// dropped one.
struct Heartbeat {
    router: Router,
    agent: String,
    session: u64,
    tx: EventTx<pb::AgentEvent>,
    last_ack: Arc<AtomicU64>,
    labels: Labels,
}

impl Heartbeat {
    async fn run(self, every: std::time::Duration, silence: std::time::Duration) {
        use pb::agent_event::Event as E;
        let mut tick = tokio::time::interval(every);
        let mut n = 0u64;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = self.tx.closed() => return, // the session ended
            }
            let quiet = now_ms().saturating_sub(self.last_ack.load(Ordering::Relaxed));
            if quiet > silence.as_millis() as u64 {
                self.tx.send(convert::closed(
                    pb::SessionEnd::HeartbeatsMissed,
                    self.labels,
                ));
                let _ = self.router.0.core.send(CoreMsg::AgentClosed {
                    agent: self.agent,
                    session: self.session,
                });
                return;
            }
            n += 1;
            if !self.tx.send(pb::AgentEvent {
                event: Some(E::Heartbeat(n)),
            }) {
                return;
            }
        }
    }
}

impl Router {
    /// The answer to a good login.
    fn welcome(&self, account: &hotline_store::AgentAccount, token: String) -> pb::LoginResponse {
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
        pb::LoginResponse {
            token,
            name: account.name.clone(),
            role: match account.role {
                Role::Agent => "agent",
                Role::Supervisor => "supervisor",
                Role::Admin => "admin",
                Role::BackOffice => "back-office",
            }
            .into(),
            back_office_groups: if account.role == Role::BackOffice {
                account.groups.clone()
            } else {
                vec![]
            },
            skills: account
                .skills
                .iter()
                .map(|(s, l)| (s.clone(), *l as u32))
                .collect(),
            queues,
        }
    }

    /// A session's commands, until the desktop closes its side, sends what cannot be
    /// read, or the router closes the session.
    async fn read_commands(
        &self,
        agent: String,
        session: u64,
        mut commands: Streaming<pb::AgentCommand>,
        tx: EventTx<pb::AgentEvent>,
        last_ack: Arc<AtomicU64>,
    ) {
        use pb::agent_event::Event as E;
        loop {
            let cmd = tokio::select! {
                m = commands.message() => m,
                _ = tx.closed() => break, // the router closed the session
            };
            let cmd = match cmd {
                Ok(Some(cmd)) => cmd,
                Ok(None) => break,
                Err(s) => {
                    // bad bytes or an oversize message: the stream ends with its status
                    tx.end(convert::stream_status(s));
                    break;
                }
            };
            let id = cmd.command_id;
            if let Some(pb::agent_command::Command::HeartbeatAck(_)) = cmd.command {
                last_ack.store(now_ms(), Ordering::Relaxed);
                continue;
            }
            // a wrap-up with tickets or a call-back's outcome is answered once the store
            // has written them
            let later = matches!(&cmd.command, Some(pb::agent_command::Command::WrapUp(w))
                if !w.new_tickets.is_empty() || !w.ticket_changes.is_empty() || w.call_back.is_some());
            let result = match cmd.command {
                None => Err(Status::invalid_argument("the command is empty")),
                Some(c) => match convert::command_in(c, id) {
                    Ok(c) => self.command_on(&agent, session, cmd.call_id, c).await,
                    Err(s) => Err(s),
                },
            };
            let ev = match result {
                Ok(()) if later => continue,
                Ok(()) => E::Done(id),
                Err(s) => convert::command_error(id, s.code(), s.message().to_string()),
            };
            tx.send(pb::AgentEvent { event: Some(ev) });
        }
        let _ = self.0.core.send(CoreMsg::AgentClosed { agent, session });
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
        let dial = match first.action {
            Some(A::Dial(dial)) => dial,
            Some(A::Listen(l)) => return self.listen(l, actions).await,
            _ => {
                return Err(Status::invalid_argument(
                    "the first message of a call must be `dial` (or `listen`, for a telephone that takes call-backs)",
                ));
            }
        };
        // by the rule the store applies to the call's record, so every call taken has
        // a record the store accepts
        hotline_store::validate::call_number("from", &dial.from)
            .and_then(|()| hotline_store::validate::call_number("to", &dial.to))
            .map_err(convert::store_status)?;
        let (pop, store_unavailable) = self.look_up(&dial.from).await?;
        let call = self.0.next_call.fetch_add(1, Ordering::Relaxed) + 1;
        // numbers are personal data: masked in logs
        tracing::info!(
            call,
            from = %hotline_store::mask::phone(&dial.from),
            known = pop.is_some(),
            "call in"
        );
        let (tx, rx) = EventStream::channel();
        let _ = self.0.core.send(CoreMsg::Caller(call, tx.clone()));
        self.ask(In::Dial {
            call,
            from: dial.from,
            to: dial.to,
            pop: pop.map(Box::new),
            store_unavailable,
        })
        .await
        .map_err(convert::switch_status)?;
        let me = self.clone();
        tokio::spawn(async move { me.read_actions(call, actions, tx).await });
        Ok(Response::new(rx))
    }
}

impl Router {
    /// The screen pop of a calling number, and whether the store could not be reached
    /// for it: then (or when it takes longer than [`LOOKUP_WAIT`]) the call goes on
    /// without one rather than waiting for the store or failing.
    async fn look_up(
        &self,
        from: &str,
    ) -> Result<(Option<hotline_store::ScreenPop>, bool), Status> {
        let (store, from) = (self.0.store.clone(), from.to_string());
        let lookup = tokio::task::spawn_blocking(move || store.screen_pop(&from, 5));
        match tokio::time::timeout(LOOKUP_WAIT, lookup).await {
            Ok(Ok(Ok(pop))) => Ok((pop, false)),
            Ok(Ok(Err(hotline_store::StoreError::Unavailable(why)))) => {
                tracing::warn!(%why, "the customer store cannot be reached: the call goes on without a screen pop");
                Ok((None, true))
            }
            Ok(Ok(Err(e))) => Err(convert::store_status(e)),
            Ok(Err(_)) => Err(Status::internal("the customer lookup failed")),
            Err(_) => {
                tracing::warn!(
                    wait_ms = LOOKUP_WAIT.as_millis() as u64,
                    "the customer store did not answer in time: the call goes on without a screen pop"
                );
                Ok((None, true))
            }
        }
    }

    /// A telephone that takes call-backs: its stream carries each call that rings it;
    /// it answers or hangs up by call id, until it closes.
    async fn listen(
        &self,
        l: pb::Listen,
        mut actions: Streaming<pb::CallerAction>,
    ) -> Result<Response<EventStream<pb::CallEvent>>, Status> {
        use pb::caller_action::Action as A;
        if !l.number.is_empty() {
            hotline_store::validate::call_number("number", &l.number)
                .map_err(convert::store_status)?;
        }
        let line = self.0.next_session.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::info!(
            line,
            number = %hotline_store::mask::phone(&l.number),
            "a telephone listens for call-backs"
        );
        let (tx, rx) = EventStream::lasting();
        let core = self.0.core.clone();
        let _ = core.send(CoreMsg::Line {
            line,
            number: l.number,
            tx: tx.clone(),
        });
        tokio::spawn(async move {
            loop {
                let (call, answer) = match actions.message().await {
                    Ok(Some(pb::CallerAction {
                        action: Some(A::Answer(call)),
                    })) => (call, true),
                    Ok(Some(pb::CallerAction {
                        action: Some(A::EndCall(call)),
                    })) => (call, false),
                    Ok(Some(pb::CallerAction {
                        action: Some(A::HangUp(_)),
                    }))
                    | Ok(None) => break,
                    Ok(Some(_)) => {
                        tx.end(Status::invalid_argument(
                            "a listening telephone answers (`answer`) or hangs up (`end_call`) the calls that ring it; it cannot dial or press keys",
                        ));
                        break;
                    }
                    Err(s) => {
                        tx.end(convert::stream_status(s));
                        break;
                    }
                };
                let _ = core.send(CoreMsg::LineAction { line, call, answer });
            }
            let _ = core.send(CoreMsg::LineClosed(line));
        });
        Ok(Response::new(rx))
    }

    /// A caller's actions until they hang up. What a telephone could not send (bad
    /// bytes, an oversize message, keys that are not DTMF) ends the call's stream with
    /// its status, and the call with it.
    async fn read_actions(
        &self,
        call: CallNo,
        mut actions: Streaming<pb::CallerAction>,
        tx: EventTx<pb::CallEvent>,
    ) {
        use pb::caller_action::Action as A;
        loop {
            let input = match actions.message().await {
                Ok(Some(pb::CallerAction {
                    action: Some(A::Digits(d)),
                })) => match convert::digits_in(&d) {
                    Ok(()) => In::Keys { call, digits: d },
                    Err(s) => {
                        tx.end(s);
                        break;
                    }
                },
                Ok(Some(pb::CallerAction {
                    action: Some(A::AcceptCallback(_)),
                })) => In::AcceptCallback(call),
                Ok(Some(pb::CallerAction {
                    action: Some(A::HangUp(_)),
                }))
                | Ok(None) => break,
                Err(s) => {
                    tx.end(convert::stream_status(s));
                    break;
                }
                Ok(Some(pb::CallerAction { action: None })) => {
                    tx.end(Status::invalid_argument("the caller's action is empty"));
                    break;
                }
                Ok(Some(pb::CallerAction {
                    action: Some(A::Listen(_) | A::Answer(_) | A::EndCall(_)),
                })) => {
                    tx.end(Status::failed_precondition(
                        "this is a call dialled in; `listen`, `answer` and `end_call` are a listening telephone's",
                    ));
                    break;
                }
                Ok(Some(pb::CallerAction {
                    action: Some(A::Dial(_)),
                })) => {
                    tx.end(Status::failed_precondition(
                        "this call is already dialled; a second `dial` needs a new call",
                    ));
                    break;
                }
            };
            let _ = self.ask(input).await;
        }
        let _ = self.ask(In::CallerHangUp(call)).await;
    }
}
