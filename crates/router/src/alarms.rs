//! Alarm rules on the queues' live figures, and the sans-IO evaluator that raises and
//! clears them.
//!
//! A rule is a threshold on one figure of one queue: the service level of the current
//! interval below a target, the longest wait above N seconds, calls waiting above N,
//! agents ready below N, the current interval's abandon rate above a share. The core
//! task gives [`Alarms::evaluate`] the figures with their time once a second; it answers
//! with what was raised and what cleared. A rate (service level, abandon rate) is judged
//! only once the interval has `min_calls` outcomes, so the first caller of an interval
//! cannot raise it alone; an alarm clears once its figure has been back within the
//! threshold for `clear_after_seconds`, so a figure hovering at the threshold does not
//! flap.

use hotline_acd::{AgentStateKind, kpi};
use hotline_store::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a rule watches; `code` is its name in the configuration, the history and the
/// wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlarmKind {
    /// The current interval's service level below a share.
    ServiceLevelBelow,
    /// The longest-waiting call's wait above N seconds.
    LongestWaitAbove,
    /// Calls waiting above N.
    WaitingAbove,
    /// Agents ready for the queue below N.
    ReadyBelow,
    /// The current interval's abandon rate above a share.
    AbandonRateAbove,
}

impl AlarmKind {
    /// Every kind, in the order the wallboard lists them.
    pub const ALL: [AlarmKind; 5] = [
        AlarmKind::ServiceLevelBelow,
        AlarmKind::LongestWaitAbove,
        AlarmKind::WaitingAbove,
        AlarmKind::ReadyBelow,
        AlarmKind::AbandonRateAbove,
    ];

    /// The rule's code.
    pub fn code(self) -> &'static str {
        match self {
            AlarmKind::ServiceLevelBelow => "service-level-below",
            AlarmKind::LongestWaitAbove => "longest-wait-above",
            AlarmKind::WaitingAbove => "waiting-above",
            AlarmKind::ReadyBelow => "ready-below",
            AlarmKind::AbandonRateAbove => "abandon-rate-above",
        }
    }

    /// The kind of a code.
    pub fn from_code(code: &str) -> Option<AlarmKind> {
        AlarmKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether the figure is past the threshold the wrong way.
    fn breached(self, value: f64, threshold: f64) -> bool {
        match self {
            AlarmKind::ServiceLevelBelow | AlarmKind::ReadyBelow => value < threshold,
            _ => value > threshold,
        }
    }
}

/// A queue's thresholds; an unset one raises nothing.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// The current interval's service level below this share (0–1).
    pub service_level_below: Option<f64>,
    /// The longest wait above this many seconds.
    pub longest_wait_above_seconds: Option<u32>,
    /// Calls waiting above this many.
    pub waiting_above: Option<u32>,
    /// Agents ready below this many.
    pub ready_below: Option<u32>,
    /// The current interval's abandon rate above this share (0–1).
    pub abandon_rate_above: Option<f64>,
}

impl Thresholds {
    /// The threshold of one kind, if set.
    pub fn get(&self, k: AlarmKind) -> Option<f64> {
        match k {
            AlarmKind::ServiceLevelBelow => self.service_level_below,
            AlarmKind::LongestWaitAbove => self.longest_wait_above_seconds.map(f64::from),
            AlarmKind::WaitingAbove => self.waiting_above.map(f64::from),
            AlarmKind::ReadyBelow => self.ready_below.map(f64::from),
            AlarmKind::AbandonRateAbove => self.abandon_rate_above,
        }
    }

    /// These, with `over`'s set thresholds in their place.
    pub fn overridden_by(self, over: &Thresholds) -> Thresholds {
        Thresholds {
            service_level_below: over.service_level_below.or(self.service_level_below),
            longest_wait_above_seconds: over
                .longest_wait_above_seconds
                .or(self.longest_wait_above_seconds),
            waiting_above: over.waiting_above.or(self.waiting_above),
            ready_below: over.ready_below.or(self.ready_below),
            abandon_rate_above: over.abandon_rate_above.or(self.abandon_rate_above),
        }
    }

    /// A share outside 0–1 is refused, with the field named.
    pub fn check(&self) -> Result<(), String> {
        for (field, v) in [
            ("service_level_below", self.service_level_below),
            ("abandon_rate_above", self.abandon_rate_above),
        ] {
            if let Some(v) = v {
                if !(0.0..=1.0).contains(&v) {
                    return Err(format!("{field} is a share from 0 to 1, got {v}"));
                }
            }
        }
        Ok(())
    }
}

