//! The agent's screen: status bar, ringing offer, screen pop, call controls, ticket and
//! wrap-up forms, the shift's figures.

use crate::agent::{Agent, Link, Message, TicketAction};
use crate::i18n::Lang;
use crate::words;
use hotline_proto::v1 as pb;
use iced::widget::{
    button, checkbox, column, combo_box, container, pick_list, row, scrollable, space, text,
    text_input,
};
use iced::{Color, Element, Length};
use std::time::Instant;

const RED: Color = Color::from_rgb(0.85, 0.2, 0.2);
const GREEN: Color = Color::from_rgb(0.1, 0.6, 0.3);
const AMBER: Color = Color::from_rgb(0.9, 0.55, 0.0);

fn yuan(fen: i64) -> String {
    format!("{:.2}", fen as f64 / 100.0)
}

fn mmss(secs: u64) -> String {
    format!("{:02}:{:02}", secs / 60, secs % 60)
}

fn section<'a>(title: &'a str, body: Element<'a, Message>) -> Element<'a, Message> {
    container(column![text(title).size(15), body].spacing(6))
        .padding(10)
        .width(Length::Fill)
        .style(container::rounded_box)
        .into()
}

/// The status bar: name, state and time in it, link, state buttons.
fn status_bar(a: &Agent, lang: Lang, now: Instant) -> Element<'_, Message> {
    let mut state = lang.t(a.status_key()).to_string();
    if a.state == pb::AgentState::NotReady && !a.reason.is_empty() {
        state = format!("{state} · {}", a.reason);
    }
    let in_state = mmss(now.saturating_duration_since(a.since).as_secs());
    let (link, link_color) = match &a.link {
        Link::Online => (lang.t("conn.online").to_string(), GREEN),
        Link::Connecting => ("…".to_string(), AMBER),
        Link::Reconnecting(n, why) => (
            format!("{} ({n}) — {why}", lang.t("conn.reconnecting")),
            AMBER,
        ),
        Link::Closed(why) => (why.clone(), RED),
    };
    let idle = a.call.is_none() && a.ringing.is_none();
    row![
        text(format!("{} {}", a.id, a.name)).size(18),
        text(state).size(18),
        text(in_state).size(18),
        space().width(Length::Fill),
        text(link).color(link_color),
        button(text(lang.t("btn.ready")))
            .on_press_maybe(
                (idle || a.state == pb::AgentState::AfterCallWork).then_some(Message::Ready)
            )
            .style(button::success),
        button(text(lang.t("btn.break"))).on_press(Message::Break),
        button(text(lang.t("btn.logout"))).on_press_maybe(idle.then_some(Message::Logout)),
    ]
    .spacing(12)
    .align_y(iced::Alignment::Center)
    .into()
}

/// The offer, ringing, with its countdown.
/// What a call-back task is about, in one row: the ticket, its type and resolution,
/// the attempt.
fn call_back_line<'a>(
    a: &Agent,
    t: &pb::CallBackTask,
    lang: Lang,
    size: f32,
) -> Element<'a, Message> {
    let (id, kind, resolution) = t
        .ticket
        .as_ref()
        .map_or((0, String::new(), String::new()), |k| {
            (
                k.id,
                words::subcategory(&a.catalog, &k.subcategory, lang),
                words::resolution(&a.catalog, &k.resolution, lang),
            )
        });
    row![
        text(lang.t("cb.title")).size(size).color(AMBER),
        text(format!("#{id}")).size(size),
        text(kind).size(size),
        text(lang.t("cb.resolved_as")).size(size),
        text(resolution).size(size),
        text(
            lang.t("cb.attempt")
                .replace("{}", &format!("{}/{}", t.attempt, t.attempts)),
        )
        .size(size),
    ]
    .spacing(8)
    .into()
}

