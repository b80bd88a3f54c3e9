//! `/metrics` read as Prometheus reads it: the text `hotline serve` serves parses with
//! the Prometheus project's own parser, and its counters agree with the supervisors'
//! stream.

use super::outside::Served;
use super::routing::{agent_on, call_in};
use super::*;
use pb::agent_command::Command as C;
use pb::call_event::Event as CE;
use std::process::{Command, Stdio};

/// `GET path` over plain HTTP/1.1; the body.
async fn http_get(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).await.unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("application/openmetrics-text"),
        "{head}"
    );
    body.to_string()
}

/// Python with the Prometheus client (.ci/run installs it); None when absent on a
/// developer's machine.
fn python_with_prometheus() -> Option<&'static str> {
    let ok = Command::new("python3")
        .args(["-c", "import prometheus_client.openmetrics.parser"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have python3 with prometheus-client (see .ci/run)"
        );
    }
    ok.then_some("python3")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_and_agree_with_the_supervisor_stream() {
    use hotline_proto::v1::supervisor_service_client::SupervisorServiceClient;
    let served = Served::start_with("metrics", "metrics_listen = \"127.0.0.1:0\"\n");
    let ch = channel(&served.url).await;
    // two calls answered and wrapped up, one abandoned
    let mut desk = agent_on(&ch, "1001").await;
    desk.done(1, C::Ready(true)).await;
    for n in 0..2u64 {
        super::history::answered(&ch, &mut desk, n, "inquiry.general").await;
    }
    desk.done(30, C::NotReady(16)).await;
    let (_, ctx, mut call) = call_in(&ch, "18955551234", "1").await;
    until(&mut call, |e| matches!(e.event, Some(CE::Queued(_)))).await;
    drop(ctx);
    // the records are written and the second's tick has counted the sessions
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let addr = served
        .printed()
        .iter()
        .find_map(|l| l.strip_prefix("metrics on http://").map(str::to_string))
        .expect("the router says where /metrics is")
        .trim_end_matches("/metrics")
        .to_string();
    let text = http_get(&addr, "/metrics").await;
    assert!(text.ends_with("# EOF\n"), "{text}");
    // the supervisors' stream's first snapshot
    let boss = super::outside::token(&ch, "2001", "supervisor 2001 pw").await;
    let mut stats = SupervisorServiceClient::new(ch.clone())
        .watch_stats(authed(pb::WatchStatsRequest { queues: vec![] }, &boss))
        .await
        .unwrap()
        .into_inner();
    let first = stats.message().await.unwrap().unwrap();
    let inquiry = first
        .queues
        .iter()
        .find(|q| q.queue == "inquiry")
        .unwrap()
        .clone();
    assert_eq!(
        (inquiry.offered, inquiry.answered, inquiry.abandoned),
        (3, 2, 1)
    );
    let Some(python) = python_with_prometheus() else {
        eprintln!("skipped the parse: no python3 with prometheus-client here");
        return;
    };
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/parse_metrics.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the parser refused it: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sample = |name: &str, labels: &[(&str, &str)]| -> f64 {
        parsed["samples"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][*k] == *v))
            .unwrap_or_else(|| panic!("no {name} {labels:?} in {text}"))["value"]
            .as_f64()
            .unwrap()
    };
    let q = [("queue", "inquiry")];
    assert_eq!(
        sample("hotline_queue_offered_total", &q),
        inquiry.offered as f64
    );
    assert_eq!(
        sample("hotline_queue_answered_total", &q),
        inquiry.answered as f64
    );
    assert_eq!(
        sample("hotline_queue_abandoned_total", &q),
        inquiry.abandoned as f64
    );
    assert_eq!(
        sample("hotline_queue_waiting", &q),
        f64::from(inquiry.waiting)
    );
    assert_eq!(parsed["types"]["hotline_queue_offered"], "counter");
    assert_eq!(parsed["types"]["hotline_call_wait_seconds"], "histogram");
    // the two answered calls' waits, and the three calls ended
    assert_eq!(sample("hotline_call_wait_seconds_count", &q), 2.0);
    assert_eq!(
        sample("hotline_calls_ended_total", &[("end", "completed")]),
        2.0
    );
    assert_eq!(
        sample("hotline_calls_ended_total", &[("end", "abandoned")]),
        1.0
    );
    assert_eq!(
        sample(
            "hotline_queue_agents",
            &[("queue", "inquiry"), ("state", "not_ready")]
        ),
        1.0,
        "1001 is not ready"
    );
    assert_eq!(sample("hotline_agent_sessions", &[]), 1.0);
    assert_eq!(sample("hotline_store_up", &[]), 1.0);
    assert!(sample("hotline_record_write_seconds_count", &[]) >= 3.0);
    // every series the example Grafana dashboard asks for is one the router serves
    let dashboard = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/grafana-hotline.json"),
    )
    .unwrap();
    let served: Vec<&str> = parsed["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    let mut asked = 0;
    for (at, _) in dashboard.match_indices("hotline_") {
        let name: String = dashboard[at..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        asked += 1;
        assert!(
            served.contains(&name.as_str()),
            "the dashboard asks for {name}, not served"
        );
    }
    assert!(asked >= 10, "{asked}");
}
