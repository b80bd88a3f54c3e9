//! The call-center KPIs, each defined once, here, with its formula.
//!
//! Counting rules (the engine and the simulator both feed a [`Tally`]):
//! * a call is **offered** to a queue when it enters it (arrival or transfer in); a call
//!   refused at the door (queue full, nobody logged in) is counted as **refused**, not
//!   offered;
//! * a call is **answered** the first time an agent answers it in that queue, with its
//!   **wait** measured from entering the queue (a ring-no-answer or a lost agent does not
//!   restart the clock);
//! * a call is **abandoned** when the caller hangs up before any answer in that queue; it
//!   is a **short abandon** when its wait was below the short-abandon threshold;
//! * a **handled** call is an agent leg whose wrap-up finished: its talk, hold and wrap-up
//!   times count toward AHT in the queue of that leg;
//! * within an interval, each event is counted in the interval in which it happened.

use crate::time::Span;
use serde::{Deserialize, Serialize};

/// Counters for one queue (or one agent) over a period. Nothing here can go negative:
/// every field only ever grows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Calls that entered the queue.
    pub offered: u64,
    /// Calls turned away at the door (queue full, or no agent logged in and the queue
    /// refuses).
    pub refused: u64,
    /// Calls answered (first answer in this queue).
    pub answered: u64,
    /// Calls answered with a wait ≤ T.
    pub answered_within_threshold: u64,
    /// Calls whose caller hung up before an answer.
    pub abandoned: u64,
    /// Abandons with a wait below the short-abandon threshold (included in `abandoned`).
    pub abandoned_short: u64,
    /// Abandons with a wait ≤ T (included in `abandoned`).
    pub abandoned_within_threshold: u64,
    /// Offers that went back to the queue: ring-no-answer, reject, agent lost.
    pub requeued: u64,
    /// Calls an agent transferred out of this queue.
    pub transferred_out: u64,
    /// Callers who accepted a callback instead of waiting on the line.
    pub callbacks_accepted: u64,
    /// Total wait of answered calls.
    pub wait_of_answered: Span,
    /// Longest wait of any answered or abandoned call.
    pub longest_wait: Span,
    /// Agent legs whose wrap-up finished.
    pub handled: u64,
    /// Talk time of handled legs (hold excluded).
    pub talk: Span,
    /// Hold time of handled legs.
    pub hold: Span,
    /// After-call work of handled legs.
    pub wrap_up: Span,
}

/// The thresholds a queue's KPIs are measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Service-level threshold T (default 20 s).
    pub service_level: Span,
    /// Abandons with a shorter wait are short abandons (default 5 s; 0 disables).
    pub short_abandon: Span,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            service_level: Span::from_secs(20),
            short_abandon: Span::from_secs(5),
        }
    }
}

impl Tally {
    /// Count a call entering the queue.
    pub fn on_offered(&mut self) {
        self.offered += 1;
    }

    /// Count a first answer after `wait`.
    pub fn on_answered(&mut self, wait: Span, th: &Thresholds) {
        self.answered += 1;
        if wait <= th.service_level {
            self.answered_within_threshold += 1;
        }
        self.wait_of_answered += wait;
        self.longest_wait = self.longest_wait.max(wait);
    }

    /// Count an abandon after `wait`.
    pub fn on_abandoned(&mut self, wait: Span, th: &Thresholds) {
        self.abandoned += 1;
        if wait < th.short_abandon {
            self.abandoned_short += 1;
        }
        if wait <= th.service_level {
            self.abandoned_within_threshold += 1;
        }
        self.longest_wait = self.longest_wait.max(wait);
    }

    /// Count a finished agent leg.
    pub fn on_handled(&mut self, talk: Span, hold: Span, wrap_up: Span) {
        self.handled += 1;
        self.talk += talk;
        self.hold += hold;
        self.wrap_up += wrap_up;
    }

    /// Add another tally (e.g. to total replications or intervals).
    pub fn merge(&mut self, o: &Tally) {
        self.offered += o.offered;
        self.refused += o.refused;
        self.answered += o.answered;
        self.answered_within_threshold += o.answered_within_threshold;
        self.abandoned += o.abandoned;
        self.abandoned_short += o.abandoned_short;
        self.abandoned_within_threshold += o.abandoned_within_threshold;
        self.requeued += o.requeued;
        self.transferred_out += o.transferred_out;
        self.callbacks_accepted += o.callbacks_accepted;
        self.wait_of_answered += o.wait_of_answered;
        self.longest_wait = self.longest_wait.max(o.longest_wait);
        self.handled += o.handled;
        self.talk += o.talk;
        self.hold += o.hold;
        self.wrap_up += o.wrap_up;
    }
}