fn ringing(a: &Agent, lang: Lang, now: Instant) -> Option<Element<'_, Message>> {
    let r = a.ringing.as_ref()?;
    // what rings: a call-back task by its ticket, a call by its number and queue
    let what: Element<'_, Message> = match &r.offer.call_back_task {
        Some(t) => call_back_line(a, t, lang, 20.0),
        None => {
            let left = a
                .rings_left(now)
                .map(|s| format!("{s} {}", lang.t("offer.rings")))
                .unwrap_or_default();
            let who = r
                .offer
                .screen_pop
                .as_ref()
                .map(|p| p.caller_number.clone())
                .unwrap_or_default();
            row![
                text(format!(
                    "{} · {} · {}",
                    lang.t("offer.title"),
                    who,
                    words::queue(&a.codes, &r.offer.queue, lang)
                ))
                .size(20),
                text(left).color(RED),
            ]
            .spacing(12)
            .into()
        }
    };
    Some(
        container(
            row![
                what,
                space().width(Length::Fill),
                button(text(lang.t("btn.answer")))
                    .on_press(Message::Answer)
                    .style(button::success),
                button(text(lang.t("btn.reject")))
                    .on_press(Message::Reject)
                    .style(button::danger),
            ]
            .spacing(12)
            .align_y(iced::Alignment::Center),
        )
        .padding(12)
        .style(container::bordered_box)
        .into(),
    )
}

/// ARPU of the last six months as a row of bars (a sparkline in text).
fn trend(history: &[i64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let last: Vec<i64> = history.iter().rev().take(6).rev().copied().collect();
    let (lo, hi) = (
        last.iter().copied().min().unwrap_or(0),
        last.iter().copied().max().unwrap_or(0),
    );
    last.iter()
        .map(|v| {
            let k = if hi > lo {
                ((v - lo) * 7 / (hi - lo)) as usize
            } else {
                3
            };
            BARS[k.min(7)]
        })
        .collect()
}

/// The screen pop: who is calling and their history.
fn screen_pop<'a>(a: &'a Agent, lang: Lang) -> Element<'a, Message> {
    let Some(pop) = a.pop.as_ref() else {
        return section(
            lang.t("pop.title_customer"),
            text(lang.t("pop.none")).into(),
        );
    };
    // the path in words where the router sent them (node labels, keys), else the ids
    let steps: Vec<&str> = if pop.ivr_steps.is_empty() {
        pop.ivr_path.iter().map(String::as_str).collect()
    } else {
        pop.ivr_steps
            .iter()
            .map(|s| match lang {
                Lang::Zh => s.zh.as_str(),
                Lang::En => s.en.as_str(),
            })
            .collect()
    };
    let path = format!(
        "{}: {}   {}: {}",
        lang.t("pop.ivr"),
        steps.join(" › "),
        lang.t("pop.reason"),
        words::reason(&a.codes, &pop.reason, lang)
    );
    if pop.store_unavailable {
        return section(
            lang.t("pop.store_down"),
            column![
                text(pop.caller_number.clone()).size(22),
                text(path),
                text(lang.t("pop.store_down_why")).color(RED),
            ]
            .spacing(6)
            .into(),
        );
    }
    let Some(c) = pop.customer.as_ref() else {
        return section(
            lang.t("pop.unknown"),
            column![
                text(pop.caller_number.clone()).size(22),
                text(path),
                row![
                    text_input(lang.t("pop.new_name"), &a.new_customer)
                        .on_input(Message::NewCustomerName)
                        .width(240),
                    button(text(lang.t("btn.new_customer")))
                        .on_press_maybe(a.new_customer_request().map(|_| Message::CreateCustomer)),
                ]
                .spacing(8),
            ]
            .spacing(6)
            .into(),
        );
    };
    let key = c.segment == pb::Segment::KeyAccount as i32;
    let badge = if key {
        container(text(lang.t("pop.key_account")).color(Color::WHITE))
            .padding(4)
            .style(|_: &iced::Theme| container::background(GREEN))
    } else {
        container(text(lang.t("pop.public"))).padding(4)
    };
    let mut head = row![
        text(c.name.clone()).size(24),
        text(pop.caller_number.clone()).size(18),
        badge
    ]
    .spacing(12)
    .align_y(iced::Alignment::Center);
    if !c.vip_tier.is_empty() && c.vip_tier != "none" {
        head = head.push(text(format!("{} {}", lang.t("pop.vip"), c.vip_tier)));
    }
    if !c.account_manager.is_empty() {
        head = head.push(text(format!(
            "{} {}",
            lang.t("pop.manager"),
            c.account_manager
        )));
    }
    let services: Vec<String> = c.services.iter().map(|s| s.product.clone()).collect();
    let money = row![
        text(format!(
            "{} {}  {}",
            lang.t("pop.arpu"),
            yuan(c.arpu_fen),
            trend(&c.arpu_history_fen)
        )),
        text(format!("{} {}", lang.t("pop.balance"), yuan(c.balance_fen))),
        text(format!("{} {}", lang.t("pop.arrears"), yuan(c.arrears_fen))).color(
            if c.arrears_fen > 0 {
                RED
            } else {
                Color::from_rgb(0.4, 0.4, 0.4)
            }
        ),
    ]
    .spacing(18);
    let tickets = pop
        .open_tickets
        .iter()
        .fold(column![].spacing(2), |col, t| {
            let line = text(format!(
                "#{} {} {}{}",
                t.id,
                words::subcategory(&a.catalog, &t.subcategory, lang),
                t.description,
                if t.overdue {
                    format!("  ⚠ {}", lang.t("pop.overdue"))
                } else {
                    String::new()
                }
            ));
            col.push(if t.overdue { line.color(RED) } else { line })
        });
    let recent = pop
        .recent
        .iter()
        .take(5)
        .fold(column![].spacing(2), |col, i| {
            let fcr = match i.fcr_verified.as_str() {
                "yes" | "true" => lang.t("pop.fcr_yes"),
                "no" | "false" => lang.t("pop.fcr_no"),
                _ => "",
            };
            let parts: Vec<String> = [
                words::queue(&a.codes, &i.queue, lang),
                words::reason(&a.codes, &i.reason, lang),
                words::disposition(&a.codes, &i.disposition, lang),
                fcr.to_string(),
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
            col.push(text(parts.join(" · ")))
        });
    // where (a fault call needs it), how far the operator trusts them, whose group
    let mut standing = vec![format!("{} {}", lang.t("pop.credit"), c.credit_level)];
    if !c.enterprise_group.is_empty() {
        standing.push(format!("{} {}", lang.t("pop.group"), c.enterprise_group));
    }
    let incident = pop.incident.as_ref().map(|i| {
        container(text(incident_words(i, lang)).color(Color::WHITE))
            .padding(6)
            .width(Length::Fill)
            .style(|_: &iced::Theme| container::background(RED))
    });
    section(
        lang.t("pop.title_customer"),
        column![
            head,
            // an outage in the customer's 小区: most likely what they call about
            incident,
            // the street address names its district; a record without one, its area
            text(if c.address.is_empty() {
                format!("{} {} {}", lang.t("pop.address"), c.district, c.area)
            } else {
                format!("{} {}", lang.t("pop.address"), c.address)
            }),
            text(standing.join(" · ")),
            text(format!(
                "{}: {}",
                lang.t("pop.services"),
                services.join("、")
            )),
            money,
            text(path),
            text(format!(
                "{} ({})",
                lang.t("pop.tickets"),
                pop.open_tickets.len()
            ))
            .size(15),
            tickets,
            text(lang.t("pop.recent")).size(15),
            recent,
        ]
        .spacing(6)
        .into(),
    )
}

