//! The 1000 flow and the interpreter, driven like the router will drive them.
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use hotline_ivr::*;
use std::path::Path;
use std::sync::Arc;

const QUEUES: &[&str] = &[
    "inquiry",
    "fault",
    "complaint",
    "new-service",
    "green-channel",
];
/// 2026-11-02 10:00 in Beijing (02:00 UTC).
const DAY: u64 = 1_793_491_200_000 + 86_400_000 + 2 * 3_600_000;
/// 2026-11-02 23:30 in Beijing.
const NIGHT: u64 = 1_793_491_200_000 + 86_400_000 + 15 * 3_600_000 + 30 * 60_000;

fn flow() -> Arc<Flow> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/ivr/1000.toml");
    Arc::new(Flow::load(&p, QUEUES).unwrap())
}

fn said(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Say { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn press(s: &mut Session, now: u64, d: &str) -> Vec<Action> {
    s.handle(now, Input::Digits(d.into()))
}

#[test]
fn the_shipped_flow_is_valid_and_opens_with_the_main_menu() {
    let f = flow();
    assert!(f.open_at(DAY) && !f.open_at(NIGHT));
    let (s, acts) = Session::start(&f, DAY, false);
    assert!(said(&acts)[0].contains("业务咨询请按1"));
    assert_eq!(
        acts.last(),
        Some(&Action::Collect {
            max_digits: 1,
            until: DAY + 8000
        })
    );
    assert_eq!(s.path(), ["welcome"]);
}

#[test]
fn a_digit_leads_to_a_queue_with_its_reason() {
    let f = flow();
    let (mut s, _) = Session::start(&f, DAY, false);
    let acts = press(&mut s, DAY + 3000, "3");
    assert!(said(&acts)[0].contains("投诉"));
    assert_eq!(
        acts.last(),
        Some(&Action::Queue {
            queue: "complaint".into(),
            priority: 1,
            reason: "complaint".into()
        })
    );
    assert!(s.is_done());
    assert_eq!(s.path(), ["welcome", "key 3", "complaint-queue"]);
}

#[test]
fn wrong_digits_and_silence_are_retried_then_the_caller_gets_an_agent() {
    let f = flow();
    let (mut s, _) = Session::start(&f, DAY, false);
    let acts = press(&mut s, DAY + 1000, "7");
    let text = said(&acts);
    assert!(
        text[0].contains("输入有误") && text[1].contains("业务咨询请按1"),
        "{text:?}"
    );
    // a time-out before its time is ignored; at its time it counts as a try
    assert!(s.handle(DAY + 2000, Input::Timeout).is_empty());
    let acts = s.handle(DAY + 1000 + 8000, Input::Timeout);
    assert!(matches!(acts.last(), Some(Action::Collect { .. })));
    let acts = press(&mut s, DAY + 12_000, "*");
    assert_eq!(
        acts.last(),
        Some(&Action::Queue {
            queue: "inquiry".into(),
            priority: 1,
            reason: "agent-request".into()
        }),
        "three tries, then the on_fail node"
    );
    assert_eq!(s.path()[1..4], ["wrong key 7", "no key", "wrong key *"]);
}

#[test]
fn bill_query_is_self_service_and_ends_in_the_ivr() {
    let f = flow();
    let (mut s, _) = Session::start(&f, DAY, false);
    let acts = press(&mut s, DAY, "5");
    assert_eq!(
        acts.last(),
        Some(&Action::SelfService {
            node: "bill".into(),
            service: Service::Bill,
            input: String::new()
        })
    );
    let fields = vec![
        ("balance".into(), "58.30".into()),
        ("charges".into(), "86.00".into()),
        ("arrears".into(), "".into()),
    ];
    let acts = s.handle(DAY + 500, Input::ServiceDone(Ok(fields)));
    let text = said(&acts);
    assert_eq!(text[0], "您的账户余额为58.30元，本月已产生话费86.00元。");
    assert!(text[1].contains("返回主菜单"));
    let acts = press(&mut s, DAY + 2000, "9");
    assert_eq!(
        acts.last(),
        Some(&Action::Hangup {
            finished_in_ivr: true
        })
    );
    assert!(s.used_self_service());
}

#[test]
fn ticket_progress_collects_the_number_and_failures_are_spoken() {
    let f = flow();
    let (mut s, _) = Session::start(&f, DAY, false);
    let acts = press(&mut s, DAY, "6");
    assert_eq!(
        acts.last(),
        Some(&Action::Collect {
            max_digits: 12,
            until: DAY + 15_000
        })
    );
    let acts = press(&mut s, DAY + 5000, "100234#");
    assert_eq!(
        acts.last(),
        Some(&Action::SelfService {
            node: "ticket-progress".into(),
            service: Service::TicketProgress,
            input: "100234".into()
        })
    );
    let acts = s.handle(
        DAY + 5500,
        Input::ServiceDone(Err("没有找到工单100234".into())),
    );
    assert_eq!(said(&acts)[0], "没有找到工单100234。");
    // a non-number goes to on_fail
    let (mut s, _) = Session::start(&f, DAY, false);
    press(&mut s, DAY, "6");
    let acts = press(&mut s, DAY + 1000, "#");
    assert!(said(&acts)[0].contains("返回主菜单"));
}

#[test]
fn key_accounts_take_the_green_channel_and_nights_divert_to_self_service() {
    let f = flow();
    let (s, acts) = Session::start(&f, DAY, true);
    assert!(said(&acts)[0].contains("大客户"));
    assert_eq!(
        acts.last(),
        Some(&Action::Queue {
            queue: "green-channel".into(),
            priority: 5,
            reason: "key-account".into()
        })
    );
    assert!(s.is_done());
    let (mut s, _) = Session::start(&f, NIGHT, false);
    let acts = press(&mut s, NIGHT + 1000, "1");
    assert!(
        said(&acts)[0].contains("人工服务时间为每天8点至22点"),
        "{:?}",
        said(&acts)
    );
    let acts = press(&mut s, NIGHT + 2000, "1");
    assert!(matches!(
        acts.last(),
        Some(Action::SelfService {
            service: Service::FaultReport,
            ..
        })
    ));
}

#[test]
fn equal_hours_mean_around_the_clock_and_reversed_hours_span_midnight() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/ivr/1000.toml"),
    )
    .unwrap();
    let always = Flow::parse(
        "x",
        &text.replace("close = \"22:00\"", "close = \"08:00\""),
        QUEUES,
    )
    .unwrap();
    assert!(always.open_at(DAY) && always.open_at(NIGHT));
    let nights = Flow::parse(
        "x",
        &text
            .replace("open = \"08:00\"", "open = \"23:00\"")
            .replace("close = \"22:00\"", "close = \"06:00\""),
        QUEUES,
    )
    .unwrap();
    assert!(nights.open_at(NIGHT) && !nights.open_at(DAY));
}

