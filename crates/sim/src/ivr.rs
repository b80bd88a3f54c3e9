//! The IVR in front of the queues: the router's own flow file, run by the production
//! interpreter (`hotline-ivr`) on the virtual clock, and simulated callers who listen to
//! the prompts, press keys, make mistakes, fall silent, use self-service, choose
//! English and hang up — per reason and segment, as the scenario's `[ivr]` says.
//!
//! ```toml
//! [ivr]
//! flow = "../ivr/1000.toml"          # absent: the router's built-in 1000 flow
//! agent_at_once = 0.08               # press 0 during the welcome, without listening
//! keys = { anything-else = { "9" = 0.7, "0" = 0.3 } }   # every reason, per menu
//! information = { info-tariffs = 0.7 }   # of those who hear it, need nothing more
//! [ivr.service.bill]
//! success = 0.92
//! seconds = { distribution = "constant", seconds = 2 }
//! [[ivr.caller]]
//! reason = "bill query"
//! keys = { welcome = { "5" = 0.85, "1" = 0.05, "0" = 0.10 } }
//! ```
//!
//! Every error names the scenario file, the node and the field.

use crate::SimError;
use crate::dist::{Duration, Sampler};
use hotline_acd::rng::Rng;
use hotline_ivr::{Flow, FlowFile, NodeKind, Service};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Choices per menu: node id → choice → share (a menu's shares add up to 1). A choice is
/// a key (`"5"`) or, better, the node it leads to (`"bill"`): written by what the caller
/// wants, it survives a menu that moves the choice to another key.
pub type Keys = BTreeMap<String, BTreeMap<String, f64>>;

/// `[ivr]` as written in a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IvrSpec {
    /// The flow file, relative to the scenario; absent: the router's built-in 1000 flow.
    #[serde(default)]
    pub flow: Option<String>,
    /// The flow file resolved (set on load, or by `--ivr`).
    #[serde(skip)]
    pub flow_path: Option<PathBuf>,
    /// Agents' hours for this run ("HH:MM", both or neither; equal: around the clock),
    /// instead of the flow's own `[hours]` — when the scenario's rota differs.
    #[serde(default)]
    pub open: Option<String>,
    /// See `open`.
    #[serde(default)]
    pub close: Option<String>,
    /// A queue the flow names → the scenario's queue; unlisted ones match a scenario
    /// queue whose name is the flow's (`green-channel` ~ `green channel 大客户`).
    #[serde(default)]
    pub queues: BTreeMap<String, String>,
    /// Share of callers who choose English at the first menu that offers it.
    #[serde(default = "english")]
    pub english: f64,
    /// At each menu: chance of a key the menu does not have.
    #[serde(default = "mistake")]
    pub mistake: f64,
    /// At each menu: chance of pressing nothing until the time-out.
    #[serde(default = "silence")]
    pub silence: f64,
    /// At each menu: chance of hanging up while it plays.
    #[serde(default = "hang_up")]
    pub hang_up: f64,
    /// Share of callers who press the agent key (0) at once at the first menu, during
    /// its prompt, without listening.
    #[serde(default = "agent_at_once")]
    pub agent_at_once: f64,
    /// At each menu: share of callers who press as soon as they hear their choice
    /// announced (the rest wait for the prompt to end) — what makes the order of a
    /// menu's choices matter.
    #[serde(default = "barge_in")]
    pub barge_in: f64,
    /// From a menu's prompt ending to the key.
    #[serde(default = "reaction")]
    pub reaction: Duration,
    /// Keying a number a collect node asks for (a ticket number).
    #[serde(default = "entry")]
    pub entry: Duration,
    /// Keys for every reason, per menu.
    #[serde(default)]
    pub keys: Keys,
    /// Per self-service (`bill`, `ticket-progress`, `value-added-signup`,
    /// `fault-report`, `outage-notify`): success and time.
    #[serde(default, rename = "service")]
    pub services: BTreeMap<String, ServiceSpec>,
    /// Per information node: the share of callers who hear it and need nothing more
    /// (they end the call at the next menu; the others ask for an agent).
    #[serde(default)]
    pub information: BTreeMap<String, f64>,
    /// Keys of one reason (and segment), overriding `keys` menu by menu.
    #[serde(default, rename = "caller")]
    pub callers: Vec<CallerSpec>,
}

