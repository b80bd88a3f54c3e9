//! Simulated 1000-hotline traffic over gRPC, against a running router: bot agents log in,
//! answer offers, talk for a handle time, wrap up with a disposition, open tickets and
//! claim first-contact resolution with a probability; callers arrive as a Poisson
//! process from the numbers of seeded customers (and some unknown numbers), walk the IVR
//! by their reason (inquiry, fault, complaint, service order, bill query), wait with a
//! patience, hang up when it runs out, and answer the survey.
//!
//! Back-office clerk bots ([`back_office`]) work the tickets the agents open: they take,
//! note and resolve them from their group's live worklist.
//!
//! The customers' telephones ([`customers`]) listen for the call-backs (回访) the router
//! makes once a ticket is resolved: they answer with a probability; the bot agent who
//! made the call-back records the customer's satisfaction and whether it is solved.
//!
//! An area outage can be injected ([`LiveOutage`]): for a while, extra fault calls come
//! from the customers of one 小区; those who hear the incident's notice in the IVR ask to
//! be told when it is fixed with a probability, the others go on to the fault desk.
//!
//! Everything goes through the public contract, exactly as a desktop and a telephone
//! would, so a live run is also an end-to-end test of the router.

pub mod back_office;
mod customers;
pub mod echo_bench;
pub mod route_bench;
mod timing;

use hotline_acd::rng::Rng;
use hotline_proto::v1 as pb;
use hotline_proto::v1::agent_service_client::AgentServiceClient;
use hotline_proto::v1::caller_service_client::CallerServiceClient;
use hotline_store::{Catalog, Codes};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Request;
use tonic::transport::Channel;

/// What a live run does.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Router address, e.g. `http://127.0.0.1:50051`.
    pub url: String,
    /// Bot agents: (work number, password).
    pub agents: Vec<(String, String)>,
    /// Calls per hour.
    pub calls_per_hour: f64,
    /// Seed of the run.
    pub seed: u64,
    /// How many seeded customers there are, and their seed (callers use their numbers).
    pub customers: u64,
    /// Seed the customers were made with.
    pub customer_seed: u64,
    /// Mean talk time, seconds.
    pub mean_talk_seconds: f64,
    /// Mean patience, seconds.
    pub mean_patience_seconds: f64,
    /// Mean time a bot takes to wrap up after the conversation, seconds (a person takes
    /// some; bots that wrap up at once sit idle ahead of a person who just went ready).
    pub mean_wrap_up_seconds: f64,
    /// Share of calls the bot claims resolved at first contact.
    pub fcr_probability: f64,
    /// Share of calls on which the bot opens a ticket.
    pub ticket_probability: f64,
    /// Back-office clerk bots.
    pub clerks: Vec<back_office::Clerk>,
    /// Mean time a clerk bot works a ticket once taken, seconds (taking it: a third).
    pub mean_back_office_seconds: f64,
    /// Share of call-backs a customer answers (the rest ring out).
    pub call_back_answer_probability: f64,
    /// Share of answered call-backs where the customer says the problem is solved.
    pub call_back_solved_probability: f64,
    /// How to reach an https:// router.
    pub tls: hotline_proto::client::ClientTls,
    /// An area outage to inject.
    pub outage: Option<LiveOutage>,
}

/// An area outage in a live run: the 小区 of the first seeded customer loses its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveOutage {
    /// From the start of the run.
    pub after: Duration,
    /// How long.
    pub lasts: Duration,
    /// Fault calls per hour from the 小区's customers beyond the usual traffic.
    pub extra_per_hour: f64,
    /// Share of callers told of the incident who ask to be told and hang up.
    pub told_hang_up: f64,
}

