//! Database connections: the pool, and the per-request handle that counts statements.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{self, AssertSqlSafe, Connection as _, PgConnection, PgPool, Postgres};
use sea_orm::{
    ConnAcquireErr, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr, Statement,
    TransactionTrait,
};
use sea_query_sqlx::SqlxValues;

use crate::metrics::{METRICS, PoolConnections};
use crate::telemetry;
use tracing::Instrument as _;

/// How the pool behaves.
#[derive(Copy, Clone, Debug)]
pub struct PoolSettings {
    /// Most connections.
    pub max_connections: u32,
    /// How long a statement waits for a free connection before it fails.
    pub acquire_timeout: Duration,
    /// How long one statement may run (PostgreSQL and MariaDB/MySQL; SQLite has no
    /// such setting, and the request deadline covers it).
    pub statement_timeout: Option<Duration>,
    /// Whether a transaction pooler (pgbouncer's `pool_mode = transaction`) stands
    /// between the pool and PostgreSQL (see [`TransactionPooling`]).
    pub transaction_pooler: bool,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: crate::config::DEFAULT_DB_MAX_CONNECTIONS,
            acquire_timeout: Duration::from_millis(crate::config::DEFAULT_DB_ACQUIRE_TIMEOUT_MS),
            // None unless asked for: migrations may run long.
            statement_timeout: None,
            transaction_pooler: false,
        }
    }
}

/// A pool of `max_connections`, with the other settings at their defaults.
impl From<u32> for PoolSettings {
    fn from(max_connections: u32) -> Self {
        Self {
            max_connections,
            ..Self::default()
        }
    }
}

/// Opens a connection pool to `url`.
pub async fn connect(
    url: &str,
    pool: impl Into<PoolSettings>,
) -> anyhow::Result<DatabaseConnection> {
    Database::connect(options(url, pool.into()))
        .await
        .with_context(|| format!("cannot connect to the database at {}", redact(url)))
}

/// A connection pool to `url` that connects when first used: a server that is down
/// now fails its statements, not the start.
pub async fn connect_lazy(
    url: &str,
    pool: impl Into<PoolSettings>,
) -> anyhow::Result<DatabaseConnection> {
    let mut options = options(url, pool.into());
    options.connect_lazy(true);
    Database::connect(options)
        .await
        .with_context(|| format!("cannot use the database at {}", redact(url)))
}

fn options(url: &str, pool: PoolSettings) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(pool.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5).min(pool.acquire_timeout))
        .acquire_timeout(pool.acquire_timeout)
        // Ping a pooled connection only when it sat idle: a ping before every
        // statement is a round trip each (see bench/README.md), while a connection
        // left idle across a database restart still gets checked.
        .test_before_acquire_if_idle_for(Duration::from_secs(10))
        .sqlx_logging(false);
    let timeout_millis = pool.statement_timeout.map(|t| t.as_millis().max(1));
    if pool.transaction_pooler {
        // Through a transaction pooler a session is not ours past a transaction:
        // no named statements (they would meet other clients' on the server), no
        // startup parameters (the pooler refuses them; see TransactionPooling for
        // how the settings are applied instead).
        options
            .map_sqlx_postgres_opts(|pg| pg.statement_cache_capacity(0).extra_float_digits(None));
        return options;
    }
    options.map_sqlx_postgres_opts(move |pg| {
        // Plan each statement once per connection: the statements are few shapes
        // with many parameters (a batch's `IN` list), which PostgreSQL would
        // otherwise plan again on every execution (0.4-0.9 ms each for the
        // workload's, about as long as running them; see bench/README.md).
        let pg = pg.options([("plan_cache_mode", "force_generic_plan")]);
        match timeout_millis {
            Some(millis) => pg.options([("statement_timeout", millis.to_string())]),
            None => pg,
        }
    });
    if let (Some(timeout), Some(millis)) = (pool.statement_timeout, timeout_millis) {
        let seconds = format!("{:.3}", timeout.as_secs_f64());
        options.map_sqlx_mysql_pool_opts(move |mysql| {
            let seconds = seconds.clone();
            mysql.after_connect(move |conn, _| {
                let seconds = seconds.clone();
                Box::pin(async move {
                    use sea_orm::sqlx::Executor as _;
                    // MariaDB's name for it; MySQL's is max_execution_time (in ms).
                    let mariadb = format!("SET SESSION max_statement_time = {seconds}");
                    if conn.execute(AssertSqlSafe(mariadb)).await.is_err() {
                        let mysql = format!("SET SESSION max_execution_time = {millis}");
                        conn.execute(AssertSqlSafe(mysql)).await?;
                    }
                    Ok(())
                })
            })
        });
    }
    options
}

