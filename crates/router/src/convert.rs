//! Between the store's records and the callcenter.v1 messages, and from errors to gRPC
//! statuses — the one place each mapping is written. ID numbers leave only masked.

use crate::switchboard::{AgentEvent, CallerEvent, Command, CustomerLine, SwitchError, WrapUp};
use hotline_proto::v1 as pb;
use hotline_store::{self as store, Millis, StoreError, mask, not_ready};
use prost_types::Timestamp;
use tonic::{Code, Status};

/// Milliseconds since the epoch as a protobuf timestamp.
pub fn ts(ms: Millis) -> Option<Timestamp> {
    Some(Timestamp {
        seconds: (ms / 1000) as i64,
        nanos: ((ms % 1000) * 1_000_000) as i32,
    })
}

/// A time a client gave: unset is 0 (not known); before 1970 or with bad nanoseconds is
/// refused, never clamped.
pub fn time_in(field: &str, t: &Option<Timestamp>) -> Result<Millis, Status> {
    match t {
        None => Ok(0),
        Some(t) if t.seconds < 0 || t.nanos < 0 || t.nanos >= 1_000_000_000 => {
            Err(Status::invalid_argument(format!(
                "{field} must be a time after 1970-01-01, got {} s",
                t.seconds
            )))
        }
        Some(t) => Ok(t.seconds as u64 * 1000 + t.nanos as u64 / 1_000_000),
    }
}

/// A time range a client gave: [from, to), `from` unset is the beginning, `to` unset is
/// just after `now`; refused when it is empty or a bound is before 1970.
pub fn range_in(
    from: &Option<Timestamp>,
    to: &Option<Timestamp>,
    now: Millis,
) -> Result<(Millis, Millis), Status> {
    let from = time_in("from", from)?;
    let to = match to {
        None => now + 1,
        t => time_in("to", t)?,
    };
    if to <= from {
        return Err(Status::invalid_argument("`to` must be after `from`"));
    }
    Ok((from, to))
}

/// How many results a client asked for: `default` for 0, at most `max`.
pub fn limit_in(asked: u32, default: usize, max: usize) -> usize {
    if asked == 0 {
        default
    } else {
        (asked as usize).min(max)
    }
}

/// A protobuf timestamp as milliseconds since the epoch (None if unset or before 1970).
pub fn ms(t: &Option<Timestamp>) -> Option<Millis> {
    let t = t.as_ref()?;
    (t.seconds >= 0).then(|| t.seconds as u64 * 1000 + (t.nanos.max(0) as u64) / 1_000_000)
}

fn segment(s: store::Segment) -> i32 {
    match s {
        store::Segment::Public => pb::Segment::Public as i32,
        store::Segment::KeyAccount => pb::Segment::KeyAccount as i32,
    }
}

fn words<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A customer for the wire: the ID number masked.
pub fn customer(c: &store::Customer) -> pb::Customer {
    pb::Customer {
        id: c.id,
        name: c.name.clone(),
        phones: c.phones.clone(),
        id_document_masked: c
            .id_document
            .as_deref()
            .map(mask::id_document)
            .unwrap_or_default(),
        address: c.address.clone(),
        district: c.district.clone(),
        area: c.area.clone(),
        segment: segment(c.segment),
        vip_tier: words(&c.vip_tier),
        enterprise_group: c.enterprise_group.clone().unwrap_or_default(),
        account_manager: c.account_manager.clone().unwrap_or_default(),
        services: c
            .services
            .iter()
            .map(|s| pb::CustomerService {
                kind: words(&s.kind),
                product: s.product.clone(),
                since: ts(s.since),
            })
            .collect(),
        arpu_fen: c.arpu_fen,
        arpu_history_fen: c.arpu_history_fen.clone(),
        balance_fen: c.balance_fen,
        arrears_fen: c.arrears_fen,
        credit_level: c.credit_level as u32,
        since: ts(c.since),
        notes: c.notes.clone(),
        tags: c.tags.clone(),
        id_document_input: String::new(),
    }
}

fn invalid(field: &str, why: &str) -> Status {
    Status::invalid_argument(format!("{field} {why}"))
}

