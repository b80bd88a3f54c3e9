//! `hotline bench …`: benchmarks that print their figures. Results and the commands
//! that produced them are recorded in BENCHMARKS.md.

use crate::json;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use hotline_acd::rng::Rng;
use hotline_acd::{
    Action, AgentId, AgentProfile, AgentState, CallSpec, Engine, EngineConfig, Input, QueueConfig,
    QueueId, SkillId, Span, Time, WrapUpPolicy,
};
use hotline_erlang::{Traffic, predict};
use hotline_sim::scenario::erlang_model;
use serde_json::{Value, json};
use std::time::Instant;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Simulated calls per second of wall time, M/M/n+M on one thread, checked against
    /// Erlang A.
    Sim(SimBench),
    /// Time of one routing decision with many agents and a long queue.
    Decide(DecideBench),
    /// How often the simulation's 95 % interval covers the Erlang formula, over seeds.
    Coverage(CoverageBench),
    /// The customer store: screen-pop reads, durable writes, disk use, reopen time.
    Store(crate::store_cmd::StoreBench),
    /// The router over gRPC: time from a caller's dial to the offer on an agent's stream.
    Route(RouteBench),
    /// The reports over a period of a seeded store, beside a bare scan of the period.
    Report(crate::report_bench::ReportBench),
    /// The ceiling for `route`: a bare tonic relay with the same two hops (a sender's
    /// stream in, a listener's stream out) and nothing in between.
    Echo(EchoBench),
    /// What a replicated router's input log adds to every input: fenced JetStream
    /// appends beside a bare NATS request (servers of the bench's own).
    Log(crate::log_bench::LogBench),
}

#[derive(Args)]
pub struct EchoBench {
    /// Listeners attached for the whole run (stand-ins for agent sessions).
    #[arg(long, default_value_t = 10000)]
    listeners: usize,
    /// Notes sent per second; a list runs one step per rate, in that order.
    #[arg(long, default_value = "1000,2000,4000,8000", value_delimiter = ',')]
    notes_per_second: Vec<f64>,
    /// Seconds per rate.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Only serve the relay on 127.0.0.1 (address printed first); the benchmark starts a
    /// copy of itself this way so the relay has its own process, as the router does.
    #[arg(long, hide = true)]
    serve: bool,
}

