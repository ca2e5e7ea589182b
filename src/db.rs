//! Database connections: the pool, and the per-request handle that counts statements.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, ExecResult,
    QueryResult, Statement,
};

/// Opens a connection pool to `url`.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    Database::connect(options)
        .await
        .with_context(|| format!("cannot connect to the database at {}", redact(url)))
}

/// `url` with any password replaced by `***`, fit for logs and errors.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// A connection that counts the statements sent through it.
///
/// Each request gets its own, so the count is the request's; it implements
/// SeaORM's `ConnectionTrait`, so every query of the request goes through it.
#[derive(Clone, Debug)]
pub struct CountingDb {
    inner: DatabaseConnection,
    statements: Arc<AtomicU32>,
}

impl CountingDb {
    /// Wraps `inner` with a fresh count of zero.
    pub fn new(inner: DatabaseConnection) -> Self {
        Self {
            inner,
            statements: Arc::new(AtomicU32::new(0)),
        }
    }

    /// How many statements have been sent so far.
    pub fn statements(&self) -> u32 {
        self.statements.load(Ordering::Relaxed)
    }

    fn sent(&self, stmt: &Statement) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(sql = %stmt.sql, "statement");
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for CountingDb {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.sent(&stmt);
        self.inner.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.inner.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.sent(&stmt);
        self.inner.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.sent(&stmt);
        self.inner.query_all_raw(stmt).await
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_the_password_and_keeps_the_rest() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/relgql"),
            "postgres://app:***@db:5432/relgql"
        );
        assert_eq!(redact("postgres://root@db/x"), "postgres://root@db/x");
        assert_eq!(redact("sqlite://relgql.db"), "sqlite://relgql.db");
    }
}
