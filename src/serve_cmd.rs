//! `hotline serve`: the router on its store, configured by one TOML file whose defaults
//! work with no file at all.

use anyhow::{Context, Result};
use clap::Args;
use hotline_acd::{GroupId, SkillId};
use hotline_ivr::Flow;
use hotline_router::server::{Router, RouterSetup, Tls};
use hotline_router::switchboard::QueueSetup;
use hotline_sim::scenario::QueueSpec;
use hotline_store::{Catalog, Store};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args, Default)]
pub struct ServeArgs {
    /// Configuration file (TOML); without one, the defaults below.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the file).
    #[arg(long)]
    listen: Option<String>,
    /// The store (overrides the file): a directory (sled) or a postgres:// address.
    #[arg(long)]
    store: Option<String>,
}

impl ServeArgs {
    /// No configuration file: the defaults, with this address and store.
    pub fn defaults(listen: &str, store: &str) -> ServeArgs {
        ServeArgs {
            config: None,
            listen: Some(listen.to_string()),
            store: Some(store.to_string()),
        }
    }
}

/// The router's configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Listen address.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The store: a directory (sled, the embedded default) as `store = "DIR"`, or a
    /// `[store]` table (`engine = "sled"` with `path`, or `engine = "postgres"` with `url`).
    #[serde(default)]
    pub store: StoreSetting,
    /// The sled store's page cache, MB (sled's cache capacity; the process takes more:
    /// see BENCHMARKS.md). Also `[store] cache_mb`.
    #[serde(default = "default_store_cache_mb")]
    pub store_cache_mb: u64,
    /// The file call records wait in while the store cannot be reached (a PostgreSQL
    /// server down), written to the store when it answers again.
    #[serde(default = "default_spool")]
    pub spool: PathBuf,
    /// IVR flow file; absent: the built-in 1000 flow.
    pub ivr: Option<PathBuf>,
    /// Agents answer at any hour, whatever the flow's hours say (demos, training).
    #[serde(default)]
    pub open_around_the_clock: bool,
    /// Queues, in the same format as scenario files; absent: the 1000 hotline's five.
    #[serde(rename = "queue", default = "default_queues")]
    pub queues: Vec<QueueSpec>,
    /// Serve over TLS with this certificate and key; absent: plain HTTP/2 (loopback, tests).
    pub tls: Option<TlsFiles>,
    /// How a dead or frozen desktop is noticed.
    #[serde(default)]
    pub liveness: Liveness,
    /// Hours a session token lives (a new login is needed after it).
    #[serde(default = "default_token_hours")]
    pub token_hours: f64,
    /// Hours a claimed first-contact resolution waits for a repeat call about the same
    /// reason before it counts as verified (7 days).
    #[serde(default = "default_fcr_window_hours")]
    pub fcr_window_hours: f64,
    /// Seconds between the router's FCR settlements (claims whose window passed are
    /// verified).
    #[serde(default = "default_fcr_settle_seconds")]
    pub fcr_settle_seconds: f64,
    /// How resolved tickets' 回访 call-backs are routed.
    #[serde(default)]
    pub call_backs: CallBacksSpec,
    /// Minutes in a statistics interval kept as history: 15 (default), 30 or 60.
    #[serde(default = "default_interval_minutes")]
    pub interval_minutes: u32,
    /// Serve `/metrics` (Prometheus text format) on this address, e.g.
    /// "127.0.0.1:9464"; absent: no metrics endpoint.
    pub metrics_listen: Option<String>,
    /// Seconds between checkpoints of the statistics interval in progress (a crash
    /// loses at most this much of it; 0: keep only closed intervals).
    #[serde(default = "default_checkpoint_seconds")]
    pub checkpoint_seconds: u32,
    /// Alarm rules on the queues' live figures.
    #[serde(default)]
    pub alarms: AlarmsSpec,
    /// The watch on fault surges by area.
    #[serde(default)]
    pub outage: OutageSpec,
}

/// `[outage]`: the watch on fault surges by area (小区), on unless `enabled = false`;
/// `[outage.detector]` sets the rule (`window_minutes`, `tick_seconds`, `alarm_p`,
/// `clear_p`, `declare_p`, `floor_per_hour`, `top`; see hotline-outage); with
/// `declare_p` set, `[outage.declare]` is what the incident the router then declares
/// says (`kind`, `message_zh`, `message_en`, `restore_hours`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutageSpec {
    /// Watch the areas.
    pub enabled: bool,
    /// The hotline's time zone: the areas' usual rates are by its hour of the day.
    pub time_zone: String,
    /// Days of the store's history the usual rates are learned from at start.
    pub learn_days: u32,
    /// The detector's rule.
    pub detector: hotline_outage::DetectorConfig,
    /// The incident declared past `declare_p`.
    pub declare: DeclareSpec,
}

