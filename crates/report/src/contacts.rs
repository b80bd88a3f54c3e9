//! Reports over the contacts of a period (the store's interactions): by reason, by
//! satisfaction, repeat callers, and self-service with what callers did next.
//!
//! A **repeat** is the same customer's next contact about the same reason within the
//! store's FCR window after this one's arrival — the rule that unsettles an FCR claim.
//! "Called again" (self-service) is the same customer's next contact of any reason within
//! that window.

use crate::people::{CustomerFilter, KeyAccounts, People};
use crate::{Period, ReportError, check_known, mean, percent, round1};
use hotline_catalog::{Codes, Segment};
use hotline_store::{FcrCount, Interaction, IvrBy, IvrExit, Millis, Store, ivr_keys};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Every contact's customer's next contacts: read over the period and the FCR window
/// after it, kept compact (time, reason, reached an agent) per customer.
struct Next {
    window: Millis,
    reasons: HashMap<String, u32>,
    by_customer: HashMap<u64, Vec<(Millis, u32, bool)>>,
}

impl Next {
    /// Read the period and the window after it once, handing `each` the period's own
    /// contacts that `who` keeps as they come (every customer's next contacts are kept).
    fn read(
        store: &Store,
        period: Period,
        who: &CustomerFilter,
        mut each: impl FnMut(&Interaction),
    ) -> Result<Next, ReportError> {
        who.check(store)?;
        let mut people = People::new(store);
        let window = store.fcr_window();
        let mut next = Next {
            window,
            reasons: HashMap::new(),
            by_customer: HashMap::new(),
        };
        store.each_interaction_between(period.from, period.to.saturating_add(window), |i| {
            if let Some(c) = i.customer {
                let reason = next.reason_id(i.reason.as_deref());
                next.by_customer.entry(c).or_default().push((
                    i.arrived,
                    reason,
                    i.answered.is_some(),
                ));
            }
            if i.arrived < period.to && who.keeps(&mut people, i.customer)? {
                each(&i);
            }
            Ok(())
        })?;
        Ok(next)
    }

    fn reason_id(&mut self, reason: Option<&str>) -> u32 {
        let n = self.reasons.len() as u32;
        *self
            .reasons
            .entry(reason.unwrap_or_default().to_string())
            .or_insert(n)
    }

    /// The customer's contacts after `at` within the window, in time order.
    fn after(&self, customer: u64, at: Millis) -> impl Iterator<Item = (u32, bool)> + '_ {
        let end = at.saturating_add(self.window);
        self.by_customer
            .get(&customer)
            .into_iter()
            .flatten()
            .filter(move |(t, _, _)| *t > at && *t <= end)
            .map(|(_, r, agent)| (*r, *agent))
    }

    /// The customer called again about `reason` within the window after `at`.
    fn repeated(&self, customer: u64, at: Millis, reason: &str) -> bool {
        let Some(reason) = self.reasons.get(reason) else {
            return false;
        };
        self.after(customer, at).any(|(r, _)| r == *reason)
    }

    /// The customer's next contact within the window after `at`: whether it reached an
    /// agent.
    fn called_again(&self, customer: u64, at: Millis) -> Option<bool> {
        self.after(customer, at).next().map(|(_, agent)| agent)
    }
}

/// A reason over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonRow {
    /// Reason code (`fault.broadband`; empty when none was given).
    pub reason: String,
    /// 中文.
    pub zh: String,
    /// English.
    pub en: String,
    /// Contacts that arrived.
    pub contacts: u64,
    /// Handled by an agent.
    pub handled: u64,
    /// Claimed resolved at first contact.
    pub fcr_claimed: u64,
    /// Of the claims, verified.
    pub fcr_verified: u64,
    /// Of the claims, not resolved (a repeat came).
    pub fcr_not_resolved: u64,
    /// Verified ÷ settled contacts, percent (none while every window is open).
    pub fcr_rate: Option<f64>,
    /// Contacts followed by a repeat within the FCR window.
    pub repeats: u64,
    /// Repeats ÷ contacts, percent.
    pub repeat_rate: Option<f64>,
}

