//! How queues and agents are set up. Every field has a default a call center would
//! start from, and [`QueueConfig::validate`] names the field that is wrong.

use crate::error::EngineError;
use crate::ids::{GroupId, SkillId};
use crate::kpi::{ServiceLevelFormula, Thresholds};
use crate::time::Span;
use serde::{Deserialize, Serialize};

/// Engine-wide settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngineConfig {
    /// Length of a statistics interval (15 minutes).
    pub interval: Span,
    /// Seed for the "random" agent-selection strategy.
    pub seed: u64,
    /// The first interval starts when the engine does, not at the clock's boundary before
    /// it (a router restarted at 10:07 keeps [10:07, 10:15) beside the [10:00, 10:07) it
    /// closed when it stopped, instead of a second [10:00, 10:15)). Off: aligned.
    pub first_interval_from_start: bool,
    /// Leave out the actions a driver that keeps no live view needs not: `AgentState`
    /// of any state but not-ready (its reason still comes) and `QueueChanged` (the
    /// simulator: it only reacts to not-ready, and every call makes some eight of them).
    /// Off: every action.
    pub quiet: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            interval: Span::from_secs(15 * 60),
            seed: 1000,
            first_interval_from_start: false,
            quiet: false,
        }
    }
}

/// How a queue picks among the ready agents that qualify for a call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// The agent who has been ready the longest.
    #[default]
    LongestIdle,
    /// The highest skill level for the queue's skill, then the longest idle.
    MostSkilled,
    /// The agent who has handled the fewest calls since login, then the longest idle.
    FewestCalls,
    /// The agent with the least talk time since login, then the longest idle.
    LeastTalkTime,
    /// Agents in turn by id, starting after the one who got the last call.
    RoundRobin,
    /// Uniformly at random among the ready agents (seeded, so repeatable).
    Random,
}

/// A widening of the pool while a caller waits (Asterisk's penalty change, Genesys'
/// bullseye): after `after` in the queue, agents with `skill` at `min_level` or above may
/// also take the call. The caller keeps their place in line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverflowStep {
    /// Wait after which this ring opens.
    pub after: Span,
    /// Skill that qualifies an agent for this ring.
    pub skill: SkillId,
    /// Lowest level of that skill accepted.
    pub min_level: u8,
}

/// What happens to a call arriving when no qualified agent is logged in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoAgentsPolicy {
    /// Queue anyway (agents may log in).
    #[default]
    Join,
    /// Turn the call away with a record whose end reason says so.
    Refuse,
}

/// After-call work (wrap-up) after a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WrapUpPolicy {
    /// Straight back to ready (or to the state the agent asked for).
    Skip,
    /// Wrap-up lasts this long unless the agent finishes early or extends it.
    Timed(Span),
    /// Wrap-up lasts until the agent finishes it.
    UntilAgentFinishes,
}

impl Default for WrapUpPolicy {
    fn default() -> Self {
        WrapUpPolicy::Timed(Span::from_secs(30))
    }
}

