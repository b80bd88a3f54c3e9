//! `hotline`: the command line of the 1000 hotline — simulate the center, size its staff
//! with the Erlang formulas, and benchmark the routing core.
//!
//! Every command that prints figures also takes `--json`, printing one JSON object on
//! stdout for scripts and tests.

mod bench;
mod erlang_cmd;
mod json;
mod sim_cmd;

use clap::{Parser, Subcommand};
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
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Erlang C / Erlang A: predict a queue for a number of agents, or find the fewest
    /// agents meeting a target (with a staffing table around the answer).
    Erlang(erlang_cmd::ErlangArgs),
    /// Simulate a scenario file, or the one-queue M/M/n(+M) model given by flags.
    Sim(sim_cmd::SimArgs),
    /// Benchmarks that print their figures (recorded in BENCHMARKS.md).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Erlang(a) => erlang_cmd::run(&a),
        Command::Sim(a) => sim_cmd::run(&a),
        Command::Bench(b) => bench::run(&b),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotline: {e:#}");
            ExitCode::from(2)
        }
    }
}
