//! 回访 call-backs as routed work. A resolved ticket becomes a task in the call-back
//! queue, offered through the same engine as inbound calls — to the ticket's owner first
//! (首问负责: the engine holds it for them as preferred agent; a task whose owner is not
//! logged in waits for them up to the policy's time), then to any agent of the queue.
//! Accepting the offer dials the customer: their telephone rings (`Out::RingCustomer`)
//! until it is answered or rings out. The agent's wrap-up says what came of it, recorded
//! on the ticket by the store; no answer is tried again after the policy's spacing, and a
//! task that ends without an outcome (wrap-up timed out, no agent) is tried again as the
//! same attempt, so no resolved ticket is left without its call-back.

use super::{AgentEvent, Call, CallNo, CallerEvent, Out, SwitchError, Switchboard, TimerKey, us};
use hotline_acd::{self as acd, CallPlace, CallSpec, Input as EngineInput};
use hotline_store::{CallBackOutcome, CallBackRecord, Millis, ScreenPop, Ticket};

/// How the router routes 回访 call-backs (`[call_backs]` of router.toml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallBackPolicy {
    /// The queue call-back tasks wait in (its agents are the call-back group; its
    /// preferred-agent wait is how long a task is held for a busy owner).
    pub queue: String,
    /// Priority class of the tasks (inbound calls usually go first).
    pub priority: u8,
    /// Attempts before the ticket is closed as unreachable.
    pub attempts: u32,
    /// Time between attempts after no answer (ms).
    pub spacing: Millis,
    /// How long a task waits for an owner who is not logged in (ms).
    pub owner_wait: Millis,
    /// How long the customer's telephone rings (ms).
    pub ring: Millis,
    /// When a call-back is due after the resolution (ms), shown with the offer.
    pub due_after: Millis,
    /// The hotline's number the customer sees.
    pub from: String,
    /// Reason code of the call-back's record (统一编码).
    pub reason: String,
}

impl Default for CallBackPolicy {
    fn default() -> Self {
        CallBackPolicy {
            queue: "callback".into(),
            priority: 0,
            attempts: 3,
            spacing: 2 * 3_600_000,
            owner_wait: 15 * 60_000,
            ring: 30_000,
            due_after: 24 * 3_600_000,
            from: "1000".into(),
            reason: hotline_store::CALL_BACK_REASON.into(),
        }
    }
}

/// The customer's line during a call-back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerLine {
    /// Not dialled yet (or dialled again after the agent was lost).
    Idle,
    /// The telephone rings.
    Ringing,
    /// The customer answered.
    Answered,
    /// It rang out, or the customer turned it down.
    NoAnswer,
    /// The customer hung up after answering.
    HungUp,
}

/// A call-back task's part of its call.
#[derive(Debug)]
pub(super) struct CallBackJob {
    pub(super) ticket: Box<Ticket>,
    pub(super) attempt: u32,
    pub(super) due: Millis,
    pub(super) line: CustomerLine,
    /// The customer answered at some time during the task.
    pub(super) reached: bool,
    /// Its outcome was recorded (the wrap-up's ticket work was written).
    pub(super) recorded: bool,
}

impl Switchboard {
    /// Route resolved tickets' call-backs by `policy` (its queue must be one of the
    /// switchboard's).
    pub fn with_call_backs(mut self, policy: CallBackPolicy) -> Result<Self, SwitchError> {
        if !self.queue_ids.contains_key(&policy.queue) {
            return Err(SwitchError::UnknownQueue(policy.queue));
        }
        self.call_backs = Some(policy);
        Ok(self)
    }

    /// The call-back policy, if call-backs are routed.
    pub fn call_back_policy(&self) -> Option<&CallBackPolicy> {
        self.call_backs.as_ref()
    }

    /// Whether a call-back task for `ticket` is in the switchboard now.
    pub fn has_call_back(&self, ticket: u64) -> bool {
        self.calls
            .values()
            .any(|c| c.call_back.as_ref().is_some_and(|j| j.ticket.id == ticket))
    }

