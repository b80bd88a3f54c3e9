//! A commit on PostgreSQL in one round trip. Every statement of the transaction —
//! `BEGIN`, the conditions, the removals, each record's rows, the phone-number check,
//! `COMMIT` — is prepared once per connection and then sent at once (tokio-postgres
//! pipelines queries polled together, in the order they were first polled), so a commit
//! waits for the network once and for the server's WAL flush once, as a single-row
//! insert does. Conditions that must hold are statements that raise an error when they
//! do not (`hotline_expect`, `hotline_phones_free`, schema version 2): the error aborts
//! the transaction, the statements after it fail with it, and `COMMIT` rolls back.

use crate::codec::word;
use crate::engine::{Commit, Expect, Put, Remove};
use crate::error::StoreError;
use crate::model::*;
use deadpool_postgres::GenericClient;
use std::collections::HashMap;
use tokio_postgres::types::{Json, ToSql};

/// The SQLSTATE `hotline_expect` raises: a condition no longer holds.
const CONFLICT: &str = "HL409";
/// The SQLSTATE `hotline_phones_free` raises: a number belongs to another customer.
const PHONE_TAKEN: &str = "HL410";
/// PostgreSQL's unique_violation.
const UNIQUE_VIOLATION: &str = "23505";

/// Schema version 2: the functions a pipelined commit's conditions call.
pub(crate) const FUNCTIONS: &str = r#"
CREATE FUNCTION hotline_expect(holds boolean, what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF holds IS NOT TRUE THEN
        RAISE EXCEPTION USING ERRCODE = 'HL409', MESSAGE = what;
    END IF;
END $$;

-- the detail names the customer, the position of the number in its list and the
-- other owner: no number in the server's log
CREATE FUNCTION hotline_phones_free(who bigint, phones text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    clash record;
BEGIN
    SELECT p.phone, p.customer INTO clash FROM customer_phones p
     WHERE p.phone = ANY (phones) AND p.customer <> who LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'HL410', MESSAGE = 'phone number taken',
            DETAIL = format('%s %s %s', who, array_position(phones, clash.phone), clash.customer);
    END IF;
END $$;
"#;

/// A parameter of a step, owned by it (it may borrow from the commit).
type Value<'a> = Box<dyn ToSql + Sync + Send + 'a>;

/// One statement of a transaction.
pub(crate) struct Step<'a> {
    sql: &'static str,
    params: Vec<Value<'a>>,
}

macro_rules! step {
    ($sql:expr $(, $p:expr)* $(,)?) => {
        Step { sql: $sql, params: vec![$(Box::new($p) as Value<'_>),*] }
    };
}

impl Step<'_> {
    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

fn int(x: u64) -> i64 {
    x as i64
}

/// The statements that write `p`, replacing the record of its id (and its rows).
pub(crate) fn steps(p: &Put) -> Vec<Step<'_>> {
    match p {
        Put::Customer(x) => customer(x),
        Put::Ticket(x) => vec![step!(
            "INSERT INTO tickets (id, customer, kind, subcategory, status, open, priority, owner, \
             back_office, created, deadline, history_len, record) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (id) DO UPDATE SET customer = EXCLUDED.customer, kind = EXCLUDED.kind, \
             subcategory = EXCLUDED.subcategory, status = EXCLUDED.status, open = EXCLUDED.open, \
             priority = EXCLUDED.priority, owner = EXCLUDED.owner, back_office = EXCLUDED.back_office, \
             created = EXCLUDED.created, deadline = EXCLUDED.deadline, \
             history_len = EXCLUDED.history_len, record = EXCLUDED.record",
            int(x.id),
            int(x.customer),
            word(&x.kind),
            x.subcategory.as_str(),
            word(&x.status),
            x.status.is_open(),
            word(&x.priority),
            x.owner.as_str(),
            x.back_office.as_deref(),
            int(x.created),
            int(x.deadline),
            x.history.len() as i32,
            Json(x),
        )],
        Put::Interaction(x) => interaction(x),
        Put::Agent(a) => vec![step!(
            "INSERT INTO agents (id, name, role, record) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role, \
             record = EXCLUDED.record",
            a.id.as_str(),
            a.name.as_str(),
            word(&a.role),
            Json(a),
        )],
        Put::SessionToken(s) => vec![step!(
            "INSERT INTO session_tokens (agent, digest, issued, expires, record) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agent, digest) DO UPDATE SET \
             issued = EXCLUDED.issued, expires = EXCLUDED.expires, record = EXCLUDED.record",
            s.agent.as_str(),
            s.digest.as_str(),
            int(s.issued),
            int(s.expires),
            Json(s),
        )],
        Put::Audit(e) => vec![step!(
            "INSERT INTO audit (at, by_whom, action, target, record) VALUES ($1, $2, $3, $4, $5)",
            int(e.at),
            e.by.as_str(),
            e.action.as_str(),
            e.target.as_str(),
            Json(e),
        )],
        Put::Interval(r) => {
            let (kind, name) = r.subject();
            vec![step!(
                "INSERT INTO intervals (start_ms, end_ms, kind, name, record) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (start_ms, kind, name) DO UPDATE \
                 SET end_ms = EXCLUDED.end_ms, record = EXCLUDED.record",
                int(r.start),
                int(r.end),
                i16::from(kind),
                name,
                Json(r),
            )]
        }
        Put::DeadLetter(d) => vec![step!(
            "INSERT INTO dead_letters (at, kind, record) VALUES ($1, $2, $3)",
            int(d.at),
            d.kind.as_str(),
            Json(d),
        )],
        Put::Incident(i) => vec![step!(
            "INSERT INTO incidents (id, district, area, kind, open, declared, ended, history_len, \
             record) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO UPDATE SET \
             district = EXCLUDED.district, area = EXCLUDED.area, kind = EXCLUDED.kind, \
             open = EXCLUDED.open, declared = EXCLUDED.declared, ended = EXCLUDED.ended, \
             history_len = EXCLUDED.history_len, record = EXCLUDED.record",
            int(i.id),
            i.district.as_str(),
            i.area.as_str(),
            i.kind.as_str(),
            i.is_open(),
            int(i.declared),
            i.ended.map(int),
            i.history.len() as i32,
            Json(i),
        )],
        Put::IncidentLink(l) => vec![step!(
            "INSERT INTO incident_links (incident, ticket, customer, at, record) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (incident, ticket) DO UPDATE SET \
             customer = EXCLUDED.customer, at = EXCLUDED.at, record = EXCLUDED.record",
            int(l.incident),
            int(l.ticket),
            int(l.customer),
            int(l.at),
            Json(l),
        )],
    }
}

fn customer(x: &Customer) -> Vec<Step<'_>> {
    let mut s = vec![
        step!(
            "INSERT INTO customers (id, name, segment, district, area, account_manager, record) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
             name = EXCLUDED.name, segment = EXCLUDED.segment, district = EXCLUDED.district, \
             area = EXCLUDED.area, account_manager = EXCLUDED.account_manager, \
             record = EXCLUDED.record",
            int(x.id),
            x.name.as_str(),
            word(&x.segment),
            x.district.as_str(),
            x.area.as_str(),
            x.account_manager.as_deref(),
            Json(x),
        ),
        step!("DELETE FROM customer_phones WHERE customer = $1", int(x.id)),
    ];
    for p in &x.phones {
        s.push(step!(
            "INSERT INTO customer_phones (phone, customer) VALUES ($1, $2) \
             ON CONFLICT (phone) DO NOTHING",
            p.as_str(),
            int(x.id),
        ));
    }
    s
}

fn interaction(x: &Interaction) -> Vec<Step<'_>> {
    let mut s = vec![
        step!(
            "INSERT INTO interactions (id, call_id, customer, arrived, queue, reason, disposition, \
             first_agent, fcr_claimed, fcr_verified, record, legs) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (id) DO UPDATE SET call_id = EXCLUDED.call_id, \
             customer = EXCLUDED.customer, arrived = EXCLUDED.arrived, queue = EXCLUDED.queue, \
             reason = EXCLUDED.reason, disposition = EXCLUDED.disposition, \
             first_agent = EXCLUDED.first_agent, fcr_claimed = EXCLUDED.fcr_claimed, \
             fcr_verified = EXCLUDED.fcr_verified, record = EXCLUDED.record, legs = EXCLUDED.legs",
            int(x.id),
            int(x.call_id),
            x.customer.map(int),
            int(x.arrived),
            x.queue.as_deref(),
            x.reason.as_deref(),
            x.disposition.as_deref(),
            x.agents.first().map(String::as_str),
            x.fcr_claimed,
            x.fcr_verified,
            Json(x),
            Json(&x.legs),
        ),
        step!(
            "DELETE FROM interaction_agents WHERE interaction = $1",
            int(x.id)
        ),
    ];
    for a in &x.agents {
        s.push(step!(
            "INSERT INTO interaction_agents (agent, arrived, interaction) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
            a.as_str(),
            int(x.arrived),
            int(x.id),
        ));
    }
    s
}

/// The statement that fails unless `e` holds, locking the row it names.
fn expect(e: &Expect) -> Step<'_> {
    let what = format!("{e:?} no longer holds: another writer came first");
    match *e {
        Expect::Ticket { id, history } => step!(
            "SELECT hotline_expect((SELECT history_len = $2 FROM tickets WHERE id = $1 FOR UPDATE), $3)",
            int(id),
            history as i32,
            what,
        ),
        Expect::Unsettled { id } => step!(
            "SELECT hotline_expect((SELECT fcr_verified IS NULL FROM interactions \
             WHERE id = $1 FOR UPDATE), $2)",
            int(id),
            what,
        ),
        // a new incident's number is fresh from the sequence, so "none yet" needs no lock
        Expect::Incident { id, history } => step!(
            "SELECT hotline_expect(coalesce((SELECT history_len FROM incidents \
             WHERE id = $1 FOR UPDATE), 0) = $2, $3)",
            int(id),
            history as i32,
            what,
        ),
    }
}

