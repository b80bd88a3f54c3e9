//! The IVR in the simulator against arithmetic: a flow with known branch shares and
//! success rates (tests/fixtures/arithmetic.toml) gives the containment and mean time
//! in the IVR worked out by hand; a planted change of a branch share moves containment
//! the way the arithmetic says; two menus compare on the same callers; bad input is
//! named by file, node and field.
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use hotline_sim::dist::Duration;
use hotline_sim::ivr::{CallerSpec, IvrSpec, ServiceSpec};
use hotline_sim::scenario::{Scenario, erlang_model};
use hotline_sim::{run, run_compare};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/arithmetic.toml")
}

/// 20,000 calls an hour-equivalent into one well-staffed queue "desk", behind the
/// arithmetic flow; callers press 1 (the balance) with `p_bill`, else 2; the balance is
/// found with `success`; nobody errs, falls silent, hangs up or barges in.
fn scenario(p_bill: f64, success: f64) -> Scenario {
    let mut s = erlang_model(600.0, 120.0, 40, 20.0, None, 5.0);
    s.queues[0].name = "desk".into();
    s.reasons[0].queue = "desk".into();
    s.run.calls = Some(20_000);
    let constant = |seconds| Duration::Constant { seconds };
    s.ivr = Some(IvrSpec {
        flow_path: Some(fixture()),
        english: 0.0,
        mistake: 0.0,
        silence: 0.0,
        hang_up: 0.0,
        agent_at_once: 0.0,
        barge_in: 0.0,
        reaction: constant(1.0),
        services: [(
            "bill".to_string(),
            ServiceSpec {
                success,
                done: 1.0,
                seconds: constant(2.0),
            },
        )]
        .into_iter()
        .collect(),
        callers: vec![CallerSpec {
            reason: "call".into(),
            segment: None,
            agent_at_once: None,
            keys: [(
                "menu".to_string(),
                [
                    ("bill".to_string(), p_bill),
                    ("to-agent".to_string(), 1.0 - p_bill),
                ]
                .into_iter()
                .collect::<BTreeMap<_, _>>(),
            )]
            .into_iter()
            .collect(),
        }],
        ..IvrSpec::default()
    });
    s
}

/// By hand: the menu plays 10 s and the key comes 1 s later (11 s). Key 1: the balance
/// takes 2 s; found, 4 s of answer and 2 s of goodbye (19 s, contained); not found, 3 s
/// of apology and 1 s of "please hold" (17 s, to the desk). Key 2: 1 s of "please hold"
/// (12 s, to the desk).
fn by_hand(p_bill: f64, success: f64) -> (f64, f64) {
    let contained = p_bill * success;
    let mean = contained * 19.0 + p_bill * (1.0 - success) * 17.0 + (1.0 - p_bill) * 12.0;
    (contained, mean)
}

#[test]
fn containment_and_time_in_the_ivr_agree_with_the_arithmetic() {
    let sc = scenario(0.6, 0.75).compile().unwrap();
    let r = run(&sc, &mut |_, _| {});
    let ivr = r.ivr.clone().unwrap();
    let (contained, mean) = by_hand(0.6, 0.75);
    let c = ivr.all.containment.unwrap();
    let m = ivr.all.mean_seconds.unwrap();
    assert!(
        c.covers(contained),
        "containment {c:?}, by hand {contained}"
    );
    assert!(m.covers(mean), "mean time {m:?}, by hand {mean}");
    // the contained route takes 19 s exactly; every call of it is contained
    let bill = ivr
        .routes
        .iter()
        .find(|r| r.route == "menu › bill › bye")
        .unwrap();
    assert_eq!(bill.containment.unwrap().mean, 1.0);
    assert!(
        (bill.mean_seconds.unwrap().mean - 19.0).abs() < 1e-6,
        "{bill:?}"
    );
    // calls not contained reach the desk, and its figures come from the engine
    let to_desk = ivr.to_queues[0].1.unwrap().mean;
    let calls = ivr.all.calls.unwrap().mean;
    assert!(
        (to_desk / calls - (1.0 - contained)).abs() < 0.02,
        "{to_desk} of {calls}"
    );
    assert!((r.overall.offered.unwrap().mean - to_desk).abs() < 1.0);
    let service = ivr.services.iter().find(|s| s.name == "bill").unwrap();
    assert!(service.containment.unwrap().covers(0.75), "{service:?}");
    // the text has the section
    let text = r.to_text();
    assert!(
        text.contains("IVR (") && text.contains("self-service"),
        "{text}"
    );
}