fn english() -> f64 {
    0.02
}
fn mistake() -> f64 {
    0.03
}
fn silence() -> f64 {
    0.02
}
fn hang_up() -> f64 {
    0.01
}
fn agent_at_once() -> f64 {
    0.08
}
fn barge_in() -> f64 {
    0.5
}
fn reaction() -> Duration {
    Duration::Lognormal {
        mean_seconds: 1.8,
        sd_seconds: 1.0,
    }
}
fn entry() -> Duration {
    Duration::Lognormal {
        mean_seconds: 8.0,
        sd_seconds: 3.0,
    }
}

impl Default for IvrSpec {
    fn default() -> IvrSpec {
        IvrSpec {
            flow: None,
            flow_path: None,
            open: None,
            close: None,
            queues: BTreeMap::new(),
            english: english(),
            mistake: mistake(),
            silence: silence(),
            hang_up: hang_up(),
            agent_at_once: agent_at_once(),
            barge_in: barge_in(),
            reaction: reaction(),
            entry: entry(),
            keys: Keys::new(),
            services: BTreeMap::new(),
            information: BTreeMap::new(),
            callers: Vec::new(),
        }
    }
}

/// One self-service as callers meet it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Chance that it finds what the caller asks for.
    pub success: f64,
    /// Of those it served, the share who need nothing more (they end the call at the
    /// next menu; the others, and all it failed, ask for an agent there).
    #[serde(default = "done")]
    pub done: f64,
    /// How long the store takes to answer.
    #[serde(default = "service_time")]
    pub seconds: Duration,
}

fn done() -> f64 {
    0.8
}

fn service_time() -> Duration {
    Duration::Constant { seconds: 1.5 }
}

/// One reason's (and segment's) keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallerSpec {
    /// The reason's name.
    pub reason: String,
    /// Only callers of this segment; absent: every segment.
    #[serde(default)]
    pub segment: Option<String>,
    /// Overrides `[ivr] agent_at_once` for these callers.
    #[serde(default)]
    pub agent_at_once: Option<f64>,
    /// Key shares per menu.
    #[serde(default)]
    pub keys: Keys,
}

const SERVICES: [(Service, &str); 5] = [
    (Service::Bill, "bill"),
    (Service::TicketProgress, "ticket-progress"),
    (Service::ValueAddedSignup, "value-added-signup"),
    (Service::FaultReport, "fault-report"),
    (Service::OutageNotify, "outage-notify"),
];

/// A self-service's name as scenarios and reports write it.
pub fn service_name(s: Service) -> &'static str {
    SERVICES
        .iter()
        .find(|(x, _)| *x == s)
        .map_or("self-service", |(_, n)| n)
}

fn service_index(s: Service) -> usize {
    SERVICES.iter().position(|(x, _)| *x == s).unwrap_or(0)
}

#[derive(Debug, Clone)]
pub(crate) struct ServiceModel {
    pub success: f64,
    pub done: f64,
    pub seconds: Sampler,
}

/// What a caller can do at one menu node.
#[derive(Debug, Clone)]
pub(crate) struct Menu {
    /// The key that ends the call (leads to a goodbye), if any.
    to_goodbye: Option<u8>,
    /// The key for an agent: `0`, or the first that leads to a queue.
    to_agent: Option<u8>,
    /// The key that switches to English, if any.
    to_english: Option<u8>,
    /// A key the menu does not have (for mistakes).
    wrong: u8,
    /// Key → how far into the prompt its choice has been announced (0–1), in Chinese
    /// and in English.
    heard: Vec<(u8, [f64; 2])>,
    /// More than one digit (a ticket number), not a menu.
    collect: bool,
    /// An outage notice: its notify key.
    notify: Option<u8>,
}

/// A menu's keys with their cumulative shares.
type KeyShares = Vec<(u8, f64)>;

