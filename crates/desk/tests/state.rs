//! `update()` on plain state: the agent's screen and the wallboard, no window, no router.
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use hotline_desk::agent::{Agent, Link, Message as M};
use hotline_desk::i18n::Lang;
use hotline_desk::supervisor::{Message as S, SortBy, Wallboard};
use hotline_proto::v1 as pb;
use pb::agent_command::Command as C;
use pb::agent_event::Event as E;
use std::time::{Duration, Instant, SystemTime};

fn ev(e: E) -> M {
    M::Router(Box::new(pb::AgentEvent { event: Some(e) }))
}

fn state(s: pb::AgentState) -> M {
    ev(E::State(pb::StateChange {
        state: s as i32,
        reason: None,
        since: None,
        wrap_up_until: None,
    }))
}

fn in_secs(s: u64) -> prost_types::Timestamp {
    let t = SystemTime::now() + Duration::from_secs(s);
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap();
    prost_types::Timestamp {
        seconds: d.as_secs() as i64,
        nanos: 0,
    }
}

fn offer(call: u64) -> pb::Offer {
    pb::Offer {
        call_id: call,
        queue: "fault".into(),
        callback: false,
        ring_until: Some(in_secs(15)),
        screen_pop: Some(pb::ScreenPop {
            caller_number: "18955551234".into(),
            customer: Some(pb::Customer {
                id: 42,
                name: "张伟".into(),
                segment: pb::Segment::KeyAccount as i32,
                account_manager: "2001".into(),
                ..Default::default()
            }),
            open_tickets: vec![],
            recent: vec![],
            ivr_path: vec!["welcome".into(), "key 2".into()],
            reason: "fault".into(),
            store_unavailable: false,
            ivr_steps: vec![],
            incident: None,
        }),
        priority: 5,
        call_back_task: None,
    }
}

fn commands(out: Vec<pb::AgentCommand>) -> Vec<C> {
    out.into_iter().filter_map(|c| c.command).collect()
}

/// An agent who is ready, with a call ringing.
fn ringing() -> (Agent, Instant) {
    let now = Instant::now();
    let mut a = Agent::new(
        "2001",
        "坐席 2001",
        vec!["fault".into(), "inquiry".into()],
        now,
    );
    a.update(M::Link(Link::Online), Lang::Zh, now);
    a.update(state(pb::AgentState::Ready), Lang::Zh, now);
    a.update(ev(E::Offer(offer(7))), Lang::Zh, now);
    (a, now)
}

#[test]
fn an_offer_pops_the_customer_and_rings_with_a_countdown() {
    let (a, now) = ringing();
    assert_eq!(a.status_key(), "state.offered");
    let pop = a.pop.as_ref().unwrap();
    assert_eq!(pop.customer.as_ref().unwrap().name, "张伟");
    let left = a.rings_left(now).unwrap();
    assert!((13..=15).contains(&left), "{left}");
}

