//! `hotline`: the command line of the 1000 hotline — simulate the center, size its staff
//! with the Erlang formulas, and benchmark the routing core.
//!
//! Every command that prints figures also takes `--json`, printing one JSON object on
//! stdout for scripts and tests.

mod bench;
mod cluster_cmd;
mod demo_cmd;
mod erlang_cmd;
mod json;
mod log_bench;
mod pg_reference;
mod report_bench;
mod report_cmd;
mod serve_cmd;
mod sim_cmd;
mod store_cmd;

use clap::{Parser, Subcommand};

// sled allocates on every operation; glibc's malloc was 16 % of a durable-write profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hotline",
    version,
    about = "The 1000 hotline's call-center core: routing simulation, Erlang staffing, benchmarks",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Args)]
struct DeskArgs {
    /// The router to log in to.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    router: String,
    /// Work number to fill in on the login form.
    #[arg(long, default_value = "")]
    agent: String,
    #[command(flatten)]
    tls: demo_cmd::ClientTlsArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Erlang C / Erlang A: predict a queue for a number of agents, or find the fewest
    /// agents meeting a target (with a staffing table around the answer).
    Erlang(erlang_cmd::ErlangArgs),
    /// Simulate a scenario file, or the one-queue M/M/n(+M) model given by flags.
    Sim(sim_cmd::SimArgs),
    /// The main job: the router on its own store with demo customers, bot agents and
    /// simulated 1000 traffic, live figures on the terminal, seats free for people.
    Demo(demo_cmd::DemoArgs),
    /// The desktop for agents and supervisors (needs a display).
    Desk(DeskArgs),
    /// Simulated traffic (bot agents and callers) over gRPC against a running router.
    Live(demo_cmd::LiveArgs),
    /// Run the router: the gRPC server of the 1000 hotline on its store.
    Serve(serve_cmd::ServeArgs),
    /// Fill a new customer store with deterministic synthetic customers and their history.
    Seed(store_cmd::SeedArgs),
    /// Look after a customer store: check and rebuild indexes, export, import, backup.
    #[command(subcommand)]
    Store(store_cmd::StoreCommand),
    /// Benchmarks that print their figures (recorded in BENCHMARKS.md).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Reports over the history the router keeps (interval reports …).
    #[command(subcommand)]
    Report(report_cmd::ReportCommand),
    /// Routers beyond one: the partitions' owners and input logs on NATS JetStream.
    #[command(subcommand)]
    Cluster(cluster_cmd::ClusterCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Like any Unix filter: when the reader of our output goes away (`hotline … | head`),
    // end quietly instead of panicking on a broken pipe. Not for commands that talk over
    // the network: hyper writes frames with writev(2), which raises SIGPIPE on a
    // connection the peer has closed, and a router (or a load generator) must not die
    // because one client went away.
    let networked = matches!(
        cli.command,
        None | Some(
            Command::Demo(_)
                | Command::Serve(_)
                | Command::Live(_)
                | Command::Bench(_)
                | Command::Desk(_)
                | Command::Cluster(_)
        )
    );
    #[cfg(unix)]
    if !networked {
        // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
        #[allow(unsafe_code)]
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    // structured logs on stderr (RUST_LOG=debug for more); personal data is masked by the
    // code that logs it
    let default_filter = match cli.command {
        // the demo's terminal is for its live figures
        None | Some(Command::Demo(_)) | Some(Command::Bench(_)) => "warn",
        _ => "warn,hotline_router=info",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .init();
    let result = match cli.command {
        Some(Command::Erlang(a)) => erlang_cmd::run(&a),
        Some(Command::Sim(a)) => sim_cmd::run(&a),
        Some(Command::Demo(a)) => demo_cmd::demo(&a),
        Some(Command::Live(a)) => demo_cmd::live(&a),
        Some(Command::Desk(a)) => a.tls.load().and_then(|tls| {
            hotline_desk::run(&a.router, &a.agent, tls)
                .map_err(|e| anyhow::anyhow!("the desktop could not start: {e}"))
        }),
        Some(Command::Serve(a)) => serve_cmd::run(&a),
        Some(Command::Seed(a)) => store_cmd::seed(&a),
        Some(Command::Store(c)) => store_cmd::run(&c),
        Some(Command::Bench(b)) => bench::run(&b),
        Some(Command::Report(r)) => report_cmd::run(&r),
        Some(Command::Cluster(c)) => cluster_cmd::run(&c),
        // `cargo run --release` runs the main job
        None => demo_cmd::demo(&demo_cmd::DemoArgs::default()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotline: {e:#}");
            ExitCode::from(2)
        }
    }
}
