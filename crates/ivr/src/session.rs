//! One caller's way through a flow. Sans-IO like the routing core: every input carries
//! `now` (milliseconds since the Unix epoch), every output is an [`Action`] for the
//! driver (say this, wait for digits until then, run this self-service, queue the call,
//! hang up).

use crate::flow::{Flow, NodeKind, Prompt, Service, estimate_seconds};
use std::sync::Arc;

/// Language of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 中文 (the default).
    Zh = 0,
    /// English.
    En = 1,
}

impl Lang {
    /// The prompt's text in this language.
    pub fn text(self, p: &Prompt) -> &str {
        match self {
            Lang::Zh => &p.zh,
            Lang::En => &p.en,
        }
    }

    /// How long the prompt plays in this language, milliseconds: its recording's time
    /// when the flow gives one, else estimated from the text (worked out once when the
    /// flow is loaded).
    pub fn millis(self, p: &Prompt) -> u32 {
        if let Some(ms) = p.millis {
            return ms[self as usize];
        }
        let seconds = match (self, p.seconds) {
            (Lang::Zh, Some(t)) => t.zh,
            (Lang::En, Some(t)) => t.en,
            (_, None) => estimate_seconds(self.text(p)),
        };
        (seconds * 1000.0).round() as u32
    }
}

/// What the driver does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Say this to the caller.
    Say {
        /// The node speaking.
        node: Arc<str>,
        /// The text, in the call's language, fields filled in.
        text: String,
        /// How long it plays, milliseconds (a wait for digits runs from its end).
        millis: u32,
    },
    /// Wait for up to `max_digits` digits (a `#` ends early) until `until`; then deliver
    /// [`Input::Digits`] or [`Input::Timeout`].
    Collect {
        /// Most digits.
        max_digits: u32,
        /// Deadline, ms since the epoch.
        until: u64,
    },
    /// Run a self-service action with the digits collected last; then deliver
    /// [`Input::ServiceDone`].
    SelfService {
        /// The node.
        node: Arc<str>,
        /// What to do.
        service: Service,
        /// Digits the caller entered for it (a ticket number …), may be empty.
        input: String,
    },
    /// The IVR is done: put the call in this queue.
    Queue {
        /// Queue name.
        queue: String,
        /// Priority class.
        priority: u8,
        /// Reason code of the call.
        reason: String,
    },
    /// Is an area incident open for the caller's area? Answer [`Input::Outage`].
    Outage {
        /// The node asking.
        node: Arc<str>,
    },
    /// The survey's answer, 1–5, for the interaction record.
    SurveyAnswer(u8),
    /// The IVR ends the call.
    Hangup {
        /// The call never needed an agent (self-service containment).
        finished_in_ivr: bool,
    },
}

/// What the driver tells the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Digits the caller pressed (for a menu, one).
    Digits(String),
    /// One key the caller pressed (`b'5'`): [`Input::Digits`] of one digit, for a
    /// driver that would rather not allocate a string for it.
    Key(u8),
    /// The wait of the last [`Action::Collect`] ran out.
    Timeout,
    /// The self-service result: fields for the success prompt, or why it failed (said to
    /// the caller).
    ServiceDone(Result<Vec<(String, String)>, String>),
    /// The answer to [`Action::Outage`]: `None`, no incident for the caller's area; or
    /// the fields for the node's prompt — `message`, `restore`, and `incident` (its
    /// number, the input of the notify request).
    Outage(Option<Vec<(String, String)>>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Waiting {
    Nothing,
    Digits { until: u64 },
    Service,
    Outage,
    Done,
}

const DEFAULT_RETRY: (&str, &str) = (
    "输入有误，请重新选择。",
    "Sorry, that is not one of the choices.",
);

/// One step of a caller's way, kept small; [`Session::path`] spells them out.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// A node (its index in the flow).
    Node(u16),
    /// "key 5".
    Key(String),
    /// "key 5", one key.
    Key1(u8),
    /// "wrong key 7".
    WrongKey(String),
    /// "no key".
    NoKey,
    /// "entered 8 digits".
    Entered(usize),
    /// "survey not answered".
    SurveyNotAnswered,
}