#[test]
fn a_call_from_answer_to_wrap_up_sends_the_right_commands() {
    let (mut a, now) = ringing();
    let out = commands(a.update(M::Answer, Lang::Zh, now));
    assert_eq!(out, [C::Answer(true)]);
    a.update(ev(E::Connected(7)), Lang::Zh, now);
    a.update(state(pb::AgentState::Connected), Lang::Zh, now);
    assert!(a.ringing.is_none());
    assert_eq!(a.call.as_ref().unwrap().queue, "fault");
    // hold, resume, notes
    assert_eq!(commands(a.update(M::Hold, Lang::Zh, now)), [C::Hold(true)]);
    assert_eq!(a.status_key(), "state.on_hold");
    assert_eq!(
        commands(a.update(M::Resume, Lang::Zh, now)),
        [C::Resume(true)]
    );
    a.update(M::Hold, Lang::Zh, now);
    assert_eq!(
        commands(a.update(M::HoldToggle, Lang::Zh, now)),
        [C::Resume(true)],
        "F5 resumes a held call"
    );
    assert_eq!(
        commands(a.update(M::HoldToggle, Lang::Zh, now)),
        [C::Hold(true)]
    );
    a.update(M::Resume, Lang::Zh, now);
    a.update(M::Notes("光猫灯不亮".into()), Lang::Zh, now);
    // a ticket written during the call
    a.update(M::TicketKind(0), Lang::Zh, now); // fault
    a.update(M::TicketSubcategory(0), Lang::Zh, now);
    a.update(M::TicketDescription("宽带无法上网".into()), Lang::Zh, now);
    a.update(M::TicketPriority(3), Lang::Zh, now);
    a.update(M::TicketAttach(true), Lang::Zh, now);
    assert_eq!(
        commands(a.update(M::HangUp, Lang::Zh, now)),
        [C::HangUp(true)]
    );
    a.update(
        ev(E::ConversationEnded("agent hung up".into())),
        Lang::Zh,
        now,
    );
    a.update(state(pb::AgentState::AfterCallWork), Lang::Zh, now);

    // the wrap-up cannot be finished without disposition and reason
    assert!(commands(a.update(M::FinishWrapUp, Lang::Zh, now)).is_empty());
    assert_eq!(a.notice.as_deref(), Some("请填写处理结果和来电原因"));
    assert!(
        commands(a.update(M::Ready, Lang::Zh, now)).is_empty(),
        "not ready before wrap-up"
    );
    a.update(M::Disposition("ticket-opened".into()), Lang::Zh, now);
    a.update(M::Reason("fault.broadband".into()), Lang::Zh, now);
    a.update(M::Fcr(true), Lang::Zh, now);
    let out = commands(a.update(M::Ready, Lang::Zh, now));
    let [C::WrapUp(w)] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(
        (w.disposition.as_str(), w.reason.as_str()),
        ("ticket-opened", "fault.broadband")
    );
    assert_eq!(w.notes, "光猫灯不亮");
    assert!(w.resolved_first_contact);
    let t = &w.new_tickets[0];
    assert_eq!(
        (t.customer_id, t.kind, t.subcategory.as_str(), t.priority),
        (
            42,
            pb::TicketKind::Fault as i32,
            "broadband-down",
            pb::TicketPriority::High as i32
        )
    );
    // the router ends the wrap-up: the shift counts the call, and Ready goes out by itself
    let later = now + Duration::from_secs(200);
    let out = commands(a.update(state(pb::AgentState::NotReady), Lang::Zh, later));
    assert_eq!(out, [C::Ready(true)]);
    assert_eq!(a.shift.calls, 1);
    assert_eq!(a.shift.fcr, 1);
    assert!((a.shift.aht().unwrap() - 200.0).abs() < 1.0);
    assert!(a.call.is_none() && a.notes.is_empty() && !a.ticket.attach);
}

#[test]
fn buttons_for_a_state_the_agent_is_not_in_send_nothing() {
    let now = Instant::now();
    let mut a = Agent::new("2001", "x", vec![], now);
    for m in [
        M::Answer,
        M::Reject,
        M::Hold,
        M::HangUp,
        M::Transfer,
        M::FinishWrapUp,
        M::Extend,
    ] {
        assert!(a.update(m, Lang::En, now).is_empty());
    }
}

#[test]
fn transfers_go_to_a_queue_by_name_or_to_an_agent_by_number() {
    let (mut a, now) = ringing();
    a.update(ev(E::Connected(7)), Lang::Zh, now);
    a.update(state(pb::AgentState::Connected), Lang::Zh, now);
    a.update(M::TransferTo("inquiry".into()), Lang::Zh, now);
    assert_eq!(
        commands(a.update(M::Transfer, Lang::Zh, now)),
        [C::TransferToQueue("inquiry".into())]
    );
    a.update(M::TransferTo(" 2002 ".into()), Lang::Zh, now);
    assert_eq!(
        commands(a.update(M::Transfer, Lang::Zh, now)),
        [C::TransferToAgent("2002".into())]
    );
}

#[test]
fn heartbeats_are_answered_and_a_lost_link_keeps_what_was_typed() {
    let (mut a, now) = ringing();
    assert_eq!(
        commands(a.update(ev(E::Heartbeat(9)), Lang::Zh, now)),
        [C::HeartbeatAck(9)]
    );
    a.update(M::Disposition("answered".into()), Lang::Zh, now);
    a.update(M::TicketDescription("信号差".into()), Lang::Zh, now);
    a.update(
        M::Link(Link::Reconnecting(1, "router gone".into())),
        Lang::Zh,
        now,
    );
    a.update(M::Link(Link::Online), Lang::Zh, now);
    assert_eq!(a.wrap.disposition, "answered");
    assert_eq!(a.ticket.description, "信号差");
    // logged in elsewhere: said in words, for good
    a.update(
        ev(E::Closed(pb::SessionClosed {
            reason: "logged in elsewhere".into(),
            code: pb::SessionEnd::LoggedInElsewhere as i32,
        })),
        Lang::Zh,
        now,
    );
    assert_eq!(
        a.link,
        Link::Closed("您已在其他地方登录，本窗口已断开".into())
    );
}

