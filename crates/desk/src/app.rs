//! The application: the login form, then the agent's screen or the supervisor's
//! wallboard; theme and language; the gRPC streams as subscriptions; keyboard shortcuts.

use crate::agent::{self, Agent, Link};
use crate::client::{
    self, Credentials, LoginError, SessionEvent, StatsEvent, TicketsEvent, Watch, Welcome,
};
use crate::i18n::Lang;
use crate::reports::{self, Reports};
use crate::supervisor::{self, Wallboard};
use crate::worklist::{self, Worklist};
use hotline_proto::v1 as pb;
use iced::keyboard::{self, Key, key::Named};
use iced::widget::{button, column, container, row, space, text, text_input};
use iced::{Element, Length, Subscription, Task, Theme};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The login form.
#[derive(Debug, Clone, Default)]
pub struct LoginForm {
    /// Router address.
    pub router: String,
    /// Work number.
    pub agent: String,
    /// Password.
    pub password: String,
    /// Waiting for the router.
    pub busy: bool,
    /// Why the last try failed.
    pub error: Option<LoginError>,
}

/// Which screen is up.
#[derive(Debug)]
pub enum Screen {
    /// Logging in.
    Login(LoginForm),
    /// An agent at work.
    Agent {
        /// Their screen.
        agent: Box<Agent>,
        /// Who logged in (for reconnects).
        who: Credentials,
        /// Where commands go while the session is open.
        commands: Option<mpsc::Sender<pb::AgentCommand>>,
    },
    /// A back-office clerk at their group's worklist.
    BackOffice {
        /// The worklist.
        list: Box<Worklist>,
        /// Who logged in.
        who: Credentials,
    },
    /// A supervisor.
    Supervisor {
        /// The wallboard.
        board: Box<Wallboard>,
        /// The reports.
        reports: Box<Reports>,
        /// Which of the two is up.
        tab: Tab,
        /// Who logged in.
        who: Credentials,
    },
}

/// The supervisor's two screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    /// The live wallboard.
    #[default]
    Board,
    /// Reports over the kept history.
    Reports,
}

/// The desktop.
#[derive(Debug)]
pub struct Desk {
    /// The screen.
    pub screen: Screen,
    /// Language.
    pub lang: Lang,
    /// Dark theme.
    pub dark: bool,
    /// Now, as of the last tick (timers on screen are drawn against it).
    pub now: Instant,
    /// How to reach an https:// router (its certificate authority, our certificate).
    pub tls: hotline_proto::client::ClientTls,
}

/// Everything that can happen.
#[derive(Debug, Clone)]
pub enum Message {
    /// Login form: router address typed.
    Router(String),
    /// Login form: work number typed.
    AgentId(String),
    /// Login form: password typed.
    Password(String),
    /// Login form: submit.
    LogIn,
    /// The router answered the login.
    LoggedIn(Box<Credentials>, Result<Welcome, LoginError>),
    /// The agent's screen.
    Agent(agent::Message),
    /// The agent's session stream.
    Session(SessionEvent),
    /// The wallboard.
    Board(supervisor::Message),
    /// The wallboard's stream.
    Stats(StatsEvent),
    /// The supervisor switches between the wallboard and the reports.
    Tab(Tab),
    /// The reports screen.
    Reports(reports::Message),
    /// The back office's worklist.
    Worklist(worklist::Message),
    /// Switch zh-CN / English.
    ToggleLanguage,
    /// Switch light / dark.
    ToggleTheme,
    /// A second passed.
    Tick(Instant),
    /// A key with no widget interested in it.
    Key(keyboard::Key),
}

impl Desk {
    /// A desktop at the login form for `router` (and, if given, the work number).
    pub fn new(router: &str, agent: &str) -> Desk {
        Desk {
            screen: Screen::Login(LoginForm {
                router: router.into(),
                agent: agent.into(),
                ..LoginForm::default()
            }),
            lang: Lang::Zh,
            dark: false,
            now: Instant::now(),
            tls: Default::default(),
        }
    }

