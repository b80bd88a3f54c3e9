//! One replication: the routing engine on a virtual clock, with simulated callers and
//! bot agents. Events wait ordered by (time, sequence) (`events.rs`), so equal times
//! keep their order and a seed always gives the same run.

use crate::caller::{IvrCaller, Step, play};
use crate::events::Events;
use crate::ivr::Mind;
use crate::ivr_report::{IvrExit, IvrOutcome};
use crate::outage::{OutageOutcome, OutageWatch};
use crate::scenario::{Compiled, Stop};
use hotline_acd::kpi::Tally;
use hotline_acd::rng::Rng;
use hotline_acd::{
    Action, AgentId, AgentState, AgentStateKind, CallId, CallPlace, CallRecord, CallSpec,
    EndReason, Engine, EngineConfig, Input, QueueId, ReasonCode, Span, Time, TimerId,
};
use hotline_ivr::{Input as IvrInput, Service, Session};
use std::collections::VecDeque;

/// Not ready: on a scheduled break.
pub const BREAK: ReasonCode = ReasonCode(16);
/// Not ready: the shift is over, logging out after the current call.
pub const END_OF_SHIFT: ReasonCode = ReasonCode(17);

/// No 小区 (a call that is not about a fault, or a run without an outage).
const NO_AREA: u32 = u32::MAX;

const TAG_MEASURED: u64 = 1 << 24;

#[derive(Debug, Clone, Copy)]
enum Event {
    /// A fresh arrival (and the next one is drawn), or a retrial of (reason, segment,
    /// 小区).
    Arrival {
        retrial: Option<(u16, u8, u32)>,
    },
    /// An outage's extra fault call from the stricken 小区 (and the next one is drawn).
    OutageCall,
    /// The outage detector judges the areas.
    AreaTick,
    Abandon(CallId),
    Answer(AgentId, CallId),
    HangUp(AgentId, CallId),
    FinishWrap(AgentId, CallId),
    Timer(TimerId),
    /// A caller in the IVR (slot) acts, or leaves it.
    Ivr(u32, Step),
    ShiftStart(u32),
    ShiftEnd(u32),
    BreakStart(u32),
    BreakEnd(u32),
}

#[derive(Debug, Clone, Copy)]
struct Caller {
    id: CallId,
    reason: u16,
    segment: u8,
    area: u32,
    patience_at: Time,
    abandon_set: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct BotState {
    shift_over: bool,
    on_break: bool,
    on_shift: bool,
}

/// Measured figures of one replication, for one queue or all.
#[derive(Debug, Clone, Copy, Default)]
pub struct Figures {
    /// Counters from the calls' records.
    pub tally: Tally,
    /// Calls that had to queue (not offered the moment they arrived).
    pub waited: u64,
    /// Agents' busy time in the measured window.
    pub busy: Span,
    /// Agents' staffed time in the measured window.
    pub staffed: Span,
}

/// One statistics interval of one replication (all queues together).
#[derive(Debug, Clone, Copy, Default)]
pub struct IntervalFigures {
    /// Start, seconds of the run.
    pub start: f64,
    /// End.
    pub end: f64,
    /// Queue counters merged.
    pub tally: Tally,
    /// Agents' busy time.
    pub busy: Span,
    /// Agents' staffed time.
    pub staffed: Span,
    /// Calls that left the IVR in the interval.
    pub ivr_calls: u64,
    /// Of them, finished there.
    pub ivr_contained: u64,
}

/// What a replication measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// All queues.
    pub overall: Figures,
    /// Per queue, in scenario order.
    pub queues: Vec<Figures>,
    /// Per interval.
    pub intervals: Vec<IntervalFigures>,
    /// Arrivals simulated, warm-up and retrials included.
    pub calls_simulated: u64,
    /// What the outage watch saw (runs with an `[outage]`).
    pub outage: Option<OutageOutcome>,
    /// What the IVR saw (runs with an `[ivr]`).
    pub ivr: Option<IvrOutcome>,
}

