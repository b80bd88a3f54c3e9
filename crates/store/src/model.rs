//! What the store keeps: customers, interactions (call records), tickets (工单) and
//! agent accounts. Times are milliseconds since the Unix epoch (UTC); money is in fen
//! (分, 1/100 yuan). `Debug` of anything holding personal data masks it, so a record
//! can be logged as it is.

use crate::mask;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Milliseconds since the Unix epoch.
pub type Millis = u64;

/// One day in milliseconds.
pub const DAY_MS: Millis = 86_400_000;

pub use crate::incident::{
    IVR_REQUEST, Incident, IncidentChange, IncidentEdit, IncidentEnd, IncidentEvent, IncidentLink,
    IncidentMessage, IncidentResolution, IncidentStatus, NewIncident,
};
pub use hotline_catalog::{Segment, TicketKind};

/// Loyalty tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VipTier {
    /// No tier.
    None,
    /// 银卡.
    Silver,
    /// 金卡.
    Gold,
    /// 钻石卡.
    Diamond,
}

/// Kinds of service a customer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceKind {
    /// 固话.
    FixedLine,
    /// 宽带.
    Broadband,
    /// 手机.
    Mobile,
    /// IPTV.
    Iptv,
    /// Value-added service (彩铃, 天翼云盘 …).
    ValueAdded,
}

/// A service held since a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Which service.
    pub kind: ServiceKind,
    /// Product name, e.g. "200M 光宽带".
    pub product: String,
    /// Since when.
    pub since: Millis,
}

/// What the reports need of a customer — who, where, which segment, whose account —
/// kept beside the customer so that a report over many contacts need not read whole
/// customer records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerProfile {
    /// Name (in full: mask it where a person reads it).
    pub name: String,
    /// District (区县).
    pub district: String,
    /// 小区 / area.
    pub area: String,
    /// Public or key account.
    pub segment: Segment,
    /// Account manager's work number.
    pub account_manager: Option<String>,
}

impl Customer {
    /// The customer's profile.
    pub fn profile(&self) -> CustomerProfile {
        CustomerProfile {
            name: self.name.clone(),
            district: self.district.clone(),
            area: self.area.clone(),
            segment: self.segment,
            account_manager: self.account_manager.clone(),
        }
    }
}

/// A customer: descriptive, behavioural and relational data.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Store id (0 for a new customer; the store assigns one).
    pub id: u64,
    /// Full name.
    pub name: String,
    /// Phone numbers: 11-digit mobiles, fixed lines with area code ("0571-88881234").
    pub phones: Vec<String>,
    /// ID document number (居民身份证), masked whenever shown or logged.
    pub id_document: Option<String>,
    /// Street address.
    pub address: String,
    /// District (区/县).
    pub district: String,
    /// Residential area (小区).
    pub area: String,
    /// Segment.
    pub segment: Segment,
    /// Loyalty tier.
    pub vip_tier: VipTier,
    /// Enterprise group for key accounts.
    pub enterprise_group: Option<String>,
    /// The key account's account manager (大客户经理): an agent id.
    pub account_manager: Option<String>,
    /// Services held.
    pub services: Vec<Service>,
    /// ARPU this month, fen.
    pub arpu_fen: i64,
    /// ARPU of the last six months, oldest first, fen.
    pub arpu_history_fen: Vec<i64>,
    /// Account balance, fen.
    pub balance_fen: i64,
    /// Arrears (欠费), fen.
    pub arrears_fen: i64,
    /// Credit level 1 (lowest) – 5.
    pub credit_level: u8,
    /// Customer since.
    pub since: Millis,
    /// Free notes.
    pub notes: String,
    /// Tags ("投诉敏感", "政企" …).
    pub tags: Vec<String>,
}

impl fmt::Debug for Customer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Customer")
            .field("id", &self.id)
            .field("name", &mask::name(&self.name))
            .field(
                "phones",
                &self
                    .phones
                    .iter()
                    .map(|p| mask::phone(p))
                    .collect::<Vec<_>>(),
            )
            .field(
                "id_document",
                &self.id_document.as_deref().map(mask::id_document),
            )
            .field("district", &self.district)
            .field("segment", &self.segment)
            .field("vip_tier", &self.vip_tier)
            .field("account_manager", &self.account_manager)
            .field("services", &self.services.len())
            .finish_non_exhaustive()
    }
}

