//! `hotline demo` (the main job) and `hotline live`.

use crate::serve_cmd;
use anyhow::{Context, Result};
use clap::Args;
use hotline_live::back_office::Clerk;
use hotline_live::{LiveConfig, LiveOutage, LiveStats};
use hotline_router::server::Router;
use hotline_store::{AgentAccount, Catalog, Role, Store, location_words};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Password of the demo's accounts (bots, free seats, supervisor).
pub const DEMO_PASSWORD: &str = "hotline-demo";

#[derive(Args, Clone)]
pub struct DemoArgs {
    /// The store, created and seeded on first start: a directory (sled, needs no
    /// server) or a postgres:// address.
    #[arg(long, default_value = "hotline-demo")]
    store: String,
    /// Address the router listens on.
    #[arg(long, default_value = "127.0.0.1:50051")]
    listen: String,
    /// Bot agents.
    #[arg(long, default_value_t = 12)]
    bots: u32,
    /// Simulated calls per hour.
    #[arg(long, default_value_t = 900.0)]
    calls_per_hour: f64,
    /// Demo customers seeded on first start.
    #[arg(long, default_value_t = 20_000)]
    customers: u64,
    /// Stop after this many seconds (default: run until Ctrl-C or SIGTERM).
    #[arg(long)]
    seconds: Option<u64>,
    /// Do not open the desktop even if a display is present.
    #[arg(long)]
    no_desktop: bool,
    /// Inject an area outage: AFTER_MINUTES,MINUTES,EXTRA_PER_HOUR ("1,20,120": a minute
    /// in, for twenty minutes, 120 fault calls an hour from one 小区). The router then
    /// declares the incident itself once the surge is past its stricter level.
    #[arg(long, value_name = "AFTER_MINUTES,MINUTES,EXTRA_PER_HOUR", value_parser = outage_arg)]
    outage: Option<LiveOutage>,
}

/// `--outage AFTER_MINUTES,MINUTES,EXTRA_PER_HOUR`.
fn outage_arg(s: &str) -> Result<LiveOutage, String> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("'{s}' is not AFTER_MINUTES,MINUTES,EXTRA_PER_HOUR (numbers)"))?;
    let [after, minutes, extra] = v[..] else {
        return Err(format!("'{s}' is not AFTER_MINUTES,MINUTES,EXTRA_PER_HOUR"));
    };
    if !(after >= 0.0 && minutes > 0.0 && extra > 0.0 && (after + minutes + extra).is_finite()) {
        return Err("the outage needs a start of 0 or more, minutes and calls above 0".into());
    }
    Ok(LiveOutage {
        after: Duration::from_secs_f64(after * 60.0),
        lasts: Duration::from_secs_f64(minutes * 60.0),
        extra_per_hour: extra,
        told_hang_up: 0.6,
    })
}

impl Default for DemoArgs {
    fn default() -> Self {
        DemoArgs {
            store: "hotline-demo".into(),
            listen: "127.0.0.1:50051".into(),
            bots: 12,
            calls_per_hour: 900.0,
            customers: 20_000,
            seconds: None,
            no_desktop: false,
            outage: None,
        }
    }
}

#[derive(Args)]
pub struct LiveArgs {
    /// Router address.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    router: String,
    /// Bot agents' work numbers, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    agents: Vec<String>,
    /// Their password (or HOTLINE_AGENT_PASSWORD).
    #[arg(long)]
    password: Option<String>,
    /// Simulated calls per hour.
    #[arg(long, default_value_t = 900.0)]
    calls_per_hour: f64,
    /// Seeded customers in the router's store (callers dial from their numbers).
    #[arg(long, default_value_t = 0)]
    customers: u64,
    /// The seed the customers were made with.
    #[arg(long, default_value_t = 1000)]
    customer_seed: u64,
    /// Stop after this many seconds (default: until Ctrl-C).
    #[arg(long)]
    seconds: Option<u64>,
    /// Inject an area outage (see `hotline demo --outage`); the customers of the first
    /// seeded customer's 小区 call (needs --customers).
    #[arg(long, value_name = "AFTER_MINUTES,MINUTES,EXTRA_PER_HOUR", value_parser = outage_arg)]
    outage: Option<LiveOutage>,
    #[command(flatten)]
    tls: ClientTlsArgs,
}