/// The rules of every queue.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRules {
    /// Each queue's thresholds.
    pub queues: BTreeMap<String, Thresholds>,
    /// Outcomes (answered + abandoned) the current interval needs before its service
    /// level or abandon rate is judged.
    pub min_calls: u64,
    /// How long a figure stays back within its threshold before its alarm clears, ms.
    pub clear_after: Millis,
}

/// The thresholds a queue has unless configured: service level under 60 % (against the
/// 80 % target), a caller waiting over two minutes, over 15 % of callers abandoning.
pub const DEFAULT_THRESHOLDS: Thresholds = Thresholds {
    service_level_below: Some(0.6),
    longest_wait_above_seconds: Some(120),
    waiting_above: None,
    ready_below: None,
    abandon_rate_above: Some(0.15),
};

/// Outcomes an interval needs before its rates are judged, unless configured.
pub const DEFAULT_MIN_CALLS: u64 = 10;

/// How long a figure is back within its threshold before the alarm clears, unless
/// configured (ms).
pub const DEFAULT_CLEAR_AFTER: Millis = 10_000;

impl AlarmRules {
    /// `default` for every queue in `queues`, each overridden by its own table in
    /// `per_queue`; a table for a queue that does not exist is an error.
    pub fn new(
        queues: &[String],
        default: Thresholds,
        per_queue: &BTreeMap<String, Thresholds>,
        min_calls: u64,
        clear_after: Millis,
    ) -> Result<AlarmRules, String> {
        if let Some(q) = per_queue.keys().find(|q| !queues.contains(q)) {
            return Err(format!(
                "alarm rules for queue '{q}', which is not one of {}",
                queues.join(", ")
            ));
        }
        default.check()?;
        let mut rules = BTreeMap::new();
        for q in queues {
            let t = per_queue
                .get(q)
                .map_or(default, |o| default.overridden_by(o));
            t.check().map_err(|e| format!("queue '{q}': {e}"))?;
            rules.insert(q.clone(), t);
        }
        Ok(AlarmRules {
            queues: rules,
            min_calls,
            clear_after,
        })
    }

    /// The defaults for these queues.
    pub fn defaults(queues: &[String]) -> AlarmRules {
        AlarmRules {
            queues: queues
                .iter()
                .map(|q| (q.clone(), DEFAULT_THRESHOLDS))
                .collect(),
            min_calls: DEFAULT_MIN_CALLS,
            clear_after: DEFAULT_CLEAR_AFTER,
        }
    }
}

/// A queue's live figures as the rules read them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LiveFigures {
    /// The current interval's service level (unset before any outcome).
    pub service_level: Option<f64>,
    /// The current interval's abandon rate (unset before any outcome).
    pub abandon_rate: Option<f64>,
    /// Answered + abandoned in the current interval.
    pub outcomes: u64,
    /// The longest-waiting call's wait, seconds.
    pub longest_wait_seconds: f64,
    /// Calls waiting.
    pub waiting: u32,
    /// Agents ready for the queue.
    pub ready: u32,
}

impl LiveFigures {
    /// The figures of an engine's queue snapshot.
    pub fn of(s: &hotline_acd::stats::QueueSnapshot) -> LiveFigures {
        let t = &s.interval.tally;
        LiveFigures {
            service_level: kpi::service_level(t, s.formula),
            abandon_rate: kpi::abandon_rate(t),
            outcomes: t.answered + t.abandoned,
            longest_wait_seconds: s.longest_wait.0 as f64 / 1e6,
            waiting: s.waiting,
            ready: s.agents_by_state[AgentStateKind::Ready.index()],
        }
    }

    /// The figure a rule of kind `k` reads, if it may be judged now.
    fn value(&self, k: AlarmKind, min_calls: u64) -> Option<f64> {
        let judged = self.outcomes >= min_calls;
        match k {
            AlarmKind::ServiceLevelBelow => self.service_level.filter(|_| judged),
            AlarmKind::AbandonRateAbove => self.abandon_rate.filter(|_| judged),
            AlarmKind::LongestWaitAbove => Some(self.longest_wait_seconds),
            AlarmKind::WaitingAbove => Some(f64::from(self.waiting)),
            AlarmKind::ReadyBelow => Some(f64::from(self.ready)),
        }
    }
}

