//! An area outage in a simulated day (`[outage]` of a scenario): one 小区 of the town
//! loses its lines, and its people call the fault desk beyond the usual. The town's
//! fault calls are spread evenly over its 小区 (their usual rate, by hour, is what the
//! detector knows); the stricken one adds `extra_per_hour` while the outage lasts. Every
//! fault call is reported to the router's own detector (`hotline-outage`, sans-IO, on
//! the virtual clock) — the same rule that watches the real floor — and the run notes
//! when the alarm rose. A supervisor declares the incident `declare_after_minutes`
//! later; from then until the outage ends, callers of that 小区 who reach the fault menu
//! hear the incident's message, and `told_hang_up` of them ask to be told and hang up
//! instead of queueing (deflected: the agents' time their calls would have taken is
//! saved). Running the same day again without the message gives what deflection
//! bought, queue by queue.

use crate::SimError;
use crate::scenario::{Rate, clock};
use hotline_outage::{Area, Baseline, Detector, DetectorConfig, OutageEvent};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// `[outage]` as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutageSpec {
    /// The reason whose calls are fault calls.
    #[serde(default = "fault")]
    pub reason: String,
    /// 小区 the town's fault calls come from, evenly.
    #[serde(default = "hundred")]
    pub areas: u32,
    /// When the outage starts ("HH:MM" of the run's day).
    pub start: String,
    /// How long it lasts.
    pub minutes: f64,
    /// Fault calls per hour from the stricken 小区 beyond its usual.
    pub extra_per_hour: f64,
    /// Minutes from the alarm to the supervisor's declaration.
    #[serde(default = "ten")]
    pub declare_after_minutes: f64,
    /// Share of the 小区's fault callers who, told of the incident, ask to be told and
    /// hang up.
    #[serde(default = "told")]
    pub told_hang_up: f64,
    /// The detector's rule (the router's defaults when absent).
    #[serde(default)]
    pub detector: DetectorConfig,
}

fn fault() -> String {
    "fault".into()
}
fn hundred() -> u32 {
    100
}
fn ten() -> f64 {
    10.0
}
fn told() -> f64 {
    0.6
}

/// An outage ready to run.
#[derive(Debug, Clone)]
pub struct OutagePlan {
    /// The fault reason's index.
    pub reason: u16,
    /// 小区 of the town (0 is the stricken one).
    pub areas: u32,
    /// Start, seconds of the run.
    pub start: f64,
    /// End.
    pub end: f64,
    /// Extra fault calls per second while it lasts.
    pub extra_rate: f64,
    /// Seconds from the alarm to the declaration.
    pub declare_after: f64,
    /// Share deflected once told.
    pub told_hang_up: f64,
    /// The rule.
    pub detector: DetectorConfig,
    /// Each 小区's usual fault calls per hour, by hour of the day.
    pub usual: [f64; 24],
    /// Whether callers are told (off: the day without the message).
    pub tell: bool,
}

impl OutageSpec {
    /// Check it against the scenario's reasons and arrival rate.
    pub fn plan(
        &self,
        reasons: &[String],
        reason_share: &[f64],
        rate: &Rate,
    ) -> Result<OutagePlan, SimError> {
        let err = |s: String| SimError::Scenario(format!("[outage] {s}"));
        let reason = reasons
            .iter()
            .position(|r| *r == self.reason)
            .ok_or_else(|| err(format!("reason '{}' is not a [[reason]]", self.reason)))?;
        if self.areas == 0 {
            return Err(err("areas must be at least 1".into()));
        }
        if !self.minutes.is_finite() || self.minutes <= 0.0 {
            return Err(err("minutes must be above 0".into()));
        }
        if !self.extra_per_hour.is_finite() || self.extra_per_hour < 0.0 {
            return Err(err("extra_per_hour must be 0 or more".into()));
        }
        if !(0.0..=1.0).contains(&self.told_hang_up) {
            return Err(err("told_hang_up must be 0–1".into()));
        }
        if !self.declare_after_minutes.is_finite() || self.declare_after_minutes < 0.0 {
            return Err(err("declare_after_minutes must be 0 or more".into()));
        }
        self.detector
            .check()
            .map_err(|e| err(format!("detector: {e}")))?;
        let start = clock(&self.start)?;
        let share = reason_share[reason];
        let mut usual = [0.0; 24];
        for (h, u) in usual.iter_mut().enumerate() {
            // the hour's mean arrival rate, by sixths of the hour (profiles change on the
            // quarter or the hour)
            let per_s: f64 = (0..6)
                .map(|k| rate.at(h as f64 * 3600.0 + k as f64 * 600.0 + 1.0).0)
                .sum::<f64>()
                / 6.0;
            *u = per_s * 3600.0 * share / self.areas as f64;
        }
        Ok(OutagePlan {
            reason: reason as u16,
            areas: self.areas,
            start,
            end: start + self.minutes * 60.0,
            extra_rate: self.extra_per_hour / 3600.0,
            declare_after: self.declare_after_minutes * 60.0,
            told_hang_up: self.told_hang_up,
            detector: self.detector.clone(),
            usual,
            tell: true,
        })
    }
}

