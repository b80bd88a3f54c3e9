//! Ticket types, subcategories, back-office groups, deadlines and resolutions, from
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

impl Subcategory {
    /// Its name in Chinese and in English.
    pub fn names(&self) -> (&str, &str) {
        split_name(&self.name)
    }
}

/// A display name written in both languages, Chinese first ("宽带无法上网 broadband
/// down", "IPTV 无画面 IPTV no picture"), split where the Chinese ends; a name in one
/// language is both.
pub fn split_name(name: &str) -> (&str, &str) {
    let cut = name
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_ascii())
        .map(|(i, c)| i + c.len_utf8());
    match cut {
        None => (name, name),
        Some(i) if name[i..].trim().is_empty() => (name.trim(), name.trim()),
        Some(i) => (name[..i].trim(), name[i..].trim()),
    }
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

/// A back-office group (后台) that works tickets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeGroup {
    /// Stable code stored in tickets and accounts (`repair-crew`).
    pub code: String,
    /// 中文.
    pub zh: String,
    /// English.
    pub en: String,
    /// Names records written before the codes carried for this group.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// How the back office resolved a ticket (办结方式).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// Stable code.
    pub code: String,
    /// 中文.
    pub zh: String,
    /// English.
    pub en: String,
}

/// When open tickets are flagged as nearing their deadline.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    /// The share of the time from opening to the deadline after which a ticket is
    /// flagged, by segment (0–1).
    pub warn_at: WarnAt,
}

/// [`Escalation::warn_at`] by segment.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarnAt {
    /// Public customers.
    pub public: f64,
    /// Key accounts (flagged earlier: a smaller share).
    pub key_account: f64,
}

impl Default for Escalation {
    fn default() -> Self {
        Escalation {
            warn_at: WarnAt {
                public: 0.75,
                key_account: 0.5,
            },
        }
    }
}

/// One ticket type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindSpec {
    /// Type.
    pub kind: TicketKind,
    /// Display name.
    pub name: String,
    /// Code of the back-office group that works it (tickets are dispatched there).
    pub back_office: String,
    /// Deadlines.
    pub deadline_hours: Deadlines,
    /// Resolution codes that fit this type, the likeliest first.
    #[serde(default)]
    pub resolutions: Vec<String>,
    /// Subcategories.
    pub subcategories: Vec<Subcategory>,
}

/// The whole catalogue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Back-office groups.
    #[serde(rename = "group")]
    pub groups: Vec<OfficeGroup>,
    /// Ticket types.
    pub kind: Vec<KindSpec>,
    /// Resolutions.
    #[serde(rename = "resolution")]
    pub resolutions: Vec<Resolution>,
    /// When tickets nearing their deadline are flagged.
    #[serde(default)]
    pub escalation: Escalation,
}

impl Catalog {
    /// Parse a categories file's text.
    pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
        let c: Catalog = toml::from_str(text)
            .map_err(|e| CatalogError::File(format!("ticket categories: {e}")))?;
        let bad = |why: String| Err(CatalogError::File(format!("ticket categories: {why}")));
        let codes = c.groups.iter().map(|g| ("group", &g.code));
        let codes = codes.chain(c.resolutions.iter().map(|r| ("resolution", &r.code)));
        crate::check_codes("ticket categories", codes)?;
        for k in &c.kind {
            if let Some(r) = k.resolutions.iter().find(|r| c.resolution(r).is_none()) {
                return bad(format!(
                    "{:?} lists the resolution '{r}', which is not a [[resolution]]",
                    k.kind
                ));
            }
        }
        let w = c.escalation.warn_at;
        if !(0.0..=1.0).contains(&w.public) || !(0.0..=1.0).contains(&w.key_account) {
            return bad("escalation.warn_at must be shares between 0 and 1".into());
        }
        if let Some(k) = c.kind.iter().find(|k| c.office(&k.back_office).is_none()) {
            return bad(format!(
                "{:?} is worked by '{}', which is not a [[group]]",
                k.kind, k.back_office
            ));
        }
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

