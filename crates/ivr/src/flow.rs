//! IVR flows as an operator writes them (TOML in `assets/ivr/`), and their validation.
//! Every error names the file, the node and the field.

use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use thiserror::Error;

/// A flow file that cannot be used, in words that point at the place to fix.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FlowError {
    /// The file cannot be read.
    #[error("{file}: cannot be read: {why}")]
    Unreadable {
        /// The file.
        file: String,
        /// Why.
        why: String,
    },
    /// The file is not valid TOML for a flow.
    #[error("{file}: {why}")]
    Syntax {
        /// The file.
        file: String,
        /// The parser's message (with line and column).
        why: String,
    },
    /// A node's field is wrong.
    #[error("{file}: node '{node}', field '{field}': {why}")]
    Invalid {
        /// The file.
        file: String,
        /// The node id ("(flow)" for top-level fields).
        node: String,
        /// The field.
        field: String,
        /// What is wrong.
        why: String,
    },
}

/// A prompt in both languages of the hotline.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prompt {
    /// Chinese (zh-CN).
    pub zh: String,
    /// English.
    pub en: String,
    /// How long each language's recording plays, seconds; absent: estimated from the
    /// text ([`estimate_seconds`]).
    #[serde(default)]
    pub seconds: Option<PromptSeconds>,
    /// The playing time in ms, zh and en, worked out once when the flow is loaded.
    #[serde(skip)]
    pub(crate) millis: Option<[u32; 2]>,
}

/// A prompt's playing time per language, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptSeconds {
    /// The Chinese recording.
    pub zh: f64,
    /// The English recording.
    pub en: f64,
}

impl Prompt {
    /// A prompt with the same words in both languages (the driver's own words) and its
    /// time estimated.
    pub fn both(text: &str) -> Prompt {
        Prompt {
            zh: text.to_string(),
            en: text.to_string(),
            seconds: None,
            millis: None,
        }
    }

    /// Work out the playing times once (see [`crate::Lang::millis`]).
    fn time(&mut self) {
        let ms = |given: Option<f64>, text: &str| {
            (given.unwrap_or_else(|| estimate_seconds(text)) * 1000.0).round() as u32
        };
        self.millis = Some([
            ms(self.seconds.map(|t| t.zh), &self.zh),
            ms(self.seconds.map(|t| t.en), &self.en),
        ]);
    }
}

impl NodeKind {
    /// Every prompt of the node.
    fn prompts_mut(&mut self) -> Vec<&mut Prompt> {
        match self {
            NodeKind::Play { prompt, .. }
            | NodeKind::Menu { prompt, .. }
            | NodeKind::Collect { prompt, .. }
            | NodeKind::Hangup { prompt } => vec![prompt],
            NodeKind::Queue { prompt, .. } => prompt.iter_mut().collect(),
            NodeKind::SelfService {
                success, failure, ..
            } => vec![success, failure],
            NodeKind::Survey { prompt, thanks, .. } => vec![prompt, thanks],
            NodeKind::Outage {
                prompt, notified, ..
            } => vec![prompt, notified],
            NodeKind::Language { .. } | NodeKind::Information { .. } => Vec::new(),
        }
    }
}

/// How long a text takes to say when no recording time is given: a Chinese character a
/// quarter second (about 240 a minute, the pace of a hotline's recordings), an English
/// word 0.4 s (150 words a minute), each digit 0.3 s (read one by one), a pause of 0.2 s
/// at each punctuation mark, a filled-in `{field}` one second.
pub fn estimate_seconds(text: &str) -> f64 {
    let mut seconds = 0.0;
    let mut in_word = false;
    let mut in_field = false;
    for c in text.chars() {
        if in_field {
            in_field = c != '}';
            continue;
        }
        let letter = c.is_ascii_alphabetic() || c == '\'';
        if letter && !in_word {
            seconds += 0.4;
        }
        in_word = letter;
        seconds += match c {
            '{' => {
                in_field = true;
                1.0
            }
            '0'..='9' => 0.3,
            '，' | '。' | '；' | '：' | '、' | '！' | '？' | ',' | '.' | ';' | ':' | '!' | '?' => {
                0.2
            }
            c if (c as u32) >= 0x2E80 => 0.25,
            _ => 0.0,
        };
    }
    seconds
}

