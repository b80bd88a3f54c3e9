//! Who the customers of a report's contacts and tickets are (district, 小区, segment,
//! account manager), each read once; which of them are key accounts; and how many
//! customers each area has.

use hotline_catalog::Segment;
use hotline_store::{CustomerProfile, Store, StoreError};
use std::collections::{BTreeMap, HashMap};

/// What a report needs of a customer.
#[derive(Debug, Clone)]
pub(crate) struct Who {
    /// Masked (张*).
    pub name: String,
    pub district: String,
    pub area: String,
    pub segment: Segment,
}

impl Who {
    fn of(c: CustomerProfile) -> Who {
        Who {
            name: hotline_store::mask::name(&c.name),
            district: c.district,
            area: c.area,
            segment: c.segment,
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

    /// Let go of customer `id` (a caller who reads each customer once keeps none).
    pub fn forget(&mut self, id: u64) {
        self.known.remove(&id);
    }
}

/// How many customers each (district, 小区) has, as the store keeps the count (no
/// customer is read for it).
pub(crate) fn population(store: &Store) -> Result<BTreeMap<(String, String), u64>, StoreError> {
    Ok(store
        .engine()
        .area_population()?
        .into_iter()
        .map(|a| ((a.district, a.area), a.customers))
        .collect())
}

/// The key accounts (大客户) and their account managers, read at once: a few percent of
/// the customers, so a report over every contact asks a map, not the store, whether a
/// caller is one.
pub(crate) struct KeyAccounts(HashMap<u64, Option<String>>);

impl KeyAccounts {
    pub fn read(store: &Store) -> Result<KeyAccounts, StoreError> {
        Ok(KeyAccounts(
            store.engine().key_accounts()?.into_iter().collect(),
        ))
    }

    /// Customer `id`'s account manager (`Some(None)`: a key account without one), or
    /// `None` when they are not a key account.
    pub fn manager(&self, id: Option<u64>) -> Option<Option<&str>> {
        self.0.get(&id?).map(Option::as_deref)
    }

    /// The segment of a contact's customer: a key account, or public for any other
    /// customer; none for a caller the hotline did not know.
    pub fn segment(&self, id: Option<u64>) -> Option<Segment> {
        id.map(|id| {
            if self.0.contains_key(&id) {
                Segment::KeyAccount
            } else {
                Segment::Public
            }
        })
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
        let areas = population(store)?;
        crate::check_known(
            "district",
            "the customers",
            &self.districts,
            areas.keys().map(|(d, _)| d.as_str()),
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
