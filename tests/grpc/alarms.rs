//! Alarm rules over real gRPC: a supervisor sets a queue's rule, a call waiting raises
//! the alarm on the supervisors' stream, the caller hanging up clears it, and the
//! history keeps it from raised to cleared; bad rules are refused in words.

use super::outside::token;
use super::*;
use hotline_proto::v1::supervisor_service_client::SupervisorServiceClient;

fn alarm_news(u: &pb::StatsUpdate, cleared: bool) -> Option<&pb::Alarm> {
    u.alarms.iter().find(|a| {
        a.queue == "inquiry" && a.rule == "waiting-above" && a.cleared_at.is_some() == cleared
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_call_raises_the_alarm_a_supervisor_set_and_the_history_keeps_it() {
    let up = up().await;
    let ch = channel(&up.url).await;
    let boss = token(&ch, "2001", "supervisor 2001 pw").await;
    let mut sup = SupervisorServiceClient::new(ch.clone());

    // every queue starts with the default rules
    let rules = sup
        .list_alarm_rules(authed(pb::ListAlarmRulesRequest {}, &boss))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rules.queues.len(), 5);
    let inquiry = rules.queues.iter().find(|q| q.queue == "inquiry").unwrap();
    assert_eq!(inquiry.service_level_below, Some(0.6));
    assert_eq!(inquiry.longest_wait_above_seconds, Some(120));
    assert_eq!(inquiry.waiting_above, None);
    assert_eq!(rules.min_calls, 10);
    assert_eq!(rules.clear_after.map(|d| d.seconds), Some(1));

    // the supervisor asks to hear of any call waiting in inquiry
    let set = sup
        .set_alarm_rules(authed(
            pb::SetAlarmRulesRequest {
                rules: Some(pb::AlarmThresholds {
                    queue: "inquiry".into(),
                    waiting_above: Some(0),
                    ..Default::default()
                }),
            },
            &boss,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(set.waiting_above, Some(0));
    assert_eq!(set.service_level_below, None, "the rules given, whole");

    let mut board = sup
        .watch_stats(authed(pb::WatchStatsRequest::default(), &boss))
        .await
        .unwrap()
        .into_inner();
    assert!(
        next(&mut board).await.alarms.is_empty(),
        "nothing standing yet"
    );

    // nobody is logged in: a call for inquiry waits
    let (ctx, _call) = dial(&ch, "18900002222").await;
    press(&ctx, "1").await;
    let u = until(&mut board, |u| alarm_news(u, false).is_some()).await;
    let raised = alarm_news(&u, false).unwrap().clone();
    assert_eq!((raised.threshold, raised.raised_at_value), (0.0, 1.0));
    assert!(raised.raised_at.is_some());

    // a wallboard that connects now is told of the alarm standing
    let mut late = sup
        .watch_stats(authed(pb::WatchStatsRequest::default(), &boss))
        .await
        .unwrap()
        .into_inner();
    let first = next(&mut late).await;
    assert_eq!(first.alarms.len(), 1, "{:?}", first.alarms);
    assert_eq!(first.alarms[0].raised_at, raised.raised_at);

    // the caller gives up: a second later the alarm clears
    ctx.send(pb::CallerAction {
        action: Some(pb::caller_action::Action::HangUp(true)),
    })
    .await
    .unwrap();
    let u = until(&mut board, |u| alarm_news(u, true).is_some()).await;
    let cleared = alarm_news(&u, true).unwrap();
    assert_eq!(cleared.raised_at, raised.raised_at);
    assert_eq!((cleared.worst, cleared.value), (1.0, 0.0));

    // the history has it once, from raised to cleared (written on the blocking pool)
    let mut kept = vec![];
    for _ in 0..50 {
        kept = sup
            .list_alarms(authed(
                pb::ListAlarmsRequest {
                    queue: "inquiry".into(),
                    ..Default::default()
                },
                &boss,
            ))
            .await
            .unwrap()
            .into_inner()
            .alarms;
        if kept.iter().any(|a| a.cleared_at.is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].rule, "waiting-above");
    assert_eq!(kept[0].raised_at, raised.raised_at);
    assert_eq!(kept[0].cleared_at, cleared.cleared_at);
    assert_eq!(kept[0].worst, 1.0);
    let other = sup
        .list_alarms(authed(
            pb::ListAlarmsRequest {
                queue: "fault".into(),
                ..Default::default()
            },
            &boss,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(other.alarms.is_empty(), "only the queue asked for");

    // the change is in the audit trail, in words
    let trail = sup
        .list_audit_trail(authed(pb::ListAuditTrailRequest::default(), &boss))
        .await
        .unwrap()
        .into_inner()
        .entries;
    let e = trail
        .iter()
        .find(|e| e.action == "set-alarm-rules")
        .expect("the change audited");
    assert_eq!((e.by.as_str(), e.target.as_str()), ("2001", "inquiry"));
    assert!(
        e.before.contains("service level below 60 %") && e.before.contains("above 120 s"),
        "{}",
        e.before
    );
    assert_eq!(e.after, "alarm when more than 0 waiting");

    // raised again, then the router stops with it standing: the history says so
    let (ctx, _call) = dial(&ch, "18900002222").await;
    press(&ctx, "1").await;
    let u = until(&mut board, |u| alarm_news(u, false).is_some()).await;
    let again = alarm_news(&u, false).unwrap().clone();
    up.router.shutdown().await;
    let kept: Vec<pb::Alarm> = up
        .store
        .alarms(0, u64::MAX >> 1, 10)
        .unwrap()
        .iter()
        .filter_map(hotline_router::convert::alarm_kept)
        .collect();
    let stood = kept
        .iter()
        .find(|a| a.raised_at == again.raised_at)
        .expect("the second alarm kept");
    assert!(stood.cleared_at.is_none(), "{stood:?}");
    let stop = stood.router_stopped_at.expect("ended by the stop");
    assert!(
        stop.seconds >= again.raised_at.unwrap().seconds,
        "{stood:?}"
    );
    drop(ctx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_alarm_rules_and_periods_are_refused_in_words() {
    let up = up().await;
    let ch = channel(&up.url).await;
    let boss = token(&ch, "2001", "supervisor 2001 pw").await;
    let agent = token(&ch, "1001", "correct horse 1001").await;
    let mut sup = SupervisorServiceClient::new(ch.clone());
    let set = |queue: &str, sl: Option<f64>| pb::SetAlarmRulesRequest {
        rules: Some(pb::AlarmThresholds {
            queue: queue.into(),
            service_level_below: sl,
            ..Default::default()
        }),
    };
    let e = sup
        .set_alarm_rules(authed(set("inquiry", Some(0.5)), &agent))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = sup
        .set_alarm_rules(authed(set("lottery", Some(0.5)), &boss))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert!(e.message().contains("lottery"), "{}", e.message());
    let e = sup
        .set_alarm_rules(authed(set("inquiry", Some(80.0)), &boss))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("0 to 1"), "{}", e.message());
    let e = sup
        .set_alarm_rules(authed(set("inquiry", Some(f64::NAN)), &boss))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let e = sup
        .set_alarm_rules(authed(pb::SetAlarmRulesRequest { rules: None }, &boss))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let e = sup
        .list_alarms(authed(
            pb::ListAlarmsRequest {
                from: convert_ts(2_000),
                to: convert_ts(1_000),
                ..Default::default()
            },
            &boss,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("before"), "{}", e.message());
    // nothing was changed by the refusals
    let rules = sup
        .list_alarm_rules(authed(pb::ListAlarmRulesRequest {}, &boss))
        .await
        .unwrap()
        .into_inner();
    let inquiry = rules.queues.iter().find(|q| q.queue == "inquiry").unwrap();
    assert_eq!(inquiry.service_level_below, Some(0.6));
}

fn convert_ts(secs: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: secs,
        nanos: 0,
    })
}
