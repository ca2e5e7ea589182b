//! Sign-in throttling: failed logins counted per account and per client address
//! over a window; past the limit, sign-in is refused until the window ends.
//!
//! The counts live in the database (`sign_in_failures`), so every instance serving
//! it counts the same failures: N instances allow no more tries than one.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait as _, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr};

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

/// Why a sign-in is refused, and when to try again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Throttled {
    /// `account` or `address`.
    pub by: &'static str,
    /// Time until the window ends.
    pub retry_after: Duration,
}

#[derive(sea_orm::DeriveIden)]
enum SignInFailures {
    Table,
    Subject,
    WindowStarted,
    Failures,
}

/// The failed sign-ins of the last window, kept in the database.
#[derive(Debug)]
pub struct LoginThrottle {
    settings: ThrottleSettings,
    /// When this instance last deleted the windows that ended.
    pruned: Mutex<Option<Instant>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(ThrottleSettings::default())
    }
}

fn account_key(email: &str) -> String {
    format!("account:{email}")
}

fn address_key(address: IpAddr) -> String {
    format!("address:{address}")
}

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl LoginThrottle {
    /// A throttle with these limits.
    pub fn new(settings: ThrottleSettings) -> Self {
        Self {
            settings,
            pruned: Mutex::new(None),
        }
    }

    fn window_millis(&self) -> i64 {
        i64::try_from(self.settings.window.as_millis()).unwrap_or(i64::MAX)
    }

    /// Whether `email` may try to sign in from `address` now.
    pub async fn check(
        &self,
        db: &impl ConnectionTrait,
        email: &str,
        address: Option<IpAddr>,
    ) -> Result<Result<(), Throttled>, DbErr> {
        let account = account_key(email);
        let address = address.map(address_key);
        let keys: Vec<&str> = std::iter::once(account.as_str())
            .chain(address.as_deref())
            .collect();
        let select = Query::select()
            .columns([
                SignInFailures::Subject,
                SignInFailures::WindowStarted,
                SignInFailures::Failures,
            ])
            .from(SignInFailures::Table)
            .and_where(Expr::col(SignInFailures::Subject).is_in(keys))
            .to_owned();
        let now = now_millis();
        let window = self.window_millis();
        let mut refusal: Option<Throttled> = None;
        for row in db.query_all(&select).await? {
            let subject: String = row.try_get_by_index(0)?;
            let started: i64 = row.try_get_by_index(1)?;
            let failures: i32 = row.try_get_by_index(2)?;
            let (by, limit) = if subject == account {
                ("account", self.settings.per_account)
            } else {
                ("address", self.settings.per_address)
            };
            let left = started.saturating_add(window) - now;
            if u32::try_from(failures).unwrap_or(0) >= limit && left > 0 {
                let throttled = Throttled {
                    by,
                    retry_after: Duration::from_millis(left.unsigned_abs()),
                };
                // The account's refusal first, as it is the narrower one.
                if refusal.as_ref().is_none_or(|r| r.by != "account") {
                    refusal = Some(throttled);
                }
            }
        }
        Ok(refusal.map_or(Ok(()), Err))
    }

    /// Counts a failed sign-in of `email` from `address`: one statement, which also
    /// starts a new window where the last one ended.
    pub async fn failed(
        &self,
        db: &impl ConnectionTrait,
        email: &str,
        address: Option<IpAddr>,
    ) -> Result<(), DbErr> {
        let now = now_millis();
        let ended = now.saturating_sub(self.window_millis());
        // Qualified: PostgreSQL would not know the stored row's column from the new
        // row's (`excluded`) otherwise.
        let stored = |column| Expr::col((SignInFailures::Table, column));
        let window_ended = || stored(SignInFailures::WindowStarted).lte(ended);
        // MySQL assigns left to right, each seeing the columns assigned before it:
        // `failures` goes first, so both see the old `window_started`.
        let failures = CaseStatement::new()
            .case(window_ended(), 1)
            .finally(stored(SignInFailures::Failures).add(1));
        let started = CaseStatement::new()
            .case(window_ended(), now)
            .finally(stored(SignInFailures::WindowStarted));
        let mut insert = Query::insert();
        insert
            .into_table(SignInFailures::Table)
            .columns([
                SignInFailures::Subject,
                SignInFailures::WindowStarted,
                SignInFailures::Failures,
            ])
            .on_conflict(
                OnConflict::column(SignInFailures::Subject)
                    .value(SignInFailures::Failures, failures)
                    .value(SignInFailures::WindowStarted, started)
                    .to_owned(),
            );
        for key in std::iter::once(account_key(email)).chain(address.map(address_key)) {
            insert.values_panic([key.into(), now.into(), 1.into()]);
        }
        db.execute(&insert).await?;
        self.prune(db, ended).await
    }

    /// Forgets the failures of `email` after it signed in.
    pub async fn succeeded(&self, db: &impl ConnectionTrait, email: &str) -> Result<(), DbErr> {
        let delete = Query::delete()
            .from_table(SignInFailures::Table)
            .and_where(Expr::col(SignInFailures::Subject).eq(account_key(email)))
            .to_owned();
        db.execute(&delete).await.map(drop)
    }

    /// Deletes the windows that ended, at most once per window per instance, so the
    /// table holds no more than a window's failures whatever clients send.
    async fn prune(&self, db: &impl ConnectionTrait, ended: i64) -> Result<(), DbErr> {
        {
            let mut pruned = self
                .pruned
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if pruned.is_some_and(|at| at.elapsed() < self.settings.window) {
                return Ok(());
            }
            *pruned = Some(Instant::now());
        }
        let delete = Query::delete()
            .from_table(SignInFailures::Table)
            .and_where(Expr::col(SignInFailures::WindowStarted).lte(ended))
            .to_owned();
        db.execute(&delete).await.map(drop)
    }
}
