//! End-to-end: the `hotline` binary as scripts call it, from a second process.
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use serde_json::Value;
use std::process::Command;

// the store's test engines (a PostgreSQL database of a test's own)
#[path = "../crates/store/tests/engines/mod.rs"]
mod engines;

fn hotline(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run hotline");
    // a process killed by a signal reports 128 + the signal, as a shell would, so a
    // failure says which signal (a demo once ended by a signal in CI: -1 said nothing)
    use std::os::unix::process::ExitStatusExt;
    (
        out.status
            .code()
            .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0)),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> Value {
    let (code, out, err) = hotline(args);
    assert_eq!(code, 0, "hotline {args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64()
        .unwrap_or_else(|| panic!("{k} missing in {v}"))
}

#[test]
fn erlang_predicts_with_the_keys_scripts_use() {
    let v = json(&[
        "erlang",
        "--calls-per-hour",
        "7200",
        "--aht",
        "240",
        "--agents",
        "500",
        "--sl-seconds",
        "20",
        "--patience",
        "120",
        "--json",
    ]);
    for k in [
        "p_wait",
        "service_level",
        "asa_seconds",
        "p_abandon",
        "occupancy",
    ] {
        let x = f(&v, k);
        assert!(x.is_finite() && x >= 0.0, "{k} = {x}");
    }
    let lib = hotline_erlang::predict(
        &hotline_erlang::Traffic::per_hour(7200.0, 240.0, Some(120.0)).unwrap(),
        500,
        20.0,
    )
    .unwrap();
    // JSON's decimal round trip may move the last bit
    assert!((f(&v, "service_level") - lib.service_level).abs() < 1e-12);
    assert!((f(&v, "p_abandon") - lib.p_abandon).abs() < 1e-12);
    assert_eq!(v["model"], "erlang-a");
}

#[test]
fn erlang_staffs_for_a_target_and_shows_the_table_around_it() {
    let v = json(&[
        "erlang",
        "--calls-per-hour",
        "200",
        "--aht",
        "180",
        "--sl-target",
        "80",
        "--json",
    ]);
    assert_eq!(v["agents"], 14);
    let table = v["table"].as_array().unwrap();
    let row = |n: u64| table.iter().find(|r| r["agents"] == n).unwrap();
    assert!(f(row(14), "service_level") >= 0.8);
    assert!(f(row(13), "service_level") < 0.8);
    let (code, out, _) = hotline(&[
        "erlang",
        "--calls-per-hour",
        "200",
        "--aht",
        "180",
        "--sl-target",
        "80",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("14 agents is the fewest"), "{out}");
}

#[test]
fn sim_of_the_erlang_model_prints_estimates_with_their_intervals() {
    let args = [
        "sim",
        "--calls-per-hour",
        "900",
        "--aht",
        "240",
        "--agents",
        "65",
        "--sl-seconds",
        "20",
        "--patience",
        "120",
        "--calls",
        "20000",
        "--seed",
        "5",
        "--replications",
        "6",
        "--short-abandon-seconds",
        "0",
        "--json",
    ];
    let v = json(&args);
    for k in [
        "p_wait",
        "service_level",
        "asa_seconds",
        "p_abandon",
        "occupancy",
    ] {
        let mean = f(&v, k);
        let ci = v["ci95"][k]
            .as_f64()
            .unwrap_or_else(|| panic!("ci95.{k} missing"));
        assert!(
            mean.is_finite() && ci.is_finite() && ci >= 0.0,
            "{k}: {mean} ± {ci}"
        );
        // the formula is printed beside it; the estimate is close (a loose band here:
        // the 95 % comparison itself is the erlang_agreement test's job)
        let formula = f(&v["erlang"], k);
        assert!(
            (mean - formula).abs() <= 4.0 * ci + 1e-3,
            "{k}: {mean} ± {ci} vs {formula}"
        );
    }
    assert!(f(&v, "calls_per_second") > 0.0);
    assert_eq!(v["replications"], 6);
    // deterministic for a seed: the same figures again
    let w = json(&args);
    assert_eq!(v["service_level"], w["service_level"]);
    assert_eq!(v["ci95"], w["ci95"]);
}

#[test]
fn sim_runs_the_example_scenarios_with_intervals_and_csv() {
    let csv = std::env::temp_dir().join(format!("hotline-cli-{}.csv", std::process::id()));
    let v = json(&[
        "sim",
        "assets/scenarios/small-town-day.toml",
        "--replications",
        "3",
        "--json",
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(v["queues"].as_array().unwrap().len(), 5);
    assert_eq!(
        v["intervals"].as_array().unwrap().len(),
        96,
        "a day of 15-minute intervals"
    );
    assert!(f(&v, "service_level") > 0.5);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("start,end,offered,service_level"));
    assert_eq!(text.lines().count(), 97);
    assert!(text.lines().any(|l| l.starts_with("10:00,10:15,")));
    std::fs::remove_file(csv).ok();
    let (code, out, _) = hotline(&[
        "sim",
        "assets/scenarios/big-city-peak-hour.toml",
        "--replications",
        "2",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("green channel 大客户") && out.contains("service level"),
        "{out}"
    );
}

#[test]
fn bad_input_gets_a_clear_message_and_a_failing_exit() {
    let (code, _, err) = hotline(&[
        "erlang",
        "--calls-per-hour",
        "100",
        "--aht",
        "-3",
        "--agents",
        "5",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("average handle time must be a positive"),
        "{err}"
    );
    let (code, _, err) = hotline(&["sim", "assets/scenarios/no-such-file.toml"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot read scenario") && err.contains("no-such-file.toml"),
        "{err}"
    );
    let (code, _, err) = hotline(&["sim", "--calls-per-hour", "100", "--aht", "60"]);
    assert_eq!(code, 2);
    assert!(err.contains("--agents"), "{err}");
    let (code, _, err) = hotline(&[
        "erlang",
        "--calls-per-hour",
        "100",
        "--aht",
        "60",
        "--abandon-target",
        "5",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--patience"), "{err}");
}

#[test]
fn benchmarks_run_small_and_print_json() {
    let v = json(&[
        "bench",
        "sim",
        "--calls",
        "20000",
        "--agents",
        "50",
        "--erlangs",
        "45",
        "--json",
    ]);
    assert!(f(&v, "calls_per_second") > 0.0 && f(&v, "calls_simulated") >= 20000.0);
    let v = json(&[
        "bench",
        "decide",
        "--agents",
        "100",
        "--waiting",
        "200",
        "--decisions",
        "2000",
        "--json",
    ]);
    let row = &v["decisions"][0];
    assert!(f(row, "agent_frees_p50_us") > 0.0 && f(row, "call_arrives_p99_us") > 0.0);
}

fn temp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("hotline-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A store path that is a file, a directory of other things, or nothing at all is named
/// as such, and nothing is written there.
#[test]
fn a_path_that_is_not_a_store_is_named_and_left_alone() {
    let missing = temp("no-store");
    let (code, _, err) = hotline(&["store", "check", "--store", missing.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("there is no store in"), "{err}");
    assert!(!missing.exists(), "check made a store where there was none");

    let foreign = temp("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "not a store").unwrap();
    for cmd in [
        vec!["store", "check", "--store"],
        vec!["seed", "--customers", "10", "--store"],
    ] {
        let mut args = cmd.clone();
        args.push(foreign.to_str().unwrap());
        let (code, _, err) = hotline(&args);
        assert_ne!(code, 0, "{cmd:?}");
        assert!(
            err.contains("holds other files and no store"),
            "{cmd:?}: {err}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(&foreign).unwrap().collect();
    assert_eq!(left.len(), 1, "only the user's own file is there");

    let file = foreign.join("notes.txt");
    let (code, _, err) = hotline(&[
        "store",
        "export",
        "--store",
        file.to_str().unwrap(),
        "--kind",
        "customers",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("is a file, not a store directory"), "{err}");
    std::fs::remove_dir_all(foreign).ok();
}

#[test]
fn the_store_is_seeded_checked_exported_imported_and_backed_up_from_the_command_line() {
    let dir = temp("store");
    let d = dir.to_str().unwrap();
    let v = json(&[
        "seed",
        "--customers",
        "2000",
        "--seed",
        "3",
        "--store",
        d,
        "--json",
    ]);
    assert_eq!(v["customers"], 2000);
    assert!(f(&v, "key_account_revenue_share") > 0.6);
    // seeding twice into the same store is refused
    let (code, _, err) = hotline(&["seed", "--customers", "10", "--store", d]);
    assert_eq!(code, 2);
    assert!(err.contains("already holds customers"), "{err}");
    let v = json(&["store", "check", "--store", d, "--json"]);
    assert_eq!(v["customers"], 2000);
    assert_eq!(v["missing"], 0);
    assert_eq!(v["stale"], 0);

    let csv = dir.with_extension("csv");
    let (code, _, err) = hotline(&[
        "store",
        "export",
        "--store",
        d,
        "--kind",
        "customers",
        "--csv",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 2001);
    let other = temp("store-copy");
    let o = other.to_str().unwrap();
    let (code, out, err) = hotline(&[
        "store",
        "import",
        "--store",
        o,
        "--kind",
        "customers",
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2000 records imported"), "{out}");
    let (code, _, err) = hotline(&[
        "store",
        "import",
        "--store",
        o,
        "--kind",
        "tickets",
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("CSV is for customers"), "{err}");

    let backup = temp("backup");
    let (code, out, err) = hotline(&[
        "store",
        "backup",
        "--store",
        d,
        "--to",
        backup.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Customers"), "{out}");
    let restored = temp("restored");
    let (code, _, err) = hotline(&[
        "store",
        "restore",
        "--store",
        restored.to_str().unwrap(),
        "--from",
        backup.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let v = json(&[
        "store",
        "check",
        "--store",
        restored.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(v["customers"], 2000);
    assert!(f(&v, "interactions") > 1000.0);
    for p in [dir, other, backup, restored] {
        std::fs::remove_dir_all(p).ok();
    }
    std::fs::remove_file(csv).ok();
}

#[test]
fn the_store_benchmark_runs_small() {
    let v = json(&[
        "bench",
        "store",
        "--customers",
        "3000",
        "--reads",
        "2000",
        "--writers",
        "4",
        "--write-seconds",
        "0.3",
        "--json",
    ]);
    for k in [
        "screen_pop_p50_us",
        "screen_pop_p99_us",
        "durable_writes_per_s",
        "reference_fsyncs_per_s",
        "peak_rss_mb",
        "bytes_per_customer",
        "reopen_ms",
    ] {
        assert!(f(&v, k) > 0.0, "{k} in {v}");
    }
    assert_eq!(
        v["screen_pops_found"], 2000,
        "every screen pop found its customer"
    );
}

#[test]
fn the_router_starts_names_its_address_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let dir = temp("serve");
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args([
            "store",
            "add-agent",
            "--store",
            dir.to_str().unwrap(),
            "--id",
            "1001",
            "--name",
            "王小明",
            "--skill",
            "inquiry=7",
        ])
        .env("HOTLINE_AGENT_PASSWORD", "correct horse")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--store",
            dir.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.starts_with("hotline router listening on 127.0.0.1:"),
        "{first}"
    );
    assert!(first.contains("1 agent accounts, 6 queues"), "{first}");
    let addr = first.split_whitespace().nth(4).unwrap().to_string();
    assert!(
        std::net::TcpStream::connect(&addr).is_ok(),
        "nothing listens on {addr}"
    );
    #[cfg(unix)]
    // SAFETY: a plain kill(2) of our own child's pid
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        rest.last().map(String::as_str),
        Some("stopped cleanly"),
        "{rest:?}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_broken_router_configuration_is_named() {
    let dir = temp("badconf");
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("router.toml");
    let store = dir.join("s");
    let serve = || {
        hotline(&[
            "serve",
            "--config",
            conf.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ])
    };
    std::fs::write(
        &conf,
        "[[queue]]\nname = \"inquiry\"\nskill = \"inquiry\"\nmin_level = 0\n",
    )
    .unwrap();
    let (code, _, err) = serve();
    assert_eq!(code, 2);
    assert!(
        err.contains("queue 'inquiry'") && err.contains("min_level"),
        "{err}"
    );
    // a flow that sends callers to a queue the router does not have
    std::fs::write(
        &conf,
        "[[queue]]\nname = \"inquiry\"\nskill = \"inquiry\"\n",
    )
    .unwrap();
    let (code, _, err) = serve();
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "built-in 1000 flow: node 'fault-queue', field 'queue': 'fault' is not a queue"
        ),
        "{err}"
    );
    // TLS files that are not there
    std::fs::write(&conf, "[tls]\ncert = \"nope.pem\"\nkey = \"nope.key\"\n").unwrap();
    let (code, _, err) = serve();
    assert_eq!(code, 2);
    assert!(
        err.contains("reading the TLS certificate nope.pem"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_demo_runs_traffic_through_the_router_and_every_call_gets_one_record() {
    let dir = temp("demo");
    // the demo's calls are those that arrive from now on (the seeded history is older)
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let (code, out, err) = hotline(&[
        "demo",
        "--no-desktop",
        "--store",
        dir.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--seconds",
        "12",
        "--calls-per-hour",
        "7200",
        "--customers",
        "500",
        "--bots",
        "6",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("first start: seeding 500 demo customers"),
        "{out}"
    );
    let last = out.lines().last().unwrap_or_default();
    assert!(last.starts_with("stopped cleanly:"), "{out}");
    // "stopped cleanly: P calls placed, A answered, …"
    let words: Vec<&str> = last.split_whitespace().collect();
    let placed: u64 = words[2].parse().unwrap();
    let answered: u64 = words[5].parse().unwrap();
    assert_eq!(words[6], "answered,", "{last}");
    assert!(placed >= 5, "{out}");
    assert!(answered > 0, "the bots answered nothing: {out}");
    // the store holds one record per call placed, and its indexes are clean
    let v = json(&["store", "check", "--store", dir.to_str().unwrap(), "--json"]);
    assert_eq!(v["missing"], 0);
    let (_, lines, _) = hotline(&[
        "store",
        "export",
        "--store",
        dir.to_str().unwrap(),
        "--kind",
        "interactions",
    ]);
    let live: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["dialled"] == "1000" && r["arrived"].as_u64().unwrap() >= started)
        .collect();
    let mut ids: Vec<u64> = live
        .iter()
        .map(|r| r["call_id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len() as u64, placed, "one record per call");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_route_benchmark_logs_agents_in_over_grpc_and_times_offers() {
    let v = json(&[
        "bench",
        "route",
        "--agents",
        "20",
        "--calls-per-second",
        "20",
        "--seconds",
        "1",
        "--restart",
        "--json",
    ]);
    assert_eq!(f(&v, "agents"), 20.0);
    // the summary follows from the step: within 5 ms here, so nothing went over
    let within = v["p99_within_5ms_up_to_calls_per_second"].as_f64();
    let over = v["p99_over_5ms_first_at_calls_per_second"].as_f64();
    if f(&v, "offer_p99_ms") <= 5.0 {
        assert_eq!((within, over), (Some(20.0), None), "{v}");
    } else {
        assert_eq!((within, over), (None, Some(20.0)), "{v}");
    }
    // every agent came back after the router restarted, by token
    assert!(f(&v, "restart_seconds") > 0.0, "{v}");
    // every dialled call of the second reached an agent (20, give or take the tick edges)
    let calls = f(&v, "calls");
    assert!((18.0..=22.0).contains(&calls), "{v}");
    let (p50, p99, max) = (
        f(&v, "offer_p50_ms"),
        f(&v, "offer_p99_ms"),
        f(&v, "offer_max_ms"),
    );
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{v}");
    assert!(f(&v, "router_rss_mb") > 0.0, "{v}");
}

/// A store moves from sled to PostgreSQL and back, checked on the way; PostgreSQL
/// addresses that cannot work are refused in words that name what and where, and never
/// print the password.
#[test]
fn a_store_is_copied_between_engines_and_bad_addresses_are_named() {
    let dir = std::env::temp_dir().join(format!("hotline-cli-copy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (sled_a, sled_b) = (dir.join("a"), dir.join("b"));
    let (a, b) = (sled_a.to_str().unwrap(), sled_b.to_str().unwrap());
    let (code, _, err) = hotline(&["seed", "--customers", "300", "--store", a]);
    assert_eq!(code, 0, "{err}");
    let db = engines::postgres_database("cli_copy");
    let (code, out, err) = hotline(&[
        "store",
        "copy",
        "--from",
        &format!("sled:{a}"),
        "--to",
        &db.url,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("copied 300 customers"), "{out}");
    assert!(out.contains("is clean"), "{out}");
    let (code, out, err) = hotline(&["store", "copy", "--from", &db.url, "--to", b]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("copied 300 customers"), "{out}");
    let v = json(&["store", "check", "--store", b, "--json"]);
    assert_eq!(v["customers"], 300);
    // the history came along both ways: the same interval report from the copy
    let report = |store: &str| {
        let mut v = json(&[
            "report",
            "intervals",
            "--store",
            store,
            "--from",
            "2026-07-01",
            "--to",
            "2026-11-02",
            "--minutes",
            "60",
            "--json",
        ]);
        v["totals"].take()
    };
    let (here, there) = (report(a), report(b));
    assert!(here.as_array().is_some_and(|t| !t.is_empty()), "{here}");
    assert_eq!(here, there);
    let (code, out, _) = hotline(&["store", "migrate", "--store", &db.url]);
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!("schema version {}", hotline_store::SCHEMA_VERSION)),
        "{out}"
    );

    // refused: nothing listens there (the password stays out of the message)
    let (code, _, err) = hotline(&[
        "store",
        "check",
        "--store",
        "postgres://hotline:s3cret-pw@127.0.0.1:1/hotline",
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("unavailable") && err.contains("127.0.0.1:1"),
        "{err}"
    );
    assert!(!err.contains("s3cret-pw"), "{err}");
    // not an address
    let (code, _, err) = hotline(&[
        "store",
        "check",
        "--store",
        "postgres://postgres@127.0.0.1/x?sslmode=sometimes",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("is not a PostgreSQL address"), "{err}");
    // a database that does not exist
    let missing = hotline_store::database_url(&engines::server_url(), "hotline_no_such_db");
    let (code, _, err) = hotline(&["store", "check", "--store", &missing]);
    assert_ne!(code, 0);
    assert!(
        err.contains("hotline_no_such_db") && err.contains("does not exist"),
        "{err}"
    );
    // a store written by a newer hotline
    let out = Command::new("psql")
        .args([
            db.url.as_str(),
            "-qAtXc",
            "INSERT INTO hotline_schema (version) VALUES (99)",
        ])
        .output()
        .expect("psql");
    assert!(out.status.success(), "{out:?}");
    let (code, _, err) = hotline(&["store", "check", "--store", &db.url]);
    assert_ne!(code, 0);
    assert!(
        err.contains("schema version 99") && err.contains("newer"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).ok();
}

/// The queue interval report over kept intervals: a row per interval per queue, each
/// queue's totals the sum of its rows (SL, ASA and AHT from the summed counters), as
/// JSON and CSV; a period ending before it starts, one of ten years and an unknown
/// queue are refused in words with exit 2.
#[test]
fn the_interval_report_adds_up_its_intervals_and_refuses_a_bad_period() {
    use hotline_acd::Span;
    use hotline_acd::kpi::{ServiceLevelFormula, Tally};
    use hotline_store::{Catalog, IntervalFigures, IntervalRecord, Store};
    let dir = temp("report");
    // 2026-12-01 08:00 and 08:15 in Beijing (UTC+8)
    let t0: u64 = 1_796_083_200_000;
    let quarter = 15 * 60_000;
    let interval = |start: u64, queue: &str, offered: u64, within: u64| IntervalRecord {
        start,
        end: start + quarter,
        figures: IntervalFigures::Queue {
            queue: queue.into(),
            tally: Tally {
                offered,
                answered: offered - 1,
                answered_within_threshold: within,
                abandoned: 1,
                wait_of_answered: Span::from_secs(10 * (offered - 1)),
                longest_wait: Span::from_secs(40),
                handled: offered - 1,
                talk: Span::from_secs(100 * (offered - 1)),
                ..Tally::default()
            },
            busy_ms: 0,
            staffed_ms: 0,
            waiting_at_end: 0,
            formula: ServiceLevelFormula::default(),
            sl_seconds: 20,
        },
    };
    {
        let s = Store::open(&dir, Catalog::builtin()).unwrap();
        for r in [
            interval(t0, "inquiry", 11, 8),
            interval(t0, "fault", 5, 4),
            interval(t0 + quarter, "inquiry", 21, 18),
        ] {
            s.record_interval(r).unwrap();
        }
        // the fault queue's 08:15 interval in two parts: a router stopped at 08:22 and
        // started again at 08:23
        let mut before = interval(t0 + quarter, "fault", 3, 2);
        before.end = t0 + quarter + 7 * 60_000;
        let mut after = interval(t0 + quarter + 8 * 60_000, "fault", 2, 2);
        after.end = t0 + 2 * quarter;
        s.record_interval(before).unwrap();
        s.record_interval(after).unwrap();
        // agent 1001's two quarters
        for (k, offers) in [(0, 6u64), (1, 4)] {
            let mut tally = hotline_acd::stats::AgentTally {
                offers,
                answered: offers - 1,
                no_answer: 1,
                handled: offers - 1,
                talk: Span::from_secs(60 * (offers - 1)),
                wrap_up: Span::from_secs(20 * (offers - 1)),
                ..Default::default()
            };
            // 10 busy minutes of 15 staffed: connected 600 s, ready 300 s
            tally.time_in_state[hotline_acd::AgentStateKind::Connected.index()] =
                Span::from_secs(600);
            tally.time_in_state[hotline_acd::AgentStateKind::Ready.index()] = Span::from_secs(300);
            s.record_interval(IntervalRecord {
                start: t0 + k * quarter,
                end: t0 + (k + 1) * quarter,
                figures: IntervalFigures::Agent {
                    agent: "1001".into(),
                    tally,
                },
            })
            .unwrap();
        }
        s.flush().unwrap();
    }
    let d = dir.to_str().unwrap();
    let v = json(&[
        "report",
        "intervals",
        "--store",
        d,
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-02",
        "--json",
    ]);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        4,
        "the fault queue's two parts in one row: {rows:?}"
    );
    let split = rows
        .iter()
        .find(|r| r["queue"] == "fault" && r["start"] == "2026-12-01 08:15")
        .unwrap();
    assert_eq!(f(split, "offered"), 5.0);
    // by the hour: one row per queue
    let hourly = json(&[
        "report",
        "intervals",
        "--store",
        d,
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-02",
        "--minutes",
        "60",
        "--json",
    ]);
    let hours = hourly["rows"].as_array().unwrap();
    assert_eq!(hours.len(), 2, "{hours:?}");
    assert!(hours.iter().all(|r| r["start"] == "2026-12-01 08:00"));
    assert_eq!(rows[0]["start"], "2026-12-01 08:00");
    let totals = v["totals"].as_array().unwrap();
    let inquiry = totals.iter().find(|t| t["queue"] == "inquiry").unwrap();
    assert_eq!(f(inquiry, "offered"), 32.0);
    assert_eq!(f(inquiry, "answered"), 30.0);
    // SL = within ÷ (answered + abandoned − short) = 26 ÷ 32, by the summed counters
    assert_eq!(f(inquiry, "service_level"), 81.3);
    assert_eq!(f(inquiry, "asa_seconds"), 10.0);
    assert_eq!(f(inquiry, "aht_seconds"), 100.0);
    // one queue only, as CSV with a header
    let (code, out, err) = hotline(&[
        "report",
        "intervals",
        "--store",
        d,
        "--from",
        "2026-12-01T08:10",
        "--to",
        "2026-12-01T09:00",
        "--queue",
        "inquiry",
        "--csv",
    ]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("start,queue,offered"), "{out}");
    assert_eq!(
        lines.len(),
        3,
        "header, the 08:15 interval, its total: {out}"
    );
    // bad periods and queues: words, exit 2
    for (args, words) in [
        (
            vec!["--from", "2026-12-02", "--to", "2026-12-01"],
            "before it starts",
        ),
        (
            vec!["--from", "2016-12-01", "--to", "2026-12-01"],
            "at most 366 days",
        ),
        (
            vec!["--from", "yesterday", "--to", "2026-12-01"],
            "is not a date",
        ),
        (
            vec![
                "--from",
                "2026-12-01",
                "--to",
                "2026-12-02",
                "--queue",
                "moon",
            ],
            "no queue 'moon'",
        ),
        (
            vec![
                "--from",
                "2026-12-01",
                "--to",
                "2026-12-02",
                "--target-sl",
                "150",
            ],
            "a service-level target is a share between 0 and 1",
        ),
    ] {
        let mut a = vec!["report", "intervals", "--store", d];
        a.extend(args);
        let (code, _, err) = hotline(&a);
        assert_eq!(code, 2, "{a:?}: {err}");
        assert!(err.contains(words), "{a:?}: {err}");
    }
    // whose contacts: a district no customer lives in is refused with words, exit 2
    let (code, _, err) = hotline(&[
        "report",
        "reasons",
        "--store",
        d,
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-02",
        "--segment",
        "key-account",
        "--district",
        "月球区",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no district '月球区'"), "{err}");
    // the floor: both queues' calls of a quarter against the one agent logged in
    let floor = json(&[
        "report",
        "intervals",
        "--store",
        d,
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-02",
        "--floor",
        "--json",
    ]);
    let quarters = floor["rows"].as_array().unwrap();
    assert_eq!(quarters.len(), 2, "{quarters:?}");
    assert_eq!(f(&quarters[0], "offered"), 16.0);
    assert_eq!(f(&quarters[0], "staffed_agents"), 1.0);
    assert!(f(&quarters[0], "required_agents") >= 1.0, "{quarters:?}");
    // the agents report: the two quarters added up
    let v = json(&[
        "report",
        "agents",
        "--store",
        d,
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-02",
        "--json",
    ]);
    let me = &v["rows"][0];
    assert_eq!(me["agent"], "1001");
    assert_eq!(
        (f(me, "offers"), f(me, "answered"), f(me, "no_answer")),
        (10.0, 8.0, 2.0)
    );
    assert_eq!(f(me, "aht_seconds"), 80.0, "(60 + 20) s a leg");
    assert_eq!(f(me, "occupancy"), 66.7, "1,200 s busy of 1,800 staffed");
    let (code, _, err) = hotline(&[
        "report",
        "agents",
        "--store",
        d,
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-02",
        "--agent",
        "9999",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no agent '9999'"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `hotline cluster status` from a second process shows the partition a router holds:
/// its owner, epoch and the length of its input log (a NATS server of the test's own).
#[test]
fn cluster_status_shows_each_partition_its_owner_and_its_log() {
    use hotline_cluster::{InputLog, Leases, local::LocalNats};
    let nats = LocalNats::start().unwrap();
    let url = nats.url();
    let (empty, _) = {
        let (code, out, err) = hotline(&["cluster", "status", "--nats", &url]);
        assert_eq!(code, 0, "{err}");
        (out, err)
    };
    assert!(empty.contains("no partition"), "{empty}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (epoch, _lease, _writer) = rt.block_on(async {
        let js = hotline_cluster::connect(&url).await.unwrap();
        let leases = Leases::open(&js, "hotline-leases", std::time::Duration::from_secs(30), 1)
            .await
            .unwrap();
        let log = InputLog::open(&js, "HOTLINE_LOG", 1, std::time::Duration::from_secs(60))
            .await
            .unwrap();
        let lease = leases.acquire("centre-a", "router-1").await.unwrap();
        let mut w = log.take_over("centre-a", lease.epoch()).await.unwrap();
        w.append("1", bytes::Bytes::from_static(b"x"))
            .await
            .unwrap();
        // a standby that has applied the first entry of two
        let progress = hotline_cluster::Progress::open(
            &js,
            "hotline-standbys",
            std::time::Duration::from_secs(30),
            1,
        )
        .await
        .unwrap();
        progress.report("centre-a", "router-2", 1).await.unwrap();
        (lease.epoch(), lease, w)
    });
    let v = json(&["cluster", "status", "--nats", &url, "--json"]);
    let p = &v["partitions"][0];
    assert_eq!(p["partition"], "centre-a");
    assert_eq!(p["owner"], "router-1");
    assert_eq!(p["epoch"].as_u64(), Some(epoch));
    assert_eq!(p["log_last"].as_u64(), Some(2), "{v}");
    assert!(p["lapses_in_ms"].as_u64().unwrap() > 20_000, "{v}");
    assert_eq!(p["standbys"][0]["router"], "router-2");
    assert_eq!(p["standbys"][0]["lag"].as_u64(), Some(1), "{v}");
    let (code, text, _) = hotline(&["cluster", "status", "--nats", &url]);
    assert_eq!(code, 0);
    assert!(
        text.contains("centre-a") && text.contains("router-1") && text.contains("router-2 (1)"),
        "{text}"
    );
}
