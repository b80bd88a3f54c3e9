//! What the IVR did in a simulated day: per route through the menus (as the router's
//! [`hotline_ivr::menu_route`] spells it) and per self-service — calls, containment (the KPI module's one
//! definition), time in the IVR (mean and p90), hang-ups in the IVR and the calls sent on
//! to each queue — over the replications with 95 % confidence intervals; and the
//! difference two menus make to the same callers (`hotline sim … --compare`).

use crate::report::{fmt, pad};
use crate::scenario::Compiled;
use crate::stats::Estimate;
use crate::{Outcome, SimReport};
use hotline_acd::kpi::{self, ServiceLevelFormula};
use hotline_ivr::{Flow, Service};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// How a call left the IVR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IvrExit {
    /// Finished in the IVR (self-service containment).
    Contained,
    /// Sent on to this queue (scenario order).
    ToQueue(usize),
    /// Hung up in the IVR, or hung up on, without finishing there.
    HungUp,
}

/// Longest time in the IVR the p90 resolves, seconds (longer stays count here).
const HIST_SECONDS: usize = 1800;

/// Calls that left the IVR, of one route, one service or all.
#[derive(Debug, Clone, Default)]
pub struct IvrTally {
    /// Calls.
    pub calls: u64,
    /// Finished in the IVR.
    pub contained: u64,
    /// Sent on to a queue.
    pub to_agent: u64,
    /// Hung up in the IVR.
    pub hung_up: u64,
    /// Their time in the IVR, seconds.
    pub seconds: f64,
    /// Calls by whole seconds in the IVR.
    hist: Vec<u32>,
}

impl IvrTally {
    fn count(&mut self, exit: IvrExit, seconds: f64) {
        self.calls += 1;
        match exit {
            IvrExit::Contained => self.contained += 1,
            IvrExit::ToQueue(_) => self.to_agent += 1,
            IvrExit::HungUp => self.hung_up += 1,
        }
        self.seconds += seconds;
        if self.hist.is_empty() {
            self.hist = vec![0; HIST_SECONDS + 1];
        }
        self.hist[(seconds.max(0.0) as usize).min(HIST_SECONDS)] += 1;
    }

    /// Self-service containment: finished in the IVR ÷ calls.
    pub fn containment(&self) -> Option<f64> {
        kpi::containment(self.contained, self.calls)
    }

    /// Mean time in the IVR, seconds.
    pub fn mean_seconds(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.seconds / self.calls as f64)
    }

    /// 90th percentile of the time in the IVR, seconds (to the second).
    pub fn p90_seconds(&self) -> Option<f64> {
        if self.calls == 0 {
            return None;
        }
        let want = (self.calls as f64 * 0.9).ceil() as u64;
        let mut seen = 0u64;
        for (s, n) in self.hist.iter().enumerate() {
            seen += *n as u64;
            if seen >= want {
                return Some(s as f64 + 1.0);
            }
        }
        Some(HIST_SECONDS as f64)
    }

    fn share(&self, n: u64) -> Option<f64> {
        (self.calls > 0).then(|| n as f64 / self.calls as f64)
    }
}

/// What one replication's IVR saw (calls that arrived in the measured window).
#[derive(Debug, Clone)]
pub struct IvrOutcome {
    /// Every call.
    pub all: IvrTally,
    /// By route through the menus (node indices in the flow).
    pub routes: BTreeMap<Vec<u16>, IvrTally>,
    /// By the self-service tried.
    pub services: BTreeMap<&'static str, IvrTally>,
    /// Calls sent on to each queue (scenario order).
    pub to_queue: Vec<u64>,
}

impl IvrOutcome {
    pub(crate) fn new(queues: usize) -> IvrOutcome {
        IvrOutcome {
            all: IvrTally::default(),
            routes: BTreeMap::new(),
            services: BTreeMap::new(),
            to_queue: vec![0; queues],
        }
    }

    /// A call left the IVR after `seconds` along `path`, having tried `service`.
    pub(crate) fn count(
        &mut self,
        route: &[u16],
        service: Option<Service>,
        exit: IvrExit,
        seconds: f64,
    ) {
        self.all.count(exit, seconds);
        match self.routes.get_mut(route) {
            Some(t) => t.count(exit, seconds),
            None => self
                .routes
                .entry(route.to_vec())
                .or_default()
                .count(exit, seconds),
        }
        if let Some(s) = service {
            self.services
                .entry(crate::ivr::service_name(s))
                .or_default()
                .count(exit, seconds);
        }
        if let IvrExit::ToQueue(q) = exit {
            if let Some(n) = self.to_queue.get_mut(q) {
                *n += 1;
            }
        }
    }
}

