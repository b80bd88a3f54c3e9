//! The queue interval report: one row per interval per queue, then each queue's totals.

use crate::{Period, ReportError, check_known, round1, seconds};
use hotline_acd::kpi::{self, ServiceLevelFormula, Tally};
use hotline_erlang::{Load, pooled_need};
use hotline_store::{IntervalFigures, IntervalRecord, IvrBy, IvrTally, Millis, Store};
use serde::Serialize;
use std::collections::BTreeMap;

/// A queue's interval (or its totals over the period).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueRow {
    /// Start of the interval (none for a queue's totals).
    pub start: Option<Millis>,
    /// Queue.
    pub queue: String,
    /// Calls that entered the queue.
    pub offered: u64,
    /// Answered by an agent.
    pub answered: u64,
    /// Caller hung up waiting.
    pub abandoned: u64,
    /// Of them, within the short-abandon threshold.
    pub abandoned_short: u64,
    /// Answered within the queue's service-level threshold T.
    pub answered_within_threshold: u64,
    /// Service level by the queue's formula, percent.
    pub service_level: Option<f64>,
    /// Average speed of answer, seconds.
    pub asa_seconds: Option<f64>,
    /// Average handle time (talk + hold + wrap-up), seconds.
    pub aht_seconds: Option<f64>,
    /// Longest wait, seconds.
    pub longest_wait_seconds: f64,
    /// Transferred out of the queue.
    pub transferred_out: u64,
    /// Call-backs the callers accepted instead of waiting.
    pub callbacks_accepted: u64,
    /// Agents logged in to the queue on average over the row's kept time (an agent who
    /// may take several queues counts in each); none when the history has no staffed
    /// time.
    pub staffed_agents: Option<f64>,
    /// Agents the queue's own load needed to answer the target share within its T
    /// (Erlang C over the row's calls and handle time; on a queue's totals, the most any
    /// of its rows needed); none without calls or handle time.
    pub required_agents: Option<u32>,
}

/// What one row adds up: the counters, the queue's formula and T, its staffed time,
/// the time its kept intervals cover, and the agents it needed (for totals, the most
/// any of its rows needed).
#[derive(Clone, Copy)]
struct Sum {
    tally: Tally,
    formula: ServiceLevelFormula,
    sl_seconds: u32,
    staffed_ms: u64,
    covered_ms: u64,
    required: Option<u32>,
}

impl Sum {
    fn new(formula: ServiceLevelFormula, sl_seconds: u32) -> Sum {
        Sum {
            tally: Tally::default(),
            formula,
            sl_seconds,
            staffed_ms: 0,
            covered_ms: 0,
            required: None,
        }
    }

    /// The queue's load over the time its kept intervals cover.
    fn load(&self) -> Load {
        Load {
            calls_per_hour: self.tally.offered as f64 * 3_600_000.0 / self.covered_ms.max(1) as f64,
            aht: kpi::average_handle_time(&self.tally).map_or(0.0, seconds),
            sl_seconds: f64::from(self.sl_seconds),
        }
    }

    /// Erlang C's need of this load for `target`.
    fn need(&self, target: f64) -> Option<u32> {
        let load = self.load();
        (load.aht > 0.0)
            .then(|| pooled_need(&[load], target))
            .flatten()
    }
}

impl QueueRow {
    fn of(start: Option<Millis>, queue: &str, s: &Sum) -> QueueRow {
        let t = &s.tally;
        let formula = s.formula;
        QueueRow {
            start,
            queue: queue.to_string(),
            offered: t.offered,
            answered: t.answered,
            abandoned: t.abandoned,
            abandoned_short: t.abandoned_short,
            answered_within_threshold: t.answered_within_threshold,
            service_level: kpi::service_level(t, formula).map(|x| round1(x * 100.0)),
            asa_seconds: kpi::average_speed_of_answer(t).map(|s| round1(seconds(s))),
            aht_seconds: kpi::average_handle_time(t).map(|s| round1(seconds(s))),
            longest_wait_seconds: seconds(t.longest_wait),
            transferred_out: t.transferred_out,
            callbacks_accepted: t.callbacks_accepted,
            staffed_agents: (s.staffed_ms > 0 && s.covered_ms > 0)
                .then(|| round1(s.staffed_ms as f64 / s.covered_ms as f64)),
            required_agents: s.required,
        }
    }
}

/// The whole floor in one interval: every queue's calls together against every agent
/// logged in — the least the floor needed, as if each of those agents could take each
/// queue's calls (the pooled advice of the wallboard, over the past).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FloorRow {
    /// Start of the interval.
    pub start: Millis,
    /// Calls offered to all queues.
    pub offered: u64,
    /// Agents logged in on average (from the agents' own intervals: each agent once).
    pub staffed_agents: Option<f64>,
    /// Agents the floor's load needed for the target (Erlang C over the queues' loads
    /// together).
    pub required_agents: Option<u32>,
    /// Required − staffed: agents short (negative: to spare).
    pub short: Option<f64>,
}

/// The IVR in one interval, by the route callers took or the self-service they tried:
/// the calls that left it then.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IvrRow {
    /// Start of the interval.
    pub start: Millis,
    /// By route or by service.
    pub by: IvrBy,
    /// The route (`welcome › bill`) or the service (`bill`).
    pub key: String,
    /// Calls that left the IVR.
    pub calls: u64,
    /// Finished in the IVR by a self-service.
    pub contained: u64,
    /// Contained ÷ calls (the KPI module's containment), percent.
    pub containment: Option<f64>,
    /// Sent on to a queue.
    pub to_agent: u64,
    /// Gone from the IVR without a service finished.
    pub hung_up: u64,
    /// Mean time in the IVR, seconds.
    pub mean_ivr_seconds: Option<f64>,
}

