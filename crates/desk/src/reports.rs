//! The supervisor's reports as plain state: which report, over which period, its rows
//! as the router's `ReportService` sent them, and the same rows as a table of words
//! (for the screen and for the CSV export). [`Reports::update`] applies a message and
//! says what to ask the router; no I/O here.

use crate::i18n::Lang;
use crate::words;
use hotline_catalog::TicketKind;
use hotline_proto::v1 as pb;

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// A queue's intervals: SL and offered calls over the period.
    #[default]
    Intervals,
    /// Agents ranked by a figure.
    Agents,
    /// Complaints and faults by district.
    Hotspots,
    /// Contacts by reason.
    Reasons,
    /// Tickets by group and kind.
    Tickets,
}

impl Kind {
    /// Every report, in the order of the buttons.
    pub const ALL: [Kind; 5] = [
        Kind::Intervals,
        Kind::Agents,
        Kind::Hotspots,
        Kind::Reasons,
        Kind::Tickets,
    ];

    /// The button's words.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Intervals => "rep.intervals",
            Kind::Agents => "rep.agents",
            Kind::Hotspots => "rep.hotspots",
            Kind::Reasons => "rep.reasons",
            Kind::Tickets => "rep.tickets",
        }
    }

    /// The file name's word.
    pub fn file_word(self) -> &'static str {
        match self {
            Kind::Intervals => "intervals",
            Kind::Agents => "agents",
            Kind::Hotspots => "hotspots",
            Kind::Reasons => "reasons",
            Kind::Tickets => "tickets",
        }
    }
}

/// The period, counted in the hotline's days (Asia/Shanghai).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Period {
    /// Since midnight.
    #[default]
    Today,
    /// The day before.
    Yesterday,
    /// Today and the six days before.
    Week,
    /// Today and the 29 days before.
    Month,
    /// Today and the 89 days before.
    Quarter,
}

impl Period {
    /// Every period, in the order of the buttons.
    pub const ALL: [Period; 5] = [
        Period::Today,
        Period::Yesterday,
        Period::Week,
        Period::Month,
        Period::Quarter,
    ];

    /// The button's words.
    pub fn key(self) -> &'static str {
        match self {
            Period::Today => "rep.today",
            Period::Yesterday => "rep.yesterday",
            Period::Week => "rep.week",
            Period::Month => "rep.month",
            Period::Quarter => "rep.quarter",
        }
    }

    /// [from, to) in seconds since the epoch, at `now` (seconds).
    pub fn range(self, now: i64) -> (i64, i64) {
        let midnight = midnight(now);
        let day = 86_400;
        let end = now + 60;
        match self {
            Period::Today => (midnight, end),
            Period::Yesterday => (midnight - day, midnight),
            Period::Week => (midnight - 6 * day, end),
            Period::Month => (midnight - 29 * day, end),
            Period::Quarter => (midnight - 89 * day, end),
        }
    }

    /// Minutes to a row of the interval report: quarters for a day, hours beyond.
    pub fn minutes(self) -> u32 {
        match self {
            Period::Today | Period::Yesterday => 15,
            _ => 60,
        }
    }
}

/// The last midnight in Asia/Shanghai at or before `now` (seconds).
fn midnight(now: i64) -> i64 {
    let zone = jiff::tz::db()
        .get("Asia/Shanghai")
        .unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_second(now)
        .ok()
        .and_then(|t| t.to_zoned(zone).start_of_day().ok())
        .map_or(now - now.rem_euclid(86_400), |z| z.timestamp().as_second())
}

/// What agents are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rank {
    /// Calls answered.
    #[default]
    Answered,
    /// Average handle time.
    Aht,
    /// Occupancy.
    Occupancy,
    /// Verified first-contact resolution.
    Fcr,
}

impl Rank {
    /// Every figure, in the order of the buttons.
    pub const ALL: [Rank; 4] = [Rank::Answered, Rank::Aht, Rank::Occupancy, Rank::Fcr];

