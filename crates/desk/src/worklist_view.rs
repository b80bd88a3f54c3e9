//! The back office's screen: the worklist on the left (deadline, type, subcategory, key
//! account, who took it), the chosen ticket on the right with its history and what the
//! clerk can do to it.

use crate::i18n::Lang;
use crate::words::{self, catalog};
use crate::worklist::{Message, Worklist, deadline};
use hotline_proto::v1 as pb;
use iced::widget::{
    button, column, container, pick_list, row, scrollable, space, text, text_input,
};
use iced::{Color, Element, Length};

const RED: Color = Color::from_rgb(0.85, 0.2, 0.2);
const AMBER: Color = Color::from_rgb(0.8, 0.5, 0.0);
const GREY: Color = Color::from_rgb(0.45, 0.45, 0.45);

/// A choice in a pick-list: what is sent, and what is read.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick<T> {
    /// The value.
    pub value: T,
    /// Its label.
    pub label: String,
}

impl<T> std::fmt::Display for Pick<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

/// Time left to a deadline (or past it), in words: "剩 3 小时 20 分" / "超时 2 小时".
pub fn time_left(deadline_s: i64, now_s: i64, lang: Lang) -> (String, bool) {
    let left = deadline_s.saturating_sub(now_s);
    let span = left.unsigned_abs();
    let (h, m) = (span / 3600, span % 3600 / 60);
    let amount = match (h, lang) {
        (0, Lang::Zh) => format!("{m} 分"),
        (0, Lang::En) => format!("{m} min"),
        (h, Lang::Zh) if h >= 48 => format!("{} 天", h / 24),
        (h, Lang::En) if h >= 48 => format!("{} days", h / 24),
        (h, Lang::Zh) => format!("{h} 小时 {m} 分"),
        (h, Lang::En) => format!("{h} h {m} min"),
    };
    if left < 0 {
        (format!("{} {amount}", lang.t("bo.overdue")), true)
    } else {
        (format!("{} {amount}", lang.t("bo.left")), false)
    }
}

/// The screen.
pub fn view(w: &Worklist, lang: Lang, now_s: i64) -> Element<'_, Message> {
    let head = row![
        text(format!(
            "{} · {}",
            lang.t("bo.title"),
            words::group(catalog(), &w.group, lang)
        ))
        .size(20),
        text(format!("{} {}", w.id, w.name)).color(GREY),
        space().width(Length::Fill),
        button(text(lang.t("btn.logout"))).on_press(Message::Logout),
    ]
    .spacing(16)
    .align_y(iced::Alignment::Center);
    let notice = text(w.notice.clone().unwrap_or_default()).color(RED);
    let body = row![
        container(list(w, lang, now_s)).width(Length::FillPortion(3)),
        container(detail(w, lang, now_s)).width(Length::FillPortion(2)),
    ]
    .spacing(16)
    .height(Length::Fill);
    column![head, filters(w, lang), notice, body]
        .spacing(10)
        .padding(16)
        .into()
}

/// The "all" entry of a filter.
fn all<T>(lang: Lang) -> Pick<Option<T>> {
    Pick {
        value: None,
        label: lang.t("bo.all").to_string(),
    }
}

fn filters(w: &Worklist, lang: Lang) -> Element<'_, Message> {
    use pb::TicketStatus as S;
    let statuses: Vec<Pick<Option<S>>> = std::iter::once(all(lang))
        .chain(
            [S::Dispatched, S::InProgress, S::Reopened]
                .into_iter()
                .map(|s| Pick {
                    value: Some(s),
                    label: words::status(s as i32, lang).into(),
                }),
        )
        .collect();
    let kinds: Vec<Pick<Option<pb::TicketKind>>> = std::iter::once(all(lang))
        .chain(
            [
                pb::TicketKind::Fault,
                pb::TicketKind::Complaint,
                pb::TicketKind::Inquiry,
                pb::TicketKind::ServiceOrder,
                pb::TicketKind::Suggestion,
            ]
            .into_iter()
            .map(|k| Pick {
                value: Some(k),
                label: words::kind(catalog(), k as i32, lang),
            }),
        )
        .collect();
    let status_now = statuses.iter().find(|p| p.value == w.status).cloned();
    let kind_now = kinds.iter().find(|p| p.value == w.kind).cloned();
    let (shown, overdue) = w
        .shown()
        .fold((0, 0), |(n, o), t| (n + 1, o + t.overdue as u32));
    row![
        text(lang.t("bo.filter_status")),
        pick_list(statuses, status_now, |p| Message::FilterStatus(p.value)).width(150),
        text(lang.t("bo.filter_kind")),
        pick_list(kinds, kind_now, |p| Message::FilterKind(p.value)).width(150),
        space().width(Length::Fill),
        text(format!("{} {shown}", lang.t("bo.count"))),
        text(format!("{} {overdue}", lang.t("bo.overdue_count"))).color(if overdue > 0 {
            RED
        } else {
            GREY
        }),
    ]
    .spacing(10)
    .align_y(iced::Alignment::Center)
    .into()
}