/// Applies pending migrations over a connection of their own, then opens the pool.
///
/// Connections that were open while a migration changed a table may keep reading
/// the old table (seen with SQLite: a defaulted column read back as missing), so the
/// pool is opened only once the schema is final.
pub async fn migrated(
    url: &str,
    pool: impl Into<PoolSettings>,
) -> anyhow::Result<DatabaseConnection> {
    Ok(migrate_then_connect(url, pool).await?.0)
}

/// Like [`migrated`], also telling whether the database was fresh (no migration
/// applied before): of instances starting at once on a fresh database, exactly one
/// is told so.
pub async fn migrate_then_connect(
    url: &str,
    pool: impl Into<PoolSettings>,
) -> anyhow::Result<(DatabaseConnection, bool)> {
    let migrating = connect(url, 1).await?;
    let fresh = migrate(&migrating).await;
    migrating.close().await?;
    Ok((connect(url, pool).await?, fresh?))
}

/// Applies pending migrations over `db` (a pool of one connection, so that the
/// lock and the migrations share a session), holding the database's migration lock:
/// instances starting at once take turns, and those after the first find nothing
/// to do. Tells whether no migration had been applied before. SQLite needs no lock:
/// one process serves a file.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<bool> {
    let lock = match db.get_database_backend() {
        DbBackend::Postgres => Some((
            "SELECT pg_advisory_lock(7346021858)",
            "SELECT pg_advisory_unlock(7346021858)",
        )),
        DbBackend::MySql => Some((
            "SELECT GET_LOCK('relgql_migrations', 300)",
            "SELECT RELEASE_LOCK('relgql_migrations')",
        )),
        _ => None,
    };
    if let Some((take, _)) = lock {
        db.execute_unprepared(take)
            .await
            .context("cannot take the migration lock")?;
    }
    let migrated = async {
        let fresh = Migrator::get_applied_migrations_read_only(db)
            .await
            .map_or(true, |applied| applied.is_empty());
        Migrator::up(db, None)
            .await
            .context("cannot apply the migrations")?;
        anyhow::Ok(fresh)
    }
    .await;
    if let Some((_, release)) = lock {
        // Closing the session releases it too: a failure here is only logged.
        if let Err(error) = db.execute_unprepared(release).await {
            tracing::warn!(%error, "cannot release the migration lock");
        }
    }
    migrated
}

/// Opens the pool after checking, without writing, that every migration is
/// applied: for a service that must not migrate (a read-only replica, or a
/// deployment that migrates in a step of its own).
pub async fn connect_current(
    url: &str,
    pool: impl Into<PoolSettings>,
) -> anyhow::Result<DatabaseConnection> {
    let db = connect(url, pool).await?;
    let pending = Migrator::get_pending_migrations_read_only(&db)
        .await
        .context(
            "cannot read which migrations are applied (if none ever were, run `relgql migrate up`)",
        )?;
    if !pending.is_empty() {
        let names: Vec<String> = pending.iter().map(|m| m.name().to_owned()).collect();
        anyhow::bail!(
            "the database schema is not current: {} migration(s) pending ({}); run \
             `relgql migrate up`, or start with MIGRATE_ON_START=true",
            names.len(),
            names.join(", ")
        );
    }
    Ok(db)
}

/// Whether `error` says the database cannot answer now (down, restarting, out of
/// connections), rather than that the statement is wrong: a read may be tried again
/// elsewhere.
pub fn is_unavailable(error: &DbErr) -> bool {
    let sqlx = match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => &**e,
        _ => return false,
    };
    matches!(
        sqlx,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
    ) || sql_state(error).is_some_and(|code| {
        // PostgreSQL: connection exceptions (08), shutting down or starting up (57P),
        // and a write sent to a standby (25006: in a failover, the old primary or a
        // node still being promoted).
        code.starts_with("08") || code.starts_with("57P") || code == "25006"
    })
}

/// Whether `error` shows that the statement never ran: no connection could be had,
/// or the server refused it before doing anything (a read-only standby, a server
/// starting up). Such a statement may be sent again, a write too.
pub fn did_not_run(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e))
            if matches!(**e, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed) =>
        {
            true
        }
        _ => sql_state(error)
            .is_some_and(|code| matches!(code.as_str(), "25006" | "57P03" | "08001" | "08004")),
    }
}

/// The start of the message of a write whose outcome is unknown (see
/// [`outcome_unknown`]).
pub const OUTCOME_UNKNOWN: &str = "the write's outcome is unknown";

