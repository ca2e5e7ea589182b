//! Traces over OTLP: a `relgql serve` process sends them (HTTP, JSON) to a
//! receiver this test runs: a span per request, joined to the caller's trace by
//! its `traceparent`, with a child span per SQL statement that carries the
//! statement's shape and never its parameters.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use common::process::post_with_headers;
use common::{Backend, TestApp};
use serde_json::{Value, json};

/// Every span received, as OTLP's JSON writes it.
type Received = Arc<Mutex<Vec<Value>>>;

/// An OTLP/HTTP receiver of traces (JSON) on a free port.
async fn receiver() -> (SocketAddr, Received, Received) {
    let spans = Received::default();
    let bodies = Received::default();
    let router = Router::new()
        .route(
            "/v1/traces",
            post(
                async |State((spans, bodies)): State<(Received, Received)>, body: Bytes| {
                    let request: Value = serde_json::from_slice(&body).expect("OTLP JSON");
                    for resource in request["resourceSpans"].as_array().into_iter().flatten() {
                        for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                            for span in scope["spans"].as_array().into_iter().flatten() {
                                let mut span = span.clone();
                                span["resource"] = resource["resource"].clone();
                                spans.lock().unwrap().push(span);
                            }
                        }
                    }
                    bodies.lock().unwrap().push(request);
                    "{}"
                },
            ),
        )
        .with_state((spans.clone(), bodies.clone()));
    (TestApp::serve(router).await, spans, bodies)
}

fn attribute<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

/// Waits (up to 20 s) until a span named `name` has arrived; returns it and every
/// span received so far.
async fn until_span(spans: &Received, name: &str) -> (Value, Vec<Value>) {
    let started = Instant::now();
    loop {
        let all = spans.lock().unwrap().clone();
        if let Some(span) = all.iter().find(|s| s["name"] == name) {
            return (span.clone(), all);
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "gave up after 20 s waiting for the span {name}; received {all:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn requests_and_their_statements_are_traced(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let (otlp, spans, bodies) = receiver().await;
    let (_server, address) = common::process::relgql(
        &[
            ("DATABASE_URL", app.url()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &format!("http://{otlp}")),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_SERVICE_NAME", "relgql-under-test"),
        ],
        "relgql serve",
    )
    .await;
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let caller = "b7ad6b7169203331";
    let needle = "needle-in-a-parameter";
    let query = format!(
        "query Traced {{ posts(first: 2, filter: {{title: {{contains: \"{needle}\"}}}}) {{ nodes {{ title author {{ name }} }} }} }}"
    );
    let traceparent = format!("00-{trace}-{caller}-01");
    let (status, body) =
        post_with_headers(address, &[("traceparent", &traceparent)], &query, json!({})).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = post_with_headers(
        address,
        &[],
        "query Untraced { posts { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(status, 200);

    let (request, all) = until_span(&spans, "query Traced").await;
    assert_eq!(request["traceId"], trace, "{request:#}");
    assert_eq!(request["parentSpanId"], caller, "{request:#}");
    assert_eq!(request["kind"], 2, "a server span: {request:#}");
    assert_eq!(
        attribute(&request, "graphql.operation.type"),
        Some(&json!({"stringValue": "query"}))
    );
    assert_eq!(
        attribute(&request, "graphql.operation.name"),
        Some(&json!({"stringValue": "Traced"}))
    );
    assert_eq!(
        attribute(&request, "relgql.outcome"),
        Some(&json!({"stringValue": "ok"}))
    );
    let statements = attribute(&request, "relgql.sql_statements").expect("a statement count");
    // OTLP's JSON writes 64-bit integers as strings.
    let count: u64 = statements["intValue"]
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("an integer: {statements}"));
    assert!(count >= 1, "{request:#}");
    assert!(attribute(&request, "relgql.cost").is_some());
    let resource = request["resource"]["attributes"].to_string();
    assert!(resource.contains("relgql-under-test"), "{resource}");

    let children: Vec<&Value> = all
        .iter()
        .filter(|s| s["parentSpanId"] == request["spanId"])
        .collect();
    assert_eq!(
        children.len() as u64,
        count,
        "one span per statement: {all:#?}"
    );
    for child in &children {
        assert_eq!(child["traceId"], trace);
        let statement = attribute(child, "db.query.text").expect("the statement")["stringValue"]
            .as_str()
            .unwrap();
        assert!(statement.to_uppercase().contains("SELECT"), "{statement}");
    }
    // The parameter is nowhere in what was sent.
    let sent = bodies
        .lock()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect::<String>();
    assert!(!sent.contains(needle), "a parameter reached the traces");

    let (untraced, _) = until_span(&spans, "query Untraced").await;
    assert_ne!(
        untraced["traceId"], trace,
        "a request without traceparent starts a trace"
    );
    assert!(
        untraced["parentSpanId"].as_str().is_none_or(str::is_empty),
        "{untraced:#}"
    );
}

on_every_backend!(requests_and_their_statements_are_traced);
