//! What subscriptions listen to: events about writes, carried between instances.
//!
//! On PostgreSQL the database writes each event itself, in the transaction of the
//! change (triggers; see the `add_events` migration): it records the event in
//! `events` and announces it with `pg_notify`, and every instance hears it through
//! `LISTEN`. So a comment written through one instance reaches subscribers of
//! another, a committed change always has its event (however the writer fares after
//! the commit), and an instance whose listener lost its connection catches up from
//! `events` when it is back, delivering each event once. Elsewhere (SQLite, MySQL)
//! events stay in the process.
//! Either way each instance fans events out to its subscribers through one bounded
//! broadcast channel: a slow subscriber misses events instead of holding up writers
//! or growing memory.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, sqlx};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::metrics::METRICS;

/// The PostgreSQL notification channel of relgql's events, which the migration's
/// triggers notify.
pub use migration::EVENTS_CHANNEL as CHANNEL;
/// Events an instance buffers for each subscriber before it starts dropping.
pub const BUFFER: usize = 1_024;

/// Something happened that subscribers may want to hear of; rows are named by id
/// and read fresh when an event is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A comment was written on a post.
    CommentAdded {
        /// The comment's database id.
        comment: i32,
        /// The post's database id.
        post: i32,
    },
    /// A post became published.
    PostPublished {
        /// The post's database id.
        post: i32,
    },
}

/// Publishes events and hands out subscriptions to them.
#[derive(Clone)]
pub struct Events {
    local: broadcast::Sender<Event>,
    postgres: Option<DatabaseConnection>,
}

impl Events {
    /// Events that stay in this process.
    pub fn in_process() -> Self {
        Self {
            local: broadcast::channel(BUFFER).0,
            postgres: None,
        }
    }

    /// Events over `db`: through LISTEN/NOTIFY on PostgreSQL, in-process elsewhere.
    pub async fn for_database(db: &DatabaseConnection) -> anyhow::Result<Self> {
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(Self::in_process());
        }
        let events = Self {
            local: broadcast::channel(BUFFER).0,
            postgres: Some(db.clone()),
        };
        // The listener keeps its connection for good: it gets a pool of its own, so
        // the service's pool can still be closed (which waits for every connection).
        let options = db
            .get_postgres_connection_pool()
            .connect_options()
            .as_ref()
            .clone();
        let listener = listen(&options).await?;
        tokio::spawn(relay(listener, options, db.clone(), events.local.clone()));
        tokio::spawn(prune(db.clone()));
        Ok(events)
    }

    /// Tells every subscriber of this process (SQLite, MySQL). On PostgreSQL the
    /// database has done it already, in the write's transaction.
    pub async fn publish(&self, event: Event) {
        if self.postgres.is_none() {
            deliver(&self.local, event);
        }
    }

    /// A new subscription to every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }
}

/// Hands `event` to this instance's subscribers (none may be listening).
fn deliver(local: &broadcast::Sender<Event>, event: Event) {
    METRICS.event_relayed();
    let _ = local.send(event);
}

/// How far back, before its connection was lost, a listener looks for events it may
/// have missed: an event is stamped when its transaction began, and may commit
/// (and be announced) later.
const CATCH_UP_MARGIN: Duration = Duration::from_secs(30);

/// Events kept in `events` for listeners that come back; older ones are deleted.
const KEEP_EVENTS: &str = "1 hour";

/// An event as announced: its id in `events`, and the event.
#[derive(Deserialize)]
struct Announced {
    id: i64,
    event: Event,
}

async fn listen(options: &PgConnectOptions) -> Result<PgListener, sqlx::Error> {
    let own = PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(options.clone());
    let mut listener = PgListener::connect_with(&own).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Forwards announced events to this instance's subscribers for as long as the
/// process runs. When the listener's connection is lost it connects again (every
/// second until it can), listens, and then reads the events recorded since shortly
/// before the loss; an event heard both ways is delivered once.
async fn relay(
    mut listener: PgListener,
    options: PgConnectOptions,
    db: DatabaseConnection,
    local: broadcast::Sender<Event>,
) {
    let mut delivered = Recent::default();
    loop {
        let lost = loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    match serde_json::from_str::<Announced>(notification.payload()) {
                        Ok(announced) => {
                            if delivered.first_time(announced.id) {
                                deliver(&local, announced.event);
                            }
                        }
                        Err(error) => tracing::warn!(%error, "ignoring a malformed event"),
                    }
                }
                Ok(None) | Err(_) => break Instant::now(),
            }
        };
        tracing::warn!("lost the event listener's connection; connecting again");
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let Ok(again) = listen(&options).await else {
                continue;
            };
            match catch_up(&db, lost.elapsed() + CATCH_UP_MARGIN).await {
                Ok(missed) => {
                    let mut count = 0;
                    for (id, event) in missed {
                        if delivered.first_time(id) {
                            count += 1;
                            deliver(&local, event);
                        }
                    }
                    tracing::info!(caught_up = count, "the event listener is back");
                    listener = again;
                    break;
                }
                Err(error) => tracing::warn!(%error, "cannot read missed events yet"),
            }
        }
    }
}

/// The events recorded within `since` of now, oldest first.
async fn catch_up(db: &DatabaseConnection, since: Duration) -> Result<Vec<(i64, Event)>, DbErr> {
    let select = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT id, payload FROM events WHERE created_at > now() - make_interval(secs => $1) \
         ORDER BY id",
        [since.as_secs_f64().into()],
    );
    let mut events = Vec::new();
    for row in db.query_all_raw(select).await? {
        let id: i64 = row.try_get_by_index(0)?;
        let payload: String = row.try_get_by_index(1)?;
        match serde_json::from_str(&payload) {
            Ok(event) => events.push((id, event)),
            Err(error) => tracing::warn!(%error, id, "ignoring a malformed recorded event"),
        }
    }
    Ok(events)
}

/// Deletes old events every few minutes, for as long as the process runs.
async fn prune(db: DatabaseConnection) {
    let mut every = tokio::time::interval(Duration::from_secs(300));
    loop {
        every.tick().await;
        let delete =
            format!("DELETE FROM events WHERE created_at < now() - interval '{KEEP_EVENTS}'");
        if let Err(error) = db.execute_unprepared(&delete).await {
            tracing::debug!(%error, "cannot prune old events now");
        }
    }
}

/// The ids of the events delivered lately, to deliver none twice.
#[derive(Default)]
struct Recent {
    order: VecDeque<i64>,
    seen: HashSet<i64>,
}

/// Ids remembered: far more than can be caught up with at once.
const REMEMBERED: usize = 100_000;

impl Recent {
    /// Whether `id` is new; it is remembered from now on.
    fn first_time(&mut self, id: i64) -> bool {
        if !self.seen.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > REMEMBERED
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_id_is_new_once_and_old_ids_are_forgotten_in_order() {
        let mut recent = Recent::default();
        assert!(recent.first_time(7));
        assert!(!recent.first_time(7));
        for id in 0..REMEMBERED as i64 {
            recent.first_time(1_000 + id);
        }
        assert!(recent.first_time(7), "forgotten after REMEMBERED newer ids");
        assert!(!recent.first_time(1_000 + REMEMBERED as i64 - 1));
    }
}
