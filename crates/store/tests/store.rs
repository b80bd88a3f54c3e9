//! The store's behaviour through its public API: the conformance suite, every test run
//! on both engines (`sled::…` and `postgres::…`), plus sled's own (its files and lock).
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

mod engines;
use engines::TestStore;

use hotline_store::export::{self, Kind};
use hotline_store::seed::{self, DEFAULT_NOW};
use hotline_store::*;

const NOW: Millis = DEFAULT_NOW;
const HOUR: Millis = 3_600_000;

type New<'a> = &'a dyn Fn() -> TestStore;

on_both_engines!(
    customers_are_found_by_id_phone_name_and_manager,
    bad_input_is_refused_with_the_field_named_and_nothing_stored,
    tickets_follow_the_closed_loop_with_history_owner_and_deadlines,
    interactions_screen_pop_and_fcr_settlement,
    agents_log_in_with_argon2_hashes_and_logs_mask_people,
    seed_export_import_backup_and_rebuild,
    wrap_up_tickets_are_all_written_or_none_and_set_aside_records_are_reported,
    a_call_about_the_same_reason_after_the_window_is_no_repeat,
    concurrent_changes_to_one_ticket_are_all_kept,
    a_repeat_recorded_before_the_call_it_repeats_still_counts,
    a_call_recorded_twice_is_stored_once,
    the_back_office_works_its_groups_tickets_and_the_owner_closes_the_loop,
    fcr_is_tallied_by_queue_and_by_agent,
    a_call_back_closes_reopens_or_gives_up_on_a_resolved_ticket,
    a_call_backs_wrap_up_writes_its_outcome_with_its_tickets_or_nothing,
    closed_intervals_are_kept_once_and_read_by_time,
    random_ticket_walks_keep_the_loop_and_its_indexes,
    areas_count_their_customers_and_the_key_accounts_are_read_at_once,
    a_big_import_is_written_whole_or_not_at_all,
);

fn person(name: &str, phone: &str) -> Customer {
    let mut c = seed::customer(1, 0, NOW);
    c.id = 0;
    c.name = name.into();
    c.phones = vec![phone.into()];
    c.segment = Segment::Public;
    c.account_manager = None;
    c
}

fn call(customer: Option<u64>, at: Millis, reason: &str, claimed: bool) -> Interaction {
    Interaction {
        id: 0,
        call_id: at,
        customer,
        caller_number: "18912345678".into(),
        dialled: "1000".into(),
        arrived: at,
        ivr_ended: Some(at + 10_000),
        queued: Some(at + 10_000),
        offered: Some(at + 15_000),
        answered: Some(at + 17_000),
        ended: at + 200_000,
        ivr_path: vec!["2".into()],
        self_service: None,
        queue: Some("fault".into()),
        agents: vec!["1001".into()],
        transfers: 0,
        wait_s: 7,
        talk_s: 180,
        hold_s: 0,
        wrap_up_s: 20,
        end: CallEnd::Completed,
        disposition: Some("answered".into()),
        reason: Some(reason.into()),
        notes: String::new(),
        tickets: vec![],
        fcr_claimed: claimed,
        fcr_verified: None,
        satisfaction: Some(5),
        legs: vec![],
    }
}

fn customers_are_found_by_id_phone_name_and_manager(new: New) {
    let s = new();
    let a = s.put_customer(person("张伟", "18912345678")).unwrap();
    let mut b = person("张伟明", "0571-88881234");
    b.segment = Segment::KeyAccount;
    b.account_manager = Some("9001".into());
    let b = s.put_customer(b).unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(s.customer(a.id).unwrap().unwrap(), a);
    assert_eq!(
        s.customer_by_phone("0571-88881234").unwrap().unwrap().id,
        b.id
    );
    let names: Vec<String> = s
        .customers_by_name("张伟", 10)
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, vec!["张伟", "张伟明"]);
    assert_eq!(s.customers_of_manager("9001", 10).unwrap()[0].id, b.id);
    // a change of number moves the index with it
    let mut a2 = a.clone();
    a2.phones = vec!["18900000000".into()];
    s.put_customer(a2).unwrap();
    assert!(s.customer_by_phone("18912345678").unwrap().is_none());
    assert_eq!(
        s.customer_by_phone("18900000000").unwrap().unwrap().id,
        a.id
    );
    // the profiles the reports read: by id, and page by page
    assert_eq!(s.customer_profile(b.id).unwrap(), Some(b.profile()));
    assert_eq!(s.customer_profile(b.id + 100).unwrap(), None);
    let page = s.engine().customer_profiles_after(a.id, 10).unwrap();
    assert_eq!(page, vec![(b.id, b.profile())]);
    assert!(s.check().unwrap().is_clean());
}

fn bad_input_is_refused_with_the_field_named_and_nothing_stored(new: New) {
    let s = new();
    let ok = s.put_customer(person("李娜", "13312345678")).unwrap();
    let cases: Vec<(Customer, &str)> = vec![
        (person("  ", "13312340000"), "name"),
        (person("王芳", "1331234"), "phones"),
        (person("王芳", "12312345678"), "phones"),
        (
            {
                let mut c = person("王芳", "13312340001");
                c.id_document = Some("330102199001011230".into());
                c
            },
            "id_document",
        ),
        (
            {
                let mut c = person("王芳", "13312340002");
                c.notes = "长".repeat(5000);
                c
            },
            "notes",
        ),
        (
            {
                let mut c = person("王芳", "13312340003");
                c.credit_level = 9;
                c
            },
            "credit_level",
        ),
    ];
    for (c, field) in cases {
        let e = s.put_customer(c).unwrap_err();
        assert!(e.to_string().starts_with(field), "{field}: {e}");
    }
    // the number of another customer
    let e = s.put_customer(person("王芳", "13312345678")).unwrap_err();
    assert!(
        matches!(e, StoreError::PhoneTaken { owner, .. } if owner == ok.id),
        "{e}"
    );
    assert!(
        e.to_string().contains("133****5678"),
        "numbers are masked in messages: {e}"
    );
    // unknown ids
    let mut ghost = person("王芳", "13312349999");
    ghost.id = 999;
    assert!(matches!(
        s.put_customer(ghost),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.record_interaction(call(Some(999), NOW, "x", false)),
        Err(StoreError::NotFound { .. })
    ));
    let r = s.check().unwrap();
    assert_eq!(r.customers, 1);
    assert!(r.is_clean(), "{r:?}");
}