#[test]
fn not_ready_reasons_are_shown_in_the_screens_language() {
    let now = Instant::now();
    let mut a = Agent::new("2001", "x", vec![], now);
    let break_ = ev(E::State(pb::StateChange {
        state: pb::AgentState::NotReady as i32,
        reason: Some(pb::NotReadyReason {
            code: 16,
            label: "break".into(),
        }),
        since: None,
        wrap_up_until: None,
    }));
    a.update(break_.clone(), Lang::Zh, now);
    assert_eq!(a.reason, "小休");
    a.update(break_, Lang::En, now);
    assert_eq!(a.reason, "break");
}

fn stats(queue: &str, waiting: u32, sl: f64, agents: &[(&str, i32, i64, u64)]) -> S {
    S::Update(Box::new(pb::StatsUpdate {
        at: None,
        queues: vec![pb::QueueStats {
            queue: queue.into(),
            waiting,
            service_level: Some(sl),
            service_level_target: 0.8,
            ..Default::default()
        }],
        agents: agents
            .iter()
            .map(|(id, st, secs, handled)| pb::AgentStatus {
                agent_id: id.to_string(),
                name: id.to_string(),
                state: *st,
                in_state: Some(prost_types::Duration {
                    seconds: *secs,
                    nanos: 0,
                }),
                handled: *handled,
                ..Default::default()
            })
            .collect(),
        back_office: vec![],
        store: None,
        fcr: vec![],
        alarms: vec![],
        area_alarms: vec![],
        incidents: None,
    }))
}

#[test]
fn the_wallboard_keeps_an_hour_flags_low_service_and_sorts_agents() {
    let t0 = Instant::now();
    let mut w = Wallboard::default();
    let ready = pb::AgentState::Ready as i32;
    let talking = pb::AgentState::Connected as i32;
    w.update(
        stats(
            "fault",
            3,
            0.9,
            &[("1001", ready, 10, 5), ("1002", talking, 300, 9)],
        ),
        t0,
    );
    let (_, _, _, _, _, _, below) = Wallboard::queue_row(&w.queues["fault"]);
    assert!(!below);
    w.update(stats("fault", 12, 0.6, &[]), t0 + Duration::from_secs(1800));
    assert!(
        Wallboard::queue_row(&w.queues["fault"]).6,
        "60 % is below the 80 % target"
    );
    w.update(stats("fault", 1, 0.7, &[]), t0 + Duration::from_secs(3700));
    let h = &w.history["fault"];
    assert_eq!(
        h.iter().map(|p| p.waiting).collect::<Vec<_>>(),
        [12, 1],
        "older than an hour dropped"
    );

    let now = t0 + Duration::from_secs(3700);
    let ids = |w: &Wallboard| -> Vec<String> {
        w.agent_rows(now)
            .iter()
            .map(|a| a.agent_id.clone())
            .collect()
    };
    assert_eq!(ids(&w), ["1001", "1002"]);
    w.update(S::Sort(SortBy::Handled), now);
    assert_eq!(ids(&w), ["1002", "1001"]);
    w.update(S::Sort(SortBy::InState), now);
    assert_eq!(ids(&w), ["1002", "1001"]);
    assert_eq!(
        w.update(S::ForceLogout("1001".into()), now),
        Some(hotline_desk::supervisor::Steer::Logout("1001".into()))
    );
}

#[test]
fn a_change_to_an_open_ticket_goes_with_the_wrap_up() {
    use hotline_desk::agent::TicketAction;
    let (mut a, now) = ringing();
    if let Some(p) = a.pop.as_mut() {
        p.open_tickets = vec![pb::Ticket {
            id: 900,
            ..Default::default()
        }];
    }
    a.update(ev(E::Connected(7)), Lang::Zh, now);
    a.update(state(pb::AgentState::Connected), Lang::Zh, now);
    a.update(M::UpdateTicket(900), Lang::Zh, now);
    a.update(M::UpdateAction(TicketAction::Note), Lang::Zh, now);
    a.update(M::UpdateText("客户催办".into()), Lang::Zh, now);
    a.update(M::UpdateAttach(true), Lang::Zh, now);
    a.update(
        ev(E::ConversationEnded("caller hung up".into())),
        Lang::Zh,
        now,
    );
    a.update(state(pb::AgentState::AfterCallWork), Lang::Zh, now);
    a.update(M::Disposition("answered".into()), Lang::Zh, now);
    a.update(M::Reason("fault.broadband".into()), Lang::Zh, now);
    let out = commands(a.update(M::FinishWrapUp, Lang::Zh, now));
    let [C::WrapUp(w)] = &out[..] else {
        panic!("{out:?}")
    };
    assert!(w.new_tickets.is_empty(), "no new ticket was ticked");
    assert_eq!(
        w.ticket_changes,
        [pb::UpdateTicketRequest {
            id: 900,
            change: Some(pb::TicketChange {
                change: Some(pb::ticket_change::Change::Note("客户催办".into()))
            })
        }]
    );
}

