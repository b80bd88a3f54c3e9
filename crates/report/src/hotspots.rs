//! Hot spots (投诉较多的小区): complaints and faults by district or by 小区, ranked by how
//! unusual the count is for that area, not only by its size.
//!
//! **What is counted.** A customer's report of a complaint or a fault is either a ticket
//! of kind complaint or fault opened in the period, or a contact in the period whose
//! reason is in the complaint or fault group and that opened no ticket — so a call that
//! opened a ticket counts once.
//!
//! **How unusual.** The area's expected count λ is the larger of its count in the
//! previous period of the same length and its share of this period's reports by
//! population (its customers ÷ all customers × all reports), and at least 1. The
//! *surprise* is −log₁₀ P(X ≥ count) for X ~ Poisson(λ) (`hotline_erlang::poisson`):
//! 2 means a count that high comes once in a hundred periods by chance. Rows are sorted
//! by surprise, then by count.

use crate::people::{People, population};
use crate::{Period, ReportError, check_known, round1};
use hotline_catalog::codes::{COMPLAINT_GROUP, FAULT_GROUP};
use hotline_catalog::{Codes, TicketKind};
use hotline_store::{Millis, Store, StoreError, export::scan};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Rows by district or by 小区.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaLevel {
    /// One row per district.
    District,
    /// One row per 小区 (within its district).
    Area,
}

/// One area over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotspotRow {
    /// District.
    pub district: String,
    /// 小区 (empty on a district row).
    pub area: String,
    /// Complaint and fault reports (tickets, and contacts that opened none).
    pub reports: u64,
    /// Of them, complaints.
    pub complaints: u64,
    /// Of them, faults.
    pub faults: u64,
    /// Customers of the area.
    pub customers: u64,
    /// Reports per 1,000 customers of the area.
    pub per_1000: Option<f64>,
    /// Reports in the previous period of the same length.
    pub previous: u64,
    /// Change against it, percent (none when it had none).
    pub change_percent: Option<f64>,
    /// The count expected for the area (see the module's words).
    pub expected: f64,
    /// −log₁₀ of the chance of at least this many at the expected rate.
    pub surprise: f64,
    /// The most frequent subcategories (ticket) or reasons (contact), with counts.
    pub top: Vec<(String, u64)>,
}

#[derive(Default)]
struct Count {
    now: u64,
    complaints: u64,
    faults: u64,
    previous: u64,
    what: HashMap<String, u64>,
}

impl Count {
    fn add(&mut self, current: bool, complaint: bool, what: &str) {
        if !current {
            self.previous += 1;
            return;
        }
        self.now += 1;
        if complaint {
            self.complaints += 1;
        } else {
            self.faults += 1;
        }
        *self.what.entry(what.to_string()).or_insert(0) += 1;
    }

    fn merge(&mut self, other: Count) {
        self.now += other.now;
        self.complaints += other.complaints;
        self.faults += other.faults;
        self.previous += other.previous;
        for (what, n) in other.what {
            *self.what.entry(what).or_insert(0) += n;
        }
    }
}

/// The reports of the two periods, each by its customer, gathered before anyone is
/// looked up: the customers are then read once each and in id order (neighbours in the
/// store, so the reads share their pages).
#[derive(Default)]
struct Reports {
    each: Vec<(u64, bool, bool, u32)>,
    what: Vec<String>,
    what_id: HashMap<String, u32>,
}

impl Reports {
    fn add(&mut self, customer: u64, current: bool, complaint: bool, what: &str) {
        let id = self.what_of(what);
        self.each.push((customer, current, complaint, id));
    }

    fn what_of(&mut self, what: &str) -> u32 {
        match self.what_id.get(what) {
            Some(id) => *id,
            None => {
                let id = self.what.len() as u32;
                self.what.push(what.to_string());
                self.what_id.insert(what.to_string(), id);
                id
            }
        }
    }

