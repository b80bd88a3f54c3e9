//! The hotline's catalogues of codes (统一编码), read from data files under `assets/`
//! and built in: ticket types with their subcategories, back-office groups and deadlines
//! ([`tickets`], `assets/tickets/categories.toml`), and call reasons with their IVR
//! groups and dispositions ([`codes`], `assets/codes/codes.toml`), and the agents'
//! not-ready reasons ([`not_ready`]). The store, the router
//! and the desktop share this crate, so the desktop knows the codes and their labels
//! without linking a storage engine.

pub mod codes;
pub mod not_ready;
pub mod tickets;

pub use codes::{Codes, Disposition, Reason, ReasonGroup};
pub use tickets::{
    Catalog, Deadlines, Escalation, KindSpec, OfficeGroup, Resolution, Subcategory, TicketKind,
    WarnAt,
};

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch.
pub type Millis = u64;

/// 公众客户 public customer or 大客户 key account (enterprise, government, group): the
/// catalogues give each its own deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Segment {
    /// 公众客户.
    Public,
    /// 大客户: green channel, account manager.
    KeyAccount,
}

/// What is wrong with a catalogue, or with a code checked against one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The file cannot be read or is not a catalogue.
    #[error("{0}")]
    File(String),
    /// A value is not in the catalogue.
    #[error("{field} {why}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why, in words.
        why: String,
    },
}

/// Refuse a catalogue whose codes are not each one word, or come twice in their kind:
/// `codes` are (what, code) pairs, `file` names the catalogue in the message.
pub(crate) fn check_codes<'a>(
    file: &str,
    codes: impl Iterator<Item = (&'static str, &'a String)>,
) -> Result<(), CatalogError> {
    let mut seen = std::collections::HashSet::new();
    for (what, code) in codes {
        let why = if code.is_empty() || code.contains(char::is_whitespace) {
            "must be one word"
        } else if !seen.insert((what, code.as_str())) {
            "comes twice"
        } else {
            continue;
        };
        return Err(CatalogError::File(format!(
            "{file}: the {what} code '{code}' {why}"
        )));
    }
    Ok(())
}
