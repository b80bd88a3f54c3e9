//! The router when its PostgreSQL server goes away mid-shift (a server of the test's own,
//! stopped and started again): calls go on without screen pops, a wrap-up's tickets are
//! refused in words, the call's record waits in the spool, supervisors and the health
//! service are told; once the server is back the record is written and all say so.

use super::*;
use hotline_proto::v1::supervisor_service_client::SupervisorServiceClient;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The store's health as the health service says it (-1: not registered yet — the
/// router registers it at its first look, within a second of starting).
async fn store_health(ch: &Channel) -> i32 {
    match HealthClient::new(ch.clone())
        .check(tonic_health::pb::HealthCheckRequest {
            service: "hotline.store".into(),
        })
        .await
    {
        Ok(r) => r.into_inner().status,
        Err(s) if s.code() == Code::NotFound => -1,
        Err(s) => panic!("health check: {s:?}"),
    }
}

/// Ask the health service until it says `want` (the router looks once a second).
async fn until_health(ch: &Channel, want: ServingStatus) {
    for _ in 0..100 {
        if store_health(ch).await == want as i32 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the store's health never became {want:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_go_on_while_the_store_is_down_and_records_are_written_when_it_is_back() {
    use pb::agent_command::Command as C;
    use pb::agent_event::Event as E;
    use pb::call_event::Event as CE;
    let cluster = Arc::new(engines::PrivateCluster::start());
    let store = Store::postgres(&cluster.database("outage"), Catalog::builtin()).unwrap();
    let up = up_on(store, Box::new(cluster.clone()), None, None, |_| {}).await;
    let ch = channel(&up.url).await;
    until_health(&ch, ServingStatus::Serving).await;

    let agent = super::outside::token(&ch, "1001", "correct horse 1001").await;
    let sup = super::outside::token(&ch, "2001", "supervisor 2001 pw").await;
    let mut board = SupervisorServiceClient::new(ch.clone())
        .watch_stats(authed(pb::WatchStatsRequest { queues: vec![] }, &sup))
        .await
        .unwrap()
        .into_inner();
    let first = next(&mut board).await;
    assert_eq!(first.store.map(|s| s.degraded), Some(false));
    let (atx, arx) = mpsc::channel(16);
    let mut events = AgentServiceClient::new(ch.clone())
        .session(authed(ReceiverStream::new(arx), &agent))
        .await
        .unwrap()
        .into_inner();
    atx.send(cmd(1, C::Ready(true))).await.unwrap();
    until(&mut events, |e| e.event == Some(E::Done(1))).await;

    cluster.stop();

    // a known customer calls: no screen pop, but the call is taken and offered
    let (ctx, mut call) = dial(&ch, "18955551234").await;
    next(&mut call).await;
    press(&ctx, "2").await;
    press(&ctx, "0").await;
    let offer = until(&mut events, |e| matches!(e.event, Some(E::Offer(_)))).await;
    let Some(E::Offer(offer)) = offer.event else {
        unreachable!()
    };
    let pop = offer.screen_pop.unwrap();
    assert!(pop.store_unavailable, "the pop says why it is empty");
    assert!(pop.customer.is_none());
    assert_eq!(pop.caller_number, "18955551234");
    until_health(&ch, ServingStatus::NotServing).await;
    let down = until(&mut board, |u| u.store.as_ref().is_some_and(|s| s.degraded)).await;
    let down = down.store.unwrap();
    assert!(down.since.is_some() && !down.reason.is_empty(), "{down:?}");

    atx.send(cmd(2, C::Answer(true))).await.unwrap();
    until(&mut call, |e| matches!(e.event, Some(CE::Connected(_)))).await;
    atx.send(cmd(3, C::HangUp(true))).await.unwrap();
    until(&mut events, |e| e.event == Some(E::Done(3))).await;
    drop(ctx); // the caller leaves the survey unanswered

    // a ticket cannot be opened now: the agent is told so and stays in wrap-up
    let with_ticket = pb::WrapUp {
        disposition: "ticket opened".into(),
        reason: "fault.broadband".into(),
        new_tickets: vec![pb::CreateTicketRequest {
            customer_id: up.customer.id,
            kind: pb::TicketKind::Fault as i32,
            subcategory: "broadband-down".into(),
            description: "宽带无法上网".into(),
            priority: pb::TicketPriority::High as i32,
        }],
        ..Default::default()
    };
    atx.send(cmd(4, C::WrapUp(with_ticket))).await.unwrap();
    let refused = until(&mut events, |e| matches!(e.event, Some(E::Error(_)))).await;
    let Some(E::Error(refused)) = refused.event else {
        unreachable!()
    };
    assert_eq!(
        (refused.command_id, refused.code.as_str()),
        (4, "UNAVAILABLE"),
        "{}",
        refused.message
    );
    assert!(
        refused.message.contains("no ticket was written")
            && refused.message.contains("cannot be reached"),
        "{}",
        refused.message
    );
    let plain = pb::WrapUp {
        disposition: "answered".into(),
        reason: "fault.broadband".into(),
        notes: "资料库中断，稍后回访".into(),
        ..Default::default()
    };
    atx.send(cmd(5, C::WrapUp(plain))).await.unwrap();
    until(&mut events, |e| e.event == Some(E::Done(5))).await;

    // the record could not be written: it waits in the spool, and the wallboard says so
    until(&mut board, |u| {
        u.store
            .as_ref()
            .is_some_and(|s| s.degraded && s.records_waiting == 1)
    })
    .await;

    cluster.start_again();
    until(&mut board, |u| {
        u.store
            .as_ref()
            .is_some_and(|s| !s.degraded && s.records_waiting == 0)
    })
    .await;
    until_health(&ch, ServingStatus::Serving).await;
    let written = up
        .store
        .interactions_between(0, u64::MAX, 10)
        .unwrap()
        .into_iter()
        .find(|i| i.call_id == offer.call_id)
        .expect("the spooled record is in the store");
    assert_eq!(written.agents, ["1001"]);
    assert_eq!(written.notes, "资料库中断，稍后回访");
    assert_eq!(
        up.store
            .interaction_by_call(offer.call_id)
            .unwrap()
            .unwrap()
            .legs
            .len(),
        1,
        "with its leg"
    );
}
