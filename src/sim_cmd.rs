//! `hotline sim`.

use crate::json;
use anyhow::{Context, Result, bail};
use clap::Args;
use hotline_erlang::{Traffic, predict};
use hotline_sim::scenario::{Rate, Stop, erlang_model};
use hotline_sim::{Estimates, Scenario, SimReport};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct SimArgs {
    /// A scenario file (see assets/scenarios/). Without one, the one-queue M/M/n(+M)
    /// model given by --calls-per-hour, --aht and --agents.
    scenario: Option<PathBuf>,
    /// Calls offered per hour (model mode).
    #[arg(long)]
    calls_per_hour: Option<f64>,
    /// Mean handle time, seconds, exponential (model mode).
    #[arg(long)]
    aht: Option<f64>,
    /// Agents (model mode).
    #[arg(long)]
    agents: Option<u32>,
    /// Service-level threshold T, seconds (model mode).
    #[arg(long, default_value_t = 20.0)]
    sl_seconds: f64,
    /// Mean patience, seconds, exponential; without it callers never hang up (model mode).
    #[arg(long)]
    patience: Option<f64>,
    /// Short-abandon threshold, seconds; 0 makes the service level the Erlang formula's
    /// "answered within T ÷ offered" (model mode).
    #[arg(long, default_value_t = 5.0)]
    short_abandon_seconds: f64,
    /// Measured calls per replication (model mode; default 100000).
    #[arg(long)]
    calls: Option<u64>,
    /// Calls simulated before measuring starts (default: a tenth of --calls, at least
    /// 20 per agent).
    #[arg(long)]
    warmup_calls: Option<u64>,
    /// Independent replications (default: the scenario's, or 10).
    #[arg(long)]
    replications: Option<u32>,
    /// Master seed (default: the scenario's, or 1000).
    #[arg(long)]
    seed: Option<u64>,
    /// Write per-interval figures (SL, ASA, abandon rate, occupancy, AHT, longest wait,
    /// each with its 95 % half-width) to this CSV file.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Inject an area outage: START,MINUTES,EXTRA_PER_HOUR ("09:30,120,40": one 小区's
    /// lines down from 09:30 for two hours, 40 fault calls an hour beyond its usual). The
    /// scenario's `[outage]` gives the rest (its 小区, the detector's rule, how soon the
    /// supervisor declares, how many callers hang up once told); the day runs with and
    /// without the incident's message.
    #[arg(long, value_name = "START,MINUTES,EXTRA_PER_HOUR")]
    outage: Option<String>,
    /// Run this IVR flow file in front of the queues instead of the scenario's `[ivr]`
    /// flow (a scenario without `[ivr]` gets one with the default caller behaviour). The
    /// flow's agents' hours apply — outside them callers hear its night menu — unless
    /// the scenario's `[ivr]` gives `open` and `close`.
    #[arg(long, value_name = "FLOW")]
    ivr: Option<PathBuf>,
    /// Leave the IVR out: callers go straight to their reason's queue.
    #[arg(long, conflicts_with_all = ["ivr", "compare"])]
    no_ivr: bool,
    /// Run the replications on this many threads (0: one per core); the figures are
    /// the same as on one, only the wall time changes.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Run the day again under this other IVR flow, on the same callers (common random
    /// numbers), and print the differences with their confidence intervals and the
    /// agents Erlang C says each menu needs.
    #[arg(long, value_name = "OTHER_FLOW")]
    compare: Option<PathBuf>,
}

/// `--outage START,MINUTES,EXTRA_PER_HOUR` over the scenario's `[outage]` (or the
/// defaults).
fn outage_flag(s: &mut Scenario, flag: &str) -> Result<()> {
    let parts: Vec<&str> = flag.split(',').map(str::trim).collect();
    let [start, minutes, extra] = parts[..] else {
        bail!("--outage wants START,MINUTES,EXTRA_PER_HOUR, e.g. 09:30,120,40");
    };
    let number = |what: &str, v: &str| -> Result<f64> {
        v.parse()
            .map_err(|_| anyhow::anyhow!("--outage: {what} '{v}' is not a number"))
    };
    let (minutes, extra) = (
        number("MINUTES", minutes)?,
        number("EXTRA_PER_HOUR", extra)?,
    );
    let o = s
        .outage
        .get_or_insert_with(|| hotline_sim::outage::OutageSpec {
            reason: "fault".into(),
            areas: 100,
            start: start.into(),
            minutes,
            extra_per_hour: extra,
            declare_after_minutes: 10.0,
            told_hang_up: 0.6,
            detector: Default::default(),
        });
    o.start = start.into();
    o.minutes = minutes;
    o.extra_per_hour = extra;
    Ok(())
}

