//! Area incidents (区域障碍): a line or a cell down in one 小区, declared by a supervisor
//! (or by the router's stricter rule) while callers from there flood the hotline. While
//! an incident is open, a fault ticket opened for a customer of its area is linked to it
//! instead of standing alone, and a caller who asks in the IVR to be told when it is
//! fixed gets such a linked ticket too; ending the incident resolves every linked ticket
//! still open with the incident's resolution (each keeps its history), and the
//! resolution is what makes each one's 回访 call-back due.
//!
//! The rules here are the store's, above the engines: an engine keeps the incident
//! record and its links (a link per ticket, so a surge of tickets never contends for
//! the incident's record) and nothing else.

use crate::engine::{Commit, Expect, IdKind, Put};
use crate::error::StoreError;
use crate::model::*;
use crate::store::{SYSTEM, Store, retried};
use crate::validate;
use serde::{Deserialize, Serialize};

/// Whether an incident is still being worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IncidentStatus {
    /// Declared and not yet fixed: callers of its area hear about it, fault tickets of
    /// its area are linked to it.
    Open,
    /// Fixed; its linked tickets are resolved.
    Ended,
}

/// What callers of the area hear, in both languages of the hotline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentMessage {
    /// Chinese (zh-CN).
    pub zh: String,
    /// English.
    pub en: String,
}

/// How an ended incident was fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentResolution {
    /// Resolution code of the catalog (`repaired`), given to every linked ticket.
    pub code: String,
    /// What was done.
    pub note: String,
}

/// A change in an incident's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IncidentChange {
    /// Declared (by a supervisor, or by the router's rule).
    Declared,
    /// The expected restore time or the message changed: before → after, in words.
    Edited {
        /// What changed, in words.
        what: String,
    },
    /// Fixed.
    Ended {
        /// The resolution code.
        code: String,
    },
}

/// One entry of an incident's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentEvent {
    /// When.
    pub at: Millis,
    /// Who (a supervisor's work number, or "system" for the router's rule).
    pub by: String,
    /// What.
    pub change: IncidentChange,
}

/// An area incident (区域障碍).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Incident number.
    pub id: u64,
    /// District (区/县).
    pub district: String,
    /// 小区 / area.
    pub area: String,
    /// What is down: a fault subcategory of the catalog (`broadband-down`).
    pub kind: String,
    /// What callers of the area hear.
    pub message: IncidentMessage,
    /// When the outage began (the first fault call of the surge, or the declaration).
    pub started: Millis,
    /// When service is expected back.
    pub expected_restore: Millis,
    /// When it was declared.
    pub declared: Millis,
    /// Who declared it.
    pub declared_by: String,
    /// Declared by the router's stricter rule rather than by a person.
    pub automatic: bool,
    /// Open or ended.
    pub status: IncidentStatus,
    /// When it was ended.
    pub ended: Option<Millis>,
    /// How it was fixed (set when it ends).
    pub resolution: Option<IncidentResolution>,
    /// Every change: who, when, what.
    pub history: Vec<IncidentEvent>,
}

impl Incident {
    /// Whether it is still open.
    pub fn is_open(&self) -> bool {
        self.status == IncidentStatus::Open
    }

    /// Whether it is the incident of this (district, 小区).
    pub fn covers(&self, district: &str, area: &str) -> bool {
        self.district == district && self.area == area
    }
}

/// An incident as a supervisor declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncident {
    /// District.
    pub district: String,
    /// 小区 / area.
    pub area: String,
    /// A fault subcategory (`broadband-down`).
    pub kind: String,
    /// When the outage began; `None`: now.
    pub started: Option<Millis>,
    /// When service is expected back (after the start).
    pub expected_restore: Millis,
    /// What callers hear, both languages.
    pub message: IncidentMessage,
    /// Declared by the router's rule.
    pub automatic: bool,
}

/// A change a supervisor makes to an open incident; `None` keeps a field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IncidentEdit {
    /// A new expected restore time.
    pub expected_restore: Option<Millis>,
    /// A new message.
    pub message: Option<IncidentMessage>,
}

/// A ticket linked to an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentLink {
    /// The incident.
    pub incident: u64,
    /// The ticket.
    pub ticket: u64,
    /// The ticket's customer.
    pub customer: u64,
    /// When it was linked.
    pub at: Millis,
    /// The customer asked in the IVR to be told when it is fixed (the ticket was opened
    /// for that); otherwise an agent or the self-service fault report opened it.
    pub asked_to_be_told: bool,
}

/// What ending an incident did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentEnd {
    /// The incident, ended.
    pub incident: Incident,
    /// Linked tickets resolved now (each one's call-back falls due).
    pub resolved: Vec<u64>,
}

/// Who asks in the IVR to be told (the owner of the tickets the request opens).
pub const IVR_REQUEST: &str = "ivr";

