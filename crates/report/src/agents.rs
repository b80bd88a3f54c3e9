//! The agents' appraisal (绩效考核): each agent's kept intervals added up, beside the
//! store's FCR tally per agent.

use crate::{Period, ReportError, check_known, round1, seconds};
use hotline_acd::AgentStateKind;
use hotline_acd::kpi;
use hotline_acd::stats::AgentTally;
use hotline_store::{IntervalFigures, Store};
use serde::Serialize;
use std::collections::BTreeMap;

/// One agent over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentRow {
    /// Work number.
    pub agent: String,
    /// Calls offered.
    pub offers: u64,
    /// Of them, answered.
    pub answered: u64,
    /// Rejected.
    pub rejected: u64,
    /// Rang out (ring-no-answer, RONA).
    pub no_answer: u64,
    /// Legs wrapped up.
    pub handled: u64,
    /// Average handle time (talk + hold + wrap-up per handled leg), seconds.
    pub aht_seconds: Option<f64>,
    /// Talking, seconds.
    pub talk_seconds: f64,
    /// Holding, seconds.
    pub hold_seconds: f64,
    /// In wrap-up, seconds.
    pub wrap_up_seconds: f64,
    /// Busy ÷ staffed, percent.
    pub occupancy: Option<f64>,
    /// Logged in, seconds.
    pub staffed_seconds: f64,
    /// Not ready, seconds.
    pub not_ready_seconds: f64,
    /// Contacts the agent wrapped up.
    pub fcr_handled: u64,
    /// Of them, claimed resolved at first contact.
    pub fcr_claimed: u64,
    /// Of the claims, verified (no repeat within the window).
    pub fcr_verified: u64,
    /// Verified ÷ settled (the contacts whose FCR window has passed or that were
    /// repeated), percent: none while every window is still open.
    pub fcr_rate: Option<f64>,
}

/// The agents of the kept intervals in `period` (only `wanted` when some are named).
pub fn agents(
    store: &Store,
    period: Period,
    wanted: &[String],
) -> Result<Vec<AgentRow>, ReportError> {
    let mut sums: BTreeMap<String, AgentTally> = BTreeMap::new();
    for r in store.intervals(period.from, period.to, usize::MAX)? {
        if let IntervalFigures::Agent { agent, tally } = r.figures {
            sums.entry(agent).or_default().merge(&tally);
        }
    }
    check_known(
        "agent",
        "the history of this period",
        wanted,
        sums.keys().map(String::as_str),
    )?;
    let fcr = store.fcr_tally(period.from, period.to)?.by_agent;
    Ok(sums
        .iter()
        .filter(|(id, _)| wanted.is_empty() || wanted.contains(id))
        .map(|(id, t)| {
            let f = fcr.get(id).copied().unwrap_or_default();
            let handle = t.talk + t.hold + t.wrap_up;
            AgentRow {
                agent: id.clone(),
                offers: t.offers,
                answered: t.answered,
                rejected: t.rejected,
                no_answer: t.no_answer,
                handled: t.handled,
                aht_seconds: (t.handled > 0).then(|| round1(seconds(handle) / t.handled as f64)),
                talk_seconds: seconds(t.talk),
                hold_seconds: seconds(t.hold),
                wrap_up_seconds: seconds(t.wrap_up),
                occupancy: kpi::occupancy(t.busy(), t.staffed()).map(|x| round1(x * 100.0)),
                staffed_seconds: seconds(t.staffed()),
                not_ready_seconds: seconds(t.time_in_state[AgentStateKind::NotReady.index()]),
                fcr_handled: f.handled,
                fcr_claimed: f.claimed,
                fcr_verified: f.verified,
                fcr_rate: kpi::first_contact_resolution(f.verified, f.settled)
                    .map(|x| round1(x * 100.0)),
            }
        })
        .collect())
}