/// One line of the IVR section: a route, a service, or all calls.
#[derive(Debug, Clone, Serialize)]
pub struct IvrRow {
    /// The route in the flow's labels (`欢迎主菜单 › 话费查询 › …`), the service, or "all".
    pub name: String,
    /// The route as node ids (`welcome › bill › …`); empty for services and "all".
    pub route: String,
    /// Calls per replication.
    pub calls: Option<Estimate>,
    /// Finished in the IVR ÷ calls.
    pub containment: Option<Estimate>,
    /// Mean time in the IVR, seconds.
    pub mean_seconds: Option<Estimate>,
    /// 90th percentile of the time in the IVR, seconds.
    pub p90_seconds: Option<Estimate>,
    /// Hung up in the IVR ÷ calls.
    pub hung_up: Option<Estimate>,
    /// Sent on to a queue ÷ calls.
    pub to_agent: Option<Estimate>,
}

impl IvrRow {
    fn of(name: String, route: String, tallies: &[Option<&IvrTally>]) -> IvrRow {
        let empty = IvrTally::default();
        let all: Vec<&IvrTally> = tallies.iter().map(|t| t.unwrap_or(&empty)).collect();
        let est = |f: &dyn Fn(&IvrTally) -> Option<f64>| {
            Estimate::of(&all.iter().filter_map(|t| f(t)).collect::<Vec<_>>())
        };
        IvrRow {
            name,
            route,
            calls: est(&|t| Some(t.calls as f64)),
            containment: est(&IvrTally::containment),
            mean_seconds: est(&IvrTally::mean_seconds),
            p90_seconds: est(&IvrTally::p90_seconds),
            hung_up: est(&|t| t.share(t.hung_up)),
            to_agent: est(&|t| t.share(t.to_agent)),
        }
    }
}

/// The IVR section of a simulation report.
#[derive(Debug, Clone, Serialize)]
pub struct IvrReport {
    /// The flow file run.
    pub flow: String,
    /// Every call.
    pub all: IvrRow,
    /// By route, most used first.
    pub routes: Vec<IvrRow>,
    /// By self-service.
    pub services: Vec<IvrRow>,
    /// Calls sent on to each queue, per replication.
    pub to_queues: Vec<(String, Option<Estimate>)>,
}

/// A route as the router's IVR intervals spell it (`welcome › bill › goodbye`).
fn route_ids(flow: &Flow, route: &[u16]) -> String {
    let ids: Vec<&str> = route
        .iter()
        .filter_map(|i| flow.node_id(*i as usize))
        .map(|id| &**id)
        .collect();
    ids.join(" › ")
}

/// A route in the flow's labels (`欢迎主菜单 › 话费查询 › …`).
fn route_words(flow: &Flow, route: &[u16]) -> String {
    route
        .iter()
        .filter_map(|i| flow.node_id(*i as usize))
        .map(|id| flow.step_words(id).map_or(id.to_string(), |p| p.zh))
        .collect::<Vec<_>>()
        .join(" › ")
}

impl IvrReport {
    /// Summarise the replications' IVR outcomes (None for a run without an IVR).
    pub fn of(sc: &Compiled, outcomes: &[Outcome]) -> Option<IvrReport> {
        let plan = sc.ivr.as_ref()?;
        let ivr: Vec<&IvrOutcome> = outcomes.iter().filter_map(|o| o.ivr.as_ref()).collect();
        if ivr.is_empty() {
            return None;
        }
        let mut routes: BTreeMap<&[u16], u64> = BTreeMap::new();
        for o in &ivr {
            for (r, t) in &o.routes {
                *routes.entry(r.as_slice()).or_default() += t.calls;
            }
        }
        let mut by_use: Vec<(&[u16], u64)> = routes.into_iter().collect();
        by_use.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let services: Vec<&'static str> = ivr
            .iter()
            .flat_map(|o| o.services.keys().copied())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        Some(IvrReport {
            flow: plan.flow_name.clone(),
            all: IvrRow::of(
                "all calls".into(),
                String::new(),
                &ivr.iter().map(|o| Some(&o.all)).collect::<Vec<_>>(),
            ),
            routes: by_use
                .iter()
                .map(|(r, _)| {
                    IvrRow::of(
                        route_words(&plan.flow, r),
                        route_ids(&plan.flow, r),
                        &ivr.iter().map(|o| o.routes.get(*r)).collect::<Vec<_>>(),
                    )
                })
                .collect(),
            services: services
                .iter()
                .map(|s| {
                    IvrRow::of(
                        s.to_string(),
                        String::new(),
                        &ivr.iter().map(|o| o.services.get(s)).collect::<Vec<_>>(),
                    )
                })
                .collect(),
            to_queues: sc
                .queue_names
                .iter()
                .enumerate()
                .map(|(q, name)| {
                    let v: Vec<f64> = ivr.iter().map(|o| o.to_queue[q] as f64).collect();
                    (name.clone(), Estimate::of(&v))
                })
                .collect(),
        })
    }

