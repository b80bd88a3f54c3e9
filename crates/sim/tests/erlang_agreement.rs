//! The simulator against queueing theory: for M/M/n (Erlang C) and M/M/n+M (Erlang A)
//! at n = 5, 50 and 500, the formula's service level, ASA and abandon rate against the
//! simulation's 95 % confidence interval (10 replications, seed 1000 — the project's
//! default seed, not searched for).
//!
//! A 95 % interval misses the true value one time in twenty by design, so "all 15
//! comparisons inside" would fail about half the time for a perfect simulator
//! (0.95^15 ≈ 0.46). The test therefore asks what an unbiased simulator delivers:
//! * at most 2 of the 15 comparisons outside their 95 % interval (for an unbiased
//!   simulator, 3 or more happen with probability 3.6 %, Binomial(15, 0.05));
//! * every comparison inside its 99.9 % interval (t(0.9995, 9) = 4.781 instead of
//!   t(0.975, 9) = 2.262), so a real bias anywhere still fails.
//!
//! `hotline bench coverage` runs the same comparisons over many seeds and reports how
//! often the 95 % interval covers the formula (it should be about 95 %; BENCHMARKS.md).
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use hotline_erlang::{Traffic, predict};
use hotline_sim::scenario::erlang_model;

struct Case {
    agents: u32,
    erlangs: f64,
    aht: f64,
    patience: Option<f64>,
    calls: u64,
}

/// Widening from the 95 % to the 99.9 % interval at 9 degrees of freedom.
const WIDE: f64 = 4.781 / 2.262;

struct Verdict {
    misses: Vec<String>,
    far: Vec<String>,
    comparisons: usize,
}

fn check(c: &Case, v: &mut Verdict) {
    let cph = c.erlangs / c.aht * 3600.0;
    let mut s = erlang_model(cph, c.aht, c.agents, 20.0, c.patience, 0.0);
    s.run.calls = Some(c.calls);
    s.replications = 10;
    s.seed = 1000;
    let sc = s.compile().unwrap();
    let r = hotline_sim::run(&sc, &mut |_, _| {});
    let f = predict(
        &Traffic::per_hour(cph, c.aht, c.patience).unwrap(),
        c.agents,
        20.0,
    )
    .unwrap();
    let o = &r.overall;
    let mut compare = |what: &str, sim: Option<hotline_sim::Estimate>, formula: f64| {
        let e = sim.expect("estimate");
        let line = format!(
            "n={} a={} patience={:?}: {what} simulated {:.4} ± {:.4}, formula {:.4}",
            c.agents,
            c.erlangs,
            c.patience,
            e.mean,
            e.ci95.unwrap(),
            formula
        );
        eprintln!("{line}");
        v.comparisons += 1;
        let h = e.ci95.unwrap();
        if (e.mean - formula).abs() > h {
            v.misses.push(line.clone());
        }
        if (e.mean - formula).abs() > h * WIDE {
            v.far.push(line);
        }
    };
    compare("service level", o.service_level, f.service_level);
    compare("ASA (s)", o.asa_seconds, f.asa_seconds);
    if c.patience.is_some() {
        compare("abandon rate", o.p_abandon, f.p_abandon);
    } else {
        assert_eq!(
            o.p_abandon.unwrap().mean,
            0.0,
            "nobody abandons without patience"
        );
    }
}

fn cases(patience: Option<f64>) -> Vec<Case> {
    vec![
        Case {
            agents: 5,
            erlangs: 4.0,
            aht: 180.0,
            patience,
            calls: 20_000,
        },
        Case {
            agents: 50,
            erlangs: 45.0,
            aht: 240.0,
            patience,
            calls: 50_000,
        },
        Case {
            agents: 500,
            erlangs: 480.0,
            aht: 240.0,
            patience,
            calls: 200_000,
        },
    ]
}

#[test]
fn mmn_and_mmn_plus_m_match_erlang_c_and_a() {
    let mut v = Verdict {
        misses: vec![],
        far: vec![],
        comparisons: 0,
    };
    for c in cases(None).iter().chain(cases(Some(120.0)).iter()) {
        check(c, &mut v);
    }
    assert_eq!(v.comparisons, 15);
    eprintln!(
        "{} of 15 comparisons outside their 95 % interval",
        v.misses.len()
    );
    assert!(
        v.far.is_empty(),
        "outside even the 99.9 % interval:\n{}",
        v.far.join("\n")
    );
    assert!(
        v.misses.len() <= 2,
        "{} of 15 outside the 95 % interval (more than chance allows):\n{}",
        v.misses.len(),
        v.misses.join("\n")
    );
}
