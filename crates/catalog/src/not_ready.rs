//! Why an agent is not ready (示忙原因): the routing engine's own codes (below 16) and
//! those an agent may choose (16 and up). The router checks requests against this list,
//! and the reports name the codes with it.

/// One not-ready reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotReadyReason {
    /// The code the engine counts time under.
    pub code: u16,
    /// Words in English.
    pub en: &'static str,
    /// Words in Chinese.
    pub zh: &'static str,
}

impl NotReadyReason {
    /// An agent may ask for it (a supervisor may also set code 3).
    pub fn chosen_by_agent(&self) -> bool {
        self.code >= 16
    }
}

/// A break (小休).
pub const BREAK: u16 = 16;
/// The end of the agent's shift (下班).
pub const END_OF_SHIFT: u16 = 17;
/// Training (培训).
pub const TRAINING: u16 = 18;

/// Every reason the router knows.
pub const REASONS: [NotReadyReason; 7] = [
    reason(0, "logged in", "刚登录"),
    reason(1, "no answer", "未接听"),
    reason(2, "rejected a call", "拒接来电"),
    reason(3, "set by a supervisor", "班长置忙"),
    reason(BREAK, "break", "小休"),
    reason(END_OF_SHIFT, "end of shift", "下班"),
    reason(TRAINING, "training", "培训"),
];

const fn reason(code: u16, en: &'static str, zh: &'static str) -> NotReadyReason {
    NotReadyReason { code, en, zh }
}

/// The reason with `code`, if the router knows it.
pub fn reason_of(code: u16) -> Option<&'static NotReadyReason> {
    REASONS.iter().find(|r| r.code == code)
}
