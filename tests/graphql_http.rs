//! GraphQL over HTTP: content types, status codes, GET, limits, CORS, GraphiQL.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Backend, TestApp};
use relgql::api::SchemaOptions;
use relgql::http::HttpOptions;
use serde_json::{Value, json};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

async fn post(
    app: &TestApp,
    content_type: Option<&str>,
    accept: Option<&str>,
    body: &str,
) -> (StatusCode, String, Value) {
    let mut request = Request::post("/graphql");
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = tower::ServiceExt::oneshot(
        app.router.clone(),
        request.body(Body::from(body.to_owned())).unwrap(),
    )
    .await
    .unwrap();
    let status = response.status();
    let media = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (
        status,
        media,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn only_json_posts_are_run(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let body = json!({"query": "{ users { totalCount } }"}).to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/json; charset=latin1"),
    ] {
        let (status, _, response) = post(&app, content_type, None, &body).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(
            response["errors"][0]["extensions"]["code"],
            "BAD_USER_INPUT"
        );
    }
    let (status, _, response) =
        post(&app, Some("application/json; charset=utf-8"), None, &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response["data"]["users"]["totalCount"], 4);
}

async fn malformed_requests_are_400_with_a_graphql_error(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    for body in [
        "{not json",
        "[]",
        r#"[{"query": "{ users { totalCount } }"}, 42]"#,
        "42",
        "{}",
        r#"{"query": 42}"#,
        r#"{"query": null}"#,
        r#"{"query": "{ users { totalCount } }", "variables": "x"}"#,
        r#"{"query": "{ users { totalCount } }", "operationName": 7}"#,
        r#"{"query": "{ users { totalCount } }", "extensions": []}"#,
    ] {
        for accept in [None, Some(GRAPHQL_RESPONSE)] {
            let (status, media, response) =
                post(&app, Some("application/json"), accept, body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body} / {accept:?}");
            assert!(
                response["errors"][0]["message"].is_string(),
                "{body}: {response}"
            );
            let expected = if accept.is_some() {
                GRAPHQL_RESPONSE
            } else {
                "application/json"
            };
            assert!(media.starts_with(expected), "{media}");
        }
    }
}

async fn status_codes_follow_the_negotiated_media_type(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let invalid = json!({"query": "{ nope }"}).to_string();
    let (status, media, body) = post(
        &app,
        Some("application/json"),
        Some(GRAPHQL_RESPONSE),
        &invalid,
    )
    .await;
    assert_eq!(
        (status, media.starts_with(GRAPHQL_RESPONSE)),
        (StatusCode::BAD_REQUEST, true)
    );
    assert!(body.get("data").is_none(), "{body}");
    let (status, media, _) = post(
        &app,
        Some("application/json"),
        Some("application/json"),
        &invalid,
    )
    .await;
    assert_eq!(
        (status, media.starts_with("application/json")),
        (StatusCode::OK, true)
    );
    let field_error = json!({"query": "{ posts(first: -1) { totalCount } }"}).to_string();
    let (status, _, body) = post(
        &app,
        Some("application/json"),
        Some(GRAPHQL_RESPONSE),
        &field_error,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an execution error is not a request error: {body}"
    );
    let (status, _, _) = post(&app, Some("application/json"), Some("text/html"), &invalid).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    let valid = json!({"query": "{ users { totalCount } }"}).to_string();
    let (status, media, _) = post(&app, Some("application/json"), Some("*/*"), &invalid).await;
    assert_eq!(
        (status, media.starts_with("application/json")),
        (StatusCode::OK, true),
        "legacy clients send */*"
    );
    let both = "application/json;q=0.9, application/graphql-response+json";
    let (status, media, _) = post(&app, Some("application/json"), Some(both), &valid).await;
    assert_eq!(
        (status, media.starts_with(GRAPHQL_RESPONSE)),
        (StatusCode::OK, true)
    );
}

async fn get_takes_variables_and_operation_names_from_the_url(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let query =
        "query A($n: Int) { users(first: $n) { nodes { name } } } query B { posts { totalCount } }";
    let url = format!(
        "/graphql?query={}&operationName=A&variables={}",
        urlencode(query),
        urlencode(r#"{"n": 1}"#)
    );
    let (status, body) = app
        .send(Request::get(url).body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"],
        json!({"users": {"nodes": [{"name": "Alice"}]}})
    );
    let bad = format!("/graphql?query={}&variables=%7Bnope", urlencode(query));
    let (status, _) = app
        .send(Request::get(bad).body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app
        .send(Request::get("/graphql").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no query");
    let mutation = format!(
        "/graphql?query={}",
        urlencode("mutation { deletePost(input: {id: \"UG9zdDox\"}) }")
    );
    let response = tower::ServiceExt::oneshot(
        app.router.clone(),
        Request::get(mutation).body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn oversized_bodies_are_refused(backend: Backend) {
    let http = HttpOptions {
        max_body_bytes: 4096,
        ..HttpOptions::default()
    };
    let app = TestApp::with_options(backend, SchemaOptions::default(), http).await;
    let body = json!({"query": format!("{{ users {{ totalCount }} }} # {}", "x".repeat(8192))})
        .to_string();
    let (status, _, _) = post(&app, Some("application/json"), None, &body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// A JSON array of operations is answered with an array of their answers, in
/// order, each with its own errors.
async fn batched_requests_are_answered_in_order(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let token = app.token_for(1);
    let batch = json!([
        {"query": "mutation($input: CreatePostInput!) { createPost(input: $input) { title } }",
         "variables": {"input": {"title": "Batched", "body": "b", "published": true}}},
        {"query": "{ posts(filter: {title: {eq: \"Batched\"}}) { totalCount } }"},
        {"query": "{ nope }"},
        {"query": "query Named { users(first: 1) { totalCount } }", "operationName": "Named"},
    ]);
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .header(relgql::http::DEBUG_HEADER, "sql")
        .body(Body::from(batch.to_string()))
        .unwrap();
    let (status, body) = app.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answers = body
        .as_array()
        .unwrap_or_else(|| panic!("an array: {body}"));
    assert_eq!(answers.len(), 4, "{body}");
    assert_eq!(
        answers[0]["data"]["createPost"]["title"], "Batched",
        "{body}"
    );
    // In order: the query after the mutation sees its post.
    assert_eq!(answers[1]["data"]["posts"]["totalCount"], 1, "{body}");
    assert!(answers[2].get("data").is_none(), "{body}");
    assert_eq!(
        answers[2]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert_eq!(answers[3]["data"]["users"]["totalCount"], 4, "{body}");
    // Each answer counts its own statements: one count query each.
    assert_eq!(answers[1]["extensions"]["sqlStatements"], 1, "{body}");
    assert_eq!(answers[3]["extensions"]["sqlStatements"], 1, "{body}");

    let ops = |n: usize| json!(vec![json!({"query": "{ users { totalCount } }"}); n]);
    let (status, body) = app.post_json(&ops(10)).await;
    assert_eq!(status, StatusCode::OK, "ten may go together: {body}");
    for (ops, message) in [(ops(11), "at most 10 operations"), (ops(0), "at least one")] {
        let (status, body) = app.post_json(&ops).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        let text = body["errors"][0]["message"].as_str().unwrap();
        assert!(text.contains(message), "{text}");
    }
    let (status, body) = app
        .post_json(&json!([{"query": "{ users { totalCount } }"}, 7]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("operation 1"),
        "{body}"
    );
}

/// The fields and cost limits apply to a batch's operations together: a batch of
/// operations each under the cost limit, but over it together, is refused whole,
/// before any SQL.
async fn a_batch_is_limited_as_a_whole(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    // 1 + 100 × (nodes 1 + id 1 + posts (1 + 70 × (nodes 1 + id 1))) = 14,301.
    let query = "{ users(first: 100) { nodes { id posts(first: 70) { nodes { id } } } } }";
    let (_, alone) = app.post_json(&json!({"query": query})).await;
    assert!(alone.get("errors").is_none(), "one alone passes: {alone}");
    let (status, body) = app
        .post_json(&json!([{"query": query}, {"query": query}]))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answers = body
        .as_array()
        .unwrap_or_else(|| panic!("an array: {body}"));
    assert_eq!(answers.len(), 2);
    for answer in answers {
        assert!(answer.get("data").is_none(), "nothing ran: {answer}");
        assert!(
            answer["extensions"]["sqlStatements"].is_null(),
            "no SQL: {answer}"
        );
        let error = &answer["errors"][0];
        assert_eq!(error["extensions"]["code"], "TOO_COMPLEX", "{answer}");
        assert_eq!(error["extensions"]["limit"], "cost", "{answer}");
        assert_eq!(error["extensions"]["cost"], 28_602, "{answer}");
        assert_eq!(error["extensions"]["max"], 25_000, "{answer}");
    }
}

async fn cors_answers_only_listed_origins(backend: Backend) {
    let http = HttpOptions {
        cors_allowed_origins: vec!["https://app.example.com".into()],
        ..HttpOptions::default()
    };
    let app = TestApp::with_options(backend, SchemaOptions::default(), http).await;
    let preflight = |origin: &str| {
        Request::options("/graphql")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, authorization",
            )
            .body(Body::empty())
            .unwrap()
    };
    let allowed =
        tower::ServiceExt::oneshot(app.router.clone(), preflight("https://app.example.com"))
            .await
            .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let other =
        tower::ServiceExt::oneshot(app.router.clone(), preflight("https://evil.example.com"))
            .await
            .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

async fn introspection_can_be_switched_off(backend: Backend) {
    let options = SchemaOptions {
        introspection: false,
        ..SchemaOptions::default()
    };
    let app = TestApp::with_options(backend, options, HttpOptions::default()).await;
    let body = app.query("{ __schema { queryType { name } } }").await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["message"],
        "introspection is disabled on this server"
    );
    let hidden = app
        .query("{ ...F } fragment F on Query { __type(name: \"User\") { name } }")
        .await;
    assert_eq!(
        hidden["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{hidden}"
    );
    assert_eq!(
        app.data("{ users { totalCount } }").await["users"]["totalCount"],
        0
    );
}

async fn graphiql_is_served_by_relgql_alone(backend: Backend) {
    let app = TestApp::new(backend).await;
    let response = tower::ServiceExt::oneshot(
        app.router.clone(),
        Request::get("/graphiql").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("script-src 'self'") && policy.contains("connect-src 'self'"),
        "{policy}"
    );
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let page = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "the page names no other host"
    );
    let (status, script) = app
        .send(
            Request::get("/graphiql/graphiql.js")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let script = script.as_str().unwrap_or_default();
    assert!(
        !script.contains("GraphiQL was not built"),
        "the real GraphiQL bundle is embedded"
    );
    assert!(script.len() > 100_000);
    let (status, _) = app
        .send(
            Request::get("/graphiql/graphiql.css")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// A document runs on the schema's trusted twin (no validation rules) only once the
/// schema has validated it and answered it without an error: an invalid one is
/// refused the same way every time, and one with variables is checked against each
/// request's variables.
async fn documents_are_validated_until_one_has_answered_cleanly(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    // Without validation's rules, an unknown argument would be ignored.
    for invalid in [
        "{ users(first: 1) { nodes { name(shout: true) } } }",
        "{ users(first: 1) { nodes { nope } } }",
    ] {
        let (_, first) = app.request(None, invalid, json!({})).await;
        assert_eq!(first["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert!(first.get("data").is_none_or(Value::is_null), "{first}");
        for _ in 0..2 {
            let (_, again) = app.request(None, invalid, json!({})).await;
            assert_eq!(again, first);
        }
    }
    let valid = "{ users(first: 2) { totalCount nodes { name } } }";
    let first = app.query(valid).await;
    assert!(first.get("errors").is_none(), "{first}");
    for _ in 0..2 {
        assert_eq!(app.query(valid).await, first);
    }
    let with_variables = "query($n: Int) { users(first: $n) { totalCount } }";
    let answer = app.query_with(with_variables, json!({"n": 1})).await;
    assert_eq!(answer["data"]["users"]["totalCount"], 4);
    let (_, refused) = app.request(None, with_variables, json!({"n": "one"})).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    // Refused by validation, before execution: an error at no path.
    assert!(refused["errors"][0].get("path").is_none(), "{refused}");
}

on_every_backend!(
    only_json_posts_are_run,
    malformed_requests_are_400_with_a_graphql_error,
    status_codes_follow_the_negotiated_media_type,
    get_takes_variables_and_operation_names_from_the_url,
    oversized_bodies_are_refused,
    batched_requests_are_answered_in_order,
    a_batch_is_limited_as_a_whole,
    cors_answers_only_listed_origins,
    introspection_can_be_switched_off,
    graphiql_is_served_by_relgql_alone,
    documents_are_validated_until_one_has_answered_cleanly,
);

/// Sends `head` and then `body_bytes` bytes of body over a real connection, all of
/// it before reading, as a client that does not watch for an early answer does;
/// then the status line and the body of the answer.
async fn send_oversized(
    address: std::net::SocketAddr,
    head: &str,
    body_bytes: usize,
) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    while sent < body_bytes {
        let n = chunk.len().min(body_bytes - sent);
        stream
            .write_all(&chunk[..n])
            .await
            .unwrap_or_else(|e| panic!("the connection broke after {sent} bytes: {e}"));
        sent += n;
    }
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(15), async {
        let mut buffer = [0u8; 4096];
        loop {
            let n = stream.read(&mut buffer).await?;
            answer.extend_from_slice(&buffer[..n]);
            if n == 0 || answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                return Ok::<_, std::io::Error>(());
            }
        }
    })
    .await;
    read.expect("an answer in time")
        .expect("an answer, not a reset");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.lines().next().unwrap_or_default().to_owned();
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

/// A body over the limit gets its 413 with a GraphQL error, however the client
/// sends it: all of it before reading (the rest is read and dropped), declared and
/// waiting for `100 Continue` (refused before it is sent), or declared far larger
/// than is worth reading (refused at once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_always_gets_its_413() {
    let app = TestApp::new(Backend::Sqlite).await;
    let address = TestApp::serve(app.router.clone()).await;
    let head = |length: usize, extra: &str| {
        format!(
            "POST /graphql HTTP/1.1\r\nhost: relgql\r\ncontent-type: application/json\r\n\
             content-length: {length}\r\n{extra}\r\n"
        )
    };
    let five_megabytes = 5 * 1024 * 1024;
    let cases = [
        (head(five_megabytes, ""), five_megabytes),
        (head(five_megabytes, "expect: 100-continue\r\n"), 0),
        (head(1 << 30, ""), 0),
    ];
    for (head, sent) in cases {
        let (status, body) = send_oversized(address, &head, sent).await;
        assert!(status.starts_with("HTTP/1.1 413"), "{head}: {status}");
        let body: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{head}: {body}"));
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("limit of 1048576 bytes"), "{message}");
    }
    // A body within the limit is still read whole.
    let query = json!({"query": "{ users { totalCount } }"}).to_string();
    let (status, body) =
        send_oversized(address, &format!("{}{query}", head(query.len(), "")), 0).await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}: {body}");
}