    /// The IVR section as text; `routes` caps the routes listed.
    pub fn to_text(&self, routes: usize) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "IVR ({})", self.flow);
        let head = |s: &mut String, first: &str, last: &str| {
            let _ = writeln!(
                s,
                "{} {:>12} {:>14} {:>14} {:>12} {:>12}  {last}",
                pad(first, 20),
                "calls",
                "contained %",
                "mean time (s)",
                "p90 (s)",
                "hung up %",
            );
        };
        let line = |s: &mut String, r: &IvrRow, first: &str, last: &str| {
            let _ = writeln!(
                s,
                "{} {:>12} {:>14} {:>14} {:>12} {:>12}  {}",
                pad(first, 20),
                fmt(r.calls, 1.0, 0),
                fmt(r.containment, 100.0, 1),
                fmt(r.mean_seconds, 1.0, 1),
                fmt(r.p90_seconds, 1.0, 0),
                fmt(r.hung_up, 100.0, 1),
                last
            );
        };
        head(&mut s, "", "route through the menus");
        line(&mut s, &self.all, "all calls", "");
        for r in self.routes.iter().take(routes) {
            line(&mut s, r, "", &r.name);
        }
        if self.routes.len() > routes {
            let _ = writeln!(
                s,
                "{} ({} more routes in --json)",
                pad("", 20),
                self.routes.len() - routes
            );
        }
        let _ = writeln!(s);
        head(&mut s, "self-service", "");
        for r in &self.services {
            line(&mut s, r, &r.name, "");
        }
        let _ = writeln!(s, "\nsent on to the queues, calls per replication:");
        for (q, e) in &self.to_queues {
            let _ = writeln!(s, "  {} {:>14}", pad(q, 24), fmt(*e, 1.0, 0));
        }
        s
    }
}

/// One figure of two menus run on the same callers.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// What.
    pub figure: String,
    /// Under the first menu.
    pub first: Option<Estimate>,
    /// Under the other.
    pub other: Option<Estimate>,
    /// Other − first, replication by replication (common random numbers), with its CI.
    pub difference: Option<Estimate>,
}

/// Two menus on the same callers.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The first menu's run.
    pub first: SimReport,
    /// The other's.
    pub other: SimReport,
    /// The differences.
    pub differences: Vec<Difference>,
    /// Agents Erlang C says each needs in the busiest interval for the first queue's
    /// target (80 % within its T), all queues as one pool: (first, other).
    pub agents_needed: (Option<u32>, Option<u32>),
    /// The busiest interval's start, seconds of the day, and the T used.
    pub busiest: Option<(f64, f64)>,
}

type Figure = (
    &'static str,
    f64,
    usize,
    fn(&Compiled, &Outcome) -> Option<f64>,
);

/// The figures compared: name, scale for printing, decimals, and how to read it.
const FIGURES: [Figure; 8] = [
    ("IVR containment %", 100.0, 1, |_, o| {
        o.ivr.as_ref()?.all.containment()
    }),
    ("IVR mean time (s)", 1.0, 1, |_, o| {
        o.ivr.as_ref()?.all.mean_seconds()
    }),
    ("IVR hung up %", 100.0, 1, |_, o| {
        let t = &o.ivr.as_ref()?.all;
        t.share(t.hung_up)
    }),
    ("calls to agents", 1.0, 0, |_, o| {
        Some(o.overall.tally.offered as f64)
    }),
    ("service level %", 100.0, 1, |_, o| {
        kpi::service_level(&o.overall.tally, ServiceLevelFormula::ExcludeShortAbandons)
    }),
    ("ASA (s)", 1.0, 1, |_, o| {
        kpi::average_speed_of_answer(&o.overall.tally).map(|s| s.as_secs_f64())
    }),
    ("abandoned %", 100.0, 1, |_, o| {
        kpi::abandon_rate(&o.overall.tally)
    }),
    ("occupancy %", 100.0, 1, |_, o| {
        kpi::occupancy(o.overall.busy, o.overall.staffed)
    }),
];