/// A customer from the wire. Replacing one keeps its ID number unless a new one is
/// given; every field is checked by the store.
pub fn customer_in(
    c: pb::Customer,
    existing: Option<&store::Customer>,
) -> Result<store::Customer, Status> {
    let segment = match pb::Segment::try_from(c.segment) {
        Ok(pb::Segment::KeyAccount) => store::Segment::KeyAccount,
        Ok(pb::Segment::Public) | Ok(pb::Segment::Unspecified) => store::Segment::Public,
        Err(_) => return Err(invalid("segment", "is not a known segment")),
    };
    let vip_tier = match c.vip_tier.as_str() {
        "" | "none" => store::VipTier::None,
        "silver" => store::VipTier::Silver,
        "gold" => store::VipTier::Gold,
        "diamond" => store::VipTier::Diamond,
        _ => return Err(invalid("vip_tier", "must be none, silver, gold or diamond")),
    };
    let mut services = Vec::new();
    for s in c.services {
        let kind = match s.kind.as_str() {
            "fixed-line" => store::ServiceKind::FixedLine,
            "broadband" => store::ServiceKind::Broadband,
            "mobile" => store::ServiceKind::Mobile,
            "iptv" => store::ServiceKind::Iptv,
            "value-added" => store::ServiceKind::ValueAdded,
            _ => {
                return Err(invalid(
                    "services.kind",
                    "must be fixed-line, broadband, mobile, iptv or value-added",
                ));
            }
        };
        services.push(store::Service {
            kind,
            product: s.product,
            since: time_in("services.since", &s.since)?,
        });
    }
    let opt = |s: String| (!s.is_empty()).then_some(s);
    Ok(store::Customer {
        id: c.id,
        name: c.name,
        phones: c.phones,
        id_document: opt(c.id_document_input)
            .or_else(|| existing.and_then(|e| e.id_document.clone())),
        address: c.address,
        district: c.district,
        area: c.area,
        segment,
        vip_tier,
        enterprise_group: opt(c.enterprise_group),
        account_manager: opt(c.account_manager),
        services,
        arpu_fen: c.arpu_fen,
        arpu_history_fen: c.arpu_history_fen,
        balance_fen: c.balance_fen,
        arrears_fen: c.arrears_fen,
        credit_level: u8::try_from(c.credit_level)
            .map_err(|_| invalid("credit_level", "must be 1–5"))?,
        since: time_in("since", &c.since)?,
        notes: c.notes,
        tags: c.tags,
    })
}

fn kind(k: store::TicketKind) -> i32 {
    (match k {
        store::TicketKind::Complaint => pb::TicketKind::Complaint,
        store::TicketKind::Fault => pb::TicketKind::Fault,
        store::TicketKind::Inquiry => pb::TicketKind::Inquiry,
        store::TicketKind::ServiceOrder => pb::TicketKind::ServiceOrder,
        store::TicketKind::Suggestion => pb::TicketKind::Suggestion,
    }) as i32
}

fn kind_in(k: i32) -> Result<store::TicketKind, Status> {
    match pb::TicketKind::try_from(k) {
        Ok(pb::TicketKind::Complaint) => Ok(store::TicketKind::Complaint),
        Ok(pb::TicketKind::Fault) => Ok(store::TicketKind::Fault),
        Ok(pb::TicketKind::Inquiry) => Ok(store::TicketKind::Inquiry),
        Ok(pb::TicketKind::ServiceOrder) => Ok(store::TicketKind::ServiceOrder),
        Ok(pb::TicketKind::Suggestion) => Ok(store::TicketKind::Suggestion),
        _ => Err(invalid(
            "kind",
            "must be one of complaint, fault, inquiry, service order, suggestion",
        )),
    }
}

/// A status for the wire.
pub fn status(s: store::TicketStatus) -> i32 {
    (match s {
        store::TicketStatus::New => pb::TicketStatus::New,
        store::TicketStatus::Dispatched => pb::TicketStatus::Dispatched,
        store::TicketStatus::InProgress => pb::TicketStatus::InProgress,
        store::TicketStatus::Resolved => pb::TicketStatus::Resolved,
        store::TicketStatus::CalledBack => pb::TicketStatus::CalledBack,
        store::TicketStatus::Closed => pb::TicketStatus::Closed,
        store::TicketStatus::Reopened => pb::TicketStatus::Reopened,
    }) as i32
}

/// A status from the wire.
pub fn status_in(s: i32) -> Result<store::TicketStatus, Status> {
    Ok(match pb::TicketStatus::try_from(s) {
        Ok(pb::TicketStatus::New) => store::TicketStatus::New,
        Ok(pb::TicketStatus::Dispatched) => store::TicketStatus::Dispatched,
        Ok(pb::TicketStatus::InProgress) => store::TicketStatus::InProgress,
        Ok(pb::TicketStatus::Resolved) => store::TicketStatus::Resolved,
        Ok(pb::TicketStatus::CalledBack) => store::TicketStatus::CalledBack,
        Ok(pb::TicketStatus::Closed) => store::TicketStatus::Closed,
        Ok(pb::TicketStatus::Reopened) => store::TicketStatus::Reopened,
        _ => return Err(invalid("status", "is not a ticket status")),
    })
}

fn priority(p: store::TicketPriority) -> i32 {
    (match p {
        store::TicketPriority::Low => pb::TicketPriority::Low,
        store::TicketPriority::Normal => pb::TicketPriority::Normal,
        store::TicketPriority::High => pb::TicketPriority::High,
        store::TicketPriority::Urgent => pb::TicketPriority::Urgent,
    }) as i32
}

fn priority_in(p: i32) -> Result<store::TicketPriority, Status> {
    Ok(match pb::TicketPriority::try_from(p) {
        Ok(pb::TicketPriority::Low) => store::TicketPriority::Low,
        Ok(pb::TicketPriority::Normal) | Ok(pb::TicketPriority::Unspecified) => {
            store::TicketPriority::Normal
        }
        Ok(pb::TicketPriority::High) => store::TicketPriority::High,
        Ok(pb::TicketPriority::Urgent) => store::TicketPriority::Urgent,
        Err(_) => return Err(invalid("priority", "is not a ticket priority")),
    })
}

