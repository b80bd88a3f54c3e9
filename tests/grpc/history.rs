//! History that lasts: the router keeps every closed statistics interval of each queue
//! and each agent in the store, once, and checkpoints the one in progress. Here
//! intervals are a second long, or `hotline serve`'s own is restarted and killed;
//! known calls go through a real router over gRPC and the kept intervals, the reports
//! over them on the command line and over `ReportService` add up to exactly them.

use super::routing::{agent_on, call_in};
use super::*;
use hotline_acd::kpi::Tally;
use pb::agent_command::Command as C;
use pb::call_event::Event as CE;

/// Kept intervals of queue `name` in [from, to), summed.
fn queue_sum(up: &Up, from: u64, to: u64, name: &str) -> (Tally, usize) {
    let mut sum = Tally::default();
    let mut n = 0;
    for r in up.store.intervals(from, to, 10_000).unwrap() {
        if let IntervalFigures::Queue { queue, tally, .. } = &r.figures {
            if queue == name {
                sum.merge(tally);
                n += 1;
            }
        }
    }
    (sum, n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_closed_interval_is_kept_once_and_adds_up_to_the_calls() {
    let up = up().await;
    let ch = channel(&up.url).await;
    let from = hotline_store::Millis::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
        - 1_000;
    let mut desk = agent_on(&ch, "1001").await;
    desk.done(1, C::Ready(true)).await;
    // two inquiry calls answered, one that hangs up waiting
    for n in 0..2u64 {
        answered(&ch, &mut desk, n, "inquiry.general").await;
    }
    desk.done(30, C::NotReady(16)).await;
    let (_, ctx, mut call) = call_in(&ch, "18955551234", "1").await;
    until(&mut call, |e| matches!(e.event, Some(CE::Queued(_)))).await;
    drop(ctx); // the caller gives up
    // the intervals these calls fell in close within a second; give the writes a moment
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let to = from + 60_000;
    let (inquiry, n) = queue_sum(&up, from, to, "inquiry");
    assert!(n >= 2, "one interval a second: {n}");
    assert_eq!(
        (inquiry.offered, inquiry.answered, inquiry.abandoned),
        (3, 2, 1),
        "{inquiry:?}"
    );
    let (fault, _) = queue_sum(&up, from, to, "fault");
    assert_eq!(fault.offered, 0);
    // the agent's own intervals: two offers answered, two legs handled
    let mut answered = 0;
    let mut handled = 0;
    let kept = up.store.intervals(from, to, 10_000).unwrap();
    for r in &kept {
        if let IntervalFigures::Agent { agent, tally } = &r.figures {
            if agent == "1001" {
                answered += tally.answered;
                handled += tally.handled;
            }
        }
    }
    assert_eq!((answered, handled), (2, 2));
    // each interval once
    let mut keys: Vec<(u64, u8, String)> = kept
        .iter()
        .map(|r| {
            let (k, name) = r.subject();
            (r.start, k, name.to_string())
        })
        .collect();
    let all = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), all, "an interval kept twice");
    // ending on the second, at most a second long (the router's first one starts when
    // it did)
    assert!(
        kept.iter()
            .all(|r| r.end % 1_000 == 0 && r.end > r.start && r.end - r.start <= 1_000)
    );
    // the same history through ReportService, as a supervisor: what hotline_report
    // makes of the store, page by page
    reports_over_grpc_are_the_store_reports(&up, &ch, from, to).await;
}

