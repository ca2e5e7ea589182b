//! Operations named by id: automatic persisted queries (Apollo's protocol), kept in
//! the database for every instance and bounded; trusted documents, and the lock
//! that runs nothing else; and what each answer says to caches.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt as _;
use relgql::http::HttpOptions;
use relgql::persisted::{TrustedDocuments, sha256_hex};
use sea_orm::{ConnectionTrait as _, DatabaseConnection};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use common::{Backend, TestApp};

const POSTS: &str = "query Posts { posts(first: 2) { nodes { title } } }";
const USERS: &str = "query Users { users(first: 1) { nodes { name } } }";

fn persisted_query(query: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(query) } })
}

/// An answer: its status, headers and JSON body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.body))
    }

    fn cache_control(&self) -> &str {
        self.headers["cache-control"].to_str().unwrap()
    }
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("a response");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("a body").to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: serde_json::from_slice(&bytes).expect("a JSON body"),
    }
}

async fn post(router: &Router, body: Value) -> Answer {
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .header(relgql::http::DEBUG_HEADER, "sql")
        .body(Body::from(body.to_string()))
        .unwrap();
    send(router, request).await
}

/// A GET of the operation whose parameters are `params`, signed in with `token`.
async fn get(router: &Router, params: &[(&str, String)], token: Option<&str>) -> Answer {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let mut request = Request::get(format!("/graphql?{query}"))
        .header("accept", "application/graphql-response+json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    send(router, request.body(Body::empty()).unwrap()).await
}

async fn registered(db: &DatabaseConnection) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM persisted_queries",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

async fn a_hash_is_unknown_until_sent_with_its_text_then_known_to_every_instance(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let hashed = json!({ "extensions": persisted_query(POSTS) });
    let unknown = post(&app.router, hashed.clone()).await;
    assert_eq!(
        unknown.code(),
        "PERSISTED_QUERY_NOT_FOUND",
        "{}",
        unknown.body
    );
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.cache_control(), "no-store");

    let with_text = post(
        &app.router,
        json!({ "query": POSTS, "extensions": persisted_query(POSTS) }),
    )
    .await;
    assert_eq!(with_text.status, StatusCode::OK, "{}", with_text.body);
    let expected = with_text.body["data"].clone();
    assert_eq!(expected["posts"]["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(registered(&app.db).await, 1);

    // Found in memory: the same statements as the text, and no more.
    let by_hash = post(&app.router, hashed.clone()).await;
    assert_eq!(by_hash.body["data"], expected);
    assert_eq!(
        by_hash.body["extensions"]["sqlStatements"],
        with_text.body["extensions"]["sqlStatements"]
    );
    // Another instance, with nothing in memory, reads it from the database.
    let other = app.second_instance().await;
    assert_eq!(post(&other, hashed).await.body["data"], expected);
    // Sent with its text again: answered, and still registered once.
    let again = post(
        &other,
        json!({ "query": POSTS, "extensions": persisted_query(POSTS) }),
    )
    .await;
    assert_eq!(again.body["data"], expected);
    assert_eq!(registered(&app.db).await, 1);
}

async fn a_hash_that_is_not_its_texts_or_malformed_is_refused(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let wrong = post(
        &app.router,
        json!({ "query": POSTS, "extensions": persisted_query(USERS) }),
    )
    .await;
    assert_eq!(wrong.code(), "BAD_USER_INPUT");
    assert!(
        wrong.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not the SHA-256 of `query`"),
        "{}",
        wrong.body
    );
    assert!(wrong.body.get("data").is_none());
    // Neither text was registered under the other's hash.
    for query in [POSTS, USERS] {
        let answer = post(&app.router, json!({ "extensions": persisted_query(query) })).await;
        assert_eq!(answer.code(), "PERSISTED_QUERY_NOT_FOUND");
    }
    assert_eq!(registered(&app.db).await, 0);
    let hash = sha256_hex(POSTS);
    for persisted in [
        json!({ "version": 2, "sha256Hash": hash }),
        json!({ "version": 1, "sha256Hash": hash.to_uppercase() }),
        json!({ "version": 1, "sha256Hash": &hash[1..] }),
        json!({ "version": 1 }),
        json!("abc"),
    ] {
        let answer = post(
            &app.router,
            json!({ "extensions": { "persistedQuery": persisted } }),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{persisted}");
        assert_eq!(answer.code(), "BAD_USER_INPUT", "{persisted}");
    }
    // A query that does not validate is answered with its errors, and not kept.
    let invalid = "{ nothing }";
    let answer = post(
        &app.router,
        json!({ "query": invalid, "extensions": persisted_query(invalid) }),
    )
    .await;
    assert_eq!(answer.code(), "BAD_USER_INPUT");
    assert_eq!(registered(&app.db).await, 0);
}

async fn a_hashed_get_may_be_cached_only_when_anonymous_and_answered(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let http = HttpOptions {
        cache_max_age_secs: 60,
        ..HttpOptions::default()
    };
    let router = app.instance_with(http, 100, None).await;
    let hashed = || {
        vec![
            ("operationName", "Posts".to_owned()),
            ("extensions", persisted_query(POSTS).to_string()),
        ]
    };
    let unknown = get(&router, &hashed(), None).await;
    assert_eq!(unknown.code(), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(unknown.cache_control(), "no-store");

    let registering = post(
        &router,
        json!({ "query": POSTS, "extensions": persisted_query(POSTS) }),
    )
    .await;
    assert_eq!(
        registering.cache_control(),
        "no-store",
        "a POST is never cached"
    );

    let anonymous = get(&router, &hashed(), None).await;
    assert_eq!(anonymous.status, StatusCode::OK);
    assert_eq!(anonymous.body["data"], registering.body["data"]);
    assert_eq!(anonymous.cache_control(), "public, max-age=60");
    assert_eq!(anonymous.headers["vary"], "Accept, Authorization");

    let token = app.token_for(1);
    let signed_in = get(&router, &hashed(), Some(&token)).await;
    // Alice sees her draft, which no one else does.
    assert_eq!(
        signed_in.body["data"]["posts"]["nodes"][1]["title"],
        "Draft notes"
    );
    assert_eq!(signed_in.cache_control(), "no-store", "depends on who asks");

    let failing = get(
        &router,
        &[("query", "{ node(id: \"bad\") { id } }".to_owned())],
        None,
    )
    .await;
    assert!(failing.body["errors"].is_array(), "{}", failing.body);
    assert_eq!(failing.cache_control(), "no-store", "an error is not kept");

    // A mutation named by hash is still not run by GET.
    let mutation = "mutation { login(input: {email: \"nobody@example.com\", password: \"wrong\"}) { __typename } }";
    post(
        &router,
        json!({ "query": mutation, "extensions": persisted_query(mutation) }),
    )
    .await;
    let refused = get(
        &router,
        &[("extensions", persisted_query(mutation).to_string())],
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(refused.cache_control(), "no-store");
}

async fn the_store_keeps_the_most_recent_documents(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let router = app.instance_with(HttpOptions::default(), 2, None).await;
    let queries: Vec<String> = (1..=3)
        .map(|n| format!("{{ posts(first: {n}) {{ totalCount }} }}"))
        .collect();
    for query in &queries {
        let answer = post(
            &router,
            json!({ "query": query, "extensions": persisted_query(query) }),
        )
        .await;
        assert_eq!(
            answer.body["data"]["posts"]["totalCount"], 3,
            "{}",
            answer.body
        );
    }
    assert_eq!(registered(&app.db).await, 2);
    // An instance with nothing in memory finds the two newest, not the oldest.
    let fresh = app.instance_with(HttpOptions::default(), 2, None).await;
    let find = |query: &String| post(&fresh, json!({ "extensions": persisted_query(query) }));
    assert_eq!(find(&queries[0]).await.code(), "PERSISTED_QUERY_NOT_FOUND");
    for query in &queries[1..] {
        assert_eq!(find(query).await.body["data"]["posts"]["totalCount"], 3);
    }
}

async fn switched_off_a_hash_is_not_supported(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let router = app.instance_with(HttpOptions::default(), 0, None).await;
    let answer = post(&router, json!({ "extensions": persisted_query(POSTS) })).await;
    assert_eq!(answer.code(), "PERSISTED_QUERY_NOT_SUPPORTED");
    let with_text = post(
        &router,
        json!({ "query": POSTS, "extensions": persisted_query(POSTS) }),
    )
    .await;
    assert!(with_text.body["data"]["posts"].is_object());
    assert_eq!(registered(&app.db).await, 0);
}

async fn with_trusted_documents_only_nothing_else_runs(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let manifest = json!({ sha256_hex(POSTS): POSTS, "users-1": USERS }).to_string();
    let router = app
        .instance_with(
            HttpOptions::default(),
            100,
            Some(TrustedDocuments::parse(&manifest).unwrap()),
        )
        .await;
    let posts = |answer: &Answer| {
        answer.body["data"]["posts"]["nodes"]
            .as_array()
            .map(Vec::len)
    };

    let by_hash = post(&router, json!({ "extensions": persisted_query(POSTS) })).await;
    assert_eq!(posts(&by_hash), Some(2), "{}", by_hash.body);
    let by_document_id = post(&router, json!({ "documentId": sha256_hex(POSTS) })).await;
    assert_eq!(posts(&by_document_id), Some(2));
    let by_doc_id = post(&router, json!({ "doc_id": "users-1" })).await;
    assert_eq!(
        by_doc_id.body["data"]["users"]["nodes"][0]["name"], "Alice",
        "{}",
        by_doc_id.body
    );
    let by_get = get(&router, &[("documentId", "users-1".to_owned())], None).await;
    assert_eq!(by_get.body["data"], by_doc_id.body["data"]);
    let exact_text = post(&router, json!({ "query": POSTS })).await;
    assert_eq!(posts(&exact_text), Some(2));

    let other = post(&router, json!({ "query": "{ posts { totalCount } }" })).await;
    assert_eq!(other.code(), "FORBIDDEN", "{}", other.body);
    assert!(other.body.get("data").is_none());
    let introspection = post(
        &router,
        json!({ "query": "{ __schema { queryType { name } } }" }),
    )
    .await;
    assert_eq!(introspection.code(), "FORBIDDEN");
    let unknown = post(&router, json!({ "documentId": "users-2" })).await;
    assert_eq!(unknown.code(), "PERSISTED_QUERY_NOT_FOUND");
    // Registering is no way around the lock.
    let new = "{ users { totalCount } }";
    let registering = post(
        &router,
        json!({ "query": new, "extensions": persisted_query(new) }),
    )
    .await;
    assert_eq!(registering.code(), "FORBIDDEN");
    assert_eq!(registered(&app.db).await, 0);
    let both = post(&router, json!({ "documentId": "users-1", "query": USERS })).await;
    assert_eq!(both.code(), "BAD_USER_INPUT");
    // A batch runs what is trusted and refuses the rest, each in its place.
    let batch = post(
        &router,
        json!([{ "doc_id": "users-1" }, { "query": "{ posts { totalCount } }" }]),
    )
    .await;
    assert_eq!(batch.body[0]["data"], by_doc_id.body["data"]);
    assert_eq!(
        batch.body[1]["errors"][0]["extensions"]["code"],
        "FORBIDDEN"
    );
}

on_every_backend!(
    a_hash_is_unknown_until_sent_with_its_text_then_known_to_every_instance,
    a_hash_that_is_not_its_texts_or_malformed_is_refused,
    a_hashed_get_may_be_cached_only_when_anonymous_and_answered,
    the_store_keeps_the_most_recent_documents,
    switched_off_a_hash_is_not_supported,
    with_trusted_documents_only_nothing_else_runs,
);
