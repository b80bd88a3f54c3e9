//! What the two load benchmarks (route and echo) share: the connections they spread
//! their streams over, and the time from a start to its matching arrival.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tonic::transport::Channel;

/// When each numbered thing (a call, a note) started or arrived.
pub(crate) type Times = Arc<Mutex<HashMap<u64, Instant>>>;

/// `n` HTTP/2 connections to `url`, so thousands of streams are spread over a few.
pub(crate) async fn channels(url: &str, n: usize) -> Result<Vec<Channel>, String> {
    let mut channels = Vec::with_capacity(n);
    for _ in 0..n {
        channels.push(
            Channel::from_shared(url.to_string())
                .map_err(|e| e.to_string())?
                .connect()
                .await
                .map_err(|e| format!("cannot reach {url}: {e}"))?,
        );
    }
    Ok(channels)
}

/// Start → arrival in milliseconds, over the numbers present in both.
pub(crate) struct Spread {
    /// How many arrived.
    pub count: usize,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// The spread of `started` → `arrived`, or None if nothing arrived.
pub(crate) fn spread(started: &Times, arrived: &Times) -> Result<Option<Spread>, String> {
    let (s, a) = (
        started.lock().map_err(|_| "poisoned")?,
        arrived.lock().map_err(|_| "poisoned")?,
    );
    let mut ms: Vec<f64> = s
        .iter()
        .filter_map(|(k, t0)| {
            a.get(k)
                .map(|t1| t1.saturating_duration_since(*t0).as_secs_f64() * 1000.0)
        })
        .collect();
    if ms.is_empty() {
        return Ok(None);
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    Ok(Some(Spread {
        count: ms.len(),
        p50: at(0.5),
        p99: at(0.99),
        max: at(1.0),
    }))
}
