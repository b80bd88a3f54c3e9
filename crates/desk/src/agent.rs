//! The agent's screen as plain state: what the router told it, what the agent typed, and
//! [`Agent::update`], which turns a message into the commands to send. No I/O here; the
//! app sends the commands on the session stream (see `client.rs`), and the tests drive
//! this state directly.

use crate::i18n::Lang;
use hotline_catalog::{Catalog, Codes, TicketKind};
use hotline_proto::v1 as pb;
use iced::widget::combo_box;
use pb::agent_command::Command as C;
use pb::agent_event::Event as E;
use std::time::{Duration, Instant, SystemTime};

/// Not-ready reason code the desktop's break button sends (the router's "break").
pub const BREAK: u32 = 16;

pub use hotline_catalog::codes::{CALL_BACK_DONE, CALL_BACK_NO_ANSWER, CALL_BACK_REASON};

/// The session's link to the router.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    /// Not connected yet.
    Connecting,
    /// The session stream is open.
    Online,
    /// Lost; the desktop tries again (attempt number, why).
    Reconnecting(u32, String),
    /// The router ended the session for good (why), e.g. "logged in elsewhere".
    Closed(String),
}

/// A call ringing at this desk.
#[derive(Debug, Clone)]
pub struct Ringing {
    /// The offer as the router sent it (queue, screen pop …).
    pub offer: pb::Offer,
    /// When it stops ringing here, if it ever does.
    pub until: Option<Instant>,
}

/// The conversation (and afterwards its wrap-up).
#[derive(Debug, Clone)]
pub struct CallView {
    /// Call id.
    pub call_id: u64,
    /// Queue it came from.
    pub queue: String,
    /// When the agent answered.
    pub answered: Instant,
    /// When the conversation ended (wrap-up since then).
    pub ended: Option<Instant>,
    /// The caller is on hold.
    pub held: bool,
    /// A 回访 call-back this agent makes (the ticket, the attempt).
    pub call_back: Option<pb::CallBackTask>,
    /// The customer's line during a call-back, as the router last said.
    pub line: pb::CustomerLine,
}

/// A ticket the agent is writing (opened with the wrap-up).
#[derive(Debug, Clone, PartialEq)]
pub struct TicketForm {
    /// Index into the catalog's types.
    pub kind: usize,
    /// Index into that type's subcategories.
    pub subcategory: usize,
    /// What the customer said.
    pub description: String,
    /// 1 low … 4 urgent.
    pub priority: i32,
    /// Ticked: opened with the wrap-up.
    pub attach: bool,
}

impl Default for TicketForm {
    fn default() -> Self {
        TicketForm {
            kind: 0,
            subcategory: 0,
            description: String::new(),
            priority: pb::TicketPriority::Normal as i32,
            attach: false,
        }
    }
}

/// What to do to one of the customer's open tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketAction {
    /// Add a note (the text).
    #[default]
    Note,
    /// Close (after the callback).
    Close,
    /// Reopen (the text says why).
    Reopen,
}

impl TicketAction {
    /// All, in menu order.
    pub const ALL: [TicketAction; 3] = [
        TicketAction::Note,
        TicketAction::Close,
        TicketAction::Reopen,
    ];
    /// The i18n key of its label.
    pub fn key(self) -> &'static str {
        match self {
            TicketAction::Note => "ticket.note",
            TicketAction::Close => "ticket.close",
            TicketAction::Reopen => "ticket.reopen",
        }
    }
}

/// A change to one of the caller's open tickets (sent with the wrap-up).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketUpdate {
    /// Ticket number (one of the screen pop's open tickets).
    pub ticket: Option<u64>,
    /// What to do.
    pub action: TicketAction,
    /// Note, resolution or reopen reason.
    pub text: String,
    /// Ticked: sent with the wrap-up.
    pub attach: bool,
}