/// How an IVR self-service attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SelfService {
    /// Finished in the IVR (bill heard, ticket status heard, service ordered …).
    Completed(String),
    /// Tried, then asked for an agent.
    ToAgent(String),
}

impl SelfService {
    /// The service tried (its code, without the step an agent was asked at).
    pub fn service(&self) -> &str {
        match self {
            SelfService::Completed(s) => s,
            SelfService::ToAgent(s) => s.split(':').next().unwrap_or_default(),
        }
    }
}

pub use hotline_ivr::menu_route;

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallEnd {
    /// Answered and completed.
    Completed,
    /// Finished in the IVR.
    SelfService,
    /// Caller hung up waiting.
    Abandoned,
    /// Turned away (queue full, closed).
    Refused,
    /// Dropped by a fault.
    Dropped,
}

/// One call, written once when it ends (also IVR-only and abandoned calls).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interaction {
    /// Store id (0 when new).
    pub id: u64,
    /// The router's call id.
    pub call_id: u64,
    /// The customer, when known.
    pub customer: Option<u64>,
    /// Calling number.
    pub caller_number: String,
    /// Dialled number ("1000").
    pub dialled: String,
    /// Arrival.
    pub arrived: Millis,
    /// End of the IVR.
    pub ivr_ended: Option<Millis>,
    /// Entered a queue.
    pub queued: Option<Millis>,
    /// First offered to an agent.
    pub offered: Option<Millis>,
    /// Answered.
    pub answered: Option<Millis>,
    /// Ended.
    pub ended: Millis,
    /// IVR menu path, e.g. ["2", "2-1"].
    pub ivr_path: Vec<String>,
    /// Self-service outcome.
    pub self_service: Option<SelfService>,
    /// Queue name.
    pub queue: Option<String>,
    /// Agents who handled it, in order.
    pub agents: Vec<String>,
    /// Transfers.
    pub transfers: u16,
    /// Seconds waiting in queue.
    pub wait_s: u32,
    /// Seconds talking.
    pub talk_s: u32,
    /// Seconds on hold.
    pub hold_s: u32,
    /// Seconds of wrap-up.
    pub wrap_up_s: u32,
    /// How it ended.
    pub end: CallEnd,
    /// The disposition code ("answered", "ticket-opened" …, `assets/codes/codes.toml`;
    /// records written before the codes carry free text such as "ticket opened").
    pub disposition: Option<String>,
    /// Reason code, e.g. "fault.broadband"; FCR repeats are matched on it.
    pub reason: Option<String>,
    /// Agent notes.
    pub notes: String,
    /// Tickets opened or updated on this call.
    pub tickets: Vec<u64>,
    /// The agent marked "resolved at first contact".
    pub fcr_claimed: bool,
    /// Settled FCR: `Some(true)` claimed and no repeat within the window, `Some(false)`
    /// not claimed or a repeat came; `None` while the window is open (or no customer is
    /// known, so repeats cannot be seen).
    pub fcr_verified: Option<bool>,
    /// Post-call survey, 1–5.
    pub satisfaction: Option<u8>,
    /// Each offer of the call to an agent and what came of it, in order: ring-no-answer
    /// and rejects, an agent lost while ringing or talking (the call went back to the
    /// head of its queue), transfers. Kept beside the record (not in its encoding, so
    /// records written before legs existed read as they are); an interaction read by id
    /// or call id carries them, lists do not.
    #[serde(skip)]
    pub legs: Vec<CallLeg>,
}

/// An interaction and its legs as one JSON object — the record's fields and `legs` —,
/// the form of the JSON-lines export and backup, the router's spool and dead letters
/// (the record's own encoding leaves the legs out: the store keeps them beside it). A
/// line without `legs`, written before legs were kept, reads with none.
#[derive(Serialize, Deserialize)]
struct WithLegs<R, L> {
    #[serde(flatten)]
    record: R,
    #[serde(default)]
    legs: L,
}

