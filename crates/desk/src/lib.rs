//! `hotline-desk`: the iced desktop of the 1000 hotline — the agent's screen (status and
//! time in state, the ringing offer with its countdown, the screen pop, call controls,
//! tickets, wrap-up, the shift's figures) and the supervisor's wallboard (queues, the last
//! hour, agents, force not-ready / logout, staffing advice, back-office loads) and the
//! back office's worklist (its group's open tickets, live; take, note, pass on, resolve).
//!
//! Elm-shaped: [`agent::Agent`], [`supervisor::Wallboard`] and [`worklist::Worklist`]
//! are plain state with an
//! `update` that does no I/O (tested directly); views live in `agent_view` and
//! `wallboard_view`; gRPC lives in [`client`] as tasks and subscriptions that reconnect
//! with back-off. The bundled font ([`FONT`]) makes Chinese render without system fonts.

pub mod agent;
pub mod agent_view;
pub mod app;
pub mod client;
pub mod i18n;
pub mod reports;
pub mod reports_view;
pub mod supervisor;
pub mod wallboard_view;
pub mod words;
pub mod worklist;
pub mod worklist_view;

/// WenQuanYi Micro Hei cut down to GB2312 and the UI's strings
/// (`scripts/make-font-subset.py`; licence in `assets/fonts/README.md`).
pub const FONT: &[u8] = include_bytes!("../../../assets/fonts/hotline-cjk.ttf");

/// The bundled font's family name.
pub const FONT_NAME: &str = "WenQuanYi Micro Hei";

/// iced settings with the bundled font as the default: what the headless simulator in
/// the tests and benchmarks needs to lay text out as the window does.
pub fn font_settings() -> iced::Settings {
    iced::Settings {
        fonts: vec![FONT.into()],
        default_font: iced::Font::with_name(FONT_NAME),
        ..iced::Settings::default()
    }
}

/// Open the desktop's window at the login form for `router` (and work number `agent`),
/// until it is closed.
pub fn run(router: &str, agent: &str, tls: hotline_proto::client::ClientTls) -> iced::Result {
    let (router, agent) = (router.to_string(), agent.to_string());
    iced::application(
        move || app::Desk::new(&router, &agent).with_tls(tls.clone()),
        app::Desk::update,
        app::Desk::view,
    )
    .title(app::Desk::title)
    .theme(app::Desk::theme)
    .subscription(app::Desk::subscription)
    .font(FONT)
    .default_font(iced::Font::with_name(FONT_NAME))
    .window_size((1280.0, 800.0))
    .run()
}
