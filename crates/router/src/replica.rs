//! A partition's switchboard kept by more than one router (issue 16): the owner appends
//! every input, with its time, to the partition's input log before it takes effect; a
//! standby applies the log to its own switchboard and so holds the same state. When the
//! owner's lease lapses, the standby takes the lease, fences the old owner out of the
//! log, applies the log's tail and serves — with the timers the owner had running.
//!
//! Sans-IO at heart like the rest: the switchboard sees only `(now, In)` in log order;
//! this driver adds the lease and the log (`hotline-cluster`) around it. Side effects
//! (records, the callers' and agents' streams) are the owner's: a standby drops the
//! outputs of what it applies, keeping only the timers it would have to run.

use crate::switchboard::{In, Out, SwitchError, Switchboard, TimerKey};
use bytes::Bytes;
use hotline_cluster::{EntryKind, InputLog, Lease, LeaseError, Leases, LogError, Progress, Writer};
use hotline_store::Millis;
use std::collections::BTreeSet;
use thiserror::Error;

/// Why a replica could not do what was asked.
#[derive(Debug, Error)]
pub enum ReplicaError {
    /// Only the owner takes inputs; this router is the standby now (it lost the lease,
    /// or another router's appends fenced it out).
    #[error("this router does not own partition '{0}' now")]
    NotOwner(String),
    /// The lease bucket failed.
    #[error(transparent)]
    Lease(#[from] LeaseError),
    /// The input log failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// An entry of the log is not an input this router can read.
    #[error("entry {seq} of partition '{partition}' cannot be read: {why}")]
    Unreadable {
        /// The partition.
        partition: String,
        /// The entry.
        seq: u64,
        /// Why.
        why: String,
    },
}

/// What a router is to a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// It serves the partition: its inputs go to the log, then take effect.
    Owner,
    /// It follows the log, ready to take over.
    Standby,
}

struct Owned {
    lease: Lease,
    writer: Writer,
}

/// One router's copy of a partition.
pub struct Replica {
    router: String,
    partition: String,
    sb: Switchboard,
    log: InputLog,
    leases: Leases,
    owned: Option<Owned>,
    /// The last log entry applied.
    applied: u64,
    /// Inputs appended by this owner (their ids: epoch and count).
    appended: u64,
    /// Timers the switchboard asked for and that have not fired.
    timers: BTreeSet<(Millis, TimerKey)>,
    /// Where this standby says how far it has applied the log.
    progress: Option<Progress>,
}

impl Replica {
    /// Router `router`'s copy of `partition`, starting as a standby on a switchboard
    /// built from the same configuration as every other router's (and so in the same
    /// state as the log's beginning).
    pub fn new(
        router: &str,
        partition: &str,
        sb: Switchboard,
        log: InputLog,
        leases: Leases,
    ) -> Replica {
        Replica {
            router: router.to_string(),
            partition: partition.to_string(),
            sb,
            log,
            leases,
            owned: None,
            applied: 0,
            appended: 0,
            timers: BTreeSet::new(),
            progress: None,
        }
    }

    /// Say, as a standby, how far the log is applied (for `hotline cluster status`).
    pub fn with_progress(mut self, progress: Progress) -> Replica {
        self.progress = Some(progress);
        self
    }

    /// Owner or standby.
    pub fn role(&self) -> Role {
        if self.owned.is_some() {
            Role::Owner
        } else {
            Role::Standby
        }
    }

    /// The switchboard as it stands.
    pub fn switchboard(&self) -> &Switchboard {
        &self.sb
    }

    /// The last log entry applied.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// The owner's epoch (none for a standby).
    pub fn epoch(&self) -> Option<u64> {
        self.owned.as_ref().map(|o| o.lease.epoch())
    }

    /// Agents with a call offered to them (ringing) now. After a takeover their desktops
    /// were on the dead router; the new owner sends `In::AgentGone` for each that has not
    /// come back, and the call goes back to its place at the head of its queue.
    pub fn offers_in_flight(&self) -> Vec<String> {
        let engine = self.sb.engine();
        self.sb
            .agent_names()
            .iter()
            .filter(|a| {
                self.sb.agent_id(a).is_some_and(|id| {
                    matches!(
                        engine.agent_state(id),
                        Ok(hotline_acd::AgentState::Reserved { .. })
                    )
                })
            })
            .cloned()
            .collect()
    }

    /// The timers the switchboard is waiting on, due time first (a new owner runs them).
    pub fn timers(&self) -> Vec<(Millis, TimerKey)> {
        self.timers.iter().copied().collect()
    }

