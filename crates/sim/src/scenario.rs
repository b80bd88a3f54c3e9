//! Scenario files: the traffic, the queues and the staff of a simulated hotline.
//!
//! A scenario is TOML (examples in `assets/scenarios/`). Everything is checked when it is
//! loaded, and an error names the field; [`Scenario::compile`] turns it into engine
//! configurations and ready-to-sample distributions.

use crate::SimError;
use crate::dist::{Duration, Sampler};
use hotline_acd::{
    AgentProfile, GroupId, NoAgentsPolicy, OverflowStep, QueueConfig, ServiceLevelFormula, SkillId,
    Span, Strategy, Thresholds, WrapUpPolicy,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A whole scenario as written in its file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Title for reports.
    pub name: String,
    /// What it represents.
    #[serde(default)]
    pub description: String,
    /// Independent runs; confidence intervals need at least 2.
    #[serde(default = "default_replications")]
    pub replications: u32,
    /// Master seed: the same seed gives the same report.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// How long to run and what to leave out as warm-up.
    pub run: RunLength,
    /// The arrival process.
    pub arrivals: Arrivals,
    /// How long callers wait before hanging up.
    #[serde(default = "infinite")]
    pub patience: Duration,
    /// Callers who abandon and call again.
    #[serde(default)]
    pub retrial: Retrial,
    /// Share of callers who accept a callback when one is offered.
    #[serde(default)]
    pub callback_acceptance: f64,
    /// Queues (at least one).
    #[serde(rename = "queue")]
    pub queues: Vec<QueueSpec>,
    /// Call reasons with their share of calls and handle times (at least one).
    #[serde(rename = "reason")]
    pub reasons: Vec<ReasonSpec>,
    /// Customer segments (public, key account …); default: everyone public, priority 0.
    #[serde(rename = "segment", default)]
    pub segments: Vec<SegmentSpec>,
    /// Agents, by team (at least one).
    #[serde(rename = "team")]
    pub teams: Vec<TeamSpec>,
    /// An area outage during the run (see [`crate::outage`]).
    #[serde(default)]
    pub outage: Option<crate::outage::OutageSpec>,
    /// The IVR in front of the queues (see [`crate::ivr`]); absent: callers go straight
    /// to their reason's queue.
    #[serde(default)]
    pub ivr: Option<crate::ivr::IvrSpec>,
    /// The file it was read from (names it in errors).
    #[serde(skip)]
    pub source: Option<std::path::PathBuf>,
}

fn default_replications() -> u32 {
    10
}
fn default_seed() -> u64 {
    1000
}
fn infinite() -> Duration {
    Duration::Infinite
}
fn default_interval() -> f64 {
    15.0
}

/// Run length: either hours of simulated time, or a number of calls.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunLength {
    /// Simulated hours from 00:00 (time-of-day profiles, shifts and breaks use this clock).
    pub hours: Option<f64>,
    /// Minutes at the start left out of the figures.
    #[serde(default)]
    pub warmup_minutes: f64,
    /// Measured calls per replication (instead of `hours`).
    pub calls: Option<u64>,
    /// Calls left out before measuring starts (default: a tenth of `calls`, at least
    /// 20 per agent).
    pub warmup_calls: Option<u64>,
    /// Statistics interval in minutes.
    #[serde(default = "default_interval")]
    pub interval_minutes: f64,
}

/// Poisson arrivals at a constant rate or following a time-of-day profile.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arrivals {
    /// Constant rate.
    pub calls_per_hour: Option<f64>,
    /// A CSV file `HH:MM,calls_per_hour` (path relative to the scenario file); each rate
    /// holds until the next row, and the day repeats.
    pub profile: Option<String>,
    /// Multiplies the profile (e.g. 1.3 for a storm day).
    #[serde(default = "one")]
    pub scale: f64,
    /// Rows of the profile, filled in by [`Scenario::load`].
    #[serde(skip)]
    pub profile_rows: Vec<(f64, f64)>,
}