impl Default for OutageSpec {
    fn default() -> OutageSpec {
        OutageSpec {
            enabled: true,
            time_zone: "Asia/Shanghai".into(),
            learn_days: 28,
            detector: hotline_outage::DetectorConfig::default(),
            declare: DeclareSpec::default(),
        }
    }
}

/// `[outage.declare]`: what an incident the router declares by itself says.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeclareSpec {
    /// The fault subcategory when the surge's calls name none.
    pub kind: String,
    /// What callers hear, in Chinese.
    pub message_zh: String,
    /// What callers hear, in English.
    pub message_en: String,
    /// Hours from the declaration to the expected restore.
    pub restore_hours: f64,
}

impl Default for DeclareSpec {
    fn default() -> DeclareSpec {
        let d = hotline_router::incidents::AutoDeclare::default();
        DeclareSpec {
            kind: d.kind,
            message_zh: d.message.zh,
            message_en: d.message.en,
            restore_hours: d.restore_after as f64 / 3_600_000.0,
        }
    }
}

impl DeclareSpec {
    fn auto(&self) -> Result<hotline_router::incidents::AutoDeclare> {
        hotline_store::Catalog::shipped()
            .check(hotline_store::TicketKind::Fault, &self.kind)
            .map_err(|e| anyhow::anyhow!("[outage.declare] kind: {e}"))?;
        if self.message_zh.trim().is_empty() || self.message_en.trim().is_empty() {
            anyhow::bail!("[outage.declare] needs message_zh and message_en");
        }
        if !(self.restore_hours > 0.0 && self.restore_hours <= 24.0 * 14.0) {
            anyhow::bail!("[outage.declare] restore_hours must be above 0 and at most 336");
        }
        Ok(hotline_router::incidents::AutoDeclare {
            kind: self.kind.clone(),
            message: hotline_store::IncidentMessage {
                zh: self.message_zh.clone(),
                en: self.message_en.clone(),
            },
            restore_after: (self.restore_hours * 3_600_000.0) as u64,
        })
    }
}

impl OutageSpec {
    /// The router's watch, or none; a rule or a time zone it cannot use is named.
    fn watch(&self) -> Result<Option<hotline_router::server::AreaWatch>> {
        if !self.enabled {
            return Ok(None);
        }
        self.detector
            .check()
            .map_err(|e| anyhow::anyhow!("[outage.detector]: {e}"))?;
        let tz = jiff::tz::TimeZone::get(&self.time_zone).map_err(|_| {
            anyhow::anyhow!(
                "[outage] time_zone '{}' is not a time zone (e.g. Asia/Shanghai)",
                self.time_zone
            )
        })?;
        let offset = tz.to_offset(jiff::Timestamp::now()).seconds();
        Ok(Some(hotline_router::server::AreaWatch {
            detector: self.detector.clone(),
            utc_offset_ms: i64::from(offset) * 1000,
            learn_days: self.learn_days,
            declare: self.declare.auto()?,
        }))
    }
}

/// `[alarms]`: thresholds on the queues' live figures. `[alarms.default]` is every
/// queue's (absent: service level under 60 %, a wait over 120 s, abandons over 15 %;
/// present: exactly what it sets), `[alarms.queue.NAME]` sets one queue's thresholds
/// over the default's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlarmsSpec {
    /// Outcomes the current interval needs before its service level or abandon rate is
    /// judged.
    pub min_calls: u64,
    /// Seconds a figure stays back within its threshold before its alarm clears.
    pub clear_after_seconds: f64,
    /// Every queue's thresholds.
    pub default: hotline_router::alarms::Thresholds,
    /// One queue's, over the default's.
    pub queue: std::collections::BTreeMap<String, hotline_router::alarms::Thresholds>,
}

impl Default for AlarmsSpec {
    fn default() -> Self {
        AlarmsSpec {
            min_calls: hotline_router::alarms::DEFAULT_MIN_CALLS,
            clear_after_seconds: hotline_router::alarms::DEFAULT_CLEAR_AFTER as f64 / 1000.0,
            default: hotline_router::alarms::DEFAULT_THRESHOLDS,
            queue: Default::default(),
        }
    }
}

