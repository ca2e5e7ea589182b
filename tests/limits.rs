//! Operation limits: depth, fields, root fields, connection-aware cost, directives
//! and query length, each refused before any SQL with TOO_COMPLEX and the figures.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Backend, TestApp};
use serde_json::{Value, json};

/// The refusal of `query`: its error, after checking that nothing ran.
async fn refusal(app: &TestApp, query: &str, variables: Value) -> Value {
    // A refusal must come at once, whatever the query would expand to.
    let (status, body) =
        tokio::time::timeout(Duration::from_secs(10), app.request(None, query, variables))
            .await
            .expect("a refusal without delay");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.get("data").is_none(),
        "refused before execution: {body}"
    );
    assert!(
        body["extensions"]["sqlStatements"].is_null(),
        "no SQL ran: {body}"
    );
    body["errors"][0].clone()
}

fn nested(levels: usize, first: u32) -> String {
    // users -> posts -> comments -> author -> posts -> ... : a relationship cycle.
    let mut query = String::from("id");
    let steps = ["comments", "posts"];
    for level in 0..levels {
        let field = steps[level % 2];
        let inner = if field == "comments" {
            format!("author {{ {query} }}")
        } else {
            query.clone()
        };
        query = format!("id {field}(first: {first}) {{ nodes {{ {inner} }} }}");
    }
    format!("{{ users(first: {first}) {{ nodes {{ {query} }} }} }}")
}

async fn nested_connections_are_priced_by_their_page_sizes(backend: Backend) {
    let app = TestApp::new(backend).await;
    let query = "{ users(first: 100) { nodes { posts(first: 100) { nodes {
        comments(first: 100) { nodes { id } } } } } } }";
    let error = refusal(&app, query, json!({})).await;
    assert_eq!(error["extensions"]["code"], "TOO_COMPLEX");
    assert_eq!(error["extensions"]["limit"], "cost");
    assert_eq!(error["extensions"]["max"], 25_000);
    // users: 1 + 100 × (nodes 1 + posts (1 + 100 × (nodes 1 + comments (1 + 100 × (nodes 1 + id 1)))))
    assert_eq!(error["extensions"]["cost"], 2_020_201);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("cost") && message.contains("2020201") && message.contains("25000"),
        "{message}"
    );

    // The same shape with small pages passes: the cost follows `first`.
    let small = "{ users(first: 5) { nodes { posts(first: 5) { nodes {
        comments(first: 5) { nodes { id } } } } } } }";
    app.data(small).await;
}

async fn page_sizes_in_variables_count_too(backend: Backend) {
    let app = TestApp::new(backend).await;
    let query = "query($n: Int = 100) { users(first: $n) { nodes {
        posts(first: $n) { nodes { comments(last: $n) { nodes { id } } } } } } }";
    let error = refusal(&app, query, json!({"n": 100})).await;
    assert_eq!(error["extensions"]["limit"], "cost");
    let error = refusal(&app, query, json!({})).await;
    assert_eq!(error["extensions"]["limit"], "cost", "the default counts");
    let (_, body) = app.request(None, query, json!({"n": 3})).await;
    assert!(body.get("errors").is_none(), "{body}");
}

async fn the_workload_queries_pass(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    for query in [
        include_str!("../bench/queries/q1.graphql"),
        include_str!("../bench/queries/q2.graphql"),
        include_str!("../bench/queries/q3.graphql"),
        include_str!("../bench/queries/q4.graphql"),
        &include_str!("../bench/queries/q2.graphql").replace("first: 50", "first: 100"),
    ] {
        let (_, body) = app.request(None, query, json!({})).await;
        assert!(body.get("errors").is_none(), "{query}: {body}");
    }
}

async fn a_relationship_cycle_is_cut_at_the_depth_limit(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let error = refusal(&app, &nested(6, 1), json!({})).await;
    assert_eq!(error["extensions"]["code"], "TOO_COMPLEX");
    assert_eq!(error["extensions"]["limit"], "depth");
    assert_eq!(error["extensions"]["max"], 12);
    assert!(error["extensions"]["depth"].as_u64().unwrap() > 12);
    assert!(
        error["message"].as_str().unwrap().contains("limit of 12"),
        "{error}"
    );
    // Three levels of the same cycle are within the limit.
    app.data(&nested(2, 1)).await;
}

async fn thousands_of_aliases_are_refused(backend: Backend) {
    let app = TestApp::new(backend).await;
    let aliases: String = (0..2_000).map(|i| format!("a{i}: id ")).collect();
    let query = format!("{{ posts(first: 1) {{ nodes {{ {aliases} }} }} }}");
    let error = refusal(&app, &query, json!({})).await;
    assert_eq!(error["extensions"]["limit"], "fields");
    assert_eq!(error["extensions"]["max"], 500);
    assert_eq!(error["extensions"]["fields"], 2_002);

    let roots: String = (0..40)
        .map(|i| format!("u{i}: users(first: 1) {{ totalCount }} "))
        .collect();
    let error = refusal(&app, &format!("{{ {roots} }}"), json!({})).await;
    assert_eq!(error["extensions"]["limit"], "rootFields");
    assert_eq!(error["extensions"]["rootFields"], 40);
    assert_eq!(error["extensions"]["max"], 32);
}