    pub(super) fn call_back_due(
        &mut self,
        now: Millis,
        call: CallNo,
        ticket: Box<Ticket>,
        number: String,
        pop: Option<Box<ScreenPop>>,
        attempt: u32,
    ) -> Result<(), SwitchError> {
        let Some(p) = self.call_backs.clone() else {
            return Ok(()); // call-backs are not routed here
        };
        if self.calls.contains_key(&call) {
            return Err(SwitchError::DuplicateCall(call));
        }
        if self.has_call_back(ticket.id) {
            return Ok(()); // told twice: one task per ticket
        }
        let mut c = Call::new(p.from.clone(), number, now, pop);
        c.caller_gone = true; // nobody is on the line until the customer answers
        c.reason = Some(p.reason.clone());
        c.queue = Some(p.queue.clone());
        c.priority = p.priority;
        c.ivr_ended = Some(now);
        c.tickets.push(ticket.id);
        let owner = ticket.owner.clone();
        c.call_back = Some(CallBackJob {
            due: ticket
                .history
                .last()
                .map_or(now, |h| h.at)
                .saturating_add(p.due_after),
            ticket,
            attempt: attempt.max(1),
            line: CustomerLine::Idle,
            reached: false,
            recorded: false,
        });
        self.calls.insert(call, c);
        match self.agent_ids.get(&owner).copied() {
            Some(a) if !self.logged_out(a) => self.send_to_queue(call, now, Some(a)),
            // an owner who is not logged in: wait for them a while
            Some(_) => {
                self.out.push_back(Out::StartTimer {
                    key: TimerKey::OwnerWait(call),
                    at: now.saturating_add(p.owner_wait),
                });
                Ok(())
            }
            // the ticket was opened by the IVR or by someone this router does not know
            None => self.send_to_queue(call, now, None),
        }
    }

    fn logged_out(&self, a: acd::AgentId) -> bool {
        matches!(
            self.engine.agent_state(a),
            Ok(acd::AgentState::LoggedOut) | Err(_)
        )
    }

    /// A task into the call-back queue, held for `owner` if given.
    fn send_to_queue(
        &mut self,
        call: CallNo,
        now: Millis,
        owner: Option<acd::AgentId>,
    ) -> Result<(), SwitchError> {
        let Some(p) = &self.call_backs else {
            return Ok(());
        };
        let q = *self
            .queue_ids
            .get(&p.queue)
            .ok_or_else(|| SwitchError::UnknownQueue(p.queue.clone()))?;
        let priority = p.priority;
        let e = self.engine.arrive(
            us(now),
            CallSpec {
                queue: q,
                priority,
                preferred_agent: owner,
                tag: call,
            },
        )?;
        if let Some(c) = self.calls.get_mut(&call) {
            c.engine = Some(e);
        }
        self.by_engine.insert(e, call);
        Ok(())
    }

    /// The owner did not log in in time: any agent of the queue may take it.
    pub(super) fn owner_wait_over(&mut self, call: CallNo, now: Millis) -> Result<(), SwitchError> {
        if self.calls.get(&call).is_some_and(|c| c.engine.is_none()) {
            self.send_to_queue(call, now, None)?;
        }
        Ok(())
    }

    /// An agent logged in: tasks waiting for them go to the queue, held for them.
    pub(super) fn owner_logged_in(&mut self, agent: &str, now: Millis) -> Result<(), SwitchError> {
        let Some(a) = self.agent_ids.get(agent).copied() else {
            return Ok(());
        };
        let mut waiting: Vec<CallNo> = self
            .calls
            .iter()
            .filter(|(_, c)| {
                c.engine.is_none()
                    && c.call_back
                        .as_ref()
                        .is_some_and(|j| j.ticket.owner == agent)
            })
            .map(|(no, _)| *no)
            .collect();
        waiting.sort_unstable();
        for call in waiting {
            self.send_to_queue(call, now, Some(a))?;
        }
        Ok(())
    }

