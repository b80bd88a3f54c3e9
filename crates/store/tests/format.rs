//! The on-disk format: each record type's version-1 encoding is kept as a fixture file and
//! must keep decoding to the same value (and today's encoder still writes version 1).
//! Regenerate only when adding a version: `HOTLINE_WRITE_FIXTURES=1 cargo test -p
//! hotline-store --test format`, then commit the new files beside the old ones.
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use hotline_store::codec::{decode, encode};
use hotline_store::seed::{self, DEFAULT_NOW};
use hotline_store::*;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn check<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
    name: &str,
    value: &T,
) {
    let path = fixture(name);
    if std::env::var_os("HOTLINE_WRITE_FIXTURES").is_some() {
        std::fs::write(&path, encode(value)).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(bytes[0], 1, "{name} is a version-1 record");
    let back: T = decode("fixture", b"", &bytes).unwrap();
    assert_eq!(&back, value, "{name} no longer decodes to the same value");
    assert_eq!(
        encode(value),
        bytes,
        "the encoder changed the version-1 format of {name}"
    );
}

#[test]
fn version_one_records_stay_readable() {
    let customer = seed::customer(99, 12, DEFAULT_NOW);
    check("customer.v1.bin", &customer);
    let ticket = Ticket {
        id: 7,
        customer: customer.id,
        kind: TicketKind::Complaint,
        subcategory: "billing-dispute".into(),
        description: "话费多扣 30 元".into(),
        priority: TicketPriority::High,
        status: TicketStatus::CalledBack,
        owner: "1001".into(),
        back_office: Some("投诉处理 complaints office".into()),
        created: DEFAULT_NOW,
        deadline: DEFAULT_NOW + 72 * 3_600_000,
        satisfaction: Some(4),
        history: vec![TicketEvent {
            at: DEFAULT_NOW,
            by: "1001".into(),
            change: TicketChange::CallBack { satisfaction: 4 },
            status: TicketStatus::CalledBack,
        }],
    };
    check("ticket.v1.bin", &ticket);
    let interaction = Interaction {
        id: 3,
        call_id: 123_456,
        customer: Some(customer.id),
        caller_number: "18912345678".into(),
        dialled: "1000".into(),
        arrived: DEFAULT_NOW,
        ivr_ended: Some(DEFAULT_NOW + 12_000),
        queued: Some(DEFAULT_NOW + 12_000),
        offered: Some(DEFAULT_NOW + 20_000),
        answered: Some(DEFAULT_NOW + 24_000),
        ended: DEFAULT_NOW + 300_000,
        ivr_path: vec!["3".into(), "0".into()],
        self_service: Some(SelfService::ToAgent("bill query".into())),
        queue: Some("complaint 服务投诉".into()),
        agents: vec!["1001".into(), "1002".into()],
        transfers: 1,
        wait_s: 12,
        talk_s: 250,
        hold_s: 14,
        wrap_up_s: 40,
        end: CallEnd::Completed,
        disposition: Some("ticket opened".into()),
        reason: Some("complaint.billing".into()),
        notes: "客户要求退费".into(),
        tickets: vec![7],
        fcr_claimed: false,
        fcr_verified: Some(false),
        satisfaction: Some(3),
        legs: vec![],
    };
    check("interaction.v1.bin", &interaction);
    let agent = AgentAccount {
        id: "1001".into(),
        name: "王小明".into(),
        role: Role::Agent,
        skills: vec![("complaint".into(), 8)],
        groups: vec!["投诉组".into()],
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$2nQ0b1yP2J5hX0n5J4uKqv3pJ0r4YqkzJ3dXv0wQ5kE".into(),
    };
    check("agent.v1.bin", &agent);
}

#[test]
fn an_unknown_version_is_refused_in_words() {
    let e = decode::<Customer>("customers", &[0, 1], &[9, 1, 2]).unwrap_err();
    assert!(e.to_string().contains("unknown encoding version 9"), "{e}");
    let e = decode::<Customer>("customers", &[0, 1], &[]).unwrap_err();
    assert!(e.to_string().contains("empty record"), "{e}");
}

/// An agent's interval in the shape written before holds, transfers and not-ready time
/// by reason were counted (the fixture holds that encoder's bytes, made by hand from
/// postcard's rules): it still decodes, and the store's upgrade gives today's agent
/// interval with the same figures and none of the new ones counted.
#[test]
fn an_agent_interval_of_the_first_shape_reads_back_upgraded() {
    use hotline_acd::Span;
    use hotline_acd::stats::AgentTally;
    let bytes = std::fs::read(fixture("interval-agent.v1.bin")).unwrap();
    let old: IntervalRecord = decode("intervals", b"", &bytes).unwrap();
    assert!(matches!(old.figures, IntervalFigures::AgentBefore { .. }));
    let s = Span::from_secs;
    let upgraded = IntervalRecord {
        start: 1_764_547_200_000,
        end: 1_764_547_200_000 + 900_000,
        figures: IntervalFigures::Agent {
            agent: "1001".into(),
            tally: AgentTally {
                offers: 7,
                answered: 6,
                no_answer: 1,
                handled: 6,
                talk: s(600),
                hold: s(30),
                wrap_up: s(120),
                time_in_state: [s(0), s(60), s(120), s(20), s(630), s(120)],
                ..AgentTally::default()
            },
        },
    };
    assert_eq!(old.upgraded(), upgraded);
    // today's agent interval is written in its own shape and reads back as written
    let back: IntervalRecord = decode("intervals", b"", &encode(&upgraded)).unwrap();
    assert_eq!(back, upgraded);
}
