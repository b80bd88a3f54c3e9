//! A standby holds the owner's state by applying the owner's input log: a day of random
//! callers and agents driven through one switchboard (the owner), every input — with its
//! time, the store's answers and the timers' firings among them — appended to the
//! partition's log on a real JetStream (a NATS server of the test's own) before it takes
//! effect; a second switchboard (the standby) reads the log back and applies it. Both
//! produce the same outputs, one for one, and end with the same statistics. Then the
//! same through `Replica`: the owner dies mid-day, the standby takes the partition over
//! (lease, fence, the log's tail) and serves on with the calls where they were.
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use bytes::Bytes;
use hotline_acd::rng::Rng;
use hotline_acd::{AgentProfile, QueueConfig, SkillId, Span, WrapUpPolicy};
use hotline_cluster::{EntryKind, InputLog, Leases, local::LocalNats};
use hotline_ivr::Flow;
use hotline_router::replica::{Replica, ReplicaError, Role};
use hotline_router::switchboard::*;
use hotline_store::seed::DEFAULT_NOW;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const T0: u64 = DEFAULT_NOW + 2 * 3_600_000; // 10:00 in Beijing

fn switchboard() -> Switchboard {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/ivr/1000.toml");
    let names = [
        "inquiry",
        "fault",
        "complaint",
        "new-service",
        "green-channel",
    ];
    let flow = Arc::new(Flow::load(&p, &names).unwrap());
    let queues = names
        .iter()
        .enumerate()
        .map(|(i, n)| QueueSetup {
            name: (*n).into(),
            config: QueueConfig {
                name: (*n).into(),
                skill: SkillId(i as u16),
                wrap_up: WrapUpPolicy::UntilAgentFinishes,
                ring_timeout: Some(Span::from_secs(15)),
                ..QueueConfig::default()
            },
        })
        .collect();
    let agents = ["1001", "1002", "1003"]
        .iter()
        .map(|id| AgentSetup {
            id: (*id).into(),
            profile: AgentProfile {
                skills: (0..5).map(|s| (SkillId(s), 5)).collect(),
                groups: vec![],
            },
        })
        .collect();
    Switchboard::new(flow, queues, agents, T0).unwrap()
}

/// One logged input: its time and the input.
#[derive(serde::Serialize, serde::Deserialize)]
struct Logged {
    now: u64,
    input: In,
}

/// The owner: it logs each input, then applies it; the store's answers and the timers
/// are inputs too, logged like the rest.
struct Owner {
    sb: Switchboard,
    now: u64,
    timers: BinaryHeap<Reverse<(u64, u64, TimerKey)>>,
    seq: u64,
    inputs: Vec<Logged>,
    outs: Vec<Out>,
}

impl Owner {
    fn apply(&mut self, input: In) {
        self.inputs.push(Logged {
            now: self.now,
            input: input.clone(),
        });
        let _ = self.sb.handle(self.now, input); // refusals are outputs too
        let mut follow = Vec::new();
        while let Some(o) = self.sb.poll() {
            match &o {
                Out::StartTimer { key, at } => {
                    self.seq += 1;
                    self.timers.push(Reverse((*at, self.seq, *key)));
                }
                Out::SelfService { call, .. } => follow.push(In::ServiceDone {
                    call: *call,
                    outcome: Ok(vec![("balance".into(), "58.30".into())]),
                }),
                Out::TicketWork { agent, new, .. } => follow.push(In::TicketsDone {
                    agent: agent.clone(),
                    written: true,
                    opened: (0..new.len() as u64).map(|k| 500 + k).collect(),
                }),
                _ => {}
            }
            self.outs.push(o);
        }
        for i in follow {
            self.apply(i);
        }
    }