/// An alarm standing or just cleared.
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    /// The queue.
    pub queue: String,
    /// The rule.
    pub kind: AlarmKind,
    /// The threshold when it was raised.
    pub threshold: f64,
    /// When it was raised.
    pub raised_at: Millis,
    /// The figure then.
    pub raised_at_value: f64,
    /// The figure now (at the last evaluation).
    pub value: f64,
    /// The worst the figure has been since it was raised.
    pub worst: f64,
    /// When it cleared (unset while it stands).
    pub cleared_at: Option<Millis>,
}

impl Alarm {
    /// Its record in the history.
    pub fn record(&self) -> hotline_store::IntervalRecord {
        hotline_store::IntervalRecord {
            start: self.raised_at,
            end: self.cleared_at.unwrap_or(self.raised_at),
            figures: hotline_store::IntervalFigures::Alarm {
                subject: format!("{}/{}", self.queue, self.kind.code()),
                threshold: self.threshold,
                raised_at_value: self.raised_at_value,
                worst: self.worst,
                value: self.value,
                cleared: self.cleared_at.is_some(),
            },
        }
    }
}

/// A standing alarm and since when its figure has been back within the threshold.
#[derive(Debug, Clone)]
struct Standing {
    alarm: Alarm,
    within_since: Option<Millis>,
}

/// The evaluator: the rules and the alarms standing now.
#[derive(Debug, Clone)]
pub struct Alarms {
    rules: AlarmRules,
    standing: BTreeMap<(String, AlarmKind), Standing>,
}

impl Alarms {
    /// Nothing standing yet.
    pub fn new(rules: AlarmRules) -> Alarms {
        Alarms {
            rules,
            standing: BTreeMap::new(),
        }
    }

    /// The rules.
    pub fn rules(&self) -> &AlarmRules {
        &self.rules
    }

    /// Replace one queue's thresholds (a supervisor's change); the next evaluation
    /// raises or clears by them. An unknown queue or a share outside 0–1 is refused.
    pub fn set(&mut self, queue: &str, t: Thresholds) -> Result<Thresholds, String> {
        t.check()?;
        let Some(slot) = self.rules.queues.get_mut(queue) else {
            return Err(format!("there is no queue '{queue}'"));
        };
        Ok(std::mem::replace(slot, t))
    }

    /// The router stops at `now`: each alarm standing, as the history keeps it — to
    /// `now`, not cleared (it starts again if the figure is still out when the router
    /// is back).
    pub fn stopped(&self, now: Millis) -> Vec<hotline_store::IntervalRecord> {
        self.standing
            .values()
            .map(|s| hotline_store::IntervalRecord {
                end: now.max(s.alarm.raised_at),
                ..s.alarm.record()
            })
            .collect()
    }

    /// The alarms standing now, by queue and rule.
    pub fn standing(&self) -> Vec<Alarm> {
        self.standing.values().map(|s| s.alarm.clone()).collect()
    }