    /// The agent accepted the task: dial the customer.
    pub(super) fn dial_customer(&mut self, call: CallNo, agent: &str, now: Millis) {
        let Some(p) = &self.call_backs else { return };
        let (from, ring) = (p.from.clone(), p.ring);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(job) = c.call_back.as_mut() else {
            return;
        };
        job.line = CustomerLine::Ringing;
        let ticket = job.ticket.id;
        self.out.push_back(Out::RingCustomer {
            call,
            from,
            to: c.to.clone(),
            ticket,
        });
        self.out.push_back(Out::StartTimer {
            key: TimerKey::CustomerRing(call),
            at: now.saturating_add(ring),
        });
        self.out.push_back(Out::Agent(
            agent.to_string(),
            AgentEvent::CustomerLine(call, CustomerLine::Ringing),
        ));
    }

    /// The agent connected to this call-back now, if any.
    fn call_back_agent(&self, call: CallNo) -> Option<String> {
        let e = self.calls.get(&call)?.engine?;
        match self.engine.call_place(e)? {
            CallPlace::Connected { agent, .. } => self.agent_names.get(agent.0 as usize).cloned(),
            _ => None,
        }
    }

    fn set_line(&mut self, call: CallNo, line: CustomerLine) {
        if let Some(job) = self.calls.get_mut(&call).and_then(|c| c.call_back.as_mut()) {
            job.line = line;
            if line == CustomerLine::Answered {
                job.reached = true;
            }
        }
        if let Some(agent) = self.call_back_agent(call) {
            self.out
                .push_back(Out::Agent(agent, AgentEvent::CustomerLine(call, line)));
        }
    }

    fn line(&self, call: CallNo) -> Option<CustomerLine> {
        self.calls.get(&call)?.call_back.as_ref().map(|j| j.line)
    }

    /// The customer picked up.
    pub(super) fn customer_answered(
        &mut self,
        call: CallNo,
        _now: Millis,
    ) -> Result<(), SwitchError> {
        if self.line(call) != Some(CustomerLine::Ringing) {
            return Err(SwitchError::NotRinging(call));
        }
        let agent = self.call_back_agent(call).unwrap_or_default();
        if let Some(c) = self.calls.get_mut(&call) {
            c.caller_gone = false;
        }
        self.set_line(call, CustomerLine::Answered);
        self.out
            .push_back(Out::Caller(call, CallerEvent::Connected(agent)));
        Ok(())
    }

    /// The telephone rang long enough.
    pub(super) fn ring_out(&mut self, call: CallNo) {
        if self.line(call) == Some(CustomerLine::Ringing) {
            self.set_line(call, CustomerLine::NoAnswer);
            self.out.push_back(Out::Caller(call, CallerEvent::RangOut));
        }
    }

