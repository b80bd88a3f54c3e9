//! The PostgreSQL engine under [`crate::Store`] (feature `postgres`): for a hotline that
//! outgrows one embedded file — several routers on one store, a database its DBAs back
//! up and replicate.
//!
//! A real schema ([`MIGRATIONS`]): a table per entity with typed columns for everything
//! the store queries by (a customer's name, segment, district, area and manager; a
//! ticket's customer, status, owner and deadline; an interaction's customer, arrival,
//! call id, reason, agents and FCR), the indexes those queries need, and the whole record
//! as `jsonb` beside them. Phone numbers and an interaction's agents are rows of their
//! own (a unique key makes a number belong to one customer). A commit is one
//! transaction sent in one round trip ([`crate::pg_commit`]); it returns after the
//! server's commit, which with `synchronous_commit` on (PostgreSQL's default) is on disk.
//! Conditions are checked under row locks (`SELECT … FOR UPDATE`); a serialization
//! failure or deadlock is reported as a conflict, which the store retries.
//!
//! The store's API is synchronous (the router calls it from tokio's blocking pool); the
//! engine runs `tokio-postgres` and its pool on a small runtime of its own and waits on
//! a plain channel, so it may be called from any thread.

use crate::CheckReport;
use crate::codec::word;
use crate::engine::{Commit, Engine, Health, IdKind, Put};
use crate::error::StoreError;
use crate::model::*;
use crate::pg_commit;
use deadpool_postgres::GenericClient;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio_postgres::types::{Json, ToSql};
use tokio_postgres::{NoTls, Row};

/// The schema version this build writes; a database with a newer one is refused.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The schema, one step per version (applied in order, each in its own transaction).
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE SEQUENCE customer_ids;
CREATE SEQUENCE ticket_ids;
CREATE SEQUENCE interaction_ids;

CREATE TABLE customers (
    id              bigint PRIMARY KEY,
    name            text COLLATE "C" NOT NULL,
    segment         text NOT NULL,
    district        text NOT NULL,
    area            text NOT NULL,
    account_manager text COLLATE "C",
    record          jsonb NOT NULL
);
CREATE INDEX customers_by_name ON customers (name, id);
CREATE INDEX customers_by_manager ON customers (account_manager, name, id)
    WHERE account_manager IS NOT NULL;
CREATE INDEX customers_by_area ON customers (district, area);

CREATE TABLE customer_phones (
    phone    text PRIMARY KEY,
    customer bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE
);
CREATE INDEX customer_phones_by_customer ON customer_phones (customer);

CREATE TABLE tickets (
    id          bigint PRIMARY KEY,
    customer    bigint NOT NULL,
    kind        text NOT NULL,
    subcategory text NOT NULL,
    status      text NOT NULL,
    open        boolean NOT NULL,
    priority    text NOT NULL,
    owner       text COLLATE "C" NOT NULL,
    back_office text,
    created     bigint NOT NULL,
    deadline    bigint NOT NULL,
    history_len integer NOT NULL,
    record      jsonb NOT NULL
);
CREATE INDEX tickets_by_customer ON tickets (customer, id);
CREATE INDEX tickets_by_status ON tickets (status, id);
CREATE INDEX tickets_by_owner ON tickets (owner, id);
CREATE INDEX tickets_open_by_deadline ON tickets (deadline, id) WHERE open;

CREATE TABLE interactions (
    id           bigint PRIMARY KEY,
    call_id      bigint NOT NULL,
    customer     bigint,
    arrived      bigint NOT NULL,
    queue        text,
    reason       text,
    disposition  text,
    first_agent  text,
    fcr_claimed  boolean NOT NULL,
    fcr_verified boolean,
    record       jsonb NOT NULL,
    legs         jsonb NOT NULL
);
CREATE INDEX interactions_by_customer ON interactions (customer, arrived DESC, id)
    WHERE customer IS NOT NULL;
CREATE INDEX interactions_by_time ON interactions (arrived, id);
CREATE INDEX interactions_by_call ON interactions (call_id, id);
CREATE INDEX interactions_unsettled ON interactions (arrived, id)
    WHERE fcr_verified IS NULL AND customer IS NOT NULL;

CREATE TABLE interaction_agents (
    agent       text COLLATE "C" NOT NULL,
    arrived     bigint NOT NULL,
    interaction bigint NOT NULL REFERENCES interactions (id) ON DELETE CASCADE,
    PRIMARY KEY (agent, arrived, interaction)
);
CREATE INDEX interaction_agents_by_interaction ON interaction_agents (interaction);

CREATE TABLE agents (
    id     text COLLATE "C" PRIMARY KEY,
    name   text NOT NULL,
    role   text NOT NULL,
    record jsonb NOT NULL
);

CREATE TABLE session_tokens (
    agent   text COLLATE "C" NOT NULL,
    digest  text NOT NULL,
    issued  bigint NOT NULL,
    expires bigint NOT NULL,
    record  jsonb NOT NULL,
    PRIMARY KEY (agent, digest)
);

CREATE TABLE audit (
    n      bigserial PRIMARY KEY,
    at     bigint NOT NULL,
    by_whom text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    record jsonb NOT NULL
);
CREATE INDEX audit_by_time ON audit (at, n);