/// A ticket change for the wire.
pub fn change(c: &store::TicketChange) -> pb::TicketChange {
    use pb::ticket_change::Change;
    let change = match c {
        store::TicketChange::Dispatch { group } => Change::DispatchTo(group.clone()),
        store::TicketChange::Start => Change::Start(true),
        store::TicketChange::Resolve { note } => Change::ResolveNote(note.clone()),
        store::TicketChange::CallBack { satisfaction } => {
            Change::CallbackSatisfaction(*satisfaction as u32)
        }
        store::TicketChange::Close => Change::Close(true),
        store::TicketChange::Reopen { reason } => Change::ReopenReason(reason.clone()),
        store::TicketChange::Note { text } => Change::Note(text.clone()),
        store::TicketChange::SetPriority { priority: p } => Change::Priority(priority(*p)),
        store::TicketChange::Resolution { code, note } => Change::Resolve(pb::Resolution {
            code: code.clone(),
            note: note.clone(),
        }),
        store::TicketChange::NoAnswer { attempt } => Change::CallBackNoAnswer(*attempt),
        store::TicketChange::Unreachable { attempts } => Change::ClosedUnreachableAfter(*attempts),
        store::TicketChange::Linked { incident } => Change::LinkedToIncident(*incident),
    };
    pb::TicketChange {
        change: Some(change),
    }
}

/// A ticket change from the wire.
pub fn change_in(c: Option<pb::TicketChange>) -> Result<store::TicketChange, Status> {
    use pb::ticket_change::Change;
    Ok(match c.and_then(|c| c.change) {
        Some(Change::DispatchTo(group)) => store::TicketChange::Dispatch { group },
        Some(Change::Start(_)) => store::TicketChange::Start,
        Some(Change::ResolveNote(note)) => store::TicketChange::Resolve { note },
        Some(Change::CallbackSatisfaction(s)) => store::TicketChange::CallBack {
            satisfaction: u8::try_from(s)
                .ok()
                .filter(|s| (1..=5).contains(s))
                .ok_or_else(|| invalid("callback_satisfaction", "must be 1–5"))?,
        },
        Some(Change::Close(_)) => store::TicketChange::Close,
        Some(Change::ReopenReason(reason)) => store::TicketChange::Reopen { reason },
        Some(Change::Note(text)) => store::TicketChange::Note { text },
        Some(Change::Priority(p)) => store::TicketChange::SetPriority {
            priority: priority_in(p)?,
        },
        Some(Change::Resolve(r)) => store::TicketChange::Resolution {
            code: r.code,
            note: r.note,
        },
        Some(Change::CallBackNoAnswer(attempt)) => store::TicketChange::NoAnswer { attempt },
        Some(Change::ClosedUnreachableAfter(attempts)) => {
            store::TicketChange::Unreachable { attempts }
        }
        Some(Change::LinkedToIncident(_)) => {
            return Err(invalid(
                "linked_to_incident",
                "a ticket is linked to an area incident when it is opened, not asked for",
            ));
        }
        None => return Err(invalid("change", "is missing: say what to change")),
    })
}

/// A ticket as a worklist shows it: with its customer's segment, name and area.
pub fn ticket_line(
    t: &store::Ticket,
    customer: Option<&store::Customer>,
    catalog: &store::Catalog,
    now: Millis,
) -> pb::Ticket {
    let mut w = ticket(t, now);
    let segment = customer.map_or(store::Segment::Public, |c| c.segment);
    if let Some(c) = customer {
        w.key_account = c.segment == store::Segment::KeyAccount;
        w.customer_name = c.name.clone();
        w.customer_area = format!("{} · {}", c.district, c.area);
    }
    w.escalated = t.status.is_open() && catalog.escalated(t.kind, segment, t.deadline, now);
    w
}

/// A ticket for the wire, overdue judged at `now`.
pub fn ticket(t: &store::Ticket, now: Millis) -> pb::Ticket {
    pb::Ticket {
        id: t.id,
        customer_id: t.customer,
        kind: kind(t.kind),
        subcategory: t.subcategory.clone(),
        description: t.description.clone(),
        priority: priority(t.priority),
        status: status(t.status),
        owner: t.owner.clone(),
        back_office: t.back_office.clone().unwrap_or_default(),
        created: ts(t.created),
        deadline: ts(t.deadline),
        overdue: t.is_overdue(now),
        satisfaction: t.satisfaction.unwrap_or(0) as u32,
        history: t
            .history
            .iter()
            .map(|e| pb::TicketEvent {
                at: ts(e.at),
                by: e.by.clone(),
                change: Some(change(&e.change)),
                status: status(e.status),
            })
            .collect(),
        taken_by: t.taken_by().unwrap_or_default().into(),
        latest_note: t.latest_note().unwrap_or_default().into(),
        resolution: t.resolution().unwrap_or_default().into(),
        incident: t.incident().unwrap_or(0),
        ..Default::default()
    }
}

