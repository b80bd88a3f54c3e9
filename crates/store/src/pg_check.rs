//! `check` and `rebuild` on PostgreSQL: every record decodes, the typed columns beside
//! it say what the record says, and the phone and agent rows are exactly those the
//! records list. The database keeps its own B-tree indexes; what can drift is what this
//! store derives from a record. Both stream in pages: memory does not grow with the store.

use crate::CheckReport;
use crate::codec::word;
use crate::engine::Put;
use crate::error::StoreError;
use crate::export::PAGE;
use crate::model::*;
use crate::pg_engine::PgEngine;
use serde::de::DeserializeOwned;
use tokio_postgres::Row;
use tokio_postgres::types::Json;

fn note(r: &mut CheckReport, s: String) {
    if r.problems.len() < 20 {
        r.problems.push(s);
    }
}

/// Page through a table's rows (`sql` takes `$1` after-id and `$2` limit, ordered by id),
/// decoding each record and handing it with its row to `each`.
fn pages<T: DeserializeOwned>(
    pg: &PgEngine,
    sql: &'static str,
    table: &'static str,
    r: &mut CheckReport,
    mut each: impl FnMut(&mut CheckReport, &Row, T) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    let (mut after, mut n) = (0u64, 0);
    loop {
        let rows = pg.query_rows(sql, after, PAGE)?;
        let Some(last) = rows.last() else {
            return Ok(n);
        };
        after = last.get::<_, i64>(0) as u64;
        for row in &rows {
            n += 1;
            match row.try_get::<_, Json<T>>("record") {
                Ok(rec) => each(r, row, rec.0)?,
                Err(e) => {
                    r.corrupt += 1;
                    let id: i64 = row.get(0);
                    note(r, format!("{table} {id} does not decode: {e}"));
                }
            }
        }
    }
}

/// Check every record and everything derived from it.
pub fn check(pg: &PgEngine) -> Result<CheckReport, StoreError> {
    let mut r = CheckReport::default();
    r.customers = pages(
        pg,
        "SELECT id, name, segment, district, area, account_manager, record FROM customers \
         WHERE id > $1 ORDER BY id LIMIT $2",
        "customer",
        &mut r,
        |r, row, c: Customer| {
            let same = row.get::<_, i64>("id") as u64 == c.id
                && row.get::<_, String>("name") == c.name
                && row.get::<_, String>("segment") == word(&c.segment)
                && row.get::<_, String>("district") == c.district
                && row.get::<_, String>("area") == c.area
                && row.get::<_, Option<String>>("account_manager") == c.account_manager;
            if !same {
                r.mismatched += 1;
                note(
                    r,
                    format!("customer {}: its columns disagree with its record", c.id),
                );
            }
            Ok(())
        },
    )?;
    r.tickets = pages(
        pg,
        "SELECT id, customer, status, open, owner, deadline, history_len, record FROM tickets \
         WHERE id > $1 ORDER BY id LIMIT $2",
        "ticket",
        &mut r,
        |r, row, t: Ticket| {
            let same = row.get::<_, i64>("id") as u64 == t.id
                && row.get::<_, i64>("customer") as u64 == t.customer
                && row.get::<_, String>("status") == word(&t.status)
                && row.get::<_, bool>("open") == t.status.is_open()
                && row.get::<_, String>("owner") == t.owner
                && row.get::<_, i64>("deadline") as u64 == t.deadline
                && row.get::<_, i32>("history_len") as usize == t.history.len();
            if !same {
                r.mismatched += 1;
                note(
                    r,
                    format!("ticket {}: its columns disagree with its record", t.id),
                );
            }
            Ok(())
        },
    )?;
    r.interactions = pages(
        pg,
        "SELECT id, call_id, customer, arrived, reason, first_agent, fcr_verified, record \
         FROM interactions WHERE id > $1 ORDER BY id LIMIT $2",
        "interaction",
        &mut r,
        |r, row, i: Interaction| {
            let same = row.get::<_, i64>("id") as u64 == i.id
                && row.get::<_, i64>("call_id") as u64 == i.call_id
                && row.get::<_, Option<i64>>("customer").map(|c| c as u64) == i.customer
                && row.get::<_, i64>("arrived") as u64 == i.arrived
                && row.get::<_, Option<String>>("reason") == i.reason
                && row.get::<_, Option<String>>("first_agent").as_ref() == i.agents.first()
                && row.get::<_, Option<bool>>("fcr_verified") == i.fcr_verified;
            if !same {
                r.mismatched += 1;
                note(
                    r,
                    format!("interaction {}: its columns disagree with its record", i.id),
                );
            }
            Ok(())
        },
    )?;
    r.agents = pg.count("SELECT count(*) FROM agents")?;
    r.dead_letters = pg.count("SELECT count(*) FROM dead_letters")?;
    r.index_entries = pg.count(
        "SELECT (SELECT count(*) FROM customer_phones) + (SELECT count(*) FROM interaction_agents)",
    )?;
    let missing = pg.count(
        "SELECT count(*) FROM customers c, jsonb_array_elements_text(c.record->'phones') p \
         WHERE NOT EXISTS (SELECT 1 FROM customer_phones x WHERE x.phone = p AND x.customer = c.id)",
    )? + pg.count(
        "SELECT count(*) FROM interactions i, jsonb_array_elements_text(i.record->'agents') a \
         WHERE NOT EXISTS (SELECT 1 FROM interaction_agents x \
         WHERE x.agent = a AND x.interaction = i.id AND x.arrived = i.arrived)",
    )?;
    let stale = pg.count(
        "SELECT count(*) FROM customer_phones x JOIN customers c ON c.id = x.customer \
         WHERE NOT (c.record->'phones') ? x.phone",
    )? + pg.count(
        "SELECT count(*) FROM interaction_agents x JOIN interactions i ON i.id = x.interaction \
         WHERE NOT (i.record->'agents') ? x.agent OR x.arrived <> i.arrived",
    )?;
    if missing > 0 {
        note(
            &mut r,
            format!("{missing} phone or agent rows the records list are missing"),
        );
    }
    if stale > 0 {
        note(
            &mut r,
            format!("{stale} phone or agent rows no record lists"),
        );
    }
    // records the router accepted but could not store
    for d in crate::Engine::dead_letters(pg, 20)? {
        note(
            &mut r,
            format!("a {} record was set aside: {}", d.kind, d.error),
        );
    }
    r.missing = missing;
    r.stale = stale;
    Ok(r)
}