/// How a client reaches an https:// router: the authority that signed its certificate
/// (a self-signed router certificate is its own authority), and a certificate of our
/// own for a router that asks for one (mTLS).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClientTlsArgs {
    /// Certificate authority (PEM) to trust for the router's certificate.
    #[arg(long)]
    ca: Option<std::path::PathBuf>,
    /// This client's certificate (PEM), for a router that asks (mTLS).
    #[arg(long, requires = "key")]
    cert: Option<std::path::PathBuf>,
    /// This client's private key (PEM).
    #[arg(long, requires = "cert")]
    key: Option<std::path::PathBuf>,
}

impl ClientTlsArgs {
    /// The files read.
    pub fn load(&self) -> Result<hotline_proto::client::ClientTls> {
        hotline_proto::client::ClientTls::load(
            self.ca.as_deref(),
            self.cert.as_deref(),
            self.key.as_deref(),
        )
        .map_err(|e| anyhow::anyhow!(e))
    }
}

const SKILLS: [&str; 5] = [
    "inquiry",
    "fault",
    "complaint",
    "new-service",
    "key-account",
];

fn ensure_account(store: &Store, id: &str, name: &str, role: Role, level: u8) -> Result<()> {
    ensure(store, id, name, role, level, vec![])
}

fn ensure(
    store: &Store,
    id: &str,
    name: &str,
    role: Role,
    level: u8,
    groups: Vec<String>,
) -> Result<()> {
    if store.agent(id)?.is_none() {
        let skills = match role {
            Role::BackOffice => vec![],
            _ => SKILLS.iter().map(|s| (s.to_string(), level)).collect(),
        };
        store.set_agent(
            AgentAccount {
                id: id.into(),
                name: name.into(),
                role,
                skills,
                groups,
                password_hash: String::new(),
            },
            DEMO_PASSWORD,
        )?;
    }
    Ok(())
}

/// The back office of the demo: a clerk bot per group (the one who worked the seeded
/// tickets, `seed::office_staff`), and a free seat of the repair crew (8002) and of the
/// complaints office (8102) for a person.
fn back_office_accounts(store: &Store) -> Result<Vec<Clerk>> {
    let mut bots = Vec::new();
    for g in &store.catalog().groups {
        let bot = hotline_store::seed::office_staff(&g.code);
        let name = format!("后台机器人 {}", g.zh);
        ensure(store, bot, &name, Role::BackOffice, 0, vec![g.code.clone()])?;
        bots.push(Clerk {
            id: bot.into(),
            password: DEMO_PASSWORD.into(),
            group: g.code.clone(),
        });
    }
    for (seat, group) in [("8002", "repair-crew"), ("8102", "complaints-office")] {
        let name = format!("后台 {seat}");
        ensure(store, seat, &name, Role::BackOffice, 0, vec![group.into()])?;
    }
    Ok(bots)
}

fn config(
    url: String,
    agents: Vec<(String, String)>,
    calls_per_hour: f64,
    customers: u64,
    seed: u64,
) -> LiveConfig {
    LiveConfig {
        url,
        agents,
        calls_per_hour,
        seed: 2026,
        customers,
        customer_seed: seed,
        mean_talk_seconds: 45.0,
        mean_patience_seconds: 90.0,
        mean_wrap_up_seconds: 8.0,
        fcr_probability: 0.75,
        ticket_probability: 0.15,
        clerks: vec![],
        mean_back_office_seconds: 90.0,
        call_back_answer_probability: 0.8,
        call_back_solved_probability: 0.85,
        tls: Default::default(),
        outage: None,
    }
}

