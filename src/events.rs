//! What subscriptions listen to: events about writes, carried between instances.
//!
//! On PostgreSQL an event is published with `pg_notify` and every instance hears it
//! through `LISTEN`, so a comment written through one instance reaches subscribers
//! connected to another. Elsewhere (SQLite, MySQL) events stay in the process.
//! Either way each instance fans events out to its subscribers through one bounded
//! broadcast channel: a slow subscriber misses events instead of holding up writers
//! or growing memory.

use std::time::Duration;

use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// The PostgreSQL notification channel of relgql's events.
pub const CHANNEL: &str = "relgql_events";
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
        let own = PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(options);
        let mut listener = PgListener::connect_with(&own).await?;
        listener.listen(CHANNEL).await?;
        tokio::spawn(relay(listener, events.local.clone()));
        Ok(events)
    }

    /// Tells every subscriber (of every instance, on PostgreSQL). Failing to tell
    /// is logged, never an error of the write that caused the event.
    pub async fn publish(&self, event: Event) {
        let Some(db) = &self.postgres else {
            let _ = self.local.send(event);
            return;
        };
        let payload = match serde_json::to_string(&event) {
            Ok(payload) => payload,
            Err(error) => return tracing::error!(%error, "cannot encode an event"),
        };
        let notify = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), payload.into()],
        );
        if let Err(error) = db.execute_raw(notify).await {
            tracing::warn!(%error, ?event, "cannot publish an event");
        }
    }

    /// A new subscription to every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }
}

/// Forwards PostgreSQL notifications to this instance's subscribers, for as long as
/// the process runs; the listener reconnects by itself after a lost connection.
async fn relay(mut listener: PgListener, local: broadcast::Sender<Event>) {
    loop {
        match listener.recv().await {
            Ok(notification) => match serde_json::from_str::<Event>(notification.payload()) {
                Ok(event) => {
                    let _ = local.send(event);
                }
                Err(error) => tracing::warn!(%error, "ignoring a malformed event"),
            },
            Err(error) => {
                tracing::warn!(%error, "lost the event listener's connection; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