fn remove(r: &Remove) -> Step<'_> {
    match r {
        Remove::SessionTokens {
            agent,
            issued_before,
        } => step!(
            "DELETE FROM session_tokens WHERE agent = $1 AND issued < $2",
            agent.as_str(),
            (*issued_before).min(i64::MAX as u64) as i64,
        ),
    }
}

/// Every statement of `commit` between `BEGIN` and `COMMIT`, in order.
fn transaction(commit: &Commit) -> Vec<Step<'_>> {
    let mut all: Vec<Step<'_>> = commit.expect.iter().map(expect).collect();
    all.extend(commit.remove.iter().map(remove));
    all.extend(commit.put.iter().flat_map(steps));
    // after the writes: the unique key has then settled who holds each number
    for p in &commit.put {
        if let Put::Customer(x) = p {
            all.push(step!(
                "SELECT hotline_phones_free($1, $2)",
                int(x.id),
                x.phones.clone(),
            ));
        }
    }
    all
}

/// Why a commit did not happen.
pub(crate) enum Refused {
    /// The store's own reason (a condition, a taken number).
    Store(StoreError),
    /// The database's.
    Db(tokio_postgres::Error),
}

/// The most statements a commit sends at once: `try_join_all` polls up to this many
/// futures in order, every one each time (futures-util's `SMALL`), so they are sent in
/// their order, `BEGIN` first and `COMMIT` last.
const PIPELINED_MOST: usize = 30;

