//! PostgreSQL stopped under load and started again: requests fail fast with a clear
//! error, `/health` says not ready, and the service recovers by itself.
//!
//! It stops the shared PostgreSQL cluster, so it is ignored by default and run on
//! its own by `.ci/run`, with `RELGQL_TEST_PG_RESTART` set to the command that
//! controls the cluster (`pg_ctlcluster --skip-systemctl-redirect 15 main`).

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Backend, TestApp};
use relgql::db::PoolSettings;
use relgql::http::HttpOptions;
use serde_json::{Value, json};

const QUERY: &str = "{ users(first: 2) { nodes { name posts(first: 2) { totalCount } } } }";
const DEADLINE: Duration = Duration::from_secs(3);

/// Runs the cluster command with `action`; whether it succeeded.
fn run_cluster(action: &str) -> bool {
    let command = std::env::var("RELGQL_TEST_PG_RESTART").expect("RELGQL_TEST_PG_RESTART");
    let mut words = command.split_whitespace();
    std::process::Command::new(words.next().expect("a command"))
        .args(words)
        .arg(action)
        .status()
        .is_ok_and(|status| status.success())
}

/// The shared cluster, stopped; started again when dropped, also when the test
/// fails, so that no test after it finds the server down.
struct Stopped {
    started: bool,
}

impl Stopped {
    fn now() -> Self {
        assert!(run_cluster("stop"), "cannot stop the cluster");
        Self { started: false }
    }

    fn start(mut self) {
        self.started = true;
        assert!(run_cluster("start"), "cannot start the cluster");
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        if !self.started {
            run_cluster("start");
        }
    }
}

async fn health(app: &TestApp) -> StatusCode {
    app.send(Request::get("/health").body(Body::empty()).unwrap())
        .await
        .0
}

/// One request: how long it took and its first error's `reason` (`None` when it succeeded).
async fn probe(app: &TestApp) -> (Duration, Option<String>, Value) {
    let started = Instant::now();
    let (_, body) = app.request(None, QUERY, json!({})).await;
    let reason = body.get("errors").map(|errors| {
        errors[0]["extensions"]["reason"]
            .as_str()
            .unwrap_or("none")
            .to_owned()
    });
    (started.elapsed(), reason, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stops the shared PostgreSQL cluster; .ci/run runs it on its own"]
async fn the_service_rides_out_a_postgres_restart() {
    let pool = PoolSettings {
        max_connections: 4,
        acquire_timeout: Duration::from_secs(1),
        statement_timeout: Some(Duration::from_secs(2)),
        ..PoolSettings::default()
    };
    let http = HttpOptions {
        request_timeout: DEADLINE,
        ..HttpOptions::default()
    };
    let app = TestApp::with_pool(Backend::Postgres, pool, http).await;
    common::fixture::known(&app.db).await;
    let (_, reason, body) = probe(&app).await;
    assert_eq!(reason, None, "{body}");
    assert_eq!(health(&app).await, StatusCode::OK);

    // Load from a few clients while the database goes away.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let stop = stop.clone();
        let router = app.router.clone();
        clients.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let request = Request::post("/graphql")
                    .header("content-type", "application/json")
                    .body(Body::from(json!({ "query": QUERY }).to_string()))
                    .unwrap();
                let response = tower::ServiceExt::oneshot(router.clone(), request).await;
                outcomes.push((started.elapsed(), response.map(|r| r.status()).ok()));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            outcomes
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped = Stopped::now();

    let down = async {
        // While it is down: fast, clear failures, and /health not ready.
        let mut reasons = Vec::new();
        for _ in 0..5 {
            let (took, reason, body) = probe(&app).await;
            assert!(
                took < DEADLINE + Duration::from_secs(1),
                "took {took:?}: {body}"
            );
            let text = body.to_string();
            assert!(
                !text.contains("Connection refused") && !text.contains("os error"),
                "no internals: {text}"
            );
            reasons.push(reason);
        }
        assert!(
            reasons
                .iter()
                .all(|r| r.as_deref() == Some("DATABASE_UNAVAILABLE")),
            "{reasons:?}"
        );
        assert_eq!(health(&app).await, StatusCode::SERVICE_UNAVAILABLE);
    };
    down.await;

    stopped.start();
    // Recovery with no restart of the service.
    let recovered = Instant::now();
    loop {
        let (_, reason, _) = probe(&app).await;
        if reason.is_none() && health(&app).await == StatusCode::OK {
            break;
        }
        assert!(
            recovered.elapsed() < Duration::from_secs(30),
            "no recovery within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for client in clients {
        for (took, status) in client.await.unwrap() {
            assert!(
                took < DEADLINE + Duration::from_secs(1),
                "a request hung for {took:?}"
            );
            assert_eq!(status, Some(StatusCode::OK), "answers stay GraphQL answers");
        }
    }
}