fn tickets_follow_the_closed_loop_with_history_owner_and_deadlines(new: New) {
    let s = new();
    let public = s.put_customer(person("陈静", "18911112222")).unwrap();
    let mut key = person("杭州地铁集团 周总", "18933334444");
    key.segment = Segment::KeyAccount;
    let key = s.put_customer(key).unwrap();
    let fault = |c: &Customer| NewTicket {
        customer: c.id,
        kind: TicketKind::Fault,
        subcategory: "broadband-down".into(),
        description: "宽带无法上网".into(),
        priority: TicketPriority::High,
    };
    let t = s.create_ticket(fault(&public), "1001", NOW).unwrap();
    let k = s.create_ticket(fault(&key), "1002", NOW).unwrap();
    assert_eq!(t.deadline, NOW + 48 * HOUR, "public fault: 48 h");
    assert_eq!(k.deadline, NOW + 4 * HOUR, "key account fault: 4 h, sooner");
    // the front office takes it and it goes to its group at once, the history says so
    assert_eq!(
        (t.status, t.owner.as_str(), t.back_office.as_deref()),
        (TicketStatus::Dispatched, "1001", Some("repair-crew"))
    );
    assert_eq!(
        t.history
            .iter()
            .map(|e| (e.by.as_str(), e.status))
            .collect::<Vec<_>>(),
        vec![
            ("1001", TicketStatus::New),
            (hotline_store::SYSTEM, TicketStatus::Dispatched)
        ]
    );
    assert_eq!(
        s.worklist("repair-crew", 10)
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect::<Vec<_>>(),
        vec![k.id, t.id],
        "the crew's worklist: soonest deadline first"
    );
    assert!(s.worklist("complaints-office", 10).unwrap().is_empty());
    assert!(s.worklist("the moon", 10).is_err());

    // closing before the callback is refused and changes nothing
    let e = s
        .update_ticket(t.id, TicketChange::Close, "1001", NOW)
        .unwrap_err();
    assert!(matches!(e, StoreError::IllegalTransition { .. }), "{e}");
    assert_eq!(s.ticket(t.id).unwrap().unwrap(), t);

    // a group that is not in the catalogue, and a resolution without its code, are refused
    for (bad, field) in [
        (
            TicketChange::Dispatch {
                group: "the moon".into(),
            },
            "group",
        ),
        (
            TicketChange::Resolve {
                note: "更换光猫".into(),
            },
            "resolution",
        ),
        (
            TicketChange::Resolution {
                code: "magic".into(),
                note: "更换光猫".into(),
            },
            "resolution",
        ),
    ] {
        let e = s.update_ticket(t.id, bad, "8001", NOW).unwrap_err();
        assert!(
            matches!(&e, StoreError::Invalid { field: f, .. } if *f == field),
            "{e}"
        );
    }
    assert_eq!(s.ticket(t.id).unwrap().unwrap(), t);

    let loop_steps = [
        (
            // a clerk passes it on, by the group's old name: stored by its code
            TicketChange::Dispatch {
                group: "投诉处理 complaints office".into(),
            },
            "8001",
            TicketStatus::Dispatched,
        ),
        (TicketChange::Start, "repair-07", TicketStatus::InProgress),
        (
            TicketChange::Resolution {
                code: "replaced".into(),
                note: "更换光猫".into(),
            },
            "repair-07",
            TicketStatus::Resolved,
        ),
        (
            TicketChange::CallBack { satisfaction: 5 },
            "1001",
            TicketStatus::CalledBack,
        ),
        (TicketChange::Close, "1001", TicketStatus::Closed),
        (
            TicketChange::Reopen {
                reason: "又断网".into(),
            },
            "1003",
            TicketStatus::Reopened,
        ),
    ];
    let mut at = NOW;
    for (change, by, status) in loop_steps {
        at += HOUR;
        let u = s.update_ticket(t.id, change, by, at).unwrap();
        assert_eq!(u.status, status);
        assert_eq!(u.owner, "1001", "首问负责: the first agent stays owner");
    }
    let t = s.ticket(t.id).unwrap().unwrap();
    assert_eq!(t.history.len(), 8);
    assert_eq!(
        t.history[2].change,
        TicketChange::Dispatch {
            group: "complaints-office".into()
        }
    );
    assert_eq!(t.history[3].by, "repair-07");
    assert_eq!(t.satisfaction, Some(5));
    assert_eq!(t.deadline, at + 48 * HOUR, "reopened: a fresh deadline");
    assert!(
        s.update_ticket(t.id, TicketChange::CallBack { satisfaction: 9 }, "1001", at)
            .is_err()
    );
    assert!(
        s.update_ticket(t.id, TicketChange::Note { text: "".into() }, "1001", at)
            .is_err()
    );
    assert!(matches!(
        s.update_ticket(4242, TicketChange::Start, "1001", at),
        Err(StoreError::NotFound { .. })
    ));
    // subcategories come from the categories file
    let mut bad = fault(&public);
    bad.subcategory = "toaster-on-fire".into();
    assert!(
        s.create_ticket(bad, "1001", NOW)
            .unwrap_err()
            .to_string()
            .contains("subcategory")
    );

    // indexes: by status, owner, customer, overdue
    assert_eq!(
        s.tickets_by_status(TicketStatus::Reopened, 10).unwrap()[0].id,
        t.id
    );
    assert_eq!(s.tickets_of_owner("1002", 10).unwrap()[0].id, k.id);
    assert_eq!(s.tickets_of_customer(key.id).unwrap().len(), 1);
    let overdue: Vec<u64> = s
        .overdue_tickets(NOW + 5 * HOUR, 10)
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(
        overdue,
        vec![k.id],
        "the key account's fault is overdue after 4 h"
    );
    assert!(s.ticket(k.id).unwrap().unwrap().is_overdue(NOW + 5 * HOUR));
    assert!(s.check().unwrap().is_clean());
}

fn interactions_screen_pop_and_fcr_settlement(new: New) {
    let s = new();
    let c = s.put_customer(person("刘洋", "18955556666")).unwrap();
    let t = s
        .create_ticket(
            NewTicket {
                customer: c.id,
                kind: TicketKind::Complaint,
                subcategory: "billing-dispute".into(),
                description: "话费多扣".into(),
                priority: TicketPriority::Normal,
            },
            "1001",
            NOW,
        )
        .unwrap();
    let day = DEFAULT_FCR_WINDOW / 7;
    let first = s
        .record_interaction(call(Some(c.id), NOW, "fault.broadband", true))
        .unwrap();
    let other = s
        .record_interaction(call(Some(c.id), NOW + day, "inquiry.tariff", true))
        .unwrap();
    // a repeat about the same fault three days later: the first contact was not resolved
    let repeat = s
        .record_interaction(call(Some(c.id), NOW + 3 * day, "fault.broadband", true))
        .unwrap();
    assert_eq!(
        s.interaction(first.id).unwrap().unwrap().fcr_verified,
        Some(false)
    );
    assert_eq!(s.interaction(other.id).unwrap().unwrap().fcr_verified, None);
    let anonymous = s
        .record_interaction(call(None, NOW, "inquiry.tariff", true))
        .unwrap();
    // a week after the tariff question with no repeat it is verified; the repeat itself
    // waits for its own window
    assert_eq!(s.settle_fcr(NOW + 9 * day).unwrap(), 1);
    assert_eq!(
        s.interaction(other.id).unwrap().unwrap().fcr_verified,
        Some(true)
    );
    assert_eq!(
        s.interaction(repeat.id).unwrap().unwrap().fcr_verified,
        None
    );
    assert_eq!(s.settle_fcr(NOW + 11 * day).unwrap(), 1);
    assert_eq!(
        s.interaction(repeat.id).unwrap().unwrap().fcr_verified,
        Some(true)
    );
    assert_eq!(
        s.interaction(anonymous.id).unwrap().unwrap().fcr_verified,
        None,
        "no customer, no verdict"
    );

    let pop = s.screen_pop("18955556666", 5).unwrap().unwrap();
    assert_eq!(pop.customer.id, c.id);
    assert_eq!(pop.open_tickets.len(), 1);
    assert_eq!(pop.open_tickets[0].id, t.id);
    let ids: Vec<u64> = pop.recent.iter().map(|l| l.id).collect();
    assert_eq!(ids, vec![repeat.id, other.id, first.id], "newest first");
    assert_eq!(
        pop.recent[2].fcr_verified,
        Some(false),
        "the pop shows settled FCR"
    );
    assert!(s.screen_pop("18900000001", 5).unwrap().is_none());

    assert_eq!(s.interactions_of_customer(c.id, 2).unwrap().len(), 2);
    assert_eq!(s.interactions_of_agent("1001", 10).unwrap().len(), 4);
    assert_eq!(s.interactions_between(NOW, NOW + day, 10).unwrap().len(), 2);
    let bad = Interaction {
        satisfaction: Some(7),
        ..call(Some(c.id), NOW, "x", false)
    };
    assert!(
        s.record_interaction(bad)
            .unwrap_err()
            .to_string()
            .starts_with("satisfaction")
    );
    assert!(s.check().unwrap().is_clean());
}

fn agents_log_in_with_argon2_hashes_and_logs_mask_people(new: New) {
    let s = new();
    let a = AgentAccount {
        id: "1001".into(),
        name: "王小明".into(),
        role: Role::Supervisor,
        skills: vec![("inquiry".into(), 7)],
        groups: vec!["A 组".into()],
        password_hash: String::new(),
    };
    assert!(s.set_agent(a.clone(), "short").is_err());
    s.set_agent(a, "correct horse battery").unwrap();
    let stored = s.agent("1001").unwrap().unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"));
    assert_eq!(
        s.verify_agent("1001", "correct horse battery")
            .unwrap()
            .role,
        Role::Supervisor
    );
    assert!(matches!(
        s.verify_agent("1001", "wrong"),
        Err(StoreError::BadCredentials)
    ));
    assert!(matches!(
        s.verify_agent("9999", "whatever"),
        Err(StoreError::BadCredentials)
    ));
    let shown = format!("{stored:?}");
    assert!(
        !shown.contains("王小明") && !shown.contains("argon2"),
        "{shown}"
    );
    let c = seed::customer(3, 5, NOW);
    let shown = format!("{c:?}");
    assert!(
        !shown.contains(&c.name) && !shown.contains(&c.phones[0]),
        "{shown}"
    );
    assert!(
        !shown.contains(c.id_document.as_deref().unwrap()),
        "{shown}"
    );
}