/// The wrap-up form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WrapForm {
    /// Disposition code ("answered", "ticket-opened" …).
    pub disposition: String,
    /// Reason code ("fault.broadband" …), first guessed from the IVR's choice.
    pub reason: String,
    /// Resolved at first contact (claimed; the store verifies it later).
    pub fcr: bool,
    /// A call-back's outcome: the customer's satisfaction (0: not given yet).
    pub satisfaction: u32,
    /// A call-back's outcome: the customer says the problem is solved.
    pub solved: bool,
}

/// One entry of a wrap-up pick-list: the code sent to the router, the words a person
/// reads (both languages, so typing either filters the list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The catalogue's code.
    pub code: String,
    /// 中文 and English.
    pub label: String,
}

impl std::fmt::Display for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

/// The wrap-up's pick-lists, from the codes catalogue (统一编码).
#[derive(Debug, Clone)]
pub struct Picks {
    /// Call reasons.
    pub reasons: combo_box::State<Choice>,
    /// Dispositions.
    pub dispositions: combo_box::State<Choice>,
}

impl Picks {
    fn of(codes: &Codes) -> Picks {
        let choice = |code: &str, zh: &str, en: &str| Choice {
            code: code.to_string(),
            label: format!("{zh} {en}"),
        };
        let reasons = codes.reasons.iter();
        let dispositions = codes.dispositions.iter();
        Picks {
            reasons: combo_box::State::new(
                reasons.map(|r| choice(&r.code, &r.zh, &r.en)).collect(),
            ),
            dispositions: combo_box::State::new(
                dispositions
                    .map(|d| choice(&d.code, &d.zh, &d.en))
                    .collect(),
            ),
        }
    }

    /// The reason entry of a code.
    pub fn reason(&self, code: &str) -> Option<&Choice> {
        self.reasons.options().iter().find(|c| c.code == code)
    }

    /// The disposition entry of a code.
    pub fn disposition(&self, code: &str) -> Option<&Choice> {
        self.dispositions.options().iter().find(|c| c.code == code)
    }
}

/// Figures of this shift.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Shift {
    /// Calls answered and wrapped up.
    pub calls: u32,
    /// Sum of handle times (answer → wrap-up done), seconds.
    pub handle_secs: f64,
    /// Calls claimed resolved at first contact.
    pub fcr: u32,
}

impl Shift {
    /// Average handle time, seconds.
    pub fn aht(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.handle_secs / self.calls as f64)
    }
    /// Share claimed resolved at first contact.
    pub fn fcr_rate(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.fcr as f64 / self.calls as f64)
    }
}

/// The agent's screen.
#[derive(Debug, Clone)]
pub struct Agent {
    /// Work number.
    pub id: String,
    /// Name.
    pub name: String,
    /// State as the router last said.
    pub state: pb::AgentState,
    /// Not-ready reason label.
    pub reason: String,
    /// Since when (this desk's clock).
    pub since: Instant,
    /// Wrap-up ends by itself then.
    pub wrap_until: Option<Instant>,
    /// The link to the router.
    pub link: Link,
    /// A call ringing here.
    pub ringing: Option<Ringing>,
    /// The call being handled (until its wrap-up is done).
    pub call: Option<CallView>,
    /// The screen pop of the current or last call.
    pub pop: Option<pb::ScreenPop>,
    /// Notes of the call.
    pub notes: String,
    /// Transfer target typed in: a queue name or a work number.
    pub transfer_to: String,
    /// Name typed for an unknown caller's new customer record.
    pub new_customer: String,
    /// Ticket being written.
    pub ticket: TicketForm,
    /// Change to an existing ticket being written.
    pub ticket_update: TicketUpdate,
    /// Customer search: what is typed, and what the CRM found (name, number, segment).
    pub search: String,
    /// Results of the last search.
    pub found: Vec<pb::Customer>,
    /// Wrap-up being written.
    pub wrap: WrapForm,
    /// This shift.
    pub shift: Shift,
    /// The last thing to tell the agent (an error, a ticket number …).
    pub notice: Option<String>,
    /// Queues this agent serves (for transfers).
    pub queues: Vec<String>,
    /// Ticket types and subcategories (the same file the router uses).
    pub catalog: Catalog,
    /// Call reasons and dispositions (the same file the router checks wrap-ups against).
    pub codes: Codes,
    /// The wrap-up's pick-lists.
    pub picks: Picks,
    /// The tickets this agent owns and are not closed yet (首问负责), soonest deadline
    /// first, live from the router.
    pub mine: Vec<pb::Ticket>,
    next_command: u64,
    /// Ready again once the wrap-up is done.
    ready_after_wrap: bool,
}

