//! The desktop's side of the gRPC contract: login with failures in words, the agent's
//! session and the supervisor's statistics as streams that reconnect with back-off, and
//! the supervisor's commands. Everything here is async; the screens never wait on it.

use hotline_proto::v1 as pb;
use hotline_proto::v1::agent_service_client::AgentServiceClient;
use hotline_proto::v1::crm_service_client::CrmServiceClient;
use hotline_proto::v1::supervisor_service_client::SupervisorServiceClient;
use iced::futures::{SinkExt, Stream};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Code, Request};

/// Why a login failed, as the agent is told.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoginError {
    /// Wrong work number or password.
    #[error("wrong work number or password")]
    Wrong,
    /// The router does not answer at that address.
    #[error("the router cannot be reached at {0}")]
    Unreachable(String),
    /// Work number or password left empty.
    #[error("enter a work number and a password")]
    Empty,
    /// Anything else the router said.
    #[error("{0}")]
    Other(String),
}

impl LoginError {
    /// The i18n key of the message, or the router's own words.
    pub fn key(&self) -> &str {
        match self {
            LoginError::Wrong => "login.wrong",
            LoginError::Unreachable(_) => "login.unreachable",
            LoginError::Empty => "login.empty",
            LoginError::Other(s) => s,
        }
    }
}

/// Where and as whom to log in.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct Credentials {
    /// Router URL, e.g. `http://127.0.0.1:50051`.
    pub router: String,
    /// Work number.
    pub agent: String,
    /// Password (kept in memory to log in again when the token is refused).
    pub password: String,
    /// How to reach an https:// router.
    pub tls: hotline_proto::client::ClientTls,
    /// The session token of the last login, shared by every clone: the session, the
    /// statistics stream and each CRM or supervisor click use it, and a reconnect
    /// resumes with it (a router restart keeps tokens), so the password is checked
    /// again only when the router refuses the token.
    pub token: TokenCell,
}

/// The desk's token, shared between clones of its [`Credentials`]; not part of their
/// identity (equal and hashed alike whatever it holds).
#[derive(Debug, Clone, Default)]
pub struct TokenCell(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl TokenCell {
    fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|t| t.clone())
    }

    fn set(&self, token: Option<String>) {
        if let Ok(mut t) = self.0.lock() {
            *t = token;
        }
    }
}

