//! Check that every index agrees with the data, and rebuild the indexes from the data.
//! Both stream: memory does not grow with the store.

use crate::CheckReport;
use crate::codec::{decode, hex};
use crate::error::StoreError;
use crate::model::{AgentAccount, Customer, DeadLetter, Interaction, Ticket};
use crate::sled_store::*;

/// The index entries the record stored in entity `tree` at `key` implies.
fn implied(tree: usize, key: &[u8], v: &[u8]) -> Result<IndexEntries, StoreError> {
    match tree {
        CUSTOMERS => decode::<Customer>(TREE_NAMES[tree], key, v).map(|c| customer_index(&c)),
        TICKETS => decode::<Ticket>(TREE_NAMES[tree], key, v).map(|t| ticket_index(&t)),
        _ => decode::<Interaction>(TREE_NAMES[tree], key, v).map(|i| interaction_index(&i)),
    }
}

/// What the record owning an index entry says about it.
enum Owner {
    /// The entries the record implies.
    Implies(IndexEntries),
    /// No such record.
    Missing,
    /// The record does not decode (already counted as corrupt).
    Corrupt,
}

fn expected(store: &SledStore, tree: usize, id: u64) -> Result<Owner, StoreError> {
    let key = be(id);
    let owner = match tree {
        BY_PHONE | BY_NAME | BY_MANAGER => CUSTOMERS,
        TICKETS_BY_CUSTOMER | TICKETS_BY_STATUS | TICKETS_BY_OWNER | TICKETS_BY_DEADLINE => TICKETS,
        _ => INTERACTIONS,
    };
    let Some(v) = store.tree(owner).get(key)? else {
        return Ok(Owner::Missing);
    };
    let entries = implied(owner, &key, &v);
    Ok(entries.map_or(Owner::Corrupt, Owner::Implies))
}

/// Check every record decodes and every index entry matches the data, both ways.
pub fn check(store: &SledStore) -> Result<CheckReport, StoreError> {
    let mut r = CheckReport::default();
    let note = |r: &mut CheckReport, s: String| {
        if r.problems.len() < 20 {
            r.problems.push(s);
        }
    };
    // data → index: every entry an entity implies is there with the right value
    for (tree, count) in [(CUSTOMERS, 0usize), (TICKETS, 1), (INTERACTIONS, 2)] {
        for kv in store.tree(tree).iter() {
            let (k, v) = kv?;
            let entries = implied(tree, &k, &v);
            match count {
                0 => r.customers += 1,
                1 => r.tickets += 1,
                _ => r.interactions += 1,
            }
            let entries = match entries {
                Ok(e) => e,
                Err(e) => {
                    r.corrupt += 1;
                    note(&mut r, e.to_string());
                    continue;
                }
            };
            for (t, key, value) in entries {
                match store.tree(t).get(&key)? {
                    Some(found) if found.as_ref() == value.as_slice() => {}
                    Some(_) => {
                        r.mismatched += 1;
                        note(
                            &mut r,
                            format!("{} {} holds another value", TREE_NAMES[t], hex(&key)),
                        );
                    }
                    None => {
                        r.missing += 1;
                        note(&mut r, format!("{} lacks {}", TREE_NAMES[t], hex(&key)));
                    }
                }
            }
        }
    }
    for kv in store.tree(AGENTS).iter() {
        let (k, v) = kv?;
        r.agents += 1;
        if let Err(e) = decode::<AgentAccount>(TREE_NAMES[AGENTS], &k, &v) {
            r.corrupt += 1;
            note(&mut r, e.to_string());
        }
    }
    // records the router accepted but could not store
    for kv in store.tree(DEAD_LETTERS).iter() {
        let (k, v) = kv?;
        r.dead_letters += 1;
        match decode::<DeadLetter>(TREE_NAMES[DEAD_LETTERS], &k, &v) {
            Ok(d) => note(
                &mut r,
                format!("a {} record was set aside: {}", d.kind, d.error),
            ),
            Err(e) => {
                r.corrupt += 1;
                note(&mut r, e.to_string());
            }
        }
    }
    // index → data: every entry belongs to an entity that implies it
    for tree in INDEXES {
        for kv in store.tree(tree).iter() {
            let (k, v) = kv?;
            r.index_entries += 1;
            let id = if tree == BY_PHONE {
                v.as_ref().try_into().ok().map(u64::from_be_bytes)
            } else {
                k.len()
                    .checked_sub(8)
                    .and_then(|s| k[s..].try_into().ok())
                    .map(u64::from_be_bytes)
            };
            let ok = match id {
                Some(id) => match expected(store, tree, id)? {
                    Owner::Implies(e) => e
                        .iter()
                        .any(|(t, key, _)| *t == tree && key.as_slice() == k.as_ref()),
                    Owner::Corrupt => true,
                    Owner::Missing => false,
                },
                None => false,
            };
            if !ok {
                r.stale += 1;
                note(
                    &mut r,
                    format!(
                        "{} {} points at nothing that implies it",
                        TREE_NAMES[tree],
                        hex(&k)
                    ),
                );
            }
        }
    }
    Ok(r)
}

/// Drop every index and recompute it from the data, then check.
pub fn rebuild(store: &SledStore) -> Result<CheckReport, StoreError> {
    for t in INDEXES {
        store.tree(t).clear()?;
    }
    for tree in [CUSTOMERS, TICKETS, INTERACTIONS] {
        let mut batches: Vec<sled::Batch> = (0..TREE_NAMES.len())
            .map(|_| sled::Batch::default())
            .collect();
        let mut n = 0;
        for kv in store.tree(tree).iter() {
            let (k, v) = kv?;
            let entries = implied(tree, &k, &v);
            // a corrupt record keeps no index entries; check reports it
            let Ok(entries) = entries else { continue };
            for (t, key, value) in entries {
                batches[t].insert(key, value);
            }
            n += 1;
            if n % 50_000 == 0 {
                store.bulk(std::mem::replace(
                    &mut batches,
                    (0..TREE_NAMES.len())
                        .map(|_| sled::Batch::default())
                        .collect(),
                ))?;
            }
        }
        store.bulk(batches)?;
    }
    store.flush()?;
    check(store)
}
