//! Call reasons and dispositions (`assets/codes/codes.toml`): a code each, a zh-CN and an
//! English label, the IVR group a reason belongs to (and so its queue), the kind of ticket
//! it usually opens and whether it may be claimed as resolved at the first contact.
//! Records keep the codes; FCR repeats are matched on the reason code.

use crate::{CatalogError, TicketKind};
use serde::Deserialize;
use std::path::Path;

/// The codes file as shipped, built in.
pub const BUILTIN: &str = include_str!("../../../assets/codes/codes.toml");

/// What a caller chooses in the IVR menu.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonGroup {
    /// The code the IVR flow gives (`reason = …` on a queue node).
    pub code: String,
    /// 中文.
    pub zh: String,
    /// English.
    pub en: String,
    /// The queue it leads to.
    pub queue: String,
}

/// What a call was about.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Stable code, `group.detail` (e.g. `fault.broadband`).
    pub code: String,
    /// The IVR group it belongs to.
    pub group: String,
    /// 中文.
    pub zh: String,
    /// English.
    pub en: String,
    /// The kind of ticket such a call usually opens (none: answered on the phone).
    #[serde(default)]
    pub ticket: Option<TicketKind>,
    /// May be claimed as resolved at the first contact.
    pub fcr: bool,
}

/// How a call ended for the customer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disposition {
    /// Stable code.
    pub code: String,
    /// 中文.
    pub zh: String,
    /// English.
    pub en: String,
    /// Free-text words records written before the codes carried for it.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// The whole codes catalogue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Codes {
    /// IVR reason groups.
    #[serde(rename = "group")]
    pub groups: Vec<ReasonGroup>,
    /// Call reasons.
    #[serde(rename = "reason")]
    pub reasons: Vec<Reason>,
    /// Dispositions.
    #[serde(rename = "disposition")]
    pub dispositions: Vec<Disposition>,
}

impl Codes {
    /// Parse a codes file's text: codes unique, every reason in a known group.
    pub fn parse(text: &str) -> Result<Codes, CatalogError> {
        let c: Codes =
            toml::from_str(text).map_err(|e| CatalogError::File(format!("codes: {e}")))?;
        let codes = c.groups.iter().map(|g| ("group", &g.code));
        let codes = codes.chain(c.reasons.iter().map(|r| ("reason", &r.code)));
        let codes = codes.chain(c.dispositions.iter().map(|d| ("disposition", &d.code)));
        crate::check_codes("codes", codes)?;
        if let Some(r) = c.reasons.iter().find(|r| c.group(&r.group).is_none()) {
            return Err(CatalogError::File(format!(
                "codes: reason '{}' is in group '{}', which is not a [[group]]",
                r.code, r.group
            )));
        }
        Ok(c)
    }

    /// Read a codes file.
    pub fn load(path: &Path) -> Result<Codes, CatalogError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CatalogError::File(format!("cannot read {}: {e}", path.display())))?;
        Codes::parse(&text)
    }

    /// The built-in catalogue.
    pub fn builtin() -> Codes {
        Codes::parse(BUILTIN).expect("the shipped codes file is valid")
    }

    /// The built-in catalogue, parsed once for the whole process.
    pub fn shipped() -> &'static Codes {
        static SHIPPED: std::sync::LazyLock<Codes> = std::sync::LazyLock::new(Codes::builtin);
        &SHIPPED
    }

    /// The IVR group of this code.
    pub fn group(&self, code: &str) -> Option<&ReasonGroup> {
        self.groups.iter().find(|g| g.code == code)
    }

    /// The reason of this code.
    pub fn reason(&self, code: &str) -> Option<&Reason> {
        self.reasons.iter().find(|r| r.code == code)
    }

    /// The group of reason `code`: the catalogue's, or the code's prefix before the dot
    /// for a code it does not hold (an older record's).
    pub fn group_of<'a>(&'a self, code: &'a str) -> &'a str {
        self.reason(code)
            .map(|r| r.group.as_str())
            .unwrap_or_else(|| code.split('.').next().unwrap_or(""))
    }

    /// The reasons of an IVR group, in catalogue order (a wrap-up's pick-list when the
    /// caller chose that group).
    pub fn reasons_in<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a Reason> + 'a {
        self.reasons.iter().filter(move |r| r.group == group)
    }

    /// The disposition of this code, or of words an older record carried for it.
    pub fn disposition(&self, code_or_alias: &str) -> Option<&Disposition> {
        self.dispositions
            .iter()
            .find(|d| d.code == code_or_alias || d.aliases.iter().any(|a| a == code_or_alias))
    }

    /// Refuse a reason code the catalogue does not have.
    pub fn check_reason(&self, code: &str) -> Result<&Reason, CatalogError> {
        self.reason(code).ok_or_else(|| CatalogError::Invalid {
            field: "reason",
            why: format!("'{code}' is not a call reason code (assets/codes/codes.toml)"),
        })
    }

    /// Refuse a disposition code the catalogue does not have.
    pub fn check_disposition(&self, code: &str) -> Result<&Disposition, CatalogError> {
        self.disposition(code).ok_or_else(|| CatalogError::Invalid {
            field: "disposition",
            why: format!("'{code}' is not a disposition code (assets/codes/codes.toml)"),
        })
    }
}