impl Interaction {
    /// The record with its legs as one line of JSON.
    pub fn to_json_line(&self) -> String {
        let line = WithLegs {
            record: self,
            legs: &self.legs,
        };
        serde_json::to_string(&line).unwrap_or_default()
    }

    /// A record with its legs from [`Interaction::to_json_line`]'s form.
    pub fn from_json_line(text: &str) -> Result<Interaction, serde_json::Error> {
        let WithLegs::<Interaction, Vec<CallLeg>> { mut record, legs } =
            serde_json::from_str(text)?;
        record.legs = legs;
        Ok(record)
    }

    /// What a list of contacts shows of it (the screen pop, the FCR repeat search).
    pub fn line(&self) -> InteractionLine {
        InteractionLine {
            id: self.id,
            arrived: self.arrived,
            reason: self.reason.clone(),
            disposition: self.disposition.clone(),
            agent: self.agents.first().cloned(),
            fcr_claimed: self.fcr_claimed,
            fcr_verified: self.fcr_verified,
        }
    }
}

/// One offer of a call to an agent, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallLeg {
    /// The agent it rang at (work number).
    pub agent: String,
    /// The queue it came from.
    pub queue: String,
    /// When it started ringing.
    pub offered: Millis,
    /// When the agent answered.
    pub answered: Option<Millis>,
    /// When the leg ended (offer withdrawn, conversation over, transferred, dropped).
    pub ended: Option<Millis>,
    /// What came of it.
    pub outcome: LegOutcome,
}

/// How a leg of a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LegOutcome {
    /// Answered and talked to the end of the conversation.
    Handled,
    /// The caller hung up while it rang.
    CallerHungUp,
    /// Ring-no-answer: back to the head of the queue.
    NoAnswer,
    /// The agent rejected it: back to the head of the queue.
    Rejected,
    /// The agent was logged out or lost their connection: back to the head of the queue.
    AgentLost,
    /// The agent transferred it.
    Transferred,
    /// The router stopped during the leg.
    Dropped,
}

impl fmt::Debug for Interaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interaction")
            .field("id", &self.id)
            .field("call_id", &self.call_id)
            .field("customer", &self.customer)
            .field("caller_number", &mask::phone(&self.caller_number))
            .field("arrived", &self.arrived)
            .field("end", &self.end)
            .field("reason", &self.reason)
            .field("agents", &self.agents)
            .field("fcr", &(self.fcr_claimed, self.fcr_verified))
            .finish_non_exhaustive()
    }
}

/// Urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TicketPriority {
    /// Low.
    Low,
    /// Normal.
    Normal,
    /// High.
    High,
    /// Urgent.
    Urgent,
}

/// The closed loop (闭环) of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TicketStatus {
    /// Taken by the front office.
    New = 0,
    /// Sent to a back-office group.
    Dispatched = 1,
    /// Being worked on.
    InProgress = 2,
    /// Work done; the customer is to be called back.
    Resolved = 3,
    /// Customer called back (回访) with a satisfaction score.
    CalledBack = 4,
    /// Closed.
    Closed = 5,
    /// Reopened after resolution or closure.
    Reopened = 6,
}

impl TicketStatus {
    /// Every status.
    pub const ALL: [TicketStatus; 7] = [
        TicketStatus::New,
        TicketStatus::Dispatched,
        TicketStatus::InProgress,
        TicketStatus::Resolved,
        TicketStatus::CalledBack,
        TicketStatus::Closed,
        TicketStatus::Reopened,
    ];

    /// Work still to do (counts toward overdue).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            TicketStatus::New
                | TicketStatus::Dispatched
                | TicketStatus::InProgress
                | TicketStatus::Reopened
        )
    }

    pub(crate) fn byte(self) -> u8 {
        self as u8
    }
}

