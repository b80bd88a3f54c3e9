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
    Zh,
    /// English.
    En,
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
    /// when the flow gives one, else estimated from the text.
    pub fn millis(self, p: &Prompt) -> u32 {
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
        node: String,
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
        node: String,
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
        node: String,
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

/// A caller in the IVR. It holds the flow it runs (shared: a router keeps many sessions
/// on one flow).
#[derive(Debug, Clone)]
pub struct Session {
    flow: Arc<Flow>,
    lang: Lang,
    at: String,
    tries: u32,
    waiting: Waiting,
    collected: String,
    path: Vec<String>,
    used_self_service: bool,
}

/// What a caller hears when a request could not be done (the driver's words).
fn trouble(reason: &str) -> Prompt {
    Prompt::both(reason)
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
        let f = flow.file();
        let first = if key_account {
            &f.key_account_start
        } else {
            &f.start
        };
        Session::begin(flow.clone(), now, first.clone(), Lang::Zh)
    }

    /// The post-call survey, after the agent's part (in the call's language).
    pub fn survey(flow: &Arc<Flow>, now: u64, lang: Lang) -> (Session, Vec<Action>) {
        Session::begin(flow.clone(), now, flow.file().survey.clone(), lang)
    }

    fn begin(flow: Arc<Flow>, now: u64, node: String, lang: Lang) -> (Session, Vec<Action>) {
        let mut s = Session {
            flow,
            lang,
            at: node.clone(),
            tries: 0,
            waiting: Waiting::Nothing,
            collected: String::new(),
            path: Vec::new(),
            used_self_service: false,
        };
        let mut out = Vec::new();
        s.enter(&node, now, &mut out);
        (s, out)
    }

    /// Nodes visited and keys pressed, in order (for the interaction record).
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// The node the caller is at.
    pub fn at(&self) -> &str {
        &self.at
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

    fn say(&self, node: &str, p: &Prompt, fields: &[(String, String)], out: &mut Vec<Action>) {
        out.push(Action::Say {
            node: node.to_string(),
            text: render(self.lang.text(p), fields),
            millis: self.lang.millis(p),
        });
    }

    /// Go to `node` and run until the caller or the driver must answer.
    fn enter(&mut self, node: &str, now: u64, out: &mut Vec<Action>) {
        let mut id = node.to_string();
        // validation forbids loops without a wait; the bound only guards against a flow
        // built around the validator
        for _ in 0..256 {
            self.at = id.clone();
            self.path.push(id.clone());
            let n = self.flow.node(&id);
            match &n.kind {
                NodeKind::Play { prompt, next } => {
                    self.say(&id, prompt, &[], out);
                    match next {
                        Some(next) => id = next.clone(),
                        None => return self.hang_up(true, out),
                    }
                }
                NodeKind::Menu {
                    prompt,
                    timeout_seconds,
                    ..
                } => {
                    self.say(&id, prompt, &[], out);
                    return self.wait(1, *timeout_seconds, now, out);
                }
                NodeKind::Collect {
                    prompt,
                    max_digits,
                    timeout_seconds,
                    ..
                } => {
                    self.say(&id, prompt, &[], out);
                    return self.wait(*max_digits, *timeout_seconds, now, out);
                }
                NodeKind::SelfService { service, .. } => {
                    self.used_self_service = true;
                    self.waiting = Waiting::Service;
                    out.push(Action::SelfService {
                        node: id.clone(),
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
                    if let (false, Some(c)) = (self.flow.open_at(now), closed) {
                        id = c.clone();
                        continue;
                    }
                    if let Some(p) = prompt {
                        self.say(&id, p, &[], out);
                    }
                    self.waiting = Waiting::Done;
                    out.push(Action::Queue {
                        queue: queue.clone(),
                        priority: *priority,
                        reason: reason.clone(),
                    });
                    return;
                }
                NodeKind::Language { set, next } => {
                    self.lang = if set == "en" { Lang::En } else { Lang::Zh };
                    id = next.clone();
                }
                NodeKind::Survey {
                    prompt,
                    timeout_seconds,
                    ..
                } => {
                    self.say(&id, prompt, &[], out);
                    return self.wait(1, *timeout_seconds, now, out);
                }
                NodeKind::Hangup { prompt } => {
                    self.say(&id, prompt, &[], out);
                    return self.hang_up(true, out);
                }
                NodeKind::Information { next, .. } => {
                    if let Some(answer) = self.flow.answer(&id) {
                        self.say(&id, &answer.text, &[], out);
                    }
                    id = next.clone();
                }
                NodeKind::Outage { .. } => {
                    self.waiting = Waiting::Outage;
                    out.push(Action::Outage { node: id.clone() });
                    return;
                }
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
            finished_in_ivr: in_ivr && self.flow.node(&self.at).id != self.flow.file().survey,
        });
    }

    /// Handle the caller's digits, a time-out or a self-service result. Inputs that do
    /// not fit (digits while nothing is asked, an early time-out) change nothing.
    pub fn handle(&mut self, now: u64, input: Input) -> Vec<Action> {
        let mut out = Vec::new();
        let node = self.flow.node(&self.at).clone();
        match (&self.waiting, input) {
            (Waiting::Digits { until }, Input::Timeout) if now < *until => {}
            (Waiting::Digits { .. }, input @ (Input::Digits(_) | Input::Timeout)) => {
                let digits = match input {
                    Input::Digits(d) => Some(d),
                    _ => None,
                };
                self.on_digits(&node.id, &node.kind, digits, now, &mut out);
            }
            (Waiting::Outage, Input::Outage(news)) => {
                if let NodeKind::Outage {
                    prompt,
                    timeout_seconds,
                    next,
                    ..
                } = &node.kind
                {
                    match news {
                        Some(fields) => {
                            self.say(&node.id, prompt, &fields, &mut out);
                            self.collected = fields
                                .iter()
                                .find(|(k, _)| k == "incident")
                                .map(|(_, v)| v.clone())
                                .unwrap_or_default();
                            self.wait(1, *timeout_seconds, now, &mut out);
                        }
                        None => {
                            // nothing was said: the node is no step of the caller's way
                            if self.path.last() == Some(&node.id) {
                                self.path.pop();
                            }
                            self.enter(next, now, &mut out)
                        }
                    }
                }
            }
            (Waiting::Service, Input::ServiceDone(result)) if self.notifying(&node.kind) => {
                if let NodeKind::Outage {
                    notified,
                    after_notify,
                    next,
                    ..
                } = &node.kind
                {
                    self.collected.clear();
                    match result {
                        Ok(fields) => {
                            self.say(&node.id, notified, &fields, &mut out);
                            self.enter(after_notify, now, &mut out);
                        }
                        Err(reason) => {
                            self.say(&node.id, &trouble(&reason), &[], &mut out);
                            self.enter(next, now, &mut out);
                        }
                    }
                }
            }
            (Waiting::Service, Input::ServiceDone(result)) => {
                if let NodeKind::SelfService {
                    success,
                    failure,
                    next,
                    on_fail,
                    ..
                } = &node.kind
                {
                    match result {
                        Ok(fields) => {
                            self.say(&node.id, success, &fields, &mut out);
                            self.collected.clear();
                            self.enter(next, now, &mut out);
                        }
                        Err(reason) => {
                            self.say(&node.id, failure, &[("reason".into(), reason)], &mut out);
                            self.collected.clear();
                            self.enter(on_fail, now, &mut out);
                        }
                    }
                }
            }
            _ => {}
        }
        out
    }

    fn on_digits(
        &mut self,
        id: &str,
        kind: &NodeKind,
        digits: Option<String>,
        now: u64,
        out: &mut Vec<Action>,
    ) {
        match kind {
            NodeKind::Menu {
                digits: map,
                retries,
                retry_prompt,
                on_fail,
                prompt,
                timeout_seconds,
            } => {
                let chosen = digits
                    .as_deref()
                    .and_then(|d| map.get(d).map(|to| (d.to_string(), to.clone())));
                match chosen {
                    Some((d, to)) => {
                        self.tries = 0;
                        self.path.push(format!("key {d}"));
                        self.enter(&to, now, out);
                    }
                    None => {
                        self.tries += 1;
                        self.path.push(match &digits {
                            Some(d) => format!("wrong key {d}"),
                            None => "no key".into(),
                        });
                        if self.tries >= *retries {
                            self.tries = 0;
                            self.enter(on_fail, now, out);
                        } else {
                            let retry = retry_prompt.clone().unwrap_or(Prompt {
                                zh: DEFAULT_RETRY.0.into(),
                                en: DEFAULT_RETRY.1.into(),
                                seconds: None,
                            });
                            self.say(id, &retry, &[], out);
                            self.say(id, prompt, &[], out);
                            self.wait(1, *timeout_seconds, now, out);
                        }
                    }
                }
            }
            NodeKind::Collect { next, on_fail, .. } => {
                let d = digits.unwrap_or_default();
                let d = d.trim_end_matches('#');
                if !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) {
                    self.collected = d.to_string();
                    self.path.push(format!("entered {} digits", d.len()));
                    self.enter(next, now, out);
                } else {
                    self.enter(on_fail, now, out);
                }
            }
            NodeKind::Outage {
                notify_key, next, ..
            } => match digits {
                Some(d) if d == *notify_key => {
                    self.path.push(format!("key {d}"));
                    self.used_self_service = true;
                    self.waiting = Waiting::Service;
                    out.push(Action::SelfService {
                        node: id.to_string(),
                        service: Service::OutageNotify,
                        input: self.collected.clone(),
                    });
                }
                other => {
                    self.collected.clear();
                    self.path.push(match other {
                        Some(d) => format!("key {d}"),
                        None => "no key".into(),
                    });
                    self.enter(next, now, out);
                }
            },
            NodeKind::Survey { thanks, .. } => {
                match digits
                    .as_deref()
                    .and_then(|d| d.parse::<u8>().ok())
                    .filter(|n| (1..=5).contains(n))
                {
                    Some(n) => {
                        out.push(Action::SurveyAnswer(n));
                        self.say(id, thanks, &[], out);
                    }
                    None => self.path.push("survey not answered".into()),
                }
                self.hang_up(false, out);
            }
            _ => {}
        }
    }

    fn notifying(&self, kind: &NodeKind) -> bool {
        matches!(kind, NodeKind::Outage { .. })
    }

    /// Whether the caller used self-service on this call.
    pub fn used_self_service(&self) -> bool {
        self.used_self_service
    }
}
