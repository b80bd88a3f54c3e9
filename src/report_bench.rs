//! `hotline bench report`: how long each report takes over a period of a seeded store,
//! beside the bare read of that period's interactions (the reference a report cannot
//! beat: the ratio is the figure that travels), with peak memory.

use anyhow::{Context, Result};
use clap::Args;
use hotline_report::{self as report, AreaLevel, CustomerFilter, Period, SatisfactionDimension};
use hotline_store::seed::DEFAULT_NOW;
use hotline_store::{Catalog, Store};
use std::time::Instant;

/// What `hotline bench report` measures.
#[derive(Args)]
pub struct ReportBench {
    /// A store seeded with `hotline seed` (its history ends at the seeder's clock,
    /// 2026-11-01 00:00 UTC): a directory or a postgres:// address.
    #[arg(long)]
    store: String,
    /// Days in the period, ending at the seeder's clock.
    #[arg(long, default_value_t = 30)]
    days: u64,
    /// Runs of each report (the figures are the fastest and the slowest).
    #[arg(long, default_value_t = 2)]
    runs: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// A sled store's page cache, MB (as `hotline report --cache-mb`).
    #[arg(long, default_value_t = crate::report_cmd::REPORT_CACHE_MB)]
    cache_mb: u64,
}

/// Run it.
pub fn run(a: &ReportBench) -> Result<()> {
    let store = Store::at_with_cache(&a.store, Catalog::builtin(), true, a.cache_mb << 20)
        .with_context(|| format!("opening {}", hotline_store::location_words(&a.store)))?;
    let period = Period::new(DEFAULT_NOW - a.days * 86_400_000, DEFAULT_NOW)?;
    let now = DEFAULT_NOW;
    let runs = a.runs.max(1);
    // the reference: read the period's interactions and nothing else
    let reference = timed(runs, || {
        let mut n = 0;
        store.each_interaction_between(period.from, period.to, |_| {
            n += 1;
            Ok(())
        })?;
        Ok(n)
    })?;
    let interactions = reference.rows;
    type Job<'a> = (&'static str, Box<dyn Fn() -> Result<usize> + 'a>);
    let s = &store;
    let jobs: Vec<Job<'_>> = vec![
        (
            // the decoding floor: every contact of the store read in key order (no
            // index, no random reads), to set beside the period's share of it
            "(all, by id)",
            Box::new(move || {
                let engine = s.engine();
                let (mut after, mut n) = (0, 0);
                loop {
                    let page = engine.interactions_after(after, 1000)?;
                    let Some(last) = page.last() else {
                        return Ok(n);
                    };
                    after = last.id;
                    n += page.len();
                }
            }),
        ),
        (
            "intervals",
            Box::new(move || Ok(report::intervals(s, period, &[], 15, 0.8)?.rows.len())),
        ),
        (
            "agents",
            Box::new(move || Ok(report::agents(s, period, now, &[], &[])?.len())),
        ),
        (
            "hotspots",
            Box::new(move || Ok(report::hotspots(s, period, AreaLevel::Area, &[], 20)?.len())),
        ),
        (
            "reasons",
            Box::new(move || {
                Ok(report::reasons(s, period, &[], &CustomerFilter::everyone())?.len())
            }),
        ),
        (
            "satisfaction",
            Box::new(move || {
                Ok(report::satisfaction(
                    s,
                    period,
                    &SatisfactionDimension::ALL,
                    &CustomerFilter::everyone(),
                )?
                .len())
            }),
        ),
        (
            "key-accounts",
            Box::new(move || Ok(report::key_accounts(s, period, now, &[])?.managers.len())),
        ),
        (
            "self-service",
            Box::new(move || {
                Ok(report::self_service(s, period, &CustomerFilter::everyone())?.len())
            }),
        ),
        (
            "repeat-callers",
            Box::new(move || {
                Ok(report::repeat_callers(s, period, 3, 50, &CustomerFilter::everyone())?.len())
            }),
        ),
        (
            "tickets",
            Box::new(move || {
                Ok(report::tickets(s, period, now, &[], &CustomerFilter::everyone())?.len())
            }),
        ),
    ];
    let mut results = Vec::new();
    for (name, job) in &jobs {
        results.push((*name, timed(runs, job)?));
    }
    let peak = crate::bench::rss_mb(std::process::id()).map(|m| m.1);
    if a.json {
        let reports: serde_json::Map<String, serde_json::Value> = results
            .iter()
            .map(|(n, t)| {
                (
                    n.to_string(),
                    serde_json::json!({
                        "fastest_s": t.fastest, "slowest_s": t.slowest, "rows": t.rows,
                        "times_reference": t.fastest / reference.fastest.max(1e-9),
                    }),
                )
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "store": hotline_store::location_words(&a.store), "days": a.days,
                "interactions": interactions, "runs": runs,
                "reference_scan_s": reference.fastest, "reference_scan_slowest_s": reference.slowest,
                "reports": reports, "peak_rss_mb": peak,
            })
        );
        return Ok(());
    }
    println!(
        "{} days of {}: {interactions} interactions; each report {runs}×, fastest–slowest",
        a.days,
        hotline_store::location_words(&a.store)
    );
    println!(
        "{:<16} {:>9} {:>9} {:>7} {:>12}",
        "report", "fastest s", "slowest s", "rows", "× reference"
    );
    println!(
        "{:<16} {:>9.3} {:>9.3} {:>7} {:>12}",
        "(bare scan)", reference.fastest, reference.slowest, interactions, "1.0"
    );
    for (n, t) in &results {
        println!(
            "{:<16} {:>9.3} {:>9.3} {:>7} {:>12.1}",
            n,
            t.fastest,
            t.slowest,
            t.rows,
            t.fastest / reference.fastest.max(1e-9)
        );
    }
    if let Some(p) = peak {
        println!("peak resident memory {p:.0} MB");
    }
    Ok(())
}

struct Timing {
    fastest: f64,
    slowest: f64,
    rows: usize,
}

fn timed(runs: usize, mut f: impl FnMut() -> Result<usize>) -> Result<Timing> {
    let (mut fastest, mut slowest, mut rows) = (f64::MAX, 0.0f64, 0);
    for _ in 0..runs {
        let t = Instant::now();
        rows = f()?;
        let s = t.elapsed().as_secs_f64();
        fastest = fastest.min(s);
        slowest = slowest.max(s);
    }
    Ok(Timing {
        fastest,
        slowest,
        rows,
    })
}