#[test]
fn a_planted_change_of_a_branch_share_moves_containment_as_the_arithmetic_says() {
    let a = scenario(0.6, 0.75).compile().unwrap();
    let b = scenario(0.8, 0.75).compile().unwrap();
    let c = run_compare(&a, &b, &mut |_, _, _| {});
    let d = |name: &str| {
        c.differences
            .iter()
            .find(|d| d.figure.starts_with(name))
            .unwrap()
            .clone()
    };
    let (before, t0) = by_hand(0.6, 0.75);
    let (after, t1) = by_hand(0.8, 0.75);
    let containment = d("IVR containment").difference.unwrap();
    assert!(
        containment.covers(after - before),
        "{containment:?}, by hand {}",
        after - before
    );
    assert!(d("IVR mean time").difference.unwrap().covers(t1 - t0));
    // fewer calls reach the desk: a quarter of the callers moved, three in four of them
    // contained
    let to_agents = d("calls to agents").difference.unwrap();
    assert!(to_agents.mean < 0.0, "{to_agents:?}");
    // the same callers arrive in both runs (common random numbers): with the same flow
    // every difference is exactly nothing
    let same = run_compare(&a, &a, &mut |_, _, _| {});
    for d in &same.differences {
        if let Some(e) = d.difference {
            assert_eq!(e.mean, 0.0, "{d:?}");
        }
    }
    let text = c.to_text();
    assert!(text.contains("other − first") && !text.contains("agents needed"));
}