pub(crate) struct Replication<'a> {
    sc: &'a Compiled,
    e: Engine,
    rng: Rng,
    /// What does not depend on how calls are served (arrivals, reasons, segments,
    /// patience, the callers' own streams): the same under two menus (common random
    /// numbers).
    draw: Rng,
    heap: Events<Event>,
    /// The IVR, this replication's own copy (its shared ids are counted on this
    /// thread's cache lines only).
    ivr: Option<std::sync::Arc<crate::ivr::IvrPlan>>,
    ivr_callers: Vec<Option<IvrCaller>>,
    ivr_free: Vec<u32>,
    /// What the IVR said last (kept to reuse its room).
    ivr_said: Vec<hotline_ivr::Action>,
    /// A caller's route as it leaves (kept to reuse its room).
    ivr_route: Vec<u16>,
    pending: VecDeque<Input>,
    callers: Vec<Caller>,
    bots: Vec<BotState>,
    now: Time,
    fresh: u64,
    arrivals: u64,
    outstanding: u64,
    window_open: bool,
    arrivals_stopped: bool,
    occ_start: (Span, Span),
    occ_end: Option<(Span, Span)>,
    out: Outcome,
    end_time: Option<Time>,
    outage: Option<OutageWatch>,
}

impl<'a> Replication<'a> {
    pub fn new(sc: &'a Compiled, replication: u32) -> Replication<'a> {
        let mut e = Engine::new(
            EngineConfig {
                interval: sc.interval,
                seed: sc.seed ^ replication as u64,
                quiet: true,
                ..EngineConfig::default()
            },
            Time::ZERO,
        );
        for q in &sc.queues {
            e.add_queue(q.clone())
                .expect("queues were validated when the scenario compiled");
        }
        for b in &sc.bots {
            e.add_agent(b.profile.clone())
                .expect("profiles were validated when the scenario compiled");
        }
        let mut r = Replication {
            sc,
            e,
            rng: Rng::fork(sc.seed, replication as u64),
            draw: Rng::fork(sc.seed ^ 0x5eed_ca11, replication as u64),
            heap: Events::with_capacity(4096),
            ivr: sc
                .ivr
                .as_ref()
                .map(|p| std::sync::Arc::new(p.for_one_thread())),
            ivr_callers: Vec::new(),
            ivr_free: Vec::new(),
            ivr_said: Vec::with_capacity(8),
            ivr_route: Vec::with_capacity(8),
            pending: VecDeque::new(),
            callers: Vec::new(),
            bots: vec![BotState::default(); sc.bots.len()],
            now: Time::ZERO,
            fresh: 0,
            arrivals: 0,
            outstanding: 0,
            window_open: false,
            arrivals_stopped: false,
            occ_start: (Span::ZERO, Span::ZERO),
            occ_end: None,
            out: Outcome {
                overall: Figures::default(),
                queues: vec![Figures::default(); sc.queues.len()],
                intervals: Vec::new(),
                calls_simulated: 0,
                outage: None,
                ivr: sc.ivr.as_ref().map(|_| IvrOutcome::new(sc.queues.len())),
            },
            end_time: None,
            outage: sc.outage.clone().map(OutageWatch::new),
        };
        if let Stop::Time { end, warmup } = sc.stop {
            r.end_time = Some(Time::from_secs_f64(end));
            r.window_open = warmup <= 0.0;
        } else if let Stop::Calls { warmup: 0, .. } = sc.stop {
            r.window_open = true;
        }
        for (i, b) in sc.bots.iter().enumerate() {
            let i = i as u32;
            match b.shift {
                Some((s, e)) => {
                    r.schedule(Time::from_secs_f64(s), Event::ShiftStart(i));
                    r.schedule(Time::from_secs_f64(e), Event::ShiftEnd(i));
                }
                None => r.schedule(Time::ZERO, Event::ShiftStart(i)),
            }
            for &(s, e) in &b.breaks {
                r.schedule(Time::from_secs_f64(s), Event::BreakStart(i));
                r.schedule(Time::from_secs_f64(e), Event::BreakEnd(i));
            }
        }
        r.drain();
        r.next_fresh_arrival(0.0);
        if let Some(w) = &r.outage {
            let (start, tick) = (w.plan.start, w.tick());
            r.next_outage_call(start);
            r.schedule(Time::from_secs_f64(tick), Event::AreaTick);
        }
        r
    }

    /// Draw the outage's next extra fault call after `from` seconds.
    fn next_outage_call(&mut self, from: f64) {
        let Some(w) = &self.outage else { return };
        let (rate, end) = (w.plan.extra_rate, w.plan.end);
        if rate <= 0.0 {
            return;
        }
        let at = from + self.draw.exponential(1.0 / rate);
        if at < end {
            self.schedule(Time::from_secs_f64(at), Event::OutageCall);
        }
    }

    #[inline]
    fn schedule(&mut self, at: Time, ev: Event) {
        self.heap.push(at, ev);
    }

    /// Draw the next fresh arrival after `from` seconds (exact for a piecewise-constant
    /// rate: exponential gaps restart at each change of rate).
    fn next_fresh_arrival(&mut self, from: f64) {
        let mut t = from;
        for _ in 0..10_000 {
            let (rate, change) = self.sc.rate.at(t);
            if rate > 0.0 {
                let gap = self.draw.exponential(1.0 / rate);
                if t + gap < change {
                    self.heap.push_next(
                        Time::from_secs_f64(t + gap),
                        Event::Arrival { retrial: None },
                    );
                    return;
                }
            }
            t = change;
        }
    }

    /// Run to the end; `progress` is called now and then with calls simulated so far.
    pub fn run(mut self, progress: &mut dyn FnMut(u64)) -> Outcome {
        let mut tick = 0u32;
        while let Some((at, ev)) = self.heap.pop() {
            if let Some(end) = self.end_time {
                if at >= end && !self.arrivals_stopped {
                    self.arrivals_stopped = true;
                    self.close_window();
                }
                // drain what arrived before the end, at most four hours more
                if self.arrivals_stopped
                    && ((self.e.live_calls() == 0 && self.in_ivr() == 0)
                        || at > end + Span::from_secs(4 * 3600))
                {
                    break;
                }
            }
            self.now = at;
            self.handle(ev);
            self.drain();
            while let Some(i) = self.pending.pop_front() {
                // zero-delay reactions of bots and callers; a refusal is the bot's problem,
                // not the run's (e.g. the call ended in the same instant)
                let _ = self.e.handle(self.now, i);
                self.drain();
            }
            if let Stop::Calls { warmup, measured } = self.sc.stop {
                if self.fresh >= warmup + measured && self.outstanding == 0 {
                    break;
                }
            }
            tick += 1;
            if tick == 1 << 16 {
                tick = 0;
                progress(self.arrivals);
            }
        }
        if self.occ_end.is_none() {
            self.close_window();
        }
        let (b0, s0) = self.occ_start;
        let (b1, s1) = self.occ_end.unwrap_or(self.occ_start);
        self.out.overall.busy = Span(b1.0.saturating_sub(b0.0));
        self.out.overall.staffed = Span(s1.0.saturating_sub(s0.0));
        self.out.calls_simulated = self.arrivals;
        self.out.outage = self.outage.map(|w| w.out);
        progress(self.arrivals);
        self.out
    }

    fn agent_time(&self) -> (Span, Span) {
        let mut busy = Span::ZERO;
        let mut staffed = Span::ZERO;
        for a in 0..self.e.agent_count() {
            if let Ok(s) = self.e.agent_snapshot(AgentId(a as u32)) {
                busy += s.total.busy();
                staffed += s.total.staffed();
            }
        }
        (busy, staffed)
    }

    fn open_window(&mut self) {
        self.window_open = true;
        self.occ_start = self.agent_time();
    }

    fn close_window(&mut self) {
        if self.occ_end.is_none() {
            self.occ_end = Some(self.agent_time());
        }
        self.window_open = false;
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Arrival { retrial } => self.arrival(retrial, retrial.is_none()),
            Event::OutageCall => {
                let now = self.now.as_secs_f64();
                self.next_outage_call(now);
                if let Some(reason) = self.outage.as_ref().map(|w| w.plan.reason) {
                    let segment = pick(&self.sc.segment_cdf, &mut self.draw) as u8;
                    self.arrival(Some((reason, segment, 0)), true);
                }
            }
            Event::Ivr(slot, step) => self.ivr_step(slot, step),
            Event::AreaTick => {
                let now = self.now.as_secs_f64();
                if let Some(w) = &mut self.outage {
                    w.judge(now);
                    let next = self.now + Span::from_secs_f64(w.tick());
                    if !self.arrivals_stopped {
                        self.schedule(next, Event::AreaTick);
                    }
                }
            }
            Event::Abandon(call) => {
                let gone = matches!(
                    self.e.call_place(call),
                    Some(
                        CallPlace::Waiting {
                            callback: false,
                            ..
                        } | CallPlace::Offered { .. }
                    )
                );
                if gone && self.e.handle(self.now, Input::CallerHangUp(call)).is_ok() {
                    let c = self.callers[call.slot()];
                    if self.sc.retrial_probability > 0.0
                        && self.rng.chance(self.sc.retrial_probability)
                    {
                        let delay = self.sc.retrial_delay.sample(&mut self.rng);
                        self.schedule(
                            self.now + Span::from_secs_f64(delay),
                            Event::Arrival {
                                retrial: Some((c.reason, c.segment, c.area)),
                            },
                        );
                    }
                }
            }
            Event::Answer(a, call) => {
                if matches!(self.e.agent_state(a), Ok(AgentState::Reserved { call: c, .. }) if c == call)
                {
                    let _ = self.e.handle(self.now, Input::Answer(a));
                }
            }
            Event::HangUp(a, call) => {
                if matches!(self.e.agent_state(a), Ok(AgentState::Connected { call: c, .. }) if c == call)
                {
                    let _ = self.e.handle(self.now, Input::HangUp(a));
                }
            }
            Event::FinishWrap(a, call) => {
                if matches!(self.e.agent_state(a), Ok(AgentState::AfterCallWork { call: c, .. }) if c == call)
                {
                    let _ = self.e.handle(self.now, Input::FinishWrapUp(a));
                }
            }
            Event::Timer(t) => {
                let _ = self.e.handle(self.now, Input::TimerFired(t));
            }
            Event::ShiftStart(i) => {
                let a = AgentId(i);
                self.bots[i as usize] = BotState {
                    on_shift: true,
                    ..BotState::default()
                };
                if self.e.handle(self.now, Input::Login(a)).is_ok() {
                    let _ = self.e.handle(self.now, Input::Ready(a));
                }
            }
            Event::ShiftEnd(i) => {
                let a = AgentId(i);
                self.bots[i as usize].shift_over = true;
                self.bots[i as usize].on_shift = false;
                match self.e.agent_state(a) {
                    Ok(AgentState::Ready | AgentState::NotReady(_)) => {
                        let _ = self.e.handle(self.now, Input::Logout(a));
                    }
                    // busy: go not ready after the call, then log out (see drain)
                    Ok(_) => {
                        let _ = self.e.handle(self.now, Input::NotReady(a, END_OF_SHIFT));
                    }
                    Err(_) => {}
                }
            }
            Event::BreakStart(i) => {
                let b = &mut self.bots[i as usize];
                if b.on_shift && !b.shift_over {
                    b.on_break = true;
                    let _ = self.e.handle(self.now, Input::NotReady(AgentId(i), BREAK));
                }
            }
            Event::BreakEnd(i) => {
                let b = &mut self.bots[i as usize];
                if b.on_break && !b.shift_over {
                    b.on_break = false;
                    let _ = self.e.handle(self.now, Input::Ready(AgentId(i)));
                }
            }
        }
    }

