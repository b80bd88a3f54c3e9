//! Area incidents (区域障碍) through the store's public API, on both engines: declared,
//! edited and ended with an audit trail; fault tickets of the area linked while one is
//! open; ending it resolves them; bad declarations refused with words.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod engines;
use engines::TestStore;

use hotline_store::export::{self, Kind};
use hotline_store::seed::{self, DEFAULT_NOW};
use hotline_store::*;

const NOW: Millis = DEFAULT_NOW;
const HOUR: Millis = 3_600_000;

type New<'a> = &'a dyn Fn() -> TestStore;

on_both_engines!(
    an_incident_links_its_areas_fault_tickets_and_ending_it_resolves_them,
    bad_declarations_and_changes_are_refused_with_words,
    incidents_and_their_links_survive_export_and_import,
);

fn living(s: &Store, name: &str, phone: &str, district: &str, area: &str) -> Customer {
    let mut c = seed::customer(1, 0, NOW);
    c.id = 0;
    c.name = name.into();
    c.phones = vec![phone.into()];
    c.segment = Segment::Public;
    c.account_manager = None;
    c.district = district.into();
    c.area = area.into();
    s.put_customer(c).unwrap()
}

fn outage(district: &str, area: &str) -> NewIncident {
    NewIncident {
        district: district.into(),
        area: area.into(),
        kind: "broadband-down".into(),
        started: Some(NOW - HOUR),
        expected_restore: NOW + 3 * HOUR,
        message: IncidentMessage {
            zh: "光缆中断，正在抢修".into(),
            en: "A fibre cable is cut; the crew is on it".into(),
        },
        automatic: false,
    }
}

fn fault(customer: u64) -> NewTicket {
    NewTicket {
        customer,
        kind: TicketKind::Fault,
        subcategory: "broadband-down".into(),
        description: "宽带无法上网".into(),
        priority: TicketPriority::Normal,
    }
}

