//! Shared helpers of the integration tests: a scratch database per test on each
//! backend, the app built in-process, and GraphQL requests through its router.
//!
//! Backends: SQLite always; PostgreSQL at `RELGQL_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432`) and MySQL/MariaDB at `RELGQL_TEST_MYSQL`
//! (default `mysql://root@127.0.0.1:3306`). `RELGQL_TEST_BACKENDS=sqlite` limits a
//! run to some of them.

#![allow(dead_code)]

pub mod fixture;
pub mod postgres;
pub mod process;
pub mod ws;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use relgql::api::SchemaOptions;
use relgql::auth::Tokens;
use relgql::db::PoolSettings;
use relgql::engine::pagination::PageLimits;
use relgql::events::Events;
use relgql::http::HttpOptions;
use relgql::{AppState, app};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use serde_json::{Value, json};
use tower::ServiceExt;

/// A database the tests run against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in the temporary directory.
    Sqlite,
    /// A scratch database on the PostgreSQL server.
    Postgres,
    /// A scratch database on the MySQL/MariaDB server.
    MySql,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
        }
    }

    /// Whether this run includes the backend (all of them unless limited).
    pub fn enabled(self) -> bool {
        match std::env::var("RELGQL_TEST_BACKENDS") {
            Ok(list) => list.split(',').any(|b| b.trim() == self.name()),
            Err(_) => true,
        }
    }

    pub fn server_url(self) -> String {
        let (var, default) = match self {
            Self::Sqlite => return String::new(),
            Self::Postgres => ("RELGQL_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
            Self::MySql => ("RELGQL_TEST_MYSQL", "mysql://root@127.0.0.1:3306"),
        };
        std::env::var(var).unwrap_or_else(|_| default.to_owned())
    }
}

