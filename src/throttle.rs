//! Sign-in throttling: failed logins counted per account and per client address
//! over a window; past the limit, sign-in is refused until the window ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Most keys tracked; past this, new keys are not tracked (old ones still are),
/// so the table stays bounded whatever a client sends.
const MAX_KEYS: usize = 100_000;

/// How many failed sign-ins are allowed, and over how long.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failures allowed per account (email address) within the window.
    pub per_account: u32,
    /// Failures allowed per client address within the window.
    pub per_address: u32,
    /// The window.
    pub window: Duration,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            per_account: crate::config::DEFAULT_LOGIN_FAILURES_PER_ACCOUNT,
            per_address: crate::config::DEFAULT_LOGIN_FAILURES_PER_ADDRESS,
            window: Duration::from_secs(crate::config::DEFAULT_LOGIN_WINDOW_SECS),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

#[derive(Clone, Copy, Debug)]
struct Window {
    started: Instant,
    failures: u32,
}

/// Why a sign-in is refused, and when to try again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Throttled {
    /// `account` or `address`.
    pub by: &'static str,
    /// Time until the window ends.
    pub retry_after: Duration,
}

/// The failed sign-ins of the last window, shared by every request.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    settings: ThrottleSettings,
    failures: Mutex<HashMap<Key, Window>>,
}

impl LoginThrottle {
    /// A throttle with these limits.
    pub fn new(settings: ThrottleSettings) -> Self {
        Self {
            settings,
            failures: Mutex::default(),
        }
    }

    /// Whether `email` may try to sign in from `address` now.
    pub fn check(&self, email: &str, address: Option<IpAddr>) -> Result<(), Throttled> {
        let now = Instant::now();
        let failures = self.lock();
        let over = |key: &Key, limit: u32| {
            failures.get(key).and_then(|w| {
                let elapsed = now.duration_since(w.started);
                (w.failures >= limit && elapsed < self.settings.window)
                    .then(|| self.settings.window - elapsed)
            })
        };
        if let Some(retry_after) = over(&Key::Account(email.to_owned()), self.settings.per_account)
        {
            return Err(Throttled {
                by: "account",
                retry_after,
            });
        }
        if let Some(address) = address
            && let Some(retry_after) = over(&Key::Address(address), self.settings.per_address)
        {
            return Err(Throttled {
                by: "address",
                retry_after,
            });
        }
        Ok(())
    }

    /// Counts a failed sign-in of `email` from `address`.
    pub fn failed(&self, email: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        let mut failures = self.lock();
        if failures.len() >= MAX_KEYS {
            let window = self.settings.window;
            failures.retain(|_, w| now.duration_since(w.started) < window);
        }
        let keys = std::iter::once(Key::Account(email.to_owned())).chain(address.map(Key::Address));
        for key in keys {
            if failures.len() >= MAX_KEYS && !failures.contains_key(&key) {
                continue;
            }
            let window = failures.entry(key).or_insert(Window {
                started: now,
                failures: 0,
            });
            if now.duration_since(window.started) >= self.settings.window {
                *window = Window {
                    started: now,
                    failures: 0,
                };
            }
            window.failures += 1;
        }
    }

    /// Forgets the failures of `email` after it signed in.
    pub fn succeeded(&self, email: &str) {
        self.lock().remove(&Key::Account(email.to_owned()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Window>> {
        // Counts stay meaningful whatever a panicking holder left.
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(window: Duration) -> LoginThrottle {
        LoginThrottle::new(ThrottleSettings {
            per_account: 3,
            per_address: 5,
            window,
        })
    }

    #[test]
    fn an_account_is_refused_after_its_failures_until_the_window_ends() {
        let t = throttle(Duration::from_millis(200));
        let address = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..3 {
            assert!(t.check("a@x.org", address).is_ok());
            t.failed("a@x.org", address);
        }
        let refused = t.check("a@x.org", address).unwrap_err();
        assert_eq!(refused.by, "account");
        assert!(refused.retry_after <= Duration::from_millis(200));
        assert!(t.check("b@x.org", address).is_ok(), "other accounts go on");
        std::thread::sleep(Duration::from_millis(250));
        assert!(t.check("a@x.org", address).is_ok(), "the window ended");
    }

    #[test]
    fn an_address_is_refused_after_failures_on_many_accounts() {
        let t = throttle(Duration::from_secs(60));
        let address = Some(IpAddr::from([10, 0, 0, 2]));
        for n in 0..5 {
            t.failed(&format!("user{n}@x.org"), address);
        }
        assert_eq!(t.check("new@x.org", address).unwrap_err().by, "address");
        assert!(
            t.check("new@x.org", Some(IpAddr::from([10, 0, 0, 3])))
                .is_ok()
        );
    }

    #[test]
    fn a_success_clears_the_account() {
        let t = throttle(Duration::from_secs(60));
        t.failed("a@x.org", None);
        t.failed("a@x.org", None);
        t.succeeded("a@x.org");
        t.failed("a@x.org", None);
        t.failed("a@x.org", None);
        assert!(t.check("a@x.org", None).is_ok());
    }
}
