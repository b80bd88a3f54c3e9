//! The router over real gRPC on 127.0.0.1:0, with a temporary store: clients in this
//! process talk to it exactly as a desktop or a softphone would. This file has the
//! whole-call, login, CRM, supervisor, shutdown and TLS tests and the helpers;
//! `routing.rs` has routing order, the green channel, ring-no-answer, abandons,
//! transfers, callbacks, self-service and FCR; `bad_input.rs` a bad input of every RPC;
//! `desk.rs` the desktop's client.
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

mod alarms;
mod areas;
mod back_office;
mod bad_input;
mod call_backs;
mod desk;
// the store's test engines: `HOTLINE_TEST_ENGINE=postgres` runs this suite on PostgreSQL
#[path = "../../crates/store/tests/engines/mod.rs"]
mod engines;
mod history;
mod incidents;
mod metrics;
pub(crate) mod outside;
mod routing;
mod store_outage;

use hotline_acd::{QueueConfig, SkillId, WrapUpPolicy};
use hotline_ivr::Flow;
use hotline_proto::v1 as pb;
use hotline_proto::v1::agent_service_client::AgentServiceClient;
use hotline_proto::v1::caller_service_client::CallerServiceClient;
use hotline_router::server::{Router, RouterSetup, Tls};
use hotline_router::switchboard::{CallBackPolicy, QueueSetup};
use hotline_store::seed::{self, DEFAULT_NOW};
use hotline_store::*;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Code, Request};

const NAMES: [&str; 5] = [
    "inquiry",
    "fault",
    "complaint",
    "new-service",
    "green-channel",
];

struct Up {
    url: String,
    store: Arc<Store>,
    customer: Customer,
    router: Router,
    /// What the test's store lives on (a PostgreSQL database or cluster of its own is
    /// dropped last).
    _held: Box<dyn std::any::Any + Send + Sync>,
}

async fn up() -> Up {
    up_with(None).await
}

async fn up_with(heartbeat: Option<(Duration, Duration)>) -> Up {
    up_full(heartbeat, None).await
}

async fn up_full(heartbeat: Option<(Duration, Duration)>, tls: Option<Tls>) -> Up {
    up_custom(heartbeat, tls, |_| {}).await
}

/// A router with agents 1001 and 1002 (every skill) and supervisor 2001, each queue's
/// configuration passed through `tweak`.
async fn up_custom(
    heartbeat: Option<(Duration, Duration)>,
    tls: Option<Tls>,
    tweak: impl Fn(&mut QueueConfig),
) -> Up {
    let held = engines::chosen();
    let store = (*held).clone();
    up_on(store, Box::new(held), heartbeat, tls, tweak).await
}

/// [`up_custom`] on `store`, which lives as long as `held`.
async fn up_on(
    store: Store,
    held: Box<dyn std::any::Any + Send + Sync>,
    heartbeat: Option<(Duration, Duration)>,
    tls: Option<Tls>,
    tweak: impl Fn(&mut QueueConfig),
) -> Up {
    up_routing(store, held, heartbeat, tls, tweak, None).await
}

/// A router whose resolved tickets become call-back tasks by `policy`, in a queue
/// "callback" any agent (skill inquiry) may take.
async fn up_call_backs(policy: CallBackPolicy) -> Up {
    let held = engines::chosen();
    let store = (*held).clone();
    up_routing(store, Box::new(held), None, None, |_| {}, Some(policy)).await
}

async fn up_routing(
    store: Store,
    held: Box<dyn std::any::Any + Send + Sync>,
    heartbeat: Option<(Duration, Duration)>,
    tls: Option<Tls>,
    tweak: impl Fn(&mut QueueConfig),
    call_backs: Option<CallBackPolicy>,
) -> Up {
    let store = Arc::new(store);
    let mut c = seed::customer(8, 1, DEFAULT_NOW);
    c.id = 0;
    c.phones = vec!["18955551234".into()];
    c.segment = Segment::Public;
    c.account_manager = None;
    let customer = store.put_customer(c).unwrap();
    store
        .set_agent(
            AgentAccount {
                id: "1001".into(),
                name: "王小明".into(),
                role: Role::Agent,
                skills: NAMES.iter().map(|n| (n.to_string(), 5)).collect(),
                groups: vec![],
                password_hash: String::new(),
            },
            "correct horse 1001",
        )
        .unwrap();
    store
        .set_agent(
            AgentAccount {
                id: "1002".into(),
                name: "陈静".into(),
                role: Role::Agent,
                skills: NAMES.iter().map(|n| (n.to_string(), 5)).collect(),
                groups: vec![],
                password_hash: String::new(),
            },
            "correct horse 1002",
        )
        .unwrap();
    store
        .set_agent(
            AgentAccount {
                id: "2001".into(),
                name: "李班长".into(),
                role: Role::Supervisor,
                skills: vec![],
                groups: vec![],
                password_hash: String::new(),
            },
            "supervisor 2001 pw",
        )
        .unwrap();
    let (url, router) = serve_on(store.clone(), heartbeat, tls, tweak, call_backs).await;
    Up {
        url,
        store,
        customer,
        router,
        _held: held,
    }
}

