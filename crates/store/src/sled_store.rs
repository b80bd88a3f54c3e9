//! The sled engine behind [`crate::Store`].
//!
//! One `sled::Db` per process. Every entity lives in its own tree keyed by a big-endian
//! id; every index is a tree of its own. An entity and all its index entries are written
//! in one multi-tree transaction, and a write returns only after a (shared) flush, so
//! what a caller was told is stored survives a crash of the process.

use crate::catalog::Catalog;
use crate::codec::{decode, encode, hex};
use crate::durable::GroupCommit;
use crate::error::StoreError;
use crate::model::*;
use crate::validate;
use crate::{CheckReport, Store};
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree, abort};
use sled::{Transactional, Tree};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

const ID_TREES: [usize; 3] = [CUSTOMERS, TICKETS, INTERACTIONS];

fn id_slot(kind: &str) -> usize {
    match kind {
        "customer" => 0,
        "ticket" => 1,
        _ => 2,
    }
}

fn last_ids(trees: &[Tree]) -> Result<[AtomicU64; 3], StoreError> {
    let mut out = [0u64; 3];
    for (k, t) in ID_TREES.iter().enumerate() {
        out[k] = match trees[*t].last()? {
            Some((key, _)) => tail_id(&key).unwrap_or(0),
            None => 0,
        };
    }
    Ok(out.map(AtomicU64::new))
}

/// The trees a write touches, and their transactional views by tree number.
pub(crate) struct Views<'a> {
    map: &'a [usize],
    views: &'a [TransactionalTree],
}

impl std::ops::Index<usize> for Views<'_> {
    type Output = TransactionalTree;
    fn index(&self, tree: usize) -> &TransactionalTree {
        let pos = self.map.iter().position(|t| *t == tree);
        // every write names its trees next to the code that uses them
        &self.views[pos.expect("a write used a tree it did not name")]
    }
}

const CUSTOMER_TREES: &[usize] = &[CUSTOMERS, BY_PHONE, BY_NAME, BY_MANAGER];
const TICKET_TREES: &[usize] = &[
    TICKETS,
    TICKETS_BY_CUSTOMER,
    TICKETS_BY_STATUS,
    TICKETS_BY_OWNER,
    TICKETS_BY_DEADLINE,
];
const INTERACTION_TREES: &[usize] = &[
    INTERACTIONS,
    INTERACTIONS_BY_CUSTOMER,
    INTERACTIONS_BY_AGENT,
    INTERACTIONS_BY_TIME,
    FCR_PENDING,
    INTERACTIONS_BY_CALL,
    INTERACTION_LEGS,
];

pub(crate) const CUSTOMERS: usize = 0;
pub(crate) const BY_PHONE: usize = 1;
pub(crate) const BY_NAME: usize = 2;
pub(crate) const BY_MANAGER: usize = 3;
pub(crate) const TICKETS: usize = 4;
pub(crate) const TICKETS_BY_CUSTOMER: usize = 5;
pub(crate) const TICKETS_BY_STATUS: usize = 6;
pub(crate) const TICKETS_BY_OWNER: usize = 7;
pub(crate) const TICKETS_BY_DEADLINE: usize = 8;
pub(crate) const INTERACTIONS: usize = 9;
pub(crate) const INTERACTIONS_BY_CUSTOMER: usize = 10;
pub(crate) const INTERACTIONS_BY_AGENT: usize = 11;
pub(crate) const INTERACTIONS_BY_TIME: usize = 12;
pub(crate) const FCR_PENDING: usize = 13;
pub(crate) const AGENTS: usize = 14;
pub(crate) const DEAD_LETTERS: usize = 15;
pub(crate) const INTERACTIONS_BY_CALL: usize = 16;
pub(crate) const INTERACTION_LEGS: usize = 17;
pub(crate) const SESSION_TOKENS: usize = 18;
pub(crate) const AUDIT: usize = 19;

pub(crate) const TREE_NAMES: [&str; 20] = [
    "customers",
    "customers_by_phone",
    "customers_by_name",
    "customers_by_manager",
    "tickets",
    "tickets_by_customer",
    "tickets_by_status",
    "tickets_by_owner",
    "tickets_by_deadline",
    "interactions",
    "interactions_by_customer",
    "interactions_by_agent",
    "interactions_by_time",
    "fcr_pending",
    "agents",
    "dead_letters",
    "interactions_by_call",
    "interaction_legs",
    "session_tokens",
    "audit",
];

/// The index trees (everything that [`SledStore::rebuild_indexes`] recomputes).
pub(crate) const INDEXES: [usize; 12] = [
    BY_PHONE,
    BY_NAME,
    BY_MANAGER,
    TICKETS_BY_CUSTOMER,
    TICKETS_BY_STATUS,
    TICKETS_BY_OWNER,
    TICKETS_BY_DEADLINE,
    INTERACTIONS_BY_CUSTOMER,
    INTERACTIONS_BY_AGENT,
    INTERACTIONS_BY_TIME,
    FCR_PENDING,
    INTERACTIONS_BY_CALL,
];