/// What the agent (or the router) did.
#[derive(Debug, Clone)]
pub enum Message {
    /// Go ready (from wrap-up: finish it first).
    Ready,
    /// Take a break.
    Break,
    /// Answer the ringing call.
    Answer,
    /// Reject it.
    Reject,
    /// Hold the caller.
    Hold,
    /// Take them off hold.
    Resume,
    /// Hold if talking, resume if held (one key for both).
    HoldToggle,
    /// End the conversation.
    HangUp,
    /// Transfer to what `transfer_to` says.
    Transfer,
    /// Finish the wrap-up (and go ready).
    FinishWrapUp,
    /// 30 s more wrap-up.
    Extend,
    /// Log out.
    Logout,
    /// Typing in the notes.
    Notes(String),
    /// Typing the transfer target.
    TransferTo(String),
    /// Ticket type chosen (catalog index).
    TicketKind(usize),
    /// Subcategory chosen (index).
    TicketSubcategory(usize),
    /// Ticket description typed.
    TicketDescription(String),
    /// Ticket priority chosen.
    TicketPriority(i32),
    /// Attach the ticket to the wrap-up or not.
    TicketAttach(bool),
    /// Disposition typed or chosen.
    Disposition(String),
    /// Reason typed or chosen.
    Reason(String),
    /// "Resolved at first contact" ticked.
    Fcr(bool),
    /// A call-back's satisfaction chosen (1–5).
    Satisfaction(u32),
    /// A call-back: the customer says it is solved (or not).
    Solved(bool),
    /// An event from the router.
    Router(Box<pb::AgentEvent>),
    /// The link changed.
    Link(Link),
    /// Dismiss the notice.
    Dismiss,
    /// The agent's own tickets: a whole list or changed ones.
    MyTickets(pb::TicketUpdate),
    /// An open ticket chosen for a change.
    UpdateTicket(u64),
    /// The change chosen.
    UpdateAction(TicketAction),
    /// Its text.
    UpdateText(String),
    /// Send the change with the wrap-up or not.
    UpdateAttach(bool),
    /// Customer search typed.
    Search(String),
    /// Run the search (the app calls the CRM).
    RunSearch,
    /// The CRM's answer.
    Found(Result<Vec<pb::Customer>, String>),
    /// Name typed for a new customer (unknown caller).
    NewCustomerName(String),
    /// Create the unknown caller as a customer (the app calls the CRM).
    CreateCustomer,
    /// The CRM answered: the new record, or why not.
    CustomerCreated(Result<Box<pb::Customer>, String>),
}

fn ticket_kind(k: TicketKind) -> pb::TicketKind {
    match k {
        TicketKind::Complaint => pb::TicketKind::Complaint,
        TicketKind::Fault => pb::TicketKind::Fault,
        TicketKind::Inquiry => pb::TicketKind::Inquiry,
        TicketKind::ServiceOrder => pb::TicketKind::ServiceOrder,
        TicketKind::Suggestion => pb::TicketKind::Suggestion,
    }
}

/// Words for a not-ready reason code in the screen's language (the router's label for
/// codes it configured beyond the built-in ones).
fn reason_label(code: u32, label: &str, lang: Lang) -> String {
    let zh = match code {
        0 => "刚登录",
        1 => "未接听",
        2 => "拒接",
        3 => "班长设置",
        16 => "小休",
        17 => "下班",
        _ => return label.to_string(),
    };
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => label.to_string(),
    }
}