    /// A call arrives: a fresh one (`retrial` none), a caller calling again, or an
    /// outage's extra fault call. `exogenous` calls draw from the stream that does not
    /// depend on how calls are served.
    fn arrival(&mut self, retrial: Option<(u16, u8, u32)>, exogenous: bool) {
        let (reason, segment, area) = match retrial {
            Some(rs) => rs,
            None => {
                if self.arrivals_stopped {
                    return;
                }
                self.fresh += 1;
                if let Stop::Calls { warmup, measured } = self.sc.stop {
                    if self.fresh == warmup + 1 && !self.window_open {
                        self.open_window();
                    }
                    if self.fresh == warmup + measured + 1 {
                        self.close_window();
                    }
                } else if let Stop::Time { warmup, .. } = self.sc.stop {
                    if !self.window_open
                        && self.occ_end.is_none()
                        && self.now.as_secs_f64() >= warmup
                    {
                        self.open_window();
                    }
                }
                let next_from = self.now.as_secs_f64();
                self.next_fresh_arrival(next_from);
                (
                    pick(&self.sc.reason_cdf, &mut self.draw) as u16,
                    pick(&self.sc.segment_cdf, &mut self.draw) as u8,
                    NO_AREA,
                )
            }
        };
        self.arrivals += 1;
        let rng = if exogenous {
            &mut self.draw
        } else {
            &mut self.rng
        };
        let area = match &self.outage {
            Some(w) if reason == w.plan.reason && area == NO_AREA => {
                rng.below(w.plan.areas as u64) as u32
            }
            _ => area,
        };
        let patience = self.sc.patience.sample(rng);
        let measured = self.window_open;
        if self.ivr.is_some() {
            let seed = rng.next_u64();
            let told = area != NO_AREA && self.told(area);
            return self.ivr_arrive(reason, segment, area, told, patience, measured, seed);
        }
        if area != NO_AREA && self.told(area) {
            if let Some(w) = &mut self.outage {
                w.told();
            }
            if self.deflected(reason) {
                return;
            }
        }
        let r = &self.sc.reasons[reason as usize];
        let s = &self.sc.segments[segment as usize];
        let queue = s.queue.unwrap_or(r.queue);
        if measured {
            self.outstanding += 1;
        }
        self.enter_queue(
            (reason, segment, area),
            (queue, s.priority),
            patience,
            measured,
        );
    }

