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
//! *surprise* is −log₁₀ P(X ≥ count) for X ~ Poisson(λ): 2 means a count that high comes
//! once in a hundred periods by chance. Rows are sorted by surprise, then by count.

use crate::people::Areas;
use crate::{Period, ReportError, check_known, round1};
use hotline_catalog::{Codes, TicketKind};
use hotline_store::{Store, export::scan};
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
    let areas = Areas::read(store)?;
    let people_count = areas.population();
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
    let mut counts: BTreeMap<(String, String), Count> = BTreeMap::new();
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
            if !span.contains(t.created) {
                return Ok(());
            }
            if let Some((district, area)) = areas.of(Some(t.customer)) {
                counts.entry(key(district, area)).or_default().add(
                    period.contains(t.created),
                    complaint,
                    &t.subcategory,
                );
            }
            Ok(())
        },
    )?;
    let codes = Codes::shipped();
    store.each_interaction_between(span.from, span.to, |i| {
        if !i.tickets.is_empty() {
            return Ok(()); // counted as its ticket
        }
        let Some(reason) = &i.reason else {
            return Ok(());
        };
        let group = codes
            .reason(reason)
            .map(|r| r.group.as_str())
            .unwrap_or_else(|| reason.split('.').next().unwrap_or(""));
        let complaint = match group {
            "complaint" => true,
            "fault" => false,
            _ => return Ok(()),
        };
        if let Some((district, area)) = areas.of(i.customer) {
            counts.entry(key(district, area)).or_default().add(
                period.contains(i.arrived),
                complaint,
                reason,
            );
        }
        Ok(())
    })?;
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
                surprise: round1(-poisson_tail(c.now, expected).log10()),
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

/// P(X ≥ k) for X ~ Poisson(λ), accurate far into the tail (summed in log space from the
/// k-th term when k lies above λ).
pub fn poisson_tail(k: u64, lambda: f64) -> f64 {
    if k == 0 || lambda <= 0.0 {
        return if k == 0 { 1.0 } else { 0.0 };
    }
    let ln_term = |j: u64| -lambda + j as f64 * lambda.ln() - ln_factorial(j);
    if (k as f64) <= lambda {
        // the lower part is the smaller sum: 1 − P(X < k)
        let below: f64 = (0..k).map(|j| ln_term(j).exp()).sum();
        return (1.0 - below).clamp(0.0, 1.0);
    }
    // terms fall from the k-th on: sum their ratios to it
    let (mut ratio, mut sum, mut j) = (1.0, 1.0, k);
    while ratio > 1e-17 * sum {
        j += 1;
        ratio *= lambda / j as f64;
        sum += ratio;
    }
    (ln_term(k) + sum.ln()).exp().clamp(f64::MIN_POSITIVE, 1.0)
}

/// ln k!, exact below 30, Stirling's series above.
fn ln_factorial(k: u64) -> f64 {
    if k < 30 {
        return (2..=k).map(|j| (j as f64).ln()).sum();
    }
    let n = k as f64;
    n * n.ln() - n + 0.5 * (2.0 * std::f64::consts::PI * n).ln() + 1.0 / (12.0 * n)
        - 1.0 / (360.0 * n * n * n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poisson_tail_agrees_with_the_sum_of_its_terms() {
        // P(X ≥ 3 | λ = 1) = 1 − e⁻¹(1 + 1 + 1/2)
        let exact = 1.0 - (-1.0f64).exp() * 2.5;
        assert!((poisson_tail(3, 1.0) - exact).abs() < 1e-12);
        // P(X ≥ 1 | λ = 2) = 1 − e⁻²
        assert!((poisson_tail(1, 2.0) - (1.0 - (-2.0f64).exp())).abs() < 1e-12);
        // far in the tail: P(X ≥ 40 | λ = 5) ≈ e⁻⁵ 5⁴⁰/40! (1 + 5/41 + …)
        let p = poisson_tail(40, 5.0);
        assert!(p > 0.0 && p < 1e-20, "{p}");
        assert_eq!(poisson_tail(0, 3.0), 1.0);
        // the tail falls as the count grows
        assert!(poisson_tail(10, 3.0) > poisson_tail(11, 3.0));
    }

    #[test]
    fn stirling_joins_the_exact_factorials() {
        let exact: f64 = (2..=30u64).map(|j| (j as f64).ln()).sum();
        assert!((ln_factorial(30) - exact).abs() < 1e-9);
    }
}
