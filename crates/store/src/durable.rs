//! Group commit: a write is acknowledged only after a flush that started after it, and
//! writers that arrive while a flush runs share the next one. No thread of its own: the
//! first waiter finding no flush running becomes the leader and flushes for everyone.

use std::sync::{Condvar, Mutex};

#[derive(Default)]
struct State {
    /// Tickets handed out to writers whose data is in the database.
    requested: u64,
    /// Every ticket up to this one is on disk.
    durable: u64,
    flushing: bool,
    /// Flushes done (for the benchmark's "writes per flush").
    flushes: u64,
}

/// Shared flushes for concurrent writers.
pub struct GroupCommit {
    db: sled::Db,
    state: Mutex<State>,
    done: Condvar,
}

impl GroupCommit {
    pub fn new(db: sled::Db) -> GroupCommit {
        GroupCommit {
            db,
            state: Mutex::new(State::default()),
            done: Condvar::new(),
        }
    }

    /// Return once everything this thread wrote before the call is on disk.
    pub fn wait(&self) -> Result<(), sled::Error> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.requested += 1;
        let mine = st.requested;
        loop {
            if st.durable >= mine {
                return Ok(());
            }
            if !st.flushing {
                // lead: flush everything requested so far
                st.flushing = true;
                let target = st.requested;
                drop(st);
                let r = self.db.flush();
                st = self.state.lock().unwrap_or_else(|p| p.into_inner());
                st.flushing = false;
                if r.is_ok() {
                    st.durable = st.durable.max(target);
                    st.flushes += 1;
                }
                self.done.notify_all();
                r?;
            } else {
                st = self.done.wait(st).unwrap_or_else(|p| p.into_inner());
            }
        }
    }

    /// Flushes performed so far.
    pub fn flushes(&self) -> u64 {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).flushes
    }
}
