//! The reports over a store with known contents: each figure is the count the test made.
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use hotline_catalog::{Segment, TicketKind};
use hotline_report::{
    self as report, AreaLevel, CustomerFilter, Period, ReportError, SatisfactionDimension,
};
use hotline_store::seed::{self, DEFAULT_NOW};
use hotline_store::*;

const NOW: Millis = DEFAULT_NOW;
const HOUR: Millis = 3_600_000;
const DAY: Millis = 24 * HOUR;

fn person(store: &Store, phone: &str, district: &str, area: &str, key: bool) -> Customer {
    let mut c = seed::customer(1, 0, NOW);
    c.id = 0;
    c.phones = vec![phone.into()];
    c.district = district.into();
    c.area = area.into();
    c.segment = if key {
        Segment::KeyAccount
    } else {
        Segment::Public
    };
    c.account_manager = key.then(|| "9001".to_string());
    store.put_customer(c).unwrap()
}

fn call(customer: u64, at: Millis, reason: &str) -> Interaction {
    Interaction {
        id: 0,
        call_id: at,
        customer: Some(customer),
        caller_number: "18912345678".into(),
        dialled: "1000".into(),
        arrived: at,
        ivr_ended: Some(at + 10_000),
        queued: Some(at + 10_000),
        offered: Some(at + 15_000),
        answered: Some(at + 17_000),
        ended: at + 200_000,
        ivr_path: vec![
            "welcome".into(),
            "key 2".into(),
            "fault-menu".into(),
            "key 0".into(),
            "fault-queue".into(),
        ],
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
        fcr_claimed: true,
        fcr_verified: None,
        satisfaction: None,
        legs: vec![],
    }
}

fn self_served(customer: u64, at: Millis) -> Interaction {
    let mut i = call(customer, at, "bill-query");
    i.ivr_path = [
        "welcome",
        "key 5",
        "bill",
        "anything-else",
        "key 9",
        "goodbye",
    ]
    .map(String::from)
    .to_vec();
    i.self_service = Some(SelfService::Completed("bill".into()));
    (i.queued, i.offered, i.answered) = (None, None, None);
    (i.queue, i.agents, i.fcr_claimed) = (None, vec![], false);
    i.end = CallEnd::SelfService;
    i
}

fn ticket(store: &Store, customer: u64, kind: TicketKind, sub: &str, at: Millis) -> Ticket {
    ticket_by(store, "1001", customer, kind, sub, at)
}

/// A ticket opened by agent `owner`.
fn ticket_by(
    store: &Store,
    owner: &str,
    customer: u64,
    kind: TicketKind,
    sub: &str,
    at: Millis,
) -> Ticket {
    store
        .create_ticket(
            NewTicket {
                customer,
                kind,
                subcategory: sub.into(),
                description: "测试".into(),
                priority: TicketPriority::Normal,
            },
            owner,
            at,
        )
        .unwrap()
}

fn week() -> Period {
    Period::new(NOW - 7 * DAY, NOW).unwrap()
}

/// Contacts by reason: counts, FCR claims, and repeats (the same customer, the same
/// reason, within the FCR window) — a repeat after the period still counts, one about
/// another reason does not.
#[test]
fn reasons_count_contacts_claims_and_repeats() {
    let s = Store::temporary(Catalog::builtin()).unwrap();
    let a = person(&s, "18900000001", "西湖区", "金色家园", false);
    let b = person(&s, "18900000002", "西湖区", "金色家园", false);
    let t0 = NOW - 3 * DAY;
    s.record_interaction(call(a.id, t0, "fault.broadband"))
        .unwrap();
    s.record_interaction(call(a.id, t0 + HOUR, "fault.broadband"))
        .unwrap();
    s.record_interaction(call(b.id, t0, "fault.broadband"))
        .unwrap();
    s.record_interaction(call(b.id, t0 + HOUR, "inquiry.tariff"))
        .unwrap();
    // after the period, inside the window of b's tariff call
    s.record_interaction(call(b.id, NOW + HOUR, "inquiry.tariff"))
        .unwrap();
    let rows = report::reasons(&s, week(), &[], &CustomerFilter::everyone()).unwrap();
    let fault = rows.iter().find(|r| r.reason == "fault.broadband").unwrap();
    assert_eq!(
        (fault.contacts, fault.handled, fault.fcr_claimed),
        (3, 3, 3)
    );
    assert_eq!(fault.repeats, 1, "a's first call was repeated");
    assert_eq!(fault.repeat_rate, Some(33.3));
    assert_eq!(fault.zh, "宽带故障");
    let tariff = rows.iter().find(|r| r.reason == "inquiry.tariff").unwrap();
    assert_eq!((tariff.contacts, tariff.repeats), (1, 1));
    assert_eq!(rows[0].reason, "fault.broadband", "most contacts first");
    let err =
        report::reasons(&s, week(), &["moon".into()], &CustomerFilter::everyone()).unwrap_err();
    assert!(
        err.is_bad_input() && err.to_string().contains("no reason 'moon'"),
        "{err}"
    );
}

