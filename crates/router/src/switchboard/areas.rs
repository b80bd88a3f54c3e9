//! The switchboard's watch on areas (小区): each fault call from a customer the store
//! knows is reported once to the outage detector with the caller's district and 小区,
//! the detector is judged on the switchboard's own timer, and what it finds goes to the
//! driver as [`Out::Area`]. Like the rest of the switchboard it takes its time from its
//! inputs, so a simulated day and a standby replaying the log see the same alarms.

use super::{CallNo, Out, Switchboard, TimerKey};
use hotline_outage::{Area, Detector};
use hotline_store::Millis;

impl Switchboard {
    /// Watch the areas with `detector` from `now` (its baseline may come later, as
    /// [`In::AreaBaseline`](super::In::AreaBaseline)).
    pub fn watch_areas(&mut self, detector: Detector, now: Millis) {
        let at = now + detector.config().tick();
        self.areas = Some(detector);
        self.out.push_back(Out::StartTimer {
            key: TimerKey::Areas,
            at,
        });
    }

    /// The window the areas' calls are counted over, ms (`None`: not watched).
    pub fn area_window(&self) -> Option<Millis> {
        self.areas.as_ref().map(|d| d.config().window())
    }

    /// The areas with a fault-surge alarm standing.
    pub fn alarmed_areas(&self) -> Vec<Area> {
        self.areas
            .as_ref()
            .map(|d| d.alarmed().cloned().collect())
            .unwrap_or_default()
    }

    /// Call `call` is about a fault (`what`: what the alarm's top list counts it as):
    /// count it for its caller's area, once per call, when the caller is known.
    pub(super) fn fault_call(&mut self, call: CallNo, now: Millis, what: &str) {
        let Some(detector) = &mut self.areas else {
            return;
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(pop) = &c.pop else { return };
        if c.fault_reported {
            return;
        }
        c.fault_reported = true;
        let area = Area::new(&pop.customer.district, &pop.customer.area);
        detector.report(now, &area, what);
    }

    /// Judge the areas now, and again a tick later.
    pub(super) fn judge_areas(&mut self, now: Millis) {
        let Some(detector) = &mut self.areas else {
            return;
        };
        for e in detector.tick(now) {
            self.out.push_back(Out::Area(e));
        }
        let at = now + detector.config().tick();
        self.out.push_back(Out::StartTimer {
            key: TimerKey::Areas,
            at,
        });
    }
}