/// Which calls the service level is taken over. The operator's definition (DESIGN.md)
/// is the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceLevelFormula {
    /// answered within T ÷ (answered + abandoned − short abandons). Short abandons
    /// (misdials, callers who changed their mind) are left out of both sides.
    #[default]
    ExcludeShortAbandons,
    /// answered within T ÷ (answered + abandoned): every call that reached an outcome.
    /// Equal to Erlang's "answered within T ÷ offered" once all calls have ended.
    AllCalls,
    /// answered within T ÷ answered: abandons ignored (flatters a queue that loses
    /// callers; shown for comparison only).
    AnsweredOnly,
    /// (answered within T + abandoned within T) ÷ (answered + abandoned): an abandon
    /// before T does not count against the queue.
    AbandonsWithinThresholdMet,
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// The share of calls to answer within T that the hotline is run to (the 80 of 80/20)
/// unless a report or a configuration names another.
pub const SERVICE_LEVEL_TARGET: f64 = 0.8;

/// **Service level SL(T)** under `formula` (see [`ServiceLevelFormula`] for each ratio);
/// `None` when no call has reached an outcome yet.
pub fn service_level(t: &Tally, formula: ServiceLevelFormula) -> Option<f64> {
    match formula {
        ServiceLevelFormula::ExcludeShortAbandons => ratio(
            t.answered_within_threshold,
            t.answered + t.abandoned - t.abandoned_short,
        ),
        ServiceLevelFormula::AllCalls => {
            ratio(t.answered_within_threshold, t.answered + t.abandoned)
        }
        ServiceLevelFormula::AnsweredOnly => ratio(t.answered_within_threshold, t.answered),
        ServiceLevelFormula::AbandonsWithinThresholdMet => ratio(
            t.answered_within_threshold + t.abandoned_within_threshold,
            t.answered + t.abandoned,
        ),
    }
}

/// **ASA**, average speed of answer: total wait of answered calls ÷ answered calls.
pub fn average_speed_of_answer(t: &Tally) -> Option<Span> {
    (t.answered > 0).then(|| Span(t.wait_of_answered.0 / t.answered))
}

/// **AHT**, average handle time: (talk + hold + after-call work) ÷ handled legs.
pub fn average_handle_time(t: &Tally) -> Option<Span> {
    (t.handled > 0).then(|| Span((t.talk.0 + t.hold.0 + t.wrap_up.0) / t.handled))
}

/// **Abandon rate**: abandoned ÷ (answered + abandoned), short abandons included.
pub fn abandon_rate(t: &Tally) -> Option<f64> {
    ratio(t.abandoned, t.answered + t.abandoned)
}

/// **Occupancy**: time agents were busy (offered, talking, holding, wrapping up) ÷
/// time they were staffed (logged in).
pub fn occupancy(busy: Span, staffed: Span) -> Option<f64> {
    (staffed.0 > 0).then(|| busy.0 as f64 / staffed.0 as f64)
}

/// **Self-service containment**: calls finished in the IVR without an agent ÷ calls.
pub fn containment(finished_in_ivr: u64, calls: u64) -> Option<f64> {
    ratio(finished_in_ivr, calls)
}

