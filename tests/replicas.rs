//! Queries read from a PostgreSQL standby that is up and caught up; a write's
//! response carries the primary's WAL position, and a query that sends it back
//! never reads older data; a standby too far behind, or down, is skipped.
//!
//! Each test starts its own primary and standby (see `common::postgres`).

mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::postgres::Replicated;
use common::{Backend, TestApp, app_state, fixture};
use http_body_util::BodyExt as _;
use relgql::http::WAL_POSITION_HEADER;
use relgql::replicas::Replicas;
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// A replicated cluster with the known data, and the app over it reading from the
/// standby while it lags at most `max_lag`.
struct Cluster {
    replicated: Replicated,
    primary: DatabaseConnection,
    standby: DatabaseConnection,
    router: Router,
    token: String,
}

impl Cluster {
    async fn start(max_lag: Duration) -> Self {
        let replicated = Replicated::start().await;
        let primary = relgql::db::migrated(&replicated.primary.url("relgql"), 4)
            .await
            .expect("a migrated primary");
        fixture::known(&primary).await;
        let standby = common::postgres::connect(&replicated.standby.url("relgql")).await;
        let mut state = app_state(&primary, Default::default(), Default::default()).await;
        state.replicas = Replicas::connect(
            &primary,
            &[replicated.standby.url("relgql")],
            max_lag,
            4.into(),
        )
        .await
        .expect("replicas");
        let token = state.tokens.issue(1).expect("a token");
        let cluster = Self {
            replicated,
            primary,
            standby,
            router: relgql::app(state),
            token,
        };
        let posts = cluster.count_on(&cluster.primary, "posts").await;
        wait_until("the standby to replay the known data", || async {
            cluster.count_on(&cluster.standby, "posts").await == posts
        })
        .await;
        cluster
    }

    async fn count_on(&self, db: &DatabaseConnection, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {table}");
        db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await
            .expect("a count")
            .expect("a row")
            .try_get_by_index(0)
            .expect("a number")
    }

    async fn standby_replay(&self, action: &str) {
        self.standby
            .execute_unprepared(&format!("SELECT pg_wal_replay_{action}()"))
            .await
            .expect("pause or resume the standby's replay");
    }

    /// Sends `query` with the token and, if given, a WAL position; returns the
    /// status, the body and the position the response carries.
    async fn send(
        &self,
        query: &str,
        position: Option<&str>,
    ) -> (StatusCode, Value, Option<String>) {
        let mut request = Request::post("/graphql")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", self.token));
        if let Some(position) = position {
            request = request.header(WAL_POSITION_HEADER, position);
        }
        let body = json!({ "query": query }).to_string();
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let carried = response
            .headers()
            .get(WAL_POSITION_HEADER)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap(), carried)
    }

    /// The posts' total count as a query sees it.
    async fn posts_seen(&self, position: Option<&str>) -> i64 {
        let (status, body, _) = self.send("{ posts { totalCount } }", position).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        body["data"]["posts"]["totalCount"].as_i64().unwrap()
    }

    /// Writes a published post through the API; returns the position its response
    /// carries.
    async fn create_post(&self) -> String {
        let mutation =
            "mutation { createPost(input: {title: \"new\", body: \"b\", published: true}) { id } }";
        let (_, body, position) = self.send(mutation, None).await;
        assert!(body.get("errors").is_none(), "{body}");
        position.expect("a write's response carries the primary's position")
    }
}

/// Polls `done` every 50 ms for up to 20 s; panics naming `what` when it never is.
async fn wait_until<F: Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "gave up after 20 s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn queries_read_from_the_standby_unless_it_has_not_replayed_their_writes() {
    let cluster = Cluster::start(Duration::from_secs(60)).await;
    let before = cluster.posts_seen(None).await;
    cluster.standby_replay("pause").await;
    let position = cluster.create_post().await;
    // Without the position a query reads from the standby, which has not replayed
    // the write (the lag bound of a minute keeps it in use).
    assert_eq!(
        cluster.posts_seen(None).await,
        before,
        "read from the standby"
    );
    // With it, from the primary.
    assert_eq!(cluster.posts_seen(Some(&position)).await, before + 1);
    // A query's response carries no position; a malformed one is refused.
    let (_, _, carried) = cluster.send("{ posts { totalCount } }", None).await;
    assert_eq!(carried, None);
    let (status, body, _) = cluster
        .send("{ posts { totalCount } }", Some("latest"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    // Once the standby replays the write, reads see it without the position too.
    cluster.standby_replay("resume").await;
    wait_until("the standby to replay the write", || async {
        cluster.posts_seen(None).await == before + 1
    })
    .await;
    assert_eq!(cluster.posts_seen(Some(&position)).await, before + 1);
}

#[tokio::test]
async fn a_standby_further_behind_than_the_bound_is_skipped() {
    let cluster = Cluster::start(Duration::from_millis(300)).await;
    let before = cluster.posts_seen(None).await;
    cluster.standby_replay("pause").await;
    cluster.create_post().await;
    // The standby replays nothing more, so only the primary can answer the new count:
    // it does once the standby lags past the bound.
    wait_until("reads to leave the lagging standby", || async {
        cluster.posts_seen(None).await == before + 1
    })
    .await;
    assert_eq!(cluster.count_on(&cluster.standby, "posts").await, before);
}

#[tokio::test]
async fn a_standby_that_is_down_is_skipped_from_the_first_failed_read() {
    let mut cluster = Cluster::start(Duration::from_secs(60)).await;
    let before = cluster.posts_seen(None).await;
    cluster.replicated.standby.kill();
    // Not one query fails: the first that meets the dead standby is read again from
    // the primary, and the standby is skipped from then on.
    for _ in 0..20 {
        assert_eq!(cluster.posts_seen(None).await, before);
    }
    let position = cluster.create_post().await;
    assert_eq!(cluster.posts_seen(Some(&position)).await, before + 1);
    assert_eq!(cluster.posts_seen(None).await, before + 1);
}

/// Without replicas the header is still checked, and ignored when well-formed.
async fn a_wal_position_without_replicas_is_checked_and_harmless(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let send = |position: &'static str| {
        let request = Request::post("/graphql")
            .header("content-type", "application/json")
            .header(WAL_POSITION_HEADER, position)
            .body(Body::from(
                json!({"query": "{ users { totalCount } }"}).to_string(),
            ))
            .unwrap();
        app.send(request)
    };
    let (status, body) = send("0/16B3748").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"]["users"]["totalCount"].as_i64().unwrap() > 0);
    for bad in ["16B3748", "x/1", "0/123456789"] {
        let (status, body) = send(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    }
}

on_every_backend!(a_wal_position_without_replicas_is_checked_and_harmless);