/// The survey by each dimension: response rate over answered calls, the mean and the
/// dissatisfied (1–2); key accounts apart by segment.
#[test]
fn satisfaction_is_broken_down_with_its_response_rate() {
    let s = Store::temporary(Catalog::builtin()).unwrap();
    let a = person(&s, "18900000001", "西湖区", "金色家园", false);
    let k = person(&s, "18900000003", "上城区", "阳光花园", true);
    let t0 = NOW - 2 * DAY;
    for (n, (who, score)) in [
        (a.id, Some(5)),
        (a.id, Some(2)),
        (a.id, None),
        (k.id, Some(4)),
    ]
    .into_iter()
    .enumerate()
    {
        let mut i = call(who, t0 + n as Millis * HOUR, "inquiry.tariff");
        i.satisfaction = score;
        s.record_interaction(i).unwrap();
    }
    s.record_interaction(self_served(a.id, t0)).unwrap(); // not answered: not surveyed
    let rows = report::satisfaction(
        &s,
        week(),
        &SatisfactionDimension::ALL,
        &CustomerFilter::everyone(),
    )
    .unwrap();
    let queue = rows
        .iter()
        .find(|r| r.by == SatisfactionDimension::Queue && r.key == "fault")
        .unwrap();
    assert_eq!((queue.answered, queue.surveyed), (4, 3));
    assert_eq!(queue.response_rate, Some(75.0));
    assert_eq!(queue.mean, Some(3.7), "(5 + 2 + 4) ÷ 3");
    assert_eq!(queue.dissatisfied, 1);
    assert_eq!(queue.scores, [0, 1, 0, 1, 1]);
    let key = rows
        .iter()
        .find(|r| r.by == SatisfactionDimension::Segment && r.key == "key-account")
        .unwrap();
    assert_eq!((key.answered, key.surveyed, key.mean), (1, 1, Some(4.0)));
    let agents: Vec<_> = rows
        .iter()
        .filter(|r| r.by == SatisfactionDimension::Agent)
        .collect();
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0].key, "1001");
}

/// Repeat callers: customers with at least N contacts, most first, names masked; fewer
/// than 2 is refused.
#[test]
fn repeat_callers_are_those_with_many_contacts() {
    let s = Store::temporary(Catalog::builtin()).unwrap();
    let a = person(&s, "18900000001", "西湖区", "金色家园", false);
    let b = person(&s, "18900000002", "西湖区", "金色家园", false);
    let t0 = NOW - 5 * DAY;
    for k in 0..4 {
        let reason = if k == 3 {
            "complaint.billing"
        } else {
            "fault.broadband"
        };
        s.record_interaction(call(a.id, t0 + k * HOUR, reason))
            .unwrap();
    }
    s.record_interaction(call(b.id, t0, "fault.broadband"))
        .unwrap();
    let rows = report::repeat_callers(&s, week(), 3, 10, &CustomerFilter::everyone()).unwrap();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!((r.customer, r.contacts, r.answered), (a.id, 4, 4));
    assert_eq!(
        r.reasons,
        vec![
            ("fault.broadband".to_string(), 3),
            ("complaint.billing".to_string(), 1)
        ]
    );
    assert_eq!((r.first, r.last), (t0, t0 + 3 * HOUR));
    assert!(r.name.contains('*'), "masked: {}", r.name);
    assert!(matches!(
        report::repeat_callers(&s, week(), 1, 10, &CustomerFilter::everyone()),
        Err(ReportError::Invalid(_))
    ));
}

