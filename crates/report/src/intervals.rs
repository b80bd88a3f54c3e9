//! The queue interval report: one row per interval per queue, then each queue's totals.

use crate::{Period, ReportError, check_known, round1, seconds};
use hotline_acd::kpi::{self, ServiceLevelFormula, Tally};
use hotline_store::{IntervalFigures, IntervalRecord, Millis, Store};
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
}

impl QueueRow {
    fn of(start: Option<Millis>, queue: &str, t: &Tally, formula: ServiceLevelFormula) -> QueueRow {
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
        }
    }
}

/// The interval report: rows by interval, then totals by queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalReport {
    /// One per interval per queue, in time order.
    pub rows: Vec<QueueRow>,
    /// One per queue.
    pub totals: Vec<QueueRow>,
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
/// interval in two parts) —, only `queues` when some are named.
pub fn intervals(
    store: &Store,
    period: Period,
    queues: &[String],
    minutes: u64,
) -> Result<IntervalReport, ReportError> {
    if ![15, 30, 60].contains(&minutes) {
        return Err(ReportError::Invalid(format!(
            "an interval is 15, 30 or 60 minutes, not {minutes}"
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
    let mut slots: BTreeMap<(Millis, &str), (Tally, ServiceLevelFormula)> = BTreeMap::new();
    let mut totals: BTreeMap<&str, (Tally, ServiceLevelFormula)> = BTreeMap::new();
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
        if !queues.is_empty() && !queues.contains(queue) {
            continue;
        }
        let slot = r.start - r.start % slot_ms;
        for e in [
            slots
                .entry((slot, queue.as_str()))
                .or_insert((Tally::default(), *formula)),
            totals
                .entry(queue.as_str())
                .or_insert((Tally::default(), *formula)),
        ] {
            e.0.merge(tally);
            e.1 = *formula;
        }
    }
    Ok(IntervalReport {
        rows: slots
            .iter()
            .map(|((slot, q), (t, f))| QueueRow::of(Some(*slot), q, t, *f))
            .collect(),
        totals: totals
            .iter()
            .map(|(q, (t, f))| QueueRow::of(None, q, t, *f))
            .collect(),
    })
}