/// Separator between a text part and what follows in a key: NUL, which names and ids
/// may not contain (validation refuses control characters), so "张伟" sorts before
/// "张伟明" and a prefix scan for an exact id cannot run into a longer one.
const SEP: u8 = 0x00;

/// How long a claimed first-contact resolution waits for a repeat before it is verified.
pub const DEFAULT_FCR_WINDOW: Millis = 7 * DAY_MS;

pub(crate) fn be(x: u64) -> [u8; 8] {
    x.to_be_bytes()
}

pub(crate) fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Key of a text followed by an id.
pub(crate) fn text_key(text: &str, id: u64) -> Vec<u8> {
    cat(&[text.as_bytes(), &[SEP], &be(id)])
}

pub(crate) fn customer_interaction_key(customer: u64, arrived: Millis, id: u64) -> Vec<u8> {
    cat(&[&be(customer), &be(!arrived), &be(id)])
}

pub(crate) fn agent_interaction_key(agent: &str, arrived: Millis, id: u64) -> Vec<u8> {
    cat(&[agent.as_bytes(), &[SEP], &be(!arrived), &be(id)])
}

fn tail_id(key: &[u8]) -> Option<u64> {
    let b: [u8; 8] = key.get(key.len().checked_sub(8)?..)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

type Tx<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn tx_err(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Storage(e),
    }
}

/// Every index entry an entity implies: (tree, key, value).
pub(crate) type IndexEntries = Vec<(usize, Vec<u8>, Vec<u8>)>;

pub(crate) fn customer_index(c: &Customer) -> IndexEntries {
    let mut v: IndexEntries = c
        .phones
        .iter()
        .map(|p| (BY_PHONE, p.as_bytes().to_vec(), be(c.id).to_vec()))
        .collect();
    v.push((BY_NAME, text_key(&c.name, c.id), vec![]));
    if let Some(m) = &c.account_manager {
        v.push((BY_MANAGER, text_key(m, c.id), vec![]));
    }
    v
}

pub(crate) fn ticket_line(t: &Ticket) -> TicketLine {
    TicketLine {
        id: t.id,
        kind: t.kind,
        subcategory: t.subcategory.clone(),
        status: t.status,
        deadline: t.deadline,
        owner: t.owner.clone(),
    }
}

pub(crate) fn ticket_index(t: &Ticket) -> IndexEntries {
    let mut v = vec![
        (
            TICKETS_BY_CUSTOMER,
            cat(&[&be(t.customer), &be(t.id)]),
            encode(&ticket_line(t)),
        ),
        (
            TICKETS_BY_STATUS,
            cat(&[&[t.status.byte()], &be(t.id)]),
            vec![],
        ),
        (TICKETS_BY_OWNER, text_key(&t.owner, t.id), vec![]),
    ];
    if t.status.is_open() {
        v.push((
            TICKETS_BY_DEADLINE,
            cat(&[&be(t.deadline), &be(t.id)]),
            vec![],
        ));
    }
    v
}

pub(crate) fn interaction_line(i: &Interaction) -> InteractionLine {
    InteractionLine {
        id: i.id,
        arrived: i.arrived,
        reason: i.reason.clone(),
        disposition: i.disposition.clone(),
        agent: i.agents.first().cloned(),
        fcr_claimed: i.fcr_claimed,
        fcr_verified: i.fcr_verified,
    }
}

pub(crate) fn interaction_index(i: &Interaction) -> IndexEntries {
    let mut v = vec![
        (
            INTERACTIONS_BY_TIME,
            cat(&[&be(i.arrived), &be(i.id)]),
            vec![],
        ),
        (
            INTERACTIONS_BY_CALL,
            cat(&[&be(i.call_id), &be(i.id)]),
            vec![],
        ),
    ];
    if let Some(c) = i.customer {
        v.push((
            INTERACTIONS_BY_CUSTOMER,
            customer_interaction_key(c, i.arrived, i.id),
            encode(&interaction_line(i)),
        ));
        if i.fcr_verified.is_none() {
            v.push((FCR_PENDING, cat(&[&be(i.arrived), &be(i.id)]), vec![]));
        }
    }
    for a in &i.agents {
        v.push((
            INTERACTIONS_BY_AGENT,
            agent_interaction_key(a, i.arrived, i.id),
            vec![],
        ));
    }
    v
}

fn put_all(t: &Views, entries: &IndexEntries) -> Tx<()> {
    for (tree, k, v) in entries {
        t[*tree].insert(k.as_slice(), v.as_slice())?;
    }
    Ok(())
}

fn remove_all(t: &Views, entries: &IndexEntries) -> Tx<()> {
    for (tree, k, _) in entries {
        t[*tree].remove(k.as_slice())?;
    }
    Ok(())
}

fn tx_get<T: serde::de::DeserializeOwned>(
    t: &TransactionalTree,
    tree: usize,
    key: &[u8],
) -> Tx<Option<T>> {
    match t.get(key)? {
        Some(v) => decode(TREE_NAMES[tree], key, &v)
            .map(Some)
            .map_err(ConflictableTransactionError::Abort),
        None => Ok(None),
    }
}

