//! The supervisor's wallboard: a row per queue (SL coloured when below target), the
//! last hour as a chart, the agent table (sortable, force not-ready / logout), staffing
//! advice and back-office loads; the alarms standing as a banner, their queues' rows
//! marked; the areas' fault surges, each with a button to declare its incident, and the
//! incidents open with their restore time, linked tickets and callers waiting to be told.

use crate::i18n::Lang;
use crate::supervisor::{DraftField, IncidentDraft, Message, SortBy, Wallboard};
use crate::words;
use hotline_proto::v1 as pb;
use iced::widget::canvas::{self, Frame, Geometry, Path, Stroke};
use iced::widget::{
    button, canvas as canvas_widget, column, container, row, scrollable, space, text, text_input,
};
use iced::{Color, Element, Length, Point, Rectangle, Renderer, Theme, mouse};
use std::time::Instant;

const RED: Color = Color::from_rgb(0.85, 0.2, 0.2);
const GREEN: Color = Color::from_rgb(0.1, 0.6, 0.3);
const BLUE: Color = Color::from_rgb(0.2, 0.4, 0.85);
const AMBER: Color = Color::from_rgb(0.85, 0.5, 0.05);

fn state_label(s: i32, lang: Lang) -> &'static str {
    match pb::AgentState::try_from(s).unwrap_or(pb::AgentState::Unspecified) {
        pb::AgentState::Ready => lang.t("state.ready"),
        pb::AgentState::NotReady => lang.t("state.not_ready"),
        pb::AgentState::Reserved => lang.t("state.offered"),
        pb::AgentState::Connected => lang.t("state.on_call"),
        pb::AgentState::AfterCallWork => lang.t("state.wrap_up"),
        _ => lang.t("state.logged_out"),
    }
}

/// Erlang C's advice in words: "2 more agents reach 80/20".
pub fn staffing_advice(q: &pb::QueueStats, lang: Lang) -> String {
    if q.staffing_advice <= 0 {
        return "—".into();
    }
    let target = format!(
        "{:.0}/{}",
        q.service_level_target * 100.0,
        q.service_level_threshold.as_ref().map_or(20, |d| d.seconds)
    );
    lang.t("sup.advice_more")
        .replace("{n}", &q.staffing_advice.to_string())
        .replace("{target}", &target)
}

/// An alarm in words: "故障报修 · 最长等待超过 120 秒（最差 150 秒）· 起于 12-02 10:31".
pub fn alarm_words(a: &pb::Alarm, lang: Lang) -> String {
    let (label, unit): (&str, fn(f64, Lang) -> String) = match a.rule.as_str() {
        "service-level-below" => (lang.t("alarm.service-level-below"), share),
        "longest-wait-above" => (lang.t("alarm.longest-wait-above"), seconds),
        "waiting-above" => (lang.t("alarm.waiting-above"), count),
        "ready-below" => (lang.t("alarm.ready-below"), count),
        "abandon-rate-above" => (lang.t("alarm.abandon-rate-above"), share),
        other => (other, count),
    };
    // the live figure is on the queue's row; the alarm says how bad it got (sent again
    // each time it gets worse)
    let worst = unit(a.worst, lang);
    let detail = match lang {
        Lang::Zh => format!("（最差 {worst}）"),
        Lang::En => format!(" (worst {worst})"),
    };
    format!(
        "{} · {label} {}{detail} · {} {}",
        words::queue(words::codes(), &a.queue, lang),
        unit(a.threshold, lang),
        lang.t("alarm.since"),
        crate::reports::clock(a.raised_at.as_ref().map_or(0, |t| t.seconds)),
    )
}

fn share(v: f64, _: Lang) -> String {
    format!("{:.0}%", v * 100.0)
}

fn seconds(v: f64, lang: Lang) -> String {
    format!("{v:.0} {}", lang.t("alarm.seconds"))
}

fn count(v: f64, _: Lang) -> String {
    format!("{v:.0}")
}

fn cell<'a>(s: impl Into<String>, w: f32) -> Element<'a, Message> {
    container(text(s.into())).width(w).into()
}