#[test]
fn english_callers_hear_english() {
    let f = flow();
    let (mut s, _) = Session::start(&f, DAY, false);
    let acts = press(&mut s, DAY, "9");
    assert_eq!(s.language(), Lang::En);
    assert!(said(&acts)[0].starts_with("Welcome to the 1000 hotline"));
    assert_eq!(
        s.announce_position(3, 130),
        "There are 3 callers ahead of you; the wait is about 3 minutes."
    );
}

#[test]
fn the_survey_takes_one_to_five() {
    let f = flow();
    let (mut s, acts) = Session::survey(&f, DAY, Lang::Zh);
    assert!(said(&acts)[0].contains("请对本次服务进行评价"));
    let acts = press(&mut s, DAY + 2000, "4");
    assert_eq!(acts[0], Action::SurveyAnswer(4));
    assert_eq!(
        acts.last(),
        Some(&Action::Hangup {
            finished_in_ivr: false
        })
    );
    let (mut s, _) = Session::survey(&f, DAY, Lang::Zh);
    let acts = press(&mut s, DAY + 2000, "8");
    assert!(!acts.iter().any(|a| matches!(a, Action::SurveyAnswer(_))));
}

fn broken(edit: &str, with: &str) -> FlowError {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/ivr/1000.toml");
    let text = std::fs::read_to_string(p).unwrap();
    assert!(text.contains(edit), "{edit}");
    Flow::parse("1000.toml", &text.replacen(edit, with, 1), QUEUES).unwrap_err()
}