/// sled's page cache unless configured: reads of a 1M-customer store (a full `check`)
/// peaked at 806 MB resident with 128 MB, 1.6 GB with 512 MB; screen pops stay within
/// their target (BENCHMARKS.md).
pub const DEFAULT_CACHE_BYTES: u64 = 128 * 1024 * 1024;

/// The customer store on sled.
pub struct SledStore {
    db: sled::Db,
    trees: Vec<Tree>,
    /// Next ids: customer, ticket, interaction. Seeded at open from each tree's last
    /// key; an id handed out but never made durable was never acknowledged, so handing
    /// it out again after a crash is harmless.
    ids: [AtomicU64; 3],
    commit: GroupCommit,
    catalog: Catalog,
    fcr_window: Millis,
}

/// What a directory given as a store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreDir {
    /// Nothing there yet.
    Missing,
    /// An empty directory.
    Empty,
    /// A store (sled's `conf` and `db` files).
    Store,
}

/// What `dir` is, or why it cannot be a store: a file, or a directory holding other things.
pub fn store_dir(dir: &Path) -> Result<StoreDir, StoreError> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(StoreDir::Missing),
        Err(e) => {
            return Err(StoreError::File(format!(
                "cannot read {}: {e}",
                dir.display()
            )));
        }
    };
    if !meta.is_dir() {
        return Err(StoreError::File(format!(
            "{} is a file, not a store directory",
            dir.display()
        )));
    }
    if dir.join("conf").is_file() && dir.join("db").is_file() {
        return Ok(StoreDir::Store);
    }
    let mut entries = std::fs::read_dir(dir)
        .map_err(|e| StoreError::File(format!("cannot read {}: {e}", dir.display())))?;
    if entries.next().is_none() {
        Ok(StoreDir::Empty)
    } else {
        Err(StoreError::File(format!(
            "{} holds other files and no store; give the directory of a store, or a new or empty one",
            dir.display()
        )))
    }
}

impl SledStore {
    /// Open the store in `dir`, or create one there if it is missing or empty; a file or
    /// a directory holding anything else is refused. A store just closed by this process
    /// may keep its lock for a moment (sled's flusher thread lets go last), so a lock
    /// conflict is retried for up to two seconds before it is reported.
    pub fn open(dir: &Path, catalog: Catalog) -> Result<SledStore, StoreError> {
        SledStore::open_with_cache(dir, catalog, DEFAULT_CACHE_BYTES)
    }

    /// Open the store that must already be in `dir` (check, export, backup): a missing
    /// or empty directory is refused rather than made into a new, empty store.
    pub fn open_existing(dir: &Path, catalog: Catalog) -> Result<SledStore, StoreError> {
        match store_dir(dir)? {
            StoreDir::Store => SledStore::open_dir(dir, catalog, DEFAULT_CACHE_BYTES),
            StoreDir::Missing | StoreDir::Empty => Err(StoreError::File(format!(
                "there is no store in {}",
                dir.display()
            ))),
        }
    }

    /// [`SledStore::open`] with sled's page cache set to `cache_bytes`.
    pub fn open_with_cache(
        dir: &Path,
        catalog: Catalog,
        cache_bytes: u64,
    ) -> Result<SledStore, StoreError> {
        store_dir(dir)?;
        SledStore::open_dir(dir, catalog, cache_bytes)
    }

