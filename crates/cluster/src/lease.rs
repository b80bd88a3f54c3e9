//! A partition's lease: a key of a JetStream key-value bucket whose entries age out
//! after the lease's time-to-live. Acquiring creates the key (refused while another
//! holds it), renewing rewrites it only at the revision last seen (compare-and-set, so
//! a holder who lost it learns so), and the revision at which it was acquired is the
//! owner's **epoch**: higher for every new owner. An owner that dies stops renewing; the
//! key ages out and a standby can acquire it.

use async_nats::jetstream::{self, kv};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use thiserror::Error;

/// What the lease key holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseInfo {
    /// The router holding it (its name from `[cluster]`).
    pub holder: String,
    /// Its epoch: the bucket's revision when it was acquired.
    pub epoch: u64,
    /// When it was last renewed, ms since the Unix epoch (the holder's clock).
    pub renewed_ms: u64,
    /// The bucket's revision of this renewal (what the next renewal must follow).
    #[serde(skip)]
    pub revision: u64,
}

/// Why a lease could not be had or kept.
#[derive(Debug, Error)]
pub enum LeaseError {
    /// Another router holds it.
    #[error("partition '{partition}' is held by {holder} (epoch {epoch})")]
    Held {
        /// The partition.
        partition: String,
        /// Who holds it.
        holder: String,
        /// Their epoch.
        epoch: u64,
    },
    /// The lease lapsed or was taken over since it was last renewed: the holder is no
    /// longer the owner and must stop serving the partition.
    #[error("the lease of partition '{partition}' (epoch {epoch}) is lost")]
    Lost {
        /// The partition.
        partition: String,
        /// The epoch that was held.
        epoch: u64,
    },
    /// A partition name that cannot be a key (letters, digits, `-` and `_`).
    #[error("'{0}' is not a partition name (letters, digits, - and _)")]
    BadName(String),
    /// NATS did not answer as it should.
    #[error("the lease bucket: {0}")]
    Nats(String),
}

fn nats(e: impl std::fmt::Display) -> LeaseError {
    LeaseError::Nats(e.to_string())
}