    fn apply(&mut self, now: Millis, input: In) -> (Result<(), SwitchError>, Vec<Out>) {
        if let In::Timer(key) = &input {
            self.timers.retain(|(_, k)| k != key);
        }
        let r = self.sb.handle(now, input);
        let mut outs = Vec::new();
        while let Some(o) = self.sb.poll() {
            if let Out::StartTimer { key, at } = &o {
                self.timers.insert((*at, *key));
            }
            outs.push(o);
        }
        (r, outs)
    }

    /// The owner takes an input: appended to the log, then applied. The switchboard's
    /// refusal comes back with the outputs (a refusal is logged like any input: the
    /// standby refuses it too).
    pub async fn input(
        &mut self,
        now: Millis,
        input: In,
    ) -> Result<(Result<(), SwitchError>, Vec<Out>), ReplicaError> {
        let Some(owned) = &mut self.owned else {
            return Err(ReplicaError::NotOwner(self.partition.clone()));
        };
        // an entry is (time, input), as JSON
        let bytes = serde_json::to_vec(&(now, &input)).map_err(|e| ReplicaError::Unreadable {
            partition: self.partition.clone(),
            seq: 0,
            why: e.to_string(),
        })?;
        self.appended += 1;
        let id = format!("{}-{}", owned.lease.epoch(), self.appended);
        match owned.writer.append(&id, Bytes::from(bytes)).await {
            Ok(seq) => self.applied = seq,
            Err(e @ LogError::Fenced { .. }) => {
                self.step_down("fenced out of the log");
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        }
        Ok(self.apply(now, input))
    }

    /// The owner keeps its lease (call at a third of its time-to-live). Losing it makes
    /// this router a standby.
    pub async fn keep(&mut self) -> Result<(), ReplicaError> {
        let Some(owned) = &mut self.owned else {
            return Err(ReplicaError::NotOwner(self.partition.clone()));
        };
        match owned.lease.renew().await {
            Ok(()) => Ok(()),
            Err(e @ LeaseError::Lost { .. }) => {
                self.step_down("lease lost");
                Err(e.into())
            }
            Err(e) => Err(e.into()),
        }
    }

    fn step_down(&mut self, why: &str) {
        if let Some(o) = self.owned.take() {
            tracing::warn!(
                router = self.router,
                partition = self.partition,
                epoch = o.lease.epoch(),
                why,
                "no longer the owner: following the log"
            );
        }
    }

    /// The standby applies what the log has beyond what it applied: returns how many
    /// inputs.
    pub async fn follow(&mut self) -> Result<usize, ReplicaError> {
        let n = self.follow_to(u64::MAX).await?;
        if let Some(p) = &self.progress {
            p.report(&self.partition, &self.router, self.applied)
                .await?;
        }
        Ok(n)
    }

    async fn follow_to(&mut self, upto: u64) -> Result<usize, ReplicaError> {
        let mut n = 0;
        loop {
            let batch = self
                .log
                .read_after(&self.partition, self.applied, 500)
                .await?;
            if batch.is_empty() {
                return Ok(n);
            }
            for e in batch {
                if e.seq > upto {
                    return Ok(n);
                }
                self.applied = e.seq;
                if e.kind != EntryKind::Input {
                    continue;
                }
                let (now, input): (Millis, In) =
                    serde_json::from_slice(&e.payload).map_err(|why| ReplicaError::Unreadable {
                        partition: self.partition.clone(),
                        seq: e.seq,
                        why: why.to_string(),
                    })?;
                // a standby performs no side effects: the owner did
                let _ = self.apply(now, input);
                n += 1;
            }
        }
    }

    /// The standby takes the partition over if its lease has lapsed: the lease, then a
    /// takeover entry that fences the old owner out of the log, then the log's tail up to
    /// it. True when this router is the owner now.
    pub async fn take_over(&mut self) -> Result<bool, ReplicaError> {
        if self.owned.is_some() {
            return Ok(true);
        }
        let lease = match self.leases.acquire(&self.partition, &self.router).await {
            Ok(l) => l,
            Err(LeaseError::Held { .. }) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let writer = self.log.take_over(&self.partition, lease.epoch()).await?;
        let tail = self.follow_to(writer.last()).await?;
        self.applied = writer.last();
        tracing::info!(
            router = self.router,
            partition = self.partition,
            epoch = lease.epoch(),
            tail,
            "took the partition over"
        );
        self.owned = Some(Owned { lease, writer });
        Ok(true)
    }
}
