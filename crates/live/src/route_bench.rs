//! Load for `hotline bench route`: many agents logged in over gRPC, callers arriving at a
//! fixed rate straight into a queue, and the time from a caller sending its dial to the
//! agent's stream receiving the offer, at one or more arrival rates; then, optionally,
//! many calls left waiting, to see what they cost the router.

use hotline_proto::v1 as pb;
use hotline_proto::v1::caller_service_client::CallerServiceClient;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

/// One arrival rate of a route benchmark.
#[derive(Debug, Clone)]
pub struct RouteStep {
    /// Calls dialled per second.
    pub calls_per_second: f64,
    /// Calls that reached an agent.
    pub calls: usize,
    /// Calls per second that reached an agent.
    pub calls_per_second_achieved: f64,
    /// Dial sent → offer on the agent's stream, milliseconds.
    pub offer_p50_ms: f64,
    /// 99th percentile of the same.
    pub offer_p99_ms: f64,
    /// Largest.
    pub offer_max_ms: f64,
}

/// What a route benchmark measured.
#[derive(Debug, Clone)]
pub struct RouteFigures {
    /// Agents logged in with an open session.
    pub agents: usize,
    /// Seconds it took to log them in and open their sessions.
    pub login_seconds: f64,
    /// One entry per arrival rate, in the order run.
    pub steps: Vec<RouteStep>,
    /// Calls waiting in the queue when `memory_with_waiting` was taken.
    pub waiting: usize,
    /// What the memory probe said after the last rate (before any calls were parked).
    pub memory_after_traffic: Option<(f64, f64)>,
    /// What it said with `waiting` calls in the queue and every agent not ready.
    pub memory_with_waiting: Option<(f64, f64)>,
    /// With a restart: seconds from the stop to every agent back in a session and
    /// ready, resumed with the token they held (no password check).
    pub restart_seconds: Option<f64>,
}

/// How a route benchmark runs.
#[derive(Debug, Clone)]
pub struct RoutePlan {
    /// Arrival rates, one step of `seconds` each, in this order.
    pub rates: Vec<f64>,
    /// Seconds per rate.
    pub seconds: f64,
    /// After the rates: every agent goes not ready and this many callers dial and wait.
    pub waiting: usize,
    /// HTTP/2 connections the agents' sessions are spread over (a real floor has one
    /// per desktop).
    pub connections: usize,
}

/// Restarts the router the benchmark runs against (SIGTERM, then the same command on
/// the same address); blocking.
pub type Restart = Box<dyn Fn() -> Result<(), String> + Send + Sync>;

use crate::timing::Times;