/// Keys of one (reason, segment), per menu: cumulative shares.
#[derive(Debug, Clone, Default)]
pub(crate) struct Behaviour {
    agent_at_once: f64,
    /// By node index.
    keys: Vec<Option<KeyShares>>,
}

/// An `[ivr]` ready to run.
#[derive(Debug, Clone)]
pub struct IvrPlan {
    /// The flow.
    pub flow: Arc<Flow>,
    /// Its file (or "built-in 1000 flow").
    pub flow_name: String,
    /// The flow's queue names and the scenario queue each goes to.
    pub(crate) queue_of: Vec<(String, usize)>,
    /// By node index: what a caller can do there (menus, collects, outage notices).
    pub(crate) menus: Vec<Option<Menu>>,
    pub(crate) behaviours: Vec<Behaviour>,
    pub(crate) segments: usize,
    pub(crate) english: f64,
    pub(crate) mistake: f64,
    pub(crate) barge_in: f64,
    pub(crate) silence: f64,
    pub(crate) hang_up: f64,
    pub(crate) reaction: Sampler,
    pub(crate) entry: Sampler,
    pub(crate) services: Vec<ServiceModel>,
    /// Information nodes (their ids, as the session's prompts name them) and the share
    /// of callers each satisfies.
    pub(crate) information: Vec<(Arc<str>, f64)>,
    /// Milliseconds since the Unix epoch of the run's 00:00 local time (the flow's hours
    /// are local).
    pub(crate) epoch_ms: u64,
}

fn norm(s: &str) -> String {
    s.to_lowercase().replace(['-', '_'], " ")
}

/// Where an error is: the scenario file and `[ivr]`.
struct Place<'a>(&'a str);

impl Place<'_> {
    fn err(&self, node: &str, field: &str, why: String) -> SimError {
        SimError::Scenario(format!(
            "{}: [ivr] node '{node}', field '{field}': {why}",
            self.0
        ))
    }
    fn top(&self, field: &str, why: String) -> SimError {
        SimError::Scenario(format!("{}: [ivr] field '{field}': {why}", self.0))
    }
}

fn share(p: &Place, field: &str, v: f64) -> Result<f64, SimError> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(p.top(field, format!("{v} is not a share between 0 and 1")))
    }
}

