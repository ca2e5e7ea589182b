//! Database faults and slow work: every one ends in a clear error, in bounded time.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestApp};
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

/// Holds an exclusive lock on `users` (PostgreSQL), so that reading it waits.
async fn lock_users(app: &TestApp) -> sea_orm::DatabaseTransaction {
    let other = app.other_pool().await;
    let lock = other.begin().await.unwrap();
    lock.execute_unprepared("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    lock
}

/// An app on PostgreSQL with these pool and HTTP settings; `None` when PostgreSQL
/// is not enabled for the tests.
async fn on_postgres(pool: PoolSettings, http: HttpOptions) -> Option<TestApp> {
    if !Backend::Postgres.enabled() {
        return None;
    }
    Some(TestApp::with_pool(Backend::Postgres, pool, http).await)
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
    let lock = lock_users(&app).await;
    let started = Instant::now();
    let (_, body) = app.request(None, QUERY, json!({})).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    let error = &body["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "INTERNAL_SERVER_ERROR",
        "{body}"
    );
    assert_eq!(error["extensions"]["reason"], "TIMEOUT", "{body}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("statement timeout"),
        "{body}"
    );
    assert!(
        !body.to_string().contains("canceling"),
        "no database text: {body}"
    );
    lock.rollback().await.unwrap();
    let (_, body) = app.request(None, QUERY, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
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
    let http = HttpOptions {
        request_timeout: Duration::from_millis(300),
        ..HttpOptions::default()
    };
    let Some(app) = on_postgres(PoolSettings::from(2), http).await else {
        return;
    };
    let lock = lock_users(&app).await;
    let started = Instant::now();
    let (_, body) = app.request(None, QUERY, json!({})).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["reason"], "TIMEOUT", "{body}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("deadline of 300 ms"),
        "{body}"
    );
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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_connection_the_database_closed_is_let_go() {
    let Some(app) = on_postgres(PoolSettings::from(2), HttpOptions::default()).await else {
        return;
    };
    let (_, body) = app.request(None, QUERY, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(app.warm.idle(), 1);
    let other = app.other_pool().await;
    other
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await
        .unwrap();
    // The warm connection fails its request, and so may the pool's idle one
    // (checked only after 10 s idle, as before); then the reads recover.
    let mut failed = 0;
    loop {
        let (_, body) = app.request(None, QUERY, json!({})).await;
        let Some(errors) = body.get("errors") else {
            break;
        };
        assert_eq!(
            errors[0]["extensions"]["reason"], "DATABASE_UNAVAILABLE",
            "{body}"
        );
        failed += 1;
        assert!(failed <= 2, "{body}");
    }
    assert!(failed >= 1, "the warm connection was closed under it");
    assert_eq!(app.warm.open(), 1, "{:?}", app.warm);
}

on_every_backend!(an_exhausted_pool_waits_a_bounded_time_then_says_so);