/// Counters of a live run (shared with whoever prints them).
#[derive(Debug, Default)]
pub struct LiveStats {
    /// Calls placed.
    pub placed: AtomicU64,
    /// Calls an agent answered.
    pub answered: AtomicU64,
    /// Answered within 20 s of queueing.
    pub answered_within_20s: AtomicU64,
    /// Callers who gave up waiting.
    pub abandoned: AtomicU64,
    /// Calls that ended in the IVR.
    pub self_service: AtomicU64,
    /// Calls ended for another reason (refused, dropped).
    pub other_end: AtomicU64,
    /// Total wait of answered calls, ms.
    pub wait_ms: AtomicU64,
    /// Wrap-ups done by bots.
    pub wrapped: AtomicU64,
    /// Commands the router refused (should stay 0 for bots).
    pub refused: AtomicU64,
    /// Tickets clerk bots took.
    pub tickets_taken: AtomicU64,
    /// Tickets clerk bots resolved.
    pub tickets_resolved: AtomicU64,
    /// Call-backs that rang a customer's telephone.
    pub call_backs_rung: AtomicU64,
    /// Call-backs a customer answered.
    pub call_backs_answered: AtomicU64,
    /// Call-back outcomes bots recorded (reached or not).
    pub call_backs_recorded: AtomicU64,
    /// The outage's extra fault calls placed.
    pub outage_calls: AtomicU64,
    /// Callers who heard an incident's notice.
    pub told: AtomicU64,
    /// Of them, callers who asked to be told and hung up.
    pub asked_to_be_told: AtomicU64,
}

/// The node of the 1000 flow that tells callers of an incident in their 小区.
const OUTAGE_NOTICE: &str = "outage-notice";

/// The reasons callers have, with their share and the keys they press.
const REASONS: [(&str, f64, &[&str]); 5] = [
    ("inquiry", 0.35, &["1"]),
    ("fault", 0.25, &["2", "0"]),
    ("complaint", 0.10, &["3"]),
    ("service-order", 0.15, &["4", "0"]),
    ("bill-query", 0.15, &["5", "9"]),
];

/// Run until `stop` completes.
pub async fn run(
    cfg: LiveConfig,
    stats: Arc<LiveStats>,
    stop: impl Future<Output = ()>,
) -> Result<(), String> {
    let channel = hotline_proto::client::endpoint(&cfg.url, &cfg.tls)?
        .connect()
        .await
        .map_err(|e| format!("cannot reach the router at {}: {e}", cfg.url))?;
    // every task of the run lives in this set: when the run stops, they all stop
    let mut tasks = tokio::task::JoinSet::new();
    for (k, (id, pw)) in cfg.agents.iter().enumerate() {
        let (ch, st, c) = (channel.clone(), stats.clone(), cfg.clone());
        let (id, pw) = (id.clone(), pw.clone());
        tasks.spawn(async move {
            if let Err(e) = bot(ch, &id, &pw, c, st, k as u64).await {
                eprintln!("bot {id}: {e}");
            }
        });
    }
    for (k, who) in cfg.clerks.iter().enumerate() {
        let (ch, st, who) = (channel.clone(), stats.clone(), who.clone());
        let (mean, seed) = (cfg.mean_back_office_seconds, cfg.seed ^ k as u64);
        tasks.spawn(async move {
            let id = who.id.clone();
            if let Err(e) = back_office::clerk(ch, who, mean, seed, st).await {
                eprintln!("clerk {id}: {e}");
            }
        });
    }
    {
        let (ch, st) = (channel.clone(), stats.clone());
        let (p, seed) = (cfg.call_back_answer_probability, cfg.seed);
        tasks.spawn(async move {
            if let Err(e) = customers::telephones(ch, p, seed, st).await {
                eprintln!("customers' telephones: {e}");
            }
        });
    }
    if let Some(o) = cfg.outage.clone() {
        let (ch, st, c) = (channel.clone(), stats.clone(), cfg.clone());
        tasks.spawn(async move { outage(ch, c, o, st).await });
    }
    let arrivals = {
        let (cfg, stats, channel) = (cfg.clone(), stats.clone(), channel.clone());
        let tasks = &mut tasks;
        async move {
            let mut rng = Rng::fork(cfg.seed, 1);
            let mut n = 0u64;
            loop {
                let gap = rng.exponential(3600.0 / cfg.calls_per_hour.max(0.001));
                tokio::time::sleep(Duration::from_secs_f64(gap)).await;
                n += 1;
                let (ch, st, c) = (channel.clone(), stats.clone(), cfg.clone());
                tasks.spawn(async move {
                    let _ = caller(ch, c, st, n, None).await;
                });
                // reap callers that are done
                while tasks.try_join_next().is_some() {}
            }
        }
    };
    tokio::select! {
        _ = stop => {}
        _ = arrivals => {}
    }
    tasks.abort_all();
    Ok(())
}