/// `error`, for a write sent to the database whose connection was lost before it
/// answered: it may have been applied or not, so it must not be sent again blindly.
fn outcome_unknown(error: &DbErr) -> DbErr {
    DbErr::Custom(format!("{OUTCOME_UNKNOWN}: {error}"))
}

/// Whether `error` is a write's unknown outcome (see [`outcome_unknown`]).
pub fn is_outcome_unknown(error: &DbErr) -> bool {
    matches!(error, DbErr::Custom(message) if message.starts_with(OUTCOME_UNKNOWN))
}

/// How long statements that are safe to send again are retried (within the
/// request's own deadline), and the pauses between tries.
const RETRY_FOR: Duration = Duration::from_secs(3);
const RETRY_FIRST_PAUSE: Duration = Duration::from_millis(50);
const RETRY_LONGEST_PAUSE: Duration = Duration::from_millis(500);

/// Whether `stmt` only reads (the engine's statements are `SELECT`s; SeaORM's
/// writes start with their verb).
fn only_reads(stmt: &Statement) -> bool {
    let sql = stmt.sql.trim_start();
    sql.get(..6)
        .is_some_and(|verb| verb.eq_ignore_ascii_case("select"))
}

/// The SQLSTATE (or MySQL's code) of a database's error, if it is one.
pub fn sql_state(error: &DbErr) -> Option<String> {
    let sqlx = match error {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e)) => &**e,
        _ => return None,
    };
    Some(sqlx.as_database_error()?.code()?.into_owned())
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

/// A connection (or transaction) that counts the statements sent through it.
///
/// Each request gets its own count, shared by its transactions; it implements
/// SeaORM's `ConnectionTrait`, so every query of the request goes through it.
#[derive(Clone, Debug)]
pub struct Counting<C> {
    inner: C,
    statements: Arc<AtomicU32>,
    held: Option<Arc<Held>>,
    fallback: Option<Fallback>,
    /// Through a transaction pooler: the pool, for statements run outside a
    /// transaction without a held connection, and how they run.
    pooled: Option<(PgPool, TransactionPooling)>,
    /// Outside a transaction: statements that are safe to send again are retried
    /// when the database cannot answer, and a write whose connection is lost is
    /// reported as of unknown outcome.
    retries: bool,
    /// When retries must stop (the request's deadline, less a margin), so that the
    /// client hears why the database failed rather than only that time ran out.
    retry_until: Option<Instant>,
}

/// How statements run through a transaction pooler (pgbouncer's `pool_mode =
/// transaction`), which lends a server session for one transaction at a time.
///
/// sqlx sends a statement in two exchanges (parse; then bind and execute), and
/// between them, outside a transaction, the pooler may give the session to another
/// client, whose own statement would then run with our parameters. So every
/// statement outside a transaction runs unnamed in a transaction of its own, begun
/// together with the session's settings as `SET LOCAL` (the pooler refuses them as
/// startup parameters); transactions get the settings the same way. Statements in
/// SeaORM's transactions are named (`sqlx_s_N`, never cached, so never reused):
/// the pooler must drop them when it takes the session back (`server_reset_query =
/// DEALLOCATE ALL` with `server_reset_query_always = 1`, as `deploy/pgbouncer.ini`
/// has it), or another client's would meet them.
#[derive(Clone, Debug)]
pub struct TransactionPooling {
    begin: Arc<str>,
    settings: Option<Arc<str>>,
}

impl TransactionPooling {
    /// Statements run in transactions that carry `statement_timeout`.
    pub fn new(statement_timeout: Option<Duration>) -> Self {
        let settings = statement_timeout
            .map(|t| format!("SET LOCAL statement_timeout = {}", t.as_millis().max(1)));
        let begin = match &settings {
            Some(settings) => format!("BEGIN; {settings}"),
            None => "BEGIN".to_owned(),
        };
        Self {
            begin: begin.into(),
            settings: settings.map(Into::into),
        }
    }

    /// The rows of `stmt` (about `expected` of them), run on `conn` in a
    /// transaction of its own.
    async fn fetch_all(
        &self,
        conn: &mut PgConnection,
        stmt: &Statement,
        expected: usize,
    ) -> Result<Vec<QueryResult>, sqlx::Error> {
        use sqlx::Executor as _;
        conn.execute(AssertSqlSafe(&*self.begin)).await?;
        let rows = collected(conn, statement(stmt).persistent(false), expected).await;
        Self::end(conn, rows.is_ok()).await?;
        rows
    }