    /// The call joins `queue` with `priority`; the caller's patience runs from now.
    fn enter_queue(
        &mut self,
        (reason, segment, area): (u16, u8, u32),
        (queue, priority): (usize, u8),
        patience: f64,
        measured: bool,
    ) {
        let tag = reason as u64 | (segment as u64) << 16 | if measured { TAG_MEASURED } else { 0 };
        let spec = CallSpec {
            queue: QueueId(queue as u32),
            priority,
            preferred_agent: None,
            tag,
        };
        let Ok(id) = self.e.arrive(self.now, spec) else {
            if measured {
                self.outstanding = self.outstanding.saturating_sub(1);
            }
            return;
        };
        let slot = id.slot();
        if slot >= self.callers.len() {
            self.callers.resize(
                slot + 1,
                Caller {
                    id,
                    reason: 0,
                    segment: 0,
                    area: NO_AREA,
                    patience_at: Time::ZERO,
                    abandon_set: false,
                },
            );
        }
        self.callers[slot] = Caller {
            id,
            reason,
            segment,
            area,
            patience_at: if patience.is_finite() {
                self.now + Span::from_secs_f64(patience)
            } else {
                Time(u64::MAX)
            },
            abandon_set: false,
        };
    }

    fn in_ivr(&self) -> usize {
        self.ivr_callers.len() - self.ivr_free.len()
    }