/// A router timestamp as an instant on this desk's clock.
fn instant_of(t: &prost_types::Timestamp, now: Instant) -> Instant {
    let at = SystemTime::UNIX_EPOCH + Duration::new(t.seconds.max(0) as u64, t.nanos.max(0) as u32);
    match at.duration_since(SystemTime::now()) {
        Ok(ahead) => now + ahead,
        Err(e) => now.checked_sub(e.duration()).unwrap_or(now),
    }
}

impl Agent {
    /// A fresh screen for agent `id` after login.
    pub fn new(id: &str, name: &str, queues: Vec<String>, now: Instant) -> Agent {
        let codes = Codes::builtin();
        Agent {
            id: id.into(),
            name: name.into(),
            state: pb::AgentState::LoggedOut,
            reason: String::new(),
            since: now,
            wrap_until: None,
            link: Link::Connecting,
            ringing: None,
            call: None,
            pop: None,
            notes: String::new(),
            transfer_to: String::new(),
            new_customer: String::new(),
            ticket: TicketForm::default(),
            ticket_update: TicketUpdate::default(),
            search: String::new(),
            found: Vec::new(),
            wrap: WrapForm::default(),
            shift: Shift::default(),
            notice: None,
            queues,
            catalog: Catalog::builtin(),
            picks: Picks::of(&codes),
            codes,
            mine: Vec::new(),
            next_command: 0,
            ready_after_wrap: false,
        }
    }

    /// The reason the caller chose in the IVR, as the wrap-up's first guess: its
    /// group's general reason (empty when the catalogue has none).
    fn first_guess_reason(&self) -> String {
        let group = self.pop.as_ref().map_or("", |p| p.reason.as_str());
        let general = format!("{group}.general");
        match self.codes.reason(&general) {
            Some(_) => general,
            None => String::new(),
        }
    }