fn one() -> f64 {
    1.0
}

/// Callers who abandon try again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retrial {
    /// Chance an abandoning caller calls again.
    pub probability: f64,
    /// Mean delay before they do (exponential), seconds.
    pub mean_delay_seconds: f64,
}

impl Default for Retrial {
    fn default() -> Self {
        Retrial {
            probability: 0.0,
            mean_delay_seconds: 300.0,
        }
    }
}

/// After-call work in a scenario: `"skip"`, a number of seconds, or `"agent"` (the bot
/// finishes after the reason's `wrap_up` time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WrapUpSpec {
    /// Fixed seconds.
    Seconds(f64),
    /// `"skip"` or `"agent"`.
    Word(String),
}

/// One queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    /// Name (reasons and segments refer to it).
    pub name: String,
    /// Skill name required.
    pub skill: String,
    /// Lowest level accepted.
    #[serde(default = "one_u8")]
    pub min_level: u8,
    /// Only this team group may serve it.
    pub group: Option<String>,
    /// Agent selection.
    #[serde(default)]
    pub strategy: Strategy,
    /// Service-level threshold T, seconds.
    #[serde(default = "twenty")]
    pub sl_seconds: f64,
    /// Short-abandon threshold, seconds.
    #[serde(default = "five")]
    pub short_abandon_seconds: f64,
    /// Service-level formula.
    #[serde(default)]
    pub sl_formula: ServiceLevelFormula,
    /// Most calls waiting.
    pub max_waiting: Option<u32>,
    /// Refuse calls when nobody qualified is logged in.
    #[serde(default)]
    pub refuse_when_no_agents: bool,
    /// Ring-no-answer after this many seconds (default 15; absent with `never_time_out`).
    #[serde(default = "fifteen")]
    pub ring_timeout_seconds: f64,
    /// Offers never time out.
    #[serde(default)]
    pub never_time_out: bool,
    /// After-call work.
    #[serde(default = "default_wrap")]
    pub wrap_up: WrapUpSpec,
    /// Wait for a preferred agent, seconds.
    #[serde(default = "thirty")]
    pub preferred_wait_seconds: f64,
    /// Offer a callback when the estimated wait reaches this many seconds.
    pub callback_threshold_seconds: Option<f64>,
    /// Rings that open while callers wait.
    #[serde(default)]
    pub overflow: Vec<OverflowSpec>,
}

fn one_u8() -> u8 {
    1
}
fn twenty() -> f64 {
    20.0
}
fn five() -> f64 {
    5.0
}
fn fifteen() -> f64 {
    15.0
}
fn thirty() -> f64 {
    30.0
}
fn default_wrap() -> WrapUpSpec {
    WrapUpSpec::Word("skip".into())
}