impl AlarmsSpec {
    /// The rules for these queues.
    fn rules(&self, queues: &[String]) -> Result<hotline_router::alarms::AlarmRules> {
        if self.clear_after_seconds.is_nan() || self.clear_after_seconds < 0.0 {
            anyhow::bail!(
                "[alarms] clear_after_seconds must be 0 or more, got {}",
                self.clear_after_seconds
            );
        }
        hotline_router::alarms::AlarmRules::new(
            queues,
            self.default,
            &self.queue,
            self.min_calls,
            (self.clear_after_seconds * 1000.0) as u64,
        )
        .map_err(|e| anyhow::anyhow!("[alarms]: {e}"))
    }
}

fn default_interval_minutes() -> u32 {
    15
}

fn default_checkpoint_seconds() -> u32 {
    5
}

/// `[call_backs]`: a resolved ticket becomes a call-back task in `queue`, offered first
/// to its owner (首问负责).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallBacksSpec {
    /// Route call-backs at all.
    pub enabled: bool,
    /// The queue the tasks wait in (one of `[[queue]]`).
    pub queue: String,
    /// Priority class of the tasks (0: after every inbound call).
    pub priority: u8,
    /// Attempts before the ticket is closed as unreachable.
    pub attempts: u32,
    /// Minutes between attempts after no answer.
    pub spacing_minutes: f64,
    /// Minutes a task waits for an owner who is not logged in before the queue's other
    /// agents may take it.
    pub owner_wait_minutes: f64,
    /// Seconds the customer's telephone rings.
    pub ring_seconds: f64,
    /// Hours after the resolution the call-back is due (shown with the task).
    pub due_hours: f64,
}

impl Default for CallBacksSpec {
    fn default() -> Self {
        let p = hotline_router::switchboard::CallBackPolicy::default();
        CallBacksSpec {
            enabled: true,
            queue: p.queue,
            priority: p.priority,
            attempts: p.attempts,
            spacing_minutes: p.spacing as f64 / 60_000.0,
            owner_wait_minutes: p.owner_wait as f64 / 60_000.0,
            ring_seconds: p.ring as f64 / 1000.0,
            due_hours: p.due_after as f64 / 3_600_000.0,
        }
    }
}

impl CallBacksSpec {
    /// The router's policy; numbers out of range are refused with their name.
    pub fn policy(&self) -> Result<Option<hotline_router::switchboard::CallBackPolicy>> {
        if !self.enabled {
            return Ok(None);
        }
        let ms = |name: &str, v: f64, unit: f64, most: f64| -> Result<u64> {
            if !(v >= 0.0 && v <= most) {
                anyhow::bail!("call_backs.{name} must be 0 to {most}, got {v}");
            }
            Ok((v * unit) as u64)
        };
        if !(1..=10).contains(&self.attempts) {
            anyhow::bail!("call_backs.attempts must be 1 to 10, got {}", self.attempts);
        }
        Ok(Some(hotline_router::switchboard::CallBackPolicy {
            queue: self.queue.clone(),
            priority: self.priority,
            attempts: self.attempts,
            spacing: ms(
                "spacing_minutes",
                self.spacing_minutes,
                60_000.0,
                7.0 * 24.0 * 60.0,
            )?,
            owner_wait: ms(
                "owner_wait_minutes",
                self.owner_wait_minutes,
                60_000.0,
                24.0 * 60.0,
            )?,
            ring: ms("ring_seconds", self.ring_seconds, 1000.0, 300.0)?.max(1000),
            due_after: ms("due_hours", self.due_hours, 3_600_000.0, 24.0 * 31.0)?,
            ..hotline_router::switchboard::CallBackPolicy::default()
        }))
    }
}

fn default_spool() -> PathBuf {
    "hotline-spool.jsonl".into()
}

fn default_fcr_window_hours() -> f64 {
    7.0 * 24.0
}

fn default_fcr_settle_seconds() -> f64 {
    60.0
}

fn default_token_hours() -> f64 {
    12.0
}

