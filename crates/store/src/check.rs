//! Check that every index agrees with the data, and rebuild the indexes from the data.
//! Both stream: memory does not grow with the store.

use crate::CheckReport;
use crate::codec::{decode, hex};
use crate::error::StoreError;
use crate::model::{AgentAccount, Customer, CustomerProfile, DeadLetter, Interaction, Ticket};
use crate::sled_engine::*;

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

fn expected(store: &SledEngine, tree: usize, id: u64) -> Result<Owner, StoreError> {
    let key = be(id);
    let owner = match tree {
        BY_PHONE | BY_NAME | BY_MANAGER | CUSTOMER_PROFILES | KEY_ACCOUNTS => CUSTOMERS,
        TICKETS_BY_CUSTOMER | TICKETS_BY_STATUS | TICKETS_BY_OWNER | TICKETS_BY_DEADLINE
        | TICKETS_BY_OFFICE => TICKETS,
        _ => INTERACTIONS,
    };
    let Some(v) = store.tree(owner).get(key)? else {
        return Ok(Owner::Missing);
    };
    let entries = implied(owner, &key, &v);
    Ok(entries.map_or(Owner::Corrupt, Owner::Implies))
}

/// Check every record decodes and every index entry matches the data, both ways.
pub fn check(store: &SledEngine) -> Result<CheckReport, StoreError> {
    let mut r = CheckReport::default();
    let note = |r: &mut CheckReport, s: String| {
        if r.problems.len() < 20 {
            r.problems.push(s);
        }
    };
    // data → index: every entry an entity implies is there with the right value
    let mut population = Population::default();
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
            population.count(&entries);
            for (t, key, value) in entries {
                match store.tree(t).get(&key)? {
                    Some(found) if found.as_ref() == value.as_slice() => {}
                    // the time index of a store written before it held the records
                    Some(found) if t == INTERACTIONS_BY_TIME && found.is_empty() => {}
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
    // the areas' counts: each what the customers add up to
    let mut counted = population.0;
    for kv in store.tree(AREA_POPULATION).iter() {
        let (k, v) = kv?;
        r.index_entries += 1;
        let want = counted.remove(k.as_ref());
        let words = area_of_key(&k).map_or_else(|| hex(&k), |(d, a)| format!("{d} {a}"));
        match (want, count_of(&v)) {
            (Some(want), Some(n)) if want == n => {}
            (None, _) => {
                r.stale += 1;
                note(
                    &mut r,
                    format!(
                        "{} counts {words}, where no customer lives",
                        TREE_NAMES[AREA_POPULATION]
                    ),
                );
            }
            (Some(want), found) => {
                r.mismatched += 1;
                note(
                    &mut r,
                    format!(
                        "{} counts {found:?} customers in {words}, not {want}",
                        TREE_NAMES[AREA_POPULATION]
                    ),
                );
            }
        }
    }
    for k in counted.keys() {
        r.missing += 1;
        note(
            &mut r,
            format!("{} lacks {}", TREE_NAMES[AREA_POPULATION], hex(k)),
        );
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

/// Customers by area, counted from the profiles the customers imply (one entry per
/// area: bounded by the areas, not the customers).
#[derive(Default)]
struct Population(std::collections::BTreeMap<Vec<u8>, u64>);

impl Population {
    fn count(&mut self, entries: &IndexEntries) {
        for (t, key, value) in entries {
            if *t != CUSTOMER_PROFILES {
                continue;
            }
            if let Ok(p) = decode::<CustomerProfile>(TREE_NAMES[*t], key, value) {
                *self.0.entry(area_key(&p.district, &p.area)).or_default() += 1;
            }
        }
    }
}

/// Drop every index and recompute it from the data, then check.
pub fn rebuild(store: &SledEngine) -> Result<CheckReport, StoreError> {
    for t in INDEXES {
        store.tree(t).clear()?;
    }
    store.tree(AREA_POPULATION).clear()?;
    let mut population = Population::default();
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
            population.count(&entries);
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
    let mut counts = sled::Batch::default();
    for (k, n) in population.0 {
        counts.insert(k, &be(n));
    }
    store.tree(AREA_POPULATION).apply_batch(counts)?;
    crate::Engine::flush(store)?;
    check(store)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use crate::model::*;
    use crate::seed::{self, DEFAULT_NOW};
    use std::sync::Arc;

    /// A store with one customer, one ticket and one call of theirs.
    fn filled() -> (Store, Arc<SledEngine>, Customer) {
        let e = Arc::new(SledEngine::temporary().unwrap());
        let s = Store::on(e.clone(), crate::Catalog::builtin());
        let mut c = seed::customer(3, 0, DEFAULT_NOW);
        c.id = 0;
        c.phones = vec!["18912345678".into()];
        let c = s.put_customer(c).unwrap();
        s.create_ticket(
            NewTicket {
                customer: c.id,
                kind: TicketKind::Fault,
                subcategory: "broadband-down".into(),
                description: "断网".into(),
                priority: TicketPriority::High,
            },
            "1001",
            DEFAULT_NOW,
        )
        .unwrap();
        s.record_interaction(Interaction {
            id: 0,
            call_id: 7,
            customer: Some(c.id),
            caller_number: "18912345678".into(),
            dialled: "1000".into(),
            arrived: DEFAULT_NOW,
            ivr_ended: None,
            queued: None,
            offered: None,
            answered: None,
            ended: DEFAULT_NOW + 60_000,
            ivr_path: vec![],
            self_service: None,
            queue: Some("fault".into()),
            agents: vec!["1001".into()],
            transfers: 0,
            wait_s: 5,
            talk_s: 50,
            hold_s: 0,
            wrap_up_s: 5,
            end: CallEnd::Completed,
            disposition: Some("answered".into()),
            reason: Some("fault.broadband".into()),
            notes: String::new(),
            tickets: vec![],
            fcr_claimed: false,
            fcr_verified: None,
            satisfaction: None,
            legs: vec![],
        })
        .unwrap();
        (s, e, c)
    }

    #[test]
    fn check_finds_each_kind_of_damage_and_rebuild_repairs_it() {
        let (s, e, c) = filled();
        let clean = check(&e).unwrap();
        assert!(clean.is_clean(), "{clean:?}");
        let entries = clean.index_entries;
        // damage three ways: an entry gone, an entry no record implies, a wrong value
        e.tree(BY_PHONE).remove("18912345678").unwrap();
        e.tree(BY_NAME)
            .insert(text_key("幽灵", 999), vec![])
            .unwrap();
        let (k, _) = e.tree(TICKETS_BY_CUSTOMER).first().unwrap().unwrap();
        e.tree(TICKETS_BY_CUSTOMER)
            .insert(k, b"garbage".to_vec())
            .unwrap();
        let r = check(&e).unwrap();
        assert_eq!((r.missing, r.stale, r.mismatched), (1, 1, 1), "{r:?}");
        assert!(!r.is_clean());
        assert_eq!(
            s.customer_by_phone("18912345678").unwrap(),
            None,
            "the damage is real"
        );
        // rebuild: every index recomputed from the data, the stale entry gone
        let r = rebuild(&e).unwrap();
        assert!(r.is_clean(), "{r:?}");
        assert_eq!(r.index_entries, entries);
        assert_eq!(
            s.customer_by_phone("18912345678").unwrap().map(|x| x.id),
            Some(c.id)
        );
        assert!(
            e.tree(BY_NAME)
                .get(text_key("幽灵", 999))
                .unwrap()
                .is_none()
        );
        assert_eq!(
            s.screen_pop("18912345678", 5)
                .unwrap()
                .unwrap()
                .open_tickets
                .len(),
            1
        );
    }

    /// A store written before the time index held the records (its entries empty) still
    /// reads its contacts by period, is clean to `check`, and `rebuild` fills the entries.
    #[test]
    fn a_time_index_of_the_earlier_shape_still_reads_and_rebuild_fills_it() {
        let (s, e, _) = filled();
        let all = || s.interactions_between(0, u64::MAX >> 1, 10).unwrap();
        let before = all();
        assert_eq!(before.len(), 1);
        let (k, v) = e.tree(INTERACTIONS_BY_TIME).first().unwrap().unwrap();
        assert!(!v.is_empty(), "today's entry holds the record");
        e.tree(INTERACTIONS_BY_TIME)
            .insert(k.clone(), vec![])
            .unwrap();
        assert_eq!(all(), before, "read through the record");
        assert!(check(&e).unwrap().is_clean());
        rebuild(&e).unwrap();
        assert_eq!(e.tree(INTERACTIONS_BY_TIME).get(&k).unwrap(), Some(v));
        assert_eq!(all(), before);
    }

    /// The counts are those of the trees, counted apart from `check`; a corrupt agent and
    /// a corrupt dead letter are each counted corrupt; a name entry aimed at a real
    /// customer but under a name they do not have is stale; problems are listed up to 20.
    #[test]
    fn check_counts_what_is_there_and_lists_twenty_problems() {
        let (s, e, c) = filled();
        s.set_agent(
            AgentAccount {
                id: "1001".into(),
                name: "张三".into(),
                role: Role::Agent,
                skills: vec![],
                groups: vec![],
                password_hash: String::new(),
            },
            "secret-1001",
        )
        .unwrap();
        let r = check(&e).unwrap();
        let len = |t: usize| e.tree(t).len() as u64;
        assert_eq!(
            (r.customers, r.tickets, r.interactions, r.agents),
            (len(CUSTOMERS), len(TICKETS), len(INTERACTIONS), len(AGENTS))
        );
        assert_eq!(
            (r.customers, r.tickets, r.interactions, r.agents),
            (1, 1, 1, 1)
        );
        // the index entries, and the areas' counts
        let entries: u64 = INDEXES.iter().map(|&t| len(t)).sum::<u64>() + len(AREA_POPULATION);
        assert_eq!(r.index_entries, entries);
        assert!(r.problems.is_empty());

        e.tree(AGENTS).insert("9999", b"garbage".to_vec()).unwrap();
        e.tree(DEAD_LETTERS)
            .insert(be(1), b"garbage".to_vec())
            .unwrap();
        e.tree(BY_NAME)
            .insert(text_key("幽灵", c.id), vec![])
            .unwrap();
        for k in 0..25u64 {
            e.tree(BY_MANAGER)
                .insert(cat(&[b"nobody\0", &be(1000 + k)]), vec![])
                .unwrap();
        }
        let r = check(&e).unwrap();
        assert_eq!((r.corrupt, r.dead_letters, r.agents), (2, 1, 2), "{r:?}");
        assert_eq!(r.stale, 26, "{r:?}");
        assert_eq!(r.index_entries, entries + 26);
        assert_eq!(r.problems.len(), 20, "the list stops at 20");
        assert!(!r.is_clean());
    }
}