/// ReportService gives a supervisor the reports `hotline_report` makes of the store (the
/// rows `hotline report --json` prints), refuses an agent, and refuses a bad period or an
/// unknown queue with words.
async fn reports_over_grpc_are_the_store_reports(up: &Up, ch: &Channel, from: u64, to: u64) {
    use hotline_proto::v1::report_service_client::ReportServiceClient;
    use hotline_report::{self as report, Period};
    use tokio_stream::StreamExt;
    let boss = super::outside::token(ch, "2001", "supervisor 2001 pw").await;
    let agent = super::outside::token(ch, "1001", "correct horse 1001").await;
    let mut rs = ReportServiceClient::new(ch.clone());
    let period = Some(pb::ReportPeriod {
        from: hotline_router::convert::ts(from),
        to: hotline_router::convert::ts(to),
    });
    let ask = |queues: Vec<String>| pb::IntervalReportRequest {
        period,
        queues,
        minutes: 15,
        page_size: 1,
        target_service_level: None,
    };
    let pages: Vec<pb::IntervalReportPage> = rs
        .interval_report(authed(ask(vec![]), &boss))
        .await
        .unwrap()
        .into_inner()
        .map(Result::unwrap)
        .collect()
        .await;
    let mine = report::intervals(&up.store, Period::new(from, to).unwrap(), &[], 15, 0.8).unwrap();
    assert_eq!(pages.len(), mine.rows.len().max(1), "a row a page");
    assert!(pages.last().unwrap().last);
    let totals = &pages.last().unwrap().totals;
    assert_eq!(totals.len(), mine.totals.len());
    let inquiry = totals.iter().find(|t| t.queue == "inquiry").unwrap();
    let want = mine.totals.iter().find(|t| t.queue == "inquiry").unwrap();
    assert_eq!(
        (inquiry.offered, inquiry.answered, inquiry.abandoned),
        (want.offered, want.answered, want.abandoned)
    );
    assert_eq!(
        (inquiry.offered, inquiry.answered, inquiry.abandoned),
        (3, 2, 1)
    );
    assert_eq!(inquiry.service_level, want.service_level);
    assert_eq!(inquiry.asa_seconds, want.asa_seconds);
    // the agents the queue had and needed, and the floor's, as the store report says
    assert_eq!(
        (inquiry.staffed_agents, inquiry.required_agents),
        (want.staffed_agents, want.required_agents)
    );
    assert!(
        inquiry.staffed_agents.is_some_and(|n| n > 0.0),
        "{inquiry:?}"
    );
    let floor = &pages.last().unwrap().floor;
    assert_eq!(floor.len(), mine.floor.len());
    assert!(!floor.is_empty());
    assert_eq!(
        floor.iter().map(|f| f.offered).sum::<u64>(),
        mine.floor.iter().map(|f| f.offered).sum::<u64>()
    );
    // the IVR's intervals: the three inquiry calls left it for the queue by key 1
    let ivr = &pages.last().unwrap().ivr;
    assert_eq!(ivr.len(), mine.ivr.len());
    let to_inquiry: u64 = ivr
        .iter()
        .filter(|r| r.by == "path" && r.key.ends_with("inquiry-queue"))
        .map(|r| r.to_agent)
        .sum();
    assert_eq!(to_inquiry, 3, "{ivr:?}");
    // the agents' appraisal and the reasons, the same figures
    let agents: Vec<pb::AgentReportPage> = rs
        .agent_report(authed(
            pb::AgentReportRequest {
                period,
                agents: vec!["1001".into()],
                page_size: 0,
                teams: vec![],
            },
            &boss,
        ))
        .await
        .unwrap()
        .into_inner()
        .map(Result::unwrap)
        .collect()
        .await;
    let me = &agents[0].rows[0];
    assert_eq!((me.agent.as_str(), me.answered, me.handled), ("1001", 2, 2));
    assert_eq!(me.fcr_handled, 2, "two wrap-ups recorded");
    // by team: 1001 joins 宽带组; that team keeps 1001's row, a team nobody is in is
    // refused
    assert!(me.teams.is_empty(), "{me:?}");
    let mut account = up.store.agent("1001").unwrap().unwrap();
    account.groups.push("宽带组".into());
    up.store.put_hashed_agent(&account).unwrap();
    let by_team = |teams: Vec<String>| pb::AgentReportRequest {
        period,
        teams,
        ..Default::default()
    };
    let mine: Vec<pb::AgentReportPage> = rs
        .agent_report(authed(by_team(vec!["宽带组".into()]), &boss))
        .await
        .unwrap()
        .into_inner()
        .map(Result::unwrap)
        .collect()
        .await;
    let agents: Vec<&str> = mine[0].rows.iter().map(|r| r.agent.as_str()).collect();
    assert_eq!(agents, ["1001"]);
    assert_eq!(mine[0].rows[0].teams, ["宽带组"]);
    let e = rs
        .agent_report(authed(by_team(vec!["月球组".into()]), &boss))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("no team '月球组'"), "{e:?}");
    // the break the agent went on at the end is counted under its reason, in words
    let on_break = me
        .not_ready_by_reason
        .iter()
        .find(|t| t.reason == "break")
        .map_or(0.0, |t| t.seconds);
    assert!(
        on_break > 0.0 && on_break <= me.not_ready_seconds,
        "{:?}",
        me.not_ready_by_reason
    );
    let reasons: Vec<pb::ReasonReportPage> = rs
        .reason_report(authed(
            pb::ReasonReportRequest {
                period,
                reasons: vec![],
                page_size: 0,
                customers: None,
            },
            &boss,
        ))
        .await
        .unwrap()
        .into_inner()
        .map(Result::unwrap)
        .collect()
        .await;
    let general = reasons[0]
        .rows
        .iter()
        .find(|r| r.reason == "inquiry.general")
        .unwrap();
    assert_eq!((general.contacts, general.handled), (2, 2));
    assert_eq!(general.zh, "一般咨询");
    // only key accounts' contacts: the caller is a public customer, so none; a district
    // no customer lives in is refused
    let only = |customers| pb::ReasonReportRequest {
        period,
        customers: Some(customers),
        ..Default::default()
    };
    let keys: Vec<pb::ReasonReportPage> = rs
        .reason_report(authed(
            only(pb::CustomerFilter {
                segment: pb::Segment::KeyAccount as i32,
                districts: vec![],
            }),
            &boss,
        ))
        .await
        .unwrap()
        .into_inner()
        .map(Result::unwrap)
        .collect()
        .await;
    assert!(keys[0].rows.is_empty(), "{keys:?}");
    let e = rs
        .reason_report(authed(
            only(pb::CustomerFilter {
                segment: 0,
                districts: vec!["月球区".into()],
            }),
            &boss,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("no district '月球区'"), "{e:?}");
    // an agent may not; a bad period and an unknown queue are refused in words
    let e = rs
        .interval_report(authed(ask(vec![]), &agent))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    let e = rs
        .interval_report(authed(ask(vec!["moon".into()]), &boss))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("no queue 'moon'"), "{e:?}");
    let mut backwards = ask(vec![]);
    backwards.period = Some(pb::ReportPeriod {
        from: hotline_router::convert::ts(to),
        to: hotline_router::convert::ts(from),
    });
    let e = rs
        .interval_report(authed(backwards, &boss))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("before it starts"), "{e:?}");
    let mut decade = ask(vec![]);
    decade.period = Some(pb::ReportPeriod {
        from: hotline_router::convert::ts(from - 3650 * 86_400_000),
        to: hotline_router::convert::ts(from),
    });
    let e = rs.interval_report(authed(decade, &boss)).await.unwrap_err();
    assert!(e.message().contains("at most 366 days"), "{e:?}");
}