/// Call controls, notes and transfer.
fn call_panel<'a>(a: &'a Agent, lang: Lang, now: Instant) -> Option<Element<'a, Message>> {
    let c = a.call.as_ref()?;
    let talking = c.ended.is_none();
    let talk = c
        .ended
        .unwrap_or(now)
        .saturating_duration_since(c.answered)
        .as_secs();
    let controls = row![
        text(format!("{} {}", lang.t("call.talk"), mmss(talk))).size(18),
        space().width(Length::Fill),
        if c.held {
            button(text(lang.t("btn.resume"))).on_press_maybe(talking.then_some(Message::Resume))
        } else {
            button(text(lang.t("btn.hold"))).on_press_maybe(talking.then_some(Message::Hold))
        },
        text_input(lang.t("call.transfer_to"), &a.transfer_to)
            .on_input(Message::TransferTo)
            .width(220),
        button(text(lang.t("btn.transfer"))).on_press_maybe(talking.then_some(Message::Transfer)),
        button(text(lang.t("btn.hang_up")))
            .on_press_maybe(talking.then_some(Message::HangUp))
            .style(button::danger),
    ]
    .spacing(10)
    .align_y(iced::Alignment::Center);
    let search = row![
        text(lang.t("search.title")),
        text_input(lang.t("search.hint"), &a.search)
            .on_input(Message::Search)
            .on_submit(Message::RunSearch)
            .width(200),
        button(text(lang.t("btn.search"))).on_press(Message::RunSearch),
    ]
    .spacing(8)
    .align_y(iced::Alignment::Center);
    let found = a
        .found
        .iter()
        .take(10)
        .fold(column![].spacing(2), |col, c| {
            let segment = if c.segment == pb::Segment::KeyAccount as i32 {
                lang.t("pop.key_account")
            } else {
                lang.t("pop.public")
            };
            col.push(text(format!(
                "{} · {} · {}",
                c.name,
                c.phones.join(" / "),
                segment
            )))
        });
    if let Some(t) = &c.call_back {
        let (key, colour) = match c.line {
            pb::CustomerLine::Answered => ("line.answered", GREEN),
            pb::CustomerLine::NoAnswer => ("line.no_answer", RED),
            pb::CustomerLine::HungUp => ("line.hung_up", AMBER),
            _ => ("line.ringing", AMBER),
        };
        return Some(
            column![
                call_back_line(a, t, lang, 18.0),
                row![text(lang.t(key)).size(18).color(colour), controls].spacing(16),
                text_input(lang.t("call.notes"), &a.notes).on_input(Message::Notes),
            ]
            .spacing(8)
            .into(),
        );
    }
    Some(
        column![
            controls,
            text_input(lang.t("call.notes"), &a.notes).on_input(Message::Notes),
            search,
            found,
        ]
        .spacing(8)
        .into(),
    )
}