#[test]
fn the_chart_keeps_one_point_per_ten_seconds_per_queue() {
    let t0 = Instant::now();
    let mut w = Wallboard::default();
    for k in 0..7200u64 {
        // two hours of updates, one a second
        w.update(
            stats("fault", (k % 7) as u32, 0.8, &[]),
            t0 + Duration::from_secs(k),
        );
    }
    let h = &w.history["fault"];
    assert!(h.len() <= 362, "{} points", h.len());
    assert!(
        h.len() >= 355,
        "{} points: the hour is still covered",
        h.len()
    );
    assert_eq!(
        h.back().unwrap().waiting,
        (7199 % 7) as u32,
        "the latest figures are shown"
    );
    // the chart's line for the whole floor is bounded the same way
    assert!(w.total.len() <= 362, "{}", w.total.len());
    assert_eq!(w.total.back().unwrap().service_level, Some(0.8));
}

/// A call-back task ringing at an agent who is ready.
fn call_back_ringing(call: u64) -> (Agent, Instant) {
    let (mut a, now) = ringing();
    a.update(
        ev(E::OfferCancelled("caller hung up".into())),
        Lang::Zh,
        now,
    );
    let mut o = offer(call);
    o.queue = "callback".into();
    o.call_back_task = Some(pb::CallBackTask {
        ticket: Some(pb::Ticket {
            id: 88,
            ..Default::default()
        }),
        attempt: 1,
        attempts: 3,
        due: Some(in_secs(3600)),
        number: "18955551234".into(),
    });
    a.update(ev(E::Offer(o)), Lang::Zh, now);
    a.update(M::Answer, Lang::Zh, now);
    a.update(ev(E::Connected(call)), Lang::Zh, now);
    a.update(state(pb::AgentState::Connected), Lang::Zh, now);
    a.update(
        ev(E::CustomerLine(pb::CustomerLine::Ringing as i32)),
        Lang::Zh,
        now,
    );
    (a, now)
}

fn wrap_up_of(out: Vec<pb::AgentCommand>) -> pb::WrapUp {
    match commands(out).pop() {
        Some(C::WrapUp(w)) => w,
        other => panic!("no wrap-up sent: {other:?}"),
    }
}

#[test]
fn a_call_back_reached_records_the_satisfaction_and_whether_it_is_solved() {
    let (mut a, now) = call_back_ringing(9);
    assert!(a.call.as_ref().unwrap().call_back.is_some());
    a.update(
        ev(E::CustomerLine(pb::CustomerLine::Answered as i32)),
        Lang::Zh,
        now,
    );
    assert!(a.reached());
    a.update(M::HangUp, Lang::Zh, now);
    a.update(
        ev(E::ConversationEnded("agent hung up".into())),
        Lang::Zh,
        now,
    );
    a.update(state(pb::AgentState::AfterCallWork), Lang::Zh, now);
    // the record's codes are the call-back's; the satisfaction must be given
    assert_eq!(a.wrap.reason, "call-back.general");
    assert_eq!(a.wrap.disposition, "called-back");
    assert!(!a.wrap_complete(), "no satisfaction yet");
    a.update(M::Satisfaction(4), Lang::Zh, now);
    a.update(M::Solved(true), Lang::Zh, now);
    assert!(a.wrap_complete());
    let w = wrap_up_of(a.update(M::FinishWrapUp, Lang::Zh, now));
    assert_eq!(
        w.call_back,
        Some(pb::CallBackResult {
            reached: true,
            satisfaction: 4,
            solved: true
        })
    );
    assert!(!w.resolved_first_contact);
}

