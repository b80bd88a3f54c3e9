//! `cargo bench -p hotline-desk`: how long the desktop takes to show things, rendered
//! headless by iced's own renderer (tiny-skia, the CPU path this machine has).
//!
//! - offer received → screen pop drawn: the offer event through `Desk::update`, then the
//!   whole agent screen laid out and rasterised to pixels at 1280×800;
//! - the wallboard with 200 agents, 20 queues and a full hour of chart, one full frame
//!   after a statistics update.
//!
//! Prints p50 / p99 / max per measure. Machine: whatever runs it (figures and machine in
//! BENCHMARKS.md).
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use hotline_desk::agent::Agent;
use hotline_desk::app::{Desk, Message, Screen};
use hotline_desk::client::{Credentials, SessionEvent};
use hotline_desk::font_settings as settings;
use hotline_desk::supervisor::{self, Wallboard};
use hotline_proto::v1 as pb;
use iced_test::simulator::Simulator;
use std::time::{Duration, Instant};

fn who() -> Credentials {
    Credentials {
        router: "http://127.0.0.1:1".into(),
        agent: "2001".into(),
        password: "x".into(),
        token: Default::default(),
        tls: Default::default(),
    }
}

fn offer(call: u64) -> pb::AgentEvent {
    let recent = (0..5)
        .map(|k| pb::Interaction {
            queue: "fault".into(),
            reason: format!("fault.broadband.{k}"),
            disposition: "answered".into(),
            fcr_verified: "yes".into(),
            ..Default::default()
        })
        .collect();
    let tickets = (0..3)
        .map(|k| pb::Ticket {
            id: 900 + k,
            subcategory: "broadband-down".into(),
            description: "宽带无法上网，光猫红灯闪烁".into(),
            overdue: k == 0,
            ..Default::default()
        })
        .collect();
    pb::AgentEvent {
        event: Some(pb::agent_event::Event::Offer(pb::Offer {
            call_id: call,
            queue: "fault".into(),
            callback: false,
            ring_until: None,
            screen_pop: Some(pb::ScreenPop {
                caller_number: "18955551234".into(),
                customer: Some(pb::Customer {
                    id: 42,
                    name: "欧阳喆".into(),
                    segment: pb::Segment::KeyAccount as i32,
                    vip_tier: "金卡".into(),
                    account_manager: "2001".into(),
                    services: vec![pb::CustomerService {
                        kind: "mobile".into(),
                        product: "天翼畅享套餐".into(),
                        since: None,
                    }],
                    arpu_history_fen: vec![8800, 9100, 8700, 9900, 10200, 9600],
                    balance_fen: 40484,
                    arrears_fen: 0,
                    ..Default::default()
                }),
                open_tickets: tickets,
                recent,
                ivr_path: vec!["welcome".into(), "key 2".into(), "fault-menu".into()],
                reason: "fault".into(),
                store_unavailable: false,
                ivr_steps: vec![],
                incident: None,
            }),
            priority: 5,
            call_back_task: None,
        })),
    }
}

fn summary(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name}: {} runs, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}

fn main() {
    let theme = iced::Theme::Light;
    // offer → screen pop drawn
    let mut times = Vec::new();
    for call in 0..60 {
        let mut desk = Desk::new("http://127.0.0.1:1", "2001");
        desk.screen = Screen::Agent {
            agent: Box::new(Agent::new(
                "2001",
                "坐席 2001",
                vec!["fault".into()],
                Instant::now(),
            )),
            who: who(),
            commands: None,
        };
        let t0 = Instant::now();
        let _ = desk.update(Message::Session(SessionEvent::Event(Box::new(offer(call)))));
        let mut ui = Simulator::with_size(settings(), (1280.0, 800.0), desk.view());
        let shot = ui.snapshot(&theme).expect("a frame");
        std::hint::black_box(&shot);
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    // the first run loads the font and warms caches: reported, not mixed in
    println!("first offer → screen pop drawn (cold): {:.1} ms", times[0]);
    summary(
        "offer → screen pop drawn, 1280×800, warm",
        times[1..].to_vec(),
    );

    // the wallboard: 200 agents, 20 queues, a full hour of chart, a frame after each update
    let mut desk = Desk::new("http://127.0.0.1:1", "9000");
    desk.screen = Screen::Supervisor {
        board: Box::new(Wallboard::default()),
        reports: Box::default(),
        tab: Default::default(),
        who: who(),
    };
    let stats = |round: u64| pb::StatsUpdate {
        at: None,
        queues: (0..20)
            .map(|q| pb::QueueStats {
                queue: format!("queue-{q:02}"),
                waiting: ((q + round) % 13) as u32,
                service_level: Some(0.6 + ((q + round) % 5) as f64 * 0.08),
                service_level_target: 0.8,
                agents_by_state: vec![0, 0, 2, 3, 1, 4, 1],
                staffing_advice: (q % 3) as i32,
                ..Default::default()
            })
            .collect(),
        agents: (0..200)
            .map(|a| pb::AgentStatus {
                agent_id: format!("{}", 1000 + a),
                name: format!("坐席{a}"),
                state: (2 + (a + round) % 5) as i32,
                in_state: Some(prost_types::Duration {
                    seconds: ((a * 7 + round) % 600) as i64,
                    nanos: 0,
                }),
                handled: a % 17,
                ..Default::default()
            })
            .collect(),
        back_office: vec![],
        store: None,
        fcr: vec![],
        alarms: vec![],
        area_alarms: vec![],
        incidents: None,
    };
    // an hour of history first (one update a second), so the chart is full
    if let Screen::Supervisor { board, .. } = &mut desk.screen {
        let start = Instant::now()
            .checked_sub(Duration::from_secs(3600))
            .expect("the clock is more than an hour past its origin");
        for k in 0..3600 {
            board.update(
                supervisor::Message::Update(Box::new(stats(k))),
                start + Duration::from_secs(k),
            );
        }
        let points: usize = board.history.values().map(|h| h.len()).sum();
        println!(
            "wallboard history: {points} chart points over {} queues",
            board.history.len()
        );
    }
    let mut frames = Vec::new();
    for round in 0..40u64 {
        let t0 = Instant::now();
        let _ = desk.update(Message::Board(supervisor::Message::Update(Box::new(
            stats(round),
        ))));
        let mut ui = Simulator::with_size(settings(), (1280.0, 800.0), desk.view());
        let shot = ui.snapshot(&theme).expect("a frame");
        std::hint::black_box(&shot);
        frames.push(t0.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(1));
    }
    summary(
        "wallboard frame, 200 agents × 20 queues, an hour of chart, 1280×800",
        frames[1..].to_vec(),
    );
}