CREATE TABLE dead_letters (
    n      bigserial PRIMARY KEY,
    at     bigint NOT NULL,
    kind   text NOT NULL,
    record jsonb NOT NULL
);
"#,
    crate::pg_commit::FUNCTIONS,
    // 3: the back-office worklist — a group's open tickets by deadline
    "CREATE INDEX tickets_open_by_office ON tickets (back_office, deadline, id) \
     WHERE open AND back_office IS NOT NULL;",
    // 4: history — each closed statistics interval of a queue or an agent, once
    r#"
CREATE TABLE intervals (
    start_ms bigint NOT NULL,
    end_ms   bigint NOT NULL,
    kind     smallint NOT NULL,
    name     text NOT NULL,
    record   jsonb NOT NULL,
    PRIMARY KEY (start_ms, kind, name)
);
"#,
    // 5: the key accounts in one small read (the segment's word, as `word` writes it)
    "CREATE INDEX customers_key_accounts ON customers (id) INCLUDE (account_manager) \
     WHERE segment = 'key-account';",
    // 6: area incidents, at most one open per area and kind, and the tickets linked to them
    r#"
CREATE SEQUENCE incident_ids;
CREATE TABLE incidents (
    id          bigint PRIMARY KEY,
    district    text NOT NULL,
    area        text NOT NULL,
    kind        text NOT NULL,
    open        boolean NOT NULL,
    declared    bigint NOT NULL,
    ended       bigint,
    history_len integer NOT NULL,
    record      jsonb NOT NULL
);
CREATE UNIQUE INDEX incidents_open_by_area ON incidents (district, area, kind) WHERE open;
CREATE TABLE incident_links (
    incident bigint NOT NULL,
    ticket   bigint NOT NULL,
    customer bigint NOT NULL,
    at       bigint NOT NULL,
    record   jsonb NOT NULL,
    PRIMARY KEY (incident, ticket)
);
"#,
];

/// Connections the engine keeps open unless configured.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// The PostgreSQL engine.
pub struct PgEngine {
    /// Taken in `drop` (a runtime may not be dropped inside another's async context).
    rt: Option<tokio::runtime::Runtime>,
    pool: Pool,
    place: String,
    flushes: AtomicU64,
    /// Set by the first request failing for want of a connection, cleared by the next
    /// one answered.
    health: std::sync::Mutex<Health>,
    /// Ids taken from each kind's sequence and not yet handed out ([`ID_BLOCK`] at a
    /// time), by [`IdKind::slot`].
    ids: [std::sync::Mutex<std::collections::VecDeque<u64>>; 4],
}

/// Ids taken from a sequence at once: one round trip for this many new records. Ids
/// stay unique across processes and increase within one; another process's records
/// may get ids between them, and a block unused at exit leaves a gap (as a sequence's
/// own cache would).
const ID_BLOCK: u64 = 32;

impl Drop for PgEngine {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn db_err(place: &str, e: tokio_postgres::Error) -> StoreError {
    use tokio_postgres::error::SqlState;
    if let Some(db) = e.as_db_error() {
        // the message only: the detail of a constraint error quotes the row's values
        let code = db.code();
        if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
        {
            return StoreError::Conflict(db.message().to_string());
        }
        return StoreError::Database(format!(
            "{place}: {} (SQLSTATE {})",
            db.message(),
            code.code()
        ));
    }
    if e.is_closed() {
        return StoreError::Unavailable(format!("{place}: the connection was lost"));
    }
    match std::error::Error::source(&e) {
        Some(cause) => StoreError::Unavailable(format!("{place}: {e}: {cause}")),
        None => StoreError::Unavailable(format!("{place}: {e}")),
    }
}

fn pool_err(place: &str, e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => db_err(place, e),
        e => StoreError::Unavailable(format!("{place} is not reachable: {e}")),
    }
}

fn int(x: u64) -> i64 {
    x as i64
}

fn uint(x: i64) -> u64 {
    x as u64
}

/// The record of a row's `record` column.
fn record<T: DeserializeOwned>(table: &'static str, row: &Row) -> Result<T, StoreError> {
    row.try_get::<_, Json<T>>("record")
        .map(|j| j.0)
        .map_err(|e| StoreError::Corrupt {
            tree: table,
            key: row
                .try_get::<_, i64>(0)
                .map(|id| id.to_string())
                .or_else(|_| row.try_get::<_, String>(0))
                .unwrap_or_default(),
            why: e.to_string(),
        })
}

/// A customer's profile from the typed columns (no record decoded).
fn profile_of(row: &Row) -> Result<(u64, CustomerProfile), StoreError> {
    let id: i64 = row.try_get("id").map_err(|e| corrupt_column(row, e))?;
    let text = |c: &str| {
        row.try_get::<_, String>(c)
            .map_err(|e| corrupt_column(row, e))
    };
    let segment = text("segment")?;
    let segment =
        serde_json::from_value(serde_json::Value::String(segment.clone())).map_err(|_| {
            StoreError::Corrupt {
                tree: "customers",
                key: id.to_string(),
                why: format!("segment '{segment}' is not one"),
            }
        })?;
    Ok((
        u64::try_from(id).unwrap_or_default(),
        CustomerProfile {
            name: text("name")?,
            district: text("district")?,
            area: text("area")?,
            segment,
            account_manager: row
                .try_get("account_manager")
                .map_err(|e| corrupt_column(row, e))?,
        },
    ))
}

fn corrupt_column(row: &Row, e: tokio_postgres::Error) -> StoreError {
    StoreError::Corrupt {
        tree: "customers",
        key: row
            .try_get::<_, i64>(0)
            .map(|id| id.to_string())
            .unwrap_or_default(),
        why: e.to_string(),
    }
}

