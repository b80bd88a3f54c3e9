//! Summaries over replications: estimates with 95 % confidence intervals, per queue and
//! per statistics interval, as text, JSON (serde) and CSV.

use crate::driver::{Figures, IntervalFigures, Outcome};
use crate::scenario::{Compiled, Stop};
use crate::stats::Estimate;
use hotline_acd::Span;
use hotline_acd::kpi::{self, ServiceLevelFormula, Tally};
use serde::Serialize;
use std::fmt::Write as _;

/// Estimates of the standard figures.
#[derive(Debug, Clone, Serialize)]
pub struct Estimates {
    /// Calls offered per replication.
    pub offered: Option<Estimate>,
    /// Share of calls that had to queue.
    pub p_wait: Option<Estimate>,
    /// Service level under the queue's formula (overall: answered within T ÷ (answered
    /// + abandoned − short abandons)).
    pub service_level: Option<Estimate>,
    /// Mean wait of answered calls, seconds.
    pub asa_seconds: Option<Estimate>,
    /// Abandoned ÷ (answered + abandoned).
    pub p_abandon: Option<Estimate>,
    /// Agents' busy ÷ staffed time.
    pub occupancy: Option<Estimate>,
    /// Average handle time (talk + hold + wrap-up), seconds.
    pub aht_seconds: Option<Estimate>,
}

fn per_rep(values: impl Iterator<Item = Option<f64>>) -> Option<Estimate> {
    let v: Vec<f64> = values.flatten().collect();
    Estimate::of(&v)
}

fn secs(s: Option<Span>) -> Option<f64> {
    s.map(Span::as_secs_f64)
}

impl Estimates {
    fn of(figs: &[&Figures], formula: ServiceLevelFormula) -> Estimates {
        let t = |f: &&Figures| f.tally;
        Estimates {
            offered: per_rep(figs.iter().map(|f| Some(f.tally.offered as f64))),
            p_wait: per_rep(figs.iter().map(|f| {
                let n = f.tally.answered + f.tally.abandoned;
                (n > 0).then(|| f.waited as f64 / n as f64)
            })),
            service_level: per_rep(figs.iter().map(|f| kpi::service_level(&t(f), formula))),
            asa_seconds: per_rep(
                figs.iter()
                    .map(|f| secs(kpi::average_speed_of_answer(&t(f)))),
            ),
            p_abandon: per_rep(figs.iter().map(|f| kpi::abandon_rate(&t(f)))),
            occupancy: per_rep(figs.iter().map(|f| kpi::occupancy(f.busy, f.staffed))),
            aht_seconds: per_rep(figs.iter().map(|f| secs(kpi::average_handle_time(&t(f))))),
        }
    }
}

/// One queue's figures.
#[derive(Debug, Clone, Serialize)]
pub struct QueueReport {
    /// Queue name.
    pub name: String,
    /// Its estimates (occupancy is reported overall only).
    #[serde(flatten)]
    pub estimates: Estimates,
}

/// One statistics interval over the replications.
#[derive(Debug, Clone, Serialize)]
pub struct IntervalRow {
    /// Start, seconds from 00:00 of the run.
    pub start_seconds: f64,
    /// End.
    pub end_seconds: f64,
    /// Calls offered in the interval.
    pub offered: Option<Estimate>,
    /// Service level of the interval's events.
    pub service_level: Option<Estimate>,
    /// ASA, seconds.
    pub asa_seconds: Option<Estimate>,
    /// Abandon rate.
    pub abandon_rate: Option<Estimate>,
    /// Occupancy.
    pub occupancy: Option<Estimate>,
    /// AHT, seconds.
    pub aht_seconds: Option<Estimate>,
    /// Longest wait answered or abandoned, seconds.
    pub longest_wait_seconds: Option<Estimate>,
    /// Calls that left the IVR in the interval (runs with an IVR).
    pub ivr_calls: Option<Estimate>,
    /// Of them, the share finished there.
    pub ivr_containment: Option<Estimate>,
}