/// Contacts, FCR claimed/verified and repeat rate by reason code (only `wanted` when
/// some are named), most contacts first.
pub fn reasons(
    store: &Store,
    period: Period,
    wanted: &[String],
    who: &CustomerFilter,
) -> Result<Vec<ReasonRow>, ReportError> {
    #[derive(Default)]
    struct Sum {
        contacts: u64,
        fcr: FcrCount,
        repeats: u64,
    }
    let mut sums: BTreeMap<String, Sum> = BTreeMap::new();
    // contacts whose repeat is known once the window after the period is read too
    let mut later: Vec<(u64, Millis, String)> = Vec::new();
    let next = Next::read(store, period, who, |i| {
        let reason = i.reason.clone().unwrap_or_default();
        if let (Some(c), Some(r)) = (i.customer, &i.reason) {
            later.push((c, i.arrived, r.clone()));
        }
        let s = sums.entry(reason).or_default();
        s.contacts += 1;
        if i.queue.is_some() && !i.agents.is_empty() {
            s.fcr.add(i);
        }
    })?;
    for (customer, at, reason) in later {
        if next.repeated(customer, at, &reason) {
            sums.entry(reason).or_default().repeats += 1;
        }
    }
    check_known(
        "reason",
        "the contacts of this period",
        wanted,
        sums.keys().map(String::as_str),
    )?;
    let codes = Codes::shipped();
    let mut rows: Vec<ReasonRow> = sums
        .into_iter()
        .filter(|(r, _)| wanted.is_empty() || wanted.contains(r))
        .map(|(reason, s)| {
            let (zh, en) = codes
                .reason(&reason)
                .map_or((String::new(), String::new()), |r| {
                    (r.zh.clone(), r.en.clone())
                });
            ReasonRow {
                zh,
                en,
                contacts: s.contacts,
                handled: s.fcr.handled,
                fcr_claimed: s.fcr.claimed,
                fcr_verified: s.fcr.verified,
                fcr_not_resolved: s.fcr.not_resolved,
                fcr_rate: hotline_acd::kpi::first_contact_resolution(s.fcr.verified, s.fcr.settled)
                    .map(|x| round1(x * 100.0)),
                repeats: s.repeats,
                repeat_rate: percent(s.repeats, s.contacts),
                reason,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.contacts.cmp(&a.contacts).then(a.reason.cmp(&b.reason)));
    Ok(rows)
}

/// What satisfaction is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SatisfactionDimension {
    /// The queue the call was answered from.
    Queue,
    /// The agent who wrapped it up.
    Agent,
    /// The customer's segment (public, key account).
    Segment,
    /// The call's reason code.
    Reason,
}

impl SatisfactionDimension {
    /// Every dimension.
    pub const ALL: [SatisfactionDimension; 4] = [
        SatisfactionDimension::Queue,
        SatisfactionDimension::Agent,
        SatisfactionDimension::Segment,
        SatisfactionDimension::Reason,
    ];
}

/// Satisfaction of one queue, agent, segment or reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SatisfactionRow {
    /// The dimension.
    pub by: SatisfactionDimension,
    /// The queue, agent, segment or reason.
    pub key: String,
    /// Calls answered by an agent.
    pub answered: u64,
    /// Of them, with a survey answer.
    pub surveyed: u64,
    /// Surveyed ÷ answered, percent.
    pub response_rate: Option<f64>,
    /// Mean score, 1–5.
    pub mean: Option<f64>,
    /// Scores of 1 or 2.
    pub dissatisfied: u64,
    /// Scores by value, 1 to 5.
    pub scores: [u64; 5],
}