/// How the router notices a desktop that died or froze (and sends its call back to
/// the queue).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Liveness {
    /// HTTP/2 PINGs on every connection every 500 ms, answered within 500 ms: hyper
    /// sends and answers them, the router's core never sees them. A SIGSTOPped
    /// desktop answers no PING; a desktop whose process is alive but whose screen is
    /// stuck still does.
    #[default]
    Keepalive,
    /// The contract's heartbeats on each session (every 250 ms, 750 ms of silence):
    /// the desktop's own code must answer, so a stuck screen is noticed too, at the
    /// cost of two gRPC messages per agent every 250 ms.
    Heartbeat,
    /// Both.
    Both,
}

/// `[tls]`: PEM files for the router's certificate chain and private key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// Certificate chain, PEM.
    pub cert: PathBuf,
    /// Private key, PEM.
    pub key: PathBuf,
    /// Ask clients for a certificate signed by this authority (mTLS), PEM.
    pub client_ca: Option<PathBuf>,
}

impl TlsFiles {
    /// Both files read.
    pub fn load(&self) -> Result<Tls> {
        let read = |p: &PathBuf, what: &str| {
            std::fs::read(p).with_context(|| format!("reading the TLS {what} {}", p.display()))
        };
        let (cert_pem, key_pem) = (read(&self.cert, "certificate")?, read(&self.key, "key")?);
        // the usual mistakes (DER files, cert and key swapped) named before we listen
        let has = |pem: &[u8], marker: &str| String::from_utf8_lossy(pem).contains(marker);
        if !has(&cert_pem, "-----BEGIN CERTIFICATE-----") {
            anyhow::bail!(
                "the TLS certificate {} is not a PEM certificate (no BEGIN CERTIFICATE)",
                self.cert.display()
            );
        }
        if !(has(&key_pem, "-----BEGIN") && has(&key_pem, "PRIVATE KEY-----")) {
            anyhow::bail!(
                "the TLS key {} is not a PEM private key (no BEGIN … PRIVATE KEY)",
                self.key.display()
            );
        }
        let client_ca_pem = match &self.client_ca {
            Some(p) => {
                let pem = read(p, "client certificate authority")?;
                if !has(&pem, "-----BEGIN CERTIFICATE-----") {
                    anyhow::bail!(
                        "the TLS client_ca {} is not a PEM certificate (no BEGIN CERTIFICATE)",
                        p.display()
                    );
                }
                Some(pem)
            }
            None => None,
        };
        Ok(Tls {
            cert_pem,
            key_pem,
            client_ca_pem,
        })
    }
}

fn default_listen() -> String {
    "127.0.0.1:50051".into()
}

fn default_store_cache_mb() -> u64 {
    hotline_store::DEFAULT_CACHE_BYTES / (1024 * 1024)
}

/// Where the router's store is.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StoreSetting {
    /// `store = "DIR"`: sled in that directory.
    Dir(PathBuf),
    /// `[store]`.
    Table(StoreTable),
}

impl Default for StoreSetting {
    fn default() -> Self {
        StoreSetting::Dir("hotline-store".into())
    }
}

/// The storage engines a router can use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// Embedded, no server (the default).
    #[default]
    Sled,
    /// A PostgreSQL database (several routers may share it).
    Postgres,
}

/// `[store]` in router.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreTable {
    /// `sled` (default) or `postgres`.
    #[serde(default)]
    pub engine: EngineKind,
    /// sled: the directory (default `hotline-store`).
    pub path: Option<PathBuf>,
    /// postgres: `postgres://user@host:port/database`.
    pub url: Option<String>,
    /// sled: page cache, MB.
    pub cache_mb: Option<u64>,
    /// postgres: connections at most (default 16).
    pub pool: Option<usize>,
}

impl StoreSetting {
    /// The store as a location (`Store::at`'s form): a directory or a postgres:// address.
    pub fn location(&self) -> Result<String> {
        match self {
            StoreSetting::Dir(d) => Ok(d.display().to_string()),
            StoreSetting::Table(t) => match t.engine {
                EngineKind::Sled => Ok(t
                    .path
                    .as_ref()
                    .map_or("hotline-store".into(), |p| p.display().to_string())),
                EngineKind::Postgres => t.url.clone().context(
                    "[store] engine = \"postgres\" needs url = \"postgres://user@host:port/database\"",
                ),
            },
        }
    }