/// The sled database under a closed store, opened bare. sled's flusher thread may hold
/// the lock a moment after the store is dropped (Store::open waits for it; a bare
/// sled::open must too).
fn raw_sled(dir: &std::path::Path) -> ::sled::Db {
    let mut tries = 0;
    loop {
        match ::sled::open(dir) {
            Ok(db) => return db,
            Err(_) if tries < 40 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => panic!("{e}"),
        }
    }
}

fn living(name: &str, phone: &str, district: &str, area: &str) -> Customer {
    let mut c = person(name, phone);
    c.district = district.into();
    c.area = area.into();
    c
}

/// The areas' populations as the engine keeps them, sorted.
fn population(s: &Store) -> Vec<(String, String, u64)> {
    let mut p: Vec<_> = s
        .engine()
        .area_population()
        .unwrap()
        .into_iter()
        .map(|a| (a.district, a.area, a.customers))
        .collect();
    p.sort();
    p
}

fn key_accounts(s: &Store) -> Vec<(u64, Option<String>)> {
    let mut k = s.engine().key_accounts().unwrap();
    k.sort();
    k
}

/// The reports read each area's customers and the key accounts without reading every
/// customer: the counts move as customers are added, move house and are bulk-loaded.
fn areas_count_their_customers_and_the_key_accounts_are_read_at_once(new: New) {
    let s = new();
    let row = |d: &str, a: &str, n: u64| (d.to_string(), a.to_string(), n);
    assert!(population(&s).is_empty());
    let a = s
        .put_customer(living("张伟", "18900000001", "西湖区", "翠苑一区"))
        .unwrap();
    let b = s
        .put_customer(living("李娜", "18900000002", "西湖区", "翠苑一区"))
        .unwrap();
    let mut c = living("王芳", "18900000003", "上城区", "湖滨");
    c.segment = Segment::KeyAccount;
    c.account_manager = Some("9001".into());
    let c = s.put_customer(c).unwrap();
    assert_eq!(
        population(&s),
        vec![row("上城区", "湖滨", 1), row("西湖区", "翠苑一区", 2)]
    );
    assert_eq!(key_accounts(&s), vec![(c.id, Some("9001".into()))]);
    // one moves house; one is changed in place (the count stays); the key account's
    // manager changes and a public customer becomes a key account without one
    let mut moved = a.clone();
    moved.area = "湖滨".into();
    moved.district = "上城区".into();
    s.put_customer(moved).unwrap();
    let mut renamed = b.clone();
    renamed.name = "李娜娜".into();
    s.put_customer(renamed).unwrap();
    let mut c2 = c.clone();
    c2.account_manager = Some("9002".into());
    s.put_customer(c2).unwrap();
    let mut b2 = s.customer(b.id).unwrap().unwrap();
    b2.segment = Segment::KeyAccount;
    s.put_customer(b2).unwrap();
    assert_eq!(
        population(&s),
        vec![row("上城区", "湖滨", 2), row("西湖区", "翠苑一区", 1)]
    );
    assert_eq!(
        key_accounts(&s),
        vec![(b.id, None), (c.id, Some("9002".into()))]
    );
    // the last one leaves its area: the area is gone, not counted as nobody
    let mut b3 = s.customer(b.id).unwrap().unwrap();
    b3.area = "湖滨".into();
    b3.district = "上城区".into();
    s.put_customer(b3).unwrap();
    assert_eq!(population(&s), vec![row("上城区", "湖滨", 3)]);
    // a bulk load (seeding, a copy) counts its customers too
    let mut d = living("赵敏", "18900000004", "拱墅区", "大关");
    d.id = c.id + 100;
    let mut e = living("钱进", "18900000005", "拱墅区", "大关");
    e.id = c.id + 101;
    s.load(vec![engine::Put::Customer(d), engine::Put::Customer(e)])
        .unwrap();
    s.flush().unwrap();
    assert_eq!(
        population(&s),
        vec![row("上城区", "湖滨", 3), row("拱墅区", "大关", 2)]
    );
    let r = s.check().unwrap();
    assert!(r.is_clean(), "{r:?}");
}

/// An import of more records than a commit sends at once (40 customers) is one
/// transaction still: when its last customer's number belongs to someone else, none of
/// the 40 is stored, and the store is clean.
fn a_big_import_is_written_whole_or_not_at_all(new: New) {
    let s = new();
    let owner = s
        .put_customer(living("张伟", "18900000001", "西湖区", "翠苑一区"))
        .unwrap();
    let records: Vec<engine::Put> = (0..40u64)
        .map(|k| {
            let phone = if k == 39 {
                "18900000001".to_string()
            } else {
                format!("1890001{k:04}")
            };
            let mut c = living(&format!("导入{k}"), &phone, "拱墅区", "大关");
            c.id = owner.id + 100 + k;
            engine::Put::Customer(c)
        })
        .collect();
    let e = s.import(records).unwrap_err();
    assert!(matches!(e, StoreError::PhoneTaken { .. }), "{e}");
    for k in 0..40 {
        assert!(
            s.customer(owner.id + 100 + k).unwrap().is_none(),
            "customer {k}"
        );
    }
    assert_eq!(
        population(&s),
        vec![("西湖区".to_string(), "翠苑一区".to_string(), 1)]
    );
    assert!(s.check().unwrap().is_clean());
}

/// A store written before the areas' counts and the key-account index gets both when
/// opened; a count that went wrong is found by `check` and put right by `rebuild`.
#[test]
fn a_store_without_area_counts_gets_them_when_opened_and_check_guards_them() {
    let dir = tempdir("area-counts");
    let (a, k) = {
        let s = Store::open(&dir, Catalog::builtin()).unwrap();
        let a = s
            .put_customer(living("张伟", "18900000001", "西湖区", "翠苑一区"))
            .unwrap();
        let mut k = living("王芳", "18900000003", "西湖区", "翠苑一区");
        k.segment = Segment::KeyAccount;
        k.account_manager = Some("9001".into());
        (a, s.put_customer(k).unwrap())
    };
    {
        let db = raw_sled(&dir);
        db.open_tree("key_accounts").unwrap().clear().unwrap();
        db.open_tree("area_population").unwrap().clear().unwrap();
        db.flush().unwrap();
    }
    let s = Store::open(&dir, Catalog::builtin()).unwrap();
    assert_eq!(
        population(&s),
        vec![("西湖区".to_string(), "翠苑一区".to_string(), 2)]
    );
    assert_eq!(key_accounts(&s), vec![(k.id, Some("9001".into()))]);
    assert!(s.check().unwrap().is_clean());
    drop(s);
    {
        // damage: one area counted wrong, one that nobody lives in
        let db = raw_sled(&dir);
        let t = db.open_tree("area_population").unwrap();
        t.insert("西湖区\0翠苑一区".as_bytes(), &7u64.to_be_bytes())
            .unwrap();
        t.insert("滨江区\0长河".as_bytes(), &1u64.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let s = Store::open(&dir, Catalog::builtin()).unwrap();
    let r = s.check().unwrap();
    assert_eq!((r.mismatched, r.stale), (1, 1), "{r:?}");
    assert!(r.problems.iter().any(|p| p.contains("翠苑一区")), "{r:?}");
    let r = s.rebuild_indexes().unwrap();
    assert!(r.is_clean(), "{r:?}");
    assert_eq!(
        population(&s),
        vec![("西湖区".to_string(), "翠苑一区".to_string(), 2)]
    );
    assert_eq!(s.customer(a.id).unwrap().unwrap().area, "翠苑一区");
    drop(s);
    std::fs::remove_dir_all(dir).ok();
}

/// A store written before the customers' profiles were kept (the tree empty) gets them
/// when it is opened, and is clean to `check`; a customer changed since has the new one.
#[test]
fn a_store_without_customer_profiles_gets_them_when_opened() {
    let dir = tempdir("profiles");
    let c = {
        let s = Store::open(&dir, Catalog::builtin()).unwrap();
        s.put_customer(person("赵敏", "18977778888")).unwrap()
    };
    {
        let db = raw_sled(&dir);
        db.open_tree("customer_profiles").unwrap().clear().unwrap();
        db.flush().unwrap();
    }
    let s = Store::open(&dir, Catalog::builtin()).unwrap();
    assert_eq!(s.customer_profile(c.id).unwrap(), Some(c.profile()));
    assert!(s.check().unwrap().is_clean());
    let mut moved = c.clone();
    moved.area = "阳光花园".into();
    s.put_customer(moved.clone()).unwrap();
    assert_eq!(
        s.customer_profile(c.id).unwrap().map(|p| p.area),
        Some("阳光花园".to_string())
    );
}

#[test]
fn a_corrupt_record_is_a_typed_error_and_check_finds_it() {
    let dir = tempdir("corrupt");
    {
        let s = Store::open(&dir, Catalog::builtin()).unwrap();
        s.put_customer(person("赵敏", "18977778888")).unwrap();
    }
    {
        let db = raw_sled(&dir);
        db.open_tree("customers")
            .unwrap()
            .insert(1u64.to_be_bytes(), vec![1u8, 0xff, 0xff])
            .unwrap();
        db.flush().unwrap();
    }
    let s = Store::open(&dir, Catalog::builtin()).unwrap();
    let e = s.customer(1).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Corrupt {
                tree: "customers",
                ..
            }
        ),
        "{e}"
    );
    let r = s.check().unwrap();
    assert_eq!(r.corrupt, 1, "{r:?}");
    assert!(!r.is_clean());
    drop(s);
    std::fs::remove_dir_all(dir).ok();
}

