//! The IVR's statistics interval: the calls that left the IVR since the interval began,
//! by the route they took and by the self-service they tried — finished there
//! (contained), sent to a queue, or gone without either. The switchboard counts each
//! call once, when it leaves the IVR, and hands the counts out with the engine's queue
//! intervals (the same start and end), so the history keeps them beside those.

use hotline_store::{
    IntervalFigures, IntervalRecord, IvrBy, IvrTally, Millis, SelfService, ivr_keys,
};
use std::collections::BTreeMap;

pub use hotline_store::IvrExit;

/// The interval's counts so far.
#[derive(Debug, Default)]
pub struct IvrCounts {
    counts: BTreeMap<(IvrBy, String), IvrTally>,
}

impl IvrCounts {
    /// A call left the IVR after `ivr_ms` there, along `path`, having tried
    /// `self_service`.
    pub fn left(
        &mut self,
        path: &[String],
        self_service: Option<&SelfService>,
        exit: IvrExit,
        ivr_ms: Millis,
    ) {
        for key in ivr_keys(path, self_service) {
            self.counts.entry(key).or_default().count(exit, ivr_ms);
        }
    }

    /// The counts so far as records of the interval [start, end).
    pub fn records(&self, start: Millis, end: Millis) -> Vec<IntervalRecord> {
        self.counts
            .iter()
            .map(|((by, key), tally)| IntervalRecord {
                start,
                end,
                figures: IntervalFigures::Ivr {
                    by: *by,
                    key: key.clone(),
                    tally: *tally,
                },
            })
            .collect()
    }

    /// The interval [start, end) closed: its records, and the counts start again.
    pub fn close(&mut self, start: Millis, end: Millis) -> Vec<IntervalRecord> {
        let out = self.records(start, end);
        self.counts.clear();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call is counted by its route and by its service; a call that tried none only
    /// by its route; closing hands the counts out once.
    #[test]
    fn each_call_counts_once_by_route_and_by_service() {
        let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut c = IvrCounts::default();
        let bill = SelfService::Completed("bill".into());
        c.left(
            &path(&["welcome", "key 5", "bill"]),
            Some(&bill),
            IvrExit::Contained,
            30_000,
        );
        let tried = SelfService::ToAgent("bill: no such account".into());
        c.left(
            &path(&["welcome", "key 5", "bill"]),
            Some(&tried),
            IvrExit::ToAgent,
            50_000,
        );
        c.left(&path(&["welcome", "no key"]), None, IvrExit::HungUp, 8_000);
        let rs = c.close(0, 900_000);
        let find = |by: IvrBy, key: &str| {
            rs.iter()
                .find_map(|r| match &r.figures {
                    IntervalFigures::Ivr {
                        by: b,
                        key: k,
                        tally,
                    } if *b == by && k == key => Some(*tally),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{by:?} {key} in {rs:?}"))
        };
        let route = find(IvrBy::Path, "welcome › bill");
        assert_eq!((route.calls, route.contained, route.to_agent), (2, 1, 1));
        assert_eq!(route.ivr_ms, 80_000);
        let service = find(IvrBy::Service, "bill");
        assert_eq!((service.calls, service.contained), (2, 1));
        let gone = find(IvrBy::Path, "welcome");
        assert_eq!((gone.calls, gone.hung_up), (1, 1));
        assert_eq!(rs.len(), 3);
        assert!(c.close(900_000, 1_800_000).is_empty(), "counted once");
    }
}
