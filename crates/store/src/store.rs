//! The store's rules, over any [`Engine`]: validation, ids, the ticket's closed loop and
//! its deadlines, FCR repeats and settling, passwords. The router, the CLI, the seeder,
//! export/import and check/rebuild hold a [`Store`]; none of them sees an engine type.
//!
//! A rule that reads a record and then writes it (a ticket change, a repeat settling an
//! earlier contact) commits on the condition that the record is unchanged
//! ([`Expect`]); if another writer came first the engine refuses the commit and the rule
//! runs again on what is there now.

use crate::engine::{Commit, Engine, Expect, IdKind, Put, Remove};
use crate::error::StoreError;
use crate::model::*;
use crate::validate;
use crate::{CheckReport, DEFAULT_CACHE_BYTES, SledEngine};
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use hotline_catalog::Catalog;
use std::path::Path;
use std::sync::Arc;

/// How long a claimed first-contact resolution waits for a repeat before it is verified.
pub const DEFAULT_FCR_WINDOW: Millis = 7 * DAY_MS;

/// How a call-back (回访) to the customer went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CallBackOutcome {
    /// The customer answered.
    Reached {
        /// Their satisfaction, 1–5.
        satisfaction: u8,
        /// They say the problem is solved.
        solved: bool,
    },
    /// Nobody answered this attempt.
    NoAnswer,
}

/// One attempt of a ticket's call-back and what came of it, as the router records it
/// for the agent the call-back was routed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallBackRecord {
    /// The ticket.
    pub ticket: u64,
    /// What came of it.
    pub outcome: CallBackOutcome,
    /// This attempt, from 1.
    pub attempt: u32,
    /// Attempts allowed before the ticket is closed as unreachable.
    pub attempts: u32,
}

impl CallBackRecord {
    /// The ticket changes it makes: reached and solved → called back and closed;
    /// reached, not solved → called back and reopened; no answer → the attempt noted,
    /// and after the last one closed as unreachable.
    fn changes(&self) -> Vec<TicketChange> {
        match self.outcome {
            CallBackOutcome::Reached {
                satisfaction,
                solved: true,
            } => vec![TicketChange::CallBack { satisfaction }, TicketChange::Close],
            CallBackOutcome::Reached {
                satisfaction,
                solved: false,
            } => vec![
                TicketChange::CallBack { satisfaction },
                TicketChange::Reopen {
                    reason: "回访：客户反馈问题未解决 (the customer says it is not solved)".into(),
                },
            ],
            CallBackOutcome::NoAnswer if self.attempt >= self.attempts => vec![
                TicketChange::NoAnswer {
                    attempt: self.attempt,
                },
                TicketChange::Unreachable {
                    attempts: self.attempt,
                },
            ],
            CallBackOutcome::NoAnswer => vec![TicketChange::NoAnswer {
                attempt: self.attempt,
            }],
        }
    }
}

/// First-contact resolution counts of a set of contacts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FcrCount {
    /// Contacts an agent handled.
    pub handled: u64,
    /// Of them, claimed resolved at first contact.
    pub claimed: u64,
    /// Of the claims, verified: no repeat about the same reason within the window.
    pub verified: u64,
    /// Of the claims, not resolved: the customer called again about the same reason.
    pub not_resolved: u64,
    /// Of the contacts handled, those settled (the window passed, or a repeat came): what
    /// an FCR rate is taken over.
    pub settled: u64,
}

impl FcrCount {
    /// Count one contact an agent handled.
    pub fn add(&mut self, i: &Interaction) {
        self.handled += 1;
        self.settled += u64::from(i.fcr_verified.is_some());
        if i.fcr_claimed {
            self.claimed += 1;
            match i.fcr_verified {
                Some(true) => self.verified += 1,
                Some(false) => self.not_resolved += 1,
                None => {}
            }
        }
    }
}

/// [`FcrCount`]s by queue and by agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FcrTally {
    /// By queue.
    pub by_queue: std::collections::BTreeMap<String, FcrCount>,
    /// By the agent who wrapped the call up.
    pub by_agent: std::collections::BTreeMap<String, FcrCount>,
}

/// The tickets a wrap-up wrote.
#[derive(Debug, Clone, Default)]
pub struct WrapUpTickets {
    /// Opened (owned by the wrap-up's agent).
    pub opened: Vec<Ticket>,
    /// Changed.
    pub changed: Vec<Ticket>,
}

/// Who a ticket's history names for what the hotline did by itself (the dispatch of a
/// new ticket to its group, a call-back's outcome).
pub const SYSTEM: &str = "system";

/// Times a read-decide-write rule runs again when another writer changed its record
/// in between, before it gives up with [`StoreError::Conflict`].
const RETRIES: u32 = 100;

/// The customer store: customers, interactions, tickets and agent accounts, with the
/// hotline's rules, on a storage engine. Every write returns once it is durable.
#[derive(Clone)]
pub struct Store {
    engine: Arc<dyn Engine>,
    catalog: Catalog,
    fcr_window: Millis,
    /// One customer's contacts are recorded one at a time in this process, so that each
    /// sees the one before it (FCR repeats); striped by customer id.
    contact_locks: Arc<[std::sync::Mutex<()>; CONTACT_LOCKS]>,
    /// Told of every ticket this store wrote by its rules (opened or changed), after the
    /// write is durable: the router's worklists and "my tickets" watch them.
    ticket_listeners: Arc<std::sync::RwLock<Vec<TicketListener>>>,
    /// Held while an incident is declared (one open incident per area and kind).
    incident_lock: Arc<std::sync::Mutex<()>>,
}

/// Told of a ticket once it is written.
pub type TicketListener = Arc<dyn Fn(&Ticket) + Send + Sync>;

/// Stripes of [`Store::contact_locks`].
const CONTACT_LOCKS: usize = 64;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("engine", &self.engine.describe())
            .finish_non_exhaustive()
    }
}