/// Runs each named `async fn(Backend)` on every backend, as `<name>::<backend>`.
#[macro_export]
macro_rules! on_every_backend {
    ($($test:ident),+ $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$test($crate::common::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::common::Backend::Postgres.enabled() {
                        super::$test($crate::common::Backend::Postgres).await;
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn mysql() {
                    if $crate::common::Backend::MySql.enabled() {
                        super::$test($crate::common::Backend::MySql).await;
                    }
                }
            }
        )+
    };
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The app over a fresh, migrated scratch database; the database is dropped with it.
pub struct TestApp {
    /// The router, as the server serves it.
    pub router: Router,
    /// A connection to the scratch database, for arranging data.
    pub db: DatabaseConnection,
    /// The app's token issuer, to sign users in without a password.
    pub tokens: Arc<Tokens>,
    /// Stops the app's WebSocket sessions, as a server shutdown does.
    pub shutdown: relgql::http::Shutdown,
    /// The connections the app keeps open between requests (PostgreSQL).
    pub warm: Arc<relgql::db::Warm>,
    backend: Backend,
    /// Declared last: dropped after the pool above is closed.
    scratch: ScratchDatabase,
    /// The token `query`, `data`, `statements` and `error` send, if any.
    reading_as: Option<String>,
}

impl TestApp {
    /// A fresh app with an empty, migrated database on `backend`.
    pub async fn new(backend: Backend) -> Self {
        Self::with_limits(
            backend,
            PageLimits {
                max: 100,
                default: 20,
            },
        )
        .await
    }

    /// A fresh app with the small known data of [`fixture`].
    pub async fn with_fixture(backend: Backend) -> Self {
        let app = Self::new(backend).await;
        fixture::known(&app.db).await;
        app
    }

    /// A fresh app with custom page limits.
    pub async fn with_limits(backend: Backend, limits: PageLimits) -> Self {
        let options = SchemaOptions {
            limits,
            ..SchemaOptions::default()
        };
        Self::with_options(backend, options, HttpOptions::default()).await
    }

    /// A fresh app with custom schema and HTTP settings.
    pub async fn with_options(backend: Backend, options: SchemaOptions, http: HttpOptions) -> Self {
        Self::build(backend, options, http, PoolSettings::from(4)).await
    }

    /// A fresh app with custom pool and HTTP settings.
    pub async fn with_pool(backend: Backend, pool: PoolSettings, http: HttpOptions) -> Self {
        Self::build(backend, SchemaOptions::default(), http, pool).await
    }

    async fn build(
        backend: Backend,
        options: SchemaOptions,
        http: HttpOptions,
        pool: PoolSettings,
    ) -> Self {
        let scratch = ScratchDatabase::new(backend).await;
        let db = relgql::db::migrated(&scratch.url, pool)
            .await
            .expect("a migrated scratch database");
        let state = app_state(&db, options, http).await;
        let (tokens, shutdown, warm) = (
            state.tokens.clone(),
            state.shutdown.clone(),
            state.warm.clone(),
        );
        Self {
            router: app(state),
            db,
            tokens,
            shutdown,
            warm,
            backend,
            scratch,
            reading_as: None,
        }
    }

    /// The scratch database's URL.
    pub fn url(&self) -> &str {
        &self.scratch.url
    }

    /// A pool of its own on the app's database, for holding locks or connections.
    pub async fn other_pool(&self) -> DatabaseConnection {
        relgql::db::connect(&self.scratch.url, 2)
            .await
            .expect("connect again")
    }

    /// Locks `users` (PostgreSQL) from another pool until the transaction ends, so
    /// that statements reading it wait.
    pub async fn lock_users(&self) -> sea_orm::DatabaseTransaction {
        let lock = self.other_pool().await.begin().await.unwrap();
        lock.execute_unprepared("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
        lock
    }

    /// Another instance of the app over the same database, with its own pool and
    /// its own event listener, as a second server process would have.
    pub async fn second_instance(&self) -> Router {
        self.second_instance_with(SchemaOptions::default()).await
    }

    /// Like [`second_instance`](Self::second_instance), with its own schema settings.
    pub async fn second_instance_with(&self, options: SchemaOptions) -> Router {
        let db = relgql::db::connect(&self.scratch.url, 2)
            .await
            .expect("connect again");
        app(app_state(&db, options, HttpOptions::default()).await)
    }

    /// Another instance over the same database whose persisted-query store keeps at
    /// most `most_kept` documents, and which runs only the `trusted` documents when
    /// given (`TRUSTED_DOCUMENTS` with `TRUSTED_DOCUMENTS_ONLY`).
    pub async fn instance_with(
        &self,
        http: HttpOptions,
        most_kept: u32,
        trusted: Option<relgql::persisted::TrustedDocuments>,
    ) -> Router {
        let mut state = app_state(&self.db, SchemaOptions::default(), http).await;
        let only = trusted.is_some();
        let trusted = trusted.unwrap_or_default();
        if only {
            let gate = relgql::api::gate(&state.schema, &SchemaOptions::default());
            state.gate = Arc::new(gate.only(trusted.documents().map(str::to_owned)));
        }
        state.persisted = Arc::new(relgql::persisted::PersistedQueries::new(
            self.db.clone(),
            most_kept,
            trusted,
            only,
        ));
        app(state)
    }

    /// Serves `router` on a free loopback port until the test ends; returns its address.
    pub async fn serve(router: Router) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let address = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, router).await });
        address
    }

    /// Sends a GraphQL query; returns the whole response body.
    pub async fn query(&self, query: &str) -> Value {
        self.query_with(query, json!({})).await
    }

    /// Sends a GraphQL query with variables; returns the whole response body.
    pub async fn query_with(&self, query: &str, variables: Value) -> Value {
        self.query_as_with(self.reading_as.as_deref(), query, variables)
            .await
    }

    /// The app, whose `query`, `data`, `statements` and `error` read as the user
    /// `user_id`, made an admin: one who sees every row and address, for the tests
    /// of what lists, filters and pages do rather than of who sees what.
    pub async fn reading_as_admin(mut self, user_id: i32) -> Self {
        self.make_admin(user_id).await;
        self.reading_as = Some(self.token_for(user_id));
        self
    }

    /// Sends a GraphQL request, signed in with `token` if given; returns the body.
    pub async fn query_as_with(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let (status, body) = self.request(token, query, variables).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "unexpected status for {query}: {body}"
        );
        body
    }

    /// Sends a GraphQL request, signed in with `token` if given; returns status and body.
    pub async fn request(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (StatusCode, Value) {
        let mut request = Request::post("/graphql")
            .header("content-type", "application/json")
            .header(relgql::http::DEBUG_HEADER, "sql");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = json!({ "query": query, "variables": variables }).to_string();
        self.send(request.body(Body::from(body)).expect("a request"))
            .await
    }

    /// Runs a mutation as `token` (or anonymously) and returns its `data`, failing on errors.
    pub async fn write(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.query_as_with(token, query, variables).await;
        assert!(
            body.get("errors").is_none(),
            "unexpected errors for {query}: {body}"
        );
        body["data"].clone()
    }

    /// Runs a request as `token` that must fail; returns the first error's code and message.
    pub async fn write_error(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (String, String) {
        let (_, body) = self.request(token, query, variables).await;
        let error = &body["errors"][0];
        assert!(
            error.is_object(),
            "expected an error for {query}, got {body}"
        );
        (
            error["extensions"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            error["message"].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// A valid token for the user with this database id.
    pub fn token_for(&self, user_id: i32) -> String {
        self.tokens.issue(user_id).expect("a token")
    }

    /// Makes the user with this database id an admin.
    pub async fn make_admin(&self, user_id: i32) {
        self.execute(&format!(
            "UPDATE users SET role = 'admin' WHERE id = {user_id}"
        ))
        .await;
    }

    /// Sends a query and returns its `data`, failing on any error.
    pub async fn data(&self, query: &str) -> Value {
        let body = self.query(query).await;
        assert!(
            body.get("errors").is_none(),
            "unexpected errors for {query}: {body}"
        );
        body["data"].clone()
    }

    /// Sends a query and returns how many SQL statements it took.
    pub async fn statements(&self, query: &str) -> u64 {
        let body = self.query(query).await;
        assert!(
            body.get("errors").is_none(),
            "unexpected errors for {query}: {body}"
        );
        body["extensions"]["sqlStatements"]
            .as_u64()
            .expect("sqlStatements in extensions")
    }

    /// Sends a query that must fail; returns the first error's code and message.
    pub async fn error(&self, query: &str) -> (String, String) {
        let token = self.reading_as.as_deref();
        self.write_error(token, query, json!({})).await
    }

    /// POSTs a JSON body to `/graphql`; returns the status and the JSON body.
    pub async fn post_json(&self, body: &Value) -> (StatusCode, Value) {
        let request = Request::post("/graphql")
            .header("content-type", "application/json")
            .header(relgql::http::DEBUG_HEADER, "sql")
            .body(Body::from(body.to_string()))
            .expect("a request");
        self.send(request).await
    }

    /// Sends a query (without asking for the statement count) and returns the
    /// response's body as the server wrote it.
    pub async fn body_text(&self, query: &str) -> String {
        let request = Request::post("/graphql")
            .header("content-type", "application/json")
            .body(Body::from(json!({ "query": query }).to_string()))
            .expect("a request");
        let (_, bytes) = self.send_raw(request).await;
        String::from_utf8(bytes.to_vec()).expect("a UTF-8 body")
    }

    /// Sends any request to the router; returns the status and the body's bytes.
    pub async fn send_raw(&self, request: Request<Body>) -> (StatusCode, axum::body::Bytes) {
        send_raw(&self.router, request).await
    }

    /// Sends any request to the router; returns the status and the body as JSON
    /// (or as a JSON string when it is not JSON).
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        send(&self.router, request).await
    }

    /// Runs raw SQL on the scratch database.
    pub async fn execute(&self, sql: &str) {
        self.db.execute_unprepared(sql).await.expect("raw SQL");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let db = self.db.clone();
        off_runtime(async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), db.close()).await;
        });
    }
}