fn interaction_of(row: &Row) -> Result<Interaction, StoreError> {
    let mut i: Interaction = record("interactions", row)?;
    i.legs = row
        .try_get::<_, Json<Vec<CallLeg>>>("legs")
        .map(|j| j.0)
        .map_err(|e| StoreError::Corrupt {
            tree: "interactions",
            key: i.id.to_string(),
            why: format!("legs: {e}"),
        })?;
    Ok(i)
}

fn line_of(row: &Row) -> InteractionLine {
    InteractionLine {
        id: uint(row.get("id")),
        arrived: uint(row.get("arrived")),
        reason: row.get("reason"),
        disposition: row.get("disposition"),
        agent: row.get("first_agent"),
        fcr_claimed: row.get("fcr_claimed"),
        fcr_verified: row.get("fcr_verified"),
    }
}

/// The smallest string after every string starting with `prefix` (a prefix search as a
/// range over a "C"-collated index).
fn after_prefix(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

fn seq(kind: IdKind) -> &'static str {
    match kind {
        IdKind::Customer => "customer_ids",
        IdKind::Ticket => "ticket_ids",
        IdKind::Interaction => "interaction_ids",
        IdKind::Incident => "incident_ids",
    }
}

impl PgEngine {
    /// Connect to the database at `url` (`postgres://user@host:port/db`), bring its schema
    /// up to this build's version, and refuse one that is newer.
    pub fn open(url: &str) -> Result<PgEngine, StoreError> {
        PgEngine::open_with_pool(url, DEFAULT_POOL_SIZE)
    }

    /// [`PgEngine::open`] with `pool_size` connections at most.
    pub fn open_with_pool(url: &str, pool_size: usize) -> Result<PgEngine, StoreError> {
        let mut cfg = tokio_postgres::Config::from_str(url).map_err(|e| StoreError::Invalid {
            field: "store url",
            why: format!("is not a PostgreSQL address (postgres://user@host:port/database): {e}"),
        })?;
        cfg.connect_timeout(Duration::from_secs(5));
        // a server that stops answering (a cable pulled, a host frozen) is noticed
        // within seconds, not after the kernel's 15 minutes of retransmissions
        cfg.keepalives_idle(Duration::from_secs(5));
        cfg.tcp_user_timeout(Duration::from_secs(10));
        if cfg.get_application_name().is_none() {
            cfg.application_name("hotline");
        }
        let place = describe(&cfg);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("hotline-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::File(format!("cannot start the database client: {e}")))?;
        let mgr = Manager::from_config(
            cfg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr)
            .max_size(pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(Duration::from_secs(10)))
            .wait_timeout(Some(Duration::from_secs(30)))
            .build()
            .map_err(|e| StoreError::Invalid {
                field: "store url",
                why: e.to_string(),
            })?;
        let engine = PgEngine {
            rt: Some(rt),
            pool,
            place,
            flushes: AtomicU64::new(0),
            health: std::sync::Mutex::new(Health::Up),
            ids: Default::default(),
        };
        engine.migrate()?;
        Ok(engine)
    }

    /// Run `fut` on the engine's runtime and wait for it here.
    fn block<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let result = match &self.rt {
            Some(rt) => on(rt, fut),
            None => Err(StoreError::Unavailable("the store is closed".into())),
        };
        self.note(&result);
        result
    }

    /// Health after a request's `result`: only a missing connection degrades it (a
    /// refused or conflicting write is the server answering).
    fn note<T>(&self, result: &Result<T, StoreError>) {
        let mut h = self
            .health
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match result {
            Err(StoreError::Unavailable(why)) => {
                // a spell of failures keeps the time of its first
                let since = match &*h {
                    Health::Degraded { since, .. } => *since,
                    Health::Up => wall_clock_ms(),
                };
                *h = Health::Degraded {
                    since,
                    reason: why.clone(),
                };
            }
            Err(_) => {}
            Ok(_) => *h = Health::Up,
        }
    }

