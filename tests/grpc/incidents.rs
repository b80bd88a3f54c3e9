//! An area outage over real gRPC, from test clients only, as one incident: fault calls
//! from one 小区 raise the alarm on the supervisors' stream; a supervisor declares the
//! incident; the next caller from that 小区 hears its message and restore time, asks to
//! be told, and no agent is offered the call; a caller from another 小区 gets the normal
//! menu; an agent's fault ticket for the 小区 is linked; an agent offered a caller from
//! there sees the incident on the screen pop; a second router on the same store (a
//! restart, as the store sees it) knows all of it; ending the incident resolves the
//! linked tickets and their 回访 call-backs are routed. Bad declarations are refused in
//! words.

use super::outside::token;
use super::routing::{agent_on, call_in};
use super::*;
use hotline_proto::v1::crm_service_client::CrmServiceClient;
use hotline_proto::v1::supervisor_service_client::SupervisorServiceClient;
use pb::agent_command::Command as C;
use pb::call_event::Event as CE;

const NUMBER: &str = "18955551234";
const NEIGHBOUR: &str = "18955559876";

fn policy() -> CallBackPolicy {
    CallBackPolicy {
        queue: "callback".into(),
        owner_wait: 500,
        ring: 1_500,
        ..CallBackPolicy::default()
    }
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn at(s: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: s,
        nanos: 0,
    })
}

/// Everything a caller heard until the call ended, and how it ended.
async fn heard_until_end(call: &mut tonic::Streaming<pb::CallEvent>) -> (Vec<String>, String) {
    let mut said = Vec::new();
    loop {
        match next(call).await.event {
            Some(CE::Prompt(p)) => said.push(p.text),
            Some(CE::Ended(how)) => return (said, how),
            _ => {}
        }
    }
}

/// What a caller heard up to the IVR's next wait for keys.
async fn heard_until_keys(call: &mut tonic::Streaming<pb::CallEvent>) -> Vec<String> {
    let mut said = Vec::new();
    loop {
        match next(call).await.event {
            Some(CE::Prompt(p)) => said.push(p.text),
            Some(CE::Collect(_)) => return said,
            other => panic!("{other:?}"),
        }
    }
}

/// A caller dials and chooses the fault menu (key 2): their actions, their events, and
/// what they heard after the key, up to the IVR's next wait.
async fn fault_call(
    ch: &Channel,
    number: &str,
) -> (
    mpsc::Sender<pb::CallerAction>,
    tonic::Streaming<pb::CallEvent>,
    String,
) {
    let (_, ctx, mut call) = call_in(ch, number, "2").await;
    heard_until_keys(&mut call).await; // the rest of the greeting
    let told = heard_until_keys(&mut call).await.join(" ");
    (ctx, call, told)
}

