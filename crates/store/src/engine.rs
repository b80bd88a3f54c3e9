//! The storage engine under the store: it keeps records and their indexes, reads them
//! back by key and index, scans them in pages, and commits a set of writes atomically
//! and durably. It knows no business rule — validation, the ticket loop, FCR, ids'
//! meaning and passwords live above it, in [`crate::Store`] — so every engine gets
//! them the same.
//!
//! An engine keeps for each record the indexes the store's queries need (a customer's
//! phones, unique across customers, and name and manager; a ticket's customer, status,
//! owner and, while open, deadline; an interaction's customer, agents, arrival, call id
//! and, while its FCR is unsettled, its place in the settling queue), written in the
//! same commit as the record.

use crate::CheckReport;
use crate::error::StoreError;
use crate::model::*;

/// What an id numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// Customers.
    Customer,
    /// Tickets (the 工单 number).
    Ticket,
    /// Interactions (call records).
    Interaction,
    /// Area incidents.
    Incident,
}

impl IdKind {
    /// The three kinds.
    pub const ALL: [IdKind; 4] = [
        IdKind::Customer,
        IdKind::Ticket,
        IdKind::Interaction,
        IdKind::Incident,
    ];

    /// Position in per-kind arrays.
    pub fn slot(self) -> usize {
        match self {
            IdKind::Customer => 0,
            IdKind::Ticket => 1,
            IdKind::Interaction => 2,
            IdKind::Incident => 3,
        }
    }
}

/// One record a commit writes, replacing the record of that id (and its index entries)
/// if there is one.
#[derive(Debug, Clone)]
pub enum Put {
    /// A customer; refused with [`StoreError::PhoneTaken`] if one of its numbers belongs
    /// to another customer.
    Customer(Customer),
    /// A ticket.
    Ticket(Ticket),
    /// An interaction with its legs.
    Interaction(Interaction),
    /// An agent account (its password already hashed).
    Agent(AgentAccount),
    /// A session token.
    SessionToken(SessionToken),
    /// An audit-trail entry (appended).
    Audit(AuditEntry),
    /// A closed statistics interval (replaces one with the same start and subject).
    Interval(IntervalRecord),
    /// A dead letter (appended).
    DeadLetter(DeadLetter),
    /// An area incident.
    Incident(Incident),
    /// A ticket linked to an incident (replaces the same incident and ticket's).
    IncidentLink(IncidentLink),
}

/// Records a commit removes, before it writes its puts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remove {
    /// An agent's session tokens issued before a time.
    SessionTokens {
        /// The agent.
        agent: String,
        /// Tokens issued before this are removed.
        issued_before: Millis,
    },
}

/// What must still hold when a commit applies: the store read a record, decided, and
/// writes on the condition that nobody changed it meanwhile. A commit whose condition
/// fails writes nothing and returns [`StoreError::Conflict`]; the store reads again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The ticket exists with this many history entries (every change adds one).
    Ticket {
        /// The ticket.
        id: u64,
        /// Its history's length when read.
        history: usize,
    },
    /// The interaction exists and its FCR is not settled.
    Unsettled {
        /// The interaction.
        id: u64,
    },
    /// The incident has this many history entries (0: it does not exist).
    Incident {
        /// The incident.
        id: u64,
        /// Its history's length when read.
        history: usize,
    },
}

/// One atomic, durable write.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    /// Conditions checked first.
    pub expect: Vec<Expect>,
    /// Removed next.
    pub remove: Vec<Remove>,
    /// Written last.
    pub put: Vec<Put>,
}

impl Commit {
    /// A commit of these records and nothing else.
    pub fn put(put: Vec<Put>) -> Commit {
        Commit {
            put,
            ..Commit::default()
        }
    }

    /// Only interval records (history), nothing expected, nothing removed.
    pub fn is_intervals_only(&self) -> bool {
        self.expect.is_empty()
            && self.remove.is_empty()
            && !self.put.is_empty()
            && self.put.iter().all(|p| matches!(p, Put::Interval(_)))
    }
}

/// A storage engine. Reads see every commit that has returned; a commit returns once it
/// is durable (on disk, or acknowledged by the database server).
pub trait Engine: Send + Sync {
    /// The engine and where it keeps the data, for messages (no password).
    fn describe(&self) -> String;