/// Log an agent in and open their session: commands go in on the sender, events come
/// back on the stream.
async fn open_session(
    channel: Channel,
    id: &str,
    password: &str,
) -> Result<
    (
        mpsc::Sender<pb::AgentCommand>,
        tonic::Streaming<pb::AgentEvent>,
    ),
    String,
> {
    let token = log_in(channel.clone(), id, password).await?;
    session_with(channel, &token).await
}

/// Log an agent in: their session token.
pub(crate) async fn log_in(channel: Channel, id: &str, password: &str) -> Result<String, String> {
    Ok(AgentServiceClient::new(channel)
        .login(pb::LoginRequest {
            agent_id: id.into(),
            password: password.into(),
            language: 0,
        })
        .await
        .map_err(|s| s.message().to_string())?
        .into_inner()
        .token)
}

/// Open a session with a token (a new one, or one held from before a router restart).
pub(crate) async fn session_with(
    channel: Channel,
    token: &str,
) -> Result<
    (
        mpsc::Sender<pb::AgentCommand>,
        tonic::Streaming<pb::AgentEvent>,
    ),
    String,
> {
    let (tx, rx) = mpsc::channel(64);
    let mut req = Request::new(ReceiverStream::new(rx));
    let bearer = format!("Bearer {token}")
        .parse()
        .map_err(|_| "bad token".to_string())?;
    req.metadata_mut().insert("authorization", bearer);
    let events = AgentServiceClient::new(channel)
        .session(req)
        .await
        .map_err(|s| s.message().to_string())?
        .into_inner();
    Ok((tx, events))
}

/// A request with the session token as its bearer.
pub(crate) fn authed<T>(msg: T, token: &str) -> Result<Request<T>, String> {
    let mut req = Request::new(msg);
    let bearer = format!("Bearer {token}")
        .parse()
        .map_err(|_| "bad token".to_string())?;
    req.metadata_mut().insert("authorization", bearer);
    Ok(req)
}

fn command(id: u64, c: pb::agent_command::Command) -> pb::AgentCommand {
    pb::AgentCommand {
        command_id: id,
        command: Some(c),
        call_id: 0,
    }
}

