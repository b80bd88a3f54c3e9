//! The sled engine under [`crate::Store`]: the embedded default, needing no server.
//!
//! One `sled::Db` per process. Every entity lives in its own tree keyed by a big-endian
//! id; every index is a tree of its own. A commit's records and all their index entries
//! are written in one multi-tree transaction, and a commit returns only after a (shared)
//! flush and an `fdatasync` of sled's log, so what a caller was told is stored survives
//! a crash of the process and a power cut.

use crate::CheckReport;
use crate::codec::{decode, encode, hex};
use crate::durable::GroupCommit;
use crate::engine::{Commit, Engine, Expect, IdKind, Put, Remove};
use crate::error::StoreError;
use crate::model::*;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree, abort};
use sled::{Transactional, Tree};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

const ID_TREES: [usize; 4] = [CUSTOMERS, TICKETS, INTERACTIONS, INCIDENTS];

fn last_ids(trees: &[Tree]) -> Result<[AtomicU64; 4], StoreError> {
    let mut out = [0u64; 4];
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

const CUSTOMER_TREES: &[usize] = &[
    CUSTOMERS,
    BY_PHONE,
    BY_NAME,
    BY_MANAGER,
    CUSTOMER_PROFILES,
    KEY_ACCOUNTS,
    AREA_POPULATION,
];
const TICKET_TREES: &[usize] = &[
    TICKETS,
    TICKETS_BY_CUSTOMER,
    TICKETS_BY_STATUS,
    TICKETS_BY_OWNER,
    TICKETS_BY_DEADLINE,
    TICKETS_BY_OFFICE,
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
pub(crate) const TICKETS_BY_OFFICE: usize = 20;
pub(crate) const INTERVALS: usize = 21;
pub(crate) const CUSTOMER_PROFILES: usize = 22;
/// Key accounts by id → their manager's work number (empty for none).
pub(crate) const KEY_ACCOUNTS: usize = 23;
/// district ‖ SEP ‖ 小区 → customers living there (a big-endian count), moved in the
/// same transaction as the customer: not an index (it has no entry per record), checked
/// and rebuilt by counting.
pub(crate) const AREA_POPULATION: usize = 24;
/// Area incidents by number.
pub(crate) const INCIDENTS: usize = 25;
/// incident ‖ ticket → the link of a ticket to an incident.
pub(crate) const INCIDENT_LINKS: usize = 26;

pub(crate) const TREE_NAMES: [&str; 27] = [
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
    "tickets_by_office",
    "intervals",
    "customer_profiles",
    "key_accounts",
    "area_population",
    "incidents",
    "incident_links",
];

/// The index trees (everything that [`Store::rebuild_indexes`] recomputes).
pub(crate) const INDEXES: [usize; 15] = [
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
    TICKETS_BY_OFFICE,
    CUSTOMER_PROFILES,
    KEY_ACCOUNTS,
];

/// Separator between a text part and what follows in a key: NUL, which names and ids
/// may not contain (validation refuses control characters), so "张伟" sorts before
/// "张伟明" and a prefix scan for an exact id cannot run into a longer one.
const SEP: u8 = 0x00;

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
    v.push((CUSTOMER_PROFILES, be(c.id).to_vec(), encode(&c.profile())));
    if c.segment == Segment::KeyAccount {
        let manager = c.account_manager.as_deref().unwrap_or_default();
        v.push((KEY_ACCOUNTS, be(c.id).to_vec(), manager.as_bytes().to_vec()));
    }
    v
}

/// The key of a (district, 小区) in [`AREA_POPULATION`].
pub(crate) fn area_key(district: &str, area: &str) -> Vec<u8> {
    cat(&[district.as_bytes(), &[SEP], area.as_bytes()])
}

/// A (district, 小区) from its key.
pub(crate) fn area_of_key(key: &[u8]) -> Option<(String, String)> {
    let at = key.iter().position(|b| *b == SEP)?;
    let district = std::str::from_utf8(&key[..at]).ok()?;
    let area = std::str::from_utf8(&key[at + 1..]).ok()?;
    Some((district.to_string(), area.to_string()))
}

/// A count kept in [`AREA_POPULATION`].
pub(crate) fn count_of(v: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(v.try_into().ok()?))
}

