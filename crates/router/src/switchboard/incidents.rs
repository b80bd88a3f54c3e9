//! The switchboard's view of area incidents (区域障碍): the open ones, as the driver
//! sends them ([`In::Incidents`](super::In::Incidents)), told to a caller of the area at
//! the flow's outage node — with the incident's message and expected restore time in the
//! call's language — and shown to the agent with the offer. A caller told of one counts
//! as a fault call of the area. The time comes from the inputs, so a simulated day and a
//! standby replaying the log hear the same.

use super::{CallNo, SwitchError, Switchboard};
use hotline_catalog::codes::FAULT_GROUP;
use hotline_ivr::{Input as IvrInput, Lang, Session};
use hotline_store::{Incident, Millis, ScreenPop};

impl Switchboard {
    /// The open incidents the switchboard knows.
    pub fn open_incidents(&self) -> &[Incident] {
        &self.incidents
    }

    /// The open incident of the customer's 小区 (the earliest declared, if several).
    pub(super) fn incident_of(&self, pop: Option<&ScreenPop>) -> Option<&Incident> {
        let c = &pop?.customer;
        self.incidents
            .iter()
            .filter(|i| i.is_open() && i.covers(&c.district, &c.area))
            .min_by_key(|i| i.id)
    }

    /// Answer the flow's outage node for `call`: the incident of the caller's area, if
    /// one is open, or none (an unknown caller has no area).
    pub(super) fn tell_outage(&mut self, call: CallNo, now: Millis) -> Result<(), SwitchError> {
        let c = self
            .calls
            .get(&call)
            .ok_or(SwitchError::UnknownCall(call))?;
        let lang = c.ivr.as_ref().map_or(Lang::Zh, Session::language);
        let offset = self.flow.file().hours.utc_offset_minutes;
        let news = self.incident_of(c.pop.as_deref()).map(|i| {
            vec![
                (
                    "message".to_string(),
                    match lang {
                        Lang::Zh => i.message.zh.clone(),
                        Lang::En => i.message.en.clone(),
                    },
                ),
                (
                    "restore".to_string(),
                    restore_words(i.expected_restore, now, offset, lang),
                ),
                ("incident".to_string(), i.id.to_string()),
            ]
        });
        if news.is_some() {
            self.fault_call(call, now, FAULT_GROUP);
        }
        self.ivr_input(call, now, IvrInput::Outage(news))
    }
}

/// An expected restore time as a caller hears it: the local time, with the date when it
/// is not today ("14:30", "12月4日 09:00" / "4 Dec 09:00"); "shortly" once it has passed.
pub fn restore_words(at: Millis, now: Millis, utc_offset_minutes: i32, lang: Lang) -> String {
    if at <= now {
        return match lang {
            Lang::Zh => "稍后".into(),
            Lang::En => "shortly".into(),
        };
    }
    let local = |ms: Millis| (ms / 60_000) as i64 + i64::from(utc_offset_minutes);
    let (at_min, now_min) = (local(at), local(now));
    let day = |m: i64| m.div_euclid(24 * 60);
    let clock = format!(
        "{:02}:{:02}",
        at_min.rem_euclid(24 * 60) / 60,
        at_min.rem_euclid(60)
    );
    if day(at_min) == day(now_min) {
        return clock;
    }
    let (_, month, dom) = civil(day(at_min));
    match lang {
        Lang::Zh => format!("{month}月{dom}日 {clock}"),
        Lang::En => {
            const MONTHS: [&str; 12] = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            format!("{dom} {} {clock}", MONTHS[(month - 1) as usize])
        }
    }
}

/// Year, month (1–12) and day of the month of a day counted from 1970-01-01 (Howard
/// Hinnant's civil-from-days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-03 10:00 in Beijing (02:00 UTC).
    const NOW: Millis = 1_796_263_200_000;

    #[test]
    fn restore_times_read_as_callers_say_them() {
        let hour = 3_600_000;
        assert_eq!(
            restore_words(NOW + 4 * hour + 1_800_000, NOW, 480, Lang::Zh),
            "14:30"
        );
        assert_eq!(
            restore_words(NOW + 23 * hour, NOW, 480, Lang::Zh),
            "12月4日 09:00"
        );
        assert_eq!(
            restore_words(NOW + 23 * hour, NOW, 480, Lang::En),
            "4 Dec 09:00"
        );
        assert_eq!(restore_words(NOW - 1, NOW, 480, Lang::En), "shortly");
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(20_789), (2026, 12, 2));
    }
}