/// A change to a ticket, as an agent or back office asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TicketChange {
    /// Send to a back-office group.
    Dispatch {
        /// Group, e.g. "装维 repair crew".
        group: String,
    },
    /// Work starts.
    Start,
    /// Work is done (records written before resolution codes; a resolution now names
    /// its code: [`TicketChange::Resolution`]).
    Resolve {
        /// What was done.
        note: String,
    },
    /// The customer was called back.
    CallBack {
        /// Satisfaction 1–5.
        satisfaction: u8,
    },
    /// Close the loop.
    Close,
    /// Reopen.
    Reopen {
        /// Why.
        reason: String,
    },
    /// Add a note (any status).
    Note {
        /// The note.
        text: String,
    },
    /// Change the priority.
    SetPriority {
        /// New priority.
        priority: TicketPriority,
    },
    /// Work is done, how (a resolution code of the categories file) and what was done.
    Resolution {
        /// Resolution code (`repaired`).
        code: String,
        /// What was done.
        note: String,
    },
    /// A call-back attempt nobody answered (the ticket stays resolved).
    NoAnswer {
        /// Which attempt (1, 2, …).
        attempt: u32,
    },
    /// Closed without reaching the customer, after this many call-back attempts.
    Unreachable {
        /// Attempts made.
        attempts: u32,
    },
    /// Linked to an area incident (区域障碍) open when it was opened: ending the incident
    /// resolves it.
    Linked {
        /// The incident.
        incident: u64,
    },
}

impl TicketChange {
    /// The back office's resolution (with its code, or the older code-less one).
    pub fn is_resolution(&self) -> bool {
        matches!(
            self,
            TicketChange::Resolution { .. } | TicketChange::Resolve { .. }
        )
    }
}

/// One entry of a ticket's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketEvent {
    /// When.
    pub at: Millis,
    /// Who (agent id, or "system").
    pub by: String,
    /// What.
    pub change: TicketChange,
    /// Status after the change.
    pub status: TicketStatus,
}

/// A ticket (工单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Ticket number.
    pub id: u64,
    /// Customer.
    pub customer: u64,
    /// Type.
    pub kind: TicketKind,
    /// Subcategory id from the categories file.
    pub subcategory: String,
    /// What the customer reported.
    pub description: String,
    /// Priority.
    pub priority: TicketPriority,
    /// Status.
    pub status: TicketStatus,
    /// The agent who first took it (首问负责): owner through the whole loop.
    pub owner: String,
    /// Back-office group working on it.
    pub back_office: Option<String>,
    /// Created.
    pub created: Millis,
    /// Due.
    pub deadline: Millis,
    /// Satisfaction at the callback, 1–5.
    pub satisfaction: Option<u8>,
    /// Every change: who, when, what.
    pub history: Vec<TicketEvent>,
}

impl Ticket {
    /// What a list of tickets shows of it (the screen pop).
    pub fn line(&self) -> TicketLine {
        TicketLine {
            id: self.id,
            kind: self.kind,
            subcategory: self.subcategory.clone(),
            status: self.status,
            deadline: self.deadline,
            owner: self.owner.clone(),
        }
    }

    /// Past its deadline with work still to do.
    pub fn is_overdue(&self, now: Millis) -> bool {
        self.status.is_open() && now > self.deadline
    }

    /// Who in the back office took it: the last to start work on it.
    pub fn taken_by(&self) -> Option<&str> {
        self.history
            .iter()
            .rev()
            .find(|e| matches!(e.change, TicketChange::Start))
            .map(|e| e.by.as_str())
    }

    /// The latest note or resolution by someone other than the owner (what the owner's
    /// "my tickets" shows of the back office's work).
    pub fn latest_note(&self) -> Option<&str> {
        self.history.iter().rev().find_map(|e| match &e.change {
            _ if e.by == self.owner => None,
            TicketChange::Note { text } => Some(text.as_str()),
            TicketChange::Resolution { note, .. } | TicketChange::Resolve { note } => {
                Some(note.as_str())
            }
            _ => None,
        })
    }