/// A router serving `store` (its people already in it) on a port of its own: its
/// address and the router. Two on one store are a restart as the store sees it.
async fn serve_on(
    store: Arc<Store>,
    heartbeat: Option<(Duration, Duration)>,
    tls: Option<Tls>,
    tweak: impl Fn(&mut QueueConfig),
    call_backs: Option<CallBackPolicy>,
) -> (String, Router) {
    // agents around the clock, so the test does not depend on the hour it runs at
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/ivr/1000.toml"))
            .unwrap();
    let flow = Arc::new(
        Flow::parse(
            "1000.toml",
            &text.replace("close = \"22:00\"", "close = \"08:00\""),
            &NAMES,
        )
        .unwrap(),
    );
    let mut queues: Vec<QueueSetup> = NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut config = QueueConfig {
                name: n.to_string(),
                skill: SkillId(i as u16),
                wrap_up: WrapUpPolicy::UntilAgentFinishes,
                ..QueueConfig::default()
            };
            tweak(&mut config);
            QueueSetup {
                name: n.to_string(),
                config,
            }
        })
        .collect();
    if let Some(p) = &call_backs {
        queues.push(QueueSetup {
            name: p.queue.clone(),
            config: QueueConfig {
                name: p.queue.clone(),
                skill: SkillId(0),
                wrap_up: WrapUpPolicy::UntilAgentFinishes,
                ring_timeout: None,
                ..QueueConfig::default()
            },
        });
    }
    let queue_names: Vec<String> = queues.iter().map(|q| q.name.clone()).collect();
    let router = Router::start(
        store.clone(),
        RouterSetup {
            flow,
            queues,
            skills: NAMES.iter().map(|s| s.to_string()).collect(),
            heartbeat,
            keepalive: None,
            // settled, and the store's figures sent, every second
            fcr_settle_every: Duration::from_secs(1),
            spool: None,
            call_backs,
            // a second, so a test sees intervals close
            interval: Duration::from_secs(1),
            // only closed intervals (history.rs's SIGKILL test runs the checkpoints of
            // `hotline serve`)
            checkpoint: None,
            // the default thresholds (tests set their own over gRPC), cleared a second
            // after the figure is back
            alarms: Some(hotline_router::alarms::AlarmRules {
                clear_after: 1000,
                ..hotline_router::alarms::AlarmRules::defaults(&queue_names)
            }),
            // areas judged every second, with no history (every area at the floor)
            areas: Some(hotline_router::server::AreaWatch {
                detector: hotline_outage::DetectorConfig {
                    tick_seconds: 1,
                    ..Default::default()
                },
                utc_offset_ms: 8 * 3_600_000,
                learn_days: 0,
                declare: Default::default(),
            }),
        },
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = match tls {
        Some(_) => format!("https://localhost:{port}"),
        None => format!("http://127.0.0.1:{port}"),
    };
    tokio::spawn(
        router
            .clone()
            .serve_tls(listener, tls, std::future::pending()),
    );
    (url, router)
}

async fn channel(url: &str) -> Channel {
    Channel::from_shared(url.to_string())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// A caller dials 1000 from `from`: their actions in, the call's events out.
async fn dial(
    ch: &Channel,
    from: &str,
) -> (
    mpsc::Sender<pb::CallerAction>,
    tonic::Streaming<pb::CallEvent>,
) {
    let (ctx, crx) = mpsc::channel(16);
    ctx.send(pb::CallerAction {
        action: Some(pb::caller_action::Action::Dial(pb::Dial {
            from: from.into(),
            to: "1000".into(),
        })),
    })
    .await
    .unwrap();
    let call = CallerServiceClient::new(ch.clone())
        .call(ReceiverStream::new(crx))
        .await
        .unwrap()
        .into_inner();
    (ctx, call)
}

/// The caller presses keys.
async fn press(ctx: &mpsc::Sender<pb::CallerAction>, digits: &str) {
    ctx.send(pb::CallerAction {
        action: Some(pb::caller_action::Action::Digits(digits.into())),
    })
    .await
    .unwrap();
}

async fn next<T>(s: &mut tonic::Streaming<T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), s.message())
        .await
        .expect("an event within 5 s")
        .unwrap()
        .expect("the stream is open")
}

