//! Routing over gRPC: order and priority, the green channel and the account manager,
//! ring-no-answer, abandons, transfers, callbacks, self-service, wrong digits, FCR.

use super::*;
use hotline_acd::Span;
use pb::agent_command::Command as C;
use pb::agent_event::Event as E;
use pb::call_event::Event as CE;

/// An agent's desktop over gRPC: commands out, events in; events a step was not
/// waiting for are kept for the next step (an offer can arrive before a `done`).
pub(super) struct Desk {
    pub(super) tx: mpsc::Sender<pb::AgentCommand>,
    pub(super) events: tonic::Streaming<pb::AgentEvent>,
    kept: std::collections::VecDeque<pb::AgentEvent>,
    /// The session's token (another login would revoke it).
    pub(super) token: String,
}

/// Agent `id` logged in with an open session (logged in = not ready).
pub(super) async fn agent_on(ch: &Channel, id: &str) -> Desk {
    let login = AgentServiceClient::new(ch.clone())
        .login(pb::LoginRequest {
            agent_id: id.into(),
            password: format!("correct horse {id}"),
            language: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let (tx, rx) = mpsc::channel(16);
    let events = AgentServiceClient::new(ch.clone())
        .session(authed(ReceiverStream::new(rx), &login.token))
        .await
        .unwrap()
        .into_inner();
    Desk {
        tx,
        events,
        kept: Default::default(),
        token: login.token,
    }
}

impl Desk {
    pub(super) async fn send(&self, id: u64, c: C) {
        self.tx.send(cmd(id, c)).await.unwrap();
    }

    /// The first event (kept or new) matching `pred`; the others are kept.
    pub(super) async fn wait(&mut self, pred: impl Fn(&pb::AgentEvent) -> bool) -> pb::AgentEvent {
        if let Some(k) = self.kept.iter().position(&pred) {
            return self.kept.remove(k).unwrap();
        }
        for _ in 0..50 {
            let ev = next(&mut self.events).await;
            if pred(&ev) {
                return ev;
            }
            // a desk answers the router's heartbeats
            if let Some(E::Heartbeat(n)) = ev.event {
                let _ = self.tx.send(cmd(0, C::HeartbeatAck(n))).await;
                continue;
            }
            self.kept.push_back(ev);
        }
        panic!("never saw the event; kept {:?}", self.kept);
    }

    /// Send a command and wait until it is done.
    pub(super) async fn done(&mut self, id: u64, c: C) {
        self.send(id, c).await;
        let ev = self
            .wait(|e| {
                matches!(e.event, Some(E::Done(n)) | Some(E::Error(pb::CommandError { command_id: n, .. })) if n == id)
            })
            .await;
        assert_eq!(ev.event, Some(E::Done(id)), "command {id} failed");
    }

    /// The next offer.
    pub(super) async fn offer(&mut self) -> pb::Offer {
        match self
            .wait(|e| matches!(e.event, Some(E::Offer(_))))
            .await
            .event
        {
            Some(E::Offer(o)) => o,
            _ => unreachable!(),
        }
    }

    /// The next command error.
    pub(super) async fn error(&mut self) -> pb::CommandError {
        match self
            .wait(|e| matches!(e.event, Some(E::Error(_))))
            .await
            .event
        {
            Some(E::Error(e)) => e,
            _ => unreachable!(),
        }
    }

    /// No offer rings for `ms` milliseconds.
    pub(super) async fn no_offer_for(&mut self, ms: u64) {
        let is_offer = |e: &pb::AgentEvent| matches!(e.event, Some(E::Offer(_)));
        assert!(!self.kept.iter().any(is_offer), "{:?}", self.kept);
        quiet(&mut self.events, ms, is_offer).await;
    }
}

/// A caller dials and presses `keys`: the call's id, the caller's actions and events.
pub(super) async fn call_in(
    ch: &Channel,
    from: &str,
    keys: &str,
) -> (
    u64,
    mpsc::Sender<pb::CallerAction>,
    tonic::Streaming<pb::CallEvent>,
) {
    let (ctx, mut call) = dial(ch, from).await;
    let id = next(&mut call).await.call_id; // the greeting
    if !keys.is_empty() {
        press(&ctx, keys).await;
    }
    (id, ctx, call)
}

/// As [`call_in`], returning once the call waits in its queue (no agent free).
async fn queued(
    ch: &Channel,
    from: &str,
    keys: &str,
) -> (
    u64,
    mpsc::Sender<pb::CallerAction>,
    tonic::Streaming<pb::CallEvent>,
) {
    let (id, ctx, mut call) = call_in(ch, from, keys).await;
    until(&mut call, |e| matches!(e.event, Some(CE::Queued(_)))).await;
    (id, ctx, call)
}

/// Nothing matching `pred` arrives on `s` for `ms` milliseconds.
async fn quiet<T: std::fmt::Debug>(
    s: &mut tonic::Streaming<T>,
    ms: u64,
    pred: impl Fn(&T) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    while let Ok(Ok(Some(m))) = tokio::time::timeout_at(deadline, s.message()).await {
        assert!(!pred(&m), "unexpected {m:?}");
    }
}

/// The interaction record of `call`, once written.
async fn record_of(store: &Store, call: u64) -> Interaction {
    for _ in 0..100 {
        let found = store
            .interactions_between(0, u64::MAX, 1000)
            .unwrap()
            .into_iter()
            .find(|i| i.call_id == call);
        if let Some(i) = found {
            return i;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no record of call {call}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_wait_in_order_and_a_key_account_goes_first_to_its_manager() {
    let up = up().await;
    let ch = channel(&up.url).await;
    let mut vip = seed::customer(9, 2, DEFAULT_NOW);
    vip.id = 0;
    vip.phones = vec!["18955559999".into()];
    vip.segment = Segment::KeyAccount;
    vip.account_manager = Some("1002".into());
    let vip = up.store.put_customer(vip).unwrap();
    let mut d1 = agent_on(&ch, "1001").await;
    let mut d2 = agent_on(&ch, "1002").await;

    // nobody ready: two public callers queue for inquiries, then the key account calls
    let (first, _c1, _s1) = queued(&ch, "18900000001", "1").await;
    let (second, _c2, _s2) = queued(&ch, "18900000002", "1").await;
    let (green, _c3, _s3) = queued(&ch, "18955559999", "").await;

    // 1001 takes the head of the inquiry line: the key account waits for its manager
    d1.done(1, C::Ready(true)).await;
    let o = d1.offer().await;
    assert_eq!((o.call_id, o.queue.as_str()), (first, "inquiry"));
    // the manager gets the key account ahead of the public caller who waited longer
    d2.done(1, C::Ready(true)).await;
    let o = d2.offer().await;
    assert_eq!((o.call_id, o.queue.as_str()), (green, "green-channel"));
    assert!(
        o.priority > 0,
        "the green channel has a higher priority class"
    );
    let pop = o.screen_pop.unwrap();
    let c = pop.customer.unwrap();
    assert_eq!(c.id, vip.id);
    assert_eq!(c.segment, pb::Segment::KeyAccount as i32);
    assert_eq!(c.account_manager, "1002");
    assert_eq!(pop.reason, "key-account");
    // the second public caller is still waiting, first in line now
    let _ = second;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_offer_rings_out_to_the_next_agent() {
    let up = up_custom(None, None, |q| q.ring_timeout = Some(Span::from_secs(1))).await;
    let ch = channel(&up.url).await;
    let mut d1 = agent_on(&ch, "1001").await;
    let mut d2 = agent_on(&ch, "1002").await;
    d1.done(1, C::Ready(true)).await;
    let (call, _ctx, mut events) = call_in(&ch, "18900000003", "1").await;
    let o = d1.offer().await;
    assert_eq!(o.call_id, call);
    assert!(o.ring_until.is_some());
    // 1001 lets it ring: withdrawn, and 1001 is not ready "no answer"
    let gone = d1
        .wait(|e| matches!(e.event, Some(E::OfferCancelled(_))))
        .await;
    assert_eq!(gone.event, Some(E::OfferCancelled("no answer".into())));
    d1.wait(|e| {
        matches!(&e.event, Some(E::State(s))
            if s.state == pb::AgentState::NotReady as i32
                && s.reason.as_ref().is_some_and(|r| r.code == 1 && r.label == "no answer"))
    })
    .await;
    // the call goes to the next agent, and the caller was never cut off
    d2.done(1, C::Ready(true)).await;
    assert_eq!(d2.offer().await.call_id, call);
    d2.done(2, C::Answer(true)).await;
    let ev = until(&mut events, |e| {
        matches!(e.event, Some(CE::Connected(_)) | Some(CE::Ended(_)))
    })
    .await;
    assert_eq!(ev.event, Some(CE::Connected("1002".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_who_give_up_waiting_or_ringing_end_abandoned_and_never_reach_an_agent() {
    let up = up().await;
    let ch = channel(&up.url).await;
    let mut d1 = agent_on(&ch, "1001").await;
    // hangs up while waiting
    let (waiting, ctx, mut _s) = queued(&ch, "18900000004", "1").await;
    ctx.send(pb::CallerAction {
        action: Some(pb::caller_action::Action::HangUp(true)),
    })
    .await
    .unwrap();
    let rec = record_of(&up.store, waiting).await;
    assert_eq!(rec.end, CallEnd::Abandoned);
    assert!(rec.agents.is_empty());
    // the router closes the line's stream: nothing is left open for a caller who is gone
    let closed = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(Some(_)) = _s.message().await {}
    })
    .await;
    assert!(
        closed.is_ok(),
        "the caller's stream stays open after hanging up"
    );
    // the agent goes ready: nothing rings, the abandoned call is gone
    d1.done(1, C::Ready(true)).await;
    d1.no_offer_for(300).await;

    // hangs up while ringing: the offer is withdrawn and answering is refused
    let (ringing, ctx, _s) = call_in(&ch, "18900000005", "1").await;
    assert_eq!(d1.offer().await.call_id, ringing);
    drop(ctx); // the line closes
    let gone = d1
        .wait(|e| matches!(e.event, Some(E::OfferCancelled(_))))
        .await;
    assert_eq!(gone.event, Some(E::OfferCancelled("caller hung up".into())));
    d1.send(2, C::Answer(true)).await;
    let err = d1.error().await;
    assert_eq!(err.code, "FAILED_PRECONDITION");
    let rec = record_of(&up.store, ringing).await;
    assert_eq!(rec.end, CallEnd::Abandoned);
    assert!(rec.answered.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_hands_the_caller_to_another_queue_and_agent() {
    let up = up().await;
    let ch = channel(&up.url).await;
    let mut d1 = agent_on(&ch, "1001").await;
    let mut d2 = agent_on(&ch, "1002").await;
    d1.done(1, C::Ready(true)).await;
    let (call, ctx, mut events) = call_in(&ch, "18955551234", "1").await;
    assert_eq!(d1.offer().await.call_id, call);
    d1.done(2, C::Answer(true)).await;
    // a transfer to a queue that does not exist is refused in words; the call stays
    d1.send(3, C::TransferToQueue("billing-dept".into())).await;
    let err = d1.error().await;
    assert_eq!(err.command_id, 3);
    assert!(err.message.contains("billing-dept"), "{}", err.message);
    // a complaint: 1001 hands it to the complaint queue; 1002 takes it there
    d1.done(4, C::TransferToQueue("complaint".into())).await;
    d2.done(1, C::Ready(true)).await;
    let o = d2.offer().await;
    assert_eq!((o.call_id, o.queue.as_str()), (call, "complaint"));
    d2.done(2, C::Answer(true)).await;
    until(&mut events, |e| {
        e.event == Some(CE::Connected("1002".into()))
    })
    .await;
    d2.done(3, C::HangUp(true)).await;
    drop(ctx); // the caller leaves without the survey
    d2.done(
        4,
        C::WrapUp(pb::WrapUp {
            disposition: "answered".into(),
            reason: "complaint.billing".into(),
            ..Default::default()
        }),
    )
    .await;
    // 1001 wraps up the first leg as well
    d1.done(
        5,
        C::WrapUp(pb::WrapUp {
            disposition: "transferred".into(),
            reason: "complaint.billing".into(),
            ..Default::default()
        }),
    )
    .await;
    let rec = record_of(&up.store, call).await;
    assert_eq!(rec.agents, ["1001", "1002"]);
    assert_eq!(rec.transfers, 1);
    assert_eq!(
        rec.queue.as_deref(),
        Some("inquiry"),
        "the queue the caller chose"
    );
    assert_eq!(rec.customer, Some(up.customer.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booked_callback_keeps_its_place_after_the_caller_hangs_up() {
    let up = up_custom(None, None, |q| {
        q.callback_threshold = Some(Span::from_secs(60))
    })
    .await;
    let ch = channel(&up.url).await;
    // logged in but not ready: the estimated wait is long
    let mut d1 = agent_on(&ch, "1001").await;
    let (ctx, mut events) = dial(&ch, "18900000006").await;
    press(&ctx, "1").await;
    let ev = until(&mut events, |e| {
        matches!(e.event, Some(CE::CallbackOffered(_)))
    })
    .await;
    let call = ev.call_id;
    ctx.send(pb::CallerAction {
        action: Some(pb::caller_action::Action::AcceptCallback(true)),
    })
    .await
    .unwrap();
    until(&mut events, |e| {
        matches!(e.event, Some(CE::CallbackBooked(_)))
    })
    .await;
    drop(ctx); // the line is released
    // a caller who stays on the line queues behind the booked callback
    let (later, _c, mut s) = call_in(&ch, "18900000007", "1").await;
    until(&mut s, |e| matches!(e.event, Some(CE::CallbackOffered(_)))).await;
    d1.done(1, C::Ready(true)).await;
    let o = d1.offer().await;
    assert_eq!((o.call_id, o.callback), (call, true));
    assert_ne!(o.call_id, later);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_service_and_wrong_digits_stay_in_the_ivr() {
    let up = up().await;
    let ch = channel(&up.url).await;
    let mut d1 = agent_on(&ch, "1001").await;
    d1.done(1, C::Ready(true)).await;
    let prompt = |e: &pb::CallEvent, text: &str| matches!(&e.event, Some(CE::Prompt(p)) if p.text.contains(text));

    // a wrong key: told so, and the menu again
    let (ctx, mut call) = dial(&ch, "18955551234").await;
    until(&mut call, |e| prompt(e, "业务咨询请按1")).await;
    press(&ctx, "7").await;
    until(&mut call, |e| prompt(e, "输入有误")).await;
    until(&mut call, |e| prompt(e, "业务咨询请按1")).await;
    // bill and balance from the store, then goodbye: no agent involved
    press(&ctx, "5").await;
    until(&mut call, |e| prompt(e, "余额")).await;
    press(&ctx, "9").await;
    let end = until(&mut call, |e| matches!(e.event, Some(CE::Ended(_)))).await;
    assert_eq!(end.event, Some(CE::Ended("self-service".into())));
    let rec = record_of(&up.store, end.call_id).await;
    assert_eq!(rec.end, CallEnd::SelfService);
    assert_eq!(
        rec.self_service,
        Some(SelfService::Completed("bill".into()))
    );
    assert_eq!(rec.ivr_path[..3], ["welcome", "wrong key 7", "key 5"]);

    // a fault report without an agent opens a fault ticket for the caller
    let before = up.store.tickets_of_customer(up.customer.id).unwrap().len();
    let (ctx, mut call) = dial(&ch, "18955551234").await;
    press(&ctx, "2").await;
    press(&ctx, "1").await;
    until(&mut call, |e| prompt(e, "已为您登记故障")).await;
    until(&mut call, |e| prompt(e, "结束通话请按9")).await;
    press(&ctx, "9").await;
    let end = until(&mut call, |e| matches!(e.event, Some(CE::Ended(_)))).await;
    assert_eq!(end.event, Some(CE::Ended("self-service".into())));
    let tickets = up.store.tickets_of_customer(up.customer.id).unwrap();
    assert_eq!(tickets.len(), before + 1);
    d1.no_offer_for(300).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_contact_resolution_is_claimed_at_wrap_up_and_settled_later() {
    let up = up().await;
    let ch = channel(&up.url).await;
    let mut d1 = agent_on(&ch, "1001").await;
    d1.done(1, C::Ready(true)).await;
    let mut calls = Vec::new();
    // two calls about the same thing: the second one undoes the first one's claim
    for (k, from) in ["18955551234", "18955551234", "18900000008"]
        .iter()
        .enumerate()
    {
        let k = k as u64 * 10;
        let (call, ctx, mut events) = call_in(&ch, from, "1").await;
        assert_eq!(d1.offer().await.call_id, call);
        d1.done(k + 2, C::Answer(true)).await;
        until(&mut events, |e| matches!(e.event, Some(CE::Connected(_)))).await;
        d1.done(k + 3, C::HangUp(true)).await;
        drop(ctx);
        d1.done(
            k + 4,
            C::WrapUp(pb::WrapUp {
                disposition: "answered".into(),
                reason: "inquiry.package".into(),
                resolved_first_contact: true,
                ..Default::default()
            }),
        )
        .await;
        d1.done(k + 5, C::Ready(true)).await;
        calls.push(call);
    }
    // the later records first: once the second is in, the first one's FCR is settled
    // (by the second's write, or by its own if it landed last)
    let second = record_of(&up.store, calls[1]).await;
    let stranger = record_of(&up.store, calls[2]).await;
    let first = record_of(&up.store, calls[0]).await;
    assert!(first.fcr_claimed && second.fcr_claimed && stranger.fcr_claimed);
    assert_eq!(first.fcr_verified, Some(false), "the customer called again");
    // eight days on, the store settles what is left: the second call held; an unknown
    // caller cannot be checked and stays unverified
    up.store
        .settle_fcr(second.ended + 8 * 24 * 3_600_000)
        .unwrap();
    let second = record_of(&up.store, calls[1]).await;
    let stranger = record_of(&up.store, calls[2]).await;
    assert_eq!(second.fcr_verified, Some(true));
    assert_eq!(stranger.fcr_verified, None);

    // the supervisor's statistics carry FCR per queue and per agent, from the store
    let boss = super::outside::token(&ch, "2001", "supervisor 2001 pw").await;
    let mut stats =
        hotline_proto::v1::supervisor_service_client::SupervisorServiceClient::new(ch.clone())
            .watch_stats(authed(pb::WatchStatsRequest::default(), &boss))
            .await
            .unwrap()
            .into_inner();
    let of = |u: &pb::StatsUpdate, queue: &str, agent: &str| {
        u.fcr
            .iter()
            .find(|f| f.queue == queue && f.agent_id == agent)
            .map(|f| (f.handled, f.claimed, f.verified, f.not_resolved))
    };
    // the minutely figures come every second here; wait for ones that know the calls
    let u = until(&mut stats, |u| {
        of(u, "inquiry", "").is_some_and(|f| f.0 == 3)
    })
    .await;
    assert_eq!(
        of(&u, "inquiry", ""),
        Some((3, 3, 1, 1)),
        "three handled and claimed; the first one repeated, the second verified"
    );
    assert_eq!(of(&u, "", "1001"), Some((3, 3, 1, 1)));
}
