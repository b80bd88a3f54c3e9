//! The supervisor's reports screen: the report and period chosen by buttons, a chart a
//! supervisor would rather look at than read (service level and offered calls over the
//! period, hot spots by district, agents ranked by a figure, contacts by reason), the
//! table under it, and an export to CSV.

use crate::i18n::Lang;
use crate::reports::{Data, Kind, Message, Period, Rank, Reports};
use crate::wallboard_view::chart_label;
use crate::words;
use iced::widget::canvas::{self, Frame, Geometry, Path, Stroke};
use iced::widget::{
    button, canvas as canvas_widget, column, container, row, scrollable, space, text,
};
use iced::{Color, Element, Length, Point, Rectangle, Renderer, Size, Theme, mouse};

const RED: Color = Color::from_rgb(0.85, 0.2, 0.2);
const GREEN: Color = Color::from_rgb(0.1, 0.6, 0.3);
const BLUE: Color = Color::from_rgb(0.2, 0.4, 0.85);
const AMBER: Color = Color::from_rgb(0.9, 0.55, 0.1);

/// Rows the table shows (the export has them all).
const SHOWN: usize = 120;

/// A row of choice buttons, the chosen one lit.
fn choices<'a, T: Copy + PartialEq + 'a>(
    all: &[T],
    chosen: T,
    key: impl Fn(T) -> &'static str,
    lang: Lang,
    message: impl Fn(T) -> Message,
) -> Element<'a, Message> {
    all.iter()
        .fold(row![].spacing(4), |r, &c| {
            r.push(
                button(text(lang.t(key(c))).size(13))
                    .on_press(message(c))
                    .style(if c == chosen {
                        button::primary
                    } else {
                        button::secondary
                    }),
            )
        })
        .into()
}

/// The whole screen; `queues` are the queues the interval report may show.
pub fn view<'a>(r: &'a Reports, queues: &[String], lang: Lang) -> Element<'a, Message> {
    let mut body = column![
        choices(&Kind::ALL, r.kind, Kind::key, lang, Message::Kind),
        row![
            choices(&Period::ALL, r.period, Period::key, lang, Message::Period),
            space().width(Length::Fill),
            button(text(lang.t("rep.refresh")).size(13)).on_press(Message::Refresh),
            button(text(lang.t("rep.export")).size(13))
                .on_press_maybe((r.data != Data::Nothing).then_some(Message::Export)),
        ]
        .spacing(6),
    ]
    .spacing(8)
    .padding(12);
    if r.kind == Kind::Intervals {
        let names: Vec<String> = queues.to_vec();
        body = body.push(names.into_iter().fold(row![].spacing(4), |row, q| {
            let lit = q == r.queue;
            row.push(
                button(text(words::queue(words::codes(), &q, lang)).size(12))
                    .on_press(Message::Queue(q))
                    .style(if lit { button::primary } else { button::text }),
            )
        }));
    }
    if r.kind == Kind::Agents {
        body = body.push(
            row![
                text(lang.t("rep.rank_by")).size(13),
                choices(&Rank::ALL, r.rank, Rank::key, lang, Message::Rank)
            ]
            .spacing(6)
            .align_y(iced::Alignment::Center),
        );
    }
    let (from, to) = r.covers;
    let heading = if from > 0 {
        format!(
            "{} · {} – {}",
            lang.t(r.kind.key()),
            crate::reports::clock(from),
            crate::reports::clock(to)
        )
    } else {
        lang.t(r.kind.key()).to_string()
    };
    body = body.push(text(heading).size(18));
    if r.busy {
        body = body.push(text(lang.t("rep.loading")).size(13));
    }
    if let Some(n) = &r.notice {
        body = body.push(text(n.clone()).size(13).color(RED));
    }
    if let Some(chart) = chart(r, lang) {
        body = body.push(chart);
    }
    body.push(table(r, lang)).into()
}

