//! Area outages seen from the callers: a sans-IO detector of fault surges per area
//! (district and 小区), against each area's expected rate for the time of day.
//!
//! The router (and the simulator, on its virtual clock) hands the [`Detector`] every fault
//! report with its time and area — a call whose caller chose the fault menu, a fault
//! ticket opened without a call — and calls [`Detector::tick`] every
//! [`DetectorConfig::tick`]. The detector answers with [`OutageEvent`]s: an alarm raised,
//! grown, or cleared, and (when configured) the stricter level at which an incident is to
//! be declared without waiting for a supervisor. No clock, no I/O, no randomness: the same
//! reports at the same times give the same events.
//!
//! **The rule.** At each tick, for each area with reports in the window (the last
//! [`DetectorConfig::window`]), the expected count λ is the area's learned rate integrated
//! over the window ([`Baseline`]), never below the floor rate; `n` is the count seen. The
//! alarm is raised when P(X ≥ n) < [`DetectorConfig::alarm_p`] for X ~ Poisson(λ), and
//! cleared when that chance is back above [`DetectorConfig::clear_p`].
//!
//! **Its false-alarm rate.** Where reports arrive as a Poisson process at the learned
//! rate (no outage), the chance that one tick raises the alarm is at most `alarm_p`, so an
//! area raises at most `ticks per day × alarm_p` false alarms a day in expectation
//! ([`DetectorConfig::false_alarms_per_area_day`]; with the defaults, 1,440 ticks ×
//! 10⁻⁶ ≈ 0.0014 per area per day, one false alarm in two years for an area). The bound
//! is a union bound over ticks; overlapping windows make the true rate lower, and the
//! tests measure it.

mod baseline;

pub use baseline::{Baseline, HOURS};
use hotline_erlang::poisson;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Milliseconds since the Unix epoch (UTC), as everywhere in the hotline.
pub type Millis = u64;

const MINUTE: Millis = 60_000;

/// Where callers live: a district (区县) and a 小区 within it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Area {
    /// District (区县).
    pub district: String,
    /// 小区 / residential area.
    pub area: String,
}

impl Area {
    /// The area `area` of `district`.
    pub fn new(district: &str, area: &str) -> Area {
        Area {
            district: district.to_string(),
            area: area.to_string(),
        }
    }
}

impl std::fmt::Display for Area {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.district, self.area)
    }
}

/// How the detector judges a count (`[outage]` in the router's configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// The sliding window the reports are counted over, minutes.
    pub window_minutes: u64,
    /// How often the rule is evaluated, seconds.
    pub tick_seconds: u64,
    /// The alarm is raised when a count this improbable is seen (P(X ≥ n) below it).
    pub alarm_p: f64,
    /// The alarm clears when the count's chance is back above this.
    pub clear_p: f64,
    /// When set, an incident is declared without a supervisor once the count's chance
    /// falls below this (stricter than `alarm_p`).
    pub declare_p: Option<f64>,
    /// The least rate an area is expected to report at, per hour: an area with little or
    /// no history is not alarmed by its first two calls.
    pub floor_per_hour: f64,
    /// How many subcategories an alarm names.
    pub top: usize,
}

impl Default for DetectorConfig {
    fn default() -> DetectorConfig {
        DetectorConfig {
            window_minutes: 30,
            tick_seconds: 60,
            alarm_p: 1e-6,
            clear_p: 0.05,
            declare_p: None,
            floor_per_hour: 0.2,
            top: 3,
        }
    }
}

/// A configuration the detector cannot work with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A setting out of its range.
    #[error("outage detection: {what} must be {range}, got {value}")]
    OutOfRange {
        /// The setting.
        what: &'static str,
        /// What it may be.
        range: &'static str,
        /// What it was.
        value: f64,
    },
}

