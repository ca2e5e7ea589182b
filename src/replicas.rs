//! Read replicas (PostgreSQL standbys): which one a query may read from.
//!
//! A monitor asks the primary for its WAL position and each replica for the position
//! it has replayed, every [`PROBE_EVERY`]. A replica's lag is how long ago the
//! primary had written WAL that the replica has not replayed yet (zero when it has
//! replayed everything the primary had at the last probe). A query reads from a
//! replica that answered the last probe, lags at most the bound, and has replayed
//! the position its client asks for (read-your-writes: a write's response carries
//! the primary's position after it, and a client sends it back); with none such it
//! reads from the primary. Mutations, the subscriptions' `LISTEN` connection and
//! everything else use the primary.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use crate::db::{self, PoolSettings, Warm};

/// How often the monitor probes the primary and the replicas.
pub const PROBE_EVERY: Duration = Duration::from_millis(200);

/// How long a probe may take before its server counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The primary's WAL position now, as text.
const PRIMARY_POSITION: &str = "SELECT pg_current_wal_lsn()::text";

/// Primary positions remembered, to tell a replica's lag (a minute of probes).
const SAMPLES: usize = 300;

/// A position in PostgreSQL's write-ahead log (`pg_lsn`), as a number.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WalPosition(pub u64);

impl WalPosition {
    /// Parses PostgreSQL's text form, `16/B374D848`.
    pub fn parse(text: &str) -> Option<Self> {
        let (high, low) = text.trim().split_once('/')?;
        let valid = |part: &str| {
            (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_hexdigit())
        };
        if !valid(high) || !valid(low) {
            return None;
        }
        let high = u32::from_str_radix(high, 16).ok()?;
        let low = u32::from_str_radix(low, 16).ok()?;
        Some(Self((u64::from(high) << 32) | u64::from(low)))
    }
}

impl std::fmt::Display for WalPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// A pool, and the connections kept warm beside it.
#[derive(Clone, Debug)]
pub struct Pool {
    /// The pool.
    pub db: DatabaseConnection,
    /// Connections kept open between requests (see [`Warm`]).
    pub warm: Arc<Warm>,
}

impl Pool {
    /// `db`, with connections kept warm beside it.
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            warm: Warm::for_database(&db),
            db,
        }
    }
}

/// What the last probe of a replica found.
#[derive(Copy, Clone, Debug, Default)]
struct Probed {
    /// It answered, as a standby.
    up: bool,
    /// The position it has replayed.
    replayed: Option<WalPosition>,
    /// How far behind the primary it is.
    lag: Option<Duration>,
}

/// One replica: its pool and what its last probe found.
#[derive(Debug)]
pub struct Replica {
    /// Its pool.
    pub pool: Pool,
    /// Its URL, password hidden, for logs.
    pub name: String,
    probed: Mutex<Probed>,
}

impl Replica {
    fn probed(&self) -> Probed {
        *self.probed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, probed: Probed) {
        let mut state = self.probed.lock().unwrap_or_else(PoisonError::into_inner);
        if state.up != probed.up {
            if probed.up {
                tracing::info!(replica = %self.name, "replica up: reading from it");
            } else {
                tracing::warn!(replica = %self.name, "replica down: not reading from it");
            }
        }
        *state = probed;
    }

    /// Marks it down until the next probe finds it up (a statement on it failed).
    pub fn failed(&self) {
        let mut probed = self.probed();
        probed.up = false;
        self.set(probed);
    }
}

/// The replicas of one primary, and which to read from.
#[derive(Debug, Default)]
pub struct Replicas {
    replicas: Vec<Arc<Replica>>,
    max_lag: Duration,
    /// The primary's positions at recent probes, the newest last.
    samples: Mutex<VecDeque<(Instant, WalPosition)>>,
    /// Turns among replicas that qualify.
    next: AtomicUsize,
}

impl Replicas {
    /// No replicas: everything reads from the primary.
    pub fn none() -> Arc<Self> {
        Arc::default()
    }