    /// The same desk, reaching its router with these TLS settings.
    pub fn with_tls(mut self, tls: hotline_proto::client::ClientTls) -> Desk {
        self.tls = tls;
        self
    }

    /// The window title.
    pub fn title(&self) -> String {
        match &self.screen {
            Screen::Agent { agent, .. } => format!(
                "{} — {} {} — {}",
                self.lang.t("app.title"),
                agent.id,
                agent.name,
                self.lang.t(agent.status_key())
            ),
            Screen::Supervisor { .. } => self.lang.t("sup.title").into(),
            Screen::BackOffice { list, .. } => format!(
                "{} — {} {} — {}",
                self.lang.t("bo.title"),
                list.id,
                list.name,
                crate::words::group(crate::words::catalog(), &list.group, self.lang)
            ),
            Screen::Login(_) => self.lang.t("app.title").into(),
        }
    }

    /// The theme.
    pub fn theme(&self) -> Theme {
        if self.dark { Theme::Dark } else { Theme::Light }
    }

    /// Apply a message.
    pub fn update(&mut self, message: Message) -> Task<Message> {
        match message {
            Message::ToggleLanguage => self.lang = self.lang.other(),
            Message::ToggleTheme => self.dark = !self.dark,
            Message::Tick(now) => self.now = now,
            Message::Router(s) | Message::AgentId(s) | Message::Password(s)
                if !matches!(self.screen, Screen::Login(_)) =>
            {
                let _ = s;
            }
            Message::Router(s) => self.form(|f| f.router = s),
            Message::AgentId(s) => self.form(|f| f.agent = s),
            Message::Password(s) => self.form(|f| f.password = s),
            Message::LogIn => {
                if let Screen::Login(f) = &mut self.screen
                    && !f.busy
                {
                    f.busy = true;
                    f.error = None;
                    let who = Credentials {
                        router: f.router.trim().to_string(),
                        agent: f.agent.trim().to_string(),
                        password: f.password.clone(),
                        token: Default::default(),
                        tls: self.tls.clone(),
                    };
                    return Task::perform(client::login(who.clone()), move |r| {
                        Message::LoggedIn(Box::new(who.clone()), r)
                    });
                }
            }
            Message::LoggedIn(who, Ok(w)) => {
                let who = *who;
                self.screen = if w.role == "supervisor" || w.role == "admin" {
                    Screen::Supervisor {
                        board: Box::default(),
                        reports: Box::default(),
                        tab: Tab::Board,
                        who,
                    }
                } else if w.role == "back-office" {
                    let group = w.back_office_groups.first().cloned().unwrap_or_default();
                    Screen::BackOffice {
                        list: Box::new(Worklist::new(&who.agent, &w.name, &group)),
                        who,
                    }
                } else {
                    Screen::Agent {
                        agent: Box::new(Agent::new(&who.agent, &w.name, w.queues, self.now)),
                        who,
                        commands: None,
                    }
                };
            }
            Message::LoggedIn(_, Err(e)) => self.form(|f| {
                f.busy = false;
                f.error = Some(e);
            }),
            Message::Agent(m) => return self.agent(m),
            Message::Session(SessionEvent::Open(tx)) => {
                if let Screen::Agent { commands, .. } = &mut self.screen {
                    *commands = Some(tx);
                }
                return self.agent(agent::Message::Link(Link::Online));
            }
            Message::Session(SessionEvent::Event(ev)) => {
                let rings = matches!(ev.event, Some(pb::agent_event::Event::Offer(_)));
                let task = self.agent(agent::Message::Router(ev));
                // a ringing call behind another window asks for the user's attention
                // (X11: the urgency hint; nothing when the desk is already in front)
                return if rings {
                    Task::batch([task, attention()])
                } else {
                    task
                };
            }
            Message::Session(SessionEvent::Lost(n, why)) => {
                if let Screen::Agent { commands, .. } = &mut self.screen {
                    *commands = None;
                }
                return self.agent(agent::Message::Link(Link::Reconnecting(n, why)));
            }
            Message::Board(m) => return self.board(m),
            Message::Tab(t) => {
                if let Screen::Supervisor { tab, reports, .. } = &mut self.screen {
                    *tab = t;
                    if t == Tab::Reports && reports.data == reports::Data::Nothing && !reports.busy
                    {
                        return self.reports(reports::Message::Refresh);
                    }
                }
            }
            Message::Reports(m) => return self.reports(m),
            Message::Worklist(m) => return self.worklist(m),
            Message::Stats(StatsEvent::Update(u)) => {
                return self.board(supervisor::Message::Update(u));
            }
            Message::Stats(StatsEvent::Lost(n, why)) => {
                return self.board(supervisor::Message::Lost(n, why));
            }
            Message::Key(k) => {
                if let Some(m) = shortcut(&k) {
                    return self.agent(m);
                }
            }
        }
        Task::none()
    }