/// Self-service actions the router performs against the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    /// 话费查询: balance, this month's charges, arrears.
    Bill,
    /// 工单进度查询: status of a ticket by its number (the digits collected).
    TicketProgress,
    /// 增值业务开通: a value-added service order (creates a service-order ticket).
    ValueAddedSignup,
    /// 障碍申报 without an agent (creates a fault ticket).
    FaultReport,
    /// 修复后通知: a caller of an area with an open incident asks to be told when it is
    /// fixed (the input is the incident's number; creates a ticket linked to it).
    OutageNotify,
}

/// What a node does.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum NodeKind {
    /// Play a prompt, then go on.
    Play {
        /// What to say.
        prompt: Prompt,
        /// Next node; absent: hang up.
        next: Option<String>,
    },
    /// Play a prompt and wait for one digit.
    Menu {
        /// The menu.
        prompt: Prompt,
        /// Digit → node.
        digits: BTreeMap<String, String>,
        /// Seconds to wait for a digit.
        #[serde(default = "eight")]
        timeout_seconds: u32,
        /// Tries before giving up (wrong digit or silence).
        #[serde(default = "three")]
        retries: u32,
        /// Said after a wrong digit or silence, before the menu again.
        #[serde(default)]
        retry_prompt: Option<Prompt>,
        /// Where to go when the tries run out.
        on_fail: String,
    },
    /// Play a prompt and collect several digits (a ticket number …), ended by `#` or by
    /// reaching `max_digits`.
    Collect {
        /// What to ask.
        prompt: Prompt,
        /// Longest input.
        max_digits: u32,
        /// Seconds to wait for the whole input.
        #[serde(default = "fifteen")]
        timeout_seconds: u32,
        /// Then.
        next: String,
        /// When nothing usable was entered.
        on_fail: String,
    },
    /// A self-service action on the store; the digits collected last are its input.
    SelfService {
        /// Which.
        service: Service,
        /// Said on success; `{name}` fields are filled from the result.
        success: Prompt,
        /// Said when it fails (not found, not a customer …); `{reason}` is filled in.
        failure: Prompt,
        /// After success.
        next: String,
        /// After failure.
        on_fail: String,
    },
    /// Hand the call to a queue (the routing core takes over).
    Queue {
        /// Queue name, as configured in the router.
        queue: String,
        /// Priority class (key accounts on the green channel above public customers).
        #[serde(default)]
        priority: u8,
        /// Reason code recorded on the call (FCR repeats are matched on it).
        reason: String,
        /// Said before queueing.
        prompt: Option<Prompt>,
        /// Outside business hours.
        closed: Option<String>,
    },
    /// Switch the language of the rest of the call.
    Language {
        /// "zh" or "en".
        set: String,
        /// Then.
        next: String,
    },
    /// Post-call satisfaction survey: one digit 1–5.
    Survey {
        /// The question.
        prompt: Prompt,
        /// Said after an answer.
        thanks: Prompt,
        /// Seconds to wait.
        #[serde(default = "eight")]
        timeout_seconds: u32,
    },
    /// Say goodbye and hang up.
    Hangup {
        /// The goodbye.
        prompt: Prompt,
    },
    /// Read out an answer from an information file (tariffs, packages, promotions, shop
    /// hours …), then go on.
    Information {
        /// The information file, relative to the flow file (`../info/1000.toml`).
        source: String,
        /// The answer's id in it.
        topic: String,
        /// Then (usually a menu: back, an agent, or goodbye).
        next: String,
    },
    /// 区域障碍 notice: when an incident is open for the caller's area (the driver says
    /// whether one is), tell them and offer to notify them when it is fixed; otherwise
    /// go straight on.
    Outage {
        /// Said when an incident is open: `{message}` (the incident's own words) and
        /// `{restore}` (expected restore time, local "HH:MM", with the date when not
        /// today) are filled in.
        prompt: Prompt,
        /// The key that asks to be told when it is fixed.
        #[serde(default = "one")]
        notify_key: String,
        /// Said once the request is recorded; `{ticket}` is its ticket number.
        notified: Prompt,
        /// After the request is recorded (a goodbye).
        after_notify: String,
        /// No incident, another key, silence, or the request not recorded: go on here.
        next: String,
        /// Seconds to wait for the key.
        #[serde(default = "eight")]
        timeout_seconds: u32,
    },
}