/// The post-call survey by each of `by`, in that order, keys in order.
pub fn satisfaction(
    store: &Store,
    period: Period,
    by: &[SatisfactionDimension],
    who: &CustomerFilter,
) -> Result<Vec<SatisfactionRow>, ReportError> {
    who.check(store)?;
    let mut people = People::new(store);
    let key = KeyAccounts::read(store)?;
    #[derive(Default)]
    struct Sum {
        answered: u64,
        scores: [u64; 5],
    }
    let mut sums: BTreeMap<(SatisfactionDimension, String), Sum> = BTreeMap::new();
    store.each_interaction_between(period.from, period.to, |i| {
        if i.answered.is_none() || !who.keeps(&mut people, i.customer)? {
            return Ok(());
        }
        for d in by {
            let key = match d {
                SatisfactionDimension::Queue => i.queue.clone(),
                SatisfactionDimension::Agent => i.agents.last().cloned(),
                SatisfactionDimension::Reason => i.reason.clone(),
                SatisfactionDimension::Segment => key.segment(i.customer).map(|s| {
                    match s {
                        Segment::Public => "public",
                        Segment::KeyAccount => "key-account",
                    }
                    .to_string()
                }),
            };
            let s = sums.entry((*d, key.unwrap_or_default())).or_default();
            s.answered += 1;
            if let Some(score @ 1..=5) = i.satisfaction {
                s.scores[usize::from(score) - 1] += 1;
            }
        }
        Ok(())
    })?;
    Ok(sums
        .into_iter()
        .map(|((by, key), s)| {
            let surveyed: u64 = s.scores.iter().sum();
            let total: u64 = (1..=5u64).zip(s.scores).map(|(v, n)| v * n).sum();
            SatisfactionRow {
                by,
                key,
                answered: s.answered,
                surveyed,
                response_rate: percent(surveyed, s.answered),
                mean: mean(total as f64, surveyed),
                dissatisfied: s.scores[0] + s.scores[1],
                scores: s.scores,
            }
        })
        .collect())
}

/// A customer who contacted the hotline often in the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepeatCallerRow {
    /// Customer id.
    pub customer: u64,
    /// Name, masked.
    pub name: String,
    /// District.
    pub district: String,
    /// 小区.
    pub area: String,
    /// Contacts in the period.
    pub contacts: u64,
    /// Of them, answered by an agent.
    pub answered: u64,
    /// Their reasons, most frequent first, with counts.
    pub reasons: Vec<(String, u64)>,
    /// First contact's arrival.
    pub first: Millis,
    /// Last contact's arrival.
    pub last: Millis,
}

/// Customers with at least `at_least` contacts in the period, most contacts first, at
/// most `limit`.
pub fn repeat_callers(
    store: &Store,
    period: Period,
    at_least: u64,
    limit: usize,
    who: &CustomerFilter,
) -> Result<Vec<RepeatCallerRow>, ReportError> {
    if at_least < 2 {
        return Err(ReportError::Invalid(format!(
            "a repeat caller has at least 2 contacts; asked for at least {at_least}"
        )));
    }
    #[derive(Default)]
    struct Sum {
        contacts: u64,
        answered: u64,
        reasons: BTreeMap<String, u64>,
        first: Millis,
        last: Millis,
    }
    let mut sums: HashMap<u64, Sum> = HashMap::new();
    store.each_interaction_between(period.from, period.to, |i| {
        let Some(c) = i.customer else {
            return Ok(());
        };
        let s = sums.entry(c).or_insert_with(|| Sum {
            first: i.arrived,
            ..Sum::default()
        });
        s.contacts += 1;
        s.answered += u64::from(i.answered.is_some());
        *s.reasons.entry(i.reason.unwrap_or_default()).or_insert(0) += 1;
        s.last = i.arrived;
        Ok(())
    })?;
    who.check(store)?;
    let mut people = People::new(store);
    let mut often: Vec<(u64, Sum)> = Vec::new();
    for (c, s) in sums {
        if s.contacts >= at_least && who.keeps(&mut people, Some(c))? {
            often.push((c, s));
        }
    }
    often.sort_by(|a, b| b.1.contacts.cmp(&a.1.contacts).then(a.0.cmp(&b.0)));
    often.truncate(limit);
    let mut rows = Vec::with_capacity(often.len());
    for (customer, s) in often {
        let who = people.who(Some(customer))?.cloned();
        let mut reasons: Vec<(String, u64)> = s.reasons.into_iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        rows.push(RepeatCallerRow {
            customer,
            name: who.as_ref().map(|w| w.name.clone()).unwrap_or_default(),
            district: who.as_ref().map(|w| w.district.clone()).unwrap_or_default(),
            area: who.map(|w| w.area).unwrap_or_default(),
            contacts: s.contacts,
            answered: s.answered,
            reasons,
            first: s.first,
            last: s.last,
        });
    }
    Ok(rows)
}