fn invalid(field: &'static str, why: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        why: why.into(),
    }
}

fn message_ok(m: &IncidentMessage) -> Result<(), StoreError> {
    for (field, text) in [("message_zh", &m.zh), ("message_en", &m.en)] {
        if text.trim().is_empty() {
            return Err(invalid(
                field,
                "is empty: callers hear an incident's message in Chinese and in English",
            ));
        }
        validate::change_text(field, text)?;
    }
    Ok(())
}

impl Store {
    /// Declare an incident for an area. Refused for an area where no customer lives, a
    /// kind that is not a fault subcategory, a restore time not after the start, a start
    /// in the future, a message missing a language, or while an incident of that kind
    /// is open for that area ([`StoreError::Exists`]).
    pub fn declare_incident(
        &self,
        new: NewIncident,
        by: &str,
        now: Millis,
    ) -> Result<Incident, StoreError> {
        let started = new.started.unwrap_or(now);
        if started > now {
            return Err(invalid("started", "is in the future"));
        }
        restore_after(started, new.expected_restore)?;
        message_ok(&new.message)?;
        self.catalog().check(TicketKind::Fault, &new.kind)?;
        let known = self
            .engine()
            .area_population()?
            .iter()
            .any(|p| p.district == new.district && p.area == new.area);
        if !known {
            return Err(StoreError::NotFound {
                what: "area (no customer lives in it)",
                id: format!("{} {}", new.district, new.area),
            });
        }
        // one declaration at a time in this process; PostgreSQL's unique index on open
        // incidents covers routers sharing a database
        let _one = self
            .incident_lock()
            .lock()
            .map_err(|_| StoreError::Database("an earlier declaration failed half-way".into()))?;
        if let Some(open) = self
            .open_incidents()?
            .iter()
            .find(|i| i.covers(&new.district, &new.area) && i.kind == new.kind)
        {
            return Err(StoreError::Exists(format!(
                "incident {} ({}) is already open for {} {}; edit or end it",
                open.id, open.kind, open.district, open.area
            )));
        }
        let incident = Incident {
            id: self.engine().next_id(IdKind::Incident)?,
            district: new.district,
            area: new.area,
            kind: new.kind,
            message: new.message,
            started,
            expected_restore: new.expected_restore,
            declared: now,
            declared_by: by.to_string(),
            automatic: new.automatic,
            status: IncidentStatus::Open,
            ended: None,
            resolution: None,
            history: vec![IncidentEvent {
                at: now,
                by: by.to_string(),
                change: IncidentChange::Declared,
            }],
        };
        self.write_incident(&incident, 0, "declare-incident", "none", "open")?;
        Ok(incident)
    }

    /// Write `i` (read with `history` entries; 0: new) and its audit entry — the change
    /// its last history entry made, `before` → `after` — in one commit.
    fn write_incident(
        &self,
        i: &Incident,
        history: usize,
        action: &str,
        before: &str,
        after: &str,
    ) -> Result<(), StoreError> {
        let last = i
            .history
            .last()
            .expect("an incident has at least its declaration");
        let audit = Put::Audit(AuditEntry {
            at: last.at,
            by: last.by.clone(),
            action: action.into(),
            target: format!("incident {} {} {} {}", i.id, i.district, i.area, i.kind),
            before: before.into(),
            after: after.into(),
        });
        self.engine().commit(Commit {
            expect: vec![Expect::Incident { id: i.id, history }],
            put: vec![Put::Incident(i.clone()), audit],
            ..Commit::default()
        })
    }

    /// Change an open incident's expected restore time or message.
    pub fn edit_incident(
        &self,
        id: u64,
        edit: IncidentEdit,
        by: &str,
        now: Millis,
    ) -> Result<Incident, StoreError> {
        if let Some(m) = &edit.message {
            message_ok(m)?;
        }
        if edit.expected_restore.is_none() && edit.message.is_none() {
            return Err(invalid(
                "edit",
                "changes nothing: give a restore time or a message",
            ));
        }
        retried(|| {
            let mut i = self.open_incident(id)?;
            let history = i.history.len();
            let mut what = Vec::new();
            if let Some(at) = edit.expected_restore {
                restore_after(i.started, at)?;
                let minutes = at.abs_diff(i.expected_restore).div_ceil(60_000);
                let way = if at >= i.expected_restore {
                    "later"
                } else {
                    "earlier"
                };
                what.push(format!("expected restore {minutes} min {way}"));
                i.expected_restore = at;
            }
            if let Some(m) = &edit.message {
                what.push("message".to_string());
                i.message = m.clone();
            }
            let what = what.join(", ");
            i.history.push(IncidentEvent {
                at: now,
                by: by.to_string(),
                change: IncidentChange::Edited { what: what.clone() },
            });
            self.write_incident(&i, history, "edit-incident", "open", &what)?;
            Ok(i)
        })
    }