fn an_incident_links_its_areas_fault_tickets_and_ending_it_resolves_them(new: New) {
    let s = new();
    let here = living(&s, "张伟", "13800000001", "西湖区", "翠苑一区");
    let neighbour = living(&s, "李娜", "13800000002", "西湖区", "翠苑一区");
    let asker = living(&s, "王芳", "13800000003", "西湖区", "翠苑一区");
    let elsewhere = living(&s, "刘洋", "13800000004", "上城区", "湖滨");

    let before = s
        .create_ticket(fault(here.id), "1001", NOW - 2 * HOUR)
        .unwrap();
    let i = s
        .declare_incident(outage("西湖区", "翠苑一区"), "9000", NOW)
        .unwrap();
    assert!(i.is_open());
    assert_eq!(i.started, NOW - HOUR);
    assert_eq!(i.declared_by, "9000");
    assert_eq!(s.open_incidents().unwrap(), vec![i.clone()]);
    assert_eq!(
        s.open_incident_of("西湖区", "翠苑一区", None).unwrap(),
        Some(i.clone())
    );
    assert_eq!(s.open_incident_of("上城区", "湖滨", None).unwrap(), None);

    // a fault ticket of the area is linked; one of another area, a complaint, and one
    // opened before the incident are not
    let linked = s.create_ticket(fault(here.id), "1001", NOW + 1).unwrap();
    assert_eq!(linked.incident(), Some(i.id));
    assert_eq!(linked.status, TicketStatus::Dispatched);
    let other = s
        .create_ticket(fault(elsewhere.id), "1001", NOW + 2)
        .unwrap();
    assert_eq!(other.incident(), None);
    let complaint = s
        .create_ticket(
            NewTicket {
                kind: TicketKind::Complaint,
                subcategory: "repair-delay".into(),
                ..fault(here.id)
            },
            "1001",
            NOW + 3,
        )
        .unwrap();
    assert_eq!(complaint.incident(), None);
    assert_eq!(s.ticket(before.id).unwrap().unwrap().incident(), None);
    // a wrap-up's fault ticket too
    let wrapped = s
        .wrap_up_tickets(vec![fault(neighbour.id)], vec![], "1002", NOW + 4)
        .unwrap()
        .opened
        .remove(0);
    assert_eq!(wrapped.incident(), Some(i.id));
    assert_eq!(
        s.ticket(wrapped.id).unwrap().unwrap().incident(),
        Some(i.id)
    );

    // a caller who asks in the IVR gets a linked ticket, once however often they ask
    let asked = s.ask_to_be_told(i.id, asker.id, NOW + 5).unwrap();
    assert_eq!(asked.incident(), Some(i.id));
    assert_eq!(asked.owner, IVR_REQUEST);
    assert_eq!(
        s.ask_to_be_told(i.id, asker.id, NOW + 6).unwrap().id,
        asked.id
    );
    let refused = s.ask_to_be_told(i.id, elsewhere.id, NOW + 7).unwrap_err();
    assert!(refused.to_string().contains("area"), "{refused}");

    let links = s.incident_links(i.id, 100).unwrap();
    let tickets: Vec<u64> = links.iter().map(|l| l.ticket).collect();
    assert_eq!(tickets, vec![linked.id, wrapped.id, asked.id]);
    assert_eq!(
        links.iter().filter(|l| l.asked_to_be_told).count(),
        1,
        "{links:?}"
    );
    assert_eq!(s.incident_counts(i.id).unwrap(), (3, 1));

    // the back office works one linked ticket to the end by itself
    s.update_ticket(
        linked.id,
        TicketChange::Resolution {
            code: "repaired".into(),
            note: "已修复".into(),
        },
        "repair-1",
        NOW + 10,
    )
    .unwrap();

    // ending the incident resolves the linked tickets still open, each keeping its history
    let end = s
        .end_incident(i.id, "repaired", "光缆熔接完成", "9000", NOW + 2 * HOUR)
        .unwrap();
    assert_eq!(end.incident.status, IncidentStatus::Ended);
    assert_eq!(end.incident.ended, Some(NOW + 2 * HOUR));
    assert_eq!(end.resolved, vec![wrapped.id, asked.id]);
    for id in [wrapped.id, asked.id] {
        let t = s.ticket(id).unwrap().unwrap();
        assert_eq!(t.status, TicketStatus::Resolved);
        assert_eq!(t.resolution(), Some("repaired"));
        assert!(t.just_resolved(), "its call-back falls due");
        assert!(t.history.len() >= 4, "{:?}", t.history);
        assert!(t.latest_note().unwrap().contains("光缆熔接完成"));
    }
    assert_eq!(
        s.ticket(other.id).unwrap().unwrap().status,
        TicketStatus::Dispatched
    );
    assert_eq!(
        s.ticket(complaint.id).unwrap().unwrap().status,
        TicketStatus::Dispatched
    );
    // ending again changes nothing
    let again = s
        .end_incident(i.id, "repaired", "again", "9001", NOW + 3 * HOUR)
        .unwrap();
    assert_eq!(again.incident, end.incident);
    assert!(again.resolved.is_empty());
    assert!(s.open_incidents().unwrap().is_empty());
    // a fault ticket after the end stands alone
    let after = s
        .create_ticket(fault(here.id), "1001", NOW + 4 * HOUR)
        .unwrap();
    assert_eq!(after.incident(), None);
    assert_eq!(s.incidents(false, 10).unwrap(), vec![end.incident.clone()]);

    // who did what, when
    let audit = s.audit_trail(NOW, NOW + 4 * HOUR, 100).unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .filter(|a| a.target.starts_with("incident"))
        .map(|a| (a.action.as_str(), a.by.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![("declare-incident", "9000"), ("end-incident", "9000")]
    );
}

fn bad_declarations_and_changes_are_refused_with_words(new: New) {
    let s = new();
    living(&s, "张伟", "13800000001", "西湖区", "翠苑一区");
    let said = |e: StoreError, words: &str| {
        let text = e.to_string();
        assert!(text.contains(words), "{text:?} does not say {words:?}");
    };
    said(
        s.declare_incident(outage("西湖区", "无人小区"), "9000", NOW)
            .unwrap_err(),
        "no customer lives",
    );
    said(
        s.declare_incident(
            NewIncident {
                expected_restore: NOW - 2 * HOUR,
                ..outage("西湖区", "翠苑一区")
            },
            "9000",
            NOW,
        )
        .unwrap_err(),
        "not after the outage's start",
    );
    said(
        s.declare_incident(
            NewIncident {
                started: Some(NOW + HOUR),
                ..outage("西湖区", "翠苑一区")
            },
            "9000",
            NOW,
        )
        .unwrap_err(),
        "future",
    );
    for message in [
        IncidentMessage {
            zh: "光缆中断".into(),
            en: " ".into(),
        },
        IncidentMessage {
            zh: String::new(),
            en: "cut".into(),
        },
    ] {
        said(
            s.declare_incident(
                NewIncident {
                    message,
                    ..outage("西湖区", "翠苑一区")
                },
                "9000",
                NOW,
            )
            .unwrap_err(),
            "in Chinese and in English",
        );
    }
    said(
        s.declare_incident(
            NewIncident {
                kind: "billing-dispute".into(),
                ..outage("西湖区", "翠苑一区")
            },
            "9000",
            NOW,
        )
        .unwrap_err(),
        "billing-dispute",
    );
    assert!(s.incidents(false, 10).unwrap().is_empty(), "nothing stored");

    let i = s
        .declare_incident(outage("西湖区", "翠苑一区"), "9000", NOW)
        .unwrap();
    let twice = s
        .declare_incident(outage("西湖区", "翠苑一区"), "9001", NOW + 1)
        .unwrap_err();
    assert!(matches!(twice, StoreError::Exists(_)), "{twice:?}");
    said(twice, "already open");
    // another kind in the same area is another incident
    let tv = s
        .declare_incident(
            NewIncident {
                kind: "iptv-no-picture".into(),
                ..outage("西湖区", "翠苑一区")
            },
            "9000",
            NOW + 2,
        )
        .unwrap();
    assert_ne!(tv.id, i.id);

    // edits: a later restore time and a new message, audited; bad ones refused
    let edited = s
        .edit_incident(
            i.id,
            IncidentEdit {
                expected_restore: Some(NOW + 5 * HOUR),
                message: Some(IncidentMessage {
                    zh: "抢修延长".into(),
                    en: "Repairs take longer".into(),
                }),
            },
            "9001",
            NOW + 10,
        )
        .unwrap();
    assert_eq!(edited.expected_restore, NOW + 5 * HOUR);
    assert_eq!(edited.message.en, "Repairs take longer");
    assert_eq!(edited.history.len(), 2);
    assert_eq!(s.incident(i.id).unwrap(), Some(edited.clone()));
    said(
        s.edit_incident(
            i.id,
            IncidentEdit {
                expected_restore: Some(NOW - 3 * HOUR),
                message: None,
            },
            "9001",
            NOW + 11,
        )
        .unwrap_err(),
        "not after the outage's start",
    );
    said(
        s.edit_incident(i.id, IncidentEdit::default(), "9001", NOW + 11)
            .unwrap_err(),
        "changes nothing",
    );
    said(
        s.end_incident(i.id, "refunded", "退费", "9001", NOW + 12)
            .unwrap_err(),
        "not a resolution of fault tickets",
    );
    said(
        s.end_incident(i.id, "repaired", " ", "9001", NOW + 12)
            .unwrap_err(),
        "say what was done",
    );
    said(
        s.end_incident(404, "repaired", "done", "9001", NOW + 12)
            .unwrap_err(),
        "no incident 404",
    );
    s.end_incident(i.id, "repaired", "done", "9001", NOW + 13)
        .unwrap();
    said(
        s.edit_incident(
            i.id,
            IncidentEdit {
                expected_restore: Some(NOW + 6 * HOUR),
                message: None,
            },
            "9001",
            NOW + 14,
        )
        .unwrap_err(),
        "has ended",
    );
    // once ended, the area may have a new one of that kind
    s.declare_incident(outage("西湖区", "翠苑一区"), "9000", NOW + 15)
        .unwrap();
    let actions: Vec<String> = s
        .audit_trail(0, Millis::MAX, 100)
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(
        actions,
        vec![
            "declare-incident",
            "declare-incident",
            "edit-incident",
            "end-incident",
            "declare-incident"
        ]
    );
}

fn incidents_and_their_links_survive_export_and_import(new: New) {
    let s = new();
    let here = living(&s, "张伟", "13800000001", "西湖区", "翠苑一区");
    let i = s
        .declare_incident(outage("西湖区", "翠苑一区"), "9000", NOW)
        .unwrap();
    let t = s.create_ticket(fault(here.id), "1001", NOW + 1).unwrap();
    let mut customers = Vec::new();
    export::export_jsonl(&s, Kind::Customers, &mut customers).unwrap();
    let mut tickets = Vec::new();
    export::export_jsonl(&s, Kind::Tickets, &mut tickets).unwrap();
    let mut incidents = Vec::new();
    assert_eq!(
        export::export_jsonl(&s, Kind::Incidents, &mut incidents).unwrap(),
        2,
        "the incident and its link"
    );

    let to = new();
    export::import_jsonl(&to, Kind::Customers, &mut customers.as_slice()).unwrap();
    export::import_jsonl(&to, Kind::Tickets, &mut tickets.as_slice()).unwrap();
    export::import_jsonl(&to, Kind::Incidents, &mut incidents.as_slice()).unwrap();
    assert_eq!(to.incident(i.id).unwrap(), Some(i.clone()));
    assert_eq!(to.incident_links(i.id, 10).unwrap()[0].ticket, t.id);
    assert!(to.check().unwrap().is_clean());
    // numbers handed out later continue after the imported ones
    let next = to
        .declare_incident(
            NewIncident {
                kind: "fixed-line-dead".into(),
                ..outage("西湖区", "翠苑一区")
            },
            "9000",
            NOW + 2,
        )
        .unwrap();
    assert!(next.id > i.id);
}
