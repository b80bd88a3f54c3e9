//! A caller in the simulated IVR: what they are, where they stand, and how the IVR's
//! words play out on the virtual clock into their next step (a key, a number, silence,
//! a hang-up, a self-service answer, leaving for a queue).

use crate::ivr::{Choice, IvrPlan, Mind};
use crate::ivr_report::IvrExit;
use hotline_acd::rng::Rng;
use hotline_acd::{Span, Time};
use hotline_ivr::{Action as IvrAction, Input as IvrInput, Service, Session};

/// What a caller in the IVR does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Presses this key.
    Key(u8),
    /// Types a number and `#`.
    Number,
    /// The wait for digits runs out.
    Timeout,
    /// The self-service answers (found or not).
    Served(bool),
    /// Hangs up.
    HangUp,
    /// Leaves the IVR the way it said (the last prompt has played).
    Leave,
}

/// A caller in the IVR.
#[derive(Debug)]
pub(crate) struct IvrCaller {
    pub(crate) session: Session,
    /// The caller's own stream (the same caller behaves the same under another menu).
    pub(crate) rng: Rng,
    pub(crate) mind: Mind,
    pub(crate) reason: u16,
    pub(crate) segment: u8,
    pub(crate) area: u32,
    pub(crate) measured: bool,
    pub(crate) told: bool,
    pub(crate) entered: Time,
    pub(crate) patience: f64,
    /// How it leaves the IVR (hung up until the flow says otherwise).
    pub(crate) exit: IvrExit,
    /// The priority the flow gives it in the queue it leaves for.
    pub(crate) priority: u8,
    pub(crate) tried: Option<Service>,
    /// Time of the session's last input (its `Collect` deadlines count from it).
    pub(crate) asked: Time,
}

/// Play out what the IVR said at `now` and choose the caller's next step: prompts take
/// their time, the caller answers a menu from its end (or during it, when their choice
/// is announced). Returns when and what, and whether the caller heard an incident's
/// message on the way.
pub(crate) fn play(
    plan: &IvrPlan,
    c: &mut IvrCaller,
    now: Time,
    work: &mut Vec<IvrAction>,
) -> (Time, Step, bool) {
    let mut heard_incident = false;
    let mut cursor = now;
    let mut last_say = (cursor, Span::ZERO);
    let mut i = 0;
    while i < work.len() {
        let a = std::mem::replace(&mut work[i], IvrAction::SurveyAnswer(0));
        i += 1;
        let at = match a {
            IvrAction::Say { node, millis, .. } => {
                let length = Span::from_millis(millis as u64);
                last_say = (cursor, length);
                cursor = cursor + length;
                if !plan.information.is_empty() {
                    plan.heard(&node, &mut c.mind, &mut c.rng);
                }
                continue;
            }
            IvrAction::Collect { until, .. } => {
                let asked = plan.clock_ms(c.asked);
                let timeout = Span::from_millis(until.saturating_sub(asked));
                let english = c.session.language() == hotline_ivr::Lang::En;
                let node = c.session.at_index();
                match plan.choose(node, english, &mut c.mind, &mut c.rng) {
                    Choice::Key { key, heard, after } => {
                        let heard = Span::from_secs_f64(last_say.1.as_secs_f64() * heard);
                        let at = last_say.0 + heard + Span::from_secs_f64(after);
                        if at < cursor + timeout {
                            (at, Step::Key(key))
                        } else {
                            (cursor + timeout, Step::Timeout)
                        }
                    }
                    Choice::Number { after } => {
                        let after = Span::from_secs_f64(after);
                        if after < timeout {
                            (cursor + after, Step::Number)
                        } else {
                            (cursor + timeout, Step::Timeout)
                        }
                    }
                    Choice::Silence => (cursor + timeout, Step::Timeout),
                    Choice::HangUp { share } => (
                        last_say.0 + Span::from_secs_f64(last_say.1.as_secs_f64() * share),
                        Step::HangUp,
                    ),
                }
            }
            IvrAction::SelfService { service, .. } => {
                c.tried = Some(service);
                let (ok, seconds) = plan.serve(service, &mut c.mind, &mut c.rng);
                (cursor + Span::from_secs_f64(seconds), Step::Served(ok))
            }
            IvrAction::Queue {
                queue, priority, ..
            } => {
                c.exit = IvrExit::ToQueue(plan.queue(&queue).unwrap_or(0));
                c.priority = priority;
                (cursor, Step::Leave)
            }
            IvrAction::Outage { .. } => {
                heard_incident |= c.told;
                let news = c.told.then(|| {
                    vec![
                        ("message".to_string(), "光缆中断".to_string()),
                        ("restore".to_string(), "18:00".to_string()),
                        ("incident".to_string(), "1".to_string()),
                    ]
                });
                c.asked = cursor;
                c.session
                    .handle_into(plan.clock_ms(cursor), IvrInput::Outage(news), work);
                continue;
            }
            IvrAction::SurveyAnswer(_) => continue,
            IvrAction::Hangup { finished_in_ivr } => {
                c.exit = if finished_in_ivr {
                    IvrExit::Contained
                } else {
                    IvrExit::HungUp
                };
                (cursor, Step::Leave)
            }
        };
        work.clear();
        return (at.0, at.1, heard_incident);
    }
    work.clear();
    // the flow asked nothing more of the caller: they hang up
    c.exit = IvrExit::HungUp;
    (cursor, Step::Leave, heard_incident)
}
