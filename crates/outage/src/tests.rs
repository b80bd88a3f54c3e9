use super::*;
use hotline_acd::rng::Rng;

const HOUR: Millis = 3_600_000;
const DAY: Millis = 24 * HOUR;
/// Asia/Shanghai: UTC+8.
const CST: i64 = 8 * HOUR as i64;
/// Midnight of 2026-11-02 in Asia/Shanghai.
const DAY0: Millis = 1_793_548_800_000;

fn area(a: &str) -> Area {
    Area::new("西湖区", a)
}

fn flat(rate: f64, areas: &[&str]) -> Baseline {
    Baseline::with_rates(
        CST,
        areas.iter().map(|a| (area(a), [rate; HOURS])).collect(),
    )
}

fn raised(events: &[OutageEvent]) -> Vec<&Surge> {
    events
        .iter()
        .filter_map(|e| match e {
            OutageEvent::Raised(s) => Some(s),
            _ => None,
        })
        .collect()
}

#[test]
fn a_surge_in_one_area_raises_grows_and_clears_and_the_others_stay_quiet() {
    let mut d = Detector::new(DetectorConfig::default(), flat(0.5, &["翠苑一区", "文三"])).unwrap();
    let t0 = DAY0 + 10 * HOUR;
    let mut events = Vec::new();
    // one call from 文三, and from 10:00 a fault call a minute from 翠苑一区
    d.report(t0, &area("文三"), "fault.broadband");
    for m in 0..20 {
        let at = t0 + m * MINUTE;
        let what = if m % 4 == 0 {
            "fault.iptv"
        } else {
            "fault.broadband"
        };
        d.report(at + 1, &area("翠苑一区"), what);
        events.extend(d.tick(at + MINUTE));
    }
    let up = raised(&events);
    assert_eq!(up.len(), 1, "{events:?}");
    let s = up[0];
    assert_eq!(s.area, area("翠苑一区"));
    // λ = 0.5/h over 30 min = 0.25; P(X ≥ 6 | 0.25) ≈ 3e-7 is the first below 10⁻⁶
    assert_eq!(s.count, 6);
    assert!((s.expected - 0.25).abs() < 1e-9);
    assert!(s.chance < 1e-6 && s.chance > 1e-8, "{}", s.chance);
    assert_eq!(s.first, t0 + 1);
    assert_eq!(s.top[0], ("fault.broadband".to_string(), 4));
    assert_eq!(s.top[1], ("fault.iptv".to_string(), 2));
    // it grew as the calls kept coming, and only 翠苑一区 is alarmed
    let grew = events
        .iter()
        .filter(|e| matches!(e, OutageEvent::Grew(s) if s.first == t0 + 1))
        .count();
    assert_eq!(grew, 14);
    assert_eq!(d.alarmed().collect::<Vec<_>>(), vec![&area("翠苑一区")]);
    // the calls stop: once the window holds few enough, it clears, with its peak
    let end = t0 + 20 * MINUTE;
    let mut cleared = None;
    for m in 1..=40 {
        for e in d.tick(end + m * MINUTE) {
            if let OutageEvent::Cleared { area, at, peak } = e {
                cleared = Some((area, at, peak));
            }
        }
    }
    let (a, at, peak) = cleared.expect("the alarm clears");
    assert_eq!(a, area("翠苑一区"));
    assert_eq!(peak, 20);
    // with two calls left in the window P(X ≥ 2 | 0.25) = 0.026 < 0.05 keeps it; with
    // one, P(X ≥ 1 | 0.25) = 0.22 clears it: when the 19th call leaves, at 10:49
    assert_eq!(at, t0 + 49 * MINUTE);
    assert_eq!(d.alarmed().count(), 0);
}

#[test]
fn the_floor_keeps_an_area_without_history_from_alarming_on_a_few_calls() {
    let mut d = Detector::new(DetectorConfig::default(), Baseline::empty(CST)).unwrap();
    let t0 = DAY0 + 9 * HOUR;
    let mut events = Vec::new();
    // floor 0.2/h → λ = 0.1 in 30 min; P(X ≥ 4 | 0.1) ≈ 3.8e-6, P(X ≥ 5 | 0.1) ≈ 7.5e-8
    for m in 0..4 {
        d.report(t0 + m * MINUTE, &area("新村"), "fault.mobile-signal");
        events.extend(d.tick(t0 + m * MINUTE + 1));
    }
    assert!(raised(&events).is_empty(), "{events:?}");
    d.report(t0 + 4 * MINUTE, &area("新村"), "fault.mobile-signal");
    let e = d.tick(t0 + 4 * MINUTE + 1);
    assert_eq!(raised(&e).len(), 1);
    assert!((raised(&e)[0].expected - 0.1).abs() < 1e-9);
}