fn write_scenario(dir: &Path, ivr: &str) -> PathBuf {
    let text = format!(
        r#"name = "bad"
replications = 2
[run]
calls = 1000
[arrivals]
calls_per_hour = 600
[[queue]]
name = "desk"
skill = "any"
[[reason]]
name = "call"
share = 1
queue = "desk"
handle = {{ distribution = "exponential", mean_seconds = 120 }}
[[team]]
name = "t"
agents = 20
skills = {{ any = 5 }}
[ivr]
flow = "{}"
{ivr}
"#,
        fixture().display()
    );
    let p = dir.join("bad.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn bad_input_names_the_file_the_node_and_the_field() {
    let dir = std::env::temp_dir().join(format!("hotline-sim-ivr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let error = |ivr: &str| {
        let p = write_scenario(&dir, ivr);
        let e = Scenario::load(&p).and_then(|s| s.compile().map(|_| ()));
        e.unwrap_err().to_string()
    };
    // shares that do not add up to 1
    let e = error("keys = { menu = { bill = 0.5, to-agent = 0.4 } }");
    assert!(
        e.contains("bad.toml")
            && e.contains("node 'menu'")
            && e.contains("field 'keys'")
            && e.contains("0.9"),
        "{e}"
    );
    // a key the menu lacks
    let e = error("keys = { menu = { \"7\" = 1.0 } }");
    assert!(
        e.contains("node 'menu'") && e.contains("keys.7") && e.contains("no key 7"),
        "{e}"
    );
    // a node that is no menu
    let e = error("keys = { bye = { \"1\" = 1.0 } }");
    assert!(e.contains("node 'bye'") && e.contains("not a menu"), "{e}");
    // a self-service that does not exist, a share out of range
    let e = error("[ivr.service.roaming]\nsuccess = 0.5");
    assert!(e.contains("service.roaming") && e.contains("bill"), "{e}");
    let e = error("mistake = 1.5");
    assert!(e.contains("field 'mistake'"), "{e}");
    // a flow whose prompt plays a negative time
    let flow = std::fs::read_to_string(fixture()).unwrap().replace(
        "seconds = { zh = 4, en = 4 }",
        "seconds = { zh = -4, en = 4 }",
    );
    let flow_path = dir.join("negative.toml");
    std::fs::write(&flow_path, flow).unwrap();
    let mut s = scenario(0.5, 0.5);
    s.ivr.as_mut().unwrap().flow_path = Some(flow_path.clone());
    let e = s.compile().unwrap_err().to_string();
    assert!(
        e.contains("negative.toml")
            && e.contains("node 'bill'")
            && e.contains("success.seconds.zh"),
        "{e}"
    );
    // a flow whose information file is missing
    let flow = std::fs::read_to_string(fixture()).unwrap().replace(
        "[[node]]\nid = \"bye\"",
        "[[node]]\nid = \"tariffs\"\nkind = \"information\"\nsource = \"no-such-info.toml\"\ntopic = \"tariffs\"\nnext = \"bye\"\n\n[[node]]\nid = \"bye\"",
    );
    std::fs::write(&flow_path, flow).unwrap();
    let e = s.compile().unwrap_err().to_string();
    assert!(
        e.contains("negative.toml")
            && e.contains("node 'tariffs'")
            && e.contains("field 'source'")
            && e.contains("no-such-info.toml"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_small_town_day_runs_the_1000_menu_and_compares_the_bill_first_variant() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut s = Scenario::load(&root.join("assets/scenarios/small-town-day.toml")).unwrap();
    s.replications = 3;
    let sc = s.compile().unwrap();
    let mut other = s.clone();
    other.ivr.as_mut().unwrap().flow_path = Some(root.join("assets/ivr/1000-bill-first.toml"));
    let other = other.compile().unwrap();
    let c = run_compare(&sc, &other, &mut |_, _, _| {});
    let ivr = c.first.ivr.as_ref().unwrap();
    // every information answer and every self-service is reached
    for node in [
        "info-tariffs",
        "info-packages",
        "info-promotions",
        "info-shops",
    ] {
        assert!(ivr.routes.iter().any(|r| r.route.contains(node)), "{node}");
    }
    for service in [
        "bill",
        "fault-report",
        "ticket-progress",
        "value-added-signup",
    ] {
        assert!(ivr.services.iter().any(|r| r.name == service), "{service}");
    }
    // routes read in the flow's labels, not its ids
    assert!(ivr.routes.iter().any(|r| r.name.contains("话费查询")));
    let contained = ivr.all.containment.unwrap().mean;
    assert!((0.05..0.5).contains(&contained), "{contained}");
    // the same callers: the calls reaching the agents differ by few
    let d = c
        .differences
        .iter()
        .find(|d| d.figure == "calls to agents")
        .unwrap();
    assert!(d.difference.unwrap().mean.abs() < 30.0, "{d:?}");
    assert!(c.agents_needed.0.is_some() && c.agents_needed.1.is_some());
    // each interval has its IVR calls and containment, and they add up to the day's
    let busy = c
        .first
        .intervals
        .iter()
        .filter(|r| r.ivr_calls.is_some())
        .count();
    assert!(busy > 80, "{busy} intervals with IVR calls");
    let per_interval: f64 = c
        .first
        .intervals
        .iter()
        .filter_map(|r| r.ivr_calls.map(|e| e.mean))
        .sum();
    let day = ivr.all.calls.unwrap().mean;
    assert!(
        (per_interval - day).abs() / day < 0.01,
        "{per_interval} against {day}"
    );
    assert!(
        c.first
            .intervals_csv()
            .lines()
            .next()
            .unwrap()
            .ends_with("ivr_containment_ci95")
    );
    assert!(c.to_text().contains("agents needed"));
}

#[test]
fn replications_on_several_threads_give_the_figures_of_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut s = Scenario::load(&root.join("assets/scenarios/small-town-day.toml")).unwrap();
    s.replications = 5;
    let mut sc = s.compile().unwrap();
    let figures = |sc: &hotline_sim::Compiled, progress: &mut dyn FnMut(u32, u64)| {
        let mut v = serde_json::to_value(run(sc, progress)).unwrap();
        let m = v.as_object_mut().unwrap();
        m.remove("wall_seconds");
        m.remove("calls_per_second");
        v
    };
    let one = figures(&sc, &mut |_, _| {});
    sc.threads = 3;
    let mut seen = Vec::new();
    let three = figures(&sc, &mut |done, _| seen.push(done));
    assert_eq!(one, three);
    assert_eq!(seen.last(), Some(&5));
}