#[test]
fn a_call_back_nobody_answered_records_no_answer() {
    let (mut a, now) = call_back_ringing(9);
    a.update(
        ev(E::CustomerLine(pb::CustomerLine::NoAnswer as i32)),
        Lang::Zh,
        now,
    );
    assert!(!a.reached());
    a.update(M::HangUp, Lang::Zh, now);
    a.update(
        ev(E::ConversationEnded("agent hung up".into())),
        Lang::Zh,
        now,
    );
    a.update(state(pb::AgentState::AfterCallWork), Lang::Zh, now);
    assert_eq!(a.wrap.disposition, "call-back-no-answer");
    assert!(a.wrap_complete(), "nothing more to fill in");
    let w = wrap_up_of(a.update(M::FinishWrapUp, Lang::Zh, now));
    assert_eq!(
        w.call_back.map(|c| c.reached),
        Some(false),
        "no answer, whatever was ticked"
    );
}

/// The supervisor's incident draft: made from the surge (its most frequent fault, its
/// first call as the start, a message naming the area, four hours), refused in words
/// when the hours or a language are missing, sent as a declaration otherwise; the
/// incident's buttons move its restore time an hour or end it as repaired.
#[test]
fn an_incident_draft_becomes_a_declaration_and_the_buttons_edit_and_end() {
    use hotline_desk::supervisor::{DraftField, Message as M, Steer, Wallboard};
    let mut w = Wallboard::default();
    let now = Instant::now();
    let alarm = pb::AreaAlarm {
        district: "西湖区".into(),
        area: "翠苑一区".into(),
        first_call_at: Some(prost_types::Timestamp {
            seconds: 1_796_178_600,
            nanos: 0,
        }),
        top: vec![
            pb::FaultCount {
                code: "fault".into(),
                count: 4,
            },
            pb::FaultCount {
                code: "iptv-no-picture".into(),
                count: 3,
            },
        ],
        ..Default::default()
    };
    w.update(
        M::Update(Box::new(pb::StatsUpdate {
            area_alarms: vec![alarm],
            ..Default::default()
        })),
        now,
    );
    w.update(M::Draft("西湖区".into(), "翠苑一区".into()), now);
    let d = w.draft.clone().unwrap();
    assert_eq!(d.kind, "iptv-no-picture", "the fault its calls name");
    assert_eq!(d.started, Some(1_796_178_600));
    assert_eq!(d.message_zh, "西湖区翠苑一区IPTV 无画面，维修人员正在抢修");
    w.update(M::DraftEdit(DraftField::Hours, "soon".into()), now);
    assert_eq!(w.update(M::Declare, now), None);
    assert_eq!(w.draft_error, Some("inc.bad_hours"));
    w.update(M::DraftEdit(DraftField::Hours, "2.5".into()), now);
    w.update(M::DraftEdit(DraftField::MessageEn, " ".into()), now);
    assert_eq!(w.update(M::Declare, now), None);
    assert_eq!(w.draft_error, Some("inc.both_languages"));
    w.update(M::DraftEdit(DraftField::MessageEn, "TV down".into()), now);
    let Some(Steer::Declare(r)) = w.update(M::Declare, now) else {
        panic!("a declaration")
    };
    assert_eq!(
        (r.district.as_str(), r.area.as_str()),
        ("西湖区", "翠苑一区")
    );
    let left = r.expected_restore_at.unwrap().seconds - hotline_desk::words::unix_now();
    assert!((9_000 - 5..=9_000).contains(&left), "{left}");
    assert!(w.draft.is_none() && w.draft_error.is_none());

    w.update(
        M::Update(Box::new(pb::StatsUpdate {
            incidents: Some(pb::IncidentList {
                incidents: vec![pb::Incident {
                    id: 7,
                    expected_restore_at: Some(prost_types::Timestamp {
                        seconds: 1_796_193_000,
                        nanos: 0,
                    }),
                    ..Default::default()
                }],
            }),
            ..Default::default()
        })),
        now,
    );
    let Some(Steer::Update(u)) = w.update(M::Later(7), now) else {
        panic!("an update")
    };
    assert_eq!(u.expected_restore_at.unwrap().seconds, 1_796_196_600);
    let Some(Steer::End(e)) = w.update(M::End(7), now) else {
        panic!("an end")
    };
    assert_eq!((e.id, e.resolution_code.as_str()), (7, "repaired"));
    assert_eq!(w.update(M::Later(404), now), None, "no such incident");
}