fn incidents(u: &pb::StatsUpdate) -> Option<&[pb::Incident]> {
    u.incidents.as_ref().map(|l| l.incidents.as_slice())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_area_outage_is_seen_declared_told_to_its_callers_and_ended_as_one_incident() {
    let up = up_call_backs(policy()).await;
    let ch = channel(&up.url).await;
    let boss = token(&ch, "2001", "supervisor 2001 pw").await;
    let mut sup = SupervisorServiceClient::new(ch.clone());
    let mut board = sup
        .watch_stats(authed(pb::WatchStatsRequest::default(), &boss))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        incidents(&next(&mut board).await),
        Some(&[][..]),
        "none open"
    );
    let mut neighbour = up.customer.clone();
    neighbour.id = 0;
    neighbour.phones = vec![NEIGHBOUR.into()];
    neighbour.area = format!("{}东区", up.customer.area);
    up.store.put_customer(neighbour).unwrap();

    // the surge: five fault calls from the 小区 raise its alarm
    let mut lines = Vec::new();
    for _ in 0..5 {
        let (_, ctx, call) = call_in(&ch, NUMBER, "2").await;
        press(&ctx, "0").await;
        lines.push((ctx, call));
    }
    let u = until(&mut board, |u: &pb::StatsUpdate| !u.area_alarms.is_empty()).await;
    let alarm = u.area_alarms[0].clone();
    assert_eq!(alarm.area, up.customer.area);
    drop(lines);

    // the supervisor declares the incident from the alarm
    let restore = now_s() + 3 * 3600;
    let declared = sup
        .declare_incident(authed(
            pb::DeclareIncidentRequest {
                district: alarm.district.clone(),
                area: alarm.area.clone(),
                kind: "broadband-down".into(),
                started_at: alarm.first_call_at,
                expected_restore_at: at(restore),
                message_zh: "光缆被挖断，正在抢修".into(),
                message_en: "a fibre cable was cut and is being mended".into(),
            },
            &boss,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(declared.open && !declared.automatic);
    assert_eq!(declared.declared_by, "2001");
    assert_eq!(
        (declared.kind_zh.as_str(), declared.kind_en.as_str()),
        ("宽带无法上网", "broadband down")
    );
    assert_eq!(declared.history.len(), 1);
    let u = until(&mut board, |u: &pb::StatsUpdate| {
        incidents(u).is_some_and(|l| !l.is_empty())
    })
    .await;
    assert_eq!(incidents(&u).unwrap()[0].id, declared.id);
    // a second of the same kind for the same 小区 is refused
    let twice = sup
        .declare_incident(authed(
            pb::DeclareIncidentRequest {
                district: alarm.district.clone(),
                area: alarm.area.clone(),
                kind: "broadband-down".into(),
                started_at: None,
                expected_restore_at: at(restore),
                message_zh: "又一次".into(),
                message_en: "again".into(),
            },
            &boss,
        ))
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::AlreadyExists, "{twice:?}");
    assert!(twice.message().contains("already open"), "{twice:?}");

    // an agent waits; the next caller of the 小区 hears the incident and asks to be told
    let mut desk = agent_on(&ch, "1001").await;
    desk.done(1, C::Ready(true)).await;
    let (ctx, mut call, told) = fault_call(&ch, NUMBER).await;
    assert!(told.contains("光缆被挖断，正在抢修"), "{told}");
    assert!(told.contains("恢复"), "{told}");
    press(&ctx, "1").await;
    let (said, how) = heard_until_end(&mut call).await;
    assert_eq!(how, "self-service");
    let said = said.join(" ");
    assert!(said.contains("修复后我们将通知您"), "{said}");
    desk.no_offer_for(500).await;

    // a caller of another 小区 gets the normal fault menu
    let (other_ctx, _other, menu) = fault_call(&ch, NEIGHBOUR).await;
    assert!(
        !menu.contains("光缆") && menu.contains("自助登记故障请按1"),
        "{menu}"
    );
    drop(other_ctx);

    // an agent's new fault ticket for the 小区 is linked to the incident
    let mut crm = CrmServiceClient::new(ch.clone());
    let ticket = crm
        .create_ticket(authed(
            pb::CreateTicketRequest {
                customer_id: up.customer.id,
                kind: pb::TicketKind::Fault as i32,
                subcategory: "broadband-down".into(),
                description: "客户反映宽带中断".into(),
                priority: pb::TicketPriority::Normal as i32,
            },
            &desk.token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ticket.incident, declared.id);

    // a caller who goes on to an agent: the incident is on the screen pop
    let (ctx2, mut call2, _) = fault_call(&ch, NUMBER).await;
    press(&ctx2, "0").await; // not the notice's key: on to the fault menu
    heard_until_keys(&mut call2).await;
    press(&ctx2, "0").await; // the fault desk
    let offer = desk.offer().await;
    let pop = offer.screen_pop.unwrap();
    let on_pop = pop.incident.expect("the incident on the screen pop");
    assert_eq!(on_pop.id, declared.id);
    assert_eq!(on_pop.message_zh, "光缆被挖断，正在抢修");
    drop((ctx, ctx2));

    // a second router on the same store knows the incident, its links and its callers
    let (url2, _again) = serve_on(up.store.clone(), None, None, |_| {}, None).await;
    let ch2 = channel(&url2).await;
    let boss2 = token(&ch2, "2001", "supervisor 2001 pw").await;
    let mut sup2 = SupervisorServiceClient::new(ch2.clone());
    let mut board2 = sup2
        .watch_stats(authed(pb::WatchStatsRequest::default(), &boss2))
        .await
        .unwrap()
        .into_inner();
    until(&mut board2, |u: &pb::StatsUpdate| {
        incidents(u).is_some_and(|l| !l.is_empty())
    })
    .await;
    let listed = sup2
        .list_incidents(authed(
            pb::ListIncidentsRequest {
                open_only: true,
                limit: 0,
            },
            &boss2,
        ))
        .await
        .unwrap()
        .into_inner()
        .incidents;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].linked_tickets, listed[0].asked_to_be_told),
        (2, 1),
        "the request to be told and the agent's ticket"
    );
    let (ctx3, _call3, told3) = fault_call(&ch2, NUMBER).await;
    assert!(told3.contains("光缆被挖断"), "{told3}");
    drop(ctx3);

    // ending it resolves both linked tickets; their call-backs are routed
    let end = sup
        .end_incident(authed(
            pb::EndIncidentRequest {
                id: declared.id,
                resolution_code: "repaired".into(),
                note: "光缆熔接完成".into(),
            },
            &boss,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(end.resolved_tickets.len(), 2, "{end:?}");
    assert!(end.resolved_tickets.contains(&ticket.id));
    let ended = end.incident.unwrap();
    assert!(!ended.open && ended.ended_at.is_some());
    assert_eq!(ended.resolution_code, "repaired");
    for id in &end.resolved_tickets {
        let t = up.store.ticket(*id).unwrap().unwrap();
        assert_eq!(t.status, TicketStatus::Resolved);
        assert_eq!(t.incident(), Some(declared.id));
    }
    let u = until(&mut board, |u: &pb::StatsUpdate| {
        incidents(u).is_some_and(|l| l.is_empty())
    })
    .await;
    assert!(incidents(&u).unwrap().is_empty(), "none open any more");
    // (the offer of the screen-pop caller ended when they hung up)
    let task = loop {
        let o = desk.offer().await;
        if let Some(t) = o.call_back_task {
            break t;
        }
    };
    assert!(end.resolved_tickets.contains(&task.ticket.unwrap().id));
    // who did what is in the audit trail
    let trail = up.store.audit_trail(0, u64::MAX, 100).unwrap();
    let mine: Vec<(&str, &str)> = trail
        .iter()
        .filter(|a| a.target.starts_with("incident"))
        .map(|a| (a.action.as_str(), a.by.as_str()))
        .collect();
    assert_eq!(
        mine,
        vec![("declare-incident", "2001"), ("end-incident", "2001")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_declarations_are_refused_in_words() {
    let up = up().await;
    let ch = channel(&up.url).await;
    let boss = token(&ch, "2001", "supervisor 2001 pw").await;
    let mut sup = SupervisorServiceClient::new(ch.clone());
    let good = || pb::DeclareIncidentRequest {
        district: up.customer.district.clone(),
        area: up.customer.area.clone(),
        kind: "broadband-down".into(),
        started_at: None,
        expected_restore_at: at(now_s() + 3600),
        message_zh: "光缆中断".into(),
        message_en: "a cable is cut".into(),
    };
    let cases = [
        (
            pb::DeclareIncidentRequest {
                area: "没有人住的小区".into(),
                ..good()
            },
            Code::NotFound,
            "no customer lives",
        ),
        (
            pb::DeclareIncidentRequest {
                expected_restore_at: at(now_s() - 3600),
                ..good()
            },
            Code::InvalidArgument,
            "not after the outage's start",
        ),
        (
            pb::DeclareIncidentRequest {
                expected_restore_at: None,
                ..good()
            },
            Code::InvalidArgument,
            "expected_restore_at is missing",
        ),
        (
            pb::DeclareIncidentRequest {
                message_en: String::new(),
                ..good()
            },
            Code::InvalidArgument,
            "message_en is empty",
        ),
        (
            pb::DeclareIncidentRequest {
                kind: "billing-dispute".into(),
                ..good()
            },
            Code::InvalidArgument,
            "billing-dispute",
        ),
    ];
    for (req, code, words) in cases {
        let e = sup.declare_incident(authed(req, &boss)).await.unwrap_err();
        assert_eq!(e.code(), code, "{e:?}");
        assert!(e.message().contains(words), "{e:?} does not say {words:?}");
    }
    // an agent may not declare one
    let desk = agent_on(&ch, "1001").await;
    let e = sup
        .declare_incident(authed(good(), &desk.token))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // ending one that does not exist, or with a resolution that is not a fault's
    let e = sup
        .end_incident(authed(
            pb::EndIncidentRequest {
                id: 404,
                resolution_code: "repaired".into(),
                note: "done".into(),
            },
            &boss,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e:?}");
    let i = sup
        .declare_incident(authed(good(), &boss))
        .await
        .unwrap()
        .into_inner();
    let e = sup
        .end_incident(authed(
            pb::EndIncidentRequest {
                id: i.id,
                resolution_code: "refunded".into(),
                note: "退费".into(),
            },
            &boss,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(
        e.message().contains("not a resolution of fault tickets"),
        "{e:?}"
    );
    // an edit names what it changes
    let e = sup
        .update_incident(authed(
            pb::UpdateIncidentRequest {
                id: i.id,
                message_zh: "只有中文".into(),
                ..Default::default()
            },
            &boss,
        ))
        .await
        .unwrap_err();
    assert!(e.message().contains("message_en is empty"), "{e:?}");
    let edited = sup
        .update_incident(authed(
            pb::UpdateIncidentRequest {
                id: i.id,
                expected_restore_at: at(now_s() + 7200),
                ..Default::default()
            },
            &boss,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(edited.history.len(), 2);
    let moved = edited.expected_restore_at.unwrap().seconds - (now_s() + 7200);
    assert!(moved.abs() <= 5, "{edited:?}");
}