impl IvrSpec {
    /// Check everything against the flow and the scenario, and prepare it. `file` names
    /// the scenario in errors; `queues`, `reasons` and `segments` are the scenario's names.
    pub fn plan(
        &self,
        file: &str,
        queues: &[String],
        reasons: &[String],
        segments: &[String],
    ) -> Result<IvrPlan, SimError> {
        let p = Place(file);
        // the file is read once: for the queues it names, then to be validated
        let (flow_name, text) = match &self.flow_path {
            Some(path) => (
                path.display().to_string(),
                std::fs::read_to_string(path)
                    .map_err(|e| p.top("flow", format!("cannot read {}: {e}", path.display())))?,
            ),
            None => (
                "built-in 1000 flow".to_string(),
                hotline_ivr::BUILTIN_1000.to_string(),
            ),
        };
        // the queues the flow names, matched to the scenario's
        let written: FlowFile =
            toml::from_str(&text).map_err(|e| SimError::Scenario(format!("{flow_name}: {e}")))?;
        let mut queue_of: Vec<(String, usize)> = Vec::new();
        for n in &written.nodes {
            let NodeKind::Queue { queue, .. } = &n.kind else {
                continue;
            };
            let found = match self.queues.get(queue) {
                Some(name) => queues.iter().position(|q| q == name).ok_or_else(|| {
                    p.top(
                        &format!("queues.{queue}"),
                        format!("'{name}' is not a queue of the scenario"),
                    )
                })?,
                None => queues
                    .iter()
                    .position(|q| {
                        let (q, f) = (norm(q), norm(queue));
                        q == f || q.starts_with(&format!("{f} "))
                    })
                    .ok_or_else(|| {
                        p.err(
                            &n.id,
                            "queue",
                            format!(
                                "the flow's queue '{queue}' matches no queue of the scenario; map it in [ivr] queues"
                            ),
                        )
                    })?,
            };
            if !queue_of.iter().any(|(q, _)| q == queue) {
                queue_of.push((queue.clone(), found));
            }
        }
        let names: Vec<&str> = queue_of.iter().map(|(q, _)| q.as_str()).collect();
        let flow = match &self.flow_path {
            Some(path) => Flow::parse_at(path, &text, &names),
            None => Flow::parse(&flow_name, &text, &names),
        }
        .map_err(|e| SimError::Scenario(e.to_string()))?;
        let flow = match (&self.open, &self.close) {
            (None, None) => flow,
            (Some(open), Some(close)) => flow
                .with_hours(open, close)
                .map_err(|e| p.top("open/close", e.to_string()))?,
            _ => return Err(p.top("open/close", "give both or neither".into())),
        };
        let menus = menus(&flow);
        let check_keys = |keys: &Keys, field: &str| -> Result<Vec<Option<KeyShares>>, SimError> {
            let mut out = vec![None; flow.file().nodes.len()];
            for (node, shares) in keys {
                let (Some(at), Some(n)) = (flow.position(node), flow.find(node)) else {
                    return Err(p.err(
                        node,
                        field,
                        format!("'{node}' is not a node of {flow_name}"),
                    ));
                };
                let digits = match &n.kind {
                    NodeKind::Menu { digits, .. } => digits,
                    _ => {
                        return Err(p.err(
                            node,
                            field,
                            "is not a menu: only menus take key shares".into(),
                        ));
                    }
                };
                let mut acc = 0.0;
                let mut cdf = Vec::new();
                for (choice, v) in shares {
                    let key = match digits.get(choice) {
                        Some(_) => choice,
                        None => match digits.iter().find(|(_, to)| *to == choice) {
                            Some((k, _)) => k,
                            None => {
                                let offered: Vec<String> =
                                    digits.iter().map(|(k, to)| format!("{k} ({to})")).collect();
                                return Err(p.err(
                                    node,
                                    &format!("{field}.{choice}"),
                                    format!(
                                        "the menu has no key {choice} and leads to no node '{choice}' (it has {})",
                                        offered.join(", ")
                                    ),
                                ));
                            }
                        },
                    };
                    if !(v.is_finite() && *v >= 0.0) {
                        return Err(p.err(
                            node,
                            &format!("{field}.{choice}"),
                            format!("{v} is not a share"),
                        ));
                    }
                    acc += v;
                    cdf.push((key.as_bytes()[0], acc));
                }
                if (acc - 1.0).abs() > 1e-6 {
                    return Err(p.err(
                        node,
                        field,
                        format!("the key shares add up to {acc}, not 1"),
                    ));
                }
                out[at] = Some(cdf);
            }
            Ok(out)
        };
        let common = check_keys(&self.keys, "keys")?;
        let at_once = share(&p, "agent_at_once", self.agent_at_once)?;
        let per_reason = segments.len().max(1);
        let mut behaviours = vec![
            Behaviour {
                agent_at_once: at_once,
                keys: common.clone(),
            };
            reasons.len() * per_reason
        ];
        // reason-wide entries first, then those of one segment, which win
        let mut ordered: Vec<&CallerSpec> = self.callers.iter().collect();
        ordered.sort_by_key(|c| c.segment.is_some());
        for c in ordered {
            let r = reasons.iter().position(|n| *n == c.reason).ok_or_else(|| {
                p.top(
                    "caller.reason",
                    format!("'{}' is not a reason of the scenario", c.reason),
                )
            })?;
            let seg = match &c.segment {
                Some(s) => Some(segments.iter().position(|n| n == s).ok_or_else(|| {
                    p.top(
                        "caller.segment",
                        format!("'{s}' is not a segment of the scenario"),
                    )
                })?),
                None => None,
            };
            let keys = check_keys(&c.keys, &format!("caller '{}' keys", c.reason))?;
            let at_once = match c.agent_at_once {
                Some(v) => Some(share(&p, "caller.agent_at_once", v)?),
                None => None,
            };
            for s in 0..per_reason {
                if seg.is_some_and(|x| x != s) {
                    continue;
                }
                let b = &mut behaviours[r * per_reason + s];
                for (mine, theirs) in b.keys.iter_mut().zip(&keys) {
                    if theirs.is_some() {
                        mine.clone_from(theirs);
                    }
                }
                if let Some(v) = at_once {
                    b.agent_at_once = v;
                }
            }
        }
        let mut services = vec![
            ServiceModel {
                success: 0.9,
                done: done(),
                seconds: Sampler::Constant(1.5),
            };
            SERVICES.len()
        ];
        services[service_index(Service::OutageNotify)].success = 1.0;
        for (name, spec) in &self.services {
            let Some(i) = SERVICES.iter().position(|(_, n)| n == name) else {
                let known: Vec<&str> = SERVICES.iter().map(|(_, n)| *n).collect();
                return Err(p.top(
                    &format!("service.{name}"),
                    format!("is not a self-service (there are {})", known.join(", ")),
                ));
            };
            services[i] = ServiceModel {
                success: share(&p, &format!("service.{name}.success"), spec.success)?,
                done: share(&p, &format!("service.{name}.done"), spec.done)?,
                seconds: spec
                    .seconds
                    .sampler(&format!("{file}: [ivr] field 'service.{name}.seconds'"))?,
            };
        }
        let mut information = Vec::new();
        for (node, v) in &self.information {
            if flow.answer(node).is_none() {
                return Err(p.err(
                    node,
                    "information",
                    format!("is not an information node of {flow_name}"),
                ));
            }
            let id = flow.position(node).and_then(|i| flow.node_id(i)).cloned();
            if let Some(id) = id {
                information.push((id, share(&p, &format!("information.{node}"), *v)?));
            }
        }
        let offset = flow.file().hours.utc_offset_minutes as i64 * 60_000;
        Ok(IvrPlan {
            flow_name,
            queue_of,
            menus,
            behaviours,
            segments: per_reason,
            english: share(&p, "english", self.english)?,
            mistake: share(&p, "mistake", self.mistake)?,
            barge_in: share(&p, "barge_in", self.barge_in)?,
            silence: share(&p, "silence", self.silence)?,
            hang_up: share(&p, "hang_up", self.hang_up)?,
            reaction: self
                .reaction
                .sampler(&format!("{file}: [ivr] field 'reaction'"))?,
            entry: self
                .entry
                .sampler(&format!("{file}: [ivr] field 'entry'"))?,
            services,
            information,
            // 2026-11-02 00:00 local time
            epoch_ms: (1_793_491_200_000i64 + 86_400_000 - offset) as u64,
            flow: Arc::new(flow),
        })
    }
}