#[derive(Args)]
pub struct RouteBench {
    /// Agents logged in (each login verifies an argon2 hash: that takes a while).
    #[arg(long, default_value_t = 1000)]
    agents: usize,
    /// Calls arriving per second, straight into a queue (no IVR); a list (`500,1000,2000`)
    /// runs one step per rate with the same agents, in that order.
    #[arg(long, default_value = "100", value_delimiter = ',')]
    calls_per_second: Vec<f64>,
    /// Seconds of arrivals per rate.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// After the rates, every agent goes on a break and this many callers dial and wait;
    /// the router's memory is measured with them in the queue.
    #[arg(long, default_value_t = 0)]
    waiting: usize,
    /// A router already running (e.g. `http://127.0.0.1:50051`) instead of one started
    /// for the run; it needs agents b0, b1, … with skill `bench` and `--password`, and a
    /// flow that queues calls to 1000 directly. Its memory is then not measured.
    #[arg(long)]
    router: Option<String>,
    /// The bench agents' password.
    #[arg(long, default_value = "bench password")]
    password: String,
    /// HTTP/2 connections the agents' sessions are spread over (a floor of real
    /// desktops has one each; keepalive PINGs cost one per connection).
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// How the router notices a dead desktop: keepalive (HTTP/2 PINGs, the default) or
    /// heartbeat (the contract's heartbeats on every session).
    #[arg(long, default_value = "keepalive")]
    liveness: String,
    /// After the rates, stop the router (SIGTERM) and start it again on its store, and
    /// time until every agent is back in a session, resumed with its token.
    #[arg(long)]
    restart: bool,
    /// Seconds between the router's checkpoints of the statistics interval in progress
    /// (5, as `hotline serve`; 0: none), to measure what keeping them costs the offers.
    #[arg(long, default_value_t = 5)]
    checkpoint_seconds: u32,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct SimBench {
    /// Measured calls (a warm-up of a tenth more is simulated and counted in the speed).
    #[arg(long, default_value_t = 1_000_000)]
    calls: u64,
    /// Agents.
    #[arg(long, default_value_t = 500)]
    agents: u32,
    /// Offered load in Erlangs.
    #[arg(long, default_value_t = 480.0)]
    erlangs: f64,
    /// Mean handle time, seconds.
    #[arg(long, default_value_t = 240.0)]
    aht: f64,
    /// Mean patience, seconds.
    #[arg(long, default_value_t = 120.0)]
    patience: f64,
    /// Replications (each on the same single thread, one after another).
    #[arg(long, default_value_t = 1)]
    replications: u32,
    /// Share the replications out over this many threads (0: one per core); the
    /// figures stay the same, the speed is then no longer one core's.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Put the whole 1000 IVR (the built-in flow, callers of bench/ivr-callers.toml) in
    /// front of the queue: the speed then includes every caller's way through the menus.
    #[arg(long)]
    ivr: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// The IVR callers of `bench sim --ivr`.
const BENCH_IVR: &str = include_str!("../bench/ivr-callers.toml");

#[derive(Args)]
pub struct DecideBench {
    /// Agent counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100,1000,10000")]
    agents: Vec<usize>,
    /// Calls kept waiting while agents free up.
    #[arg(long, default_value_t = 5000)]
    waiting: usize,
    /// Decisions timed per agent count and kind.
    #[arg(long, default_value_t = 50_000)]
    decisions: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct CoverageBench {
    /// Seeds per model.
    #[arg(long, default_value_t = 40)]
    seeds: u64,
    /// Agent counts, comma-separated (5, 50 and 500 use the loads of the test suite).
    #[arg(long, value_delimiter = ',', default_value = "5,50,500")]
    agents: Vec<u32>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(b: &BenchCommand) -> Result<()> {
    match b {
        BenchCommand::Sim(a) => sim(a),
        BenchCommand::Decide(a) => decide(a),
        BenchCommand::Coverage(a) => coverage(a),
        BenchCommand::Store(a) => crate::store_cmd::bench(a),
        BenchCommand::Route(a) => route(a),
        BenchCommand::Echo(a) => echo(a),
        BenchCommand::Report(a) => crate::report_bench::run(a),
        BenchCommand::Log(a) => crate::log_bench::run(a),
    }
}

/// What machine the figures come from.
pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    json!({ "cpu": cpu, "cores": cores, "profile": if cfg!(debug_assertions) { "debug" } else { "release" } })
}

fn sim(a: &SimBench) -> Result<()> {
    let cph = a.erlangs / a.aht * 3600.0;
    let mut s = erlang_model(cph, a.aht, a.agents, 20.0, Some(a.patience), 0.0);
    s.run.calls = Some(a.calls);
    s.replications = a.replications;
    if a.ivr {
        s.ivr = Some(toml::from_str(BENCH_IVR).context("bench/ivr-callers.toml")?);
    }
    let mut sc = s.compile()?;
    sc.threads = hotline_sim::threads(a.threads);
    let report = hotline_sim::run(&sc, &mut |_, _| {});
    let peak_mb = rss_mb(std::process::id()).map(|m| m.1);
    let f = predict(
        &Traffic::per_hour(cph, a.aht, Some(a.patience))?,
        a.agents,
        20.0,
    )?;
    let o = &report.overall;
    if a.json {
        let v = json!({
            "model": format!("M/M/{}+M", a.agents),
            "erlangs": a.erlangs, "aht_seconds": a.aht, "patience_seconds": a.patience,
            "measured_calls_per_replication": a.calls,
            "replications": a.replications,
            "threads": sc.threads,
            "calls_simulated": report.calls_simulated,
            "wall_seconds": json::num(report.wall_seconds),
            "calls_per_second": json::num(report.calls_per_second),
            "service_level": json::mean(o.service_level), "asa_seconds": json::mean(o.asa_seconds),
            "p_abandon": json::mean(o.p_abandon), "p_wait": json::mean(o.p_wait), "occupancy": json::mean(o.occupancy),
            "erlang_a": Value::Object(json::prediction(&f)),
            "ivr": report.ivr.as_ref().map(|i| json!({
                "flow": i.flow,
                "containment": json::mean(i.all.containment),
                "mean_seconds": json::mean(i.all.mean_seconds),
            })),
            "peak_rss_mb": peak_mb,
            "machine": machine(),
        });
        println!("{v}");
        return Ok(());
    }
    println!(
        "M/M/{}+M, {} Erlangs, AHT {} s, patience {} s: {} calls simulated ({} measured × {} replication(s) + warm-up)",
        a.agents, a.erlangs, a.aht, a.patience, report.calls_simulated, a.calls, a.replications
    );
    println!(
        "wall time {:.3} s on {}: {:.0} simulated calls per second; peak resident memory {}",
        report.wall_seconds,
        match sc.threads.min(a.replications as usize) {
            0 | 1 => "one thread".to_string(),
            n => format!("{n} threads"),
        },
        report.calls_per_second,
        peak_mb.map_or("unknown".to_string(), |m| format!("{m:.0} MB"))
    );
    if let Some(ivr) = &report.ivr {
        println!(
            "through the IVR first ({}): {} % contained, {} s there on average — the queue's figures below are not Erlang's model",
            ivr.flow,
            hotline_sim::report::fmt(ivr.all.containment, 100.0, 1),
            hotline_sim::report::fmt(ivr.all.mean_seconds, 1.0, 1)
        );
    }
    let show = |e: Option<hotline_sim::Estimate>| hotline_sim::report::fmt(e, 1.0, 4);
    println!("{:>14} {:>22} {:>10}", "", "simulated", "Erlang A");
    println!(
        "{:>14} {:>22} {:>10.4}",
        "service level",
        show(o.service_level),
        f.service_level
    );
    println!(
        "{:>14} {:>22} {:>10.4}",
        "ASA (s)",
        show(o.asa_seconds),
        f.asa_seconds
    );
    println!(
        "{:>14} {:>22} {:>10.4}",
        "abandon rate",
        show(o.p_abandon),
        f.p_abandon
    );
    println!(
        "{:>14} {:>22} {:>10.4}",
        "P(wait)",
        show(o.p_wait),
        f.p_wait
    );
    println!(
        "{:>14} {:>22} {:>10.4}",
        "occupancy",
        show(o.occupancy),
        f.occupancy
    );
    println!("machine: {}", machine());
    Ok(())
}

/// Latency figures of one kind of decision.
struct Latency {
    p50: f64,
    p99: f64,
    mean: f64,
    /// Timed decisions, and how many of them ended in an offer.
    timed: usize,
    offers: usize,
}

fn latency(mut ns: Vec<u64>, offers: usize) -> Latency {
    let timed = ns.len();
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0;
    Latency {
        p50: at(0.5),
        p99: at(0.99),
        mean: ns.iter().sum::<u64>() as f64 / ns.len() as f64 / 1000.0,
        timed,
        offers,
    }
}

const QUEUES: u16 = 20;

/// An engine with `n` agents over 20 queues, each agent with two skills.
fn floor(n: usize) -> Engine {
    let mut e = Engine::new(EngineConfig::default(), Time::ZERO);
    for q in 0..QUEUES {
        e.add_queue(QueueConfig {
            name: format!("queue {q}"),
            skill: SkillId(q),
            ring_timeout: None,
            wrap_up: WrapUpPolicy::Skip,
            ..QueueConfig::default()
        })
        .expect("valid queue");
    }
    for i in 0..n {
        let s1 = (i % QUEUES as usize) as u16;
        let s2 = ((i * 7 + 3) % QUEUES as usize) as u16;
        let s2 = if s2 == s1 { (s1 + 1) % QUEUES } else { s2 };
        e.add_agent(AgentProfile {
            skills: vec![
                (SkillId(s1), 1 + (i % 10) as u8),
                (SkillId(s2), 1 + (i * 3 % 10) as u8),
            ],
            groups: vec![],
        })
        .expect("valid agent");
    }
    e
}

/// The floor of [`floor`] with every agent logged in and ready.
fn ready_floor(n: usize, now: Time) -> Engine {
    let mut e = floor(n);
    for a in 0..n {
        e.handle(now, Input::Login(AgentId(a as u32)))
            .expect("log in");
        e.handle(now, Input::Ready(AgentId(a as u32)))
            .expect("go ready");
    }
    while e.poll_action().is_some() {}
    e
}

/// Answer every offer; count calls that ended up waiting.
fn settle(e: &mut Engine, now: Time, waiting: &mut i64) {
    let mut answer = Vec::new();
    while let Some(a) = e.poll_action() {
        match a {
            Action::Offer { agent, .. } => answer.push(agent),
            Action::Queued { .. } => *waiting += 1,
            _ => {}
        }
    }
    for a in answer {
        e.handle(now, Input::Answer(a)).expect("answer an offer");
        while e.poll_action().is_some() {}
    }
}

fn spec(q: u64) -> CallSpec {
    CallSpec {
        queue: QueueId(q as u32),
        priority: (q % 3) as u8,
        preferred_agent: None,
        tag: 0,
    }
}

/// (agent frees up with `waiting` calls queued, call arrives with agents ready)
fn decide_at(n: usize, waiting: usize, decisions: usize) -> (Latency, Latency) {
    let mut rng = Rng::seeded(7);
    let mut now = Time::ZERO;
    let tick = Span::from_millis(1);

    // 1. every agent busy and `waiting` calls queued: time HangUp → ready → next call
    let mut e = ready_floor(n, now);
    let mut queued = 0i64;
    while queued < waiting as i64 {
        now = now + tick;
        e.arrive(now, spec(rng.below(QUEUES as u64)))
            .expect("the bench floor takes calls of every queue");
        settle(&mut e, now, &mut queued);
    }
    let mut free = Vec::with_capacity(decisions);
    let mut free_offers = 0;
    for _ in 0..decisions {
        now = now + tick;
        let a = AgentId(rng.below(n as u64) as u32);
        if !matches!(e.agent_state(a), Ok(AgentState::Connected { .. })) {
            continue;
        }
        let t0 = Instant::now();
        e.handle(now, Input::HangUp(a))
            .expect("the agent is connected");
        free.push(t0.elapsed().as_nanos() as u64);
        if matches!(e.agent_state(a), Ok(AgentState::Reserved { .. })) {
            free_offers += 1;
        }
        queued -= 1;
        settle(&mut e, now, &mut queued);
        while queued < waiting as i64 {
            e.arrive(now, spec(rng.below(QUEUES as u64)))
                .expect("the bench floor takes calls of every queue");
            settle(&mut e, now, &mut queued);
            if matches!(e.agent_state(a), Ok(AgentState::Ready)) {
                break;
            }
        }
    }

    // 2. half the agents ready, nobody waiting: time a call's arrival → offer
    let mut e = ready_floor(n, now);
    let mut none = 0i64;
    for _ in 0..n / 2 {
        now = now + tick;
        e.arrive(now, spec(rng.below(QUEUES as u64)))
            .expect("the bench floor takes calls of every queue");
        settle(&mut e, now, &mut none);
    }
    let mut arrive = Vec::with_capacity(decisions);
    let mut arrive_offers = 0;
    for _ in 0..decisions {
        now = now + tick;
        let s = spec(rng.below(QUEUES as u64));
        let t0 = Instant::now();
        let call = e
            .arrive(now, s)
            .expect("the bench floor takes calls of every queue");
        arrive.push(t0.elapsed().as_nanos() as u64);
        if matches!(
            e.call_place(call),
            Some(hotline_acd::CallPlace::Offered { .. })
        ) {
            arrive_offers += 1;
        }
        settle(&mut e, now, &mut none);
        // a busy agent finishes, keeping about half the floor ready
        loop {
            let a = AgentId(rng.below(n as u64) as u32);
            if matches!(e.agent_state(a), Ok(AgentState::Connected { .. })) {
                e.handle(now, Input::HangUp(a))
                    .expect("the agent is connected");
                settle(&mut e, now, &mut none);
                break;
            }
        }
    }
    (latency(free, free_offers), latency(arrive, arrive_offers))
}

fn decide(a: &DecideBench) -> Result<()> {
    if a.agents.iter().any(|&n| n < 20) {
        bail!("use at least 20 agents (the floor has 20 queues)");
    }
    let mut rows = Vec::new();
    for &n in &a.agents {
        let (free, arrive) = decide_at(n, a.waiting, a.decisions);
        rows.push((n, free, arrive));
    }
    if a.json {
        let v: Vec<Value> = rows
            .iter()
            .map(|(n, f, c)| {
                json!({
                    "agents": n, "waiting": a.waiting, "queues": QUEUES,
                    "agent_frees_p50_us": f.p50, "agent_frees_p99_us": f.p99, "agent_frees_mean_us": f.mean,
                    "agent_frees_timed": f.timed, "agent_frees_offers": f.offers,
                    "call_arrives_p50_us": c.p50, "call_arrives_p99_us": c.p99, "call_arrives_mean_us": c.mean,
                    "call_arrives_timed": c.timed, "call_arrives_offers": c.offers,
                })
            })
            .collect();
        println!("{}", json!({ "decisions": v, "machine": machine() }));
        return Ok(());
    }
    println!(
        "one routing decision, {} queues, agents with 2 skills each, {} decisions timed per row",
        QUEUES, a.decisions
    );
    println!(
        "A: an agent hangs up with {} calls waiting → the engine picks their next call and offers it",
        a.waiting
    );
    println!(
        "B: a call arrives with half the agents ready → the engine picks an agent and offers it\n"
    );
    println!(
        "{:>7} | {:>8} {:>8} {:>8} {:>15} | {:>8} {:>8} {:>8} {:>15}",
        "agents",
        "A p50 µs",
        "p99 µs",
        "mean µs",
        "offers/timed",
        "B p50 µs",
        "p99 µs",
        "mean µs",
        "offers/timed"
    );
    for (n, f, c) in rows {
        println!(
            "{:>7} | {:>8.2} {:>8.2} {:>8.2} {:>15} | {:>8.2} {:>8.2} {:>8.2} {:>15}",
            n,
            f.p50,
            f.p99,
            f.mean,
            format!("{}/{}", f.offers, f.timed),
            c.p50,
            c.p99,
            c.mean,
            format!("{}/{}", c.offers, c.timed)
        );
    }
    println!("machine: {}", machine());
    Ok(())
}

fn coverage(a: &CoverageBench) -> Result<()> {
    let mut rows = Vec::new();
    for &n in &a.agents {
        let (erl, aht, calls) = match n {
            5 => (4.0, 180.0, 20_000),
            50 => (45.0, 240.0, 50_000),
            500 => (480.0, 240.0, 200_000),
            _ => (n as f64 * 0.9, 240.0, 50_000),
        };
        for patience in [None, Some(120.0)] {
            let cph = erl / aht * 3600.0;
            let f = predict(&Traffic::per_hour(cph, aht, patience)?, n, 20.0)?;
            let mut hits = [0u64; 3];
            for seed in 0..a.seeds {
                let mut s = erlang_model(cph, aht, n, 20.0, patience, 0.0);
                s.run.calls = Some(calls);
                s.replications = 10;
                s.seed = 10_000 + seed;
                let r = hotline_sim::run(&s.compile()?, &mut |_, _| {});
                let o = &r.overall;
                let cov = |e: Option<hotline_sim::Estimate>, x: f64| {
                    e.is_some_and(|e| e.covers(x)) as u64
                };
                hits[0] += cov(o.service_level, f.service_level);
                hits[1] += cov(o.asa_seconds, f.asa_seconds);
                if patience.is_some() {
                    hits[2] += cov(o.p_abandon, f.p_abandon);
                }
            }
            rows.push((n, patience, hits));
        }
    }
    let pct = |h: u64| h as f64 / a.seeds as f64 * 100.0;
    if a.json {
        let v: Vec<Value> = rows
            .iter()
            .map(|(n, p, h)| {
                json!({"agents": n, "patience_seconds": p, "seeds": a.seeds,
                    "service_level_coverage": pct(h[0]) / 100.0, "asa_coverage": pct(h[1]) / 100.0,
                    "abandon_coverage": if p.is_some() { json::num(pct(h[2]) / 100.0) } else { Value::Null }})
            })
            .collect();
        println!("{}", json!({ "coverage": v, "machine": machine() }));
        return Ok(());
    }
    println!(
        "share of seeds whose 95 % interval (10 replications) covers the formula; about 95 % is right"
    );
    println!(
        "{:>8} {:>10} {:>8} {:>8} {:>8}",
        "agents", "model", "SL", "ASA", "abandon"
    );
    for (n, p, h) in rows {
        println!(
            "{:>8} {:>10} {:>7.0}% {:>7.0}% {:>8}",
            n,
            if p.is_some() { "Erlang A" } else { "Erlang C" },
            pct(h[0]),
            pct(h[1]),
            if p.is_some() {
                format!("{:.0}%", pct(h[2]))
            } else {
                "—".into()
            }
        );
    }
    println!("({} seeds per row)", a.seeds);
    Ok(())
}

/// A flow whose callers go straight into the one queue.
const BENCH_FLOW: &str = r#"
name = "bench"
number = "1000"
start = "q"
key_account_start = "q"
survey = "s"
[hours]
open = "00:00"
close = "00:00"
utc_offset_minutes = 480
[announcements]
queue_position = { zh = "请稍候", en = "please hold" }
callback_offer = { zh = "回电请按1", en = "press 1 for a call back" }
callback_confirmed = { zh = "已登记", en = "booked" }
[[node]]
id = "q"
kind = "queue"
queue = "bench"
reason = "bench"
[[node]]
id = "s"
kind = "survey"
prompt = { zh = "请评价", en = "rate us" }
thanks = { zh = "谢谢", en = "thanks" }
"#;

/// Resident and peak resident memory of a process, MB, from /proc.
pub(crate) fn rss_mb(pid: u32) -> Option<(f64, f64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let kb: f64 = s
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// A server process a benchmark started; killed on drop.
struct Proc {
    child: std::process::Child,
    /// Its stdout, held open: a router writing to a closed pipe would die of SIGPIPE.
    _stdout: Option<std::io::BufReader<std::process::ChildStdout>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server a benchmark runs against: its process, how it was started, and its
/// files (removed on drop).
struct BenchChild {
    proc: Proc,
    program: std::path::PathBuf,
    args: Vec<std::ffi::OsString>,
    prefix: &'static str,
    dir: std::path::PathBuf,
}

impl Drop for BenchChild {
    fn drop(&mut self) {
        let _ = self.proc.child.kill();
        let _ = self.proc.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl BenchChild {
    fn pid(&self) -> u32 {
        self.proc.child.id()
    }

    /// Stop it with SIGTERM (killed after 10 s) and start it again the same way.
    fn restart(&mut self) -> Result<()> {
        #[cfg(unix)]
        // SAFETY: a plain kill(2) of our own child's pid
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(self.proc.child.id() as i32, libc::SIGTERM);
        }
        let since = std::time::Instant::now();
        while self.proc.child.try_wait()?.is_none() {
            if since.elapsed() > std::time::Duration::from_secs(10) {
                let _ = self.proc.child.kill();
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let (proc, _) = spawn_server(&self.program, &self.args, self.prefix)?;
        self.proc = proc;
        Ok(())
    }
}

/// A store with `agents` bench agents, a flow straight into queue `bench`, and
/// `hotline serve` on it in a process of its own (so its memory is its own).
fn start_bench_router(
    agents: usize,
    password: &str,
    liveness: &str,
    checkpoint_seconds: u32,
) -> Result<(BenchChild, String)> {
    use hotline_store::{AgentAccount, Catalog, Role, Store};
    let dir = std::env::temp_dir().join(format!("hotline-bench-route-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    {
        let store = Store::open(&dir.join("store"), Catalog::builtin())?;
        let account = |id: String| AgentAccount {
            id,
            name: "bench".into(),
            role: Role::Agent,
            skills: vec![("bench".into(), 5)],
            groups: vec![],
            password_hash: String::new(),
        };
        store.set_agent(account("b0".into()), password)?;
        let hash = store
            .agent("b0")?
            .map(|a| a.password_hash)
            .unwrap_or_default();
        for k in 1..agents {
            store.put_hashed_agent(&AgentAccount {
                password_hash: hash.clone(),
                ..account(format!("b{k}"))
            })?;
        }
        store.flush()?;
    }
    std::fs::write(dir.join("bench-flow.toml"), BENCH_FLOW)?;
    std::fs::write(
        dir.join("router.toml"),
        format!(
            "store = {:?}\nivr = {:?}\nopen_around_the_clock = true\nliveness = {liveness:?}\n\
             checkpoint_seconds = {checkpoint_seconds}\n\
             [[queue]]\nname = \"bench\"\nskill = \"bench\"\nnever_time_out = true\nwrap_up = \"skip\"\n\
             [call_backs]\nenabled = false\n",
            dir.join("store"),
            dir.join("bench-flow.toml")
        ),
    )?;
    // a fixed port, so a restarted router is found where it was
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let args: Vec<std::ffi::OsString> = vec![
        "serve".into(),
        "--listen".into(),
        format!("127.0.0.1:{port}").into(),
        "--config".into(),
        dir.join("router.toml").into(),
    ];
    // "hotline router listening on 127.0.0.1:PORT (plain, no TLS) — …"
    start_child(
        std::env::current_exe()?,
        args,
        "hotline router listening on ",
        dir,
    )
}

/// Start `program` with `args`, read the address from its first line (after
/// `prefix`), and give it back as an `http://` URL with the process.
fn start_child(
    program: std::path::PathBuf,
    args: Vec<std::ffi::OsString>,
    prefix: &'static str,
    dir: std::path::PathBuf,
) -> Result<(BenchChild, String)> {
    let (proc, url) = spawn_server(&program, &args, prefix)?;
    let server = BenchChild {
        proc,
        program,
        args,
        prefix,
        dir,
    };
    Ok((server, url))
}

fn spawn_server(
    program: &std::path::Path,
    args: &[std::ffi::OsString],
    prefix: &str,
) -> Result<(Proc, String)> {
    use std::io::BufRead;
    let mut child = std::process::Command::new(program)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| anyhow::anyhow!("starting the server: {e}"))?;
    let mut out = child.stdout.take().map(std::io::BufReader::new);
    let mut first = String::new();
    if let Some(out) = out.as_mut() {
        out.read_line(&mut first)?;
    }
    let proc = Proc {
        child,
        _stdout: out,
    };
    let addr = first
        .strip_prefix(prefix)
        .and_then(|r| r.split_whitespace().next())
        .ok_or_else(|| anyhow::anyhow!("the server did not start: {first:?}"))?;
    Ok((proc, format!("http://{addr}")))
}

fn echo(a: &EchoBench) -> Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    if a.serve {
        return rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            println!("echo relay listening on {}", listener.local_addr()?);
            hotline_live::echo_bench::serve(listener, std::future::pending())
                .await
                .map_err(|e| anyhow::anyhow!("the relay stopped: {e}"))
        });
    }
    if a.listeners == 0
        || a.notes_per_second.is_empty()
        || a.notes_per_second.iter().any(|r| r.is_nan() || *r <= 0.0)
        || a.seconds <= 0.0
    {
        bail!("listeners, notes per second and seconds must be more than zero");
    }
    let dir = std::env::temp_dir().join(format!("hotline-bench-echo-{}", std::process::id()));
    let args = vec!["bench".into(), "echo".into(), "--serve".into()];
    let (relay, url) = start_child(
        std::env::current_exe()?,
        args,
        "echo relay listening on ",
        dir,
    )?;
    let steps = rt
        .block_on(hotline_live::echo_bench::run(
            &url,
            a.listeners,
            &a.notes_per_second,
            a.seconds,
        ))
        .map_err(|e| anyhow::anyhow!(e))?;
    let relay_mem = rss_mb(relay.pid());
    drop(relay);
    let passes_5ms = steps
        .iter()
        .find(|s| s.p99_ms > 5.0)
        .map(|s| s.notes_per_second);
    if a.json {
        let list: Vec<_> = steps
            .iter()
            .map(|s| {
                json!({
                    "notes_per_second": s.notes_per_second, "delivered": s.delivered,
                    "notes_per_second_achieved": s.notes_per_second_achieved,
                    "p50_ms": s.p50_ms, "p99_ms": s.p99_ms, "max_ms": s.max_ms,
                })
            })
            .collect();
        println!(
            "{}",
            json!({
                "listeners": a.listeners, "seconds": a.seconds, "steps": list,
                "p99_passes_5ms_at_notes_per_second": passes_5ms,
                "relay_rss_mb": relay_mem.map(|m| m.0), "machine": machine(),
            })
        );
        return Ok(());
    }
    println!(
        "bare tonic relay, {} listeners attached over 8 connections, one sender stream per note",
        a.listeners
    );
    for s in &steps {
        println!(
            "{:>6} notes/s for {} s: {} delivered, {:.1}/s echoed; sent → on the listener's stream: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            s.notes_per_second,
            a.seconds,
            s.delivered,
            s.notes_per_second_achieved,
            s.p50_ms,
            s.p99_ms,
            s.max_ms
        );
    }
    match passes_5ms {
        Some(r) => println!("p99 passes 5 ms at {r} notes/s"),
        None => println!("p99 stays within 5 ms at every rate run"),
    }
    if let Some((now, _)) = relay_mem {
        println!("relay process: {now:.0} MB resident");
    }
    println!("machine: {}", machine());
    Ok(())
}

fn route(a: &RouteBench) -> Result<()> {
    if a.agents == 0
        || a.calls_per_second.is_empty()
        || a.calls_per_second.iter().any(|r| r.is_nan() || *r <= 0.0)
        || a.seconds <= 0.0
    {
        bail!("agents, calls per second and seconds must be more than zero");
    }
    if !["keepalive", "heartbeat"].contains(&a.liveness.as_str()) {
        bail!("--liveness is keepalive or heartbeat");
    }
    if a.restart && a.router.is_some() {
        bail!("--restart needs the router the benchmark starts (not --router)");
    }
    let (router, url) = match &a.router {
        Some(url) => (None, url.clone()),
        None => {
            let (r, url) =
                start_bench_router(a.agents, &a.password, &a.liveness, a.checkpoint_seconds)?;
            (Some(std::sync::Arc::new(std::sync::Mutex::new(r))), url)
        }
    };
    let router_pid = || router.as_ref().and_then(|r| r.lock().ok().map(|r| r.pid()));
    let plan = hotline_live::route_bench::RoutePlan {
        rates: a.calls_per_second.clone(),
        seconds: a.seconds,
        waiting: a.waiting,
        connections: a.connections,
    };
    let restart: Option<hotline_live::route_bench::Restart> = match (&router, a.restart) {
        (Some(r), true) => {
            let r = r.clone();
            Some(Box::new(move || {
                r.lock()
                    .map_err(|_| "the router's handle is poisoned".to_string())?
                    .restart()
                    .map_err(|e| e.to_string())
            }))
        }
        _ => None,
    };
    let rt = tokio::runtime::Runtime::new()?;
    let f = rt.block_on(async {
        let agents = (0..a.agents)
            .map(|k| (format!("b{k}"), a.password.clone()))
            .collect();
        hotline_live::route_bench::run(
            &url,
            agents,
            &plan,
            || router_pid().and_then(rss_mb),
            restart,
        )
        .await
        .map_err(|e| anyhow::anyhow!(e))
    })?;
    let client_mem = rss_mb(std::process::id());
    drop(router);
    let first = f
        .steps
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no step ran"))?;
    let end_mem = f.memory_with_waiting.or(f.memory_after_traffic);
    // from the steps measured: the first rate whose p99 went over 5 ms, and the highest
    // rate before it whose p99 stayed within
    let over_5ms = f
        .steps
        .iter()
        .find(|s| s.offer_p99_ms > 5.0)
        .map(|s| s.calls_per_second);
    let within_5ms = f
        .steps
        .iter()
        .take_while(|s| s.offer_p99_ms <= 5.0)
        .map(|s| s.calls_per_second)
        .reduce(f64::max);

    if a.json {
        let steps: Vec<_> = f
            .steps
            .iter()
            .map(|s| {
                json!({
                    "calls_per_second": s.calls_per_second, "calls": s.calls,
                    "calls_per_second_achieved": s.calls_per_second_achieved,
                    "offer_p50_ms": s.offer_p50_ms, "offer_p99_ms": s.offer_p99_ms,
                    "offer_max_ms": s.offer_max_ms,
                })
            })
            .collect();
        println!(
            "{}",
            json!({
                "agents": f.agents, "login_seconds": f.login_seconds,
                "calls_per_second": first.calls_per_second, "seconds": a.seconds,
                "calls": first.calls, "calls_per_second_achieved": first.calls_per_second_achieved,
                "offer_p50_ms": first.offer_p50_ms, "offer_p99_ms": first.offer_p99_ms,
                "offer_max_ms": first.offer_max_ms,
                "steps": steps,
                "p99_over_5ms_first_at_calls_per_second": over_5ms,
                "p99_within_5ms_up_to_calls_per_second": within_5ms,
                "connections": a.connections, "liveness": a.liveness,
                "restart_seconds": f.restart_seconds,
                "waiting": f.waiting,
                "router_rss_mb": end_mem.map(|m| m.0), "router_peak_rss_mb": end_mem.map(|m| m.1),
                "router_rss_after_traffic_mb": f.memory_after_traffic.map(|m| m.0),
                "clients_rss_mb": client_mem.map(|m| m.0),
                "machine": machine(),
            })
        );
        return Ok(());
    }
    println!(
        "{} agents logged in over gRPC in {:.1} s (each login verifies an argon2 hash), over {} connections, liveness by {}",
        f.agents, f.login_seconds, a.connections, a.liveness
    );
    for s in &f.steps {
        println!(
            "{:>6} calls/s for {} s, no IVR: {} calls, {:.1}/s reached an agent; dial sent → offer on the agent's stream: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            s.calls_per_second,
            a.seconds,
            s.calls,
            s.calls_per_second_achieved,
            s.offer_p50_ms,
            s.offer_p99_ms,
            s.offer_max_ms
        );
    }
    match (within_5ms, over_5ms) {
        (Some(w), Some(o)) => {
            println!("p99 within 5 ms up to {w} calls/s, over 5 ms at {o} calls/s")
        }
        (None, Some(o)) => println!("p99 over 5 ms already at {o} calls/s"),
        (_, None) => println!("p99 within 5 ms at every rate run"),
    }
    if let Some(t) = f.restart_seconds {
        println!(
            "router restarted: every agent back in a session (resumed by token, no password check) {t:.1} s after the stop"
        );
    }
    match (f.memory_after_traffic, f.memory_with_waiting) {
        (None, _) => println!("router memory: not measured (a router of your own)"),
        (Some((now, _)), None) => {
            println!("router process: {now:.0} MB resident after the traffic")
        }
        (Some((now, _)), Some((waiting, peak))) => println!(
            "router process: {now:.0} MB resident after the traffic, {waiting:.0} MB with {} calls waiting, {peak:.0} MB at its peak",
            f.waiting
        ),
    }
    if let Some((now, _)) = client_mem {
        println!("benchmark clients (this process): {now:.0} MB resident");
    }
    println!("machine: {}", machine());
    Ok(())
}