    fn at(&mut self, t: u64) {
        while let Some(&Reverse((at, _, key))) = self.timers.peek() {
            if at > t {
                break;
            }
            self.timers.pop();
            self.now = self.now.max(at);
            self.apply(In::Timer(key));
        }
        self.now = self.now.max(t);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_applying_the_owners_log_holds_the_same_state() {
    // the owner's day
    let mut owner = Owner {
        sb: switchboard(),
        now: T0,
        timers: BinaryHeap::new(),
        seq: 0,
        inputs: vec![],
        outs: vec![],
    };
    let mut rng = Rng::seeded(2026);
    let agents = ["1001", "1002", "1003"];
    for a in agents {
        owner.apply(In::Agent {
            agent: a.into(),
            command: Command::Login,
        });
    }
    let mut dialled = 0u64;
    for _ in 0..1500 {
        let t = owner.now + rng.below(3000);
        owner.at(t);
        let roll = rng.below(100);
        let input = if roll < 15 {
            dialled += 1;
            In::Dial {
                call: dialled,
                from: format!("189{dialled:08}"),
                to: "1000".into(),
                pop: None,
                store_unavailable: false,
            }
        } else if roll < 45 && dialled > 0 {
            let key = ["1", "2", "3", "4", "5", "8", "9", "0"][rng.below(8) as usize];
            In::Keys {
                call: 1 + rng.below(dialled),
                digits: key.into(),
            }
        } else if roll < 52 && dialled > 0 {
            In::CallerHangUp(1 + rng.below(dialled))
        } else {
            let command = match rng.below(7) {
                0 | 1 => Command::Ready,
                2 | 3 => Command::Answer,
                4 => Command::HangUp,
                5 => Command::WrapUp(WrapUp {
                    disposition: "answered".into(),
                    ..WrapUp::default()
                }),
                _ => Command::Hold,
            };
            In::Agent {
                agent: agents[rng.below(3) as usize].into(),
                command,
            }
        };
        owner.apply(input);
    }
    owner.at(owner.now + 600_000);

    // the log on JetStream, written under the owner's lease
    let nats = LocalNats::start().unwrap();
    let js = hotline_cluster::connect(&nats.url()).await.unwrap();
    let leases = Leases::open(&js, "hotline-leases", Duration::from_secs(10), 1)
        .await
        .unwrap();
    let lease = leases.acquire("centre-a", "router-1").await.unwrap();
    let log = InputLog::open(&js, "HOTLINE_LOG", 1, Duration::from_secs(120))
        .await
        .unwrap();
    let mut writer = log.take_over("centre-a", lease.epoch()).await.unwrap();
    for (k, logged) in owner.inputs.iter().enumerate() {
        let bytes = serde_json::to_vec(logged).unwrap();
        writer
            .append(&format!("in-{k}"), Bytes::from(bytes))
            .await
            .unwrap();
    }

    // the standby: the same configuration, then the log, in order
    let mut standby = switchboard();
    let mut outs = Vec::new();
    let mut after = 0;
    let mut applied = 0;
    loop {
        let batch = log.read_after("centre-a", after, 500).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for e in batch.iter().filter(|e| e.kind == EntryKind::Input) {
            assert_eq!(e.epoch, lease.epoch());
            let logged: Logged = serde_json::from_slice(&e.payload).unwrap();
            let _ = standby.handle(logged.now, logged.input);
            while let Some(o) = standby.poll() {
                outs.push(o);
            }
            applied += 1;
        }
    }
    assert_eq!(applied, owner.inputs.len());
    assert!(
        owner.outs.len() > 1000,
        "a day worth replaying: {}",
        owner.outs.len()
    );
    // one for one: every offer, record, statistic and prompt the owner produced
    assert_eq!(outs.len(), owner.outs.len());
    for (k, (a, b)) in owner.outs.iter().zip(&outs).enumerate() {
        assert_eq!(a, b, "output {k} differs");
    }
    let offers = outs
        .iter()
        .filter(|o| matches!(o, Out::Agent(_, AgentEvent::Offer { .. })))
        .count();
    let records = outs.iter().filter(|o| matches!(o, Out::Record(_))).count();
    assert!(
        offers > 20 && records > 50,
        "{offers} offers, {records} records"
    );
    standby.engine().audit().unwrap();
}

/// A router's driver around its replica: its timers, and the store's answers fed back.
struct Driver {
    r: Replica,
    now: u64,
    timers: BinaryHeap<Reverse<(u64, u64, TimerKey)>>,
    seq: u64,
    records: Vec<u64>,
    offered: Vec<(String, u64)>,
}

impl Driver {
    async fn input(&mut self, input: In) -> Result<(), ReplicaError> {
        let mut todo = vec![input];
        while let Some(input) = todo.pop() {
            let (_, outs) = self.r.input(self.now, input).await?;
            for o in outs {
                match o {
                    Out::StartTimer { key, at } => {
                        self.seq += 1;
                        self.timers.push(Reverse((at, self.seq, key)));
                    }
                    Out::SelfService { call, .. } => todo.push(In::ServiceDone {
                        call,
                        outcome: Ok(vec![("balance".into(), "58.30".into())]),
                    }),
                    Out::TicketWork { agent, new, .. } => todo.push(In::TicketsDone {
                        agent,
                        written: true,
                        opened: (0..new.len() as u64).map(|k| 500 + k).collect(),
                    }),
                    Out::Record(rec) => self.records.push(rec.call_id),
                    Out::Agent(a, AgentEvent::Offer { call, .. }) => self.offered.push((a, call)),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    async fn at(&mut self, t: u64) -> Result<(), ReplicaError> {
        while let Some(&Reverse((at, _, key))) = self.timers.peek() {
            if at > t {
                break;
            }
            self.timers.pop();
            self.now = self.now.max(at);
            self.input(In::Timer(key)).await?;
        }
        self.now = self.now.max(t);
        Ok(())
    }
}

fn random_input(rng: &mut Rng, dialled: &mut u64) -> In {
    let agents = ["1001", "1002", "1003"];
    let roll = rng.below(100);
    if roll < 15 || *dialled == 0 {
        *dialled += 1;
        In::Dial {
            call: *dialled,
            from: format!("189{:08}", *dialled),
            to: "1000".into(),
            pop: None,
            store_unavailable: false,
        }
    } else if roll < 45 {
        let key = ["1", "2", "3", "4", "5", "8", "9", "0"][rng.below(8) as usize];
        In::Keys {
            call: 1 + rng.below(*dialled),
            digits: key.into(),
        }
    } else if roll < 50 {
        In::CallerHangUp(1 + rng.below(*dialled))
    } else {
        let command = match rng.below(6) {
            0 | 1 => Command::Ready,
            2 | 3 => Command::Answer,
            4 => Command::HangUp,
            _ => Command::WrapUp(WrapUp {
                disposition: "answered".into(),
                ..WrapUp::default()
            }),
        };
        In::Agent {
            agent: agents[rng.below(3) as usize].into(),
            command,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_takes_over_a_dead_owners_partition_with_its_calls_where_they_were() {
    let nats = LocalNats::start().unwrap();
    let js = hotline_cluster::connect(&nats.url()).await.unwrap();
    let ttl = Duration::from_secs(2);
    let leases = Leases::open(&js, "hotline-leases", ttl, 1).await.unwrap();
    let log = InputLog::open(&js, "HOTLINE_LOG", 1, Duration::from_secs(120))
        .await
        .unwrap();
    let replica =
        |name: &str| Replica::new(name, "centre-a", switchboard(), log.clone(), leases.clone());
    let mut a = Driver {
        r: replica("router-1"),
        now: T0,
        timers: BinaryHeap::new(),
        seq: 0,
        records: vec![],
        offered: vec![],
    };
    let progress = hotline_cluster::Progress::open(&js, "hotline-standbys", ttl * 5, 1)
        .await
        .unwrap();
    let mut b = replica("router-2").with_progress(progress.clone());
    assert!(a.r.take_over().await.unwrap());
    assert_eq!(a.r.role(), Role::Owner);
    assert!(!b.take_over().await.unwrap(), "the partition has its owner");
    // the standby is refused inputs
    assert!(matches!(
        b.input(T0, In::AgentGone("1001".into())).await,
        Err(ReplicaError::NotOwner(_))
    ));
    for agent in ["1001", "1002", "1003"] {
        a.input(In::Agent {
            agent: agent.into(),
            command: Command::Login,
        })
        .await
        .unwrap();
    }
    let mut rng = Rng::seeded(7);
    let mut dialled = 0u64;
    for step in 0..600 {
        let t = a.now + rng.below(3000);
        a.at(t).await.unwrap();
        let input = random_input(&mut rng, &mut dialled);
        a.input(input).await.unwrap();
        if step % 50 == 0 {
            a.r.keep().await.unwrap();
            b.follow().await.unwrap();
        }
    }
    // the standby says how far it has applied the log (what `hotline cluster status`
    // shows as its lag)
    b.follow().await.unwrap();
    let said = progress.standbys("centre-a").await.unwrap();
    assert_eq!(said.len(), 1);
    assert_eq!(
        (said[0].router.as_str(), said[0].applied),
        ("router-2", b.applied())
    );
    assert_eq!(b.applied(), log.last("centre-a").await.unwrap());
    // the owner dies here: no more renewals, no more inputs
    let died = std::time::Instant::now();
    let engine_a = a.r.switchboard().engine();
    let waiting_before: Vec<_> = (0..5)
        .map(|q| engine_a.waiting_calls(hotline_acd::QueueId(q)).unwrap())
        .collect();
    let agents_before: Vec<_> = (0..3)
        .map(|i| engine_a.agent_state(hotline_acd::AgentId(i)).unwrap())
        .collect();
    let live_before = a.r.switchboard().live_calls();
    assert!(live_before > 0, "calls in progress when the owner dies");
    // the standby tries until the lease lapses, then takes over
    loop {
        if b.take_over().await.unwrap() {
            break;
        }
        assert!(died.elapsed() < ttl * 5, "no takeover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = died.elapsed();
    println!("takeover {took:?} after the owner's last input (lease {ttl:?})");
    assert!(took < ttl + Duration::from_secs(2), "{took:?}");
    assert_eq!(b.role(), Role::Owner);
    assert!(b.epoch() > a.r.epoch());
    // the calls where they were: the same queues in the same order, the agents as they were
    let engine_b = b.switchboard().engine();
    for q in 0..5 {
        assert_eq!(
            engine_b.waiting_calls(hotline_acd::QueueId(q)).unwrap(),
            waiting_before[q as usize]
        );
    }
    for i in 0..3 {
        assert_eq!(
            engine_b.agent_state(hotline_acd::AgentId(i)).unwrap(),
            agents_before[i as usize]
        );
    }
    assert_eq!(b.switchboard().live_calls(), live_before);
    // the old owner, back from the dead, is fenced out: its input is refused, it steps down
    let late = a.r.input(a.now, In::AgentGone("1001".into())).await;
    assert!(
        matches!(late, Err(ReplicaError::Log(_))),
        "{:?}",
        late.err()
    );
    assert_eq!(a.r.role(), Role::Standby);
    // the new owner serves on with the timers the old one had running
    let mut timers = BinaryHeap::new();
    for (k, (at, key)) in b.timers().into_iter().enumerate() {
        timers.push(Reverse((at, k as u64, key)));
    }
    let mut nb = Driver {
        r: b,
        now: a.now,
        timers,
        seq: 1_000_000,
        records: vec![],
        offered: vec![],
    };
    for _ in 0..300 {
        let t = nb.now + rng.below(3000);
        nb.at(t).await.unwrap();
        let input = random_input(&mut rng, &mut dialled);
        nb.input(input).await.unwrap();
    }
    // the end of the day: every caller hangs up, every agent wraps up
    for c in 1..=dialled {
        nb.input(In::CallerHangUp(c)).await.unwrap();
    }
    for agent in ["1001", "1002", "1003"] {
        nb.input(In::Agent {
            agent: agent.into(),
            command: Command::WrapUp(WrapUp::default()),
        })
        .await
        .unwrap();
    }
    let end = nb.now + 3_600_000;
    nb.at(end).await.unwrap();
    // every call that came in has exactly one record, written by one owner or the other
    let mut ids: Vec<u64> = a.records.iter().chain(&nb.records).copied().collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "a call was recorded twice");
    assert_eq!(n as u64, dialled, "calls without a record");
    assert!(!a.records.is_empty() && !nb.records.is_empty());
    nb.r.switchboard().engine().audit().unwrap();
}

/// An offer ringing when the owner died goes back to the head of its queue: the new owner
/// finds the agent's desktop gone (it was on the dead router) and the call takes its old
/// place, ahead of the caller who came after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_in_flight_when_the_owner_died_goes_back_to_the_head_of_its_queue() {
    let nats = LocalNats::start().unwrap();
    let js = hotline_cluster::connect(&nats.url()).await.unwrap();
    let ttl = Duration::from_secs(1);
    let leases = Leases::open(&js, "hotline-leases", ttl, 1).await.unwrap();
    let log = InputLog::open(&js, "HOTLINE_LOG", 1, Duration::from_secs(120))
        .await
        .unwrap();
    let mut a = Replica::new(
        "router-1",
        "centre-a",
        switchboard(),
        log.clone(),
        leases.clone(),
    );
    let mut b = Replica::new("router-2", "centre-a", switchboard(), log, leases);
    assert!(a.take_over().await.unwrap());
    let mut now = T0;
    let go = async |r: &mut Replica, now: u64, input: In| r.input(now, input).await.unwrap().1;
    for cmd in [Command::Login, Command::Ready] {
        go(
            &mut a,
            now,
            In::Agent {
                agent: "1001".into(),
                command: cmd,
            },
        )
        .await;
    }
    for call in [1, 2] {
        now += 1000;
        go(
            &mut a,
            now,
            In::Dial {
                call,
                from: format!("1890000000{call}"),
                to: "1000".into(),
                pop: None,
                store_unavailable: false,
            },
        )
        .await;
        now += 3000;
        let outs = go(
            &mut a,
            now,
            In::Keys {
                call,
                digits: "1".into(),
            },
        )
        .await;
        if call == 1 {
            assert!(outs.iter().any(
                |o| matches!(o, Out::Agent(x, AgentEvent::Offer { call: 1, .. }) if x == "1001")
            ));
        }
    }
    // router-1 dies with call 1 ringing at 1001 and call 2 waiting behind it
    let started = std::time::Instant::now();
    while !b.take_over().await.unwrap() {
        assert!(started.elapsed() < ttl * 10);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(b.offers_in_flight(), ["1001"]);
    let inquiry = b.switchboard().queue_id("inquiry").unwrap();
    let waiting = |r: &Replica| -> Vec<u64> {
        r.switchboard()
            .engine()
            .waiting_calls(inquiry)
            .unwrap()
            .iter()
            .filter_map(|w| r.switchboard().call_no(w.call))
            .collect()
    };
    assert_eq!(waiting(&b), [2]);
    for agent in b.offers_in_flight() {
        go(&mut b, now + 500, In::AgentGone(agent)).await;
    }
    assert_eq!(
        waiting(&b),
        [1, 2],
        "the ringing call back at the head of its queue"
    );
    assert!(b.offers_in_flight().is_empty());
}
