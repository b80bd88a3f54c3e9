//! Watching the store from the router: whether it can be reached, and the records
//! waiting in the spool for it. Calls never wait for this: a caller whose number cannot
//! be looked up is routed without a screen pop, a record that cannot be written waits in
//! the spool. Supervisors see the state on the statistics stream, monitoring on the
//! health service (`hotline.store`), the operator in the log.

use crate::core::now_ms;
use crate::spool::RecordSpool;
use hotline_store::{Health, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The service name under which the health service reports the store: SERVING while it
/// answers, NOT_SERVING while it cannot be reached (the router itself keeps serving).
pub const HEALTH_SERVICE: &str = "hotline.store";

/// How often a store that could not be reached is asked again.
const PROBE_EVERY: Duration = Duration::from_secs(2);

/// What the router knows of its store.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreState {
    /// Reachable, or since when not and why.
    pub health: Health,
    /// Call records waiting in the spool.
    pub waiting: usize,
}

impl StoreState {
    /// Whether the store answers.
    pub fn up(&self) -> bool {
        self.health == Health::Up
    }
}

/// Watch `store` once a second (asking it every [`PROBE_EVERY`] while it is away),
/// replay the spool whenever it answers, and publish each change on `publish`.
pub(crate) fn spawn(
    store: Arc<Store>,
    spool: Arc<RecordSpool>,
    publish: watch::Sender<StoreState>,
) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        let mut last_probe = tokio::time::Instant::now();
        loop {
            every.tick().await;
            if publish.is_closed() {
                return;
            }
            let mut health = store.health();
            if health != Health::Up && last_probe.elapsed() >= PROBE_EVERY {
                last_probe = tokio::time::Instant::now();
                let s = store.clone();
                // a lost answer means the runtime is stopping: the next tick ends the loop
                health = tokio::task::spawn_blocking(move || {
                    let _ = s.ping();
                    s.health()
                })
                .await
                .unwrap_or(health);
            }
            if health == Health::Up && spool.waiting() > 0 {
                let (s, sp) = (store.clone(), spool.clone());
                match tokio::task::spawn_blocking(move || sp.replay(&s, now_ms())).await {
                    Ok(Ok(done)) => tracing::info!(
                        written = done.written,
                        set_aside = done.set_aside,
                        waiting = done.waiting,
                        "spooled call records written to the store"
                    ),
                    Ok(Err(e)) => tracing::error!(error = %e, "the record spool cannot be read"),
                    Err(_) => return,
                }
                health = store.health();
            }
            let state = StoreState {
                health,
                waiting: spool.waiting(),
            };
            publish.send_if_modified(|old| {
                if *old == state {
                    return false;
                }
                log_change(old, &state);
                *old = state;
                true
            });
        }
    });
}

fn log_change(old: &StoreState, new: &StoreState) {
    match (&old.health, &new.health) {
        (Health::Up, Health::Degraded { reason, .. }) => tracing::warn!(
            %reason,
            "the store cannot be reached: calls go on without screen pops, records wait in the spool"
        ),
        (Health::Degraded { since, .. }, Health::Up) => tracing::info!(
            away_s = now_ms().saturating_sub(*since) / 1000,
            waiting = new.waiting,
            "the store answers again"
        ),
        _ => {}
    }
}