impl Comparison {
    /// Compare two runs of the same scenario and seeds under two flows.
    pub fn of(
        (sc_a, a): (&Compiled, &[Outcome]),
        (sc_b, b): (&Compiled, &[Outcome]),
        first: SimReport,
        other: SimReport,
    ) -> Comparison {
        let differences = FIGURES
            .iter()
            .map(|(name, _, _, f)| {
                let of = |sc, o: &[Outcome]| {
                    Estimate::of(&o.iter().filter_map(|o| f(sc, o)).collect::<Vec<_>>())
                };
                let d: Vec<f64> = a
                    .iter()
                    .zip(b)
                    .filter_map(|(x, y)| Some(f(sc_b, y)? - f(sc_a, x)?))
                    .collect();
                Difference {
                    figure: name.to_string(),
                    first: of(sc_a, a),
                    other: of(sc_b, b),
                    difference: Estimate::of(&d),
                }
            })
            .collect();
        let t = sc_a
            .queues
            .first()
            .map_or(20.0, |q| q.thresholds.service_level.as_secs_f64());
        let busiest = first
            .intervals
            .iter()
            .chain(&other.intervals)
            .max_by(|x, y| {
                let m = |r: &crate::IntervalRow| r.offered.map_or(0.0, |e| e.mean);
                m(x).total_cmp(&m(y))
            })
            .map(|r| r.start_seconds);
        let need = |r: &SimReport| -> Option<u32> {
            let row = r
                .intervals
                .iter()
                .find(|x| Some(x.start_seconds) == busiest)?;
            let hours = (row.end_seconds - row.start_seconds) / 3600.0;
            let load = hotline_erlang::Load {
                calls_per_hour: row.offered?.mean / hours,
                aht: row.aht_seconds.or(r.overall.aht_seconds)?.mean,
                sl_seconds: t,
            };
            hotline_erlang::pooled_need(&[load], 0.8)
        };
        Comparison {
            agents_needed: (need(&first), need(&other)),
            busiest: busiest.map(|b| (b, t)),
            first,
            other,
            differences,
        }
    }

    /// The comparison as text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let name = |r: &SimReport| {
            r.ivr
                .as_ref()
                .map_or("(no IVR)".to_string(), |i| i.flow.clone())
        };
        let _ = writeln!(
            s,
            "{} — the same callers under two menus ({} replications, seed {})\n  first: {}\n  other: {}\n",
            self.first.scenario,
            self.first.replications,
            self.first.seed,
            name(&self.first),
            name(&self.other)
        );
        let _ = writeln!(
            s,
            "{} {:>16} {:>16} {:>18}",
            pad("", 22),
            "first",
            "other",
            "other − first"
        );
        for (d, (_, scale, dec, _)) in self.differences.iter().zip(FIGURES.iter()) {
            let _ = writeln!(
                s,
                "{} {:>16} {:>16} {:>18}",
                pad(&d.figure, 22),
                fmt(d.first, *scale, *dec),
                fmt(d.other, *scale, *dec),
                fmt(d.difference, *scale, *dec),
            );
        }
        if let Some((start, t)) = self.busiest {
            let m = (start / 60.0).round() as u64;
            let word = |n: Option<u32>| n.map_or("—".to_string(), |n| n.to_string());
            let _ = writeln!(
                s,
                "\nagents needed for 80 % within {t:.0} s in the busiest interval ({:02}:{:02}, Erlang C, all queues as one pool): first {}, other {}",
                (m / 60) % 24,
                m % 60,
                word(self.agents_needed.0),
                word(self.agents_needed.1)
            );
        }
        let _ = writeln!(
            s,
            "\n± is the 95 % confidence half-width; the difference is taken replication by replication on the same callers"
        );
        s
    }
}
