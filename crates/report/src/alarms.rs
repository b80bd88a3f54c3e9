//! The alarms the router raised on its queues' live figures: when each was raised, how
//! bad its figure got, when it cleared and how long it stood.

use crate::{Period, ReportError, check_known};
use hotline_store::{IntervalFigures, Millis, Store};
use serde::Serialize;

/// One alarm, raised in the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmRow {
    /// When it was raised.
    pub start: Millis,
    /// The queue.
    pub queue: String,
    /// The rule (`service-level-below`, `longest-wait-above`, `waiting-above`,
    /// `ready-below`, `abandon-rate-above`).
    pub rule: String,
    /// The rule's threshold then.
    pub threshold: f64,
    /// The figure when it was raised.
    pub raised_at: f64,
    /// The worst the figure was.
    pub worst: f64,
    /// When it cleared (none: still standing when last written).
    pub cleared: Option<Millis>,
    /// The router stopped at this time with the alarm still standing (never cleared).
    pub router_stopped: Option<Millis>,
    /// Minutes it stood (to its clearing or the router's stop; none while standing).
    pub minutes: Option<f64>,
}

/// The alarms raised in `period`, by when, only `queues`' when some are named (a queue
/// must be one the period's history knows).
pub fn alarms(
    store: &Store,
    period: Period,
    queues: &[String],
) -> Result<Vec<AlarmRow>, ReportError> {
    if !queues.is_empty() {
        let kept = store.intervals(period.from, period.to, usize::MAX)?;
        check_known(
            "queue",
            "the history of this period",
            queues,
            crate::intervals::queue_names(&kept),
        )?;
    }
    let rows = store
        .alarms(period.from, period.to, usize::MAX)?
        .into_iter()
        .filter_map(|r| {
            let IntervalFigures::Alarm {
                subject,
                threshold,
                raised_at_value,
                worst,
                cleared,
                ..
            } = r.figures
            else {
                return None;
            };
            let (queue, rule) = subject.rsplit_once('/')?;
            let stopped = !cleared && r.end > r.start;
            Some(AlarmRow {
                start: r.start,
                queue: queue.to_string(),
                rule: rule.to_string(),
                threshold,
                raised_at: raised_at_value,
                worst,
                cleared: cleared.then_some(r.end),
                router_stopped: stopped.then_some(r.end),
                minutes: (cleared || stopped)
                    .then(|| ((r.end - r.start) as f64 / 6_000.0).round() / 10.0),
            })
        })
        .filter(|a| queues.is_empty() || queues.contains(&a.queue))
        .collect();
    Ok(rows)
}