/// Log the agents in, run callers at each rate of `plan`, then park `plan.waiting` calls
/// in the queue. `memory` is asked for the router's (resident, peak) MB after the rates
/// and again with the calls waiting.
pub async fn run(
    url: &str,
    agents: Vec<(String, String)>,
    plan: &RoutePlan,
    memory: impl Fn() -> Option<(f64, f64)>,
    restart: Option<Restart>,
) -> Result<RouteFigures, String> {
    let channels = crate::timing::channels(url, plan.connections.max(1)).await?;
    let offered: Times = Arc::default();
    let ready = Arc::new(AtomicU64::new(0));
    let resumed = Arc::new(AtomicU64::new(0));
    let parked = Arc::new(AtomicU64::new(0));
    let (park, parking) = tokio::sync::watch::channel(false);
    let failed: Arc<Mutex<Vec<String>>> = Arc::default();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let n = agents.len();
    for (k, (id, pw)) in agents.into_iter().enumerate() {
        let ch = channels[k % channels.len()].clone();
        let counters = Counters {
            offered: offered.clone(),
            ready: ready.clone(),
            resumed: resumed.clone(),
            parked: parked.clone(),
        };
        let (failed, parking) = (failed.clone(), parking.clone());
        tasks.spawn(async move {
            if let Err(e) = agent(ch, id.clone(), pw, counters, parking).await
                && let Ok(mut f) = failed.lock()
            {
                f.push(format!("agent {id}: {e}"));
            }
        });
    }
    let wait_for = |what: &'static str, count: Arc<AtomicU64>, target: usize| {
        let failed = failed.clone();
        async move {
            let since = Instant::now();
            while (count.load(Ordering::Relaxed) as usize) < target {
                let (gone, first) = match failed.lock() {
                    Ok(f) => (f.len(), f.first().cloned()),
                    Err(_) => (0, None),
                };
                if gone > 0 || since.elapsed() > Duration::from_secs(600) {
                    return Err(format!(
                        "only {} of {target} {what} in {:.0} s; {gone} agents failed{}",
                        count.load(Ordering::Relaxed),
                        since.elapsed().as_secs_f64(),
                        first.map(|e| format!(", first: {e}")).unwrap_or_default()
                    ));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(())
        }
    };
    wait_for("agents got ready", ready.clone(), n).await?;
    let login_seconds = started.elapsed().as_secs_f64();
    let mut steps = Vec::new();
    let mut k = 0u64;
    for &rate in &plan.rates {
        let dialled: Times = Arc::default();
        let connected = Arc::new(AtomicU64::new(0));
        let gap = Duration::from_secs_f64(1.0 / rate.max(0.001));
        let mut tick = tokio::time::interval(gap);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let step_start = Instant::now();
        while step_start.elapsed().as_secs_f64() < plan.seconds {
            tick.tick().await;
            k += 1;
            let ch = channels[(k as usize) % channels.len()].clone();
            let (dialled, connected) = (dialled.clone(), connected.clone());
            tasks.spawn(async move {
                let _ = caller(ch, k, dialled, connected, None).await;
            });
        }
        // let the last calls of the step land
        tokio::time::sleep(Duration::from_secs(2)).await;
        let Some(t) = crate::timing::spread(&dialled, &offered)? else {
            return Err(format!("at {rate} calls/s no call reached an agent"));
        };
        steps.push(RouteStep {
            calls_per_second: rate,
            calls: t.count,
            calls_per_second_achieved: connected.load(Ordering::Relaxed) as f64 / plan.seconds,
            offer_p50_ms: t.p50,
            offer_p99_ms: t.p99,
            offer_max_ms: t.max,
        });
    }
    let memory_after_traffic = memory();
    let mut restart_seconds = None;
    if let Some(restart) = restart {
        let stop = Instant::now();
        tokio::task::spawn_blocking(restart)
            .await
            .map_err(|e| e.to_string())??;
        wait_for("agents resumed their sessions", resumed.clone(), n).await?;
        restart_seconds = Some(stop.elapsed().as_secs_f64());
    }
    let mut memory_with_waiting = None;
    let queued = Arc::new(AtomicU64::new(0));
    if plan.waiting > 0 {
        let _ = park.send(true);
        wait_for("agents went not ready", parked.clone(), n).await?;
        for _ in 0..plan.waiting {
            k += 1;
            let ch = channels[(k as usize) % channels.len()].clone();
            let (dialled, connected, queued) = (Times::default(), Arc::default(), queued.clone());
            tasks.spawn(async move {
                let _ = caller(ch, k, dialled, connected, Some(queued)).await;
            });
            if k % 100 == 0 {
                tokio::task::yield_now().await;
            }
        }
        wait_for("calls queued", queued.clone(), plan.waiting).await?;
        // the announcements settle
        tokio::time::sleep(Duration::from_secs(2)).await;
        memory_with_waiting = memory();
    }
    tasks.abort_all();
    Ok(RouteFigures {
        agents: n,
        login_seconds,
        steps,
        waiting: queued.load(Ordering::Relaxed) as usize,
        memory_after_traffic,
        memory_with_waiting,
        restart_seconds,
    })
}

/// What a bench agent counts.
struct Counters {
    /// When each call was offered.
    offered: Times,
    /// Agents whose first session is open and ready.
    ready: Arc<AtomicU64>,
    /// Agents back in a session after the router restarted.
    resumed: Arc<AtomicU64>,
    /// Agents on a break (for the waiting calls).
    parked: Arc<AtomicU64>,
}

async fn agent(
    ch: Channel,
    id: String,
    pw: String,
    counters: Counters,
    parking: tokio::sync::watch::Receiver<bool>,
) -> Result<(), String> {
    // one password check; every later session resumes with the token
    let token = crate::log_in(ch.clone(), &id, &pw).await?;
    let mut sessions = 0u64;
    let mut lost_since = None;
    loop {
        let (tx, events) = match crate::session_with(ch.clone(), &token).await {
            Ok(s) => s,
            Err(e) => {
                // the router is restarting: try again soon, for a minute at most
                let since = *lost_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_secs(60) {
                    return Err(format!("no session for a minute: {e}"));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let counter = if sessions == 0 {
            counters.ready.clone()
        } else {
            counters.resumed.clone()
        };
        sessions += 1;
        serve(tx, events, &counters, counter, parking.clone()).await?;
        lost_since = Some(Instant::now());
    }
}

/// One session of a bench agent: ready, answer every offer, until the session is lost
/// (the router stopping, the connection gone: `Ok`, come back with the token) or the
/// router refuses something (`Err`).
async fn serve(
    tx: mpsc::Sender<pb::AgentCommand>,
    mut events: tonic::Streaming<pb::AgentEvent>,
    counters: &Counters,
    ready: Arc<AtomicU64>,
    mut parking: tokio::sync::watch::Receiver<bool>,
) -> Result<(), String> {
    use pb::agent_command::Command as C;
    use pb::agent_event::Event as E;
    let cmd = |c: C| crate::command(0, c);
    let _ = tx.send(cmd(C::Ready(true))).await;
    let mut counted = false;
    let mut parking_open = true;
    loop {
        let ev = tokio::select! {
            ev = events.message() => match ev {
                Ok(Some(ev)) => ev,
                Ok(None) | Err(_) => return Ok(()),
            },
            changed = parking.changed(), if parking_open => {
                if changed.is_err() {
                    parking_open = false;
                } else if *parking.borrow_and_update() {
                    // a break: the calls that come now wait in the queue
                    let _ = tx.send(cmd(C::NotReady(16))).await;
                }
                continue;
            }
        };
        match ev.event {
            Some(E::Offer(o)) => {
                if let Ok(mut m) = counters.offered.lock() {
                    m.insert(o.call_id, Instant::now());
                }
                let _ = tx.send(cmd(C::Answer(true))).await;
            }
            Some(E::Done(_)) if !counted => {
                counted = true;
                ready.fetch_add(1, Ordering::Relaxed);
            }
            Some(E::Closed(c)) if c.code == pb::SessionEnd::RouterShuttingDown as i32 => {
                return Ok(());
            }
            Some(E::Closed(c)) => return Err(format!("session closed: {}", c.reason)),
            // the router is stopping: the session is as good as closed
            Some(E::Error(e)) if e.code == "UNAVAILABLE" => return Ok(()),
            Some(E::Error(e)) => return Err(format!("{}: {}", e.code, e.message)),
            Some(E::Heartbeat(n)) => {
                let _ = tx.send(cmd(C::HeartbeatAck(n))).await;
            }
            Some(E::State(s)) if s.state == pb::AgentState::NotReady as i32 => {
                if *parking.borrow() {
                    counters.parked.fetch_add(1, Ordering::Relaxed);
                } else {
                    let _ = tx.send(cmd(C::Ready(true))).await;
                }
            }
            _ => {}
        }
    }
}

async fn caller(
    ch: Channel,
    k: u64,
    dialled: Times,
    connected: Arc<AtomicU64>,
    mut queued: Option<Arc<AtomicU64>>,
) -> Result<(), String> {
    use pb::call_event::Event as CE;
    let (tx, rx) = mpsc::channel(4);
    let dial = pb::CallerAction {
        action: Some(pb::caller_action::Action::Dial(pb::Dial {
            from: format!("189{:08}", k % 100_000_000),
            to: "1000".into(),
        })),
    };
    let t0 = Instant::now();
    tx.send(dial).await.map_err(|e| e.to_string())?;
    let mut events = CallerServiceClient::new(ch)
        .call(ReceiverStream::new(rx))
        .await
        .map_err(|s| s.message().to_string())?
        .into_inner();
    while let Ok(Some(ev)) = events.message().await {
        if let Ok(mut m) = dialled.lock() {
            m.entry(ev.call_id).or_insert(t0);
        }
        if matches!(ev.event, Some(CE::Queued(_)))
            && let Some(q) = queued.take()
        {
            q.fetch_add(1, Ordering::Relaxed); // counted once; the caller stays on the line
        }
        if let Some(CE::Connected(_)) = ev.event {
            connected.fetch_add(1, Ordering::Relaxed);
            let _ = tx
                .send(pb::CallerAction {
                    action: Some(pb::caller_action::Action::HangUp(true)),
                })
                .await;
        }
        if let Some(CE::Ended(_)) = ev.event {
            break;
        }
    }
    Ok(())
}