    /// Pools on `urls` (PostgreSQL standbys of `primary`), read from while they lag
    /// at most `max_lag`, and the monitor that probes them for as long as the
    /// returned value lives.
    pub async fn connect(
        primary: &DatabaseConnection,
        urls: &[String],
        max_lag: Duration,
        pool: PoolSettings,
    ) -> anyhow::Result<Arc<Self>> {
        if urls.is_empty() {
            return Ok(Self::none());
        }
        anyhow::ensure!(
            primary.get_database_backend() == DbBackend::Postgres,
            "READ_REPLICA_URLS needs PostgreSQL: replicas are PostgreSQL standbys"
        );
        let mut replicas = Vec::new();
        for url in urls {
            anyhow::ensure!(
                url.starts_with("postgres://") || url.starts_with("postgresql://"),
                "a read replica must be a PostgreSQL URL: {}",
                db::redact(url)
            );
            // Lazily: a replica that is down at start is skipped, not fatal.
            let replica = db::connect_lazy(url, pool).await?;
            replicas.push(Arc::new(Replica {
                pool: Pool::new(replica),
                name: db::redact(url),
                probed: Mutex::default(),
            }));
        }
        let replicas = Arc::new(Self {
            replicas,
            max_lag,
            samples: Mutex::default(),
            next: AtomicUsize::new(0),
        });
        replicas.probe(primary).await;
        let monitor = Arc::downgrade(&replicas);
        let primary = primary.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(PROBE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let Some(replicas) = monitor.upgrade() else {
                    return;
                };
                replicas.probe(&primary).await;
            }
        });
        Ok(replicas)
    }

    /// Whether any replica is configured.
    pub fn any(&self) -> bool {
        !self.replicas.is_empty()
    }

    /// A replica a query may read from now, having replayed `at_least` if given;
    /// none when no replica qualifies (the query reads from the primary).
    pub fn for_read(&self, at_least: Option<WalPosition>) -> Option<Arc<Replica>> {
        if self.replicas.is_empty() {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let count = self.replicas.len();
        (0..count)
            .map(|turn| &self.replicas[(start + turn) % count])
            .find(|replica| {
                let probed = replica.probed();
                probed.up
                    && probed.lag.is_some_and(|lag| lag <= self.max_lag)
                    && at_least.is_none_or(|wanted| probed.replayed.is_some_and(|r| r >= wanted))
            })
            .cloned()
    }

    /// Probes the primary, then every replica at once.
    async fn probe(&self, primary: &DatabaseConnection) {
        let now = Instant::now();
        match position(primary, PRIMARY_POSITION).await {
            Ok(Some(at)) => {
                let mut samples = self.samples();
                samples.push_back((now, at));
                if samples.len() > SAMPLES {
                    samples.pop_front();
                }
            }
            Ok(None) | Err(_) => {
                // Without the primary's position no lag can be told: read from the
                // replicas no longer than their bound allows.
            }
        }
        let probes = self.replicas.iter().map(|replica| async move {
            let replayed = position(
                &replica.pool.db,
                "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text END",
            )
            .await;
            let probed = match replayed {
                Ok(Some(replayed)) => Probed {
                    up: true,
                    replayed: Some(replayed),
                    lag: Some(self.lag(replayed)),
                },
                // Not a standby (promoted, or misconfigured): its data may have
                // left the primary's history.
                Ok(None) => Probed::default(),
                Err(_) => Probed::default(),
            };
            replica.set(probed);
        });
        futures_util::future::join_all(probes).await;
    }

    /// How long ago the primary first held WAL beyond `replayed`.
    fn lag(&self, replayed: WalPosition) -> Duration {
        let samples = self.samples();
        match samples.iter().find(|(_, at)| *at > replayed) {
            Some((since, _)) => since.elapsed(),
            // Replayed everything known; or the primary's history is not known at
            // all, in which case it counts as too far behind.
            None if samples.is_empty() => Duration::MAX,
            None => Duration::ZERO,
        }
    }

    fn samples(&self) -> std::sync::MutexGuard<'_, VecDeque<(Instant, WalPosition)>> {
        self.samples.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The primary's position now: what a write's response carries.
    pub async fn primary_position(
        primary: &DatabaseConnection,
    ) -> Result<Option<WalPosition>, DbErr> {
        position(primary, PRIMARY_POSITION).await
    }
}

/// The position one statement answers, within [`PROBE_TIMEOUT`].
async fn position(db: &DatabaseConnection, sql: &str) -> Result<Option<WalPosition>, DbErr> {
    let probe = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql));
    let row = tokio::time::timeout(PROBE_TIMEOUT, probe)
        .await
        .map_err(|_| DbErr::Custom("the probe timed out".into()))??;
    let text: Option<String> = match row {
        Some(row) => row.try_get_by_index(0)?,
        None => None,
    };
    Ok(text.as_deref().and_then(WalPosition::parse))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_parse_and_print_as_postgresql_writes_them() {
        let at = WalPosition::parse("16/B374D848").unwrap();
        assert_eq!(at.0, 0x16_B374_D848);
        assert_eq!(at.to_string(), "16/B374D848");
        assert_eq!(WalPosition::parse("0/0"), Some(WalPosition(0)));
        assert!(WalPosition::parse("0/1") < WalPosition::parse("1/0"));
        for bad in ["", "16", "16/", "/1", "x/1", "1/123456789", "-1/0", "1/+2"] {
            assert_eq!(WalPosition::parse(bad), None, "{bad}");
        }
    }
}