/// Print a line of live figures every five seconds.
async fn report(stats: Arc<LiveStats>) {
    let started = std::time::Instant::now();
    let mut every = tokio::time::interval(Duration::from_secs(5));
    every.tick().await;
    loop {
        every.tick().await;
        let g = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let answered = g(&stats.answered);
        let sl = if answered + g(&stats.abandoned) > 0 {
            format!(
                "{:.0} %",
                100.0 * g(&stats.answered_within_20s) as f64
                    / (answered + g(&stats.abandoned)) as f64
            )
        } else {
            "—".into()
        };
        let asa = if answered > 0 {
            format!(
                "{:.1} s",
                g(&stats.wait_ms) as f64 / answered as f64 / 1000.0
            )
        } else {
            "—".into()
        };
        println!(
            "{:>5} s  calls {:>5}  answered {:>5}  within 20 s {:>5}  ASA {:>7}  abandoned {:>4}  self-service {:>4}  wrap-ups {:>5}  tickets taken {:>4} resolved {:>4}  call-backs {:>4} answered {:>4} recorded {:>4}",
            started.elapsed().as_secs(),
            g(&stats.placed),
            answered,
            sl,
            asa,
            g(&stats.abandoned),
            g(&stats.self_service),
            g(&stats.wrapped),
            g(&stats.tickets_taken),
            g(&stats.tickets_resolved),
            g(&stats.call_backs_rung),
            g(&stats.call_backs_answered),
            g(&stats.call_backs_recorded),
        );
        let outage = g(&stats.outage_calls);
        if outage > 0 {
            println!(
                "        outage: {outage} extra fault calls from one 小区, {} heard the incident's notice, {} asked to be told",
                g(&stats.told),
                g(&stats.asked_to_be_told)
            );
        }
    }
}

pub fn demo(a: &DemoArgs) -> Result<()> {
    let store = Arc::new(
        Store::at(&a.store, Catalog::builtin(), false)
            .with_context(|| format!("opening {}", location_words(&a.store)))?,
    );
    if store.customer(1)?.is_none() {
        println!(
            "first start: seeding {} demo customers into {} …",
            a.customers,
            location_words(&a.store)
        );
        // histories and deadlines relative to now: a fresh demo's open tickets are not due
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(hotline_store::seed::DEFAULT_NOW, |d| d.as_millis() as u64);
        hotline_store::seed::seed(&store, a.customers, 1000, now, &mut |_| {})?;
    }
    let bots: Vec<String> = (0..a.bots).map(|k| format!("{}", 1001 + k)).collect();
    for b in &bots {
        ensure_account(&store, b, &format!("机器人坐席 {b}"), Role::Agent, 7)?;
    }
    for seat in ["2001", "2002"] {
        ensure_account(&store, seat, &format!("坐席 {seat}"), Role::Agent, 7)?;
    }
    ensure_account(&store, "9000", "值班长", Role::Supervisor, 9)?;
    let clerks = back_office_accounts(&store)?;
    let mut conf = serve_cmd::config(&serve_cmd::ServeArgs::defaults(&a.listen, &a.store))?;
    conf.open_around_the_clock = true;
    // a demo's day is short: a call-back nobody answered is tried again after two
    // minutes, an owner away is waited for one
    conf.call_backs.spacing_minutes = 2.0;
    conf.call_backs.owner_wait_minutes = 1.0;
    conf.call_backs.ring_seconds = 20.0;
    if a.outage.is_some() {
        // the router declares the incident itself past the stricter level (a supervisor
        // at 9000 may declare it sooner from the wallboard)
        conf.outage.detector.declare_p = Some(1e-8);
    }
    let setup = serve_cmd::setup(&conf)?;
    let rt = serve_cmd::router_runtime()?;
    let a = a.clone();
    rt.block_on(async move {
        let stop = serve_cmd::stop_signal()?;
        let router = Router::start(store.clone(), setup).map_err(|s| anyhow::anyhow!("{}", s.message()))?;
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .with_context(|| format!("listening on {}", a.listen))?;
        let addr = listener.local_addr()?;
        println!(
            "hotline demo: router on {addr}, store {}",
            location_words(&a.store)
        );
        println!(
            "  {} bot agents, {:.0} simulated calls per hour to 1000; free seats 2001 and 2002, supervisor 9000, password {DEMO_PASSWORD}",
            a.bots, a.calls_per_hour
        );
        println!(
            "  back office: a clerk bot per group works the tickets; free back-office seats 8002 (装维 repair crew) and 8102 (投诉处理 complaints office)"
        );
        println!("  (grpcurl -plaintext {addr} list — Ctrl-C to stop)");
        // a person's seat: the desktop in its own process, when there is a screen
        let _desk = (!a.no_desktop && has_display())
            .then(|| open_desktop(&format!("http://{addr}")))
            .flatten();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(router.clone().serve(listener, async move {
            let _ = done_rx.await;
        }));
        let stats = Arc::new(LiveStats::default());
        let live = hotline_live::run(
            LiveConfig {
                clerks,
                outage: a.outage.clone(),
                ..config(
                    format!("http://{addr}"),
                    bots.iter().map(|b| (b.clone(), DEMO_PASSWORD.to_string())).collect(),
                    a.calls_per_hour,
                    a.customers,
                    1000,
                )
            },
            stats.clone(),
            async move {
                match a.seconds {
                    Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                    None => std::future::pending().await,
                }
            },
        );
        tokio::select! {
            _ = stop => {}
            r = live => r.map_err(|e| anyhow::anyhow!(e))?,
            _ = report(stats.clone()) => {}
        }
        println!("stopping: ending calls with their records, closing sessions, flushing the store");
        router.shutdown().await;
        let _ = done_tx.send(());
        let _ = serving.await;
        println!(
            "stopped cleanly: {} calls placed, {} answered, {} abandoned, {} finished in the IVR",
            stats.placed.load(Ordering::Relaxed),
            stats.answered.load(Ordering::Relaxed),
            stats.abandoned.load(Ordering::Relaxed),
            stats.self_service.load(Ordering::Relaxed)
        );
        Ok::<(), anyhow::Error>(())
    })
}