async fn bot(
    channel: Channel,
    id: &str,
    password: &str,
    cfg: LiveConfig,
    stats: Arc<LiveStats>,
    k: u64,
) -> Result<(), String> {
    use pb::agent_command::Command as C;
    use pb::agent_event::Event as E;
    let (tx, mut events) = open_session(channel, id, password).await?;
    let mut rng = Rng::fork(cfg.seed ^ 0xb07, k);
    let (codes, catalog) = (Codes::shipped(), Catalog::shipped());
    let mut next_id = 1u64;
    let mut send = |c: C| {
        next_id += 1;
        let tx = tx.clone();
        let cmd = command(next_id, c);
        async move {
            let _ = tx.send(cmd).await;
        }
    };
    send(C::Ready(true)).await;
    // what the bot will do next, and when: it keeps listening meanwhile (a caller may
    // hang up mid-talk, the router may close the session)
    enum Next {
        Answer,
        HangUp,
        WrapUp,
    }
    let mut next: Option<(tokio::time::Instant, Next)> = None;
    let mut current: Option<pb::Offer> = None;
    // a call-back's customer picked up
    let mut reached = false;
    loop {
        let due = next.as_ref().map(|(t, _)| *t);
        let ev = tokio::select! {
            ev = events.message() => match ev {
                Ok(Some(ev)) => ev,
                _ => return Ok(()),
            },
            _ = async { tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)).await }, if due.is_some() => {
                match next.take().map(|(_, n)| n) {
                    Some(Next::Answer) => send(C::Answer(true)).await,
                    Some(Next::HangUp) => send(C::HangUp(true)).await,
                    Some(Next::WrapUp) if current.as_ref().is_some_and(|o| o.call_back_task.is_some()) => {
                        current = None;
                        let solved = rng.chance(cfg.call_back_solved_probability);
                        send(C::WrapUp(call_back_wrap_up(reached, solved, 3 + rng.below(3) as u32))).await;
                        stats.call_backs_recorded.fetch_add(1, Ordering::Relaxed);
                        stats.wrapped.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(Next::WrapUp) => {
                        let pop = current.take().and_then(|o| o.screen_pop);
                        let reason = pop.as_ref().map(|p| p.reason.clone()).unwrap_or_default();
                        let customer = pop.as_ref().and_then(|p| p.customer.as_ref()).map_or(0, |c| c.id);
                        let opens = customer > 0 && rng.chance(cfg.ticket_probability);
                        let ticket = opens.then(|| ticket_for(codes, catalog, &reason, customer)).flatten();
                        let resolved = ticket.is_none() && rng.chance(cfg.fcr_probability);
                        send(C::WrapUp(pb::WrapUp {
                            disposition: if ticket.is_some() { "ticket-opened" } else { "answered" }.into(),
                            reason: format!("{reason}.general"),
                            notes: String::new(),
                            new_tickets: ticket.into_iter().collect(),
                            ticket_changes: vec![],
                            resolved_first_contact: resolved,
                            call_back: None,
                        }))
                        .await;
                        stats.wrapped.fetch_add(1, Ordering::Relaxed);
                    }
                    None => {}
                }
                continue;
            }
        };
        let later = |ms: u64| tokio::time::Instant::now() + Duration::from_millis(ms);
        match ev.event {
            Some(E::Offer(o)) => {
                current = Some(o);
                reached = false;
                next = Some((later(300 + rng.below(1200)), Next::Answer));
            }
            Some(E::OfferCancelled(_)) => next = None,
            // a call-back: wait for the customer's line, then talk or give up
            Some(E::Connected(_))
                if current.as_ref().is_some_and(|o| o.call_back_task.is_some()) =>
            {
                next = None;
            }
            Some(E::CustomerLine(l)) => {
                if l == pb::CustomerLine::Answered as i32 {
                    reached = true;
                    let talk = rng
                        .exponential(cfg.mean_talk_seconds / 2.0)
                        .clamp(5.0, 5.0 * cfg.mean_talk_seconds);
                    next = Some((later((talk * 1000.0) as u64), Next::HangUp));
                } else if l == pb::CustomerLine::NoAnswer as i32 {
                    next = Some((later(1_000), Next::HangUp));
                }
            }
            Some(E::Connected(_)) => {
                let talk = rng
                    .exponential(cfg.mean_talk_seconds)
                    .clamp(5.0, 20.0 * cfg.mean_talk_seconds);
                next = Some((later((talk * 1000.0) as u64), Next::HangUp));
            }
            Some(E::ConversationEnded(_)) => {
                let mean = cfg.mean_wrap_up_seconds.max(0.5);
                let wrap = rng.exponential(mean).clamp(0.5, 5.0 * mean);
                next = Some((later((wrap * 1000.0) as u64), Next::WrapUp))
            }
            Some(E::State(s)) if s.state == pb::AgentState::NotReady as i32 => {
                // after a ring-no-answer or a login: ready again
                send(C::Ready(true)).await;
            }
            Some(E::Heartbeat(n)) => send(C::HeartbeatAck(n)).await,
            Some(E::Error(_)) => {
                stats.refused.fetch_add(1, Ordering::Relaxed);
            }
            Some(E::Closed(c)) => return Err(format!("session closed: {}", c.reason)),
            _ => {}
        }
    }
}