fn valid(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Make key-value bucket `bucket` (one value a key, aging out after `ttl`): its stream
/// as the client's `create_key_value` would make it, made here because that call first
/// reads the account's information in a shape nats-server 2.9 (Debian 12's) does not
/// send.
pub(crate) async fn make_bucket(
    js: &jetstream::Context,
    bucket: &str,
    description: &str,
    ttl: Duration,
    replicas: usize,
) -> Result<(), LeaseError> {
    use jetstream::stream;
    js.get_or_create_stream(stream::Config {
        name: format!("KV_{bucket}"),
        description: Some(description.into()),
        subjects: vec![format!("$KV.{bucket}.>")],
        max_messages_per_subject: 1,
        max_age: ttl,
        storage: stream::StorageType::File,
        num_replicas: replicas.max(1),
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: stream::DiscardPolicy::New,
        ..Default::default()
    })
    .await
    .map_err(nats)?;
    Ok(())
}

/// The leases of all partitions: one bucket.
#[derive(Clone)]
pub struct Leases {
    kv: kv::Store,
    ttl: Duration,
}

impl Leases {
    /// Open (or create) the bucket `bucket`, whose leases last `ttl` without renewal
    /// (a bucket that exists keeps the time-to-live it was made with), kept on
    /// `replicas` servers.
    pub async fn open(
        js: &jetstream::Context,
        bucket: &str,
        ttl: Duration,
        replicas: usize,
    ) -> Result<Leases, LeaseError> {
        if js.get_key_value(bucket).await.is_err() {
            make_bucket(
                js,
                bucket,
                "hotline: which router owns each partition",
                ttl,
                replicas,
            )
            .await?;
        }
        let kv = js.get_key_value(bucket).await.map_err(nats)?;
        // a bucket made before keeps its own time-to-live
        let ttl = kv
            .status()
            .await
            .map(|s| s.info.config.max_age)
            .ok()
            .filter(|t| !t.is_zero())
            .unwrap_or(ttl);
        Ok(Leases { kv, ttl })
    }

    /// The bucket `bucket` if it exists (nothing is made: for reading the state).
    pub async fn find(js: &jetstream::Context, bucket: &str) -> Result<Option<Leases>, LeaseError> {
        match js.get_key_value(bucket).await {
            Ok(kv) => {
                let ttl = kv
                    .status()
                    .await
                    .map(|s| s.info.config.max_age)
                    .map_err(nats)?;
                Ok(Some(Leases { kv, ttl }))
            }
            Err(_) => Ok(None),
        }
    }

    /// How long a lease lasts without renewal (renew at a third of it).
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Take the lease of `partition` for `holder`, if nobody holds it.
    pub async fn acquire(&self, partition: &str, holder: &str) -> Result<Lease, LeaseError> {
        if !valid(partition) {
            return Err(LeaseError::BadName(partition.to_string()));
        }
        let mut info = LeaseInfo {
            holder: holder.to_string(),
            epoch: 0,
            renewed_ms: crate::now_ms(),
            revision: 0,
        };
        let first = serde_json::to_vec(&info).map_err(nats)?;
        match self.kv.create(partition, Bytes::from(first)).await {
            Ok(revision) => {
                // the epoch is the revision of the creation; say so in the record
                info.epoch = revision;
                info.revision = revision;
                let mut lease = Lease {
                    leases: self.clone(),
                    partition: partition.to_string(),
                    info,
                };
                lease.renew().await?;
                tracing::info!(partition, holder, epoch = revision, "lease acquired");
                Ok(lease)
            }
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
                let held = self.status(partition).await?;
                Err(LeaseError::Held {
                    partition: partition.to_string(),
                    holder: held
                        .as_ref()
                        .map_or("(unknown)".into(), |h| h.holder.clone()),
                    epoch: held.map_or(0, |h| h.epoch),
                })
            }
            Err(e) => Err(nats(e)),
        }
    }

    /// Who holds `partition`'s lease now, if anyone.
    pub async fn status(&self, partition: &str) -> Result<Option<LeaseInfo>, LeaseError> {
        match self.kv.entry(partition).await.map_err(nats)? {
            Some(e) if e.operation == kv::Operation::Put => {
                let mut info: LeaseInfo = serde_json::from_slice(&e.value).map_err(nats)?;
                info.revision = e.revision;
                if info.epoch == 0 {
                    info.epoch = e.revision;
                }
                Ok(Some(info))
            }
            _ => Ok(None),
        }
    }

    /// Every partition with a lease held now.
    pub async fn held(&self) -> Result<Vec<(String, LeaseInfo)>, LeaseError> {
        use futures::StreamExt;
        let mut keys = self.kv.keys().await.map_err(nats)?;
        let mut names = Vec::new();
        while let Some(k) = keys.next().await {
            names.push(k.map_err(nats)?);
        }
        names.sort();
        let mut out = Vec::new();
        for name in names {
            if let Some(info) = self.status(&name).await? {
                out.push((name, info));
            }
        }
        Ok(out)
    }
}

/// A lease held: renew it more often than its time-to-live, or lose it.
pub struct Lease {
    leases: Leases,
    partition: String,
    info: LeaseInfo,
}

impl Lease {
    /// The owner's epoch (higher for every new owner of the partition).
    pub fn epoch(&self) -> u64 {
        self.info.epoch
    }

    /// The partition.
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// Keep the lease: rewrite it at the revision last seen. An error means the holder is
    /// no longer the owner.
    pub async fn renew(&mut self) -> Result<(), LeaseError> {
        let mut next = self.info.clone();
        next.renewed_ms = crate::now_ms();
        let value = serde_json::to_vec(&next).map_err(nats)?;
        match self
            .leases
            .kv
            .update(&self.partition, Bytes::from(value), self.info.revision)
            .await
        {
            Ok(revision) => {
                next.revision = revision;
                self.info = next;
                Ok(())
            }
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                // a renewal whose acknowledgement was lost has moved the revision on:
                // the record is still ours if it names this holder and epoch
                if let Some(now) = self.leases.status(&self.partition).await? {
                    if now.holder == self.info.holder && now.epoch == self.info.epoch {
                        self.info = now;
                        return Ok(());
                    }
                }
                tracing::warn!(
                    partition = self.partition,
                    epoch = self.info.epoch,
                    "lease lost"
                );
                Err(LeaseError::Lost {
                    partition: self.partition.clone(),
                    epoch: self.info.epoch,
                })
            }
            Err(e) => Err(nats(e)),
        }
    }

    /// Give the lease up now (a clean shutdown), so a standby need not wait for it to lapse.
    pub async fn release(self) -> Result<(), LeaseError> {
        self.leases
            .kv
            .delete_expect_revision(&self.partition, Some(self.info.revision))
            .await
            .map_err(nats)
    }
}