impl QueueSpec {
    /// The routing engine's settings for this queue, with skill and group names turned
    /// into ids by the caller's tables; the flag says the bot (or desktop) finishes the
    /// wrap-up. The router's configuration uses the same queue format as scenarios.
    pub fn config(
        &self,
        skill_id: &mut dyn FnMut(&str) -> SkillId,
        group_id: &mut dyn FnMut(&str) -> GroupId,
    ) -> Result<(QueueConfig, bool), SimError> {
        let err = |s: String| SimError::Scenario(s);
        let secs = |x: f64, what: &str| -> Result<Span, SimError> {
            if x.is_finite() && x >= 0.0 {
                Ok(Span::from_secs_f64(x))
            } else {
                Err(SimError::Scenario(format!(
                    "{what} must be zero or more seconds, got {x}"
                )))
            }
        };
        let ctx = |f: &str| format!("queue '{}' {f}", self.name);
        let (wrap_up, bot_wrap) = match &self.wrap_up {
            WrapUpSpec::Seconds(s) if *s == 0.0 => (WrapUpPolicy::Skip, false),
            WrapUpSpec::Seconds(s) => (WrapUpPolicy::Timed(secs(*s, &ctx("wrap_up"))?), false),
            WrapUpSpec::Word(w) if w == "skip" => (WrapUpPolicy::Skip, false),
            WrapUpSpec::Word(w) if w == "agent" => (WrapUpPolicy::UntilAgentFinishes, true),
            WrapUpSpec::Word(w) => {
                return Err(err(format!(
                    "{}: '{w}' (use \"skip\", \"agent\" or seconds)",
                    ctx("wrap_up")
                )));
            }
        };
        let mut overflow = Vec::new();
        for o in &self.overflow {
            overflow.push(OverflowStep {
                after: secs(o.after_seconds, &ctx("overflow.after_seconds"))?,
                skill: skill_id(&o.skill),
                min_level: o.min_level,
            });
        }
        let cfg = QueueConfig {
            name: self.name.clone(),
            skill: skill_id(&self.skill),
            min_level: self.min_level,
            group: self.group.as_deref().map(&mut *group_id),
            overflow,
            strategy: self.strategy,
            thresholds: Thresholds {
                service_level: secs(self.sl_seconds, &ctx("sl_seconds"))?,
                short_abandon: secs(self.short_abandon_seconds, &ctx("short_abandon_seconds"))?,
            },
            service_level_formula: self.sl_formula,
            max_waiting: self.max_waiting,
            when_no_agents: if self.refuse_when_no_agents {
                NoAgentsPolicy::Refuse
            } else {
                NoAgentsPolicy::Join
            },
            ring_timeout: if self.never_time_out {
                None
            } else {
                Some(secs(
                    self.ring_timeout_seconds,
                    &ctx("ring_timeout_seconds"),
                )?)
            },
            wrap_up,
            preferred_agent_wait: secs(
                self.preferred_wait_seconds,
                &ctx("preferred_wait_seconds"),
            )?,
            callback_threshold: match self.callback_threshold_seconds {
                Some(s) => Some(secs(s, &ctx("callback_threshold_seconds"))?),
                None => None,
            },
            expected_handle_time: Span::from_secs(240),
        };
        cfg.validate()
            .map_err(|e| err(format!("queue '{}': {e}", self.name)))?;
        Ok((cfg, bot_wrap))
    }
}

/// An overflow ring.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverflowSpec {
    /// Opens after this wait, seconds.
    pub after_seconds: f64,
    /// Skill name.
    pub skill: String,
    /// Lowest level.
    pub min_level: u8,
}

/// A call reason (业务咨询, 障碍申报, 服务投诉, 新业务开通, 话费查询 …).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonSpec {
    /// Name.
    pub name: String,
    /// Share of calls (normalised over all reasons).
    pub share: f64,
    /// Queue it goes to.
    pub queue: String,
    /// Talk time.
    pub handle: Duration,
    /// Wrap-up time when the queue's wrap-up is `"agent"`.
    pub wrap_up: Option<Duration>,
}

/// A customer segment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentSpec {
    /// Name ("public", "key account").
    pub name: String,
    /// Share of calls (normalised).
    pub share: f64,
    /// Priority class in the queue.
    #[serde(default)]
    pub priority: u8,
    /// Send the segment to this queue instead of the reason's (the green channel).
    pub queue: Option<String>,
}

/// A team of identical agents.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamSpec {
    /// Name.
    pub name: String,
    /// Head count.
    pub agents: u32,
    /// Skill name → level 1–10.
    pub skills: BTreeMap<String, u8>,
    /// Group names.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Shift; absent: the whole run.
    pub shift: Option<ShiftSpec>,
    /// Breaks during the shift.
    #[serde(default)]
    pub breaks: Vec<BreakSpec>,
    /// Time before a bot answers an offer.
    #[serde(default = "zero_delay")]
    pub answer_delay: Duration,
}

fn zero_delay() -> Duration {
    Duration::Constant { seconds: 0.0 }
}

/// A shift, clock times "HH:MM" on the simulated day.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftSpec {
    /// Start.
    pub start: String,
    /// End (may pass midnight: "22:00"–"06:00").
    pub end: String,
}