/// The ticket a call about the IVR group `reason` opens: the kind its general reason
/// usually opens (an inquiry for a group that opens none), the kind's first subcategory.
/// A bot's wrap-up of a call-back: the customer reached (satisfied `satisfaction`/5,
/// solved or not) or not answering.
fn call_back_wrap_up(reached: bool, solved: bool, satisfaction: u32) -> pb::WrapUp {
    pb::WrapUp {
        disposition: if reached {
            hotline_store::CALL_BACK_DONE
        } else {
            hotline_store::CALL_BACK_NO_ANSWER
        }
        .into(),
        reason: hotline_store::CALL_BACK_REASON.into(),
        notes: String::new(),
        new_tickets: vec![],
        ticket_changes: vec![],
        resolved_first_contact: false,
        call_back: Some(pb::CallBackResult {
            reached,
            satisfaction: if reached { satisfaction } else { 0 },
            solved,
        }),
    }
}

fn ticket_for(
    codes: &Codes,
    catalog: &Catalog,
    reason: &str,
    customer: u64,
) -> Option<pb::CreateTicketRequest> {
    use hotline_store::TicketKind as K;
    let kind = codes
        .reason(&format!("{reason}.general"))
        .and_then(|r| r.ticket)
        .unwrap_or(K::Inquiry);
    let sub = catalog.kind(kind).subcategories.first()?;
    Some(pb::CreateTicketRequest {
        customer_id: customer,
        kind: match kind {
            K::Complaint => pb::TicketKind::Complaint,
            K::Fault => pb::TicketKind::Fault,
            K::Inquiry => pb::TicketKind::Inquiry,
            K::ServiceOrder => pb::TicketKind::ServiceOrder,
            K::Suggestion => pb::TicketKind::Suggestion,
        } as i32,
        subcategory: sub.id.clone(),
        description: format!("机器人坐席登记：{}", sub.name),
        priority: pb::TicketPriority::Normal as i32,
    })
}

/// The seeded customers' numbers in the 小区 of the first one (the stricken area), at
/// most `most`.
fn stricken_numbers(cfg: &LiveConfig, most: usize) -> Vec<String> {
    use hotline_store::seed::{DEFAULT_NOW, customer};
    let first = customer(cfg.customer_seed, 0, DEFAULT_NOW);
    (0..cfg.customers)
        .map(|i| customer(cfg.customer_seed, i, DEFAULT_NOW))
        .filter(|c| c.district == first.district && c.area == first.area)
        .filter_map(|c| c.phones.into_iter().next())
        .take(most)
        .collect()
}

/// The outage: after its start, extra fault calls from the stricken 小区 until it ends.
async fn outage(channel: Channel, cfg: LiveConfig, o: LiveOutage, stats: Arc<LiveStats>) {
    let numbers = stricken_numbers(&cfg, 500);
    if numbers.is_empty() || o.extra_per_hour <= 0.0 {
        return;
    }
    tokio::time::sleep(o.after).await;
    let ends = Instant::now() + o.lasts;
    let mut rng = Rng::fork(cfg.seed, 0x07a6e);
    let mut callers = tokio::task::JoinSet::new();
    let mut n = 0u64;
    while Instant::now() < ends {
        let gap = rng.exponential(3600.0 / o.extra_per_hour);
        tokio::time::sleep(Duration::from_secs_f64(gap)).await;
        n += 1;
        let from = numbers[rng.below(numbers.len() as u64) as usize].clone();
        let (ch, st, c) = (channel.clone(), stats.clone(), cfg.clone());
        stats.outage_calls.fetch_add(1, Ordering::Relaxed);
        callers.spawn(async move {
            let _ = caller(ch, c, st, u64::MAX - n, Some(from)).await;
        });
        while callers.try_join_next().is_some() {}
    }
    while callers.join_next().await.is_some() {}
}