    /// Take in `other`'s reports.
    fn merge(&mut self, other: Reports) {
        let ids: Vec<u32> = other.what.iter().map(|w| self.what_of(w)).collect();
        self.each.extend(
            other
                .each
                .into_iter()
                .map(|(c, current, complaint, w)| (c, current, complaint, ids[w as usize])),
        );
    }

    /// Split in two, by customer, each customer's reports on one side.
    fn halves(mut self) -> (Reports, Reports) {
        self.each.sort_unstable_by_key(|r| r.0);
        let mut at = self.each.len() / 2;
        while at > 0 && at < self.each.len() && self.each[at].0 == self.each[at - 1].0 {
            at += 1;
        }
        let second = Reports {
            each: self.each.split_off(at),
            what: self.what.clone(),
            what_id: HashMap::new(),
        };
        (self, second)
    }

    /// Count them by where each customer lives.
    fn by_area(
        mut self,
        people: &mut People,
        mut key: impl FnMut(&str, &str) -> (String, String),
    ) -> Result<BTreeMap<(String, String), Count>, StoreError> {
        self.each.sort_unstable_by_key(|r| r.0);
        let mut counts: BTreeMap<(String, String), Count> = BTreeMap::new();
        let mut at: Option<(u64, Option<(String, String)>)> = None;
        for (customer, current, complaint, what) in self.each {
            if at.as_ref().is_none_or(|(c, _)| *c != customer) {
                let area = people
                    .who(Some(customer))?
                    .map(|w| key(&w.district, &w.area));
                people.forget(customer);
                at = Some((customer, area));
            }
            if let Some((_, Some(area))) = &at {
                let what = &self.what[what as usize];
                match counts.get_mut(area) {
                    Some(c) => c.add(current, complaint, what),
                    None => counts
                        .entry(area.clone())
                        .or_default()
                        .add(current, complaint, what),
                }
            }
        }
        Ok(counts)
    }
}

/// The complaint and fault tickets opened in `span`, current when in `period`.
fn tickets(store: &Store, span: Period, period: Period) -> Result<Reports, StoreError> {
    let mut reports = Reports::default();
    let engine = store.engine();
    scan(
        |after, n| engine.tickets_after(after, n),
        |t| t.id,
        |t| {
            let complaint = match t.kind {
                TicketKind::Complaint => true,
                TicketKind::Fault => false,
                _ => return Ok(()),
            };
            if span.contains(t.created) {
                let current = period.contains(t.created);
                reports.add(t.customer, current, complaint, &t.subcategory);
            }
            Ok(())
        },
    )?;
    Ok(reports)
}

/// The contacts in `part` about a complaint or a fault that opened no ticket (a call
/// that did is counted as its ticket), current when in `period`.
fn contacts(store: &Store, part: Period, period: Period) -> Result<Reports, StoreError> {
    let mut reports = Reports::default();
    let codes = Codes::shipped();
    store.each_interaction_between(part.from, part.to, |i| {
        let (Some(reason), Some(customer), true) = (&i.reason, i.customer, i.tickets.is_empty())
        else {
            return Ok(());
        };
        let group = codes.group_of(reason);
        let complaint = match group {
            COMPLAINT_GROUP => true,
            FAULT_GROUP => false,
            _ => return Ok(()),
        };
        reports.add(customer, period.contains(i.arrived), complaint, reason);
        Ok(())
    })?;
    Ok(reports)
}

/// Every fault call of `period` from a customer the store knows, with where they live
/// (district, 小区) and when it came: what the router's watch on areas learns each
/// area's usual rate from.
pub fn fault_calls(
    store: &Store,
    period: Period,
) -> Result<Vec<(String, String, Millis)>, ReportError> {
    let codes = Codes::shipped();
    let mut calls = Vec::new();
    store.each_interaction_between(period.from, period.to, |i| {
        let (Some(reason), Some(customer)) = (&i.reason, i.customer) else {
            return Ok(());
        };
        let group = codes.group_of(reason);
        if group == FAULT_GROUP {
            calls.push((customer, i.arrived));
        }
        Ok(())
    })?;
    calls.sort_unstable();
    let mut people = People::new(store);
    let mut out = Vec::with_capacity(calls.len());
    for (customer, at) in calls {
        if let Some(w) = people.who(Some(customer))? {
            out.push((w.district.clone(), w.area.clone(), at));
        }
    }
    Ok(out)
}

