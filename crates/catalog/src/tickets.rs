//! Ticket types, subcategories, back-office groups and deadlines, from
//! `assets/tickets/categories.toml` (the store, the router and the desktop read the same
//! file).

use crate::{CatalogError, Millis, Segment};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Ticket types; subcategories and deadlines come from `assets/tickets/categories.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TicketKind {
    /// 投诉.
    Complaint,
    /// 障碍 / 故障.
    Fault,
    /// 咨询.
    Inquiry,
    /// 业务受理 (service order).
    ServiceOrder,
    /// 建议.
    Suggestion,
}

/// The categories file as shipped, built in so a store works without the assets folder.
pub const BUILTIN: &str = include_str!("../../../assets/tickets/categories.toml");

/// One subcategory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subcategory {
    /// Stable id stored in tickets.
    pub id: String,
    /// Display name (zh-CN and English).
    pub name: String,
}

/// Deadlines in hours.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadlines {
    /// For public customers.
    pub public: u32,
    /// For key accounts.
    pub key_account: u32,
}

/// One ticket type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindSpec {
    /// Type.
    pub kind: TicketKind,
    /// Display name.
    pub name: String,
    /// Back-office group that works it.
    pub back_office: String,
    /// Deadlines.
    pub deadline_hours: Deadlines,
    /// Subcategories.
    pub subcategories: Vec<Subcategory>,
}

/// The whole catalogue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Ticket types.
    pub kind: Vec<KindSpec>,
}

impl Catalog {
    /// Parse a categories file's text.
    pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
        let c: Catalog = toml::from_str(text)
            .map_err(|e| CatalogError::File(format!("ticket categories: {e}")))?;
        for k in [
            TicketKind::Complaint,
            TicketKind::Fault,
            TicketKind::Inquiry,
            TicketKind::ServiceOrder,
            TicketKind::Suggestion,
        ] {
            if !c.kind.iter().any(|s| s.kind == k) {
                return Err(CatalogError::File(format!(
                    "ticket categories: no entry for {k:?}"
                )));
            }
        }
        Ok(c)
    }

    /// Read a categories file.
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CatalogError::File(format!("cannot read {}: {e}", path.display())))?;
        Catalog::parse(&text)
    }

    /// The built-in catalogue.
    pub fn builtin() -> Catalog {
        Catalog::parse(BUILTIN).expect("the shipped categories file is valid")
    }

    /// The entry for a type.
    pub fn kind(&self, k: TicketKind) -> &KindSpec {
        self.kind
            .iter()
            .find(|s| s.kind == k)
            .expect("every kind is present (checked on load)")
    }

    /// Check that `sub` is a subcategory of `k`.
    pub fn check(&self, k: TicketKind, sub: &str) -> Result<(), CatalogError> {
        if self.kind(k).subcategories.iter().any(|s| s.id == sub) {
            Ok(())
        } else {
            Err(CatalogError::Invalid {
                field: "subcategory",
                why: format!("'{sub}' is not a subcategory of {k:?} in the ticket categories"),
            })
        }
    }

    /// When a ticket of this type for this segment, opened at `now`, is due.
    pub fn deadline(&self, k: TicketKind, segment: Segment, now: Millis) -> Millis {
        let d = self.kind(k).deadline_hours;
        let hours = match segment {
            Segment::Public => d.public,
            Segment::KeyAccount => d.key_account,
        };
        now + hours as u64 * 3_600_000
    }
}
