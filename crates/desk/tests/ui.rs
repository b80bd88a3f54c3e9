//! The screens in iced's headless simulator (no display, no GPU): what is on screen, and
//! what clicking it does. Offer → screen pop → answer → ticket → wrap-up, and the
//! supervisor's table.
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use hotline_desk::agent::{self, Agent, Link};
use hotline_desk::app::{Desk, Message, Screen};
use hotline_desk::client::{Credentials, SessionEvent};
use hotline_desk::font_settings as settings;
use hotline_desk::supervisor::{self, Wallboard};
use hotline_proto::v1 as pb;
use iced_test::simulator::Simulator;
use pb::agent_event::Event as E;
use std::time::Instant;

/// Click the widget showing `label` on the desk's current screen; the messages it made.
fn click(desk: &Desk, label: &str) -> Vec<Message> {
    let mut ui = Simulator::with_size(settings(), (1280.0, 800.0), desk.view());
    ui.click(label)
        .unwrap_or_else(|e| panic!("no {label:?} on screen: {e:?}"));
    ui.into_messages().collect()
}

/// The desk shows `text` somewhere.
fn shows(desk: &Desk, text: &str) -> bool {
    let mut ui = Simulator::with_size(settings(), (1280.0, 800.0), desk.view());
    ui.find(text).is_ok()
}

fn router(desk: &mut Desk, e: E) {
    let _ = desk.update(Message::Session(SessionEvent::Event(Box::new(
        pb::AgentEvent { event: Some(e) },
    ))));
}

fn state(s: pb::AgentState) -> E {
    E::State(pb::StateChange {
        state: s as i32,
        reason: None,
        since: None,
        wrap_up_until: None,
    })
}

fn agent_desk() -> (Desk, tokio::sync::mpsc::Receiver<pb::AgentCommand>) {
    let mut desk = Desk::new("http://127.0.0.1:1", "2001");
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    desk.screen = Screen::Agent {
        agent: Box::new(Agent::new(
            "2001",
            "坐席 2001",
            vec!["fault".into()],
            Instant::now(),
        )),
        who: Credentials {
            router: "http://127.0.0.1:1".into(),
            agent: "2001".into(),
            password: "x".into(),
            token: Default::default(),
            tls: Default::default(),
        },
        commands: None,
    };
    let _ = desk.update(Message::Session(SessionEvent::Open(tx)));
    (desk, rx)
}

fn sent(rx: &mut tokio::sync::mpsc::Receiver<pb::AgentCommand>) -> Vec<pb::agent_command::Command> {
    let mut v = Vec::new();
    while let Ok(c) = rx.try_recv() {
        v.extend(c.command);
    }
    v
}

