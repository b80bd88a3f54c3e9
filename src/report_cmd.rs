//! `hotline report`: the hotline's history as reports, read from the store the router
//! keeps its closed statistics intervals in. First of them: `intervals`, the queue
//! interval report — one row per interval per queue, then each queue's totals, every
//! figure by the KPI module's one definition (a total is the merge of its intervals'
//! counters, so a period's report is the sum of its intervals).

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use hotline_acd::kpi::{self, ServiceLevelFormula, Tally};
use hotline_store::{Catalog, IntervalFigures, Millis, Store};
use serde::Serialize;
use std::collections::BTreeMap;

/// Reports over the kept history.
#[derive(Subcommand)]
pub enum ReportCommand {
    /// The queue interval report: one row per interval per queue, then each queue's
    /// totals (offered, answered, abandoned, SL, ASA, AHT, longest wait …).
    Intervals(IntervalsArgs),
    /// Agents over a period (appraisal): offers, answers, rejects, ring-no-answer, handle
    /// time and its split, occupancy, not-ready time, FCR handled/claimed/verified.
    Agents(AgentsArgs),
}

/// What `hotline report intervals` reports on.
#[derive(Args)]
pub struct IntervalsArgs {
    #[command(flatten)]
    period: Period,
    /// Only this queue (repeat for several).
    #[arg(long = "queue")]
    queues: Vec<String>,
    /// Minutes in a row: 15, 30 or 60. The kept intervals within one are added up (a
    /// router restarted mid-interval kept that interval in two parts).
    #[arg(long, default_value_t = 15)]
    minutes: u64,
}

/// What `hotline report agents` reports on.
#[derive(Args)]
pub struct AgentsArgs {
    #[command(flatten)]
    period: Period,
    /// Only this agent (work number; repeat for several).
    #[arg(long = "agent")]
    agents: Vec<String>,
}

/// The store, the period and the output of a report.
#[derive(Args)]
struct Period {
    /// The store: a directory (sled) or a postgres:// address.
    #[arg(long, default_value = "hotline-store")]
    store: String,
    /// Start of the period: a date (2026-12-01, from midnight) or a time (2026-12-01T08:00),
    /// in the time zone of --tz.
    #[arg(long)]
    from: String,
    /// End of the period (not included), as --from.
    #[arg(long)]
    to: String,
    /// Time zone of the period and of the rows' times.
    #[arg(long, default_value = "Asia/Shanghai")]
    tz: String,
    /// One JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// CSV instead of a table.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
}

/// The longest period one report covers.
const MOST_DAYS: i64 = 366;

/// One row: a queue's interval, or its totals.
#[derive(Debug, Serialize)]
struct Row {
    /// Local start of the interval ("total" for a queue's totals).
    start: String,
    queue: String,
    offered: u64,
    answered: u64,
    abandoned: u64,
    abandoned_short: u64,
    answered_within_threshold: u64,
    /// Service level by the queue's formula, percent.
    service_level: Option<f64>,
    /// Average speed of answer, seconds.
    asa_seconds: Option<f64>,
    /// Average handle time, seconds.
    aht_seconds: Option<f64>,
    longest_wait_seconds: f64,
    transferred_out: u64,
    callbacks_accepted: u64,
}

impl Row {
    fn of(start: String, queue: &str, t: &Tally, formula: ServiceLevelFormula) -> Row {
        let secs = |s: hotline_acd::Span| s.0 as f64 / 1e6;
        Row {
            start,
            queue: queue.to_string(),
            offered: t.offered,
            answered: t.answered,
            abandoned: t.abandoned,
            abandoned_short: t.abandoned_short,
            answered_within_threshold: t.answered_within_threshold,
            service_level: kpi::service_level(t, formula).map(|x| (x * 1000.0).round() / 10.0),
            asa_seconds: kpi::average_speed_of_answer(t).map(|s| (secs(s) * 10.0).round() / 10.0),
            aht_seconds: kpi::average_handle_time(t).map(|s| (secs(s) * 10.0).round() / 10.0),
            longest_wait_seconds: secs(t.longest_wait),
            transferred_out: t.transferred_out,
            callbacks_accepted: t.callbacks_accepted,
        }
    }
}

/// Run a report.
pub fn run(c: &ReportCommand) -> Result<()> {
    match c {
        ReportCommand::Intervals(a) => intervals(a),
        ReportCommand::Agents(a) => agents(a),
    }
}

/// A date or a time in `tz`, as ms since the epoch.
fn instant(what: &str, text: &str, tz: &jiff::tz::TimeZone) -> Result<Millis> {
    let t = text.trim();
    let civil = t
        .parse::<jiff::civil::DateTime>()
        .or_else(|_| {
            t.parse::<jiff::civil::Date>()
                .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
        })
        .with_context(|| {
            format!("--{what} '{text}' is not a date (2026-12-01) or a time (2026-12-01T08:00)")
        })?;
    let ms = civil
        .to_zoned(tz.clone())
        .with_context(|| format!("--{what} '{text}' is not a time in that zone"))?
        .timestamp()
        .as_millisecond();
    Millis::try_from(ms).with_context(|| format!("--{what} '{text}' is before 1970"))
}

