//! Live statistics: per queue and per agent, since start and for the current interval.

use crate::ids::{QueueId, ReasonCode};
use crate::kpi::{self, ServiceLevelFormula, Tally};
use crate::state::AgentStateKind;
use crate::time::{Span, Time};
use serde::{Deserialize, Serialize};

/// Time spent not ready, by reason code, in code order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonTimes(Vec<(ReasonCode, Span)>);

impl ReasonTimes {
    /// Count `d` more under `reason`.
    pub fn add(&mut self, reason: ReasonCode, d: Span) {
        match self.0.binary_search_by_key(&reason, |(r, _)| *r) {
            Ok(i) => self.0[i].1 += d,
            Err(i) => self.0.insert(i, (reason, d)),
        }
    }

    /// Add another's times.
    pub fn merge(&mut self, o: &ReasonTimes) {
        for &(r, d) in &o.0 {
            self.add(r, d);
        }
    }

    /// Each reason with its time, in code order.
    pub fn iter(&self) -> impl Iterator<Item = (ReasonCode, Span)> + '_ {
        self.0.iter().copied()
    }

    /// The time under `reason`.
    pub fn get(&self, reason: ReasonCode) -> Span {
        self.iter()
            .find(|(r, _)| *r == reason)
            .map_or(Span::ZERO, |(_, d)| d)
    }
}

/// An agent's counters over a period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentTally {
    /// Offers rung at the agent.
    pub offers: u64,
    /// Offers answered.
    pub answered: u64,
    /// Offers rejected.
    pub rejected: u64,
    /// Offers not answered in time.
    pub no_answer: u64,
    /// Legs wrapped up.
    pub handled: u64,
    /// Talk time of wrapped-up legs.
    pub talk: Span,
    /// Hold time of wrapped-up legs.
    pub hold: Span,
    /// Wrap-up time of wrapped-up legs.
    pub wrap_up: Span,
    /// Time in each state, indexed by [`AgentStateKind::index`].
    pub time_in_state: [Span; 6],
    /// Times the agent put a caller on hold.
    #[serde(default)]
    pub holds: u64,
    /// Calls the agent transferred (to a queue or another agent).
    #[serde(default)]
    pub transfers: u64,
    /// Not-ready time by reason: with no reason missing, it adds up to the not-ready
    /// state's time.
    #[serde(default)]
    pub not_ready_by_reason: ReasonTimes,
}

impl AgentTally {
    /// Add another tally (e.g. to total an agent's intervals).
    pub fn merge(&mut self, o: &AgentTally) {
        self.offers += o.offers;
        self.answered += o.answered;
        self.rejected += o.rejected;
        self.no_answer += o.no_answer;
        self.handled += o.handled;
        self.talk += o.talk;
        self.hold += o.hold;
        self.wrap_up += o.wrap_up;
        for (t, add) in self.time_in_state.iter_mut().zip(o.time_in_state) {
            *t += add;
        }
        self.holds += o.holds;
        self.transfers += o.transfers;
        self.not_ready_by_reason.merge(&o.not_ready_by_reason);
    }

    /// Count `d` more in `state` (and under its reason when not ready).
    pub fn accrue(&mut self, state: &crate::state::AgentState, d: Span) {
        self.time_in_state[state.kind().index()] += d;
        if let crate::state::AgentState::NotReady(r) = state {
            self.not_ready_by_reason.add(*r, d);
        }
    }

    /// Busy time: ringing, connected, wrap-up.
    pub fn busy(&self) -> Span {
        AgentStateKind::ALL
            .iter()
            .filter(|k| k.is_busy())
            .fold(Span::ZERO, |a, k| a + self.time_in_state[k.index()])
    }

    /// Staffed time: logged in.
    pub fn staffed(&self) -> Span {
        AgentStateKind::ALL
            .iter()
            .filter(|k| **k != AgentStateKind::LoggedOut)
            .fold(Span::ZERO, |a, k| a + self.time_in_state[k.index()])
    }

    /// Occupancy, see [`kpi::occupancy`].
    pub fn occupancy(&self) -> Option<f64> {
        kpi::occupancy(self.busy(), self.staffed())
    }

    /// AHT of this agent's legs.
    pub fn average_handle_time(&self) -> Option<Span> {
        (self.handled > 0)
            .then(|| Span((self.talk.0 + self.hold.0 + self.wrap_up.0) / self.handled))
    }
}

/// A queue's counters and time accumulators over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuePeriod {
    /// Call counters.
    pub tally: Tally,
    /// Busy time of the queue's agents.
    pub busy: Span,
    /// Staffed time of the queue's agents.
    pub staffed: Span,
}

/// A queue's live picture, for a wallboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueSnapshot {
    /// The queue.
    pub queue: QueueId,
    /// Its name.
    pub name: String,
    /// Since the engine started.
    pub total: QueuePeriod,
    /// The current interval so far.
    pub interval: QueuePeriod,
    /// Start of the current interval.
    pub interval_start: Time,
    /// Calls waiting now (on the line or for a callback).
    pub waiting: u32,
    /// Calls ringing at an agent now.
    pub ringing: u32,
    /// Calls waiting that were never answered in this queue, plus ringing ones never
    /// answered: with `total.tally`, offered = answered + abandoned + this.
    pub unanswered_in_queue: u32,
    /// Wait of the longest-waiting call now.
    pub longest_wait: Span,
    /// Agents qualified for the queue by state (logged out ones are not counted).
    pub agents_by_state: [u32; 6],
    /// Service-level formula of the queue.
    pub formula: ServiceLevelFormula,
}

impl QueueSnapshot {
    /// Service level since start.
    pub fn service_level(&self) -> Option<f64> {
        kpi::service_level(&self.total.tally, self.formula)
    }
    /// Occupancy since start.
    pub fn occupancy(&self) -> Option<f64> {
        kpi::occupancy(self.total.busy, self.total.staffed)
    }
}

/// An agent's live picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentSnapshot {
    /// State now.
    pub state: crate::state::AgentState,
    /// Since when.
    pub since: Time,
    /// Since the engine started (time in the current state counted up to now).
    pub total: AgentTally,
    /// Current interval so far.
    pub interval: AgentTally,
}