async fn until<T: std::fmt::Debug>(s: &mut tonic::Streaming<T>, pred: impl Fn(&T) -> bool) -> T {
    for _ in 0..50 {
        let m = next(s).await;
        if pred(&m) {
            return m;
        }
    }
    panic!("never saw the event");
}

fn cmd(id: u64, c: pb::agent_command::Command) -> pb::AgentCommand {
    pb::AgentCommand {
        command_id: id,
        command: Some(c),
        call_id: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_from_dial_to_wrap_up_over_grpc() {
    use pb::agent_command::Command as C;
    use pb::agent_event::Event as E;
    use pb::call_event::Event as CE;
    let up = up().await;
    let ch = channel(&up.url).await;
    let mut agents = AgentServiceClient::new(ch.clone());
    let login = agents
        .login(pb::LoginRequest {
            agent_id: "1001".into(),
            password: "correct horse 1001".into(),
            language: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (login.name.as_str(), login.role.as_str()),
        ("王小明", "agent")
    );
    assert_eq!(login.queues.len(), 5);

    let (atx, arx) = mpsc::channel(16);
    let mut req = Request::new(ReceiverStream::new(arx));
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", login.token).parse().unwrap(),
    );
    let mut events = agents.session(req).await.unwrap().into_inner();
    atx.send(cmd(1, C::Ready(true))).await.unwrap();
    until(&mut events, |e| e.event == Some(E::Done(1))).await;

    let (ctx, mut call) = dial(&ch, "18955551234").await;
    let first = next(&mut call).await;
    assert!(
        matches!(&first.event, Some(CE::Prompt(p)) if p.text.contains("业务咨询请按1")),
        "{first:?}"
    );
    press(&ctx, "2").await;
    press(&ctx, "0").await;

    // the agent's desktop rings with the screen pop
    let offer = until(&mut events, |e| matches!(e.event, Some(E::Offer(_)))).await;
    let Some(E::Offer(offer)) = offer.event else {
        unreachable!()
    };
    assert_eq!(offer.queue, "fault");
    let pop = offer.screen_pop.unwrap();
    assert_eq!(pop.customer.as_ref().unwrap().name, up.customer.name);
    assert!(
        pop.customer
            .as_ref()
            .unwrap()
            .id_document_masked
            .contains('*')
    );
    assert_eq!(
        pop.ivr_path,
        ["welcome", "key 2", "fault-menu", "key 0", "fault-queue"]
    );
    // and in words, from the flow's labels
    assert_eq!(
        pop.ivr_steps
            .iter()
            .map(|s| s.zh.as_str())
            .collect::<Vec<_>>(),
        ["欢迎主菜单", "按2", "障碍申报菜单", "按0", "转障碍坐席"]
    );
    assert_eq!(pop.ivr_steps[2].en, "fault menu");
    assert_eq!(pop.reason, "fault");

    atx.send(cmd(2, C::Answer(true))).await.unwrap();
    let heard = until(&mut call, |e| matches!(e.event, Some(CE::Connected(_)))).await;
    assert_eq!(heard.event, Some(CE::Connected("1001".into())));
    atx.send(cmd(3, C::HangUp(true))).await.unwrap();
    until(
        &mut call,
        |e| matches!(&e.event, Some(CE::Prompt(p)) if p.text.contains("请对本次服务进行评价")),
    )
    .await;
    press(&ctx, "5").await;
    until(&mut call, |e| matches!(e.event, Some(CE::Ended(_)))).await;

    let wrap = pb::WrapUp {
        disposition: "ticket opened".into(),
        reason: "fault.broadband".into(),
        notes: "光猫灯不亮".into(),
        new_tickets: vec![pb::CreateTicketRequest {
            customer_id: up.customer.id,
            kind: pb::TicketKind::Fault as i32,
            subcategory: "broadband-down".into(),
            description: "宽带无法上网".into(),
            priority: pb::TicketPriority::High as i32,
        }],
        ticket_changes: vec![],
        resolved_first_contact: false,
        call_back: None,
    };
    atx.send(cmd(4, C::WrapUp(wrap))).await.unwrap();
    let created = until(&mut events, |e| {
        matches!(e.event, Some(E::TicketsCreated(_)))
    })
    .await;
    let Some(E::TicketsCreated(list)) = created.event else {
        unreachable!()
    };
    assert_eq!(list.tickets[0].owner, "1001", "首问负责: the agent owns it");

    // the interaction lands in the store
    let mut rec = None;
    for _ in 0..50 {
        let found = up
            .store
            .interactions_of_customer(up.customer.id, 5)
            .unwrap();
        if let Some(i) = found.into_iter().next() {
            rec = Some(i);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rec = rec.expect("the call's interaction was written");
    assert_eq!(rec.agents, ["1001"]);
    assert_eq!(rec.satisfaction, Some(5));
    // the older free-text word is taken as the code it stands for
    assert_eq!(rec.disposition.as_deref(), Some("ticket-opened"));
    assert_eq!(rec.tickets, [list.tickets[0].id]);
    assert_eq!(rec.queue.as_deref(), Some("fault"));

    // a bad command gets words and the session carries on
    atx.send(cmd(5, C::Answer(true))).await.unwrap();
    let err = until(&mut events, |e| matches!(e.event, Some(E::Error(_)))).await;
    let Some(E::Error(err)) = err.event else {
        unreachable!()
    };
    assert_eq!(
        (err.command_id, err.code.as_str()),
        (5, "FAILED_PRECONDITION")
    );
    assert_eq!(err.message, "agent 1001 cannot answer while ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_and_sessions_are_checked() {
    let up = up().await;
    let ch = channel(&up.url).await;
    let mut agents = AgentServiceClient::new(ch.clone());
    let e = agents
        .login(pb::LoginRequest {
            agent_id: "1001".into(),
            password: "wrong".into(),
            language: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.message()),
        (Code::Unauthenticated, "wrong agent id or password")
    );
    let e = agents.login(pb::LoginRequest::default()).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let (_tx, rx) = mpsc::channel::<pb::AgentCommand>(1);
    let e = agents.session(ReceiverStream::new(rx)).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    let (_tx, rx) = mpsc::channel::<pb::AgentCommand>(1);
    let mut req = Request::new(ReceiverStream::new(rx));
    req.metadata_mut()
        .insert("authorization", "Bearer forged".parse().unwrap());
    assert_eq!(
        agents.session(req).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    // a call must start with dial
    let mut callers = CallerServiceClient::new(ch);
    let (tx, rx) = mpsc::channel(1);
    tx.send(pb::CallerAction {
        action: Some(pb::caller_action::Action::Digits("1".into())),
    })
    .await
    .unwrap();
    let e = callers.call(ReceiverStream::new(rx)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_whose_stream_drops_loses_the_call_to_the_queue_not_the_caller() {
    use pb::agent_command::Command as C;
    use pb::agent_event::Event as E;
    let up = up().await;
    let ch = channel(&up.url).await;
    let mut agents = AgentServiceClient::new(ch.clone());
    let login = agents
        .login(pb::LoginRequest {
            agent_id: "1001".into(),
            password: "correct horse 1001".into(),
            language: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let (atx, arx) = mpsc::channel(16);
    let mut req = Request::new(ReceiverStream::new(arx));
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", login.token).parse().unwrap(),
    );
    let mut events = agents.session(req).await.unwrap().into_inner();
    atx.send(cmd(1, C::Ready(true))).await.unwrap();
    until(&mut events, |e| e.event == Some(E::Done(1))).await;
    let (ctx, mut call) = dial(&ch, "18900007777").await;
    press(&ctx, "1").await;
    until(&mut events, |e| matches!(e.event, Some(E::Offer(_)))).await;
    atx.send(cmd(2, C::Answer(true))).await.unwrap();
    until(&mut call, |e| {
        matches!(e.event, Some(pb::call_event::Event::Connected(_)))
    })
    .await;
    // the desktop dies
    drop(atx);
    drop(events);
    // the caller is back in line, announced with a position, not cut off
    let back = until(&mut call, |e| {
        matches!(
            e.event,
            Some(pb::call_event::Event::Ended(_)) | Some(pb::call_event::Event::Prompt(_))
        )
    });
    let e = tokio::time::timeout(Duration::from_millis(1500), back).await;
    // no "ended" reaches the caller: either nothing more (waiting silently) or a prompt
    if let Ok(ev) = e {
        assert!(
            !matches!(ev.event, Some(pb::call_event::Event::Ended(_))),
            "{ev:?}"
        );
    }
    // a new login takes the call from the head of the queue
    let login = agents
        .login(pb::LoginRequest {
            agent_id: "1001".into(),
            password: "correct horse 1001".into(),
            language: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let (atx, arx) = mpsc::channel(16);
    let mut req = Request::new(ReceiverStream::new(arx));
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", login.token).parse().unwrap(),
    );
    let mut events = agents.session(req).await.unwrap().into_inner();
    atx.send(cmd(1, C::Ready(true))).await.unwrap();
    let offer = until(&mut events, |e| matches!(e.event, Some(E::Offer(_)))).await;
    let Some(E::Offer(o)) = offer.event else {
        unreachable!()
    };
    assert_eq!(o.queue, "inquiry");
}

fn authed<T>(msg: T, token: &str) -> Request<T> {
    let mut r = Request::new(msg);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crm_serves_customers_and_tickets_to_logged_in_users() {
    use hotline_proto::v1::crm_service_client::CrmServiceClient;
    let up = up().await;
    let ch = channel(&up.url).await;
    let token = AgentServiceClient::new(ch.clone())
        .login(pb::LoginRequest {
            agent_id: "1001".into(),
            password: "correct horse 1001".into(),
            language: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    let mut crm = CrmServiceClient::new(ch);
    let t = token.as_str();
    // without a token: refused
    let e = crm
        .get_customer(pb::GetCustomerRequest { id: up.customer.id })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);

    let c = crm
        .get_customer(authed(pb::GetCustomerRequest { id: up.customer.id }, t))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(c.name, up.customer.name);
    assert!(!c.id_document_masked.is_empty() && c.id_document_masked.contains('*'));
    let c2 = crm
        .find_customer_by_phone(authed(
            pb::FindByPhoneRequest {
                phone: "18955551234".into(),
            },
            t,
        ))
        .await
        .unwrap();
    assert_eq!(c2.into_inner().id, up.customer.id);
    let e = crm
        .find_customer_by_phone(authed(
            pb::FindByPhoneRequest {
                phone: "18900000000".into(),
            },
            t,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.message()),
        (Code::NotFound, "no customer has the number 189****0000")
    );
    let prefix: String = up.customer.name.chars().take(1).collect();
    let found = crm
        .search_customers(authed(
            pb::SearchCustomersRequest {
                name_prefix: prefix,
                limit: 5,
            },
            t,
        ))
        .await
        .unwrap();
    assert!(
        found
            .into_inner()
            .customers
            .iter()
            .any(|x| x.id == up.customer.id)
    );

    // a new customer, then one with a number already taken
    let mut new = c.clone();
    new.id = 0;
    new.phones = vec!["13311112222".into()];
    new.name = "新客户".into();
    let created = crm
        .put_customer(authed(
            pb::PutCustomerRequest {
                customer: Some(new.clone()),
            },
            t,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(created.id > up.customer.id);
    new.phones = vec!["18955551234".into()];
    let e = crm
        .put_customer(authed(
            pb::PutCustomerRequest {
                customer: Some(new),
            },
            t,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);

    // tickets: owner is the caller; the loop is enforced
    let ticket = crm
        .create_ticket(authed(
            pb::CreateTicketRequest {
                customer_id: up.customer.id,
                kind: pb::TicketKind::Complaint as i32,
                subcategory: "billing-dispute".into(),
                description: "话费多扣".into(),
                priority: 0,
            },
            t,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ticket.owner, "1001");
    let close = pb::TicketChange {
        change: Some(pb::ticket_change::Change::Close(true)),
    };
    let e = crm
        .update_ticket(authed(
            pb::UpdateTicketRequest {
                id: ticket.id,
                change: Some(close),
            },
            t,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    // it went to its group by itself; passing it on is the back office's, not the agent's
    assert_eq!(
        (ticket.status, ticket.back_office.as_str()),
        (pb::TicketStatus::Dispatched as i32, "complaints-office")
    );
    let dispatch = pb::TicketChange {
        change: Some(pb::ticket_change::Change::DispatchTo("repair-crew".into())),
    };
    let e = crm
        .update_ticket(authed(
            pb::UpdateTicketRequest {
                id: ticket.id,
                change: Some(dispatch),
            },
            t,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    use pb::list_tickets_request::By;
    let mine = crm
        .list_tickets(authed(
            pb::ListTicketsRequest {
                by: Some(By::Owner("1001".into())),
                limit: 0,
            },
            t,
        ))
        .await
        .unwrap();
    assert_eq!(mine.into_inner().tickets.len(), 1);
    let e = crm
        .list_tickets(authed(pb::ListTicketsRequest { by: None, limit: 0 }, t))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let got = crm
        .get_ticket(authed(pb::GetTicketRequest { id: ticket.id }, t))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.history.len(), 2);
    assert_eq!(
        crm.get_ticket(authed(pb::GetTicketRequest { id: 999_999 }, t))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let calls = crm
        .list_interactions(authed(
            pb::ListInteractionsRequest {
                customer_id: up.customer.id,
                limit: 0,
                ..Default::default()
            },
            t,
        ))
        .await;
    assert!(calls.unwrap().into_inner().interactions.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_and_health_are_on() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let up = up().await;
    let ch = channel(&up.url).await;
    let mut refl = ServerReflectionClient::new(ch.clone());
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut resp = refl
        .server_reflection_info(tokio_stream::iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        resp.message().await.unwrap().unwrap().message_response
    else {
        panic!("no service list")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for s in [
        "callcenter.v1.AgentService",
        "callcenter.v1.CallerService",
        "callcenter.v1.CrmService",
        "grpc.health.v1.Health",
    ] {
        assert!(names.iter().any(|n| n == s), "{s} missing from {names:?}");
    }
    let h = HealthClient::new(ch)
        .check(tonic_health::pb::HealthCheckRequest {
            service: "callcenter.v1.AgentService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        h.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_watch_the_floor_and_steer_it() {
    use hotline_proto::v1::supervisor_service_client::SupervisorServiceClient;
    let up = up().await;
    let ch = channel(&up.url).await;
    let mut auth = AgentServiceClient::new(ch.clone());
    let login = |id: &str, pw: &str| pb::LoginRequest {
        agent_id: id.into(),
        password: pw.into(),
        language: 0,
    };
    let agent_token = auth
        .login(login("1001", "correct horse 1001"))
        .await
        .unwrap()
        .into_inner()
        .token;
    let sup = auth
        .login(login("2001", "supervisor 2001 pw"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sup.role, "supervisor");
    let t = sup.token.as_str();
    let mut s = SupervisorServiceClient::new(ch.clone());
    // agents may not
    let e = s
        .list_agents(authed(pb::ListAgentsRequest {}, &agent_token))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.message()),
        (Code::PermissionDenied, "this needs the supervisor role")
    );

    // the wallboard: a snapshot first
    let mut board = s
        .watch_stats(authed(pb::WatchStatsRequest { queues: vec![] }, t))
        .await
        .unwrap()
        .into_inner();
    let first = next(&mut board).await;
    assert_eq!(first.queues.len(), 5);
    assert!(
        first
            .agents
            .iter()
            .any(|a| a.agent_id == "1001" && a.name == "王小明")
    );
    // a call waits in the inquiry queue: the next update shows it, within a second or two
    let (ctx, _call) = dial(&ch, "18900001111").await;
    press(&ctx, "1").await;
    let update = until(&mut board, |u| {
        u.queues
            .iter()
            .any(|q| q.queue == "inquiry" && q.waiting == 1)
    })
    .await;
    let q = update.queues.iter().find(|q| q.queue == "inquiry").unwrap();
    assert_eq!(q.offered, 1);
    assert!(q.longest_wait.is_some());

    // steer: not ready, logout, queue settings
    let mut agents = AgentServiceClient::new(ch);
    let (atx, arx) = mpsc::channel(4);
    let mut req = Request::new(ReceiverStream::new(arx));
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {agent_token}").parse().unwrap(),
    );
    let _events = agents.session(req).await.unwrap().into_inner();
    let st = s
        .force_not_ready(authed(
            pb::ForceNotReadyRequest {
                agent_id: "1001".into(),
                reason: 0,
            },
            t,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(st.state, pb::AgentState::NotReady as i32);
    assert_eq!(st.reason.unwrap().code, 3, "set by a supervisor");
    let st = s
        .force_logout(authed(
            pb::ForceLogoutRequest {
                agent_id: "1001".into(),
            },
            t,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(st.state, pb::AgentState::LoggedOut as i32);
    let list = s
        .list_agents(authed(pb::ListAgentsRequest {}, t))
        .await
        .unwrap()
        .into_inner();
    assert!(list.agents.iter().any(|a| a.agent_id == "2001"));
    let q = s
        .update_queue(authed(
            pb::UpdateQueueRequest {
                queue: "inquiry".into(),
                strategy: "round-robin".into(),
                ..Default::default()
            },
            t,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(q.waiting, 1, "the waiting call keeps its place");
    let e = s
        .update_queue(authed(
            pb::UpdateQueueRequest {
                queue: "inquiry".into(),
                strategy: "fastest".into(),
                ..Default::default()
            },
            t,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("'fastest'"));
    let e = s
        .update_queue(authed(
            pb::UpdateQueueRequest {
                queue: "lottery".into(),
                ..Default::default()
            },
            t,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);

    // each setting takes the value given, and 0 turns it off; the audit trail's words
    // say what the queue does now
    let secs = |s: i64| {
        Some(prost_types::Duration {
            seconds: s,
            nanos: 0,
        })
    };
    for (max, wait, ring) in [(5, 60, 10), (0, 0, 0)] {
        s.update_queue(authed(
            pb::UpdateQueueRequest {
                queue: "fault".into(),
                max_waiting: Some(max),
                callback_threshold: secs(wait),
                ring_timeout: secs(ring),
                min_level: Some(3),
                ..Default::default()
            },
            t,
        ))
        .await
        .unwrap();
    }
    let trail = s
        .list_audit_trail(authed(pb::ListAuditTrailRequest::default(), t))
        .await
        .unwrap()
        .into_inner()
        .entries;
    let fault: Vec<&str> = trail
        .iter()
        .filter(|e| e.action == "update-queue" && e.target == "fault")
        .map(|e| e.after.as_str())
        .collect();
    assert_eq!(fault.len(), 2, "{trail:?}");
    for part in [
        "ring-no-answer after 10 s",
        "at most 5 waiting",
        "callback offered at 60 s",
        "skill level 3 and up",
    ] {
        assert!(fault[0].contains(part), "{part:?} in {:?}", fault[0]);
    }
    for part in [
        "no ring-no-answer limit",
        "no limit on waiting calls",
        "no callback offer",
    ] {
        assert!(fault[1].contains(part), "{part:?} in {:?}", fault[1]);
    }
    drop(atx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_ends_every_call_with_its_record() {
    let up = up().await;
    let ch = channel(&up.url).await;
    let (ctx, mut call) = dial(&ch, "18955551234").await;
    press(&ctx, "1").await;
    until(&mut call, |e| {
        matches!(e.event, Some(pb::call_event::Event::Queued(_)))
    })
    .await;
    up.router.shutdown().await;
    let end = until(&mut call, |e| {
        matches!(e.event, Some(pb::call_event::Event::Ended(_)))
    })
    .await;
    assert_eq!(
        end.event,
        Some(pb::call_event::Event::Ended("dropped".into()))
    );
    // the record was written before shutdown returned
    let recs = up
        .store
        .interactions_of_customer(up.customer.id, 5)
        .unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(
        (recs[0].end, recs[0].queue.as_deref()),
        (CallEnd::Dropped, Some("inquiry"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_agent_loses_the_call_to_the_queue_within_a_second() {
    use pb::agent_command::Command as C;
    use pb::agent_event::Event as E;
    let up = up_with(Some((
        Duration::from_millis(250),
        Duration::from_millis(750),
    )))
    .await;
    let ch = channel(&up.url).await;
    let mut agents = AgentServiceClient::new(ch.clone());
    let login = agents
        .login(pb::LoginRequest {
            agent_id: "1001".into(),
            password: "correct horse 1001".into(),
            language: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let (atx, arx) = mpsc::channel(64);
    let mut req = Request::new(ReceiverStream::new(arx));
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", login.token).parse().unwrap(),
    );
    let mut events = agents.session(req).await.unwrap().into_inner();
    atx.send(cmd(1, C::Ready(true))).await.unwrap();
    // answer heartbeats while working
    let mut offered = false;
    let (ctx, mut call) = dial(&ch, "18900003333").await;
    press(&ctx, "1").await;
    while !offered {
        match next(&mut events).await.event {
            Some(E::Heartbeat(n)) => atx.send(cmd(0, C::HeartbeatAck(n))).await.unwrap(),
            Some(E::Offer(_)) => offered = true,
            _ => {}
        }
    }
    atx.send(cmd(2, C::Answer(true))).await.unwrap();
    until(&mut call, |e| {
        matches!(e.event, Some(pb::call_event::Event::Connected(_)))
    })
    .await;
    // now the desktop hangs: the stream stays open, heartbeats go unanswered
    let hung = std::time::Instant::now();
    let closed = until(&mut events, |e| matches!(e.event, Some(E::Closed(_)))).await;
    assert_eq!(
        closed.event,
        Some(E::Closed(pb::SessionClosed {
            reason: "heartbeats missed".into(),
            code: pb::SessionEnd::HeartbeatsMissed as i32,
        }))
    );
    assert!(
        hung.elapsed() < Duration::from_millis(1500),
        "{:?}",
        hung.elapsed()
    );
    // the caller is not cut off: the call waits at the head of its queue for the next agent
    let supervisor = AgentServiceClient::new(ch.clone())
        .login(pb::LoginRequest {
            agent_id: "2001".into(),
            password: "supervisor 2001 pw".into(),
            language: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    let list = hotline_proto::v1::supervisor_service_client::SupervisorServiceClient::new(ch)
        .list_agents(authed(pb::ListAgentsRequest {}, &supervisor))
        .await
        .unwrap()
        .into_inner();
    let me = list.agents.iter().find(|a| a.agent_id == "1001").unwrap();
    assert_eq!(me.state, pb::AgentState::LoggedOut as i32);
    let mut board = hotline_proto::v1::supervisor_service_client::SupervisorServiceClient::new(
        channel(&up.url).await,
    )
    .watch_stats(authed(
        pb::WatchStatsRequest {
            queues: vec!["inquiry".into()],
        },
        &supervisor,
    ))
    .await
    .unwrap()
    .into_inner();
    let snapshot = next(&mut board).await;
    assert_eq!(snapshot.queues[0].waiting, 1, "the call is back in line");
    drop(atx);
}

#[tokio::test]
async fn over_tls_only_clients_that_trust_the_certificate_get_in() {
    use tonic::transport::{Certificate, ClientTlsConfig};
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = key.cert.pem();
    let up = up_full(
        None,
        Some(Tls {
            cert_pem: cert_pem.clone().into_bytes(),
            key_pem: key.signing_key.serialize_pem().into_bytes(),
            client_ca_pem: None,
        }),
    )
    .await;
    let login = |ch: Channel| async move {
        AgentServiceClient::new(ch)
            .login(pb::LoginRequest {
                agent_id: "1001".into(),
                password: "correct horse 1001".into(),
                language: 0,
            })
            .await
    };
    // a client that trusts the router's certificate logs in
    let trusted = Channel::from_shared(up.url.clone())
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(&cert_pem))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect()
        .await
        .unwrap();
    let token = login(trusted).await.unwrap().into_inner().token;
    assert!(!token.is_empty());
    // one that does not trust it cannot even connect
    let stranger = Channel::from_shared(up.url.clone())
        .unwrap()
        .tls_config(ClientTlsConfig::new().domain_name("localhost"))
        .unwrap()
        .connect()
        .await;
    assert!(stranger.is_err(), "an untrusted certificate was accepted");
    // and plain HTTP/2 gets nothing from a TLS port
    let plain = Channel::from_shared(up.url.replace("https://", "http://"))
        .unwrap()
        .connect()
        .await;
    match plain {
        Err(_) => {}
        Ok(ch) => assert!(login(ch).await.is_err(), "plain text was served over TLS"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_mtls_only_clients_holding_a_certificate_from_the_authority_get_in() {
    use hotline_proto::client::{ClientTls, endpoint};
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let authority = |name: &str| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), Issuer::new(params, key))
    };
    let leaf = |issuer: &Issuer<'_, KeyPair>, name: &str| {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec![name.to_string()])
            .unwrap()
            .signed_by(&key, issuer)
            .unwrap();
        (cert.pem().into_bytes(), key.serialize_pem().into_bytes())
    };
    let (ca_pem, ca) = authority("Hotline 1000 test CA");
    let (_, other_ca) = authority("somebody else");
    let (cert_pem, key_pem) = leaf(&ca, "localhost");
    let up = up_full(
        None,
        Some(Tls {
            cert_pem,
            key_pem,
            client_ca_pem: Some(ca_pem.clone().into_bytes()),
        }),
    )
    .await;
    let login = |tls: ClientTls| {
        let url = up.url.clone();
        async move {
            let ch = endpoint(&url, &tls)?
                .connect()
                .await
                .map_err(|e| e.to_string())?;
            AgentServiceClient::new(ch)
                .login(pb::LoginRequest {
                    agent_id: "1001".into(),
                    password: "correct horse 1001".into(),
                    language: 0,
                })
                .await
                .map(|r| r.into_inner().token)
                .map_err(|s| s.to_string())
        }
    };
    let trusting = |identity| ClientTls {
        ca_pem: Some(ca_pem.clone().into_bytes()),
        identity,
    };
    // a desk with a certificate from the operator's authority gets in
    let desk_cert = leaf(&ca, "desk-1001");
    assert!(login(trusting(Some(desk_cert.clone()))).await.is_ok());
    // without a certificate, or with one from another authority, it does not
    assert!(
        login(trusting(None)).await.is_err(),
        "no client certificate"
    );
    assert!(
        login(trusting(Some(leaf(&other_ca, "desk-x"))))
            .await
            .is_err(),
        "a certificate from another authority"
    );
    // https without naming the authority is refused in words before connecting
    let e = endpoint(&up.url, &ClientTls::default()).unwrap_err();
    assert!(e.contains("--ca"), "{e}");
    // the desktop's client connects the same way
    let w = hotline_desk::client::login(hotline_desk::client::Credentials {
        router: up.url.clone(),
        agent: "1001".into(),
        password: "correct horse 1001".into(),
        token: Default::default(),
        tls: trusting(Some(desk_cert)),
    })
    .await
    .unwrap();
    assert_eq!(w.name, "王小明");
}