/// An incident for the wire: `counts` are its linked tickets and the requests to be told
/// among them (`None`: not counted here); `history` adds its changes.
pub fn incident(
    i: &store::Incident,
    catalog: &store::Catalog,
    counts: Option<(u64, u64)>,
    history: bool,
) -> pb::Incident {
    let fault = catalog.kind(store::TicketKind::Fault);
    let (zh, en) = fault
        .subcategories
        .iter()
        .find(|s| s.id == i.kind)
        .map_or((i.kind.as_str(), i.kind.as_str()), |s| s.names());
    let (linked_tickets, asked_to_be_told) = counts.unwrap_or_default();
    let what = |c: &store::IncidentChange| match c {
        store::IncidentChange::Declared => "declared".to_string(),
        store::IncidentChange::Edited { what } => what.clone(),
        store::IncidentChange::Ended { code } => format!("ended: {code}"),
    };
    pb::Incident {
        id: i.id,
        district: i.district.clone(),
        area: i.area.clone(),
        kind: i.kind.clone(),
        kind_zh: zh.to_string(),
        kind_en: en.to_string(),
        message_zh: i.message.zh.clone(),
        message_en: i.message.en.clone(),
        started_at: ts(i.started),
        expected_restore_at: ts(i.expected_restore),
        declared_at: ts(i.declared),
        declared_by: i.declared_by.clone(),
        automatic: i.automatic,
        open: i.is_open(),
        ended_at: i.ended.and_then(ts),
        resolution_code: i
            .resolution
            .as_ref()
            .map(|r| r.code.clone())
            .unwrap_or_default(),
        resolution_note: i
            .resolution
            .as_ref()
            .map(|r| r.note.clone())
            .unwrap_or_default(),
        linked_tickets,
        asked_to_be_told,
        history: if history {
            i.history
                .iter()
                .map(|e| pb::IncidentEvent {
                    at: ts(e.at),
                    by: e.by.clone(),
                    what: what(&e.change),
                })
                .collect()
        } else {
            vec![]
        },
    }
}

/// A new ticket from the wire.
pub fn new_ticket(r: pb::CreateTicketRequest) -> Result<store::NewTicket, Status> {
    Ok(store::NewTicket {
        customer: r.customer_id,
        kind: kind_in(r.kind)?,
        subcategory: r.subcategory,
        description: r.description,
        priority: priority_in(r.priority)?,
    })
}

fn verified(v: Option<bool>) -> String {
    match v {
        None => "pending",
        Some(true) => "yes",
        Some(false) => "no",
    }
    .into()
}

/// A call record for the wire.
pub fn interaction(i: &store::Interaction) -> pb::Interaction {
    pb::Interaction {
        id: i.id,
        call_id: i.call_id,
        customer_id: i.customer.unwrap_or(0),
        caller_number: i.caller_number.clone(),
        dialled: i.dialled.clone(),
        arrived: ts(i.arrived),
        answered: i.answered.and_then(ts),
        ended: ts(i.ended),
        ivr_path: i.ivr_path.clone(),
        self_service: match &i.self_service {
            Some(store::SelfService::Completed(s)) => s.clone(),
            Some(store::SelfService::ToAgent(s)) => format!("to agent: {s}"),
            None => String::new(),
        },
        queue: i.queue.clone().unwrap_or_default(),
        agents: i.agents.clone(),
        wait_s: i.wait_s,
        talk_s: i.talk_s,
        hold_s: i.hold_s,
        wrap_up_s: i.wrap_up_s,
        end: words(&i.end),
        disposition: i.disposition.clone().unwrap_or_default(),
        reason: i.reason.clone().unwrap_or_default(),
        notes: i.notes.clone(),
        ticket_ids: i.tickets.clone(),
        fcr_claimed: i.fcr_claimed,
        fcr_verified: verified(i.fcr_verified),
        satisfaction: i.satisfaction.unwrap_or(0) as u32,
        legs: i
            .legs
            .iter()
            .map(|l| pb::CallLeg {
                agent_id: l.agent.clone(),
                queue: l.queue.clone(),
                offered: ts(l.offered),
                answered: l.answered.and_then(ts),
                ended: l.ended.and_then(ts),
                outcome: words(&l.outcome),
            })
            .collect(),
    }
}

/// The screen pop for an offer: the customer, summaries of their open tickets and last
/// calls (from the store's index lines), and what the caller chose in the IVR.
pub fn screen_pop(
    caller: &str,
    pop: Option<&store::ScreenPop>,
    ivr_path: &[String],
    reason: Option<&str>,
    now: Millis,
) -> pb::ScreenPop {
    pb::ScreenPop {
        caller_number: caller.to_string(),
        customer: pop.map(|p| customer(&p.customer)),
        open_tickets: pop
            .map(|p| {
                p.open_tickets
                    .iter()
                    .map(|l| pb::Ticket {
                        id: l.id,
                        customer_id: p.customer.id,
                        kind: kind(l.kind),
                        subcategory: l.subcategory.clone(),
                        status: status(l.status),
                        owner: l.owner.clone(),
                        deadline: ts(l.deadline),
                        overdue: l.status.is_open() && now > l.deadline,
                        ..pb::Ticket::default()
                    })
                    .collect()
            })
            .unwrap_or_default(),
        recent: pop
            .map(|p| {
                p.recent
                    .iter()
                    .map(|l| pb::Interaction {
                        id: l.id,
                        customer_id: p.customer.id,
                        arrived: ts(l.arrived),
                        reason: l.reason.clone().unwrap_or_default(),
                        disposition: l.disposition.clone().unwrap_or_default(),
                        agents: l.agent.iter().cloned().collect(),
                        fcr_claimed: l.fcr_claimed,
                        fcr_verified: verified(l.fcr_verified),
                        ..pb::Interaction::default()
                    })
                    .collect()
            })
            .unwrap_or_default(),
        ivr_path: ivr_path.to_vec(),
        reason: reason.unwrap_or_default().to_string(),
        store_unavailable: false,
        ivr_steps: vec![],
        incident: None,
    }
}