/// The reason code of a 回访 call-back's record (the router's own group `call-back`).
pub const CALL_BACK_REASON: &str = "call-back.general";
/// The disposition of a call-back that reached the customer.
pub const CALL_BACK_DONE: &str = "called-back";
/// The disposition of a call-back nobody answered.
pub const CALL_BACK_NO_ANSWER: &str = "call-back-no-answer";
/// The reason group of fault reports (障碍申报): the calls the outage detector counts
/// per area, and half of the hot-spot report.
pub const FAULT_GROUP: &str = "fault";
/// The reason group of complaints (投诉), the hot-spot report's other half.
pub const COMPLAINT_GROUP: &str = "complaint";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_codes_read_and_hang_together() {
        let c = Codes::builtin();
        // the call-back's codes the router, the bots and the desktop use are in the file
        assert!(c.check_reason(CALL_BACK_REASON).is_ok());
        for d in [CALL_BACK_DONE, CALL_BACK_NO_ANSWER] {
            assert!(c.check_disposition(d).is_ok(), "{d}");
        }
        assert!(c.reasons.len() >= 20);
        // every group has a general reason, so a wrap-up always has a default
        for g in &c.groups {
            assert!(
                c.reason(&format!("{}.general", g.code)).is_some(),
                "group {} has no general reason",
                g.code
            );
        }
        assert_eq!(c.reasons_in(FAULT_GROUP).count(), 5);
        assert!(c.group(COMPLAINT_GROUP).is_some() && c.group(FAULT_GROUP).is_some());
        assert_eq!(c.group_of("fault.broadband"), FAULT_GROUP);
        assert_eq!(
            c.group_of("complaint.no-such-reason"),
            COMPLAINT_GROUP,
            "by its prefix"
        );
        assert!(
            !c.check_reason("fault.broadband").unwrap().fcr,
            "a fault needs the crew"
        );
        assert_eq!(
            c.disposition("ticket opened").unwrap().code,
            "ticket-opened"
        );
        let e = c.check_reason("broadband broke").unwrap_err();
        assert!(
            e.to_string().starts_with("reason 'broadband broke' is not"),
            "{e}"
        );
        assert!(c.check_disposition("answered").is_ok());
    }

    #[test]
    fn a_bad_codes_file_is_refused_with_what_is_wrong() {
        let twice =
            format!("{BUILTIN}\n[[disposition]]\ncode = \"answered\"\nzh = \"x\"\nen = \"x\"\n");
        let e = Codes::parse(&twice).unwrap_err();
        assert!(e.to_string().contains("'answered' comes twice"), "{e}");
        let stray = format!(
            "{BUILTIN}\n[[reason]]\ncode = \"x.y\"\ngroup = \"nowhere\"\nzh = \"x\"\nen = \"x\"\nfcr = true\n"
        );
        let e = Codes::parse(&stray).unwrap_err();
        assert!(
            e.to_string()
                .contains("'nowhere', which is not a [[group]]"),
            "{e}"
        );
        let spaced = BUILTIN.replace("code = \"inquiry.bill\"", "code = \"inquiry bill\"");
        assert!(Codes::parse(&spaced).is_err());
    }
}