    /// Runs `stmt` on `conn` in a transaction of its own.
    async fn execute(
        &self,
        conn: &mut PgConnection,
        stmt: &Statement,
    ) -> Result<sqlx::postgres::PgQueryResult, sqlx::Error> {
        use sqlx::Executor as _;
        conn.execute(AssertSqlSafe(&*self.begin)).await?;
        let done = statement(stmt).persistent(false).execute(&mut *conn).await;
        Self::end(conn, done.is_ok()).await?;
        done
    }

    async fn end(conn: &mut PgConnection, succeeded: bool) -> Result<(), sqlx::Error> {
        use sqlx::Executor as _;
        conn.execute(if succeeded { "COMMIT" } else { "ROLLBACK" })
            .await
            .map(drop)
    }
}

/// Where a read goes when the replica it was sent to cannot answer: the primary,
/// after the replica is marked down.
#[derive(Clone)]
pub struct Fallback {
    /// The primary's pool.
    pub primary: DatabaseConnection,
    /// Marks the replica down.
    pub replica_failed: Arc<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fallback").finish_non_exhaustive()
    }
}

/// The per-request handle on the connection pool.
pub type CountingDb = Counting<DatabaseConnection>;

impl CountingDb {
    /// Wraps `inner` with a fresh count of zero; every statement takes a pooled
    /// connection of its own.
    pub fn new(inner: DatabaseConnection) -> Self {
        Self {
            inner,
            statements: Arc::new(AtomicU32::new(0)),
            held: None,
            fallback: None,
            pooled: None,
            retries: true,
            retry_until: None,
        }
    }

    /// The handle, retrying no later than `until` (see [`Counting::retry_until`]).
    pub fn retrying_until(self, until: Instant) -> Self {
        Self {
            retry_until: Some(until),
            ..self
        }
    }

    /// Like [`new`](Self::new), for a long-lived handle (a WebSocket connection's)
    /// on the pool that `warm` goes with: through a transaction pooler, its
    /// statements run as [`TransactionPooling`] says.
    pub fn for_connection(inner: DatabaseConnection, warm: &Warm) -> Self {
        let pooled = warm
            .pooling
            .clone()
            .map(|pooling| (inner.get_postgres_connection_pool().clone(), pooling));
        Self {
            pooled,
            ..Self::new(inner)
        }
    }

    /// Like [`for_request`](Self::for_request), reading from a replica: a statement
    /// the replica cannot answer (down, restarting) is sent to `fallback`'s primary.
    /// For reads only.
    pub fn for_replica(replica: DatabaseConnection, warm: &Arc<Warm>, fallback: Fallback) -> Self {
        Self {
            fallback: Some(fallback),
            ..Self::for_request(replica, warm)
        }
    }

    /// Like [`new`](Self::new), for one short request: on PostgreSQL its statements
    /// outside transactions share one connection, taken at the first (from `warm`,
    /// or else from the pool) and kept warm when the last clone of the handle drops
    /// (see [`Held`]). Not for long-lived handles such as a WebSocket connection's,
    /// which would keep a connection for their life.
    pub fn for_request(inner: DatabaseConnection, warm: &Arc<Warm>) -> Self {
        let held = (inner.get_database_backend() == DbBackend::Postgres).then(|| {
            Arc::new(Held {
                pool: inner.get_postgres_connection_pool().clone(),
                warm: warm.clone(),
                conn: tokio::sync::Mutex::new(None),
            })
        });
        Self {
            held,
            ..Self::for_connection(inner, warm)
        }
    }

    /// Starts a transaction whose statements count towards this request.
    ///
    /// The connection held for reads goes back to the pool first: a request that
    /// holds one while it waits for another could, with every request doing the
    /// same, wait on the pool for ever.
    pub async fn begin(&self) -> Result<Counting<DatabaseTransaction>, DbErr> {
        if let Some(held) = &self.held {
            held.release();
        }
        self.statements.fetch_add(1, Ordering::Relaxed);
        let transaction = self.inner.begin().await?;
        if let Some(settings) = self.pooled.as_ref().and_then(|(_, p)| p.settings.as_ref()) {
            self.statements.fetch_add(1, Ordering::Relaxed);
            transaction.execute_unprepared(settings).await?;
        }
        Ok(Counting {
            inner: transaction,
            statements: self.statements.clone(),
            held: None,
            fallback: None,
            pooled: None,
            retries: false,
            retry_until: None,
        })
    }
}