/// The state of an instance of the app over `db` (migrated), as `serve` builds it:
/// its own token issuer (reading the keys the database keeps), its own event
/// listener, no read replicas.
pub async fn app_state(
    db: &DatabaseConnection,
    options: SchemaOptions,
    http: HttpOptions,
) -> AppState {
    let schema = relgql::api::schema(options);
    AppState {
        gate: Arc::new(relgql::api::gate(&schema, &options)),
        persisted: Arc::new(relgql::persisted::PersistedQueries::new(
            db.clone(),
            relgql::config::DEFAULT_PERSISTED_QUERIES_MAX,
            Default::default(),
            false,
        )),
        schema,
        tokens: Arc::new(
            Tokens::from_database(db, None, Duration::from_secs(3600))
                .await
                .expect("tokens"),
        ),
        events: Events::for_database(db).await.expect("events"),
        warm: relgql::db::Warm::for_database(db),
        replicas: relgql::replicas::Replicas::none(),
        db: db.clone(),
        debug_sql_count: false,
        http,
        shutdown: Default::default(),
    }
}

/// POSTs a GraphQL request to `router`, signed in with `token` if given; returns the
/// body. For requests sent from a task of their own.
pub async fn post_graphql(
    router: &Router,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = Request::post("/graphql").header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = json!({ "query": query, "variables": variables }).to_string();
    send(router, request.body(Body::from(body)).expect("a request"))
        .await
        .1
}