impl DetectorConfig {
    /// Refuse settings the rule cannot use, in words.
    pub fn check(&self) -> Result<(), ConfigError> {
        let out = |what, range, value: f64| Err(ConfigError::OutOfRange { what, range, value });
        if !(1..=24 * 60).contains(&self.window_minutes) {
            return out("window_minutes", "1 to 1440", self.window_minutes as f64);
        }
        if !(1..=3600).contains(&self.tick_seconds) {
            return out("tick_seconds", "1 to 3600", self.tick_seconds as f64);
        }
        let p_ok = |p: f64| p > 0.0 && p < 1.0;
        if !p_ok(self.alarm_p) {
            return out("alarm_p", "above 0 and below 1", self.alarm_p);
        }
        if !p_ok(self.clear_p) || self.clear_p < self.alarm_p {
            return out("clear_p", "below 1 and at least alarm_p", self.clear_p);
        }
        if let Some(d) = self.declare_p {
            if !p_ok(d) || d > self.alarm_p {
                return out("declare_p", "above 0 and at most alarm_p", d);
            }
        }
        if !(self.floor_per_hour > 0.0 && self.floor_per_hour.is_finite()) {
            return out("floor_per_hour", "a positive number", self.floor_per_hour);
        }
        Ok(())
    }

    /// The window, ms.
    pub fn window(&self) -> Millis {
        self.window_minutes * MINUTE
    }

    /// Between two ticks, ms.
    pub fn tick(&self) -> Millis {
        self.tick_seconds * 1000
    }

    /// The bound on false alarms per area per day where reports come at the learned
    /// rate: ticks a day × `alarm_p`.
    pub fn false_alarms_per_area_day(&self) -> f64 {
        86_400.0 / self.tick_seconds as f64 * self.alarm_p
    }
}

/// What an alarm says about its area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Surge {
    /// The area.
    pub area: Area,
    /// Reports in the window.
    pub count: u64,
    /// The count expected in the window at the area's rate for the time of day.
    pub expected: f64,
    /// The chance of at least `count` at that rate.
    pub chance: f64,
    /// The first report of the surge (the earliest in the window when it was raised).
    pub first: Millis,
    /// When the alarm was raised.
    pub raised: Millis,
    /// The most frequent subcategories (or reasons) in the window, with counts.
    pub top: Vec<(String, u64)>,
    /// The stricter `declare_p` has been crossed while the alarm stood.
    pub declared: bool,
}

/// What the detector tells its driver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OutageEvent {
    /// An area's count became improbable.
    Raised(Surge),
    /// A raised alarm's count grew (sent with the new count).
    Grew(Surge),
    /// The stricter `declare_p` was crossed: declare an incident (once per alarm).
    Declare(Surge),
    /// The count is back to what the area's rate makes likely.
    Cleared {
        /// The area.
        area: Area,
        /// When.
        at: Millis,
        /// The most reports the alarm saw in one window.
        peak: u64,
    },
}

/// One area's reports in the window and its alarm.
#[derive(Debug, Default)]
struct Watch {
    /// (time, subcategory) in arrival order.
    reports: VecDeque<(Millis, u32)>,
    alarm: Option<Alarm>,
}

#[derive(Debug)]
struct Alarm {
    first: Millis,
    raised: Millis,
    peak: u64,
    declared: bool,
}

/// The fault-surge detector (see the crate's words).
#[derive(Debug)]
pub struct Detector {
    config: DetectorConfig,
    baseline: Baseline,
    watches: BTreeMap<Area, Watch>,
    what: Vec<String>,
    what_id: HashMap<String, u32>,
}

impl Detector {
    /// A detector judging by `baseline`; refuses a configuration it cannot use.
    pub fn new(config: DetectorConfig, baseline: Baseline) -> Result<Detector, ConfigError> {
        config.check()?;
        Ok(Detector {
            config,
            baseline,
            watches: BTreeMap::new(),
            what: Vec::new(),
            what_id: HashMap::new(),
        })
    }

