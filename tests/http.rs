//! The HTTP layer: GET and POST on /graphql, health, and bad requests.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Backend, TestApp};
use serde_json::json;

async fn get_runs_a_query_from_the_url(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let request = Request::get("/graphql?query=%7Busers(first%3A1)%7Bnodes%7Bname%7D%7D%7D")
        .body(Body::empty())
        .unwrap();
    let (status, body) = app.send(request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"],
        json!({"users": {"nodes": [{"name": "Alice"}]}})
    );
}

async fn health_reports_the_database_up(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (status, body) = app
        .send(Request::get("/health").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok", "database": "up"}));
}

async fn health_reports_a_closed_database_down(backend: Backend) {
    let app = TestApp::new(backend).await;
    app.db.close_by_ref().await.unwrap();
    let (status, body) = app
        .send(Request::get("/health").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["database"], "down");
}

async fn liveness_asks_nothing_of_the_database_and_readiness_does(backend: Backend) {
    let app = TestApp::new(backend).await;
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    assert_eq!(app.send(get("/livez")).await.0, StatusCode::OK);
    let (status, body) = app.send(get("/readyz")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Draining: not ready for new requests, still alive.
    app.shutdown.begin();
    let (status, body) = app.send(get("/readyz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["reason"], "shutting down");
    assert_eq!(app.send(get("/livez")).await.0, StatusCode::OK);
    // The database gone: alive, not ready.
    let other = TestApp::new(backend).await;
    other.db.close_by_ref().await.unwrap();
    assert_eq!(other.send(get("/livez")).await.0, StatusCode::OK);
    let (status, body) = other.send(get("/readyz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["database"], "down");
}

async fn the_sql_count_is_reported_only_when_asked(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let asked = app
        .query("{ users { nodes { posts { nodes { id } } } } }")
        .await;
    assert_eq!(asked["extensions"]["sqlStatements"], 2);
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"query": "{ users { totalCount } }"}).to_string(),
        ))
        .unwrap();
    let (_, plain) = app.send(request).await;
    assert!(plain.get("extensions").is_none(), "{plain}");
}

async fn syntax_and_validation_errors_are_bad_user_input(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    for query in [
        "{ users { ",
        "{ nope }",
        "{ users(first: \"x\") { totalCount } }",
        "{ users { nodes { secret } } }",
    ] {
        let body = app.query(query).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{query}: {body}"
        );
    }
}

async fn internal_errors_carry_no_detail(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    app.execute("DROP TABLE comments").await;
    let body = app
        .query("{ posts { nodes { comments { nodes { body } } } } }")
        .await;
    let error = &body["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "INTERNAL_SERVER_ERROR",
        "{body}"
    );
    assert_eq!(error["message"], "internal server error");
    for error in body["errors"].as_array().unwrap() {
        assert_eq!(error["message"], "internal server error", "{body}");
    }
    let text = body.to_string().to_lowercase();
    for leak in [
        "select",
        "no such table",
        "does not exist",
        "doesn't exist",
        "sqlx",
    ] {
        assert!(!text.contains(leak), "leaked `{leak}`: {body}");
    }
}

async fn get_refuses_mutations(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let token = app.token_for(1);
    let request =
        Request::get("/graphql?query=mutation%7BdeletePost(input%3A%7Bid%3A%22UG9zdDox%22%7D)%7D")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
    let (status, _) = app.send(request).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        app.data("{ posts { totalCount } }").await["posts"]["totalCount"],
        4
    );
}

on_every_backend!(
    get_refuses_mutations,
    get_runs_a_query_from_the_url,
    health_reports_the_database_up,
    health_reports_a_closed_database_down,
    liveness_asks_nothing_of_the_database_and_readiness_does,
    the_sql_count_is_reported_only_when_asked,
    syntax_and_validation_errors_are_bad_user_input,
    internal_errors_carry_no_detail,
);