    /// Open the store this setting names.
    pub fn open(&self, default_cache_mb: u64) -> Result<Store> {
        let location = self.location()?;
        let words = hotline_store::location_words(&location);
        let store = match self {
            StoreSetting::Table(t) if t.engine == EngineKind::Postgres => {
                let pool = t.pool.unwrap_or(hotline_store::DEFAULT_POOL_SIZE);
                let engine = hotline_store::PgEngine::open_with_pool(&location, pool);
                engine.map(|e| Store::on(Arc::new(e), Catalog::builtin()))
            }
            StoreSetting::Table(t) => Store::open_with_cache(
                std::path::Path::new(&location),
                Catalog::builtin(),
                t.cache_mb.unwrap_or(default_cache_mb) * 1024 * 1024,
            ),
            StoreSetting::Dir(_) if location.contains("://") => {
                Store::at(&location, Catalog::builtin(), false)
            }
            StoreSetting::Dir(d) => {
                Store::open_with_cache(d, Catalog::builtin(), default_cache_mb * 1024 * 1024)
            }
        };
        store.with_context(|| format!("opening the store {words}"))
    }
}

const DEFAULT_QUEUES: &str = r#"
[[queue]]
name = "inquiry"
skill = "inquiry"
wrap_up = 120
callback_threshold_seconds = 180

[[queue]]
name = "fault"
skill = "fault"
wrap_up = 120
overflow = [{ after_seconds = 45, skill = "inquiry", min_level = 7 }]

[[queue]]
name = "complaint"
skill = "complaint"
min_level = 5
strategy = "most-skilled"
wrap_up = 180

[[queue]]
name = "new-service"
skill = "new-service"
wrap_up = 120

[[queue]]
name = "green-channel"
skill = "key-account"
strategy = "most-skilled"
sl_seconds = 10
wrap_up = 120
overflow = [{ after_seconds = 20, skill = "inquiry", min_level = 8 }]

# 回访 call-backs (see [call_backs]): any front-office agent may make one; the ticket's
# owner is waited for first (preferred_wait_seconds while they are busy)
[[queue]]
name = "callback"
skill = "inquiry"
wrap_up = "agent"
preferred_wait_seconds = 600
overflow = [
  { after_seconds = 0, skill = "fault", min_level = 1 },
  { after_seconds = 0, skill = "complaint", min_level = 1 },
  { after_seconds = 0, skill = "new-service", min_level = 1 },
  { after_seconds = 0, skill = "key-account", min_level = 1 },
]
"#;

#[derive(Deserialize)]
struct QueuesOnly {
    #[serde(rename = "queue")]
    queues: Vec<QueueSpec>,
}

fn default_queues() -> Vec<QueueSpec> {
    toml::from_str::<QueuesOnly>(DEFAULT_QUEUES)
        .map(|q| q.queues)
        .unwrap_or_default()
}

/// The configuration from a file (or the defaults) with the flags applied.
pub fn config(a: &ServeArgs) -> Result<ServeConfig> {
    let mut c: ServeConfig = match &a.config {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            toml::from_str(&text).with_context(|| format!("{}", p.display()))?
        }
        None => toml::from_str("").context("the default configuration")?,
    };
    if let Some(l) = &a.listen {
        c.listen = l.clone();
    }
    if let Some(s) = &a.store {
        c.store = if s.contains("://") {
            StoreSetting::Table(StoreTable {
                engine: EngineKind::Postgres,
                path: None,
                url: Some(s.clone()),
                cache_mb: None,
                pool: None,
            })
        } else {
            StoreSetting::Dir(s.into())
        };
    }
    Ok(c)
}