/// One PostgreSQL connection kept for the statements of one request that run
/// outside a transaction.
///
/// SeaORM takes a connection from the pool for each statement, and sqlx checks a
/// connection with a round trip (a `Sync`) each time it goes back: a request of
/// three statements cost six round trips. Holding one connection for the request
/// costs one check in all, and keeping it [`Warm`] for the next request none.
/// Sibling batches of one request take turns on it: under load the cores, not the
/// request's own parallelism, set the pace.
pub struct Held {
    pool: PgPool,
    warm: Arc<Warm>,
    conn: tokio::sync::Mutex<Option<Reader>>,
}

/// The connection a request holds, and whether a statement on it was cut short.
struct Reader {
    conn: ReaderConnection,
    /// A statement started and has not finished: its future was dropped (a
    /// deadline, a client gone) with its answer maybe unread.
    busy: bool,
}

enum ReaderConnection {
    Pooled(PoolConnection<Postgres>),
    Warm(WarmConnection),
}

impl Reader {
    fn connection(&mut self) -> &mut PgConnection {
        match &mut self.conn {
            ReaderConnection::Pooled(pooled) => pooled,
            ReaderConnection::Warm(warm) => &mut warm.conn,
        }
    }
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held").finish_non_exhaustive()
    }
}

impl Held {
    /// The rows of `stmt` (about `expected` of them), read on the held connection.
    async fn query_all(
        &self,
        stmt: &Statement,
        expected: usize,
    ) -> Result<Vec<QueryResult>, DbErr> {
        let mut slot = self.connection().await?;
        let reader = reader(&mut slot);
        reader.busy = true;
        let rows = match &self.warm.pooling {
            Some(pooling) => pooling.fetch_all(reader.connection(), stmt, expected).await,
            None => collected(reader.connection(), statement(stmt), expected).await,
        };
        reader.busy = false;
        Self::checked(&mut slot, rows).map_err(DbErr::Query)
    }

    /// Runs `stmt` (a write outside a transaction) on the held connection: a request
    /// that holds one must not wait for a second.
    async fn execute(&self, stmt: &Statement) -> Result<ExecResult, DbErr> {
        let mut slot = self.connection().await?;
        let reader = reader(&mut slot);
        reader.busy = true;
        let done = match &self.warm.pooling {
            Some(pooling) => pooling.execute(reader.connection(), stmt).await,
            None => statement(stmt).execute(reader.connection()).await,
        };
        reader.busy = false;
        Ok(Self::checked(&mut slot, done).map_err(DbErr::Exec)?.into())
    }

    /// Checks the held connection with a round trip, taking one first if none is
    /// held; a connection that fails is let go. Before a write: a connection the
    /// database closed while it sat idle fails here, where the write surely did not
    /// run, and not under the write, whose outcome would then be unknown.
    async fn ping(&self) -> Result<(), DbErr> {
        let mut slot = self.connection().await?;
        let reader = reader(&mut slot);
        reader.busy = true;
        let pinged = reader.connection().ping().await;
        reader.busy = false;
        Self::checked(&mut slot, pinged).map_err(DbErr::Conn)
    }

    /// The slot, holding a connection (a warm one, or else one from the pool).
    async fn connection(&self) -> Result<Slot<'_>, DbErr> {
        let mut slot = self.conn.lock().await;
        if slot.is_none() {
            let conn = match self.warm.take().await {
                Some(warm) => ReaderConnection::Warm(warm),
                None => ReaderConnection::Pooled(pooled_connection(&self.pool).await?),
            };
            *slot = Some(Reader { conn, busy: false });
        }
        Ok(slot)
    }

    /// `result`, after letting go of a connection that failed: it may be broken
    /// (a pooled one goes back to the pool, which checks it before reuse; a warm one
    /// is closed).
    fn checked<T>(slot: &mut Slot<'_>, result: Result<T, sqlx::Error>) -> Result<T, RuntimeErr> {
        result.map_err(|error| {
            slot.take();
            RuntimeErr::SqlxError(Arc::new(error))
        })
    }

    /// Lets go of the held connection, unless a read is using it: a pooled one goes
    /// back to the pool (for the transaction that follows), a warm one stays warm.
    fn release(&self) {
        if let Ok(mut slot) = self.conn.try_lock()
            && let Some(reader) = slot.take()
            && let ReaderConnection::Warm(warm) = reader.conn
            && !reader.busy
        {
            self.warm.keep(warm);
        }
    }
}

/// At the request's end its connection is kept warm, unless a statement on it was
/// cut short: that one goes back to the pool, which checks it with a round trip
/// (or is closed, if it was warm).
impl Drop for Held {
    fn drop(&mut self) {
        let Some(reader) = self.conn.get_mut().take() else {
            return;
        };
        if reader.busy {
            return;
        }
        match reader.conn {
            ReaderConnection::Warm(warm) => self.warm.keep(warm),
            ReaderConnection::Pooled(pooled) => {
                if let Some(warm) = self.warm.adopt(pooled) {
                    self.warm.keep(warm);
                }
            }
        }
    }
}