/// One answered call about `reason`, wrapped up, on `desk`'s router.
pub(super) async fn answered(ch: &Channel, desk: &mut super::routing::Desk, n: u64, reason: &str) {
    let (_, ctx, mut call) = call_in(ch, "18955551234", "1").await;
    desk.offer().await;
    desk.done(10 * n + 2, C::Answer(true)).await;
    until(&mut call, |e| matches!(e.event, Some(CE::Connected(_)))).await;
    desk.done(10 * n + 3, C::HangUp(true)).await;
    drop(ctx);
    desk.done(
        10 * n + 4,
        C::WrapUp(pb::WrapUp {
            disposition: "answered".into(),
            reason: reason.into(),
            ..Default::default()
        }),
    )
    .await;
}

/// `hotline report …` as JSON.
fn report_json(args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("report")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hotline report {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn whole_second(ms: u64) -> String {
    jiff::Timestamp::from_millisecond(ms as i64)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// Known traffic through `hotline serve` (checkpoints every second), stopped in the
/// middle (SIGTERM) and killed once (SIGKILL) after the calls' last checkpoint: the
/// interval, agents and reasons reports then count exactly the calls made — none lost,
/// none doubled — on the command line and over ReportService alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_and_a_kill_lose_and_double_no_call_in_the_reports() {
    use hotline_proto::v1::report_service_client::ReportServiceClient;
    use tokio_stream::StreamExt;
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    };
    let from = now() / 1000 * 1000 - 1000;
    let mut served = super::outside::Served::start_with("history", "checkpoint_seconds = 1\n");
    // three answered and one abandoned, then a stop
    {
        let ch = channel(&served.url).await;
        let mut desk = agent_on(&ch, "1001").await;
        desk.done(1, C::Ready(true)).await;
        for n in 0..3 {
            answered(&ch, &mut desk, n, "inquiry.general").await;
        }
        desk.done(40, C::NotReady(16)).await;
        let (_, ctx, mut call) = call_in(&ch, "18955551234", "1").await;
        until(&mut call, |e| matches!(e.event, Some(CE::Queued(_)))).await;
        drop(ctx);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    served = served.restart();
    // two more, then the kill once they are past a checkpoint
    {
        let ch = channel(&served.url).await;
        let mut desk = agent_on(&ch, "1001").await;
        desk.done(1, C::Ready(true)).await;
        for n in 0..2 {
            answered(&ch, &mut desk, n, "inquiry.tariff").await;
        }
        tokio::time::sleep(Duration::from_millis(2_500)).await;
    }
    served = served.kill_and_restart();
    // one more on the router started after the kill
    let ch = channel(&served.url).await;
    {
        let mut desk = agent_on(&ch, "1001").await;
        desk.done(1, C::Ready(true)).await;
        answered(&ch, &mut desk, 0, "inquiry.bill").await;
        // past a checkpoint: the running router's report holds it too
        tokio::time::sleep(Duration::from_millis(2_500)).await;
    }
    let to = (now() / 1000 + 2) * 1000;
    // over gRPC while it runs
    let boss = super::outside::token(&ch, "2001", "supervisor 2001 pw").await;
    let mut rs = ReportServiceClient::new(ch.clone());
    let period = Some(pb::ReportPeriod {
        from: hotline_router::convert::ts(from),
        to: hotline_router::convert::ts(to),
    });
    let grpc_totals: Vec<pb::QueueIntervalRow> = rs
        .interval_report(authed(
            pb::IntervalReportRequest {
                period,
                ..Default::default()
            },
            &boss,
        ))
        .await
        .unwrap()
        .into_inner()
        .map(Result::unwrap)
        .collect::<Vec<_>>()
        .await
        .pop()
        .unwrap()
        .totals;
    let grpc_agents = rs
        .agent_report(authed(
            pb::AgentReportRequest {
                period,
                ..Default::default()
            },
            &boss,
        ))
        .await
        .unwrap()
        .into_inner()
        .map(Result::unwrap)
        .collect::<Vec<_>>()
        .await
        .remove(0)
        .rows;
    let grpc_reasons = rs
        .reason_report(authed(
            pb::ReasonReportRequest {
                period,
                ..Default::default()
            },
            &boss,
        ))
        .await
        .unwrap()
        .into_inner()
        .map(Result::unwrap)
        .collect::<Vec<_>>()
        .await
        .remove(0)
        .rows;
    // then on the command line, the router stopped (sled is one process's)
    assert!(served.terminate(Duration::from_secs(10)).is_some());
    let (f, t) = (whole_second(from), whole_second(to));
    let args = |report: &'static str| -> Vec<String> {
        [
            report,
            "--store",
            served.store(),
            "--from",
            &f,
            "--to",
            &t,
            "--tz",
            "UTC",
            "--json",
        ]
        .map(String::from)
        .to_vec()
    };
    let cli = |report| {
        let a = args(report);
        report_json(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let intervals = cli("intervals");
    let inquiry = intervals["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["queue"] == "inquiry")
        .unwrap()
        .clone();
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap();
    assert_eq!(
        (
            n(&inquiry, "offered"),
            n(&inquiry, "answered"),
            n(&inquiry, "abandoned")
        ),
        (7, 6, 1),
        "every call once: {inquiry}"
    );
    let g = grpc_totals.iter().find(|t| t.queue == "inquiry").unwrap();
    assert_eq!(
        (
            g.offered,
            g.answered,
            g.abandoned,
            g.service_level,
            g.asa_seconds
        ),
        (
            7,
            6,
            1,
            inquiry["service_level"].as_f64(),
            inquiry["asa_seconds"].as_f64()
        ),
        "the JSON is the gRPC answer"
    );
    let agents = cli("agents");
    let me = agents["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "1001")
        .unwrap()
        .clone();
    assert_eq!((n(&me, "answered"), n(&me, "handled")), (6, 6), "{me}");
    let g = grpc_agents.iter().find(|a| a.agent == "1001").unwrap();
    assert_eq!(
        (g.offers, g.answered, g.handled, g.fcr_handled),
        (
            n(&me, "offers"),
            n(&me, "answered"),
            n(&me, "handled"),
            n(&me, "fcr_handled")
        )
    );
    let reasons = cli("reasons");
    for (code, count) in [
        ("inquiry.general", 3),
        ("inquiry.tariff", 2),
        ("inquiry.bill", 1),
    ] {
        let row = reasons["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["reason"] == code)
            .unwrap_or_else(|| panic!("no {code} in {reasons}"));
        assert_eq!(n(row, "contacts"), count, "{row}");
        let g = grpc_reasons.iter().find(|r| r.reason == code).unwrap();
        assert_eq!((g.contacts, g.handled), (count, n(row, "handled")));
    }
}