    /// Open `dir`, already known to be a store or a place for a new one.
    fn open_dir(dir: &Path, catalog: Catalog, cache_bytes: u64) -> Result<SledStore, StoreError> {
        let mut tries = 0;
        let db = loop {
            match sled::Config::new()
                .path(dir)
                .cache_capacity(cache_bytes)
                .open()
            {
                Ok(db) => break db,
                // sled reports a held lock as an `Other` I/O error with this message
                Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                    tries += 1;
                    if tries > 40 {
                        return Err(StoreError::File(format!(
                            "the store in {} is in use by another process (is a router running on it?)",
                            dir.display()
                        )));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => return Err(e.into()),
            }
        };
        // the log file sled writes, synced after each flush (see `durable`), and the
        // directory, so that the file itself survives a power cut after its creation
        let log = std::fs::File::open(dir.join("db")).map_err(sled::Error::from)?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(sled::Error::from)?;
        SledStore::on(db, Some(log), catalog)
    }

    /// A throw-away store in a temporary directory (tests, benchmarks).
    pub fn temporary(catalog: Catalog) -> Result<SledStore, StoreError> {
        SledStore::on(sled::Config::new().temporary(true).open()?, None, catalog)
    }

    fn on(
        db: sled::Db,
        log: Option<std::fs::File>,
        catalog: Catalog,
    ) -> Result<SledStore, StoreError> {
        let trees = TREE_NAMES
            .iter()
            .map(|n| db.open_tree(n))
            .collect::<Result<Vec<_>, _>>()?;
        // stores written before the call-id index: build it once
        if trees[INTERACTIONS_BY_CALL].is_empty() && !trees[INTERACTIONS].is_empty() {
            for kv in trees[INTERACTIONS].iter() {
                let (k, v) = kv?;
                let i: Interaction = decode(TREE_NAMES[INTERACTIONS], &k, &v)?;
                trees[INTERACTIONS_BY_CALL].insert(cat(&[&be(i.call_id), &be(i.id)]), vec![])?;
            }
            db.flush()?;
        }
        Ok(SledStore {
            ids: last_ids(&trees)?,
            commit: GroupCommit::new(db.clone(), log),
            db,
            trees,
            catalog,
            fcr_window: DEFAULT_FCR_WINDOW,
        })
    }

    /// Change the FCR verification window.
    pub fn with_fcr_window(mut self, window: Millis) -> Self {
        self.fcr_window = window;
        self
    }

    /// The ticket catalogue in use.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Bytes on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    /// Flushes done by group commit so far.
    pub fn flushes(&self) -> u64 {
        self.commit.flushes()
    }

    pub(crate) fn tree(&self, t: usize) -> &Tree {
        &self.trees[t]
    }

    /// Flush everything to disk now.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Run `f` as one transaction over the named trees, then wait until it is durable.
    fn transact<R>(&self, names: &[usize], f: impl Fn(&Views) -> Tx<R>) -> Result<R, StoreError> {
        let trees: Vec<&Tree> = names.iter().map(|t| &self.trees[*t]).collect();
        let r = trees[..]
            .transaction(|views: &Vec<TransactionalTree>| f(&Views { map: names, views }))
            .map_err(tx_err)?;
        self.commit.wait()?;
        Ok(r)
    }

    /// A new id for `kind` ("customer", "ticket", "interaction").
    fn next_id(&self, kind: &str) -> Result<u64, StoreError> {
        Ok(self.ids[id_slot(kind)].fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// Make sure ids of `kind` continue after `id` (imports keep their ids).
    pub(crate) fn bump_id(&self, kind: &str, id: u64) -> Result<(), StoreError> {
        self.ids[id_slot(kind)].fetch_max(id, Ordering::Relaxed);
        Ok(())
    }

    fn get<T: serde::de::DeserializeOwned>(
        &self,
        tree: usize,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        match self.trees[tree].get(key)? {
            Some(v) => decode(TREE_NAMES[tree], key, &v).map(Some),
            None => Ok(None),
        }
    }

    fn ids_by_prefix(
        &self,
        tree: usize,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::new();
        for kv in self.trees[tree].scan_prefix(prefix).take(limit) {
            let (k, _) = kv?;
            if let Some(id) = tail_id(&k) {
                out.push(id);
            }
        }
        Ok(out)
    }

    fn load_many<T: serde::de::DeserializeOwned>(
        &self,
        tree: usize,
        ids: &[u64],
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(x) = self.get(tree, &be(*id))? {
                out.push(x);
            }
        }
        Ok(out)
    }

    /// Write a customer keeping its id (imports, seeding): like `put_customer` but the id
    /// is given.
    pub(crate) fn put_customer_with_id(&self, c: &Customer) -> Result<(), StoreError> {
        validate::customer(c)?;
        self.bump_id("customer", c.id)?;
        self.write_customer(c)
    }

    fn write_customer(&self, c: &Customer) -> Result<(), StoreError> {
        let key = be(c.id);
        self.transact(CUSTOMER_TREES, |t| {
            let old: Option<Customer> = tx_get(&t[CUSTOMERS], CUSTOMERS, &key)?;
            for p in &c.phones {
                if let Some(owner) = t[BY_PHONE].get(p.as_bytes())? {
                    let owner = tail_id(&owner).unwrap_or(0);
                    if owner != c.id {
                        return abort(StoreError::PhoneTaken {
                            phone: crate::mask::phone(p),
                            owner,
                        });
                    }
                }
            }
            if let Some(old) = &old {
                remove_all(t, &customer_index(old))?;
            }
            t[CUSTOMERS].insert(&key, encode(c))?;
            put_all(t, &customer_index(c))
        })
    }

    /// Write a ticket keeping its id (imports).
    pub(crate) fn put_ticket_with_id(&self, tk: &Ticket) -> Result<(), StoreError> {
        self.bump_id("ticket", tk.id)?;
        self.replace(TICKET_TREES, tk.id, tk, ticket_index)
    }

    /// Write an interaction keeping its id (imports).
    pub(crate) fn put_interaction_with_id(&self, i: &Interaction) -> Result<(), StoreError> {
        validate::interaction(i)?;
        self.bump_id("interaction", i.id)?;
        self.replace(INTERACTION_TREES, i.id, i, interaction_index)
    }

    /// Store `record` under `id` in the first of `trees` (its entity tree), replacing an
    /// older version and its index entries, in one transaction.
    fn replace<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        trees: &[usize],
        id: u64,
        record: &T,
        index: fn(&T) -> IndexEntries,
    ) -> Result<(), StoreError> {
        let (entity, key) = (trees[0], be(id));
        self.transact(trees, |t| {
            if let Some(old) = tx_get::<T>(&t[entity], entity, &key)? {
                remove_all(t, &index(&old))?;
            }
            t[entity].insert(&key, encode(record))?;
            put_all(t, &index(record))
        })
    }

    /// Store an account whose password hash is already made (imports, benchmarks that
    /// need thousands of accounts without thousands of argon2 runs).
    pub fn put_hashed_agent(&self, a: &AgentAccount) -> Result<(), StoreError> {
        self.put_agent_raw(a)
    }

    /// Write an agent account as it is (imports).
    pub(crate) fn put_agent_raw(&self, a: &AgentAccount) -> Result<(), StoreError> {
        validate::agent(a)?;
        self.trees[AGENTS].insert(a.id.as_bytes(), encode(a))?;
        self.commit.wait()?;
        Ok(())
    }

    /// Every record of an entity tree, decoded (exports, checks).
    pub(crate) fn scan_all<T: serde::de::DeserializeOwned>(
        &self,
        tree: usize,
    ) -> impl Iterator<Item = Result<T, StoreError>> + '_ {
        self.trees[tree].iter().map(move |kv| {
            let (k, v) = kv?;
            decode(TREE_NAMES[tree], &k, &v)
        })
    }