/// A directory no other test uses (the same test runs on both engines at once).
fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(engines::unique_name(name));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn seed_export_import_backup_and_rebuild(new: New) {
    let s = new();
    let r = seed::seed(&s, 3000, 7, NOW, &mut |_| {}).unwrap();
    assert_eq!(r.customers, 3000);
    // relative to the seed's clock: open tickets are on their groups' worklists and
    // none is overdue yet (a fresh demo shows no red)
    assert!(s.overdue_tickets(NOW, 10).unwrap().is_empty());
    let on_lists: usize = s
        .catalog()
        .groups
        .iter()
        .map(|g| s.worklist(&g.code, 1000).unwrap().len())
        .sum();
    assert!(on_lists > 0, "some seeded tickets are still being worked");
    assert!(
        s.overdue_tickets(NOW + 30 * 24 * 3_600_000, 10)
            .unwrap()
            .len()
            == on_lists.min(10)
    );
    assert!(
        (50..150).contains(&r.key_accounts),
        "about 3 % key accounts: {}",
        r.key_accounts
    );
    assert!(
        (0.7..0.9).contains(&r.key_account_revenue_share),
        "about 80/20: {}",
        r.key_account_revenue_share
    );
    assert!(r.interactions > 1500 && r.tickets > 50, "{r:?}");
    let report = s.check().unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.customers, 3000);
    // deterministic
    let again = new();
    let r2 = seed::seed(&again, 3000, 7, NOW, &mut |_| {}).unwrap();
    assert_eq!(r, r2);
    assert_eq!(s.customer(1234).unwrap(), again.customer(1234).unwrap());

    // JSON lines round trip into a new store, ids kept and continued
    let copy = new();
    for k in Kind::ALL {
        let mut buf = Vec::new();
        export::export_jsonl(&s, k, &mut buf).unwrap();
        export::import_jsonl(&copy, k, &mut buf.as_slice()).unwrap();
    }
    assert_eq!(copy.customer(77).unwrap(), s.customer(77).unwrap());
    assert!(copy.check().unwrap().is_clean());
    // the history too, every kept interval as it was
    let history = |st: &Store| {
        let mut all = Vec::new();
        st.each_interval(0, u64::MAX >> 1, |r| {
            all.push(r);
            Ok(())
        })
        .unwrap();
        all
    };
    let kept = history(&s);
    assert!(!kept.is_empty());
    assert_eq!(history(&copy), kept);
    let fresh = copy.put_customer(person("新客户", "18900001111")).unwrap();
    assert_eq!(fresh.id, 3001, "new ids continue after the imported ones");
    // a copy into an empty store goes through the bulk load: ids continue there too
    let bulk = new();
    let copied = export::copy(&s, &bulk).unwrap();
    assert_eq!(
        (copied.customers, copied.intervals),
        (3000, kept.len() as u64)
    );
    assert_eq!(history(&bulk), kept);
    let fresh = bulk.put_customer(person("新客户", "18900001111")).unwrap();
    assert_eq!(fresh.id, 3001, "new ids continue after the copied ones");

    // CSV round trip of customers (the fields CSV carries)
    let mut csv = Vec::new();
    assert_eq!(export::export_customers_csv(&s, &mut csv).unwrap(), 3000);
    let from_csv = new();
    assert_eq!(
        export::import_customers_csv(&from_csv, &mut csv.as_slice()).unwrap(),
        3000
    );
    let (a, b) = (
        s.customer(42).unwrap().unwrap(),
        from_csv.customer(42).unwrap().unwrap(),
    );
    assert_eq!(
        (a.name, a.phones, a.address, a.arpu_fen),
        (b.name, b.phones, b.address, b.arpu_fen)
    );
    let mut bad = b"id,name\n1,x\n".as_slice();
    assert!(
        export::import_customers_csv(&from_csv, &mut bad)
            .unwrap_err()
            .to_string()
            .contains("header")
    );

    // backup and restore
    let dir = tempdir("backup");
    let m = export::backup(&s, &dir).unwrap();
    assert!(
        export::backup(&s, &dir).is_err(),
        "a backup never overwrites"
    );
    let restored = new();
    assert_eq!(export::restore(&restored, &dir).unwrap(), m);
    assert_eq!(restored.check().unwrap().customers, 3000);
    assert_eq!(history(&restored), kept);
    // a backup made before the history was kept in backups (no file, no count for it)
    // restores as it did
    std::fs::remove_file(dir.join("intervals.jsonl")).unwrap();
    let mut older = m.clone();
    older.counts.retain(|(k, _)| *k != Kind::Intervals);
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec(&older).unwrap(),
    )
    .unwrap();
    let from_older = new();
    assert_eq!(export::restore(&from_older, &dir).unwrap(), older);
    assert!(history(&from_older).is_empty());
    std::fs::remove_dir_all(dir).ok();

    // a damaged index is found and rebuilt
    let target = s.customer(5).unwrap().unwrap();
    s.put_customer(Customer {
        phones: vec!["18922220000".into()],
        ..target.clone()
    })
    .unwrap();
    let r = s.rebuild_indexes().unwrap();
    assert!(r.is_clean(), "{r:?}");
    assert_eq!(s.customer_by_phone("18922220000").unwrap().unwrap().id, 5);
}

#[test]
fn a_store_in_use_waits_a_moment_then_says_so() {
    let dir = tempdir("lock");
    let first = Store::open(&dir, Catalog::builtin()).unwrap();
    // still held after two seconds: refused in words
    let t0 = std::time::Instant::now();
    let e = Store::open(&dir, Catalog::builtin()).expect_err("the lock is held");
    assert!(e.to_string().contains("in use by another process"), "{e}");
    assert!(t0.elapsed() >= std::time::Duration::from_millis(1500));
    // let go during the wait: the second open gets it
    let holder = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(first);
    });
    let second = Store::open(&dir, Catalog::builtin());
    holder.join().unwrap();
    assert!(second.is_ok(), "{:?}", second.err());
    drop(second);
    std::fs::remove_dir_all(dir).ok();
}