    /// The button's words.
    pub fn key(self) -> &'static str {
        match self {
            Rank::Answered => "rep.col.answered",
            Rank::Aht => "rep.col.aht",
            Rank::Occupancy => "rep.col.occupancy",
            Rank::Fcr => "rep.col.fcr_rate",
        }
    }

    /// The figure of an agent's row.
    pub fn of(self, a: &pb::AgentReportRow) -> f64 {
        match self {
            Rank::Answered => a.answered as f64,
            Rank::Aht => a.aht_seconds.unwrap_or(0.0),
            Rank::Occupancy => a.occupancy.unwrap_or(0.0),
            Rank::Fcr => a.fcr_rate.unwrap_or(0.0),
        }
    }
}

/// A report's rows as the router sent them.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Data {
    /// Nothing asked yet.
    #[default]
    Nothing,
    /// One queue's intervals and its total.
    Intervals {
        /// By interval.
        rows: Vec<pb::QueueIntervalRow>,
        /// The queue's totals.
        totals: Vec<pb::QueueIntervalRow>,
    },
    /// Agents.
    Agents(Vec<pb::AgentReportRow>),
    /// Districts.
    Hotspots(Vec<pb::HotspotRow>),
    /// Reasons.
    Reasons(Vec<pb::ReasonReportRow>),
    /// Tickets.
    Tickets(Vec<pb::TicketReportRow>),
}

/// What to ask the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// Which report.
    pub kind: Kind,
    /// From, seconds since the epoch.
    pub from: i64,
    /// To (not included).
    pub to: i64,
    /// The queue (the interval report).
    pub queue: String,
    /// Minutes to an interval row.
    pub minutes: u32,
    /// Which answer this is (a late answer to an older question is dropped).
    pub seq: u64,
}

/// The reports screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Reports {
    /// Which report.
    pub kind: Kind,
    /// Over which period.
    pub period: Period,
    /// The interval report's queue.
    pub queue: String,
    /// Agents ranked by.
    pub rank: Rank,
    /// The rows.
    pub data: Data,
    /// The period the rows cover (seconds), as asked.
    pub covers: (i64, i64),
    /// An answer is awaited.
    pub busy: bool,
    /// The last thing to tell the supervisor (an error, the exported file).
    pub notice: Option<String>,
    seq: u64,
}

impl Default for Reports {
    fn default() -> Self {
        Reports {
            kind: Kind::default(),
            period: Period::default(),
            queue: "inquiry".into(),
            rank: Rank::default(),
            data: Data::Nothing,
            covers: (0, 0),
            busy: false,
            notice: None,
            seq: 0,
        }
    }
}

/// What happened on the reports screen.
#[derive(Debug, Clone)]
pub enum Message {
    /// Choose a report.
    Kind(Kind),
    /// Choose a period.
    Period(Period),
    /// Choose the interval report's queue.
    Queue(String),
    /// Rank agents by.
    Rank(Rank),
    /// Ask again.
    Refresh,
    /// The router answered (which question, the rows or its words).
    Loaded(u64, Result<Data, String>),
    /// Write the table to a CSV file.
    Export,
    /// The file was written (its path) or not (why).
    Exported(Result<String, String>),
}

/// What the screen asks of the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// Ask the router.
    Load(Ask),
    /// Write this CSV text to a file named so.
    Export(String, String),
}

impl Reports {
    /// Apply `m` at `now` (seconds); what to do next, if anything.
    pub fn update(&mut self, m: Message, now: i64, lang: Lang) -> Option<Want> {
        match m {
            Message::Kind(k) => self.kind = k,
            Message::Period(p) => self.period = p,
            Message::Queue(q) => self.queue = q,
            Message::Rank(r) => {
                self.rank = r;
                return None;
            }
            Message::Refresh => {}
            Message::Loaded(seq, r) => {
                if seq == self.seq {
                    self.busy = false;
                    match r {
                        Ok(d) => {
                            self.data = d;
                            self.notice = None;
                        }
                        Err(why) => self.notice = Some(why),
                    }
                }
                return None;
            }
            Message::Export => {
                let (from, _) = self.covers;
                let name = format!(
                    "hotline-{}-{}.csv",
                    self.kind.file_word(),
                    day_of(from).replace('-', "")
                );
                return Some(Want::Export(name, self.csv(lang)));
            }
            Message::Exported(r) => {
                self.notice = Some(match r {
                    Ok(path) => format!("{} {path}", lang.t("rep.exported")),
                    Err(why) => why,
                });
                return None;
            }
        }
        Some(Want::Load(self.ask(now)))
    }