    /// The customer's telephone hung up (or turned the ringing call down). Whether the
    /// input was a call-back's at all.
    pub(super) fn customer_hung_up(
        &mut self,
        call: CallNo,
        now: Millis,
    ) -> Result<bool, SwitchError> {
        let Some(line) = self.line(call) else {
            return Ok(false);
        };
        match line {
            CustomerLine::Ringing => self.set_line(call, CustomerLine::NoAnswer),
            CustomerLine::Answered => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.caller_gone = true;
                }
                self.set_line(call, CustomerLine::HungUp);
                let e = self.calls.get(&call).and_then(|c| c.engine);
                if let Some(e) = e {
                    if matches!(self.engine.call_place(e), Some(CallPlace::Connected { .. })) {
                        self.engine.handle(us(now), EngineInput::CallerHangUp(e))?;
                    }
                }
            }
            CustomerLine::Idle | CustomerLine::NoAnswer | CustomerLine::HungUp => {}
        }
        Ok(true)
    }

    /// The agent's conversation on a call-back ended: the customer's telephone is told.
    pub(super) fn call_back_conversation_ended(&mut self, call: CallNo) {
        // a telephone still ringing when the agent gave up was not answered
        let after = match self.line(call) {
            Some(CustomerLine::Ringing) => CustomerLine::NoAnswer,
            Some(line) => line,
            None => return,
        };
        self.release_customer(call, hotline_store::CallEnd::Completed, after);
    }

    /// The agent was lost during a call-back: the customer's telephone is released, and
    /// the task goes back to its queue to be dialled again.
    pub(super) fn call_back_requeued(&mut self, call: CallNo) {
        if self.line(call).is_some() {
            self.release_customer(call, hotline_store::CallEnd::Dropped, CustomerLine::Idle);
        }
    }

    /// The customer's telephone is done with this attempt: an answered line ends as
    /// `end`, a ringing one rings out; the line is left `after`.
    fn release_customer(&mut self, call: CallNo, end: hotline_store::CallEnd, after: CustomerLine) {
        match self.line(call) {
            Some(CustomerLine::Answered) => self
                .out
                .push_back(Out::Caller(call, CallerEvent::Ended(end))),
            Some(CustomerLine::Ringing) => {
                self.out.push_back(Out::Caller(call, CallerEvent::RangOut))
            }
            _ => {}
        }
        if let Some(c) = self.calls.get_mut(&call) {
            c.caller_gone = true;
            if let Some(j) = c.call_back.as_mut() {
                j.line = after;
            }
        }
    }

    /// A call-back wrap-up's outcome, checked against what happened on the line.
    pub(super) fn call_back_work(
        &self,
        call: Option<CallNo>,
        outcome: Option<CallBackOutcome>,
    ) -> Result<Option<CallBackRecord>, SwitchError> {
        let job = call.and_then(|no| self.calls.get(&no)?.call_back.as_ref());
        let no = call.unwrap_or_default();
        match (job, outcome) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(SwitchError::NotACallBack(no)),
            (Some(_), None) => Err(SwitchError::CallBackOutcomeMissing(no)),
            (Some(j), Some(outcome)) => {
                if let CallBackOutcome::Reached { satisfaction, .. } = outcome {
                    if !j.reached {
                        return Err(SwitchError::CustomerNotReached(no));
                    }
                    if !(1..=5).contains(&satisfaction) {
                        return Err(SwitchError::BadSatisfaction(satisfaction));
                    }
                }
                let attempts = self.call_backs.as_ref().map_or(1, |p| p.attempts);
                Ok(Some(CallBackRecord {
                    ticket: j.ticket.id,
                    outcome,
                    attempt: j.attempt,
                    attempts,
                }))
            }
        }
    }

    /// The outcome was written: after no answer, try again later.
    pub(super) fn call_back_recorded(
        &mut self,
        call: Option<CallNo>,
        retry: Option<u64>,
        now: Millis,
    ) {
        if let Some(j) = call
            .and_then(|no| self.calls.get_mut(&no))
            .and_then(|c| c.call_back.as_mut())
        {
            j.recorded = true;
        }
        if let (Some(ticket), Some(p)) = (retry, &self.call_backs) {
            self.out.push_back(Out::CallBackLater {
                ticket,
                at: now.saturating_add(p.spacing),
            });
        }
    }

    /// A call-back task is ending without an outcome on its ticket (its wrap-up timed
    /// out, it was turned away): the same attempt again later.
    pub(super) fn call_back_unfinished(&mut self, c: &Call, now: Millis) {
        let (Some(j), Some(p)) = (&c.call_back, &self.call_backs) else {
            return;
        };
        if !j.recorded {
            self.out.push_back(Out::CallBackLater {
                ticket: j.ticket.id,
                at: now.saturating_add(p.spacing),
            });
        }
    }

    /// What the agent's offer says about a call-back task.
    pub(super) fn call_back_offer(&self, c: &Call) -> Option<Box<super::CallBackOffer>> {
        let j = c.call_back.as_ref()?;
        Some(Box::new(super::CallBackOffer {
            ticket: (*j.ticket).clone(),
            attempt: j.attempt,
            attempts: self.call_backs.as_ref().map_or(1, |p| p.attempts),
            due: j.due,
            number: c.to.clone(),
        }))
    }
}

/// The retry a recorded outcome asks for: no answer with attempts left.
pub(super) fn retry_after(work: &CallBackRecord) -> Option<u64> {
    (work.outcome == CallBackOutcome::NoAnswer && work.attempt < work.attempts)
        .then_some(work.ticket)
}
