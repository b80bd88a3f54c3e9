//! Codes as the words a person reads: reasons, dispositions, queues, ticket types and
//! subcategories, back-office groups, resolutions and statuses, from the catalogues, in
//! the screen's language. A code the catalogue lacks shows as itself (an older record's
//! free text reads as it was written).

use crate::i18n::Lang;
use hotline_catalog::{Catalog, Codes};
use hotline_proto::v1 as pb;

/// The built-in codes.
pub fn codes() -> &'static Codes {
    Codes::shipped()
}

/// The built-in ticket catalogue.
pub fn catalog() -> &'static Catalog {
    Catalog::shipped()
}

/// Seconds since the epoch now (deadlines on screen are counted against it).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A share as a percentage, "—" when there is nothing to divide.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.0}%", 100.0 * part as f64 / whole as f64)
    }
}

fn pick(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

/// One language of a catalogue name that carries both ("宽带无法上网 broadband down"):
/// the Chinese up to its last Chinese character, the English after it.
pub fn bilingual(name: &str, lang: Lang) -> String {
    let (zh, en) = hotline_catalog::tickets::split_name(name);
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

/// A call reason, or the IVR group a caller chose.
pub fn reason(codes: &Codes, code: &str, lang: Lang) -> String {
    codes
        .reason(code)
        .map(|r| pick(lang, &r.zh, &r.en))
        .or_else(|| codes.group(code).map(|g| pick(lang, &g.zh, &g.en)))
        .unwrap_or_else(|| code.to_string())
}

/// A disposition (or the words an older record carried for one).
pub fn disposition(codes: &Codes, code: &str, lang: Lang) -> String {
    codes
        .disposition(code)
        .map(|d| pick(lang, &d.zh, &d.en))
        .unwrap_or_else(|| code.to_string())
}

/// A queue, by the IVR group that leads to it.
pub fn queue(codes: &Codes, queue: &str, lang: Lang) -> String {
    codes
        .groups
        .iter()
        .find(|g| g.queue == queue)
        .map(|g| pick(lang, &g.zh, &g.en))
        .unwrap_or_else(|| queue.to_string())
}

/// A ticket subcategory.
pub fn subcategory(catalog: &Catalog, id: &str, lang: Lang) -> String {
    catalog
        .kind
        .iter()
        .flat_map(|k| &k.subcategories)
        .find(|s| s.id == id)
        .map(|s| bilingual(&s.name, lang))
        .unwrap_or_else(|| id.to_string())
}

/// A ticket type.
pub fn kind(catalog: &Catalog, kind: i32, lang: Lang) -> String {
    crate::worklist::kind_of(kind)
        .map(|k| bilingual(&catalog.kind(k).name, lang))
        .unwrap_or_default()
}

/// A back-office group (by its code, or a name an older ticket carries).
pub fn group(catalog: &Catalog, code: &str, lang: Lang) -> String {
    match code {
        "" | "front-office" => pick(lang, "前台", "front office"),
        _ => catalog
            .office(code)
            .map(|g| pick(lang, &g.zh, &g.en))
            .unwrap_or_else(|| code.to_string()),
    }
}

/// A resolution.
pub fn resolution(catalog: &Catalog, code: &str, lang: Lang) -> String {
    catalog
        .resolution(code)
        .map(|r| pick(lang, &r.zh, &r.en))
        .unwrap_or_else(|| code.to_string())
}

/// A ticket status.
pub fn status(status: i32, lang: Lang) -> &'static str {
    use pb::TicketStatus as S;
    lang.t(match S::try_from(status) {
        Ok(S::New) => "ts.new",
        Ok(S::Dispatched) => "ts.dispatched",
        Ok(S::InProgress) => "ts.in_progress",
        Ok(S::Resolved) => "ts.resolved",
        Ok(S::CalledBack) => "ts.called_back",
        Ok(S::Closed) => "ts.closed",
        Ok(S::Reopened) => "ts.reopened",
        _ => "ts.unknown",
    })
}

/// Who a ticket's history names: "system" is the hotline itself.
pub fn by(who: &str, lang: Lang) -> String {
    if who == "system" {
        lang.t("ts.system").into()
    } else {
        who.to_string()
    }
}

/// What a history entry did, in words.
pub fn change(catalog: &Catalog, c: Option<&pb::TicketChange>, lang: Lang) -> String {
    use pb::ticket_change::Change as C;
    let Some(c) = c.and_then(|c| c.change.as_ref()) else {
        return String::new();
    };
    match c {
        C::DispatchTo(g) => format!("{} → {}", lang.t("tc.dispatch"), group(catalog, g, lang)),
        C::Start(_) => lang.t("tc.start").into(),
        C::ResolveNote(n) => format!("{}: {n}", lang.t("tc.resolve")),
        C::Resolve(r) => format!(
            "{}: {} {}",
            lang.t("tc.resolve"),
            resolution(catalog, &r.code, lang),
            r.note
        ),
        C::CallbackSatisfaction(s) => format!("{} {s}/5", lang.t("tc.callback")),
        C::Close(_) => lang.t("tc.close").into(),
        C::ReopenReason(r) => format!("{}: {r}", lang.t("tc.reopen")),
        C::Note(n) if n == "opened" => lang.t("tc.opened").into(),
        C::Note(n) => format!("{}: {n}", lang.t("tc.note")),
        C::Priority(_) => lang.t("tc.priority").into(),
        C::CallBackNoAnswer(n) => format!("{} ({n})", lang.t("tc.no_answer")),
        C::ClosedUnreachableAfter(n) => format!("{} ({n})", lang.t("tc.unreachable")),
        C::LinkedToIncident(n) => format!("{} {n}", lang.t("tc.linked")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_in_both_languages_splits_where_the_chinese_ends() {
        assert_eq!(
            bilingual("宽带无法上网 broadband down", Lang::Zh),
            "宽带无法上网"
        );
        assert_eq!(
            bilingual("宽带无法上网 broadband down", Lang::En),
            "broadband down"
        );
        assert_eq!(
            bilingual("IPTV 无画面 IPTV no picture", Lang::Zh),
            "IPTV 无画面"
        );
        assert_eq!(
            bilingual("IPTV 无画面 IPTV no picture", Lang::En),
            "IPTV no picture"
        );
        assert_eq!(bilingual("tariff", Lang::Zh), "tariff");
        assert_eq!(bilingual("装维", Lang::En), "装维");
    }
}