fn queue_table(w: &Wallboard, lang: Lang) -> Element<'_, Message> {
    let head = row![
        cell(lang.t("sup.queue"), 130.0),
        cell(lang.t("sup.waiting"), 70.0),
        cell(lang.t("sup.longest"), 90.0),
        cell(lang.t("sup.sl"), 110.0),
        cell(lang.t("sup.asa"), 80.0),
        cell(lang.t("sup.aht"), 80.0),
        cell(lang.t("sup.abandon"), 80.0),
        cell(lang.t("sup.agents_by_state"), 180.0),
        cell(lang.t("sup.fcr"), 130.0),
        cell(lang.t("sup.advice"), 220.0),
    ];
    w.queues
        .values()
        .fold(column![head].spacing(4), |col, q| {
            let (waiting, longest, sl, asa, aht, abandon, below) = Wallboard::queue_row(q);
            let by_state =
                |k: pb::AgentState| q.agents_by_state.get(k as usize).copied().unwrap_or(0);
            let sl_text = sl
                .map(|s| format!("{:.1}% / {:.0}%", s * 100.0, q.service_level_target * 100.0))
                .unwrap_or_else(|| "—".into());
            let advice = staffing_advice(q, lang);
            let fcr = w
                .fcr_of(&q.queue, "")
                .map_or_else(|| "—".into(), |(c, v)| format!("{c} / {v}"));
            let name = words::queue(words::codes(), &q.queue, lang);
            let name: Element<'_, Message> = if w.alarms_of(&q.queue).next().is_some() {
                container(text(format!("▲ {name}")).color(RED))
                    .width(130.0)
                    .into()
            } else {
                cell(name, 130.0)
            };
            col.push(row![
                name,
                cell(waiting.to_string(), 70.0),
                cell(format!("{longest:.0} s"), 90.0),
                container(text(sl_text).color(if below { RED } else { GREEN })).width(110.0),
                cell(format!("{asa:.1} s"), 80.0),
                cell(format!("{aht:.0} s"), 80.0),
                cell(format!("{:.1}%", abandon * 100.0), 80.0),
                cell(
                    format!(
                        "{}/{}/{}/{}",
                        by_state(pb::AgentState::Ready),
                        by_state(pb::AgentState::Connected),
                        by_state(pb::AgentState::AfterCallWork),
                        by_state(pb::AgentState::NotReady)
                    ),
                    180.0
                ),
                cell(fcr, 130.0),
                cell(advice, 220.0),
            ])
        })
        .into()
}

fn agent_table(w: &Wallboard, lang: Lang, now: Instant) -> Element<'_, Message> {
    let sort = |label: &'static str, by: SortBy| {
        button(text(lang.t(label)))
            .on_press(Message::Sort(by))
            .style(if w.sort == by {
                button::primary
            } else {
                button::text
            })
    };
    let head = row![
        container(sort("sup.agents", SortBy::Agent)).width(160.0),
        container(sort("sup.state", SortBy::State)).width(140.0),
        container(sort("sup.since", SortBy::InState)).width(90.0),
        container(sort("shift.calls", SortBy::Handled)).width(70.0),
        cell(lang.t("sup.fcr"), 120.0),
    ];
    let rows = w
        .agent_rows(now)
        .into_iter()
        .fold(column![head].spacing(2), |col, a| {
            let secs = w.in_state(&a.agent_id, now) as u64;
            col.push(
                row![
                    cell(format!("{} {}", a.agent_id, a.name), 160.0),
                    cell(state_label(a.state, lang), 140.0),
                    cell(format!("{:02}:{:02}", secs / 60, secs % 60), 90.0),
                    cell(a.handled.to_string(), 70.0),
                    cell(
                        w.fcr_of("", &a.agent_id)
                            .map_or_else(|| "—".into(), |(c, v)| format!("{c} / {v}")),
                        120.0
                    ),
                    button(text(lang.t("sup.force_not_ready")).size(12))
                        .on_press(Message::ForceNotReady(a.agent_id.clone())),
                    button(text(lang.t("sup.force_logout")).size(12))
                        .on_press(Message::ForceLogout(a.agent_id.clone()))
                        .style(button::danger),
                ]
                .spacing(6)
                .align_y(iced::Alignment::Center),
            )
        });
    scrollable(rows)
        .height(Length::Fill)
        .width(Length::Fill)
        .into()
}

/// The last hour of one queue: calls waiting (blue) and service level (green, 0–100 %).
pub struct Chart<'a> {
    board: &'a Wallboard,
    now: Instant,
}