fn estimates_json(e: &Estimates) -> Map<String, Value> {
    let pairs = [
        ("p_wait", e.p_wait),
        ("service_level", e.service_level),
        ("asa_seconds", e.asa_seconds),
        ("p_abandon", e.p_abandon),
        ("occupancy", e.occupancy),
        ("aht_seconds", e.aht_seconds),
        ("offered", e.offered),
    ];
    let mut m = Map::new();
    let mut ci = Map::new();
    for (k, v) in pairs {
        m.insert(k.into(), json::mean(v));
        ci.insert(k.into(), json::ci(v));
    }
    m.insert("ci95".into(), Value::Object(ci));
    m
}

pub fn run(a: &SimArgs) -> Result<()> {
    let model_flags = a.calls_per_hour.is_some() || a.aht.is_some() || a.agents.is_some();
    let (mut scenario, model) = match (&a.scenario, model_flags) {
        (Some(_), true) => {
            bail!("give either a scenario file or --calls-per-hour/--aht/--agents, not both")
        }
        (Some(path), false) => (Scenario::load(path)?, None),
        (None, _) => {
            let (Some(cph), Some(aht), Some(n)) = (a.calls_per_hour, a.aht, a.agents) else {
                bail!(
                    "without a scenario file, --calls-per-hour, --aht and --agents are all needed"
                );
            };
            let mut s = erlang_model(
                cph,
                aht,
                n,
                a.sl_seconds,
                a.patience,
                a.short_abandon_seconds,
            );
            s.run.calls = Some(a.calls.unwrap_or(100_000));
            (s, Some((cph, aht, n)))
        }
    };
    if let Some(r) = a.replications {
        scenario.replications = r;
    }
    if let Some(s) = a.seed {
        scenario.seed = s;
    }
    if let Some(w) = a.warmup_calls {
        scenario.run.warmup_calls = Some(w);
    }
    if let Some(flag) = &a.outage {
        outage_flag(&mut scenario, flag)?;
    }
    if a.scenario.is_some() && a.calls.is_some() {
        scenario.run.calls = a.calls;
        scenario.run.hours = None;
    }
    if let Some(flow) = &a.ivr {
        scenario.ivr.get_or_insert_with(Default::default).flow_path = Some(flow.clone());
    }
    if a.no_ivr {
        scenario.ivr = None;
    }
    let threads = hotline_sim::threads(a.threads);
    let mut sc = scenario.compile()?;
    sc.threads = threads;
    let other = match &a.compare {
        Some(_) if sc.outage.is_some() => {
            bail!("--compare and an outage are two experiments: run them one at a time")
        }
        Some(flow) => {
            let mut s = scenario.clone();
            s.ivr.get_or_insert_with(Default::default).flow_path = Some(flow.clone());
            let mut other = s.compile()?;
            other.threads = threads;
            Some(other)
        }
        None => None,
    };

    let per_rep = match sc.stop {
        Stop::Calls { warmup, measured } => warmup + measured,
        Stop::Time { end, .. } => {
            let per_hour = match &sc.rate {
                Rate::Constant(r) => r * 3600.0,
                r => r.mean_per_hour(),
            };
            (per_hour * end / 3600.0) as u64
        }
    };
    let bar = ProgressBar::new(per_rep * sc.replications as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} simulating [{bar:40}] {percent}% {msg} ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // a day with an outage runs twice (with and without the incident's message), and
    // so does a comparison of two menus
    let runs = if sc.outage.is_some() || other.is_some() {
        2
    } else {
        1
    };
    bar.set_length(per_rep * sc.replications as u64 * runs);
    let total = sc.replications * runs as u32;
    let mut on_progress = |run: u32, done: u32, n: u64| {
        let done = run * sc.replications + done;
        bar.set_position(done as u64 * per_rep + n);
        bar.set_message(format!("replication {}/{total}", (done + 1).min(total)));
    };
    if let Some(other) = &other {
        let c = hotline_sim::run_compare(&sc, other, &mut on_progress);
        bar.finish_and_clear();
        return print_comparison(a, &c);
    }
    let (report, comparison): (SimReport, _) = match &sc.outage {
        Some(_) => {
            let c = hotline_sim::run_with_and_without_message(&sc, &mut on_progress);
            (c.told.clone(), Some(c))
        }
        None => (
            hotline_sim::run(&sc, &mut |rep, n| on_progress(0, rep, n)),
            None,
        ),
    };
    bar.finish_and_clear();

    if let Some(path) = &a.csv {
        std::fs::write(path, report.intervals_csv())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let formula = match model {
        Some((cph, aht, n)) => Some(predict(
            &Traffic::per_hour(cph, aht, a.patience)?,
            n,
            a.sl_seconds,
        )?),
        None => None,
    };
    if a.json {
        let mut m = estimates_json(&report.overall);
        m.insert("scenario".into(), json!(report.scenario));
        m.insert("replications".into(), json!(report.replications));
        m.insert("seed".into(), json!(report.seed));
        m.insert("calls_simulated".into(), json!(report.calls_simulated));
        m.insert("wall_seconds".into(), json::num(report.wall_seconds));
        m.insert(
            "calls_per_second".into(),
            json::num(report.calls_per_second),
        );
        if let Some(p) = &formula {
            m.insert("erlang".into(), Value::Object(json::prediction(p)));
        }
        if a.scenario.is_some() {
            m.insert("queues".into(), serde_json::to_value(&report.queues)?);
            m.insert("intervals".into(), serde_json::to_value(&report.intervals)?);
        }
        if let Some(ivr) = &report.ivr {
            m.insert("ivr".into(), serde_json::to_value(ivr)?);
        }
        if let Some(c) = &comparison {
            m.insert(
                "outage".into(),
                json!({
                    "figures": c.told.outage,
                    "service_level_difference": c.difference,
                    "without_message": { "overall": c.untold.overall, "queues": c.untold.queues },
                }),
            );
        }
        println!("{}", Value::Object(m));
        return Ok(());
    }
    print!("{}", report.to_text());
    if let (Some(c), Some(plan)) = (&comparison, &sc.outage) {
        print!("{}", c.to_text(plan));
    }
    if let Some(p) = formula {
        println!(
            "\n{} predicts: service level {:.1} %, ASA {:.1} s, abandoned {:.1} %, occupancy {:.1} %",
            if a.patience.is_some() {
                "Erlang A"
            } else {
                "Erlang C"
            },
            p.service_level * 100.0,
            p.asa_seconds,
            p.p_abandon * 100.0,
            p.occupancy * 100.0
        );
        if a.short_abandon_seconds > 0.0 && a.patience.is_some() {
            println!(
                "(the simulated service level leaves out abandons under {} s; --short-abandon-seconds 0 compares like with like)",
                a.short_abandon_seconds
            );
        }
    }
    if let Some(path) = &a.csv {
        println!("per-interval figures written to {}", path.display());
    }
    Ok(())
}

/// Two menus on the same callers: the differences, then each menu's IVR section.
fn print_comparison(a: &SimArgs, c: &hotline_sim::ivr_report::Comparison) -> Result<()> {
    if let Some(path) = &a.csv {
        std::fs::write(path, c.first.intervals_csv())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if a.json {
        println!("{}", serde_json::to_string(c)?);
        return Ok(());
    }
    print!("{}", c.to_text());
    for (which, r) in [("first", &c.first), ("other", &c.other)] {
        if let Some(ivr) = &r.ivr {
            print!("\n{which} menu — {}", ivr.to_text(8));
        }
    }
    Ok(())
}
