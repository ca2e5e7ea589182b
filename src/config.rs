//! Typed settings, read once at start-up from flags and the environment.

use std::net::SocketAddr;

use clap::{Parser, Subcommand, ValueEnum};

pub use crate::telemetry::LogFormat;

/// The default of `MAX_PAGE_SIZE`.
pub const DEFAULT_MAX_PAGE_SIZE: u32 = 100;
/// The default of `DEFAULT_PAGE_SIZE`.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// The default of `MAX_BODY_BYTES` (1 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1_048_576;
/// The default of `MAX_BATCH`: operations in one batched request.
pub const DEFAULT_MAX_BATCH: usize = 10;

/// The default of `DB_MAX_CONNECTIONS`.
pub const DEFAULT_DB_MAX_CONNECTIONS: u32 = 16;
/// The default of `DB_ACQUIRE_TIMEOUT_MS`.
pub const DEFAULT_DB_ACQUIRE_TIMEOUT_MS: u64 = 3_000;
/// The default of `DB_STATEMENT_TIMEOUT_MS`.
pub const DEFAULT_DB_STATEMENT_TIMEOUT_MS: u64 = 5_000;
/// The default of `REQUEST_TIMEOUT_MS`.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;
/// The default of `MAX_DEPTH`: deepest nesting of fields.
pub const DEFAULT_MAX_DEPTH: u64 = 12;
/// The default of `MAX_FIELDS`: fields (aliases included) in one operation.
pub const DEFAULT_MAX_FIELDS: u64 = 500;
/// The default of `MAX_ROOT_FIELDS`.
pub const DEFAULT_MAX_ROOT_FIELDS: u64 = 32;
/// The default of `MAX_COST` (the benchmark's heaviest query costs about 6,800).
pub const DEFAULT_MAX_COST: u64 = 25_000;
/// The default of `MAX_DIRECTIVES`: directives on one field, fragment or operation.
pub const DEFAULT_MAX_DIRECTIVES: usize = 8;
/// The default of `MAX_QUERY_BYTES` (32 KiB).
pub const DEFAULT_MAX_QUERY_BYTES: usize = 32 * 1024;

/// The default of `PERSISTED_QUERIES_MAX`.
pub const DEFAULT_PERSISTED_QUERIES_MAX: u32 = 10_000;

/// The default of `REPLICA_MAX_LAG_MS`.
pub const DEFAULT_REPLICA_MAX_LAG_MS: u64 = 1_000;

/// The default of `LOGIN_FAILURES_PER_ACCOUNT`.
pub const DEFAULT_LOGIN_FAILURES_PER_ACCOUNT: u32 = 10;
/// The default of `LOGIN_FAILURES_PER_ADDRESS`.
pub const DEFAULT_LOGIN_FAILURES_PER_ADDRESS: u32 = 50;
/// The default of `LOGIN_WINDOW_SECS` (15 minutes).
pub const DEFAULT_LOGIN_WINDOW_SECS: u64 = 900;
/// The default of `MAX_CONCURRENT_REQUESTS`.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 16;

/// The database used when `DATABASE_URL` is not set: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://relgql.db?mode=rwc";