    /// End an incident: it is fixed. Every linked ticket still open is resolved with
    /// `code` and `note` (its call-back then falls due). Ending an incident that has
    /// ended already resolves what a break left open, and changes nothing else.
    pub fn end_incident(
        &self,
        id: u64,
        code: &str,
        note: &str,
        by: &str,
        now: Millis,
    ) -> Result<IncidentEnd, StoreError> {
        self.catalog().check_resolution(code)?;
        let fits = self
            .catalog()
            .kind(TicketKind::Fault)
            .resolutions
            .iter()
            .any(|r| r == code);
        if !fits {
            return Err(invalid(
                "resolution",
                format!("'{code}' is not a resolution of fault tickets"),
            ));
        }
        validate::change_text("note", note)?;
        if note.trim().is_empty() {
            return Err(invalid("note", "is empty: say what was done"));
        }
        let incident = retried(|| {
            let Some(mut i) = self.engine().incident(id)? else {
                return Err(StoreError::NotFound {
                    what: "incident",
                    id: id.to_string(),
                });
            };
            if !i.is_open() {
                return Ok(i);
            }
            if now < i.declared {
                return Err(invalid("end", "is before the incident was declared"));
            }
            let history = i.history.len();
            i.status = IncidentStatus::Ended;
            i.ended = Some(now);
            i.resolution = Some(IncidentResolution {
                code: code.to_string(),
                note: note.to_string(),
            });
            i.history.push(IncidentEvent {
                at: now,
                by: by.to_string(),
                change: IncidentChange::Ended {
                    code: code.to_string(),
                },
            });
            self.write_incident(&i, history, "end-incident", "open", "ended")?;
            Ok(i)
        })?;
        let resolved = self.resolve_linked(&incident, by, now)?;
        Ok(IncidentEnd { incident, resolved })
    }

    /// Resolve the open tickets linked to an ended incident with its resolution.
    fn resolve_linked(&self, i: &Incident, by: &str, now: Millis) -> Result<Vec<u64>, StoreError> {
        let Some(r) = &i.resolution else {
            return Ok(vec![]);
        };
        let change = TicketChange::Resolution {
            code: r.code.clone(),
            note: format!(
                "区域障碍 {} 已处理 (incident {} fixed): {}",
                i.id, i.id, r.note
            ),
        };
        let mut resolved = Vec::new();
        self.each_link(i.id, |link| {
            let open = self
                .engine()
                .ticket(link.ticket)?
                .is_some_and(|t| t.status.is_open());
            if open {
                self.update_ticket(link.ticket, change.clone(), by, now)?;
                resolved.push(link.ticket);
            }
            Ok(())
        })?;
        Ok(resolved)
    }

    /// Call `each` on every link of an incident, by ticket number, a page at a time.
    fn each_link(
        &self,
        incident: u64,
        each: impl FnMut(IncidentLink) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        crate::export::scan(
            |after, n| self.engine().incident_links(incident, after, n),
            |l| l.ticket,
            each,
        )
    }

    /// An incident by number.
    pub fn incident(&self, id: u64) -> Result<Option<Incident>, StoreError> {
        self.engine().incident(id)
    }

    /// Incidents, newest first: the open ones only, or all.
    pub fn incidents(&self, open_only: bool, limit: usize) -> Result<Vec<Incident>, StoreError> {
        let mut all = if open_only {
            self.engine().open_incidents()?
        } else {
            let mut all = Vec::new();
            crate::export::scan(
                |after, n| self.engine().incidents_after(after, n),
                |i| i.id,
                |i| {
                    all.push(i);
                    Ok(())
                },
            )?;
            all
        };
        all.sort_by_key(|i| std::cmp::Reverse(i.id));
        all.truncate(limit);
        Ok(all)
    }

    /// The open incidents (what the router tells callers and agents).
    pub fn open_incidents(&self) -> Result<Vec<Incident>, StoreError> {
        self.engine().open_incidents()
    }

    /// The tickets linked to an incident, by ticket number.
    pub fn incident_links(
        &self,
        incident: u64,
        limit: usize,
    ) -> Result<Vec<IncidentLink>, StoreError> {
        self.engine().incident_links(incident, 0, limit)
    }

    /// How many tickets are linked to an incident, and of them how many customers asked
    /// to be told.
    pub fn incident_counts(&self, incident: u64) -> Result<(u64, u64), StoreError> {
        let mut asked = 0;
        let linked = self.each_link(incident, |l| {
            asked += u64::from(l.asked_to_be_told);
            Ok(())
        })?;
        Ok((linked, asked))
    }

