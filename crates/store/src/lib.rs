//! The customer store of the hotline: customers, interactions (call records), tickets
//! (工单) and agent accounts. [`Store`] holds the rules (validation, the ticket loop,
//! FCR, ids, passwords); under it an [`Engine`] only stores, indexes, scans and commits
//! atomically: sled ([`SledEngine`], embedded, the default) or PostgreSQL (`PgEngine`,
//! feature `postgres`).
//!
//! * Every write the store acknowledges is on disk first; concurrent writers share
//!   flushes (group commit), so durability does not cost one flush per record.
//! * An entity and its index entries are written in one multi-tree transaction: after a
//!   crash every index agrees with the data ([`Store::check`] proves it,
//!   [`Store::rebuild_indexes`] repairs a store that was seeded in bulk and interrupted).
//! * The screen pop (customer by phone + open tickets + last interactions) reads one
//!   customer and two short index ranges whose values carry what the screen shows.
//! * Bad input gets a typed [`StoreError`] naming the field, and nothing partial is
//!   stored. Personal data is masked in `Debug` output and messages.
//! * Records are encoded with a version byte; old versions stay readable.

mod check;
pub mod codec;
mod durable;
pub mod engine;
mod error;
pub mod export;
pub mod incident;
pub mod mask;
pub mod model;
#[cfg(feature = "postgres")]
mod pg_check;
#[cfg(feature = "postgres")]
mod pg_commit;
#[cfg(feature = "postgres")]
mod pg_engine;
pub mod seed;
mod sled_engine;
mod store;
pub mod validate;

pub use engine::{AreaPopulation, Engine, Health};
pub use error::StoreError;
pub use hotline_catalog::codes::{CALL_BACK_DONE, CALL_BACK_NO_ANSWER, CALL_BACK_REASON};
pub use hotline_catalog::{Catalog, CatalogError, Codes, not_ready};
pub use model::*;
#[cfg(feature = "postgres")]
pub use pg_engine::{
    DEFAULT_POOL_SIZE, MIGRATIONS, PgEngine, SCHEMA_VERSION, create_database, database_url,
    drop_database,
};
pub use sled_engine::{DEFAULT_CACHE_BYTES, SledEngine, StoreDir, store_dir};
pub use store::{
    CallBackOutcome, CallBackRecord, DEFAULT_FCR_WINDOW, FcrCount, FcrTally, SYSTEM, Store,
    TicketListener, WrapUpTickets, location_words,
};

use serde::Serialize;

/// What [`Store::check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Customers read.
    pub customers: u64,
    /// Tickets read.
    pub tickets: u64,
    /// Interactions read.
    pub interactions: u64,
    /// Agent accounts read.
    pub agents: u64,
    /// Index entries read.
    pub index_entries: u64,
    /// Records that do not decode.
    pub corrupt: u64,
    /// Index entries the data implies but the index lacks.
    pub missing: u64,
    /// Index entries with another value than the data implies.
    pub mismatched: u64,
    /// Index entries no record implies.
    pub stale: u64,
    /// Records accepted but set aside because the store refused them (dead letters).
    pub dead_letters: u64,
    /// The first problems, in words.
    pub problems: Vec<String>,
}

impl CheckReport {
    /// Data and indexes agree and every record decodes.
    pub fn is_clean(&self) -> bool {
        self.corrupt == 0
            && self.missing == 0
            && self.mismatched == 0
            && self.stale == 0
            && self.dead_letters == 0
    }
}