/// Self-service: containment by route and by service, and the contained caller who
/// called again within the window and reached an agent.
#[test]
fn self_service_counts_containment_and_what_callers_did_next() {
    let s = Store::temporary(Catalog::builtin()).unwrap();
    let a = person(&s, "18900000001", "西湖区", "金色家园", false);
    let b = person(&s, "18900000002", "西湖区", "金色家园", false);
    let t0 = NOW - 4 * DAY;
    s.record_interaction(self_served(a.id, t0)).unwrap();
    s.record_interaction(call(a.id, t0 + HOUR, "bill-query"))
        .unwrap();
    s.record_interaction(self_served(b.id, t0)).unwrap();
    let mut tried = self_served(b.id, t0 + 2 * HOUR);
    tried.self_service = Some(SelfService::ToAgent("bill: no account".into()));
    tried.end = CallEnd::Abandoned; // hung up while queued
    tried.queued = Some(t0 + 2 * HOUR + 30_000);
    s.record_interaction(tried).unwrap();
    let rows = report::self_service(&s, week(), &CustomerFilter::everyone()).unwrap();
    let bill = rows
        .iter()
        .find(|r| r.by == "service" && r.key == "bill")
        .unwrap();
    assert_eq!((bill.calls, bill.contained, bill.to_agent), (3, 2, 1));
    assert_eq!(bill.containment, Some(66.7));
    assert_eq!(
        (bill.called_again, bill.called_again_to_agent),
        (2, 1),
        "a called again and reached an agent; b called again and did not get one"
    );
    let route = rows
        .iter()
        .find(|r| r.by == "path" && r.key == "welcome › fault-menu › fault-queue")
        .unwrap();
    assert_eq!((route.calls, route.contained, route.to_agent), (1, 0, 1));
}

/// Tickets by group and kind: resolved on time, resolved late and open past the
/// deadline, the mean time to resolve; only tickets opened in the period.
#[test]
fn tickets_are_judged_against_their_deadlines() {
    let s = Store::temporary(Catalog::builtin()).unwrap();
    let a = person(&s, "18900000001", "西湖区", "金色家园", false);
    let t0 = NOW - 6 * DAY;
    let resolve = |id: u64, at: Millis| {
        for change in [
            TicketChange::Dispatch {
                group: "repair-crew".into(),
            },
            TicketChange::Resolution {
                code: "repaired".into(),
                note: "修好了".into(),
            },
        ] {
            s.update_ticket(id, change, "8001", at).unwrap();
        }
    };
    let quick = ticket(&s, a.id, TicketKind::Fault, "broadband-down", t0);
    resolve(quick.id, t0 + 2 * HOUR);
    let late = ticket(&s, a.id, TicketKind::Fault, "broadband-slow", t0);
    resolve(late.id, late.deadline + HOUR);
    let open = ticket(&s, a.id, TicketKind::Fault, "mobile-signal", t0);
    s.update_ticket(
        open.id,
        TicketChange::Dispatch {
            group: "repair-crew".into(),
        },
        "1001",
        t0,
    )
    .unwrap();
    ticket(
        &s,
        a.id,
        TicketKind::Fault,
        "broadband-down",
        NOW - 20 * DAY,
    ); // before
    let rows = report::tickets(&s, week(), NOW, &[], &CustomerFilter::everyone()).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(
        (r.group.as_str(), r.kind),
        ("repair-crew", TicketKind::Fault)
    );
    assert_eq!((r.opened, r.resolved, r.open), (3, 2, 1));
    assert_eq!(
        (r.on_time, r.overdue),
        (1, 2),
        "late, and open past its deadline"
    );
    assert_eq!(r.on_time_rate, Some(33.3));
    let hours = (2.0 + (late.deadline + HOUR - t0) as f64 / HOUR as f64) / 2.0;
    assert_eq!(r.mean_hours_to_resolve, Some((hours * 10.0).round() / 10.0));
    assert!(
        report::tickets(
            &s,
            week(),
            NOW,
            &["moon".into()],
            &CustomerFilter::everyone()
        )
        .is_err()
    );
}