/// Self-service by IVR path or by service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelfServiceRow {
    /// "path" (the keys pressed through the menu) or "service" (a self-service tried).
    pub by: &'static str,
    /// The path (`2 › 2-1`) or the service (`bill-query`).
    pub key: String,
    /// Calls.
    pub calls: u64,
    /// Finished in the IVR without an agent.
    pub contained: u64,
    /// Contained ÷ calls, percent (the KPI module's containment).
    pub containment: Option<f64>,
    /// Went on to a queue.
    pub to_agent: u64,
    /// Hung up in the IVR, neither contained nor queued.
    pub hung_up: u64,
    /// Of the contained, the customer called again within the FCR window.
    pub called_again: u64,
    /// Of those, the next contact reached an agent.
    pub called_again_to_agent: u64,
}

/// Containment by IVR path and by service, and what contained callers did next.
pub fn self_service(
    store: &Store,
    period: Period,
    who: &CustomerFilter,
) -> Result<Vec<SelfServiceRow>, ReportError> {
    #[derive(Default)]
    struct Sum {
        calls: u64,
        contained: u64,
        to_agent: u64,
        hung_up: u64,
        again: u64,
        again_agent: u64,
    }
    type Key = (&'static str, String);
    let mut sums: BTreeMap<Key, Sum> = BTreeMap::new();
    // contained callers, whose next contact is known once the window is read too
    let mut later: Vec<(u64, Millis, Vec<Key>)> = Vec::new();
    let next = Next::read(store, period, who, |i| {
        let Some(exit) = IvrExit::of(i) else {
            return;
        };
        let contained = exit == IvrExit::Contained;
        let keys: Vec<Key> = ivr_keys(&i.ivr_path, i.self_service.as_ref())
            .into_iter()
            .map(|(by, key)| {
                let by = match by {
                    IvrBy::Path => "path",
                    IvrBy::Service => "service",
                };
                (by, key)
            })
            .collect();
        for key in &keys {
            let s = sums.entry(key.clone()).or_default();
            s.calls += 1;
            s.contained += u64::from(contained);
            s.to_agent += u64::from(exit == IvrExit::ToAgent);
            s.hung_up += u64::from(exit == IvrExit::HungUp);
        }
        if let (true, Some(c)) = (contained, i.customer) {
            later.push((c, i.arrived, keys));
        }
    })?;
    for (customer, at, keys) in later {
        let Some(agent) = next.called_again(customer, at) else {
            continue;
        };
        for key in keys {
            let s = sums.entry(key).or_default();
            s.again += 1;
            s.again_agent += u64::from(agent);
        }
    }
    Ok(sums
        .into_iter()
        .map(|((by, key), s)| SelfServiceRow {
            by,
            key,
            calls: s.calls,
            contained: s.contained,
            containment: hotline_acd::kpi::containment(s.contained, s.calls)
                .map(|x| round1(x * 100.0)),
            to_agent: s.to_agent,
            hung_up: s.hung_up,
            called_again: s.again,
            called_again_to_agent: s.again_agent,
        })
        .collect())
}