/// The answers of information nodes, as an operator writes them (TOML in
/// `assets/info/`): tariffs, packages, promotions, shop hours … in both languages.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfoFile {
    /// The answers.
    #[serde(rename = "topic")]
    pub topics: Vec<Topic>,
}

/// One answer an information node reads out.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// What a node names it by.
    pub id: String,
    /// What it is about ("资费" / "tariffs").
    pub title: Prompt,
    /// What the caller hears.
    pub text: Prompt,
}

/// The information files built in beside [`crate::BUILTIN_1000`], by the path a flow
/// names them with.
const BUILTIN_INFO: &[(&str, &str)] = &[(
    "../info/1000.toml",
    include_str!("../../../assets/info/1000.toml"),
)];

fn one() -> String {
    "1".into()
}

fn eight() -> u32 {
    8
}
fn three() -> u32 {
    3
}
fn fifteen() -> u32 {
    15
}

/// One node. (Unknown fields are refused by [`NodeKind`]: serde cannot combine
/// `deny_unknown_fields` with `flatten` on this struct itself.)
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Node {
    /// Unique id.
    pub id: String,
    /// What an agent reads for it on the screen pop's IVR path ("故障菜单").
    #[serde(default)]
    pub label: Option<Prompt>,
    /// Behaviour.
    #[serde(flatten)]
    pub kind: NodeKind,
}

/// Opening hours of the agents (self-service works around the clock).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    /// Local opening time "HH:MM" (equal to `close`: around the clock).
    pub open: String,
    /// Local closing time "HH:MM" (before `open`: the hours span midnight).
    pub close: String,
    /// Offset of local time from UTC in minutes (China: 480).
    pub utc_offset_minutes: i32,
}

/// Announcements the router makes around the queue.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Announcements {
    /// Position and wait; `{position}`, `{minutes}`.
    pub queue_position: Prompt,
    /// Callback offer ("press 1 …").
    pub callback_offer: Prompt,
    /// Callback confirmed.
    pub callback_confirmed: Prompt,
}

/// A whole flow as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowFile {
    /// Title.
    pub name: String,
    /// Number this flow answers ("1000").
    pub number: String,
    /// First node for public callers.
    pub start: String,
    /// First node for key accounts (the green channel).
    pub key_account_start: String,
    /// The post-call survey node.
    pub survey: String,
    /// Agents' hours.
    pub hours: Hours,
    /// Queue announcements.
    pub announcements: Announcements,
    /// The nodes.
    #[serde(rename = "node")]
    pub nodes: Vec<Node>,
}

/// Where a node leads, as node indices.
#[derive(Debug, Clone, Default)]
pub(crate) struct Links {
    /// `next` (play, collect, self-service, language, information, outage).
    pub next: Option<usize>,
    /// `on_fail` (menu, collect, self-service).
    pub fail: Option<usize>,
    /// `closed` (queue) or `after_notify` (outage).
    pub other: Option<usize>,
    /// A menu's keys (one byte each, as validated) and where they lead.
    pub keys: Vec<(u8, usize)>,
}

impl Links {
    /// The node a menu key leads to (a key of more than one digit leads nowhere).
    pub fn key(&self, d: &str) -> Option<usize> {
        match d.as_bytes() {
            [b] => self.keys.iter().find(|(k, _)| k == b).map(|(_, to)| *to),
            _ => None,
        }
    }
}