/// A caller in the IVR. It holds the flow it runs (shared: a router keeps many sessions
/// on one flow).
#[derive(Debug, Clone)]
pub struct Session {
    flow: Arc<Flow>,
    lang: Lang,
    /// The node the caller is at (its index in the flow).
    at: usize,
    tries: u32,
    waiting: Waiting,
    collected: String,
    path: Vec<Step>,
    used_self_service: bool,
    /// Say nothing in words (a simulation needs only the prompts' times).
    quiet: bool,
}

/// The step of keys pressed (one key kept without a string).
fn key_step(d: &str) -> Step {
    match d.as_bytes() {
        [k] => Step::Key1(*k),
        _ => Step::Key(d.to_string()),
    }
}

/// The nodes a call went through the IVR, as `welcome › fault-menu › fault-queue`: keys
/// pressed and retries of a menu left out, so calls that took the same route share it
/// (the router's IVR intervals and the simulator count by it).
pub fn menu_route(path: &[String]) -> String {
    let mut nodes: Vec<&str> = path
        .iter()
        .map(String::as_str)
        .filter(|step| !step.contains(' ')) // "key 2", "wrong key 7", "no key" …
        .collect();
    nodes.dedup();
    nodes.join(" › ")
}

/// Where a call starts: key accounts on the green channel.
fn first_node(flow: &Flow, key_account: bool) -> usize {
    let f = flow.file();
    let first = if key_account {
        &f.key_account_start
    } else {
        &f.start
    };
    flow.position(first).unwrap_or(0)
}