    /// Whether it waits for its 回访 call-back: resolved, and the call-back attempt to
    /// make next (1 after the resolution, one more after each no answer since).
    pub fn call_back_attempt(&self) -> Option<u32> {
        if self.status != TicketStatus::Resolved {
            return None;
        }
        let since = self
            .history
            .iter()
            .rposition(|e| e.change.is_resolution())?;
        let no_answers = self.history[since..]
            .iter()
            .filter(|e| matches!(e.change, TicketChange::NoAnswer { .. }))
            .count();
        Some(no_answers as u32 + 1)
    }

    /// Whether its latest change is a resolution (the moment a call-back falls due).
    pub fn just_resolved(&self) -> bool {
        self.status == TicketStatus::Resolved
            && self
                .history
                .last()
                .is_some_and(|e| e.change.is_resolution())
    }

    /// The area incident it is linked to.
    pub fn incident(&self) -> Option<u64> {
        self.history.iter().find_map(|e| match e.change {
            TicketChange::Linked { incident } => Some(incident),
            _ => None,
        })
    }

    /// The resolution code of its latest resolution.
    pub fn resolution(&self) -> Option<&str> {
        self.history.iter().rev().find_map(|e| match &e.change {
            TicketChange::Resolution { code, .. } => Some(code.as_str()),
            _ => None,
        })
    }
}

/// A new ticket as the front office opens it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTicket {
    /// Customer.
    pub customer: u64,
    /// Type.
    pub kind: TicketKind,
    /// Subcategory id.
    pub subcategory: String,
    /// Description.
    pub description: String,
    /// Priority.
    pub priority: TicketPriority,
}

/// Role of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// 坐席.
    Agent,
    /// 班长 / 值班长.
    Supervisor,
    /// Administrator.
    Admin,
    /// 后台: works the tickets of the back-office group(s) named in the account's groups.
    BackOffice,
}

/// An agent's account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentAccount {
    /// Work number (工号), the login id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Skill name → level 1–10.
    pub skills: Vec<(String, u8)>,
    /// Groups.
    pub groups: Vec<String>,
    /// Argon2id hash in PHC string form.
    pub password_hash: String,
}

impl fmt::Debug for AgentAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentAccount")
            .field("id", &self.id)
            .field("name", &mask::name(&self.name))
            .field("role", &self.role)
            .field("skills", &self.skills)
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

/// A short line about a ticket, kept in the customer's ticket index so a screen pop
/// needs no further reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketLine {
    /// Ticket number.
    pub id: u64,
    /// Type.
    pub kind: TicketKind,
    /// Subcategory.
    pub subcategory: String,
    /// Status.
    pub status: TicketStatus,
    /// Due.
    pub deadline: Millis,
    /// Owner.
    pub owner: String,
}

/// A short line about an interaction for the screen pop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionLine {
    /// Interaction id.
    pub id: u64,
    /// When the call arrived.
    pub arrived: Millis,
    /// Reason code.
    pub reason: Option<String>,
    /// Disposition.
    pub disposition: Option<String>,
    /// First agent.
    pub agent: Option<String>,
    /// FCR claimed and verified.
    pub fcr_claimed: bool,
    /// Verified FCR, once settled.
    pub fcr_verified: Option<bool>,
}

/// What the agent's screen shows when a call is offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreenPop {
    /// The customer.
    pub customer: Customer,
    /// Open tickets (and how overdue they are is for the caller to judge against now).
    pub open_tickets: Vec<TicketLine>,
    /// The last interactions, newest first.
    pub recent: Vec<InteractionLine>,
}

/// A record the router accepted but could not store, kept so nothing acknowledged is
/// lost: `hotline store check` reports them, and the record can be put back from
/// `record` once the cause is fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// When it was set aside (ms since the epoch).
    pub at: Millis,
    /// What it is ("interaction").
    pub kind: String,
    /// Why the store refused it, in words.
    pub error: String,
    /// The record, as JSON.
    pub record: String,
}

/// A session token the router issued, kept so that a restart of the router does not log
/// every agent out (their desktops resume with the token, no password check). Only a
/// digest of the token is stored, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionToken {
    /// Digest of the token (hex).
    pub digest: String,
    /// Whose it is (work number).
    pub agent: String,
    /// Their role.
    pub role: Role,
    /// The language the login asked for (the contract's `Language` number), so a
    /// resumed session keeps its words.
    pub language: u8,
    /// When it was issued (ms since the epoch).
    pub issued: Millis,
    /// When it expires.
    pub expires: Millis,
}

