//! Self-service through the IVR flow on a real store: the flow asks, the store answers,
//! the caller hears the figures.
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use hotline_ivr::{Action, Flow, Input, Lang, Service, Session};
use hotline_router::self_service::{self, IVR_OWNER};
use hotline_store::seed::{self, DEFAULT_NOW};
use hotline_store::*;
use std::path::Path;
use std::sync::Arc;

const QUEUES: &[&str] = &[
    "inquiry",
    "fault",
    "complaint",
    "new-service",
    "green-channel",
];
const NOW: u64 = DEFAULT_NOW + 2 * 3_600_000; // 10:00 in Beijing

fn setup() -> (Store, Customer, Arc<Flow>) {
    let s = Store::temporary(Catalog::builtin()).unwrap();
    let mut c = seed::customer(5, 1, DEFAULT_NOW);
    c.id = 0;
    c.phones = vec!["18966668888".into()];
    c.balance_fen = 5_830;
    c.arpu_fen = 8_600;
    c.arrears_fen = 0;
    c.segment = Segment::Public;
    let c = s.put_customer(c).unwrap();
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/ivr/1000.toml");
    (s, c, Arc::new(Flow::load(&p, QUEUES).unwrap()))
}

/// Drive a session: press keys in order, performing self-service on the store.
fn call(
    store: &Store,
    flow: &Arc<Flow>,
    customer: Option<&Customer>,
    keys: &[&str],
) -> Vec<String> {
    let (mut s, mut acts) = Session::start(flow, NOW, false);
    let mut said = Vec::new();
    let mut keys = keys.iter();
    loop {
        let mut next = None;
        for a in &acts {
            match a {
                Action::Say { text, .. } => said.push(text.clone()),
                Action::SelfService { service, input, .. } => {
                    let r = self_service::run(store, *service, input, customer, s.language(), NOW);
                    next = Some(Input::ServiceDone(r));
                }
                // the switchboard's part: the open incident of the caller's area
                Action::Outage { .. } => {
                    let open = customer
                        .and_then(|c| store.open_incident_of(&c.district, &c.area, None).unwrap());
                    next = Some(Input::Outage(open.map(|i| {
                        vec![
                            ("message".into(), i.message.zh.clone()),
                            ("restore".into(), "18:00".into()),
                            ("incident".into(), i.id.to_string()),
                        ]
                    })));
                }
                Action::Collect { .. } if next.is_none() => {
                    next = keys.next().map(|k| Input::Digits(k.to_string()));
                }
                _ => {}
            }
        }
        match next {
            Some(i) => acts = s.handle(NOW, i),
            None => return said,
        }
    }
}

#[test]
fn a_caller_hears_their_balance_from_the_store() {
    let (store, c, flow) = setup();
    let said = call(&store, &flow, Some(&c), &["5"]);
    assert!(
        said.contains(&"您的账户余额为58.30元，本月已产生话费86.00元。".to_string()),
        "{said:?}"
    );
    let mut owing = c.clone();
    owing.arrears_fen = 1_250;
    let said = call(&store, &flow, Some(&owing), &["5"]);
    assert!(said.iter().any(|t| t.contains("欠费12.50元")), "{said:?}");
}

#[test]
fn a_fault_reported_in_the_ivr_is_a_real_ticket_the_caller_can_then_follow() {
    let (store, c, flow) = setup();
    let said = call(&store, &flow, Some(&c), &["2", "1"]);
    let tickets = store.tickets_of_customer(c.id).unwrap();
    assert_eq!(tickets.len(), 1);
    let t = &tickets[0];
    assert_eq!(
        (t.kind, t.owner.as_str(), t.status, t.back_office.as_deref()),
        (
            TicketKind::Fault,
            IVR_OWNER,
            TicketStatus::Dispatched,
            Some("repair-crew")
        ),
        "opened in the IVR and sent to the repair crew at once"
    );
    assert!(
        said.iter()
            .any(|s| s.contains(&format!("工单号{}", t.id)) && s.contains("48小时")),
        "{said:?}"
    );
    // then the ticket progress by its number
    let number = format!("{}#", t.id);
    let said = call(&store, &flow, Some(&c), &["6", &number]);
    assert!(
        said.iter()
            .any(|s| s.contains(&format!("工单{}当前状态为已派单", t.id))),
        "{said:?}"
    );
}

