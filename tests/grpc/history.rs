//! History that lasts (issue 13, first step): the router keeps every closed statistics
//! interval of each queue and each agent in the store, once. Here intervals are a
//! second long; known calls go through a real router over gRPC and the kept intervals
//! add up to exactly them.

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
        let (_, ctx, mut call) = call_in(&ch, "18955551234", "1").await;
        desk.offer().await;
        desk.done(10 * n + 2, C::Answer(true)).await;
        until(&mut call, |e| matches!(e.event, Some(CE::Connected(_)))).await;
        desk.done(10 * n + 3, C::HangUp(true)).await;
        drop(ctx);
        desk.done(
            10 * n + 4,
            C::WrapUp(pb::WrapUp {
                disposition: "answered".into(),
                reason: "inquiry.general".into(),
                ..Default::default()
            }),
        )
        .await;
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
    };
    let pages: Vec<pb::IntervalReportPage> = rs
        .interval_report(authed(ask(vec![]), &boss))
        .await
        .unwrap()
        .into_inner()
        .map(Result::unwrap)
        .collect()
        .await;
    let mine = report::intervals(&up.store, Period::new(from, to).unwrap(), &[], 15).unwrap();
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
    // the agents' appraisal and the reasons, the same figures
    let agents: Vec<pb::AgentReportPage> = rs
        .agent_report(authed(
            pb::AgentReportRequest {
                period,
                agents: vec!["1001".into()],
                page_size: 0,
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
    let reasons: Vec<pb::ReasonReportPage> = rs
        .reason_report(authed(
            pb::ReasonReportRequest {
                period,
                reasons: vec![],
                page_size: 0,
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
