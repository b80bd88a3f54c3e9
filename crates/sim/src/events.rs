//! The replication's pending events: a 4-ary min-heap keyed by (time, sequence) packed
//! into one `u128`, so equal times pop in the order they were scheduled and a seed
//! always gives the same run. Four children a node halve the depth of a binary heap;
//! popping (the simulator's most frequent step) compares within one cache line of keys
//! per level instead of walking twice as many levels. The one fresh arrival a run has
//! pending at any time waits beside the heap in a slot of its own (`push_next`), which
//! spares the heap a push and a pop of every call (BENCHMARKS.md: what each bought).

use hotline_acd::Time;

/// Children per node.
const D: usize = 4;

/// An event and its key.
#[derive(Debug, Clone, Copy)]
struct Entry<E> {
    key: u128,
    ev: E,
}

/// Pending events, earliest first.
#[derive(Debug)]
pub(crate) struct Events<E> {
    items: Vec<Entry<E>>,
    /// The next fresh arrival.
    next: Option<Entry<E>>,
    seq: u64,
}

impl<E: Copy> Events<E> {
    pub(crate) fn with_capacity(n: usize) -> Events<E> {
        Events {
            items: Vec::with_capacity(n),
            next: None,
            seq: 0,
        }
    }

    fn key(&mut self, at: Time) -> u128 {
        self.seq += 1;
        (u128::from(at.0) << 64) | u128::from(self.seq)
    }

    /// Schedule the run's next fresh arrival (one at a time; a second one still pending
    /// goes to the heap).
    pub(crate) fn push_next(&mut self, at: Time, ev: E) {
        let key = self.key(at);
        if let Some(old) = self.next.replace(Entry { key, ev }) {
            self.insert(old);
        }
    }

    /// Schedule `ev` at `at` (after everything already scheduled at `at`).
    pub(crate) fn push(&mut self, at: Time, ev: E) {
        let key = self.key(at);
        self.insert(Entry { key, ev });
    }

    fn insert(&mut self, entry: Entry<E>) {
        let Entry { key, ev } = entry;
        let mut i = self.items.len();
        self.items.push(Entry { key, ev });
        // the hole moves up; the new entry is written once, at its place
        while i > 0 {
            let parent = (i - 1) / D;
            if self.items[parent].key <= key {
                break;
            }
            self.items[i] = self.items[parent];
            i = parent;
        }
        self.items[i] = Entry { key, ev };
    }

    /// The earliest event and its time.
    pub(crate) fn pop(&mut self) -> Option<(Time, E)> {
        if let Some(next) = self.next {
            if self.items.first().is_none_or(|top| next.key < top.key) {
                self.next = None;
                return Some((time_of(next.key), next.ev));
            }
        }
        self.pop_heap()
    }

    fn pop_heap(&mut self) -> Option<(Time, E)> {
        let last = self.items.pop()?;
        let Some(first) = self.items.first().copied() else {
            return Some((time_of(last.key), last.ev));
        };
        // the last entry goes down from the root, the hole moving to the least child
        let n = self.items.len();
        let mut i = 0;
        loop {
            let c = D * i + 1;
            if c >= n {
                break;
            }
            let end = (c + D).min(n);
            let mut least = c;
            for k in c + 1..end {
                if self.items[k].key < self.items[least].key {
                    least = k;
                }
            }
            if self.items[least].key >= last.key {
                break;
            }
            self.items[i] = self.items[least];
            i = least;
        }
        self.items[i] = last;
        Some((time_of(first.key), first.ev))
    }
}

fn time_of(key: u128) -> Time {
    Time((key >> 64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_acd::rng::Rng;

    #[test]
    fn events_pop_by_time_then_in_the_order_scheduled() {
        let mut q = Events::with_capacity(8);
        let mut rng = Rng::fork(7, 0);
        let mut want = Vec::new();
        for n in 0..5_000u32 {
            let at = Time(rng.below(500));
            if n % 7 == 0 {
                q.push_next(at, n);
            } else {
                q.push(at, n);
            }
            want.push((at, n));
            // interleave pops with pushes, as a run does
            if n % 3 == 0 {
                want.sort();
                let (t, e) = q.pop().unwrap();
                assert_eq!((t, e), want.remove(0));
            }
        }
        want.sort();
        for w in want {
            assert_eq!(q.pop(), Some(w));
        }
        assert_eq!(q.pop(), None);
    }
}