/// Hot spots on a seeded store: a cluster of complaints planted in one 小区 this week
/// comes first, ahead of an area with more reports that has as many every week (its
/// expectation is its previous week), and carries the planted subcategory on top.
#[test]
fn a_planted_cluster_of_complaints_is_the_first_hot_spot() {
    let s = Store::temporary(Catalog::builtin()).unwrap();
    seed::seed(&s, 3000, 7, NOW, &mut |_| {}).unwrap();
    let planted = person(&s, "18900000001", "滨江区", "测试新村", false);
    let neighbour = person(&s, "18900000002", "滨江区", "测试新村", false);
    let chronic = person(&s, "18900000003", "萧山区", "老问题小区", false);
    for k in 0..10 {
        let who = if k % 2 == 0 { planted.id } else { neighbour.id };
        ticket(
            &s,
            who,
            TicketKind::Complaint,
            "repair-delay",
            NOW - 2 * DAY + k * HOUR,
        );
    }
    for k in 0..12 {
        ticket(
            &s,
            chronic.id,
            TicketKind::Fault,
            "broadband-slow",
            NOW - 3 * DAY + k * HOUR,
        );
        ticket(
            &s,
            chronic.id,
            TicketKind::Fault,
            "broadband-slow",
            NOW - 10 * DAY + k * HOUR,
        );
    }
    let rows = report::hotspots(&s, week(), AreaLevel::Area, &[], 10).unwrap();
    let first = &rows[0];
    assert_eq!(
        (first.district.as_str(), first.area.as_str()),
        ("滨江区", "测试新村"),
        "{rows:#?}"
    );
    assert_eq!(
        (first.reports, first.complaints, first.previous),
        (10, 10, 0)
    );
    assert_eq!(first.top[0], ("repair-delay".to_string(), 10));
    assert!(first.surprise > 5.0, "{first:?}");
    let old = rows.iter().find(|r| r.area == "老问题小区").unwrap();
    assert!(old.reports > first.reports && old.previous == 12, "{old:?}");
    assert!(old.surprise < 1.0, "as usual for it: {old:?}");
    assert_eq!(first.customers, 2);
    assert_eq!(first.per_1000, Some(5000.0));
    // by district, and one district only
    let districts =
        report::hotspots(&s, week(), AreaLevel::District, &["滨江区".into()], 10).unwrap();
    assert_eq!(districts.len(), 1);
    assert!(districts[0].area.is_empty() && districts[0].reports >= 10);
    let err = report::hotspots(&s, week(), AreaLevel::Area, &["月球区".into()], 10).unwrap_err();
    assert!(err.to_string().contains("no district '月球区'"), "{err}");
}

/// Key accounts: the manager's customers' contacts, waits, survey and tickets; public
/// customers stay out.
#[test]
fn key_accounts_are_reported_by_account_manager() {
    let s = Store::temporary(Catalog::builtin()).unwrap();
    let k = person(&s, "18900000003", "上城区", "阳光花园", true);
    let p = person(&s, "18900000001", "西湖区", "金色家园", false);
    let t0 = NOW - DAY;
    let mut i = call(k.id, t0, "key-account.general");
    i.satisfaction = Some(4);
    i.wait_s = 3;
    s.record_interaction(i).unwrap();
    s.record_interaction(call(p.id, t0, "fault.broadband"))
        .unwrap();
    ticket(&s, k.id, TicketKind::Fault, "broadband-down", t0);
    let r = report::key_accounts(&s, week(), NOW, &[]).unwrap();
    assert_eq!(r.managers.len(), 1);
    let m = &r.managers[0];
    assert_eq!(m.manager, "9001");
    assert_eq!((m.customers_calling, m.contacts, m.answered), (1, 1, 1));
    assert_eq!((m.asa_seconds, m.satisfaction), (Some(3.0), Some(4.0)));
    assert_eq!(
        (m.tickets, m.tickets_on_time, m.tickets_overdue),
        (1, 0, 1),
        "a key account's fault is due within hours: a day later it is overdue"
    );
    assert!(r.green_channel.is_none(), "no interval kept");
    let just_opened = report::key_accounts(&s, week(), t0 + 1, &[]).unwrap();
    assert_eq!(just_opened.managers[0].tickets_overdue, 0);
}

/// A period must end after it starts and cover at most a year.
#[test]
fn a_bad_period_is_refused_in_words() {
    assert!(matches!(
        Period::new(NOW, NOW - 1),
        Err(ReportError::Backwards { .. })
    ));
    let e = Period::new(NOW - 3650 * DAY, NOW).unwrap_err();
    assert!(e.to_string().contains("at most 366 days"), "{e}");
    assert_eq!(
        week().previous(),
        Period::new(NOW - 14 * DAY, NOW - 7 * DAY).unwrap()
    );
}

