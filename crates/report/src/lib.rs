//! What happened on the hotline: the reports a supervisor and an operations analyst
//! read over the kept history — the queue interval report and the agents' appraisal
//! (from the intervals the router keeps), hot spots of complaints and faults by area,
//! contacts by reason, satisfaction, key accounts, self-service, repeat callers and
//! tickets (from the store's interactions, tickets and customers), and the alarms the
//! router raised.
//!
//! Every figure is computed by one definition: queue and agent figures by the routing
//! core's KPI module (`hotline_acd::kpi`) over merged counters, so a period's report is
//! the sum of its intervals; FCR by the store's rule. The command line (`hotline report`)
//! and the router's `ReportService` print and send these same rows.

mod agents;
mod alarms;
mod contacts;
mod hotspots;
mod intervals;
mod key_accounts;
mod people;
mod tickets;

pub use agents::{AgentRow, agents};
pub use alarms::{AlarmRow, alarms};
pub use contacts::{
    ReasonRow, RepeatCallerRow, SatisfactionDimension, SatisfactionRow, SelfServiceRow, reasons,
    repeat_callers, satisfaction, self_service,
};
pub use hotspots::{AreaLevel, HotspotRow, fault_calls, hotspots};
pub use intervals::{FloorRow, IntervalReport, IvrRow, QueueRow, intervals};
pub use key_accounts::{KeyAccountReport, ManagerRow, key_accounts};
pub use people::CustomerFilter;
pub use tickets::{TicketRow, tickets};

use hotline_store::{Millis, StoreError};

/// The longest period one report covers.
pub const MOST_DAYS: u64 = 366;

const DAY_MS: Millis = 86_400_000;

/// The time a report covers: [from, to), ms since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Start (included).
    pub from: Millis,
    /// End (not included).
    pub to: Millis,
}

impl Period {
    /// A period that ends after it starts and covers at most [`MOST_DAYS`].
    pub fn new(from: Millis, to: Millis) -> Result<Period, ReportError> {
        if to <= from {
            return Err(ReportError::Backwards { from, to });
        }
        if to - from > MOST_DAYS * DAY_MS {
            return Err(ReportError::TooLong {
                days: (to - from) / DAY_MS,
            });
        }
        Ok(Period { from, to })
    }

    /// The period of the same length just before this one.
    pub fn previous(&self) -> Period {
        let len = self.to - self.from;
        Period {
            from: self.from.saturating_sub(len),
            to: self.from,
        }
    }

    fn contains(&self, t: Millis) -> bool {
        (self.from..self.to).contains(&t)
    }
}

/// Why a report cannot be made, in words a person understands.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The period ends before it starts.
    #[error("the period ends before it starts: the end must come after the start")]
    Backwards {
        /// Start.
        from: Millis,
        /// End.
        to: Millis,
    },
    /// The period is longer than a report covers.
    #[error("a report covers at most {MOST_DAYS} days; this period is {days} days")]
    TooLong {
        /// Its length.
        days: u64,
    },
    /// A filter names something the history does not hold.
    #[error("no {what} '{name}' in {place} (there: {known})")]
    Unknown {
        /// What kind of thing ("queue", "agent", "district").
        what: &'static str,
        /// The name asked for.
        name: String,
        /// Where it was looked for.
        place: &'static str,
        /// What there is, for the person to choose from.
        known: String,
    },
    /// Another bad argument.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ReportError {
    /// The caller asked for something wrong (as opposed to the store failing).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, ReportError::Store(_))
    }
}

/// Refuse names in `wanted` that are not in `known`.
fn check_known<'a>(
    what: &'static str,
    place: &'static str,
    wanted: &[String],
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> Result<(), ReportError> {
    for name in wanted {
        if !known.clone().into_iter().any(|k| k == name) {
            let mut list: Vec<&str> = known.clone().into_iter().collect();
            list.sort_unstable();
            list.dedup();
            let known = if list.is_empty() {
                "none".to_string()
            } else if list.len() > 20 {
                format!("{} and {} more", list[..20].join(", "), list.len() - 20)
            } else {
                list.join(", ")
            };
            return Err(ReportError::Unknown {
                what,
                name: name.clone(),
                place,
                known,
            });
        }
    }
    Ok(())
}

/// `part` of `whole` in percent, one decimal; none of nothing.
fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round1(part as f64 * 100.0 / whole as f64))
}

/// The mean of `sum` over `n`, one decimal.
fn mean(sum: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| round1(sum / n as f64))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn seconds(s: hotline_acd::Span) -> f64 {
    s.0 as f64 / 1e6
}