/// Move one customer between areas in a transaction (from none when new).
fn move_population(t: &Views, from: Option<&[u8]>, to: &[u8]) -> Tx<()> {
    if from == Some(to) {
        return Ok(());
    }
    let tree = &t[AREA_POPULATION];
    let add = |key: &[u8], up: bool| -> Tx<()> {
        let n = tree.get(key)?.and_then(|v| count_of(&v)).unwrap_or(0);
        let n = if up { n + 1 } else { n.saturating_sub(1) };
        if n == 0 {
            tree.remove(key)?;
        } else {
            tree.insert(key, &be(n))?;
        }
        Ok(())
    };
    if let Some(from) = from {
        add(from, false)?;
    }
    add(to, true)
}

pub(crate) fn ticket_index(t: &Ticket) -> IndexEntries {
    let mut v = vec![
        (
            TICKETS_BY_CUSTOMER,
            cat(&[&be(t.customer), &be(t.id)]),
            encode(&t.line()),
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
        if let Some(group) = &t.back_office {
            v.push((
                TICKETS_BY_OFFICE,
                office_key(group, t.deadline, t.id),
                vec![],
            ));
        }
    }
    v
}

/// A back-office group's open ticket, by deadline: group ‖ SEP ‖ deadline ‖ ticket.
fn office_key(group: &str, deadline: Millis, id: u64) -> Vec<u8> {
    cat(&[group.as_bytes(), &[SEP], &be(deadline), &be(id)])
}

pub(crate) fn interaction_index(i: &Interaction) -> IndexEntries {
    let mut v = vec![
        (
            // the record itself: a period's contacts are read in one range scan, with
            // no read of the record per entry (an empty value: a store written before,
            // read through the record; `hotline store rebuild` fills it)
            INTERACTIONS_BY_TIME,
            cat(&[&be(i.arrived), &be(i.id)]),
            encode(i),
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
            encode(&i.line()),
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

/// The sled engine.
pub struct SledEngine {
    db: sled::Db,
    trees: Vec<Tree>,
    /// Next ids: customer, ticket, interaction. Seeded at open from each tree's last
    /// key; an id handed out but never made durable was never acknowledged, so handing
    /// it out again after a crash is harmless.
    ids: [AtomicU64; 4],
    commit: GroupCommit,
    /// Where it is, for messages.
    place: String,
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

impl SledEngine {
    /// Open the store in `dir`, or create one there if it is missing or empty; a file or
    /// a directory holding anything else is refused. A store just closed by this process
    /// may keep its lock for a moment (sled's flusher thread lets go last), so a lock
    /// conflict is retried for up to two seconds before it is reported.
    pub fn open(dir: &Path) -> Result<SledEngine, StoreError> {
        SledEngine::open_with_cache(dir, DEFAULT_CACHE_BYTES)
    }

    /// Open the store that must already be in `dir` (check, export, backup): a missing
    /// or empty directory is refused rather than made into a new, empty store.
    pub fn open_existing(dir: &Path) -> Result<SledEngine, StoreError> {
        SledEngine::open_existing_with_cache(dir, DEFAULT_CACHE_BYTES)
    }

    /// [`SledEngine::open_existing`] with sled's page cache set to `cache_bytes`.
    pub fn open_existing_with_cache(
        dir: &Path,
        cache_bytes: u64,
    ) -> Result<SledEngine, StoreError> {
        match store_dir(dir)? {
            StoreDir::Store => SledEngine::open_dir(dir, cache_bytes),
            StoreDir::Missing | StoreDir::Empty => Err(StoreError::File(format!(
                "there is no store in {}",
                dir.display()
            ))),
        }
    }

    /// [`SledEngine::open`] with sled's page cache set to `cache_bytes`.
    pub fn open_with_cache(dir: &Path, cache_bytes: u64) -> Result<SledEngine, StoreError> {
        store_dir(dir)?;
        SledEngine::open_dir(dir, cache_bytes)
    }

    /// Open `dir`, already known to be a store or a place for a new one.
    fn open_dir(dir: &Path, cache_bytes: u64) -> Result<SledEngine, StoreError> {
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
        SledEngine::on(db, Some(log), dir.display().to_string())
    }

    /// A throw-away store in a temporary directory (tests, benchmarks).
    pub fn temporary() -> Result<SledEngine, StoreError> {
        let db = sled::Config::new().temporary(true).open()?;
        SledEngine::on(db, None, "a temporary directory".into())
    }

    fn on(
        db: sled::Db,
        log: Option<std::fs::File>,
        place: String,
    ) -> Result<SledEngine, StoreError> {
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
        // stores written before the customers' profiles: build them once
        if trees[CUSTOMER_PROFILES].is_empty() && !trees[CUSTOMERS].is_empty() {
            // in batches, so that memory stays bounded whatever the store holds
            let (mut batch, mut n) = (sled::Batch::default(), 0);
            for kv in trees[CUSTOMERS].iter() {
                let (k, v) = kv?;
                // a record that does not decode is left for `check` to report
                if let Ok(c) = decode::<Customer>(TREE_NAMES[CUSTOMERS], &k, &v) {
                    batch.insert(k, encode(&c.profile()));
                    n += 1;
                }
                if n == 10_000 {
                    trees[CUSTOMER_PROFILES].apply_batch(std::mem::take(&mut batch))?;
                    n = 0;
                }
            }
            trees[CUSTOMER_PROFILES].apply_batch(batch)?;
            db.flush()?;
        }
        // stores written before the key-account index and the areas' counts: build
        // them once (any customer implies a count, so an empty count tree over
        // customers means a store of the earlier shape)
        if trees[AREA_POPULATION].is_empty() && !trees[CUSTOMER_PROFILES].is_empty() {
            let mut counts: std::collections::BTreeMap<Vec<u8>, u64> = Default::default();
            let (mut batch, mut n) = (sled::Batch::default(), 0);
            for kv in trees[CUSTOMERS].iter() {
                let (k, v) = kv?;
                // a record that does not decode is left for `check` to report
                let Ok(c) = decode::<Customer>(TREE_NAMES[CUSTOMERS], &k, &v) else {
                    continue;
                };
                *counts.entry(area_key(&c.district, &c.area)).or_default() += 1;
                for (t, key, value) in customer_index(&c) {
                    if t == KEY_ACCOUNTS {
                        batch.insert(key, value);
                        n += 1;
                    }
                }
                if n >= 10_000 {
                    trees[KEY_ACCOUNTS].apply_batch(std::mem::take(&mut batch))?;
                    n = 0;
                }
            }
            trees[KEY_ACCOUNTS].apply_batch(batch)?;
            let mut batch = sled::Batch::default();
            for (k, n) in counts {
                batch.insert(k, &be(n));
            }
            trees[AREA_POPULATION].apply_batch(batch)?;
            db.flush()?;
        }
        // stores written before the back-office worklist: build its index once
        if trees[TICKETS_BY_OFFICE].is_empty() && !trees[TICKETS_BY_DEADLINE].is_empty() {
            for kv in trees[TICKETS_BY_DEADLINE].iter() {
                let (k, _) = kv?;
                let id = k.get(8..16).unwrap_or_default();
                let Some(v) = trees[TICKETS].get(id)? else {
                    continue;
                };
                let t: Ticket = decode(TREE_NAMES[TICKETS], id, &v)?;
                if let Some(group) = &t.back_office {
                    trees[TICKETS_BY_OFFICE].insert(office_key(group, t.deadline, t.id), vec![])?;
                }
            }
            db.flush()?;
        }
        Ok(SledEngine {
            ids: last_ids(&trees)?,
            commit: GroupCommit::new(db.clone(), log),
            db,
            trees,
            place,
        })
    }

    pub(crate) fn tree(&self, t: usize) -> &Tree {
        &self.trees[t]
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

    fn ids_in_range(
        &self,
        tree: usize,
        range: impl std::ops::RangeBounds<Vec<u8>>,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        let mut ids = Vec::new();
        for kv in self.trees[tree].range(range).take(limit) {
            let (k, _) = kv?;
            ids.extend(tail_id(&k));
        }
        Ok(ids)
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

    /// Records of an entity tree with ids above `after`, by id.
    fn page<T: serde::de::DeserializeOwned>(
        &self,
        tree: usize,
        after: u64,
        limit: usize,
    ) -> Result<Vec<T>, StoreError> {
        let Some(from) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        self.trees[tree]
            .range(be(from).to_vec()..)
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                decode(TREE_NAMES[tree], &k, &v)
            })
            .collect()
    }

    /// Every record of an entity tree, decoded (checks).
    pub(crate) fn scan_all<T: serde::de::DeserializeOwned>(
        &self,
        tree: usize,
    ) -> impl Iterator<Item = Result<T, StoreError>> + '_ {
        self.trees[tree].iter().map(move |kv| {
            let (k, v) = kv?;
            decode(TREE_NAMES[tree], &k, &v)
        })
    }

    /// Insert without transactions or flushes: per-tree batches. Not crash-atomic
    /// across trees: `check`/`rebuild` repair a load interrupted half-way.
    pub(crate) fn bulk(&self, batches: Vec<sled::Batch>) -> Result<(), StoreError> {
        for (tree, b) in batches.into_iter().enumerate() {
            self.trees[tree].apply_batch(b)?;
        }
        Ok(())
    }

    fn with_legs(&self, mut i: Interaction) -> Result<Interaction, StoreError> {
        i.legs = self.get(INTERACTION_LEGS, &be(i.id))?.unwrap_or_default();
        Ok(i)
    }

    /// The trees a commit touches, each once.
    fn trees_of(commit: &Commit) -> Vec<usize> {
        let mut t = Vec::new();
        for e in &commit.expect {
            t.push(match e {
                Expect::Ticket { .. } => TICKETS,
                Expect::Unsettled { .. } => INTERACTIONS,
                Expect::Incident { .. } => INCIDENTS,
            });
        }
        for r in &commit.remove {
            match r {
                Remove::SessionTokens { .. } => t.push(SESSION_TOKENS),
            }
        }
        for p in &commit.put {
            match p {
                Put::Customer(_) => t.extend_from_slice(CUSTOMER_TREES),
                Put::Ticket(_) => t.extend_from_slice(TICKET_TREES),
                Put::Interaction(_) => t.extend_from_slice(INTERACTION_TREES),
                Put::Agent(_) => t.push(AGENTS),
                Put::SessionToken(_) => t.push(SESSION_TOKENS),
                Put::Audit(_) => t.push(AUDIT),
                Put::Interval(_) => t.push(INTERVALS),
                Put::DeadLetter(_) => t.push(DEAD_LETTERS),
                Put::Incident(_) => t.push(INCIDENTS),
                Put::IncidentLink(_) => t.push(INCIDENT_LINKS),
            }
        }
        t.sort_unstable();
        t.dedup();
        t
    }

    /// The keys of an agent's session tokens issued before a time.
    fn token_keys(&self, agent: &str, issued_before: Millis) -> Result<Vec<Vec<u8>>, StoreError> {
        let prefix = cat(&[agent.as_bytes(), &[SEP]]);
        let mut keys = Vec::new();
        for kv in self.trees[SESSION_TOKENS].scan_prefix(&prefix) {
            let (k, v) = kv?;
            let t: SessionToken = decode(TREE_NAMES[SESSION_TOKENS], &k, &v)?;
            if t.issued < issued_before {
                keys.push(k.to_vec());
            }
        }
        Ok(keys)
    }

    /// The key and value a record is stored under in its entity tree, and its index
    /// entries (appended records get a fresh key from sled).
    fn placed(&self, p: &Put) -> Result<(usize, Vec<u8>, Vec<u8>, IndexEntries), StoreError> {
        Ok(match p {
            Put::Customer(c) => (CUSTOMERS, be(c.id).to_vec(), encode(c), customer_index(c)),
            Put::Ticket(t) => (TICKETS, be(t.id).to_vec(), encode(t), ticket_index(t)),
            Put::Interaction(i) => (
                INTERACTIONS,
                be(i.id).to_vec(),
                encode(i),
                interaction_index(i),
            ),
            Put::Agent(a) => (AGENTS, a.id.as_bytes().to_vec(), encode(a), vec![]),
            Put::SessionToken(t) => (
                SESSION_TOKENS,
                cat(&[t.agent.as_bytes(), &[SEP], t.digest.as_bytes()]),
                encode(t),
                vec![],
            ),
            Put::Audit(e) => (
                AUDIT,
                cat(&[&be(e.at), &be(self.db.generate_id()?)]),
                encode(e),
                vec![],
            ),
            Put::DeadLetter(d) => (
                DEAD_LETTERS,
                cat(&[&be(d.at), &be(self.db.generate_id()?)]),
                encode(d),
                vec![],
            ),
            Put::Interval(r) => (INTERVALS, interval_key(r), encode(r), vec![]),
            Put::Incident(i) => (INCIDENTS, be(i.id).to_vec(), encode(i), vec![]),
            Put::IncidentLink(l) => (
                INCIDENT_LINKS,
                cat(&[&be(l.incident), &be(l.ticket)]),
                encode(l),
                vec![],
            ),
        })
    }

    /// The old version's index entries of an entity replaced in a transaction.
    fn old_index(t: &Views, tree: usize, key: &[u8]) -> Tx<IndexEntries> {
        Ok(match tree {
            CUSTOMERS => tx_get::<Customer>(&t[tree], tree, key)?
                .map(|c| customer_index(&c))
                .unwrap_or_default(),
            TICKETS => tx_get::<Ticket>(&t[tree], tree, key)?
                .map(|x| ticket_index(&x))
                .unwrap_or_default(),
            INTERACTIONS => tx_get::<Interaction>(&t[tree], tree, key)?
                .map(|i| interaction_index(&i))
                .unwrap_or_default(),
            _ => vec![],
        })
    }
}

/// The customers a bulk load moves between areas (new ones from none), summed per area
/// and then applied to the counts in one batch.
#[derive(Default)]
struct PopulationMoves {
    /// Where each customer of this load lives now (a customer loaded twice moves once).
    placed: std::collections::HashMap<u64, Vec<u8>>,
    delta: std::collections::HashMap<Vec<u8>, i64>,
}

impl PopulationMoves {
    fn moved(&mut self, store: &SledEngine, c: &Customer) -> Result<(), StoreError> {
        let to = area_key(&c.district, &c.area);
        let from = match self.placed.get(&c.id) {
            Some(k) => Some(k.clone()),
            None => store
                .get::<CustomerProfile>(CUSTOMER_PROFILES, &be(c.id))?
                .map(|o| area_key(&o.district, &o.area)),
        };
        if from.as_ref() == Some(&to) {
            return Ok(());
        }
        if let Some(from) = from {
            *self.delta.entry(from).or_default() -= 1;
        }
        *self.delta.entry(to.clone()).or_default() += 1;
        self.placed.insert(c.id, to);
        Ok(())
    }

    fn into_batch(self, store: &SledEngine, batch: &mut sled::Batch) -> Result<(), StoreError> {
        for (key, delta) in self.delta {
            let tree = store.tree(AREA_POPULATION);
            let n = tree.get(&key)?.and_then(|v| count_of(&v)).unwrap_or(0);
            let n = n.saturating_add_signed(delta);
            if n == 0 {
                batch.remove(key);
            } else {
                batch.insert(key, &be(n));
            }
        }
        Ok(())
    }
}

/// Refuse a customer whose number belongs to another customer.
fn phones_free(t: &Views, c: &Customer) -> Tx<()> {
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
    Ok(())
}

/// Refuse the commit if a record it read has changed.
fn expected(t: &Views, e: &Expect) -> Tx<()> {
    let holds = match *e {
        Expect::Ticket { id, history } => tx_get::<Ticket>(&t[TICKETS], TICKETS, &be(id))?
            .is_some_and(|x| x.history.len() == history),
        Expect::Unsettled { id } => tx_get::<Interaction>(&t[INTERACTIONS], INTERACTIONS, &be(id))?
            .is_some_and(|i| i.fcr_verified.is_none()),
        Expect::Incident { id, history } => {
            tx_get::<Incident>(&t[INCIDENTS], INCIDENTS, &be(id))?.map_or(0, |i| i.history.len())
                == history
        }
    };
    if holds {
        Ok(())
    } else {
        abort(StoreError::Conflict(format!(
            "{e:?} no longer holds: another writer came first"
        )))
    }
}

impl Engine for SledEngine {
    fn describe(&self) -> String {
        format!("the sled store in {}", self.place)
    }

    fn next_id(&self, kind: IdKind) -> Result<u64, StoreError> {
        Ok(self.ids[kind.slot()].fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn reserve_ids(&self, kind: IdKind, n: u64) -> Result<Vec<u64>, StoreError> {
        let first = self.ids[kind.slot()].fetch_add(n, Ordering::Relaxed) + 1;
        Ok((first..first + n).collect())
    }

    fn ids_after(&self, kind: IdKind, id: u64) -> Result<(), StoreError> {
        self.ids[kind.slot()].fetch_max(id, Ordering::Relaxed);
        Ok(())
    }

    fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        if commit.is_intervals_only() {
            // history records only: one tree, no index, nothing to check — one batch
            // (atomic in sled) costs a fraction of a transaction over as many keys, which
            // on a floor of 1,000 agents held the offers up at every checkpoint
            let mut batch = sled::Batch::default();
            for p in &commit.put {
                let (_, key, value, _) = self.placed(p)?;
                batch.insert(key, value);
            }
            self.trees[INTERVALS].apply_batch(batch)?;
            return Ok(self.commit.wait()?);
        }
        let names = SledEngine::trees_of(&commit);
        let mut gone = Vec::new();
        for r in &commit.remove {
            match r {
                Remove::SessionTokens {
                    agent,
                    issued_before,
                } => gone.extend(self.token_keys(agent, *issued_before)?),
            }
        }
        let placed = commit
            .put
            .iter()
            .map(|p| self.placed(p))
            .collect::<Result<Vec<_>, _>>()?;
        self.transact(&names, |t| {
            for e in &commit.expect {
                expected(t, e)?;
            }
            for k in &gone {
                t[SESSION_TOKENS].remove(k.as_slice())?;
            }
            for (p, (tree, key, value, index)) in commit.put.iter().zip(&placed) {
                if let Put::Customer(c) = p {
                    phones_free(t, c)?;
                    let old =
                        tx_get::<CustomerProfile>(&t[CUSTOMER_PROFILES], CUSTOMER_PROFILES, key)?
                            .map(|o| area_key(&o.district, &o.area));
                    move_population(t, old.as_deref(), &area_key(&c.district, &c.area))?;
                }
                remove_all(t, &SledEngine::old_index(t, *tree, key)?)?;
                t[*tree].insert(key.as_slice(), value.as_slice())?;
                put_all(t, index)?;
                if let Put::Interaction(i) = p {
                    if i.legs.is_empty() {
                        t[INTERACTION_LEGS].remove(key.as_slice())?;
                    } else {
                        t[INTERACTION_LEGS].insert(key.as_slice(), encode(&i.legs))?;
                    }
                }
            }
            Ok(())
        })
    }

    fn load(&self, records: Vec<Put>) -> Result<(), StoreError> {
        let mut b: Vec<sled::Batch> = (0..TREE_NAMES.len())
            .map(|_| sled::Batch::default())
            .collect();
        let mut moves = PopulationMoves::default();
        for p in &records {
            let (tree, key, value, index) = self.placed(p)?;
            match p {
                Put::Interaction(i) if !i.legs.is_empty() => {
                    b[INTERACTION_LEGS].insert(key.as_slice(), encode(&i.legs));
                }
                Put::Customer(c) => moves.moved(self, c)?,
                _ => {}
            }
            b[tree].insert(key, value);
            for (t, k, v) in index {
                b[t].insert(k, v);
            }
        }
        moves.into_batch(self, &mut b[AREA_POPULATION])?;
        self.bulk(b)
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(self.commit.wait()?)
    }

    fn customer(&self, id: u64) -> Result<Option<Customer>, StoreError> {
        self.get(CUSTOMERS, &be(id))
    }

    fn customer_profile(&self, id: u64) -> Result<Option<CustomerProfile>, StoreError> {
        self.get(CUSTOMER_PROFILES, &be(id))
    }

    fn customer_profiles_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, CustomerProfile)>, StoreError> {
        let Some(from) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        self.trees[CUSTOMER_PROFILES]
            .range(be(from).to_vec()..)
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                let id = tail_id(&k).unwrap_or_default();
                Ok((id, decode(TREE_NAMES[CUSTOMER_PROFILES], &k, &v)?))
            })
            .collect()
    }

    fn area_population(&self) -> Result<Vec<crate::AreaPopulation>, StoreError> {
        let mut out = Vec::new();
        for kv in self.trees[AREA_POPULATION].iter() {
            let (k, v) = kv?;
            let (Some((district, area)), Some(customers)) = (area_of_key(&k), count_of(&v)) else {
                return Err(StoreError::Corrupt {
                    tree: TREE_NAMES[AREA_POPULATION],
                    key: hex(&k),
                    why: "not a (district, area) and a count".into(),
                });
            };
            out.push(crate::AreaPopulation {
                district,
                area,
                customers,
            });
        }
        Ok(out)
    }

    fn key_accounts(&self) -> Result<Vec<(u64, Option<String>)>, StoreError> {
        self.trees[KEY_ACCOUNTS]
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                let id = tail_id(&k).unwrap_or_default();
                let manager = String::from_utf8(v.to_vec()).map_err(|_| StoreError::Corrupt {
                    tree: TREE_NAMES[KEY_ACCOUNTS],
                    key: hex(&k),
                    why: "the manager is not text".into(),
                })?;
                Ok((id, (!manager.is_empty()).then_some(manager)))
            })
            .collect()
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
        let ids = self.ids_by_prefix(BY_NAME, prefix.as_bytes(), limit)?;
        self.load_many(CUSTOMERS, &ids)
    }

    fn customers_of_manager(&self, agent: &str, limit: usize) -> Result<Vec<Customer>, StoreError> {
        let ids = self.ids_by_prefix(BY_MANAGER, &cat(&[agent.as_bytes(), &[SEP]]), limit)?;
        self.load_many(CUSTOMERS, &ids)
    }

    fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError> {
        self.get(TICKETS, &be(id))
    }

    fn tickets_of_customer(&self, customer: u64) -> Result<Vec<Ticket>, StoreError> {
        let ids = self.ids_by_prefix(TICKETS_BY_CUSTOMER, &be(customer), usize::MAX)?;
        self.load_many(TICKETS, &ids)
    }

    fn open_ticket_lines(&self, customer: u64) -> Result<Vec<TicketLine>, StoreError> {
        let mut out = Vec::new();
        for kv in self.trees[TICKETS_BY_CUSTOMER].scan_prefix(be(customer)) {
            let (k, v) = kv?;
            let line: TicketLine = decode(TREE_NAMES[TICKETS_BY_CUSTOMER], &k, &v)?;
            if line.status != TicketStatus::Closed {
                out.push(line);
            }
        }
        Ok(out)
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

    fn tickets_due_before(&self, before: Millis, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        let ids = self.ids_in_range(TICKETS_BY_DEADLINE, ..be(before).to_vec(), limit)?;
        self.load_many(TICKETS, &ids)
    }

    fn open_tickets_of_office(&self, group: &str, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        let ids =
            self.ids_by_prefix(TICKETS_BY_OFFICE, &cat(&[group.as_bytes(), &[SEP]]), limit)?;
        self.load_many(TICKETS, &ids)
    }

    fn interaction(&self, id: u64) -> Result<Option<Interaction>, StoreError> {
        match self.get::<Interaction>(INTERACTIONS, &be(id))? {
            Some(i) => self.with_legs(i).map(Some),
            None => Ok(None),
        }
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

    fn interaction_lines(
        &self,
        customer: u64,
        since: Millis,
        limit: usize,
    ) -> Result<Vec<InteractionLine>, StoreError> {
        let mut out = Vec::new();
        for kv in self.trees[INTERACTIONS_BY_CUSTOMER]
            .scan_prefix(be(customer))
            .take(limit)
        {
            let (k, v) = kv?;
            let line: InteractionLine = decode(TREE_NAMES[INTERACTIONS_BY_CUSTOMER], &k, &v)?;
            if line.arrived < since {
                break; // newest first: the rest are older
            }
            out.push(line);
        }
        Ok(out)
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
        let mut out = Vec::new();
        let range = be(from).to_vec()..be(to).to_vec();
        for kv in self.trees[INTERACTIONS_BY_TIME].range(range).take(limit) {
            let (k, v) = kv?;
            if v.is_empty() {
                // an entry of the earlier shape: the record is read by its id
                let Some(id) = tail_id(&k) else { continue };
                out.extend(self.get::<Interaction>(INTERACTIONS, &be(id))?);
            } else {
                out.push(decode(TREE_NAMES[INTERACTIONS_BY_TIME], &k, &v)?);
            }
        }
        Ok(out)
    }

    fn unsettled_before(&self, before: Millis, limit: usize) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::new();
        for kv in self.trees[FCR_PENDING].range(..be(before).to_vec()) {
            if out.len() >= limit {
                break;
            }
            let (k, _) = kv?;
            let Some(id) = tail_id(&k) else { continue };
            match self.get::<Interaction>(INTERACTIONS, &be(id))? {
                Some(i) if i.fcr_verified.is_none() && i.customer.is_some() => out.push(id),
                // settled (or gone) since it was listed: a stale entry, dropped
                _ => {
                    self.trees[FCR_PENDING].remove(&k)?;
                }
            }
        }
        Ok(out)
    }

    fn agent(&self, id: &str) -> Result<Option<AgentAccount>, StoreError> {
        self.get(AGENTS, id.as_bytes())
    }

    fn agents(&self) -> Result<Vec<AgentAccount>, StoreError> {
        self.scan_all(AGENTS).collect()
    }

    fn session_tokens(&self) -> Result<Vec<SessionToken>, StoreError> {
        self.scan_all(SESSION_TOKENS).collect()
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

    fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        self.scan_all(DEAD_LETTERS).take(limit).collect()
    }

    fn intervals(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<IntervalRecord>, StoreError> {
        self.trees[INTERVALS]
            .range(be(from).to_vec()..be(to).to_vec())
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                decode(TREE_NAMES[INTERVALS], &k, &v).map(IntervalRecord::upgraded)
            })
            .collect()
    }

    fn customers_after(&self, after: u64, limit: usize) -> Result<Vec<Customer>, StoreError> {
        self.page(CUSTOMERS, after, limit)
    }

    fn tickets_after(&self, after: u64, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        self.page(TICKETS, after, limit)
    }

    fn incident(&self, id: u64) -> Result<Option<Incident>, StoreError> {
        self.get(INCIDENTS, &be(id))
    }

    fn incidents_after(&self, after: u64, limit: usize) -> Result<Vec<Incident>, StoreError> {
        self.page(INCIDENTS, after, limit)
    }

    fn open_incidents(&self) -> Result<Vec<Incident>, StoreError> {
        // a few hundred a year: the whole tree is read
        let mut open = Vec::new();
        for i in self.scan_all::<Incident>(INCIDENTS) {
            let i = i?;
            if i.is_open() {
                open.push(i);
            }
        }
        Ok(open)
    }

    fn incident_links(
        &self,
        incident: u64,
        after: u64,
        limit: usize,
    ) -> Result<Vec<IncidentLink>, StoreError> {
        let from = cat(&[&be(incident), &be(after.saturating_add(1))]);
        let to = cat(&[&be(incident), &be(u64::MAX)]);
        let mut out = Vec::new();
        for kv in self.trees[INCIDENT_LINKS].range(from..=to).take(limit) {
            let (k, v) = kv?;
            out.push(decode(TREE_NAMES[INCIDENT_LINKS], &k, &v)?);
        }
        Ok(out)
    }

    fn interactions_after(&self, after: u64, limit: usize) -> Result<Vec<Interaction>, StoreError> {
        self.page::<Interaction>(INTERACTIONS, after, limit)?
            .into_iter()
            .map(|i| self.with_legs(i))
            .collect()
    }

    fn check(&self) -> Result<CheckReport, StoreError> {
        crate::check::check(self)
    }

    fn rebuild_indexes(&self) -> Result<CheckReport, StoreError> {
        crate::check::rebuild(self)
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    fn flushes(&self) -> u64 {
        self.commit.flushes()
    }
}

/// An interval's key: start ‖ subject kind ‖ name, so a range of starts is one scan and
/// the same interval written twice is one record.
fn interval_key(r: &IntervalRecord) -> Vec<u8> {
    let (kind, name) = r.subject();
    cat(&[&be(r.start), &[kind], name.as_bytes()])
}