    /// Insert without transactions or flushes, for bulk seeding: entity and index entries
    /// in per-tree batches. Not crash-atomic across trees: `check`/`rebuild` repair a
    /// seed interrupted half-way.
    pub(crate) fn bulk(&self, batches: Vec<sled::Batch>) -> Result<(), StoreError> {
        for (tree, b) in batches.into_iter().enumerate() {
            self.trees[tree].apply_batch(b)?;
        }
        Ok(())
    }

    /// Reserve `n` consecutive ids of `kind`; returns the first.
    pub(crate) fn reserve_ids(&self, kind: &str, n: u64) -> Result<u64, StoreError> {
        Ok(self.ids[id_slot(kind)].fetch_add(n, Ordering::Relaxed) + 1)
    }

    /// A ticket and its customer's segment (deadlines depend on it), or NOT_FOUND.
    fn ticket_and_segment(&self, id: u64) -> Result<(Ticket, Segment), StoreError> {
        let Some(t) = self.ticket(id)? else {
            return Err(StoreError::NotFound {
                what: "ticket",
                id: id.to_string(),
            });
        };
        let segment = self
            .customer(t.customer)?
            .map_or(Segment::Public, |c| c.segment);
        Ok((t, segment))
    }

    /// A new ticket as it will be stored, checked against the catalog and the customer
    /// (its id taken, nothing written).
    fn opened_ticket(&self, new: NewTicket, by: &str, now: Millis) -> Result<Ticket, StoreError> {
        validate::new_ticket(&new)?;
        self.catalog.check(new.kind, &new.subcategory)?;
        if by.trim().is_empty() || by.chars().any(char::is_control) {
            return Err(StoreError::Invalid {
                field: "owner",
                why: "a ticket needs the id of the agent who takes it".into(),
            });
        }
        let Some(customer) = self.customer(new.customer)? else {
            return Err(StoreError::NotFound {
                what: "customer",
                id: new.customer.to_string(),
            });
        };
        let id = self.next_id("ticket")?;
        Ok(Ticket {
            id,
            customer: new.customer,
            kind: new.kind,
            subcategory: new.subcategory,
            description: new.description,
            priority: new.priority,
            status: TicketStatus::New,
            owner: by.to_string(),
            back_office: None,
            created: now,
            deadline: self.catalog.deadline(new.kind, customer.segment, now),
            satisfaction: None,
            history: vec![TicketEvent {
                at: now,
                by: by.to_string(),
                change: TicketChange::Note {
                    text: "opened".into(),
                },
                status: TicketStatus::New,
            }],
        })
    }

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
        let next = match change {
            TicketChange::Dispatch { group } => {
                validate::change_text("group", group)?;
                if !matches!(t.status, New | InProgress | Reopened | Dispatched) {
                    return Err(illegal("be dispatched"));
                }
                t.back_office = Some(group.clone());
                Dispatched
            }
            TicketChange::Start => {
                if !matches!(t.status, New | Dispatched | Reopened) {
                    return Err(illegal("start"));
                }
                InProgress
            }
            TicketChange::Resolve { note } => {
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
            change: change.clone(),
            status: next,
        });
        Ok(())
    }

    fn settle_one(
        &self,
        id: u64,
        verdict: impl Fn(&Interaction) -> bool,
    ) -> Result<bool, StoreError> {
        let key = be(id);
        self.transact(INTERACTION_TREES, |t| {
            let Some(mut i) = tx_get::<Interaction>(&t[INTERACTIONS], INTERACTIONS, &key)? else {
                return Ok(false);
            };
            if i.fcr_verified.is_some() {
                return Ok(false);
            }
            remove_all(t, &interaction_index(&i))?;
            i.fcr_verified = Some(verdict(&i));
            t[INTERACTIONS].insert(&key, encode(&i))?;
            put_all(t, &interaction_index(&i))?;
            Ok(true)
        })
    }
}