    /// Rows of a query with a fresh connection from the pool; a query that only reads
    /// is tried once more on a new connection if the first one was lost.
    fn rows(&self, sql: &'static str, params: Vec<Param>) -> Result<Vec<Row>, StoreError> {
        let (pool, place) = (self.pool.clone(), self.place.clone());
        self.block(async move {
            let mut last = None;
            for _ in 0..2 {
                let client = match pool.get().await {
                    Ok(c) => c,
                    Err(e) => {
                        last = Some(pool_err(&place, e));
                        continue;
                    }
                };
                let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_sql()).collect();
                // prepared once per connection: a query is then one round trip, not two
                let prepared = match client.prepare_cached(sql).await {
                    Ok(st) => st,
                    Err(e) if e.is_closed() => {
                        last = Some(db_err(&place, e));
                        continue;
                    }
                    Err(e) => return Err(db_err(&place, e)),
                };
                match client.query(&prepared, &refs).await {
                    Ok(rows) => return Ok(rows),
                    Err(e) if e.is_closed() => last = Some(db_err(&place, e)),
                    Err(e) => return Err(db_err(&place, e)),
                }
            }
            Err(last.unwrap_or_else(|| StoreError::Unavailable(place.clone())))
        })
    }

    fn one<T>(
        &self,
        sql: &'static str,
        params: Vec<Param>,
        f: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        self.rows(sql, params)?.first().map(f).transpose()
    }

    fn all<T>(
        &self,
        sql: &'static str,
        params: Vec<Param>,
        f: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.rows(sql, params)?.iter().map(f).collect()
    }

    /// Create the schema or bring it up to [`SCHEMA_VERSION`]; refuse a newer one.
    pub fn migrate(&self) -> Result<i32, StoreError> {
        let (pool, place) = (self.pool.clone(), self.place.clone());
        self.block(async move {
            let mut client = pool.get().await.map_err(|e| pool_err(&place, e))?;
            let e = |e| db_err(&place, e);
            client
                .batch_execute(
                    "CREATE TABLE IF NOT EXISTS hotline_schema (version integer NOT NULL)",
                )
                .await
                .map_err(e)?;
            let tx = client.transaction().await.map_err(e)?;
            // one migrator at a time; the others wait and then find nothing to do
            tx.batch_execute("LOCK TABLE hotline_schema IN EXCLUSIVE MODE")
                .await
                .map_err(e)?;
            let row = tx
                .query_one("SELECT coalesce(max(version), 0) FROM hotline_schema", &[])
                .await
                .map_err(e)?;
            let have: i32 = row.get(0);
            if have > SCHEMA_VERSION {
                return Err(StoreError::Database(format!(
                    "{place} holds a store of schema version {have}, newer than this hotline's \
                     ({SCHEMA_VERSION}): use a hotline at least as new as the one that wrote it"
                )));
            }
            for (k, step) in MIGRATIONS.iter().enumerate().skip(have as usize) {
                tx.batch_execute(step).await.map_err(e)?;
                tx.execute(
                    "INSERT INTO hotline_schema (version) VALUES ($1)",
                    &[&(k as i32 + 1)],
                )
                .await
                .map_err(e)?;
            }
            tx.commit().await.map_err(e)?;
            Ok(SCHEMA_VERSION)
        })
    }
}

/// Run `fut` on `rt` and wait for it on this thread, which may be any thread — even one
/// of another runtime (a test's), where `block_on` would panic.
fn on<T: Send + 'static>(
    rt: &tokio::runtime::Runtime,
    fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Result<T, StoreError> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    rt.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv()
        .map_err(|_| StoreError::Unavailable("the database client stopped".into()))?
}

/// The address of database `name` on the server of `url` (same user, host and port).
pub fn database_url(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Run one administrative statement (`CREATE DATABASE` …) on the server at `url`.
fn admin(url: &str, sql: String) -> Result<(), StoreError> {
    let cfg = tokio_postgres::Config::from_str(url).map_err(|e| StoreError::Invalid {
        field: "store url",
        why: format!("is not a PostgreSQL address: {e}"),
    })?;
    let place = describe(&cfg);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| StoreError::File(format!("cannot start the database client: {e}")))?;
    let r = on(&rt, async move {
        let (client, conn) = cfg
            .connect(NoTls)
            .await
            .map_err(|e| StoreError::Unavailable(format!("{place} is not reachable: {e}")))?;
        tokio::spawn(conn);
        client
            .batch_execute(&sql)
            .await
            .map_err(|e| db_err(&place, e))
    });
    rt.shutdown_background();
    r
}

/// A name PostgreSQL takes unquoted: lower-case letters, digits and `_`.
fn plain_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() < 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            field: "database name",
            why: format!("{name:?} must be lower-case letters, digits and _ (at most 63)"),
        })
    }
}

/// Create database `name` on the server at `url` (a test's or a benchmark's own);
/// returns its address.
pub fn create_database(url: &str, name: &str) -> Result<String, StoreError> {
    plain_name(name)?;
    admin(url, format!("CREATE DATABASE {name}"))?;
    Ok(database_url(url, name))
}

/// Drop database `name` on the server at `url`, closing its connections.
pub fn drop_database(url: &str, name: &str) -> Result<(), StoreError> {
    plain_name(name)?;
    admin(url, format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
}

/// Where a database is, for messages: host, port and database, never the password.
fn describe(cfg: &tokio_postgres::Config) -> String {
    let host = cfg
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    let db = cfg.get_dbname().or(cfg.get_user()).unwrap_or("postgres");
    format!("the PostgreSQL database {db} on {host}:{port}")
}

/// A query parameter the engine's queries take, owned so it can cross to the runtime.
#[derive(Debug, Clone)]
enum Param {
    Int(i64),
    Text(String),
}

impl Param {
    fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Param::Int(x) => x,
            Param::Text(s) => s,
        }
    }
}

/// An id or a time to compare for equality (the bits kept: `as u64` gives it back).
fn n(x: u64) -> Param {
    Param::Int(int(x))
}

/// A bound of a range (a time, an id to page after): beyond the largest bigint is the
/// largest bigint.
fn b(x: u64) -> Param {
    Param::Int(x.min(i64::MAX as u64) as i64)
}

fn lim(x: usize) -> Param {
    Param::Int(x.min(i64::MAX as usize) as i64)
}

fn t(s: &str) -> Param {
    Param::Text(s.to_string())
}

impl Engine for PgEngine {
    fn describe(&self) -> String {
        self.place.clone()
    }

    fn next_id(&self, kind: IdKind) -> Result<u64, StoreError> {
        let mut block = self.ids[kind.slot()]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if block.is_empty() {
            let mut ids = self.reserve_ids(kind, ID_BLOCK)?;
            ids.sort_unstable();
            block.extend(ids);
        }
        block.pop_front().ok_or_else(|| {
            StoreError::Database(format!("{}: no id from {}", self.place, seq(kind)))
        })
    }