fn links(n: &NodeKind, index: &BTreeMap<String, usize>) -> Links {
    let at = |id: &String| index.get(id).copied();
    let mut l = Links::default();
    match n {
        NodeKind::Play { next, .. } => l.next = next.as_ref().and_then(at),
        NodeKind::Menu {
            digits, on_fail, ..
        } => {
            l.fail = at(on_fail);
            l.keys = digits
                .iter()
                .filter_map(|(k, to)| Some((*k.as_bytes().first()?, at(to)?)))
                .collect();
        }
        NodeKind::Collect { next, on_fail, .. } | NodeKind::SelfService { next, on_fail, .. } => {
            l.next = at(next);
            l.fail = at(on_fail);
        }
        NodeKind::Queue { closed, .. } => l.other = closed.as_ref().and_then(at),
        NodeKind::Language { next, .. } | NodeKind::Information { next, .. } => l.next = at(next),
        NodeKind::Outage {
            next, after_notify, ..
        } => {
            l.next = at(next);
            l.other = at(after_notify);
        }
        NodeKind::Survey { .. } | NodeKind::Hangup { .. } => {}
    }
    l
}

/// A validated flow, ready to interpret.
#[derive(Debug, Clone)]
pub struct Flow {
    pub(crate) file: FlowFile,
    pub(crate) index: BTreeMap<String, usize>,
    /// Node ids by index, shared with the actions that name them.
    pub(crate) ids: Vec<std::sync::Arc<str>>,
    /// Where each node leads, by index (worked out once, so a session never looks a
    /// node up by its name).
    pub(crate) links: Vec<Links>,
    /// Each information node's answer, read from its file.
    pub(crate) answers: BTreeMap<String, Topic>,
    pub(crate) open_minute: u32,
    pub(crate) close_minute: u32,
}

