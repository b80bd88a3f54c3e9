//! `hotline seed`, `hotline store …` and `hotline bench store`.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use hotline_acd::rng::Rng;
use hotline_store::export::{self, Kind};
use hotline_store::seed::{self, DEFAULT_NOW};
use hotline_store::*;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct SeedArgs {
    /// Customers to create.
    #[arg(long)]
    customers: u64,
    /// Seed: the same seed gives the same customers.
    #[arg(long, default_value_t = 1000)]
    seed: u64,
    /// The store: a directory (sled; created) or a postgres:// address; it must hold no
    /// customers yet.
    #[arg(long, default_value = "hotline-store")]
    store: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum KindArg {
    Customers,
    Tickets,
    Interactions,
    Agents,
    Intervals,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Kind {
        match k {
            KindArg::Customers => Kind::Customers,
            KindArg::Tickets => Kind::Tickets,
            KindArg::Interactions => Kind::Interactions,
            KindArg::Agents => Kind::Agents,
            KindArg::Intervals => Kind::Intervals,
        }
    }
}

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Check that every record reads and every index agrees with the data.
    Check {
        /// The store: a directory (sled) or a postgres:// address.
        #[arg(long, default_value = "hotline-store")]
        store: String,
        /// Recompute every index from the data first.
        #[arg(long)]
        rebuild: bool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Write records as JSON lines (or customers as CSV) to a file or stdout.
    Export {
        #[arg(long, default_value = "hotline-store")]
        store: String,
        /// What to export.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// CSV instead of JSON lines (customers only).
        #[arg(long)]
        csv: bool,
        /// Output file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Read records from JSON lines (or customers from CSV), keeping their ids.
    Import {
        #[arg(long, default_value = "hotline-store")]
        store: String,
        /// What to import.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// CSV instead of JSON lines (customers only).
        #[arg(long)]
        csv: bool,
        /// Input file.
        file: PathBuf,
    },
    /// Copy every record into a new directory as JSON lines with a manifest.
    Backup {
        #[arg(long, default_value = "hotline-store")]
        store: String,
        /// Backup directory (new or empty).
        #[arg(long)]
        to: PathBuf,
    },
    /// Load a backup into a store.
    Restore {
        #[arg(long, default_value = "hotline-store")]
        store: String,
        /// Backup directory.
        #[arg(long)]
        from: PathBuf,
    },
    /// Create or replace an agent account (password from --password or the
    /// HOTLINE_AGENT_PASSWORD environment variable).
    AddAgent {
        #[arg(long, default_value = "hotline-store")]
        store: String,
        /// Work number (工号).
        #[arg(long)]
        id: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// agent, supervisor or admin.
        #[arg(long, default_value = "agent")]
        role: String,
        /// A skill and its level, e.g. `--skill inquiry=7` (repeat for more).
        #[arg(long = "skill")]
        skills: Vec<String>,
        /// Password (at least 8 characters); prefer the environment variable.
        #[arg(long)]
        password: Option<String>,
    },
    /// Bring a PostgreSQL store's schema up to this build's version (also done whenever
    /// a store is opened); a sled store has nothing to migrate.
    Migrate {
        /// The store: a postgres:// address (or a sled directory).
        #[arg(long)]
        store: String,
    },
    /// Copy every record from one store into another, either engine to either, ids kept;
    /// both are checked afterwards and their counts compared.
    Copy {
        /// From: `sled:DIR`, a directory, or a postgres:// address.
        #[arg(long)]
        from: String,
        /// To (normally new and empty): the same forms.
        #[arg(long)]
        to: String,
    },
    /// Open the store, write, say "ready" and wait to be killed (used by the benchmark
    /// to time recovery after a crash).
    #[command(hide = true)]
    Hold {
        #[arg(long)]
        store: String,
    },
}

/// A store that may be new (seed, import, restore, add an agent): a sled directory or
/// a postgres:// address.
fn open(location: &str) -> Result<Store> {
    Store::at(location, Catalog::builtin(), false)
        .with_context(|| format!("opening the store {}", location_words(location)))
}

/// A store that must be there already (check, export, backup, a benchmark on it).
/// A store that an import, a restore or a copy writes into (a sled one is reopened as it
/// fills, so memory stays bounded).
fn target(location: &str) -> Result<export::Target> {
    export::Target::at(location, Catalog::builtin())
        .with_context(|| format!("opening the store {}", location_words(location)))
}

fn open_existing(location: &str) -> Result<Store> {
    Store::at(location, Catalog::builtin(), true)
        .with_context(|| format!("opening the store {}", location_words(location)))
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what} [{{bar:40}}] {{pos}}/{{len}} ({{eta}} left)"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

pub fn seed(a: &SeedArgs) -> Result<()> {
    if open(&a.store)?.customer(1)?.is_some() {
        bail!(
            "{} already holds customers; seed into a new store",
            location_words(&a.store)
        );
    }
    let b = bar(a.customers, "seeding customers");
    let t0 = Instant::now();
    let r = seed::seed_at(
        &a.store,
        &Catalog::builtin(),
        a.customers,
        a.seed,
        DEFAULT_NOW,
        &mut |n| b.set_position(n),
    )
    .with_context(|| format!("seeding the store {}", location_words(&a.store)))?;
    let secs = t0.elapsed().as_secs_f64();
    b.finish_and_clear();
    let disk = open(&a.store)?.size_on_disk()?;
    if a.json {
        println!(
            "{}",
            json!({ "customers": r.customers, "key_accounts": r.key_accounts,
                "key_account_revenue_share": r.key_account_revenue_share, "interactions": r.interactions,
                "tickets": r.tickets, "seconds": secs, "customers_per_second": r.customers as f64 / secs,
                "disk_bytes": disk, "store": location_words(&a.store) })
        );
    } else {
        println!(
            "{} customers ({} key accounts bringing {:.1} % of the monthly revenue), {} past interactions, {} tickets",
            r.customers,
            r.key_accounts,
            r.key_account_revenue_share * 100.0,
            r.interactions,
            r.tickets
        );
        println!(
            "written to {} in {:.1} s ({:.0} customers/s), {:.1} MB on disk",
            location_words(&a.store),
            secs,
            r.customers as f64 / secs,
            disk as f64 / 1e6
        );
    }
    Ok(())
}

pub fn run(c: &StoreCommand) -> Result<()> {
    match c {
        StoreCommand::Check {
            store,
            rebuild,
            json,
        } => {
            let s = open_existing(store)?;
            let r = if *rebuild {
                s.rebuild_indexes()?
            } else {
                s.check()?
            };
            if *json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!(
                    "{} customers, {} tickets, {} interactions, {} agents, {} index entries",
                    r.customers, r.tickets, r.interactions, r.agents, r.index_entries
                );
                println!(
                    "corrupt records {}, missing index entries {}, wrong {}, stale {}, set aside {}",
                    r.corrupt, r.missing, r.mismatched, r.stale, r.dead_letters
                );
                for p in &r.problems {
                    println!("  {p}");
                }
                println!(
                    "{}",
                    if r.is_clean() {
                        "clean"
                    } else if r.dead_letters > 0
                        && r.corrupt + r.missing + r.mismatched + r.stale == 0
                    {
                        "NOT clean: records were set aside (above); fix the cause and put them back"
                    } else {
                        "NOT clean: try --rebuild"
                    }
                );
            }
            if !r.is_clean() {
                std::process::exit(1);
            }
        }
        StoreCommand::Export {
            store,
            kind,
            csv,
            out,
        } => {
            let s = open_existing(store)?;
            let mut w: Box<dyn Write> = match out {
                Some(p) => Box::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("creating {}", p.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            let n = match (csv, Kind::from(*kind)) {
                (true, Kind::Customers) => export::export_customers_csv(&s, &mut w)?,
                (true, _) => bail!("CSV is for customers; export the rest as JSON lines"),
                (false, k) => export::export_jsonl(&s, k, &mut w)?,
            };
            eprintln!("{n} records exported");
        }
        StoreCommand::Import {
            store,
            kind,
            csv,
            file,
        } => {
            let mut s = target(store)?;
            let mut f =
                std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
            let n = match (csv, Kind::from(*kind)) {
                (true, Kind::Customers) => export::import_customers_csv_into(&mut s, &mut f)?,
                (true, _) => bail!("CSV is for customers; import the rest as JSON lines"),
                (false, k) => export::import_jsonl_into(&mut s, k, &mut f)?,
            };
            println!("{n} records imported");
        }
        StoreCommand::Backup { store, to } => {
            let m = export::backup(&open_existing(store)?, to)?;
            println!("backed up to {}: {:?}", to.display(), m.counts);
        }
        StoreCommand::Restore { store, from } => {
            let m = export::restore_into(&mut target(store)?, from)?;
            println!("restored from {}: {:?}", from.display(), m.counts);
        }
        StoreCommand::AddAgent {
            store,
            id,
            name,
            role,
            skills,
            password,
        } => {
            let role = match role.as_str() {
                "agent" => Role::Agent,
                "supervisor" => Role::Supervisor,
                "admin" => Role::Admin,
                other => bail!("role '{other}' is not agent, supervisor or admin"),
            };
            let mut parsed = Vec::new();
            for sk in skills {
                let (n, l) = sk
                    .split_once('=')
                    .with_context(|| format!("skill '{sk}' is not name=level"))?;
                let l: u8 = l
                    .parse()
                    .with_context(|| format!("skill '{sk}': the level is not a number"))?;
                parsed.push((n.to_string(), l));
            }
            let password = match password
                .clone()
                .or_else(|| std::env::var("HOTLINE_AGENT_PASSWORD").ok())
            {
                Some(p) => p,
                None => bail!("give --password or set HOTLINE_AGENT_PASSWORD"),
            };
            open(store)?.set_agent(
                AgentAccount {
                    id: id.clone(),
                    name: name.clone(),
                    role,
                    skills: parsed,
                    groups: vec![],
                    password_hash: String::new(),
                },
                &password,
            )?;
            println!("agent {id} saved");
        }
        StoreCommand::Migrate { store } => {
            open(store)?;
            if store.contains("://") {
                println!(
                    "{}: schema version {}",
                    location_words(store),
                    hotline_store::SCHEMA_VERSION
                );
            } else {
                println!("{store}: a sled store has no schema to migrate");
            }
        }
        StoreCommand::Copy { from, to } => copy(from, to)?,
        StoreCommand::Hold { store } => {
            let s = open(store)?;
            let c = s.customer(1)?.context("the store has no customer 1")?;
            for k in 0..100u64 {
                s.record_interaction(interaction(c.id, &c.phones[0], k, k))?;
            }
            println!("ready");
            std::io::stdout().flush()?;
            loop {
                std::thread::sleep(Duration::from_secs(60));
            }
        }
    }
    Ok(())
}

/// `hotline store copy`: every record, then both stores checked and compared.
fn copy(from: &str, to: &str) -> Result<()> {
    let (src, mut dst) = (open_existing(from)?, target(to)?);
    let t0 = Instant::now();
    let c = export::copy_into(&src, &mut dst)
        .with_context(|| format!("copying into {}", location_words(to)))?;
    let dst = dst.into_store()?;
    println!(
        "copied {} customers, {} agents, {} tickets, {} interactions, {} intervals of history, \
         {} other records in {:.1} s",
        c.customers,
        c.agents,
        c.tickets,
        c.interactions,
        c.intervals,
        c.other,
        t0.elapsed().as_secs_f64()
    );
    let (a, b) = (src.check()?, dst.check()?);
    let counts = |r: &CheckReport| (r.customers, r.tickets, r.interactions, r.agents);
    if counts(&a) != counts(&b) || !b.is_clean() {
        bail!(
            "the copy does not match: {} has {:?}, {} has {:?} (customers, tickets, \
             interactions, agents), clean: {}",
            location_words(from),
            counts(&a),
            location_words(to),
            counts(&b),
            b.is_clean()
        );
    }
    println!(
        "checked: both hold the same counts and {} is clean",
        location_words(to)
    );
    Ok(())
}

fn interaction(customer: u64, phone: &str, call_id: u64, k: u64) -> Interaction {
    let at = DEFAULT_NOW + k * 1000;
    Interaction {
        id: 0,
        call_id,
        customer: Some(customer),
        caller_number: phone.to_string(),
        dialled: "1000".into(),
        arrived: at,
        ivr_ended: Some(at + 10_000),
        queued: Some(at + 10_000),
        offered: Some(at + 20_000),
        answered: Some(at + 23_000),
        ended: at + 200_000,
        ivr_path: vec!["2".into(), "0".into()],
        self_service: None,
        queue: Some("fault 障碍申报".into()),
        agents: vec![format!("{}", 1001 + k % 60)],
        transfers: 0,
        wait_s: 10,
        talk_s: 177,
        hold_s: 0,
        wrap_up_s: 20,
        end: CallEnd::Completed,
        disposition: Some("answered".into()),
        reason: Some("fault.broadband".into()),
        notes: "宽带断网，已派单".into(),
        tickets: vec![],
        fcr_claimed: false,
        fcr_verified: None,
        satisfaction: None,
        legs: vec![],
    }
}

#[derive(Args)]
pub struct StoreBench {
    /// Customers to seed into a temporary store (ignored with --store).
    #[arg(long, default_value_t = 100_000)]
    customers: u64,
    /// Use this seeded store instead (its customers must come from `hotline seed`). The
    /// benchmark writes its interactions and tickets into it: use a copy.
    #[arg(long)]
    store: Option<PathBuf>,
    /// Seed of the store (to know its phone numbers).
    #[arg(long, default_value_t = 1000)]
    seed: u64,
    /// Screen pops timed.
    #[arg(long, default_value_t = 200_000)]
    reads: u64,
    /// Concurrent writers.
    #[arg(long, default_value_t = 64)]
    writers: u32,
    /// Seconds of writing.
    #[arg(long, default_value_t = 5.0)]
    write_seconds: f64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// The PostgreSQL server for the pgbench reference and the postgres engine (default:
    /// HOTLINE_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/postgres); the
    /// benchmark makes and drops databases of its own there. Without a reachable server
    /// the reference is left out.
    #[arg(long)]
    pgbench_url: Option<String>,
    /// The storage engine to measure: sled (embedded) or postgres (a database made for
    /// the run on the --pgbench-url server, dropped after).
    #[arg(long, value_enum, default_value = "sled")]
    engine: BenchEngine,
}

/// The engines `bench store` measures.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchEngine {
    /// Embedded sled.
    Sled,
    /// PostgreSQL.
    Postgres,
}

/// Where a benchmark's store is, and what to remove afterwards.
struct BenchPlace {
    /// `Store::at`'s form.
    location: String,
    /// A directory for the bare fsync reference (the store's own for sled).
    dir: PathBuf,
    /// Made for the run: removed after.
    temporary: bool,
    /// A database made for the run: (server, name).
    database: Option<(String, String)>,
}

impl BenchPlace {
    fn new(a: &StoreBench, server: &str) -> Result<BenchPlace> {
        let tmp = std::env::temp_dir().join(format!("hotline-bench-store-{}", std::process::id()));
        Ok(match (a.engine, &a.store) {
            (BenchEngine::Sled, Some(d)) => BenchPlace {
                location: d.display().to_string(),
                dir: d.clone(),
                temporary: false,
                database: None,
            },
            (BenchEngine::Sled, None) => BenchPlace {
                location: tmp.display().to_string(),
                dir: tmp,
                temporary: true,
                database: None,
            },
            (BenchEngine::Postgres, _) => {
                std::fs::create_dir_all(&tmp)?;
                let name = format!("hotline_bench_{}", std::process::id());
                let url = hotline_store::create_database(server, &name)?;
                BenchPlace {
                    location: url,
                    dir: tmp,
                    temporary: true,
                    database: Some((server.to_string(), name)),
                }
            }
        })
    }

    fn open(&self, pool: usize) -> Result<Store> {
        match &self.database {
            Some(_) => Ok(Store::on(
                Arc::new(hotline_store::PgEngine::open_with_pool(
                    &self.location,
                    pool,
                )?),
                Catalog::builtin(),
            )),
            None => open(&self.location),
        }
    }

    fn remove(&self) {
        if self.temporary {
            std::fs::remove_dir_all(&self.dir).ok();
        }
        if let Some((server, name)) = &self.database {
            if let Err(e) = hotline_store::drop_database(server, name) {
                eprintln!("could not drop the benchmark's database {name}: {e}");
            }
        }
    }
}

fn percentile(v: &mut [u64], q: f64) -> f64 {
    v.sort_unstable();
    v[((v.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0
}

pub fn bench(a: &StoreBench) -> Result<()> {
    let pg_url = a
        .pgbench_url
        .clone()
        .unwrap_or_else(crate::pg_reference::server_url);
    let place = BenchPlace::new(a, &pg_url)?;
    let r = bench_on(a, &place, &pg_url);
    place.remove();
    r
}

fn bench_on(a: &StoreBench, place: &BenchPlace, pg_url: &str) -> Result<()> {
    let mut seed_seconds = None;
    let customers;
    {
        if place.temporary {
            let b = bar(a.customers, "seeding");
            let t0 = Instant::now();
            seed::seed_at(
                &place.location,
                &Catalog::builtin(),
                a.customers,
                a.seed,
                DEFAULT_NOW,
                &mut |n| b.set_position(n),
            )?;
            seed_seconds = Some(t0.elapsed().as_secs_f64());
            b.finish_and_clear();
            customers = a.customers;
        } else {
            let store = open_existing(&place.location)?;
            customers = (1..)
                .map(|k: u64| 1u64 << k)
                .take_while(|&n| store.customer(n).ok().flatten().is_some())
                .last()
                .map_or(0, |hi| {
                    // binary search for the last customer id
                    let (mut lo, mut hi) = (hi, hi * 2);
                    while hi - lo > 1 {
                        let mid = (lo + hi) / 2;
                        if store.customer(mid).ok().flatten().is_some() {
                            lo = mid;
                        } else {
                            hi = mid;
                        }
                    }
                    lo
                });
            if customers == 0 {
                bail!("{} holds no seeded customers", place.location);
            }
        }
    }
    let t0 = Instant::now();
    let store = place.open(a.writers as usize)?;
    let reopen_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let disk = store.size_on_disk()?;

    // screen pops of random customers by their first number
    let mut rng = Rng::seeded(77);
    let phones: Vec<String> = (0..a.reads.min(200_000))
        .map(|_| seed::customer(a.seed, rng.below(customers), DEFAULT_NOW).phones[0].clone())
        .collect();
    let mut times = Vec::with_capacity(a.reads as usize);
    let mut found = 0u64;
    for k in 0..a.reads as usize {
        let p = &phones[k % phones.len()];
        let t = Instant::now();
        let pop = store.screen_pop(p, 5)?;
        times.push(t.elapsed().as_nanos() as u64);
        found += pop.is_some() as u64;
    }
    let (pop_p50, pop_p99) = (percentile(&mut times, 0.5), percentile(&mut times, 0.99));

    // durable writes from many threads: an interaction or a ticket each
    let store = Arc::new(store);
    let flushes_before = store.flushes();
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let threads: Vec<_> = (0..a.writers)
        .map(|w| {
            let (store, stop, done) = (store.clone(), stop.clone(), done.clone());
            let seed_no = a.seed;
            std::thread::spawn(move || -> Result<u64> {
                let mut rng = Rng::seeded(w as u64);
                let mut n = 0;
                let mut lat = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let cid = 1 + rng.below(customers);
                    let t = Instant::now();
                    if n % 2 == 0 {
                        let phone = seed::customer(seed_no, cid - 1, DEFAULT_NOW).phones[0].clone();
                        store.record_interaction(interaction(
                            cid,
                            &phone,
                            rng.next_u64() >> 1,
                            n,
                        ))?;
                    } else {
                        store.create_ticket(
                            NewTicket {
                                customer: cid,
                                kind: TicketKind::Fault,
                                subcategory: "broadband-down".into(),
                                description: "宽带无法上网".into(),
                                priority: TicketPriority::Normal,
                            },
                            "1001",
                            DEFAULT_NOW,
                        )?;
                    }
                    lat.push(t.elapsed().as_nanos() as u64);
                    n += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                lat.sort_unstable();
                Ok(lat.get(lat.len() / 2).copied().unwrap_or(0))
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(a.write_seconds));
    stop.store(true, Ordering::Relaxed);
    let mut medians = Vec::new();
    for t in threads {
        medians.push(
            t.join()
                .map_err(|_| anyhow::anyhow!("a writer thread panicked"))??,
        );
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let writes = done.load(Ordering::Relaxed);
    let flushes = store.flushes() - flushes_before;
    let write_p50_us = percentile(&mut medians, 0.5);
    drop(store);
    let fsyncs_per_s = bare_fsyncs_per_second(&place.dir, Duration::from_secs(2))?;
    let pgbench = crate::pg_reference::pgbench_inserts(
        pg_url,
        a.writers,
        a.write_seconds.ceil().max(5.0) as u32,
    );

    // recovery after a crash: a child process writes, is killed with SIGKILL, we reopen
    let exe = std::env::current_exe()?;
    let mut child = std::process::Command::new(exe)
        .args(["store", "hold", "--store"])
        .arg(&place.location)
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().context("child stdout")?).read_line(&mut line)?;
    if line.trim() != "ready" {
        bail!("the crash child did not get ready: {line:?}");
    }
    child.kill()?;
    child.wait()?;
    let t0 = Instant::now();
    let store = place.open(4)?;
    let reopen_after_kill_ms = t0.elapsed().as_secs_f64() * 1000.0;
    drop(store);

    let v = json!({
        "engine": match a.engine { BenchEngine::Sled => "sled", BenchEngine::Postgres => "postgres" },
        "customers": customers,
        "seed_seconds": seed_seconds,
        "screen_pops": a.reads, "screen_pops_found": found,
        "screen_pop_p50_us": pop_p50, "screen_pop_p99_us": pop_p99,
        "writers": a.writers, "durable_writes": writes, "write_seconds": elapsed,
        "durable_writes_per_s": writes as f64 / elapsed,
        "reference_fsyncs_per_s": fsyncs_per_s,
        "durable_writes_per_reference_fsync": writes as f64 / elapsed / fsyncs_per_s,
        "pgbench_reference_writes_per_s": pgbench.as_ref().ok().map(|(tps, _)| *tps),
        "pgbench_synchronous_commit": pgbench.as_ref().ok().map(|(_, s)| s.clone()),
        "pgbench_reference_error": pgbench.as_ref().err().map(|e| format!("{e:#}")),
        "durable_writes_per_pgbench_write": pgbench.as_ref().ok().map(|(tps, _)| writes as f64 / elapsed / tps),
        "peak_rss_mb": crate::bench::rss_mb(std::process::id()).map(|(_, hwm)| hwm),
        "writes_per_flush": if flushes > 0 { writes as f64 / flushes as f64 } else { 0.0 },
        "write_latency_p50_us_median_of_writers": write_p50_us,
        "bytes_per_customer": disk as f64 / customers as f64,
        "disk_bytes": disk,
        "reopen_ms": reopen_ms,
        "reopen_after_kill_ms": reopen_after_kill_ms,
        "machine": crate::bench::machine(),
    });
    if a.json {
        println!("{v}");
        return Ok(());
    }
    println!(
        "customer store on {}, {customers} customers{}",
        match a.engine {
            BenchEngine::Sled => "sled",
            BenchEngine::Postgres => "PostgreSQL",
        },
        seed_seconds.map_or(String::new(), |s| format!(" (seeded in {s:.1} s)"))
    );
    println!(
        "screen pop (customer by phone + open tickets + last 5 interactions), {} reads: p50 {pop_p50:.1} µs, p99 {pop_p99:.1} µs",
        a.reads
    );
    println!(
        "durable writes (interaction or ticket, flushed before returning), {} writers for {elapsed:.1} s: {:.0}/s, {:.1} writes per flush, median latency {write_p50_us:.0} µs",
        a.writers,
        writes as f64 / elapsed,
        if flushes > 0 {
            writes as f64 / flushes as f64
        } else {
            0.0
        }
    );
    println!(
        "disk: {:.0} bytes per customer ({:.1} MB in all, history included)",
        disk as f64 / customers as f64,
        disk as f64 / 1e6
    );
    println!(
        "reference: a bare loop of 200-byte appends, each followed by fdatasync, in the same directory: {fsyncs_per_s:.0}/s (durable writes are {:.2}× that)",
        writes as f64 / elapsed / fsyncs_per_s
    );
    match &pgbench {
        Ok((tps, sync)) => println!(
            "reference: pgbench, {} clients each inserting one row per transaction (one index, synchronous_commit {sync}): {tps:.0}/s (durable writes are {:.2}× that)",
            a.writers,
            writes as f64 / elapsed / tps
        ),
        Err(e) => println!("reference: pgbench left out ({e:#})"),
    }
    println!(
        "open: {reopen_ms:.0} ms after a clean close, {reopen_after_kill_ms:.0} ms after SIGKILL"
    );
    if let Some((_, hwm)) = crate::bench::rss_mb(std::process::id()) {
        println!("peak memory of this process: {hwm:.0} MB");
    }
    Ok(())
}

/// The machine's reference for durable writes: one thread appending 200 bytes and
/// `fdatasync`ing, for `span`, in a file beside the store (removed after).
fn bare_fsyncs_per_second(dir: &std::path::Path, span: Duration) -> Result<f64> {
    use std::io::Write;
    let path = dir.join("reference-fsync.tmp");
    let mut f = std::fs::File::create(&path)?;
    let buf = [b'x'; 200];
    let (t0, mut n) = (Instant::now(), 0u64);
    while t0.elapsed() < span {
        f.write_all(&buf)?;
        f.sync_data()?;
        n += 1;
    }
    let rate = n as f64 / t0.elapsed().as_secs_f64();
    drop(f);
    std::fs::remove_file(path).ok();
    Ok(rate)
}