/// relgql: a fast, safe, standard GraphQL API over relational models.
#[derive(Debug, Parser)]
#[command(name = "relgql", version, about)]
pub struct Cli {
    /// Settings shared by every subcommand.
    #[command(flatten)]
    pub settings: Settings,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Settings shared by every subcommand; each is a flag and an environment variable.
#[derive(Clone, Debug, clap::Args)]
pub struct Settings {
    /// Database to use: `sqlite://...`, `postgres://...` or `mysql://...`.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Address to serve on.
    #[arg(
        long,
        env = "LISTEN_ADDR",
        default_value = "127.0.0.1:8000",
        global = true
    )]
    pub listen_addr: SocketAddr,
    /// Address to serve `/metrics` on (Prometheus's text format), apart from the
    /// API so that it is not public by accident; none by default.
    #[arg(long, env = "METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,
    /// Largest `first`/`last` a client may ask for.
    #[arg(long, env = "MAX_PAGE_SIZE", default_value_t = DEFAULT_MAX_PAGE_SIZE, global = true)]
    pub max_page_size: u32,
    /// Page size when a client gives neither `first` nor `last`.
    #[arg(long, env = "DEFAULT_PAGE_SIZE", default_value_t = DEFAULT_PAGE_SIZE, global = true)]
    pub default_page_size: u32,
    /// Most database connections in the pool.
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = DEFAULT_DB_MAX_CONNECTIONS, global = true)]
    pub db_max_connections: u32,
    /// How long a statement waits for a free pooled connection before the request
    /// fails with "the database is unavailable", in milliseconds.
    #[arg(
        long,
        env = "DB_ACQUIRE_TIMEOUT_MS",
        default_value_t = DEFAULT_DB_ACQUIRE_TIMEOUT_MS,
        global = true
    )]
    pub db_acquire_timeout_ms: u64,
    /// How long one SQL statement may run before the database cancels it, in
    /// milliseconds (PostgreSQL and MariaDB/MySQL); 0 for no limit.
    #[arg(
        long,
        env = "DB_STATEMENT_TIMEOUT_MS",
        default_value_t = DEFAULT_DB_STATEMENT_TIMEOUT_MS,
        global = true
    )]
    pub db_statement_timeout_ms: u64,
    /// How long one GraphQL request may take in all, in milliseconds.
    #[arg(
        long,
        env = "REQUEST_TIMEOUT_MS",
        default_value_t = DEFAULT_REQUEST_TIMEOUT_MS,
        global = true
    )]
    pub request_timeout_ms: u64,
    /// Always report the SQL statement count in `extensions` (otherwise only
    /// when a request sends the `x-relgql-debug: sql` header).
    #[arg(long, env = "DEBUG_SQL_COUNT", default_value_t = false, global = true)]
    pub debug_sql_count: bool,
    /// Secret that signs bearer tokens, at least 32 bytes; without it tokens are
    /// signed with keys kept in the database, shared by every instance serving it
    /// and rotated with `relgql keys rotate`.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,
    /// How long a bearer token stays valid, in seconds.
    #[arg(long, env = "TOKEN_TTL_SECS", default_value_t = 86_400, global = true)]
    pub token_ttl_secs: u64,
    /// Origins (`https://app.example.com`) whose pages may call the API from a
    /// browser, comma-separated; none by default (same origin only). Credentials are
    /// allowed only for origins listed here, never for a wildcard.
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_allowed_origins: Vec<String>,
    /// Largest request body, in bytes.
    #[arg(
        long,
        env = "MAX_BODY_BYTES",
        default_value_t = DEFAULT_MAX_BODY_BYTES,
        global = true
    )]
    pub max_body_bytes: usize,
    /// Most operations in one batched request (a JSON array); 0 refuses batches.
    #[arg(long, env = "MAX_BATCH", default_value_t = DEFAULT_MAX_BATCH, global = true)]
    pub max_batch: usize,
    /// Most documents kept for automatic persisted queries (registered by clients,
    /// kept in the database for every instance; the oldest leave first); 0 turns
    /// them off.
    #[arg(long, env = "PERSISTED_QUERIES_MAX", default_value_t = DEFAULT_PERSISTED_QUERIES_MAX, global = true)]
    pub persisted_queries_max: u32,
    /// A trusted-documents manifest, a JSON file of `{id: document}` (as Relay's
    /// compiler or GraphQL Codegen's client preset write it): requests may name its
    /// documents by id (`documentId`, `doc_id`, or `extensions.persistedQuery`).
    #[arg(long, env = "TRUSTED_DOCUMENTS", global = true)]
    pub trusted_documents: Option<std::path::PathBuf>,
    /// Run only the operations of `TRUSTED_DOCUMENTS`, by id or by their exact text,
    /// and refuse every other (with `FORBIDDEN`), GraphiQL's included.
    #[arg(long, env = "TRUSTED_DOCUMENTS_ONLY", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub trusted_documents_only: bool,
    /// How long a shared cache (a CDN) may keep the answer to a query sent with GET
    /// without an `Authorization` header, in seconds (`Cache-Control: public,
    /// max-age=N`); every other answer is `no-store` or `private`.
    #[arg(long, env = "CACHE_MAX_AGE_SECS", default_value_t = 0, global = true)]
    pub cache_max_age_secs: u32,
    /// Deepest nesting of fields in an operation (introspection fields excepted).
    #[arg(long, env = "MAX_DEPTH", default_value_t = DEFAULT_MAX_DEPTH, global = true)]
    pub max_depth: u64,
    /// Most fields in an operation, each alias counted, fragments expanded.
    #[arg(long, env = "MAX_FIELDS", default_value_t = DEFAULT_MAX_FIELDS, global = true)]
    pub max_fields: u64,
    /// Most fields at the root of an operation.
    #[arg(long, env = "MAX_ROOT_FIELDS", default_value_t = DEFAULT_MAX_ROOT_FIELDS, global = true)]
    pub max_root_fields: u64,
    /// Highest cost of an operation: each field costs 1 plus what it selects, and a
    /// list multiplies what it selects by its `first`/`last` (or the default page size).
    #[arg(long, env = "MAX_COST", default_value_t = DEFAULT_MAX_COST, global = true)]
    pub max_cost: u64,
    /// Most directives on one field, fragment spread or operation.
    #[arg(long, env = "MAX_DIRECTIVES", default_value_t = DEFAULT_MAX_DIRECTIVES, global = true)]
    pub max_directives: usize,
    /// Longest query text, in bytes.
    #[arg(long, env = "MAX_QUERY_BYTES", default_value_t = DEFAULT_MAX_QUERY_BYTES, global = true)]
    pub max_query_bytes: usize,
    /// Slots of the concurrency budget: an operation takes one per 2,000 of cost
    /// (at least one), and waits its turn (within its deadline) when they are taken.
    /// Bounds the memory of answers in the making.
    #[arg(long, env = "MAX_CONCURRENT_REQUESTS", default_value_t = DEFAULT_MAX_CONCURRENT_REQUESTS, global = true)]
    pub max_concurrent_requests: usize,
    /// Failed sign-ins allowed per account within `LOGIN_WINDOW_SECS`.
    #[arg(long, env = "LOGIN_FAILURES_PER_ACCOUNT", default_value_t = DEFAULT_LOGIN_FAILURES_PER_ACCOUNT, global = true)]
    pub login_failures_per_account: u32,
    /// Failed sign-ins allowed per client address within `LOGIN_WINDOW_SECS`.
    #[arg(long, env = "LOGIN_FAILURES_PER_ADDRESS", default_value_t = DEFAULT_LOGIN_FAILURES_PER_ADDRESS, global = true)]
    pub login_failures_per_address: u32,
    /// The window over which failed sign-ins are counted, in seconds.
    #[arg(long, env = "LOGIN_WINDOW_SECS", default_value_t = DEFAULT_LOGIN_WINDOW_SECS, global = true)]
    pub login_window_secs: u64,
    /// Whether clients may introspect the schema (GraphiQL needs it).
    #[arg(long, env = "INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub introspection: bool,
    /// What stands between the service and PostgreSQL at `DATABASE_URL`: `none`, or
    /// `transaction` for a pooler that lends a session per transaction (pgbouncer's
    /// `pool_mode = transaction`), which needs `DATABASE_DIRECT_URL`.
    #[arg(long, env = "DATABASE_POOLER", value_enum, default_value_t = Pooler::None, global = true)]
    pub database_pooler: Pooler,
    /// The primary without the pooler, for migrations, the subscriptions' LISTEN
    /// and the service's own statements; `DATABASE_URL` when unset.
    #[arg(
        long,
        env = "DATABASE_DIRECT_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_direct_url: Option<String>,
    /// PostgreSQL standbys that queries may read from, comma-separated; mutations,
    /// subscriptions and everything else use `DATABASE_URL` (the primary).
    #[arg(
        long,
        env = "READ_REPLICA_URLS",
        value_delimiter = ',',
        hide_env_values = true,
        global = true
    )]
    pub read_replica_urls: Vec<String>,
    /// How far a replica may lag behind the primary and still be read from, in
    /// milliseconds.
    #[arg(long, env = "REPLICA_MAX_LAG_MS", default_value_t = DEFAULT_REPLICA_MAX_LAG_MS, global = true)]
    pub replica_max_lag_ms: u64,
    /// Apply pending migrations when `serve` starts. With `false` the service only
    /// checks that the schema is current, and refuses to start if it is not (for
    /// read-only replicas, and deployments that run `relgql migrate up` as a step).
    #[arg(long, env = "MIGRATE_ON_START", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub migrate_on_start: bool,
    /// Log each SQL statement of a request with its values (target `relgql::sql`):
    /// the exact SQL, to replay or debug. The values are the data (password hashes
    /// too): not for production.
    #[arg(long, env = "LOG_SQL_VALUES", default_value_t = false, global = true)]
    pub log_sql_values: bool,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