    /// A call enters the IVR.
    #[allow(clippy::too_many_arguments)]
    fn ivr_arrive(
        &mut self,
        reason: u16,
        segment: u8,
        area: u32,
        told: bool,
        patience: f64,
        measured: bool,
        seed: u64,
    ) {
        let sc = self.sc;
        let Some(plan) = self.ivr.clone() else { return };
        let plan = &*plan;
        let mut rng = Rng::seeded(seed);
        let key_account = sc.segments[segment as usize].queue.is_some();
        let mind = Mind {
            behaviour: plan.behaviour(reason, segment),
            at_first_menu: true,
            english: rng.chance(plan.english),
            will_notify: told
                && self
                    .outage
                    .as_ref()
                    .is_some_and(|w| rng.chance(w.plan.told_hang_up)),
            ..Mind::default()
        };
        let mut said = std::mem::take(&mut self.ivr_said);
        let session = Session::start_quiet(&plan.flow, self.ivr_ms(), key_account, &mut said);
        if measured {
            self.outstanding += 1;
        }
        let slot = match self.ivr_free.pop() {
            Some(s) => s,
            None => {
                self.ivr_callers.push(None);
                (self.ivr_callers.len() - 1) as u32
            }
        };
        let mut c = IvrCaller {
            session,
            rng,
            mind,
            reason,
            segment,
            area,
            measured,
            told,
            entered: self.now,
            patience,
            exit: IvrExit::HungUp,
            priority: 0,
            tried: None,
            asked: self.now,
        };
        let (at, step, heard) = play(plan, &mut c, self.now, &mut said);
        self.ivr_said = said;
        self.ivr_callers[slot as usize] = Some(c);
        self.ivr_next(slot, at, step, heard);
    }

    /// Schedule a caller's next step in the IVR; `heard` an incident's message.
    fn ivr_next(&mut self, slot: u32, at: Time, step: Step, heard: bool) {
        if heard {
            if let Some(w) = &mut self.outage {
                w.told();
            }
        }
        self.schedule(at, Event::Ivr(slot, step));
    }