impl Store for SledStore {
    fn put_customer(&self, mut c: Customer) -> Result<Customer, StoreError> {
        validate::customer(&c)?;
        if c.id == 0 {
            c.id = self.next_id("customer")?;
        } else if self.get::<Customer>(CUSTOMERS, &be(c.id))?.is_none() {
            return Err(StoreError::NotFound {
                what: "customer",
                id: c.id.to_string(),
            });
        }
        self.write_customer(&c)?;
        Ok(c)
    }

    fn customer(&self, id: u64) -> Result<Option<Customer>, StoreError> {
        self.get(CUSTOMERS, &be(id))
    }

    fn customer_by_phone(&self, phone: &str) -> Result<Option<Customer>, StoreError> {
        match self.trees[BY_PHONE].get(phone.as_bytes())? {
            Some(id) => match tail_id(&id) {
                Some(id) => self.customer(id),
                None => Err(StoreError::Corrupt {
                    tree: TREE_NAMES[BY_PHONE],
                    key: hex(phone.as_bytes()),
                    why: "value is not a customer id".into(),
                }),
            },
            None => Ok(None),
        }
    }

    fn customers_by_name(&self, prefix: &str, limit: usize) -> Result<Vec<Customer>, StoreError> {
        if prefix.is_empty() {
            return Err(StoreError::Invalid {
                field: "name",
                why: "give at least one character to search by".into(),
            });
        }
        let ids = self.ids_by_prefix(BY_NAME, prefix.as_bytes(), limit)?;
        self.load_many(CUSTOMERS, &ids)
    }

    fn customers_of_manager(&self, agent: &str, limit: usize) -> Result<Vec<Customer>, StoreError> {
        let ids = self.ids_by_prefix(BY_MANAGER, &cat(&[agent.as_bytes(), &[SEP]]), limit)?;
        self.load_many(CUSTOMERS, &ids)
    }

    fn screen_pop(&self, phone: &str, recent: usize) -> Result<Option<ScreenPop>, StoreError> {
        let Some(customer) = self.customer_by_phone(phone)? else {
            return Ok(None);
        };
        let prefix = be(customer.id);
        let mut open_tickets = Vec::new();
        for kv in self.trees[TICKETS_BY_CUSTOMER].scan_prefix(prefix) {
            let (k, v) = kv?;
            let line: TicketLine = decode(TREE_NAMES[TICKETS_BY_CUSTOMER], &k, &v)?;
            if line.status != TicketStatus::Closed {
                open_tickets.push(line);
            }
        }
        let mut lines = Vec::with_capacity(recent);
        for kv in self.trees[INTERACTIONS_BY_CUSTOMER]
            .scan_prefix(prefix)
            .take(recent)
        {
            let (k, v) = kv?;
            lines.push(decode(TREE_NAMES[INTERACTIONS_BY_CUSTOMER], &k, &v)?);
        }
        Ok(Some(ScreenPop {
            customer,
            open_tickets,
            recent: lines,
        }))
    }

    fn record_interaction(&self, mut i: Interaction) -> Result<Interaction, StoreError> {
        validate::interaction(&i)?;
        if let Some(c) = i.customer {
            if self.customer(c)?.is_none() {
                return Err(StoreError::NotFound {
                    what: "customer",
                    id: c.to_string(),
                });
            }
        }
        i.id = self.next_id("interaction")?;
        i.fcr_verified = None;
        // earlier contacts of the same customer about the same reason, still waiting to
        // be verified: this call is their repeat
        let mut repeats = Vec::new();
        if let (Some(c), Some(reason)) = (i.customer, &i.reason) {
            let since = i.arrived.saturating_sub(self.fcr_window);
            for kv in self.trees[INTERACTIONS_BY_CUSTOMER].scan_prefix(be(c)) {
                let (k, v) = kv?;
                let line: InteractionLine = decode(TREE_NAMES[INTERACTIONS_BY_CUSTOMER], &k, &v)?;
                if line.arrived < since {
                    break; // newest first: the rest are older
                }
                if line.fcr_verified.is_none()
                    && line.reason.as_deref() == Some(reason)
                    && line.arrived <= i.arrived
                {
                    repeats.push(line.id);
                }
            }
        }
        let key = be(i.id);
        let legs = (!i.legs.is_empty()).then(|| encode(&i.legs));
        self.transact(INTERACTION_TREES, |t| {
            t[INTERACTIONS].insert(&key, encode(&i))?;
            if let Some(legs) = &legs {
                t[INTERACTION_LEGS].insert(&key, legs.as_slice())?;
            }
            put_all(t, &interaction_index(&i))?;
            for id in &repeats {
                let k = be(*id);
                if let Some(mut old) = tx_get::<Interaction>(&t[INTERACTIONS], INTERACTIONS, &k)? {
                    if old.fcr_verified.is_none() {
                        remove_all(t, &interaction_index(&old))?;
                        old.fcr_verified = Some(false);
                        t[INTERACTIONS].insert(&k, encode(&old))?;
                        put_all(t, &interaction_index(&old))?;
                    }
                }
            }
            Ok(())
        })?;
        Ok(i)
    }