/// Sends any request to `router`; returns the status and the body's bytes.
pub async fn send_raw(router: &Router, request: Request<Body>) -> (StatusCode, axum::body::Bytes) {
    let response = router.clone().oneshot(request).await.expect("a response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (status, bytes)
}

/// Sends any request to `router`; returns the status and the body as JSON (or as a
/// JSON string when it is not JSON).
pub async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let (status, bytes) = send_raw(router, request).await;
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}

/// Runs `work` to its end on a runtime of its own, from a `Drop` that may run
/// inside or outside a runtime.
fn off_runtime(work: impl std::future::Future<Output = ()> + Send + 'static) -> bool {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(work);
    })
    .join()
    .is_ok()
}

/// An empty database of its own on one backend, dropped with the value.
pub struct ScratchDatabase {
    backend: Backend,
    name: String,
    /// Its URL.
    pub url: String,
}

impl ScratchDatabase {
    /// A new, empty database (nothing migrated) on `backend`.
    pub async fn new(backend: Backend) -> Self {
        let name = format!(
            "relgql_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let url = create_database(backend, &name).await;
        Self { backend, name, url }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let (backend, name) = (self.backend, self.name.clone());
        let dropped = off_runtime(async move { drop_database(backend, &name).await });
        if !dropped && !std::thread::panicking() {
            panic!("could not drop the scratch database {}", self.name);
        }
    }
}

async fn create_database(backend: Backend, name: &str) -> String {
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            format!("sqlite://{}?mode=rwc", path.display())
        }
        Backend::Postgres | Backend::MySql => {
            let server = backend.server_url();
            let admin = admin_connection(backend).await;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create the scratch database");
            format!("{server}/{name}")
        }
    }
}

async fn admin_connection(backend: Backend) -> DatabaseConnection {
    let server = backend.server_url();
    let admin_db = if backend == Backend::Postgres {
        "postgres"
    } else {
        "mysql"
    };
    relgql::db::connect(&format!("{server}/{admin_db}"), 1)
        .await
        .unwrap_or_else(|e| panic!("the {} test server is not reachable: {e:#}", backend.name()))
}

async fn drop_database(backend: Backend, name: &str) {
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        Backend::Postgres => {
            let admin = admin_connection(backend).await;
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
        Backend::MySql => {
            let admin = admin_connection(backend).await;
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                .await;
        }
    }
}

/// Asserts that `body` is the answer of a request that ran out of time: an
/// `INTERNAL_SERVER_ERROR` with reason `TIMEOUT` whose message says `why`, and no
/// database text.
pub fn assert_timed_out(body: &Value, why: &str) {
    let error = &body["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "INTERNAL_SERVER_ERROR",
        "{body}"
    );
    assert_eq!(error["extensions"]["reason"], "TIMEOUT", "{body}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains(why), "{body}");
    assert!(
        !body.to_string().contains("canceling"),
        "no database text: {body}"
    );
}

/// The global id of `type_name` row `id`.
pub fn gid(type_name: &str, id: i32) -> String {
    relgql::engine::ids::encode(type_name, id).0
}

/// Everything a test's tracing subscriber writes, into one shared buffer.
#[derive(Clone, Default)]
pub struct CapturedLog(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    /// Installs the test binary's tracing subscriber (once per binary), writing the
    /// statements relgql sends (`relgql::sql`) and warnings into a new buffer.
    pub fn of_statements() -> Self {
        let captured = Self::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_env_filter("warn,relgql::sql=info")
            .with_writer(move || writer.clone())
            .init();
        captured
    }

    /// What was written since the last take.
    pub fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).expect("UTF-8 logs")
    }
}
