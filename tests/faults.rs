//! Database faults and slow work: every one ends in a clear error, in bounded time.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestApp, assert_timed_out};
use relgql::db::PoolSettings;
use relgql::http::HttpOptions;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;

const QUERY: &str = "{ users(first: 1) { totalCount } }";

async fn an_exhausted_pool_waits_a_bounded_time_then_says_so(backend: Backend) {
    let pool = PoolSettings {
        max_connections: 1,
        acquire_timeout: Duration::from_millis(300),
        statement_timeout: None,
        ..PoolSettings::default()
    };
    let app = TestApp::with_pool(backend, pool, HttpOptions::default()).await;
    // The app's only connection, taken.
    let held = app.db.begin().await.unwrap();
    let started = Instant::now();
    let (_, body) = app.request(None, QUERY, json!({})).await;
    let waited = started.elapsed();
    let error = &body["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "INTERNAL_SERVER_ERROR",
        "{body}"
    );
    assert_eq!(
        error["extensions"]["reason"], "DATABASE_UNAVAILABLE",
        "{body}"
    );
    assert_eq!(
        error["message"],
        "the database is unavailable; try again shortly"
    );
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    held.rollback().await.unwrap();
    // With the connection back, the same request works.
    let (_, body) = app.request(None, QUERY, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
}

/// An app on PostgreSQL with these pool and HTTP settings; `None` when PostgreSQL
/// is not enabled for the tests.
async fn on_postgres(pool: PoolSettings, http: HttpOptions) -> Option<TestApp> {
    if !Backend::Postgres.enabled() {
        return None;
    }
    Some(TestApp::with_pool(Backend::Postgres, pool, http).await)
}

/// An app on PostgreSQL whose requests have this deadline, with a pool of two.
async fn with_deadline(deadline: Duration) -> Option<TestApp> {
    let http = HttpOptions {
        request_timeout: deadline,
        ..HttpOptions::default()
    };
    on_postgres(PoolSettings::from(2), http).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_statement_is_cancelled_at_the_statement_timeout() {
    let pool = PoolSettings {
        statement_timeout: Some(Duration::from_millis(300)),
        ..PoolSettings::from(2)
    };
    let Some(app) = on_postgres(pool, HttpOptions::default()).await else {
        return;
    };
    let lock = app.lock_users().await;
    let started = Instant::now();
    let (_, body) = app.request(None, QUERY, json!({})).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_timed_out(&body, "statement timeout");
    lock.rollback().await.unwrap();
    let (_, body) = app.request(None, QUERY, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
}

/// A batch is one request: its operations share the request's deadline, so a batch
/// of three operations that each wait on a lock ends at the deadline, not three
/// deadlines later, every operation answering `TIMEOUT`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_ends_at_one_deadline() {
    let Some(app) = with_deadline(Duration::from_millis(1000)).await else {
        return;
    };
    let lock = app.lock_users().await;
    let started = Instant::now();
    let batch = json!([{"query": QUERY}, {"query": QUERY}, {"query": QUERY}]);
    let (_, body) = app.post_json(&batch).await;
    let took = started.elapsed();
    lock.rollback().await.unwrap();
    let answers = body
        .as_array()
        .unwrap_or_else(|| panic!("an array: {body}"));
    assert_eq!(answers.len(), 3, "{body}");
    for answer in answers {
        assert_timed_out(answer, "deadline of 1000 ms");
    }
    assert!(took < Duration::from_millis(2500), "took {took:?}");
}

/// The pool's PostgreSQL sessions carry their settings: the statement timeout, and
/// one plan per statement (a batch's `IN` list is otherwise planned on every run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sessions_carry_the_pool_settings() {
    let pool = PoolSettings {
        statement_timeout: Some(Duration::from_millis(1500)),
        ..PoolSettings::from(2)
    };
    let Some(app) = on_postgres(pool, HttpOptions::default()).await else {
        return;
    };
    let show = |setting: &'static str| {
        let db = app.db.clone();
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DatabaseBackend::Postgres,
                    format!("SHOW {setting}"),
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<String>(0).unwrap()
        }
    };
    assert_eq!(show("plan_cache_mode").await, "force_generic_plan");
    assert_eq!(show("statement_timeout").await, "1500ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_ends_with_a_clear_error() {
    let Some(app) = with_deadline(Duration::from_millis(300)).await else {
        return;
    };
    let lock = app.lock_users().await;
    let started = Instant::now();
    let (_, body) = app.request(None, QUERY, json!({})).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_timed_out(&body, "deadline of 300 ms");
    // Cut short mid-statement, its connection went back to the pool (which checks
    // it), not to the warm ones.
    assert_eq!(app.warm.open(), 0);
    lock.rollback().await.unwrap();
    // The connection the cut request held is usable again.
    let (_, body) = app.request(None, QUERY, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(app.warm.open(), 1, "a finished request's stays warm");
}

/// A request's connection stays open for the next request (sqlx would check it with
/// a round trip on its way back to the pool), never more than the pool's size of
/// them, and transactions still find a connection in the pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_keep_their_connection_warm_within_the_pools_size() {
    let Some(app) = on_postgres(PoolSettings::from(1), HttpOptions::default()).await else {
        return;
    };
    common::fixture::scaled(&app.db, 10).await;
    assert_eq!((app.warm.open(), app.warm.idle()), (0, 0));
    for _ in 0..3 {
        let (_, body) = app.request(None, QUERY, json!({})).await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!((app.warm.open(), app.warm.idle()), (1, 1), "one, reused");
    }
    let requests = (0..8).map(|_| app.request(None, QUERY, json!({})));
    for (_, body) in futures_util::future::join_all(requests).await {
        assert!(body.get("errors").is_none(), "{body}");
    }
    assert!(
        app.warm.open() <= 2,
        "at most the pool's size: {:?}",
        app.warm
    );

    // Every connection the app opened may be warm now; a write's transaction still
    // gets one from the pool.
    let token = app.token_for(1);
    let data = app
        .write(
            Some(&token),
            "mutation($input: CreateCommentInput!) { createComment(input: $input) { body } }",
            json!({ "input": { "body": "warm", "postId": common::gid("Post", 1) } }),
        )
        .await;
    assert_eq!(data["createComment"]["body"], "warm");
    let (_, body) = app
        .request(
            None,
            "{ post(id: \"UG9zdDox\") { comments(last: 1) { nodes { body } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["post"]["comments"]["nodes"][0]["body"], "warm",
        "{body}"
    );
}