    /// A new id of `kind`, never handed out before and larger than every id of that kind
    /// this process stored or handed out. Processes sharing a store may interleave
    /// (PostgreSQL hands ids out in blocks), so ids order records within a process, not
    /// across processes.
    fn next_id(&self, kind: IdKind) -> Result<u64, StoreError>;
    /// `n` new ids of `kind` (bulk loads), in increasing order.
    fn reserve_ids(&self, kind: IdKind, n: u64) -> Result<Vec<u64>, StoreError>;
    /// Ids of `kind` handed out later continue after `id` (imports keep their ids).
    fn ids_after(&self, kind: IdKind, id: u64) -> Result<(), StoreError>;

    /// Apply `commit` atomically and durably.
    fn commit(&self, commit: Commit) -> Result<(), StoreError>;
    /// Write records in bulk (seeding, import): as fast as the engine can, not atomic
    /// as a whole and durable only after [`Engine::flush`]; `check` and
    /// `rebuild_indexes` repair a bulk load that was interrupted.
    fn load(&self, records: Vec<Put>) -> Result<(), StoreError>;
    /// Make everything written so far durable.
    fn flush(&self) -> Result<(), StoreError>;

    /// A customer by id.
    fn customer(&self, id: u64) -> Result<Option<Customer>, StoreError>;
    /// The customer owning a phone number.
    fn customer_by_phone(&self, phone: &str) -> Result<Option<Customer>, StoreError>;
    /// Customers whose name starts with `prefix`, by name.
    fn customers_by_name(&self, prefix: &str, limit: usize) -> Result<Vec<Customer>, StoreError>;
    /// Customers whose account manager is `agent`, by name.
    fn customers_of_manager(&self, agent: &str, limit: usize) -> Result<Vec<Customer>, StoreError>;

    /// A ticket by number.
    fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError>;
    /// A customer's tickets by number.
    fn tickets_of_customer(&self, customer: u64) -> Result<Vec<Ticket>, StoreError>;
    /// The lines of a customer's tickets that are not closed (the screen pop), by number.
    fn open_ticket_lines(&self, customer: u64) -> Result<Vec<TicketLine>, StoreError>;
    /// Tickets in a status, by number.
    fn tickets_by_status(
        &self,
        status: TicketStatus,
        limit: usize,
    ) -> Result<Vec<Ticket>, StoreError>;
    /// Tickets an agent owns, by number.
    fn tickets_of_owner(&self, owner: &str, limit: usize) -> Result<Vec<Ticket>, StoreError>;
    /// Open tickets whose deadline is before `before`, earliest deadline first.
    fn tickets_due_before(&self, before: Millis, limit: usize) -> Result<Vec<Ticket>, StoreError>;
    /// Open tickets dispatched to a back-office group (by the name stored in them), by
    /// deadline, soonest first.
    fn open_tickets_of_office(&self, group: &str, limit: usize) -> Result<Vec<Ticket>, StoreError>;

