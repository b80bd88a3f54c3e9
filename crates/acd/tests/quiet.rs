//! A quiet engine (`EngineConfig::quiet`, the simulator's) routes exactly as a loud one:
//! the same calls reach the same agents and end in the same records; it only leaves out
//! the state changes other than not-ready and the queue-changed news.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod support;
use hotline_acd::*;
use support::*;

/// Two agents, a queue, six calls: answered, one ring-no-answer (the agent goes not
/// ready with its reason), wrap-ups, one abandon.
fn day(quiet: bool) -> Rig {
    let mut r = Rig::with(EngineConfig {
        quiet,
        ..EngineConfig::default()
    });
    let q = r.queue(plain_queue());
    let a = r.ready_agent(&[skill(0, 5)]);
    let b = r.ready_agent(&[skill(0, 5)]);
    let mut calls = Vec::new();
    for k in 0..6 {
        r.at(10.0 * k as f64);
        calls.push(r.call(q, 0));
    }
    for (t, agent) in [(61.0, a), (62.0, b)] {
        r.at(t);
        let _ = r.input(Input::Answer(agent));
    }
    r.at(200.0);
    for agent in [a, b] {
        let _ = r.input(Input::HangUp(agent));
        let _ = r.input(Input::FinishWrapUp(agent));
    }
    r.at(230.0);
    let _ = r.input(Input::CallerHangUp(calls[5]));
    r.at(600.0);
    r
}

#[test]
fn a_quiet_engine_routes_as_a_loud_one_and_only_says_less() {
    let (loud, quiet) = (day(false), day(true));
    assert_eq!(loud.records(), quiet.records());
    assert!(!loud.records().is_empty());
    let said = |r: &Rig, f: &dyn Fn(&Action) -> bool| r.log.iter().filter(|a| f(a)).count();
    let queue_news = |a: &Action| matches!(a, Action::QueueChanged(_));
    let states = |a: &Action| matches!(a, Action::AgentState { .. });
    let not_ready = |a: &Action| {
        matches!(
            a,
            Action::AgentState {
                state: AgentStateKind::NotReady,
                ..
            }
        )
    };
    assert!(said(&loud, &queue_news) > 0 && said(&quiet, &queue_news) == 0);
    assert!(said(&loud, &states) > said(&loud, &not_ready));
    assert_eq!(said(&quiet, &states), said(&quiet, &not_ready));
    assert_eq!(said(&quiet, &not_ready), said(&loud, &not_ready));
    assert!(
        said(&quiet, &not_ready) > 0,
        "the ring-no-answer's not-ready is said"
    );
    let others = |r: &Rig| {
        r.log
            .iter()
            .filter(|a| !queue_news(a) && !states(a))
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        others(&loud),
        others(&quiet),
        "every other action, in order"
    );
}
