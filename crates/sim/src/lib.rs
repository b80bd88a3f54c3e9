//! The hotline simulator: the production routing engine on a virtual clock.
//!
//! Simulated callers arrive as a Poisson process (constant or following a time-of-day
//! profile), choose a reason (inquiry, fault, complaint, service order, bill query …),
//! belong to a segment (public, key account on the green channel), wait with a patience,
//! abandon, call again, accept callbacks. Bot agents with skills, shifts and breaks
//! answer, talk for the reason's handle time and wrap up. The routing, the queues and
//! every statistic come from `hotline-acd`, the same engine the router runs, so a
//! simulated day is a test of the real thing — and for one queue it can be checked
//! against Erlang C and Erlang A (`hotline-erlang`).
//!
//! With an `[ivr]`, callers first go through the router's own IVR flow, run by the
//! production interpreter on the virtual clock (`ivr`): prompts take their time,
//! callers press keys per reason and segment, use self-service, hang up; those not
//! contained reach the queue the flow names.
//!
//! A run is deterministic for a seed: replication `k` draws from its own streams — one
//! for what does not depend on how calls are served (arrivals, reasons, patience, each
//! caller's own choices), so two menus can be compared on the same callers.

mod caller;
pub mod dist;
mod driver;
mod events;
pub mod ivr;
pub mod ivr_report;
pub mod outage;
pub mod report;
pub mod scenario;
pub mod stats;

pub use driver::{BREAK, END_OF_SHIFT, Figures, IntervalFigures, Outcome};
pub use report::{Estimates, IntervalRow, QueueReport, SimReport};
pub use scenario::{Compiled, Scenario};
pub use stats::Estimate;

use thiserror::Error;

/// Why a simulation could not run.
#[derive(Debug, Error)]
pub enum SimError {
    /// A scenario field is wrong; the message names it.
    #[error("scenario: {0}")]
    Scenario(String),
    /// A file could not be read.
    #[error("{0}")]
    Io(String),
}

/// Run one replication of a compiled scenario.
pub fn run_replication(sc: &Compiled, replication: u32, progress: &mut dyn FnMut(u64)) -> Outcome {
    driver::Replication::new(sc, replication).run(progress)
}

/// A scenario with an `[outage]`, run twice on the same seeds: with the incident's
/// message told to the stricken 小区's callers, and without (nobody told, nobody
/// deflected). `progress` gets (run 0 or 1, replications done, calls simulated).
pub fn run_with_and_without_message(
    sc: &Compiled,
    progress: &mut dyn FnMut(u32, u32, u64),
) -> outage::Comparison {
    let mut silent = sc.clone();
    if let Some(o) = &mut silent.outage {
        o.tell = false;
    }
    let ((told, told_wall), (untold, untold_wall)) = paired(sc, &silent, progress);
    let during = |o: &[Outcome]| {
        let plan = sc.outage.as_ref()?;
        Estimate::of(
            &o.iter()
                .filter_map(|o| plan.floor_during(o))
                .collect::<Vec<_>>(),
        )
    };
    outage::Comparison {
        difference: outage::difference(sc, &told, &untold),
        during: [during(&told), during(&untold)],
        told: SimReport::from_outcomes(sc, &told, told_wall),
        untold: SimReport::from_outcomes(&silent, &untold, untold_wall),
    }
}

/// The same scenario and seeds under two IVR flows (`other` is the scenario compiled
/// with the other flow): the callers arrive alike and behave alike where the menus let
/// them (common random numbers), so the differences are the menus'.
pub fn run_compare(
    sc: &Compiled,
    other: &Compiled,
    progress: &mut dyn FnMut(u32, u32, u64),
) -> ivr_report::Comparison {
    let ((a, a_wall), (b, b_wall)) = paired(sc, other, progress);
    let first = SimReport::from_outcomes(sc, &a, a_wall);
    let second = SimReport::from_outcomes(other, &b, b_wall);
    ivr_report::Comparison::of((sc, &a), (other, &b), first, second)
}

/// Two scenarios run one after the other on the same seeds, each with its wall time;
/// `progress` gets (run 0 or 1, replications done, calls simulated).
fn paired(
    a: &Compiled,
    b: &Compiled,
    progress: &mut dyn FnMut(u32, u32, u64),
) -> ((Vec<Outcome>, f64), (Vec<Outcome>, f64)) {
    let started = std::time::Instant::now();
    let first = outcomes(a, &mut |k, n| progress(0, k, n));
    let first_wall = started.elapsed().as_secs_f64();
    let second = outcomes(b, &mut |k, n| progress(1, k, n));
    let second_wall = started.elapsed().as_secs_f64() - first_wall;
    ((first, first_wall), (second, second_wall))
}

/// Threads for `--threads N`: N, or one per core for 0.
pub fn threads(n: usize) -> usize {
    match n {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// Run every replication (one after the other on this thread, or shared out over
/// `sc.threads`) and summarise. `progress` gets (replications done, calls simulated in
/// those running).
pub fn run(sc: &Compiled, progress: &mut dyn FnMut(u32, u64)) -> SimReport {
    let started = std::time::Instant::now();
    let outcomes = outcomes(sc, progress);
    SimReport::from_outcomes(sc, &outcomes, started.elapsed().as_secs_f64())
}

fn outcomes(sc: &Compiled, progress: &mut dyn FnMut(u32, u64)) -> Vec<Outcome> {
    let threads = sc.threads.clamp(1, sc.replications.max(1) as usize);
    if threads > 1 {
        return outcomes_on_threads(sc, threads, progress);
    }
    let mut outcomes = Vec::with_capacity(sc.replications as usize);
    for k in 0..sc.replications {
        outcomes.push(run_replication(sc, k, &mut |n| progress(k, n)));
    }
    progress(sc.replications, 0);
    outcomes
}

/// The replications shared out over `threads` threads (replication `k` is the same run
/// on any thread: it draws only from its own streams), put back in order. `progress`
/// gets (replications done, calls simulated in those still running) from this thread.
fn outcomes_on_threads(
    sc: &Compiled,
    threads: usize,
    progress: &mut dyn FnMut(u32, u64),
) -> Vec<Outcome> {
    use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
    let next = AtomicU32::new(0);
    let done = AtomicU32::new(0);
    let running = AtomicU64::new(0);
    let mut all: Vec<(u32, Outcome)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= sc.replications {
                            return mine;
                        }
                        let mut last = 0;
                        let o = run_replication(sc, k, &mut |n| {
                            running.fetch_add(n - last, Ordering::Relaxed);
                            last = n;
                        });
                        running.fetch_sub(last, Ordering::Relaxed);
                        done.fetch_add(1, Ordering::Relaxed);
                        mine.push((k, o));
                    }
                })
            })
            .collect();
        while !workers.iter().all(|w| w.is_finished()) {
            progress(
                done.load(Ordering::Relaxed),
                running.load(Ordering::Relaxed),
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        workers
            .into_iter()
            .flat_map(|w| match w.join() {
                Ok(mine) => mine,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    all.sort_by_key(|(k, _)| *k);
    progress(sc.replications, 0);
    all.into_iter().map(|(_, o)| o).collect()
}