fn menus(flow: &Flow) -> Vec<Option<Menu>> {
    let kind_of = |id: &str| flow.find(id).map(|n| &n.kind);
    let mut out = vec![None; flow.file().nodes.len()];
    for (i, n) in flow.file().nodes.iter().enumerate() {
        let menu = match &n.kind {
            NodeKind::Menu { digits, prompt, .. } => {
                let key = |want: &dyn Fn(&NodeKind) -> bool| {
                    digits
                        .iter()
                        .find(|(_, to)| kind_of(to).is_some_and(want))
                        .map(|(k, _)| k.as_bytes()[0])
                };
                Menu {
                    heard: digits
                        .keys()
                        .map(|k| {
                            let key = k.as_bytes()[0];
                            (key, [heard(&prompt.zh, key), heard(&prompt.en, key)])
                        })
                        .collect(),
                    to_goodbye: key(&|k| matches!(k, NodeKind::Hangup { .. })),
                    to_agent: digits
                        .contains_key("0")
                        .then_some(b'0')
                        .or_else(|| key(&|k| matches!(k, NodeKind::Queue { .. }))),
                    to_english: key(
                        &|k| matches!(k, NodeKind::Language { set, .. } if set == "en"),
                    ),
                    wrong: (b'0'..=b'9')
                        .chain([b'*'])
                        .find(|d| !digits.contains_key(&(*d as char).to_string()))
                        .unwrap_or(b'*'),
                    collect: false,
                    notify: None,
                }
            }
            NodeKind::Collect { .. } => Menu {
                heard: Vec::new(),
                to_goodbye: None,
                to_agent: None,
                to_english: None,
                wrong: b'*',
                collect: true,
                notify: None,
            },
            NodeKind::Outage { notify_key, .. } => Menu {
                heard: Vec::new(),
                to_goodbye: None,
                to_agent: None,
                to_english: None,
                wrong: b'*',
                collect: false,
                notify: notify_key.as_bytes().first().copied(),
            },
            _ => continue,
        };
        out[i] = Some(menu);
    }
    out
}