/// `operation` (which spreads `F30`) with fragments on `on`, each spreading the
/// previous one twice down to `F0 { leaf }`: 2^30 times `leaf` once expanded.
fn doubling(operation: &str, on: &str, leaf: &str) -> String {
    let mut query = format!("{operation}\nfragment F0 on {on} {{ {leaf} }}\n");
    for i in 1..=30 {
        let p = i - 1;
        query.push_str(&format!("fragment F{i} on {on} {{ ...F{p} ...F{p} }}\n"));
    }
    query
}

async fn exponential_fragments_are_refused_at_once(backend: Backend) {
    let app = TestApp::new(backend).await;
    let query = doubling("{ viewer { ...F30 } }", "User", "id name");
    let error = refusal(&app, &query, json!({})).await;
    assert_eq!(error["extensions"]["code"], "TOO_COMPLEX");
    assert_eq!(error["extensions"]["limit"], "fields");

    // The same at the root of the operation, where root fields are counted too.
    let query = doubling("{ ...F30 }", "Query", "viewer { id }");
    let error = refusal(&app, &query, json!({})).await;
    assert_eq!(error["extensions"]["limit"], "fields");
}

async fn fragment_cycles_are_refused(backend: Backend) {
    let app = TestApp::new(backend).await;
    let query = "{ viewer { ...A } }
        fragment A on User { id ...B }
        fragment B on User { name ...A }";
    let error = refusal(&app, query, json!({})).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("spreads itself"),
        "{error}"
    );
    let query = "{ viewer { ...A } } fragment A on User { id ...A }";
    let error = refusal(&app, query, json!({})).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
}

async fn repeated_directives_are_refused(backend: Backend) {
    let app = TestApp::new(backend).await;
    let directives = "@include(if: true) ".repeat(100);
    let query = format!("{{ viewer {directives} {{ id }} }}");
    let error = refusal(&app, &query, json!({})).await;
    assert_eq!(error["extensions"]["limit"], "directives");
    assert_eq!(error["extensions"]["directives"], 100);

    // 10,000 of them do not even fit in a query.
    let directives = "@skip(if: false) ".repeat(10_000);
    let query = format!("{{ viewer {directives} {{ id }} }}");
    let error = refusal(&app, &query, json!({})).await;
    assert_eq!(error["extensions"]["limit"], "queryBytes");
    assert_eq!(error["extensions"]["max"], 32 * 1024);
}

async fn deep_brackets_are_refused_before_parsing(backend: Backend) {
    let app = TestApp::new(backend).await;
    // Deep enough to overflow a recursive parser's stack if it ever ran on it.
    let query = format!("{}{}", "{ a ".repeat(5_000), "}".repeat(5_000));
    let error = refusal(&app, &query, json!({})).await;
    assert_eq!(error["extensions"]["code"], "TOO_COMPLEX");
    assert_eq!(error["extensions"]["limit"], "depth");

    let query = format!(
        "{{ users(filter: {}{}) {{ totalCount }} }}",
        "{and: [".repeat(2_000),
        "]}".repeat(2_000)
    );
    let error = refusal(&app, &query, json!({})).await;
    assert_eq!(error["extensions"]["code"], "TOO_COMPLEX");

    // The same through GET.
    let encoded: String =
        form_urlencoded::byte_serialize("{ a ".repeat(3_000).as_bytes()).collect();
    let (status, body) = app
        .send(
            Request::get(format!("/graphql?query={encoded}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "TOO_COMPLEX");
}

async fn deeply_nested_json_variables_are_a_bad_request(backend: Backend) {
    let app = TestApp::new(backend).await;
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let body = format!(r#"{{"query": "{{ viewer {{ id }} }}", "variables": {{"x": {deep}}}}}"#);
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let (status, body) = app.send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

async fn introspection_is_exempt_from_depth(backend: Backend) {
    let app = TestApp::new(backend).await;
    let query = "{ __schema { types { name fields { name type { name ofType { name
        ofType { name ofType { name ofType { name ofType { name ofType { name
        ofType { name ofType { name } } } } } } } } } } } } }";
    let (_, body) = app.request(None, query, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
}

async fn an_unknown_operation_name_is_a_clear_error(backend: Backend) {
    let app = TestApp::new(backend).await;
    let body = json!({"query": "query A { viewer { id } } query B { viewer { id } }", "operationName": "C"});
    let (_, body) = app.post_json(&body).await;
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        error["message"].as_str().unwrap().contains("\"C\""),
        "{error}"
    );
}

on_every_backend!(
    nested_connections_are_priced_by_their_page_sizes,
    page_sizes_in_variables_count_too,
    the_workload_queries_pass,
    a_relationship_cycle_is_cut_at_the_depth_limit,
    thousands_of_aliases_are_refused,
    exponential_fragments_are_refused_at_once,
    fragment_cycles_are_refused,
    repeated_directives_are_refused,
    deep_brackets_are_refused_before_parsing,
    deeply_nested_json_variables_are_a_bad_request,
    introspection_is_exempt_from_depth,
    an_unknown_operation_name_is_a_clear_error,
);
