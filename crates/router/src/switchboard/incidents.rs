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
    let local = |ms: Millis| {
        let zone = jiff::tz::Offset::from_seconds(utc_offset_minutes.saturating_mul(60))
            .unwrap_or(jiff::tz::Offset::UTC);
        jiff::Timestamp::from_millisecond(i64::try_from(ms).unwrap_or(i64::MAX))
            .ok()
            .map(|t| t.to_zoned(jiff::tz::TimeZone::fixed(zone)))
    };
    let (Some(when), Some(today)) = (local(at), local(now)) else {
        return String::new();
    };
    if at <= now {
        return match lang {
            Lang::Zh => "稍后".into(),
            Lang::En => "shortly".into(),
        };
    }
    let clock = when.strftime("%H:%M").to_string();
    if when.date() == today.date() {
        return clock;
    }
    match lang {
        Lang::Zh => format!("{}月{}日 {clock}", when.month(), when.day()),
        Lang::En => format!("{} {clock}", when.strftime("%-d %b")),
    }
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
    }
}
