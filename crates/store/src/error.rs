//! Why a store operation failed, in words a person understands.

use thiserror::Error;

/// A refused or failed store operation. Nothing partial is stored when one is returned.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A field of the input is wrong.
    #[error("{field} {why}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        why: String,
    },
    /// No such record.
    #[error("no {what} {id}")]
    NotFound {
        /// "customer", "ticket" …
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The phone number already belongs to another customer.
    #[error("phone number {phone} already belongs to customer {owner}")]
    PhoneTaken {
        /// The number, masked.
        phone: String,
        /// The customer who has it.
        owner: u64,
    },
    /// Such a record exists already (an open incident of the same kind for the area).
    #[error("{0}")]
    Exists(String),
    /// A ticket cannot make this change in its status.
    #[error("ticket {ticket} is {status:?} and cannot {change}")]
    IllegalTransition {
        /// The ticket.
        ticket: u64,
        /// Its status.
        status: crate::model::TicketStatus,
        /// The change asked for.
        change: &'static str,
    },
    /// The change is not the asker's to make (a front-office agent resolving a ticket,
    /// a clerk of another group taking it).
    #[error("{0}")]
    NotAllowed(String),
    /// Wrong password or unknown agent (one message, so ids cannot be probed).
    #[error("wrong agent id or password")]
    BadCredentials,
    /// A record on disk cannot be read.
    #[error("corrupt record in {tree} at key {key}: {why}")]
    Corrupt {
        /// Tree.
        tree: &'static str,
        /// Key, hex.
        key: String,
        /// Decoder's complaint.
        why: String,
    },
    /// The database failed (I/O, …).
    #[error("storage failed: {0}")]
    Storage(#[from] sled::Error),
    /// Another writer changed a record this write was based on; the store retries such
    /// writes, so a caller sees this only when the record keeps changing.
    #[error("the record changed while it was being written: {0}")]
    Conflict(String),
    /// The database server refused or failed an operation (the message names it, never
    /// a record's values).
    #[error("{0}")]
    Database(String),
    /// The database server cannot be reached (refused, lost or timed out).
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// Export, import or backup file trouble.
    #[error("{0}")]
    File(String),
}

impl From<hotline_catalog::CatalogError> for StoreError {
    fn from(e: hotline_catalog::CatalogError) -> StoreError {
        match e {
            hotline_catalog::CatalogError::File(f) => StoreError::File(f),
            hotline_catalog::CatalogError::Invalid { field, why } => {
                StoreError::Invalid { field, why }
            }
        }
    }
}
