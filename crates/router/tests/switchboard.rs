//! The switchboard driven like the server will drive it: callers, agents, timers and
//! the store's answers, with the time of each.
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use hotline_acd::rng::Rng;
use hotline_acd::{AgentProfile, AgentStateKind, QueueConfig, SkillId, Span, WrapUpPolicy};
use hotline_ivr::Flow;
use hotline_router::switchboard::*;
use hotline_store::seed::{self, DEFAULT_NOW};
use hotline_store::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;
use std::sync::Arc;

const T0: u64 = DEFAULT_NOW + 2 * 3_600_000; // 10:00 in Beijing

struct Rig {
    sb: Switchboard,
    now: u64,
    timers: BinaryHeap<Reverse<(u64, u64, TimerKey)>>,
    seq: u64,
    log: Vec<Out>,
    records: Vec<Interaction>,
    /// Leave wrap-up ticket work unanswered (the test answers it) instead of answering
    /// it at once as the store would.
    hold_tickets: bool,
    /// Call-back calls whose outcome went to the store.
    outcome_of: std::collections::HashSet<u64>,
    /// Retries asked for: (ticket, when).
    later: Vec<(u64, u64)>,
    /// What broke the call-back rules, in words.
    broken: Vec<String>,
    /// Call-backs that rang the customer, latest last.
    rang: Vec<u64>,
}

fn queue(name: &str, skill: u16) -> QueueSetup {
    QueueSetup {
        name: name.into(),
        config: QueueConfig {
            name: name.into(),
            skill: SkillId(skill),
            wrap_up: WrapUpPolicy::UntilAgentFinishes,
            ring_timeout: Some(Span::from_secs(15)),
            ..QueueConfig::default()
        },
    }
}

fn rig() -> Rig {
    rig_with(None)
}

/// The rig with its clock starting at `now`.
fn rig_at(now: u64) -> Rig {
    rig_on(None, now)
}

/// The rig, routing call-backs by `call_backs` in a sixth queue "callback" (skill 0).
fn rig_with(call_backs: Option<CallBackPolicy>) -> Rig {
    rig_on(call_backs, T0)
}

fn rig_on(call_backs: Option<CallBackPolicy>, t0: u64) -> Rig {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/ivr/1000.toml");
    let names = [
        "inquiry",
        "fault",
        "complaint",
        "new-service",
        "green-channel",
    ];
    let flow = Arc::new(Flow::load(&p, &names).unwrap());
    let mut queues: Vec<QueueSetup> = names
        .iter()
        .enumerate()
        .map(|(i, n)| queue(n, i as u16))
        .collect();
    if let Some(p) = &call_backs {
        queues.push(queue(&p.queue, 0));
    }
    let all = |lvl: u8| AgentProfile {
        skills: (0..4).map(|s| (SkillId(s), lvl)).collect(),
        groups: vec![],
    };
    let agents = vec![
        AgentSetup {
            id: "1001".into(),
            profile: all(5),
        },
        AgentSetup {
            id: "1002".into(),
            profile: all(5),
        },
        AgentSetup {
            id: "9001".into(),
            profile: AgentProfile {
                skills: vec![(SkillId(4), 9), (SkillId(0), 9)],
                groups: vec![],
            },
        },
    ];
    let mut sb = Switchboard::new(flow, queues, agents, t0).unwrap();
    if let Some(p) = call_backs {
        sb = sb.with_call_backs(p).unwrap();
    }
    let mut r = Rig {
        sb,
        now: t0,
        timers: BinaryHeap::new(),
        seq: 0,
        log: vec![],
        records: vec![],
        hold_tickets: false,
        outcome_of: Default::default(),
        later: vec![],
        broken: vec![],
        rang: vec![],
    };
    r.drain();
    r
}

impl Rig {
    fn drain(&mut self) -> Vec<Out> {
        let mut got = Vec::new();
        let mut follow = Vec::new();
        while let Some(o) = self.sb.poll() {
            match &o {
                Out::StartTimer { key, at } => {
                    self.seq += 1;
                    self.timers.push(Reverse((*at, self.seq, *key)));
                }
                Out::Record(i) => {
                    if i.queue.as_deref() == Some("callback") {
                        self.check_call_back_record(i);
                    }
                    self.records.push(i.clone())
                }
                Out::TicketWork {
                    agent,
                    call_back: Some(_),
                    ..
                } => {
                    if let Some(call) = self.sb.current_call(agent) {
                        self.outcome_of.insert(call);
                    }
                    if !self.hold_tickets {
                        follow.push(In::TicketsDone {
                            agent: agent.clone(),
                            written: true,
                            opened: vec![],
                        })
                    }
                }
                Out::CallBackLater { ticket, at } => self.later.push((*ticket, *at)),
                Out::RingCustomer { call, .. } => self.rang.push(*call),
                // the store's answers, as the server would fetch them
                Out::SelfService {
                    call,
                    service: hotline_ivr::Service::OutageNotify,
                    ..
                } => follow.push(In::ServiceDone {
                    call: *call,
                    outcome: Ok(vec![("ticket".into(), "77".into())]),
                }),
                Out::SelfService { call, .. } => follow.push(In::ServiceDone {
                    call: *call,
                    outcome: Ok(vec![
                        ("balance".into(), "58.30".into()),
                        ("charges".into(), "86.00".into()),
                        ("arrears".into(), "".into()),
                    ]),
                }),
                Out::TicketWork { agent, new, .. } if !self.hold_tickets => {
                    follow.push(In::TicketsDone {
                        agent: agent.clone(),
                        written: true,
                        opened: (0..new.len() as u64).map(|k| 500 + k).collect(),
                    })
                }
                _ => {}
            }
            got.push(o);
        }
        self.log.extend(got.iter().cloned());
        for i in follow {
            self.sb.handle(self.now, i).unwrap();
            got.extend(self.drain());
        }
        got
    }

    /// A call-back's record: its codes, no FCR claim, and either its outcome went to
    /// the store or a retry of its ticket was asked for.
    fn check_call_back_record(&mut self, i: &Interaction) {
        let ticket = i.tickets.first().copied().unwrap_or(0);
        let retried = self.later.iter().any(|(t, _)| *t == ticket);
        if !self.outcome_of.contains(&i.call_id) && !retried {
            self.broken.push(format!(
                "call-back {} of ticket {ticket} ended with no outcome and no retry",
                i.call_id
            ));
        }
        if i.reason.as_deref() != Some("call-back.general") || i.fcr_claimed {
            self.broken
                .push(format!("call-back {} recorded as {i:?}", i.call_id));
        }
    }

    fn go(&mut self, input: In) -> Vec<Out> {
        self.sb.handle(self.now, input).unwrap();
        self.drain()
    }

    fn at(&mut self, t: u64) {
        while let Some(&Reverse((at, _, key))) = self.timers.peek() {
            if at > t {
                break;
            }
            self.timers.pop();
            self.now = self.now.max(at);
            self.sb.handle(self.now, In::Timer(key)).unwrap();
            self.drain();
        }
        self.now = self.now.max(t);
    }

    fn agent(&mut self, id: &str, c: Command) -> Vec<Out> {
        self.go(In::Agent {
            agent: id.into(),
            command: c,
        })
    }

    fn ready(&mut self, id: &str) {
        self.agent(id, Command::Login);
        self.agent(id, Command::Ready);
    }
}

/// (call, screen pop, IVR path, reason) of an offer.
type Offered = (u64, Option<Box<ScreenPop>>, Vec<String>, Option<String>);

fn offer_to(outs: &[Out], who: &str) -> Option<Offered> {
    outs.iter().find_map(|o| match o {
        Out::Agent(
            a,
            AgentEvent::Offer {
                call,
                pop,
                ivr_path,
                reason,
                ..
            },
        ) if a == who => Some((*call, pop.clone(), ivr_path.clone(), reason.clone())),
        _ => None,
    })
}