#[test]
fn a_broken_flow_names_the_file_the_node_and_the_field() {
    let cases = [
        (
            ("\"6\" = \"ticket-number\"", "\"6\" = \"nowhere\""),
            "1000.toml: node 'welcome', field 'digits.6': goes to 'nowhere', which is not a node",
        ),
        (
            ("queue = \"complaint\"", "queue = \"lottery\""),
            "node 'complaint-queue', field 'queue': 'lottery' is not a queue",
        ),
        (
            (
                "\"0\" = \"agent-queue\", \"9\"",
                "\"x\" = \"agent-queue\", \"9\"",
            ),
            "node 'welcome', field 'digits.x': a key is one of 0–9, * or #",
        ),
        (
            ("en = \"Thank you for calling. Goodbye.\"", "en = \"\""),
            "node 'goodbye', field 'prompt': needs both zh and en text",
        ),
        (
            ("next = \"green-queue\"", "next = \"green-welcome\""),
            "node 'green-welcome', field 'next': leads round a loop",
        ),
        (
            ("id = \"english\"", "id = \"welcome\""),
            "node 'welcome', field 'id': is used by two nodes",
        ),
        (
            ("max_digits = 12", "max_digits = 0"),
            "node 'ticket-number', field 'max_digits': must be 1–32",
        ),
        (
            ("open = \"08:00\"", "open = \"8 o'clock\""),
            "node '(flow)', field 'hours.open'",
        ),
    ];
    for ((from, to), expect) in cases {
        let e = broken(from, to).to_string();
        assert!(e.contains(expect), "expected «{expect}» in «{e}»");
    }
    let e = broken("kind = \"hangup\"", "kind = \"hangup\"\nfoo = 1").to_string();
    assert!(e.starts_with("1000.toml:") && e.contains("foo"), "{e}");
}

fn outage_news() -> Option<Vec<(String, String)>> {
    Some(vec![
        ("message".into(), "光缆中断，正在抢修".into()),
        ("restore".into(), "14:30".into()),
        ("incident".into(), "7".into()),
    ])
}

#[test]
fn a_caller_of_an_area_with_an_incident_hears_it_and_may_ask_to_be_told() {
    let f = flow();
    let (mut s, _) = Session::start(&f, DAY, false);
    let acts = press(&mut s, DAY + 2000, "2");
    assert_eq!(
        acts,
        vec![Action::Outage {
            node: "outage-notice".into()
        }]
    );
    let acts = s.handle(DAY + 2001, Input::Outage(outage_news()));
    let words = said(&acts).join(" ");
    assert!(words.contains("光缆中断，正在抢修"), "{words}");
    assert!(words.contains("预计14:30恢复"), "{words}");
    assert_eq!(
        acts.last(),
        Some(&Action::Collect {
            max_digits: 1,
            until: DAY + 2001 + 8000
        })
    );
    // key 1: the request, with the incident's number as its input
    let acts = press(&mut s, DAY + 5000, "1");
    assert_eq!(
        acts,
        vec![Action::SelfService {
            node: "outage-notice".into(),
            service: Service::OutageNotify,
            input: "7".into()
        }]
    );
    let acts = s.handle(
        DAY + 5100,
        Input::ServiceDone(Ok(vec![("ticket".into(), "42".into())])),
    );
    let words = said(&acts).join(" ");
    assert!(words.contains("工单号42"), "{words}");
    assert!(words.contains("再见"), "{words}");
    assert_eq!(
        acts.last(),
        Some(&Action::Hangup {
            finished_in_ivr: true
        })
    );
    assert!(s.used_self_service());
    assert_eq!(
        s.path(),
        ["welcome", "key 2", "outage-notice", "key 1", "goodbye"]
    );
}

#[test]
fn without_an_incident_or_with_another_key_the_caller_goes_on_to_the_fault_menu() {
    let f = flow();
    // no incident: straight on, nothing said about one
    let (mut s, _) = Session::start(&f, DAY, false);
    press(&mut s, DAY + 2000, "2");
    let acts = s.handle(DAY + 2001, Input::Outage(None));
    assert!(said(&acts)[0].contains("自助登记故障请按1"));
    assert_eq!(
        s.path(),
        ["welcome", "key 2", "fault-menu"],
        "nothing was said: no step of the way"
    );
    assert!(!s.used_self_service());
    // an incident, and the caller presses 0 (or stays silent): the fault menu
    for answer in [Some("0"), None] {
        let (mut s, _) = Session::start(&f, DAY, false);
        press(&mut s, DAY + 2000, "2");
        s.handle(DAY + 2001, Input::Outage(outage_news()));
        let acts = match answer {
            Some(d) => press(&mut s, DAY + 4000, d),
            None => s.handle(DAY + 2001 + 8000, Input::Timeout),
        };
        assert!(said(&acts)[0].contains("自助登记故障请按1"), "{acts:?}");
        assert!(!s.used_self_service());
    }
    // the request could not be recorded: the caller is told and goes on
    let (mut s, _) = Session::start(&f, DAY, false);
    press(&mut s, DAY + 2000, "2");
    s.handle(DAY + 2001, Input::Outage(outage_news()));
    press(&mut s, DAY + 3000, "1");
    let acts = s.handle(DAY + 3100, Input::ServiceDone(Err("系统繁忙".into())));
    let words = said(&acts);
    assert_eq!(words[0], "系统繁忙");
    assert!(words[1].contains("自助登记故障请按1"));
}

