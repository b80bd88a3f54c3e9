//! 回访 call-backs as routed work, over real gRPC from test clients only: a complaint's
//! ticket resolved by the back office becomes a call-back task offered to its owner
//! (首问负责); accepting it rings the customer's telephone (a test client listening on
//! the number); the agent's wrap-up records what came of it — solved closes the ticket,
//! not solved reopens it with a fresh deadline, no answer is tried again and then closes
//! the ticket as unreachable. Nobody else records a call-back for the task.

use super::back_office::{change, clerk};
use super::routing::{Desk, agent_on, call_in};
use super::*;
use hotline_proto::v1::crm_service_client::CrmServiceClient;
use pb::agent_command::Command as C;
use pb::agent_event::Event as E;
use pb::call_event::Event as CE;
use pb::ticket_change::Change as Ch;

const NUMBER: &str = "18955551234";

fn policy() -> CallBackPolicy {
    CallBackPolicy {
        queue: "callback".into(),
        attempts: 2,
        spacing: 300,
        owner_wait: 1_500,
        ring: 1_500,
        ..CallBackPolicy::default()
    }
}

/// A telephone listening for call-backs to `number`.
async fn telephone(
    ch: &Channel,
    number: &str,
) -> (
    mpsc::Sender<pb::CallerAction>,
    tonic::Streaming<pb::CallEvent>,
) {
    let (tx, rx) = mpsc::channel(16);
    tx.send(pb::CallerAction {
        action: Some(pb::caller_action::Action::Listen(pb::Listen {
            number: number.into(),
        })),
    })
    .await
    .unwrap();
    let events = CallerServiceClient::new(ch.clone())
        .call(ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    (tx, events)
}

/// The telephone answers or hangs up.
async fn act(phone: &mpsc::Sender<pb::CallerAction>, action: pb::caller_action::Action) {
    phone
        .send(pb::CallerAction {
            action: Some(action),
        })
        .await
        .unwrap();
}

/// A complaint call taken by `desk`, its ticket opened at wrap-up, then taken and
/// resolved by the complaints office's clerk: the ticket.
async fn resolved_complaint(up: &Up, ch: &Channel, desk: &mut Desk, office: &str, n: u64) -> u64 {
    let id = opened_complaint(up, ch, desk, n).await;
    resolve(ch, id, office).await;
    id
}

/// A complaint call taken by `desk`, its ticket opened at wrap-up: the ticket.
async fn opened_complaint(up: &Up, ch: &Channel, desk: &mut Desk, n: u64) -> u64 {
    desk.done(n, C::Ready(true)).await;
    let (_, ctx, mut call) = call_in(ch, NUMBER, "3").await;
    desk.offer().await;
    desk.done(n + 1, C::Answer(true)).await;
    until(&mut call, |e| matches!(e.event, Some(CE::Connected(_)))).await;
    desk.done(n + 2, C::HangUp(true)).await;
    drop(ctx);
    desk.done(
        n + 3,
        C::WrapUp(pb::WrapUp {
            disposition: "ticket-opened".into(),
            reason: "complaint.billing".into(),
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
    let Some(E::TicketsCreated(list)) = desk
        .wait(|e| matches!(e.event, Some(E::TicketsCreated(_))))
        .await
        .event
    else {
        unreachable!()
    };
    list.tickets[0].id
}

/// The complaints office's clerk takes and resolves ticket `id`.
async fn resolve(ch: &Channel, id: u64, office: &str) {
    let mut crm = CrmServiceClient::new(ch.clone());
    change(&mut crm, id, Ch::Start(true), office).await.unwrap();
    change(
        &mut crm,
        id,
        Ch::Resolve(pb::Resolution {
            code: "refunded".into(),
            note: "退还多扣话费 30 元".into(),
        }),
        office,
    )
    .await
    .unwrap();
}

/// The call-back task offered to `desk`, accepted: its offer.
async fn accept_call_back(desk: &mut Desk, ticket: u64, n: u64) -> pb::Offer {
    let offer = desk.offer().await;
    assert_eq!(offer.queue, "callback");
    let task = offer.call_back_task.clone().expect("a call-back task");
    assert_eq!(task.ticket.as_ref().map(|t| t.id), Some(ticket));
    assert_eq!(task.number, NUMBER);
    // the pop is the customer's: their number, not the hotline's
    let pop = offer.screen_pop.as_ref().expect("a screen pop");
    assert_eq!(pop.caller_number, NUMBER);
    assert!(pop.customer.is_some());
    desk.done(n, C::Answer(true)).await;
    desk.wait(|e| matches!(e.event, Some(E::Connected(_))))
        .await;
    line(desk, pb::CustomerLine::Ringing).await;
    offer
}

async fn line(desk: &mut Desk, want: pb::CustomerLine) {
    desk.wait(|e| e.event == Some(E::CustomerLine(want as i32)))
        .await;
}

fn wrap_up(reached: bool, satisfaction: u32, solved: bool) -> C {
    C::WrapUp(pb::WrapUp {
        disposition: if reached {
            "called-back"
        } else {
            "call-back-no-answer"
        }
        .into(),
        reason: "call-back.general".into(),
        call_back: Some(pb::CallBackResult {
            reached,
            satisfaction,
            solved,
        }),
        ..Default::default()
    })
}

async fn ticket(ch: &Channel, id: u64, token: &str) -> pb::Ticket {
    CrmServiceClient::new(ch.clone())
        .get_ticket(authed(pb::GetTicketRequest { id }, token))
        .await
        .unwrap()
        .into_inner()
}

/// The call's record, once written.
async fn record(up: &Up, call: u64) -> Interaction {
    for _ in 0..100 {
        if let Some(i) = up.store.interaction_by_call(call).unwrap() {
            return i;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no record of call {call}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolved_complaint_is_called_back_by_its_owner_and_closed_when_solved() {
    let up = up_call_backs(policy()).await;
    let ch = channel(&up.url).await;
    let office = clerk(&up, &ch, "8101", "complaints-office").await;
    let mut desk = agent_on(&ch, "1001").await;
    let (phone, mut rings) = telephone(&ch, NUMBER).await;
    let id = resolved_complaint(&up, &ch, &mut desk, &office, 1).await;

    // offered to the owner, who accepts: the customer's telephone rings
    let offer = accept_call_back(&mut desk, id, 10).await;
    let task = offer.call_back_task.as_ref().unwrap();
    assert_eq!((task.attempt, task.attempts), (1, 2));
    let ring = until(&mut rings, |e| matches!(e.event, Some(CE::Ringing(_)))).await;
    assert_eq!(ring.call_id, offer.call_id);
    let Some(CE::Ringing(r)) = &ring.event else {
        unreachable!()
    };
    assert_eq!(
        (r.from.as_str(), r.to.as_str(), r.ticket),
        ("1000", NUMBER, id)
    );
    // the customer answers; both sides know
    act(&phone, pb::caller_action::Action::Answer(offer.call_id)).await;
    line(&mut desk, pb::CustomerLine::Answered).await;
    let heard = until(&mut rings, |e| matches!(e.event, Some(CE::Connected(_)))).await;
    assert_eq!(heard.event, Some(CE::Connected("1001".into())));
    desk.done(11, C::HangUp(true)).await;
    let bye = until(&mut rings, |e| matches!(e.event, Some(CE::Ended(_)))).await;
    assert_eq!(bye.event, Some(CE::Ended("completed".into())));

    // a call-back's wrap-up must say what came of it; satisfaction is 1–5
    desk.send(
        12,
        C::WrapUp(pb::WrapUp {
            disposition: "called-back".into(),
            reason: "call-back.general".into(),
            ..Default::default()
        }),
    )
    .await;
    let e = desk.error().await;
    assert_eq!(e.code, "FAILED_PRECONDITION", "{e:?}");
    assert!(e.message.contains("call-back"), "{}", e.message);
    desk.send(13, wrap_up(true, 9, true)).await;
    let e = desk.error().await;
    assert_eq!(e.code, "INVALID_ARGUMENT", "{e:?}");
    assert_eq!(
        ticket(&ch, id, &desk.token).await.status,
        pb::TicketStatus::Resolved as i32
    );
    desk.done(14, wrap_up(true, 4, true)).await;

    // closed, with the satisfaction, every step with who and when
    let t = ticket(&ch, id, &desk.token).await;
    assert_eq!(t.status, pb::TicketStatus::Closed as i32, "{t:#?}");
    assert_eq!(t.satisfaction, 4);
    let steps: Vec<(&str, i32)> = t
        .history
        .iter()
        .map(|e| (e.by.as_str(), e.status))
        .collect();
    use pb::TicketStatus as S;
    assert_eq!(
        steps,
        [
            ("1001", S::New as i32),
            ("system", S::Dispatched as i32),
            ("8101", S::InProgress as i32),
            ("8101", S::Resolved as i32),
            ("1001", S::CalledBack as i32),
            ("1001", S::Closed as i32),
        ]
    );
    assert!(t.history.iter().all(|e| e.at.is_some()));
    // the call-back has its one record: outbound, about the ticket, no FCR claim
    let i = record(&up, offer.call_id).await;
    assert_eq!(i.queue.as_deref(), Some("callback"));
    assert_eq!(i.reason.as_deref(), Some("call-back.general"));
    assert_eq!(i.disposition.as_deref(), Some("called-back"));
    assert_eq!(
        (i.caller_number.as_str(), i.dialled.as_str()),
        ("1000", NUMBER)
    );
    assert_eq!(i.tickets, [id]);
    assert_eq!(i.agents, ["1001"]);
    assert!(!i.fcr_claimed);
    assert_eq!(i.end, CallEnd::Completed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_solved_reopens_the_ticket_with_a_fresh_deadline() {
    let up = up_call_backs(policy()).await;
    let ch = channel(&up.url).await;
    let office = clerk(&up, &ch, "8101", "complaints-office").await;
    let mut desk = agent_on(&ch, "1001").await;
    let (phone, mut rings) = telephone(&ch, NUMBER).await;
    let id = resolved_complaint(&up, &ch, &mut desk, &office, 1).await;
    let before = ticket(&ch, id, &desk.token).await.deadline;
    let offer = accept_call_back(&mut desk, id, 10).await;
    until(&mut rings, |e| matches!(e.event, Some(CE::Ringing(_)))).await;
    act(&phone, pb::caller_action::Action::Answer(offer.call_id)).await;
    line(&mut desk, pb::CustomerLine::Answered).await;
    // the customer hangs up first: the agent goes to wrap-up
    act(&phone, pb::caller_action::Action::EndCall(offer.call_id)).await;
    line(&mut desk, pb::CustomerLine::HungUp).await;
    desk.wait(|e| matches!(e.event, Some(E::ConversationEnded(_))))
        .await;
    desk.done(11, wrap_up(true, 2, false)).await;
    let t = ticket(&ch, id, &desk.token).await;
    assert_eq!(t.status, pb::TicketStatus::Reopened as i32);
    assert_eq!(t.satisfaction, 2);
    let (b, a) = (before.unwrap(), t.deadline.unwrap());
    assert!(
        (a.seconds, a.nanos) > (b.seconds, b.nanos),
        "a fresh deadline"
    );
    // back on its group's worklist
    let list = CrmServiceClient::new(ch.clone())
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
    assert!(list.tickets.iter().any(|t| t.id == id), "{list:?}");
    // worked again and resolved: a second call-back rings the same telephone, which
    // stays open from one call to the next; this time it is solved
    resolve(&ch, id, &office).await;
    let offer = accept_call_back(&mut desk, id, 20).await;
    let ring = until(&mut rings, |e| matches!(e.event, Some(CE::Ringing(_)))).await;
    assert_eq!(ring.call_id, offer.call_id);
    act(&phone, pb::caller_action::Action::Answer(offer.call_id)).await;
    line(&mut desk, pb::CustomerLine::Answered).await;
    desk.done(21, C::HangUp(true)).await;
    desk.done(22, wrap_up(true, 5, true)).await;
    let t = ticket(&ch, id, &desk.token).await;
    assert_eq!(
        (t.status, t.satisfaction),
        (pb::TicketStatus::Closed as i32, 5)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_is_tried_again_and_then_the_ticket_is_closed_unreachable() {
    let up = up_call_backs(policy()).await;
    let ch = channel(&up.url).await;
    let office = clerk(&up, &ch, "8101", "complaints-office").await;
    let mut desk = agent_on(&ch, "1001").await;
    // no telephone listens on the number: it rings into the void
    let id = resolved_complaint(&up, &ch, &mut desk, &office, 1).await;
    for (attempt, n) in [(1u32, 10u64), (2, 20)] {
        let offer = accept_call_back(&mut desk, id, n).await;
        assert_eq!(offer.call_back_task.as_ref().unwrap().attempt, attempt);
        line(&mut desk, pb::CustomerLine::NoAnswer).await;
        desk.done(n + 1, C::HangUp(true)).await;
        // reached is not what happened: refused, nothing written
        desk.send(n + 2, wrap_up(true, 5, true)).await;
        let e = desk.error().await;
        assert_eq!(e.code, "FAILED_PRECONDITION", "{e:?}");
        assert!(e.message.contains("did not answer"), "{}", e.message);
        let t = ticket(&ch, id, &desk.token).await;
        assert_eq!(t.status, pb::TicketStatus::Resolved as i32);
        desk.done(n + 3, wrap_up(false, 0, false)).await;
    }
    let t = ticket(&ch, id, &desk.token).await;
    assert_eq!(t.status, pb::TicketStatus::Closed as i32);
    let tail: Vec<Option<&Ch>> = t.history[4..]
        .iter()
        .map(|e| e.change.as_ref().and_then(|c| c.change.as_ref()))
        .collect();
    assert_eq!(
        tail,
        [
            Some(&Ch::CallBackNoAnswer(1)),
            Some(&Ch::CallBackNoAnswer(2)),
            Some(&Ch::ClosedUnreachableAfter(2)),
        ],
        "{t:?}"
    );
    // no third attempt
    desk.no_offer_for(800).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_away_leaves_the_call_back_to_the_group_and_only_its_agent_records_it() {
    let up = up_call_backs(policy()).await;
    let ch = channel(&up.url).await;
    let office = clerk(&up, &ch, "8101", "complaints-office").await;
    let mut owner = agent_on(&ch, "1001").await;
    let id = opened_complaint(&up, &ch, &mut owner, 1).await;
    // the owner's shift ended before the resolution came: the task waits for them a
    // while, then goes to the call-back group (1002)
    owner.send(9, C::Logout(true)).await;
    owner.wait(|e| matches!(e.event, Some(E::Closed(_)))).await;
    let mut other = agent_on(&ch, "1002").await;
    other.done(1, C::Ready(true)).await;
    let resolved = std::time::Instant::now();
    resolve(&ch, id, &office).await;
    let offer = accept_call_back(&mut other, id, 2).await;
    assert!(
        resolved.elapsed() >= Duration::from_millis(1_400),
        "waited for the owner"
    );
    // back at their desk, the owner cannot record the task routed to 1002
    let mut owner = agent_on(&ch, "1001").await;
    owner
        .tx
        .send(pb::AgentCommand {
            command_id: 50,
            command: Some(wrap_up(false, 0, false)),
            call_id: offer.call_id,
        })
        .await
        .unwrap();
    let e = owner.error().await;
    assert_eq!(e.code, "FAILED_PRECONDITION", "{e:?}");
    assert!(e.message.contains("not your call"), "{}", e.message);
    line(&mut other, pb::CustomerLine::NoAnswer).await;
    other.done(3, C::HangUp(true)).await;
    other.done(4, wrap_up(false, 0, false)).await;
    let t = ticket(&ch, id, &other.token).await;
    let last = t.history.last().unwrap();
    assert_eq!(last.by, "1002");
    assert_eq!(
        t.status,
        pb::TicketStatus::Resolved as i32,
        "one attempt left"
    );
}