    /// An interaction with its legs.
    fn interaction(&self, id: u64) -> Result<Option<Interaction>, StoreError>;
    /// The interaction of a call id, with its legs.
    fn interaction_by_call(&self, call_id: u64) -> Result<Option<Interaction>, StoreError>;
    /// A customer's interactions, newest first.
    fn interactions_of_customer(
        &self,
        customer: u64,
        limit: usize,
    ) -> Result<Vec<Interaction>, StoreError>;
    /// The lines of a customer's interactions that arrived at `since` or later, newest
    /// first (the screen pop's recent contacts, the FCR repeat search).
    fn interaction_lines(
        &self,
        customer: u64,
        since: Millis,
        limit: usize,
    ) -> Result<Vec<InteractionLine>, StoreError>;
    /// An agent's interactions, newest first.
    fn interactions_of_agent(
        &self,
        agent: &str,
        limit: usize,
    ) -> Result<Vec<Interaction>, StoreError>;
    /// Interactions that arrived in [from, to), oldest first.
    fn interactions_between(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<Interaction>, StoreError>;
    /// Interactions of a known customer whose FCR is unsettled and that arrived before
    /// `before`, oldest first.
    fn unsettled_before(&self, before: Millis, limit: usize) -> Result<Vec<u64>, StoreError>;

    /// An agent account.
    fn agent(&self, id: &str) -> Result<Option<AgentAccount>, StoreError>;
    /// Every agent account, by id.
    fn agents(&self) -> Result<Vec<AgentAccount>, StoreError>;
    /// Every session token.
    fn session_tokens(&self) -> Result<Vec<SessionToken>, StoreError>;
    /// The audit trail in [from, to), oldest first.
    fn audit_trail(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// Dead letters, oldest first.
    fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError>;
    /// Closed statistics intervals starting in [from, to), by start, then queues before
    /// agents, then by name.
    fn intervals(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<IntervalRecord>, StoreError>;

    /// An area incident by number.
    fn incident(&self, id: u64) -> Result<Option<Incident>, StoreError>;
    /// Incidents with numbers above `after`, by number.
    fn incidents_after(&self, after: u64, limit: usize) -> Result<Vec<Incident>, StoreError>;
    /// The incidents still open, by number (few: read whole).
    fn open_incidents(&self) -> Result<Vec<Incident>, StoreError>;
    /// The tickets linked to an incident with numbers above `after`, by ticket number.
    fn incident_links(
        &self,
        incident: u64,
        after: u64,
        limit: usize,
    ) -> Result<Vec<IncidentLink>, StoreError>;

    /// Customers with ids above `after`, by id (a page of a scan).
    fn customers_after(&self, after: u64, limit: usize) -> Result<Vec<Customer>, StoreError>;
    /// The profile of customer `id` (by default read from the whole record).
    fn customer_profile(&self, id: u64) -> Result<Option<CustomerProfile>, StoreError> {
        Ok(self.customer(id)?.map(|c| c.profile()))
    }
    /// Customers' profiles with ids above `after`, by id (a page of a scan; by default
    /// read from the whole records).
    fn customer_profiles_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, CustomerProfile)>, StoreError> {
        Ok(self
            .customers_after(after, limit)?
            .into_iter()
            .map(|c| (c.id, c.profile()))
            .collect())
    }
    /// How many customers live in each (district, 小区), kept as customers are written
    /// so that no report counts a million records for it.
    fn area_population(&self) -> Result<Vec<AreaPopulation>, StoreError>;
    /// Every key account (大客户) by id, with their account manager: the few customers a
    /// key-account or segment report singles out, in one small read.
    fn key_accounts(&self) -> Result<Vec<(u64, Option<String>)>, StoreError>;
    /// Tickets with numbers above `after`, by number.
    fn tickets_after(&self, after: u64, limit: usize) -> Result<Vec<Ticket>, StoreError>;
    /// Interactions (with legs) with ids above `after`, by id.
    fn interactions_after(&self, after: u64, limit: usize) -> Result<Vec<Interaction>, StoreError>;

    /// Check records and indexes.
    fn check(&self) -> Result<CheckReport, StoreError>;
    /// Recompute every index from the records.
    fn rebuild_indexes(&self) -> Result<CheckReport, StoreError>;
    /// Bytes the store takes on disk.
    fn size_on_disk(&self) -> Result<u64, StoreError>;
    /// Durable flushes (group commits, transactions) so far.
    fn flushes(&self) -> u64;

    /// Whether the engine's last attempt to reach its data failed for want of a
    /// connection. An embedded engine is always [`Health::Up`].
    fn health(&self) -> Health {
        Health::Up
    }
    /// Reach the data once (a round trip to a database server), updating
    /// [`Engine::health`].
    fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The customers of one (district, 小区).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AreaPopulation {
    /// District (区县).
    pub district: String,
    /// 小区 / area.
    pub area: String,
    /// Customers living there.
    pub customers: u64,
}

/// Whether the store can be reached.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Health {
    /// Its last request was answered.
    #[default]
    Up,
    /// Requests fail for want of a connection.
    Degraded {
        /// Since when (the first failure of this spell).
        since: Millis,
        /// The last failure, in words (no password).
        reason: String,
    },
}