/// Fill `{name}` fields.
pub fn render(text: &str, fields: &[(String, String)]) -> String {
    let mut out = text.to_string();
    for (k, v) in fields {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

impl Session {
    /// A call arrives; key accounts start on the green channel.
    pub fn start(flow: &Arc<Flow>, now: u64, key_account: bool) -> (Session, Vec<Action>) {
        let mut out = Vec::with_capacity(4);
        let s = Session::begin(
            flow,
            first_node(flow, key_account),
            Lang::Zh,
            false,
            now,
            &mut out,
        );
        (s, out)
    }

    /// A call arrives, in a session that says nothing in words: its prompts come with
    /// their playing times and no text (for the simulator, which needs only the times).
    /// The actions are appended to `out`.
    pub fn start_quiet(
        flow: &Arc<Flow>,
        now: u64,
        key_account: bool,
        out: &mut Vec<Action>,
    ) -> Session {
        Session::begin(
            flow,
            first_node(flow, key_account),
            Lang::Zh,
            true,
            now,
            out,
        )
    }

    /// The post-call survey, after the agent's part (in the call's language).
    pub fn survey(flow: &Arc<Flow>, now: u64, lang: Lang) -> (Session, Vec<Action>) {
        let survey = flow.position(&flow.file().survey).unwrap_or(0);
        let mut out = Vec::with_capacity(4);
        let s = Session::begin(flow, survey, lang, false, now, &mut out);
        (s, out)
    }

    /// A session at node `at`, entered at `now`; its first actions appended to `out`.
    fn begin(
        flow: &Arc<Flow>,
        at: usize,
        lang: Lang,
        quiet: bool,
        now: u64,
        out: &mut Vec<Action>,
    ) -> Session {
        let mut s = Session {
            flow: flow.clone(),
            lang,
            at,
            tries: 0,
            waiting: Waiting::Nothing,
            collected: String::new(),
            path: Vec::with_capacity(8),
            used_self_service: false,
            quiet,
        };
        s.enter(at, now, out);
        s
    }

    /// Nodes visited and keys pressed, in order (for the interaction record).
    pub fn path(&self) -> Vec<String> {
        self.path
            .iter()
            .map(|step| match step {
                Step::Node(i) => self.flow.ids[*i as usize].to_string(),
                Step::Key(d) => format!("key {d}"),
                Step::Key1(d) => format!("key {}", *d as char),
                Step::WrongKey(d) => format!("wrong key {d}"),
                Step::NoKey => "no key".into(),
                Step::Entered(n) => format!("entered {n} digits"),
                Step::SurveyNotAnswered => "survey not answered".into(),
            })
            .collect()
    }

    /// The nodes of the caller's way, retries of a node left out — the route
    /// [`menu_route`] spells, as the nodes' indices in the flow ([`Flow::node_id`]) —
    /// into `nodes` (cleared first).
    pub fn route_into(&self, nodes: &mut Vec<u16>) {
        nodes.clear();
        nodes.extend(self.path.iter().filter_map(|s| match s {
            Step::Node(i) => Some(*i),
            _ => None,
        }));
        nodes.dedup();
    }

    /// The node the caller is at.
    pub fn at(&self) -> &str {
        &self.flow.ids[self.at]
    }

    /// The index in the flow of the node the caller is at.
    pub fn at_index(&self) -> usize {
        self.at
    }

    /// The call's language.
    pub fn language(&self) -> Lang {
        self.lang
    }

    /// The IVR has finished with the call.
    pub fn is_done(&self) -> bool {
        self.waiting == Waiting::Done
    }

    /// The queue announcement in the call's language.
    pub fn announce_position(&self, position: u32, wait_seconds: u64) -> String {
        let p = &self.flow.file().announcements.queue_position;
        render(
            self.lang.text(p),
            &[
                ("position".into(), position.to_string()),
                (
                    "minutes".into(),
                    wait_seconds.div_ceil(60).max(1).to_string(),
                ),
            ],
        )
    }

    /// The callback offer, and its confirmation, in the call's language.
    pub fn callback_texts(&self) -> (String, String) {
        let a = &self.flow.file().announcements;
        (
            self.lang.text(&a.callback_offer).into(),
            self.lang.text(&a.callback_confirmed).into(),
        )
    }

    fn say(&self, node: usize, p: &Prompt, fields: &[(String, String)], out: &mut Vec<Action>) {
        out.push(Action::Say {
            node: self.flow.ids[node].clone(),
            text: if self.quiet {
                String::new()
            } else {
                render(self.lang.text(p), fields)
            },
            millis: self.lang.millis(p),
        });
    }

    /// Go to node `to` (a link of the flow) and run until the caller or the driver
    /// must answer.
    fn enter_link(&mut self, to: Option<usize>, now: u64, out: &mut Vec<Action>) {
        match to {
            Some(i) => self.enter(i, now, out),
            // validation lets no node name a missing one
            None => self.hang_up(false, out),
        }
    }

    /// Go to node `at` and run until the caller or the driver must answer.
    fn enter(&mut self, at: usize, now: u64, out: &mut Vec<Action>) {
        let flow = Arc::clone(&self.flow);
        let mut at = at;
        // validation forbids loops without a wait; the bound only guards against a flow
        // built around the validator
        for _ in 0..256 {
            self.at = at;
            self.path.push(Step::Node(at as u16));
            let node = &flow.file().nodes[at];
            let links = &flow.links[at];
            let next = match &node.kind {
                NodeKind::Play { prompt, next } => {
                    self.say(at, prompt, &[], out);
                    match next {
                        Some(_) => links.next,
                        None => return self.hang_up(true, out),
                    }
                }
                NodeKind::Menu {
                    prompt,
                    timeout_seconds,
                    ..
                } => {
                    self.say(at, prompt, &[], out);
                    return self.wait(1, *timeout_seconds, now, out);
                }
                NodeKind::Collect {
                    prompt,
                    max_digits,
                    timeout_seconds,
                    ..
                } => {
                    self.say(at, prompt, &[], out);
                    return self.wait(*max_digits, *timeout_seconds, now, out);
                }
                NodeKind::SelfService { service, .. } => {
                    self.used_self_service = true;
                    self.waiting = Waiting::Service;
                    out.push(Action::SelfService {
                        node: flow.ids[at].clone(),
                        service: *service,
                        input: self.collected.clone(),
                    });
                    return;
                }
                NodeKind::Queue {
                    queue,
                    priority,
                    reason,
                    prompt,
                    closed,
                } => {
                    if let (false, Some(_)) = (flow.open_at(now), closed) {
                        links.other
                    } else {
                        if let Some(p) = prompt {
                            self.say(at, p, &[], out);
                        }
                        self.waiting = Waiting::Done;
                        out.push(Action::Queue {
                            queue: queue.clone(),
                            priority: *priority,
                            reason: reason.clone(),
                        });
                        return;
                    }
                }
                NodeKind::Language { set, .. } => {
                    self.lang = if set == "en" { Lang::En } else { Lang::Zh };
                    links.next
                }
                NodeKind::Survey {
                    prompt,
                    timeout_seconds,
                    ..
                } => {
                    self.say(at, prompt, &[], out);
                    return self.wait(1, *timeout_seconds, now, out);
                }
                NodeKind::Hangup { prompt } => {
                    self.say(at, prompt, &[], out);
                    return self.hang_up(true, out);
                }
                NodeKind::Information { .. } => {
                    if let Some(answer) = flow.answer(&node.id) {
                        self.say(at, &answer.text, &[], out);
                    }
                    links.next
                }
                NodeKind::Outage { .. } => {
                    self.waiting = Waiting::Outage;
                    out.push(Action::Outage {
                        node: flow.ids[at].clone(),
                    });
                    return;
                }
            };
            match next {
                Some(i) => at = i,
                None => break,
            }
        }
        self.hang_up(false, out);
    }

    fn wait(&mut self, max_digits: u32, seconds: u32, now: u64, out: &mut Vec<Action>) {
        let until = now + seconds as u64 * 1000;
        self.waiting = Waiting::Digits { until };
        out.push(Action::Collect { max_digits, until });
    }

    fn hang_up(&mut self, in_ivr: bool, out: &mut Vec<Action>) {
        self.waiting = Waiting::Done;
        out.push(Action::Hangup {
            finished_in_ivr: in_ivr && *self.flow.ids[self.at] != *self.flow.file().survey,
        });
    }

    /// Handle the caller's digits, a time-out or a self-service result. Inputs that do
    /// not fit (digits while nothing is asked, an early time-out) change nothing.
    pub fn handle(&mut self, now: u64, input: Input) -> Vec<Action> {
        let mut out = Vec::with_capacity(4);
        self.handle_into(now, input, &mut out);
        out
    }

    /// [`Session::handle`], appending the actions to `out`.
    pub fn handle_into(&mut self, now: u64, input: Input, out: &mut Vec<Action>) {
        let flow = Arc::clone(&self.flow);
        let at = self.at;
        let node = &flow.file().nodes[at];
        match (&self.waiting, input) {
            (Waiting::Digits { until }, Input::Timeout) if now < *until => {}
            (
                Waiting::Digits { .. },
                input @ (Input::Digits(_) | Input::Key(_) | Input::Timeout),
            ) => {
                let key;
                let digits = match &input {
                    Input::Digits(d) => Some(d.as_str()),
                    Input::Key(k) => {
                        key = [*k];
                        std::str::from_utf8(&key).ok()
                    }
                    _ => None,
                };
                self.on_digits(at, &node.kind, digits, now, out);
            }
            (Waiting::Outage, Input::Outage(news)) => {
                if let NodeKind::Outage {
                    prompt,
                    timeout_seconds,
                    ..
                } = &node.kind
                {
                    match news {
                        Some(fields) => {
                            self.say(at, prompt, &fields, out);
                            self.collected = fields
                                .iter()
                                .find(|(k, _)| k == "incident")
                                .map(|(_, v)| v.clone())
                                .unwrap_or_default();
                            self.wait(1, *timeout_seconds, now, out);
                        }
                        None => {
                            // nothing was said: the node is no step of the caller's way
                            if self.path.last() == Some(&Step::Node(at as u16)) {
                                self.path.pop();
                            }
                            self.enter_link(flow.links[at].next, now, out)
                        }
                    }
                }
            }
            (Waiting::Service, Input::ServiceDone(result)) => match &node.kind {
                NodeKind::Outage { notified, .. } => {
                    self.collected.clear();
                    match result {
                        Ok(fields) => {
                            self.say(at, notified, &fields, out);
                            self.enter_link(flow.links[at].other, now, out);
                        }
                        Err(reason) => {
                            // the driver's own words for what went wrong
                            self.say(at, &Prompt::both(&reason), &[], out);
                            self.enter_link(flow.links[at].next, now, out);
                        }
                    }
                }
                NodeKind::SelfService {
                    success, failure, ..
                } => {
                    self.collected.clear();
                    match result {
                        Ok(fields) => {
                            self.say(at, success, &fields, out);
                            self.enter_link(flow.links[at].next, now, out);
                        }
                        Err(reason) => {
                            self.say(at, failure, &[("reason".into(), reason)], out);
                            self.enter_link(flow.links[at].fail, now, out);
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }

    fn on_digits(
        &mut self,
        at: usize,
        kind: &NodeKind,
        digits: Option<&str>,
        now: u64,
        out: &mut Vec<Action>,
    ) {
        let flow = Arc::clone(&self.flow);
        let links = &flow.links[at];
        match kind {
            NodeKind::Menu {
                retries,
                retry_prompt,
                prompt,
                timeout_seconds,
                ..
            } => match digits.and_then(|d| links.key(d)) {
                Some(to) => {
                    self.tries = 0;
                    self.path.push(key_step(digits.unwrap_or_default()));
                    self.enter(to, now, out);
                }
                None => {
                    self.tries += 1;
                    self.path.push(match digits {
                        Some(d) => Step::WrongKey(d.to_string()),
                        None => Step::NoKey,
                    });
                    if self.tries >= *retries {
                        self.tries = 0;
                        self.enter_link(links.fail, now, out);
                    } else {
                        match retry_prompt {
                            Some(retry) => self.say(at, retry, &[], out),
                            None => self.say(
                                at,
                                &Prompt {
                                    zh: DEFAULT_RETRY.0.into(),
                                    en: DEFAULT_RETRY.1.into(),
                                    seconds: None,
                                    millis: None,
                                },
                                &[],
                                out,
                            ),
                        }
                        self.say(at, prompt, &[], out);
                        self.wait(1, *timeout_seconds, now, out);
                    }
                }
            },
            NodeKind::Collect { .. } => {
                let d = digits.unwrap_or_default();
                let d = d.trim_end_matches('#');
                if !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) {
                    self.collected = d.to_string();
                    self.path.push(Step::Entered(d.len()));
                    self.enter_link(links.next, now, out);
                } else {
                    self.enter_link(links.fail, now, out);
                }
            }
            NodeKind::Outage { notify_key, .. } => match digits {
                Some(d) if d == notify_key => {
                    self.path.push(key_step(d));
                    self.used_self_service = true;
                    self.waiting = Waiting::Service;
                    out.push(Action::SelfService {
                        node: self.flow.ids[at].clone(),
                        service: Service::OutageNotify,
                        input: self.collected.clone(),
                    });
                }
                other => {
                    self.collected.clear();
                    self.path.push(match other {
                        Some(d) => key_step(d),
                        None => Step::NoKey,
                    });
                    self.enter_link(links.next, now, out);
                }
            },
            NodeKind::Survey { thanks, .. } => {
                match digits
                    .and_then(|d| d.parse::<u8>().ok())
                    .filter(|n| (1..=5).contains(n))
                {
                    Some(n) => {
                        out.push(Action::SurveyAnswer(n));
                        self.say(at, thanks, &[], out);
                    }
                    None => self.path.push(Step::SurveyNotAnswered),
                }
                self.hang_up(false, out);
            }
            _ => {}
        }
    }

    /// Whether the caller used self-service on this call.
    pub fn used_self_service(&self) -> bool {
        self.used_self_service
    }
}
