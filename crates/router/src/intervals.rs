//! Keeping the statistics intervals: each closed interval, and every
//! `checkpoint_every` a checkpoint of the one in progress (so a crash loses at most
//! what came after the last checkpoint; a restart starts a new interval at its start,
//! so nothing is counted twice). Writes go to the store in the order the core made
//! them: a checkpoint that arrives after the close of its interval is dropped, never
//! written over it.

use crate::core::RECORD_RETRIES;
use hotline_store::{IntervalRecord, Millis, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// An interval's key in the store: (start, kind, name).
type Key = (Millis, u8, String);

/// The core's interval writer.
pub(crate) struct Intervals {
    store: Arc<Store>,
    /// How often the interval in progress is kept (none: never).
    pub checkpoint_every: Option<Millis>,
    /// When the last checkpoint was taken.
    pub last_checkpoint: Millis,
    /// Numbers writes in the order the core made them.
    made: u64,
    /// The latest write of each key kept (its number), and the lock that keeps writes
    /// one at a time.
    written: Arc<Mutex<HashMap<Key, u64>>>,
}

impl Intervals {
    pub(crate) fn new(store: Arc<Store>, checkpoint_every: Option<Millis>, now: Millis) -> Self {
        Intervals {
            store,
            checkpoint_every,
            last_checkpoint: now,
            made: 0,
            written: Arc::default(),
        }
    }

    /// A checkpoint is due at `now`.
    pub(crate) fn checkpoint_due(&mut self, now: Millis) -> bool {
        match self.checkpoint_every {
            Some(every) if now.saturating_sub(self.last_checkpoint) >= every => {
                self.last_checkpoint = now;
                true
            }
            _ => false,
        }
    }

    /// Keep `records` on the blocking pool.
    pub(crate) fn keep(&mut self, records: Vec<IntervalRecord>) {
        let job = self.job(records);
        tokio::task::spawn_blocking(job);
    }

    /// Keep `records` and wait until they are kept (at a stop).
    pub(crate) async fn keep_now(&mut self, records: Vec<IntervalRecord>) {
        let job = self.job(records);
        let _ = tokio::task::spawn_blocking(job).await;
    }

    fn job(&mut self, records: Vec<IntervalRecord>) -> impl FnOnce() + Send + 'static {
        self.made += 1;
        let (n, store, written) = (self.made, self.store.clone(), self.written.clone());
        move || write(&store, &written, n, records)
    }
}

/// Write `records` (write number `n`) unless a later write of the same key came first;
/// a failure is retried (writing twice keeps one), then logged with what was lost.
fn write(store: &Store, written: &Mutex<HashMap<Key, u64>>, n: u64, records: Vec<IntervalRecord>) {
    let Ok(mut written) = written.lock() else {
        return; // a writer panicked: the router is going down
    };
    let fresh: Vec<IntervalRecord> = records
        .into_iter()
        .filter(|r| {
            let (kind, name) = r.subject();
            written
                .get(&(r.start, kind, name.to_string()))
                .is_none_or(|&last| last < n)
        })
        .collect();
    if fresh.is_empty() {
        return;
    }
    let mut last = None;
    for pause in std::iter::once(0).chain(RECORD_RETRIES) {
        std::thread::sleep(std::time::Duration::from_millis(pause));
        match store.record_intervals(fresh.clone()) {
            Ok(()) => {
                last = None;
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    if let Some(e) = last {
        for r in &fresh {
            let (kind, name) = r.subject();
            tracing::error!(start = r.start, kind, name, error = %e,
                "a statistics interval could not be kept");
        }
        return;
    }
    let newest = fresh.iter().map(|r| r.start).max().unwrap_or(0);
    for r in &fresh {
        let (kind, name) = r.subject();
        written.insert((r.start, kind, name.to_string()), n);
    }
    // keys of intervals that started a day before the newest are done with
    written.retain(|(start, _, _), _| *start + 86_400_000 >= newest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_store::{Catalog, IntervalFigures};

    fn record(start: Millis, end: Millis, offers: u64) -> IntervalRecord {
        IntervalRecord {
            start,
            end,
            figures: IntervalFigures::Agent {
                agent: "1001".into(),
                tally: hotline_acd::stats::AgentTally {
                    offers,
                    ..Default::default()
                },
            },
        }
    }

    /// A checkpoint written after the close of its interval (the blocking pool ran them
    /// out of order) does not replace the whole interval with a part of it.
    #[test]
    fn a_late_checkpoint_never_overwrites_the_closed_interval() {
        let store = Store::temporary(Catalog::builtin()).unwrap();
        let written = Mutex::new(HashMap::new());
        write(&store, &written, 2, vec![record(0, 900_000, 7)]); // the close
        write(&store, &written, 1, vec![record(0, 600_000, 5)]); // the checkpoint before it
        let kept = store.intervals(0, 1, 10).unwrap();
        assert_eq!(kept, vec![record(0, 900_000, 7)]);
        // a later checkpoint of the next interval is kept, then its close replaces it
        write(&store, &written, 3, vec![record(900_000, 1_000_000, 1)]);
        write(&store, &written, 4, vec![record(900_000, 1_800_000, 2)]);
        assert_eq!(
            store.intervals(900_000, 900_001, 10).unwrap(),
            vec![record(900_000, 1_800_000, 2)]
        );
    }
}
