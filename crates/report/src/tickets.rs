//! Tickets opened in a period by back-office group and kind: what became of them, on
//! time or not, and how long they took to resolve.
//!
//! A ticket is **resolved** at the first resolution in its history; **on time** when
//! that came at or before its deadline; **overdue** when it came after, or has not come
//! and the deadline has passed (at `now`).

use crate::people::{CustomerFilter, People};
use crate::{Period, ReportError, check_known, mean, percent};
use hotline_catalog::TicketKind;
use hotline_store::{Millis, Store, Ticket, TicketStatus, export::scan};
use serde::Serialize;
use std::collections::BTreeMap;

/// When a ticket was first resolved, and whether it is on time at `now`: resolved by
/// its deadline (true), resolved late or open past it (false), or still within it
/// (none).
pub(crate) fn timeliness(t: &Ticket, now: Millis) -> (Option<Millis>, Option<bool>) {
    let resolved = t
        .history
        .iter()
        .find(|e| e.change.is_resolution())
        .map(|e| e.at);
    let on_time = match resolved {
        Some(at) => Some(at <= t.deadline),
        None if now > t.deadline => Some(false),
        None => None,
    };
    (resolved, on_time)
}

/// Tickets judged against their deadlines, counted.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct OnTime {
    /// Resolved by their deadline.
    pub on_time: u64,
    /// Resolved late, or open past their deadline.
    pub overdue: u64,
}

impl OnTime {
    /// Count `t` as it stands at `now`; when it was first resolved.
    pub fn count(&mut self, t: &Ticket, now: Millis) -> Option<Millis> {
        let (resolved, on_time) = timeliness(t, now);
        match on_time {
            Some(true) => self.on_time += 1,
            Some(false) => self.overdue += 1,
            None => {}
        }
        resolved
    }

    /// On time ÷ (on time + overdue), percent.
    pub fn rate(&self) -> Option<f64> {
        percent(self.on_time, self.on_time + self.overdue)
    }
}

/// A back-office group's tickets of one kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketRow {
    /// Back-office group code (`repair-crew`; `front-office` when never dispatched).
    pub group: String,
    /// Ticket kind.
    pub kind: TicketKind,
    /// Opened in the period.
    pub opened: u64,
    /// Of them, resolved by now.
    pub resolved: u64,
    /// Of them, closed by now (the loop closed).
    pub closed: u64,
    /// Of them, reopened at least once.
    pub reopened: u64,
    /// Of them, still open now.
    pub open: u64,
    /// Resolved by their deadline.
    pub on_time: u64,
    /// Resolved late, or open past their deadline.
    pub overdue: u64,
    /// On time ÷ (on time + overdue), percent.
    pub on_time_rate: Option<f64>,
    /// Mean time from opening to the first resolution, hours.
    pub mean_hours_to_resolve: Option<f64>,
}

/// The tickets opened in `period` (only of `groups` when some are named, only of the
/// customers `who` keeps), judged at `now`.
pub fn tickets(
    store: &Store,
    period: Period,
    now: Millis,
    groups: &[String],
    who: &CustomerFilter,
) -> Result<Vec<TicketRow>, ReportError> {
    who.check(store)?;
    let mut people = People::new(store);
    #[derive(Default)]
    struct Sum {
        opened: u64,
        resolved: u64,
        closed: u64,
        reopened: u64,
        open: u64,
        deadlines: OnTime,
        hours: f64,
    }
    let mut sums: BTreeMap<(String, TicketKind), Sum> = BTreeMap::new();
    let engine = store.engine();
    scan(
        |after, n| engine.tickets_after(after, n),
        |t| t.id,
        |t| {
            if !period.contains(t.created) || !who.keeps(&mut people, Some(t.customer))? {
                return Ok(());
            }
            let group = t
                .back_office
                .clone()
                .unwrap_or_else(|| "front-office".to_string());
            let s = sums.entry((group, t.kind)).or_default();
            s.opened += 1;
            if let Some(at) = s.deadlines.count(&t, now) {
                s.resolved += 1;
                s.hours += at.saturating_sub(t.created) as f64 / 3_600_000.0;
            }
            s.closed += u64::from(t.status == TicketStatus::Closed);
            s.reopened += u64::from(t.history.iter().any(|e| e.status == TicketStatus::Reopened));
            s.open += u64::from(t.status.is_open());
            Ok(())
        },
    )?;
    check_known(
        "back-office group",
        "the tickets of this period",
        groups,
        sums.keys().map(|(g, _)| g.as_str()),
    )?;
    Ok(sums
        .into_iter()
        .filter(|((g, _), _)| groups.is_empty() || groups.contains(g))
        .map(|((group, kind), s)| TicketRow {
            group,
            kind,
            opened: s.opened,
            resolved: s.resolved,
            closed: s.closed,
            reopened: s.reopened,
            open: s.open,
            on_time: s.deadlines.on_time,
            overdue: s.deadlines.overdue,
            on_time_rate: s.deadlines.rate(),
            mean_hours_to_resolve: mean(s.hours, s.resolved),
        })
        .collect())
}
