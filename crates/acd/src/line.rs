//! The waiting line of one queue: one FIFO per priority class, highest class first.
//!
//! Entries are ordered by `order`, a number given when a call enters the queue; a call
//! that comes back (ring-no-answer, reject, lost agent) or changes class keeps its
//! number, so it goes back to exactly its old place. Removal is lazy: an entry is valid
//! only while the call's current line token equals the entry's token.

use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub order: u64,
    pub slot: u32,
    pub token: u64,
}

#[derive(Debug)]
pub(crate) struct Class {
    pub priority: u8,
    q: VecDeque<Entry>,
    pub live: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Line {
    pub classes: Vec<Class>,
}

impl Class {
    /// First valid entry, dropping invalid ones ahead of it.
    pub fn front(&mut self, valid: impl Fn(&Entry) -> bool) -> Option<Entry> {
        while let Some(e) = self.q.front() {
            if valid(e) {
                return Some(*e);
            }
            self.q.pop_front();
        }
        None
    }

    /// Valid entries in order (for snapshots and audits).
    pub fn entries(&self, valid: impl Fn(&Entry) -> bool) -> impl Iterator<Item = &Entry> {
        self.q.iter().filter(move |e| valid(e))
    }
}

impl Line {
    pub fn insert(&mut self, priority: u8, e: Entry, valid: impl Fn(&Entry) -> bool) {
        let ci = match self.classes.binary_search_by(|c| priority.cmp(&c.priority)) {
            Ok(i) => i,
            Err(i) => {
                self.classes.insert(
                    i,
                    Class {
                        priority,
                        q: VecDeque::new(),
                        live: 0,
                    },
                );
                i
            }
        };
        let c = &mut self.classes[ci];
        c.live += 1;
        match c.q.back() {
            Some(b) if b.order > e.order => {
                let at = c.q.partition_point(|x| x.order < e.order);
                c.q.insert(at, e);
            }
            _ => c.q.push_back(e),
        }
        if c.q.len() > 2 * c.live as usize + 32 {
            c.q.retain(|x| valid(x));
        }
    }

    /// A call of class `priority` left the line (its token was already invalidated).
    pub fn remove(&mut self, priority: u8) {
        if let Ok(i) = self.classes.binary_search_by(|c| priority.cmp(&c.priority)) {
            let c = &mut self.classes[i];
            c.live = c.live.saturating_sub(1);
        }
    }

    /// Calls in classes at or above `priority`.
    pub fn at_or_above(&self, priority: u8) -> u32 {
        self.classes
            .iter()
            .take_while(|c| c.priority >= priority)
            .map(|c| c.live)
            .sum()
    }
}