/// A call-back's outcome: the satisfaction 1–5 and whether it is solved, once the
/// customer answered; else what happens next.
fn call_back_outcome<'a>(a: &'a Agent, lang: Lang) -> Option<Element<'a, Message>> {
    a.call.as_ref()?.call_back.as_ref()?;
    if !a.reached() {
        return Some(text(lang.t("cb.not_reached")).color(AMBER).into());
    }
    let stars = (1..=5u32).fold(row![text(lang.t("cb.satisfaction"))].spacing(6), |r, n| {
        let b = button(text(n.to_string())).on_press(Message::Satisfaction(n));
        r.push(if a.wrap.satisfaction == n {
            b.style(button::primary)
        } else {
            b.style(button::secondary)
        })
    });
    Some(
        column![
            stars.align_y(iced::Alignment::Center),
            checkbox(a.wrap.solved)
                .label(lang.t("cb.solved"))
                .on_toggle(Message::Solved),
        ]
        .spacing(8)
        .into(),
    )
}

/// A choice shown by its label.
#[derive(Debug, Clone, PartialEq)]
struct Choice(usize, String);

impl std::fmt::Display for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}

fn priority_label(p: i32, lang: Lang) -> String {
    let (zh, en) = match p {
        1 => ("低", "low"),
        3 => ("高", "high"),
        4 => ("紧急", "urgent"),
        _ => ("普通", "normal"),
    };
    match lang {
        Lang::Zh => zh.into(),
        Lang::En => en.into(),
    }
}

/// The ticket form (types and subcategories from the shared catalog).
fn ticket_form<'a>(a: &'a Agent, lang: Lang) -> Element<'a, Message> {
    let kinds: Vec<Choice> = a
        .catalog
        .kind
        .iter()
        .enumerate()
        .map(|(i, k)| Choice(i, words::bilingual(&k.name, lang)))
        .collect();
    let kind = a.catalog.kind.get(a.ticket.kind);
    let subs: Vec<Choice> = kind
        .map(|k| {
            k.subcategories
                .iter()
                .enumerate()
                .map(|(i, s)| Choice(i, words::bilingual(&s.name, lang)))
                .collect()
        })
        .unwrap_or_default();
    let priorities: Vec<Choice> = (1..=4)
        .map(|p| Choice(p as usize, priority_label(p, lang)))
        .collect();
    section(
        lang.t("ticket.title"),
        column![
            row![
                text(lang.t("ticket.kind")),
                pick_list(
                    kinds.clone(),
                    kinds.get(a.ticket.kind).cloned(),
                    |c: Choice| { Message::TicketKind(c.0) }
                ),
                text(lang.t("ticket.subcategory")),
                pick_list(
                    subs.clone(),
                    subs.get(a.ticket.subcategory).cloned(),
                    |c: Choice| { Message::TicketSubcategory(c.0) }
                ),
            ]
            .spacing(8)
            .align_y(iced::Alignment::Center),
            row![
                text(lang.t("ticket.priority")),
                pick_list(
                    priorities.clone(),
                    priorities
                        .get((a.ticket.priority - 1).max(0) as usize)
                        .cloned(),
                    |c: Choice| Message::TicketPriority(c.0 as i32)
                ),
                text(format!(
                    "{}: {}",
                    lang.t("ticket.back_office"),
                    kind.map(|k| words::group(&a.catalog, &k.back_office, lang))
                        .unwrap_or_default()
                )),
            ]
            .spacing(8)
            .align_y(iced::Alignment::Center),
            text_input(lang.t("ticket.description"), &a.ticket.description)
                .on_input(Message::TicketDescription),
            checkbox(a.ticket.attach)
                .label(lang.t("ticket.add"))
                .on_toggle(Message::TicketAttach),
            ticket_update(a, lang),
        ]
        .spacing(8)
        .into(),
    )
}