/// How far into a menu's prompt the choice of `key` has been announced (0–1): just past
/// its first mention as "按5" / "press 5" / "… 5," — or the end when the text does not
/// say it that way.
fn heard(text: &str, key: u8) -> f64 {
    let k = key as char;
    let total = hotline_ivr::estimate_seconds(text);
    let patterns = [
        format!("按{k}"),
        format!("press {k}"),
        format!(" {k},"),
        format!(" {k}."),
        format!(" {k};"),
    ];
    let at = patterns
        .iter()
        .filter_map(|p| text.find(p.as_str()).map(|i| i + p.len()))
        .min();
    match at {
        Some(i) if total > 0.0 => (hotline_ivr::estimate_seconds(&text[..i]) / total).min(1.0),
        _ => 1.0,
    }
}

/// What a caller does at a menu.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Choice {
    /// Presses this key `after` seconds past the point `heard` (0–1) of the menu's
    /// prompt (1: its end).
    Key { key: u8, heard: f64, after: f64 },
    /// Types a number and `#` (a collect node) after `after` seconds from the end.
    Number { after: f64 },
    /// Presses nothing.
    Silence,
    /// Hangs up `after` this share of the prompt.
    HangUp { share: f64 },
}

/// One caller's state of mind in the IVR.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Mind {
    /// Reason × segment index into the behaviours.
    pub behaviour: usize,
    /// Not yet past a first menu.
    pub at_first_menu: bool,
    /// Wants English.
    pub english: bool,
    /// After an information node: needs nothing more (`Some(true)`) or an agent.
    pub satisfied: Option<bool>,
    /// Told of an incident in their area, and will ask to be told when it is fixed.
    pub will_notify: bool,
    /// Menus met (a guard against callers going round for ever).
    pub menus: u16,
}

impl IvrPlan {
    /// A copy for one thread: its own flow, so the counts of the flow's shared parts
    /// stay on this thread (a replication's copy; the same figures).
    pub(crate) fn for_one_thread(&self) -> IvrPlan {
        let flow = Arc::new(self.flow.private_copy());
        let information = self
            .information
            .iter()
            .filter_map(|(id, p)| Some((flow.node_id(flow.position(id)?)?.clone(), *p)))
            .collect();
        IvrPlan {
            flow,
            information,
            ..self.clone()
        }
    }

    /// Time `t` of the run as the flow reads it: ms since the Unix epoch, the run's
    /// 00:00 being local midnight (the flow's hours are local).
    pub(crate) fn clock_ms(&self, t: hotline_acd::Time) -> u64 {
        self.epoch_ms + t.0 / 1000
    }

    /// Callers' behaviour index for (reason, segment).
    pub(crate) fn behaviour(&self, reason: u16, segment: u8) -> usize {
        reason as usize * self.segments + segment as usize
    }