    /// The number of the last question asked (its answer is the one kept).
    pub fn asked(&self) -> u64 {
        self.seq
    }

    /// The question for the report and period chosen now.
    pub fn ask(&mut self, now: i64) -> Ask {
        self.seq += 1;
        self.busy = true;
        let (from, to) = self.period.range(now);
        self.covers = (from, to);
        Ask {
            kind: self.kind,
            from,
            to,
            queue: self.queue.clone(),
            minutes: self.period.minutes(),
            seq: self.seq,
        }
    }

    /// The rows as words: the column headings and a line of cells per row (totals
    /// last).
    pub fn table(&self, lang: Lang) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let opt = |x: Option<f64>| x.map_or_else(|| "—".to_string(), |v| format!("{v:.1}"));
        let pct = |x: Option<f64>| x.map_or_else(|| "—".to_string(), |v| format!("{v:.1}%"));
        let h = |keys: &[&'static str]| keys.iter().map(|k| lang.t(k)).collect::<Vec<_>>();
        match &self.data {
            Data::Nothing => (vec![], vec![]),
            Data::Intervals { rows, totals } => (
                h(&[
                    "rep.col.start",
                    "rep.col.offered",
                    "rep.col.answered",
                    "rep.col.abandoned",
                    "rep.col.sl",
                    "rep.col.asa",
                    "rep.col.aht",
                    "rep.col.longest",
                    "rep.col.staffed",
                    "rep.col.required",
                ]),
                rows.iter()
                    .chain(totals)
                    .map(|r| {
                        vec![
                            r.start.as_ref().map_or_else(
                                || lang.t("rep.total").to_string(),
                                |t| clock(t.seconds),
                            ),
                            r.offered.to_string(),
                            r.answered.to_string(),
                            r.abandoned.to_string(),
                            pct(r.service_level),
                            opt(r.asa_seconds),
                            opt(r.aht_seconds),
                            format!("{:.0}", r.longest_wait_seconds),
                            opt(r.staffed_agents),
                            r.required_agents
                                .map_or_else(|| "—".to_string(), |n| n.to_string()),
                        ]
                    })
                    .collect(),
            ),
            Data::Agents(rows) => (
                h(&[
                    "rep.col.agent",
                    "rep.col.offers",
                    "rep.col.answered",
                    "rep.col.rona",
                    "rep.col.aht",
                    "rep.col.occupancy",
                    "rep.col.not_ready",
                    "rep.col.transfers",
                    "rep.col.fcr_rate",
                    "rep.col.satisfaction",
                    "rep.col.tickets_on_time",
                ]),
                self.ranked(rows)
                    .into_iter()
                    .map(|a| {
                        vec![
                            a.agent.clone(),
                            a.offers.to_string(),
                            a.answered.to_string(),
                            a.no_answer.to_string(),
                            opt(a.aht_seconds),
                            pct(a.occupancy),
                            format!("{:.0}", a.not_ready_seconds / 60.0),
                            a.transfers.to_string(),
                            pct(a.fcr_rate),
                            opt(a.satisfaction_mean),
                            pct(a.tickets_on_time_rate),
                        ]
                    })
                    .collect(),
            ),
            Data::Hotspots(rows) => (
                h(&[
                    "rep.col.district",
                    "rep.col.reports",
                    "rep.col.complaints",
                    "rep.col.faults",
                    "rep.col.per_1000",
                    "rep.col.previous",
                    "rep.col.surprise",
                    "rep.col.top",
                ]),
                rows.iter()
                    .map(|r| {
                        vec![
                            r.district.clone(),
                            r.reports.to_string(),
                            r.complaints.to_string(),
                            r.faults.to_string(),
                            opt(r.per_1000),
                            r.previous.to_string(),
                            format!("{:.1}", r.surprise),
                            r.top
                                .iter()
                                .map(|t| format!("{} {}", what(&t.name, lang), t.count))
                                .collect::<Vec<_>>()
                                .join("、"),
                        ]
                    })
                    .collect(),
            ),
            Data::Reasons(rows) => (
                h(&[
                    "rep.col.reason",
                    "rep.col.contacts",
                    "rep.col.handled",
                    "rep.col.fcr_claimed",
                    "rep.col.fcr_rate",
                    "rep.col.repeat_rate",
                ]),
                rows.iter()
                    .map(|r| {
                        let name = reason_words(r, lang);
                        vec![
                            name,
                            r.contacts.to_string(),
                            r.handled.to_string(),
                            r.fcr_claimed.to_string(),
                            pct(r.fcr_rate),
                            pct(r.repeat_rate),
                        ]
                    })
                    .collect(),
            ),
            Data::Tickets(rows) => (
                h(&[
                    "rep.col.group",
                    "rep.col.kind",
                    "rep.col.opened",
                    "rep.col.resolved",
                    "rep.col.open",
                    "rep.col.overdue",
                    "rep.col.on_time",
                    "rep.col.hours",
                ]),
                rows.iter()
                    .map(|r| {
                        vec![
                            words::group(words::catalog(), &r.group, lang),
                            kind_words(&r.kind, lang),
                            r.opened.to_string(),
                            r.resolved.to_string(),
                            r.open.to_string(),
                            r.overdue.to_string(),
                            pct(r.on_time_rate),
                            opt(r.mean_hours_to_resolve),
                        ]
                    })
                    .collect(),
            ),
        }
    }