#[test]
fn offer_screen_pop_answer_ticket_wrap_up() {
    use pb::agent_command::Command as C;
    let (mut desk, mut rx) = agent_desk();
    router(&mut desk, state(pb::AgentState::Ready));
    assert!(shows(&desk, "就绪"));

    // the offer rings with the customer's record
    router(
        &mut desk,
        E::Offer(pb::Offer {
            call_id: 7,
            queue: "fault".into(),
            callback: false,
            ring_until: None,
            screen_pop: Some(pb::ScreenPop {
                caller_number: "18955551234".into(),
                customer: Some(pb::Customer {
                    id: 42,
                    name: "张喆".into(),
                    segment: pb::Segment::KeyAccount as i32,
                    vip_tier: "金卡".into(),
                    account_manager: "2001".into(),
                    arrears_fen: 1250,
                    district: "西湖区".into(),
                    area: "文三路小区".into(),
                    address: "杭州市西湖区文三路小区3幢2单元501".into(),
                    credit_level: 4,
                    enterprise_group: "杭州地铁集团".into(),
                    ..Default::default()
                }),
                open_tickets: vec![pb::Ticket {
                    id: 900,
                    subcategory: "broadband-down".into(),
                    description: "宽带无法上网".into(),
                    overdue: true,
                    ..Default::default()
                }],
                recent: vec![pb::Interaction {
                    queue: "complaint".into(),
                    reason: "complaint.billing".into(),
                    disposition: "ticket opened".into(),
                    ..Default::default()
                }],
                ivr_path: vec!["welcome".into(), "key 2".into()],
                ivr_steps: vec![
                    pb::IvrStep {
                        step: "welcome".into(),
                        zh: "欢迎主菜单".into(),
                        en: "main menu".into(),
                    },
                    pb::IvrStep {
                        step: "key 2".into(),
                        zh: "按2".into(),
                        en: "key 2".into(),
                    },
                ],
                reason: "fault".into(),
                store_unavailable: false,
                incident: None,
            }),
            priority: 5,
            call_back_task: None,
        }),
    );
    // codes read as labels: the IVR choice, the last contact (an older record's free
    // text too), the ticket's subcategory
    assert!(shows(
        &desk,
        "IVR路径: 欢迎主菜单 › 按2   来电原因: 故障报修"
    ));
    assert!(shows(&desk, "投诉建议 · 话费争议 · 已立工单"));
    for text in [
        "张喆",
        "政企大客户 · 绿色通道",
        "星级 金卡",
        "欠费(元) 12.50",
        "地址 杭州市西湖区文三路小区3幢2单元501",
        "信用等级 4 · 所属集团 杭州地铁集团",
    ] {
        assert!(shows(&desk, text), "the screen pop shows {text}");
    }
    assert!(shows(&desk, "#900 宽带无法上网 宽带无法上网  ⚠ 超时"));

    // answer
    let msgs = click(&desk, "接听 F3");
    assert!(
        matches!(msgs[..], [Message::Agent(agent::Message::Answer)]),
        "{msgs:?}"
    );
    for m in msgs {
        let _ = desk.update(m);
    }
    assert_eq!(sent(&mut rx), [C::Answer(true)]);
    router(&mut desk, E::Connected(7));
    router(&mut desk, state(pb::AgentState::Connected));
    assert!(shows(&desk, "通话中"));

    // a ticket to go with the wrap-up
    let _ = desk.update(Message::Agent(agent::Message::TicketDescription(
        "光猫红灯".into(),
    )));
    for m in click(&desk, "随整理提交此工单") {
        let _ = desk.update(m);
    }
    // hang up, wrap up: the finish button only works with the required fields
    for m in click(&desk, "挂断 F6") {
        let _ = desk.update(m);
    }
    router(&mut desk, E::ConversationEnded("agent hung up".into()));
    router(&mut desk, state(pb::AgentState::AfterCallWork));
    assert!(shows(&desk, "话后整理"));
    assert!(
        click(&desk, "提交整理 F8").is_empty(),
        "disabled while fields are empty"
    );
    // the pick-lists show labels, never codes; the IVR's choice is the first guess
    let Screen::Agent { agent, .. } = &desk.screen else {
        unreachable!()
    };
    assert_eq!(
        agent.wrap.reason, "fault.general",
        "from the IVR's fault menu"
    );
    // the pick-list's selection, as its input shows it
    let shown = |a: &agent::Agent| a.picks.reason(&a.wrap.reason).map(|c| c.to_string());
    assert_eq!(shown(agent).as_deref(), Some("一般故障 other fault"));
    assert!(!shows(&desk, "fault.general"), "no code on the screen");
    let _ = desk.update(Message::Agent(agent::Message::Disposition(
        "ticket-opened".into(),
    )));
    let _ = desk.update(Message::Agent(agent::Message::Reason(
        "fault.broadband".into(),
    )));
    let Screen::Agent { agent, .. } = &desk.screen else {
        unreachable!()
    };
    assert_eq!(shown(agent).as_deref(), Some("宽带故障 broadband fault"));
    let disposition = agent.picks.disposition(&agent.wrap.disposition);
    assert_eq!(
        disposition.map(|c| c.to_string()).as_deref(),
        Some("已立工单 ticket opened")
    );
    for m in click(&desk, "首次来电已解决") {
        let _ = desk.update(m);
    }
    for m in click(&desk, "提交整理 F8") {
        let _ = desk.update(m);
    }
    let out = sent(&mut rx);
    let Some(C::WrapUp(w)) = out.last() else {
        panic!("{out:?}")
    };
    assert!(w.resolved_first_contact);
    assert_eq!(
        (w.disposition.as_str(), w.reason.as_str()),
        ("ticket-opened", "fault.broadband"),
        "codes go to the router"
    );
    assert_eq!(w.new_tickets.len(), 1);
    assert_eq!(w.new_tickets[0].description, "光猫红灯");
    assert_eq!(w.new_tickets[0].customer_id, 42);
}

#[test]
fn the_status_bar_says_when_the_router_is_gone_and_keys_work() {
    let (mut desk, rx) = agent_desk();
    let _ = desk.update(Message::Session(SessionEvent::Lost(
        2,
        "connection refused".into(),
    )));
    assert!(shows(&desk, "连接中断，正在重连 (2) — connection refused"));
    let Screen::Agent { agent, .. } = &desk.screen else {
        unreachable!()
    };
    assert!(matches!(agent.link, Link::Reconnecting(2, _)));
    // F1 goes ready once the link is back
    let (tx, rx2) = tokio::sync::mpsc::channel(8);
    let _ = desk.update(Message::Session(SessionEvent::Open(tx)));
    let _ = desk.update(Message::Key(iced::keyboard::Key::Named(
        iced::keyboard::key::Named::F1,
    )));
    drop(rx);
    let mut rx2 = rx2;
    assert_eq!(sent(&mut rx2), [pb::agent_command::Command::Ready(true)]);
    // English
    let _ = desk.update(Message::ToggleLanguage);
    assert!(shows(&desk, "Ready F1"));
}