type Slot<'a> = tokio::sync::MutexGuard<'a, Option<Reader>>;

/// The reader in a slot that [`Held::connection`] filled.
fn reader<'a>(slot: &'a mut Slot<'_>) -> &'a mut Reader {
    slot.as_mut().expect("Held::connection fills the slot")
}

/// PostgreSQL connections kept open between requests for their reads, detached
/// from the pool (see [`Held`]).
///
/// A connection that goes back to sqlx's pool is checked with a round trip there,
/// and taking one from the pool is a future of kilobytes: for a point lookup of one
/// statement, a second round trip and a fifth of its `memcpy`. A request's
/// connection is kept here instead, and the next request takes it as it is. At
/// most `most` are open at once (the pool's size), so the database sees at most
/// twice the pool's connections. A connection that sat idle 10 s or more is
/// checked before reuse, as the pool checks its own.
pub struct Warm {
    /// How statements run, when through a transaction pooler.
    pooling: Option<TransactionPooling>,
    most: usize,
    /// Idle connections, the most recently used last, and since when.
    idle: std::sync::Mutex<Vec<(WarmConnection, Instant)>>,
    /// Open connections, idle or held by a request.
    open: Arc<AtomicUsize>,
}

/// A connection counted as open while it is.
struct WarmConnection {
    conn: PgConnection,
    open: Arc<AtomicUsize>,
}

impl Drop for WarmConnection {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How long a warm connection may sit idle before it is checked again.
const WARM_UNCHECKED: Duration = Duration::from_secs(10);

impl Warm {
    /// Keeps up to as many connections warm as `db`'s pool holds (none for other
    /// databases than PostgreSQL, whose requests hold no connection).
    pub fn for_database(db: &DatabaseConnection) -> Arc<Self> {
        Self::build(db, None)
    }

    /// Like [`for_database`](Self::for_database), for a pool that reaches
    /// PostgreSQL through a transaction pooler: the statements of requests run as
    /// `pooling` says.
    pub fn through_pooler(db: &DatabaseConnection, pooling: TransactionPooling) -> Arc<Self> {
        Self::build(db, Some(pooling))
    }

    fn build(db: &DatabaseConnection, pooling: Option<TransactionPooling>) -> Arc<Self> {
        let most = match db.get_database_backend() {
            DbBackend::Postgres => db
                .get_postgres_connection_pool()
                .options()
                .get_max_connections(),
            _ => 0,
        };
        Arc::new(Self {
            pooling,
            most: most as usize,
            idle: Default::default(),
            open: Default::default(),
        })
    }

    /// How many connections are open, idle or held by a request.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// How many connections are idle.
    pub fn idle(&self) -> usize {
        self.lock().len()
    }

    /// A warm connection, the most recently used first; one idle for long is
    /// checked first, and closed if it fails.
    async fn take(&self) -> Option<WarmConnection> {
        loop {
            let (mut warm, since) = self.lock().pop()?;
            if since.elapsed() < WARM_UNCHECKED || warm.conn.ping().await.is_ok() {
                return Some(warm);
            }
        }
    }

    /// `pooled`, detached from the pool to be kept warm, unless `most` are open
    /// already (it then goes back to the pool).
    fn adopt(&self, pooled: PoolConnection<Postgres>) -> Option<WarmConnection> {
        let most = self.most;
        self.open
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |open| {
                (open < most).then_some(open + 1)
            })
            .ok()?;
        Some(WarmConnection {
            conn: pooled.detach(),
            open: self.open.clone(),
        })
    }