/// One queue: who may take its calls, in what order, and its thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueConfig {
    /// Name shown to supervisors (e.g. "业务咨询 inquiry").
    pub name: String,
    /// Skill an agent needs.
    pub skill: SkillId,
    /// Lowest level of that skill accepted (1–10).
    pub min_level: u8,
    /// When set, only members of this group qualify (a dedicated team, e.g. the green
    /// channel's key-account team), in every ring.
    pub group: Option<GroupId>,
    /// Rings that open while a caller waits, in order of `after`.
    pub overflow: Vec<OverflowStep>,
    /// Agent selection.
    pub strategy: Strategy,
    /// Service-level and short-abandon thresholds.
    pub thresholds: Thresholds,
    /// Which service-level ratio this queue reports.
    pub service_level_formula: ServiceLevelFormula,
    /// Most calls waiting before new ones are refused; `None` for no limit.
    pub max_waiting: Option<u32>,
    /// What to do when no qualified agent is logged in.
    pub when_no_agents: NoAgentsPolicy,
    /// How long an offer rings before ring-no-answer; `None` never times out.
    pub ring_timeout: Option<Span>,
    /// Wrap-up after a conversation.
    pub wrap_up: WrapUpPolicy,
    /// How long a call with a preferred agent (the key account's account manager) waits
    /// for that agent before any qualified agent may take it.
    pub preferred_agent_wait: Span,
    /// Offer a callback when the estimated wait on entering is at least this; `None`
    /// never offers one.
    pub callback_threshold: Option<Span>,
    /// Handle time assumed for wait estimates until the queue has handled calls.
    pub expected_handle_time: Span,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            name: String::new(),
            skill: SkillId(0),
            min_level: 1,
            group: None,
            overflow: Vec::new(),
            strategy: Strategy::default(),
            thresholds: Thresholds::default(),
            service_level_formula: ServiceLevelFormula::default(),
            max_waiting: None,
            when_no_agents: NoAgentsPolicy::default(),
            ring_timeout: Some(Span::from_secs(15)),
            wrap_up: WrapUpPolicy::default(),
            preferred_agent_wait: Span::from_secs(30),
            callback_threshold: None,
            expected_handle_time: Span::from_secs(240),
        }
    }
}

/// One ring of eligibility: ring 0 is the queue's own skill, then its overflow steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ring {
    pub after: Span,
    pub skill: SkillId,
    pub min_level: u8,
}

impl QueueConfig {
    /// Check the settings; the error names the field.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |field: &'static str, why: String| Err(EngineError::InvalidConfig { field, why });
        if !(1..=10).contains(&self.min_level) {
            return bad("min_level", format!("must be 1–10, got {}", self.min_level));
        }
        let mut last = Span::ZERO;
        for (i, s) in self.overflow.iter().enumerate() {
            if !(1..=10).contains(&s.min_level) {
                return bad(
                    "overflow.min_level",
                    format!("step {i}: must be 1–10, got {}", s.min_level),
                );
            }
            if s.after < last {
                return bad(
                    "overflow.after",
                    format!("step {i} opens before the step ahead of it"),
                );
            }
            last = s.after;
        }
        if self.ring_timeout == Some(Span::ZERO) {
            return bad(
                "ring_timeout",
                "must be longer than zero (or absent)".into(),
            );
        }
        if self.overflow.len() > 30 {
            return bad("overflow", "at most 30 steps".into());
        }
        Ok(())
    }

    pub(crate) fn rings(&self) -> Vec<Ring> {
        std::iter::once(Ring {
            after: Span::ZERO,
            skill: self.skill,
            min_level: self.min_level,
        })
        .chain(self.overflow.iter().map(|s| Ring {
            after: s.after,
            skill: s.skill,
            min_level: s.min_level,
        }))
        .collect()
    }
}

/// An agent's qualifications.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentProfile {
    /// Skills with a level 1 (novice) – 10 (expert).
    pub skills: Vec<(SkillId, u8)>,
    /// Teams the agent belongs to.
    pub groups: Vec<GroupId>,
}

impl AgentProfile {
    /// Check levels are 1–10 and no skill is listed twice.
    pub fn validate(&self) -> Result<(), EngineError> {
        for (i, (s, l)) in self.skills.iter().enumerate() {
            if !(1..=10).contains(l) {
                return Err(EngineError::InvalidConfig {
                    field: "skills",
                    why: format!("{s} has level {l}; levels are 1–10"),
                });
            }
            if self.skills[..i].iter().any(|(t, _)| t == s) {
                return Err(EngineError::InvalidConfig {
                    field: "skills",
                    why: format!("{s} is listed twice"),
                });
            }
        }
        Ok(())
    }

    /// The agent's level in `skill`, 0 when it lacks it.
    pub fn level(&self, skill: SkillId) -> u8 {
        self.skills
            .iter()
            .find(|(s, _)| *s == skill)
            .map_or(0, |(_, l)| *l)
    }
}