    fn reserve_ids(&self, kind: IdKind, count: u64) -> Result<Vec<u64>, StoreError> {
        let sql = match kind {
            IdKind::Customer => {
                "SELECT nextval('customer_ids') FROM generate_series(1::bigint, $1::bigint)"
            }
            IdKind::Ticket => {
                "SELECT nextval('ticket_ids') FROM generate_series(1::bigint, $1::bigint)"
            }
            IdKind::Interaction => {
                "SELECT nextval('interaction_ids') FROM generate_series(1::bigint, $1::bigint)"
            }
            IdKind::Incident => {
                "SELECT nextval('incident_ids') FROM generate_series(1::bigint, $1::bigint)"
            }
        };
        self.all(sql, vec![n(count)], |r| Ok(uint(r.get(0))))
    }

    fn ids_after(&self, kind: IdKind, id: u64) -> Result<(), StoreError> {
        if id == 0 {
            return Ok(());
        }
        // ids already taken from the sequence may lie below `id`
        self.ids[kind.slot()]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|&k| k > id);
        let sql = match kind {
            IdKind::Customer => {
                "SELECT setval('customer_ids', greatest($1, (SELECT last_value FROM customer_ids)))"
            }
            IdKind::Ticket => {
                "SELECT setval('ticket_ids', greatest($1, (SELECT last_value FROM ticket_ids)))"
            }
            IdKind::Interaction => {
                "SELECT setval('interaction_ids', greatest($1, (SELECT last_value FROM interaction_ids)))"
            }
            IdKind::Incident => {
                "SELECT setval('incident_ids', greatest($1, (SELECT last_value FROM incident_ids)))"
            }
        };
        self.rows(sql, vec![n(id)]).map(drop)
    }

    fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        let (pool, place) = (self.pool.clone(), self.place.clone());
        self.block(async move {
            let client = pool.get().await.map_err(|e| pool_err(&place, e))?;
            match pg_commit::run(&client, &commit).await {
                Ok(()) => Ok(()),
                Err(pg_commit::Refused::Store(e)) => Err(e),
                Err(pg_commit::Refused::Db(e)) => Err(db_err(&place, e)),
            }
        })?;
        self.flushes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn load(&self, records: Vec<Put>) -> Result<(), StoreError> {
        let (pool, place) = (self.pool.clone(), self.place.clone());
        self.block(async move {
            let mut client = pool.get().await.map_err(|e| pool_err(&place, e))?;
            let tx = client.transaction().await.map_err(|e| db_err(&place, e))?;
            let e = |e| db_err(&place, e);
            bulk(&tx, &records).await.map_err(e)?;
            tx.commit().await.map_err(e)
        })?;
        self.flushes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        // every commit and load is durable when it returns
        Ok(())
    }

    fn customer(&self, id: u64) -> Result<Option<Customer>, StoreError> {
        self.one(
            "SELECT id, record FROM customers WHERE id = $1",
            vec![n(id)],
            |r| record("customers", r),
        )
    }

    fn customer_by_phone(&self, phone: &str) -> Result<Option<Customer>, StoreError> {
        self.one(
            "SELECT c.id, c.record FROM customer_phones p JOIN customers c ON c.id = p.customer \
             WHERE p.phone = $1",
            vec![t(phone)],
            |r| record("customers", r),
        )
    }

    fn customers_by_name(&self, prefix: &str, limit: usize) -> Result<Vec<Customer>, StoreError> {
        self.all(
            "SELECT id, record FROM customers WHERE name >= $1 AND name < $2 \
             ORDER BY name, id LIMIT $3",
            vec![t(prefix), Param::Text(after_prefix(prefix)), lim(limit)],
            |r| record("customers", r),
        )
    }

    fn customers_of_manager(&self, agent: &str, limit: usize) -> Result<Vec<Customer>, StoreError> {
        self.all(
            "SELECT id, record FROM customers WHERE account_manager = $1 \
             ORDER BY name, id LIMIT $2",
            vec![t(agent), lim(limit)],
            |r| record("customers", r),
        )
    }

    fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError> {
        self.one(
            "SELECT id, record FROM tickets WHERE id = $1",
            vec![n(id)],
            |r| record("tickets", r),
        )
    }

    fn tickets_of_customer(&self, customer: u64) -> Result<Vec<Ticket>, StoreError> {
        self.all(
            "SELECT id, record FROM tickets WHERE customer = $1 ORDER BY id",
            vec![n(customer)],
            |r| record("tickets", r),
        )
    }

    fn open_ticket_lines(&self, customer: u64) -> Result<Vec<TicketLine>, StoreError> {
        self.all(
            "SELECT id, record FROM tickets WHERE customer = $1 AND status <> 'closed' ORDER BY id",
            vec![n(customer)],
            |r| record::<Ticket>("tickets", r).map(|t| t.line()),
        )
    }

    fn tickets_by_status(
        &self,
        status: TicketStatus,
        limit: usize,
    ) -> Result<Vec<Ticket>, StoreError> {
        self.all(
            "SELECT id, record FROM tickets WHERE status = $1 ORDER BY id LIMIT $2",
            vec![Param::Text(word(&status)), lim(limit)],
            |r| record("tickets", r),
        )
    }

    fn tickets_of_owner(&self, owner: &str, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        self.all(
            "SELECT id, record FROM tickets WHERE owner = $1 ORDER BY id LIMIT $2",
            vec![t(owner), lim(limit)],
            |r| record("tickets", r),
        )
    }

    fn tickets_due_before(&self, before: Millis, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        self.all(
            "SELECT id, record FROM tickets WHERE open AND deadline < $1 \
             ORDER BY deadline, id LIMIT $2",
            vec![b(before), lim(limit)],
            |r| record("tickets", r),
        )
    }

    fn open_tickets_of_office(&self, group: &str, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        self.all(
            "SELECT id, record FROM tickets WHERE open AND back_office = $1 \
             ORDER BY deadline, id LIMIT $2",
            vec![t(group), lim(limit)],
            |r| record("tickets", r),
        )
    }

    fn interaction(&self, id: u64) -> Result<Option<Interaction>, StoreError> {
        self.one(
            "SELECT id, record, legs FROM interactions WHERE id = $1",
            vec![n(id)],
            interaction_of,
        )
    }

    fn interaction_by_call(&self, call_id: u64) -> Result<Option<Interaction>, StoreError> {
        self.one(
            "SELECT id, record, legs FROM interactions WHERE call_id = $1 ORDER BY id LIMIT 1",
            vec![n(call_id)],
            interaction_of,
        )
    }

    fn interactions_of_customer(
        &self,
        customer: u64,
        limit: usize,
    ) -> Result<Vec<Interaction>, StoreError> {
        self.all(
            "SELECT id, record, legs FROM interactions WHERE customer = $1 \
             ORDER BY arrived DESC, id LIMIT $2",
            vec![n(customer), lim(limit)],
            |r| record("interactions", r),
        )
    }

    fn interaction_lines(
        &self,
        customer: u64,
        since: Millis,
        limit: usize,
    ) -> Result<Vec<InteractionLine>, StoreError> {
        self.all(
            "SELECT id, arrived, reason, disposition, first_agent, fcr_claimed, fcr_verified \
             FROM interactions WHERE customer = $1 AND arrived >= $2 \
             ORDER BY arrived DESC, id LIMIT $3",
            vec![n(customer), b(since), lim(limit)],
            |r| Ok(line_of(r)),
        )
    }

    fn interactions_of_agent(
        &self,
        agent: &str,
        limit: usize,
    ) -> Result<Vec<Interaction>, StoreError> {
        self.all(
            "SELECT i.id, i.record FROM interaction_agents a JOIN interactions i \
             ON i.id = a.interaction WHERE a.agent = $1 \
             ORDER BY a.arrived DESC, a.interaction LIMIT $2",
            vec![t(agent), lim(limit)],
            |r| record("interactions", r),
        )
    }

    fn interactions_between(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<Interaction>, StoreError> {
        self.all(
            "SELECT id, record FROM interactions WHERE arrived >= $1 AND arrived < $2 \
             ORDER BY arrived, id LIMIT $3",
            vec![b(from), b(to), lim(limit)],
            |r| record("interactions", r),
        )
    }

    fn unsettled_before(&self, before: Millis, limit: usize) -> Result<Vec<u64>, StoreError> {
        self.all(
            "SELECT id FROM interactions WHERE fcr_verified IS NULL AND customer IS NOT NULL \
             AND arrived < $1 ORDER BY arrived, id LIMIT $2",
            vec![b(before), lim(limit)],
            |r| Ok(uint(r.get(0))),
        )
    }

    fn agent(&self, id: &str) -> Result<Option<AgentAccount>, StoreError> {
        self.one(
            "SELECT id, record FROM agents WHERE id = $1",
            vec![t(id)],
            |r| record("agents", r),
        )
    }

    fn agents(&self) -> Result<Vec<AgentAccount>, StoreError> {
        self.all("SELECT id, record FROM agents ORDER BY id", vec![], |r| {
            record("agents", r)
        })
    }

    fn session_tokens(&self) -> Result<Vec<SessionToken>, StoreError> {
        self.all(
            "SELECT agent, record FROM session_tokens ORDER BY agent, digest",
            vec![],
            |r| record("session_tokens", r),
        )
    }

    fn intervals(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<IntervalRecord>, StoreError> {
        self.all(
            "SELECT start_ms, record FROM intervals WHERE start_ms >= $1 AND start_ms < $2 \
             ORDER BY start_ms, kind, name LIMIT $3",
            vec![b(from), b(to), lim(limit)],
            |r| record("intervals", r).map(IntervalRecord::upgraded),
        )
    }

    fn audit_trail(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.all(
            "SELECT n, record FROM audit WHERE at >= $1 AND at < $2 ORDER BY at, n LIMIT $3",
            vec![b(from), b(to), lim(limit)],
            |r| record("audit", r),
        )
    }

    fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        self.all(
            "SELECT n, record FROM dead_letters ORDER BY at, n LIMIT $1",
            vec![lim(limit)],
            |r| record("dead_letters", r),
        )
    }

    fn customers_after(&self, after: u64, limit: usize) -> Result<Vec<Customer>, StoreError> {
        self.all(
            "SELECT id, record FROM customers WHERE id > $1 ORDER BY id LIMIT $2",
            vec![b(after), lim(limit)],
            |r| record("customers", r),
        )
    }

    fn customer_profile(&self, id: u64) -> Result<Option<CustomerProfile>, StoreError> {
        self.one(
            "SELECT id, name, segment, district, area, account_manager FROM customers \
             WHERE id = $1",
            vec![n(id)],
            |r| profile_of(r).map(|(_, p)| p),
        )
    }

    fn area_population(&self) -> Result<Vec<crate::AreaPopulation>, StoreError> {
        // an index-only scan of customers_by_area: the database counts as it writes
        self.all(
            "SELECT district, area, count(*) AS customers FROM customers \
             GROUP BY district, area ORDER BY district, area",
            vec![],
            |r| {
                let text = |c: &str| r.try_get::<_, String>(c).map_err(|e| corrupt_column(r, e));
                let n: i64 = r.try_get("customers").map_err(|e| corrupt_column(r, e))?;
                Ok(crate::AreaPopulation {
                    district: text("district")?,
                    area: text("area")?,
                    customers: u64::try_from(n).unwrap_or_default(),
                })
            },
        )
    }

    fn key_accounts(&self) -> Result<Vec<(u64, Option<String>)>, StoreError> {
        self.all(
            "SELECT id, account_manager FROM customers WHERE segment = 'key-account' ORDER BY id",
            vec![],
            |r| {
                let id: i64 = r.try_get("id").map_err(|e| corrupt_column(r, e))?;
                let manager: Option<String> = r
                    .try_get("account_manager")
                    .map_err(|e| corrupt_column(r, e))?;
                Ok((u64::try_from(id).unwrap_or_default(), manager))
            },
        )
    }

    fn customer_profiles_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, CustomerProfile)>, StoreError> {
        self.all(
            "SELECT id, name, segment, district, area, account_manager FROM customers \
             WHERE id > $1 ORDER BY id LIMIT $2",
            vec![b(after), lim(limit)],
            profile_of,
        )
    }

    fn tickets_after(&self, after: u64, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        self.all(
            "SELECT id, record FROM tickets WHERE id > $1 ORDER BY id LIMIT $2",
            vec![b(after), lim(limit)],
            |r| record("tickets", r),
        )
    }

    fn incident(&self, id: u64) -> Result<Option<Incident>, StoreError> {
        self.one(
            "SELECT id, record FROM incidents WHERE id = $1",
            vec![n(id)],
            |r| record("incidents", r),
        )
    }

    fn incidents_after(&self, after: u64, limit: usize) -> Result<Vec<Incident>, StoreError> {
        self.all(
            "SELECT id, record FROM incidents WHERE id > $1 ORDER BY id LIMIT $2",
            vec![b(after), lim(limit)],
            |r| record("incidents", r),
        )
    }

    fn open_incidents(&self) -> Result<Vec<Incident>, StoreError> {
        self.all(
            "SELECT id, record FROM incidents WHERE open ORDER BY id",
            vec![],
            |r| record("incidents", r),
        )
    }

    fn incident_links(
        &self,
        incident: u64,
        after: u64,
        limit: usize,
    ) -> Result<Vec<IncidentLink>, StoreError> {
        self.all(
            "SELECT ticket, record FROM incident_links WHERE incident = $1 AND ticket > $2 \
             ORDER BY ticket LIMIT $3",
            vec![n(incident), b(after), lim(limit)],
            |r| record("incident_links", r),
        )
    }

    fn interactions_after(&self, after: u64, limit: usize) -> Result<Vec<Interaction>, StoreError> {
        self.all(
            "SELECT id, record, legs FROM interactions WHERE id > $1 ORDER BY id LIMIT $2",
            vec![b(after), lim(limit)],
            interaction_of,
        )
    }

    fn check(&self) -> Result<CheckReport, StoreError> {
        crate::pg_check::check(self)
    }

    fn rebuild_indexes(&self) -> Result<CheckReport, StoreError> {
        crate::pg_check::rebuild(self)
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.one("SELECT pg_database_size(current_database())", vec![], |r| {
            Ok(uint(r.get(0)))
        })
        .map(Option::unwrap_or_default)
    }

    fn flushes(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }

    fn health(&self) -> Health {
        self.health
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.rows("SELECT 1", vec![]).map(|_| ())
    }
}