/// The result of a simulation.
#[derive(Debug, Clone, Serialize)]
pub struct SimReport {
    /// Scenario name.
    pub scenario: String,
    /// Replications run.
    pub replications: u32,
    /// Master seed.
    pub seed: u64,
    /// Arrivals simulated in all replications (warm-up and retrials included).
    pub calls_simulated: u64,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
    /// Simulated calls per wall-clock second.
    pub calls_per_second: f64,
    /// All queues together.
    pub overall: Estimates,
    /// Per queue.
    pub queues: Vec<QueueReport>,
    /// Per statistics interval (runs measured in hours).
    pub intervals: Vec<IntervalRow>,
    /// The area outage, when the scenario has one.
    pub outage: Option<crate::outage::OutageReport>,
    /// The IVR, when the scenario has one.
    pub ivr: Option<crate::ivr_report::IvrReport>,
}

impl SimReport {
    /// Summarise replication outcomes.
    pub fn from_outcomes(sc: &Compiled, outcomes: &[Outcome], wall_seconds: f64) -> SimReport {
        let overall: Vec<&Figures> = outcomes.iter().map(|o| &o.overall).collect();
        let queues = sc
            .queue_names
            .iter()
            .enumerate()
            .map(|(q, name)| {
                let figs: Vec<&Figures> = outcomes.iter().map(|o| &o.queues[q]).collect();
                let mut estimates = Estimates::of(&figs, sc.queues[q].service_level_formula);
                estimates.occupancy = None;
                QueueReport {
                    name: name.clone(),
                    estimates,
                }
            })
            .collect();
        let intervals = match sc.stop {
            Stop::Time { end, .. } => {
                let n = outcomes
                    .iter()
                    .map(|o| o.intervals.len())
                    .max()
                    .unwrap_or(0);
                (0..n)
                    .filter_map(|i| {
                        let rows: Vec<&IntervalFigures> =
                            outcomes.iter().filter_map(|o| o.intervals.get(i)).collect();
                        let first = rows.iter().find(|r| r.end > 0.0)?;
                        (first.start < end).then(|| interval_row(first.start, first.end, &rows))
                    })
                    .collect()
            }
            Stop::Calls { .. } => Vec::new(),
        };
        let calls: u64 = outcomes.iter().map(|o| o.calls_simulated).sum();
        SimReport {
            scenario: sc.name.clone(),
            replications: outcomes.len() as u32,
            seed: sc.seed,
            calls_simulated: calls,
            wall_seconds,
            calls_per_second: if wall_seconds > 0.0 {
                calls as f64 / wall_seconds
            } else {
                0.0
            },
            overall: Estimates::of(&overall, ServiceLevelFormula::ExcludeShortAbandons),
            queues,
            intervals,
            outage: crate::outage::OutageReport::of(outcomes),
            ivr: crate::ivr_report::IvrReport::of(sc, outcomes),
        }
    }

    /// A readable report.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}", self.scenario);
        let _ = writeln!(
            s,
            "{} replication(s), seed {}, {} calls simulated in {:.2} s ({:.0} calls/s)\n",
            self.replications,
            self.seed,
            self.calls_simulated,
            self.wall_seconds,
            self.calls_per_second
        );
        let _ = writeln!(
            s,
            "{:<24} {:>10} {:>16} {:>16} {:>16} {:>16} {:>14}",
            "", "offered", "service level", "ASA (s)", "abandoned", "AHT (s)", "occupancy"
        );
        let mut line = |name: &str, e: &Estimates| {
            let _ = writeln!(
                s,
                "{} {:>10} {:>16} {:>16} {:>16} {:>16} {:>14}",
                pad(name, 24),
                fmt(e.offered, 1.0, 0),
                fmt(e.service_level, 100.0, 1),
                fmt(e.asa_seconds, 1.0, 1),
                fmt(e.p_abandon, 100.0, 1),
                fmt(e.aht_seconds, 1.0, 0),
                fmt(e.occupancy, 100.0, 1),
            );
        };
        line("all queues", &self.overall);
        for q in &self.queues {
            line(&q.name, &q.estimates);
        }