/// A store location in words for messages and logs: a PostgreSQL address without its
/// password.
pub fn location_words(location: &str) -> String {
    let Some((scheme, rest)) = location.split_once("://") else {
        return location.to_string();
    };
    match rest.split_once('@') {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => location.to_string(),
    }
}

/// Run `f` again while it ends in a conflict with another writer, after a random pause
/// that grows with the tries (so writers that collided do not collide again in step).
pub(crate) fn retried<T>(mut f: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    use rand_core::RngCore;
    let mut tries = 0;
    loop {
        match f() {
            Err(StoreError::Conflict(_)) if tries < RETRIES => {
                tries += 1;
                // up to 0.25 ms, doubling to 32 ms: longer than a commit takes
                let most = 250u64 << tries.min(7);
                let pause = u64::from(OsRng.next_u32()) % most;
                std::thread::sleep(std::time::Duration::from_micros(pause));
            }
            r => return r,
        }
    }
}

impl Store {
    /// The store on `engine`.
    pub fn on(engine: Arc<dyn Engine>, catalog: Catalog) -> Store {
        Store {
            engine,
            catalog,
            fcr_window: DEFAULT_FCR_WINDOW,
            contact_locks: Arc::new(std::array::from_fn(|_| std::sync::Mutex::new(()))),
            ticket_listeners: Arc::default(),
            incident_lock: Arc::default(),
        }
    }

    /// Tell `listener` of every ticket the rules write from now on (opened at a wrap-up
    /// or by the IVR, changed along its loop), once it is durable. Imports, copies and
    /// bulk loads are not told. Only this process's writes: routers sharing a database
    /// each see their own.
    pub fn on_ticket_written(&self, listener: TicketListener) {
        if let Ok(mut l) = self.ticket_listeners.write() {
            l.push(listener);
        }
    }

    pub(crate) fn incident_lock(&self) -> &std::sync::Mutex<()> {
        &self.incident_lock
    }

    pub(crate) fn tell(&self, tickets: &[Ticket]) {
        if let Ok(l) = self.ticket_listeners.read() {
            for f in l.iter() {
                tickets.iter().for_each(|t| f(t));
            }
        }
    }

    /// The sled store in `dir`, created if the directory is missing or empty; a file or
    /// a directory holding anything else is refused.
    pub fn open(dir: &Path, catalog: Catalog) -> Result<Store, StoreError> {
        Store::open_with_cache(dir, catalog, DEFAULT_CACHE_BYTES)
    }

    /// [`Store::open`] with sled's page cache set to `cache_bytes`.
    pub fn open_with_cache(
        dir: &Path,
        catalog: Catalog,
        cache_bytes: u64,
    ) -> Result<Store, StoreError> {
        let engine = SledEngine::open_with_cache(dir, cache_bytes)?;
        Ok(Store::on(Arc::new(engine), catalog))
    }

    /// The sled store that must already be in `dir` (check, export, backup): a missing
    /// or empty directory is refused rather than made into a new, empty store.
    pub fn open_existing(dir: &Path, catalog: Catalog) -> Result<Store, StoreError> {
        Ok(Store::on(
            Arc::new(SledEngine::open_existing(dir)?),
            catalog,
        ))
    }

    /// The store in the PostgreSQL database at `url`, its schema brought up to date.
    #[cfg(feature = "postgres")]
    pub fn postgres(url: &str, catalog: Catalog) -> Result<Store, StoreError> {
        Ok(Store::on(Arc::new(crate::PgEngine::open(url)?), catalog))
    }

    /// The store a location names: `postgres://…` (or `postgresql://…`), else a sled
    /// directory (`sled:DIR` or just `DIR`). `existing` refuses a sled directory that
    /// holds no store yet.
    pub fn at(location: &str, catalog: Catalog, existing: bool) -> Result<Store, StoreError> {
        Store::at_with_cache(location, catalog, existing, DEFAULT_CACHE_BYTES)
    }