/// **FCR**, first-contact resolution: resolved contacts ÷ contacts. Used for both the
/// agent's claim at wrap-up and the verified figure (no repeat contact for the same
/// reason within the window, 7 days by default).
pub fn first_contact_resolution(resolved: u64, contacts: u64) -> Option<f64> {
    ratio(resolved, contacts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> Span {
        Span::from_secs(x)
    }

    #[test]
    fn containment_and_fcr_are_plain_shares_and_none_without_calls() {
        // 3 of 12 calls ended in the IVR; 7 of 10 contacts resolved at the first
        assert_eq!(containment(3, 12), Some(0.25));
        assert_eq!(containment(0, 12), Some(0.0));
        assert_eq!(containment(0, 0), None);
        assert_eq!(first_contact_resolution(7, 10), Some(0.7));
        assert_eq!(first_contact_resolution(10, 10), Some(1.0));
        assert_eq!(first_contact_resolution(0, 0), None);
    }

    /// Two intervals merged field by field, the expected sums worked by hand: every
    /// report and roll-up adds tallies this way, so no field may be left behind.
    #[test]
    fn merging_two_tallies_adds_every_count_and_keeps_the_longest_wait() {
        let a = Tally {
            offered: 10,
            refused: 1,
            answered: 7,
            answered_within_threshold: 5,
            abandoned: 3,
            abandoned_short: 1,
            abandoned_within_threshold: 2,
            requeued: 2,
            transferred_out: 1,
            callbacks_accepted: 1,
            wait_of_answered: s(70),
            longest_wait: s(45),
            handled: 6,
            talk: s(600),
            hold: s(30),
            wrap_up: s(120),
        };
        let b = Tally {
            offered: 4,
            refused: 2,
            answered: 2,
            answered_within_threshold: 1,
            abandoned: 2,
            abandoned_short: 0,
            abandoned_within_threshold: 1,
            requeued: 1,
            transferred_out: 3,
            callbacks_accepted: 2,
            wait_of_answered: s(50),
            longest_wait: s(90),
            handled: 3,
            talk: s(240),
            hold: s(0),
            wrap_up: s(60),
        };
        let mut m = a;
        m.merge(&b);
        let want = Tally {
            offered: 14,
            refused: 3,
            answered: 9,
            answered_within_threshold: 6,
            abandoned: 5,
            abandoned_short: 1,
            abandoned_within_threshold: 3,
            requeued: 3,
            transferred_out: 4,
            callbacks_accepted: 3,
            wait_of_answered: s(120),
            longest_wait: s(90),
            handled: 9,
            talk: s(840),
            hold: s(30),
            wrap_up: s(180),
        };
        assert_eq!(m, want);
        // and in the other order the longest wait is still the longer one
        let mut m2 = b;
        m2.merge(&a);
        assert_eq!(m2, want);
        // the KPIs of the merge, by hand: SL = 6 / (9 + 5 - 1) = 6/13; AHT = (840 + 30
        // + 180) / 9 = 116.67 s; abandon rate 5 / 14
        assert_eq!(
            service_level(&m, ServiceLevelFormula::ExcludeShortAbandons),
            Some(6.0 / 13.0)
        );
        assert_eq!(average_handle_time(&m), Some(Span(1_050_000_000 / 9)));
        assert_eq!(abandon_rate(&m), Some(5.0 / 14.0));
    }

    #[test]
    fn service_level_formulas_differ_as_documented() {
        let th = Thresholds::default();
        let mut t = Tally::default();
        for w in [0, 10, 20, 30] {
            t.on_offered();
            t.on_answered(s(w), &th);
        }
        for w in [2, 15, 60] {
            t.on_offered();
            t.on_abandoned(s(w), &th);
        }
        // answered within 20 s: 3 of 4; abandons: 3 (one short, two within T incl. the short)
        assert_eq!(t.answered_within_threshold, 3);
        assert_eq!(t.abandoned_short, 1);
        assert_eq!(t.abandoned_within_threshold, 2);
        let f = |x| service_level(&t, x).unwrap();
        assert_eq!(f(ServiceLevelFormula::ExcludeShortAbandons), 3.0 / 6.0);
        assert_eq!(f(ServiceLevelFormula::AllCalls), 3.0 / 7.0);
        assert_eq!(f(ServiceLevelFormula::AnsweredOnly), 3.0 / 4.0);
        assert_eq!(
            f(ServiceLevelFormula::AbandonsWithinThresholdMet),
            5.0 / 7.0
        );
        assert_eq!(average_speed_of_answer(&t), Some(s(15)));
        assert_eq!(abandon_rate(&t), Some(3.0 / 7.0));
        assert_eq!(t.longest_wait, s(60));
    }

    #[test]
    fn empty_tallies_have_no_kpis_rather_than_nan() {
        let t = Tally::default();
        assert_eq!(service_level(&t, ServiceLevelFormula::default()), None);
        assert_eq!(average_speed_of_answer(&t), None);
        assert_eq!(average_handle_time(&t), None);
        assert_eq!(abandon_rate(&t), None);
        assert_eq!(occupancy(Span::ZERO, Span::ZERO), None);
    }

    #[test]
    fn aht_counts_talk_hold_and_wrap_up() {
        let mut t = Tally::default();
        t.on_handled(s(100), s(20), s(30));
        t.on_handled(s(200), s(0), s(10));
        assert_eq!(average_handle_time(&t), Some(s(180)));
        let mut u = Tally::default();
        u.merge(&t);
        assert_eq!(u, t);
    }

    #[test]
    fn short_abandon_threshold_zero_makes_design_sl_equal_erlang_sl() {
        let th = Thresholds {
            service_level: s(20),
            short_abandon: Span::ZERO,
        };
        let mut t = Tally::default();
        t.on_answered(s(1), &th);
        t.on_abandoned(Span::ZERO, &th);
        assert_eq!(t.abandoned_short, 0);
        assert_eq!(
            service_level(&t, ServiceLevelFormula::ExcludeShortAbandons),
            service_level(&t, ServiceLevelFormula::AllCalls)
        );
    }
}