/// A change to one of the caller's open tickets: note, resolve, close, reopen.
fn ticket_update<'a>(a: &'a Agent, lang: Lang) -> Element<'a, Message> {
    let open: Vec<Choice> = a
        .pop
        .as_ref()
        .map(|p| {
            p.open_tickets
                .iter()
                .map(|t| {
                    let sub = words::subcategory(&a.catalog, &t.subcategory, lang);
                    Choice(t.id as usize, format!("#{} {sub}", t.id))
                })
                .collect()
        })
        .unwrap_or_default();
    if open.is_empty() {
        return column![].into();
    }
    let chosen = open
        .iter()
        .find(|c| Some(c.0 as u64) == a.ticket_update.ticket)
        .cloned();
    let actions: Vec<Choice> = TicketAction::ALL
        .iter()
        .enumerate()
        .map(|(i, x)| Choice(i, lang.t(x.key()).into()))
        .collect();
    let action = TicketAction::ALL
        .iter()
        .position(|x| *x == a.ticket_update.action)
        .and_then(|i| actions.get(i).cloned());
    column![
        text(lang.t("ticket.update")).size(15),
        row![
            pick_list(open, chosen, |c: Choice| Message::UpdateTicket(c.0 as u64)),
            pick_list(actions, action, |c: Choice| {
                Message::UpdateAction(TicketAction::ALL[c.0])
            }),
        ]
        .spacing(8),
        text_input(lang.t("ticket.update_text"), &a.ticket_update.text)
            .on_input(Message::UpdateText),
        checkbox(a.ticket_update.attach)
            .label(lang.t("ticket.update_add"))
            .on_toggle_maybe(
                a.ticket_update
                    .ticket
                    .is_some()
                    .then_some(Message::UpdateAttach as fn(bool) -> Message)
            ),
    ]
    .spacing(6)
    .into()
}

/// The wrap-up form with its countdown.
fn wrap_form<'a>(a: &'a Agent, lang: Lang, now: Instant) -> Element<'a, Message> {
    let left = a
        .wrap_until
        .map(|u| {
            format!(
                "{} {}",
                lang.t("wrap.left"),
                mmss(u.saturating_duration_since(now).as_secs())
            )
        })
        .unwrap_or_default();
    let wrapping = a.state == pb::AgentState::AfterCallWork;
    // a call-back resolves nothing at first contact: its own outcome says what came of it
    let not_call_back = a.call.as_ref().is_none_or(|c| c.call_back.is_none());
    section(
        lang.t("wrap.title"),
        column![
            row![
                // type to filter (either language); the code goes to the router
                combo_box(
                    &a.picks.dispositions,
                    lang.t("wrap.disposition"),
                    a.picks.disposition(&a.wrap.disposition),
                    |c| Message::Disposition(c.code),
                ),
                combo_box(
                    &a.picks.reasons,
                    lang.t("wrap.reason"),
                    a.picks.reason(&a.wrap.reason),
                    |c| Message::Reason(c.code),
                ),
            ]
            .spacing(8),
        ]
        .push(call_back_outcome(a, lang))
        .push(
            row![
                checkbox(a.wrap.fcr)
                    .label(lang.t("wrap.fcr"))
                    .on_toggle_maybe(not_call_back.then_some(Message::Fcr as fn(bool) -> Message)),
                space().width(Length::Fill),
                text(left).color(AMBER),
                button(text(lang.t("btn.extend")))
                    .on_press_maybe(wrapping.then_some(Message::Extend)),
                button(text(lang.t("btn.wrap_up")))
                    .on_press_maybe(
                        (wrapping && a.wrap_complete()).then_some(Message::FinishWrapUp)
                    )
                    .style(button::primary),
            ]
            .spacing(10)
            .align_y(iced::Alignment::Center),
        )
        .spacing(8)
        .into(),
    )
}