/// A break.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakSpec {
    /// Start, "HH:MM".
    pub at: String,
    /// Length.
    pub minutes: f64,
    /// Stagger: the team's agents start their break spread over this many minutes, so
    /// the floor is not emptied at once.
    #[serde(default)]
    pub stagger_minutes: f64,
}

/// Parse "HH:MM" into seconds after midnight.
pub fn clock(s: &str) -> Result<f64, SimError> {
    let bad = || SimError::Scenario(format!("'{s}' is not a clock time like 08:30"));
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    let m: u32 = m.trim().parse().map_err(|_| bad())?;
    if h > 24 || m > 59 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok((h * 3600 + m * 60) as f64)
}

/// A reason ready to sample.
#[derive(Debug, Clone)]
pub struct Reason {
    pub name: String,
    pub queue: usize,
    pub handle: Sampler,
    pub wrap_up: Sampler,
}

/// A segment ready to use.
#[derive(Debug, Clone)]
pub struct Segment {
    pub name: String,
    pub priority: u8,
    pub queue: Option<usize>,
}

/// One bot agent.
#[derive(Debug, Clone)]
pub struct Bot {
    pub team: usize,
    pub profile: AgentProfile,
    /// (start, end) in seconds of the run; `None`: always on.
    pub shift: Option<(f64, f64)>,
    /// (start, end) of breaks.
    pub breaks: Vec<(f64, f64)>,
    pub answer_delay: Sampler,
}

/// When a replication stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// After `measured` fresh arrivals past `warmup` have all ended.
    Calls { warmup: u64, measured: u64 },
    /// At `end` seconds; figures from `warmup` seconds on.
    Time { end: f64, warmup: f64 },
}

/// The arrival rate over the day.
#[derive(Debug, Clone)]
pub enum Rate {
    /// Calls per second, always.
    Constant(f64),
    /// (start second of day, calls per second), sorted; repeats daily.
    Profile(Vec<(f64, f64)>),
}

impl Rate {
    /// Rate at time `t` (seconds of the run) and when it next changes.
    pub fn at(&self, t: f64) -> (f64, f64) {
        match self {
            Rate::Constant(r) => (*r, f64::INFINITY),
            Rate::Profile(rows) => {
                let day = 86_400.0;
                let base = (t / day).floor() * day;
                let tod = t - base;
                let i = rows.partition_point(|(s, _)| *s <= tod);
                let (rate, next) = if i == 0 {
                    (rows[rows.len() - 1].1, rows[0].0)
                } else {
                    (rows[i - 1].1, rows.get(i).map_or(day + rows[0].0, |r| r.0))
                };
                (rate, base + next)
            }
        }
    }

    /// Mean calls per hour over a day (or the constant rate).
    pub fn mean_per_hour(&self) -> f64 {
        match self {
            Rate::Constant(r) => r * 3600.0,
            Rate::Profile(_) => {
                let mut total = 0.0;
                let mut t = 0.0;
                while t < 86_400.0 {
                    let (r, next) = self.at(t);
                    let end = next.min(86_400.0);
                    total += r * (end - t);
                    t = end;
                }
                total / 24.0
            }
        }
    }
}

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub name: String,
    pub replications: u32,
    pub seed: u64,
    pub queues: Vec<QueueConfig>,
    pub queue_names: Vec<String>,
    /// Wrap-up done by the bot (queue's wrap-up is "agent").
    pub bot_wraps: Vec<bool>,
    pub reasons: Vec<Reason>,
    /// Cumulative shares for drawing a reason.
    pub reason_cdf: Vec<f64>,
    pub segments: Vec<Segment>,
    pub segment_cdf: Vec<f64>,
    pub bots: Vec<Bot>,
    pub rate: Rate,
    pub patience: Sampler,
    pub retrial_probability: f64,
    pub retrial_delay: Sampler,
    pub callback_acceptance: f64,
    pub stop: Stop,
    pub interval: Span,
    /// An area outage during the run.
    pub outage: Option<crate::outage::OutagePlan>,
    /// The IVR in front of the queues.
    pub ivr: Option<crate::ivr::IvrPlan>,
    /// Threads the replications are shared out over (1: one after the other on this
    /// thread); the figures are the same for any number.
    pub threads: usize,
}