fn wrap_up_tickets_are_all_written_or_none_and_set_aside_records_are_reported(new: New) {
    let s = new();
    let a = s.put_customer(person("张伟", "18912345678")).unwrap();
    let fault = |customer| NewTicket {
        customer,
        kind: TicketKind::Fault,
        subcategory: "broadband-down".into(),
        description: "宽带无法上网".into(),
        priority: TicketPriority::High,
    };
    let open = s.create_ticket(fault(a.id), "1001", NOW).unwrap();
    // a good new ticket, a change to an open one, and one for nobody: nothing written
    let e = s
        .wrap_up_tickets(
            vec![fault(a.id), fault(a.id + 99)],
            vec![(open.id, TicketChange::Note { text: "x".into() })],
            "1001",
            NOW,
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::NotFound {
                what: "customer",
                ..
            }
        ),
        "{e}"
    );
    // an illegal change (close before resolve) beside a good new ticket: nothing written
    let e = s
        .wrap_up_tickets(
            vec![fault(a.id)],
            vec![(open.id, TicketChange::Close)],
            "1001",
            NOW,
        )
        .unwrap_err();
    assert!(matches!(e, StoreError::IllegalTransition { .. }), "{e}");
    assert_eq!(s.tickets_of_customer(a.id).unwrap().len(), 1);
    assert_eq!(s.ticket(open.id).unwrap().unwrap().history.len(), 2);
    // all good: all written
    let opened = s
        .wrap_up_tickets(
            vec![fault(a.id)],
            vec![(
                open.id,
                TicketChange::Note {
                    text: "回访".into(),
                },
            )],
            "1001",
            NOW,
        )
        .unwrap();
    assert_eq!(opened.opened.len(), 1);
    assert_eq!(opened.changed.len(), 1);
    assert_eq!(s.tickets_of_customer(a.id).unwrap().len(), 2);
    assert_eq!(s.ticket(open.id).unwrap().unwrap().history.len(), 3);
    assert!(s.check().unwrap().is_clean());

    // a record set aside is kept and makes the store not clean
    s.put_dead_letter(DeadLetter {
        at: NOW,
        kind: "interaction".into(),
        error: "the disk is full".into(),
        record: "{}".into(),
    })
    .unwrap();
    let r = s.check().unwrap();
    assert_eq!(r.dead_letters, 1);
    assert!(!r.is_clean());
    assert!(
        r.problems.iter().any(|p| p.contains("the disk is full")),
        "{r:?}"
    );
    assert_eq!(s.dead_letters(10).unwrap()[0].error, "the disk is full");
}

fn a_call_about_the_same_reason_after_the_window_is_no_repeat(new: New) {
    let s = new();
    let a = s.put_customer(person("张伟", "18912345678")).unwrap();
    let day = 24 * HOUR;
    let first = s
        .record_interaction(call(Some(a.id), NOW, "fault.broadband", true))
        .unwrap();
    // 7 days and an hour later, the same reason: outside the 7-day window
    let later = NOW + 7 * day + HOUR;
    s.record_interaction(call(Some(a.id), later, "fault.broadband", true))
        .unwrap();
    assert_eq!(s.interaction(first.id).unwrap().unwrap().fcr_verified, None);
    // settled at the end of its window: verified, the later call did not undo it
    assert_eq!(s.settle_fcr(NOW + 7 * day + 2 * HOUR).unwrap(), 1);
    assert_eq!(
        s.interaction(first.id).unwrap().unwrap().fcr_verified,
        Some(true)
    );
    // one inside the window is a repeat (6 days later)
    let b = s.put_customer(person("李娜", "18912345679")).unwrap();
    let mut c1 = call(Some(b.id), NOW, "fault.broadband", true);
    c1.caller_number = "18912345679".into();
    let c1 = s.record_interaction(c1).unwrap();
    let mut c2 = call(Some(b.id), NOW + 6 * day, "fault.broadband", false);
    c2.caller_number = "18912345679".into();
    s.record_interaction(c2).unwrap();
    assert_eq!(
        s.interaction(c1.id).unwrap().unwrap().fcr_verified,
        Some(false)
    );
}