fn shift(a: &Agent, lang: Lang) -> Element<'_, Message> {
    let s = a.shift;
    text(format!(
        "{} — {} {} · {} {} · {} {}",
        lang.t("shift.title"),
        lang.t("shift.calls"),
        s.calls,
        lang.t("shift.aht"),
        s.aht()
            .map(|x| mmss(x as u64))
            .unwrap_or_else(|| "—".into()),
        lang.t("shift.fcr"),
        s.fcr_rate()
            .map(|r| format!("{:.0}%", r * 100.0))
            .unwrap_or_else(|| "—".into()),
    ))
    .into()
}

/// The whole agent screen.
pub fn view(a: &Agent, lang: Lang, now: Instant) -> Element<'_, Message> {
    let mut body = column![status_bar(a, lang, now)].spacing(10).padding(12);
    if let Some(n) = &a.notice {
        body = body.push(
            row![
                text(n.clone()).color(AMBER),
                space().width(Length::Fill),
                button(text("✕"))
                    .on_press(Message::Dismiss)
                    .style(button::text),
            ]
            .align_y(iced::Alignment::Center),
        );
    }
    // the ringing offer or the call, in a slot of its own that keeps its height, so the
    // panels below do not move under the mouse as the call goes from ringing to talking
    // to wrap-up
    let call: Element<'_, Message> = ringing(a, lang, now)
        .or_else(|| call_panel(a, lang, now))
        .unwrap_or_else(|| {
            container(text(lang.t("call.none")).color(Color::from_rgb(0.5, 0.5, 0.5)))
                .padding(12)
                .into()
        });
    body = body.push(container(call).height(CALL_SLOT).width(Length::Fill));
    let forms = column![ticket_form(a, lang), wrap_form(a, lang, now)].spacing(10);
    body = body.push(
        row![
            container(screen_pop(a, lang)).width(Length::FillPortion(3)),
            container(forms).width(Length::FillPortion(2)),
        ]
        .spacing(10),
    );
    body = body.push(my_tickets(a, lang));
    body = body.push(shift(a, lang));
    scrollable(body).into()
}

/// Height of the slot the ringing offer or the call panel takes.
const CALL_SLOT: f32 = 110.0;

/// The tickets this agent owns (首问负责): status, time to the deadline, the back
/// office's latest note; live.
fn my_tickets(a: &Agent, lang: Lang) -> Element<'_, Message> {
    let now_s = words::unix_now();
    let rows = a.mine.iter().fold(column![].spacing(2), |col, t| {
        let due = crate::worklist::deadline(t);
        let open = crate::worklist::is_open(t);
        let (left, late) = crate::worklist_view::time_left(due, now_s, lang);
        let colour = if open && late {
            RED
        } else if open && t.escalated {
            AMBER
        } else {
            Color::from_rgb(0.4, 0.4, 0.4)
        };
        col.push(
            row![
                text(format!("#{}", t.id)).width(70),
                text(words::subcategory(&a.catalog, &t.subcategory, lang)).width(150),
                text(words::status(t.status, lang)).width(80),
                text(if open { left } else { String::new() })
                    .width(150)
                    .color(colour),
                text(words::group(&a.catalog, &t.back_office, lang)).width(110),
                text(t.latest_note.clone()).width(Length::Fill),
            ]
            .spacing(8),
        )
    });
    let body: Element<'_, Message> = if a.mine.is_empty() {
        text(lang.t("mine.none")).into()
    } else {
        scrollable(rows).height(120).into()
    };
    section(lang.t("mine.title"), body)
}

/// The area incident of the caller's 小区 in a line: what is down, what callers are told,
/// when it is expected back, how many tickets it already holds.
pub fn incident_words(i: &pb::Incident, lang: Lang) -> String {
    let (kind, message) = match lang {
        Lang::Zh => (&i.kind_zh, &i.message_zh),
        Lang::En => (&i.kind_en, &i.message_en),
    };
    format!(
        "■ {} #{} · {} {} · {kind} · {message} · {} {}",
        lang.t("inc.title"),
        i.id,
        i.district,
        i.area,
        lang.t("inc.restore"),
        crate::reports::clock(i.expected_restore_at.as_ref().map_or(0, |t| t.seconds)),
    )
}
