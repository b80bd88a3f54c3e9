//! A partition's input log: one JetStream subject per partition (`<log>.<partition>`) in
//! one stream. Every append names the subject sequence it expects to follow
//! (`Nats-Expected-Last-Subject-Sequence`), so only the writer that knows the log's end
//! can write, and carries an id (`Nats-Msg-Id`) the server deduplicates on, so an append
//! retried after a lost acknowledgement lands once. A new owner begins by appending a
//! takeover entry with its epoch: from then on the deposed owner's expected sequence is
//! stale and its late appends are refused — no split brain.

use async_nats::jetstream::{self, context::PublishErrorKind, stream};
use bytes::Bytes;
use std::time::Duration;
use thiserror::Error;

const EPOCH: &str = "Hotline-Epoch";
const KIND: &str = "Hotline-Kind";

/// Why the log could not be read or written.
#[derive(Debug, Error)]
pub enum LogError {
    /// Someone else wrote to the partition's log since this writer last did: a new owner
    /// took over. The writer must stop serving the partition.
    #[error(
        "the log of partition '{partition}' moved on past {expected}: a new owner has taken over (this writer's epoch {epoch})"
    )]
    Fenced {
        /// The partition.
        partition: String,
        /// The sequence this writer expected to follow.
        expected: u64,
        /// This writer's epoch.
        epoch: u64,
    },
    /// A partition name that cannot be a subject token.
    #[error("'{0}' is not a partition name (letters, digits, - and _)")]
    BadName(String),
    /// NATS did not answer as it should (unreachable, timed out, …).
    #[error("the input log: {0}")]
    Nats(String),
}

fn nats(e: impl std::fmt::Display) -> LogError {
    LogError::Nats(e.to_string())
}

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// An input of the partition's switchboard.
    Input,
    /// A new owner took the partition over at this point.
    Takeover,
}

/// One entry of a partition's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its subject sequence (the position in the stream).
    pub seq: u64,
    /// The epoch of the owner who appended it.
    pub epoch: u64,
    /// What it is.
    pub kind: EntryKind,
    /// The input, as its owner encoded it (empty for a takeover).
    pub payload: Bytes,
}

/// The input logs of all partitions: one stream.
#[derive(Clone)]
pub struct InputLog {
    js: jetstream::Context,
    stream: stream::Stream,
    name: String,
}

impl InputLog {
    /// Open (or create) the log stream `name` (subjects `name.<partition>`), kept on
    /// `replicas` servers; retried appends are recognised for `dedupe_window`.
    pub async fn open(
        js: &jetstream::Context,
        name: &str,
        replicas: usize,
        dedupe_window: Duration,
    ) -> Result<InputLog, LogError> {
        let stream = js
            .get_or_create_stream(stream::Config {
                name: name.to_string(),
                description: Some("hotline: each partition's switchboard inputs".into()),
                subjects: vec![format!("{name}.*")],
                num_replicas: replicas.max(1),
                storage: stream::StorageType::File,
                duplicate_window: dedupe_window,
                allow_direct: true,
                ..Default::default()
            })
            .await
            .map_err(nats)?;
        Ok(InputLog {
            js: js.clone(),
            stream,
            name: name.to_string(),
        })
    }

    /// The log stream `name` if it exists (nothing is made: for reading the state).
    pub async fn find(js: &jetstream::Context, name: &str) -> Result<Option<InputLog>, LogError> {
        match js.get_stream(name).await {
            Ok(stream) => Ok(Some(InputLog {
                js: js.clone(),
                stream,
                name: name.to_string(),
            })),
            Err(_) => Ok(None),
        }
    }

    /// The server leading the log's replicas now (none for a server not clustered).
    pub async fn leader(&self) -> Result<Option<String>, LogError> {
        let info = self.stream.get_info().await.map_err(nats)?;
        Ok(info.cluster.and_then(|c| c.leader))
    }