/// A seeded store's interval history is its seeded calls added up: each queue's offered
/// and answered over the 90 days are its calls, and the calls come in a hotline's day
/// (more at 10:00 than at 04:00, Beijing time).
#[test]
fn seeded_intervals_add_up_to_the_seeded_calls() {
    let s = Store::temporary(Catalog::builtin()).unwrap();
    let r = seed::seed(&s, 2000, 7, NOW, &mut |_| {}).unwrap();
    assert!(r.intervals > 0);
    let all = Period::new(NOW - 91 * DAY, NOW).unwrap();
    let rep = report::intervals(&s, all, &[], 60, 0.8).unwrap();
    let mut calls = std::collections::BTreeMap::<String, (u64, u64)>::new();
    let mut by_hour = [0u64; 24];
    s.each_interaction_between(all.from, all.to, |i| {
        by_hour[((i.arrived / HOUR + 8) % 24) as usize] += 1;
        if let Some(q) = &i.queue {
            let c = calls.entry(q.clone()).or_default();
            c.0 += 1;
            c.1 += u64::from(i.answered.is_some());
        }
        Ok(())
    })
    .unwrap();
    assert!(!calls.is_empty());
    for (queue, (offered, answered)) in &calls {
        let t = rep.totals.iter().find(|t| &t.queue == queue).unwrap();
        assert_eq!((t.offered, t.answered), (*offered, *answered), "{queue}");
    }
    assert!(by_hour[10] > 3 * by_hour[4], "{by_hour:?}");
    let agents = report::agents(&s, all, NOW, &[], &[]).unwrap();
    let answered: u64 = agents.iter().map(|a| a.answered).sum();
    assert_eq!(answered, calls.values().map(|c| c.1).sum::<u64>());
    // an agent's seeded quarters are staffed whole: ready when not on a call
    let occupancy: Vec<f64> = agents.iter().filter_map(|a| a.occupancy).collect();
    let mean = occupancy.iter().sum::<f64>() / occupancy.len() as f64;
    assert!(mean > 5.0 && mean < 90.0, "{mean}");
    // the seeded IVR intervals are the seeded calls' IVR outcomes, service by service
    let whole = Period::new(NOW - 91 * DAY, NOW + DAY).unwrap();
    let from_calls = report::self_service(&s, whole, &CustomerFilter::everyone()).unwrap();
    let kept = report::intervals(&s, whole, &[], 60, 0.8).unwrap().ivr;
    let services: Vec<&report::SelfServiceRow> =
        from_calls.iter().filter(|r| r.by == "service").collect();
    assert!(!services.is_empty());
    for row in services {
        let (calls, contained) = kept
            .iter()
            .filter(|i| i.by == IvrBy::Service && i.key == row.key)
            .fold((0, 0), |(c, k), i| (c + i.calls, k + i.contained));
        assert_eq!(
            (calls, contained),
            (row.calls, row.contained),
            "{}",
            row.key
        );
    }
    // the seeded queues' intervals have their agents' staffed time
    assert!(
        rep.rows
            .iter()
            .any(|r| r.staffed_agents.is_some_and(|n| n >= 1.0))
    );
}

/// The alarms report lists each alarm raised in the period once, with how long it
/// stood; one still standing has no clearing; a queue the history does not know is
/// refused.
#[test]
fn alarms_are_listed_from_raised_to_cleared() {
    let store = Store::temporary(Catalog::builtin()).unwrap();
    let alarm = |start: Millis, end: Millis, subject: &str, cleared: bool| IntervalRecord {
        start,
        end,
        figures: IntervalFigures::Alarm {
            subject: subject.into(),
            threshold: 120.0,
            raised_at_value: 121.0,
            worst: 300.0,
            value: 10.0,
            cleared,
        },
    };
    let queue_interval = IntervalRecord {
        start: NOW - DAY,
        end: NOW - DAY + 900_000,
        figures: IntervalFigures::Queue {
            queue: "fault".into(),
            tally: Default::default(),
            busy_ms: 0,
            staffed_ms: 0,
            waiting_at_end: 0,
            formula: Default::default(),
            sl_seconds: 20,
        },
    };
    store
        .record_intervals(vec![
            queue_interval,
            alarm(NOW - DAY, NOW - DAY, "fault/longest-wait-above", false),
            alarm(
                NOW - 2 * HOUR,
                NOW - 2 * HOUR,
                "inquiry/waiting-above",
                false,
            ),
        ])
        .unwrap();
    // the first alarm clears 25 minutes later: written again, one record
    store
        .record_interval(alarm(
            NOW - DAY,
            NOW - DAY + 25 * 60_000,
            "fault/longest-wait-above",
            true,
        ))
        .unwrap();
    // one the router stopped with, still standing: kept to the stop
    store
        .record_interval(alarm(
            NOW - 3 * HOUR,
            NOW - 3 * HOUR + 6 * 60_000,
            "fault/waiting-above",
            false,
        ))
        .unwrap();
    let stopped = report::alarms(&store, week(), &[]).unwrap().remove(1);
    assert_eq!(stopped.rule, "waiting-above");
    assert_eq!(
        (stopped.cleared, stopped.router_stopped, stopped.minutes),
        (None, Some(NOW - 3 * HOUR + 6 * 60_000), Some(6.0))
    );
    let rows: Vec<_> = report::alarms(&store, week(), &[])
        .unwrap()
        .into_iter()
        .filter(|r| r.start != NOW - 3 * HOUR)
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        (rows[0].queue.as_str(), rows[0].rule.as_str()),
        ("fault", "longest-wait-above")
    );
    assert_eq!(rows[0].cleared, Some(NOW - DAY + 25 * 60_000));
    assert_eq!(rows[0].minutes, Some(25.0));
    assert_eq!((rows[0].raised_at, rows[0].worst), (121.0, 300.0));
    assert_eq!((rows[1].cleared, rows[1].minutes), (None, None));
    let fault = report::alarms(&store, week(), &["fault".into()]).unwrap();
    assert_eq!(fault.len(), 2, "the cleared one and the one the stop ended");
    let e = report::alarms(&store, week(), &["lottery".into()]).unwrap_err();
    assert!(e.is_bad_input() && e.to_string().contains("lottery"), "{e}");
    // the queue report is not disturbed by the alarms kept beside its intervals
    let r = report::intervals(&store, week(), &[], 15, 0.8).unwrap();
    assert_eq!(r.rows.len(), 1);
    let a = report::agents(&store, week(), NOW, &[], &[]).unwrap();
    assert!(a.is_empty());
}

