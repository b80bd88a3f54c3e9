//! The supervisor's wallboard as plain state: queues, agents and back-office loads from
//! the statistics stream, an hour of history per queue for the chart, the agent table's
//! sort order, the alarms standing, the area incidents open and the supervisor's draft of
//! a new one. [`Wallboard::update`] applies a message; no I/O here.

use hotline_proto::v1 as pb;
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// How much history the chart keeps.
pub const HISTORY: Duration = Duration::from_secs(3600);

/// One chart point per queue per this much time (the latest figures win), so an hour is
/// at most 360 points a queue however often statistics arrive.
pub const SAMPLE: Duration = Duration::from_secs(10);

/// One point of a queue's history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// When (this desk's clock).
    pub at: Instant,
    /// Calls waiting.
    pub waiting: u32,
    /// Service level then, if any call was decided yet.
    pub service_level: Option<f64>,
}

/// Column the agent table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// Work number.
    #[default]
    Agent,
    /// State, then time in state.
    State,
    /// Time in state, longest first.
    InState,
    /// Calls handled, most first.
    Handled,
}

/// The wallboard.
#[derive(Debug, Clone, Default)]
pub struct Wallboard {
    /// Queues by name, latest figures.
    pub queues: BTreeMap<String, pb::QueueStats>,
    /// Agents by work number, latest status, and when it was received.
    pub agents: BTreeMap<String, (pb::AgentStatus, Instant)>,
    /// Back-office groups: open and overdue tickets.
    pub back_office: Vec<pb::BackOfficeLoad>,
    /// The router's customer store, as last told.
    pub store: Option<pb::StoreStatus>,
    /// First-contact resolution by queue and by agent, as last told.
    pub fcr: Vec<pb::FcrFigures>,
    /// The alarms standing, by queue and rule.
    pub alarms: BTreeMap<(String, String), pb::Alarm>,
    /// The fault-surge alarms standing, by district and 小区.
    pub area_alarms: BTreeMap<(String, String), pb::AreaAlarm>,
    /// The area incidents open, newest first.
    pub incidents: Vec<pb::Incident>,
    /// An incident the supervisor is about to declare.
    pub draft: Option<IncidentDraft>,
    /// What is wrong with the draft (a words key).
    pub draft_error: Option<&'static str>,
    /// History per queue, oldest first, at most [`HISTORY`] long.
    pub history: BTreeMap<String, VecDeque<Point>>,
    /// The floor as a whole (calls waiting in all queues, mean service level of the
    /// queues that have one): what the chart draws.
    pub total: VecDeque<Point>,
    /// Agent table order.
    pub sort: SortBy,
    /// Lost the stream: attempt and why (None while live).
    pub lost: Option<(u32, String)>,
    /// The last thing to tell the supervisor.
    pub notice: Option<String>,
}

/// What happened on the wallboard.
#[derive(Debug, Clone)]
pub enum Message {
    /// Statistics arrived.
    Update(Box<pb::StatsUpdate>),
    /// The stream was lost (attempt, why).
    Lost(u32, String),
    /// Sort the agent table.
    Sort(SortBy),
    /// Force an agent not ready.
    ForceNotReady(String),
    /// Force an agent out.
    ForceLogout(String),
    /// A force command came back (agent, or the router's words).
    Steered(Result<String, String>),
    /// Draft an incident for an alarmed area (district, 小区).
    Draft(String, String),
    /// The draft's field changed.
    DraftEdit(DraftField, String),
    /// Declare the draft.
    Declare,
    /// Drop the draft.
    DraftCancel,
    /// Move an open incident's expected restore time an hour later.
    Later(u64),
    /// End an open incident: fixed.
    End(u64),
}

/// A field of the incident draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftField {
    /// The message in Chinese.
    MessageZh,
    /// The message in English.
    MessageEn,
    /// Hours until service is expected back.
    Hours,
}

/// An incident as the supervisor drafts it from an area alarm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentDraft {
    /// District.
    pub district: String,
    /// 小区.
    pub area: String,
    /// What is down (a fault subcategory: the alarm's most frequent, else broadband).
    pub kind: String,
    /// The alarm's first call (the outage's start), Unix seconds.
    pub started: Option<i64>,
    /// What callers hear, in Chinese.
    pub message_zh: String,
    /// What callers hear, in English.
    pub message_en: String,
    /// Hours until service is expected back, as typed.
    pub hours: String,
}

