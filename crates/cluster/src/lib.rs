//! Beyond one router: what lets a second router hold a partition's state and take it
//! over — the partition's **lease** (one owner at a time, its epoch the lease's revision)
//! in a JetStream key-value bucket, and the partition's **input log**, a JetStream
//! subject whose appends are fenced (each names the sequence it expects to follow, so a
//! deposed owner cannot write) and deduplicated by id (a retried append lands once).
//!
//! The routing core and the switchboard are deterministic and sans-IO: the same inputs
//! in the same order give the same state. Appending every input to the log before it
//! takes effect, and replaying the log, is how a standby holds the owner's state.
//!
//! This crate is the storage side of that: it knows nothing of calls or agents, only
//! partitions, epochs and opaque entries. A partition is a name such as `centre-a`.

use std::time::Duration;

mod lease;
pub mod local;
mod log;
mod progress;

pub use lease::{Lease, LeaseError, LeaseInfo, Leases};
pub use log::{Entry, EntryKind, InputLog, LogError, Writer};
pub use progress::{Progress, StandbyProgress};

/// Connect to the NATS servers (`nats://host:port`, several comma-separated for a
/// cluster) and open JetStream on them.
pub async fn connect(urls: &str) -> Result<async_nats::jetstream::Context, ConnectError> {
    let fail = |why: String| ConnectError {
        urls: urls.to_string(),
        why,
    };
    let servers: Vec<async_nats::ServerAddr> = urls
        .split(',')
        .map(|u| u.trim().parse().map_err(|e| fail(format!("'{u}': {e}"))))
        .collect::<Result<_, _>>()?;
    // a server lost is noticed at once (its socket closes) and another tried soon; a
    // JetStream request unanswered for a second is retried by the caller (an append under
    // its own id lands once), so a lease outlives the cluster choosing a new leader
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .request_timeout(Some(Duration::from_secs(1)))
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis(50 * attempts.clamp(1, 20) as u64)
        })
        .connect(servers)
        .await
        .map_err(|e| fail(e.to_string()))?;
    Ok(async_nats::jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(1))
        .build(client))
}

/// The NATS servers could not be reached.
#[derive(Debug, thiserror::Error)]
#[error("cannot reach NATS at {urls}: {why}")]
pub struct ConnectError {
    /// The addresses tried.
    pub urls: String,
    /// Why not.
    pub why: String,
}

/// Milliseconds since the Unix epoch, from the system clock (lease records only say
/// when they were renewed, for people reading `hotline cluster status`).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