    fn subject(&self, partition: &str) -> Result<String, LogError> {
        if partition.is_empty()
            || !partition
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(LogError::BadName(partition.to_string()));
        }
        Ok(format!("{}.{partition}", self.name))
    }

    /// The sequence of the partition's last entry (0: none yet).
    pub async fn last(&self, partition: &str) -> Result<u64, LogError> {
        let subject = self.subject(partition)?;
        match self.stream.direct_get_last_for_subject(subject).await {
            Ok(m) => Ok(m.sequence),
            Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => Ok(0),
            Err(e) => Err(nats(e)),
        }
    }

    /// The partition's first entry at or after `from` (a sequence), if any.
    pub async fn next(&self, partition: &str, from: u64) -> Result<Option<Entry>, LogError> {
        let subject = self.subject(partition)?;
        match self
            .stream
            .direct_get_next_for_subject(subject, Some(from.max(1)))
            .await
        {
            Ok(m) => {
                let header = |name: &str| m.headers.get(name).map(|v| v.as_str().to_string());
                Ok(Some(Entry {
                    seq: m.sequence,
                    epoch: header(EPOCH).and_then(|e| e.parse().ok()).unwrap_or(0),
                    kind: match header(KIND).as_deref() {
                        Some("takeover") => EntryKind::Takeover,
                        _ => EntryKind::Input,
                    },
                    payload: m.payload,
                }))
            }
            Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => Ok(None),
            Err(e) => Err(nats(e)),
        }
    }

    /// The partition's entries after `after`, at most `max` of them, in order (what a
    /// standby applies, and a new owner finishes before it serves).
    pub async fn read_after(
        &self,
        partition: &str,
        after: u64,
        max: usize,
    ) -> Result<Vec<Entry>, LogError> {
        let mut out = Vec::new();
        let mut at = after + 1;
        while out.len() < max {
            match self.next(partition, at).await? {
                Some(e) => {
                    at = e.seq + 1;
                    out.push(e);
                }
                None => break,
            }
        }
        Ok(out)
    }

    /// Become the partition's writer with `epoch` (the lease's): a takeover entry is
    /// appended after the log's current end, which fences every earlier writer out.
    pub async fn take_over(&self, partition: &str, epoch: u64) -> Result<Writer, LogError> {
        let mut w = Writer {
            log: self.clone(),
            subject: self.subject(partition)?,
            partition: partition.to_string(),
            epoch,
            last: self.last(partition).await?,
        };
        w.put(&format!("takeover-{epoch}"), Bytes::new(), "takeover")
            .await?;
        tracing::info!(partition, epoch, at = w.last, "took over the input log");
        Ok(w)
    }
}

/// The one writer of a partition's log.
pub struct Writer {
    log: InputLog,
    subject: String,
    partition: String,
    epoch: u64,
    last: u64,
}

impl Writer {
    /// The sequence of this writer's last entry.
    pub fn last(&self) -> u64 {
        self.last
    }

    /// The epoch it writes with.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Append an input under `id` (unique per input: an append retried with the same id
    /// lands once). Returns its sequence.
    pub async fn append(&mut self, id: &str, payload: Bytes) -> Result<u64, LogError> {
        self.put(id, payload, "input").await
    }

    async fn put(&mut self, id: &str, payload: Bytes, kind: &str) -> Result<u64, LogError> {
        let publish = jetstream::message::PublishMessage::build()
            .payload(payload)
            .message_id(id)
            .expected_last_subject_sequence(self.last)
            .header(EPOCH, self.epoch.to_string().as_str())
            .header(KIND, kind);
        let ack = self
            .log
            .js
            .send_publish(self.subject.clone(), publish)
            .await
            .map_err(|e| self.refused(e.kind(), e))?
            .await
            .map_err(|e| self.refused(e.kind(), e))?;
        // a duplicate is this writer's own earlier append of the same id, whose
        // acknowledgement was lost: the log's end is there all the same
        self.last = self.last.max(ack.sequence);
        Ok(ack.sequence)
    }

    fn refused(&self, kind: PublishErrorKind, e: impl std::fmt::Display) -> LogError {
        if kind == PublishErrorKind::WrongLastSequence {
            tracing::warn!(
                partition = self.partition,
                epoch = self.epoch,
                "fenced out of the input log"
            );
            LogError::Fenced {
                partition: self.partition.clone(),
                expected: self.last,
                epoch: self.epoch,
            }
        } else {
            nats(e)
        }
    }
}