    fn keep(&self, warm: WarmConnection) {
        self.lock().push((warm, Instant::now()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(WarmConnection, Instant)>> {
        // The list holds no invariant a panicking holder could break.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::fmt::Debug for Warm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Warm")
            .field("most", &self.most)
            .field("open", &self.open())
            .finish_non_exhaustive()
    }
}

/// `stmt` as an sqlx query, bound the way SeaORM binds it.
fn statement(stmt: &Statement) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = stmt.values.clone().unwrap_or(sea_orm::Values(Vec::new()));
    sqlx::query_with(AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

/// The rows of `stmt` on `conn` as SeaORM reads them, taken as they arrive:
/// collecting sqlx's rows first and converting them after moves each row twice.
/// Room for `expected` rows (up to [`MOST_STATEMENT_ROWS_RESERVED`]) is made at
/// once: a vector grown from empty copies its rows at every doubling.
///
/// The rows are read from sqlx's stream of results (`fetch_many`), which ends with
/// the statement's summary: `fetch` filters that stream into another, boxed, whose
/// every row passes through one more future.
async fn collected(
    conn: &mut PgConnection,
    stmt: sqlx::query::Query<'_, Postgres, SqlxValues>,
    expected: usize,
) -> Result<Vec<QueryResult>, sqlx::Error> {
    use futures_util::TryStreamExt as _;
    use sqlx::Executor as _;
    let mut rows = Vec::with_capacity(expected.min(MOST_STATEMENT_ROWS_RESERVED));
    let mut results = conn.fetch_many(stmt);
    while let Some(result) = results.try_next().await? {
        if let sqlx::Either::Right(row) = result {
            rows.push(QueryResult::from(row));
        }
    }
    Ok(rows)
}

/// The most rows [`collected`] makes room for before they come: a statement's
/// expected rows are a bound (every parent's page full), which a large page size
/// over many parents makes far larger than what most statements return.
const MOST_STATEMENT_ROWS_RESERVED: usize = 4096;

/// A connection from `pool`, counted as waited for while it is.
///
/// The wait is boxed: its future is kilobytes, which every statement's future
/// would otherwise carry and copy whole, where few statements wait on the pool.
async fn pooled_connection(pool: &PgPool) -> Result<PoolConnection<Postgres>, DbErr> {
    let _waiting = METRICS.waiting_for_connection();
    Box::pin(pool.acquire()).await.map_err(acquire_error)
}

fn acquire_error(error: sqlx::Error) -> DbErr {
    match error {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        error => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(error))),
    }
}

impl Counting<DatabaseTransaction> {
    /// Commits the transaction. When the connection is lost before the database
    /// answers, whether it committed is unknown, and the error says so.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.inner.commit().await.map_err(|error| {
            if is_unavailable(&error) && !did_not_run(&error) {
                outcome_unknown(&error)
            } else {
                error
            }
        })
    }
}

/// Whether requests' statements are logged whole, with their values (`LOG_SQL_VALUES`).
static LOG_VALUES: AtomicBool = AtomicBool::new(false);

/// Logs every statement a request sends with its values inlined, at `info` under
/// the target `relgql::sql`: the exact SQL, to replay (`bench/run` measures its floor
/// so) or to debug. The values are the data itself, password hashes included: for
/// diagnosis, not for production logs.
pub fn log_statement_values(on: bool) {
    LOG_VALUES.store(on, Ordering::Relaxed);
}

/// The values of `stmt`, in the order of its placeholders, each as the SQL literal
/// its database reads it from: a JSON array, for a replay to bind them as relgql does.
fn value_literals(stmt: &Statement) -> String {
    use sea_orm::sea_query::{
        MysqlQueryBuilder, PostgresQueryBuilder, QueryBuilder, SqliteQueryBuilder, Value,
    };
    fn literals(values: &[Value], builder: impl QueryBuilder) -> Vec<String> {
        values.iter().map(|v| builder.value_to_string(v)).collect()
    }
    let values = stmt.values.as_ref().map_or(&[][..], |values| &values.0[..]);
    let literals = match stmt.db_backend {
        DbBackend::Postgres => literals(values, PostgresQueryBuilder),
        DbBackend::MySql => literals(values, MysqlQueryBuilder),
        // SQLite, and backends SeaORM may add (the enum is not exhaustive).
        _ => literals(values, SqliteQueryBuilder),
    };
    serde_json::to_string(&literals).unwrap_or_default()
}

/// The connections of `db`'s pool now: lent out, and free.
pub fn pool_connections(db: &DatabaseConnection) -> PoolConnections {
    let (size, idle) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::MySql => {
            let pool = db.get_mysql_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    let idle = idle as u64;
    PoolConnections {
        in_use: u64::from(size).saturating_sub(idle),
        idle,
    }
}

impl<C> Counting<C> {
    /// How many statements have been sent so far.
    pub fn statements(&self) -> u32 {
        self.statements.load(Ordering::Relaxed)
    }

    fn sent(&self, stmt: &Statement) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        if LOG_VALUES.load(Ordering::Relaxed) {
            tracing::info!(
                target: "relgql::sql",
                statement = %stmt,
                sql = %stmt.sql,
                values = %value_literals(stmt),
                "statement"
            );
        } else {
            tracing::debug!(sql = %stmt.sql, "statement");
        }
    }
}