/// What one replication saw of the outage.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutageOutcome {
    /// Seconds from the outage's start to the stricken 小区's alarm (`None`: never).
    pub detected_after: Option<f64>,
    /// Alarms raised for other 小区 (false alarms).
    pub false_alarms: u64,
    /// Fault calls from the stricken 小区 while the outage lasted.
    pub area_calls: u64,
    /// Of them, callers told of the incident.
    pub told: u64,
    /// Of those, callers who asked to be told and hung up.
    pub deflected: u64,
    /// Agents' talk and wrap-up seconds the deflected calls would have taken.
    pub saved_seconds: f64,
}

/// The outage watch of one replication.
pub(crate) struct OutageWatch {
    pub(crate) plan: OutagePlan,
    detector: Detector,
    names: Vec<Area>,
    declared: Option<f64>,
    pub(crate) out: OutageOutcome,
}

fn ms(s: f64) -> u64 {
    (s * 1000.0).max(0.0) as u64
}

impl OutageWatch {
    pub(crate) fn new(plan: OutagePlan) -> OutageWatch {
        let names: Vec<Area> = (0..plan.areas)
            .map(|k| Area::new("城区", &format!("小区{k:03}")))
            .collect();
        let rates: HashMap<Area, [f64; 24]> =
            names.iter().map(|a| (a.clone(), plan.usual)).collect();
        let detector = Detector::new(plan.detector.clone(), Baseline::with_rates(0, rates))
            .expect("the rule was checked when the scenario compiled");
        OutageWatch {
            plan,
            detector,
            names,
            declared: None,
            out: OutageOutcome::default(),
        }
    }

    /// Seconds between the detector's judgements.
    pub(crate) fn tick(&self) -> f64 {
        self.plan.detector.tick() as f64 / 1000.0
    }

    /// Whether the outage is on at `now` seconds.
    pub(crate) fn on(&self, now: f64) -> bool {
        (self.plan.start..self.plan.end).contains(&now)
    }

    /// A fault call from 小区 `area` at `now`: reported; whether its caller is told of
    /// the incident (declared and not yet over).
    pub(crate) fn fault_call(&mut self, now: f64, area: u32) -> bool {
        self.detector
            .report(ms(now), &self.names[area as usize], "fault");
        if area != 0 || !self.on(now) {
            return false;
        }
        self.out.area_calls += 1;
        self.plan.tell && self.declared.is_some_and(|d| now >= d)
    }

    /// A caller of the stricken 小区 heard the incident's message.
    pub(crate) fn told(&mut self) {
        self.out.told += 1;
    }

    /// A told caller hung up instead of queueing; their call would have taken this.
    pub(crate) fn deflected(&mut self, seconds: f64) {
        self.out.deflected += 1;
        self.out.saved_seconds += seconds;
    }