impl IncidentDraft {
    /// The request it makes at `now` (Unix seconds), or what is wrong with it.
    pub fn request(&self, now: i64) -> Result<pb::DeclareIncidentRequest, &'static str> {
        let hours: f64 = self.hours.trim().parse().map_err(|_| "inc.bad_hours")?;
        if !(hours > 0.0 && hours <= 336.0) {
            return Err("inc.bad_hours");
        }
        if self.message_zh.trim().is_empty() || self.message_en.trim().is_empty() {
            return Err("inc.both_languages");
        }
        let at = |s: i64| prost_types::Timestamp {
            seconds: s,
            nanos: 0,
        };
        Ok(pb::DeclareIncidentRequest {
            district: self.district.clone(),
            area: self.area.clone(),
            kind: self.kind.clone(),
            started_at: self.started.map(at),
            expected_restore_at: Some(at(now + (hours * 3600.0) as i64)),
            message_zh: self.message_zh.clone(),
            message_en: self.message_en.clone(),
        })
    }
}

/// A command the app must send for the wallboard.
#[derive(Debug, Clone, PartialEq)]
pub enum Steer {
    /// Not ready.
    NotReady(String),
    /// Logout.
    Logout(String),
    /// Declare an incident.
    Declare(pb::DeclareIncidentRequest),
    /// Change an incident.
    Update(pb::UpdateIncidentRequest),
    /// End an incident.
    End(pb::EndIncidentRequest),
}

/// A draft for an alarmed area: the kind its calls name most (a fault subcategory),
/// the alarm's first call as the start, a message naming the area, four hours.
fn draft(district: String, area: String, alarm: Option<&pb::AreaAlarm>) -> IncidentDraft {
    let catalog = crate::words::catalog();
    let fault = catalog.kind(hotline_catalog::TicketKind::Fault);
    let kind = alarm
        .and_then(|a| {
            a.top
                .iter()
                .find(|t| fault.subcategories.iter().any(|s| s.id == t.code))
        })
        .map_or("broadband-down".to_string(), |t| t.code.clone());
    let (zh, en) = fault
        .subcategories
        .iter()
        .find(|s| s.id == kind)
        .map_or(("网络障碍", "network outage"), |s| s.names());
    IncidentDraft {
        message_zh: format!("{district}{area}{zh}，维修人员正在抢修"),
        message_en: format!("{en} in {area}, {district}; the repair crew is on it"),
        district,
        area,
        kind,
        started: alarm.and_then(|a| a.first_call_at.as_ref().map(|t| t.seconds)),
        hours: "4".into(),
    }
}

/// Add a point to a history: within the last point's sample period it only updates
/// that point's figures; points older than [`HISTORY`] go.
fn record(h: &mut VecDeque<Point>, point: Point) {
    match h.back_mut() {
        Some(last) if point.at.duration_since(last.at) < SAMPLE => {
            last.waiting = point.waiting;
            last.service_level = point.service_level;
        }
        _ => h.push_back(point),
    }
    while h
        .front()
        .is_some_and(|p| point.at.duration_since(p.at) > HISTORY)
    {
        h.pop_front();
    }
}

fn seconds(d: &Option<prost_types::Duration>) -> f64 {
    d.as_ref()
        .map(|d| d.seconds as f64 + d.nanos as f64 / 1e9)
        .unwrap_or(0.0)
}

