//! Each area's expected rate of fault reports by hour of the day, learned from history.

use crate::{Area, Millis};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Hours in a day: the rate is kept per local hour.
pub const HOURS: usize = 24;

const HOUR: Millis = 3_600_000;
const DAY: Millis = 24 * HOUR;

/// Fault reports per hour for each area and local hour of the day. An area the history
/// does not name is expected at rate 0 (the detector's floor then applies).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Local time minus UTC, ms (the driver reads it from the hotline's time zone).
    utc_offset_ms: i64,
    rates: HashMap<Area, [f64; HOURS]>,
}

impl Baseline {
    /// No history: every area at the floor.
    pub fn empty(utc_offset_ms: i64) -> Baseline {
        Baseline {
            utc_offset_ms,
            rates: HashMap::new(),
        }
    }

    /// The rates given, per hour, by local hour of the day.
    pub fn with_rates(utc_offset_ms: i64, rates: HashMap<Area, [f64; HOURS]>) -> Baseline {
        Baseline {
            utc_offset_ms,
            rates,
        }
    }

    /// Learn from the reports of the whole days between `from` and `to`: each area's
    /// count in each local hour of the day, divided by the days.
    pub fn learn(
        utc_offset_ms: i64,
        from: Millis,
        to: Millis,
        reports: impl IntoIterator<Item = (Area, Millis)>,
    ) -> Baseline {
        let mut b = Baseline::empty(utc_offset_ms);
        let days = (to.saturating_sub(from) / DAY).max(1) as f64;
        for (area, at) in reports {
            if at < from || at >= to {
                continue;
            }
            let h = b.hour_of(at);
            b.rates.entry(area).or_insert([0.0; HOURS])[h] += 1.0 / days;
        }
        b
    }

    /// Areas with a learned rate.
    pub fn areas(&self) -> usize {
        self.rates.len()
    }

    /// The local hour of the day of `at`.
    pub fn hour_of(&self, at: Millis) -> usize {
        let local = (at as i128 + i128::from(self.utc_offset_ms)).rem_euclid(DAY as i128);
        (local / HOUR as i128) as usize
    }

    /// The area's rate at `at`, reports per hour.
    pub fn rate(&self, area: &Area, at: Millis) -> f64 {
        self.rates.get(area).map_or(0.0, |r| r[self.hour_of(at)])
    }

    /// Reports expected from the area between `from` and `to` (the rate summed over the
    /// hours the span crosses, each for its share).
    pub fn expected(&self, area: &Area, from: Millis, to: Millis) -> f64 {
        let Some(rates) = self.rates.get(area) else {
            return 0.0;
        };
        let mut sum = 0.0;
        let mut at = from;
        while at < to {
            // the next local hour boundary after `at`
            let into = (at as i128 + i128::from(self.utc_offset_ms)).rem_euclid(HOUR as i128);
            let next = (at + (HOUR - into as Millis)).min(to);
            sum += rates[self.hour_of(at)] * (next - at) as f64 / HOUR as f64;
            at = next;
        }
        sum
    }
}
