//! Key-account care (大客户): the green channel's service, and each account manager's
//! customers — their contacts, waits, satisfaction and tickets on time.

use crate::intervals::{QueueRow, intervals};
use crate::people::KeyAccounts;
use crate::{Period, ReportError, check_known, mean};
use hotline_catalog::Codes;
use hotline_store::{Millis, Store, export::scan};
use serde::Serialize;
use std::collections::BTreeMap;

/// One account manager's key accounts over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManagerRow {
    /// The manager's work number (empty for key accounts without one).
    pub manager: String,
    /// Of their customers, those who contacted the hotline.
    pub customers_calling: u64,
    /// Contacts.
    pub contacts: u64,
    /// Of them, answered by an agent.
    pub answered: u64,
    /// Mean wait of the answered, seconds.
    pub asa_seconds: Option<f64>,
    /// Survey answers.
    pub surveyed: u64,
    /// Mean survey score, 1–5.
    pub satisfaction: Option<f64>,
    /// Tickets opened for their customers.
    pub tickets: u64,
    /// Resolved by the deadline.
    pub tickets_on_time: u64,
    /// Resolved late, or open past the deadline.
    pub tickets_overdue: u64,
    /// On time ÷ (on time + overdue), percent.
    pub on_time_rate: Option<f64>,
}

/// The key-account report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyAccountReport {
    /// The green channel's queue over the period (none when it kept no interval).
    pub green_channel: Option<QueueRow>,
    /// By account manager.
    pub managers: Vec<ManagerRow>,
}

/// Key accounts over `period` (only the `managers` named, when some are), tickets judged
/// at `now`.
pub fn key_accounts(
    store: &Store,
    period: Period,
    now: Millis,
    managers: &[String],
) -> Result<KeyAccountReport, ReportError> {
    let green = Codes::shipped()
        .group("key-account")
        .map_or("green-channel", |g| g.queue.as_str());
    let green_channel = intervals(
        store,
        period,
        &[],
        60,
        hotline_acd::kpi::SERVICE_LEVEL_TARGET,
    )?
    .totals
    .into_iter()
    .find(|q| q.queue == green);
    #[derive(Default)]
    struct Sum {
        calling: std::collections::HashSet<u64>,
        contacts: u64,
        answered: u64,
        wait: f64,
        surveyed: u64,
        score: f64,
        tickets: u64,
        deadlines: crate::tickets::OnTime,
    }
    let mut sums: BTreeMap<String, Sum> = BTreeMap::new();
    let key = KeyAccounts::read(store)?;
    store.each_interaction_between(period.from, period.to, |i| {
        let Some(manager) = key.manager(i.customer) else {
            return Ok(());
        };
        let s = sums
            .entry(manager.unwrap_or_default().to_string())
            .or_default();
        s.calling.extend(i.customer);
        s.contacts += 1;
        if i.answered.is_some() {
            s.answered += 1;
            s.wait += f64::from(i.wait_s);
        }
        if let Some(score @ 1..=5) = i.satisfaction {
            s.surveyed += 1;
            s.score += f64::from(score);
        }
        Ok(())
    })?;
    let engine = store.engine();
    scan(
        |after, n| engine.tickets_after(after, n),
        |t| t.id,
        |t| {
            if !period.contains(t.created) {
                return Ok(());
            }
            let Some(manager) = key.manager(Some(t.customer)) else {
                return Ok(());
            };
            let s = sums
                .entry(manager.unwrap_or_default().to_string())
                .or_default();
            s.tickets += 1;
            s.deadlines.count(&t, now);
            Ok(())
        },
    )?;
    check_known(
        "account manager",
        "the key accounts of this period",
        managers,
        sums.keys().map(String::as_str),
    )?;
    Ok(KeyAccountReport {
        green_channel,
        managers: sums
            .into_iter()
            .filter(|(m, _)| managers.is_empty() || managers.contains(m))
            .map(|(manager, s)| ManagerRow {
                manager,
                customers_calling: s.calling.len() as u64,
                contacts: s.contacts,
                answered: s.answered,
                asa_seconds: mean(s.wait, s.answered),
                surveyed: s.surveyed,
                satisfaction: mean(s.score, s.surveyed),
                tickets: s.tickets,
                tickets_on_time: s.deadlines.on_time,
                tickets_overdue: s.deadlines.overdue,
                on_time_rate: s.deadlines.rate(),
            })
            .collect(),
    })
}