/// The report's chart, when it has one and rows to draw.
fn chart<'a>(r: &'a Reports, lang: Lang) -> Option<Element<'a, Message>> {
    let bars = |items: Vec<(String, f64, Color, String)>| -> Option<Element<'a, Message>> {
        (!items.is_empty()).then(|| {
            let h = 22.0 * items.len().min(12) as f32 + 8.0;
            canvas_widget(Bars { items })
                .width(Length::Fill)
                .height(h)
                .into()
        })
    };
    match &r.data {
        Data::Intervals { rows, .. } if !rows.is_empty() => Some(
            column![
                text(lang.t("rep.chart.intervals")).size(13),
                canvas_widget(Line {
                    span: r.covers,
                    slot: i64::from(r.period.minutes()) * 60,
                    points: rows
                        .iter()
                        .map(|q| {
                            (
                                q.start.as_ref().map_or(0, |t| t.seconds),
                                q.service_level,
                                q.offered,
                            )
                        })
                        .collect(),
                })
                .width(Length::Fill)
                .height(180),
            ]
            .spacing(4)
            .into(),
        ),
        Data::Hotspots(rows) => {
            let most = rows.iter().filter_map(|h| h.per_1000).fold(0.0, f64::max);
            bars(
                rows.iter()
                    .take(12)
                    .map(|h| {
                        let rate = h.per_1000.unwrap_or(0.0);
                        let color = if h.surprise >= 2.0 {
                            RED
                        } else if h.surprise >= 1.0 {
                            AMBER
                        } else {
                            BLUE
                        };
                        (
                            h.district.clone(),
                            if most > 0.0 { rate / most } else { 0.0 },
                            color,
                            format!("{rate:.1}‰ · {}", h.reports),
                        )
                    })
                    .collect(),
            )
        }
        Data::Agents(rows) => {
            let ranked = r.ranked(rows);
            let most = ranked.iter().map(|a| r.rank.of(a)).fold(0.0, f64::max);
            bars(
                ranked
                    .iter()
                    .take(12)
                    .map(|a| {
                        let v = r.rank.of(a);
                        let shown = match r.rank {
                            Rank::Answered => format!("{v:.0}"),
                            Rank::Aht => format!("{v:.0} s"),
                            Rank::Occupancy | Rank::Fcr => format!("{v:.1}%"),
                        };
                        (
                            a.agent.clone(),
                            if most > 0.0 { v / most } else { 0.0 },
                            GREEN,
                            shown,
                        )
                    })
                    .collect(),
            )
        }
        Data::Reasons(rows) => {
            let most = rows.iter().map(|x| x.contacts).max().unwrap_or(0) as f64;
            bars(
                rows.iter()
                    .take(12)
                    .map(|x| {
                        let name = crate::reports::reason_words(x, lang);
                        let share = if most > 0.0 {
                            x.contacts as f64 / most
                        } else {
                            0.0
                        };
                        (name, share, BLUE, x.contacts.to_string())
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

/// The table of the report's words.
fn table<'a>(r: &'a Reports, lang: Lang) -> Element<'a, Message> {
    let (head, rows) = r.table(lang);
    if head.is_empty() {
        return text(lang.t("rep.choose")).into();
    }
    if rows.is_empty() {
        return text(lang.t("rep.empty")).into();
    }
    let width = |c: usize| {
        if c == 0 {
            150.0
        } else if c + 1 == head.len() {
            220.0
        } else {
            96.0
        }
    };
    let line = |cells: Vec<String>, bold: bool| {
        cells
            .into_iter()
            .enumerate()
            .fold(row![].spacing(4), |row, (c, s)| {
                let t = text(s).size(if bold { 13 } else { 12 });
                row.push(container(t).width(width(c)))
            })
    };
    let mut col = column![line(head.iter().map(|h| h.to_string()).collect(), true)].spacing(3);
    let more = rows.len().saturating_sub(SHOWN);
    let n = rows.len();
    for (k, cells) in rows.into_iter().enumerate() {
        // the interval report's total is its last line: keep it in view
        if k < SHOWN || k + 1 == n {
            col = col.push(line(cells, false));
        }
    }
    if more > 0 {
        col = col.push(text(lang.t("rep.more").replace("{n}", &more.to_string())).size(12));
    }
    scrollable(col)
        .height(Length::Fill)
        .width(Length::Fill)
        .into()
}

/// Offered calls (bars, left scale) and service level (line, 0–100 %, the 80 % target
/// red) by interval, each where its time falls in the period (an hour without calls is
/// a gap, not squeezed out).
struct Line {
    /// The period, seconds.
    span: (i64, i64),
    /// Seconds in an interval.
    slot: i64,
    /// (start, SL %, offered) by interval.
    points: Vec<(i64, Option<f64>, u64)>,
}

impl canvas::Program<Message> for Line {
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
        let ink = theme.palette().text;
        let (left, right, top, bottom) = (34.0, 40.0, 8.0, 18.0);
        let (w, h) = (bounds.width - left - right, bounds.height - top - bottom);
        frame.stroke(
            &Path::rectangle(Point::new(left, top), Size::new(w, h)),
            Stroke::default().with_color(ink.scale_alpha(0.3)),
        );
        let most = self.points.iter().map(|p| p.2).max().unwrap_or(0).max(1) as f32;
        let (from, to) = self.span;
        let length = (to - from).max(1) as f32;
        let x = |at: i64| left + ((at - from) as f32 / length).clamp(0.0, 1.0) * w;
        let slot = (self.slot as f32 / length * w).max(1.0);
        let y = |share: f32| top + h - share.clamp(0.0, 1.0) * h;
        for (at, _, offered) in &self.points {
            let bh = *offered as f32 / most * h;
            frame.fill_rectangle(
                Point::new(x(*at) + slot * 0.15, top + h - bh),
                Size::new((slot * 0.7).max(1.0), bh),
                BLUE.scale_alpha(0.45),
            );
        }
        let target = Path::line(Point::new(left, y(0.8)), Point::new(left + w, y(0.8)));
        frame.stroke(
            &target,
            Stroke::default()
                .with_color(RED.scale_alpha(0.6))
                .with_width(1.0),
        );
        let sl = Path::new(|b| {
            let mut first = true;
            for (at, s, _) in &self.points {
                if let Some(s) = s {
                    let pt = Point::new(x(*at) + slot * 0.5, y(*s as f32 / 100.0));
                    if first {
                        b.move_to(pt)
                    } else {
                        b.line_to(pt)
                    }
                    first = false;
                }
            }
        });
        frame.stroke(&sl, Stroke::default().with_color(GREEN).with_width(2.0));
        let label = |frame: &mut Frame, content: String, at: Point, color: Color| {
            chart_label(frame, content, at, color, 11.0)
        };
        label(&mut frame, format!("{most:.0}"), Point::new(4.0, top), BLUE);
        label(
            &mut frame,
            "0".into(),
            Point::new(4.0, top + h - 12.0),
            BLUE,
        );
        label(
            &mut frame,
            "100%".into(),
            Point::new(left + w + 4.0, top),
            GREEN,
        );
        label(
            &mut frame,
            "80%".into(),
            Point::new(left + w + 4.0, y(0.8) - 6.0),
            RED,
        );
        label(
            &mut frame,
            crate::reports::clock(from),
            Point::new(left, top + h + 3.0),
            ink,
        );
        label(
            &mut frame,
            crate::reports::clock(to),
            Point::new(left + w - 70.0, top + h + 3.0),
            ink,
        );
        vec![frame.into_geometry()]
    }
}

/// Horizontal bars: (label, length 0–1, colour, figure).
struct Bars {
    items: Vec<(String, f64, Color, String)>,
}

impl canvas::Program<Message> for Bars {
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
        let ink = theme.palette().text;
        let (label_w, figure_w) = (130.0, 110.0);
        let w = (bounds.width - label_w - figure_w).max(10.0);
        for (k, (name, share, color, figure)) in self.items.iter().take(12).enumerate() {
            let top = 4.0 + k as f32 * 22.0;
            let text = |frame: &mut Frame, content: String, x: f32, color: Color| {
                chart_label(frame, content, Point::new(x, top + 2.0), color, 13.0)
            };
            text(&mut frame, name.clone(), 4.0, ink);
            let len = (*share as f32).clamp(0.0, 1.0) * w;
            frame.fill_rectangle(
                Point::new(label_w, top + 2.0),
                Size::new(len.max(1.0), 16.0),
                *color,
            );
            text(&mut frame, figure.clone(), label_w + len + 6.0, ink);
        }
        vec![frame.into_geometry()]
    }
}