impl PartialEq for TokenCell {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for TokenCell {}

impl std::hash::Hash for TokenCell {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct Welcome {
    /// Bearer token.
    pub token: String,
    /// The agent's name.
    pub name: String,
    /// "agent" or "supervisor".
    pub role: String,
    /// Queues the agent serves.
    pub queues: Vec<String>,
    /// For the back office: the groups whose tickets they work.
    pub back_office_groups: Vec<String>,
}

async fn connect(c: &Credentials) -> Result<Channel, LoginError> {
    hotline_proto::client::endpoint(&c.router, &c.tls)
        .map_err(LoginError::Other)?
        .connect_timeout(Duration::from_secs(3))
        .connect()
        .await
        .map_err(|_| LoginError::Unreachable(c.router.clone()))
}

/// Log in: a token, or why not in words.
pub async fn login(c: Credentials) -> Result<Welcome, LoginError> {
    let (_, w) = log_in(&c).await?;
    c.token.set(Some(w.token.clone()));
    Ok(w)
}

/// A connection and the desk's token: the one it holds, or a new login's.
async fn signed_in(c: &Credentials) -> Result<(Channel, String), LoginError> {
    if let Some(t) = c.token.get() {
        return Ok((connect(c).await?, t));
    }
    let (ch, w) = log_in(c).await?;
    c.token.set(Some(w.token.clone()));
    Ok((ch, w.token))
}

/// Run a call with the desk's token; if the router refuses the token (revoked,
/// expired), log in once more and run it again.
async fn with_token<T, Fut>(
    c: &Credentials,
    call: impl Fn(Channel, String) -> Fut,
) -> Result<T, String>
where
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let (ch, t) = signed_in(c).await.map_err(|e| e.to_string())?;
    match call(ch, t).await {
        Err(s) if s.code() == Code::Unauthenticated => {
            c.token.set(None);
            let (ch, t) = signed_in(c).await.map_err(|e| e.to_string())?;
            call(ch, t).await.map_err(|s| s.message().to_string())
        }
        r => r.map_err(|s| s.message().to_string()),
    }
}

/// Connect once and log in on that connection: the channel for the calls that follow,
/// and the welcome with its token.
async fn log_in(c: &Credentials) -> Result<(Channel, Welcome), LoginError> {
    if c.agent.trim().is_empty() || c.password.is_empty() {
        return Err(LoginError::Empty);
    }
    let ch = connect(c).await?;
    let r = AgentServiceClient::new(ch.clone())
        .login(pb::LoginRequest {
            agent_id: c.agent.trim().into(),
            password: c.password.clone(),
            language: 0,
        })
        .await
        .map_err(|s| match s.code() {
            Code::Unauthenticated => LoginError::Wrong,
            Code::Unavailable => LoginError::Unreachable(c.router.clone()),
            _ => LoginError::Other(s.message().to_string()),
        })?
        .into_inner();
    let welcome = Welcome {
        token: r.token,
        name: r.name,
        role: r.role,
        queues: r.queues,
        back_office_groups: r.back_office_groups,
    };
    Ok((ch, welcome))
}

fn authed<T>(msg: T, token: &str) -> Request<T> {
    let mut r = Request::new(msg);
    if let Ok(v) = format!("Bearer {token}").parse() {
        r.metadata_mut().insert("authorization", v);
    }
    r
}

/// What the session stream brings the agent's screen.
#[derive(Debug, Clone)]
pub enum SessionEvent {
    /// Open: commands go here.
    Open(mpsc::Sender<pb::AgentCommand>),
    /// An event from the router.
    Event(Box<pb::AgentEvent>),
    /// Lost; trying again after a pause (attempt, why).
    Lost(u32, String),
}

/// Back-off before reconnect attempt `n` (1, 2, …): 0.5 s doubling to 10 s.
pub fn backoff(n: u32) -> Duration {
    Duration::from_millis((500u64 << n.saturating_sub(1).min(5)).min(10_000))
}

/// The agent's session for as long as the screen subscribes: log in, open the stream,
/// pass events on; when it drops, say so and open it again with back-off, with the
/// token it holds (a restarted router still knows it; a password check only if the
/// token is refused). Ends only if the router closes the session on purpose.
pub fn session(c: &Credentials) -> impl Stream<Item = SessionEvent> + use<> {
    let c = c.clone();
    iced::stream::channel(64, async move |mut out| {
        let mut attempt = 0u32;
        loop {
            let why = match open(&c, &mut out).await {
                Ok(Closed::OnPurpose) => return,
                Ok(Closed::Dropped(why)) | Err(why) => why,
            };
            attempt += 1;
            if out.send(SessionEvent::Lost(attempt, why)).await.is_err() {
                return; // the screen went away
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    })
}

enum Closed {
    OnPurpose,
    Dropped(String),
}

async fn open(
    c: &Credentials,
    out: &mut iced::futures::channel::mpsc::Sender<SessionEvent>,
) -> Result<Closed, String> {
    // a fresh command channel for each try: a refused token is retried after a login
    let (tx, events) = with_token(c, |ch, token| async move {
        let (tx, rx) = mpsc::channel(64);
        let events = AgentServiceClient::new(ch)
            .session(authed(ReceiverStream::new(rx), &token))
            .await?;
        Ok((tx, events))
    })
    .await?;
    let mut events = events.into_inner();
    out.send(SessionEvent::Open(tx))
        .await
        .map_err(|_| "the screen closed".to_string())?;
    loop {
        match events.message().await {
            Ok(Some(ev)) => {
                // a router going down (or one that missed our heartbeats) is a reason to
                // come back; "logged in elsewhere" or "logged out" is final
                if let Some(pb::agent_event::Event::Closed(c)) = &ev.event
                    && matches!(
                        pb::SessionEnd::try_from(c.code),
                        Ok(pb::SessionEnd::RouterShuttingDown | pb::SessionEnd::HeartbeatsMissed)
                    )
                {
                    return Ok(Closed::Dropped(c.reason.clone()));
                }
                let closed = matches!(ev.event, Some(pb::agent_event::Event::Closed(_)));
                out.send(SessionEvent::Event(Box::new(ev)))
                    .await
                    .map_err(|_| "the screen closed".to_string())?;
                if closed {
                    return Ok(Closed::OnPurpose);
                }
            }
            Ok(None) => return Ok(Closed::Dropped("the router ended the stream".into())),
            Err(s) => return Ok(Closed::Dropped(s.message().to_string())),
        }
    }
}

/// What the statistics stream brings the wallboard.
#[derive(Debug, Clone)]
pub enum StatsEvent {
    /// A snapshot or changes.
    Update(Box<pb::StatsUpdate>),
    /// Lost; trying again (attempt, why).
    Lost(u32, String),
}

/// The supervisor's live statistics, reconnecting with back-off.
pub fn stats(c: &Credentials) -> impl Stream<Item = StatsEvent> + use<> {
    kept_open(
        c,
        |ch, token| async move {
            SupervisorServiceClient::new(ch)
                .watch_stats(authed(pb::WatchStatsRequest { queues: vec![] }, &token))
                .await
        },
        |u| StatsEvent::Update(Box::new(u)),
        StatsEvent::Lost,
    )
}

/// What the tickets stream brings the worklist or "my tickets".
#[derive(Debug, Clone)]
pub enum TicketsEvent {
    /// The whole list, or tickets that changed.
    Update(pb::TicketUpdate),
    /// Lost; trying again (attempt, why).
    Lost(u32, String),
}

/// Which tickets to watch: a back-office group's worklist (its code), or the desk's own.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub enum Watch {
    /// A group's open tickets.
    Group(String),
    /// The tickets the logged-in agent owns (首问负责).
    Mine,
}

/// Tickets live, reconnecting with back-off (each reconnect starts with a whole list).
pub fn tickets(c: &Credentials, of: Watch) -> impl Stream<Item = TicketsEvent> + use<> {
    kept_open(
        c,
        move |ch, token| {
            let of = match &of {
                Watch::Group(g) => pb::watch_tickets_request::Of::BackOffice(g.clone()),
                Watch::Mine => pb::watch_tickets_request::Of::Mine(true),
            };
            async move {
                CrmServiceClient::new(ch)
                    .watch_tickets(authed(pb::WatchTicketsRequest { of: Some(of) }, &token))
                    .await
            }
        },
        TicketsEvent::Update,
        TicketsEvent::Lost,
    )
}

/// A server stream held open for a screen: opened with the desk's token, every message
/// passed on as `event`, and when it ends or fails, `lost` and a new try after a pause.
fn kept_open<M, E, Fut, Open>(
    c: &Credentials,
    open: Open,
    event: fn(M) -> E,
    lost: fn(u32, String) -> E,
) -> impl Stream<Item = E> + use<M, E, Fut, Open>
where
    Open: Fn(Channel, String) -> Fut + Send + 'static,
    M: Send + 'static,
    E: Send + 'static,
    Fut: std::future::Future<Output = Result<tonic::Response<tonic::Streaming<M>>, tonic::Status>>
        + Send,
{
    let c = c.clone();
    iced::stream::channel(64, async move |mut out| {
        let mut attempt = 0u32;
        loop {
            let why = match follow(&c, &open, event, &mut out).await {
                Ok(()) => "the router ended the stream".to_string(),
                Err(e) => e,
            };
            attempt += 1;
            if out.send(lost(attempt, why)).await.is_err() {
                return;
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    })
}

async fn follow<M, E, Fut>(
    c: &Credentials,
    open: &impl Fn(Channel, String) -> Fut,
    event: fn(M) -> E,
    out: &mut iced::futures::channel::mpsc::Sender<E>,
) -> Result<(), String>
where
    Fut: std::future::Future<Output = Result<tonic::Response<tonic::Streaming<M>>, tonic::Status>>,
{
    let mut messages = with_token(c, open).await?.into_inner();
    loop {
        match messages.message().await {
            Ok(Some(m)) => out
                .send(event(m))
                .await
                .map_err(|_| "the screen closed".to_string())?,
            Ok(None) => return Ok(()),
            Err(s) => return Err(s.message().to_string()),
        }
    }
}

/// Change a ticket: the ticket as it is now, or the router's words.
pub async fn change_ticket(
    c: Credentials,
    id: u64,
    change: pb::ticket_change::Change,
) -> Result<pb::Ticket, String> {
    with_token(&c, |ch, token| {
        let change = change.clone();
        async move {
            CrmServiceClient::new(ch)
                .update_ticket(authed(
                    pb::UpdateTicketRequest {
                        id,
                        change: Some(pb::TicketChange {
                            change: Some(change),
                        }),
                    },
                    &token,
                ))
                .await
                .map(tonic::Response::into_inner)
        }
    })
    .await
}

/// A supervisor command on an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Steer {
    /// Force not ready (reason "set by a supervisor").
    NotReady,
    /// Force logout.
    Logout,
}

/// Send a supervisor command; the agent's new status or the router's words.
pub async fn steer(c: Credentials, agent: String, what: Steer) -> Result<String, String> {
    with_token(&c, |ch, token| {
        let agent = agent.clone();
        async move {
            let mut sup = SupervisorServiceClient::new(ch);
            match what {
                Steer::NotReady => sup
                    .force_not_ready(authed(
                        pb::ForceNotReadyRequest {
                            agent_id: agent,
                            reason: 3,
                        },
                        &token,
                    ))
                    .await
                    .map(|_| ()),
                Steer::Logout => sup
                    .force_logout(authed(pb::ForceLogoutRequest { agent_id: agent }, &token))
                    .await
                    .map(|_| ()),
            }
        }
    })
    .await
    .map(|()| agent)
}

/// A supervisor's command on an area incident.
#[derive(Debug, Clone, PartialEq)]
pub enum Incident {
    /// Declare one.
    Declare(pb::DeclareIncidentRequest),
    /// Change one.
    Update(pb::UpdateIncidentRequest),
    /// End one.
    End(pb::EndIncidentRequest),
}

/// Send an incident command: the incident's number, or the router's words.
pub async fn incident(c: Credentials, what: Incident) -> Result<String, String> {
    with_token(&c, |ch, token| {
        let what = what.clone();
        async move {
            let mut sup = SupervisorServiceClient::new(ch);
            match what {
                Incident::Declare(r) => sup
                    .declare_incident(authed(r, &token))
                    .await
                    .map(|i| i.into_inner().id),
                Incident::Update(r) => sup
                    .update_incident(authed(r, &token))
                    .await
                    .map(|i| i.into_inner().id),
                Incident::End(r) => sup
                    .end_incident(authed(r, &token))
                    .await
                    .map(|e| e.into_inner().incident.map_or(0, |i| i.id)),
            }
        }
    })
    .await
    .map(|id| id.to_string())
}

/// Create a customer record for an unknown caller: the new record or the router's words.
pub async fn create_customer(
    c: Credentials,
    name: String,
    phone: String,
) -> Result<Box<pb::Customer>, String> {
    let customer = pb::Customer {
        name,
        phones: vec![phone],
        segment: pb::Segment::Public as i32,
        // the store requires 1–5; a new customer starts in the middle until the
        // business side rates them
        credit_level: 3,
        ..Default::default()
    };
    with_token(&c, |ch, token| {
        let customer = customer.clone();
        async move {
            CrmServiceClient::new(ch)
                .put_customer(authed(
                    pb::PutCustomerRequest {
                        customer: Some(customer),
                    },
                    &token,
                ))
                .await
        }
    })
    .await
    .map(|r| Box::new(r.into_inner()))
}

/// Customers whose name starts with `prefix` (at most 10), or the router's words.
pub async fn search_customers(c: Credentials, prefix: String) -> Result<Vec<pb::Customer>, String> {
    with_token(&c, |ch, token| {
        let name_prefix = prefix.clone();
        async move {
            CrmServiceClient::new(ch)
                .search_customers(authed(
                    pb::SearchCustomersRequest {
                        name_prefix,
                        limit: 10,
                    },
                    &token,
                ))
                .await
        }
    })
    .await
    .map(|r| r.into_inner().customers)
}

/// Ask the router for a report (every page of it).
pub async fn report(
    c: Credentials,
    ask: crate::reports::Ask,
) -> Result<crate::reports::Data, String> {
    use crate::reports::{Data, Kind};
    use hotline_proto::v1::report_service_client::ReportServiceClient;
    let period = Some(pb::ReportPeriod {
        from: Some(prost_types::Timestamp {
            seconds: ask.from,
            nanos: 0,
        }),
        to: Some(prost_types::Timestamp {
            seconds: ask.to,
            nanos: 0,
        }),
    });
    /// Every page of a server stream.
    async fn all<P>(
        r: Result<tonic::Response<tonic::Streaming<P>>, tonic::Status>,
    ) -> Result<Vec<P>, tonic::Status> {
        let mut s = r?.into_inner();
        let mut pages = Vec::new();
        while let Some(p) = s.message().await? {
            pages.push(p);
        }
        Ok(pages)
    }
    // the rows of every page of a report's stream
    macro_rules! rows {
        ($call:expr) => {
            all($call.await)
                .await?
                .into_iter()
                .flat_map(|p| p.rows)
                .collect()
        };
    }
    with_token(&c, |ch, token| {
        let ask = ask.clone();
        async move {
            let mut rs = ReportServiceClient::new(ch);
            Ok(match ask.kind {
                Kind::Intervals => {
                    let pages = all(rs
                        .interval_report(authed(
                            pb::IntervalReportRequest {
                                period,
                                queues: vec![ask.queue.clone()],
                                minutes: ask.minutes,
                                page_size: 0,
                                target_service_level: None,
                            },
                            &token,
                        ))
                        .await)
                    .await?;
                    let mut rows = Vec::new();
                    let mut totals = Vec::new();
                    for p in pages {
                        rows.extend(p.rows);
                        totals.extend(p.totals);
                    }
                    Data::Intervals { rows, totals }
                }
                Kind::Agents => Data::Agents(rows!(rs.agent_report(authed(
                    pb::AgentReportRequest {
                        period,
                        ..Default::default()
                    },
                    &token,
                )))),
                Kind::Hotspots => Data::Hotspots(rows!(rs.hotspot_report(authed(
                    pb::HotspotReportRequest {
                        period,
                        level: pb::AreaLevel::District as i32,
                        ..Default::default()
                    },
                    &token,
                )))),
                Kind::Reasons => Data::Reasons(rows!(rs.reason_report(authed(
                    pb::ReasonReportRequest {
                        period,
                        ..Default::default()
                    },
                    &token,
                )))),
                Kind::Tickets => Data::Tickets(rows!(rs.ticket_report(authed(
                    pb::TicketReportRequest {
                        period,
                        ..Default::default()
                    },
                    &token,
                )))),
            })
        }
    })
    .await
}

/// Write an exported report into the current directory; its path.
pub async fn export(name: String, text: String) -> Result<String, String> {
    let path = std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join(name);
    tokio::fs::write(&path, text)
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path.display().to_string())
}