/// Milliseconds since the Unix epoch.
fn wall_clock_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// A bulk load inside one transaction: one multi-row statement per table.
async fn bulk<C: GenericClient>(c: &C, records: &[Put]) -> Result<(), tokio_postgres::Error> {
    let mut customers = Vec::new();
    let mut tickets = Vec::new();
    let mut interactions = Vec::new();
    for p in records {
        match p {
            Put::Customer(x) => customers.push(x),
            Put::Ticket(x) => tickets.push(x),
            Put::Interaction(x) => interactions.push(x),
            other => pg_commit::put(c, other).await?,
        }
    }
    if !customers.is_empty() {
        let ids: Vec<i64> = customers.iter().map(|x| int(x.id)).collect();
        c.execute(
            "INSERT INTO customers (id, name, segment, district, area, account_manager, record) \
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::jsonb[]) ON CONFLICT (id) DO NOTHING",
            &[
                &ids,
                &customers
                    .iter()
                    .map(|x| x.name.as_str())
                    .collect::<Vec<_>>(),
                &customers
                    .iter()
                    .map(|x| word(&x.segment))
                    .collect::<Vec<_>>(),
                &customers
                    .iter()
                    .map(|x| x.district.as_str())
                    .collect::<Vec<_>>(),
                &customers
                    .iter()
                    .map(|x| x.area.as_str())
                    .collect::<Vec<_>>(),
                &customers
                    .iter()
                    .map(|x| x.account_manager.as_deref())
                    .collect::<Vec<_>>(),
                &customers.iter().map(|x| Json(*x)).collect::<Vec<_>>(),
            ],
        )
        .await?;
        let (mut phones, mut owners) = (Vec::new(), Vec::new());
        for x in &customers {
            for p in &x.phones {
                phones.push(p.as_str());
                owners.push(int(x.id));
            }
        }
        c.execute(
            "INSERT INTO customer_phones (phone, customer) \
             SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT (phone) DO NOTHING",
            &[&phones, &owners],
        )
        .await?;
    }
    if !tickets.is_empty() {
        c.execute(
            "INSERT INTO tickets (id, customer, kind, subcategory, status, open, priority, owner, \
             back_office, created, deadline, history_len, record) \
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], \
             $6::boolean[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], \
             $12::integer[], $13::jsonb[]) ON CONFLICT (id) DO NOTHING",
            &[
                &tickets.iter().map(|x| int(x.id)).collect::<Vec<_>>(),
                &tickets.iter().map(|x| int(x.customer)).collect::<Vec<_>>(),
                &tickets.iter().map(|x| word(&x.kind)).collect::<Vec<_>>(),
                &tickets
                    .iter()
                    .map(|x| x.subcategory.as_str())
                    .collect::<Vec<_>>(),
                &tickets.iter().map(|x| word(&x.status)).collect::<Vec<_>>(),
                &tickets
                    .iter()
                    .map(|x| x.status.is_open())
                    .collect::<Vec<_>>(),
                &tickets
                    .iter()
                    .map(|x| word(&x.priority))
                    .collect::<Vec<_>>(),
                &tickets.iter().map(|x| x.owner.as_str()).collect::<Vec<_>>(),
                &tickets
                    .iter()
                    .map(|x| x.back_office.as_deref())
                    .collect::<Vec<_>>(),
                &tickets.iter().map(|x| int(x.created)).collect::<Vec<_>>(),
                &tickets.iter().map(|x| int(x.deadline)).collect::<Vec<_>>(),
                &tickets
                    .iter()
                    .map(|x| x.history.len() as i32)
                    .collect::<Vec<_>>(),
                &tickets.iter().map(|x| Json(*x)).collect::<Vec<_>>(),
            ],
        )
        .await?;
    }
    if !interactions.is_empty() {
        let v = &interactions;
        c.execute(
            "INSERT INTO interactions (id, call_id, customer, arrived, queue, reason, disposition, \
             first_agent, fcr_claimed, fcr_verified, record, legs) \
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], \
             $5::text[], $6::text[], $7::text[], $8::text[], $9::boolean[], $10::boolean[], \
             $11::jsonb[], $12::jsonb[]) ON CONFLICT (id) DO NOTHING",
            &[
                &v.iter().map(|x| int(x.id)).collect::<Vec<_>>(),
                &v.iter().map(|x| int(x.call_id)).collect::<Vec<_>>(),
                &v.iter().map(|x| x.customer.map(int)).collect::<Vec<_>>(),
                &v.iter().map(|x| int(x.arrived)).collect::<Vec<_>>(),
                &v.iter().map(|x| x.queue.as_deref()).collect::<Vec<_>>(),
                &v.iter().map(|x| x.reason.as_deref()).collect::<Vec<_>>(),
                &v.iter()
                    .map(|x| x.disposition.as_deref())
                    .collect::<Vec<_>>(),
                &v.iter()
                    .map(|x| x.agents.first().map(String::as_str))
                    .collect::<Vec<_>>(),
                &v.iter().map(|x| x.fcr_claimed).collect::<Vec<_>>(),
                &v.iter().map(|x| x.fcr_verified).collect::<Vec<_>>(),
                &v.iter().map(|x| Json(*x)).collect::<Vec<_>>(),
                &v.iter().map(|x| Json(&x.legs)).collect::<Vec<_>>(),
            ],
        )
        .await?;
        let (mut agents, mut arrived, mut ids) = (Vec::new(), Vec::new(), Vec::new());
        for x in v {
            for a in &x.agents {
                agents.push(a.as_str());
                arrived.push(int(x.arrived));
                ids.push(int(x.id));
            }
        }
        c.execute(
            "INSERT INTO interaction_agents (agent, arrived, interaction) \
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) ON CONFLICT DO NOTHING",
            &[&agents, &arrived, &ids],
        )
        .await?;
    }
    Ok(())
}

/// For `pg_check`: rows of a query, and a re-write of records in one transaction.
impl PgEngine {
    pub(crate) fn query_rows(
        &self,
        sql: &'static str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Row>, StoreError> {
        self.rows(sql, vec![b(after), lim(limit)])
    }

    pub(crate) fn count(&self, sql: &'static str) -> Result<u64, StoreError> {
        self.one(sql, vec![], |r| Ok(uint(r.get(0))))
            .map(Option::unwrap_or_default)
    }

    pub(crate) fn rewrite(&self, records: Vec<Put>) -> Result<(), StoreError> {
        let (pool, place) = (self.pool.clone(), self.place.clone());
        self.block(async move {
            let mut client = pool.get().await.map_err(|e| pool_err(&place, e))?;
            let tx = client.transaction().await.map_err(|e| db_err(&place, e))?;
            let e = |e| db_err(&place, e);
            futures_util::future::try_join_all(records.iter().map(|p| pg_commit::put(&tx, p)))
                .await
                .map_err(e)?;
            tx.commit().await.map_err(e)
        })
    }
}