/// Run `commit` as one transaction on `c`, its statements sent together (one after
/// another past [`PIPELINED_MOST`]).
pub(crate) async fn run<C: GenericClient>(c: &C, commit: &Commit) -> Result<(), Refused> {
    let steps = transaction(commit);
    let mut texts: Vec<&'static str> = steps.iter().map(|s| s.sql).collect();
    texts.sort_unstable();
    texts.dedup();
    // cached per connection: a round trip only the first time a connection sees them
    let statements = futures_util::future::try_join_all(texts.iter().map(|t| c.prepare_cached(t)))
        .await
        .map_err(Refused::Db)?;
    let prepared: HashMap<&str, _> = texts.into_iter().zip(statements).collect();
    let refs: Vec<Vec<&(dyn ToSql + Sync)>> = steps.iter().map(Step::refs).collect();
    if steps.len() > PIPELINED_MOST {
        // joined futures past this many are polled as a set that may stop part-way
        // (futures-util's FuturesUnordered yields to the executor), so `COMMIT` could be
        // sent before the last statements: a big commit (a checkpoint of 1,000 agents'
        // intervals, an import page) goes one statement after another instead
        c.batch_execute("BEGIN").await.map_err(Refused::Db)?;
        for (s, r) in steps.iter().zip(&refs) {
            if let Err(e) = c.execute(&prepared[s.sql], r).await {
                // the transaction is aborted: end it before the connection is reused
                let _ = c.batch_execute("ROLLBACK").await;
                return Err(refusal(e, commit));
            }
        }
        return c
            .batch_execute("COMMIT")
            .await
            .map_err(|e| refusal(e, commit));
    }
    let body = futures_util::future::try_join_all(
        steps
            .iter()
            .zip(&refs)
            .map(|(s, r)| c.execute(&prepared[s.sql], r)),
    );
    let done = futures_util::future::try_join3(c.batch_execute("BEGIN"), body, async {
        c.batch_execute("COMMIT").await
    })
    .await;
    match done {
        Ok(_) => Ok(()),
        Err(e) => Err(refusal(e, commit)),
    }
}

/// A failed commit's error in the store's words where it is one of ours.
fn refusal(e: tokio_postgres::Error, commit: &Commit) -> Refused {
    let Some(db) = e.as_db_error() else {
        return Refused::Db(e);
    };
    match db.code().code() {
        CONFLICT => Refused::Store(StoreError::Conflict(db.message().to_string())),
        UNIQUE_VIOLATION if db.constraint() == Some("incidents_open_by_area") => {
            Refused::Store(StoreError::Exists(
                "an incident of this kind is already open for this area; edit or end it".into(),
            ))
        }
        PHONE_TAKEN => {
            let words: Vec<u64> = db
                .detail()
                .unwrap_or_default()
                .split(' ')
                .filter_map(|w| w.parse().ok())
                .collect();
            let [who, position, owner] = words[..] else {
                return Refused::Db(e);
            };
            let phone = commit.put.iter().find_map(|p| match p {
                Put::Customer(x) if x.id == who => {
                    x.phones.get((position as usize).checked_sub(1)?).cloned()
                }
                _ => None,
            });
            Refused::Store(StoreError::PhoneTaken {
                phone: crate::mask::phone(&phone.unwrap_or_default()),
                owner,
            })
        }
        _ => Refused::Db(e),
    }
}

/// Write `p` inside a transaction already open on `c`, its statements one after another
/// (bulk loads of the records that have no bulk statement of their own).
pub(crate) async fn put<C: GenericClient>(c: &C, p: &Put) -> Result<(), tokio_postgres::Error> {
    for s in steps(p) {
        let st = c.prepare_cached(s.sql).await?;
        c.execute(&st, &s.refs()).await?;
    }
    Ok(())
}