    /// Judge the areas at `now`.
    pub(crate) fn judge(&mut self, now: f64) {
        for e in self.detector.tick(ms(now)) {
            let OutageEvent::Raised(s) = e else { continue };
            let stricken = s.area == self.names[0];
            if stricken && self.on(now) && self.out.detected_after.is_none() {
                self.out.detected_after = Some(now - self.plan.start);
                self.declared = Some(now + self.plan.declare_after);
            } else if !stricken || !self.on(now) {
                self.out.false_alarms += 1;
            }
        }
    }
}

/// The outage over the replications.
#[derive(Debug, Clone, Serialize)]
pub struct OutageReport {
    /// Replications whose alarm rose while the outage lasted.
    pub detected: u32,
    /// Replications.
    pub replications: u32,
    /// Minutes from the outage's start to the alarm, over the replications that saw it.
    pub detection_minutes: Option<crate::Estimate>,
    /// Alarms raised for other 小区 (or after the outage), per replication.
    pub false_alarms: Option<crate::Estimate>,
    /// Fault calls from the stricken 小区 while it lasted, per replication.
    pub area_calls: Option<crate::Estimate>,
    /// Of them, callers told of the incident.
    pub told: Option<crate::Estimate>,
    /// Of those, callers who asked to be told and hung up (deflected).
    pub deflected: Option<crate::Estimate>,
    /// Agents' hours the deflected calls would have taken (talk and the wrap-up agents
    /// end themselves), per replication.
    pub agent_hours_saved: Option<crate::Estimate>,
}

impl OutageReport {
    /// From the replications' outcomes (`None` when they ran without an outage).
    pub fn of(outcomes: &[crate::Outcome]) -> Option<OutageReport> {
        let seen: Vec<&OutageOutcome> = outcomes.iter().filter_map(|o| o.outage.as_ref()).collect();
        if seen.is_empty() {
            return None;
        }
        let est = |f: &dyn Fn(&OutageOutcome) -> f64| {
            crate::Estimate::of(&seen.iter().map(|o| f(o)).collect::<Vec<_>>())
        };
        let delays: Vec<f64> = seen
            .iter()
            .filter_map(|o| o.detected_after.map(|s| s / 60.0))
            .collect();
        Some(OutageReport {
            detected: delays.len() as u32,
            replications: seen.len() as u32,
            detection_minutes: crate::Estimate::of(&delays),
            false_alarms: est(&|o| o.false_alarms as f64),
            area_calls: est(&|o| o.area_calls as f64),
            told: est(&|o| o.told as f64),
            deflected: est(&|o| o.deflected as f64),
            agent_hours_saved: est(&|o| o.saved_seconds / 3600.0),
        })
    }
}

/// A day with the incident's message against the same day without it.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Callers of the stricken 小区 told, and some deflected.
    pub told: crate::SimReport,
    /// Nobody told.
    pub untold: crate::SimReport,
    /// Per queue (then all queues, then all queues while the outage lasted), the
    /// service level with the message minus without, replication by replication (the
    /// same seeds, so the difference is paired).
    pub difference: Vec<QueueDifference>,
    /// The floor's service level while the outage lasted: with the message, without.
    pub during: [Option<crate::Estimate>; 2],
}

/// What the message changed in one queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueDifference {
    /// Queue name ("all queues" for the whole floor).
    pub queue: String,
    /// Service level with the message minus without (share).
    pub service_level: Option<crate::Estimate>,
    /// Calls offered with the message minus without.
    pub offered: Option<crate::Estimate>,
}