    /// The virtual clock as the flow reads it (ms since the Unix epoch; the run's 00:00
    /// is local midnight).
    fn ivr_ms(&self) -> u64 {
        self.ivr.as_ref().map_or(0, |p| p.clock_ms(self.now))
    }

    /// A caller in the IVR acts (or leaves).
    fn ivr_step(&mut self, slot: u32, step: Step) {
        let Some(plan) = self.ivr.clone() else { return };
        let plan = &*plan;
        let input = match step {
            Step::Key(k) => IvrInput::Key(k),
            Step::Number => IvrInput::Digits("20261204#".into()),
            Step::Timeout => IvrInput::Timeout,
            Step::Served(true) => IvrInput::ServiceDone(Ok(Vec::new())),
            Step::Served(false) => IvrInput::ServiceDone(Err("no record found".into())),
            Step::HangUp | Step::Leave => {
                let Some(mut c) = self
                    .ivr_callers
                    .get_mut(slot as usize)
                    .and_then(Option::take)
                else {
                    return;
                };
                if step == Step::HangUp {
                    c.exit = IvrExit::HungUp;
                }
                return self.ivr_leave(slot, c);
            }
        };
        let now = self.now;
        let Some(Some(c)) = self.ivr_callers.get_mut(slot as usize) else {
            return;
        };
        c.asked = now;
        let said = &mut self.ivr_said;
        c.session.handle_into(plan.clock_ms(now), input, said);
        let (at, step, heard) = play(plan, c, now, said);
        self.ivr_next(slot, at, step, heard);
    }

    /// A caller leaves the IVR: counted, then queued, or gone.
    fn ivr_leave(&mut self, slot: u32, c: IvrCaller) {
        self.ivr_free.push(slot);
        let exit = c.exit;
        if c.measured {
            let len = self.sc.interval.0.max(1);
            let now = self.now;
            let f = self.interval(Time(now.0 / len * len), Time(now.0 / len * len + len));
            f.ivr_calls += 1;
            f.ivr_contained += u64::from(exit == IvrExit::Contained);
            if let Some(o) = &mut self.out.ivr {
                c.session.route_into(&mut self.ivr_route);
                o.count(
                    &self.ivr_route,
                    c.tried,
                    exit,
                    self.now.since(c.entered).as_secs_f64(),
                );
            }
        }
        if c.tried == Some(Service::OutageNotify) && exit == IvrExit::Contained {
            let r = &self.sc.reasons[c.reason as usize];
            let saved = r.handle.sample(&mut self.rng) + r.wrap_up.sample(&mut self.rng);
            if let Some(w) = &mut self.outage {
                w.deflected(saved);
            }
        }
        match exit {
            IvrExit::ToQueue(q) => self.enter_queue(
                (c.reason, c.segment, c.area),
                (q, c.priority),
                c.patience,
                c.measured,
            ),
            _ => {
                if c.measured {
                    self.outstanding = self.outstanding.saturating_sub(1);
                }
            }
        }
    }

    /// A fault call from 小区 `area` is reported to the outage watch: whether an incident
    /// is declared there (so the caller can be told).
    fn told(&mut self, area: u32) -> bool {
        let now = self.now.as_secs_f64();
        self.outage
            .as_mut()
            .is_some_and(|w| w.fault_call(now, area))
    }

    /// A caller told of the incident who hangs up never reaches a queue (true).
    fn deflected(&mut self, reason: u16) -> bool {
        let Some(w) = &mut self.outage else {
            return false;
        };
        if !self.rng.chance(w.plan.told_hang_up) {
            return false;
        }
        let r = &self.sc.reasons[reason as usize];
        let saved = r.handle.sample(&mut self.rng) + r.wrap_up.sample(&mut self.rng);
        w.deflected(saved);
        true
    }

    /// The caller's patience runs from arrival; arm it the first time the call waits.
    fn arm_patience(&mut self, call: CallId) {
        let c = &mut self.callers[call.slot()];
        if c.id != call || c.abandon_set || c.patience_at == Time(u64::MAX) {
            return;
        }
        c.abandon_set = true;
        let at = c.patience_at.max(self.now);
        self.schedule(at, Event::Abandon(call));
    }