/// A supervisor's desk (9000) on an empty wallboard.
fn supervisor_desk() -> Desk {
    let mut desk = Desk::new("http://127.0.0.1:1", "9000");
    desk.screen = Screen::Supervisor {
        board: Box::new(Wallboard::default()),
        reports: Box::default(),
        tab: Default::default(),
        who: Credentials {
            router: "http://127.0.0.1:1".into(),
            agent: "9000".into(),
            password: "x".into(),
            token: Default::default(),
            tls: Default::default(),
        },
    };
    desk
}

/// While the router cannot reach its store, the agent sees why the pop is empty (and is
/// not offered to create a customer that may exist), the supervisor sees the outage.
#[test]
fn a_store_outage_shows_on_the_pop_and_the_wallboard() {
    let (mut desk, _rx) = agent_desk();
    router(&mut desk, state(pb::AgentState::Ready));
    router(
        &mut desk,
        E::Offer(pb::Offer {
            call_id: 8,
            queue: "fault".into(),
            screen_pop: Some(pb::ScreenPop {
                caller_number: "18955551234".into(),
                store_unavailable: true,
                ..Default::default()
            }),
            ..Default::default()
        }),
    );
    assert!(shows(&desk, "客户资料暂不可用"));
    assert!(!shows(&desk, "未登记号码"), "not an unknown caller");

    let mut desk = supervisor_desk();
    let store = |s: pb::StoreStatus| {
        Message::Board(supervisor::Message::Update(Box::new(pb::StatsUpdate {
            store: Some(s),
            ..Default::default()
        })))
    };
    let down = "客户资料库连接中断：来电无弹屏，通话记录暂存于路由器";
    let _ = desk.update(store(pb::StoreStatus::default()));
    assert!(!shows(&desk, down));
    let five_minutes_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - 300;
    let _ = desk.update(store(pb::StoreStatus {
        degraded: true,
        since: Some(prost_types::Timestamp {
            seconds: five_minutes_ago,
            nanos: 0,
        }),
        reason: "connection refused".into(),
        records_waiting: 3,
    }));
    assert!(shows(
        &desk,
        &format!("{down} · 已持续 5 min · 暂存通话记录 3")
    ));
    // the store is back, two records still being written
    let _ = desk.update(store(pb::StoreStatus {
        records_waiting: 2,
        ..Default::default()
    }));
    assert!(!shows(&desk, down));
    assert!(shows(&desk, "暂存通话记录 2"));
}

#[test]
fn the_supervisor_table_updates_and_sorts() {
    let mut desk = supervisor_desk();
    let update = |agents: Vec<(&str, &str, u64)>| {
        Message::Board(supervisor::Message::Update(Box::new(pb::StatsUpdate {
            at: None,
            queues: vec![pb::QueueStats {
                queue: "fault".into(),
                waiting: 4,
                service_level: Some(0.62),
                service_level_target: 0.8,
                staffing_advice: 3,
                ..Default::default()
            }],
            agents: agents
                .into_iter()
                .map(|(id, name, handled)| pb::AgentStatus {
                    agent_id: id.into(),
                    name: name.into(),
                    state: pb::AgentState::Ready as i32,
                    handled,
                    ..Default::default()
                })
                .collect(),
            back_office: vec![pb::BackOfficeLoad {
                // an older ticket's group name reads as the group's label
                group: "装维 repair crew".into(),
                open: 17,
                overdue: 2,
                due_soon: 3,
                oldest_overdue_ticket: 4242,
                oldest_overdue_deadline: ts(now_s() - 5 * 3600),
            }],
            store: None,
            fcr: vec![
                pb::FcrFigures {
                    queue: "fault".into(),
                    handled: 40,
                    claimed: 30,
                    verified: 18,
                    not_resolved: 6,
                    ..Default::default()
                },
                pb::FcrFigures {
                    agent_id: "1001".into(),
                    handled: 10,
                    claimed: 5,
                    verified: 4,
                    not_resolved: 0,
                    ..Default::default()
                },
            ],
            alarms: vec![],
            area_alarms: vec![],
            incidents: None,
        })))
    };
    let _ = desk.update(update(vec![("1001", "王小明", 3)]));
    assert!(shows(&desk, "1001 王小明"));
    assert!(shows(&desk, "62.0% / 80%"), "SL against its target");
    assert!(shows(&desk, "再增3人可达80/20"), "staffing advice in words");
    assert!(shows(&desk, "装维: 未结 17 · 临近时限 3 · 超时 2"));
    assert!(
        shows(&desk, "  超时最久 #4242 · 超时 5 小时 0 分")
            || shows(&desk, "  超时最久 #4242 · 超时 4 小时 59 分")
    );
    // queues by their labels; FCR claimed of handled / verified of settled claims
    assert!(shows(&desk, "故障报修") && !shows(&desk, "fault"));
    assert!(shows(&desk, "75% / 75%"), "the queue's FCR");
    assert!(shows(&desk, "50% / 100%"), "the agent's FCR");
    let _ = desk.update(update(vec![("1002", "陈静", 8)]));
    assert!(shows(&desk, "1002 陈静"), "a later update adds the agent");
    for m in click(&desk, "接听") {
        let _ = desk.update(m);
    }
    let Screen::Supervisor { board, .. } = &desk.screen else {
        unreachable!()
    };
    assert_eq!(board.sort, supervisor::SortBy::Handled);
    let order: Vec<_> = board
        .agent_rows(Instant::now())
        .iter()
        .map(|a| a.agent_id.clone())
        .collect();
    assert_eq!(order, ["1002", "1001"]);
}