fn list(w: &Worklist, lang: Lang, now_s: i64) -> Element<'_, Message> {
    if !w.loaded {
        return text(lang.t("bo.loading")).into();
    }
    let rows = w.shown().fold(column![].spacing(2), |col, t| {
        let (left, late) = time_left(deadline(t), now_s, lang);
        // overdue red; nearing its deadline (the escalation rule) amber
        let colour = if late {
            RED
        } else if t.escalated {
            AMBER
        } else {
            GREY
        };
        let taken = if t.taken_by.is_empty() {
            words::status(t.status, lang).to_string()
        } else {
            format!("{} {}", lang.t("bo.taken_by"), t.taken_by)
        };
        let line = row![
            text(left).width(150).color(colour),
            text(if t.key_account {
                lang.t("bo.key_account")
            } else {
                ""
            })
            .width(70)
            .color(AMBER),
            text(words::kind(catalog(), t.kind, lang)).width(110),
            text(words::subcategory(catalog(), &t.subcategory, lang)).width(Length::Fill),
            text(taken).width(120).color(GREY),
            text(format!("#{}", t.id)).width(70).color(GREY),
        ]
        .spacing(8);
        let pick = button(line)
            .on_press(Message::Select(t.id))
            .width(Length::Fill)
            .style(if w.selected == Some(t.id) {
                button::secondary
            } else {
                button::text
            });
        col.push(pick)
    });
    let rows: Element<'_, Message> = if w.shown().next().is_none() {
        text(lang.t("bo.empty")).color(GREY).into()
    } else {
        rows.into()
    };
    scrollable(rows).height(Length::Fill).into()
}

fn detail<'a>(w: &'a Worklist, lang: Lang, now_s: i64) -> Element<'a, Message> {
    let Some(t) = w.chosen() else {
        return text(lang.t("bo.choose")).color(GREY).into();
    };
    let (left, late) = time_left(deadline(t), now_s, lang);
    let who = if t.customer_name.is_empty() {
        format!("{} {}", lang.t("bo.customer"), t.customer_id)
    } else {
        format!("{} {}", lang.t("bo.customer"), t.customer_name)
    };
    let mut facts = column![
        text(format!(
            "#{}  {} · {}",
            t.id,
            words::kind(catalog(), t.kind, lang),
            words::subcategory(catalog(), &t.subcategory, lang)
        ))
        .size(18),
        text(left).color(if late { RED } else { GREY }),
        text(format!(
            "{}{}",
            who,
            if t.key_account {
                format!("  ({})", lang.t("bo.key_account"))
            } else {
                String::new()
            }
        )),
        text(format!("{} {}", lang.t("bo.area"), t.customer_area)),
        text(format!("{} {}", lang.t("bo.owner"), t.owner)),
        text(t.description.clone()),
    ]
    .spacing(4);
    let history = t.history.iter().fold(column![].spacing(2), |col, e| {
        col.push(
            row![
                text(crate::reports::clock(
                    e.at.as_ref().map_or(0, |a| a.seconds)
                ))
                .size(13),
                text(words::by(&e.by, lang)).size(13).width(60),
                text(words::change(catalog(), e.change.as_ref(), lang)).size(13),
            ]
            .spacing(10),
        )
    });
    facts = facts
        .push(text(lang.t("bo.history")).size(15))
        .push(history);
    let groups: Vec<Pick<String>> = catalog()
        .groups
        .iter()
        .filter(|g| g.code != w.group)
        .map(|g| Pick {
            value: g.code.clone(),
            label: words::group(catalog(), &g.code, lang),
        })
        .collect();
    let pass_now = groups
        .iter()
        .find(|p| Some(&p.value) == w.pass_to.as_ref())
        .cloned();
    let fits = crate::worklist::kind_of(t.kind)
        .map(|k| catalog().kind(k).resolutions.clone())
        .unwrap_or_default();
    let resolutions: Vec<Pick<String>> = fits
        .iter()
        .chain(
            catalog()
                .resolutions
                .iter()
                .map(|r| &r.code)
                .filter(|c| !fits.contains(c)),
        )
        .map(|c| Pick {
            value: c.clone(),
            label: words::resolution(catalog(), c, lang),
        })
        .collect();
    let resolution_now = resolutions
        .iter()
        .find(|p| Some(&p.value) == w.resolution.as_ref())
        .cloned();
    let actions = column![
        button(text(lang.t("bo.take")))
            .on_press_maybe(w.can_take().then_some(Message::Take))
            .style(button::primary),
        text_input(lang.t("bo.note_hint"), &w.note).on_input(Message::Note),
        row![
            button(text(lang.t("bo.add_note")))
                .on_press_maybe((!w.note.trim().is_empty()).then_some(Message::AddNote)),
            pick_list(resolutions, resolution_now, |p| Message::Resolution(
                p.value
            ))
            .width(180),
            button(text(lang.t("ticket.resolve")))
                .on_press_maybe(w.resolution.as_ref().map(|_| Message::Resolve))
                .style(button::success),
        ]
        .spacing(8)
        .align_y(iced::Alignment::Center),
        row![
            pick_list(groups, pass_now, |p| Message::PassTo(p.value)).width(180),
            button(text(lang.t("bo.pass")))
                .on_press_maybe(w.pass_to.as_ref().map(|_| Message::Pass)),
        ]
        .spacing(8)
        .align_y(iced::Alignment::Center),
    ]
    .spacing(8);
    scrollable(column![facts, actions].spacing(14))
        .height(Length::Fill)
        .into()
}