/// The paired differences of each queue's service level and calls offered.
pub fn difference(
    sc: &crate::Compiled,
    told: &[crate::Outcome],
    untold: &[crate::Outcome],
) -> Vec<QueueDifference> {
    use hotline_acd::kpi::{self, ServiceLevelFormula};
    let pairs = || told.iter().zip(untold);
    let of = |name: String, fig: &dyn Fn(&crate::Outcome) -> &crate::Figures, f| {
        let sl: Vec<f64> = pairs()
            .filter_map(|(a, b)| {
                Some(kpi::service_level(&fig(a).tally, f)? - kpi::service_level(&fig(b).tally, f)?)
            })
            .collect();
        let offered: Vec<f64> = pairs()
            .map(|(a, b)| fig(a).tally.offered as f64 - fig(b).tally.offered as f64)
            .collect();
        QueueDifference {
            queue: name,
            service_level: crate::Estimate::of(&sl),
            offered: crate::Estimate::of(&offered),
        }
    };
    let mut out: Vec<QueueDifference> = sc
        .queue_names
        .iter()
        .enumerate()
        .map(|(q, name)| {
            of(
                name.clone(),
                &|o: &crate::Outcome| &o.queues[q],
                sc.queues[q].service_level_formula,
            )
        })
        .collect();
    out.push(of(
        "all queues".into(),
        &|o: &crate::Outcome| &o.overall,
        ServiceLevelFormula::ExcludeShortAbandons,
    ));
    // the floor while the outage lasted: the statistics intervals it covers
    if let Some(plan) = &sc.outage {
        let sl: Vec<f64> = pairs()
            .filter_map(|(a, b)| Some(plan.floor_during(a)? - plan.floor_during(b)?))
            .collect();
        out.push(QueueDifference {
            queue: DURING.into(),
            service_level: crate::Estimate::of(&sl),
            offered: None,
        });
    }
    out
}

/// The name of the last row: the floor while the outage lasted.
pub const DURING: &str = "all queues, during the outage";

impl OutagePlan {
    /// The floor's service level in the statistics intervals the outage covers.
    pub fn floor_during(&self, o: &crate::Outcome) -> Option<f64> {
        use hotline_acd::kpi::{self, ServiceLevelFormula};
        let mut t = hotline_acd::kpi::Tally::default();
        for iv in o
            .intervals
            .iter()
            .filter(|iv| iv.end > self.start && iv.start < self.end)
        {
            t.merge(&iv.tally);
        }
        kpi::service_level(&t, ServiceLevelFormula::ExcludeShortAbandons)
    }
}

impl Comparison {
    /// The outage's section of the text report.
    pub fn to_text(&self, plan: &OutagePlan) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let e = crate::report::fmt;
        let _ = writeln!(
            s,
            "\nArea outage: 1 小区 of {}, from {:02}:{:02} for {:.0} min, {:.0} extra fault calls/h; \
             declared {:.0} min after the alarm; {:.0} % of callers told hang up",
            plan.areas,
            (plan.start / 3600.0) as u32,
            ((plan.start % 3600.0) / 60.0) as u32,
            (plan.end - plan.start) / 60.0,
            plan.extra_rate * 3600.0,
            plan.declare_after / 60.0,
            plan.told_hang_up * 100.0,
        );
        if let Some(o) = &self.told.outage {
            let _ = writeln!(
                s,
                "  detected in {} of {} replications, {} min after the start (rule: P < {:e} over {} min); \
                 false alarms {} per replication",
                o.detected,
                o.replications,
                e(o.detection_minutes, 1.0, 1),
                plan.detector.alarm_p,
                plan.detector.window_minutes,
                e(o.false_alarms, 1.0, 2),
            );
            let _ = writeln!(
                s,
                "  fault calls from the 小区 while it lasted {}, told {}, deflected {}; agent hours saved {}",
                e(o.area_calls, 1.0, 1),
                e(o.told, 1.0, 1),
                e(o.deflected, 1.0, 1),
                e(o.agent_hours_saved, 1.0, 2),
            );
        }
        let _ = writeln!(
            s,
            "  {} {:>16} {:>16} {:>20}",
            crate::report::pad("service level", 30),
            "with message",
            "without",
            "difference (paired)"
        );
        let with = self
            .told
            .queues
            .iter()
            .map(|q| q.estimates.service_level)
            .chain([self.told.overall.service_level, self.during[0]]);
        let without = self
            .untold
            .queues
            .iter()
            .map(|q| q.estimates.service_level)
            .chain([self.untold.overall.service_level, self.during[1]]);
        for ((w, wo), d) in with.zip(without).zip(&self.difference) {
            let _ = writeln!(
                s,
                "  {} {:>16} {:>16} {:>20}",
                crate::report::pad(&d.queue, 30),
                e(w, 100.0, 1),
                e(wo, 100.0, 1),
                e(d.service_level, 100.0, 1),
            );
        }
        s
    }
}