    /// Judge one queue's figures at `now`: what was raised (`cleared_at` unset, raised
    /// `now`), what standing alarm got worse (its new worst), and what cleared
    /// (`cleared_at` set), by rule.
    pub fn evaluate(&mut self, now: Millis, queue: &str, f: &LiveFigures) -> Vec<Alarm> {
        let thresholds = self.rules.queues.get(queue).copied().unwrap_or_default();
        let mut changed = Vec::new();
        for kind in AlarmKind::ALL {
            let key = (queue.to_string(), kind);
            let threshold = thresholds.get(kind);
            let value = f.value(kind, self.rules.min_calls);
            let breached = match (value, threshold) {
                (Some(v), Some(t)) => kind.breached(v, t),
                _ => false,
            };
            match self.standing.get_mut(&key) {
                None if breached => {
                    let (v, t) = (value.unwrap_or(0.0), threshold.unwrap_or(0.0));
                    let alarm = Alarm {
                        queue: queue.to_string(),
                        kind,
                        threshold: t,
                        raised_at: now,
                        raised_at_value: v,
                        value: v,
                        worst: v,
                        cleared_at: None,
                    };
                    changed.push(alarm.clone());
                    self.standing.insert(
                        key,
                        Standing {
                            alarm,
                            within_since: None,
                        },
                    );
                }
                None => {}
                Some(s) => {
                    let mut worse = false;
                    if let Some(v) = value {
                        s.alarm.value = v;
                        // worse than the worst so far is past it the wrong way
                        if kind.breached(v, s.alarm.worst) {
                            s.alarm.worst = v;
                            worse = true;
                        }
                    }
                    // a rule taken away clears its alarm at once
                    let gone = threshold.is_none();
                    if breached {
                        s.within_since = None;
                        if worse {
                            changed.push(s.alarm.clone());
                        }
                    } else {
                        let since = *s.within_since.get_or_insert(now);
                        if gone || now.saturating_sub(since) >= self.rules.clear_after {
                            let mut alarm = s.alarm.clone();
                            alarm.cleared_at = Some(now);
                            self.standing.remove(&key);
                            changed.push(alarm);
                        }
                    }
                }
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(t: Thresholds) -> Alarms {
        let queues = vec!["fault".to_string(), "inquiry".to_string()];
        let mut per = BTreeMap::new();
        per.insert("fault".to_string(), t);
        Alarms::new(AlarmRules::new(&queues, Thresholds::default(), &per, 10, 10_000).unwrap())
    }

    fn waiting(n: u32, longest: f64) -> LiveFigures {
        LiveFigures {
            waiting: n,
            longest_wait_seconds: longest,
            ready: 3,
            ..LiveFigures::default()
        }
    }

    #[test]
    fn an_alarm_is_raised_once_and_clears_after_the_figure_has_been_back_a_while() {
        let mut a = rules(Thresholds {
            waiting_above: Some(5),
            ..Thresholds::default()
        });
        assert!(
            a.evaluate(0, "fault", &waiting(5, 10.0)).is_empty(),
            "at 5, not above"
        );
        let raised = a.evaluate(1_000, "fault", &waiting(7, 10.0));
        assert_eq!(raised.len(), 1);
        assert_eq!(raised[0].kind, AlarmKind::WaitingAbove);
        assert_eq!(
            (raised[0].raised_at, raised[0].raised_at_value),
            (1_000, 7.0)
        );
        assert!(raised[0].cleared_at.is_none());
        let worse = a.evaluate(2_000, "fault", &waiting(9, 10.0));
        assert_eq!(worse.len(), 1, "told again when it gets worse");
        assert_eq!((worse[0].raised_at, worse[0].worst), (1_000, 9.0));
        assert!(worse[0].cleared_at.is_none());
        assert!(
            a.evaluate(2_500, "fault", &waiting(8, 10.0)).is_empty(),
            "not when it is no worse"
        );
        // back within, but not for long enough: still standing, and back above resets it
        assert!(a.evaluate(3_000, "fault", &waiting(4, 10.0)).is_empty());
        assert!(a.evaluate(9_000, "fault", &waiting(6, 10.0)).is_empty());
        assert!(a.evaluate(15_000, "fault", &waiting(2, 10.0)).is_empty());
        assert_eq!(a.standing().len(), 1);
        let cleared = a.evaluate(25_000, "fault", &waiting(1, 10.0));
        assert_eq!(cleared.len(), 1);
        assert_eq!(cleared[0].cleared_at, Some(25_000));
        assert_eq!(cleared[0].worst, 9.0);
        assert_eq!(cleared[0].raised_at, 1_000);
        assert!(a.standing().is_empty());
        // the other queue has no rule
        assert!(
            a.evaluate(26_000, "inquiry", &waiting(50, 600.0))
                .is_empty()
        );
    }

    #[test]
    fn rates_are_judged_only_once_the_interval_has_enough_calls() {
        let mut a = rules(Thresholds {
            service_level_below: Some(0.8),
            abandon_rate_above: Some(0.1),
            ..Thresholds::default()
        });
        let mut f = LiveFigures {
            service_level: Some(0.0),
            abandon_rate: Some(1.0),
            outcomes: 1,
            ready: 1,
            ..LiveFigures::default()
        };
        assert!(
            a.evaluate(0, "fault", &f).is_empty(),
            "one call decides nothing"
        );
        f.outcomes = 10;
        let raised = a.evaluate(1_000, "fault", &f);
        let kinds: Vec<AlarmKind> = raised.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [AlarmKind::ServiceLevelBelow, AlarmKind::AbandonRateAbove]
        );
        // a new interval starts with no calls: the rates are not judged, the alarms clear
        let fresh = LiveFigures {
            ready: 1,
            ..LiveFigures::default()
        };
        assert!(a.evaluate(2_000, "fault", &fresh).is_empty());
        assert_eq!(a.evaluate(12_000, "fault", &fresh).len(), 2);
    }

    #[test]
    fn ready_below_is_the_other_way_round_and_worst_is_the_lowest() {
        let mut a = rules(Thresholds {
            ready_below: Some(2),
            ..Thresholds::default()
        });
        let ready = |n| LiveFigures {
            ready: n,
            ..LiveFigures::default()
        };
        assert!(a.evaluate(0, "fault", &ready(2)).is_empty());
        assert_eq!(a.evaluate(1_000, "fault", &ready(1)).len(), 1);
        a.evaluate(2_000, "fault", &ready(0));
        let c = a.evaluate(20_000, "fault", &ready(3));
        assert!(c.is_empty(), "within since 20 s only");
        let c = a.evaluate(30_000, "fault", &ready(3));
        assert_eq!((c[0].worst, c[0].value), (0.0, 3.0));
    }

    #[test]
    fn a_supervisor_changes_a_rule_and_a_rule_taken_away_clears_at_once() {
        let mut a = rules(Thresholds {
            longest_wait_above_seconds: Some(60),
            ..Thresholds::default()
        });
        assert_eq!(a.evaluate(0, "fault", &waiting(1, 90.0)).len(), 1);
        let before = a.set("fault", Thresholds::default()).unwrap();
        assert_eq!(before.longest_wait_above_seconds, Some(60));
        let c = a.evaluate(1_000, "fault", &waiting(1, 95.0));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].cleared_at, Some(1_000));
        assert!(a.set("nowhere", Thresholds::default()).is_err());
        let bad = Thresholds {
            service_level_below: Some(80.0),
            ..Thresholds::default()
        };
        let e = a.set("fault", bad).unwrap_err();
        assert!(
            e.contains("service_level_below") && e.contains("0 to 1"),
            "{e}"
        );
    }

