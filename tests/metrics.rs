//! `/metrics` of a `relgql serve` process, on its own listener: what it counts, that
//! `promtool check metrics` accepts the page, and that a real Prometheus server
//! scrapes it. `promtool` and `prometheus` come from Debian's `prometheus`; without
//! them those parts say so and pass, unless `RELGQL_REQUIRE_PROMETHEUS=1` (as
//! `.ci/run` sets).

mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::postgres::free_port;
use common::process::{Process, get, post};
use common::ws::{connect, next, send};
use common::{Backend, TestApp, gid};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt as _;

/// The value of the series `series` (its name and labels as written) on `page`.
fn value(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Polls `/metrics` at `address` until `series` reaches `wanted`, for up to 10 s.
async fn until(address: SocketAddr, series: &str, wanted: f64) -> String {
    let started = Instant::now();
    loop {
        let (_, page) = get(address, "/metrics").await.expect("the metrics");
        if value(&page, series) == Some(wanted) {
            return page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "gave up after 10 s waiting for {series} to be {wanted}:\n{page}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether a tool of Debian's `prometheus` is here; if not, whether that fails the test.
fn have(tool: &str) -> bool {
    if std::path::Path::new(tool).exists() {
        return true;
    }
    let required = std::env::var("RELGQL_REQUIRE_PROMETHEUS").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "RELGQL_REQUIRE_PROMETHEUS=1 but there is no {tool}"
    );
    eprintln!("no {tool}: install Debian's prometheus to run this part");
    false
}

async fn metrics_count_what_the_service_does(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let metrics = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let (_server, address) = common::process::relgql(
        &[
            ("DATABASE_URL", app.url()),
            ("METRICS_ADDR", &metrics.to_string()),
            ("MAX_COST", "1000"),
        ],
        "relgql serve",
    )
    .await;
    let probe = "query Probe { posts(first: 2) { nodes { title author { name } } } }";
    for _ in 0..2 {
        let (status, body) = post(address, "", probe, json!({})).await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, bad) = post(
        address,
        "",
        "query Bad { node(id: \"bad\") { id } }",
        json!({}),
    )
    .await;
    assert!(bad["errors"].is_array(), "{bad}");
    let costly =
        "query Costly { users(first: 100) { nodes { posts(first: 100) { nodes { id } } } } }";
    let (_, refused) = post(address, "", costly, json!({})).await;
    assert_eq!(refused["errors"][0]["extensions"]["limit"], "cost");
    let (_, invalid) = post(address, "", "query Invalid { nothing }", json!({})).await;
    assert!(invalid["errors"].is_array());

    let (status, page) = get(metrics, "/metrics").await.unwrap();
    assert_eq!(status, 200);
    let requests = |name: &str, outcome: &str| {
        value(
            &page,
            &format!(
                "relgql_graphql_requests_total{{type=\"query\",operation=\"{name}\",outcome=\"{outcome}\"}}"
            ),
        )
    };
    assert_eq!(requests("Probe", "ok"), Some(2.0), "{page}");
    assert_eq!(requests("Bad", "error"), Some(1.0), "{page}");
    assert_eq!(requests("Invalid", "refused"), Some(1.0), "{page}");
    assert_eq!(requests("Costly", "refused"), None, "refused before it ran");
    assert_eq!(
        value(&page, "relgql_graphql_refusals_total{limit=\"cost\"}"),
        Some(1.0)
    );
    // Bad and Invalid send no statement; Probe one or two (its authors joined).
    let statements = |le: &str| {
        value(
            &page,
            &format!("relgql_graphql_sql_statements_bucket{{le=\"{le}\"}}"),
        )
    };
    assert_eq!(statements("0"), Some(2.0), "{page}");
    assert_eq!(statements("2"), Some(4.0), "{page}");
    assert_eq!(
        value(&page, "relgql_graphql_sql_statements_count"),
        Some(4.0)
    );
    assert_eq!(
        value(&page, "relgql_graphql_request_duration_seconds_count"),
        Some(4.0)
    );
    assert!(value(&page, "relgql_db_pool_connections{state=\"idle\"}").is_some());
    assert_eq!(value(&page, "relgql_subscriptions_open"), Some(0.0));
    // Not on the API's address.
    assert_eq!(get(address, "/metrics").await.unwrap().0, 404);

    // A subscription is open while its socket is; a published post is relayed.
    let token = app.token_for(1);
    let mut socket = connect(address, json!({"Authorization": format!("Bearer {token}")})).await;
    assert_eq!(
        next(&mut socket, Duration::from_secs(5)).await.unwrap()["type"],
        "connection_ack"
    );
    let subscribe = json!({"id": "1", "type": "subscribe",
        "payload": {"query": "subscription { postPublished { id } }"}});
    send(&mut socket, subscribe).await;
    until(metrics, "relgql_subscriptions_open", 1.0).await;
    let publish = "mutation($input: UpdatePostInput!) { updatePost(input: $input) { id } }";
    let input = json!({"input": {"id": gid("Post", 2), "published": true}});
    let (_, published) = post(address, &token, publish, input).await;
    assert!(published["errors"].is_null(), "{published}");
    until(metrics, "relgql_events_relayed_total", 1.0).await;
    drop(socket);
    let page = until(metrics, "relgql_subscriptions_open", 0.0).await;
    assert_eq!(
        value(
            &page,
            "relgql_graphql_requests_total{type=\"mutation\",operation=\"anonymous\",outcome=\"ok\"}"
        ),
        Some(1.0)
    );

    if have("/usr/bin/promtool") {
        promtool_accepts(&page).await;
    }
    if have("/usr/bin/prometheus") {
        prometheus_scrapes(metrics).await;
    }
}

async fn promtool_accepts(page: &str) {
    let mut check = tokio::process::Command::new("/usr/bin/promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    let mut stdin = check.stdin.take().unwrap();
    stdin.write_all(page.as_bytes()).await.unwrap();
    drop(stdin);
    let output = check.wait_with_output().await.unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && said.trim().is_empty(),
        "promtool: {said}\n{page}"
    );
}

/// A Prometheus server of the test's own scrapes `metrics` every second, until
/// its query API has the probe's count.
async fn prometheus_scrapes(metrics: SocketAddr) {
    let dir = common::postgres::Scratch::new("prometheus");
    let config = dir.path.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: relgql\n    \
             static_configs:\n      - targets: ['{metrics}']\n"
        ),
    )
    .unwrap();
    let web = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut prometheus = Process::spawn(
        tokio::process::Command::new("/usr/bin/prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path.join("data").display()
            ))
            .arg(format!("--web.listen-address={web}")),
        "prometheus",
    );
    prometheus.ready(web, "/-/ready").await;
    let query = "/api/v1/query?query=relgql_graphql_requests_total%7Boperation%3D%22Probe%22%7D";
    let started = Instant::now();
    loop {
        let (_, body) = get(web, query).await.unwrap();
        let answer: Value = serde_json::from_str(&body).unwrap_or_default();
        if answer["data"]["result"][0]["value"][1] == "2" {
            assert_eq!(answer["data"]["result"][0]["metric"]["job"], "relgql");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "gave up after 30 s waiting for Prometheus to scrape the probe's count: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

on_every_backend!(metrics_count_what_the_service_does);