/// The store's state as supervisors see it.
pub fn store_state(s: &crate::store_watch::StoreState) -> pb::StoreStatus {
    match &s.health {
        hotline_store::Health::Up => pb::StoreStatus {
            records_waiting: s.waiting as u64,
            ..pb::StoreStatus::default()
        },
        hotline_store::Health::Degraded { since, reason } => pb::StoreStatus {
            degraded: true,
            since: ts(*since),
            reason: reason.clone(),
            records_waiting: s.waiting as u64,
        },
    }
}

/// A store error as the gRPC status a client gets, worded for a person. Internal
/// failures say so without details a caller could misuse.
pub fn store_status(e: StoreError) -> Status {
    let code = match &e {
        StoreError::Invalid { .. } => Code::InvalidArgument,
        StoreError::NotFound { .. } => Code::NotFound,
        StoreError::PhoneTaken { .. } | StoreError::Exists(_) => Code::AlreadyExists,
        StoreError::IllegalTransition { .. } => Code::FailedPrecondition,
        StoreError::BadCredentials => Code::Unauthenticated,
        StoreError::NotAllowed(_) => Code::PermissionDenied,
        // the record kept changing under a write the store retried: try again
        StoreError::Conflict(_) => Code::Aborted,
        StoreError::Unavailable(_) => {
            return Status::unavailable(
                "the customer store cannot be reached just now; calls go on, try this again shortly",
            );
        }
        StoreError::Corrupt { .. }
        | StoreError::Storage(_)
        | StoreError::Database(_)
        | StoreError::File(_) => {
            return Status::internal(
                "the customer store failed; the operator has been told (see the router's log)",
            );
        }
    };
    Status::new(code, e.to_string())
}

/// A switchboard refusal as a gRPC status.
pub fn switch_status(e: SwitchError) -> Status {
    use hotline_acd::EngineError as E;
    let code = match &e {
        SwitchError::UnknownAgent(_)
        | SwitchError::UnknownCall(_)
        | SwitchError::UnknownQueue(_) => Code::NotFound,
        SwitchError::DuplicateCall(_) => Code::AlreadyExists,
        SwitchError::NothingToWrapUp(_)
        | SwitchError::WrapUpPending(_)
        | SwitchError::AgentRefused { .. }
        | SwitchError::CallBackOutcomeMissing(_)
        | SwitchError::NotACallBack(_)
        | SwitchError::CustomerNotReached(_)
        | SwitchError::NotRinging(_) => Code::FailedPrecondition,
        SwitchError::BadSatisfaction(_) => Code::InvalidArgument,
        SwitchError::Engine(E::InvalidConfig { .. }) => Code::InvalidArgument,
        SwitchError::Engine(E::UnknownAgent(_) | E::UnknownCall(_) | E::UnknownQueue(_)) => {
            Code::NotFound
        }
        SwitchError::Engine(_) => Code::FailedPrecondition,
    };
    Status::new(code, e.to_string())
}

/// The words a client's events carry: as the client asked at login. A client that did
/// not say (LANGUAGE_UNSPECIFIED) gets the words the contract has always sent, in
/// English, so older clients that compare them keep working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labels {
    /// No language asked for: the historical English words.
    Unspecified,
    /// 简体中文.
    Zh,
    /// English.
    En,
}

impl Labels {
    /// From `LoginRequest.language`; an unknown value is refused.
    pub fn of(language: i32) -> Result<Labels, Status> {
        match pb::Language::try_from(language) {
            Ok(pb::Language::Unspecified) => Ok(Labels::Unspecified),
            Ok(pb::Language::ZhCn) => Ok(Labels::Zh),
            Ok(pb::Language::En) => Ok(Labels::En),
            Err(_) => Err(Status::invalid_argument(format!(
                "language {language} is not known: 0 (router default), 1 (zh-CN) or 2 (English)"
            ))),
        }
    }

    /// The contract's `Language` number (kept with the session token).
    pub fn code(self) -> u8 {
        (match self {
            Labels::Unspecified => pb::Language::Unspecified,
            Labels::Zh => pb::Language::ZhCn,
            Labels::En => pb::Language::En,
        }) as u8
    }

    /// From a kept number; one the router does not know is the unspecified default.
    pub fn from_code(code: u8) -> Labels {
        Labels::of(code.into()).unwrap_or(Labels::Unspecified)
    }

    fn pick(self, en: &'static str, zh: &'static str) -> &'static str {
        match self {
            Labels::Zh => zh,
            Labels::Unspecified | Labels::En => en,
        }
    }
}

/// A length for the wire.
pub fn duration(ms: u64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: (ms / 1000) as i64,
        nanos: ((ms % 1000) * 1_000_000) as i32,
    })
}

