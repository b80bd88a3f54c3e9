//! The agents' appraisal (绩效考核): each agent's kept intervals added up, beside the
//! store's FCR tally, the post-call survey and the tickets each agent opened.

use crate::tickets::OnTime;
use crate::{Period, ReportError, check_known, mean, round1, seconds};
use hotline_acd::AgentStateKind;
use hotline_acd::kpi;
use hotline_acd::stats::AgentTally;
use hotline_store::{FcrCount, IntervalFigures, Millis, Store, export::scan, not_ready};
use serde::Serialize;
use std::collections::BTreeMap;

/// One agent over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentRow {
    /// Work number.
    pub agent: String,
    /// The agent's teams (groups), as the agent's account has them now.
    pub teams: Vec<String>,
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
    /// Of it, by reason (break, training …), seconds, in the reasons' code order.
    pub not_ready_seconds_by_reason: Vec<(String, f64)>,
    /// Times a caller was put on hold.
    pub holds: u64,
    /// Calls transferred (to a queue or another agent).
    pub transfers: u64,
    /// Contacts the agent wrapped up.
    pub fcr_handled: u64,
    /// Of them, claimed resolved at first contact.
    pub fcr_claimed: u64,
    /// Of the claims, verified (no repeat within the window).
    pub fcr_verified: u64,
    /// Verified ÷ settled (the contacts whose FCR window has passed or that were
    /// repeated), percent: none while every window is still open.
    pub fcr_rate: Option<f64>,
    /// Calls the agent wrapped up last (the survey is theirs), as the survey counts them.
    pub surveyed: u64,
    /// Mean survey score of those calls, 1–5.
    pub satisfaction_mean: Option<f64>,
    /// Tickets the agent opened (首问负责: the owner) in the period.
    pub tickets_opened: u64,
    /// Of them, resolved by their deadline.
    pub tickets_on_time: u64,
    /// Of them, resolved late or open past their deadline (at `now`).
    pub tickets_overdue: u64,
    /// On time ÷ (on time + overdue), percent.
    pub tickets_on_time_rate: Option<f64>,
}

/// Tickets one agent owns: opened, and judged against their deadlines.
#[derive(Default, Clone, Copy)]
struct Owned {
    opened: u64,
    deadlines: OnTime,
}

/// The tickets opened in `period`, by owner, judged at `now`.
fn tickets_by_owner(
    store: &Store,
    period: Period,
    now: Millis,
) -> Result<BTreeMap<String, Owned>, ReportError> {
    let mut by: BTreeMap<String, Owned> = BTreeMap::new();
    let engine = store.engine();
    scan(
        |after, n| engine.tickets_after(after, n),
        |t| t.id,
        |t| {
            if period.contains(t.created) {
                let o = by.entry(t.owner.clone()).or_default();
                o.opened += 1;
                o.deadlines.count(&t, now);
            }
            Ok(())
        },
    )?;
    Ok(by)
}

/// By work number.
type ByAgent<T> = BTreeMap<String, T>;

/// Surveyed calls and their mean score.
type Survey = (u64, Option<f64>);

/// Each agent's contacts in one pass over the period: FCR by the store's rule (as
/// `Store::fcr_tally` counts it, by the agent who wrapped the call up last) and the
/// survey answers of those calls (surveyed, mean score).
fn contacts_by_agent(
    store: &Store,
    period: Period,
) -> Result<(ByAgent<FcrCount>, ByAgent<Survey>), ReportError> {
    let mut fcr: ByAgent<FcrCount> = BTreeMap::new();
    let mut scores: ByAgent<(u64, u64)> = BTreeMap::new();
    store.each_interaction_between(period.from, period.to, |i| {
        let (Some(_), Some(agent)) = (&i.queue, i.agents.last()) else {
            return Ok(()); // never reached an agent
        };
        fcr.entry(agent.clone()).or_default().add(&i);
        if let (Some(score @ 1..=5), true) = (i.satisfaction, i.answered.is_some()) {
            let s = scores.entry(agent.clone()).or_default();
            (s.0, s.1) = (s.0 + 1, s.1 + u64::from(score));
        }
        Ok(())
    })?;
    let survey = scores
        .into_iter()
        .map(|(a, (n, sum))| (a, (n, mean(sum as f64, n))))
        .collect();
    Ok((fcr, survey))
}

/// A reason code in words (its code when the catalogue does not know it).
fn reason_words(code: hotline_acd::ReasonCode) -> String {
    not_ready::reason_of(code.0).map_or_else(|| format!("reason {}", code.0), |r| r.en.into())
}

/// The agents of `period` — those with kept intervals, contacts they wrapped up or
/// tickets they opened in it (only `wanted` when some are named, only the members of
/// `teams` when some are named), their tickets judged at `now`.
pub fn agents(
    store: &Store,
    period: Period,
    now: Millis,
    wanted: &[String],
    teams: &[String],
) -> Result<Vec<AgentRow>, ReportError> {
    let groups: BTreeMap<String, Vec<String>> = store
        .agent_accounts()?
        .into_iter()
        .map(|a| (a.id, a.groups))
        .collect();
    check_known(
        "team",
        "the agents' accounts",
        teams,
        groups.values().flatten().map(String::as_str),
    )?;
    let in_teams = |id: &str| {
        teams.is_empty()
            || groups
                .get(id)
                .is_some_and(|g| g.iter().any(|t| teams.contains(t)))
    };
    let mut sums: BTreeMap<String, AgentTally> = BTreeMap::new();
    for r in store.intervals(period.from, period.to, usize::MAX)? {
        if let IntervalFigures::Agent { agent, tally } = r.figures {
            sums.entry(agent).or_default().merge(&tally);
        }
    }
    let (fcr, survey) = contacts_by_agent(store, period)?;
    let owned = tickets_by_owner(store, period, now)?;
    // an agent whose intervals were not kept (a router that lost them, a ticket opened
    // from the desktop with no call) is still appraised on the contacts and tickets the
    // period holds, with no time of their own
    for id in fcr.keys().chain(owned.keys()) {
        sums.entry(id.clone()).or_default();
    }
    check_known(
        "agent",
        "the history of this period",
        wanted,
        sums.keys().map(String::as_str),
    )?;
    Ok(sums
        .iter()
        .filter(|(id, _)| (wanted.is_empty() || wanted.contains(id)) && in_teams(id))
        .map(|(id, t)| {
            let f = fcr.get(id).copied().unwrap_or_default();
            let (surveyed, satisfaction_mean) = survey.get(id).copied().unwrap_or_default();
            let o = owned.get(id).copied().unwrap_or_default();
            let handle = t.talk + t.hold + t.wrap_up;
            AgentRow {
                agent: id.clone(),
                teams: groups.get(id).cloned().unwrap_or_default(),
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
                not_ready_seconds_by_reason: t
                    .not_ready_by_reason
                    .iter()
                    .map(|(r, d)| (reason_words(r), seconds(d)))
                    .collect(),
                holds: t.holds,
                transfers: t.transfers,
                fcr_handled: f.handled,
                fcr_claimed: f.claimed,
                fcr_verified: f.verified,
                fcr_rate: kpi::first_contact_resolution(f.verified, f.settled)
                    .map(|x| round1(x * 100.0)),
                surveyed,
                satisfaction_mean,
                tickets_opened: o.opened,
                tickets_on_time: o.deadlines.on_time,
                tickets_overdue: o.deadlines.overdue,
                tickets_on_time_rate: o.deadlines.rate(),
            }
        })
        .collect())
}