/// A caller: from a seeded customer's number (or an unknown one) with a reason drawn
/// from [`REASONS`]; or, with `fault_from`, a fault call from that number.
async fn caller(
    channel: Channel,
    cfg: LiveConfig,
    stats: Arc<LiveStats>,
    n: u64,
    fault_from: Option<String>,
) -> Result<(), String> {
    use pb::call_event::Event as CE;
    let mut rng = Rng::fork(cfg.seed ^ 0xca11, n);
    let from = if let Some(number) = &fault_from {
        number.clone()
    } else if cfg.customers > 0 && rng.chance(0.8) {
        let i = rng.below(cfg.customers);
        hotline_store::seed::customer(cfg.customer_seed, i, hotline_store::seed::DEFAULT_NOW).phones
            [0]
        .clone()
    } else {
        format!("1{}{:09}", 3 + rng.below(7), rng.below(1_000_000_000))
    };
    let u = rng.uniform();
    let mut acc = 0.0;
    let keys = match fault_from {
        Some(_) => REASONS[1].2,
        None => REASONS
            .iter()
            .find(|(_, share, _)| {
                acc += share;
                u < acc
            })
            .map_or(REASONS[0].2, |r| r.2),
    };
    let told_hang_up = cfg.outage.as_ref().map_or(0.6, |o| o.told_hang_up);
    // the IVR node that spoke last (the outage notice asks a key of its own)
    let mut last_node = String::new();
    let mut keys = keys.iter();
    let (tx, rx) = mpsc::channel(8);
    let dial = pb::CallerAction {
        action: Some(pb::caller_action::Action::Dial(pb::Dial {
            from,
            to: "1000".into(),
        })),
    };
    tx.send(dial).await.map_err(|e| e.to_string())?;
    stats.placed.fetch_add(1, Ordering::Relaxed);
    let mut events = CallerServiceClient::new(channel)
        .call(ReceiverStream::new(rx))
        .await
        .map_err(|s| s.message().to_string())?
        .into_inner();
    let patience = Duration::from_secs_f64(rng.exponential(cfg.mean_patience_seconds));
    let mut queued_at: Option<Instant> = None;
    let mut connected = false;
    loop {
        let wait = match (queued_at, connected) {
            (Some(t), false) => patience.saturating_sub(t.elapsed()),
            _ => Duration::from_secs(3600),
        };
        let ev = match tokio::time::timeout(wait, events.message()).await {
            Ok(Ok(Some(ev))) => ev,
            Ok(_) => return Ok(()),
            Err(_) => {
                // patience ran out
                stats.abandoned.fetch_add(1, Ordering::Relaxed);
                let _ = tx
                    .send(pb::CallerAction {
                        action: Some(pb::caller_action::Action::HangUp(true)),
                    })
                    .await;
                return Ok(());
            }
        };
        let press = |d: &str| pb::CallerAction {
            action: Some(pb::caller_action::Action::Digits(d.into())),
        };
        match ev.event {
            Some(CE::Collect(_)) if connected => {
                // the survey after the agent
                let _ = tx
                    .send(press(if rng.chance(0.7) { "5" } else { "4" }))
                    .await;
            }
            Some(CE::Prompt(p)) => last_node = p.node,
            Some(CE::Collect(_)) if last_node == OUTAGE_NOTICE => {
                // told of the incident in their area: ask to be told, or go on
                stats.told.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(400 + rng.below(1500))).await;
                let ask = rng.chance(told_hang_up);
                if ask {
                    stats.asked_to_be_told.fetch_add(1, Ordering::Relaxed);
                }
                let _ = tx.send(press(if ask { "1" } else { "0" })).await;
            }
            Some(CE::Collect(_)) => {
                tokio::time::sleep(Duration::from_millis(400 + rng.below(1500))).await;
                if let Some(k) = keys.next() {
                    let _ = tx.send(press(k)).await;
                }
            }
            Some(CE::Queued(_)) if queued_at.is_none() => queued_at = Some(Instant::now()),
            Some(CE::Connected(_)) => {
                connected = true;
                stats.answered.fetch_add(1, Ordering::Relaxed);
                let waited = queued_at.map_or(Duration::ZERO, |t| t.elapsed());
                stats
                    .wait_ms
                    .fetch_add(waited.as_millis() as u64, Ordering::Relaxed);
                if waited <= Duration::from_secs(20) {
                    stats.answered_within_20s.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some(CE::Ended(how)) => {
                match how.as_str() {
                    "self-service" => stats.self_service.fetch_add(1, Ordering::Relaxed),
                    "completed" | "abandoned" => 0,
                    _ => stats.other_end.fetch_add(1, Ordering::Relaxed),
                };
                return Ok(());
            }
            _ => {}
        }
    }
}