/// A raised alarm shows as a banner line in words and marks its queue's row; when it
/// clears, both go.
#[test]
fn an_alarm_shows_on_the_wallboard_until_it_clears() {
    let mut desk = supervisor_desk();
    let alarm = |cleared: bool| pb::Alarm {
        queue: "fault".into(),
        rule: "longest-wait-above".into(),
        threshold: 120.0,
        raised_at: ts(1_796_178_600), // 2026-12-02 10:30 in Beijing
        raised_at_value: 121.0,
        value: 135.0,
        worst: 150.0,
        cleared_at: cleared.then(|| ts(1_796_178_900)).flatten(),
        router_stopped_at: None,
    };
    let update = |alarms: Vec<pb::Alarm>| {
        Message::Board(supervisor::Message::Update(Box::new(pb::StatsUpdate {
            queues: vec![pb::QueueStats {
                queue: "fault".into(),
                waiting: 9,
                service_level_target: 0.8,
                ..Default::default()
            }],
            alarms,
            area_alarms: vec![],
            incidents: None,
            ..Default::default()
        })))
    };
    let _ = desk.update(update(vec![alarm(false)]));
    assert!(shows(&desk, "▲ 告警 (1)"), "the banner");
    assert!(
        shows(
            &desk,
            "故障报修 · 最长等待超过 120 秒（最差 150 秒） · 起于 12-02 10:30"
        ),
        "the alarm in words: {}",
        hotline_desk::wallboard_view::alarm_words(&alarm(false), hotline_desk::i18n::Lang::Zh)
    );
    assert!(shows(&desk, "▲ 故障报修"), "the queue's row marked");
    let _ = desk.update(update(vec![alarm(true)]));
    assert!(!shows(&desk, "▲ 告警 (1)") && !shows(&desk, "▲ 故障报修"));
    assert!(shows(&desk, "故障报修"), "the row as usual");
}

/// A fault surge in one 小区 shows as a banner line in words — the area, its calls
/// against the usual, what they were about, since when — and goes when it clears.
#[test]
fn a_fault_surge_shows_on_the_wallboard_until_it_clears() {
    let mut desk = supervisor_desk();
    let surge = |cleared: bool| pb::AreaAlarm {
        district: "西湖区".into(),
        area: "翠苑一区".into(),
        count: 7,
        expected: 0.25,
        chance: 1e-8,
        window: Some(prost_types::Duration {
            seconds: 1800,
            nanos: 0,
        }),
        first_call_at: ts(1_796_178_600), // 2026-12-02 10:30 in Beijing
        raised_at: ts(1_796_178_900),
        top: vec![
            pb::FaultCount {
                code: "fault".into(),
                count: 5,
            },
            pb::FaultCount {
                code: "broadband-down".into(),
                count: 2,
            },
        ],
        peak: 0,
        cleared_at: cleared.then(|| ts(1_796_182_200)).flatten(),
        declare: false,
    };
    let update = |area_alarms: Vec<pb::AreaAlarm>| {
        Message::Board(supervisor::Message::Update(Box::new(pb::StatsUpdate {
            area_alarms,
            ..Default::default()
        })))
    };
    let _ = desk.update(update(vec![surge(false)]));
    assert!(shows(&desk, "▲ 区域障碍激增 (1)"), "the banner");
    let words =
        hotline_desk::wallboard_view::area_alarm_words(&surge(false), hotline_desk::i18n::Lang::Zh);
    assert!(
        words.starts_with("西湖区 翠苑一区 · 7 次障碍来电 / 30 分钟 (通常 0.2)"),
        "{words}"
    );
    assert!(words.ends_with("· 起于 12-02 10:30"), "{words}");
    assert!(
        !words.contains("broadband-down") && !words.contains(" fault "),
        "codes in words: {words}"
    );
    assert!(shows(&desk, &words));
    let _ = desk.update(update(vec![surge(true)]));
    assert!(!shows(&desk, "▲ 区域障碍激增"));
}