/// Queues and skill names for the router.
pub fn setup(c: &ServeConfig) -> Result<RouterSetup> {
    let mut skills: Vec<String> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    let mut queues = Vec::new();
    for q in &c.queues {
        let mut skill_id = |n: &str| {
            let i = skills.iter().position(|s| s == n).unwrap_or_else(|| {
                skills.push(n.to_string());
                skills.len() - 1
            });
            SkillId(i as u16)
        };
        let mut group_id = |n: &str| {
            let i = groups.iter().position(|s| s == n).unwrap_or_else(|| {
                groups.push(n.to_string());
                groups.len() - 1
            });
            GroupId(i as u16)
        };
        let (config, _) = q.config(&mut skill_id, &mut group_id)?;
        queues.push(QueueSetup {
            name: q.name.clone(),
            config,
        });
    }
    let names: Vec<&str> = c.queues.iter().map(|q| q.name.as_str()).collect();
    let queue_names: Vec<String> = queues.iter().map(|q| q.name.clone()).collect();
    let (file, mut text) = match &c.ivr {
        Some(p) => (
            p.display().to_string(),
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        ),
        None => (
            "built-in 1000 flow".to_string(),
            hotline_ivr::BUILTIN_1000.to_string(),
        ),
    };
    if c.open_around_the_clock {
        // equal opening and closing times mean around the clock
        let mut v: toml::Table = toml::from_str(&text).with_context(|| file.clone())?;
        if let Some(toml::Value::Table(h)) = v.get_mut("hours") {
            h.insert("open".into(), toml::Value::String("00:00".into()));
            h.insert("close".into(), toml::Value::String("00:00".into()));
        }
        text = toml::to_string(&v)?;
    }
    let flow = Flow::parse(&file, &text, &names)?;
    Ok(RouterSetup {
        flow: Arc::new(flow),
        queues,
        skills,
        fcr_settle_every: std::time::Duration::from_secs_f64(c.fcr_settle_seconds.max(0.1)),
        heartbeat: matches!(c.liveness, Liveness::Heartbeat | Liveness::Both)
            .then_some(hotline_router::server::HEARTBEAT),
        keepalive: matches!(c.liveness, Liveness::Keepalive | Liveness::Both)
            .then_some(hotline_router::server::KEEPALIVE),
        spool: Some(c.spool.clone()),
        call_backs: c.call_backs.policy()?,
        interval: match c.interval_minutes {
            m @ (15 | 30 | 60) => std::time::Duration::from_secs(60 * u64::from(m)),
            m => anyhow::bail!("interval_minutes must be 15, 30 or 60, got {m}"),
        },
        checkpoint: (c.checkpoint_seconds > 0)
            .then(|| std::time::Duration::from_secs(c.checkpoint_seconds.into())),
        alarms: Some(c.alarms.rules(&queue_names)?),
        areas: c.outage.watch()?,
    })
}

/// Threads the router may block at once on the store (reads for screen pops and
/// self-service, durable writes of call records and tickets, password checks).
///
/// tokio's default is 512. Every call record waits for a flush, so at a few thousand
/// calls a second the pool grew to ~520 threads, each with its own allocator heap: the
/// router sat at 2.3 GB after 30,000 calls (`hotline bench route --agents 1000
/// --calls-per-second 3000`). Writes waiting together share one flush (group commit),
/// so a few dozen threads keep up.
pub const ROUTER_BLOCKING_THREADS: usize = 32;

/// The tokio runtime a router runs on.
pub fn router_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(ROUTER_BLOCKING_THREADS)
        .build()?)
}

pub fn run(a: &ServeArgs) -> Result<()> {
    let c = config(a)?;
    let setup = setup(&c)?;
    let store = Arc::new(
        c.store
            .open(c.store_cache_mb)?
            .with_fcr_window((c.fcr_window_hours * 3_600_000.0) as u64),
    );
    let agents = store.agent_accounts()?.len();
    let tls = c.tls.as_ref().map(TlsFiles::load).transpose()?;
    let scheme = if tls.is_some() {
        "TLS"
    } else {
        "plain, no TLS"
    };
    let rt = router_runtime()?;
    rt.block_on(async move {
        // listen for SIGTERM before saying we are up, so a stop sent at once is not lost
        let stop = stop_signal()?;
        let queues = setup.queues.len();
        if !(c.fcr_window_hours >= 0.0 && c.fcr_window_hours <= 24.0 * 366.0) {
            anyhow::bail!("fcr_window_hours must be 0 to a year (8784), got {}", c.fcr_window_hours);
        }
        if !(c.token_hours > 0.0 && c.token_hours <= 24.0 * 31.0) {
            anyhow::bail!("token_hours must be more than 0 and at most a month (744), got {}", c.token_hours);
        }
        let ttl = (c.token_hours * 3_600_000.0) as u64;
        let router = Router::start_with(store, setup, ttl)
            .map_err(|s| anyhow::anyhow!("{}", s.message()))?;
        let listener = tokio::net::TcpListener::bind(&c.listen)
            .await
            .with_context(|| format!("listening on {}", c.listen))?;
        println!(
            "hotline router listening on {} ({scheme}) — store {}, {agents} agent accounts, {queues} queues",
            listener.local_addr()?,
            hotline_store::location_words(&c.store.location()?)
        );
        if agents == 0 {
            println!("no agent accounts yet: add them with `hotline store add-agent`");
        }
        if let Some(addr) = &c.metrics_listen {
            let metrics = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("listening for /metrics on {addr}"))?;
            println!("metrics on http://{}/metrics", metrics.local_addr()?);
            let serving = router.clone().serve_metrics(metrics, std::future::pending());
            tokio::spawn(async move {
                if let Err(e) = serving.await {
                    tracing::error!(error = %e, "the /metrics endpoint stopped");
                }
            });
        }
        use std::io::Write;
        std::io::stdout().flush()?;
        let closing = router.clone();
        let shutdown = async move {
            stop.await;
            println!(
                "stopping: ending calls with their records, closing sessions, flushing the store"
            );
            closing.shutdown().await;
        };
        router
            .serve_tls(listener, tls, shutdown)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("stopped cleanly");
        Ok::<(), anyhow::Error>(())
    })
}