impl Settings {
    /// How the connection pool behaves.
    pub fn pool(&self) -> crate::db::PoolSettings {
        use std::time::Duration;
        crate::db::PoolSettings {
            max_connections: self.db_max_connections,
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms),
            statement_timeout: (self.db_statement_timeout_ms > 0)
                .then(|| Duration::from_millis(self.db_statement_timeout_ms)),
            transaction_pooler: self.database_pooler == Pooler::Transaction,
        }
    }

    /// The URL that reaches the primary without a pooler: for migrations (and
    /// their lock), the subscriptions' `LISTEN`, and the service's own statements.
    pub fn direct_url(&self) -> &str {
        self.database_direct_url
            .as_deref()
            .unwrap_or_else(|| self.database().0)
    }

    /// The database URL in force, and whether it is the built-in default.
    pub fn database(&self) -> (&str, bool) {
        match &self.database_url {
            Some(url) => (url, false),
            None => (DEFAULT_DATABASE_URL, true),
        }
    }

    /// Checks the settings that clap cannot check on its own.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.max_page_size >= 1, "MAX_PAGE_SIZE must be at least 1");
        anyhow::ensure!(
            (1..=self.max_page_size).contains(&self.default_page_size),
            "DEFAULT_PAGE_SIZE must be between 1 and MAX_PAGE_SIZE ({})",
            self.max_page_size
        );
        anyhow::ensure!(
            self.db_max_connections >= 1,
            "DB_MAX_CONNECTIONS must be at least 1"
        );
        anyhow::ensure!(
            self.request_timeout_ms >= 1 && self.db_acquire_timeout_ms >= 1,
            "REQUEST_TIMEOUT_MS and DB_ACQUIRE_TIMEOUT_MS must be at least 1"
        );
        if self.database_pooler == Pooler::Transaction {
            anyhow::ensure!(
                self.database().0.starts_with("postgres"),
                "DATABASE_POOLER=transaction is for PostgreSQL behind pgbouncer"
            );
            anyhow::ensure!(
                self.database_direct_url.is_some(),
                "DATABASE_POOLER=transaction needs DATABASE_DIRECT_URL: LISTEN and the \
                 migration lock need a session of their own, which the pooler does not keep"
            );
        }
        anyhow::ensure!(
            !self.trusted_documents_only || self.trusted_documents.is_some(),
            "TRUSTED_DOCUMENTS_ONLY needs TRUSTED_DOCUMENTS, the manifest of the documents to run"
        );
        for (name, value) in [
            ("MAX_DEPTH", self.max_depth),
            ("MAX_FIELDS", self.max_fields),
            ("MAX_ROOT_FIELDS", self.max_root_fields),
            ("MAX_COST", self.max_cost),
            (
                "MAX_CONCURRENT_REQUESTS",
                self.max_concurrent_requests as u64,
            ),
        ] {
            anyhow::ensure!(value >= 1, "{name} must be at least 1");
        }
        Ok(())
    }
}