fn ts(secs: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: secs,
        nanos: 0,
    })
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn back_office_desk() -> Desk {
    use hotline_desk::worklist::Worklist;
    let mut desk = Desk::new("http://127.0.0.1:1", "8001");
    desk.screen = Screen::BackOffice {
        list: Box::new(Worklist::new("8001", "后台 8001", "repair-crew")),
        who: Credentials {
            router: "http://127.0.0.1:1".into(),
            agent: "8001".into(),
            password: "x".into(),
            token: Default::default(),
            tls: Default::default(),
        },
    };
    desk
}

fn fault_ticket(id: u64, due_in_s: i64, key_account: bool) -> pb::Ticket {
    pb::Ticket {
        id,
        customer_id: 7,
        kind: pb::TicketKind::Fault as i32,
        subcategory: "broadband-down".into(),
        description: "光猫 LOS 灯红".into(),
        status: pb::TicketStatus::Dispatched as i32,
        owner: "1001".into(),
        back_office: "repair-crew".into(),
        deadline: ts(now_s() + due_in_s),
        overdue: due_in_s < 0,
        key_account,
        customer_name: "杭州地铁集团".into(),
        customer_area: "西湖区 · 文三路".into(),
        history: vec![
            pb::TicketEvent {
                at: ts(now_s() - 600),
                by: "1001".into(),
                change: Some(pb::TicketChange {
                    change: Some(pb::ticket_change::Change::Note("opened".into())),
                }),
                status: pb::TicketStatus::New as i32,
            },
            pb::TicketEvent {
                at: ts(now_s() - 600),
                by: "system".into(),
                change: Some(pb::TicketChange {
                    change: Some(pb::ticket_change::Change::DispatchTo("repair-crew".into())),
                }),
                status: pb::TicketStatus::Dispatched as i32,
            },
        ],
        ..Default::default()
    }
}

#[test]
fn the_back_office_worklist_shows_labels_marks_overdue_and_takes_and_resolves() {
    use hotline_desk::worklist::Message as W;
    let mut desk = back_office_desk();
    assert!(shows(&desk, "正在读取工单…"));
    let _ = desk.update(Message::Worklist(W::Update(pb::TicketUpdate {
        tickets: vec![
            fault_ticket(41, 3 * 3600, false),
            fault_ticket(42, -2 * 3600, true),
        ],
        snapshot: true,
    })));
    // labels, not codes: the group, the type, the subcategory; the overdue one first
    assert!(shows(&desk, "后台工单 · 装维"));
    assert!(shows(&desk, "宽带无法上网"));
    assert!(!shows(&desk, "broadband-down") && !shows(&desk, "repair-crew"));
    assert!(shows(&desk, "超时 2 小时 0 分") || shows(&desk, "超时 1 小时 59 分"));
    assert!(shows(&desk, "大客户"));
    let Screen::BackOffice { list, .. } = &desk.screen else {
        unreachable!()
    };
    assert_eq!(
        list.tickets.iter().map(|t| t.id).collect::<Vec<_>>(),
        [42, 41],
        "soonest deadline first"
    );
    // pick the overdue key account's ticket: its history in words, then take it
    let msgs = click(&desk, "#42");
    assert!(
        matches!(msgs[..], [Message::Worklist(W::Select(42))]),
        "{msgs:?}"
    );
    for m in msgs {
        let _ = desk.update(m);
    }
    assert!(shows(&desk, "系统") && shows(&desk, "派单 → 装维"));
    assert!(shows(&desk, "地址 西湖区 · 文三路"));
    let msgs = click(&desk, "接单处理");
    assert!(matches!(msgs[..], [Message::Worklist(W::Take)]), "{msgs:?}");
    // the resolution defaults to the type's likeliest, and resolving sends it with the note
    let Screen::BackOffice { list, .. } = &mut desk.screen else {
        unreachable!()
    };
    assert_eq!(list.resolution.as_deref(), Some("repaired"));
    list.update(W::Note("更换光猫".into()));
    let work = list.update(W::Resolve).expect("a change to send");
    assert_eq!(
        work.change,
        pb::ticket_change::Change::Resolve(pb::Resolution {
            code: "repaired".into(),
            note: "更换光猫".into()
        })
    );
    // the router's answer: resolved, so off the list
    let mut done = fault_ticket(42, -2 * 3600, true);
    done.status = pb::TicketStatus::Resolved as i32;
    list.update(W::Done(Ok(Box::new(done))));
    assert_eq!(list.tickets.len(), 1);
    assert_eq!(list.selected, None);
    // a ticket passed to another group leaves; English labels in English
    let mut passed = fault_ticket(41, 3 * 3600, false);
    passed.back_office = "complaints-office".into();
    list.update(W::Update(pb::TicketUpdate {
        tickets: vec![passed],
        snapshot: false,
    }));
    assert!(list.tickets.is_empty());
    let _ = desk.update(Message::ToggleLanguage);
    assert!(shows(&desk, "Back office · repair crew"));
    assert!(shows(&desk, "No open tickets in this group"));
}