/// A future that completes on SIGTERM or Ctrl-C; the handlers are installed now.
pub fn stop_signal() -> Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("installing the Ctrl-C handler")?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async move {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(toml_text: &str) -> Result<hotline_router::alarms::AlarmRules> {
        let c: ServeConfig = toml::from_str(toml_text)?;
        setup(&c)?.alarms.ok_or_else(|| anyhow::anyhow!("no rules"))
    }

    #[test]
    fn alarm_rules_come_from_the_file_with_the_defaults_under_them() {
        let r = rules("").unwrap();
        let c: ServeConfig = toml::from_str("").unwrap();
        assert_eq!(r.queues.len(), c.queues.len(), "every queue has rules");
        assert_eq!(
            r.queues["fault"],
            hotline_router::alarms::DEFAULT_THRESHOLDS
        );
        let r = rules(
            "[alarms]\nmin_calls = 4\nclear_after_seconds = 30\n\
             [alarms.default]\nwaiting_above = 20\n\
             [alarms.queue.fault]\nlongest_wait_above_seconds = 60\n",
        )
        .unwrap();
        assert_eq!((r.min_calls, r.clear_after), (4, 30_000));
        // a default table is what it says: the built-in thresholds are not under it
        assert_eq!(r.queues["inquiry"].waiting_above, Some(20));
        assert_eq!(r.queues["inquiry"].service_level_below, None);
        assert_eq!(r.queues["fault"].waiting_above, Some(20));
        assert_eq!(r.queues["fault"].longest_wait_above_seconds, Some(60));
    }

    #[test]
    fn the_areas_are_watched_unless_told_not_and_a_bad_rule_is_named() {
        let watch = |t: &str| -> Result<Option<hotline_router::server::AreaWatch>> {
            let c: ServeConfig = toml::from_str(t)?;
            Ok(setup(&c)?.areas)
        };
        let w = watch("").unwrap().unwrap();
        assert_eq!(w.utc_offset_ms, 8 * 3_600_000, "Asia/Shanghai");
        assert_eq!((w.learn_days, w.detector.window_minutes), (28, 30));
        let w = watch("[outage]\ntime_zone = \"UTC\"\n[outage.detector]\nalarm_p = 1e-8\n")
            .unwrap()
            .unwrap();
        assert_eq!((w.utc_offset_ms, w.detector.alarm_p), (0, 1e-8));
        assert!(watch("[outage]\nenabled = false\n").unwrap().is_none());
        let e = watch("[outage]\ntime_zone = \"Mars/Olympus\"\n").unwrap_err();
        assert!(e.to_string().contains("Mars/Olympus"), "{e}");
        let e = watch("[outage.detector]\nalarm_p = 2\n").unwrap_err();
        assert!(e.to_string().contains("alarm_p"), "{e}");
        assert!(watch("[outage.detector]\nloudness = 3\n").is_err());
    }

    #[test]
    fn bad_alarm_rules_are_refused_with_the_place_named() {
        let e = rules("[alarms.queue.lottery]\nwaiting_above = 1\n").unwrap_err();
        assert!(e.to_string().contains("lottery"), "{e}");
        let e = rules("[alarms.default]\nabandon_rate_above = 15\n").unwrap_err();
        assert!(e.to_string().contains("abandon_rate_above"), "{e}");
        let e = rules("[alarms]\nclear_after_seconds = -1\n").unwrap_err();
        assert!(e.to_string().contains("clear_after_seconds"), "{e}");
        assert!(rules("[alarms.default]\nloudness = 3\n").is_err());
    }
}