#[test]
fn a_broken_outage_node_is_named() {
    let e = broken("notify_key = \"1\"", "notify_key = \"11\"").to_string();
    assert!(
        e.contains("node 'outage-notice', field 'notify_key'"),
        "{e}"
    );
    let e = broken("after_notify = \"goodbye\"", "after_notify = \"nowhere\"").to_string();
    assert!(e.contains("field 'after_notify': goes to 'nowhere'"), "{e}");
}

#[test]
fn an_information_node_reads_its_answer_from_the_data_file_then_goes_on() {
    let f = flow();
    let (mut s, _) = Session::start(&f, DAY, false);
    let acts = press(&mut s, DAY + 2000, "8");
    assert!(said(&acts)[0].contains("资费标准请按1"));
    let acts = press(&mut s, DAY + 4000, "1");
    let text = said(&acts);
    assert!(text[0].contains("本地通话每分钟"), "{text:?}");
    // then the "anything else" menu
    assert!(text[1].contains("返回主菜单请按1"), "{text:?}");
    assert_eq!(s.at(), "anything-else");
    assert!(s.path().contains(&"info-tariffs".to_string()));
    assert_eq!(
        f.answer("info-shops").map(|t| t.title.en.as_str()),
        Some("shops and opening hours")
    );
}

#[test]
fn prompts_play_for_their_given_time_or_an_estimate_from_the_text() {
    assert!((estimate_seconds("您好，欢迎") - (4.0 * 0.25 + 0.2)).abs() < 1e-9);
    assert!(
        (estimate_seconds("Press 1, or {x}.") - (0.4 + 0.3 + 0.2 + 0.4 + 1.0 + 0.2)).abs() < 1e-9
    );
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/ivr/1000.toml");
    let text = std::fs::read_to_string(p).unwrap();
    let timed = text.replacen(
        "en = \"Connecting you to an inquiry agent.\" }",
        "en = \"Connecting you to an inquiry agent.\", seconds = { zh = 2.5, en = 3 } }",
        1,
    );
    assert_ne!(timed, text);
    let f = Arc::new(Flow::parse("1000.toml", &timed, QUEUES).unwrap());
    let (mut s, acts) = Session::start(&f, DAY, false);
    let Action::Say { millis, text, .. } = &acts[0] else {
        panic!("{acts:?}")
    };
    assert_eq!(*millis, (estimate_seconds(text) * 1000.0).round() as u32);
    let acts = press(&mut s, DAY + 2000, "1");
    assert!(
        matches!(&acts[0], Action::Say { millis: 2500, .. }),
        "{acts:?}"
    );
}

#[test]
fn a_broken_information_node_names_the_file_the_node_and_the_field() {
    let e = broken(
        "source = \"../info/1000.toml\"\ntopic = \"tariffs\"",
        "source = \"../info/missing.toml\"\ntopic = \"tariffs\"",
    )
    .to_string();
    assert!(
        e.contains("1000.toml")
            && e.contains("'info-tariffs'")
            && e.contains("'source'")
            && e.contains("missing.toml"),
        "{e}"
    );
    let e = broken("topic = \"packages\"", "topic = \"roaming\"").to_string();
    assert!(
        e.contains("'info-packages'") && e.contains("'topic'") && e.contains("roaming"),
        "{e}"
    );
    let e = broken(
        "en = \"Connecting you to the fault desk.\" }",
        "en = \"Connecting you to the fault desk.\", seconds = { zh = -1, en = 2 } }",
    )
    .to_string();
    assert!(
        e.contains("'fault-queue'") && e.contains("prompt.seconds.zh") && e.contains("-1"),
        "{e}"
    );
    // a file on disk reads its information files beside it
    let dir = std::env::temp_dir().join(format!("hotline-info-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("ivr")).unwrap();
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/ivr/1000.toml");
    std::fs::copy(&p, dir.join("ivr/1000.toml")).unwrap();
    let e = Flow::load(&dir.join("ivr/1000.toml"), QUEUES)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'source'") && e.contains("../info/1000.toml"),
        "{e}"
    );
    std::fs::create_dir_all(dir.join("info")).unwrap();
    std::fs::write(
        dir.join("info/1000.toml"),
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/info/1000.toml"),
        )
        .unwrap()
        .replace("本地通话每分钟一毛", "本地通话免费"),
    )
    .unwrap();
    let f = Flow::load(&dir.join("ivr/1000.toml"), QUEUES).unwrap();
    assert!(
        f.answer("info-tariffs")
            .unwrap()
            .text
            .zh
            .starts_with("本地通话免费")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
