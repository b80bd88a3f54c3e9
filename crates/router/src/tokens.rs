//! Session tokens: issued at login, sent as `authorization: Bearer <token>`, revoked by
//! a newer login of the same agent, by logout and force logout, and expired after a
//! configurable time.

use hotline_store::{Millis, Role};
use std::collections::HashMap;
use std::sync::Mutex;

/// Who holds a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    /// Work number.
    pub agent: String,
    /// Role.
    pub role: Role,
}

#[derive(Debug)]
struct Held {
    who: Who,
    expires: Millis,
}

/// Why a token does not let its bearer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Never issued, or revoked (a newer login, logout).
    Unknown,
    /// Past its time.
    Expired,
}

/// The router's live tokens.
#[derive(Debug)]
pub struct Tokens {
    held: Mutex<HashMap<String, Held>>,
    /// How long a token lives.
    ttl: Millis,
}

fn fresh() -> String {
    use rand_core::RngCore;
    let mut b = [0u8; 24];
    rand_core::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Tokens {
    /// Tokens that live `ttl` milliseconds.
    pub fn new(ttl: Millis) -> Tokens {
        Tokens {
            held: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new token for `who`; the agent's earlier tokens are revoked (one login at a
    /// time), and expired ones are dropped.
    pub fn issue(&self, who: Who, now: Millis) -> String {
        let t = fresh();
        let mut held = self.lock();
        held.retain(|_, h| h.who.agent != who.agent && h.expires > now);
        held.insert(
            t.clone(),
            Held {
                who,
                expires: now.saturating_add(self.ttl),
            },
        );
        t
    }

    /// Who holds `token`, if it is live at `now`.
    pub fn check(&self, token: &str, now: Millis) -> Result<Who, Refused> {
        let mut held = self.lock();
        match held.get(token) {
            None => Err(Refused::Unknown),
            Some(h) if h.expires <= now => {
                held.remove(token);
                Err(Refused::Expired)
            }
            Some(h) => Ok(h.who.clone()),
        }
    }

    /// Revoke every token of `agent`.
    pub fn revoke_agent(&self, agent: &str) {
        self.lock().retain(|_, h| h.who.agent != agent);
    }

    /// Live tokens (for tests and the metrics).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// No live tokens.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(a: &str) -> Who {
        Who {
            agent: a.into(),
            role: Role::Agent,
        }
    }

    #[test]
    fn a_newer_login_revokes_the_older_token_and_tokens_expire() {
        let t = Tokens::new(1000);
        let a = t.issue(who("1001"), 0);
        let b = t.issue(who("1002"), 0);
        assert_eq!(t.check(&a, 10), Ok(who("1001")));
        let a2 = t.issue(who("1001"), 20);
        assert_eq!(t.check(&a, 30), Err(Refused::Unknown));
        assert_eq!(t.check(&a2, 30), Ok(who("1001")));
        assert_eq!(t.check(&b, 999), Ok(who("1002")));
        assert_eq!(t.check(&b, 1000), Err(Refused::Expired));
        t.revoke_agent("1001");
        assert_eq!(t.check(&a2, 40), Err(Refused::Unknown));
        assert!(t.is_empty());
    }
}