/// Writers changing one ticket at once: each change is read, decided and written on the
/// condition that nobody came first, and retried otherwise — so none is lost.
fn concurrent_changes_to_one_ticket_are_all_kept(new: New) {
    let s = std::sync::Arc::new(new());
    let c = s.put_customer(person("王芳", "18900000001")).unwrap();
    let t = s
        .create_ticket(
            NewTicket {
                customer: c.id,
                kind: TicketKind::Complaint,
                subcategory: "billing-dispute".into(),
                description: "多扣费".into(),
                priority: TicketPriority::Normal,
            },
            "1001",
            NOW,
        )
        .unwrap();
    let (writers, each) = (8, 25);
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let s = s.clone();
            std::thread::spawn(move || {
                for k in 0..each {
                    let note = TicketChange::Note {
                        text: format!("writer {w} note {k}"),
                    };
                    s.update_ticket(t.id, note, "1001", NOW + 1).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let t = s.ticket(t.id).unwrap().unwrap();
    // "opened", the dispatch, then every note exactly once
    assert_eq!(t.history.len(), 2 + writers * each);
    for w in 0..writers {
        for k in 0..each {
            let text = format!("writer {w} note {k}");
            let n = t
                .history
                .iter()
                .filter(|e| matches!(&e.change, TicketChange::Note { text: x } if *x == text))
                .count();
            assert_eq!(n, 1, "{text}");
        }
    }
}

/// Records can land out of order (a retried write, two routers): a call whose repeat is
/// already stored did not resolve the matter at first contact, and settling sees it too.
fn a_repeat_recorded_before_the_call_it_repeats_still_counts(new: New) {
    let s = new();
    let c = s.put_customer(person("赵磊", "18900000077")).unwrap();
    let later = s
        .record_interaction(call(Some(c.id), NOW + HOUR, "fault.broadband", true))
        .unwrap();
    let earlier = s
        .record_interaction(call(Some(c.id), NOW, "fault.broadband", true))
        .unwrap();
    assert_eq!(
        earlier.fcr_verified,
        Some(false),
        "its repeat is already there"
    );
    assert_eq!(
        s.interaction(earlier.id).unwrap().unwrap().fcr_verified,
        Some(false)
    );
    // another reason is no repeat
    let other = s
        .record_interaction(call(Some(c.id), NOW - HOUR, "billing.query", true))
        .unwrap();
    assert_eq!(other.fcr_verified, None);
    assert_eq!(s.settle_fcr(NOW + 9 * DAY_MS).unwrap(), 2);
    assert_eq!(
        s.interaction(later.id).unwrap().unwrap().fcr_verified,
        Some(true)
    );
    assert_eq!(
        s.interaction(other.id).unwrap().unwrap().fcr_verified,
        Some(true)
    );
}

/// The router retries a record whose answer it did not get, and replays records it had to
/// spool while the store was away: the second write of the same call changes nothing.
fn a_call_recorded_twice_is_stored_once(new: New) {
    let s = new();
    let c = s.put_customer(person("赵六", "18912345678")).unwrap();
    let first = s
        .record_call(call(Some(c.id), NOW, "fault.broadband", true))
        .unwrap();
    let again = s
        .record_call(call(Some(c.id), NOW, "fault.broadband", true))
        .unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(s.interactions_of_customer(c.id, 10).unwrap().len(), 1);
    // another call with the same number a second later is its own record
    let mut other = call(Some(c.id), NOW + 1000, "inquiry.tariff", true);
    other.call_id = first.call_id;
    assert_ne!(s.record_call(other).unwrap().id, first.id);
    assert_eq!(s.interactions_of_customer(c.id, 10).unwrap().len(), 2);
    assert_eq!(s.health(), Health::Up);
    s.ping().unwrap();
}

/// A database made by a build of schema version 1 (before the pipelined commit's
/// functions) is brought up to date when it is opened, and its commits with conditions
/// then work.
#[test]
fn a_postgres_store_of_schema_version_1_is_brought_up_to_date() {
    let db = engines::postgres_database("v1");
    let psql = |sql: &str| {
        let out = std::process::Command::new("psql")
            .args([db.url.as_str(), "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("psql (PostgreSQL's client) runs");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    psql(MIGRATIONS[0]);
    psql(
        "CREATE TABLE hotline_schema (version integer NOT NULL); INSERT INTO hotline_schema VALUES (1)",
    );
    let s = Store::postgres(&db.url, Catalog::builtin()).unwrap();
    assert_eq!(
        psql("SELECT max(version) FROM hotline_schema"),
        SCHEMA_VERSION.to_string()
    );
    let c = s.put_customer(person("陈静", "18911112222")).unwrap();
    let t = s
        .create_ticket(
            NewTicket {
                customer: c.id,
                kind: TicketKind::Fault,
                subcategory: "broadband-down".into(),
                description: "宽带无法上网".into(),
                priority: TicketPriority::High,
            },
            "1001",
            NOW,
        )
        .unwrap();
    let change = TicketChange::Dispatch {
        group: "装维 repair crew".into(),
    };
    let u = s.update_ticket(t.id, change, "1001", NOW + 1).unwrap();
    assert_eq!(u.status, TicketStatus::Dispatched);
    let e = s.put_customer(person("王芳", "18911112222")).unwrap_err();
    assert!(
        matches!(e, StoreError::PhoneTaken { owner, .. } if owner == c.id),
        "{e}"
    );
}

/// An agent's interval kept in PostgreSQL before holds, transfers and not-ready time by
/// reason were counted (its JSON has none of them) reads back as today's, with none
/// counted.
#[test]
fn a_postgres_agent_interval_of_the_first_shape_reads_back() {
    let db = engines::postgres_database("agent_v1");
    let s = Store::postgres(&db.url, Catalog::builtin()).unwrap();
    let record = r#"{"start": 1764547200000, "end": 1764548100000, "figures": {"Agent":
        {"agent": "1001", "tally": {"offers": 7, "answered": 6, "rejected": 0,
        "no_answer": 1, "handled": 6, "talk": 600000000, "hold": 30000000,
        "wrap_up": 120000000, "time_in_state": [0, 60000000, 120000000, 20000000,
        630000000, 120000000]}}}}"#;
    let out = std::process::Command::new("psql")
        .args([db.url.as_str(), "-qAtX", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!(
            "INSERT INTO intervals (start_ms, end_ms, kind, name, record) \
             VALUES (1764547200000, 1764548100000, 1, '1001', '{record}')"
        ))
        .output()
        .expect("psql (PostgreSQL's client) runs");
    assert!(out.status.success(), "{out:?}");
    let kept = s.intervals(0, u64::MAX >> 1, 10).unwrap();
    let [r] = kept.as_slice() else {
        panic!("{kept:?}")
    };
    let IntervalFigures::Agent { agent, tally } = &r.figures else {
        panic!("{r:?}")
    };
    assert_eq!(
        (agent.as_str(), tally.offers, tally.handled),
        ("1001", 7, 6)
    );
    assert_eq!(tally.talk, hotline_acd::Span::from_secs(600));
    assert_eq!((tally.holds, tally.transfers), (0, 0));
    assert_eq!(tally.not_ready_by_reason.iter().count(), 0);
}

/// A copy or an import into a sled store given by its location closes and reopens it as it
/// fills (sled holds what one opening wrote in memory until it is closed), and nothing is
/// lost across the reopenings.
#[test]
fn a_copy_into_sled_reopens_it_as_it_fills_and_keeps_everything() {
    let from = engines::chosen();
    seed::seed(&from, 3000, 3, NOW, &mut |_| {}).unwrap();
    let dir = tempdir("reopening-copy");
    let mut to = export::Target::at(&format!("sled:{}", dir.display()), Catalog::builtin())
        .unwrap()
        .with_records_per_opening(1500);
    let copied = export::copy_into(&from, &mut to).unwrap();
    assert!(to.openings() > 3, "reopened {} times", to.openings());
    let to = to.into_store().unwrap();
    let (a, b) = (from.check().unwrap(), to.check().unwrap());
    assert!(b.is_clean(), "{b:?}");
    assert_eq!(
        (a.customers, a.tickets, a.interactions),
        (b.customers, b.tickets, b.interactions)
    );
    assert_eq!(copied.customers, 3000);
    drop(to);

    // and JSON lines imported into another, also reopened on the way
    let mut lines = Vec::new();
    export::export_jsonl(&from, Kind::Customers, &mut lines).unwrap();
    let dir2 = tempdir("reopening-import");
    let mut into = export::Target::at(&dir2.display().to_string(), Catalog::builtin())
        .unwrap()
        .with_records_per_opening(1000);
    let n = export::import_jsonl_into(&mut into, Kind::Customers, &mut lines.as_slice()).unwrap();
    assert_eq!(n, 3000);
    assert!(into.openings() > 2);
    std::fs::remove_dir_all(dir).ok();
    std::fs::remove_dir_all(dir2).ok();
}

fn account(id: &str, role: Role, groups: &[&str]) -> AgentAccount {
    AgentAccount {
        id: id.into(),
        name: format!("staff {id}"),
        role,
        skills: vec![],
        groups: groups.iter().map(|g| g.to_string()).collect(),
        password_hash: String::new(),
    }
}

fn the_back_office_works_its_groups_tickets_and_the_owner_closes_the_loop(new: New) {
    let s = new();
    let c = s.put_customer(person("王芳", "18977778888")).unwrap();
    let t = s
        .create_ticket(
            NewTicket {
                customer: c.id,
                kind: TicketKind::Complaint,
                subcategory: "billing-dispute".into(),
                description: "话费多扣".into(),
                priority: TicketPriority::Normal,
            },
            "1001",
            NOW,
        )
        .unwrap();
    assert_eq!(t.back_office.as_deref(), Some("complaints-office"));
    let owner = account("1001", Role::Agent, &[]);
    let other_agent = account("1002", Role::Agent, &[]);
    let clerk = account("8101", Role::BackOffice, &["complaints-office"]);
    let crew = account("8001", Role::BackOffice, &["repair-crew"]);
    let lead = account("9000", Role::Supervisor, &[]);
    let resolve = || TicketChange::Resolution {
        code: "refunded".into(),
        note: "退还多扣话费 30 元".into(),
    };
    let refused = |change: TicketChange, who: &AgentAccount| {
        let e = s
            .change_ticket_as(t.id, change, who, NOW + HOUR)
            .unwrap_err();
        assert!(matches!(e, StoreError::NotAllowed(_)), "{e}");
        e.to_string()
    };
    // the front office does not take or resolve; another group's clerk does not either
    let e = refused(TicketChange::Start, &owner);
    assert!(e.contains("the back office's of its group"), "{e}");
    refused(TicketChange::Start, &crew);
    refused(resolve(), &other_agent);
    assert_eq!(s.ticket(t.id).unwrap().unwrap(), t, "nothing written");
    // anyone adds a note
    s.change_ticket_as(
        t.id,
        TicketChange::Note {
            text: "客户再次来电催办".into(),
        },
        &other_agent,
        NOW + HOUR,
    )
    .unwrap();
    // the clerk takes it (their id in the history) and resolves it with a code
    let taken = s
        .change_ticket_as(t.id, TicketChange::Start, &clerk, NOW + 2 * HOUR)
        .unwrap();
    assert_eq!(
        (taken.status, taken.taken_by()),
        (TicketStatus::InProgress, Some("8101"))
    );
    let done = s
        .change_ticket_as(t.id, resolve(), &clerk, NOW + 3 * HOUR)
        .unwrap();
    assert_eq!(done.status, TicketStatus::Resolved);
    assert_eq!(done.resolution(), Some("refunded"));
    assert_eq!(done.latest_note(), Some("退还多扣话费 30 元"));
    // the call-back and the close are the owner's (首问负责), or a supervisor's
    let e = refused(TicketChange::CallBack { satisfaction: 4 }, &clerk);
    assert!(e.contains("its owner's"), "{e}");
    s.change_ticket_as(
        t.id,
        TicketChange::CallBack { satisfaction: 4 },
        &owner,
        NOW + 4 * HOUR,
    )
    .unwrap();
    let closed = s
        .change_ticket_as(t.id, TicketChange::Close, &lead, NOW + 4 * HOUR)
        .unwrap();
    assert_eq!(closed.status, TicketStatus::Closed);
    assert!(s.worklist("complaints-office", 10).unwrap().is_empty());
    let who: Vec<&str> = closed.history.iter().map(|e| e.by.as_str()).collect();
    assert_eq!(
        who,
        ["1001", SYSTEM, "1002", "8101", "8101", "1001", "9000"],
        "every step with who did it"
    );
    assert!(s.check().unwrap().is_clean());
}

fn fcr_is_tallied_by_queue_and_by_agent(new: New) {
    let s = new();
    let a = s.put_customer(person("赵磊", "18911110000")).unwrap();
    let b = s.put_customer(person("孙丽", "18922220000")).unwrap();
    let mut first = call(Some(a.id), NOW, "inquiry.tariff", true);
    first.queue = Some("inquiry".into());
    let mut again = call(Some(a.id), NOW + HOUR, "inquiry.tariff", true);
    again.queue = Some("inquiry".into());
    again.agents = vec!["1001".into(), "1002".into()]; // transferred: 1002 wrapped up
    let held = call(Some(b.id), NOW + 2 * HOUR, "fault.broadband", true);
    let unclaimed = call(Some(b.id), NOW + 3 * HOUR, "inquiry.bill", false);
    let mut never = call(None, NOW + 4 * HOUR, "inquiry.bill", false);
    never.agents.clear();
    never.queue = None;
    for i in [first, again, held, unclaimed, never] {
        s.record_interaction(i).unwrap();
    }
    // eight days on the window has passed for all of them
    s.settle_fcr(NOW + 8 * 24 * HOUR).unwrap();
    let t = s.fcr_tally(NOW, NOW + 5 * HOUR).unwrap();
    let count = |handled, claimed, verified, not_resolved| FcrCount {
        handled,
        claimed,
        verified,
        not_resolved,
        settled: handled, // the window has passed for every one
    };
    assert_eq!(t.by_queue["inquiry"], count(2, 2, 1, 1));
    assert_eq!(t.by_queue["fault"], count(2, 1, 1, 0));
    assert_eq!(t.by_agent["1001"], count(3, 2, 1, 1));
    assert_eq!(
        t.by_agent["1002"],
        count(1, 1, 1, 0),
        "the agent who wrapped up"
    );
    assert_eq!(t.by_queue.len(), 2, "a call no agent took counts nowhere");
    // a period without them: nothing
    assert!(
        s.fcr_tally(NOW + 5 * HOUR, NOW + 6 * HOUR)
            .unwrap()
            .by_queue
            .is_empty()
    );
}

fn a_call_back_closes_reopens_or_gives_up_on_a_resolved_ticket(new: New) {
    let s = new();
    let c = s.put_customer(person("周洁", "18933330000")).unwrap();
    let crew = account("8001", Role::BackOffice, &["repair-crew"]);
    // three resolved fault tickets of the same customer
    let resolved = |n: u64| {
        let t = s
            .create_ticket(
                NewTicket {
                    customer: c.id,
                    kind: TicketKind::Fault,
                    subcategory: "broadband-down".into(),
                    description: format!("断网 {n}"),
                    priority: TicketPriority::Normal,
                },
                "1001",
                NOW,
            )
            .unwrap();
        for change in [
            TicketChange::Start,
            TicketChange::Resolution {
                code: "repaired".into(),
                note: "更换光猫".into(),
            },
        ] {
            s.change_ticket_as(t.id, change, &crew, NOW + HOUR).unwrap();
        }
        t.id
    };
    let (solved, unsolved, silent) = (resolved(1), resolved(2), resolved(3));
    let at = NOW + 2 * HOUR;
    // reached, solved: called back with the score, closed
    let t = s
        .record_call_back(
            solved,
            CallBackOutcome::Reached {
                satisfaction: 4,
                solved: true,
            },
            1,
            3,
            "1001",
            at,
        )
        .unwrap();
    assert_eq!((t.status, t.satisfaction), (TicketStatus::Closed, Some(4)));
    let tail: Vec<TicketStatus> = t.history.iter().rev().take(2).map(|e| e.status).collect();
    assert_eq!(tail, [TicketStatus::Closed, TicketStatus::CalledBack]);
    // reached, not solved: reopened with a fresh deadline
    let t = s
        .record_call_back(
            unsolved,
            CallBackOutcome::Reached {
                satisfaction: 2,
                solved: false,
            },
            1,
            3,
            "1002",
            at,
        )
        .unwrap();
    assert_eq!(t.status, TicketStatus::Reopened);
    assert_eq!(t.deadline, at + 48 * HOUR, "a fresh deadline");
    assert!(
        s.worklist("repair-crew", 10)
            .unwrap()
            .iter()
            .any(|w| w.id == unsolved)
    );
    // no answer: each attempt noted; the third closes it as unreachable
    for attempt in 1..=3 {
        let t = s
            .record_call_back(silent, CallBackOutcome::NoAnswer, attempt, 3, "1001", at)
            .unwrap();
        let want = if attempt < 3 {
            TicketStatus::Resolved
        } else {
            TicketStatus::Closed
        };
        assert_eq!(t.status, want, "after attempt {attempt}");
    }
    let t = s.ticket(silent).unwrap().unwrap();
    assert_eq!(
        t.history.last().map(|e| &e.change),
        Some(&TicketChange::Unreachable { attempts: 3 })
    );
    // a ticket that is not resolved (closed now) is not called back; nothing written
    let e = s
        .record_call_back(silent, CallBackOutcome::NoAnswer, 4, 3, "1001", at)
        .unwrap_err();
    assert!(matches!(e, StoreError::IllegalTransition { .. }), "{e}");
    assert_eq!(s.ticket(silent).unwrap().unwrap(), t);
    assert!(s.check().unwrap().is_clean());
}

/// A call-back's wrap-up: its outcome on the resolved ticket and the wrap-up's new
/// ticket in one commit; if anything is refused, nothing is written.
fn a_call_backs_wrap_up_writes_its_outcome_with_its_tickets_or_nothing(new: New) {
    let s = new();
    let c = s.put_customer(person("周洁", "18933330001")).unwrap();
    let crew = account("8001", Role::BackOffice, &["repair-crew"]);
    let fault = |n: u64| NewTicket {
        customer: c.id,
        kind: TicketKind::Fault,
        subcategory: "broadband-down".into(),
        description: format!("断网 {n}"),
        priority: TicketPriority::Normal,
    };
    let t = s.create_ticket(fault(1), "1001", NOW).unwrap();
    for change in [
        TicketChange::Start,
        TicketChange::Resolution {
            code: "repaired".into(),
            note: "更换光猫".into(),
        },
    ] {
        s.change_ticket_as(t.id, change, &crew, NOW + HOUR).unwrap();
    }
    let record = |outcome| CallBackRecord {
        ticket: t.id,
        outcome,
        attempt: 1,
        attempts: 3,
    };
    // a refused part (a new ticket for nobody) writes nothing, the outcome included
    let mut bad = fault(2);
    bad.customer = 999_999;
    let solved = CallBackOutcome::Reached {
        satisfaction: 5,
        solved: true,
    };
    assert!(
        s.wrap_up(
            vec![bad],
            vec![],
            Some(record(solved)),
            "1002",
            NOW + 2 * HOUR
        )
        .is_err()
    );
    assert_eq!(
        s.ticket(t.id).unwrap().unwrap().status,
        TicketStatus::Resolved
    );
    // the outcome alone, by the agent the call-back was routed to
    let w = s
        .wrap_up(vec![], vec![], Some(record(solved)), "1002", NOW + 2 * HOUR)
        .unwrap();
    assert_eq!(w.changed.len(), 1);
    let stored = s.ticket(t.id).unwrap().unwrap();
    assert_eq!(stored, w.changed[0]);
    assert_eq!(
        (stored.status, stored.satisfaction),
        (TicketStatus::Closed, Some(5))
    );
    assert_eq!(stored.history.last().map(|e| e.by.as_str()), Some("1002"));
    assert!(s.check().unwrap().is_clean());
}

/// The history: each closed interval of a queue or an agent is kept once (written again,
/// as a retry would, it is still one), read back by start, queues before agents; an
/// interval that ends before it starts is refused.
fn closed_intervals_are_kept_once_and_read_by_time(new: New) {
    use hotline_acd::Span;
    use hotline_acd::kpi::Tally;
    use hotline_acd::stats::AgentTally;
    let s = new();
    let q = |start: u64, queue: &str, offered: u64| IntervalRecord {
        start,
        end: start + 15 * 60_000,
        figures: IntervalFigures::Queue {
            queue: queue.into(),
            tally: Tally {
                offered,
                answered: offered - 1,
                answered_within_threshold: offered - 2,
                abandoned: 1,
                wait_of_answered: Span::from_secs(30 * (offered - 1)),
                ..Tally::default()
            },
            busy_ms: 600_000,
            staffed_ms: 900_000,
            waiting_at_end: 2,
            formula: hotline_acd::kpi::ServiceLevelFormula::default(),
            sl_seconds: 20,
        },
    };
    let a = |start: u64, agent: &str| IntervalRecord {
        start,
        end: start + 15 * 60_000,
        figures: IntervalFigures::Agent {
            agent: agent.into(),
            tally: AgentTally {
                offers: 7,
                answered: 6,
                handled: 6,
                talk: Span::from_secs(900),
                ..AgentTally::default()
            },
        },
    };
    let t0 = NOW - NOW % (15 * 60_000);
    let quarter = 15 * 60_000;
    let written = [
        a(t0, "1001"),
        q(t0, "inquiry", 12),
        q(t0, "fault", 5),
        q(t0 + quarter, "inquiry", 9),
        a(t0 + quarter, "1002"),
    ];
    for r in &written {
        s.record_interval(r.clone()).unwrap();
    }
    // a retry writes one again: still one
    s.record_interval(q(t0, "inquiry", 12)).unwrap();
    let all = s.intervals(t0, t0 + 2 * quarter, 100).unwrap();
    assert_eq!(
        all,
        [
            q(t0, "fault", 5),
            q(t0, "inquiry", 12),
            a(t0, "1001"),
            q(t0 + quarter, "inquiry", 9),
            a(t0 + quarter, "1002"),
        ]
    );
    // a range is by start: the second quarter alone
    assert_eq!(
        s.intervals(t0 + quarter, t0 + 2 * quarter, 100)
            .unwrap()
            .len(),
        2
    );
    assert_eq!(s.intervals(t0, t0 + 2 * quarter, 2).unwrap().len(), 2);
    let mut bad = q(t0 + 2 * quarter, "inquiry", 3);
    bad.end = bad.start - 1;
    assert!(matches!(
        s.record_interval(bad),
        Err(StoreError::Invalid { .. })
    ));
    assert!(
        s.intervals(t0 + 2 * quarter, t0 + 3 * quarter, 10)
            .unwrap()
            .is_empty()
    );
    assert!(s.check().unwrap().is_clean());
}

/// Random sequences of openings, dispatches, takes, notes, resolutions, call-back
/// outcomes, closes and reopens by random people (allowed or not): an accepted change
/// adds exactly its history entries, a refused one writes nothing, every ticket is in
/// exactly one status, the worklists are exactly the open tickets of each group, and the
/// indexes agree with the data.
fn random_ticket_walks_keep_the_loop_and_its_indexes(new: New) {
    use hotline_acd::rng::Rng;
    use std::collections::{BTreeMap, BTreeSet};
    let s = new();
    let mut key = person("杭州地铁集团", "18944440000");
    key.segment = Segment::KeyAccount;
    let customers = [
        s.put_customer(person("吴刚", "18944441111")).unwrap().id,
        s.put_customer(key).unwrap().id,
    ];
    let people = [
        account("1001", Role::Agent, &[]),
        account("1002", Role::Agent, &[]),
        account("8001", Role::BackOffice, &["repair-crew"]),
        account("8101", Role::BackOffice, &["complaints-office"]),
        account("9000", Role::Supervisor, &[]),
    ];
    let kinds = [TicketKind::Fault, TicketKind::Complaint];
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    let mut model: BTreeMap<u64, (TicketStatus, usize)> = BTreeMap::new();
    let mut rng = Rng::fork(0x7157, 1);
    let mut at = NOW;
    for step in 0..500 {
        at += 60_000;
        let who = &people[rng.below(people.len() as u64) as usize];
        let ids: Vec<u64> = model.keys().copied().collect();
        if ids.is_empty() || rng.chance(0.12) {
            let kind = kinds[rng.below(2) as usize];
            let sub = if kind == TicketKind::Fault {
                "broadband-down"
            } else {
                "billing-dispute"
            };
            let t = s
                .create_ticket(
                    NewTicket {
                        customer: customers[rng.below(2) as usize],
                        kind,
                        subcategory: sub.into(),
                        description: format!("第 {step} 步"),
                        priority: TicketPriority::Normal,
                    },
                    &who.id,
                    at,
                )
                .unwrap();
            model.insert(t.id, (t.status, t.history.len()));
            continue;
        }
        let id = ids[rng.below(ids.len() as u64) as usize];
        // most changes come from someone who may make them, the rest from anyone
        let current = s.ticket(id).unwrap().unwrap();
        let clerk = match current.back_office.as_deref() {
            Some("repair-crew") => &people[2],
            Some("complaints-office") => &people[3],
            _ => &people[4],
        };
        let owner = people
            .iter()
            .find(|p| p.id == current.owner)
            .unwrap_or(&people[4]);
        let fit = rng.chance(0.7);
        let (clerk, owner) = if fit { (clerk, owner) } else { (who, who) };
        let groups = ["repair-crew", "complaints-office", "the moon"];
        let (what, result, entries) = match rng.below(8) {
            0 => (
                "dispatch",
                s.change_ticket_as(
                    id,
                    TicketChange::Dispatch {
                        group: groups[rng.below(3) as usize].into(),
                    },
                    clerk,
                    at,
                ),
                1,
            ),
            1 | 2 => (
                "start",
                s.change_ticket_as(id, TicketChange::Start, who, at),
                1,
            ),
            3 => (
                "resolve",
                s.change_ticket_as(
                    id,
                    TicketChange::Resolution {
                        code: "repaired".into(),
                        note: "处理完毕".into(),
                    },
                    clerk,
                    at,
                ),
                1,
            ),
            4 => (
                "note",
                s.change_ticket_as(
                    id,
                    TicketChange::Note {
                        text: "跟进".into(),
                    },
                    who,
                    at,
                ),
                1,
            ),
            5 => (
                "close",
                s.change_ticket_as(id, TicketChange::Close, owner, at),
                1,
            ),
            6 => (
                "reopen",
                s.change_ticket_as(
                    id,
                    TicketChange::Reopen {
                        reason: "再次故障".into(),
                    },
                    owner,
                    at,
                ),
                1,
            ),
            _ => {
                let outcome = match rng.below(3) {
                    0 => CallBackOutcome::Reached {
                        satisfaction: 1 + rng.below(5) as u8,
                        solved: true,
                    },
                    1 => CallBackOutcome::Reached {
                        satisfaction: 1 + rng.below(5) as u8,
                        solved: false,
                    },
                    _ => CallBackOutcome::NoAnswer,
                };
                let attempt = 1 + rng.below(3) as u32;
                let entries = match outcome {
                    CallBackOutcome::NoAnswer if attempt < 3 => 1,
                    _ => 2,
                };
                (
                    "call-back",
                    s.record_call_back(id, outcome, attempt, 3, &who.id, at),
                    entries,
                )
            }
        };
        let stored = s.ticket(id).unwrap().expect("no ticket is ever lost");
        let (status, len) = model[&id];
        match result {
            Ok(t) => {
                assert_eq!(
                    t, stored,
                    "step {step}: what was answered is what is stored"
                );
                assert_eq!(
                    t.history.len(),
                    len + entries,
                    "step {step} {what}: its entries"
                );
                *seen.entry(what).or_default() += 1;
                *seen.entry(status_word(t.status)).or_default() += 1;
                model.insert(id, (t.status, t.history.len()));
            }
            Err(e) => {
                assert!(
                    !matches!(e, StoreError::Storage(_) | StoreError::Database(_)),
                    "step {step}: {e}"
                );
                assert_eq!(
                    (stored.status, stored.history.len()),
                    (status, len),
                    "step {step} {what}: a refused change writes nothing ({e})"
                );
                *seen.entry("refused").or_default() += 1;
            }
        }
        if step % 100 == 99 {
            // every ticket in exactly one status, as the model has it
            let mut placed = BTreeSet::new();
            for st in TicketStatus::ALL {
                for t in s.tickets_by_status(st, usize::MAX).unwrap() {
                    assert_eq!(model[&t.id].0, st, "ticket {} in the wrong status", t.id);
                    assert!(placed.insert(t.id), "ticket {} in two statuses", t.id);
                }
            }
            assert_eq!(placed.len(), model.len(), "every ticket has its status");
            // the worklists are exactly the open tickets of each group
            for g in ["repair-crew", "complaints-office"] {
                let listed: BTreeSet<u64> = s
                    .worklist(g, 10_000)
                    .unwrap()
                    .iter()
                    .map(|t| t.id)
                    .collect();
                let open: BTreeSet<u64> = model
                    .keys()
                    .filter(|&&id| {
                        let t = s.ticket(id).unwrap().unwrap();
                        t.status.is_open() && t.back_office.as_deref() == Some(g)
                    })
                    .copied()
                    .collect();
                assert_eq!(listed, open, "the worklist of {g}");
            }
            assert!(s.check().unwrap().is_clean());
        }
    }
    println!("ticket walk: {seen:?}");
    for kind in [
        "dispatch",
        "start",
        "resolve",
        "call-back",
        "refused",
        "closed",
        "reopened",
    ] {
        assert!(
            seen.get(kind).copied().unwrap_or(0) > 0,
            "the walk reached {kind}: {seen:?}"
        );
    }
}

fn status_word(s: TicketStatus) -> &'static str {
    match s {
        TicketStatus::Closed => "closed",
        TicketStatus::Reopened => "reopened",
        _ => "other",
    }
}