    fn form(&mut self, f: impl FnOnce(&mut LoginForm)) {
        if let Screen::Login(form) = &mut self.screen {
            f(form);
        }
    }

    fn agent(&mut self, m: agent::Message) -> Task<Message> {
        if let (agent::Message::CreateCustomer, Screen::Agent { agent, who, .. }) =
            (&m, &self.screen)
        {
            return match agent.new_customer_request() {
                Some((name, phone)) => {
                    Task::perform(client::create_customer(who.clone(), name, phone), |r| {
                        Message::Agent(agent::Message::CustomerCreated(r))
                    })
                }
                None => Task::none(),
            };
        }
        if let (agent::Message::RunSearch, Screen::Agent { agent, who, .. }) = (&m, &self.screen) {
            let q = agent.search.trim().to_string();
            if q.is_empty() {
                return Task::none();
            }
            return Task::perform(client::search_customers(who.clone(), q), |r| {
                Message::Agent(agent::Message::Found(r))
            });
        }
        if let Screen::Agent {
            agent, commands, ..
        } = &mut self.screen
        {
            let logout = matches!(m, agent::Message::Logout);
            for c in agent.update(m, self.lang, Instant::now()) {
                if let Some(tx) = commands
                    && tx.try_send(c).is_err()
                {
                    agent.notice = Some(self.lang.t("conn.reconnecting").into());
                }
            }
            if logout && agent.call.is_none() {
                self.screen = Screen::Login(LoginForm {
                    router: match &self.screen {
                        Screen::Agent { who, .. } => who.router.clone(),
                        _ => String::new(),
                    },
                    ..LoginForm::default()
                });
            }
        }
        Task::none()
    }

    fn worklist(&mut self, m: worklist::Message) -> Task<Message> {
        let Screen::BackOffice { list, who } = &mut self.screen else {
            return Task::none();
        };
        if matches!(m, worklist::Message::Logout) {
            let router = who.router.clone();
            self.screen = Screen::Login(LoginForm {
                router,
                ..LoginForm::default()
            });
            return Task::none();
        }
        match list.update(m) {
            Some(work) => Task::perform(
                client::change_ticket(who.clone(), work.ticket, work.change),
                |r| Message::Worklist(worklist::Message::Done(r.map(Box::new))),
            ),
            None => Task::none(),
        }
    }