fn cdf(shares: &[f64], what: &str) -> Result<Vec<f64>, SimError> {
    if shares.iter().any(|s| !s.is_finite() || *s < 0.0) {
        return Err(SimError::Scenario(format!(
            "{what}: shares must be zero or more"
        )));
    }
    let total: f64 = shares.iter().sum();
    if total <= 0.0 {
        return Err(SimError::Scenario(format!(
            "{what}: shares add up to nothing"
        )));
    }
    let mut acc = 0.0;
    Ok(shares
        .iter()
        .map(|s| {
            acc += s / total;
            acc
        })
        .collect())
}

impl Scenario {
    /// Read a scenario file (and its arrival profile, relative to it).
    pub fn load(path: &Path) -> Result<Scenario, SimError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SimError::Io(format!("cannot read scenario {}: {e}", path.display())))?;
        let mut sc: Scenario = toml::from_str(&text)
            .map_err(|e| SimError::Scenario(format!("{}: {e}", path.display())))?;
        if let Some(p) = &sc.arrivals.profile {
            let file = path.parent().unwrap_or(Path::new(".")).join(p);
            sc.arrivals.profile_rows = load_profile(&file)?;
        }
        if let Some(ivr) = &mut sc.ivr {
            crate::ivr::resolve(ivr, path);
        }
        sc.source = Some(path.to_path_buf());
        Ok(sc)
    }

    /// Check everything and prepare it for the engine.
    pub fn compile(&self) -> Result<Compiled, SimError> {
        let err = |s: String| SimError::Scenario(s);
        if self.queues.is_empty() || self.reasons.is_empty() || self.teams.is_empty() {
            return Err(err(
                "a scenario needs at least one [[queue]], one [[reason]] and one [[team]]".into(),
            ));
        }
        let mut skills: Vec<String> = Vec::new();
        let mut groups: Vec<String> = Vec::new();
        let mut skill_id = |name: &str| -> SkillId {
            let i = skills.iter().position(|s| s == name).unwrap_or_else(|| {
                skills.push(name.to_string());
                skills.len() - 1
            });
            SkillId(i as u16)
        };
        let mut group_id = |name: &str| -> GroupId {
            let i = groups.iter().position(|s| s == name).unwrap_or_else(|| {
                groups.push(name.to_string());
                groups.len() - 1
            });
            GroupId(i as u16)
        };
        let queue_names: Vec<String> = self.queues.iter().map(|q| q.name.clone()).collect();
        let queue_index = |name: &str, what: &str| -> Result<usize, SimError> {
            queue_names.iter().position(|q| q == name).ok_or_else(|| {
                SimError::Scenario(format!("{what} names queue '{name}', which is not defined"))
            })
        };
        let mut queues = Vec::new();
        let mut bot_wraps = Vec::new();
        for q in &self.queues {
            let (cfg, bot_wrap) = q.config(&mut skill_id, &mut group_id)?;
            queues.push(cfg);
            bot_wraps.push(bot_wrap);
        }
        let mut reasons = Vec::new();
        for r in &self.reasons {
            let what = format!("reason '{}'", r.name);
            let q = queue_index(&r.queue, &what)?;
            let handle = r.handle.sampler(&format!("{what} handle"))?;
            reasons.push(Reason {
                name: r.name.clone(),
                queue: q,
                handle,
                wrap_up: match &r.wrap_up {
                    Some(d) => d.sampler(&format!("{what} wrap_up"))?,
                    None => Sampler::Constant(0.0),
                },
            });
            // the expected handle time feeds the queue's wait estimates
            let m = reasons.last().map(|x| x.handle.mean()).unwrap_or(240.0);
            queues[q].expected_handle_time = Span::from_secs_f64(m);
        }
        let reason_cdf = cdf(
            &self.reasons.iter().map(|r| r.share).collect::<Vec<_>>(),
            "reason shares",
        )?;
        let (segments, segment_cdf) = if self.segments.is_empty() {
            (
                vec![Segment {
                    name: "public".into(),
                    priority: 0,
                    queue: None,
                }],
                vec![1.0],
            )
        } else {
            let mut v = Vec::new();
            for s in &self.segments {
                v.push(Segment {
                    name: s.name.clone(),
                    priority: s.priority,
                    queue: match &s.queue {
                        Some(q) => Some(queue_index(q, &format!("segment '{}'", s.name))?),
                        None => None,
                    },
                });
            }
            (
                v,
                cdf(
                    &self.segments.iter().map(|s| s.share).collect::<Vec<_>>(),
                    "segment shares",
                )?,
            )
        };
        let mut bots = Vec::new();
        for (ti, t) in self.teams.iter().enumerate() {
            let what = format!("team '{}'", t.name);
            let profile = AgentProfile {
                skills: t.skills.iter().map(|(s, l)| (skill_id(s), *l)).collect(),
                groups: t.groups.iter().map(|g| group_id(g)).collect(),
            };
            profile
                .validate()
                .map_err(|e| err(format!("{what}: {e}")))?;
            let shift = match &t.shift {
                Some(s) => {
                    let (a, mut b) = (clock(&s.start)?, clock(&s.end)?);
                    if b <= a {
                        b += 86_400.0;
                    }
                    Some((a, b))
                }
                None => None,
            };
            let answer_delay = t.answer_delay.sampler(&format!("{what} answer_delay"))?;
            for k in 0..t.agents {
                let mut breaks = Vec::new();
                for b in &t.breaks {
                    if !(b.minutes.is_finite() && b.minutes > 0.0 && b.stagger_minutes >= 0.0) {
                        return Err(err(format!("{what}: a break needs a positive length")));
                    }
                    let mut start = clock(&b.at)?;
                    if let Some((s, _)) = shift {
                        if start < s {
                            start += 86_400.0;
                        }
                    }
                    let offset = if t.agents > 1 {
                        b.stagger_minutes * 60.0 * k as f64 / (t.agents - 1) as f64
                    } else {
                        0.0
                    };
                    breaks.push((start + offset, start + offset + b.minutes * 60.0));
                }
                bots.push(Bot {
                    team: ti,
                    profile: profile.clone(),
                    shift,
                    breaks,
                    answer_delay: answer_delay.clone(),
                });
            }
        }
        if bots.is_empty() {
            return Err(err("the teams have no agents".into()));
        }
        let rate = match (
            &self.arrivals.calls_per_hour,
            self.arrivals.profile_rows.is_empty(),
        ) {
            (Some(r), true) if r.is_finite() && *r > 0.0 => {
                Rate::Constant(r * self.arrivals.scale / 3600.0)
            }
            (None, false) => {
                let mut rows: Vec<(f64, f64)> = self
                    .arrivals
                    .profile_rows
                    .iter()
                    .map(|(t, r)| (*t, r * self.arrivals.scale / 3600.0))
                    .collect();
                rows.sort_by(|a, b| a.0.total_cmp(&b.0));
                Rate::Profile(rows)
            }
            _ => {
                return Err(err(
                    "[arrivals] needs either calls_per_hour (a positive number) or a profile file, not both".into(),
                ));
            }
        };
        let patience = self.patience.sampler("patience")?;
        if !(0.0..=1.0).contains(&self.retrial.probability) {
            return Err(err("retrial.probability must be between 0 and 1".into()));
        }
        if !(0.0..=1.0).contains(&self.callback_acceptance) {
            return Err(err("callback_acceptance must be between 0 and 1".into()));
        }
        let retrial_delay = Duration::Exponential {
            mean_seconds: self.retrial.mean_delay_seconds,
        }
        .sampler("retrial.mean_delay_seconds")?;
        let stop = match (self.run.hours, self.run.calls) {
            (Some(h), None) if h.is_finite() && h > 0.0 => {
                let warmup = self.run.warmup_minutes * 60.0;
                if !(0.0..h * 3600.0).contains(&warmup) {
                    return Err(err("run.warmup_minutes must be shorter than the run".into()));
                }
                Stop::Time {
                    end: h * 3600.0,
                    warmup,
                }
            }
            (None, Some(c)) if c > 0 => Stop::Calls {
                measured: c,
                warmup: self
                    .run
                    .warmup_calls
                    .unwrap_or((c / 10).max(20 * bots.len() as u64)),
            },
            _ => {
                return Err(err(
                    "[run] needs either hours or calls (a positive number), not both".into(),
                ));
            }
        };
        if self.replications == 0 {
            return Err(err("replications must be at least 1".into()));
        }
        if !(self.run.interval_minutes.is_finite() && self.run.interval_minutes >= 1.0) {
            return Err(err("run.interval_minutes must be at least 1".into()));
        }
        let outage = match &self.outage {
            Some(o) => {
                let names: Vec<String> = self.reasons.iter().map(|r| r.name.clone()).collect();
                let shares: Vec<f64> = reason_cdf
                    .iter()
                    .scan(0.0, |before, c| {
                        let share = c - *before;
                        *before = *c;
                        Some(share)
                    })
                    .collect();
                Some(o.plan(&names, &shares, &rate)?)
            }
            None => None,
        };
        let ivr = match &self.ivr {
            Some(spec) => {
                let file = self
                    .source
                    .as_ref()
                    .map_or("scenario".to_string(), |p| p.display().to_string());
                let names = |v: &mut dyn Iterator<Item = String>| v.collect::<Vec<String>>();
                Some(spec.plan(
                    &file,
                    &queue_names,
                    &names(&mut self.reasons.iter().map(|r| r.name.clone())),
                    &names(&mut segments.iter().map(|s| s.name.clone())),
                )?)
            }
            None => None,
        };
        Ok(Compiled {
            name: self.name.clone(),
            replications: self.replications,
            seed: self.seed,
            queues,
            queue_names,
            bot_wraps,
            reasons,
            reason_cdf,
            segments,
            segment_cdf,
            bots,
            rate,
            patience,
            retrial_probability: self.retrial.probability,
            retrial_delay,
            callback_acceptance: self.callback_acceptance,
            stop,
            interval: Span::from_secs_f64(self.run.interval_minutes * 60.0),
            outage,
            ivr,
            threads: 1,
        })
    }
}

