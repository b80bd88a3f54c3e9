//! The back office's screen (后台): the group's worklist, live from the router's
//! `WatchTickets` stream — open tickets soonest deadline first, overdue in red, key
//! accounts marked, filtered by status and type — and what a clerk does to the chosen
//! ticket: take it, add a note, pass it to another group, resolve it with a resolution.
//! Plain state: `update` does no I/O and says what to send ([`Work`]).

use hotline_catalog::Catalog;
use hotline_proto::v1 as pb;
use pb::ticket_change::Change;

/// What happens on the back-office screen.
#[derive(Debug, Clone)]
pub enum Message {
    /// The worklist stream: a whole list or changed tickets.
    Update(pb::TicketUpdate),
    /// The stream was lost; trying again (attempt, why).
    Lost(u32, String),
    /// A ticket picked from the list.
    Select(u64),
    /// Show only this status (none: every open one).
    FilterStatus(Option<pb::TicketStatus>),
    /// Show only this type (none: every type).
    FilterKind(Option<pb::TicketKind>),
    /// The note being typed.
    Note(String),
    /// Add the note to the chosen ticket.
    AddNote,
    /// Take the chosen ticket (work starts, in the clerk's name).
    Take,
    /// The group to pass the chosen ticket to.
    PassTo(String),
    /// Pass it there.
    Pass,
    /// The resolution picked.
    Resolution(String),
    /// Resolve the chosen ticket with the resolution and the note.
    Resolve,
    /// The router's answer to a change: the ticket as it is now, or its words.
    Done(Result<Box<pb::Ticket>, String>),
    /// Log out.
    Logout,
}

/// A change to send to the router.
#[derive(Debug, Clone, PartialEq)]
pub struct Work {
    /// The ticket.
    pub ticket: u64,
    /// The change.
    pub change: Change,
}

/// The back-office screen's state.
#[derive(Debug, Clone)]
pub struct Worklist {
    /// The clerk's work number.
    pub id: String,
    /// Their name.
    pub name: String,
    /// The group whose tickets they work (a code).
    pub group: String,
    /// The open tickets, soonest deadline first.
    pub tickets: Vec<pb::Ticket>,
    /// The chosen ticket.
    pub selected: Option<u64>,
    /// Status filter.
    pub status: Option<pb::TicketStatus>,
    /// Type filter.
    pub kind: Option<pb::TicketKind>,
    /// The note typed.
    pub note: String,
    /// The group to pass to.
    pub pass_to: Option<String>,
    /// The resolution picked.
    pub resolution: Option<String>,
    /// The latest word from the router (a refusal, a lost stream).
    pub notice: Option<String>,
    /// A list has arrived since the screen opened.
    pub loaded: bool,
}

impl Worklist {
    /// The screen of clerk `id` of `group`, before the first list arrives.
    pub fn new(id: &str, name: &str, group: &str) -> Worklist {
        Worklist {
            id: id.into(),
            name: name.into(),
            group: group.into(),
            tickets: vec![],
            selected: None,
            status: None,
            kind: None,
            note: String::new(),
            pass_to: None,
            resolution: None,
            notice: None,
            loaded: false,
        }
    }

    /// The tickets the filters let through, in list order.
    pub fn shown(&self) -> impl Iterator<Item = &pb::Ticket> {
        self.tickets.iter().filter(|t| {
            self.status.is_none_or(|s| t.status == s as i32)
                && self.kind.is_none_or(|k| t.kind == k as i32)
        })
    }

    /// The chosen ticket, if it is still on the list.
    pub fn chosen(&self) -> Option<&pb::Ticket> {
        let id = self.selected?;
        self.tickets.iter().find(|t| t.id == id)
    }

    /// Whether the chosen ticket can be taken now (not yet in progress).
    pub fn can_take(&self) -> bool {
        self.chosen()
            .is_some_and(|t| t.status != pb::TicketStatus::InProgress as i32)
    }