/// Where the text `label` is on the desk's screen (its top edge).
fn top_of(desk: &Desk, label: &str) -> f32 {
    let mut ui = Simulator::with_size(settings(), (1280.0, 800.0), desk.view());
    ui.find(label)
        .unwrap_or_else(|e| panic!("no {label:?} on screen: {e:?}"))
        .bounds()
        .y
}

#[test]
fn my_tickets_show_live_and_the_screen_keeps_its_layout_through_a_call() {
    use hotline_desk::agent::Message as A;
    let (mut desk, _rx) = agent_desk();
    router(&mut desk, state(pb::AgentState::Ready));
    let mut resolved = fault_ticket(77, 20 * 3600, false);
    resolved.status = pb::TicketStatus::Resolved as i32;
    resolved.latest_note = "已更换光猫，测试正常".into();
    let mut due_soon = fault_ticket(78, 3600, false);
    due_soon.escalated = true;
    let _ = desk.update(Message::Agent(A::MyTickets(pb::TicketUpdate {
        tickets: vec![resolved, due_soon],
        snapshot: true,
    })));
    for text in [
        "我的工单（首问负责）",
        "已办结",
        "已更换光猫，测试正常",
        "#78",
        "已派单",
    ] {
        assert!(shows(&desk, text), "my tickets show {text}");
    }
    // a closed one leaves
    let mut closed = fault_ticket(77, 20 * 3600, false);
    closed.status = pb::TicketStatus::Closed as i32;
    let _ = desk.update(Message::Agent(A::MyTickets(pb::TicketUpdate {
        tickets: vec![closed],
        snapshot: false,
    })));
    assert!(!shows(&desk, "#77"));

    // ringing → talking → wrap-up: the pop and the panels below stay where they are
    router(
        &mut desk,
        E::Offer(pb::Offer {
            call_id: 7,
            queue: "fault".into(),
            screen_pop: Some(pb::ScreenPop {
                caller_number: "18955551234".into(),
                customer: Some(pb::Customer {
                    id: 42,
                    name: "张喆".into(),
                    ..Default::default()
                }),
                reason: "fault".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
    );
    let at_ring = (top_of(&desk, "张喆"), top_of(&desk, "我的工单（首问负责）"));
    router(&mut desk, E::Connected(7));
    router(&mut desk, state(pb::AgentState::Connected));
    let talking = (top_of(&desk, "张喆"), top_of(&desk, "我的工单（首问负责）"));
    router(&mut desk, E::ConversationEnded("caller hung up".into()));
    router(&mut desk, state(pb::AgentState::AfterCallWork));
    let wrapping = (top_of(&desk, "张喆"), top_of(&desk, "我的工单（首问负责）"));
    assert_eq!(at_ring, talking, "ringing → talking");
    assert_eq!(talking, wrapping, "talking → wrap-up");
}

/// A call-back task for the resolved fault ticket 77.
fn call_back_offer() -> pb::Offer {
    let mut t = fault_ticket(77, 20 * 3600, false);
    t.status = pb::TicketStatus::Resolved as i32;
    t.resolution = "replaced".into();
    pb::Offer {
        call_id: 9,
        queue: "callback".into(),
        screen_pop: Some(pb::ScreenPop {
            caller_number: "1000".into(),
            customer: Some(pb::Customer {
                id: 7,
                name: "张喆".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        call_back_task: Some(pb::CallBackTask {
            ticket: Some(t),
            attempt: 1,
            attempts: 3,
            due: ts(now_s() + 3600),
            number: "18955551234".into(),
        }),
        ..Default::default()
    }
}

#[test]
fn a_call_back_shows_its_ticket_and_line_and_records_the_customers_answer() {
    use pb::agent_command::Command as C;
    let (mut desk, mut rx) = agent_desk();
    router(&mut desk, state(pb::AgentState::Ready));
    router(&mut desk, E::Offer(call_back_offer()));
    // the task in words: what ticket, how it was resolved, which attempt
    for text in ["回访任务", "#77", "宽带无法上网", "更换设备", "第 1/3 次"] {
        assert!(shows(&desk, text), "the offer shows {text}");
    }
    for m in click(&desk, "接听 F3") {
        let _ = desk.update(m);
    }
    assert_eq!(sent(&mut rx), [C::Answer(true)]);
    router(&mut desk, E::Connected(9));
    router(&mut desk, state(pb::AgentState::Connected));
    router(&mut desk, E::CustomerLine(pb::CustomerLine::Ringing as i32));
    assert!(shows(&desk, "正在呼叫客户…"));
    router(
        &mut desk,
        E::CustomerLine(pb::CustomerLine::Answered as i32),
    );
    assert!(shows(&desk, "客户已接听"));
    router(&mut desk, E::ConversationEnded("agent hung up".into()));
    router(&mut desk, state(pb::AgentState::AfterCallWork));
    // the record's codes are filled in by their labels; the satisfaction is asked for
    {
        let Screen::Agent { agent, .. } = &desk.screen else {
            unreachable!()
        };
        let d = agent
            .picks
            .disposition(&agent.wrap.disposition)
            .map(|c| c.to_string());
        let r = agent
            .picks
            .reason(&agent.wrap.reason)
            .map(|c| c.to_string());
        assert_eq!(d.as_deref(), Some("已回访 called back"));
        assert_eq!(r.as_deref(), Some("工单回访 ticket call-back"));
    }
    assert!(!shows(&desk, "call-back.general"), "no code on the screen");
    assert!(shows(&desk, "客户满意度"));
    for m in click(&desk, "4") {
        let _ = desk.update(m);
    }
    for m in click(&desk, "客户确认问题已解决") {
        let _ = desk.update(m);
    }
    for m in click(&desk, "提交整理 F8") {
        let _ = desk.update(m);
    }
    let sent = sent(&mut rx);
    let Some(C::WrapUp(w)) = sent.last() else {
        panic!("no wrap-up: {sent:?}")
    };
    assert_eq!(
        w.call_back,
        Some(pb::CallBackResult {
            reached: true,
            satisfaction: 4,
            solved: true
        })
    );
}

#[test]
fn a_call_back_nobody_answers_says_so_in_english_too() {
    let (mut desk, _rx) = agent_desk();
    let _ = desk.update(Message::ToggleLanguage);
    router(&mut desk, state(pb::AgentState::Ready));
    router(&mut desk, E::Offer(call_back_offer()));
    assert!(shows(&desk, "Call-back"));
    assert!(shows(&desk, "equipment replaced"));
    router(&mut desk, E::Connected(9));
    router(&mut desk, state(pb::AgentState::Connected));
    router(
        &mut desk,
        E::CustomerLine(pb::CustomerLine::NoAnswer as i32),
    );
    assert!(shows(&desk, "No answer: hang up"));
    router(&mut desk, E::ConversationEnded("agent hung up".into()));
    router(&mut desk, state(pb::AgentState::AfterCallWork));
    assert!(shows(&desk, "Not reached: it will be tried again"));
    assert!(!shows(&desk, "Customer's satisfaction"));
}

/// The supervisor's reports: the tab, the report buttons in both languages, and the rows
/// the router sent drawn with their chart (hot spots by district, the unusual one first).
#[test]
fn the_reports_screen_shows_the_chosen_report_in_words() {
    use hotline_desk::app::Tab;
    use hotline_desk::reports::{Data, Kind, Message as R};
    let mut desk = supervisor_desk();
    assert!(shows(&desk, "统计报表"), "the tab is there");
    let _ = desk.update(Message::Tab(Tab::Reports));
    assert!(shows(&desk, "时段报表"));
    assert!(shows(&desk, "投诉障碍热点"));
    assert!(
        shows(&desk, "正在查询…"),
        "the interval report is asked for at once"
    );
    let _ = desk.update(Message::Reports(R::Kind(Kind::Hotspots)));
    let Screen::Supervisor { reports, .. } = &desk.screen else {
        unreachable!()
    };
    let seq = reports.asked();
    let row = |district: &str, reports: u64, surprise: f64| pb::HotspotRow {
        district: district.into(),
        reports,
        per_1000: Some(reports as f64 / 2.0),
        surprise,
        top: vec![pb::NamedCount {
            name: "broadband-down".into(),
            count: reports,
        }],
        ..Default::default()
    };
    let _ = desk.update(Message::Reports(R::Loaded(
        seq,
        Ok(Data::Hotspots(vec![
            row("滨江区", 40, 6.2),
            row("西湖区", 55, 0.3),
        ])),
    )));
    assert!(shows(&desk, "滨江区"));
    assert!(shows(&desk, "异常度"));
    assert!(shows(&desk, "宽带无法上网 40"), "the subcategory in words");
    let _ = desk.update(Message::ToggleLanguage);
    assert!(shows(&desk, "Hot spots"));
    assert!(shows(&desk, "Surprise"));
    assert!(
        !shows(&desk, "broadband-down"),
        "no raw code where a person reads"
    );
}

fn incident(id: u64) -> pb::Incident {
    pb::Incident {
        id,
        district: "西湖区".into(),
        area: "翠苑一区".into(),
        kind: "broadband-down".into(),
        kind_zh: "宽带无法上网".into(),
        kind_en: "broadband down".into(),
        message_zh: "光缆中断，正在抢修".into(),
        message_en: "a cable is cut".into(),
        started_at: ts(1_796_178_600),          // 10:30 in Beijing
        expected_restore_at: ts(1_796_193_000), // 14:30
        declared_at: ts(1_796_179_200),
        declared_by: "9000".into(),
        open: true,
        linked_tickets: 12,
        asked_to_be_told: 5,
        ..Default::default()
    }
}

/// A supervisor declares an incident from a surge's line: the draft names the area and
/// what is down in words, and once declared the incident shows on an amber band with
/// its restore time, its tickets and the callers waiting to be told; the agent offered
/// a caller from there sees it on the screen pop.
#[test]
fn a_surge_is_declared_an_incident_and_the_incident_shows_to_supervisor_and_agent() {
    let mut desk = supervisor_desk();
    let surge = pb::AreaAlarm {
        district: "西湖区".into(),
        area: "翠苑一区".into(),
        count: 9,
        expected: 0.2,
        first_call_at: ts(1_796_178_600),
        top: vec![pb::FaultCount {
            code: "broadband-down".into(),
            count: 9,
        }],
        ..Default::default()
    };
    let _ = desk.update(Message::Board(supervisor::Message::Update(Box::new(
        pb::StatsUpdate {
            area_alarms: vec![surge],
            incidents: Some(pb::IncidentList::default()),
            ..Default::default()
        },
    ))));
    for m in click(&desk, "宣布障碍…") {
        let _ = desk.update(m);
    }
    assert!(shows(
        &desk,
        "宣布区域障碍 · 西湖区 翠苑一区 · 宽带无法上网"
    ));
    assert!(shows(&desk, "西湖区翠苑一区宽带无法上网，维修人员正在抢修"));
    assert!(shows(&desk, "确认宣布"));
    // the router declared it: the band, and the surge's line says so
    let _ = desk.update(Message::Board(supervisor::Message::DraftCancel));
    let _ = desk.update(Message::Board(supervisor::Message::Update(Box::new(
        pb::StatsUpdate {
            incidents: Some(pb::IncidentList {
                incidents: vec![incident(7)],
            }),
            ..Default::default()
        },
    ))));
    assert!(shows(&desk, "■ 区域障碍 (1)"));
    let line =
        hotline_desk::wallboard_view::incident_line(&incident(7), hotline_desk::i18n::Lang::Zh);
    assert_eq!(
        line,
        "#7 西湖区 翠苑一区 · 宽带无法上网 · 起于 12-02 10:30 · 预计恢复 12-02 14:30 · 宣布 9000 · 并单 12 · 待通知 5"
    );
    assert!(shows(&desk, &line));
    assert!(shows(&desk, "“光缆中断，正在抢修”"));
    assert!(shows(&desk, "已宣布") && !shows(&desk, "宣布障碍…"));
    assert!(!click(&desk, "结束（已修复）").is_empty());
    // ended: the band goes
    let _ = desk.update(Message::Board(supervisor::Message::Update(Box::new(
        pb::StatsUpdate {
            incidents: Some(pb::IncidentList::default()),
            ..Default::default()
        },
    ))));
    assert!(!shows(&desk, "■ 区域障碍"));

    // the agent's screen pop
    let words =
        hotline_desk::agent_view::incident_words(&incident(7), hotline_desk::i18n::Lang::Zh);
    assert_eq!(
        words,
        "■ 区域障碍 #7 · 西湖区 翠苑一区 · 宽带无法上网 · 光缆中断，正在抢修 · 预计恢复 12-02 14:30"
    );
    let (mut agent, _rx) = agent_desk();
    router(&mut agent, state(pb::AgentState::Ready));
    router(
        &mut agent,
        E::Offer(pb::Offer {
            call_id: 8,
            queue: "fault".into(),
            screen_pop: Some(pb::ScreenPop {
                caller_number: "18955551234".into(),
                customer: Some(pb::Customer {
                    id: 42,
                    name: "张喆".into(),
                    district: "西湖区".into(),
                    area: "翠苑一区".into(),
                    credit_level: 3,
                    ..Default::default()
                }),
                incident: Some(incident(7)),
                ..Default::default()
            }),
            ..Default::default()
        }),
    );
    assert!(shows(&agent, "张喆"));
    assert!(shows(&agent, &words), "the incident on the screen pop");
}
