//! The back office over gRPC: a complaint call's ticket dispatched to its group by
//! itself, the group's clerk watching the worklist live, taking, noting, passing on and
//! resolving it; the owner's "my tickets" seeing each step; whose change is whose.

use super::routing::{agent_on, call_in};
use super::*;
use hotline_proto::v1::crm_service_client::CrmServiceClient;
use pb::agent_command::Command as C;
use pb::agent_event::Event as E;
use pb::call_event::Event as CE;
use pb::ticket_change::Change as Ch;
use pb::watch_tickets_request::Of;

/// Back-office clerk `id` of `group`, with an account and a token.
pub(super) async fn clerk(up: &Up, ch: &Channel, id: &str, group: &str) -> String {
    up.store
        .set_agent(
            AgentAccount {
                id: id.into(),
                name: format!("后台 {id}"),
                role: Role::BackOffice,
                skills: vec![],
                groups: vec![group.into()],
                password_hash: String::new(),
            },
            &format!("back office {id}"),
        )
        .unwrap();
    let login = AgentServiceClient::new(ch.clone())
        .login(pb::LoginRequest {
            agent_id: id.into(),
            password: format!("back office {id}"),
            language: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(login.role, "back-office");
    assert_eq!(login.back_office_groups, [group]);
    login.token
}

async fn watch(ch: &Channel, of: Of, token: &str) -> tonic::Streaming<pb::TicketUpdate> {
    CrmServiceClient::new(ch.clone())
        .watch_tickets(authed(pb::WatchTicketsRequest { of: Some(of) }, token))
        .await
        .unwrap()
        .into_inner()
}

pub(super) async fn change(
    crm: &mut CrmServiceClient<Channel>,
    id: u64,
    c: Ch,
    token: &str,
) -> Result<pb::Ticket, tonic::Status> {
    crm.update_ticket(authed(
        pb::UpdateTicketRequest {
            id,
            change: Some(pb::TicketChange { change: Some(c) }),
        },
        token,
    ))
    .await
    .map(|r| r.into_inner())
}

/// The next update that carries ticket `id`, as it is in it.
async fn seen(s: &mut tonic::Streaming<pb::TicketUpdate>, id: u64) -> pb::Ticket {
    let u = until(s, |u| u.tickets.iter().any(|t| t.id == id)).await;
    u.tickets.into_iter().find(|t| t.id == id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complaint_goes_to_its_back_office_which_works_it_live_to_resolution() {
    let up = up().await;
    let ch = channel(&up.url).await;
    let office = clerk(&up, &ch, "8101", "complaints-office").await;
    let crew = clerk(&up, &ch, "8001", "repair-crew").await;
    // the agent at their desk (its token is theirs for the CRM too)
    let mut desk = agent_on(&ch, "1001").await;
    let owner = desk.token.clone();
    let lead = super::outside::token(&ch, "2001", "supervisor 2001 pw").await;

    // the worklist and the owner's tickets are watched before the call comes in
    let mut worklist = watch(&ch, Of::BackOffice("complaints-office".into()), &office).await;
    let first = next(&mut worklist).await;
    assert!(first.snapshot && first.tickets.is_empty(), "{first:?}");
    let mut mine = watch(&ch, Of::Mine(true), &owner).await;
    assert!(next(&mut mine).await.snapshot);
    // a clerk of another group, or a front-office agent, does not get this worklist
    for token in [&crew, &owner] {
        let e = CrmServiceClient::new(ch.clone())
            .watch_tickets(authed(
                pb::WatchTicketsRequest {
                    of: Some(Of::BackOffice("complaints-office".into())),
                },
                token,
            ))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    }
    // a supervisor does
    let _floor = watch(&ch, Of::BackOffice("complaints-office".into()), &lead).await;

    // a complaint call; the agent opens a ticket at wrap-up
    desk.done(1, C::Ready(true)).await;
    let (_, ctx, mut call) = call_in(&ch, "18955551234", "3").await;
    desk.offer().await;
    desk.done(2, C::Answer(true)).await;
    until(&mut call, |e| matches!(e.event, Some(CE::Connected(_)))).await;
    desk.done(3, C::HangUp(true)).await;
    drop(ctx);
    desk.done(
        4,
        C::WrapUp(pb::WrapUp {
            disposition: "ticket-opened".into(),
            reason: "complaint.billing".into(),
            notes: "本月话费多扣 30 元".into(),
            new_tickets: vec![pb::CreateTicketRequest {
                customer_id: up.customer.id,
                kind: pb::TicketKind::Complaint as i32,
                subcategory: "billing-dispute".into(),
                description: "话费多扣".into(),
                priority: 0,
            }],
            ..Default::default()
        }),
    )
    .await;
    let created = desk
        .wait(|e| matches!(e.event, Some(E::TicketsCreated(_))))
        .await;
    let Some(E::TicketsCreated(list)) = created.event else {
        unreachable!()
    };
    let id = list.tickets[0].id;

    // dispatched by itself, and on the worklist without anyone asking
    let t = seen(&mut worklist, id).await;
    assert_eq!(t.status, pb::TicketStatus::Dispatched as i32);
    assert_eq!(t.back_office, "complaints-office");
    assert_eq!(t.history[1].by, "system");
    // with what the clerk needs of the customer: who, where, whether a key account
    assert_eq!(t.customer_name, up.customer.name);
    assert!(t.customer_area.contains(&up.customer.district), "{t:?}");
    assert!(!t.key_account);
    assert_eq!(seen(&mut mine, id).await.owner, "1001");

    let mut crm = CrmServiceClient::new(ch.clone());
    // the front office does not take or resolve it; another group's clerk does not either
    let e = change(&mut crm, id, Ch::Start(true), &owner)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    assert!(e.message().contains("back office"), "{}", e.message());
    let e = change(&mut crm, id, Ch::Start(true), &crew)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // passing it to a group that does not exist: words, nothing written
    let e = change(&mut crm, id, Ch::DispatchTo("the moon".into()), &office)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        e.message().contains("not a back-office group"),
        "{}",
        e.message()
    );

    // passed to the repair crew it leaves this worklist; passed back, it is on it again
    change(&mut crm, id, Ch::DispatchTo("repair-crew".into()), &office)
        .await
        .unwrap();
    assert_eq!(seen(&mut worklist, id).await.back_office, "repair-crew");
    change(
        &mut crm,
        id,
        Ch::DispatchTo("complaints-office".into()),
        &crew,
    )
    .await
    .unwrap();
    assert_eq!(
        seen(&mut worklist, id).await.back_office,
        "complaints-office"
    );
    seen(&mut mine, id).await;
    seen(&mut mine, id).await;

    // the clerk takes it: in progress, their id in the history, live on both lists
    change(&mut crm, id, Ch::Start(true), &office)
        .await
        .unwrap();
    let t = seen(&mut worklist, id).await;
    assert_eq!(
        (t.status, t.taken_by.as_str()),
        (pb::TicketStatus::InProgress as i32, "8101")
    );
    assert_eq!(seen(&mut mine, id).await.taken_by, "8101");
    change(&mut crm, id, Ch::Note("已核实计费记录".into()), &office)
        .await
        .unwrap();
    assert_eq!(seen(&mut mine, id).await.latest_note, "已核实计费记录");
    assert_eq!(seen(&mut worklist, id).await.history.len(), 6);
    // a resolution without its code is refused; with it, resolved
    let e = change(&mut crm, id, Ch::ResolveNote("退费".into()), &office)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let resolve = || {
        Ch::Resolve(pb::Resolution {
            code: "refunded".into(),
            note: "退还多扣话费 30 元".into(),
        })
    };
    change(&mut crm, id, resolve(), &office).await.unwrap();
    // it leaves the worklist (sent once more, resolved) and the owner sees the outcome
    let t = seen(&mut worklist, id).await;
    assert_eq!(t.status, pb::TicketStatus::Resolved as i32);
    let t = seen(&mut mine, id).await;
    assert_eq!(
        (t.resolution.as_str(), t.latest_note.as_str()),
        ("refunded", "退还多扣话费 30 元")
    );
    // resolving it again: it is not open
    let e = change(&mut crm, id, resolve(), &office).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    // the call-back is the owner's, not the clerk's
    let e = change(&mut crm, id, Ch::CallbackSatisfaction(4), &office)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    change(&mut crm, id, Ch::CallbackSatisfaction(4), &owner)
        .await
        .unwrap();
    let closed = change(&mut crm, id, Ch::Close(true), &owner).await.unwrap();
    assert_eq!(closed.status, pb::TicketStatus::Closed as i32);
    let who: Vec<&str> = closed.history.iter().map(|e| e.by.as_str()).collect();
    assert_eq!(
        who,
        [
            "1001", "system", "8101", "8001", "8101", "8101", "8101", "1001", "1001"
        ],
        "every step with who did it"
    );
    let at = |e: &pb::TicketEvent| e.at.map(|t| (t.seconds, t.nanos));
    assert!(
        closed.history.iter().all(|e| e.at.is_some())
            && closed.history.windows(2).all(|w| at(&w[0]) <= at(&w[1])),
        "every step with when"
    );
    // the closed ticket leaves "my tickets" too (after the call-back's update)
    assert_eq!(
        seen(&mut mine, id).await.status,
        pb::TicketStatus::CalledBack as i32
    );
    assert_eq!(
        seen(&mut mine, id).await.status,
        pb::TicketStatus::Closed as i32
    );
    // a fresh worklist no longer holds it
    let again =
        next(&mut watch(&ch, Of::BackOffice("complaints-office".into()), &office).await).await;
    assert!(again.snapshot && again.tickets.is_empty(), "{again:?}");
    // the list RPC gives the same worklist
    let listed = crm
        .list_tickets(authed(
            pb::ListTicketsRequest {
                by: Some(pb::list_tickets_request::By::BackOffice(
                    "complaints-office".into(),
                )),
                limit: 0,
            },
            &office,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.tickets.is_empty());
}