impl Wallboard {
    /// Apply a message; a command to send, if it asks for one.
    pub fn update(&mut self, m: Message, now: Instant) -> Option<Steer> {
        match m {
            Message::Update(u) => {
                self.lost = None;
                for q in u.queues {
                    let h = self.history.entry(q.queue.clone()).or_default();
                    let point = Point {
                        at: now,
                        waiting: q.waiting,
                        service_level: q.service_level,
                    };
                    record(h, point);
                    self.queues.insert(q.queue.clone(), q);
                }
                let sls: Vec<f64> = self
                    .queues
                    .values()
                    .filter_map(|q| q.service_level)
                    .collect();
                record(
                    &mut self.total,
                    Point {
                        at: now,
                        waiting: self.queues.values().map(|q| q.waiting).sum(),
                        service_level: (!sls.is_empty())
                            .then(|| sls.iter().sum::<f64>() / sls.len() as f64),
                    },
                );
                for a in u.agents {
                    self.agents.insert(a.agent_id.clone(), (a, now));
                }
                if !u.back_office.is_empty() {
                    self.back_office = u.back_office;
                }
                if !u.fcr.is_empty() {
                    self.fcr = u.fcr;
                }
                if u.store.is_some() {
                    self.store = u.store;
                }
                for a in u.alarms {
                    let key = (a.queue.clone(), a.rule.clone());
                    let cleared = a.cleared_at.is_some();
                    standing(&mut self.alarms, key, a, cleared);
                }
                for a in u.area_alarms {
                    let key = (a.district.clone(), a.area.clone());
                    let cleared = a.cleared_at.is_some();
                    standing(&mut self.area_alarms, key, a, cleared);
                }
                if let Some(list) = u.incidents {
                    self.incidents = list.incidents;
                }
            }
            Message::Draft(district, area) => {
                let alarm = self.area_alarms.get(&(district.clone(), area.clone()));
                self.draft = Some(draft(district, area, alarm));
            }
            Message::DraftEdit(field, value) => {
                if let Some(d) = &mut self.draft {
                    match field {
                        DraftField::MessageZh => d.message_zh = value,
                        DraftField::MessageEn => d.message_en = value,
                        DraftField::Hours => d.hours = value,
                    }
                }
            }
            Message::DraftCancel => {
                self.draft = None;
                self.draft_error = None;
            }
            Message::Declare => {
                let d = self.draft.as_ref()?;
                match d.request(crate::words::unix_now()) {
                    Ok(r) => {
                        self.draft = None;
                        self.draft_error = None;
                        return Some(Steer::Declare(r));
                    }
                    Err(why) => self.draft_error = Some(why),
                }
            }
            Message::Later(id) => {
                let i = self.incidents.iter().find(|i| i.id == id)?;
                let at = i.expected_restore_at.as_ref()?;
                return Some(Steer::Update(pb::UpdateIncidentRequest {
                    id,
                    expected_restore_at: Some(prost_types::Timestamp {
                        seconds: at.seconds + 3600,
                        nanos: 0,
                    }),
                    ..Default::default()
                }));
            }
            Message::End(id) => {
                return Some(Steer::End(pb::EndIncidentRequest {
                    id,
                    resolution_code: "repaired".into(),
                    note: "故障已修复，服务恢复 (service restored)".into(),
                }));
            }
            Message::Lost(n, why) => self.lost = Some((n, why)),
            Message::Sort(s) => self.sort = s,
            Message::ForceNotReady(a) => return Some(Steer::NotReady(a)),
            Message::ForceLogout(a) => return Some(Steer::Logout(a)),
            Message::Steered(r) => {
                self.notice = r.err();
            }
        }
        None
    }

    /// A queue's (or, with `agent`, an agent's) FCR: claimed share of handled, verified
    /// share of the settled claims.
    pub fn fcr_of(&self, queue: &str, agent: &str) -> Option<(String, String)> {
        use crate::words::percent;
        let f = self
            .fcr
            .iter()
            .find(|f| f.queue == queue && f.agent_id == agent)?;
        Some((
            percent(f.claimed, f.handled),
            percent(f.verified, f.verified + f.not_resolved),
        ))
    }

    /// Seconds an agent has been in their state now (the router's figure plus the time
    /// since it arrived).
    pub fn in_state(&self, agent: &str, now: Instant) -> f64 {
        self.agents
            .get(agent)
            .map(|(a, at)| seconds(&a.in_state) + now.duration_since(*at).as_secs_f64())
            .unwrap_or(0.0)
    }

    /// The agents in table order.
    pub fn agent_rows(&self, now: Instant) -> Vec<&pb::AgentStatus> {
        let mut rows: Vec<&pb::AgentStatus> = self.agents.values().map(|(a, _)| a).collect();
        match self.sort {
            SortBy::Agent => {}
            SortBy::State => rows.sort_by(|a, b| {
                a.state.cmp(&b.state).then(
                    self.in_state(&b.agent_id, now)
                        .total_cmp(&self.in_state(&a.agent_id, now)),
                )
            }),
            SortBy::InState => rows.sort_by(|a, b| {
                self.in_state(&b.agent_id, now)
                    .total_cmp(&self.in_state(&a.agent_id, now))
            }),
            SortBy::Handled => rows.sort_by_key(|a| std::cmp::Reverse(a.handled)),
        }
        rows
    }

    /// The alarms standing on a queue.
    pub fn alarms_of<'a>(&'a self, queue: &'a str) -> impl Iterator<Item = &'a pb::Alarm> + 'a {
        self.alarms
            .range((queue.to_string(), String::new())..)
            .take_while(move |((q, _), _)| q == queue)
            .map(|(_, a)| a)
    }

    /// Queue figures in words for a row: (waiting, longest wait s, SL, ASA s, AHT s,
    /// abandon rate, below target).
    pub fn queue_row(q: &pb::QueueStats) -> (u32, f64, Option<f64>, f64, f64, f64, bool) {
        let below = q
            .service_level
            .is_some_and(|sl| sl < q.service_level_target);
        (
            q.waiting,
            seconds(&q.longest_wait),
            q.service_level,
            seconds(&q.asa),
            seconds(&q.aht),
            q.abandon_rate,
            below,
        )
    }
}

/// Keep an alarm's latest news: standing until it says it cleared.
fn standing<T>(
    alarms: &mut BTreeMap<(String, String), T>,
    key: (String, String),
    news: T,
    cleared: bool,
) {
    if cleared {
        alarms.remove(&key);
    } else {
        alarms.insert(key, news);
    }
}