/// A scoped thread's answer, or its panic carried on.
fn joined<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// The hot spots of `period` at `level`, only in `districts` when some are named, at
/// most `limit` rows.
pub fn hotspots(
    store: &Store,
    period: Period,
    level: AreaLevel,
    districts: &[String],
    limit: usize,
) -> Result<Vec<HotspotRow>, ReportError> {
    let people_count = population(store)?;
    check_known(
        "district",
        "the customers",
        districts,
        people_count.keys().map(|(d, _)| d.as_str()),
    )?;
    let key = |district: &str, area: &str| match level {
        AreaLevel::District => (district.to_string(), String::new()),
        AreaLevel::Area => (district.to_string(), area.to_string()),
    };
    let mut customers: BTreeMap<(String, String), u64> = BTreeMap::new();
    for ((d, a), n) in &people_count {
        *customers.entry(key(d, a)).or_insert(0) += n;
    }
    let before = period.previous();
    let span = Period {
        from: before.from,
        to: period.to,
    };
    // the two halves of the span are read at once, on two threads (the tickets with
    // the earlier half); then only the customers who reported something are looked up,
    // each once, half of them on each thread
    let mid = span.from + (span.to - span.from) / 2;
    let (earlier, later) = std::thread::scope(|s| {
        let later = s.spawn(|| contacts(store, Period { from: mid, ..span }, period));
        let earlier = tickets(store, span, period).and_then(|mut r| {
            r.merge(contacts(store, Period { to: mid, ..span }, period)?);
            Ok(r)
        });
        (earlier, joined(later))
    });
    let mut reports = earlier?;
    reports.merge(later?);
    let (first, second) = reports.halves();
    let (counts, other) = std::thread::scope(|s| {
        let other = s.spawn(|| second.by_area(&mut People::new(store), key));
        (first.by_area(&mut People::new(store), key), joined(other))
    });
    let mut counts = counts?;
    for (area, c) in other? {
        counts.entry(area).or_default().merge(c);
    }
    let total_now: u64 = counts.values().map(|c| c.now).sum();
    let total_people: u64 = customers.values().sum();
    let mut rows: Vec<HotspotRow> = counts
        .into_iter()
        .filter(|((d, _), c)| c.now > 0 && (districts.is_empty() || districts.contains(d)))
        .map(|((district, area), c)| {
            let people = customers
                .get(&(district.clone(), area.clone()))
                .copied()
                .unwrap_or(0);
            let share = if total_people > 0 {
                people as f64 / total_people as f64 * total_now as f64
            } else {
                0.0
            };
            let expected = (c.previous as f64).max(share).max(1.0);
            let mut top: Vec<(String, u64)> = c.what.into_iter().collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            top.truncate(3);
            HotspotRow {
                district,
                area,
                reports: c.now,
                complaints: c.complaints,
                faults: c.faults,
                customers: people,
                per_1000: (people > 0).then(|| round1(c.now as f64 * 1000.0 / people as f64)),
                previous: c.previous,
                change_percent: (c.previous > 0)
                    .then(|| round1((c.now as f64 / c.previous as f64 - 1.0) * 100.0)),
                expected: round1(expected),
                surprise: round1(-hotline_erlang::poisson::tail(c.now, expected).log10()),
                top,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.surprise
            .total_cmp(&a.surprise)
            .then(b.reports.cmp(&a.reports))
            .then_with(|| (&a.district, &a.area).cmp(&(&b.district, &b.area)))
    });
    rows.truncate(limit);
    Ok(rows)
}