impl canvas::Program<Message> for Chart<'_> {
    type State = ();

    fn draw(
        &self,
        _state: &(),
        renderer: &Renderer,
        theme: &Theme,
        bounds: Rectangle,
        _cursor: mouse::Cursor,
    ) -> Vec<Geometry> {
        let mut frame = Frame::new(renderer, bounds.size());
        let (w, h) = (bounds.width, bounds.height);
        frame.stroke(
            &Path::rectangle(Point::ORIGIN, bounds.size()),
            Stroke::default().with_color(theme.palette().text.scale_alpha(0.3)),
        );
        let span = crate::supervisor::HISTORY.as_secs_f32();
        let x = |at: Instant| w - (self.now.saturating_duration_since(at).as_secs_f32() / span) * w;
        // the floor as a whole: a chart per queue would be 20 × 2 lines of up to 360
        // points each, 126 ms a frame on the CPU renderer (measured); two lines draw fast
        let hist = &self.board.total;
        let max_wait = hist.iter().map(|p| p.waiting).max().unwrap_or(0).max(5) as f32;
        let waiting = Path::new(|b| {
            for (i, p) in hist.iter().enumerate() {
                let pt = Point::new(x(p.at), h_of(p.waiting as f32 / max_wait, h));
                if i == 0 { b.move_to(pt) } else { b.line_to(pt) }
            }
        });
        frame.stroke(&waiting, Stroke::default().with_color(BLUE).with_width(1.5));
        let sl = Path::new(|b| {
            let mut first = true;
            for p in hist.iter() {
                if let Some(s) = p.service_level {
                    let pt = Point::new(x(p.at), h_of(s as f32, h));
                    if first {
                        b.move_to(pt)
                    } else {
                        b.line_to(pt)
                    }
                    first = false;
                }
            }
        });
        frame.stroke(&sl, Stroke::default().with_color(GREEN).with_width(1.5));
        // scales: waiting on the left (blue), service level on the right (green), time below
        let label = |frame: &mut Frame, content: String, at: Point, color: Color| {
            chart_label(frame, content, at, color, 11.0)
        };
        label(
            &mut frame,
            format!("{max_wait:.0}"),
            Point::new(4.0, 2.0),
            BLUE,
        );
        label(&mut frame, "0".into(), Point::new(4.0, h - 14.0), BLUE);
        label(&mut frame, "100%".into(), Point::new(w - 34.0, 2.0), GREEN);
        label(
            &mut frame,
            "-60 min".into(),
            Point::new(24.0, h - 14.0),
            theme.palette().text,
        );
        vec![frame.into_geometry()]
    }
}

/// Text on a chart, in the desk's font.
pub fn chart_label(frame: &mut Frame, content: String, at: Point, color: Color, size: f32) {
    frame.fill_text(canvas::Text {
        content,
        position: at,
        color,
        size: size.into(),
        font: iced::Font::with_name(crate::FONT_NAME),
        ..canvas::Text::default()
    });
}

fn h_of(share: f32, height: f32) -> f32 {
    height - share.clamp(0.0, 1.0) * (height - 4.0) - 2.0
}

/// What the supervisor must know of the store: nothing while it answers and no record
/// waits.
fn store_line(s: &pb::StoreStatus, lang: Lang) -> Option<String> {
    let waiting = format!("{} {}", lang.t("sup.store_waiting"), s.records_waiting);
    if !s.degraded {
        return (s.records_waiting > 0).then_some(waiting);
    }
    let away = s.since.as_ref().map(|t| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let mins = (now - t.seconds).max(0) / 60;
        format!(" · {} {mins} min", lang.t("sup.store_for"))
    });
    Some(format!(
        "{}{} · {waiting}",
        lang.t("sup.store_down"),
        away.unwrap_or_default()
    ))
}

/// Lines on a red band (the alarms' banners).
fn red_band<'a>(lines: iced::widget::Column<'a, Message>) -> Element<'a, Message> {
    band(lines, RED)
}

/// Lines on a band of `color`.
fn band<'a>(lines: iced::widget::Column<'a, Message>, color: Color) -> Element<'a, Message> {
    container(lines)
        .padding(8)
        .width(Length::Fill)
        .style(move |_: &Theme| container::Style {
            background: Some(color.scale_alpha(0.18).into()),
            border: iced::Border {
                color,
                width: 1.0,
                radius: 4.0.into(),
            },
            ..container::Style::default()
        })
        .into()
}