/// A fault-surge alarm of the watch on areas, for the wallboards (`window`: the
/// detector's, ms; a cleared one carries only its area, peak and end).
pub fn area_alarm(e: &hotline_outage::OutageEvent, window: Millis) -> pb::AreaAlarm {
    use hotline_outage::OutageEvent as E;
    match e {
        E::Raised(s) | E::Grew(s) | E::Declare(s) => pb::AreaAlarm {
            district: s.area.district.clone(),
            area: s.area.area.clone(),
            count: s.count,
            expected: s.expected,
            chance: s.chance,
            window: duration(window),
            first_call_at: ts(s.first),
            raised_at: ts(s.raised),
            top: s
                .top
                .iter()
                .map(|(code, count)| pb::FaultCount {
                    code: code.clone(),
                    count: *count,
                })
                .collect(),
            peak: 0,
            cleared_at: None,
            declare: s.declared,
        },
        E::Cleared { area, at, peak } => pb::AreaAlarm {
            district: area.district.clone(),
            area: area.area.clone(),
            window: duration(window),
            peak: *peak,
            cleared_at: ts(*at),
            ..Default::default()
        },
    }
}

/// An alarm, standing or cleared.
pub fn alarm(a: &crate::alarms::Alarm) -> pb::Alarm {
    pb::Alarm {
        queue: a.queue.clone(),
        rule: a.kind.code().into(),
        threshold: a.threshold,
        raised_at: ts(a.raised_at),
        raised_at_value: a.raised_at_value,
        value: a.value,
        worst: a.worst,
        cleared_at: a.cleared_at.and_then(ts),
        router_stopped_at: None,
    }
}

/// An alarm as the history keeps it (`None` for an interval's record).
pub fn alarm_kept(r: &store::IntervalRecord) -> Option<pb::Alarm> {
    let store::IntervalFigures::Alarm {
        subject,
        threshold,
        raised_at_value,
        worst,
        value,
        cleared,
    } = &r.figures
    else {
        return None;
    };
    let (queue, rule) = subject.rsplit_once('/').unwrap_or((subject, ""));
    Some(pb::Alarm {
        queue: queue.into(),
        rule: rule.into(),
        threshold: *threshold,
        raised_at: ts(r.start),
        raised_at_value: *raised_at_value,
        value: *value,
        worst: *worst,
        cleared_at: cleared.then(|| ts(r.end)).flatten(),
        router_stopped_at: (!cleared && r.end > r.start).then(|| ts(r.end)).flatten(),
    })
}

/// A queue's alarm thresholds.
pub fn thresholds(queue: &str, t: &crate::alarms::Thresholds) -> pb::AlarmThresholds {
    pb::AlarmThresholds {
        queue: queue.into(),
        service_level_below: t.service_level_below,
        longest_wait_above_seconds: t.longest_wait_above_seconds,
        waiting_above: t.waiting_above,
        ready_below: t.ready_below,
        abandon_rate_above: t.abandon_rate_above,
    }
}

/// Alarm thresholds a supervisor gave: a share outside 0–1 (or not a number) is refused
/// with the field named.
pub fn thresholds_in(t: &pb::AlarmThresholds) -> Result<crate::alarms::Thresholds, Status> {
    let t = crate::alarms::Thresholds {
        service_level_below: t.service_level_below,
        longest_wait_above_seconds: t.longest_wait_above_seconds,
        waiting_above: t.waiting_above,
        ready_below: t.ready_below,
        abandon_rate_above: t.abandon_rate_above,
    };
    t.check().map_err(Status::invalid_argument)?;
    Ok(t)
}

fn event(e: pb::agent_event::Event) -> pb::AgentEvent {
    pb::AgentEvent { event: Some(e) }
}

/// An agent state for the wire.
pub fn state(s: hotline_acd::AgentStateKind) -> i32 {
    use hotline_acd::AgentStateKind as K;
    (match s {
        K::LoggedOut => pb::AgentState::LoggedOut,
        K::NotReady => pb::AgentState::NotReady,
        K::Ready => pb::AgentState::Ready,
        K::Reserved => pb::AgentState::Reserved,
        K::Connected => pb::AgentState::Connected,
        K::AfterCallWork => pb::AgentState::AfterCallWork,
    }) as i32
}

/// Words for a not-ready reason code.
pub fn reason_label(code: u16, labels: Labels) -> &'static str {
    not_ready::reason_of(code).map_or(labels.pick("not ready", "示忙"), |r| {
        labels.pick(r.en, r.zh)
    })
}

/// A not-ready reason an agent or supervisor asks for: one the router knows and a
/// person may choose (16 and up, or 3 for a supervisor); anything else is refused.
pub fn reason_in(code: u32, by_supervisor: bool) -> Result<u16, Status> {
    let choosable =
        |r: &not_ready::NotReadyReason| r.chosen_by_agent() || (by_supervisor && r.code == 3);
    let known = not_ready::REASONS
        .iter()
        .any(|r| u32::from(r.code) == code && choosable(r));
    if known {
        Ok(code as u16)
    } else {
        let choices: Vec<String> = not_ready::REASONS
            .iter()
            .filter(|r| choosable(r))
            .map(|r| format!("{} ({})", r.code, r.en))
            .collect();
        Err(Status::invalid_argument(format!(
            "not-ready reason {code} is not known; choose {}",
            choices.join(", ")
        )))
    }
}

