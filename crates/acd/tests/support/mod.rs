//! A minimal driver for tests: keeps the engine's timers and delivers them in time order
//! before the clock moves past them, and records every action.
#![allow(dead_code)]

use hotline_acd::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub struct Rig {
    pub e: Engine,
    pub now: Time,
    timers: BinaryHeap<Reverse<(Time, TimerId)>>,
    pub log: Vec<Action>,
}

pub fn secs(s: f64) -> Time {
    Time::from_secs_f64(s)
}

pub fn skill(s: u16, level: u8) -> (SkillId, u8) {
    (SkillId(s), level)
}

impl Rig {
    pub fn new() -> Rig {
        Rig::with(EngineConfig::default())
    }

    pub fn with(config: EngineConfig) -> Rig {
        let mut r = Rig {
            e: Engine::new(config, Time::ZERO),
            now: Time::ZERO,
            timers: BinaryHeap::new(),
            log: Vec::new(),
        };
        r.drain();
        r
    }

    pub fn queue(&mut self, cfg: QueueConfig) -> QueueId {
        let q = self.e.add_queue(cfg).unwrap();
        self.drain();
        q
    }

    /// An agent with these skills, logged in and ready.
    pub fn ready_agent(&mut self, skills: &[(SkillId, u8)]) -> AgentId {
        let a = self
            .e
            .add_agent(AgentProfile {
                skills: skills.to_vec(),
                groups: vec![],
            })
            .unwrap();
        self.input(Input::Login(a)).unwrap();
        self.input(Input::Ready(a)).unwrap();
        a
    }

    pub fn drain(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        while let Some(a) = self.e.poll_action() {
            if let Action::StartTimer { timer, at } = a {
                self.timers.push(Reverse((at, timer)));
            }
            out.push(a);
        }
        self.log.extend(out.iter().cloned());
        out
    }

    /// The next timer due at or before `t`, taken off the list.
    pub fn pop_due(&mut self, t: Time) -> Option<(Time, TimerId)> {
        match self.timers.peek() {
            Some(&Reverse((at, id))) if at <= t => {
                self.timers.pop();
                Some((at.max(self.now), id))
            }
            _ => None,
        }
    }

    /// Move the clock to `t`, firing every timer due by then, in order.
    pub fn advance(&mut self, t: Time) {
        while let Some(&Reverse((at, id))) = self.timers.peek() {
            if at > t {
                break;
            }
            self.timers.pop();
            let at = at.max(self.now);
            self.now = at;
            self.e.handle(at, Input::TimerFired(id)).unwrap();
            self.drain();
        }
        self.now = self.now.max(t);
    }

    pub fn at(&mut self, s: f64) -> &mut Self {
        self.advance(secs(s));
        self
    }

    pub fn input(&mut self, i: Input) -> Result<Vec<Action>, EngineError> {
        let r = self.e.handle(self.now, i);
        let acts = self.drain();
        r.map(|_| acts)
    }

    pub fn call(&mut self, q: QueueId, priority: u8) -> CallId {
        self.call_full(q, priority, None, 0)
    }

    pub fn call_full(
        &mut self,
        q: QueueId,
        priority: u8,
        preferred: Option<AgentId>,
        tag: u64,
    ) -> CallId {
        let c = self
            .e
            .arrive(
                self.now,
                CallSpec {
                    queue: q,
                    priority,
                    preferred_agent: preferred,
                    tag,
                },
            )
            .unwrap();
        self.drain();
        c
    }

    pub fn place(&self, c: CallId) -> Option<CallPlace> {
        self.e.call_place(c)
    }

    /// The agent the call rings at, if it rings.
    pub fn ringing_at(&self, c: CallId) -> Option<AgentId> {
        match self.e.call_place(c) {
            Some(CallPlace::Offered { agent, .. }) => Some(agent),
            _ => None,
        }
    }

    pub fn records(&self) -> Vec<CallRecord> {
        self.log
            .iter()
            .filter_map(|a| match a {
                Action::CallEnded(r) => Some(**r),
                _ => None,
            })
            .collect()
    }

    pub fn audit(&self) {
        if let Err(e) = self.e.audit() {
            panic!("audit failed: {e}");
        }
    }
}

/// A queue on skill 1 with no wrap-up and no ring timeout unless changed.
pub fn plain_queue() -> QueueConfig {
    QueueConfig {
        name: "inquiry".into(),
        skill: SkillId(1),
        wrap_up: WrapUpPolicy::Skip,
        ..QueueConfig::default()
    }
}