    /// Agents, best first by the chosen figure (shortest first for handle time).
    pub fn ranked<'a>(&self, rows: &'a [pb::AgentReportRow]) -> Vec<&'a pb::AgentReportRow> {
        let mut v: Vec<&pb::AgentReportRow> = rows.iter().collect();
        let rank = self.rank;
        v.sort_by(|a, b| {
            let (x, y) = (rank.of(a), rank.of(b));
            if rank == Rank::Aht {
                x.total_cmp(&y)
            } else {
                y.total_cmp(&x)
            }
        });
        v
    }

    /// The table as CSV (headings first), quoted where a cell needs it.
    pub fn csv(&self, lang: Lang) -> String {
        let (head, rows) = self.table(lang);
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(&head);
        for r in &rows {
            let _ = w.write_record(r);
        }
        w.into_inner()
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default()
    }
}

/// A reason row's reason in words ("not given" for contacts without one).
pub fn reason_words(r: &pb::ReasonReportRow, lang: Lang) -> String {
    match lang {
        _ if r.reason.is_empty() => lang.t("rep.no_reason").to_string(),
        Lang::Zh if !r.zh.is_empty() => r.zh.clone(),
        Lang::En if !r.en.is_empty() => r.en.clone(),
        _ => words::reason(words::codes(), &r.reason, lang),
    }
}

/// A subcategory or a reason code in words.
fn what(code: &str, lang: Lang) -> String {
    let sub = words::subcategory(words::catalog(), code, lang);
    if sub != code {
        sub
    } else {
        words::reason(words::codes(), code, lang)
    }
}

/// A ticket kind as the report names it (`fault`) in words.
fn kind_words(kind: &str, lang: Lang) -> String {
    let k = match kind {
        "complaint" => TicketKind::Complaint,
        "fault" => TicketKind::Fault,
        "inquiry" => TicketKind::Inquiry,
        "service-order" => TicketKind::ServiceOrder,
        "suggestion" => TicketKind::Suggestion,
        other => return other.to_string(),
    };
    words::bilingual(&words::catalog().kind(k).name, lang)
}

/// A moment as month-day hh:mm in the hotline's zone.
pub fn clock(secs: i64) -> String {
    in_zone(secs, "%m-%d %H:%M")
}

/// A day as yyyy-mm-dd in the hotline's zone.
pub fn day_of(secs: i64) -> String {
    in_zone(secs, "%Y-%m-%d")
}