    fn board(&mut self, m: supervisor::Message) -> Task<Message> {
        if let Screen::Supervisor { board, who, .. } = &mut self.screen
            && let Some(steer) = board.update(m, Instant::now())
        {
            let (agent, what) = match steer {
                supervisor::Steer::NotReady(a) => (a, client::Steer::NotReady),
                supervisor::Steer::Logout(a) => (a, client::Steer::Logout),
                supervisor::Steer::Declare(r) => {
                    return incident(who, client::Incident::Declare(r));
                }
                supervisor::Steer::Update(r) => return incident(who, client::Incident::Update(r)),
                supervisor::Steer::End(r) => return incident(who, client::Incident::End(r)),
            };
            return Task::perform(client::steer(who.clone(), agent, what), |r| {
                Message::Board(supervisor::Message::Steered(r))
            });
        }
        Task::none()
    }

    fn reports(&mut self, m: reports::Message) -> Task<Message> {
        let Screen::Supervisor { reports, who, .. } = &mut self.screen else {
            return Task::none();
        };
        match reports.update(m, crate::words::unix_now(), self.lang) {
            Some(reports::Want::Load(ask)) => {
                let seq = ask.seq;
                Task::perform(client::report(who.clone(), ask), move |r| {
                    Message::Reports(reports::Message::Loaded(seq, r))
                })
            }
            Some(reports::Want::Export(name, text)) => {
                Task::perform(client::export(name, text), |r| {
                    Message::Reports(reports::Message::Exported(r))
                })
            }
            None => Task::none(),
        }
    }

    /// The live streams: the agent's session or the wallboard's statistics, a clock tick
    /// for the timers, and keys.
    pub fn subscription(&self) -> Subscription<Message> {
        let tick = iced::time::every(Duration::from_millis(500)).map(Message::Tick);
        let keys = keyboard::listen().filter_map(|e| match e {
            keyboard::Event::KeyPressed { key, .. } => Some(Message::Key(key)),
            _ => None,
        });
        let stream = match &self.screen {
            Screen::Agent { who, .. } => Subscription::batch([
                Subscription::run_with(who.clone(), client::session).map(Message::Session),
                Subscription::run_with((who.clone(), Watch::Mine), |(who, of)| {
                    client::tickets(who, of.clone())
                })
                .filter_map(|e| match e {
                    TicketsEvent::Update(u) => Some(Message::Agent(agent::Message::MyTickets(u))),
                    // the session's own link line says when the router is away
                    TicketsEvent::Lost(..) => None,
                }),
            ]),
            Screen::Supervisor { who, .. } => {
                Subscription::run_with(who.clone(), client::stats).map(Message::Stats)
            }
            Screen::BackOffice { who, list } => Subscription::run_with(
                (who.clone(), Watch::Group(list.group.clone())),
                |(who, of)| client::tickets(who, of.clone()),
            )
            .map(|e| {
                Message::Worklist(match e {
                    TicketsEvent::Update(u) => worklist::Message::Update(u),
                    TicketsEvent::Lost(n, why) => worklist::Message::Lost(n, why),
                })
            }),
            Screen::Login(_) => Subscription::none(),
        };
        Subscription::batch([tick, keys, stream])
    }

    /// The screen.
    pub fn view(&self) -> Element<'_, Message> {
        let bar = row![
            text(self.lang.t("app.title")).size(14),
            space().width(Length::Fill),
            button(text(self.lang.t("btn.lang")).size(13))
                .on_press(Message::ToggleLanguage)
                .style(button::text),
            button(text(self.lang.t("btn.theme")).size(13))
                .on_press(Message::ToggleTheme)
                .style(button::text),
        ]
        .padding([4, 12])
        .align_y(iced::Alignment::Center);
        let body: Element<'_, Message> = match &self.screen {
            Screen::Login(f) => login_view(f, self.lang),
            Screen::Agent { agent, .. } => {
                crate::agent_view::view(agent, self.lang, self.now).map(Message::Agent)
            }
            Screen::Supervisor {
                board,
                reports,
                tab,
                ..
            } => {
                let tab_button = |t: Tab, key: &'static str| {
                    button(text(self.lang.t(key)).size(14))
                        .on_press(Message::Tab(t))
                        .style(if *tab == t {
                            button::primary
                        } else {
                            button::text
                        })
                };
                let tabs = row![
                    tab_button(Tab::Board, "sup.tab.board"),
                    tab_button(Tab::Reports, "sup.tab.reports"),
                ]
                .spacing(4)
                .padding([0, 12]);
                let page = match tab {
                    Tab::Board => {
                        crate::wallboard_view::view(board, self.lang, self.now).map(Message::Board)
                    }
                    Tab::Reports => {
                        let queues: Vec<String> = board.queues.keys().cloned().collect();
                        crate::reports_view::view(reports, &queues, self.lang).map(Message::Reports)
                    }
                };
                column![tabs, page].into()
            }
            Screen::BackOffice { list, .. } => {
                crate::worklist_view::view(list, self.lang, crate::words::unix_now())
                    .map(Message::Worklist)
            }
        };
        column![bar, body].into()
    }
}