    fn drain(&mut self) {
        while let Some(a) = self.e.poll_action() {
            match a {
                Action::StartTimer { timer, at } => self.schedule(at, Event::Timer(timer)),
                Action::Queued { call, .. } | Action::Requeued { call, .. } => {
                    self.arm_patience(call)
                }
                Action::OfferCallback { call, .. }
                    if self.sc.callback_acceptance > 0.0
                        && self.rng.chance(self.sc.callback_acceptance) =>
                {
                    self.pending.push_back(Input::AcceptCallback(call));
                }
                Action::Offer { call, agent, .. } => {
                    let delay = self.sc.bots[agent.0 as usize]
                        .answer_delay
                        .sample(&mut self.rng);
                    if delay <= 0.0 {
                        self.pending.push_back(Input::Answer(agent));
                    } else {
                        self.schedule(
                            self.now + Span::from_secs_f64(delay),
                            Event::Answer(agent, call),
                        );
                    }
                }
                Action::Connected { call, agent } => {
                    let reason = self.callers[call.slot()].reason as usize;
                    let talk = self.sc.reasons[reason].handle.sample(&mut self.rng);
                    self.schedule(
                        self.now + Span::from_secs_f64(talk),
                        Event::HangUp(agent, call),
                    );
                }
                Action::ConversationEnded { call, agent, .. } => {
                    let q = match self.e.call_place(call) {
                        Some(CallPlace::WrapUp { queue, .. }) => queue.0 as usize,
                        _ => continue,
                    };
                    if self.sc.bot_wraps[q] {
                        let reason = self.callers[call.slot()].reason as usize;
                        let w = self.sc.reasons[reason].wrap_up.sample(&mut self.rng);
                        self.schedule(
                            self.now + Span::from_secs_f64(w),
                            Event::FinishWrap(agent, call),
                        );
                    }
                }
                Action::AgentState {
                    agent,
                    state: AgentStateKind::NotReady,
                    reason: Some(r),
                } => {
                    if r == END_OF_SHIFT || self.bots[agent.0 as usize].shift_over {
                        self.pending.push_back(Input::Logout(agent));
                    } else if (r == ReasonCode::RONA || r == ReasonCode::REJECTED)
                        && !self.bots[agent.0 as usize].on_break
                    {
                        // ring-no-answer or a reject: the bot goes ready again
                        self.pending.push_back(Input::Ready(agent));
                    }
                }
                Action::CallEnded(rec) => self.record(&rec),
                Action::QueueIntervalClosed(iv) => {
                    let f = self.interval(iv.start, iv.end);
                    f.tally.merge(&iv.tally);
                }
                Action::AgentIntervalClosed(iv) => {
                    let f = self.interval(iv.start, iv.end);
                    f.busy += iv.tally.busy();
                    f.staffed += iv.tally.staffed();
                }
                _ => {}
            }
        }
    }

    fn interval(&mut self, start: Time, end: Time) -> &mut IntervalFigures {
        let len = self.sc.interval.0.max(1);
        let idx = (start.0 / len) as usize;
        if idx >= self.out.intervals.len() {
            self.out
                .intervals
                .resize(idx + 1, IntervalFigures::default());
        }
        let f = &mut self.out.intervals[idx];
        f.start = start.as_secs_f64();
        f.end = end.as_secs_f64();
        f
    }

    fn record(&mut self, rec: &CallRecord) {
        if rec.tag & TAG_MEASURED == 0 {
            return;
        }
        self.outstanding = self.outstanding.saturating_sub(1);
        let q = rec.queue.0 as usize;
        let th = self.sc.queues[q].thresholds;
        for f in [&mut self.out.overall, &mut self.out.queues[q]] {
            let t = &mut f.tally;
            match rec.end {
                EndReason::RefusedNoAgents | EndReason::RefusedQueueFull => {
                    t.refused += 1;
                    continue;
                }
                _ => t.on_offered(),
            }
            if rec.answered.is_some() {
                t.on_answered(rec.wait, &th);
                t.on_handled(rec.talk, rec.hold, rec.wrap_up);
            } else {
                t.on_abandoned(rec.wait, &th);
            }
            if rec.first_offered != Some(rec.arrived) {
                f.waited += 1;
            }
            if rec.callback {
                t.callbacks_accepted += 1;
            }
            t.requeued += rec.requeues as u64;
        }
    }
}

fn pick(cdf: &[f64], rng: &mut Rng) -> usize {
    if cdf.len() == 1 {
        return 0;
    }
    let u = rng.uniform();
    cdf.iter().position(|c| u < *c).unwrap_or(cdf.len() - 1)
}
