//! Who the customers of a report's contacts and tickets are (district, 小区, segment,
//! account manager), each read once, and how many customers each area has.

use hotline_catalog::Segment;
use hotline_store::{CustomerProfile, Store, StoreError, export::scan};
use std::collections::{BTreeMap, HashMap};

/// What a report needs of a customer.
#[derive(Debug, Clone)]
pub(crate) struct Who {
    /// Masked (张*).
    pub name: String,
    pub district: String,
    pub area: String,
    pub segment: Segment,
    pub manager: Option<String>,
}

impl Who {
    fn of(c: CustomerProfile) -> Who {
        Who {
            name: hotline_store::mask::name(&c.name),
            district: c.district,
            area: c.area,
            segment: c.segment,
            manager: c.account_manager,
        }
    }
}

/// Customers read through the store once each.
pub(crate) struct People<'a> {
    store: &'a Store,
    known: HashMap<u64, Option<Who>>,
}

impl<'a> People<'a> {
    pub fn new(store: &'a Store) -> People<'a> {
        People {
            store,
            known: HashMap::new(),
        }
    }

    /// The customer `id`, if the store has them.
    pub fn who(&mut self, id: Option<u64>) -> Result<Option<&Who>, StoreError> {
        let Some(id) = id else {
            return Ok(None);
        };
        if !self.known.contains_key(&id) {
            let who = self.store.customer_profile(id)?.map(Who::of);
            self.known.insert(id, who);
        }
        Ok(self.known.get(&id).and_then(Option::as_ref))
    }
}

/// Every customer's (district, 小区), read in one pass over the profiles: the areas'
/// populations, and where each customer lives (so a report over many contacts looks no
/// customer up).
pub(crate) struct Areas {
    names: Vec<(String, String)>,
    of: HashMap<u64, u32>,
}

impl Areas {
    pub fn read(store: &Store) -> Result<Areas, StoreError> {
        let mut index: HashMap<(String, String), u32> = HashMap::new();
        let mut areas = Areas {
            names: Vec::new(),
            of: HashMap::new(),
        };
        let engine = store.engine();
        scan(
            |after, n| engine.customer_profiles_after(after, n),
            |(id, _)| *id,
            |(id, c)| {
                let key = (c.district, c.area);
                let k = match index.get(&key) {
                    Some(k) => *k,
                    None => {
                        let k = areas.names.len() as u32;
                        areas.names.push(key.clone());
                        index.insert(key, k);
                        k
                    }
                };
                areas.of.insert(id, k);
                Ok(())
            },
        )?;
        Ok(areas)
    }

    /// Where customer `id` lives.
    pub fn of(&self, id: Option<u64>) -> Option<&(String, String)> {
        self.of.get(&id?).and_then(|k| self.names.get(*k as usize))
    }

    /// Customers by (district, 小区).
    pub fn population(&self) -> BTreeMap<(String, String), u64> {
        let mut counts = vec![0u64; self.names.len()];
        for k in self.of.values() {
            counts[*k as usize] += 1;
        }
        self.names.iter().cloned().zip(counts).collect()
    }
}

/// Whose contacts and tickets a report counts: everyone's, or only those of customers of
/// one segment and/or living in the districts named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerFilter {
    /// Only this segment.
    pub segment: Option<Segment>,
    /// Only these districts (区县).
    pub districts: Vec<String>,
}

impl CustomerFilter {
    /// Everyone.
    pub fn everyone() -> CustomerFilter {
        CustomerFilter::default()
    }

    /// It keeps everyone.
    pub fn is_everyone(&self) -> bool {
        self.segment.is_none() && self.districts.is_empty()
    }

    /// Refuse a district no customer lives in, in words.
    pub(crate) fn check(&self, store: &Store) -> Result<(), crate::ReportError> {
        if self.districts.is_empty() {
            return Ok(());
        }
        let areas = Areas::read(store)?;
        crate::check_known(
            "district",
            "the customers",
            &self.districts,
            areas.names.iter().map(|(d, _)| d.as_str()),
        )
    }

    /// The contact or ticket of `customer` is counted (a caller the store does not know
    /// is counted only when the filter keeps everyone).
    pub(crate) fn keeps(
        &self,
        people: &mut People,
        customer: Option<u64>,
    ) -> Result<bool, StoreError> {
        if self.is_everyone() {
            return Ok(true);
        }
        let Some(w) = people.who(customer)? else {
            return Ok(false);
        };
        Ok(self.segment.is_none_or(|s| w.segment == s)
            && (self.districts.is_empty() || self.districts.contains(&w.district)))
    }
}
