//! Ready agents of one queue ring, ordered by the queue's selection strategy.
//!
//! Longest-idle and most-skilled pools are FIFOs with lazy deletion: an entry carries
//! the agent's readiness sequence number and is valid only while the agent is still in
//! that same ready period, so leaving "ready" costs nothing here and picking the next
//! agent is amortised O(1). Key-ordered strategies use a B-tree (O(log n)); random keeps
//! an indexable set (O(1)).

use crate::config::Strategy;
use crate::rng::Rng;
use std::collections::{BTreeSet, HashMap, VecDeque};

/// What a pool needs to know about a ready agent. The fields do not change while the
/// agent stays ready, so the same key is recomputed to remove it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadyKey {
    pub agent: u32,
    /// Readiness sequence: increases every time any agent becomes ready.
    pub seq: u64,
    /// Level in the ring's skill.
    pub level: u8,
    /// Calls handled since login.
    pub calls: u64,
    /// Talk time since login, µs.
    pub talk: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Fifo {
    q: VecDeque<(u64, u32)>,
    live: u32,
}

impl Fifo {
    fn insert(&mut self, k: &ReadyKey, valid: impl Fn(u32, u64) -> bool) {
        self.live += 1;
        self.q.push_back((k.seq, k.agent));
        if self.q.len() > 2 * self.live as usize + 32 {
            self.q.retain(|&(s, a)| valid(a, s));
        }
    }
    fn remove(&mut self) {
        self.live = self.live.saturating_sub(1);
    }
    fn best(&mut self, valid: impl Fn(u32, u64) -> bool) -> Option<u32> {
        while let Some(&(s, a)) = self.q.front() {
            if valid(a, s) {
                return Some(a);
            }
            self.q.pop_front();
        }
        None
    }
}

#[derive(Debug)]
pub(crate) enum Pool {
    /// Longest idle first.
    Fifo(Fifo),
    /// Highest level first, longest idle within a level (index = level).
    Leveled(Box<[Fifo; 11]>),
    /// Smallest (metric, seq) first; with `round_robin`, the metric is the agent id and
    /// the search starts after `cursor`.
    Ordered {
        set: BTreeSet<(u64, u64, u32)>,
        metric: Metric,
        cursor: Option<u32>,
    },
    Random {
        members: Vec<u32>,
        pos: HashMap<u32, usize>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Metric {
    Calls,
    Talk,
    RoundRobin,
}

impl Pool {
    pub fn new(strategy: Strategy) -> Pool {
        match strategy {
            Strategy::LongestIdle => Pool::Fifo(Fifo::default()),
            Strategy::MostSkilled => Pool::Leveled(Box::default()),
            Strategy::FewestCalls => Pool::ordered(Metric::Calls),
            Strategy::LeastTalkTime => Pool::ordered(Metric::Talk),
            Strategy::RoundRobin => Pool::ordered(Metric::RoundRobin),
            Strategy::Random => Pool::Random {
                members: Vec::new(),
                pos: HashMap::new(),
            },
        }
    }

    fn ordered(metric: Metric) -> Pool {
        Pool::Ordered {
            set: BTreeSet::new(),
            metric,
            cursor: None,
        }
    }

    fn ordered_key(metric: Metric, k: &ReadyKey) -> (u64, u64, u32) {
        match metric {
            Metric::Calls => (k.calls, k.seq, k.agent),
            Metric::Talk => (k.talk, k.seq, k.agent),
            Metric::RoundRobin => (k.agent as u64, 0, k.agent),
        }
    }

    pub fn insert(&mut self, k: &ReadyKey, valid: impl Fn(u32, u64) -> bool) {
        match self {
            Pool::Fifo(f) => f.insert(k, valid),
            Pool::Leveled(levels) => levels[k.level.min(10) as usize].insert(k, valid),
            Pool::Ordered { set, metric, .. } => {
                set.insert(Self::ordered_key(*metric, k));
            }
            Pool::Random { members, pos } => {
                if let std::collections::hash_map::Entry::Vacant(v) = pos.entry(k.agent) {
                    v.insert(members.len());
                    members.push(k.agent);
                }
            }
        }
    }

    /// The agent is no longer ready (it may have been picked from this pool or another).
    pub fn remove(&mut self, k: &ReadyKey) {
        match self {
            Pool::Fifo(f) => f.remove(),
            Pool::Leveled(levels) => levels[k.level.min(10) as usize].remove(),
            Pool::Ordered { set, metric, .. } => {
                set.remove(&Self::ordered_key(*metric, k));
            }
            Pool::Random { members, pos } => {
                if let Some(i) = pos.remove(&k.agent) {
                    members.swap_remove(i);
                    if let Some(&moved) = members.get(i) {
                        pos.insert(moved, i);
                    }
                }
            }
        }
    }

    /// The agent this strategy picks now, if any. The caller always offers to the agent
    /// returned (round-robin moves its cursor here).
    pub fn best(&mut self, valid: impl Fn(u32, u64) -> bool + Copy, rng: &mut Rng) -> Option<u32> {
        match self {
            Pool::Fifo(f) => f.best(valid),
            Pool::Leveled(levels) => levels.iter_mut().rev().find_map(|f| f.best(valid)),
            Pool::Ordered {
                set,
                metric,
                cursor,
            } => {
                if *metric == Metric::RoundRobin {
                    let after = cursor.map_or(0, |c| c as u64 + 1);
                    let next = set
                        .range((after, 0, 0)..)
                        .next()
                        .or_else(|| set.iter().next())
                        .map(|&(_, _, a)| a);
                    if next.is_some() {
                        *cursor = next;
                    }
                    next
                } else {
                    set.iter().next().map(|&(_, _, a)| a)
                }
            }
            Pool::Random { members, .. } => {
                if members.is_empty() {
                    None
                } else {
                    Some(members[rng.below(members.len() as u64) as usize])
                }
            }
        }
    }

    /// Whether `agent` (in its current ready period `seq`) is in the pool; for audits.
    pub fn contains(&self, k: &ReadyKey) -> bool {
        match self {
            Pool::Fifo(f) => f.q.iter().any(|&(s, a)| a == k.agent && s == k.seq),
            Pool::Leveled(levels) => levels[k.level.min(10) as usize]
                .q
                .iter()
                .any(|&(s, a)| a == k.agent && s == k.seq),
            Pool::Ordered { set, metric, .. } => set.contains(&Self::ordered_key(*metric, k)),
            Pool::Random { pos, .. } => pos.contains_key(&k.agent),
        }
    }

    /// Number of ready agents in the pool.
    pub fn live(&self) -> usize {
        match self {
            Pool::Fifo(f) => f.live as usize,
            Pool::Leveled(levels) => levels.iter().map(|f| f.live as usize).sum(),
            Pool::Ordered { set, .. } => set.len(),
            Pool::Random { members, .. } => members.len(),
        }
    }
}
