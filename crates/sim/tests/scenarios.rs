//! Scenario features of the simulator: shifts, breaks, retrials, callbacks, profiles,
//! and determinism — each checked on the figures the run produces.
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use hotline_sim::dist::Duration;
use hotline_sim::scenario::{BreakSpec, Scenario, ShiftSpec, erlang_model};
use hotline_sim::{Outcome, run_replication};
use std::path::Path;

fn base() -> Scenario {
    let mut s = erlang_model(120.0, 180.0, 5, 20.0, Some(90.0), 5.0);
    s.run.calls = None;
    s.run.hours = Some(4.0);
    s.replications = 1;
    s
}

fn once(s: &Scenario) -> Outcome {
    run_replication(&s.compile().unwrap(), 0, &mut |_| {})
}

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_another() {
    let s = base();
    let (a, b) = (once(&s), once(&s));
    assert_eq!(a.overall.tally, b.overall.tally);
    assert_eq!(a.calls_simulated, b.calls_simulated);
    let mut t = base();
    t.seed = 4242;
    assert_ne!(once(&t).overall.tally, a.overall.tally);
}

#[test]
fn agents_work_only_their_shift_and_take_their_breaks() {
    let mut s = base();
    s.run.hours = Some(6.0);
    s.teams[0].shift = Some(ShiftSpec {
        start: "01:00".into(),
        end: "05:00".into(),
    });
    s.teams[0].breaks = vec![BreakSpec {
        at: "02:00".into(),
        minutes: 30.0,
        stagger_minutes: 0.0,
    }];
    let o = once(&s);
    let per_interval_staffed: Vec<f64> = o
        .intervals
        .iter()
        .map(|i| i.staffed.as_secs_f64())
        .collect();
    // 15-minute intervals: nobody logged in before 01:00 or after 05:00
    assert!(
        per_interval_staffed[..4].iter().all(|&x| x == 0.0),
        "{per_interval_staffed:?}"
    );
    // at 05:00 agents on a call finish it before logging out, so 05:00–05:15 is partly
    // staffed; after that nobody is
    assert!(
        per_interval_staffed[20] < 4500.0,
        "{per_interval_staffed:?}"
    );
    assert!(
        per_interval_staffed[21..].iter().all(|&x| x == 0.0),
        "{per_interval_staffed:?}"
    );
    // 5 agents × 15 min = 4500 s staffed per interval while on shift (break time counts
    // as staffed: the agents are logged in, not ready)
    assert!(
        (per_interval_staffed[5] - 4500.0).abs() < 1.0,
        "{per_interval_staffed:?}"
    );
    // during the break nobody answers: the calls of 02:00–02:30 wait or abandon
    let answered: Vec<u64> = o.intervals.iter().map(|i| i.tally.answered).collect();
    assert_eq!(answered[9], 0, "answered during the break: {answered:?}");
    assert!(answered[6] > 0 && answered[11] > 0, "{answered:?}");
}

#[test]
fn retrials_bring_abandoned_callers_back() {
    let mut s = base();
    s.teams[0].agents = 3; // overloaded: many abandon
    let without = once(&s);
    s.retrial.probability = 1.0;
    s.retrial.mean_delay_seconds = 60.0;
    let with = once(&s);
    assert!(
        with.overall.tally.offered
            > without.overall.tally.offered + without.overall.tally.abandoned / 2,
        "retrials: {} vs {} offered",
        with.overall.tally.offered,
        without.overall.tally.offered
    );
}

#[test]
fn callers_take_callbacks_when_offered_and_keep_their_turn() {
    let mut s = base();
    s.teams[0].agents = 4;
    s.queues[0].callback_threshold_seconds = Some(60.0);
    s.callback_acceptance = 1.0;
    let o = once(&s);
    assert!(o.overall.tally.callbacks_accepted > 0);
    // a caller on callback is not on the line, so does not abandon: abandons fall
    let mut no_cb = base();
    no_cb.teams[0].agents = 4;
    let n = once(&no_cb);
    assert!(o.overall.tally.abandoned < n.overall.tally.abandoned);
}

#[test]
fn a_time_of_day_profile_shapes_the_arrivals() {
    let dir = std::env::temp_dir().join(format!("hotline-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("p.csv"),
        "# test\ntime,calls_per_hour\n00:00,100\n02:00,400\n",
    )
    .unwrap();
    let mut s = base();
    s.arrivals.calls_per_hour = None;
    s.arrivals.profile_rows = hotline_sim::scenario::load_profile(&dir.join("p.csv")).unwrap();
    s.teams[0].agents = 30;
    s.patience = Duration::Infinite;
    let o = once(&s);
    let offered: Vec<u64> = o.intervals.iter().map(|i| i.tally.offered).collect();
    let low: u64 = offered[..8].iter().sum();
    let high: u64 = offered[8..16].iter().sum();
    // 200 expected in the first two hours, 800 in the next two
    assert!(
        (150..260).contains(&low) && (680..920).contains(&high),
        "{low} {high} {offered:?}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn handle_times_follow_their_distribution() {
    let mut s = base();
    s.teams[0].agents = 20;
    s.run.hours = Some(20.0);
    s.reasons[0].handle = Duration::Empirical {
        seconds: vec![60.0, 120.0, 180.0],
    };
    let o = once(&s);
    let aht = hotline_acd::kpi::average_handle_time(&o.overall.tally)
        .unwrap()
        .as_secs_f64();
    assert!((aht - 120.0).abs() < 4.0, "{aht}");
}

#[test]
fn the_example_scenarios_load_and_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/scenarios");
    for f in ["small-town-day.toml", "big-city-peak-hour.toml"] {
        let s = Scenario::load(&root.join(f)).unwrap();
        let sc = s.compile().unwrap();
        let o = run_replication(&sc, 0, &mut |_| {});
        assert!(
            o.overall.tally.answered > 1000,
            "{f}: {:?}",
            o.overall.tally
        );
        assert_eq!(o.queues.len(), 5);
        assert!(
            o.queues.iter().all(|q| q.tally.answered > 0),
            "{f}: every queue gets calls answered"
        );
    }
}

#[test]
fn scenario_errors_name_the_file_and_field() {
    let dir = std::env::temp_dir().join(format!("hotline-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.toml");
    std::fs::write(&p, "name = 'x'\n[run]\nhours = 1\n[arrivals]\ncalls_per_hour = 10\n[[queue]]\nname='q'\nskill='s'\nmin_level=0\n[[reason]]\nname='r'\nshare=1\nqueue='q'\nhandle={distribution='constant', seconds=10}\n[[team]]\nname='t'\nagents=1\nskills={s=5}\n").unwrap();
    let e = Scenario::load(&p)
        .unwrap()
        .compile()
        .unwrap_err()
        .to_string();
    assert!(e.contains("queue 'q'") && e.contains("min_level"), "{e}");
    std::fs::write(&p, "name = 'x'\n[run]\nhours = 1\n").unwrap();
    let e = Scenario::load(&p).unwrap_err().to_string();
    assert!(e.contains("bad.toml") && e.contains("missing field"), "{e}");
    std::fs::remove_dir_all(dir).ok();
}