fn heard(outs: &[Out], call: u64) -> Vec<String> {
    outs.iter()
        .filter_map(|o| match o {
            Out::Caller(c, CallerEvent::Say { text, .. }) if *c == call => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_call_goes_from_the_menu_to_an_agent_to_the_survey_and_into_one_record() {
    let mut r = rig();
    r.ready("1001");
    let outs = r.go(In::Dial {
        call: 1,
        from: "18912345678".into(),
        to: "1000".into(),
        pop: None,
        store_unavailable: false,
    });
    assert!(heard(&outs, 1)[0].contains("业务咨询请按1"));
    r.at(T0 + 2000);
    let outs = r.go(In::Keys {
        call: 1,
        digits: "1".into(),
    });
    let (call, pop, path, reason) = offer_to(&outs, "1001").expect("offered to the ready agent");
    assert_eq!(call, 1);
    assert!(pop.is_none(), "an unknown caller has an empty profile");
    assert_eq!(path, ["welcome", "key 1", "inquiry-queue"]);
    assert_eq!(reason.as_deref(), Some("inquiry"));
    r.at(T0 + 5000);
    let outs = r.agent("1001", Command::Answer);
    assert!(outs.contains(&Out::Caller(1, CallerEvent::Connected("1001".into()))));
    r.at(T0 + 65_000);
    r.agent("1001", Command::Hold);
    assert!(r.log.contains(&Out::Caller(1, CallerEvent::OnHold(true))));
    r.agent("1001", Command::Resume);
    assert!(r.log.contains(&Out::Caller(1, CallerEvent::OnHold(false))));
    let outs = r.agent("1001", Command::HangUp);
    assert!(
        heard(&outs, 1)[0].contains("请对本次服务进行评价"),
        "the caller stays for the survey"
    );
    r.at(T0 + 70_000);
    r.go(In::Keys {
        call: 1,
        digits: "5".into(),
    });
    assert!(r.records.is_empty(), "the record waits for the wrap-up");
    r.at(T0 + 90_000);
    r.agent(
        "1001",
        Command::WrapUp(WrapUp {
            disposition: "answered".into(),
            reason: "inquiry.tariff".into(),
            notes: "explained the plan".into(),
            resolved_first_contact: true,
            ..WrapUp::default()
        }),
    );
    assert_eq!(r.records.len(), 1);
    assert!(
        !r.log.iter().any(|o| matches!(o, Out::TicketWork { .. })),
        "a wrap-up without tickets gives the store no ticket work"
    );
    let rec = &r.records[0];
    assert_eq!(
        (rec.call_id, rec.end, rec.satisfaction),
        (1, CallEnd::Completed, Some(5))
    );
    assert_eq!(rec.agents, ["1001"]);
    assert!(rec.fcr_claimed);
    assert_eq!(rec.reason.as_deref(), Some("inquiry.tariff"));
    assert_eq!(rec.ivr_path, ["welcome", "key 1", "inquiry-queue"]);
    // queued at 2 s, rang 3 s, answered at 5 s: the wait counts the ringing
    assert_eq!((rec.talk_s, rec.wait_s), (60, 3));
    assert_eq!(r.sb.live_calls(), 0);
    assert!(matches!(
        r.sb.engine()
            .agent_state(hotline_acd::AgentId(0))
            .unwrap()
            .kind(),
        AgentStateKind::Ready
    ));
}

#[test]
fn a_key_account_reaches_its_account_manager_on_the_green_channel() {
    let mut r = rig();
    r.ready("1001");
    r.ready("9001");
    let mut c = seed::customer(1, 3, DEFAULT_NOW);
    c.segment = Segment::KeyAccount;
    c.account_manager = Some("9001".into());
    let pop = ScreenPop {
        customer: c.clone(),
        open_tickets: vec![],
        recent: vec![],
    };
    let outs = r.go(In::Dial {
        call: 7,
        from: c.phones[0].clone(),
        to: "1000".into(),
        pop: Some(Box::new(pop)),
        store_unavailable: false,
    });
    assert!(heard(&outs, 7)[0].contains("尊敬的大客户"));
    let (_, pop, _, reason) = offer_to(&outs, "9001").expect("the account manager gets it");
    assert_eq!(pop.unwrap().customer.id, c.id);
    assert_eq!(reason.as_deref(), Some("key-account"));
}

#[test]
fn a_caller_the_store_could_not_look_up_is_offered_saying_so() {
    let mut r = rig();
    r.ready("1001");
    r.go(In::Dial {
        call: 2,
        from: "18912345678".into(),
        to: "1000".into(),
        pop: None,
        store_unavailable: true,
    });
    let outs = r.go(In::Keys {
        call: 2,
        digits: "1".into(),
    });
    let flagged = outs.iter().any(|o| {
        matches!(o, Out::Agent(a, AgentEvent::Offer { store_unavailable: true, pop: None, .. }) if a == "1001")
    });
    assert!(flagged, "{outs:?}");
}

#[test]
fn self_service_ends_in_the_ivr_with_its_record() {
    let mut r = rig();
    r.go(In::Dial {
        call: 3,
        from: "18900000000".into(),
        to: "1000".into(),
        pop: None,
        store_unavailable: false,
    });
    let outs = r.go(In::Keys {
        call: 3,
        digits: "5".into(),
    });
    assert!(heard(&outs, 3).iter().any(|t| t.contains("58.30")));
    let outs = r.go(In::Keys {
        call: 3,
        digits: "9".into(),
    });
    assert!(outs.contains(&Out::Caller(3, CallerEvent::Ended(CallEnd::SelfService))));
    let rec = &r.records[0];
    assert_eq!(rec.end, CallEnd::SelfService);
    assert_eq!(
        rec.self_service,
        Some(SelfService::Completed("bill".into()))
    );
    assert!(rec.agents.is_empty());
}

/// The router reads the information answers out of `assets/info/1000.toml` (through
/// the flow), and a caller who hears one and ends the call was served in the IVR.
#[test]
fn an_information_answer_is_read_out_and_ends_in_the_ivr() {
    let mut r = rig();
    r.go(In::Dial {
        call: 4,
        from: "18900000004".into(),
        to: "1000".into(),
        pop: None,
        store_unavailable: false,
    });
    let outs = r.go(In::Keys {
        call: 4,
        digits: "8".into(),
    });
    assert!(heard(&outs, 4)[0].contains("资费标准请按1"));
    let outs = r.go(In::Keys {
        call: 4,
        digits: "4".into(),
    });
    let said = heard(&outs, 4);
    assert!(said[0].contains("人民路一号"), "{said:?}");
    let outs = r.go(In::Keys {
        call: 4,
        digits: "9".into(),
    });
    assert!(outs.contains(&Out::Caller(4, CallerEvent::Ended(CallEnd::SelfService))));
    let rec = &r.records[0];
    assert_eq!(rec.end, CallEnd::SelfService);
    assert!(
        rec.ivr_path.contains(&"info-shops".to_string()),
        "{:?}",
        rec.ivr_path
    );
}

#[test]
fn a_caller_who_hangs_up_while_ringing_never_reaches_the_agent() {
    let mut r = rig();
    r.ready("1001");
    r.go(In::Dial {
        call: 4,
        from: "18900000001".into(),
        to: "1000".into(),
        pop: None,
        store_unavailable: false,
    });
    let outs = r.go(In::Keys {
        call: 4,
        digits: "3".into(),
    });
    assert!(offer_to(&outs, "1001").is_some());
    r.at(T0 + 3000);
    let outs = r.go(In::CallerHangUp(4));
    assert!(outs.contains(&Out::Agent(
        "1001".into(),
        AgentEvent::OfferCancelled("caller hung up")
    )));
    assert_eq!(r.records.len(), 1);
    assert_eq!(r.records[0].end, CallEnd::Abandoned);
    // nothing rings any more: answering is refused, and no call reaches the agent
    assert!(
        r.sb.handle(
            r.now,
            In::Agent {
                agent: "1001".into(),
                command: Command::Answer
            }
        )
        .is_err()
    );
    assert!(
        !r.drain()
            .iter()
            .any(|o| matches!(o, Out::Agent(_, AgentEvent::Connected(_))))
    );
}

#[test]
fn a_lost_agent_sends_the_call_to_the_next_and_wrap_up_tickets_land_on_the_record() {
    let mut r = rig();
    r.ready("1001");
    r.go(In::Dial {
        call: 5,
        from: "18900000002".into(),
        to: "1000".into(),
        pop: None,
        store_unavailable: false,
    });
    r.go(In::Keys {
        call: 5,
        digits: "2".into(),
    });
    r.go(In::Keys {
        call: 5,
        digits: "0".into(),
    });
    r.agent("1001", Command::Answer);
    r.ready("1002");
    let outs = r.go(In::AgentGone("1001".into()));
    let (call, ..) =
        offer_to(&outs, "1002").expect("back to the head of the queue, to the next agent");
    assert_eq!(call, 5);
    r.agent("1002", Command::Answer);
    r.go(In::CallerHangUp(5));
    let ticket = NewTicket {
        customer: 1,
        kind: TicketKind::Fault,
        subcategory: "broadband-down".into(),
        description: "断网".into(),
        priority: TicketPriority::High,
    };
    let outs = r.agent(
        "1002",
        Command::WrapUp(WrapUp {
            disposition: "ticket opened".into(),
            new_tickets: vec![ticket],
            ..WrapUp::default()
        }),
    );
    assert!(
        outs.iter()
            .any(|o| matches!(o, Out::TicketWork { agent, .. } if agent == "1002"))
    );
    let rec = &r.records[0];
    assert_eq!(rec.tickets, [500]);
    assert_eq!(rec.agents, ["1001", "1002"]);
}

#[test]
fn a_bad_command_is_refused_in_words_and_nothing_else_changes() {
    let mut r = rig();
    r.ready("1001");
    let e =
        r.sb.handle(
            r.now,
            In::Agent {
                agent: "1001".into(),
                command: Command::Answer,
            },
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "agent 1001 cannot answer while ready");
    let e =
        r.sb.handle(
            r.now,
            In::Agent {
                agent: "4242".into(),
                command: Command::Ready,
            },
        )
        .unwrap_err();
    assert_eq!(e, SwitchError::UnknownAgent("4242".into()));
    let e =
        r.sb.handle(
            r.now,
            In::Agent {
                agent: "1001".into(),
                command: Command::TransferToQueue("lottery".into()),
            },
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "there is no queue 'lottery'");
    let e =
        r.sb.handle(
            r.now,
            In::Keys {
                call: 99,
                digits: "1".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e, SwitchError::UnknownCall(99));
}

/// Nothing lost: a random walk of callers and agents, then everybody hangs up and wraps
/// up; every call that came in has exactly one record.
#[test]
fn every_call_ends_in_exactly_one_record() {
    let mut r = rig();
    let mut rng = Rng::seeded(99);
    let agents = ["1001", "1002", "9001"];
    let mut dialled = 0u64;
    for step in 0..3000u64 {
        let t = r.now + rng.below(4000);
        r.at(t);
        let live: Vec<u64> = (1..=dialled).collect();
        let roll = rng.below(100);
        let res = if roll < 15 {
            dialled += 1;
            r.sb.handle(
                r.now,
                In::Dial {
                    call: dialled,
                    from: format!("189{:08}", dialled),
                    to: "1000".into(),
                    pop: None,
                    store_unavailable: false,
                },
            )
        } else if roll < 45 && !live.is_empty() {
            let c = live[rng.below(live.len() as u64) as usize];
            let key = ["1", "2", "3", "4", "5", "6", "9", "0", "7"][rng.below(9) as usize];
            r.sb.handle(
                r.now,
                In::Keys {
                    call: c,
                    digits: key.into(),
                },
            )
        } else if roll < 52 && !live.is_empty() {
            r.sb.handle(
                r.now,
                In::CallerHangUp(live[rng.below(live.len() as u64) as usize]),
            )
        } else {
            let a = agents[rng.below(3) as usize];
            let cmd = match rng.below(9) {
                0 => Command::Login,
                1 | 2 => Command::Ready,
                3 | 4 => Command::Answer,
                5 => Command::HangUp,
                6 => Command::WrapUp(WrapUp {
                    disposition: "answered".into(),
                    ..WrapUp::default()
                }),
                7 => Command::Reject,
                _ => {
                    let _ = r.sb.handle(r.now, In::AgentGone(a.into()));
                    Command::Login
                }
            };
            r.sb.handle(
                r.now,
                In::Agent {
                    agent: a.into(),
                    command: cmd,
                },
            )
        };
        let _ = (res, step); // refusals are fine; panics and lost calls are not
        r.drain();
        if let Err(e) = r.sb.engine().audit() {
            panic!("engine audit: {e}");
        }
    }
    // the end of the day: everybody hangs up, agents wrap up
    for c in 1..=dialled {
        let _ = r.sb.handle(r.now, In::CallerHangUp(c));
        r.drain();
    }
    for a in agents {
        let _ = r.sb.handle(
            r.now,
            In::Agent {
                agent: a.into(),
                command: Command::WrapUp(WrapUp::default()),
            },
        );
        r.drain();
    }
    r.at(r.now + 3_600_000);
    let mut ids: Vec<u64> = r.records.iter().map(|i| i.call_id).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "a call was recorded twice");
    assert_eq!(
        n as u64,
        dialled,
        "calls without a record: {:?}",
        (1..=dialled)
            .filter(|c| !ids.contains(c))
            .collect::<Vec<_>>()
    );
    assert_eq!(r.sb.live_calls(), 0);
    assert!(dialled > 300, "{dialled}");
}

#[test]
fn a_booked_callback_survives_the_line_closing_and_reaches_an_agent_later() {
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
        .map(|(i, n)| {
            let mut q = queue(n, i as u16);
            q.config.callback_threshold = Some(Span::from_secs(60));
            q
        })
        .collect();
    let agents = vec![AgentSetup {
        id: "1001".into(),
        profile: AgentProfile {
            skills: vec![(SkillId(0), 5)],
            groups: vec![],
        },
    }];
    let mut r = Rig {
        sb: Switchboard::new(flow, queues, agents, T0).unwrap(),
        now: T0,
        timers: BinaryHeap::new(),
        seq: 0,
        log: vec![],
        records: vec![],
        hold_tickets: false,
        outcome_of: Default::default(),
        later: vec![],
        broken: vec![],
        rang: vec![],
    };
    r.agent("1001", Command::Login); // logged in, not ready: the wait estimate is long
    r.go(In::Dial {
        call: 8,
        from: "18900000008".into(),
        to: "1000".into(),
        pop: None,
        store_unavailable: false,
    });
    let outs = r.go(In::Keys {
        call: 8,
        digits: "1".into(),
    });
    assert!(
        outs.contains(&Out::Caller(8, CallerEvent::CallbackOffered)),
        "{outs:?}"
    );
    let outs = r.go(In::AcceptCallback(8));
    assert!(outs.contains(&Out::Caller(8, CallerEvent::CallbackBooked)));
    r.go(In::CallerHangUp(8)); // the line closes
    assert!(r.records.is_empty(), "the callback is still booked");
    let outs = r.agent("1001", Command::Ready);
    assert!(
        outs.iter().any(|o| matches!(o, Out::Agent(a, AgentEvent::Offer { call: 8, callback: true, .. }) if a == "1001")),
        "{outs:?}"
    );
    // the agent calls back, talks, hangs up: no survey on a line that closed long ago,
    // and the record is written at the wrap-up
    r.agent("1001", Command::Answer);
    let outs = r.agent("1001", Command::HangUp);
    assert!(heard(&outs, 8).is_empty(), "{outs:?}");
    r.agent(
        "1001",
        Command::WrapUp(WrapUp {
            disposition: "answered".into(),
            reason: "inquiry.tariff".into(),
            ..WrapUp::default()
        }),
    );
    assert_eq!(r.records.len(), 1, "the call back's record");
    assert_eq!(r.records[0].end, CallEnd::Completed);
}

/// The wallboard's figures after traffic whose every figure is worked out by hand
/// (times in seconds after T0; key 1 puts a call in `inquiry` two seconds after it
/// dials):
///
/// * call 1 dials at 0, offered to 1001 at 2, answered at 2 (wait 0), talk to 242,
///   wrap-up to 302 → handled 300 s;
/// * call 2 dials at 10, offered to 1002 at 12, answered at 22 (wait 10), talk to 302,
///   wrap-up to 322 → handled 300 s;
/// * call 3 dials at 20, waits from 22, hangs up at 52 (abandoned after 30 s; not short);
/// * call 4 dials at 30, waits from 32, offered to 1001 at 302 and answered (wait 270),
///   still talking at 600.
///
/// At 600: offered 4, answered 3, within 20 s 2 (waits 0 and 10), abandoned 1, SL
/// 2 ÷ (3 + 1 − 0) = 0.5, ASA (0 + 10 + 270) ÷ 3 = 93.33 s, AHT 300 s, abandon rate
/// 1 ÷ 4; occupancy: 1001 busy 2–600 (598 s), 1002 busy 12–322 (310 s), both staffed
/// 600 s → 908 ÷ 1200. Staffing advice, Erlang C by hand: 4 calls in 600 s is 24 an hour,
/// × 300 s = 2 Erlangs. For n = 3: B(3, 2) = 0.2105, C = 3B ÷ (3 − 2(1 − B)) = 0.4444,
/// SL = 1 − C·e^(−(3−2)·20/300) = 0.584 < 0.8; n = 4: B = 0.0952, C = 0.1739,
/// SL = 1 − C·e^(−2·20/300) = 0.848 ≥ 0.8. So 4 agents are needed; at 600 agent 9001
/// logs in (not ready), so 3 are logged in: advice +1.
#[test]
fn the_wallboard_figures_are_those_worked_by_hand() {
    let mut r = rig();
    r.ready("1001");
    r.ready("1002");
    let s = |x: u64| T0 + x * 1000;
    let dial = |r: &mut Rig, call: u64| {
        r.go(In::Dial {
            call,
            from: format!("1891234567{call}"),
            to: "1000".into(),
            pop: None,
            store_unavailable: false,
        });
    };
    let key = |r: &mut Rig, call: u64| {
        r.go(In::Keys {
            call,
            digits: "1".into(),
        })
    };
    dial(&mut r, 1);
    r.at(s(2));
    assert!(offer_to(&key(&mut r, 1), "1001").is_some());
    // one call in two seconds is no arrival rate to staff by: advice waits a minute
    let q = stats_at(&r.sb, "inquiry", s(2)).unwrap();
    assert_eq!((q.offered, q.staffing_advice), (1, 0));
    r.agent("1001", Command::Answer);
    r.at(s(10));
    dial(&mut r, 2);
    r.at(s(12));
    assert!(offer_to(&key(&mut r, 2), "1002").is_some());
    r.at(s(20));
    dial(&mut r, 3);
    r.at(s(22));
    key(&mut r, 3);
    r.agent("1002", Command::Answer);
    r.at(s(30));
    dial(&mut r, 4);
    r.at(s(32));
    key(&mut r, 4);
    r.at(s(52));
    r.go(In::CallerHangUp(3));
    r.at(s(242));
    r.agent("1001", Command::HangUp);
    r.at(s(302));
    r.agent("1002", Command::HangUp);
    let outs = r.agent("1001", Command::WrapUp(WrapUp::default()));
    assert!(
        offer_to(&outs, "1001").is_some(),
        "call 4 goes to 1001 at 302"
    );
    r.agent("1001", Command::Answer);
    r.at(s(322));
    r.agent("1002", Command::WrapUp(WrapUp::default()));
    r.at(s(600));
    // the engine's figures are as of its last input: 9001 logs in (not ready) at 600
    r.agent("9001", Command::Login);

    let q = stats_at(&r.sb, "inquiry", s(600)).unwrap();
    let secs =
        |d: &Option<prost_types::Duration>| d.map(|d| d.seconds as f64 + d.nanos as f64 / 1e9);
    assert_eq!(q.queue, "inquiry");
    assert_eq!((q.waiting, q.ringing), (0, 0));
    assert_eq!(secs(&q.longest_wait), Some(0.0), "nobody waits now");
    assert_eq!(
        (q.offered, q.answered, q.answered_within_threshold),
        (4, 3, 2)
    );
    assert_eq!((q.abandoned, q.abandoned_short), (1, 0));
    assert_eq!(q.service_level, Some(0.5));
    assert_eq!(q.interval_service_level, Some(0.5));
    assert_eq!(q.service_level_target, 0.8);
    assert_eq!(secs(&q.service_level_threshold), Some(20.0));
    let asa = secs(&q.asa).unwrap();
    assert!((asa - 280.0 / 3.0).abs() < 1e-3, "ASA {asa}");
    assert_eq!(secs(&q.aht), Some(300.0));
    assert_eq!(q.abandon_rate, 0.25);
    assert!(
        (q.occupancy - 908.0 / 1200.0).abs() < 1e-9,
        "occupancy {}",
        q.occupancy
    );
    // by the contract's state numbers: 9001 (who also has the skill) not ready, 1002
    // ready, 1001 on call 4
    assert_eq!(q.agents_by_state, [0, 0, 1, 1, 0, 1, 0]);
    let interval = q.interval.unwrap();
    assert_eq!(
        (
            interval.start.unwrap().seconds,
            interval.end.unwrap().seconds
        ),
        ((T0 / 1000) as i64, (T0 / 1000 + 900) as i64)
    );
    assert_eq!(q.staffing_advice, 1);
    // 1001's own line on the wallboard: on call 4 since it was answered at 302
    let names = std::collections::HashMap::new();
    let st = hotline_router::supervisor::agent_status(&r.sb, "1001", &names, s(600)).unwrap();
    assert_eq!(st.call_id, 4);
    assert_eq!(secs(&st.in_state), Some(298.0));
    assert_eq!(st.handled, 1, "call 1 handled; call 4 still on");
}

/// Minutes into an interval with nothing offered, there is no rate to staff by: the
/// advice is neither to add nor to send anyone away.
#[test]
fn no_staffing_advice_without_calls() {
    let mut r = rig();
    r.ready("1001");
    r.ready("1002");
    r.at(T0 + 100_000);
    r.agent("9001", Command::Login);
    let q = stats_at(&r.sb, "inquiry", T0 + 100_000).unwrap();
    assert_eq!((q.offered, q.staffing_advice), (0, 0));
}

/// Live queue settings (what `UpdateQueue` calls) take effect on the calls that come
/// next: a shorter ring-no-answer, a higher minimum skill level, a cap on the line.
#[test]
fn queue_settings_changed_at_run_time_route_the_next_calls() {
    let mut r = rig();
    let s = |x: u64| T0 + x * 1000;
    let cfg = |r: &Rig| {
        let q = r.sb.queue_id("inquiry").unwrap();
        r.sb.engine().queue_config(q).unwrap().clone()
    };
    let ends = |outs: &[Out], call: u64| {
        outs.iter().find_map(|o| match o {
            Out::Caller(c, CallerEvent::Ended(e)) if *c == call => Some(*e),
            _ => None,
        })
    };
    r.ready("1001");
    // ring-no-answer after 5 s instead of 15
    let mut c = cfg(&r);
    c.ring_timeout = Some(Span::from_secs(5));
    r.sb.update_queue(r.now, "inquiry", c).unwrap();
    r.go(In::Dial {
        call: 1,
        from: "18912345671".into(),
        to: "1000".into(),
        pop: None,
        store_unavailable: false,
    });
    r.at(s(2));
    let outs = r.go(In::Keys {
        call: 1,
        digits: "1".into(),
    });
    assert!(offer_to(&outs, "1001").is_some());
    let cancelled = |r: &Rig| {
        r.log.iter().any(
            |o| matches!(o, Out::Agent(a, AgentEvent::OfferCancelled("no answer")) if a == "1001"),
        )
    };
    r.at(s(6));
    assert!(!cancelled(&r), "still ringing at 4 s");
    r.at(s(7));
    assert!(cancelled(&r), "rung out at 5 s, not 15");
    // level 6 and up: 1001 (level 5) gets no more inquiry calls, 9001 (level 9) does
    let mut c = cfg(&r);
    c.min_level = 6;
    r.sb.update_queue(r.now, "inquiry", c).unwrap();
    r.agent("1001", Command::Ready);
    assert!(
        r.sb.current_call("1001").is_none(),
        "1001 is under the new level"
    );
    let outs = r.agent("9001", Command::Login);
    let mut outs2 = r.agent("9001", Command::Ready);
    outs2.extend(outs);
    assert_eq!(
        offer_to(&outs2, "9001").map(|o| o.0),
        Some(1),
        "the waiting call goes to the agent who still qualifies"
    );
    r.agent("9001", Command::Answer);
    // at most one waiting: with nobody free, the second caller in line is refused
    let mut c = cfg(&r);
    c.max_waiting = Some(1);
    r.sb.update_queue(r.now, "inquiry", c).unwrap();
    for call in [2, 3] {
        r.go(In::Dial {
            call,
            from: format!("1891234567{call}"),
            to: "1000".into(),
            pop: None,
            store_unavailable: false,
        });
    }
    r.at(s(20));
    let two = r.go(In::Keys {
        call: 2,
        digits: "1".into(),
    });
    assert_eq!(ends(&two, 2), None, "call 2 waits");
    let three = r.go(In::Keys {
        call: 3,
        digits: "1".into(),
    });
    assert_eq!(
        ends(&three, 3),
        Some(CallEnd::Refused),
        "call 3 is turned away"
    );
}

/// How each call ended shows on its record: a completed call not claimed as resolved at
/// first contact is no FCR claim and its leg stays handled; when the router stops, the
/// call on an agent ends dropped with its open leg dropped, a call waiting in a queue
/// keeps the time it was queued (it left the menu then), and one still in the menu was
/// never queued.
#[test]
fn each_record_says_how_its_call_ended() {
    let mut r = rig();
    r.ready("1001");
    r.go(In::Dial {
        call: 1,
        from: "18912345678".into(),
        to: "1000".into(),
        pop: None,
        store_unavailable: false,
    });
    assert_eq!(r.sb.live_calls(), 1);
    r.at(T0 + 2_000);
    r.go(In::Keys {
        call: 1,
        digits: "1".into(),
    });
    r.at(T0 + 4_000);
    r.agent("1001", Command::Answer);
    r.at(T0 + 64_000);
    r.agent("1001", Command::HangUp);
    r.go(In::Keys {
        call: 1,
        digits: "4".into(),
    });
    r.agent(
        "1001",
        Command::WrapUp(WrapUp {
            disposition: "answered".into(),
            reason: "inquiry.tariff".into(),
            resolved_first_contact: false,
            // a change to a ticket the caller already has, and no new one
            ticket_changes: vec![(
                77,
                TicketChange::Note {
                    text: "客户来电催办".into(),
                },
            )],
            ..WrapUp::default()
        }),
    );
    let work = r.log.iter().find_map(|o| match o {
        Out::TicketWork { new, changes, .. } => Some((new.len(), changes.len())),
        _ => None,
    });
    assert_eq!(work, Some((0, 1)), "the change goes to the store");
    let done = r
        .records
        .iter()
        .find(|i| i.call_id == 1)
        .expect("call 1's record");
    assert_eq!(done.end, CallEnd::Completed);
    assert!(!done.fcr_claimed, "not claimed at wrap-up: no FCR claim");
    assert_eq!(done.legs.len(), 1);
    assert_eq!(done.legs[0].outcome, LegOutcome::Handled);

    // three calls live when the router stops: on the agent, waiting, in the menu
    r.agent("1001", Command::Ready);
    for (call, key) in [(2, Some("1")), (3, Some("1")), (4, None)] {
        r.go(In::Dial {
            call,
            from: format!("1891234567{call}"),
            to: "1000".into(),
            pop: None,
            store_unavailable: false,
        });
        r.at(r.now + 1_000);
        if let Some(k) = key {
            r.go(In::Keys {
                call,
                digits: k.into(),
            });
        }
    }
    r.agent("1001", Command::Answer);
    assert_eq!(r.sb.live_calls(), 3);
    let stop = r.now + 30_000;
    r.sb.shutdown(stop);
    r.drain();
    assert_eq!(r.sb.live_calls(), 0);
    let rec = |call: u64| r.records.iter().find(|i| i.call_id == call).unwrap();
    let talking = rec(2);
    assert_eq!(talking.end, CallEnd::Dropped);
    assert_eq!(
        talking.agents,
        ["1001"],
        "the agent it was with, though no engine record"
    );
    assert_eq!(talking.legs.len(), 1);
    assert_eq!(
        (talking.legs[0].outcome, talking.legs[0].ended),
        (LegOutcome::Dropped, Some(stop))
    );
    let waiting = rec(3);
    assert_eq!(waiting.end, CallEnd::Dropped);
    assert!(waiting.ivr_ended.is_some());
    assert_eq!(
        waiting.queued, waiting.ivr_ended,
        "queued when it left the menu"
    );
    let in_menu = rec(4);
    assert_eq!((in_menu.queued, in_menu.ivr_ended), (None, Some(stop)));
}

fn queued_as(outs: &[Out], call: u64) -> Option<(u32, u64)> {
    outs.iter().find_map(|o| match o {
        Out::Caller(
            c,
            CallerEvent::Queued {
                position,
                wait_seconds,
                ..
            },
        ) if *c == call => Some((*position, *wait_seconds)),
        _ => None,
    })
}

/// What a caller is told on joining a queue, worked by hand: before any call is handled
/// a queue expects 240 s a call; with 1001 and 1002 logged in (not ready) the inquiry
/// queue has two agents staffed, so the first caller waits about 240 × 1 ÷ 2 = 120 s
/// (2 minutes) and the second 240 × 2 ÷ 2 = 240 s (4 minutes).
#[test]
fn callers_are_told_their_place_and_wait_worked_by_hand() {
    let mut r = rig();
    r.agent("1001", Command::Login);
    r.agent("1002", Command::Login);
    for call in [1u64, 2] {
        r.go(In::Dial {
            call,
            from: format!("1890000000{call}"),
            to: "1000".into(),
            pop: None,
            store_unavailable: false,
        });
        let outs = r.go(In::Keys {
            call,
            digits: "1".into(),
        });
        assert_eq!(queued_as(&outs, call), Some((call as u32, 120 * call)));
        let minutes = format!("预计等待约{}分钟", 2 * call);
        assert!(
            heard(&outs, call).iter().any(|t| t.contains(&minutes)),
            "{:?}",
            heard(&outs, call)
        );
    }
}

/// A caller who hangs up on the agent gets no survey, and the record is written at the
/// wrap-up; a record waits only for its own call's ticket work, not another agent's.
#[test]
fn a_caller_hanging_up_ends_the_call_and_records_wait_only_for_their_own_tickets() {
    let mut r = rig();
    r.hold_tickets = true;
    r.ready("1001");
    r.ready("1002");
    for call in [1u64, 2] {
        r.go(In::Dial {
            call,
            from: format!("1890000001{call}"),
            to: "1000".into(),
            pop: None,
            store_unavailable: false,
        });
        r.go(In::Keys {
            call,
            digits: "1".into(),
        });
    }
    let agent_of = |r: &Rig, call: u64| {
        r.log
            .iter()
            .find_map(|o| match o {
                Out::Agent(a, AgentEvent::Offer { call: c, .. }) if *c == call => Some(a.clone()),
                _ => None,
            })
            .unwrap()
    };
    let (a1, a2) = (agent_of(&r, 1), agent_of(&r, 2));
    r.agent(&a1, Command::Answer);
    r.agent(&a2, Command::Answer);
    r.at(T0 + 60_000);
    let outs = r.go(In::CallerHangUp(1));
    assert!(
        heard(&outs, 1).is_empty(),
        "no survey for a caller who hung up"
    );
    let ended = |outs: &[Out], who: &str| {
        outs.iter().find_map(|o| match o {
            Out::Agent(a, AgentEvent::ConversationEnded { by_caller, .. }) if a == who => {
                Some(*by_caller)
            }
            _ => None,
        })
    };
    assert_eq!(
        ended(&outs, &a1),
        Some(true),
        "the agent hears the caller hung up"
    );
    let outs = r.agent(&a2, Command::HangUp);
    assert_eq!(ended(&outs, &a2), Some(false));
    r.go(In::Keys {
        call: 2,
        digits: "5".into(),
    });
    // call 1's wrap-up opens a ticket; the store has not answered yet
    r.agent(
        &a1,
        Command::WrapUp(WrapUp {
            disposition: "answered".into(),
            reason: "fault.broadband".into(),
            new_tickets: vec![NewTicket {
                customer: 1,
                kind: TicketKind::Fault,
                subcategory: "broadband-down".into(),
                description: "断网".into(),
                priority: TicketPriority::Normal,
            }],
            ..WrapUp::default()
        }),
    );
    r.agent(
        &a2,
        Command::WrapUp(WrapUp {
            disposition: "answered".into(),
            reason: "inquiry.tariff".into(),
            ..WrapUp::default()
        }),
    );
    let ids: Vec<u64> = r.records.iter().map(|i| i.call_id).collect();
    assert_eq!(ids, [2], "call 2 is done; call 1 waits for its ticket");
    assert_eq!(r.records[0].satisfaction, Some(5));
    r.go(In::TicketsDone {
        agent: a1.clone(),
        written: true,
        opened: vec![900],
    });
    let one = r
        .records
        .iter()
        .find(|i| i.call_id == 1)
        .expect("call 1's record");
    assert_eq!((one.end, one.satisfaction), (CallEnd::Completed, None));
    assert_eq!(one.tickets, [900]);
}

/// A call moved on by its agent: each leg ends with its own outcome, at its own agent.
#[test]
fn each_leg_of_a_transferred_call_keeps_its_own_outcome() {
    let mut r = rig();
    r.ready("1001");
    r.go(In::Dial {
        call: 1,
        from: "18900000021".into(),
        to: "1000".into(),
        pop: None,
        store_unavailable: false,
    });
    r.go(In::Keys {
        call: 1,
        digits: "1".into(),
    });
    r.agent("1001", Command::Answer);
    r.at(T0 + 30_000);
    r.ready("1002");
    r.agent("1001", Command::TransferToAgent("1002".into()));
    r.at(T0 + 35_000);
    r.agent("1002", Command::Answer);
    r.at(T0 + 95_000);
    r.agent("1002", Command::HangUp);
    r.go(In::Keys {
        call: 1,
        digits: "5".into(),
    });
    for a in ["1001", "1002"] {
        r.agent(
            a,
            Command::WrapUp(WrapUp {
                disposition: "answered".into(),
                reason: "inquiry.tariff".into(),
                ..WrapUp::default()
            }),
        );
    }
    let rec = r
        .records
        .iter()
        .find(|i| i.call_id == 1)
        .expect("the record");
    let legs: Vec<(&str, LegOutcome, bool, bool)> = rec
        .legs
        .iter()
        .map(|l| {
            (
                l.agent.as_str(),
                l.outcome,
                l.answered.is_some(),
                l.ended.is_some(),
            )
        })
        .collect();
    assert_eq!(
        legs,
        [
            ("1001", LegOutcome::Transferred, true, true),
            ("1002", LegOutcome::Handled, true, true)
        ],
        "{:?}",
        rec.legs
    );
    assert_eq!(rec.legs[1].ended, Some(T0 + 95_000));
}

fn resolved_ticket(id: u64, owner: &str) -> Box<Ticket> {
    Box::new(Ticket {
        id,
        customer: 7,
        kind: TicketKind::Fault,
        subcategory: "broadband-down".into(),
        description: String::new(),
        priority: TicketPriority::Normal,
        status: TicketStatus::Resolved,
        owner: owner.into(),
        back_office: Some("repair-crew".into()),
        created: T0,
        deadline: T0 + 48 * 3_600_000,
        satisfaction: None,
        history: vec![],
    })
}

/// Call-backs mixed into a random walk of callers and agents: the engine's invariants
/// hold after every step, the customer is reached only on a line that answered, every
/// call-back ends in one record with its outcome on the ticket or a retry asked for,
/// and at the end of the day every call — inbound or call-back — has exactly one record.
#[test]
fn call_backs_in_a_random_walk_keep_their_place_and_their_outcome() {
    let policy = CallBackPolicy {
        queue: "callback".into(),
        // the inbound calls' class, so agents take both (at class 0 behind them, busy
        // agents would rarely reach a call-back in the walk)
        priority: 1,
        attempts: 3,
        spacing: 30_000,
        owner_wait: 20_000,
        ring: 8_000,
        ..CallBackPolicy::default()
    };
    let mut r = rig_with(Some(policy));
    let mut rng = Rng::seeded(1234);
    let agents = ["1001", "1002", "9001"];
    let (mut dialled, mut tasks, mut next_ticket) = (0u64, Vec::<u64>::new(), 1u64);
    let (mut answered, mut reached_refused, mut outcomes) = (0u32, 0u32, 0usize);
    let mut all_calls: Vec<u64> = vec![];
    let task = |all_calls: &mut Vec<u64>, tasks: &mut Vec<u64>| {
        let call = 1_000_000 + all_calls.len() as u64;
        all_calls.push(call);
        tasks.push(call);
        call
    };
    for _ in 0..6000u64 {
        let t = r.now + rng.below(2000);
        r.at(t);
        // the driver's retries fall due
        let due: Vec<u64> = r
            .later
            .iter()
            .filter(|(_, at)| *at <= r.now)
            .map(|(t, _)| *t)
            .collect();
        r.later.retain(|(_, at)| *at > r.now);
        for ticket in due {
            let call = task(&mut all_calls, &mut tasks);
            let due = In::CallBackDue {
                call,
                ticket: resolved_ticket(ticket, agents[(ticket % 3) as usize]),
                number: "18955551234".into(),
                pop: None,
                attempt: 2,
            };
            let _ = r.sb.handle(r.now, due);
            r.drain();
        }
        let roll = rng.below(100);
        let res = if roll < 6 {
            dialled += 1;
            all_calls.push(dialled);
            let dial = In::Dial {
                call: dialled,
                from: format!("189{dialled:08}"),
                to: "1000".into(),
                pop: None,
                store_unavailable: false,
            };
            r.sb.handle(r.now, dial)
        } else if roll < 16 && dialled > 0 {
            let call = 1 + rng.below(dialled);
            let key = ["1", "2", "3", "4", "0", "9"][rng.below(6) as usize];
            let digits = key.into();
            r.sb.handle(r.now, In::Keys { call, digits })
        } else if roll < 18 && dialled > 0 {
            r.sb.handle(r.now, In::CallerHangUp(1 + rng.below(dialled)))
        } else if roll < 21 {
            // a ticket resolved: its call-back is due (owners: agents, the IVR)
            let call = task(&mut all_calls, &mut tasks);
            let owner = ["1001", "1002", "9001", "ivr"][rng.below(4) as usize];
            next_ticket += 1;
            let due = In::CallBackDue {
                call,
                ticket: resolved_ticket(next_ticket, owner),
                number: "18955551234".into(),
                pop: None,
                attempt: 1,
            };
            r.sb.handle(r.now, due)
        } else if roll < 36 && !r.rang.is_empty() {
            // mostly the telephone ringing now; sometimes one rung long ago
            let k = r.rang.len() as u64;
            let c = r.rang[(k - 1 - rng.below(k.min(3))) as usize];
            let ok = r.sb.handle(r.now, In::CustomerAnswered(c));
            answered += u32::from(ok.is_ok());
            ok
        } else if roll < 38 && !tasks.is_empty() {
            let c = tasks[rng.below(tasks.len() as u64) as usize];
            r.sb.handle(r.now, In::CallerHangUp(c))
        } else {
            let a = agents[rng.below(3) as usize];
            let command = match rng.below(12) {
                0 => Command::Login,
                1 | 2 => Command::Ready,
                3 | 4 => Command::Answer,
                5 | 6 => Command::HangUp,
                7..=9 => Command::WrapUp(WrapUp {
                    disposition: "answered".into(),
                    call_back: match rng.below(4) {
                        0 => None,
                        1 => Some(CallBackOutcome::NoAnswer),
                        _ => Some(CallBackOutcome::Reached {
                            satisfaction: rng.below(7) as u8,
                            solved: rng.chance(0.5),
                        }),
                    },
                    ..WrapUp::default()
                }),
                10 => Command::Reject,
                _ => {
                    let _ = r.sb.handle(r.now, In::AgentGone(a.into()));
                    Command::Login
                }
            };
            let res = r.sb.handle(
                r.now,
                In::Agent {
                    agent: a.into(),
                    command,
                },
            );
            reached_refused += u32::from(matches!(res, Err(SwitchError::CustomerNotReached(_))));
            res
        };
        let _ = res; // refusals are fine; panics and lost calls are not
        let before = r.outcome_of.len();
        r.drain();
        outcomes += r.outcome_of.len() - before;
        if let Err(e) = r.sb.engine().audit() {
            panic!("engine audit: {e}");
        }
    }
    // the end of the day: callers hang up; agents log in and finish every task left
    for c in 1..=dialled {
        let _ = r.sb.handle(r.now, In::CallerHangUp(c));
        r.drain();
    }
    for _ in 0..400 {
        r.later.clear(); // no more retries today
        for a in agents {
            for command in [
                Command::Login,
                Command::Ready,
                Command::Answer,
                Command::HangUp,
                Command::WrapUp(WrapUp::default()),
                Command::WrapUp(WrapUp {
                    call_back: Some(CallBackOutcome::NoAnswer),
                    ..WrapUp::default()
                }),
            ] {
                let input = In::Agent {
                    agent: a.into(),
                    command,
                };
                let _ = r.sb.handle(r.now, input);
                r.drain();
            }
        }
        r.at(r.now + 60_000);
        if r.sb.live_calls() == 0 {
            break;
        }
    }
    assert!(r.broken.is_empty(), "{:#?}", r.broken);
    assert_eq!(r.sb.live_calls(), 0, "calls left at the end of the day");
    let mut ids: Vec<u64> = r.records.iter().map(|i| i.call_id).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "a call was recorded twice");
    all_calls.sort_unstable();
    assert_eq!(
        ids, all_calls,
        "every call, inbound or call-back, has one record"
    );
    println!(
        "{dialled} calls, {} call-backs, {answered} answered, {outcomes} outcomes recorded, \
         {reached_refused} 'reached' refused on an unanswered line",
        tasks.len()
    );
    assert!(
        tasks.len() > 150 && answered > 15 && outcomes > 15 && reached_refused > 10,
        "the walk reached too little"
    );
}

/// A call-back waits behind the inbound calls: of a call-back task waiting since long
/// and a caller who just came, a free agent gets the caller first (the flow puts public
/// calls in class 1, call-backs are class 0).
#[test]
fn inbound_callers_go_ahead_of_waiting_call_backs() {
    let mut r = rig_with(Some(CallBackPolicy::default()));
    r.agent("1001", Command::Login);
    let due = In::CallBackDue {
        call: 900,
        ticket: resolved_ticket(5, "ivr"),
        number: "18955551234".into(),
        pop: None,
        attempt: 1,
    };
    r.go(due);
    r.at(r.now + 60_000);
    r.go(In::Dial {
        call: 1,
        from: "18900000001".into(),
        to: "1000".into(),
        pop: None,
        store_unavailable: false,
    });
    r.go(In::Keys {
        call: 1,
        digits: "1".into(),
    });
    r.at(r.now + 5_000);
    let outs = r.agent("1001", Command::Ready);
    let (first, ..) = offer_to(&outs, "1001").expect("an offer");
    assert_eq!(first, 1, "the caller first");
    // once the caller is served, the call-back is offered, with its ticket
    r.agent("1001", Command::Answer);
    r.agent("1001", Command::HangUp);
    r.go(In::CallerHangUp(1));
    let outs = r.agent(
        "1001",
        Command::WrapUp(WrapUp {
            disposition: "answered".into(),
            ..WrapUp::default()
        }),
    );
    let offered = outs.iter().find_map(|o| match o {
        Out::Agent(
            a,
            AgentEvent::Offer {
                call, call_back, ..
            },
        ) if a == "1001" => Some((*call, call_back.as_ref().map(|c| c.ticket.id))),
        _ => None,
    });
    assert_eq!(offered, Some((900, Some(5))));
}

/// A router stopping mid-interval keeps what the interval counted so far (a shorter
/// interval ending at the stop), and the one it starts again goes on from its start:
/// no call counted twice, none lost. A checkpoint taken at the stop's time holds the
/// very records the stop closes.
#[test]
fn a_stop_closes_the_interval_early_and_a_restart_goes_on_from_there() {
    let intervals = |outs: &[Out]| -> Vec<IntervalRecord> {
        outs.iter()
            .filter_map(|o| match o {
                Out::Interval(r) => Some(r.clone()),
                _ => None,
            })
            .collect()
    };
    let inquiry = |rs: &[IntervalRecord]| {
        rs.iter()
            .find_map(|r| match &r.figures {
                IntervalFigures::Queue { queue, tally, .. } if queue == "inquiry" => {
                    Some((r.start, r.end, tally.offered))
                }
                _ => None,
            })
            .expect("the inquiry queue's interval")
    };
    let mut r = rig();
    let t0 = r.now; // 10:00 exactly
    r.at(t0 + 5 * 60_000);
    r.go(In::Dial {
        call: 1,
        from: "18900000001".into(),
        to: "1000".into(),
        pop: None,
        store_unavailable: false,
    });
    r.go(In::Keys {
        call: 1,
        digits: "1".into(),
    });
    r.at(t0 + 7 * 60_000);
    // a checkpoint at 10:07 is what the stop then closes: the same keys and figures
    let checkpoint = r.sb.checkpoint(r.now);
    assert_eq!(inquiry(&checkpoint), (t0, t0 + 7 * 60_000, 1));
    r.sb.shutdown(r.now);
    let closed = intervals(&r.drain());
    assert_eq!(checkpoint, closed, "the checkpoint is the interval so far");
    assert_eq!(
        inquiry(&closed),
        (t0, t0 + 7 * 60_000, 1),
        "10:00–10:07, one call"
    );
    assert!(closed.iter().all(|i| i.end == t0 + 7 * 60_000));
    // started again at 10:08: its first interval is 10:08–10:15
    let mut again = rig_at(t0 + 8 * 60_000);
    again.at(t0 + 15 * 60_000);
    let next = intervals(&again.log);
    assert_eq!(inquiry(&next), (t0 + 8 * 60_000, t0 + 15 * 60_000, 0));
}

/// A queue's wallboard figures at `now`, with the floor's staffing advice then.
fn stats_at(
    sb: &hotline_router::switchboard::Switchboard,
    queue: &str,
    now: u64,
) -> Option<hotline_proto::v1::QueueStats> {
    let advice = hotline_router::staffing::floor_advice(
        sb,
        now,
        hotline_router::supervisor::SERVICE_LEVEL_TARGET,
    );
    hotline_router::supervisor::queue_stats(sb, queue, &advice)
}

/// The IVR's interval: each call is counted once, when it leaves the IVR, by its route
/// and by the service it tried — the bill heard and goodbye (contained), key 1 to the
/// inquiry queue (to an agent), a caller hanging up at the welcome (hung up) — and the
/// counts are kept with the queues' interval: in the checkpoint, then in the close.
#[test]
fn the_ivr_interval_counts_each_call_once_as_it_leaves_the_ivr() {
    let mut r = rig();
    let t0 = r.now;
    let dial = |r: &mut Rig, call: u64| {
        r.go(In::Dial {
            call,
            from: format!("1890000000{call}"),
            to: "1000".into(),
            pop: None,
            store_unavailable: false,
        });
    };
    let keys = |r: &mut Rig, call: u64, digits: &str| {
        r.go(In::Keys {
            call,
            digits: digits.into(),
        });
    };
    dial(&mut r, 1);
    r.at(t0 + 20_000);
    keys(&mut r, 1, "5");
    keys(&mut r, 1, "9");
    dial(&mut r, 2);
    r.at(t0 + 30_000);
    keys(&mut r, 2, "1");
    dial(&mut r, 3);
    r.at(t0 + 34_000);
    r.go(In::CallerHangUp(3));
    let ivr = |rs: &[IntervalRecord]| -> Vec<(IvrBy, String, IvrTally, Millis, Millis)> {
        rs.iter()
            .filter_map(|r| match &r.figures {
                IntervalFigures::Ivr { by, key, tally } => {
                    Some((*by, key.clone(), *tally, r.start, r.end))
                }
                _ => None,
            })
            .collect()
    };
    let checkpoint = ivr(&r.sb.checkpoint(r.now));
    let tally = |calls, contained, to_agent, hung_up, ivr_ms| IvrTally {
        calls,
        contained,
        to_agent,
        hung_up,
        ivr_ms,
    };
    let (at, now) = (t0, t0 + 34_000);
    assert_eq!(
        checkpoint,
        vec![
            (
                IvrBy::Path,
                "welcome".into(),
                tally(1, 0, 0, 1, 4_000),
                at,
                now
            ),
            (
                IvrBy::Path,
                "welcome › bill › anything-else › goodbye".into(),
                tally(1, 1, 0, 0, 20_000),
                at,
                now
            ),
            (
                IvrBy::Path,
                "welcome › inquiry-queue".into(),
                tally(1, 0, 1, 0, 10_000),
                at,
                now
            ),
            (
                IvrBy::Service,
                "bill".into(),
                tally(1, 1, 0, 0, 20_000),
                at,
                now
            ),
        ],
        "{checkpoint:#?}"
    );
    r.sb.shutdown(r.now);
    let closed: Vec<IntervalRecord> = r
        .drain()
        .into_iter()
        .filter_map(|o| match o {
            Out::Interval(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(
        ivr(&closed),
        checkpoint,
        "the close is the checkpoint's figures"
    );
}

/// The customer of 翠苑一区 whose calls the watch on areas counts.
fn living_in(area: &str) -> Option<Box<ScreenPop>> {
    let mut c = seed::customer(1, 0, DEFAULT_NOW);
    c.id = 1;
    c.district = "西湖区".into();
    c.area = area.into();
    Some(Box::new(ScreenPop {
        customer: c,
        open_tickets: vec![],
        recent: vec![],
    }))
}

fn dial_and_press(r: &mut Rig, call: u64, pop: Option<Box<ScreenPop>>, keys: &[&str]) {
    r.go(In::Dial {
        call,
        from: format!("189{call:08}"),
        to: "1000".into(),
        pop,
        store_unavailable: false,
    });
    for k in keys {
        r.go(In::Keys {
            call,
            digits: (*k).into(),
        });
    }
}

/// Every fault report from one 小区 counts once — a call to the fault desk, the
/// self-service fault report, a fault ticket opened at wrap-up of a call that chose
/// something else — and callers the store does not know, or from elsewhere, count for
/// nothing of it; at the fifth the watch raises the area's alarm on its own timer.
#[test]
fn the_watch_on_areas_counts_each_fault_report_once_and_raises_the_alarm() {
    let mut r = rig();
    r.sb.watch_areas(
        Detector::new(DetectorConfig::default(), Baseline::empty(8 * 3_600_000)).unwrap(),
        r.now,
    );
    r.drain();
    // (the callers at the fault desk hang up once counted: nobody is logged in)
    // two calls to the fault desk
    dial_and_press(&mut r, 1, living_in("翠苑一区"), &["2", "0"]);
    dial_and_press(&mut r, 2, living_in("翠苑一区"), &["2", "0"]);
    // the self-service fault report
    dial_and_press(&mut r, 3, living_in("翠苑一区"), &["2", "1"]);
    // unknown callers and a neighbour area's caller at the fault desk
    dial_and_press(&mut r, 4, None, &["2", "0"]);
    dial_and_press(&mut r, 5, None, &["2", "0"]);
    dial_and_press(&mut r, 6, living_in("文三"), &["2", "0"]);
    for call in 1..=6 {
        r.go(In::CallerHangUp(call));
    }
    r.at(r.now + 60_000);
    assert!(
        !r.log.iter().any(|o| matches!(o, Out::Area(_))),
        "three from 翠苑一区 are not yet improbable at the floor"
    );
    // an inquiry that turns out to be a fault: the agent opens a fault ticket
    r.ready("1001");
    dial_and_press(&mut r, 7, living_in("翠苑一区"), &["1"]);
    let offered = r.log.iter().rev().find_map(|o| match o {
        Out::Agent(a, AgentEvent::Offer { call, .. }) => Some((a.clone(), *call)),
        _ => None,
    });
    let (agent, _) = offered.expect("an agent is offered a call");
    r.agent(&agent, Command::Answer);
    r.agent(&agent, Command::HangUp);
    r.agent(
        &agent,
        Command::WrapUp(WrapUp {
            disposition: "ticket-opened".into(),
            new_tickets: vec![NewTicket {
                customer: 1,
                kind: TicketKind::Fault,
                subcategory: "broadband-down".into(),
                description: "断网".into(),
                priority: TicketPriority::High,
            }],
            ..WrapUp::default()
        }),
    );
    r.at(r.now + 60_000);
    assert!(!r.log.iter().any(|o| matches!(o, Out::Area(_))), "four");
    dial_and_press(&mut r, 8, living_in("翠苑一区"), &["2", "0"]);
    r.at(r.now + 60_000);
    let raised: Vec<&OutageEvent> = r
        .log
        .iter()
        .filter_map(|o| match o {
            Out::Area(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(raised.len(), 1, "{raised:?}");
    let OutageEvent::Raised(s) = raised[0] else {
        panic!("{raised:?}")
    };
    assert_eq!(s.area, Area::new("西湖区", "翠苑一区"));
    assert_eq!(s.count, 5);
    assert_eq!(
        s.top,
        vec![("fault".to_string(), 4), ("broadband-down".to_string(), 1)]
    );
    assert_eq!(r.sb.alarmed_areas(), vec![Area::new("西湖区", "翠苑一区")]);
}

fn incident_in(area: &str) -> Incident {
    Incident {
        id: 7,
        district: "西湖区".into(),
        area: area.into(),
        kind: "broadband-down".into(),
        message: IncidentMessage {
            zh: "光缆中断，正在抢修".into(),
            en: "a fibre cable is cut".into(),
        },
        started: T0 - 3_600_000,
        expected_restore: T0 + 4 * 3_600_000 + 1_800_000,
        declared: T0 - 600_000,
        declared_by: "9000".into(),
        automatic: false,
        status: IncidentStatus::Open,
        ended: None,
        resolution: None,
        history: vec![],
    }
}

/// While an incident is open for a 小区, its callers who choose the fault menu hear it
/// with the restore time and may ask to be told (the call then ends in the IVR, no
/// agent offered); one who goes on reaches the agent with the incident on the screen
/// pop; a caller of another 小区 hears nothing of it; once it ends, nobody does.
#[test]
fn callers_of_an_area_with_an_incident_hear_it_and_agents_see_it() {
    let mut r = rig();
    r.go(In::Incidents(vec![incident_in("翠苑一区")]));
    r.ready("1001");
    // the caller asks to be told
    dial_and_press(&mut r, 1, living_in("翠苑一区"), &["2"]);
    let told = heard(&r.log, 1).join(" ");
    assert!(
        told.contains("光缆中断，正在抢修") && told.contains("预计14:30恢复"),
        "{told}"
    );
    let outs = r.go(In::Keys {
        call: 1,
        digits: "1".into(),
    });
    assert!(outs.iter().any(|o| matches!(o,
        Out::SelfService { call: 1, service: hotline_ivr::Service::OutageNotify, input, .. }
        if input == "7")));
    assert!(heard(&outs, 1).join(" ").contains("工单号77"));
    assert!(
        offer_to(&r.log, "1001").is_none(),
        "no agent is offered that call"
    );
    let rec = r
        .records
        .iter()
        .find(|i| i.call_id == 1)
        .expect("its record");
    assert_eq!(rec.end, CallEnd::SelfService);
    assert_eq!(
        rec.self_service,
        Some(SelfService::Completed("outage-notify".into()))
    );
    // a neighbour goes on to an agent, who sees the incident
    dial_and_press(&mut r, 2, living_in("翠苑一区"), &["2", "0", "0"]);
    let offered = r.log.iter().find_map(|o| match o {
        Out::Agent(
            a,
            AgentEvent::Offer {
                call: 2, incident, ..
            },
        ) if a == "1001" => Some(incident.clone()),
        _ => None,
    });
    assert_eq!(offered.expect("offered").map(|i| i.id), Some(7));
    // a caller of another 小区 goes straight to the fault menu
    dial_and_press(&mut r, 3, living_in("文三"), &["2"]);
    let other = heard(&r.log, 3).join(" ");
    assert!(
        !other.contains("光缆") && other.contains("自助登记故障请按1"),
        "{other}"
    );
    // ended: nobody hears it
    r.go(In::Incidents(vec![]));
    dial_and_press(&mut r, 4, living_in("翠苑一区"), &["2"]);
    assert!(!heard(&r.log, 4).join(" ").contains("光缆"));
}
