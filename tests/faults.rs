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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_statement_is_cancelled_at_the_statement_timeout() {
    if !Backend::Postgres.enabled() {
        return;
    }
    let pool = PoolSettings {
        statement_timeout: Some(Duration::from_millis(300)),
        ..PoolSettings::from(2)
    };
    let app = TestApp::with_pool(Backend::Postgres, pool, HttpOptions::default()).await;
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
    if !Backend::Postgres.enabled() {
        return;
    }
    let pool = PoolSettings {
        statement_timeout: Some(Duration::from_millis(1500)),
        ..PoolSettings::from(2)
    };
    let app = TestApp::with_pool(Backend::Postgres, pool, HttpOptions::default()).await;
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
    if !Backend::Postgres.enabled() {
        return;
    }
    let http = HttpOptions {
        request_timeout: Duration::from_millis(300),
        ..HttpOptions::default()
    };
    let app = TestApp::with_pool(Backend::Postgres, PoolSettings::from(2), http).await;
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
    lock.rollback().await.unwrap();
    // The connection the cut request held is usable again.
    let (_, body) = app.request(None, QUERY, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
}

on_every_backend!(an_exhausted_pool_waits_a_bounded_time_then_says_so);