    /// Where the agent is, as the status bar says it.
    pub fn status_key(&self) -> &'static str {
        let call_back = self
            .ringing
            .as_ref()
            .is_some_and(|r| r.offer.call_back_task.is_some());
        match self.state {
            _ if call_back => "state.call_back_offered",
            _ if self.ringing.is_some() => "state.offered",
            pb::AgentState::Connected if self.call.as_ref().is_some_and(|c| c.held) => {
                "state.on_hold"
            }
            pb::AgentState::Connected => "state.on_call",
            pb::AgentState::AfterCallWork => "state.wrap_up",
            pb::AgentState::Ready | pb::AgentState::Reserved => "state.ready",
            pb::AgentState::NotReady => "state.not_ready",
            _ => "state.logged_out",
        }
    }

    /// Seconds the offer has left to ring.
    pub fn rings_left(&self, now: Instant) -> Option<u64> {
        let until = self.ringing.as_ref()?.until?;
        Some(until.saturating_duration_since(now).as_secs())
    }

    /// What creating the unknown caller as a customer needs: (name, number), if the
    /// caller is unknown and a name is typed.
    pub fn new_customer_request(&self) -> Option<(String, String)> {
        let pop = self.pop.as_ref().filter(|p| p.customer.is_none())?;
        let name = self.new_customer.trim();
        (!name.is_empty()).then(|| (name.to_string(), pop.caller_number.clone()))
    }

    /// The wrap-up may be finished: disposition and reason filled in (and for a
    /// call-back the customer reached, their satisfaction).
    pub fn wrap_complete(&self) -> bool {
        !self.wrap.disposition.trim().is_empty()
            && !self.wrap.reason.trim().is_empty()
            && (!self.reached() || (1..=5).contains(&self.wrap.satisfaction))
    }

    /// The call is a call-back and the customer answered it.
    pub fn reached(&self) -> bool {
        self.call.as_ref().is_some_and(|c| {
            c.call_back.is_some()
                && matches!(
                    c.line,
                    pb::CustomerLine::Answered | pb::CustomerLine::HungUp
                )
        })
    }

    fn command(&mut self, c: C) -> pb::AgentCommand {
        self.next_command += 1;
        // name the call meant, so a late click cannot act on the next call
        let call_id = self
            .ringing
            .as_ref()
            .map(|r| r.offer.call_id)
            .or(self.call.as_ref().map(|c| c.call_id))
            .unwrap_or(0);
        pb::AgentCommand {
            command_id: self.next_command,
            command: Some(c),
            call_id,
        }
    }

    /// The wrap-up as the contract has it, with the ticket if attached.
    fn wrap_up(&self) -> pb::WrapUp {
        let customer = self
            .pop
            .as_ref()
            .and_then(|p| p.customer.as_ref())
            .map(|c| c.id);
        let mut new_tickets = Vec::new();
        if self.ticket.attach
            && let (Some(customer_id), Some(kind)) =
                (customer, self.catalog.kind.get(self.ticket.kind))
        {
            new_tickets.push(pb::CreateTicketRequest {
                customer_id,
                kind: ticket_kind(kind.kind) as i32,
                subcategory: kind
                    .subcategories
                    .get(self.ticket.subcategory)
                    .map(|s| s.id.clone())
                    .unwrap_or_default(),
                description: self.ticket.description.clone(),
                priority: self.ticket.priority,
            });
        }
        let mut ticket_changes = Vec::new();
        let u = &self.ticket_update;
        if u.attach
            && let Some(id) = u.ticket
        {
            use pb::ticket_change::Change as Ch;
            let text = u.text.trim().to_string();
            let change = match u.action {
                TicketAction::Note => Ch::Note(text),
                TicketAction::Close => Ch::Close(true),
                TicketAction::Reopen => Ch::ReopenReason(text),
            };
            ticket_changes.push(pb::UpdateTicketRequest {
                id,
                change: Some(pb::TicketChange {
                    change: Some(change),
                }),
            });
        }
        pb::WrapUp {
            disposition: self.wrap.disposition.trim().to_string(),
            reason: self.wrap.reason.trim().to_string(),
            notes: self.notes.clone(),
            new_tickets,
            ticket_changes,
            resolved_first_contact: self.wrap.fcr
                && self.call.as_ref().is_some_and(|c| c.call_back.is_none()),
            call_back: self
                .call
                .as_ref()
                .filter(|c| c.call_back.is_some())
                .map(|_| pb::CallBackResult {
                    reached: self.reached(),
                    satisfaction: self.wrap.satisfaction,
                    solved: self.wrap.solved,
                }),
        }
    }

    /// Apply a message; the commands to send to the router, in order.
    pub fn update(&mut self, message: Message, lang: Lang, now: Instant) -> Vec<pb::AgentCommand> {
        let mut out = Vec::new();
        match message {
            Message::Ready if self.state == pb::AgentState::AfterCallWork => {
                return self.finish_wrap_up(lang, true);
            }
            Message::Ready if self.call.is_none() && self.ringing.is_none() => {
                out.push(self.command(C::Ready(true)))
            }
            Message::Break => out.push(self.command(C::NotReady(BREAK))),
            Message::Answer if self.ringing.is_some() => out.push(self.command(C::Answer(true))),
            Message::Reject if self.ringing.is_some() => out.push(self.command(C::Reject(true))),
            // the router has no hold event for the agent: shown at once, an error undoes it
            Message::Hold if self.on_call() => {
                self.set_held(true);
                out.push(self.command(C::Hold(true)))
            }
            Message::HoldToggle if self.on_call() => {
                let held = self.call.as_ref().is_some_and(|c| c.held);
                let m = if held { Message::Resume } else { Message::Hold };
                return self.update(m, lang, now);
            }
            Message::Resume if self.on_call() => {
                self.set_held(false);
                out.push(self.command(C::Resume(true)))
            }
            Message::HangUp if self.on_call() => out.push(self.command(C::HangUp(true))),
            Message::Transfer if self.on_call() => {
                let to = self.transfer_to.trim().to_string();
                if to.is_empty() {
                    self.notice = Some(lang.t("call.transfer_to").into());
                } else if self.queues.contains(&to) {
                    out.push(self.command(C::TransferToQueue(to)));
                } else {
                    out.push(self.command(C::TransferToAgent(to)));
                }
            }
            Message::FinishWrapUp => return self.finish_wrap_up(lang, false),
            Message::Extend if self.state == pb::AgentState::AfterCallWork => {
                out.push(self.command(C::ExtendWrapUp(prost_types::Duration {
                    seconds: 30,
                    nanos: 0,
                })))
            }
            Message::Logout if self.call.is_none() && self.ringing.is_none() => {
                out.push(self.command(C::Logout(true)))
            }
            Message::Notes(s) => self.notes = s,
            Message::TransferTo(s) => self.transfer_to = s,
            Message::TicketKind(k) if k < self.catalog.kind.len() => {
                self.ticket.kind = k;
                self.ticket.subcategory = 0;
            }
            Message::TicketSubcategory(s) => self.ticket.subcategory = s,
            Message::TicketDescription(s) => self.ticket.description = s,
            Message::TicketPriority(p) => self.ticket.priority = p.clamp(1, 4),
            Message::TicketAttach(b) => self.ticket.attach = b,
            Message::Disposition(s) => self.wrap.disposition = s,
            Message::Reason(s) => self.wrap.reason = s,
            Message::Fcr(b) => self.wrap.fcr = b,
            Message::Satisfaction(n) => self.wrap.satisfaction = n.clamp(1, 5),
            Message::Solved(b) => self.wrap.solved = b,
            Message::Router(ev) => return self.router_event(*ev, lang, now),
            Message::Link(l) => {
                if l == Link::Online {
                    self.notice = None;
                }
                self.link = l;
            }
            Message::Dismiss => self.notice = None,
            Message::MyTickets(u) => {
                // closed ones leave; resolved ones stay until the call-back closes them
                crate::worklist::merge(&mut self.mine, u, |t| {
                    t.status != pb::TicketStatus::Closed as i32
                });
            }
            Message::NewCustomerName(s) => self.new_customer = s,
            Message::UpdateTicket(id) => self.ticket_update.ticket = Some(id),
            Message::UpdateAction(a) => self.ticket_update.action = a,
            Message::UpdateText(t) => self.ticket_update.text = t,
            Message::UpdateAttach(b) => self.ticket_update.attach = b,
            Message::Search(q) => self.search = q,
            Message::Found(Ok(list)) => self.found = list,
            Message::Found(Err(why)) => self.notice = Some(why),
            Message::CustomerCreated(Ok(c)) => {
                if let Some(p) = self.pop.as_mut() {
                    p.customer = Some(*c);
                }
                self.new_customer.clear();
            }
            Message::CustomerCreated(Err(why)) => self.notice = Some(why),
            // a button for a state the agent is not in: nothing to do
            _ => {}
        }
        out
    }

    fn on_call(&self) -> bool {
        self.state == pb::AgentState::Connected && self.call.is_some()
    }

    fn finish_wrap_up(&mut self, lang: Lang, then_ready: bool) -> Vec<pb::AgentCommand> {
        if self.state != pb::AgentState::AfterCallWork || self.call.is_none() {
            return vec![];
        }
        if !self.wrap_complete() {
            self.notice = Some(lang.t("wrap.required").into());
            return vec![];
        }
        self.ready_after_wrap = then_ready || self.ready_after_wrap;
        let w = self.wrap_up();
        vec![self.command(C::WrapUp(w))]
    }

    fn router_event(
        &mut self,
        ev: pb::AgentEvent,
        lang: Lang,
        now: Instant,
    ) -> Vec<pb::AgentCommand> {
        let mut out = Vec::new();
        match ev.event {
            Some(E::Offer(o)) => {
                let until = o.ring_until.as_ref().map(|t| instant_of(t, now));
                self.pop = o.screen_pop.clone();
                self.ringing = Some(Ringing { offer: o, until });
            }
            Some(E::OfferCancelled(why)) => {
                self.ringing = None;
                if self.call.is_none() {
                    self.pop = None; // not this agent's caller any more
                }
                let key = match why.as_str() {
                    "no answer" => "offer.no_answer",
                    "caller hung up" => "offer.caller_gone",
                    "rejected" => "offer.rejected",
                    _ => "",
                };
                self.notice = Some(if key.is_empty() {
                    why
                } else {
                    lang.t(key).into()
                });
            }
            Some(E::Connected(call)) => {
                let (queue, call_back) = self
                    .ringing
                    .take()
                    .map(|r| (r.offer.queue, r.offer.call_back_task))
                    .unwrap_or_default();
                // a new call: fresh notes and forms (the last call's were sent)
                self.notes.clear();
                self.ticket = TicketForm::default();
                self.ticket_update = TicketUpdate::default();
                self.wrap = match &call_back {
                    // a call-back's record: its reason, and no answer until one comes
                    Some(_) => WrapForm {
                        reason: CALL_BACK_REASON.into(),
                        disposition: CALL_BACK_NO_ANSWER.into(),
                        ..WrapForm::default()
                    },
                    None => WrapForm {
                        reason: self.first_guess_reason(),
                        ..WrapForm::default()
                    },
                };
                self.call = Some(CallView {
                    call_id: call,
                    queue,
                    answered: now,
                    ended: None,
                    held: false,
                    call_back,
                    line: pb::CustomerLine::Unspecified,
                });
            }
            Some(E::CustomerLine(l)) => {
                let line = pb::CustomerLine::try_from(l).unwrap_or(pb::CustomerLine::Unspecified);
                if let Some(c) = self.call.as_mut() {
                    c.line = line;
                }
                if line == pb::CustomerLine::Answered {
                    self.wrap.disposition = CALL_BACK_DONE.into();
                }
            }
            Some(E::ConversationEnded(_)) => {
                if let Some(c) = self.call.as_mut() {
                    c.ended = Some(now);
                    c.held = false;
                }
            }
            Some(E::State(s)) => {
                let state =
                    pb::AgentState::try_from(s.state).unwrap_or(pb::AgentState::Unspecified);
                let was_wrapping = self.state == pb::AgentState::AfterCallWork;
                self.state = state;
                self.reason = s
                    .reason
                    .map(|r| reason_label(r.code, &r.label, lang))
                    .unwrap_or_default();
                self.since = now;
                self.wrap_until = s.wrap_up_until.as_ref().map(|t| instant_of(t, now));
                if let Some(c) = self.call.as_mut() {
                    if state == pb::AgentState::Connected {
                        c.held = false;
                    }
                }
                if was_wrapping && state != pb::AgentState::AfterCallWork {
                    // the wrap-up is done: the call counts on the shift
                    if let Some(c) = self.call.take() {
                        self.shift.calls += 1;
                        self.shift.handle_secs += now.duration_since(c.answered).as_secs_f64();
                        if self.wrap.fcr {
                            self.shift.fcr += 1;
                        }
                    }
                    self.notes.clear();
                    self.ticket = TicketForm::default();
                    self.ticket_update = TicketUpdate::default();
                    self.wrap = WrapForm::default();
                    self.pop = None;
                    if self.ready_after_wrap && state == pb::AgentState::NotReady {
                        out.push(self.command(C::Ready(true)));
                    }
                    self.ready_after_wrap = false;
                }
                if state == pb::AgentState::LoggedOut {
                    self.ringing = None;
                }
            }
            Some(E::Error(e)) => {
                // hold/resume arrive as errors only when refused; anything else: say it
                self.notice = Some(e.message);
            }
            Some(E::Done(_)) => {}
            Some(E::Heartbeat(n)) => out.push(self.command(C::HeartbeatAck(n))),
            Some(E::Closed(c)) => {
                self.link = Link::Closed(if c.code == pb::SessionEnd::LoggedInElsewhere as i32 {
                    lang.t("login.elsewhere").to_string()
                } else {
                    c.reason
                });
                self.ringing = None;
            }
            Some(E::TicketsCreated(list)) => {
                let ids: Vec<String> = list.tickets.iter().map(|t| t.id.to_string()).collect();
                self.notice = Some(format!("{} {}", lang.t("ticket.title"), ids.join(", ")));
            }
            None => {}
        }
        out
    }

    fn set_held(&mut self, held: bool) {
        if let Some(c) = self.call.as_mut() {
            c.held = held;
        }
    }
}