    fn interaction(&self, id: u64) -> Result<Option<Interaction>, StoreError> {
        let Some(mut i) = self.get::<Interaction>(INTERACTIONS, &be(id))? else {
            return Ok(None);
        };
        i.legs = self.get(INTERACTION_LEGS, &be(id))?.unwrap_or_default();
        Ok(Some(i))
    }

    fn interaction_by_call(&self, call_id: u64) -> Result<Option<Interaction>, StoreError> {
        match self
            .ids_by_prefix(INTERACTIONS_BY_CALL, &be(call_id), 1)?
            .first()
        {
            Some(id) => self.interaction(*id),
            None => Ok(None),
        }
    }

    fn interactions_of_customer(
        &self,
        customer: u64,
        limit: usize,
    ) -> Result<Vec<Interaction>, StoreError> {
        let ids = self.ids_by_prefix(INTERACTIONS_BY_CUSTOMER, &be(customer), limit)?;
        self.load_many(INTERACTIONS, &ids)
    }

    fn interactions_of_agent(
        &self,
        agent: &str,
        limit: usize,
    ) -> Result<Vec<Interaction>, StoreError> {
        let ids = self.ids_by_prefix(
            INTERACTIONS_BY_AGENT,
            &cat(&[agent.as_bytes(), &[SEP]]),
            limit,
        )?;
        self.load_many(INTERACTIONS, &ids)
    }

    fn interactions_between(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<Interaction>, StoreError> {
        let mut ids = Vec::new();
        for kv in self.trees[INTERACTIONS_BY_TIME]
            .range(be(from).to_vec()..be(to).to_vec())
            .take(limit)
        {
            let (k, _) = kv?;
            ids.extend(tail_id(&k));
        }
        self.load_many(INTERACTIONS, &ids)
    }

    fn settle_fcr(&self, now: Millis) -> Result<u64, StoreError> {
        let cutoff = now.saturating_sub(self.fcr_window);
        let mut settled = 0;
        loop {
            let mut ids = Vec::new();
            for kv in self.trees[FCR_PENDING]
                .range(..be(cutoff).to_vec())
                .take(1000)
            {
                let (k, _) = kv?;
                ids.extend(tail_id(&k));
            }
            if ids.is_empty() {
                return Ok(settled);
            }
            for id in ids {
                if self.settle_one(id, |i| i.fcr_claimed)? {
                    settled += 1;
                } else {
                    // already settled: a stale pending entry; drop it
                    let i: Option<Interaction> = self.interaction(id)?;
                    let arrived = i.map_or(0, |i| i.arrived);
                    self.trees[FCR_PENDING].remove(cat(&[&be(arrived), &be(id)]))?;
                }
            }
        }
    }

    fn create_ticket(&self, new: NewTicket, by: &str, now: Millis) -> Result<Ticket, StoreError> {
        let t = self.opened_ticket(new, by, now)?;
        let key = be(t.id);
        self.transact(TICKET_TREES, |tx| {
            tx[TICKETS].insert(&key, encode(&t))?;
            put_all(tx, &ticket_index(&t))
        })?;
        Ok(t)
    }

    fn wrap_up_tickets(
        &self,
        new: Vec<NewTicket>,
        changes: Vec<(u64, TicketChange)>,
        by: &str,
        now: Millis,
    ) -> Result<Vec<Ticket>, StoreError> {
        // everything is checked before anything is written
        let opened = new
            .into_iter()
            .map(|n| self.opened_ticket(n, by, now))
            .collect::<Result<Vec<_>, _>>()?;
        let mut changed = Vec::with_capacity(changes.len());
        for (id, change) in changes {
            let (mut t, segment) = self.ticket_and_segment(id)?;
            self.ticket_change(&mut t, &change, by, now, segment)?;
            changed.push((id, change, segment));
        }
        self.transact(TICKET_TREES, |tx| {
            for t in &opened {
                tx[TICKETS].insert(&be(t.id), encode(t))?;
                put_all(tx, &ticket_index(t))?;
            }
            for (id, change, segment) in &changed {
                let key = be(*id);
                let Some(mut t) = tx_get::<Ticket>(&tx[TICKETS], TICKETS, &key)? else {
                    return abort(StoreError::NotFound {
                        what: "ticket",
                        id: id.to_string(),
                    });
                };
                let old = ticket_index(&t);
                if let Err(e) = self.ticket_change(&mut t, change, by, now, *segment) {
                    return abort(e);
                }
                remove_all(tx, &old)?;
                tx[TICKETS].insert(&key, encode(&t))?;
                put_all(tx, &ticket_index(&t))?;
            }
            Ok(())
        })?;
        Ok(opened)
    }

    fn agent_accounts(&self) -> Result<Vec<AgentAccount>, StoreError> {
        self.scan_all(AGENTS).collect()
    }

    fn put_session_token(&self, token: SessionToken) -> Result<(), StoreError> {
        let prefix = cat(&[token.agent.as_bytes(), &[SEP]]);
        let mut batch = sled::Batch::default();
        for kv in self.trees[SESSION_TOKENS].scan_prefix(&prefix) {
            let (k, _) = kv?;
            batch.remove(k);
        }
        batch.insert(cat(&[&prefix, token.digest.as_bytes()]), encode(&token));
        self.trees[SESSION_TOKENS].apply_batch(batch)?;
        Ok(self.commit.wait()?)
    }

    fn revoke_session_tokens(&self, agent: &str, issued_before: Millis) -> Result<(), StoreError> {
        let prefix = cat(&[agent.as_bytes(), &[SEP]]);
        let mut batch = sled::Batch::default();
        for kv in self.trees[SESSION_TOKENS].scan_prefix(&prefix) {
            let (k, v) = kv?;
            let t: SessionToken = decode(TREE_NAMES[SESSION_TOKENS], &k, &v)?;
            if t.issued < issued_before {
                batch.remove(k);
            }
        }
        self.trees[SESSION_TOKENS].apply_batch(batch)?;
        Ok(self.commit.wait()?)
    }

    fn session_tokens(&self) -> Result<Vec<SessionToken>, StoreError> {
        self.scan_all(SESSION_TOKENS).collect()
    }

    fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        let n = self.db.generate_id()?;
        self.trees[AUDIT].insert(cat(&[&be(entry.at), &be(n)]), encode(&entry))?;
        Ok(self.commit.wait()?)
    }