/// The session's last event: it ends, and why.
pub fn closed(end: pb::SessionEnd, labels: Labels) -> pb::AgentEvent {
    use pb::SessionEnd as S;
    let reason = match end {
        S::LoggedOut => labels.pick("logged out", "已签出"),
        S::LoggedInElsewhere => labels.pick("logged in elsewhere", "已在别处登录"),
        S::ForcedLogout => labels.pick("logged out by a supervisor", "已被班长签出"),
        S::RouterShuttingDown => labels.pick("router shutting down", "路由器正在停止"),
        S::HeartbeatsMissed => labels.pick("heartbeats missed", "心跳超时"),
        S::Unspecified => labels.pick("closed", "已关闭"),
    };
    event(pb::agent_event::Event::Closed(pb::SessionClosed {
        reason: reason.into(),
        code: end as i32,
    }))
}

/// A command's failure, with the command's id.
pub fn command_error(command_id: u64, code: Code, message: String) -> pb::agent_event::Event {
    pb::agent_event::Event::Error(pb::CommandError {
        command_id,
        code: code_name(code).into(),
        message,
    })
}

/// What the switchboard tells an agent, for the wire.
pub fn agent_event(
    ev: AgentEvent,
    now: Millis,
    labels: Labels,
    catalog: &store::Catalog,
) -> pb::AgentEvent {
    use pb::agent_event::Event as E;
    event(match ev {
        AgentEvent::Offer {
            call,
            queue,
            callback,
            ring_until,
            caller,
            pop,
            store_unavailable,
            ivr_path,
            ivr_words,
            reason,
            priority,
            call_back,
            incident: area_incident,
        } => E::Offer(pb::Offer {
            call_id: call,
            queue,
            callback,
            ring_until: ring_until.and_then(ts),
            screen_pop: Some(pb::ScreenPop {
                store_unavailable,
                ivr_steps: ivr_path
                    .iter()
                    .zip(ivr_words)
                    .map(|(step, (zh, en))| pb::IvrStep {
                        step: step.clone(),
                        zh,
                        en,
                    })
                    .collect(),
                incident: area_incident.map(|i| incident(&i, catalog, None, false)),
                ..screen_pop(&caller, pop.as_deref(), &ivr_path, reason.as_deref(), now)
            }),
            priority: priority.into(),
            call_back_task: call_back.map(|t| pb::CallBackTask {
                ticket: Some(ticket(&t.ticket, now)),
                attempt: t.attempt,
                attempts: t.attempts,
                due: ts(t.due),
                number: t.number,
            }),
        }),
        AgentEvent::CustomerLine(_, line) => E::CustomerLine(customer_line(line).into()),
        AgentEvent::OfferCancelled(why) => E::OfferCancelled(why.into()),
        AgentEvent::Connected(call) => E::Connected(call),
        AgentEvent::ConversationEnded { by_caller, .. } => E::ConversationEnded(
            if by_caller {
                "caller hung up"
            } else {
                "agent hung up"
            }
            .into(),
        ),
        AgentEvent::State { state: s, reason } => E::State(pb::StateChange {
            state: state(s),
            reason: reason.map(|code| pb::NotReadyReason {
                code: code as u32,
                label: reason_label(code, labels).into(),
            }),
            since: ts(now),
            wrap_up_until: None,
        }),
    })
}

/// A call-back's customer line, for the wire.
pub fn customer_line(line: CustomerLine) -> pb::CustomerLine {
    match line {
        CustomerLine::Idle | CustomerLine::Ringing => pb::CustomerLine::Ringing,
        CustomerLine::Answered => pb::CustomerLine::Answered,
        CustomerLine::NoAnswer => pb::CustomerLine::NoAnswer,
        CustomerLine::HungUp => pb::CustomerLine::HungUp,
    }
}

/// A call-back's outcome from the wire: satisfaction 1–5 when reached.
pub fn call_back_result(r: pb::CallBackResult) -> Result<store::CallBackOutcome, Status> {
    if !r.reached {
        return Ok(store::CallBackOutcome::NoAnswer);
    }
    match u8::try_from(r.satisfaction) {
        Ok(satisfaction @ 1..=5) => Ok(store::CallBackOutcome::Reached {
            satisfaction,
            solved: r.solved,
        }),
        _ => Err(Status::invalid_argument(format!(
            "a call-back's satisfaction is 1 (very unhappy) to 5 (very happy), got {}",
            r.satisfaction
        ))),
    }
}