    /// The built-in catalogue, parsed once for the whole process.
    pub fn shipped() -> &'static Catalog {
        static SHIPPED: std::sync::LazyLock<Catalog> = std::sync::LazyLock::new(Catalog::builtin);
        &SHIPPED
    }

    /// The entry for a type.
    pub fn kind(&self, k: TicketKind) -> &KindSpec {
        self.kind
            .iter()
            .find(|s| s.kind == k)
            .expect("every kind is present (checked on load)")
    }

    /// The back-office group of this code, or of a name older records carried for it.
    pub fn office(&self, code_or_alias: &str) -> Option<&OfficeGroup> {
        self.groups
            .iter()
            .find(|g| g.code == code_or_alias || g.aliases.iter().any(|a| a == code_or_alias))
    }

    /// Refuse a back-office group the catalogue does not have.
    pub fn check_office(&self, code: &str) -> Result<&OfficeGroup, CatalogError> {
        self.office(code).ok_or_else(|| CatalogError::Invalid {
            field: "group",
            why: format!(
                "'{code}' is not a back-office group (assets/tickets/categories.toml has {})",
                self.groups
                    .iter()
                    .map(|g| g.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }

    /// The resolution of this code.
    pub fn resolution(&self, code: &str) -> Option<&Resolution> {
        self.resolutions.iter().find(|r| r.code == code)
    }

    /// Refuse a resolution code the catalogue does not have.
    pub fn check_resolution(&self, code: &str) -> Result<&Resolution, CatalogError> {
        self.resolution(code).ok_or_else(|| CatalogError::Invalid {
            field: "resolution",
            why: format!("'{code}' is not a resolution code (assets/tickets/categories.toml)"),
        })
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

    /// Whether an open ticket of type `k` for a customer of `segment`, due at `deadline`,
    /// is nearing its deadline at `now` (or past it): escalated. The time allowed is the
    /// type's deadline for the segment, counted back from the deadline, so a reopened
    /// ticket's fresh deadline starts a fresh period.
    pub fn escalated(
        &self,
        k: TicketKind,
        segment: Segment,
        deadline: Millis,
        now: Millis,
    ) -> bool {
        let share = match segment {
            Segment::Public => self.escalation.warn_at.public,
            Segment::KeyAccount => self.escalation.warn_at.key_account,
        };
        let allowed = self.deadline(k, segment, 0) as f64;
        now as f64 >= deadline as f64 - allowed * (1.0 - share)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_categories_name_their_groups_and_resolutions() {
        let c = Catalog::builtin();
        assert_eq!(c.kind(TicketKind::Fault).back_office, "repair-crew");
        // a ticket written before the codes still finds its group
        assert_eq!(c.office("装维 repair crew").unwrap().code, "repair-crew");
        assert_eq!(c.check_office("complaints-office").unwrap().zh, "投诉处理");
        let e = c.check_office("the moon").unwrap_err().to_string();
        assert!(
            e.contains("'the moon' is not a back-office group") && e.contains("repair-crew"),
            "{e}"
        );
        assert!(c.check_resolution("repaired").is_ok());
        // a public fault (48 h) is flagged after 36 h, a key account's (4 h) after 2 h
        let (h, fault) = (3_600_000, TicketKind::Fault);
        assert!(!c.escalated(fault, Segment::Public, 48 * h, 35 * h));
        assert!(c.escalated(fault, Segment::Public, 48 * h, 36 * h));
        assert!(!c.escalated(fault, Segment::KeyAccount, 4 * h, h));
        assert!(c.escalated(fault, Segment::KeyAccount, 4 * h, 2 * h));
        assert!(
            c.escalated(fault, Segment::KeyAccount, 4 * h, 9 * h),
            "overdue too"
        );
        // reopened at 100 h with a fresh 48 h deadline: flagged again only after 136 h
        assert!(!c.escalated(fault, Segment::Public, 148 * h, 120 * h));
        assert!(c.escalated(fault, Segment::Public, 148 * h, 136 * h));
        assert!(c.check_resolution("done somehow").is_err());
    }

    #[test]
    fn a_kind_worked_by_no_group_is_refused() {
        let stray = BUILTIN.replace("back_office = \"support\"", "back_office = \"nobody\"");
        let e = Catalog::parse(&stray).unwrap_err().to_string();
        assert!(e.contains("'nobody', which is not a [[group]]"), "{e}");
        let twice =
            format!("{BUILTIN}\n[[resolution]]\ncode = \"repaired\"\nzh = \"x\"\nen = \"x\"\n");
        let e = Catalog::parse(&twice).unwrap_err().to_string();
        assert!(e.contains("'repaired' comes twice"), "{e}");
    }
}
