//! Session tokens: issued at login, sent as `authorization: Bearer <token>`, revoked by
//! a newer login of the same agent, by logout and force logout, and expired after a
//! configurable time. Every token is also kept in the store (as a digest, never the
//! token), so a restarted router knows them: desktops resume their sessions with the
//! token they hold, without a password check.

use crate::convert::Labels;
use hotline_store::{Millis, Role, SessionToken, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Who holds a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    /// Work number.
    pub agent: String,
    /// Role.
    pub role: Role,
    /// The words their events carry (the login's language).
    pub labels: Labels,
}

#[derive(Debug)]
struct Held {
    who: Who,
    issued: Millis,
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

/// The router's live tokens, by digest.
pub struct Tokens {
    held: Mutex<HashMap<String, Held>>,
    /// How long a token lives.
    ttl: Millis,
    store: Arc<Store>,
}

fn fresh() -> String {
    use rand_core::RngCore;
    let mut b = [0u8; 24];
    rand_core::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn digest(token: &str) -> String {
    use blake2::Digest;
    blake2::Blake2s256::digest(token.as_bytes())
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

impl Tokens {
    /// The tokens kept in `store` that are still live at `now`; new ones live `ttl`
    /// milliseconds.
    pub fn load(store: Arc<Store>, ttl: Millis, now: Millis) -> Result<Tokens, StoreError> {
        let held = store
            .session_tokens()?
            .into_iter()
            .filter(|t| t.expires > now)
            .map(|t| {
                let held = Held {
                    who: Who {
                        agent: t.agent,
                        role: t.role,
                        labels: Labels::from_code(t.language),
                    },
                    issued: t.issued,
                    expires: t.expires,
                };
                (t.digest, held)
            })
            .collect();
        Ok(Tokens {
            held: Mutex::new(held),
            ttl,
            store,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new token for `who`, kept in the store before it is handed out (blocking);
    /// the agent's earlier tokens are revoked (one login at a time), and expired ones
    /// are dropped.
    pub fn issue(&self, who: Who, now: Millis) -> Result<String, StoreError> {
        let t = fresh();
        let d = digest(&t);
        let expires = now.saturating_add(self.ttl);
        self.store.put_session_token(SessionToken {
            digest: d.clone(),
            agent: who.agent.clone(),
            role: who.role,
            language: who.labels.code(),
            issued: now,
            expires,
        })?;
        let mut held = self.lock();
        held.retain(|_, h| h.who.agent != who.agent && h.expires > now);
        held.insert(
            d,
            Held {
                who,
                issued: now,
                expires,
            },
        );
        Ok(t)
    }

    /// Who holds `token`, if it is live at `now`.
    pub fn check(&self, token: &str, now: Millis) -> Result<Who, Refused> {
        let d = digest(token);
        let mut held = self.lock();
        match held.get(&d) {
            None => Err(Refused::Unknown),
            Some(h) if h.expires <= now => {
                held.remove(&d);
                Err(Refused::Expired)
            }
            Some(h) => Ok(h.who.clone()),
        }
    }

    /// Revoke every token of `agent` issued up to `now`: at once here, and in the
    /// store on the blocking pool (a token issued later is not touched).
    pub fn revoke_agent(&self, agent: &str, now: Millis) {
        self.lock()
            .retain(|_, h| h.who.agent != agent || h.issued > now);
        let (store, agent) = (self.store.clone(), agent.to_string());
        let forget = move || {
            if let Err(e) = store.revoke_session_tokens(&agent, now.saturating_add(1)) {
                tracing::warn!(%agent, error = %e, "a revoked token is still in the store");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn_blocking(forget);
            }
            Err(_) => forget(),
        }
    }

    /// Live tokens.
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
    use hotline_store::{Catalog, Store};

    fn who(a: &str) -> Who {
        Who {
            agent: a.into(),
            role: Role::Agent,
            labels: Labels::Zh,
        }
    }

    #[test]
    fn a_newer_login_revokes_the_older_token_tokens_expire_and_survive_a_restart() {
        let store: Arc<Store> = Arc::new(Store::temporary(Catalog::builtin()).unwrap());
        let t = Tokens::load(store.clone(), 1000, 0).unwrap();
        let a = t.issue(who("1001"), 0).unwrap();
        let b = t.issue(who("1002"), 0).unwrap();
        assert_eq!(t.check(&a, 10), Ok(who("1001")));
        let a2 = t.issue(who("1001"), 20).unwrap();
        assert_eq!(t.check(&a, 30), Err(Refused::Unknown));
        assert_eq!(t.check(&a2, 30), Ok(who("1001")));
        // a router started again knows the live tokens, not the revoked one
        let again = Tokens::load(store.clone(), 1000, 40).unwrap();
        assert_eq!(again.check(&a2, 40), Ok(who("1001")));
        assert_eq!(again.check(&a, 40), Err(Refused::Unknown));
        assert_eq!(t.check(&b, 999), Ok(who("1002")));
        assert_eq!(t.check(&b, 1000), Err(Refused::Expired));
        t.revoke_agent("1001", 50);
        assert_eq!(t.check(&a2, 50), Err(Refused::Unknown));
        assert!(t.is_empty());
        // the store forgot it too; the store keeps digests, never tokens
        let kept = store.session_tokens().unwrap();
        assert!(kept.iter().all(|k| k.agent != "1001"), "{kept:?}");
        assert!(kept.iter().all(|k| k.digest != b && k.digest.len() == 64));
        assert!(
            Tokens::load(store, 1000, 60)
                .unwrap()
                .check(&a2, 60)
                .is_err()
        );
    }

    /// A token lives until its expiry time and not at it; a revoke takes the tokens
    /// issued up to its time and spares a login made after it.
    #[test]
    fn tokens_end_at_their_expiry_and_a_revoke_spares_later_logins() {
        let store: Arc<Store> = Arc::new(Store::temporary(Catalog::builtin()).unwrap());
        let t = Tokens::load(store.clone(), 1000, 0).unwrap();
        let a = t.issue(who("1001"), 0).unwrap(); // expires at 1000
        assert_eq!(Tokens::load(store.clone(), 1000, 999).unwrap().len(), 1);
        assert!(
            Tokens::load(store.clone(), 1000, 1000).unwrap().is_empty(),
            "loaded at its expiry: gone"
        );
        // a login at 1000 drops the token that expired then
        t.issue(who("1002"), 1000).unwrap();
        assert_eq!(t.len(), 1);
        assert!(!t.is_empty());
        assert_eq!(t.check(&a, 1000), Err(Refused::Unknown));

        let at = t.issue(who("1003"), 1500).unwrap();
        t.revoke_agent("1003", 1500);
        assert_eq!(
            t.check(&at, 1500),
            Err(Refused::Unknown),
            "issued at the revoke"
        );
        let later = t.issue(who("1004"), 1600).unwrap();
        t.revoke_agent("1004", 1500);
        assert_eq!(
            t.check(&later, 1600),
            Ok(who("1004")),
            "issued after the revoke"
        );
    }
}