/// A supervisor's or admin's action, kept in the audit trail: who did what to whom,
/// when, and the state before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When (ms since the epoch).
    pub at: Millis,
    /// Who (work number).
    pub by: String,
    /// What: "force-not-ready", "force-logout", "update-queue".
    pub action: String,
    /// To what: an agent's work number or a queue's name.
    pub target: String,
    /// The state before, in words.
    pub before: String,
    /// The state after, in words.
    pub after: String,
}

/// One closed statistics interval (15 minutes by default) of a queue or an agent, as the
/// router's routing engine counted it: the history that reports are made of. Its key is
/// its start, what it is of and whose; writing it again replaces it with itself, so a
/// retry never doubles one. An alarm raised on a queue is kept the same way, from when it
/// was raised (its start) to when it cleared (its end; the start while it is still
/// raised), written again when it clears.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalRecord {
    /// Start (ms since the epoch).
    pub start: Millis,
    /// End.
    pub end: Millis,
    /// The figures, of a queue or of an agent.
    pub figures: IntervalFigures,
}

/// What an interval counted (or, for an alarm, what it saw from raised to cleared).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum IntervalFigures {
    /// A queue's interval.
    Queue {
        /// Queue name.
        queue: String,
        /// The engine's counters (offered, answered, abandoned, within the threshold …).
        tally: hotline_acd::kpi::Tally,
        /// Busy time of the queue's agents, ms.
        busy_ms: u64,
        /// Staffed time of the queue's agents, ms.
        staffed_ms: u64,
        /// Calls waiting when it closed.
        waiting_at_end: u32,
        /// The service-level formula the queue reports (its SL is computed by it).
        formula: hotline_acd::kpi::ServiceLevelFormula,
        /// The queue's service-level threshold T, seconds.
        sl_seconds: u32,
    },
    /// An agent's interval as records written before holds, transfers and not-ready
    /// time by reason were counted hold it. Only ever read: the store upgrades it to
    /// [`IntervalFigures::Agent`] before handing it out.
    #[doc(hidden)]
    AgentBefore {
        /// Work number.
        agent: String,
        /// The counters of that time.
        tally: AgentTallyBefore,
    },
    /// An alarm on a queue's live figures: raised when a rule's threshold was crossed,
    /// cleared when the figure was back within it.
    Alarm {
        /// `queue/rule`: the queue and the rule's code (e.g. `fault/waiting-above`).
        subject: String,
        /// The threshold the rule had when it was raised.
        threshold: f64,
        /// The figure when it was raised.
        raised_at_value: f64,
        /// The worst the figure was while it stood.
        worst: f64,
        /// The figure when this record was written (at the raise, then at the clear).
        value: f64,
        /// It has cleared (at the record's end).
        cleared: bool,
    },
    /// An agent's interval.
    Agent {
        /// Work number.
        agent: String,
        /// The engine's counters (offers, answers, handle times, holds, transfers, time
        /// in each state and not ready by reason).
        tally: hotline_acd::stats::AgentTally,
    },
    /// The calls that left the IVR in an interval along one route or after one
    /// self-service.
    Ivr {
        /// By route or by service.
        by: IvrBy,
        /// The route (`welcome › bill`) or the service's code (`bill`).
        key: String,
        /// What became of them.
        tally: IvrTally,
    },
}

/// What an IVR interval is counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IvrBy {
    /// The route through the menus ([`menu_route`]).
    Path,
    /// The self-service tried.
    Service,
}

/// Calls leaving the IVR: finished there, sent to an agent, or gone without either.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IvrTally {
    /// Calls that left the IVR.
    pub calls: u64,
    /// Of them, finished in the IVR by a self-service (contained).
    pub contained: u64,
    /// Sent on to a queue.
    pub to_agent: u64,
    /// Hung up (or were hung up on) in the IVR without a service finished.
    pub hung_up: u64,
    /// Their time in the IVR, ms.
    pub ivr_ms: u64,
}