#[test]
fn an_incident_is_declared_once_when_the_stricter_level_is_crossed() {
    let config = DetectorConfig {
        declare_p: Some(1e-12),
        ..DetectorConfig::default()
    };
    let mut d = Detector::new(config, flat(0.5, &["翠苑一区"])).unwrap();
    let t0 = DAY0 + 20 * HOUR;
    let mut events = Vec::new();
    for m in 0..25 {
        d.report(t0 + m * MINUTE, &area("翠苑一区"), "fault.broadband");
        events.extend(d.tick(t0 + m * MINUTE + 1));
    }
    let declared: Vec<&Surge> = events
        .iter()
        .filter_map(|e| match e {
            OutageEvent::Declare(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(declared.len(), 1, "{events:?}");
    assert!(declared[0].chance < 1e-12);
    assert!(declared[0].count > raised(&events)[0].count);
    // the alarm says so from then on: raised before it, grown after it with the mark
    assert!(!raised(&events)[0].declared && declared[0].declared);
    assert!(
        events
            .iter()
            .rev()
            .any(|e| matches!(e, OutageEvent::Grew(s) if s.declared))
    );
}

#[test]
fn the_expected_count_follows_the_hour_of_the_day_in_local_time() {
    // learned from four days: 翠苑一区 reports twice at 08:xx local each day, once at 09:xx
    let mut history = Vec::new();
    for day in 0..4 {
        let d0 = DAY0 + day * DAY;
        history.push((area("翠苑一区"), d0 + 8 * HOUR + 5 * MINUTE));
        history.push((area("翠苑一区"), d0 + 8 * HOUR + 50 * MINUTE));
        history.push((area("翠苑一区"), d0 + 9 * HOUR + 30 * MINUTE));
        // outside the span: not learned
        history.push((area("文三"), d0 + 4 * DAY + HOUR));
    }
    let b = Baseline::learn(CST, DAY0, DAY0 + 4 * DAY, history);
    assert_eq!(b.areas(), 1);
    let a = area("翠苑一区");
    assert_eq!(b.hour_of(DAY0 + 8 * HOUR + 59 * MINUTE), 8);
    assert!((b.rate(&a, DAY0 + 8 * HOUR) - 2.0).abs() < 1e-9);
    assert!((b.rate(&a, DAY0 + 9 * HOUR) - 1.0).abs() < 1e-9);
    assert_eq!(b.rate(&a, DAY0 + 10 * HOUR), 0.0);
    // 08:30–09:30: half an hour at 2/h and half an hour at 1/h
    let e = b.expected(
        &a,
        DAY0 + 8 * HOUR + 30 * MINUTE,
        DAY0 + 9 * HOUR + 30 * MINUTE,
    );
    assert!((e - 1.5).abs() < 1e-9, "{e}");
    assert_eq!(b.expected(&area("文三"), DAY0, DAY0 + DAY), 0.0);
}

#[test]
fn settings_the_rule_cannot_use_are_refused_in_words() {
    let bad = [
        DetectorConfig {
            alarm_p: 0.0,
            ..DetectorConfig::default()
        },
        DetectorConfig {
            clear_p: 1e-9,
            ..DetectorConfig::default()
        },
        DetectorConfig {
            declare_p: Some(0.5),
            ..DetectorConfig::default()
        },
        DetectorConfig {
            window_minutes: 0,
            ..DetectorConfig::default()
        },
        DetectorConfig {
            floor_per_hour: f64::NAN,
            ..DetectorConfig::default()
        },
    ];
    for c in bad {
        let e = Detector::new(c, Baseline::empty(0)).unwrap_err();
        assert!(e.to_string().starts_with("outage detection: "), "{e}");
    }
    assert!(DetectorConfig::default().check().is_ok());
    let bound = DetectorConfig::default().false_alarms_per_area_day();
    assert!((bound - 1440.0 * 1e-6).abs() < 1e-12);
}

/// A day's rate shape: quiet at night, busy in the evening (reports per hour at peak =
/// `peak`).
fn day_shape(peak: f64) -> [f64; HOURS] {
    let mut r = [0.0; HOURS];
    for (h, x) in r.iter_mut().enumerate() {
        let s = match h {
            0..=6 => 0.1,
            7..=11 => 0.6,
            12..=17 => 0.7,
            18..=22 => 1.0,
            _ => 0.4,
        };
        *x = peak * s;
    }
    r
}

/// Poisson arrivals at the baseline's rate (piecewise constant by local hour) in
/// [from, to), plus `extra` per hour in [outage.0, outage.1).
fn arrivals(
    rng: &mut Rng,
    b: &Baseline,
    a: &Area,
    from: Millis,
    to: Millis,
    extra: f64,
    outage: (Millis, Millis),
) -> Vec<Millis> {
    let mut out = Vec::new();
    let mut at = from;
    while at < to {
        let next = (at - at % MINUTE + MINUTE).min(to);
        let rate = b.rate(a, at)
            + if (outage.0..outage.1).contains(&at) {
                extra
            } else {
                0.0
            };
        // within a minute the rate is constant: exponential gaps
        let mut t = at as f64;
        if rate > 0.0 {
            loop {
                t += rng.exponential(HOUR as f64 / rate);
                if t >= next as f64 {
                    break;
                }
                out.push(t as Millis);
            }
        }
        at = next;
    }
    out
}

/// Run one area through one day at its rate (with an outage when `extra` > 0); the
/// times of every alarm raised.
fn one_day(
    config: &DetectorConfig,
    b: &Baseline,
    a: &Area,
    rng: &mut Rng,
    extra: f64,
    outage: (Millis, Millis),
) -> Vec<Millis> {
    let mut d = Detector::new(config.clone(), b.clone()).unwrap();
    let from = DAY0 - config.window();
    let calls = arrivals(rng, b, a, from, DAY0 + DAY, extra, outage);
    let mut calls = calls.into_iter().peekable();
    let mut alarms = Vec::new();
    let mut t = DAY0 - config.window();
    while t < DAY0 + DAY {
        t += config.tick();
        while let Some(c) = calls.next_if(|c| *c < t) {
            d.report(c, a, "fault.broadband");
        }
        for e in d.tick(t) {
            if let OutageEvent::Raised(s) = e {
                if s.raised >= DAY0 {
                    alarms.push(s.raised);
                }
            }
        }
    }
    alarms
}

/// P(X ≥ k) for X ~ Binomial(n, q), summed term by term in log space.
fn binomial_tail(n: u64, q: f64, k: u64) -> f64 {
    let ln_choose = |j: u64| -> f64 {
        (1..=j)
            .map(|i| ((n - j + i) as f64).ln() - (i as f64).ln())
            .sum()
    };
    (k..=n)
        .map(|j| (ln_choose(j) + j as f64 * q.ln() + (n - j) as f64 * (1.0 - q).ln()).exp())
        .sum()
}

/// With no outage, the area-days with a false alarm stay within the binomial bound of the
/// stated rate: each area-day alarms with chance at most ticks × alarm_p, so the count of
/// 600 area-days that alarm must not be one a Binomial(600, that) reaches by chance once
/// in a million — at the defaults and at a looser level that makes false alarms common
/// enough to count.
#[test]
fn false_alarms_stay_within_the_stated_rate() {
    let mut rng = Rng::seeded(20261203);
    for alarm_p in [1e-6, 1e-4] {
        let config = DetectorConfig {
            alarm_p,
            ..DetectorConfig::default()
        };
        let per_day = config.false_alarms_per_area_day().min(1.0);
        let (days, mut alarmed, mut alarms) = (600u64, 0u64, 0usize);
        for day in 0..days {
            // areas from quiet (peak 0.2/h, under the floor) to busy (peak 6/h)
            let peak = 0.2 + (day % 30) as f64 * 0.2;
            let a = area("翠苑一区");
            let b = Baseline::with_rates(CST, [(a.clone(), day_shape(peak))].into());
            let raised = one_day(&config, &b, &a, &mut rng, 0.0, (0, 0));
            alarmed += u64::from(!raised.is_empty());
            alarms += raised.len();
        }
        let bound = (0..=days)
            .find(|k| binomial_tail(days, per_day, *k) < 1e-6)
            .unwrap();
        eprintln!(
            "alarm_p {alarm_p:e}: {alarmed} of {days} area-days alarmed ({alarms} alarms), \
             stated at most {per_day:.4} per area-day, bound {bound}"
        );
        assert!(alarmed < bound, "{alarmed} ≥ {bound}");
    }
}

/// An outage of +40 fault calls an hour in one 小区 (at any hour, in an area of any
/// usual rate) raises the alarm within 30 minutes of its start in at least 95 % of 200
/// seeds.
#[test]
fn an_outage_is_found_within_thirty_minutes_in_ninety_five_percent_of_seeds() {
    let config = DetectorConfig::default();
    let (mut found, seeds) = (0, 200u64);
    let mut delays = Vec::new();
    for seed in 0..seeds {
        let mut rng = Rng::seeded(seed);
        let a = area("翠苑一区");
        let peak = 0.5 + (seed % 10) as f64 * 0.5;
        let b = Baseline::with_rates(CST, [(a.clone(), day_shape(peak))].into());
        let start = DAY0 + rng.below(20 * 60) * MINUTE + 2 * HOUR;
        let raised = one_day(&config, &b, &a, &mut rng, 40.0, (start, start + 2 * HOUR));
        let first = raised.into_iter().find(|t| *t >= start);
        if let Some(t) = first {
            delays.push((t - start) / MINUTE);
            if t - start <= 30 * MINUTE {
                found += 1;
            }
        }
    }
    delays.sort_unstable();
    eprintln!(
        "found within 30 min in {found} of {seeds}; delay median {} min, p95 {} min",
        delays[delays.len() / 2],
        delays[delays.len() * 95 / 100]
    );
    assert!(found * 100 >= seeds * 95, "{found} of {seeds}");
}