/// The interval report: rows by interval, then totals by queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalReport {
    /// One per interval per queue, in time order.
    pub rows: Vec<QueueRow>,
    /// One per queue.
    pub totals: Vec<QueueRow>,
    /// The floor, one per interval (only when no queue was named).
    pub floor: Vec<FloorRow>,
    /// The IVR, one per interval per route and per service (only when no queue was
    /// named).
    pub ivr: Vec<IvrRow>,
}

/// The queues the kept intervals are of.
pub(crate) fn queue_names(kept: &[IntervalRecord]) -> impl Iterator<Item = &str> + Clone {
    kept.iter().filter_map(|r| match &r.figures {
        IntervalFigures::Queue { queue, .. } => Some(queue.as_str()),
        _ => None,
    })
}

/// The queue intervals kept in `period`, `minutes` (15, 30 or 60) to a row — the kept
/// intervals within one are added up (a router restarted mid-interval kept that
/// interval in two parts) —, only `queues` when some are named; agents required for
/// `target` (a share, e.g. 0.8) of calls answered within each queue's T.
pub fn intervals(
    store: &Store,
    period: Period,
    queues: &[String],
    minutes: u64,
    target: f64,
) -> Result<IntervalReport, ReportError> {
    if ![15, 30, 60].contains(&minutes) {
        return Err(ReportError::Invalid(format!(
            "an interval is 15, 30 or 60 minutes, not {minutes}"
        )));
    }
    if !(target > 0.0 && target < 1.0) {
        return Err(ReportError::Invalid(format!(
            "a service-level target is a share between 0 and 1 (0.8 for 80 %), not {target}"
        )));
    }
    let slot_ms = minutes * 60_000;
    let kept = store.intervals(period.from, period.to, usize::MAX)?;
    check_known(
        "queue",
        "the history of this period",
        queues,
        queue_names(&kept),
    )?;
    let mut slots: BTreeMap<(Millis, &str), Sum> = BTreeMap::new();
    // the agents' staffed time by slot, for the floor
    let mut agents_staffed: BTreeMap<Millis, u64> = BTreeMap::new();
    let mut ivr: BTreeMap<(Millis, IvrBy, &str), IvrTally> = BTreeMap::new();
    for r in &kept {
        let slot = r.start - r.start % slot_ms;
        match &r.figures {
            IntervalFigures::Queue {
                queue,
                tally,
                formula,
                staffed_ms,
                sl_seconds,
                ..
            } if queues.is_empty() || queues.contains(queue) => {
                let s = slots
                    .entry((slot, queue.as_str()))
                    .or_insert_with(|| Sum::new(*formula, *sl_seconds));
                s.tally.merge(tally);
                (s.formula, s.sl_seconds) = (*formula, *sl_seconds);
                s.staffed_ms += staffed_ms;
                s.covered_ms += r.end.saturating_sub(r.start);
            }
            IntervalFigures::Agent { tally, .. } => {
                *agents_staffed.entry(slot).or_default() += tally.staffed().0 / 1000;
            }
            IntervalFigures::Ivr { by, key, tally } => {
                ivr.entry((slot, *by, key.as_str()))
                    .or_default()
                    .merge(tally);
            }
            _ => {}
        }
    }
    let mut totals: BTreeMap<&str, Sum> = BTreeMap::new();
    // by slot: calls offered, time covered, the queues' loads
    let mut floor: BTreeMap<Millis, (u64, Millis, Vec<Load>)> = BTreeMap::new();
    for (&(slot, queue), s) in slots.iter_mut() {
        let load = s.load();
        s.required = s.need(target);
        let t = totals
            .entry(queue)
            .or_insert_with(|| Sum::new(s.formula, s.sl_seconds));
        t.tally.merge(&s.tally);
        (t.formula, t.sl_seconds) = (s.formula, s.sl_seconds);
        t.staffed_ms += s.staffed_ms;
        t.covered_ms += s.covered_ms;
        t.required = t.required.max(s.required);
        let f = floor.entry(slot).or_default();
        f.0 += s.tally.offered;
        f.1 = f.1.max(s.covered_ms);
        if load.aht > 0.0 {
            f.2.push(load);
        }
    }
    let floor = if queues.is_empty() {
        floor
            .into_iter()
            .map(|(start, (offered, covered, loads))| {
                let staffed = agents_staffed
                    .get(&start)
                    .filter(|_| covered > 0)
                    .map(|ms| round1(*ms as f64 / covered as f64));
                let required = pooled_need(&loads, target);
                FloorRow {
                    start,
                    offered,
                    staffed_agents: staffed,
                    required_agents: required,
                    short: staffed
                        .zip(required)
                        .map(|(have, need)| round1(f64::from(need) - have)),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let ivr = if queues.is_empty() {
        ivr.into_iter()
            .map(|((start, by, key), t)| IvrRow {
                start,
                by,
                key: key.to_string(),
                calls: t.calls,
                contained: t.contained,
                containment: kpi::containment(t.contained, t.calls).map(|x| round1(x * 100.0)),
                to_agent: t.to_agent,
                hung_up: t.hung_up,
                mean_ivr_seconds: (t.calls > 0)
                    .then(|| round1(t.ivr_ms as f64 / 1000.0 / t.calls as f64)),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(IntervalReport {
        rows: slots
            .iter()
            .map(|((slot, q), s)| QueueRow::of(Some(*slot), q, s))
            .collect(),
        totals: totals
            .iter()
            .map(|(q, s)| QueueRow::of(None, q, s))
            .collect(),
        floor,
        ivr,
    })
}