/// Re-derive every column and row from the records (a corrupt record is left as it is
/// and reported by the check that follows).
pub fn rebuild(pg: &PgEngine) -> Result<CheckReport, StoreError> {
    pg.count(
        "WITH gone AS (DELETE FROM customer_phones x USING customers c \
         WHERE c.id = x.customer AND NOT (c.record->'phones') ? x.phone RETURNING 1) \
         SELECT count(*) FROM gone",
    )?;
    let mut scratch = CheckReport::default();
    let mut batch = Vec::new();
    // a page rewritten per transaction as the scan goes: memory holds one page
    let keep = |batch: &mut Vec<Put>, p: Put| -> Result<(), StoreError> {
        batch.push(p);
        if batch.len() >= PAGE {
            pg.rewrite(std::mem::take(batch))?;
        }
        Ok(())
    };
    pages(
        pg,
        "SELECT id, record FROM customers WHERE id > $1 ORDER BY id LIMIT $2",
        "customer",
        &mut scratch,
        |_, _, c: Customer| keep(&mut batch, Put::Customer(c)),
    )?;
    pages(
        pg,
        "SELECT id, record FROM tickets WHERE id > $1 ORDER BY id LIMIT $2",
        "ticket",
        &mut scratch,
        |_, _, t: Ticket| keep(&mut batch, Put::Ticket(t)),
    )?;
    pages(
        pg,
        "SELECT id, record, legs FROM interactions WHERE id > $1 ORDER BY id LIMIT $2",
        "interaction",
        &mut scratch,
        |_, row, mut i: Interaction| {
            i.legs = row
                .try_get::<_, Json<Vec<CallLeg>>>("legs")
                .map(|j| j.0)
                .unwrap_or_default();
            keep(&mut batch, Put::Interaction(i))
        },
    )?;
    pg.rewrite(batch)?;
    check(pg)
}