/// What the switchboard tells a caller, for the wire.
pub fn caller_event(call: u64, ev: CallerEvent, now: Millis) -> pb::CallEvent {
    use pb::call_event::Event as E;
    let event = match ev {
        CallerEvent::Say { node, text } => E::Prompt(pb::Prompt { node, text }),
        CallerEvent::Collect { max_digits, until } => E::Collect(pb::CollectDigits {
            max_digits,
            timeout: duration(until.saturating_sub(now)),
        }),
        CallerEvent::Queued {
            queue,
            position,
            wait_seconds,
        } => E::Queued(pb::QueueStatus {
            queue,
            position,
            expected_wait: duration(wait_seconds * 1000),
        }),
        CallerEvent::CallbackOffered => E::CallbackOffered(true),
        CallerEvent::CallbackBooked => E::CallbackBooked(true),
        CallerEvent::Connected(agent) => E::Connected(agent),
        CallerEvent::OnHold(on) => E::OnHold(on),
        CallerEvent::Ended(end) => E::Ended(words(&end)),
        CallerEvent::Ringing { from, to, ticket } => E::Ringing(pb::Ringing { from, to, ticket }),
        CallerEvent::RangOut => E::Ended("no answer".into()),
    };
    pb::CallEvent {
        call_id: call,
        event: Some(event),
    }
}

/// The canonical gRPC name of a status code, as the contract documents it.
pub fn code_name(c: Code) -> &'static str {
    use Code::*;
    match c {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

/// A length from the wire: refused when negative or out of range, never clamped.
pub fn span_in(field: &str, d: &prost_types::Duration) -> Result<u64, Status> {
    if d.seconds < 0 || d.nanos < 0 || d.nanos >= 1_000_000_000 {
        return Err(Status::invalid_argument(format!(
            "{field} must be a positive length, got {}.{:09} s",
            d.seconds, d.nanos
        )));
    }
    Ok(d.seconds as u64 * 1000 + d.nanos as u64 / 1_000_000)
}

/// An agent's command from the wire, checked by the rules the switchboard and the
/// store apply; `command_id` travels with a wrap-up so its answer names it.
pub fn command_in(c: pb::agent_command::Command, command_id: u64) -> Result<Command, Status> {
    use pb::agent_command::Command as C;
    Ok(match c {
        C::Ready(_) => Command::Ready,
        C::NotReady(r) => Command::NotReady(reason_in(r, false)?),
        C::Answer(_) => Command::Answer,
        C::Reject(_) => Command::Reject,
        C::Hold(_) => Command::Hold,
        C::Resume(_) => Command::Resume,
        C::TransferToQueue(q) => Command::TransferToQueue(q),
        C::TransferToAgent(a) => Command::TransferToAgent(a),
        C::HangUp(_) => Command::HangUp,
        C::ExtendWrapUp(d) => {
            let ms = span_in("extend_wrap_up", &d)?;
            if ms == 0 || ms > 3_600_000 {
                return Err(Status::invalid_argument(
                    "extend_wrap_up must be between 1 second and 1 hour",
                ));
            }
            Command::ExtendWrapUp(ms.div_ceil(1000) as u32)
        }
        C::Logout(_) => Command::Logout,
        // answered in the session loop before commands are mapped
        C::HeartbeatAck(_) => {
            return Err(Status::internal(
                "a heartbeat answer reached the command path",
            ));
        }
        C::WrapUp(w) => {
            // by the rules the store applies to the call's record and to tickets, so a
            // wrap-up accepted here is always stored
            store::validate::wrap_up(&w.disposition, &w.reason, &w.notes).map_err(store_status)?;
            // 统一编码: a reason and a disposition are codes of the catalogue (an older
            // desktop's free-text disposition is taken as the code it stands for)
            let codes = store::Codes::shipped();
            if !w.reason.is_empty() {
                codes
                    .check_reason(&w.reason)
                    .map_err(|e| store_status(e.into()))?;
            }
            let disposition = match w.disposition.as_str() {
                "" => String::new(),
                d => codes
                    .check_disposition(d)
                    .map_err(|e| store_status(e.into()))?
                    .code
                    .clone(),
            };
            let new_tickets: Vec<store::NewTicket> = w
                .new_tickets
                .into_iter()
                .map(new_ticket)
                .collect::<Result<_, _>>()?;
            for t in &new_tickets {
                store::validate::new_ticket(t).map_err(store_status)?;
            }
            Command::WrapUp(WrapUp {
                disposition,
                reason: w.reason,
                notes: w.notes,
                new_tickets,
                ticket_changes: w
                    .ticket_changes
                    .into_iter()
                    .map(|u| Ok((u.id, change_in(u.change)?)))
                    .collect::<Result<_, Status>>()?,
                resolved_first_contact: w.resolved_first_contact,
                command_id,
                call_back: w.call_back.map(call_back_result).transpose()?,
            })
        }
    })
}

/// A status that ended a client's stream of requests, in the conventional code: an
/// oversize message is RESOURCE_EXHAUSTED (tonic says OUT_OF_RANGE past its own limit).
pub fn stream_status(s: Status) -> Status {
    match s.code() {
        Code::OutOfRange => {
            Status::resource_exhausted(format!("the message is too large: {}", s.message()))
        }
        _ => s,
    }
}

/// Keys a telephone can send: 1 to 32 of 0–9, * and #.
pub fn digits_in(d: &str) -> Result<(), Status> {
    let ok = !d.is_empty()
        && d.len() <= 32
        && d.bytes()
            .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#');
    if ok {
        Ok(())
    } else {
        Err(Status::invalid_argument(format!(
            "digits must be 1 to 32 keys of 0–9, * and # (got {} characters)",
            d.chars().count()
        )))
    }
}
