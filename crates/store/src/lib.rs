//! The customer store of the hotline: customers, interactions (call records), tickets
//! (工单) and agent accounts, on an embedded sled database behind a trait of our own
//! ([`Store`]), so another engine can be added without touching callers.
//!
//! * Every write the store acknowledges is on disk first; concurrent writers share
//!   flushes (group commit), so durability does not cost one flush per record.
//! * An entity and its index entries are written in one multi-tree transaction: after a
//!   crash every index agrees with the data ([`Store::check`] proves it,
//!   [`Store::rebuild_indexes`] repairs a store that was seeded in bulk and interrupted).
//! * The screen pop (customer by phone + open tickets + last interactions) reads one
//!   customer and two short index ranges whose values carry what the screen shows.
//! * Bad input gets a typed [`StoreError`] naming the field, and nothing partial is
//!   stored. Personal data is masked in `Debug` output and messages.
//! * Records are encoded with a version byte; old versions stay readable.

pub mod catalog;
mod check;
pub mod codec;
mod durable;
mod error;
pub mod export;
pub mod mask;
pub mod model;
pub mod seed;
mod sled_store;
pub mod validate;

pub use catalog::Catalog;
pub use error::StoreError;
pub use model::*;
pub use sled_store::{DEFAULT_CACHE_BYTES, DEFAULT_FCR_WINDOW, SledStore, StoreDir, store_dir};

use serde::Serialize;

/// What [`Store::check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Customers read.
    pub customers: u64,
    /// Tickets read.
    pub tickets: u64,
    /// Interactions read.
    pub interactions: u64,
    /// Agent accounts read.
    pub agents: u64,
    /// Index entries read.
    pub index_entries: u64,
    /// Records that do not decode.
    pub corrupt: u64,
    /// Index entries the data implies but the index lacks.
    pub missing: u64,
    /// Index entries with another value than the data implies.
    pub mismatched: u64,
    /// Index entries no record implies.
    pub stale: u64,
    /// Records accepted but set aside because the store refused them (dead letters).
    pub dead_letters: u64,
    /// The first problems, in words.
    pub problems: Vec<String>,
}

impl CheckReport {
    /// Data and indexes agree and every record decodes.
    pub fn is_clean(&self) -> bool {
        self.corrupt == 0
            && self.missing == 0
            && self.mismatched == 0
            && self.stale == 0
            && self.dead_letters == 0
    }
}

/// The store's operations. Writes return once the data is durable.
pub trait Store: Send + Sync {
    /// Create (id 0) or replace a customer; phone numbers are unique across customers.
    fn put_customer(&self, c: Customer) -> Result<Customer, StoreError>;
    /// A customer by id.
    fn customer(&self, id: u64) -> Result<Option<Customer>, StoreError>;
    /// The customer owning a phone number (the screen-pop key).
    fn customer_by_phone(&self, phone: &str) -> Result<Option<Customer>, StoreError>;
    /// Customers whose name starts with `prefix`.
    fn customers_by_name(&self, prefix: &str, limit: usize) -> Result<Vec<Customer>, StoreError>;
    /// Key accounts of an account manager.
    fn customers_of_manager(&self, agent: &str, limit: usize) -> Result<Vec<Customer>, StoreError>;
    /// Customer by phone, open (not closed) tickets and the last `recent` interactions.
    fn screen_pop(&self, phone: &str, recent: usize) -> Result<Option<ScreenPop>, StoreError>;

    /// Write a call's record; settles earlier contacts of the customer about the same
    /// reason as repeats (FCR not verified).
    fn record_interaction(&self, i: Interaction) -> Result<Interaction, StoreError>;
    /// An interaction by id, with its legs.
    fn interaction(&self, id: u64) -> Result<Option<Interaction>, StoreError>;
    /// The interaction of a call (the router's call id), with its legs.
    fn interaction_by_call(&self, call_id: u64) -> Result<Option<Interaction>, StoreError>;
    /// A customer's interactions, newest first.
    fn interactions_of_customer(
        &self,
        customer: u64,
        limit: usize,
    ) -> Result<Vec<Interaction>, StoreError>;
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
    /// Verify FCR of contacts whose window has passed without a repeat; returns how many.
    fn settle_fcr(&self, now: Millis) -> Result<u64, StoreError>;

    /// A wrap-up's ticket work: open `new` (owned by `by`) and apply `changes`, all or
    /// nothing — every ticket is checked before any is written, and they are written in
    /// one transaction. Returns the tickets opened.
    fn wrap_up_tickets(
        &self,
        new: Vec<NewTicket>,
        changes: Vec<(u64, TicketChange)>,
        by: &str,
        now: Millis,
    ) -> Result<Vec<Ticket>, StoreError>;
    /// Keep a session token (its digest); the agent's earlier tokens are dropped.
    fn put_session_token(&self, token: SessionToken) -> Result<(), StoreError>;
    /// Drop the agent's tokens issued before `issued_before` (logout, force logout).
    fn revoke_session_tokens(&self, agent: &str, issued_before: Millis) -> Result<(), StoreError>;
    /// Every session token kept.
    fn session_tokens(&self) -> Result<Vec<SessionToken>, StoreError>;
    /// Add to the audit trail (durable before it returns).
    fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError>;
    /// The audit trail in [from, to), oldest first.
    fn audit_trail(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// Set aside a record that was accepted but could not be stored.
    fn put_dead_letter(&self, letter: DeadLetter) -> Result<(), StoreError>;
    /// Records set aside, oldest first.
    fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError>;

    /// Open a ticket; `by` (the agent taking it) owns it until it is closed (首问负责).
    fn create_ticket(&self, t: NewTicket, by: &str, now: Millis) -> Result<Ticket, StoreError>;
    /// Change a ticket along its closed loop; the change joins its history.
    fn update_ticket(
        &self,
        id: u64,
        change: TicketChange,
        by: &str,
        now: Millis,
    ) -> Result<Ticket, StoreError>;
    /// A ticket by number.
    fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError>;
    /// A customer's tickets.
    fn tickets_of_customer(&self, customer: u64) -> Result<Vec<Ticket>, StoreError>;
    /// Tickets in a status.
    fn tickets_by_status(
        &self,
        status: TicketStatus,
        limit: usize,
    ) -> Result<Vec<Ticket>, StoreError>;
    /// Tickets an agent owns.
    fn tickets_of_owner(&self, owner: &str, limit: usize) -> Result<Vec<Ticket>, StoreError>;
    /// Open tickets past their deadline at `now`, most overdue first.
    fn overdue_tickets(&self, now: Millis, limit: usize) -> Result<Vec<Ticket>, StoreError>;

    /// Create or replace an agent account with a new password (argon2id).
    fn set_agent(&self, account: AgentAccount, password: &str) -> Result<(), StoreError>;
    /// Every agent account (the router registers them with the routing core at start).
    fn agent_accounts(&self) -> Result<Vec<AgentAccount>, StoreError>;
    /// An agent account.
    fn agent(&self, id: &str) -> Result<Option<AgentAccount>, StoreError>;
    /// The account if the password is right.
    fn verify_agent(&self, id: &str, password: &str) -> Result<AgentAccount, StoreError>;

    /// Check records and indexes.
    fn check(&self) -> Result<CheckReport, StoreError>;
    /// Recompute every index from the data.
    fn rebuild_indexes(&self) -> Result<CheckReport, StoreError>;
}
