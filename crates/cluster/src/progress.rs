//! How far each standby has applied each partition's log: one key per (partition,
//! router) in a key-value bucket, rewritten as the standby follows, aging out when it
//! stops (a standby that died drops off the list). `hotline cluster status` reads it
//! to show each standby's lag.

use async_nats::jetstream::{self, kv};
use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One standby's place in a partition's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandbyProgress {
    /// The standby router.
    pub router: String,
    /// The last log entry it applied.
    pub applied: u64,
    /// When it said so, ms since the Unix epoch (its clock).
    pub at_ms: u64,
}

/// The bucket of standbys' progress.
#[derive(Clone)]
pub struct Progress {
    kv: kv::Store,
}

fn nats(e: impl std::fmt::Display) -> crate::LeaseError {
    crate::LeaseError::Nats(e.to_string())
}

impl Progress {
    /// Open (or create) the bucket `bucket`; a standby silent for `ttl` drops off.
    pub async fn open(
        js: &jetstream::Context,
        bucket: &str,
        ttl: Duration,
        replicas: usize,
    ) -> Result<Progress, crate::LeaseError> {
        if js.get_key_value(bucket).await.is_err() {
            crate::lease::make_bucket(
                js,
                bucket,
                "hotline: how far each standby has applied",
                ttl,
                replicas,
            )
            .await?;
        }
        Ok(Progress {
            kv: js.get_key_value(bucket).await.map_err(nats)?,
        })
    }

    /// The bucket if it exists (nothing is made).
    pub async fn find(js: &jetstream::Context, bucket: &str) -> Option<Progress> {
        js.get_key_value(bucket)
            .await
            .ok()
            .map(|kv| Progress { kv })
    }

    /// Standby `router` has applied `partition`'s log up to `applied`.
    pub async fn report(
        &self,
        partition: &str,
        router: &str,
        applied: u64,
    ) -> Result<(), crate::LeaseError> {
        let p = StandbyProgress {
            router: router.to_string(),
            applied,
            at_ms: crate::now_ms(),
        };
        let value = serde_json::to_vec(&p).map_err(nats)?;
        self.kv
            .put(format!("{partition}.{router}"), Bytes::from(value))
            .await
            .map_err(nats)?;
        Ok(())
    }

    /// The standbys of `partition` that reported lately.
    pub async fn standbys(
        &self,
        partition: &str,
    ) -> Result<Vec<StandbyProgress>, crate::LeaseError> {
        let mut keys = self.kv.keys().await.map_err(nats)?;
        let mut out = Vec::new();
        let prefix = format!("{partition}.");
        while let Some(k) = keys.next().await {
            let k = k.map_err(nats)?;
            if !k.starts_with(&prefix) {
                continue;
            }
            if let Some(e) = self.kv.entry(k).await.map_err(nats)? {
                if e.operation == kv::Operation::Put {
                    out.push(serde_json::from_slice(&e.value).map_err(nats)?);
                }
            }
        }
        out.sort_by(|a: &StandbyProgress, b| a.router.cmp(&b.router));
        Ok(out)
    }
}