    /// The open incident a customer of this area hears about: of that kind if one is
    /// open, else the earliest declared.
    pub fn open_incident_of(
        &self,
        district: &str,
        area: &str,
        kind: Option<&str>,
    ) -> Result<Option<Incident>, StoreError> {
        Ok(pick(self.open_incidents()?, district, area, kind))
    }

    /// A caller of the incident's area asked in the IVR to be told when it is fixed:
    /// a fault ticket of the incident's kind is opened for them, linked to it (asking
    /// again while it is open returns the same ticket).
    pub fn ask_to_be_told(
        &self,
        incident: u64,
        customer: u64,
        now: Millis,
    ) -> Result<Ticket, StoreError> {
        let i = self.open_incident(incident)?;
        let mut theirs = None;
        self.each_link(incident, |l| {
            if theirs.is_none() && l.customer == customer {
                theirs = Some(l.ticket);
            }
            Ok(())
        })?;
        if let Some(t) = theirs
            .map(|id| self.engine().ticket(id))
            .transpose()?
            .flatten()
        {
            return Ok(t);
        }
        let new = NewTicket {
            customer,
            kind: TicketKind::Fault,
            subcategory: i.kind.clone(),
            description: format!(
                "IVR：区域障碍 {} 修复后请通知我 (tell me when incident {} is fixed)",
                i.id, i.id
            ),
            priority: TicketPriority::Normal,
        };
        let (district, area) = self.customer_area(customer)?;
        if !i.covers(&district, &area) {
            return Err(invalid(
                "customer",
                format!("does not live in incident {}'s area", i.id),
            ));
        }
        let mut t = self.opened_ticket(new, IVR_REQUEST, now)?;
        let link = link(&i, &mut t, now, true);
        self.engine()
            .commit(Commit::put(vec![Put::Ticket(t.clone()), link]))?;
        self.tell(std::slice::from_ref(&t));
        Ok(t)
    }

    /// Link each fault ticket being opened for a customer of an open incident's area to
    /// that incident: its history says so, and the link goes in the same commit.
    pub(crate) fn link_opened(
        &self,
        opened: &mut [Ticket],
        now: Millis,
    ) -> Result<Vec<Put>, StoreError> {
        if !opened.iter().any(|t| t.kind == TicketKind::Fault) {
            return Ok(vec![]);
        }
        let open = self.open_incidents()?;
        if open.is_empty() {
            return Ok(vec![]);
        }
        let mut links = Vec::new();
        for t in opened.iter_mut().filter(|t| t.kind == TicketKind::Fault) {
            let (district, area) = self.customer_area(t.customer)?;
            if let Some(i) = pick(open.clone(), &district, &area, Some(&t.subcategory)) {
                links.push(link(&i, t, now, false));
            }
        }
        Ok(links)
    }

    fn customer_area(&self, customer: u64) -> Result<(String, String), StoreError> {
        let p = self
            .engine()
            .customer_profile(customer)?
            .ok_or_else(|| StoreError::NotFound {
                what: "customer",
                id: customer.to_string(),
            })?;
        Ok((p.district, p.area))
    }

    fn open_incident(&self, id: u64) -> Result<Incident, StoreError> {
        match self.engine().incident(id)? {
            Some(i) if i.is_open() => Ok(i),
            Some(i) => Err(StoreError::Invalid {
                field: "incident",
                why: format!("incident {} has ended", i.id),
            }),
            None => Err(StoreError::NotFound {
                what: "incident",
                id: id.to_string(),
            }),
        }
    }
}

/// The open incident of an area that a ticket or a caller belongs to: of `kind` if one
/// is open, else the earliest declared.
fn pick(open: Vec<Incident>, district: &str, area: &str, kind: Option<&str>) -> Option<Incident> {
    let mut here: Vec<Incident> = open
        .into_iter()
        .filter(|i| i.is_open() && i.covers(district, area))
        .collect();
    here.sort_by_key(|i| i.id);
    match here.iter().position(|i| Some(i.kind.as_str()) == kind) {
        Some(k) => Some(here.swap_remove(k)),
        None => here.into_iter().next(),
    }
}

/// Mark `t` as linked to `i` and return the link to store with it.
fn link(i: &Incident, t: &mut Ticket, now: Millis, asked_to_be_told: bool) -> Put {
    t.history.push(TicketEvent {
        at: now,
        by: SYSTEM.into(),
        change: TicketChange::Linked { incident: i.id },
        status: t.status,
    });
    Put::IncidentLink(IncidentLink {
        incident: i.id,
        ticket: t.id,
        customer: t.customer,
        at: now,
        asked_to_be_told,
    })
}

/// Service cannot be back before it went.
fn restore_after(started: Millis, restore: Millis) -> Result<(), StoreError> {
    if restore <= started {
        return Err(invalid(
            "expected_restore",
            "is not after the outage's start: service cannot be back before it went",
        ));
    }
    Ok(())
}