/// The alarms standing, one line each, on a red band.
fn alarm_banner(w: &Wallboard, lang: Lang) -> Element<'_, Message> {
    let lines = w.alarms.values().fold(
        column![text(format!("▲ {} ({})", lang.t("alarm.title"), w.alarms.len())).size(15)]
            .spacing(2),
        |col, a| col.push(text(alarm_words(a, lang)).size(13)),
    );
    red_band(lines)
}

/// A fault-surge alarm in words: the area, its calls in the window against what is
/// usual there, what they were about, since when.
pub fn area_alarm_words(a: &pb::AreaAlarm, lang: Lang) -> String {
    let minutes = a.window.as_ref().map_or(0, |w| w.seconds / 60);
    let top: Vec<String> = a
        .top
        .iter()
        .map(|t| {
            let codes = words::codes();
            let name = if codes.reason(&t.code).is_some() || codes.group(&t.code).is_some() {
                words::reason(codes, &t.code, lang)
            } else {
                words::subcategory(words::catalog(), &t.code, lang)
            };
            format!("{name} {}", t.count)
        })
        .collect();
    format!(
        "{} {} · {} {} {minutes} {} ({} {:.1}) · {} · {} {}",
        a.district,
        a.area,
        a.count,
        lang.t("area.calls"),
        lang.t("area.minutes"),
        lang.t("area.usual"),
        a.expected,
        top.join(", "),
        lang.t("alarm.since"),
        crate::reports::clock(a.first_call_at.as_ref().map_or(0, |t| t.seconds)),
    )
}

/// The areas with a fault surge, one line each, on a red band.
fn area_banner(w: &Wallboard, lang: Lang) -> Element<'_, Message> {
    let lines = w.area_alarms.values().fold(
        column![
            text(format!(
                "▲ {} ({})",
                lang.t("area.title"),
                w.area_alarms.len()
            ))
            .size(15)
        ]
        .spacing(2),
        |col, a| {
            let declared = w
                .incidents
                .iter()
                .any(|i| i.district == a.district && i.area == a.area);
            let line = row![text(area_alarm_words(a, lang)).size(13)].spacing(8);
            col.push(if declared {
                line.push(text(lang.t("inc.declared")).size(12))
            } else {
                line.push(
                    button(text(lang.t("inc.declare")).size(12))
                        .on_press(Message::Draft(a.district.clone(), a.area.clone())),
                )
            })
        },
    );
    red_band(lines)
}

/// An open incident in words: where, what, since when, when it is expected back, who
/// declared it, the tickets it holds and the callers waiting to be told.
pub fn incident_line(i: &pb::Incident, lang: Lang) -> String {
    let at = |t: &Option<prost_types::Timestamp>| {
        crate::reports::clock(t.as_ref().map_or(0, |t| t.seconds))
    };
    let kind = match lang {
        Lang::Zh => &i.kind_zh,
        Lang::En => &i.kind_en,
    };
    let by = if i.automatic {
        lang.t("inc.auto").to_string()
    } else {
        i.declared_by.clone()
    };
    format!(
        "#{} {} {} · {kind} · {} {} · {} {} · {} {} · {} {} · {} {}",
        i.id,
        i.district,
        i.area,
        lang.t("alarm.since"),
        at(&i.started_at),
        lang.t("inc.restore"),
        at(&i.expected_restore_at),
        lang.t("inc.by"),
        by,
        lang.t("inc.linked"),
        i.linked_tickets,
        lang.t("inc.asked"),
        i.asked_to_be_told,
    )
}

/// The incidents open, each with what callers hear and the buttons to move its restore
/// time or end it, on an amber band.
fn incident_banner(w: &Wallboard, lang: Lang) -> Element<'_, Message> {
    let lines = w.incidents.iter().fold(
        column![text(format!("■ {} ({})", lang.t("inc.title"), w.incidents.len())).size(15)]
            .spacing(4),
        |col, i| {
            let message = match lang {
                Lang::Zh => &i.message_zh,
                Lang::En => &i.message_en,
            };
            col.push(
                row![
                    column![
                        text(incident_line(i, lang)).size(13),
                        text(format!("“{message}”")).size(12),
                    ]
                    .width(Length::Fill),
                    button(text(lang.t("inc.later")).size(12)).on_press(Message::Later(i.id)),
                    button(text(lang.t("inc.end")).size(12)).on_press(Message::End(i.id)),
                ]
                .spacing(8)
                .align_y(iced::Alignment::Center),
            )
        },
    );
    band(lines, AMBER)
}