fn minutes(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.trim().parse().ok()?, m.trim().parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

impl Flow {
    /// A step of a session's path (a node id, or "key 2") in words, both languages: the
    /// node's label, or the keys pressed. None for a node without a label.
    pub fn step_words(&self, step: &str) -> Option<Prompt> {
        if let Some(keys) = step.strip_prefix("key ") {
            return Some(Prompt {
                zh: format!("按{keys}"),
                en: format!("key {keys}"),
                seconds: None,
                millis: None,
            });
        }
        self.find(step).and_then(|n| n.label.clone())
    }

    /// Read and validate a flow file; `queues` are the queue names the router has. Its
    /// information files are read relative to it.
    pub fn load(path: &Path, queues: &[&str]) -> Result<Flow, FlowError> {
        let text = std::fs::read_to_string(path).map_err(|e| FlowError::Unreadable {
            file: path.display().to_string(),
            why: e.to_string(),
        })?;
        Flow::parse_at(path, &text, queues)
    }

    /// Parse and validate the text of the flow file at `path` (already read), reading
    /// its information files relative to it.
    pub fn parse_at(path: &Path, text: &str, queues: &[&str]) -> Result<Flow, FlowError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        Flow::parse_with(&path.display().to_string(), text, queues, &|source| {
            std::fs::read_to_string(dir.join(source)).map_err(|e| e.to_string())
        })
    }

    /// Parse and validate flow text; `file` names it in errors. Information files are
    /// the built-in ones (`../info/1000.toml`).
    pub fn parse(file: &str, text: &str, queues: &[&str]) -> Result<Flow, FlowError> {
        Flow::parse_with(file, text, queues, &|source| {
            BUILTIN_INFO
                .iter()
                .find(|(name, _)| *name == source)
                .map(|(_, text)| text.to_string())
                .ok_or_else(|| {
                    "not a built-in information file (a flow read from a file may name any)"
                        .to_string()
                })
        })
    }

    /// Parse and validate flow text, reading information files with `read` (a path as
    /// the flow names it → its text, or why not).
    pub fn parse_with(
        file: &str,
        text: &str,
        queues: &[&str],
        read: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<Flow, FlowError> {
        let f: FlowFile = toml::from_str(text).map_err(|e| FlowError::Syntax {
            file: file.to_string(),
            why: e.to_string(),
        })?;
        let err = |node: &str, field: &str, why: String| FlowError::Invalid {
            file: file.to_string(),
            node: node.to_string(),
            field: field.to_string(),
            why,
        };
        let mut index = BTreeMap::new();
        for (i, n) in f.nodes.iter().enumerate() {
            if n.id.trim().is_empty() {
                return Err(err("(unnamed)", "id", "is empty".into()));
            }
            if index.insert(n.id.clone(), i).is_some() {
                return Err(err(&n.id, "id", "is used by two nodes".into()));
            }
        }
        let target = |node: &str, field: &str, to: &str| -> Result<(), FlowError> {
            if index.contains_key(to) {
                Ok(())
            } else {
                Err(err(
                    node,
                    field,
                    format!("goes to '{to}', which is not a node"),
                ))
            }
        };
        target("(flow)", "start", &f.start)?;
        target("(flow)", "key_account_start", &f.key_account_start)?;
        target("(flow)", "survey", &f.survey)?;
        let open_minute = minutes(&f.hours.open)
            .ok_or_else(|| err("(flow)", "hours.open", "is not a time like 08:00".into()))?;
        let close_minute = minutes(&f.hours.close)
            .ok_or_else(|| err("(flow)", "hours.close", "is not a time like 22:00".into()))?;
        let prompt = |node: &str, field: &str, p: &Prompt| -> Result<(), FlowError> {
            if p.zh.trim().is_empty() || p.en.trim().is_empty() {
                return Err(err(node, field, "needs both zh and en text".into()));
            }
            if let Some(t) = p.seconds {
                for (lang, v) in [("zh", t.zh), ("en", t.en)] {
                    if !(v.is_finite() && v >= 0.0) {
                        return Err(err(
                            node,
                            &format!("{field}.seconds.{lang}"),
                            format!("{v} is not a playing time (seconds, zero or more)"),
                        ));
                    }
                }
            }
            Ok(())
        };
        let mut answers = BTreeMap::new();
        let mut info_files: BTreeMap<String, InfoFile> = BTreeMap::new();
        prompt(
            "(flow)",
            "announcements.queue_position",
            &f.announcements.queue_position,
        )?;
        prompt(
            "(flow)",
            "announcements.callback_offer",
            &f.announcements.callback_offer,
        )?;
        prompt(
            "(flow)",
            "announcements.callback_confirmed",
            &f.announcements.callback_confirmed,
        )?;
        for n in &f.nodes {
            let id = n.id.as_str();
            match &n.kind {
                NodeKind::Play { prompt: p, next } => {
                    prompt(id, "prompt", p)?;
                    if let Some(next) = next {
                        target(id, "next", next)?;
                    }
                }
                NodeKind::Menu {
                    prompt: p,
                    digits,
                    timeout_seconds,
                    retries,
                    retry_prompt,
                    on_fail,
                } => {
                    prompt(id, "prompt", p)?;
                    if let Some(r) = retry_prompt {
                        prompt(id, "retry_prompt", r)?;
                    }
                    if digits.is_empty() {
                        return Err(err(id, "digits", "a menu needs at least one choice".into()));
                    }
                    for (d, to) in digits {
                        if !(d.len() == 1 && matches!(d.as_bytes()[0], b'0'..=b'9' | b'*' | b'#')) {
                            return Err(err(
                                id,
                                &format!("digits.{d}"),
                                "a key is one of 0–9, * or #".into(),
                            ));
                        }
                        target(id, &format!("digits.{d}"), to)?;
                    }
                    if *timeout_seconds == 0 || *retries == 0 {
                        return Err(err(
                            id,
                            "timeout_seconds/retries",
                            "must be at least 1".into(),
                        ));
                    }
                    target(id, "on_fail", on_fail)?;
                }
                NodeKind::Collect {
                    prompt: p,
                    max_digits,
                    timeout_seconds,
                    next,
                    on_fail,
                } => {
                    prompt(id, "prompt", p)?;
                    if !(1..=32).contains(max_digits) {
                        return Err(err(id, "max_digits", "must be 1–32".into()));
                    }
                    if *timeout_seconds == 0 {
                        return Err(err(id, "timeout_seconds", "must be at least 1".into()));
                    }
                    target(id, "next", next)?;
                    target(id, "on_fail", on_fail)?;
                }
                NodeKind::SelfService {
                    success,
                    failure,
                    next,
                    on_fail,
                    ..
                } => {
                    prompt(id, "success", success)?;
                    prompt(id, "failure", failure)?;
                    target(id, "next", next)?;
                    target(id, "on_fail", on_fail)?;
                }
                NodeKind::Queue {
                    queue,
                    reason,
                    prompt: p,
                    closed,
                    ..
                } => {
                    if !queues.contains(&queue.as_str()) {
                        return Err(err(
                            id,
                            "queue",
                            format!(
                                "'{queue}' is not a queue of the router (it has: {})",
                                queues.join(", ")
                            ),
                        ));
                    }
                    if reason.trim().is_empty() {
                        return Err(err(id, "reason", "is empty".into()));
                    }
                    if let Some(p) = p {
                        prompt(id, "prompt", p)?;
                    }
                    if let Some(c) = closed {
                        target(id, "closed", c)?;
                    }
                }
                NodeKind::Language { set, next } => {
                    if set != "zh" && set != "en" {
                        return Err(err(id, "set", format!("'{set}' is not zh or en")));
                    }
                    target(id, "next", next)?;
                }
                NodeKind::Survey {
                    prompt: p,
                    thanks,
                    timeout_seconds,
                } => {
                    prompt(id, "prompt", p)?;
                    prompt(id, "thanks", thanks)?;
                    if *timeout_seconds == 0 {
                        return Err(err(id, "timeout_seconds", "must be at least 1".into()));
                    }
                }
                NodeKind::Hangup { prompt: p } => prompt(id, "prompt", p)?,
                NodeKind::Information {
                    source,
                    topic,
                    next,
                } => {
                    if !info_files.contains_key(source) {
                        let text = read(source).map_err(|why| {
                            err(id, "source", format!("cannot read '{source}': {why}"))
                        })?;
                        let info: InfoFile = toml::from_str(&text).map_err(|e| {
                            err(
                                id,
                                "source",
                                format!("'{source}' is not an information file: {e}"),
                            )
                        })?;
                        for t in &info.topics {
                            let place = format!("{source}: topic '{}'", t.id);
                            prompt(id, &format!("{place}, title"), &t.title)?;
                            prompt(id, &format!("{place}, text"), &t.text)?;
                        }
                        info_files.insert(source.clone(), info);
                    }
                    let found = info_files[source].topics.iter().find(|t| t.id == *topic);
                    let Some(found) = found else {
                        return Err(err(
                            id,
                            "topic",
                            format!("'{topic}' is not a topic of '{source}'"),
                        ));
                    };
                    answers.insert(id.to_string(), found.clone());
                    target(id, "next", next)?;
                }
                NodeKind::Outage {
                    prompt: p,
                    notify_key,
                    notified,
                    after_notify,
                    next,
                    timeout_seconds,
                } => {
                    prompt(id, "prompt", p)?;
                    prompt(id, "notified", notified)?;
                    if !(notify_key.len() == 1
                        && matches!(notify_key.as_bytes()[0], b'0'..=b'9' | b'*' | b'#'))
                    {
                        return Err(err(id, "notify_key", "is one of 0–9, * or #".into()));
                    }
                    if *timeout_seconds == 0 {
                        return Err(err(id, "timeout_seconds", "must be at least 1".into()));
                    }
                    target(id, "after_notify", after_notify)?;
                    target(id, "next", next)?;
                }
            }
        }
        // nodes that go on without waiting for the caller must not loop among themselves
        for n in &f.nodes {
            let mut seen = HashSet::new();
            let mut at = n.id.as_str();
            loop {
                if !seen.insert(at) {
                    return Err(err(
                        &n.id,
                        "next",
                        "leads round a loop that never waits for the caller".into(),
                    ));
                }
                let node = &f.nodes[index[at]];
                at = match &node.kind {
                    NodeKind::Play {
                        next: Some(next), ..
                    }
                    | NodeKind::Language { next, .. }
                    | NodeKind::Information { next, .. }
                    // with no incident for the caller's area it goes on at once
                    | NodeKind::Outage { next, .. } => next,
                    _ => break,
                };
            }
        }
        let mut f = f;
        for n in &mut f.nodes {
            for p in n.kind.prompts_mut() {
                p.time();
            }
        }
        let a = &mut f.announcements;
        for p in [
            &mut a.queue_position,
            &mut a.callback_offer,
            &mut a.callback_confirmed,
        ] {
            p.time();
        }
        for t in answers.values_mut() {
            t.text.time();
            t.title.time();
        }
        Ok(Flow {
            ids: f.nodes.iter().map(|n| n.id.as_str().into()).collect(),
            links: f.nodes.iter().map(|n| links(&n.kind, &index)).collect(),
            file: f,
            index,
            answers,
            open_minute,
            close_minute,
        })
    }

    /// The flow as written.
    pub fn file(&self) -> &FlowFile {
        &self.file
    }

    /// The index of the node with this id.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The flow with other agents' hours ("HH:MM"; equal: around the clock) — a
    /// simulated rota that differs from the one the flow was written for.
    pub fn with_hours(mut self, open: &str, close: &str) -> Result<Flow, FlowError> {
        let bad = |field: &str, v: &str| FlowError::Invalid {
            file: "(hours)".into(),
            node: "(flow)".into(),
            field: field.into(),
            why: format!("'{v}' is not a time like 08:00"),
        };
        self.open_minute = minutes(open).ok_or_else(|| bad("hours.open", open))?;
        self.close_minute = minutes(close).ok_or_else(|| bad("hours.close", close))?;
        self.file.hours.open = open.to_string();
        self.file.hours.close = close.to_string();
        Ok(self)
    }

    /// The id of the node at `index`, as the actions share it (the same allocation, so
    /// a driver may compare by pointer).
    pub fn node_id(&self, index: usize) -> Option<&std::sync::Arc<str>> {
        self.ids.get(index)
    }

    /// A copy that shares nothing with this one (its node ids allocated afresh), for a
    /// thread of its own.
    pub fn private_copy(&self) -> Flow {
        Flow {
            ids: self
                .ids
                .iter()
                .map(|id| std::sync::Arc::from(&**id))
                .collect(),
            ..self.clone()
        }
    }

    /// The node with this id.
    pub fn find(&self, id: &str) -> Option<&Node> {
        self.index.get(id).map(|&i| &self.file.nodes[i])
    }

    /// The answer an information node reads out.
    pub fn answer(&self, node: &str) -> Option<&Topic> {
        self.answers.get(node)
    }

    /// Whether agents are at work at `now_ms` (milliseconds since the Unix epoch). Equal
    /// opening and closing times mean around the clock; a closing time before the
    /// opening time spans midnight.
    pub fn open_at(&self, now_ms: u64) -> bool {
        let local = (now_ms / 60_000) as i64 + self.file.hours.utc_offset_minutes as i64;
        let m = local.rem_euclid(24 * 60) as u32;
        if self.open_minute == self.close_minute {
            true
        } else if self.open_minute < self.close_minute {
            (self.open_minute..self.close_minute).contains(&m)
        } else {
            m >= self.open_minute || m < self.close_minute
        }
    }
}
