//! Records to messages and back, and errors to statuses.
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use hotline_proto::v1 as pb;
use hotline_router::convert::*;
use hotline_router::switchboard::SwitchError;
use hotline_store::seed::{self, DEFAULT_NOW};
use hotline_store::*;
use tonic::Code;

#[test]
fn a_customer_leaves_masked_and_comes_back_whole() {
    let c = seed::customer(4, 9, DEFAULT_NOW);
    let wire = customer(&c);
    let id = c.id_document.clone().unwrap();
    assert_eq!(wire.id_document_masked, mask::id_document(&id));
    assert_ne!(wire.id_document_masked, id);
    let back = customer_in(wire, Some(&c)).unwrap();
    assert_eq!(
        back, c,
        "a replace without a new ID number keeps the old one"
    );
    let mut w = customer(&c);
    w.vip_tier = "platinum".into();
    assert_eq!(
        customer_in(w, None).unwrap_err().code(),
        Code::InvalidArgument
    );
}

#[test]
fn tickets_and_every_change_round_trip() {
    let changes = [
        TicketChange::Dispatch {
            group: "装维".into(),
        },
        TicketChange::Start,
        TicketChange::Resolve {
            note: "换光猫".into(),
        },
        TicketChange::CallBack { satisfaction: 4 },
        TicketChange::Close,
        TicketChange::Reopen {
            reason: "又断".into(),
        },
        TicketChange::Note {
            text: "客户不在家".into(),
        },
        TicketChange::SetPriority {
            priority: TicketPriority::Urgent,
        },
        TicketChange::Resolution {
            code: "repaired".into(),
            note: "换光猫".into(),
        },
        TicketChange::NoAnswer { attempt: 2 },
        TicketChange::Unreachable { attempts: 3 },
    ];
    for c in &changes {
        assert_eq!(&change_in(Some(change(c))).unwrap(), c);
    }
    assert_eq!(change_in(None).unwrap_err().code(), Code::InvalidArgument);
    let t = Ticket {
        id: 12,
        customer: 3,
        kind: TicketKind::Fault,
        subcategory: "broadband-down".into(),
        description: "断网".into(),
        priority: TicketPriority::High,
        status: TicketStatus::Dispatched,
        owner: "1001".into(),
        back_office: Some("装维".into()),
        created: DEFAULT_NOW,
        deadline: DEFAULT_NOW + 4 * 3_600_000,
        satisfaction: None,
        history: vec![],
    };
    assert!(!ticket(&t, DEFAULT_NOW + 3_600_000).overdue);
    let late = ticket(&t, DEFAULT_NOW + 5 * 3_600_000);
    assert!(late.overdue);
    assert_eq!(late.status, pb::TicketStatus::Dispatched as i32);
    assert_eq!(ms(&late.deadline), Some(t.deadline));
    let req = pb::CreateTicketRequest {
        customer_id: 3,
        kind: 0,
        ..Default::default()
    };
    assert_eq!(
        new_ticket(req).unwrap_err().code(),
        Code::InvalidArgument,
        "a kind must be chosen"
    );
    assert_eq!(
        status_in(pb::TicketStatus::Closed as i32).unwrap(),
        TicketStatus::Closed
    );
    assert!(status_in(99).is_err());
}

#[test]
fn the_screen_pop_carries_profile_tickets_calls_and_the_ivr_choice() {
    let store = Store::temporary(Catalog::builtin()).unwrap();
    // seeded tickets still open are the recent ones (a few in a hundred)
    seed::seed(&store, 3000, 2, DEFAULT_NOW, &mut |_| {}).unwrap();
    let c = (1..=3000).find_map(|id| {
        let c = store.customer(id).unwrap()?;
        let pop = store.screen_pop(&c.phones[0], 5).unwrap()?;
        (!pop.open_tickets.is_empty()).then_some(pop)
    });
    let pop = c.expect("some seeded customer has an open ticket");
    let wire = screen_pop(
        &pop.customer.phones[0],
        Some(&pop),
        &["welcome".into(), "key 2".into()],
        Some("fault"),
        DEFAULT_NOW,
    );
    assert_eq!(wire.customer.as_ref().unwrap().id, pop.customer.id);
    assert_eq!(wire.open_tickets.len(), pop.open_tickets.len());
    assert_eq!(wire.recent.len(), pop.recent.len());
    assert_eq!((wire.reason.as_str(), wire.ivr_path.len()), ("fault", 2));
    let stranger = screen_pop("18900000000", None, &[], None, DEFAULT_NOW);
    assert!(stranger.customer.is_none() && stranger.open_tickets.is_empty());
    assert_eq!(stranger.caller_number, "18900000000");
}

#[test]
fn errors_become_the_status_a_client_expects() {
    let e = StoreError::Invalid {
        field: "name",
        why: "is empty".into(),
    };
    let s = store_status(e);
    assert_eq!(
        (s.code(), s.message()),
        (Code::InvalidArgument, "name is empty")
    );
    assert_eq!(
        store_status(StoreError::BadCredentials).code(),
        Code::Unauthenticated
    );
    assert_eq!(
        store_status(StoreError::IllegalTransition {
            ticket: 1,
            status: TicketStatus::New,
            change: "close"
        })
        .code(),
        Code::FailedPrecondition
    );
    let internal = store_status(StoreError::File("/secret/path: disk full".into()));
    assert_eq!(internal.code(), Code::Internal);
    assert!(!internal.message().contains("secret"), "no internals leak");
    assert_eq!(
        switch_status(SwitchError::UnknownQueue("x".into())).code(),
        Code::NotFound
    );
    let e = SwitchError::Engine(hotline_acd::EngineError::IllegalTransition {
        agent: hotline_acd::AgentId(0),
        state: hotline_acd::AgentStateKind::Ready,
        request: "answer",
    });
    let s = switch_status(e);
    assert_eq!(s.code(), Code::FailedPrecondition);
    assert_eq!(s.message(), "agent 0 cannot answer while ready");
}