fn local(ms: Millis, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms as i64)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| ms.to_string())
}

/// A period read and checked, and its store opened.
struct Opened {
    tz: jiff::tz::TimeZone,
    from: Millis,
    to: Millis,
    store: Store,
}

impl Period {
    fn open(&self) -> Result<Opened> {
        let a = self;
        let tz = jiff::tz::TimeZone::get(&a.tz)
            .with_context(|| format!("--tz '{}' is not a time zone (e.g. Asia/Shanghai)", a.tz))?;
        let (from, to) = (instant("from", &a.from, &tz)?, instant("to", &a.to, &tz)?);
        if to <= from {
            bail!(
                "the period ends ({}) before it starts ({}): --to must come after --from",
                local(to, &tz),
                local(from, &tz)
            );
        }
        if to - from > MOST_DAYS as u64 * 86_400_000 {
            bail!(
                "a report covers at most {MOST_DAYS} days; this period is {} days",
                (to - from) / 86_400_000
            );
        }
        let store = Store::at(&a.store, Catalog::builtin(), true).with_context(|| {
            format!(
                "opening the store {}",
                hotline_store::location_words(&a.store)
            )
        })?;
        Ok(Opened {
            tz,
            from,
            to,
            store,
        })
    }

    /// Print `rows` then `totals` as JSON, CSV or a table.
    fn print<R: Serialize>(
        &self,
        o: &Opened,
        rows: &[R],
        totals: &[R],
        table: impl Fn(),
    ) -> Result<()> {
        if self.json {
            let out = serde_json::json!({
                "from": local(o.from, &o.tz), "to": local(o.to, &o.tz), "tz": self.tz,
                "rows": rows, "totals": totals,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        } else if self.csv {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            for r in rows.iter().chain(totals) {
                w.serialize(r)?;
            }
            w.flush()?;
        } else {
            table();
        }
        Ok(())
    }
}

fn intervals(a: &IntervalsArgs) -> Result<()> {
    let o = a.period.open()?;
    let (tz, from, to, store) = (&o.tz, o.from, o.to, &o.store);
    if ![15, 30, 60].contains(&a.minutes) {
        bail!("--minutes must be 15, 30 or 60, got {}", a.minutes);
    }
    let slot_ms = a.minutes * 60_000;
    let kept = store.intervals(from, to, usize::MAX)?;
    let mut slots: BTreeMap<(Millis, String), (Tally, ServiceLevelFormula)> = BTreeMap::new();
    let mut totals: BTreeMap<String, (Tally, ServiceLevelFormula)> = BTreeMap::new();
    for r in &kept {
        let IntervalFigures::Queue {
            queue,
            tally,
            formula,
            ..
        } = &r.figures
        else {
            continue;
        };
        if !a.queues.is_empty() && !a.queues.contains(queue) {
            continue;
        }
        let slot = r.start - r.start % slot_ms;
        for e in [
            slots
                .entry((slot, queue.clone()))
                .or_insert((Tally::default(), *formula)),
            totals
                .entry(queue.clone())
                .or_insert((Tally::default(), *formula)),
        ] {
            e.0.merge(tally);
            e.1 = *formula;
        }
    }
    let rows: Vec<Row> = slots
        .iter()
        .map(|((slot, q), (t, f))| Row::of(local(*slot, tz), q, t, *f))
        .collect();
    for q in &a.queues {
        if !totals.contains_key(q) {
            let seen: std::collections::BTreeSet<&str> = kept
                .iter()
                .filter_map(|r| match &r.figures {
                    IntervalFigures::Queue { queue, .. } => Some(queue.as_str()),
                    IntervalFigures::Agent { .. } => None,
                })
                .collect();
            bail!(
                "no queue '{q}' in the history of this period (queues there: {})",
                if seen.is_empty() {
                    "none".to_string()
                } else {
                    seen.into_iter().collect::<Vec<_>>().join(", ")
                }
            );
        }
    }
    let total_rows: Vec<Row> = totals
        .iter()
        .map(|(q, (t, f))| Row::of("total".into(), q, t, *f))
        .collect();
    a.period
        .print(&o, &rows, &total_rows, || table(&rows, &total_rows))
}

/// One agent over the period.
#[derive(Debug, Serialize)]
struct AgentRow {
    agent: String,
    offers: u64,
    answered: u64,
    rejected: u64,
    /// Offers that rang out (ring-no-answer, RONA).
    no_answer: u64,
    /// Legs wrapped up.
    handled: u64,
    /// Average handle time (talk + hold + wrap-up per handled leg), seconds.
    aht_seconds: Option<f64>,
    talk_seconds: f64,
    hold_seconds: f64,
    wrap_up_seconds: f64,
    /// Busy ÷ staffed, percent.
    occupancy: Option<f64>,
    staffed_seconds: f64,
    not_ready_seconds: f64,
    /// Contacts the agent wrapped up, those claimed resolved at first contact, and of
    /// the claims those verified (no repeat within the window).
    fcr_handled: u64,
    fcr_claimed: u64,
    fcr_verified: u64,
}

fn agents(a: &AgentsArgs) -> Result<()> {
    use hotline_acd::{AgentStateKind, Span};
    let o = a.period.open()?;
    let mut sums: BTreeMap<String, hotline_acd::stats::AgentTally> = BTreeMap::new();
    for r in o.store.intervals(o.from, o.to, usize::MAX)? {
        if let IntervalFigures::Agent { agent, tally } = r.figures {
            sums.entry(agent).or_default().merge(&tally);
        }
    }
    for wanted in &a.agents {
        if !sums.contains_key(wanted) {
            bail!("no agent '{wanted}' in the history of this period");
        }
    }
    let fcr = o.store.fcr_tally(o.from, o.to)?.by_agent;
    let secs = |s: Span| s.0 as f64 / 1e6;
    let rows: Vec<AgentRow> = sums
        .iter()
        .filter(|(id, _)| a.agents.is_empty() || a.agents.contains(id))
        .map(|(id, t)| {
            let f = fcr.get(id).copied().unwrap_or_default();
            let handle = t.talk + t.hold + t.wrap_up;
            AgentRow {
                agent: id.clone(),
                offers: t.offers,
                answered: t.answered,
                rejected: t.rejected,
                no_answer: t.no_answer,
                handled: t.handled,
                aht_seconds: (t.handled > 0)
                    .then(|| (secs(handle) / t.handled as f64 * 10.0).round() / 10.0),
                talk_seconds: secs(t.talk),
                hold_seconds: secs(t.hold),
                wrap_up_seconds: secs(t.wrap_up),
                occupancy: kpi::occupancy(t.busy(), t.staffed())
                    .map(|x| (x * 1000.0).round() / 10.0),
                staffed_seconds: secs(t.staffed()),
                not_ready_seconds: secs(t.time_in_state[AgentStateKind::NotReady.index()]),
                fcr_handled: f.handled,
                fcr_claimed: f.claimed,
                fcr_verified: f.verified,
            }
        })
        .collect();
    a.period.print(&o, &rows, &[], || {
        let opt = |x: Option<f64>| x.map_or("—".to_string(), |v| format!("{v:.1}"));
        println!(
            "{:<8} {:>6} {:>8} {:>8} {:>6} {:>7} {:>6} {:>7} {:>6} {:>7} {:>6} {:>9} {:>8}",
            "agent", "offers", "answered", "rejected", "RONA", "handled", "AHT s", "talk s",
            "hold s", "wrap s", "occ %", "FCR claim", "verified"
        );
        for r in &rows {
            println!(
                "{:<8} {:>6} {:>8} {:>8} {:>6} {:>7} {:>6} {:>7.0} {:>6.0} {:>7.0} {:>6} {:>9} {:>8}",
                r.agent, r.offers, r.answered, r.rejected, r.no_answer, r.handled,
                opt(r.aht_seconds), r.talk_seconds, r.hold_seconds, r.wrap_up_seconds,
                opt(r.occupancy), r.fcr_claimed, r.fcr_verified
            );
        }
    })
}

/// The rows as an aligned table.
fn table(rows: &[Row], totals: &[Row]) {
    let opt = |x: Option<f64>| x.map_or("—".to_string(), |v| format!("{v:.1}"));
    println!(
        "{:<16} {:<14} {:>7} {:>8} {:>9} {:>6} {:>7} {:>6} {:>6} {:>6} {:>8}",
        "interval",
        "queue",
        "offered",
        "answered",
        "abandoned",
        "short",
        "SL %",
        "ASA s",
        "AHT s",
        "max s",
        "transfer"
    );
    for (k, r) in rows.iter().chain(totals).enumerate() {
        if k == rows.len() {
            println!("{}", "-".repeat(102));
        }
        println!(
            "{:<16} {:<14} {:>7} {:>8} {:>9} {:>6} {:>7} {:>6} {:>6} {:>6.0} {:>8}",
            r.start,
            r.queue,
            r.offered,
            r.answered,
            r.abandoned,
            r.abandoned_short,
            opt(r.service_level),
            opt(r.asa_seconds),
            opt(r.aht_seconds),
            r.longest_wait_seconds,
            r.transferred_out
        );
    }
}