#[test]
fn value_added_signup_opens_a_service_order() {
    let (store, c, flow) = setup();
    let said = call(&store, &flow, Some(&c), &["4", "1"]);
    let t = &store.tickets_of_customer(c.id).unwrap()[0];
    assert_eq!(
        (t.kind, t.subcategory.as_str()),
        (TicketKind::ServiceOrder, "value-added")
    );
    assert!(
        said.iter().any(|s| s.contains("彩铃业务申请已受理")),
        "{said:?}"
    );
}

#[test]
fn strangers_and_other_peoples_tickets_get_a_polite_no() {
    let (store, c, flow) = setup();
    let said = call(&store, &flow, None, &["5"]);
    assert!(
        said.iter()
            .any(|s| s.contains("请使用您在电信登记的电话号码")),
        "{said:?}"
    );
    // somebody else's ticket is not read out
    let mut other = seed::customer(5, 2, DEFAULT_NOW);
    other.id = 0;
    other.phones = vec!["18900001234".into()];
    let other = store.put_customer(other).unwrap();
    let theirs = store
        .create_ticket(
            NewTicket {
                customer: other.id,
                kind: TicketKind::Complaint,
                subcategory: "billing-dispute".into(),
                description: "x".into(),
                priority: TicketPriority::Normal,
            },
            "1001",
            NOW,
        )
        .unwrap();
    let r = self_service::run(
        &store,
        Service::TicketProgress,
        &theirs.id.to_string(),
        Some(&c),
        Lang::En,
        NOW,
    );
    assert_eq!(r, Err(format!("there is no ticket {} of yours", theirs.id)));
    assert!(
        store.tickets_of_customer(c.id).unwrap().is_empty(),
        "nothing was opened for the stranger"
    );
}

#[test]
fn a_caller_of_an_area_with_an_incident_asks_to_be_told_and_gets_a_linked_ticket() {
    let (store, c, flow) = setup();
    let i = store
        .declare_incident(
            NewIncident {
                district: c.district.clone(),
                area: c.area.clone(),
                kind: "broadband-down".into(),
                started: None,
                expected_restore: NOW + 8 * 3_600_000,
                message: IncidentMessage {
                    zh: "光缆被挖断，正在抢修".into(),
                    en: "a fibre cable was cut".into(),
                },
                automatic: false,
            },
            "9000",
            NOW,
        )
        .unwrap();
    let said = call(&store, &flow, Some(&c), &["2", "1"]);
    assert!(
        said.iter()
            .any(|s| s.contains("光缆被挖断，正在抢修") && s.contains("预计18:00恢复")),
        "{said:?}"
    );
    let tickets = store.tickets_of_customer(c.id).unwrap();
    assert_eq!(tickets.len(), 1, "one request, one ticket");
    assert_eq!(tickets[0].incident(), Some(i.id));
    assert!(
        said.iter()
            .any(|s| s.contains(&format!("工单号{}", tickets[0].id)) && s.contains("修复后")),
        "{said:?}"
    );
    assert_eq!(store.incident_counts(i.id).unwrap(), (1, 1));
    // once it has ended, a request (an old call's) is refused with words
    store
        .end_incident(i.id, "repaired", "熔接完成", "9000", NOW + 1)
        .unwrap();
    let late = self_service::run(
        &store,
        Service::OutageNotify,
        &i.id.to_string(),
        Some(&c),
        Lang::Zh,
        NOW + 2,
    );
    assert!(late.unwrap_err().contains("已修复"));
}