    /// The caller's choice at node `node` (the index of a menu, collect or outage
    /// notice).
    pub(crate) fn choose(
        &self,
        node: usize,
        english: bool,
        mind: &mut Mind,
        rng: &mut Rng,
    ) -> Choice {
        let Some(Some(menu)) = self.menus.get(node) else {
            return Choice::Silence;
        };
        mind.menus += 1;
        if mind.menus > 40 {
            return Choice::HangUp { share: 0.5 };
        }
        let react = self.reaction.sample(rng);
        let eager = rng.chance(self.barge_in);
        let lang = usize::from(english);
        let key = |key: u8| Choice::Key {
            key,
            heard: if eager {
                menu.heard
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map_or(1.0, |(_, h)| h[lang])
            } else {
                1.0
            },
            after: react,
        };
        if let Some(k) = menu.notify {
            // an outage notice: told, they ask to be told or go on to the fault menu
            return if mind.will_notify { key(k) } else { key(b'0') };
        }
        let first = std::mem::take(&mut mind.at_first_menu);
        let b = &self.behaviours[mind.behaviour];
        if first {
            if let Some(k) = menu.to_agent.filter(|_| rng.chance(b.agent_at_once)) {
                return Choice::Key {
                    key: k,
                    heard: 0.0,
                    after: react,
                };
            }
            if let Some(k) = menu.to_english.filter(|_| mind.english) {
                mind.english = false;
                mind.at_first_menu = true;
                return key(k);
            }
        }
        if rng.chance(self.hang_up) {
            return Choice::HangUp {
                share: rng.uniform(),
            };
        }
        if rng.chance(self.silence) {
            return Choice::Silence;
        }
        if rng.chance(self.mistake) {
            return if menu.collect {
                Choice::Silence
            } else {
                key(menu.wrong)
            };
        }
        if menu.collect {
            return Choice::Number {
                after: self.entry.sample(rng),
            };
        }
        match mind.satisfied.take() {
            Some(true) if menu.to_goodbye.is_some() => {
                return key(menu.to_goodbye.unwrap_or(b'9'));
            }
            Some(false) if menu.to_agent.is_some() => {
                return key(menu.to_agent.unwrap_or(b'0'));
            }
            _ => {}
        }
        match b.keys.get(node).and_then(Option::as_ref) {
            Some(cdf) => {
                let u = rng.uniform();
                let k = cdf
                    .iter()
                    .find(|(_, c)| u < *c)
                    .or(cdf.last())
                    .map_or(b'0', |(k, _)| *k);
                key(k)
            }
            None => match menu.to_agent {
                Some(k) => key(k),
                None => Choice::Silence,
            },
        }
    }

    /// A caller heard a prompt of `node`: after an information node's answer, whether
    /// they need nothing more.
    pub(crate) fn heard(&self, node: &Arc<str>, mind: &mut Mind, rng: &mut Rng) {
        if let Some((_, p)) = self
            .information
            .iter()
            .find(|(id, _)| Arc::ptr_eq(id, node))
        {
            mind.satisfied = Some(rng.chance(*p));
        }
    }

    /// Whether a self-service succeeds, and after how many seconds; the caller then
    /// needs nothing more, or an agent.
    pub(crate) fn serve(&self, s: Service, mind: &mut Mind, rng: &mut Rng) -> (bool, f64) {
        let m = &self.services[service_index(s)];
        let ok = rng.chance(m.success);
        mind.satisfied = Some(ok && rng.chance(m.done));
        (ok, m.seconds.sample(rng))
    }

    /// The scenario queue of a queue the flow names.
    pub(crate) fn queue(&self, name: &str) -> Option<usize> {
        self.queue_of
            .iter()
            .find(|(q, _)| q == name)
            .map(|(_, i)| *i)
    }
}

/// Resolve `[ivr] flow` against the scenario's directory (`a/scenarios/../ivr/x.toml`
/// read as `a/ivr/x.toml`).
pub(crate) fn resolve(spec: &mut IvrSpec, scenario: &Path) {
    if spec.flow_path.is_none() {
        if let Some(f) = &spec.flow {
            let joined = scenario.parent().unwrap_or(Path::new(".")).join(f);
            let mut tidy = PathBuf::new();
            for part in joined.components() {
                match part {
                    std::path::Component::ParentDir
                        if tidy
                            .components()
                            .next_back()
                            .is_some_and(|c| matches!(c, std::path::Component::Normal(_))) =>
                    {
                        tidy.pop();
                    }
                    std::path::Component::CurDir => {}
                    other => tidy.push(other),
                }
            }
            spec.flow_path = Some(tidy);
        }
    }
}
