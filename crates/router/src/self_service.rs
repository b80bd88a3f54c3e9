//! IVR self-service on the store: what the IVR's self-service nodes ask for, done for
//! real, and the fields their prompts are filled with. Failures come back as a sentence
//! the IVR says to the caller; nothing is done for a caller the store does not know.

use hotline_ivr::{Lang, Service};
use hotline_store::{
    Customer, Millis, NewTicket, Store, Ticket, TicketKind, TicketPriority, TicketStatus,
};

/// Who owns tickets opened by self-service (no agent took them).
pub const IVR_OWNER: &str = hotline_store::IVR_REQUEST;

/// Fields for the IVR's success prompt, or the reason it failed, in the call's language.
pub type Outcome = Result<Vec<(String, String)>, String>;

fn yuan(fen: i64) -> String {
    format!(
        "{}{}.{:02}",
        if fen < 0 { "-" } else { "" },
        fen.abs() / 100,
        fen.abs() % 100
    )
}

fn say(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

fn status_words(s: TicketStatus, lang: Lang) -> String {
    let (zh, en) = match s {
        TicketStatus::New => ("已受理", "received"),
        TicketStatus::Dispatched => ("已派单", "with the back office"),
        TicketStatus::InProgress => ("处理中", "being worked on"),
        TicketStatus::Resolved => ("已处理，待回访", "resolved, awaiting our call back"),
        TicketStatus::CalledBack => ("已回访", "resolved and called back"),
        TicketStatus::Closed => ("已办结", "closed"),
        TicketStatus::Reopened => ("重新处理中", "reopened"),
    };
    say(lang, zh, en)
}

/// "11月3日14时" / "3 Nov 14:00", in China time.
fn due(ms: Millis, lang: Lang) -> String {
    let local = ms / 1000 + 8 * 3600;
    let days = (local / 86_400) as i64;
    let hour = (local % 86_400) / 3600;
    // civil date from days since 1970-01-01 (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    const EN: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    match lang {
        Lang::Zh => format!("{month}月{day}日{hour}时"),
        Lang::En => format!("{day} {} {hour:02}:00", EN[(month - 1) as usize]),
    }
}

fn unknown_caller(lang: Lang) -> String {
    say(
        lang,
        "请使用您在电信登记的电话号码来电办理",
        "please call from a number registered with us",
    )
}

fn store_trouble(lang: Lang) -> String {
    say(
        lang,
        "系统繁忙，请稍后再试",
        "the system is busy, please try again later",
    )
}

/// Run a self-service node for a caller; `customer` is the store's record for the
/// calling number, if any; `input` the digits the caller entered.
pub fn run(
    store: &Store,
    service: Service,
    input: &str,
    customer: Option<&Customer>,
    lang: Lang,
    now: Millis,
) -> Outcome {
    let Some(c) = customer else {
        return Err(unknown_caller(lang));
    };
    match service {
        Service::Bill => {
            let arrears = if c.arrears_fen > 0 {
                say(
                    lang,
                    &format!("，欠费{}元，请及时缴纳", yuan(c.arrears_fen)),
                    &format!(
                        ", with {} yuan overdue, please pay soon",
                        yuan(c.arrears_fen)
                    ),
                )
            } else {
                String::new()
            };
            Ok(vec![
                ("balance".into(), yuan(c.balance_fen.max(0))),
                ("charges".into(), yuan(c.arpu_fen)),
                ("arrears".into(), arrears),
            ])
        }
        Service::TicketProgress => {
            let not_found = || {
                say(
                    lang,
                    &format!("没有找到您名下的工单{input}"),
                    &format!("there is no ticket {input} of yours"),
                )
            };
            let id: u64 = input.parse().map_err(|_| not_found())?;
            match store.ticket(id) {
                // only the caller's own tickets: a number is no proof of identity
                Ok(Some(t)) if t.customer == c.id => Ok(vec![
                    ("ticket".into(), t.id.to_string()),
                    ("status".into(), status_words(t.status, lang)),
                    ("deadline".into(), due(t.deadline, lang)),
                ]),
                Ok(_) => Err(not_found()),
                Err(_) => Err(store_trouble(lang)),
            }
        }
        Service::ValueAddedSignup => {
            let t = open(
                store,
                c,
                TicketKind::ServiceOrder,
                "value-added",
                "IVR 自助开通彩铃业务",
                now,
                lang,
            )?;
            Ok(vec![("ticket".into(), t.id.to_string())])
        }
        Service::FaultReport => {
            let t = open(
                store,
                c,
                TicketKind::Fault,
                "broadband-down",
                "IVR 自助报障：宽带无法上网",
                now,
                lang,
            )?;
            let hours = (t.deadline.saturating_sub(now)) / 3_600_000;
            Ok(vec![
                ("ticket".into(), t.id.to_string()),
                ("hours".into(), hours.to_string()),
            ])
        }
        Service::OutageNotify => {
            // the input is the incident the caller was told of
            let incident = input.parse().map_err(|_| store_trouble(lang))?;
            let t = store
                .ask_to_be_told(incident, c.id, now)
                .map_err(|e| match e {
                    hotline_store::StoreError::Invalid { .. } => say(
                        lang,
                        "该障碍已修复，如仍有问题请继续报障",
                        "that outage has been fixed; if the trouble goes on, please report it",
                    ),
                    _ => store_trouble(lang),
                })?;
            Ok(vec![("ticket".into(), t.id.to_string())])
        }
    }
}

fn open(
    store: &Store,
    c: &Customer,
    kind: TicketKind,
    sub: &str,
    text: &str,
    now: Millis,
    lang: Lang,
) -> Result<Ticket, String> {
    store
        .create_ticket(
            NewTicket {
                customer: c.id,
                kind,
                subcategory: sub.into(),
                description: text.into(),
                priority: TicketPriority::Normal,
            },
            IVR_OWNER,
            now,
        )
        .map_err(|_| store_trouble(lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_dates_read_as_people_say_them() {
        assert_eq!(yuan(12_345), "123.45");
        assert_eq!(yuan(-5), "-0.05");
        // 2026-11-01 00:00 UTC is 08:00 in China
        assert_eq!(due(1_793_491_200_000, Lang::Zh), "11月1日8时");
        assert_eq!(
            due(1_793_491_200_000 + 6 * 3_600_000, Lang::En),
            "1 Nov 14:00"
        );
        assert_eq!(due(1_767_225_600_000 - 3_600_000, Lang::Zh), "1月1日7时"); // 2025-12-31 23:00 UTC
    }
}