impl<C: ConnectionTrait> Counting<C> {
    /// The trace span of `stmt` (when traces are exported).
    fn span(&self, stmt: &Statement) -> tracing::Span {
        let system = match self.inner.get_database_backend() {
            DbBackend::Postgres => "postgresql",
            DbBackend::MySql => "mysql",
            _ => "sqlite",
        };
        telemetry::statement_span(&stmt.sql, system)
    }
}

#[async_trait::async_trait]
impl<C: ConnectionTrait + Send + Sync> ConnectionTrait for Counting<C> {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.sent(&stmt);
        let span = self.span(&stmt);
        self.retrying(&stmt, || self.execute_once(&stmt))
            .instrument(span)
            .await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.inner.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(self.query_all_raw(stmt).await?.into_iter().next())
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.query_rows(stmt, 0).await
    }
}

impl<C: ConnectionTrait + Send + Sync> Counting<C> {
    /// The rows of `stmt`, as [`ConnectionTrait::query_all_raw`] reads them, when
    /// the statement returns about `expected` rows (at most, say, every parent's
    /// page): room for them is made before they come.
    pub async fn query_rows(
        &self,
        stmt: Statement,
        expected: usize,
    ) -> Result<Vec<QueryResult>, DbErr> {
        self.sent(&stmt);
        let span = self.span(&stmt);
        self.retrying(&stmt, || self.query_once(&stmt, expected))
            .instrument(span)
            .await
    }
}

impl<C: ConnectionTrait + Send + Sync> Counting<C> {
    /// Runs `once` (which sends `stmt`), again while it fails in a way that is
    /// safe to retry (see [`Counting::retries`]): a read whenever the database
    /// could not answer, a write only when it surely did not run. A write that may
    /// have run is reported as of unknown outcome.
    async fn retrying<T, F>(&self, stmt: &Statement, once: impl Fn() -> F) -> Result<T, DbErr>
    where
        F: std::future::Future<Output = Result<T, DbErr>>,
    {
        let reads = only_reads(stmt);
        let started = Instant::now();
        let mut pause = RETRY_FIRST_PAUSE;
        loop {
            let attempt = Instant::now();
            let error = match once().await {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            // The next try may take as long as this one did.
            let took = attempt.elapsed();
            if !self.retries {
                return Err(error);
            }
            let safe = if reads {
                is_unavailable(&error)
            } else {
                did_not_run(&error)
            };
            let in_time = started.elapsed() + pause + took < RETRY_FOR
                && self
                    .retry_until
                    .is_none_or(|until| Instant::now() + pause + took < until);
            if safe && in_time {
                tracing::warn!(%error, "the database could not answer; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(RETRY_LONGEST_PAUSE);
                continue;
            }
            if !reads && is_unavailable(&error) && !did_not_run(&error) {
                return Err(outcome_unknown(&error));
            }
            return Err(error);
        }
    }

    async fn execute_once(&self, stmt: &Statement) -> Result<ExecResult, DbErr> {
        if let Some(held) = &self.held {
            held.ping().await?;
            return held.execute(stmt).await;
        }
        if let Some((pool, pooling)) = &self.pooled {
            let mut conn = pooled_connection(pool).await?;
            let done = pooling.execute(&mut conn, stmt).await;
            return Ok(done
                .map_err(|e| DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e))))?
                .into());
        }
        self.inner.execute_raw(stmt.clone()).await
    }

    /// The rows of `stmt`; from the primary when the replica it was sent to cannot
    /// answer (which is then marked down).
    async fn query_once(
        &self,
        stmt: &Statement,
        expected: usize,
    ) -> Result<Vec<QueryResult>, DbErr> {
        let Some(fallback) = &self.fallback else {
            return self.read(stmt, expected).await;
        };
        match self.read(stmt, expected).await {
            Err(error) if is_unavailable(&error) => {
                tracing::warn!(%error, "a replica failed a read: reading from the primary");
                (fallback.replica_failed)();
                fallback.primary.query_all_raw(stmt.clone()).await
            }
            answered => answered,
        }
    }

    async fn read(&self, stmt: &Statement, expected: usize) -> Result<Vec<QueryResult>, DbErr> {
        if let Some(held) = &self.held {
            if !only_reads(stmt) {
                // A write that returns rows (`INSERT … RETURNING`).
                held.ping().await?;
            }
            return held.query_all(stmt, expected).await;
        }
        if let Some((pool, pooling)) = &self.pooled {
            let mut conn = pooled_connection(pool).await?;
            let rows = pooling.fetch_all(&mut conn, stmt, expected).await;
            return rows.map_err(|e| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e))));
        }
        self.inner.query_all_raw(stmt.clone()).await
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