/// Ask the window system to draw the user to the desk's window.
fn attention() -> Task<Message> {
    iced::window::latest().then(|id| match id {
        Some(id) => {
            iced::window::request_user_attention(id, Some(iced::window::UserAttention::Critical))
        }
        None => Task::none(),
    })
}

/// F1 ready, F2 break, F3 answer, F4 reject, F5 hold/resume, F6 hang up, F7 transfer
/// (to what the transfer field says), F8 finish wrap-up, F9 30 s more wrap-up, F12 log out.
pub fn shortcut(k: &Key) -> Option<agent::Message> {
    use agent::Message as M;
    match k {
        Key::Named(Named::F1) => Some(M::Ready),
        Key::Named(Named::F2) => Some(M::Break),
        Key::Named(Named::F3) => Some(M::Answer),
        Key::Named(Named::F4) => Some(M::Reject),
        Key::Named(Named::F5) => Some(M::HoldToggle),
        Key::Named(Named::F6) => Some(M::HangUp),
        Key::Named(Named::F7) => Some(M::Transfer),
        Key::Named(Named::F8) => Some(M::FinishWrapUp),
        Key::Named(Named::F9) => Some(M::Extend),
        Key::Named(Named::F12) => Some(M::Logout),
        _ => None,
    }
}

fn login_view(f: &LoginForm, lang: Lang) -> Element<'_, Message> {
    let error = f
        .error
        .as_ref()
        .map(|e| match e {
            LoginError::Unreachable(addr) => format!("{}: {addr}", lang.t("login.unreachable")),
            LoginError::Other(s) => s.clone(),
            e => lang
                .t(match e.key() {
                    "login.wrong" => "login.wrong",
                    _ => "login.empty",
                })
                .to_string(),
        })
        .unwrap_or_default();
    let submit = button(text(if f.busy {
        lang.t("login.busy")
    } else {
        lang.t("login.submit")
    }))
    .on_press_maybe((!f.busy).then_some(Message::LogIn))
    .style(button::primary);
    let form = column![
        text(lang.t("login.title")).size(26),
        text(lang.t("login.router")),
        text_input("http://127.0.0.1:50051", &f.router).on_input(Message::Router),
        text(lang.t("login.agent")),
        text_input("2001", &f.agent).on_input(Message::AgentId),
        text(lang.t("login.password")),
        text_input("", &f.password)
            .secure(true)
            .on_input(Message::Password)
            .on_submit(Message::LogIn),
        submit,
        text(error).color(iced::Color::from_rgb(0.85, 0.2, 0.2)),
    ]
    .spacing(8)
    .width(380);
    container(form).center_x(Length::Fill).padding(40).into()
}

/// Send a supervisor's incident command; the router's words come back to the wallboard
/// when it refuses (the incident itself comes with the next statistics).
fn incident(who: &client::Credentials, what: client::Incident) -> Task<Message> {
    Task::perform(client::incident(who.clone(), what), |r| {
        Message::Board(supervisor::Message::Steered(r))
    })
}