    /// [`Store::at`] with a sled store's page cache set to `cache_bytes` (a PostgreSQL
    /// store has no cache of its own here).
    pub fn at_with_cache(
        location: &str,
        catalog: Catalog,
        existing: bool,
        cache_bytes: u64,
    ) -> Result<Store, StoreError> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            return Store::postgres(location, catalog);
            #[cfg(not(feature = "postgres"))]
            return Err(StoreError::Invalid {
                field: "store",
                why: "this build has no PostgreSQL engine (feature `postgres`)".into(),
            });
        }
        let dir = Path::new(location.strip_prefix("sled:").unwrap_or(location));
        let engine = if existing {
            SledEngine::open_existing_with_cache(dir, cache_bytes)?
        } else {
            SledEngine::open_with_cache(dir, cache_bytes)?
        };
        Ok(Store::on(Arc::new(engine), catalog))
    }

    /// A throw-away sled store in a temporary directory (tests, benchmarks).
    pub fn temporary(catalog: Catalog) -> Result<Store, StoreError> {
        Ok(Store::on(Arc::new(SledEngine::temporary()?), catalog))
    }

    /// Change the FCR verification window.
    pub fn with_fcr_window(mut self, window: Millis) -> Self {
        self.fcr_window = window;
        self
    }

    /// How long after a contact a repeat about the same reason undoes its FCR.
    pub fn fcr_window(&self) -> Millis {
        self.fcr_window
    }

    /// The ticket catalogue in use.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The engine underneath (bulk loading, scans, figures).
    pub fn engine(&self) -> &dyn Engine {
        &*self.engine
    }

    /// Bytes on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.engine.size_on_disk()
    }

    /// Durable flushes so far.
    pub fn flushes(&self) -> u64 {
        self.engine.flushes()
    }

    /// Whether the store could be reached the last time it was asked.
    pub fn health(&self) -> crate::Health {
        self.engine.health()
    }

    /// Ask the store once whether it can be reached (a database round trip).
    pub fn ping(&self) -> Result<(), StoreError> {
        self.engine.ping()
    }

    /// Make everything written so far durable (after bulk loads).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.engine.flush()
    }

    /// Create (id 0) or replace a customer; phone numbers are unique across customers.
    pub fn put_customer(&self, mut c: Customer) -> Result<Customer, StoreError> {
        validate::customer(&c)?;
        if c.id == 0 {
            c.id = self.engine.next_id(IdKind::Customer)?;
        } else if self.engine.customer(c.id)?.is_none() {
            return Err(StoreError::NotFound {
                what: "customer",
                id: c.id.to_string(),
            });
        }
        self.engine
            .commit(Commit::put(vec![Put::Customer(c.clone())]))?;
        Ok(c)
    }

    /// Write a customer keeping its id (imports, copies), created or replaced.
    pub fn put_customer_with_id(&self, c: &Customer) -> Result<(), StoreError> {
        validate::customer(c)?;
        self.engine.ids_after(IdKind::Customer, c.id)?;
        self.engine
            .commit(Commit::put(vec![Put::Customer(c.clone())]))
    }

    /// Check a record to be imported as it is (its id kept).
    pub fn check_import(&self, p: &Put) -> Result<(), StoreError> {
        match p {
            Put::Customer(c) => validate::customer(c),
            Put::Interaction(i) => validate::interaction(i),
            Put::Agent(a) => validate::agent(a),
            Put::Ticket(_)
            | Put::SessionToken(_)
            | Put::Audit(_)
            | Put::DeadLetter(_)
            | Put::Interval(_)
            | Put::Incident(_)
            | Put::IncidentLink(_) => Ok(()),
        }
    }

    /// Store records keeping their ids (imports, copies between stores), each checked
    /// with [`Store::check_import`], all in one commit; ids handed out later continue
    /// after the largest.
    pub fn import(&self, records: Vec<Put>) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        self.checked_with_ids(&records)?;
        self.engine.commit(Commit::put(records))
    }

    /// [`Store::import`] through the engine's bulk load (into an empty store: fast, not
    /// atomic as a whole, durable after [`Store::flush`]).
    pub fn load(&self, records: Vec<Put>) -> Result<(), StoreError> {
        self.checked_with_ids(&records)?;
        self.engine.load(records)
    }

    /// Check records that keep their ids, and make later ids continue after the largest
    /// of each kind (one call per kind, not per record: on PostgreSQL each is a query).
    fn checked_with_ids(&self, records: &[Put]) -> Result<(), StoreError> {
        let mut largest = [0u64; IdKind::ALL.len()];
        for p in records {
            self.check_import(p)?;
            let (kind, id) = match p {
                Put::Customer(c) => (IdKind::Customer, c.id),
                Put::Ticket(t) => (IdKind::Ticket, t.id),
                Put::Interaction(i) => (IdKind::Interaction, i.id),
                Put::Incident(i) => (IdKind::Incident, i.id),
                _ => continue,
            };
            largest[kind.slot()] = largest[kind.slot()].max(id);
        }
        for kind in IdKind::ALL {
            self.engine.ids_after(kind, largest[kind.slot()])?;
        }
        Ok(())
    }

    /// A customer by id.
    pub fn customer(&self, id: u64) -> Result<Option<Customer>, StoreError> {
        self.engine.customer(id)
    }

    /// What the reports need of customer `id` (name, district, 小区, segment, manager).
    pub fn customer_profile(&self, id: u64) -> Result<Option<CustomerProfile>, StoreError> {
        self.engine.customer_profile(id)
    }

    /// The customer owning a phone number (the screen-pop key).
    pub fn customer_by_phone(&self, phone: &str) -> Result<Option<Customer>, StoreError> {
        self.engine.customer_by_phone(phone)
    }

    /// Customers whose name starts with `prefix`.
    pub fn customers_by_name(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<Customer>, StoreError> {
        if prefix.is_empty() {
            return Err(StoreError::Invalid {
                field: "name",
                why: "give at least one character to search by".into(),
            });
        }
        self.engine.customers_by_name(prefix, limit)
    }

    /// Key accounts of an account manager.
    pub fn customers_of_manager(
        &self,
        agent: &str,
        limit: usize,
    ) -> Result<Vec<Customer>, StoreError> {
        self.engine.customers_of_manager(agent, limit)
    }

    /// Customer by phone, open (not closed) tickets and the last `recent` interactions.
    pub fn screen_pop(&self, phone: &str, recent: usize) -> Result<Option<ScreenPop>, StoreError> {
        let Some(customer) = self.engine.customer_by_phone(phone)? else {
            return Ok(None);
        };
        let open_tickets = self.engine.open_ticket_lines(customer.id)?;
        let recent = self.engine.interaction_lines(customer.id, 0, recent)?;
        Ok(Some(ScreenPop {
            customer,
            open_tickets,
            recent,
        }))
    }

    /// Write a call's record; settles earlier contacts of the customer about the same
    /// reason, still within the FCR window, as repeats (FCR not verified).
    pub fn record_interaction(&self, mut i: Interaction) -> Result<Interaction, StoreError> {
        validate::interaction(&i)?;
        if let Some(c) = i.customer {
            if self.engine.customer(c)?.is_none() {
                return Err(StoreError::NotFound {
                    what: "customer",
                    id: c.to_string(),
                });
            }
        }
        i.id = self.engine.next_id(IdKind::Interaction)?;
        // another contact of the same customer being recorded now would not see this one,
        // nor this one it; across processes, settling catches what both missed
        let stripe = i.customer.map(|c| c as usize % CONTACT_LOCKS);
        let _one_at_a_time = stripe.map(|k| {
            self.contact_locks[k]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        });
        retried(|| {
            let (earlier, repeated_later) = self.contacts_around(&i)?;
            // a later contact about the same reason already stored (records can land
            // out of order): this one did not resolve it
            i.fcr_verified = repeated_later.then_some(false);
            let mut commit = Commit::put(vec![Put::Interaction(i.clone())]);
            for mut e in earlier {
                commit.expect.push(Expect::Unsettled { id: e.id });
                e.fcr_verified = Some(false);
                commit.put.push(Put::Interaction(e));
            }
            self.engine.commit(commit)
        })?;
        Ok(i)
    }

    /// Record a call's interaction once: when the store already holds the record of the
    /// same call (its call id and arrival), that one is returned and nothing is written
    /// (a write retried after its answer was lost, or replayed from the router's spool).
    pub fn record_call(&self, i: Interaction) -> Result<Interaction, StoreError> {
        match self.engine.interaction_by_call(i.call_id)? {
            Some(stored) if stored.arrived == i.arrived => Ok(stored),
            _ => self.record_interaction(i),
        }
    }

    /// The contacts of `i`'s customer about the same reason within the FCR window
    /// around it: the earlier ones still unsettled (which `i` repeats), and whether a
    /// later one exists (which repeats `i`).
    fn contacts_around(&self, i: &Interaction) -> Result<(Vec<Interaction>, bool), StoreError> {
        let (Some(c), Some(reason)) = (i.customer, &i.reason) else {
            return Ok((Vec::new(), false));
        };
        let since = i.arrived.saturating_sub(self.fcr_window);
        let until = i.arrived.saturating_add(self.fcr_window);
        let (mut earlier, mut later) = (Vec::new(), false);
        for line in self.engine.interaction_lines(c, since, usize::MAX)? {
            if line.id == i.id || line.reason.as_deref() != Some(reason) {
                continue;
            }
            if line.arrived > i.arrived {
                later |= line.arrived <= until;
            } else if line.fcr_verified.is_none() {
                earlier.extend(self.engine.interaction(line.id)?);
            }
        }
        Ok((earlier, later))
    }

    /// Write an interaction keeping its id (imports, copies).
    pub fn put_interaction_with_id(&self, i: &Interaction) -> Result<(), StoreError> {
        validate::interaction(i)?;
        self.engine.ids_after(IdKind::Interaction, i.id)?;
        self.engine
            .commit(Commit::put(vec![Put::Interaction(i.clone())]))
    }

    /// An interaction by id, with its legs.
    pub fn interaction(&self, id: u64) -> Result<Option<Interaction>, StoreError> {
        self.engine.interaction(id)
    }

    /// The interaction of a call (the router's call id), with its legs.
    pub fn interaction_by_call(&self, call_id: u64) -> Result<Option<Interaction>, StoreError> {
        self.engine.interaction_by_call(call_id)
    }

    /// A customer's interactions, newest first.
    pub fn interactions_of_customer(
        &self,
        customer: u64,
        limit: usize,
    ) -> Result<Vec<Interaction>, StoreError> {
        self.engine.interactions_of_customer(customer, limit)
    }

    /// An agent's interactions, newest first.
    pub fn interactions_of_agent(
        &self,
        agent: &str,
        limit: usize,
    ) -> Result<Vec<Interaction>, StoreError> {
        self.engine.interactions_of_agent(agent, limit)
    }

    /// Interactions that arrived in [from, to), oldest first.
    pub fn interactions_between(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<Interaction>, StoreError> {
        self.engine.interactions_between(from, to, limit)
    }

    /// First-contact resolution of the contacts that arrived in [from, to), by queue and
    /// by the agent who wrapped the call up: handled, claimed, and of the claims those
    /// verified (no repeat within the window) and those not resolved (a repeat came).
    pub fn fcr_tally(&self, from: Millis, to: Millis) -> Result<FcrTally, StoreError> {
        let mut tally = FcrTally::default();
        self.each_interaction_between(from, to, |i| {
            let (Some(queue), Some(agent)) = (&i.queue, i.agents.last()) else {
                return Ok(()); // never reached an agent
            };
            for count in [
                tally.by_queue.entry(queue.clone()).or_default(),
                tally.by_agent.entry(agent.clone()).or_default(),
            ] {
                count.add(&i);
            }
            Ok(())
        })?;
        Ok(tally)
    }

    /// Hand `each` every interaction that arrived in [from, to), oldest first, read in
    /// pages so memory stays bounded whatever the period holds.
    pub fn each_interaction_between(
        &self,
        from: Millis,
        to: Millis,
        mut each: impl FnMut(Interaction) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        const PAGE: usize = 1000;
        let (mut at, mut seen_at) = (from, std::collections::HashSet::new());
        loop {
            let page = self.engine.interactions_between(at, to, PAGE)?;
            let full = page.len() == PAGE;
            let mut fresh = 0;
            for i in page {
                // a page starts at the last one's arrival: skip what that instant had
                if i.arrived == at && !seen_at.insert(i.id) {
                    continue;
                }
                fresh += 1;
                if i.arrived != at {
                    (at, seen_at) = (i.arrived, std::collections::HashSet::from([i.id]));
                }
                each(i)?;
            }
            if !full {
                return Ok(());
            }
            if fresh == 0 {
                // a thousand contacts in one millisecond: go on after it
                (at, seen_at) = (at + 1, Default::default());
            }
        }
    }

    /// Verify FCR of contacts whose window has passed without a repeat: a claimed
    /// resolution is verified, an unclaimed one is not. Returns how many were settled.
    pub fn settle_fcr(&self, now: Millis) -> Result<u64, StoreError> {
        let cutoff = now.saturating_sub(self.fcr_window);
        let mut settled = 0;
        loop {
            let ids = self.engine.unsettled_before(cutoff, 1000)?;
            if ids.is_empty() {
                return Ok(settled);
            }
            for id in ids {
                let done = retried(|| {
                    let Some(mut i) = self.engine.interaction(id)? else {
                        return Ok(false);
                    };
                    if i.fcr_verified.is_some() {
                        return Ok(false);
                    }
                    // a repeat that landed before this contact's record did not settle it
                    let (_, repeated) = self.contacts_around(&i)?;
                    i.fcr_verified = Some(i.fcr_claimed && !repeated);
                    self.engine.commit(Commit {
                        expect: vec![Expect::Unsettled { id }],
                        put: vec![Put::Interaction(i)],
                        ..Commit::default()
                    })?;
                    Ok(true)
                })?;
                if !done {
                    // the engine listed an interaction it no longer has unsettled:
                    // nothing more will come of asking again
                    return Err(StoreError::Conflict(format!(
                        "interaction {id} is listed as unsettled but is not (run `hotline store check`)"
                    )));
                }
                settled += 1;
            }
        }
    }

    /// Open a ticket; `by` (the agent taking it) owns it until it is closed (首问负责).
    pub fn create_ticket(
        &self,
        new: NewTicket,
        by: &str,
        now: Millis,
    ) -> Result<Ticket, StoreError> {
        let mut t = self.opened_ticket(new, by, now)?;
        let mut put = self.link_opened(std::slice::from_mut(&mut t), now)?;
        put.insert(0, Put::Ticket(t.clone()));
        self.engine.commit(Commit::put(put))?;
        self.tell(std::slice::from_ref(&t));
        Ok(t)
    }

    /// A wrap-up's ticket work: open `new` (owned by `by`) and apply `changes` (each
    /// one `by`'s to make, as [`Store::change_ticket_as`] judges), all or nothing — every ticket is checked before any is written, and they are written in
    /// one commit. Returns the tickets opened and changed.
    pub fn wrap_up_tickets(
        &self,
        new: Vec<NewTicket>,
        changes: Vec<(u64, TicketChange)>,
        by: &str,
        now: Millis,
    ) -> Result<WrapUpTickets, StoreError> {
        self.wrap_up(new, changes, None, by, now)
    }

    /// As [`Store::wrap_up_tickets`], with a call-back's outcome on its ticket in the
    /// same commit (the wrap-up of a call-back task): all of it is written, or none.
    pub fn wrap_up(
        &self,
        new: Vec<NewTicket>,
        changes: Vec<(u64, TicketChange)>,
        call_back: Option<CallBackRecord>,
        by: &str,
        now: Millis,
    ) -> Result<WrapUpTickets, StoreError> {
        let mut opened = new
            .into_iter()
            .map(|n| self.opened_ticket(n, by, now))
            .collect::<Result<Vec<_>, _>>()?;
        let links = self.link_opened(&mut opened, now)?;
        // the wrap-up's agent may change only what is theirs to change (their account is
        // read only when there are changes to judge)
        let account = match changes.is_empty() {
            true => None,
            false => self.engine.agent(by)?,
        }
        .unwrap_or_else(|| AgentAccount {
            id: by.to_string(),
            name: String::new(),
            role: Role::Agent,
            skills: vec![],
            groups: vec![],
            password_hash: String::new(),
        });
        let changed = retried(|| {
            let mut commit = Commit::put(opened.iter().cloned().map(Put::Ticket).collect());
            commit.put.extend(links.iter().cloned());
            let mut changed = Vec::new();
            for (id, change) in &changes {
                let (t, history) = self.changed_ticket(*id, change, by, now, |before| {
                    self.may_change(&account, before, change)
                })?;
                commit.expect.push(Expect::Ticket { id: *id, history });
                commit.put.push(Put::Ticket(t.clone()));
                changed.push(t);
            }
            if let Some(c) = &call_back {
                let (t, history) =
                    self.changed_ticket_by(c.ticket, &c.changes(), by, now, |_| Ok(()))?;
                commit.expect.push(Expect::Ticket {
                    id: c.ticket,
                    history,
                });
                commit.put.push(Put::Ticket(t.clone()));
                changed.push(t);
            }
            self.engine.commit(commit)?;
            Ok(changed)
        })?;
        self.tell(&opened);
        self.tell(&changed);
        Ok(WrapUpTickets { opened, changed })
    }

    /// Change a ticket along its closed loop; the change joins its history.
    pub fn update_ticket(
        &self,
        id: u64,
        change: TicketChange,
        by: &str,
        now: Millis,
    ) -> Result<Ticket, StoreError> {
        self.write_ticket(id, std::slice::from_ref(&change), by, now, |_| Ok(()))
    }

    /// Change a ticket as `account` asks, if it is theirs to make: taking, passing on and
    /// resolving are the back office's of the ticket's group (a supervisor's too); the
    /// call-back, closing and reopening are the owner's (首问负责) or a supervisor's; a
    /// note or a priority anyone's who can see the ticket.
    pub fn change_ticket_as(
        &self,
        id: u64,
        change: TicketChange,
        account: &AgentAccount,
        now: Millis,
    ) -> Result<Ticket, StoreError> {
        self.write_ticket(
            id,
            std::slice::from_ref(&change),
            &account.id,
            now,
            |before| self.may_change(account, before, &change),
        )
    }

    /// Whether `account` is a back-office clerk of the group `code` (its groups named by
    /// code or by an older name).
    pub fn works_in(&self, account: &AgentAccount, code: &str) -> bool {
        account.role == Role::BackOffice
            && account
                .groups
                .iter()
                .any(|a| self.catalog.office(a).is_some_and(|o| o.code == code))
    }

    /// Whether `account` may make `change` to `t` (see [`Store::change_ticket_as`]).
    fn may_change(
        &self,
        account: &AgentAccount,
        t: &Ticket,
        change: &TicketChange,
    ) -> Result<(), StoreError> {
        if matches!(account.role, Role::Supervisor | Role::Admin) {
            return Ok(());
        }
        let group = t
            .back_office
            .as_deref()
            .and_then(|g| self.catalog.office(g))
            .map(|g| g.code.as_str());
        let in_group = group.is_some_and(|g| self.works_in(account, g));
        let owner = account.id == t.owner;
        let (allowed, whose) = match change {
            TicketChange::Linked { .. } => (false, "the store's own, when it is opened"),
            TicketChange::Note { .. } => (true, ""),
            TicketChange::SetPriority { .. } => (owner || in_group, "its owner's or its group's"),
            TicketChange::Dispatch { .. }
            | TicketChange::Start
            | TicketChange::Resolve { .. }
            | TicketChange::Resolution { .. } => (in_group, "the back office's of its group"),
            TicketChange::CallBack { .. }
            | TicketChange::Close
            | TicketChange::Reopen { .. }
            | TicketChange::NoAnswer { .. }
            | TicketChange::Unreachable { .. } => (owner, "its owner's (首问负责)"),
        };
        if allowed {
            return Ok(());
        }
        let group = group.unwrap_or("no group");
        Err(StoreError::NotAllowed(format!(
            "ticket {} is owned by {} and worked by {group}; that change is {whose}, not {}'s",
            t.id, t.owner, account.id
        )))
    }

    /// Record attempt `attempt` (1, 2, …) of the call-back (回访) of ticket `id`, made by
    /// `by` for the router, which routed the call-back to them: reached and solved →
    /// called back with the satisfaction, and closed; reached and not solved → called back
    /// and reopened with a fresh deadline; no answer → the attempt noted, and once
    /// `attempts` have gone unanswered, closed as unreachable. All in one write; only a
    /// resolved ticket is called back.
    pub fn record_call_back(
        &self,
        id: u64,
        outcome: CallBackOutcome,
        attempt: u32,
        attempts: u32,
        by: &str,
        now: Millis,
    ) -> Result<Ticket, StoreError> {
        let record = CallBackRecord {
            ticket: id,
            outcome,
            attempt,
            attempts,
        };
        self.write_ticket(id, &record.changes(), by, now, |_| Ok(()))
    }

    /// Make `changes` to ticket `id` (if `allowed` lets them, judging the ticket as it
    /// was) and write it, on the condition that no one changed it meanwhile (else again
    /// on what is there now); listeners are told.
    fn write_ticket(
        &self,
        id: u64,
        changes: &[TicketChange],
        by: &str,
        now: Millis,
        allowed: impl Fn(&Ticket) -> Result<(), StoreError>,
    ) -> Result<Ticket, StoreError> {
        retried(|| {
            let (t, history) = self.changed_ticket_by(id, changes, by, now, &allowed)?;
            self.engine.commit(Commit {
                expect: vec![Expect::Ticket { id, history }],
                put: vec![Put::Ticket(t.clone())],
                ..Commit::default()
            })?;
            Ok(t)
        })
        .inspect(|t| self.tell(std::slice::from_ref(t)))
    }

    /// Keep a closed statistics interval (durable on return). Writing the same interval
    /// again (a retry after a lost answer) leaves one record.
    pub fn record_interval(&self, r: IntervalRecord) -> Result<(), StoreError> {
        self.record_intervals(vec![r])
    }

    /// Keep several statistics intervals in one commit (durable on return): a
    /// checkpoint of the interval in progress, or the intervals one close ended.
    pub fn record_intervals(&self, rs: Vec<IntervalRecord>) -> Result<(), StoreError> {
        if let Some(r) = rs.iter().find(|r| r.end < r.start) {
            return Err(StoreError::Invalid {
                field: "interval",
                why: format!("it ends ({}) before it starts ({})", r.end, r.start),
            });
        }
        if rs.is_empty() {
            return Ok(());
        }
        self.engine
            .commit(Commit::put(rs.into_iter().map(Put::Interval).collect()))
    }

    /// The closed intervals starting in [from, to), by start, queues before agents.
    pub fn intervals(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<IntervalRecord>, StoreError> {
        self.engine.intervals(from, to, limit)
    }

    /// The alarms raised in [from, to), by when they were raised (still raised or
    /// cleared), at most `limit`.
    pub fn alarms(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<IntervalRecord>, StoreError> {
        let mut alarms = Vec::new();
        self.each_interval(from, to, |r| {
            if alarms.len() < limit && matches!(r.figures, IntervalFigures::Alarm { .. }) {
                alarms.push(r);
            }
            Ok(())
        })?;
        Ok(alarms)
    }

    /// Hand `each` every kept interval and alarm starting in [from, to), by start, read
    /// in pages so that memory holds one page whatever the history holds.
    pub fn each_interval(
        &self,
        from: Millis,
        to: Millis,
        mut each: impl FnMut(IntervalRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        const PAGE: usize = 16_384;
        let mut after = from;
        while after < to {
            let page = self.engine.intervals(after, to, PAGE)?;
            let Some(last) = page.last().map(|r| r.start) else {
                break;
            };
            let full = page.len() == PAGE;
            // a full page may end inside one start's records: those come again with the
            // next page (a whole page of one start cannot be paged by start)
            if full && page.first().is_some_and(|r| r.start == last) {
                return Err(StoreError::Invalid {
                    field: "intervals",
                    why: format!("more than {PAGE} records start at {last}"),
                });
            }
            for r in page {
                if !full || r.start < last {
                    each(r)?;
                }
            }
            if !full {
                break;
            }
            after = last;
        }
        Ok(())
    }

    /// Write a ticket keeping its id (imports, copies).
    pub fn put_ticket_with_id(&self, t: &Ticket) -> Result<(), StoreError> {
        self.engine.ids_after(IdKind::Ticket, t.id)?;
        self.engine
            .commit(Commit::put(vec![Put::Ticket(t.clone())]))
    }

    /// A ticket by number.
    pub fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError> {
        self.engine.ticket(id)
    }

    /// A customer's tickets.
    pub fn tickets_of_customer(&self, customer: u64) -> Result<Vec<Ticket>, StoreError> {
        self.engine.tickets_of_customer(customer)
    }

    /// Tickets in a status.
    pub fn tickets_by_status(
        &self,
        status: TicketStatus,
        limit: usize,
    ) -> Result<Vec<Ticket>, StoreError> {
        self.engine.tickets_by_status(status, limit)
    }

    /// Tickets an agent owns.
    pub fn tickets_of_owner(&self, owner: &str, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        self.engine.tickets_of_owner(owner, limit)
    }

    /// Open tickets past their deadline at `now`, most overdue first.
    pub fn overdue_tickets(&self, now: Millis, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        self.engine.tickets_due_before(now, limit)
    }

    /// A back-office group's worklist: its open tickets, soonest deadline first (tickets
    /// written before the group codes, under one of the group's older names, too).
    pub fn worklist(&self, group: &str, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        let office = self.catalog.check_office(group)?;
        let mut found = Vec::new();
        for name in std::iter::once(&office.code).chain(&office.aliases) {
            found.extend(self.engine.open_tickets_of_office(name, limit)?);
        }
        found.sort_by_key(|t| (t.deadline, t.id));
        found.truncate(limit);
        Ok(found)
    }

    /// A new ticket as it will be stored, checked against the catalog and the customer
    /// (its number taken, nothing written).
    pub(crate) fn opened_ticket(
        &self,
        new: NewTicket,
        by: &str,
        now: Millis,
    ) -> Result<Ticket, StoreError> {
        validate::new_ticket(&new)?;
        self.catalog.check(new.kind, &new.subcategory)?;
        if by.trim().is_empty() || by.chars().any(char::is_control) {
            return Err(StoreError::Invalid {
                field: "owner",
                why: "a ticket needs the id of the agent who takes it".into(),
            });
        }
        let Some(customer) = self.engine.customer(new.customer)? else {
            return Err(StoreError::NotFound {
                what: "customer",
                id: new.customer.to_string(),
            });
        };
        let id = self.engine.next_id(IdKind::Ticket)?;
        // the front office takes it; it goes to its type's back-office group at once
        let group = self.catalog.kind(new.kind).back_office.clone();
        Ok(Ticket {
            id,
            customer: new.customer,
            kind: new.kind,
            subcategory: new.subcategory,
            description: new.description,
            priority: new.priority,
            status: TicketStatus::Dispatched,
            owner: by.to_string(),
            back_office: Some(group.clone()),
            created: now,
            deadline: self.catalog.deadline(new.kind, customer.segment, now),
            satisfaction: None,
            history: vec![
                TicketEvent {
                    at: now,
                    by: by.to_string(),
                    change: TicketChange::Note {
                        text: "opened".into(),
                    },
                    status: TicketStatus::New,
                },
                TicketEvent {
                    at: now,
                    by: SYSTEM.into(),
                    change: TicketChange::Dispatch { group },
                    status: TicketStatus::Dispatched,
                },
            ],
        })
    }

    /// Ticket `id` after `change`, and the length of its history before it (the
    /// commit's condition).
    /// `allowed` judges the ticket as it was.
    fn changed_ticket(
        &self,
        id: u64,
        change: &TicketChange,
        by: &str,
        now: Millis,
        allowed: impl Fn(&Ticket) -> Result<(), StoreError>,
    ) -> Result<(Ticket, usize), StoreError> {
        self.changed_ticket_by(id, std::slice::from_ref(change), by, now, allowed)
    }

    /// [`Store::changed_ticket`] with several changes made one after the other.
    fn changed_ticket_by(
        &self,
        id: u64,
        changes: &[TicketChange],
        by: &str,
        now: Millis,
        allowed: impl Fn(&Ticket) -> Result<(), StoreError>,
    ) -> Result<(Ticket, usize), StoreError> {
        let Some(mut t) = self.engine.ticket(id)? else {
            return Err(StoreError::NotFound {
                what: "ticket",
                id: id.to_string(),
            });
        };
        allowed(&t)?;
        let segment = self
            .engine
            .customer(t.customer)?
            .map_or(Segment::Public, |c| c.segment);
        let history = t.history.len();
        for change in changes {
            self.ticket_change(&mut t, change, by, now, segment)?;
        }
        Ok((t, history))
    }

    /// The ticket's closed loop: new → (dispatched →) in progress → resolved → called
    /// back (回访) → closed, reopened from resolved, called back or closed.
    fn ticket_change(
        &self,
        t: &mut Ticket,
        change: &TicketChange,
        by: &str,
        now: Millis,
        segment: Segment,
    ) -> Result<(), StoreError> {
        use TicketStatus::*;
        let illegal = |what: &'static str| StoreError::IllegalTransition {
            ticket: t.id,
            status: t.status,
            change: what,
        };
        let mut recorded = change.clone();
        let next = match change {
            TicketChange::Dispatch { group } => {
                let group = self.catalog.check_office(group)?.code.clone();
                if !matches!(t.status, New | InProgress | Reopened | Dispatched) {
                    return Err(illegal("be dispatched"));
                }
                t.back_office = Some(group.clone());
                // the history names the group by its code, however it was asked for
                recorded = TicketChange::Dispatch { group };
                Dispatched
            }
            TicketChange::Start => {
                if !matches!(t.status, New | Dispatched | Reopened) {
                    return Err(illegal("start"));
                }
                InProgress
            }
            TicketChange::Resolve { .. } => {
                return Err(StoreError::Invalid {
                    field: "resolution",
                    why: "a resolution names its code (assets/tickets/categories.toml)".into(),
                });
            }
            TicketChange::Resolution { code, note } => {
                self.catalog.check_resolution(code)?;
                validate::change_text("note", note)?;
                if !t.status.is_open() {
                    return Err(illegal("be resolved"));
                }
                Resolved
            }
            TicketChange::CallBack { satisfaction } => {
                if t.status != Resolved {
                    return Err(illegal("be called back (it is not resolved)"));
                }
                if !(1..=5).contains(satisfaction) {
                    return Err(StoreError::Invalid {
                        field: "satisfaction",
                        why: format!("must be 1–5, got {satisfaction}"),
                    });
                }
                t.satisfaction = Some(*satisfaction);
                CalledBack
            }
            TicketChange::Close => {
                if t.status != CalledBack {
                    return Err(illegal("close before the customer is called back"));
                }
                Closed
            }
            TicketChange::NoAnswer { .. } => {
                if t.status != Resolved {
                    return Err(illegal("be called back (it is not resolved)"));
                }
                Resolved
            }
            TicketChange::Unreachable { .. } => {
                if t.status != Resolved {
                    return Err(illegal("be closed as unreachable (it is not resolved)"));
                }
                Closed
            }
            TicketChange::Reopen { reason } => {
                validate::change_text("reason", reason)?;
                if !matches!(t.status, Resolved | CalledBack | Closed) {
                    return Err(illegal("be reopened (it is still open)"));
                }
                t.deadline = self.catalog.deadline(t.kind, segment, now);
                Reopened
            }
            TicketChange::Note { text } => {
                if text.trim().is_empty() {
                    return Err(StoreError::Invalid {
                        field: "text",
                        why: "is empty".into(),
                    });
                }
                validate::change_text("text", text)?;
                t.status
            }
            TicketChange::SetPriority { priority } => {
                t.priority = *priority;
                t.status
            }
            TicketChange::Linked { .. } => {
                return Err(StoreError::Invalid {
                    field: "change",
                    why: "a ticket is linked to an area incident when it is opened, not later"
                        .into(),
                });
            }
        };
        t.status = next;
        if t.history.len() >= 10_000 {
            return Err(StoreError::Invalid {
                field: "history",
                why: "the ticket has 10,000 changes already".into(),
            });
        }
        t.history.push(TicketEvent {
            at: now,
            by: by.to_string(),
            change: recorded,
            status: next,
        });
        Ok(())
    }

    /// Keep a session token (its digest); the agent's earlier tokens are dropped.
    pub fn put_session_token(&self, token: SessionToken) -> Result<(), StoreError> {
        self.engine.commit(Commit {
            remove: vec![Remove::SessionTokens {
                agent: token.agent.clone(),
                issued_before: Millis::MAX,
            }],
            put: vec![Put::SessionToken(token)],
            ..Commit::default()
        })
    }

    /// Drop the agent's tokens issued before `issued_before` (logout, force logout).
    pub fn revoke_session_tokens(
        &self,
        agent: &str,
        issued_before: Millis,
    ) -> Result<(), StoreError> {
        self.engine.commit(Commit {
            remove: vec![Remove::SessionTokens {
                agent: agent.to_string(),
                issued_before,
            }],
            ..Commit::default()
        })
    }

    /// Every session token kept.
    pub fn session_tokens(&self) -> Result<Vec<SessionToken>, StoreError> {
        self.engine.session_tokens()
    }

    /// Add to the audit trail (durable before it returns).
    pub fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        self.engine.commit(Commit::put(vec![Put::Audit(entry)]))
    }

    /// The audit trail in [from, to), oldest first.
    pub fn audit_trail(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.engine.audit_trail(from, to, limit)
    }

    /// Set aside a record that was accepted but could not be stored.
    pub fn put_dead_letter(&self, letter: DeadLetter) -> Result<(), StoreError> {
        self.engine
            .commit(Commit::put(vec![Put::DeadLetter(letter)]))
    }

    /// Records set aside, oldest first.
    pub fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        self.engine.dead_letters(limit)
    }

    /// Create or replace an agent account with a new password (argon2id).
    pub fn set_agent(&self, mut account: AgentAccount, password: &str) -> Result<(), StoreError> {
        if password.chars().count() < 8 {
            return Err(StoreError::Invalid {
                field: "password",
                why: "must be at least 8 characters".into(),
            });
        }
        let salt = SaltString::generate(&mut OsRng);
        account.password_hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| StoreError::Invalid {
                field: "password",
                why: e.to_string(),
            })?
            .to_string();
        self.put_hashed_agent(&account)
    }

    /// Store an account whose password hash is already made (imports, copies, and
    /// benchmarks that need thousands of accounts without thousands of argon2 runs).
    pub fn put_hashed_agent(&self, a: &AgentAccount) -> Result<(), StoreError> {
        validate::agent(a)?;
        self.engine.commit(Commit::put(vec![Put::Agent(a.clone())]))
    }

    /// Every agent account (the router registers them with the routing core at start).
    pub fn agent_accounts(&self) -> Result<Vec<AgentAccount>, StoreError> {
        self.engine.agents()
    }

    /// An agent account.
    pub fn agent(&self, id: &str) -> Result<Option<AgentAccount>, StoreError> {
        self.engine.agent(id)
    }

    /// The account if the password is right.
    pub fn verify_agent(&self, id: &str, password: &str) -> Result<AgentAccount, StoreError> {
        let Some(a) = self.engine.agent(id)? else {
            return Err(StoreError::BadCredentials);
        };
        let hash = PasswordHash::new(&a.password_hash).map_err(|_| StoreError::Corrupt {
            tree: "agents",
            key: crate::codec::hex(id.as_bytes()),
            why: "password hash is not a PHC string".into(),
        })?;
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .map_err(|_| StoreError::BadCredentials)?;
        Ok(a)
    }

    /// Check records and indexes.
    pub fn check(&self) -> Result<CheckReport, StoreError> {
        self.engine.check()
    }

    /// Recompute every index from the data.
    pub fn rebuild_indexes(&self) -> Result<CheckReport, StoreError> {
        self.engine.rebuild_indexes()
    }
}