    /// Apply a message; the change to send, if any.
    pub fn update(&mut self, m: Message) -> Option<Work> {
        match m {
            Message::Update(u) => self.merge(u),
            Message::Lost(n, why) => self.notice = Some(format!("({n}) {why}")),
            Message::Select(id) => {
                self.selected = Some(id);
                self.resolution = self.default_resolution();
                self.pass_to = None;
            }
            Message::FilterStatus(s) => self.status = s,
            Message::FilterKind(k) => self.kind = k,
            Message::Note(s) => self.note = s,
            Message::PassTo(g) => self.pass_to = Some(g),
            Message::Resolution(r) => self.resolution = Some(r),
            Message::AddNote => {
                let text = self.note.trim().to_string();
                if !text.is_empty() {
                    return self.work(Change::Note(text));
                }
            }
            Message::Take => {
                if self.can_take() {
                    return self.work(Change::Start(true));
                }
            }
            Message::Pass => {
                if let Some(g) = self.pass_to.clone() {
                    return self.work(Change::DispatchTo(g));
                }
            }
            Message::Resolve => {
                if let Some(code) = self.resolution.clone() {
                    let note = self.note.trim().to_string();
                    return self.work(Change::Resolve(pb::Resolution { code, note }));
                }
            }
            Message::Done(Ok(t)) => {
                self.notice = None;
                self.note.clear();
                self.put(*t);
            }
            Message::Done(Err(why)) => self.notice = Some(why),
            Message::Logout => {}
        }
        None
    }

    fn work(&self, change: Change) -> Option<Work> {
        self.selected.map(|ticket| Work { ticket, change })
    }

    /// A list or changed tickets from the stream.
    fn merge(&mut self, u: pb::TicketUpdate) {
        self.loaded = true;
        self.notice = None;
        let (catalog, group) = (Catalog::shipped(), &self.group);
        let ours = |t: &pb::Ticket| {
            is_open(t)
                && catalog
                    .office(&t.back_office)
                    .is_some_and(|g| g.code == *group)
        };
        merge(&mut self.tickets, u, ours);
        self.drop_gone_choice();
    }

    /// A ticket as the router answered a change.
    fn put(&mut self, t: pb::Ticket) {
        self.merge(pb::TicketUpdate {
            tickets: vec![t],
            snapshot: false,
        });
    }

    fn drop_gone_choice(&mut self) {
        if self.chosen().is_none() {
            self.selected = None;
        }
    }

    /// The likeliest resolution of the chosen ticket's type.
    fn default_resolution(&self) -> Option<String> {
        let kind = kind_of(self.chosen()?.kind)?;
        Catalog::shipped().kind(kind).resolutions.first().cloned()
    }
}

/// Apply a `WatchTickets` update to a list kept soonest deadline first: a whole list
/// replaces it; a changed ticket takes its place while `keep` holds for it and leaves the
/// list when not (the worklist, the agent's "my tickets").
pub fn merge(list: &mut Vec<pb::Ticket>, u: pb::TicketUpdate, keep: impl Fn(&pb::Ticket) -> bool) {
    if u.snapshot {
        list.clear();
    }
    for t in u.tickets {
        list.retain(|x| x.id != t.id);
        if keep(&t) {
            let at = list.partition_point(|x| (deadline(x), x.id) < (deadline(&t), t.id));
            list.insert(at, t);
        }
    }
}

/// Work is still to be done on it (new, dispatched, in progress, reopened).
pub fn is_open(t: &pb::Ticket) -> bool {
    use pb::TicketStatus as S;
    matches!(
        S::try_from(t.status),
        Ok(S::New | S::Dispatched | S::InProgress | S::Reopened)
    )
}

/// A ticket's deadline in seconds since the epoch (unset: never).
pub fn deadline(t: &pb::Ticket) -> i64 {
    t.deadline.as_ref().map_or(i64::MAX, |d| d.seconds)
}

/// The catalogue's type of a wire ticket kind.
pub fn kind_of(k: i32) -> Option<hotline_catalog::TicketKind> {
    use hotline_catalog::TicketKind as K;
    Some(match pb::TicketKind::try_from(k).ok()? {
        pb::TicketKind::Complaint => K::Complaint,
        pb::TicketKind::Fault => K::Fault,
        pb::TicketKind::Inquiry => K::Inquiry,
        pb::TicketKind::ServiceOrder => K::ServiceOrder,
        pb::TicketKind::Suggestion => K::Suggestion,
        pb::TicketKind::Unspecified => return None,
    })
}