/// The appraisal adds up an agent's intervals — holds, transfers, not-ready time by
/// reason in words — beside the survey answers of the calls the agent wrapped up and
/// the tickets the agent opened, judged on time or overdue.
#[test]
fn the_appraisal_counts_holds_transfers_reasons_surveys_and_tickets() {
    use hotline_acd::stats::AgentTally;
    use hotline_acd::{AgentState, ReasonCode, Span};
    let s = Store::temporary(Catalog::builtin()).unwrap();
    let c = person(&s, "18900000001", "西湖区", "金色家园", false);
    let t0 = NOW - DAY;
    let quarter = 15 * 60_000;
    let interval = |start: Millis, break_s: u64, training_s: u64| {
        let mut tally = AgentTally {
            offers: 3,
            answered: 3,
            handled: 3,
            holds: 2,
            transfers: 1,
            ..AgentTally::default()
        };
        tally.accrue(
            &AgentState::NotReady(ReasonCode(16)),
            Span::from_secs(break_s),
        );
        tally.accrue(
            &AgentState::NotReady(ReasonCode(18)),
            Span::from_secs(training_s),
        );
        tally.accrue(&AgentState::NotReady(ReasonCode(99)), Span::from_secs(5));
        IntervalRecord {
            start,
            end: start + quarter,
            figures: IntervalFigures::Agent {
                agent: "1001".into(),
                tally,
            },
        }
    };
    s.record_intervals(vec![interval(t0, 300, 0), interval(t0 + quarter, 120, 60)])
        .unwrap();
    for score in [Some(5), Some(3), None] {
        let mut i = call(c.id, t0, "fault.broadband");
        i.satisfaction = score;
        s.record_interaction(i).unwrap();
    }
    // a fault is due within days: one resolved at once is on time, one left open
    // overdue by NOW
    let done = ticket(&s, c.id, TicketKind::Fault, "broadband-down", t0 - 6 * DAY);
    ticket(&s, c.id, TicketKind::Fault, "broadband-down", t0 - 6 * DAY);
    for change in [
        TicketChange::Dispatch {
            group: "repair-crew".into(),
        },
        TicketChange::Resolution {
            code: "repaired".into(),
            note: "修好了".into(),
        },
    ] {
        s.update_ticket(done.id, change, "8001", t0 - 6 * DAY + HOUR)
            .unwrap();
    }
    let rows = report::agents(&s, week(), NOW, &[], &[]).unwrap();
    assert_eq!(rows.len(), 1);
    let a = &rows[0];
    assert_eq!((a.holds, a.transfers), (4, 2));
    assert_eq!(a.not_ready_seconds, 490.0);
    assert_eq!(
        a.not_ready_seconds_by_reason,
        vec![
            ("break".to_string(), 420.0),
            ("training".to_string(), 60.0),
            ("reason 99".to_string(), 10.0)
        ]
    );
    assert_eq!((a.surveyed, a.satisfaction_mean), (2, Some(4.0)));
    assert_eq!(
        (a.tickets_opened, a.tickets_on_time, a.tickets_overdue),
        (2, 1, 1)
    );
    assert_eq!(a.tickets_on_time_rate, Some(50.0));
    // an agent who kept no interval in the period but opened a ticket in it is
    // appraised on that ticket, with no time of their own
    ticket_by(
        &s,
        "1002",
        c.id,
        TicketKind::Complaint,
        "billing-dispute",
        t0,
    );
    let rows = report::agents(&s, week(), NOW, &["1002".into()], &[]).unwrap();
    assert_eq!(rows.len(), 1);
    let b = &rows[0];
    assert_eq!((b.agent.as_str(), b.tickets_opened), ("1002", 1));
    assert_eq!((b.handled, b.staffed_seconds, b.occupancy), (0, 0.0, None));
}