/// A warm connection the database closed fails the request that takes it, with a
/// clear error, and is closed; the next request reads on a fresh one.
/// Every connection of the app's database closed by the server.
async fn terminate_connections(app: &TestApp) {
    app.other_pool()
        .await
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await
        .unwrap();
}

/// A read whose connection the database closed (a restart, a failover) is read
/// again on another: the client sees no error, and the dead connection is let go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_on_a_connection_the_database_closed_is_read_again() {
    let Some(app) = on_postgres(PoolSettings::from(2), HttpOptions::default()).await else {
        return;
    };
    let (_, body) = app.request(None, QUERY, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(app.warm.idle(), 1);
    terminate_connections(&app).await;
    for _ in 0..3 {
        let (_, body) = app.request(None, QUERY, json!({})).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    assert_eq!(app.warm.open(), 1, "{:?}", app.warm);
}

const WRITE: &str =
    "mutation($input: CreateCommentInput!) { createComment(input: $input) { body } }";

fn comment(body: &str) -> serde_json::Value {
    json!({"input": {"postId": common::gid("Post", 1), "body": body}})
}

async fn count_comments(app: &TestApp, body: &str) -> i64 {
    app.other_pool()
        .await
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT count(*) FROM comments WHERE body = '{body}'"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap()
}

/// A write refused by a read-only database (a standby, mid-failover) surely did not
/// run: it is sent again until the database takes it, within a bound, after which
/// the client is told to try again. It is never applied twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_a_read_only_database_refused_is_sent_again() {
    let Some(app) = on_postgres(PoolSettings::from(2), HttpOptions::default()).await else {
        return;
    };
    common::fixture::known(&app.db).await;
    let token = app.token_for(2);
    let read_only = |on: bool| {
        let app = &app;
        async move {
            let setting = if on {
                "SET default_transaction_read_only = on"
            } else {
                "RESET default_transaction_read_only"
            };
            let database = app.url().rsplit('/').next().unwrap().to_owned();
            // From another database: the scratch one refuses writes, this one too.
            let admin = format!("{}/postgres", Backend::Postgres.server_url());
            relgql::db::connect(&admin, 1)
                .await
                .unwrap()
                .execute_unprepared(&format!("ALTER DATABASE {database} {setting}"))
                .await
                .unwrap();
            terminate_connections(app).await;
        }
    };
    // Read-only for good: after the bound, a clear error; nothing written.
    read_only(true).await;
    let started = Instant::now();
    let (code, message) = app
        .write_error(Some(&token), WRITE, comment("refused"))
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(code, "INTERNAL_SERVER_ERROR");
    assert!(message.contains("try again"), "{message}");
    // Read-only for a moment, as in a failover: the write lands, once.
    let write = {
        let (router, token) = (app.router.clone(), token.clone());
        tokio::spawn(async move {
            common::post_graphql(&router, Some(&token), WRITE, comment("landed")).await
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    read_only(false).await;
    let body = write.await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(count_comments(&app, "refused").await, 0);
    assert_eq!(count_comments(&app, "landed").await, 1);
}

/// A write whose connection is lost while the database runs it may or may not be
/// applied: it is not sent again, and the client is told exactly that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_connection_is_lost_reports_an_unknown_outcome() {
    let Some(app) = on_postgres(PoolSettings::from(2), HttpOptions::default()).await else {
        return;
    };
    common::fixture::known(&app.db).await;
    app.execute(
        "CREATE FUNCTION slow_comment() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN PERFORM pg_sleep(5); RETURN NEW; END $$;
         CREATE TRIGGER slow_comment BEFORE INSERT ON comments
         FOR EACH ROW WHEN (NEW.body = 'slow') EXECUTE FUNCTION slow_comment();",
    )
    .await;
    let token = app.token_for(2);
    let write = {
        let (router, token) = (app.router.clone(), token.clone());
        tokio::spawn(async move {
            common::post_graphql(&router, Some(&token), WRITE, comment("slow")).await
        })
    };
    let other = app.other_pool().await;
    let started = Instant::now();
    loop {
        let cut = other
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event = 'PgSleep'",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap();
        if cut > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the write never reached the database"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let body = write.await.unwrap();
    let error = &body["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "INTERNAL_SERVER_ERROR",
        "{body}"
    );
    assert_eq!(error["extensions"]["reason"], "OUTCOME_UNKNOWN", "{body}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("may or may not"),
        "{body}"
    );
    assert!(started.elapsed() < Duration::from_secs(4), "not sent again");
}

on_every_backend!(an_exhausted_pool_waits_a_bounded_time_then_says_so);