        let _ = writeln!(
            s,
            "\nservice level and abandoned in %, occupancy in %; ± is the 95 % confidence half-width over replications"
        );
        if let Some(ivr) = &self.ivr {
            let _ = writeln!(s, "\n{}", ivr.to_text(12));
        }
        s
    }

    /// The intervals as CSV: one row per interval, mean and 95 % half-width of each
    /// figure.
    pub fn intervals_csv(&self) -> String {
        let mut s = String::from(
            "start,end,offered,service_level,service_level_ci95,asa_seconds,asa_ci95,abandon_rate,abandon_rate_ci95,occupancy,occupancy_ci95,aht_seconds,aht_ci95,longest_wait_seconds,longest_wait_ci95,ivr_calls,ivr_containment,ivr_containment_ci95\n",
        );
        let hhmm = |t: f64| {
            let m = (t / 60.0).round() as u64;
            format!("{:02}:{:02}", (m / 60) % 24, m % 60)
        };
        let cell = |e: Option<Estimate>| match e {
            Some(e) => format!(
                "{:.4},{}",
                e.mean,
                e.ci95.map_or(String::new(), |h| format!("{h:.4}"))
            ),
            None => ",".to_string(),
        };
        for r in &self.intervals {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{},{},{},{}",
                hhmm(r.start_seconds),
                hhmm(r.end_seconds),
                r.offered
                    .map_or(String::new(), |e| format!("{:.1}", e.mean)),
                cell(r.service_level),
                cell(r.asa_seconds),
                cell(r.abandon_rate),
                cell(r.occupancy),
                cell(r.aht_seconds),
                cell(r.longest_wait_seconds),
                r.ivr_calls
                    .map_or(String::new(), |e| format!("{:.1}", e.mean)),
                cell(r.ivr_containment),
            );
        }
        s
    }
}

fn interval_row(start: f64, end: f64, rows: &[&IntervalFigures]) -> IntervalRow {
    let t = |r: &&IntervalFigures| -> Tally { r.tally };
    IntervalRow {
        start_seconds: start,
        end_seconds: end,
        offered: per_rep(rows.iter().map(|r| Some(r.tally.offered as f64))),
        service_level: per_rep(
            rows.iter()
                .map(|r| kpi::service_level(&t(r), ServiceLevelFormula::ExcludeShortAbandons)),
        ),
        asa_seconds: per_rep(
            rows.iter()
                .map(|r| secs(kpi::average_speed_of_answer(&t(r)))),
        ),
        abandon_rate: per_rep(rows.iter().map(|r| kpi::abandon_rate(&t(r)))),
        occupancy: per_rep(rows.iter().map(|r| kpi::occupancy(r.busy, r.staffed))),
        aht_seconds: per_rep(rows.iter().map(|r| secs(kpi::average_handle_time(&t(r))))),
        longest_wait_seconds: per_rep(rows.iter().map(|r| {
            (r.tally.answered + r.tally.abandoned > 0).then(|| r.tally.longest_wait.as_secs_f64())
        })),
        ivr_calls: if rows.iter().any(|r| r.ivr_calls > 0) {
            per_rep(rows.iter().map(|r| Some(r.ivr_calls as f64)))
        } else {
            None
        },
        ivr_containment: per_rep(
            rows.iter()
                .map(|r| kpi::containment(r.ivr_contained, r.ivr_calls)),
        ),
    }
}

/// Pad to `width` terminal cells: CJK characters take two.
pub fn pad(s: &str, width: usize) -> String {
    let cells: usize = s
        .chars()
        .map(|c| if matches!(c as u32, 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6) { 2 } else { 1 })
        .sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(cells)))
}

/// "81.2 ± 0.4" (scaled), or "—".
pub fn fmt(e: Option<Estimate>, scale: f64, decimals: usize) -> String {
    match e {
        Some(Estimate {
            mean,
            ci95: Some(h),
        }) => format!("{:.*} ± {:.*}", decimals, mean * scale, decimals, h * scale),
        Some(Estimate { mean, ci95: None }) => format!("{:.*}", decimals, mean * scale),
        None => "—".into(),
    }
}