/// A graphical display is there (X11 or Wayland).
fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
}

/// The desktop (`hotline desk`) as a child process, logged-in form prefilled with the
/// free seat 2001; closed with the demo.
struct Desktop(std::process::Child);

impl Drop for Desktop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn open_desktop(router: &str) -> Option<Desktop> {
    let exe = std::env::current_exe().ok()?;
    match std::process::Command::new(exe)
        .args(["desk", "--router", router, "--agent", "2001"])
        .spawn()
    {
        Ok(child) => {
            println!("  desktop opened: log in as 2001 (agent) or 9000 (supervisor)");
            Some(Desktop(child))
        }
        Err(e) => {
            println!("  the desktop did not open: {e}");
            None
        }
    }
}

pub fn live(a: &LiveArgs) -> Result<()> {
    let password = a
        .password
        .clone()
        .or_else(|| std::env::var("HOTLINE_AGENT_PASSWORD").ok())
        .context("give --password or set HOTLINE_AGENT_PASSWORD")?;
    let mut cfg = config(
        a.router.clone(),
        a.agents
            .iter()
            .map(|id| (id.clone(), password.clone()))
            .collect(),
        a.calls_per_hour,
        a.customers,
        a.customer_seed,
    );
    cfg.tls = a.tls.load()?;
    cfg.outage = a.outage.clone();
    let rt = tokio::runtime::Runtime::new()?;
    let seconds = a.seconds;
    rt.block_on(async move {
        let stop = serve_cmd::stop_signal()?;
        let stats = Arc::new(LiveStats::default());
        let until = async move {
            match seconds {
                Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop => {}
            r = hotline_live::run(cfg, stats.clone(), until) => r.map_err(|e| anyhow::anyhow!(e))?,
            _ = report(stats.clone()) => {}
        }
        Ok::<(), anyhow::Error>(())
    })
}