/// Required against staffed agents, per past interval: each queue's own need is Erlang C
/// over its calls and handle time in the interval, its staffed agents its logged-in time
/// over the interval; the floor pools every queue's calls against the agents' own
/// staffed time (each agent once) — the demo's case of queues that look staffed alone
/// but are short together. A target outside 0–1 is refused.
#[test]
fn each_interval_says_the_agents_required_against_those_staffed() {
    use hotline_acd::Span;
    use hotline_acd::kpi::{Tally, Thresholds};
    use hotline_acd::stats::AgentTally;
    use hotline_acd::{AgentState, AgentStateKind};
    use hotline_erlang::{Target, Traffic, staff_for};
    let s = Store::temporary(Catalog::builtin()).unwrap();
    let quarter: Millis = 15 * 60_000;
    let t0 = NOW - DAY - (NOW - DAY) % quarter;
    // two queues of 100 calls a quarter (400 an hour), 60 s each, all 12 agents on both
    let queue = |name: &str| {
        let mut tally = Tally::default();
        for _ in 0..100 {
            tally.on_offered();
            tally.on_answered(Span::from_secs(5), &Thresholds::default());
            tally.on_handled(Span::from_secs(50), Span::ZERO, Span::from_secs(10));
        }
        IntervalRecord {
            start: t0,
            end: t0 + quarter,
            figures: IntervalFigures::Queue {
                queue: name.into(),
                tally,
                busy_ms: 0,
                staffed_ms: 12 * quarter,
                waiting_at_end: 0,
                formula: Default::default(),
                sl_seconds: 20,
            },
        }
    };
    let mut records = vec![queue("inquiry"), queue("fault")];
    for n in 0..12 {
        let mut tally = AgentTally::default();
        tally.accrue(&AgentState::Ready, Span::from_secs(quarter / 1000));
        assert_eq!(
            tally.time_in_state[AgentStateKind::Ready.index()].0,
            quarter * 1000
        );
        records.push(IntervalRecord {
            start: t0,
            end: t0 + quarter,
            figures: IntervalFigures::Agent {
                agent: format!("10{n:02}"),
                tally,
            },
        });
    }
    s.record_intervals(records).unwrap();
    let need = |per_hour: f64| {
        let t = Traffic::per_hour(per_hour, 60.0, None).unwrap();
        let goal = Target::ServiceLevel {
            fraction: 0.8,
            seconds: 20.0,
        };
        staff_for(&t, goal, 20.0).unwrap().agents
    };
    let r = report::intervals(&s, week(), &[], 15, 0.8).unwrap();
    assert_eq!(r.rows.len(), 2);
    for row in &r.rows {
        assert_eq!(row.staffed_agents, Some(12.0), "{row:?}");
        assert_eq!(row.required_agents, Some(need(400.0)), "{row:?}");
    }
    assert!(need(400.0) <= 12, "each queue alone looks staffed");
    assert_eq!(r.totals[0].required_agents, Some(need(400.0)));
    let [f] = r.floor.as_slice() else {
        panic!("{:?}", r.floor)
    };
    assert_eq!((f.start, f.offered), (t0, 200));
    assert_eq!(f.staffed_agents, Some(12.0), "each agent once");
    assert_eq!(f.required_agents, Some(need(800.0)));
    assert_eq!(f.short, Some(f64::from(need(800.0)) - 12.0));
    assert!(f.short.unwrap() > 0.0, "together they are short");
    // one queue named: its rows, no floor
    let one = report::intervals(&s, week(), &["fault".into()], 15, 0.8).unwrap();
    assert!(one.floor.is_empty() && one.rows.len() == 1);
    let e = report::intervals(&s, week(), &[], 15, 80.0).unwrap_err();
    assert!(
        e.is_bad_input() && e.to_string().contains("0.8 for 80 %"),
        "{e}"
    );
}