fn in_zone(secs: i64, format: &str) -> String {
    let Ok(at) = jiff::Timestamp::from_second(secs) else {
        return String::new();
    };
    let zone = jiff::tz::db()
        .get("Asia/Shanghai")
        .unwrap_or(jiff::tz::TimeZone::UTC);
    at.to_zoned(zone).strftime(format).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-02 10:30 in Beijing
    const NOW: i64 = 1_796_178_600;

    #[test]
    fn periods_are_counted_in_the_hotlines_days() {
        let (from, to) = Period::Today.range(NOW);
        assert_eq!(clock(from), "12-02 00:00");
        assert!(to > NOW);
        let (from, to) = Period::Yesterday.range(NOW);
        assert_eq!(
            (clock(from), clock(to)),
            ("12-01 00:00".into(), "12-02 00:00".into())
        );
        assert_eq!(day_of(Period::Week.range(NOW).0), "2026-11-26");
        assert_eq!(Period::Today.minutes(), 15);
        assert_eq!(Period::Month.minutes(), 60);
    }

    #[test]
    fn a_late_answer_to_an_older_question_is_dropped() {
        let mut r = Reports::default();
        let Some(Want::Load(first)) = r.update(Message::Kind(Kind::Reasons), NOW, Lang::Zh) else {
            panic!("a report is asked for");
        };
        let Some(Want::Load(second)) = r.update(Message::Period(Period::Week), NOW, Lang::Zh)
        else {
            panic!("asked again");
        };
        assert_eq!((first.kind, second.kind), (Kind::Reasons, Kind::Reasons));
        r.update(
            Message::Loaded(first.seq, Ok(Data::Reasons(vec![]))),
            NOW,
            Lang::Zh,
        );
        assert!(r.busy, "still waiting for the second");
        let row = pb::ReasonReportRow {
            reason: "fault.broadband".into(),
            zh: "宽带故障".into(),
            en: "broadband fault".into(),
            contacts: 12,
            repeat_rate: Some(8.3),
            ..Default::default()
        };
        r.update(
            Message::Loaded(second.seq, Ok(Data::Reasons(vec![row]))),
            NOW,
            Lang::Zh,
        );
        assert!(!r.busy);
        let (head, rows) = r.table(Lang::Zh);
        assert_eq!(head[0], "原因");
        assert_eq!(rows[0][0], "宽带故障");
        assert_eq!(rows[0][5], "8.3%");
        assert_eq!(r.table(Lang::En).1[0][0], "broadband fault");
        // an error keeps the rows and says why
        let Some(Want::Load(third)) = r.update(Message::Refresh, NOW, Lang::Zh) else {
            panic!()
        };
        r.update(Message::Loaded(third.seq, Err("no".into())), NOW, Lang::Zh);
        assert_eq!(r.notice.as_deref(), Some("no"));
        assert!(matches!(r.data, Data::Reasons(ref v) if v.len() == 1));
    }

    #[test]
    fn agents_rank_by_the_chosen_figure_and_the_export_is_quoted_csv() {
        let agent = |id: &str, answered: u64, aht: f64| pb::AgentReportRow {
            agent: id.into(),
            answered,
            aht_seconds: Some(aht),
            ..Default::default()
        };
        let mut r = Reports {
            kind: Kind::Agents,
            data: Data::Agents(vec![agent("1001", 5, 300.0), agent("1002", 9, 400.0)]),
            covers: (NOW - 3600, NOW),
            ..Reports::default()
        };
        assert_eq!(r.table(Lang::Zh).1[0][0], "1002", "most answered first");
        assert_eq!(r.update(Message::Rank(Rank::Aht), NOW, Lang::Zh), None);
        assert_eq!(
            r.table(Lang::Zh).1[0][0],
            "1001",
            "shortest handle time first"
        );
        let Some(Want::Export(name, text)) = r.update(Message::Export, NOW, Lang::Zh) else {
            panic!("an export")
        };
        assert_eq!(name, "hotline-agents-20261202.csv");
        let mut lines = text.lines();
        assert!(
            lines.next().unwrap().starts_with("坐席,振铃,接听"),
            "{text}"
        );
        assert!(lines.next().unwrap().starts_with("1001,"), "{text}");
        // a cell with a comma is quoted
        r.data = Data::Hotspots(vec![pb::HotspotRow {
            district: "西湖区".into(),
            top: vec![
                pb::NamedCount {
                    name: "repair-delay".into(),
                    count: 3,
                },
                pb::NamedCount {
                    name: "x,y".into(),
                    count: 1,
                },
            ],
            ..Default::default()
        }]);
        assert!(
            r.csv(Lang::Zh).contains("\"维修超时 3、x,y 1\""),
            "{}",
            r.csv(Lang::Zh)
        );
    }
}