/// How a call left the IVR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IvrExit {
    /// Finished by a self-service.
    Contained,
    /// Sent to a queue.
    ToAgent,
    /// Hung up, or hung up on, with no service finished.
    HungUp,
}

impl IvrExit {
    /// How the call of `record` left the IVR, if it was in it.
    pub fn of(record: &Interaction) -> Option<IvrExit> {
        if record.ivr_path.is_empty() && record.self_service.is_none() {
            None
        } else if record.end == CallEnd::SelfService {
            Some(IvrExit::Contained)
        } else if record.queued.is_some() {
            Some(IvrExit::ToAgent)
        } else {
            Some(IvrExit::HungUp)
        }
    }
}

/// What a call leaving the IVR is counted under: its route, and the service it tried.
pub fn ivr_keys(path: &[String], self_service: Option<&SelfService>) -> Vec<(IvrBy, String)> {
    [
        Some((IvrBy::Path, menu_route(path))),
        self_service.map(|s| (IvrBy::Service, s.service().to_string())),
    ]
    .into_iter()
    .flatten()
    .collect()
}

impl IvrTally {
    /// Count a call that left the IVR after `ivr_ms` there.
    pub fn count(&mut self, exit: IvrExit, ivr_ms: u64) {
        self.calls += 1;
        self.contained += u64::from(exit == IvrExit::Contained);
        self.to_agent += u64::from(exit == IvrExit::ToAgent);
        self.hung_up += u64::from(exit == IvrExit::HungUp);
        self.ivr_ms += ivr_ms;
    }

    /// Add another's counts.
    pub fn merge(&mut self, o: &IvrTally) {
        self.calls += o.calls;
        self.contained += o.contained;
        self.to_agent += o.to_agent;
        self.hung_up += o.hung_up;
        self.ivr_ms += o.ivr_ms;
    }
}

/// An agent's counters as the records of [`IntervalFigures::AgentBefore`] hold them: a
/// frozen shape, never changed.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentTallyBefore {
    offers: u64,
    answered: u64,
    rejected: u64,
    no_answer: u64,
    handled: u64,
    talk: hotline_acd::Span,
    hold: hotline_acd::Span,
    wrap_up: hotline_acd::Span,
    time_in_state: [hotline_acd::Span; 6],
}

impl IntervalFigures {
    /// The figures in today's shape (an agent's interval of an earlier shape with no
    /// holds, transfers or reasons counted).
    pub fn upgraded(self) -> IntervalFigures {
        match self {
            IntervalFigures::AgentBefore { agent, tally: t } => IntervalFigures::Agent {
                agent,
                tally: hotline_acd::stats::AgentTally {
                    offers: t.offers,
                    answered: t.answered,
                    rejected: t.rejected,
                    no_answer: t.no_answer,
                    handled: t.handled,
                    talk: t.talk,
                    hold: t.hold,
                    wrap_up: t.wrap_up,
                    time_in_state: t.time_in_state,
                    ..Default::default()
                },
            },
            f => f,
        }
    }
}

impl IntervalRecord {
    /// The record with its figures in today's shape (see [`IntervalFigures::upgraded`]).
    pub fn upgraded(self) -> IntervalRecord {
        IntervalRecord {
            figures: self.figures.upgraded(),
            ..self
        }
    }

    /// What it is of (0 a queue, 1 an agent, 2 an alarm, 3 an IVR route, 4 an IVR
    /// service) and whose: with the start, its key.
    pub fn subject(&self) -> (u8, &str) {
        match &self.figures {
            IntervalFigures::Queue { queue, .. } => (0, queue),
            IntervalFigures::Agent { agent, .. } | IntervalFigures::AgentBefore { agent, .. } => {
                (1, agent)
            }
            IntervalFigures::Alarm { subject, .. } => (2, subject),
            IntervalFigures::Ivr { by, key, .. } => match by {
                IvrBy::Path => (3, key),
                IvrBy::Service => (4, key),
            },
        }
    }
}