/// The supervisor's draft of an incident: the area and kind, what callers will hear in
/// both languages, the hours to the expected restore.
fn draft_form<'a>(
    d: &'a IncidentDraft,
    error: Option<&'static str>,
    lang: Lang,
) -> Element<'a, Message> {
    let kind = words::subcategory(words::catalog(), &d.kind, lang);
    let form = column![
        text(format!(
            "{} · {} {} · {kind}",
            lang.t("inc.draft"),
            d.district,
            d.area
        ))
        .size(15),
        text_input(lang.t("inc.message_zh"), &d.message_zh)
            .on_input(|v| Message::DraftEdit(DraftField::MessageZh, v)),
        text_input(lang.t("inc.message_en"), &d.message_en)
            .on_input(|v| Message::DraftEdit(DraftField::MessageEn, v)),
        row![
            text(lang.t("inc.hours")),
            text_input("4", &d.hours)
                .on_input(|v| Message::DraftEdit(DraftField::Hours, v))
                .width(80),
            button(text(lang.t("inc.confirm"))).on_press(Message::Declare),
            button(text(lang.t("inc.cancel"))).on_press(Message::DraftCancel),
        ]
        .spacing(8)
        .align_y(iced::Alignment::Center),
    ]
    .spacing(6)
    .push(error.map(|e| text(lang.t(e)).color(RED)));
    band(form, AMBER)
}

/// The whole wallboard.
pub fn view(w: &Wallboard, lang: Lang, now: Instant) -> Element<'_, Message> {
    let mut body = column![text(lang.t("sup.title")).size(22)]
        .spacing(10)
        .padding(12);
    if let Some((n, why)) = &w.lost {
        body = body.push(text(format!("{} ({n}) — {why}", lang.t("conn.reconnecting"))).color(RED));
    }
    if let Some(n) = &w.notice {
        body = body.push(text(n.clone()).color(RED));
    }
    if let Some(line) = w.store.as_ref().and_then(|s| store_line(s, lang)) {
        body = body.push(text(line).color(RED));
    }
    if !w.alarms.is_empty() {
        body = body.push(alarm_banner(w, lang));
    }
    if !w.area_alarms.is_empty() {
        body = body.push(area_banner(w, lang));
    }
    if let Some(d) = &w.draft {
        body = body.push(draft_form(d, w.draft_error, lang));
    }
    if !w.incidents.is_empty() {
        body = body.push(incident_banner(w, lang));
    }
    let back_office = w.back_office.iter().fold(
        column![text(lang.t("sup.back_office")).size(15)].spacing(2),
        |col, b| {
            let line = text(format!(
                "{}: {} {} · {} {} · {} {}",
                words::group(words::catalog(), &b.group, lang),
                lang.t("sup.open"),
                b.open,
                lang.t("sup.due_soon"),
                b.due_soon,
                lang.t("sup.overdue"),
                b.overdue
            ));
            let line = if b.overdue > 0 { line.color(RED) } else { line };
            match &b.oldest_overdue_deadline {
                Some(d) if b.oldest_overdue_ticket != 0 => col.push(line).push(
                    text(format!(
                        "  {} #{} · {}",
                        lang.t("sup.oldest_overdue"),
                        b.oldest_overdue_ticket,
                        crate::worklist_view::time_left(d.seconds, crate::words::unix_now(), lang)
                            .0
                    ))
                    .size(13)
                    .color(RED),
                ),
                _ => col.push(line),
            }
        },
    );
    body = body
        .push(queue_table(w, lang))
        .push(
            row![
                column![
                    text(lang.t("sup.chart")).size(15),
                    canvas_widget(Chart { board: w, now })
                        .width(Length::Fill)
                        .height(160),
                ]
                .spacing(4)
                .width(Length::FillPortion(3)),
                container(back_office).width(Length::FillPortion(2)),
            ]
            .spacing(12),
        )
        .push(agent_table(w, lang, now))
        .push(space().height(4));
    body.into()
}