    fn audit_trail(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.trees[AUDIT]
            .range(be(from).to_vec()..be(to).to_vec())
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                decode(TREE_NAMES[AUDIT], &k, &v)
            })
            .collect()
    }

    fn put_dead_letter(&self, letter: DeadLetter) -> Result<(), StoreError> {
        let id = self.db.generate_id()?;
        self.trees[DEAD_LETTERS].insert(cat(&[&be(letter.at), &be(id)]), encode(&letter))?;
        Ok(self.commit.wait()?)
    }

    fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        self.trees[DEAD_LETTERS]
            .iter()
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                decode(TREE_NAMES[DEAD_LETTERS], &k, &v)
            })
            .collect()
    }

    fn update_ticket(
        &self,
        id: u64,
        change: TicketChange,
        by: &str,
        now: Millis,
    ) -> Result<Ticket, StoreError> {
        let key = be(id);
        let (_, segment) = self.ticket_and_segment(id)?;
        self.transact(TICKET_TREES, |tx| {
            let Some(mut t) = tx_get::<Ticket>(&tx[TICKETS], TICKETS, &key)? else {
                return abort(StoreError::NotFound {
                    what: "ticket",
                    id: id.to_string(),
                });
            };
            let old = ticket_index(&t);
            if let Err(e) = self.ticket_change(&mut t, &change, by, now, segment) {
                return abort(e);
            }
            remove_all(tx, &old)?;
            tx[TICKETS].insert(&key, encode(&t))?;
            put_all(tx, &ticket_index(&t))?;
            Ok(t)
        })
    }

    fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError> {
        self.get(TICKETS, &be(id))
    }

    fn tickets_of_customer(&self, customer: u64) -> Result<Vec<Ticket>, StoreError> {
        let ids = self.ids_by_prefix(TICKETS_BY_CUSTOMER, &be(customer), usize::MAX)?;
        self.load_many(TICKETS, &ids)
    }

    fn tickets_by_status(
        &self,
        status: TicketStatus,
        limit: usize,
    ) -> Result<Vec<Ticket>, StoreError> {
        let ids = self.ids_by_prefix(TICKETS_BY_STATUS, &[status.byte()], limit)?;
        self.load_many(TICKETS, &ids)
    }

    fn tickets_of_owner(&self, owner: &str, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        let ids = self.ids_by_prefix(TICKETS_BY_OWNER, &cat(&[owner.as_bytes(), &[SEP]]), limit)?;
        self.load_many(TICKETS, &ids)
    }

    fn overdue_tickets(&self, now: Millis, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        let mut ids = Vec::new();
        for kv in self.trees[TICKETS_BY_DEADLINE]
            .range(..be(now).to_vec())
            .take(limit)
        {
            let (k, _) = kv?;
            ids.extend(tail_id(&k));
        }
        self.load_many(TICKETS, &ids)
    }

    fn set_agent(&self, mut account: AgentAccount, password: &str) -> Result<(), StoreError> {
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
        self.put_agent_raw(&account)
    }

    fn agent(&self, id: &str) -> Result<Option<AgentAccount>, StoreError> {
        self.get(AGENTS, id.as_bytes())
    }

    fn verify_agent(&self, id: &str, password: &str) -> Result<AgentAccount, StoreError> {
        let Some(a) = self.agent(id)? else {
            return Err(StoreError::BadCredentials);
        };
        let hash = PasswordHash::new(&a.password_hash).map_err(|_| StoreError::Corrupt {
            tree: TREE_NAMES[AGENTS],
            key: hex(id.as_bytes()),
            why: "password hash is not a PHC string".into(),
        })?;
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .map_err(|_| StoreError::BadCredentials)?;
        Ok(a)
    }

    fn check(&self) -> Result<CheckReport, StoreError> {
        crate::check::check(self)
    }

    fn rebuild_indexes(&self) -> Result<CheckReport, StoreError> {
        crate::check::rebuild(self)
    }
}