    #[test]
    fn the_configuration_overrides_the_default_per_queue_and_knows_its_queues() {
        let queues = vec!["fault".to_string(), "inquiry".to_string()];
        let mut per = BTreeMap::new();
        per.insert(
            "fault".to_string(),
            Thresholds {
                waiting_above: Some(40),
                ..Thresholds::default()
            },
        );
        let r = AlarmRules::new(&queues, DEFAULT_THRESHOLDS, &per, 10, 10_000).unwrap();
        assert_eq!(r.queues["fault"].waiting_above, Some(40));
        assert_eq!(r.queues["fault"].longest_wait_above_seconds, Some(120));
        assert_eq!(r.queues["inquiry"], DEFAULT_THRESHOLDS);
        per.insert("nowhere".to_string(), Thresholds::default());
        let e = AlarmRules::new(&queues, DEFAULT_THRESHOLDS, &per, 10, 10_000).unwrap_err();
        assert!(e.contains("nowhere") && e.contains("fault, inquiry"), "{e}");
    }

    #[test]
    fn every_kind_has_a_code_and_back() {
        for k in AlarmKind::ALL {
            assert_eq!(AlarmKind::from_code(k.code()), Some(k));
        }
        assert_eq!(AlarmKind::from_code("loud"), None);
    }

    #[test]
    fn an_alarm_is_kept_as_a_record_from_raised_to_cleared() {
        let mut a = rules(Thresholds {
            waiting_above: Some(0),
            ..Thresholds::default()
        });
        let raised = a.evaluate(5_000, "fault", &waiting(1, 1.0)).remove(0);
        let r = raised.record();
        assert_eq!((r.start, r.end), (5_000, 5_000));
        assert_eq!(r.subject(), (2, "fault/waiting-above"));
        assert!(a.evaluate(60_000, "fault", &waiting(0, 0.0)).is_empty());
        let cleared = a.evaluate(70_000, "fault", &waiting(0, 0.0)).remove(0);
        let r = cleared.record();
        assert_eq!((r.start, r.end), (5_000, 70_000));
        assert!(matches!(
            r.figures,
            hotline_store::IntervalFigures::Alarm { cleared: true, .. }
        ));
    }
}