/// What stands between the service and its database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Pooler {
    /// Nothing, or a pooler that keeps a session per client (pgbouncer's session mode).
    None,
    /// A pooler that lends a session per transaction (pgbouncer's transaction mode).
    Transaction,
}

/// The subcommands of `relgql`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations (unless `MIGRATE_ON_START=false`), then serve the
    /// API (the default).
    Serve,
    /// Manage the database schema.
    Migrate {
        /// What to do with the migrations.
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Fill an empty database with data.
    Seed {
        /// Write the benchmark workload (1,000 users, 10,000 posts, 105,000 comments,
        /// 2,000 students, 100 courses) instead of the small demo data.
        #[arg(long)]
        bench: bool,
    },
    /// Grant or revoke the admin role.
    Admin {
        /// What to do.
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Manage the keys that sign bearer tokens (when `JWT_SECRET` is not set).
    Keys {
        /// What to do.
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Print the GraphQL schema (SDL) that the server serves.
    PrintSchema {
        /// Write it to this file instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

/// What `relgql migrate` does.
#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply all pending migrations.
    Up,
    /// Roll back the most recent migrations.
    Down {
        /// How many to roll back.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List the migrations and whether each is applied.
    Status,
}

/// What `relgql keys` does.
#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Sign new tokens with a new key. Tokens signed with older keys stay valid until
    /// they expire; keys that no valid token can carry any more are deleted.
    Rotate,
}

/// What `relgql admin` does.
#[derive(Debug, Subcommand)]
pub enum AdminAction {
    /// Make the user with this email address an admin.
    Grant {
        /// The user's email address.
        email: String,
    },
    /// Make the admin with this email address a plain user again.
    Revoke {
        /// The user's email address.
        email: String,
    },
}