/// Read a time-of-day profile: lines `HH:MM,calls_per_hour`, `#` comments and one
/// optional header line.
pub fn load_profile(path: &Path) -> Result<Vec<(f64, f64)>, SimError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        SimError::Io(format!(
            "cannot read arrival profile {}: {e}",
            path.display()
        ))
    })?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || (rows.is_empty() && line.starts_with("time"))
        {
            continue;
        }
        let bad =
            |why: &str| SimError::Scenario(format!("{} line {}: {why}", path.display(), i + 1));
        let (t, r) = line
            .split_once(',')
            .ok_or_else(|| bad("expected HH:MM,calls_per_hour"))?;
        let t = clock(t.trim()).map_err(|_| bad("the time is not HH:MM"))?;
        let r: f64 = r
            .trim()
            .parse()
            .map_err(|_| bad("the rate is not a number"))?;
        if !(r.is_finite() && r >= 0.0) {
            return Err(bad("the rate must be zero or more"));
        }
        rows.push((t, r));
    }
    if rows.is_empty() || rows.iter().all(|r| r.1 == 0.0) {
        return Err(SimError::Scenario(format!(
            "{}: the profile has no calls",
            path.display()
        )));
    }
    Ok(rows)
}

/// The one-queue M/M/n(+M) model that the Erlang formulas describe, as a scenario.
pub fn erlang_model(
    calls_per_hour: f64,
    aht_seconds: f64,
    agents: u32,
    sl_seconds: f64,
    patience_seconds: Option<f64>,
    short_abandon_seconds: f64,
) -> Scenario {
    Scenario {
        name: format!(
            "M/M/{agents}{} at {calls_per_hour} calls/h, AHT {aht_seconds} s",
            if patience_seconds.is_some() { "+M" } else { "" }
        ),
        description: String::new(),
        replications: 10,
        seed: 1000,
        run: RunLength {
            calls: Some(100_000),
            interval_minutes: 15.0,
            ..RunLength::default()
        },
        arrivals: Arrivals {
            calls_per_hour: Some(calls_per_hour),
            scale: 1.0,
            ..Arrivals::default()
        },
        patience: match patience_seconds {
            Some(p) => Duration::Exponential { mean_seconds: p },
            None => Duration::Infinite,
        },
        retrial: Retrial::default(),
        callback_acceptance: 0.0,
        queues: vec![QueueSpec {
            name: "1000".into(),
            skill: "any".into(),
            min_level: 1,
            group: None,
            strategy: Strategy::LongestIdle,
            sl_seconds,
            short_abandon_seconds,
            sl_formula: ServiceLevelFormula::ExcludeShortAbandons,
            max_waiting: None,
            refuse_when_no_agents: false,
            ring_timeout_seconds: 15.0,
            never_time_out: true,
            wrap_up: WrapUpSpec::Word("skip".into()),
            preferred_wait_seconds: 0.0,
            callback_threshold_seconds: None,
            overflow: vec![],
        }],
        reasons: vec![ReasonSpec {
            name: "call".into(),
            share: 1.0,
            queue: "1000".into(),
            handle: Duration::Exponential {
                mean_seconds: aht_seconds,
            },
            wrap_up: None,
        }],
        segments: vec![],
        teams: vec![TeamSpec {
            name: "agents".into(),
            agents,
            skills: [("any".to_string(), 5)].into_iter().collect(),
            groups: vec![],
            shift: None,
            breaks: vec![],
            answer_delay: zero_delay(),
        }],
        outage: None,
        ivr: None,
        source: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_and_profiles() {
        assert_eq!(clock("08:30").unwrap(), 30_600.0);
        assert!(clock("25:00").is_err() && clock("8h").is_err());
        let r = Rate::Profile(vec![(0.0, 1.0), (8.0 * 3600.0, 3.0), (20.0 * 3600.0, 2.0)]);
        assert_eq!(r.at(3600.0), (1.0, 8.0 * 3600.0));
        assert_eq!(r.at(9.0 * 3600.0), (3.0, 20.0 * 3600.0));
        assert_eq!(r.at(21.0 * 3600.0), (2.0, 86_400.0));
        assert_eq!(r.at(86_400.0 + 3600.0), (1.0, 86_400.0 + 8.0 * 3600.0));
        assert!((r.mean_per_hour() - (8.0 + 36.0 + 8.0) / 24.0 * 3600.0).abs() < 1e-6);
    }

    #[test]
    fn errors_name_the_field() {
        let mut s = erlang_model(100.0, 180.0, 5, 20.0, None, 5.0);
        s.reasons[0].queue = "nowhere".into();
        let e = s.compile().unwrap_err().to_string();
        assert!(e.contains("reason 'call'") && e.contains("nowhere"), "{e}");
        let mut s = erlang_model(100.0, 180.0, 5, 20.0, None, 5.0);
        s.queues[0].wrap_up = WrapUpSpec::Word("later".into());
        assert!(s.compile().unwrap_err().to_string().contains("wrap_up"));
        let mut s = erlang_model(100.0, 180.0, 5, 20.0, None, 5.0);
        s.teams[0].skills.insert("any".into(), 12);
        assert!(
            s.compile()
                .unwrap_err()
                .to_string()
                .contains("team 'agents'")
        );
        let bad = toml::from_str::<Scenario>("name = 'x'\nbogus = 1\n");
        assert!(bad.is_err());
    }
}