/// The IVR's kept intervals by route and service: the parts of one interval (a router
/// restarted in it) add up to one row, containment by the KPI module's definition, the
/// mean time in the IVR over the calls.
#[test]
fn ivr_intervals_add_up_by_route_and_service() {
    let s = Store::temporary(Catalog::builtin()).unwrap();
    let quarter: Millis = 15 * 60_000;
    let t0 = NOW - DAY - (NOW - DAY) % quarter;
    let ivr = |start: Millis, end: Millis, by: IvrBy, key: &str, calls: u64, contained: u64| {
        IntervalRecord {
            start,
            end,
            figures: IntervalFigures::Ivr {
                by,
                key: key.into(),
                tally: IvrTally {
                    calls,
                    contained,
                    to_agent: calls - contained,
                    hung_up: 0,
                    ivr_ms: calls * 30_000,
                },
            },
        }
    };
    s.record_intervals(vec![
        ivr(t0, t0 + 7 * 60_000, IvrBy::Service, "bill", 6, 5),
        ivr(t0 + 8 * 60_000, t0 + quarter, IvrBy::Service, "bill", 4, 3),
        ivr(t0, t0 + 7 * 60_000, IvrBy::Path, "welcome › bill", 6, 5),
    ])
    .unwrap();
    let r = report::intervals(&s, week(), &[], 15, 0.8).unwrap();
    assert_eq!(r.ivr.len(), 2, "{:?}", r.ivr);
    let bill = r.ivr.iter().find(|i| i.by == IvrBy::Service).unwrap();
    assert_eq!((bill.start, bill.calls, bill.contained), (t0, 10, 8));
    assert_eq!(bill.containment, Some(80.0));
    assert_eq!(bill.mean_ivr_seconds, Some(30.0));
    assert!(r.rows.is_empty(), "no queue interval kept");
}

/// Whose contacts a report counts: a segment, a district, or both; a contact of a
/// caller the store does not know is counted only when everyone's are; tickets the same
/// way; a district no customer lives in is refused.
#[test]
fn reports_count_only_the_customers_asked_for() {
    let s = Store::temporary(Catalog::builtin()).unwrap();
    let public = person(&s, "18900000001", "西湖区", "金色家园", false);
    let key = person(&s, "18900000003", "上城区", "阳光花园", true);
    let t0 = NOW - 2 * DAY;
    for (n, c) in [public.id, public.id, public.id, key.id]
        .into_iter()
        .enumerate()
    {
        let mut i = call(c, t0 + n as u64 * HOUR, "fault.broadband");
        i.satisfaction = Some(if c == key.id { 5 } else { 3 });
        s.record_interaction(i).unwrap();
    }
    let mut stranger = call(0, t0, "fault.broadband");
    stranger.customer = None;
    s.record_interaction(stranger).unwrap();
    ticket(&s, key.id, TicketKind::Fault, "broadband-down", t0);
    let everyone = CustomerFilter::everyone();
    let keys = CustomerFilter {
        segment: Some(Segment::KeyAccount),
        districts: vec![],
    };
    let xihu = CustomerFilter {
        segment: None,
        districts: vec!["西湖区".into()],
    };
    let contacts =
        |who: &CustomerFilter| report::reasons(&s, week(), &[], who).unwrap()[0].contacts;
    assert_eq!(
        (contacts(&everyone), contacts(&keys), contacts(&xihu)),
        (5, 1, 3)
    );
    let mean = |who: &CustomerFilter| {
        report::satisfaction(&s, week(), &[SatisfactionDimension::Queue], who).unwrap()[0].mean
    };
    assert_eq!((mean(&keys), mean(&xihu)), (Some(5.0), Some(3.0)));
    let repeaters = report::repeat_callers(&s, week(), 3, 10, &keys).unwrap();
    assert!(repeaters.is_empty(), "the key account called once");
    assert_eq!(
        report::repeat_callers(&s, week(), 3, 10, &xihu)
            .unwrap()
            .len(),
        1
    );
    let opened = |who: &CustomerFilter| {
        report::tickets(&s, week(), NOW, &[], who)
            .unwrap()
            .iter()
            .map(|r| r.opened)
            .sum::<u64>()
    };
    assert_eq!((opened(&keys), opened(&xihu)), (1, 0));
    let both = CustomerFilter {
        segment: Some(Segment::KeyAccount),
        districts: vec!["西湖区".into()],
    };
    assert!(report::reasons(&s, week(), &[], &both).unwrap().is_empty());
    let moon = CustomerFilter {
        segment: None,
        districts: vec!["月球区".into()],
    };
    let e = report::self_service(&s, week(), &moon).unwrap_err();
    assert!(
        e.is_bad_input() && e.to_string().contains("no district '月球区'"),
        "{e}"
    );
}
