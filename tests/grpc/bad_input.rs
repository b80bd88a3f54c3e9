//! A bad input to every RPC gets a gRPC status whose message a person understands, and
//! the router carries on serving everyone.

use super::*;
use hotline_proto::v1::crm_service_client::CrmServiceClient;
use hotline_proto::v1::supervisor_service_client::SupervisorServiceClient;
use pb::agent_command::Command as C;
use pb::agent_event::Event as E;

/// The status has `code` and a message in words that mentions `words`.
fn refused(e: tonic::Status, code: Code, words: &str) {
    assert_eq!(e.code(), code, "{e:?}");
    let m = e.message();
    assert!(m.contains(words), "the message {m:?} should say {words:?}");
    for leak in ["panicked", "Error {", "/tmp/", "sled", "unwrap"] {
        assert!(!m.contains(leak), "the message {m:?} leaks {leak:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_refuses_bad_input_in_words_and_the_router_carries_on() {
    let up = up().await;
    let ch = channel(&up.url).await;
    let agent = super::outside::token(&ch, "1001", "correct horse 1001").await;
    let boss = super::outside::token(&ch, "2001", "supervisor 2001 pw").await;

    // AgentService
    let mut agents = AgentServiceClient::new(ch.clone());
    let e = agents
        .login(pb::LoginRequest {
            agent_id: "9999".into(),
            password: "anything".into(),
            language: 0,
        })
        .await
        .unwrap_err();
    refused(e, Code::Unauthenticated, "wrong agent id or password");
    let (tx, rx) = mpsc::channel(16);
    let mut events = agents
        .session(authed(ReceiverStream::new(rx), &agent))
        .await
        .unwrap()
        .into_inner();
    let bad = [
        (1, None, "INVALID_ARGUMENT", "empty"),
        (
            2,
            Some(C::Answer(true)),
            "FAILED_PRECONDITION",
            "cannot answer",
        ),
        (3, Some(C::HangUp(true)), "FAILED_PRECONDITION", "1001"),
        (
            4,
            Some(C::TransferToAgent("1002".into())),
            "FAILED_PRECONDITION",
            "1001",
        ),
        (
            5,
            Some(C::WrapUp(pb::WrapUp::default())),
            "FAILED_PRECONDITION",
            "1001",
        ),
        // 统一编码: free text is refused where a code belongs
        (
            6,
            Some(C::WrapUp(pb::WrapUp {
                reason: "broadband broke".into(),
                ..Default::default()
            })),
            "INVALID_ARGUMENT",
            "reason 'broadband broke' is not a call reason code",
        ),
        (
            7,
            Some(C::WrapUp(pb::WrapUp {
                disposition: "sorted it".into(),
                reason: "fault.broadband".into(),
                ..Default::default()
            })),
            "INVALID_ARGUMENT",
            "disposition 'sorted it' is not a disposition code",
        ),
    ];
    for (id, c, code, words) in bad {
        tx.send(pb::AgentCommand {
            command_id: id,
            command: c,
            call_id: 0,
        })
        .await
        .unwrap();
        let ev = until(&mut events, |e| matches!(e.event, Some(E::Error(_)))).await;
        let Some(E::Error(err)) = ev.event else {
            unreachable!()
        };
        assert_eq!((err.command_id, err.code.as_str()), (id, code), "{err:?}");
        assert!(err.message.contains(words), "{err:?}");
    }

    // CallerService: the first action must be a dial with both numbers
    let mut callers = CallerServiceClient::new(ch.clone());
    let (ctx, crx) = mpsc::channel(1);
    ctx.send(pb::CallerAction {
        action: Some(pb::caller_action::Action::Dial(pb::Dial {
            from: " ".into(),
            to: "1000".into(),
        })),
    })
    .await
    .unwrap();
    refused(
        callers.call(ReceiverStream::new(crx)).await.unwrap_err(),
        Code::InvalidArgument,
        "from is empty",
    );

    // CrmService
    let mut crm = CrmServiceClient::new(ch.clone());
    refused(
        crm.get_customer(authed(pb::GetCustomerRequest { id: 424242 }, &agent))
            .await
            .unwrap_err(),
        Code::NotFound,
        "424242",
    );
    refused(
        crm.get_customer(pb::GetCustomerRequest { id: 1 })
            .await
            .unwrap_err(),
        Code::Unauthenticated,
        "log in",
    );
    let e = crm
        .find_customer_by_phone(authed(
            pb::FindByPhoneRequest {
                phone: "not a number".into(),
            },
            &agent,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(e.code(), Code::InvalidArgument | Code::NotFound),
        "{e:?}"
    );
    refused(
        crm.search_customers(authed(pb::SearchCustomersRequest::default(), &agent))
            .await
            .unwrap_err(),
        Code::InvalidArgument,
        "name",
    );
    refused(
        crm.put_customer(authed(pb::PutCustomerRequest { customer: None }, &agent))
            .await
            .unwrap_err(),
        Code::InvalidArgument,
        "customer",
    );
    let mut nameless = crm
        .get_customer(authed(
            pb::GetCustomerRequest { id: up.customer.id },
            &agent,
        ))
        .await
        .unwrap()
        .into_inner();
    nameless.name = String::new();
    refused(
        crm.put_customer(authed(
            pb::PutCustomerRequest {
                customer: Some(nameless),
            },
            &agent,
        ))
        .await
        .unwrap_err(),
        Code::InvalidArgument,
        "name",
    );
    refused(
        crm.list_interactions(authed(
            pb::ListInteractionsRequest {
                customer_id: 424242,
                limit: 5,
                ..Default::default()
            },
            &agent,
        ))
        .await
        .unwrap_err(),
        Code::NotFound,
        "424242",
    );
    refused(
        crm.create_ticket(authed(
            pb::CreateTicketRequest {
                customer_id: up.customer.id,
                kind: pb::TicketKind::Fault as i32,
                subcategory: "no-such-subcategory".into(),
                description: "x".into(),
                priority: pb::TicketPriority::Normal as i32,
            },
            &agent,
        ))
        .await
        .unwrap_err(),
        Code::InvalidArgument,
        "no-such-subcategory",
    );
    let e = crm
        .update_ticket(authed(
            pb::UpdateTicketRequest {
                id: 424242,
                change: None,
            },
            &agent,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(e.code(), Code::InvalidArgument | Code::NotFound),
        "{e:?}"
    );
    refused(
        crm.get_ticket(authed(pb::GetTicketRequest { id: 424242 }, &agent))
            .await
            .unwrap_err(),
        Code::NotFound,
        "424242",
    );
    refused(
        crm.list_tickets(authed(pb::ListTicketsRequest::default(), &agent))
            .await
            .unwrap_err(),
        Code::InvalidArgument,
        "",
    );
    refused(
        crm.list_tickets(authed(
            pb::ListTicketsRequest {
                by: Some(pb::list_tickets_request::By::BackOffice("the moon".into())),
                limit: 0,
            },
            &agent,
        ))
        .await
        .unwrap_err(),
        Code::InvalidArgument,
        "'the moon' is not a back-office group",
    );
    refused(
        crm.watch_tickets(authed(pb::WatchTicketsRequest::default(), &agent))
            .await
            .unwrap_err(),
        Code::InvalidArgument,
        "back_office (a group code) or mine",
    );
    refused(
        crm.watch_tickets(authed(
            pb::WatchTicketsRequest {
                of: Some(pb::watch_tickets_request::Of::BackOffice("the moon".into())),
            },
            &boss,
        ))
        .await
        .unwrap_err(),
        Code::InvalidArgument,
        "'the moon' is not a back-office group",
    );

    // SupervisorService: the role first, then the inputs
    let mut sup = SupervisorServiceClient::new(ch.clone());
    refused(
        sup.list_agents(authed(pb::ListAgentsRequest {}, &agent))
            .await
            .unwrap_err(),
        Code::PermissionDenied,
        "supervisor role",
    );
    refused(
        sup.watch_stats(authed(
            pb::WatchStatsRequest {
                queues: vec!["no-such-queue".into()],
            },
            &boss,
        ))
        .await
        .unwrap_err(),
        Code::NotFound,
        "no-such-queue",
    );
    refused(
        sup.force_not_ready(authed(
            pb::ForceNotReadyRequest {
                agent_id: "9999".into(),
                reason: 3,
            },
            &boss,
        ))
        .await
        .unwrap_err(),
        Code::NotFound,
        "9999",
    );
    refused(
        sup.force_logout(authed(
            pb::ForceLogoutRequest {
                agent_id: String::new(),
            },
            &boss,
        ))
        .await
        .unwrap_err(),
        Code::InvalidArgument,
        "agent",
    );
    refused(
        sup.update_queue(authed(
            pb::UpdateQueueRequest {
                queue: "inquiry".into(),
                strategy: "loudest-first".into(),
                ..Default::default()
            },
            &boss,
        ))
        .await
        .unwrap_err(),
        Code::InvalidArgument,
        "loudest-first",
    );

    // after all that, the same session still works, and calls still route
    tx.send(cmd(10, C::Ready(true))).await.unwrap();
    until(&mut events, |e| e.event == Some(E::Done(10))).await;
    let (ctx, _call) = dial(&ch, "18955551234").await;
    press(&ctx, "1").await;
    until(&mut events, |e| matches!(e.event, Some(E::Offer(_)))).await;
}