    /// Its configuration.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Judge by `baseline` from now on (rates learned after start).
    pub fn learned(&mut self, baseline: Baseline) {
        self.baseline = baseline;
    }

    /// A fault report from `area` at `now` about `what` (a subcategory or reason code).
    pub fn report(&mut self, now: Millis, area: &Area, what: &str) {
        let id = match self.what_id.get(what) {
            Some(id) => *id,
            None => {
                let id = self.what.len() as u32;
                self.what.push(what.to_string());
                self.what_id.insert(what.to_string(), id);
                id
            }
        };
        let watch = match self.watches.get_mut(area) {
            Some(w) => w,
            None => self.watches.entry(area.clone()).or_default(),
        };
        watch.reports.push_back((now, id));
    }

    /// Areas with an alarm raised now.
    pub fn alarmed(&self) -> impl Iterator<Item = &Area> {
        self.watches
            .iter()
            .filter(|(_, w)| w.alarm.is_some())
            .map(|(a, _)| a)
    }

    /// Evaluate the rule at `now` for every area with reports in the window or an alarm
    /// raised, forgetting reports older than the window.
    pub fn tick(&mut self, now: Millis) -> Vec<OutageEvent> {
        let window = self.config.window();
        let from = now.saturating_sub(window);
        let mut events = Vec::new();
        let mut idle = Vec::new();
        for (area, w) in &mut self.watches {
            while w.reports.front().is_some_and(|(t, _)| *t <= from) {
                w.reports.pop_front();
            }
            let n = w.reports.len() as u64;
            let expected = self
                .baseline
                .expected(area, from, now)
                .max(self.config.floor_per_hour * window as f64 / 3_600_000.0);
            let chance = poisson::tail(n, expected);
            let surge = |reports: &VecDeque<(Millis, u32)>, a: &Alarm| Surge {
                area: area.clone(),
                count: n,
                expected,
                chance,
                first: a.first,
                raised: a.raised,
                top: top(reports, &self.what, self.config.top),
                declared: a.declared,
            };
            let crossed = self.config.declare_p.is_some_and(|d| chance < d);
            match &mut w.alarm {
                None if chance < self.config.alarm_p => {
                    let a = Alarm {
                        first: w.reports.front().map_or(now, |(t, _)| *t),
                        raised: now,
                        peak: n,
                        declared: crossed,
                    };
                    events.push(OutageEvent::Raised(surge(&w.reports, &a)));
                    if crossed {
                        events.push(OutageEvent::Declare(surge(&w.reports, &a)));
                    }
                    w.alarm = Some(a);
                }
                None => {
                    if w.reports.is_empty() {
                        idle.push(area.clone());
                    }
                }
                Some(a) if chance > self.config.clear_p => {
                    events.push(OutageEvent::Cleared {
                        area: area.clone(),
                        at: now,
                        peak: a.peak,
                    });
                    w.alarm = None;
                }
                Some(a) => {
                    if n > a.peak {
                        a.peak = n;
                        let declare = crossed && !a.declared;
                        a.declared |= crossed;
                        events.push(OutageEvent::Grew(surge(&w.reports, a)));
                        if declare {
                            events.push(OutageEvent::Declare(surge(&w.reports, a)));
                        }
                    }
                }
            }
        }
        for area in idle {
            self.watches.remove(&area);
        }
        events
    }
}

/// The most frequent subcategories among `reports`, most first (ties by name).
fn top(reports: &VecDeque<(Millis, u32)>, names: &[String], k: usize) -> Vec<(String, u64)> {
    let mut n: BTreeMap<u32, u64> = BTreeMap::new();
    for (_, w) in reports {
        *n.entry(*w).or_default() += 1;
    }
    let mut v: Vec<(String, u64)> = n
        .into_iter()
        .map(|(w, c)| (names.get(w as usize).cloned().unwrap_or_default(), c))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(k);
    v
}

#[cfg(test)]
mod tests;
