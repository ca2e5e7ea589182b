//! Instances sharing one database agree with no settings of their own: on tokens
//! (signing keys kept in the database, rotated), on failed sign-ins, on which
//! accounts exist, and on migrations when they start at the same moment.

mod common;

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Backend, ScratchDatabase, TestApp};
use relgql::auth::ACCOUNT_RECHECK;
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

const REGISTER: &str =
    "mutation($input: RegisterInput!) { register(input: $input) { token user { id } } }";
const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { token } }";
const VIEWER: &str = "{ viewer { name } }";

/// POSTs `query` to `router` with these `Authorization` headers (none, one or more)
/// from client address `client`; returns the status and the JSON body.
async fn post(
    router: &Router,
    authorizations: &[&str],
    client: [u8; 4],
    query: &str,
    variables: Value,
) -> (StatusCode, Value) {
    let mut request = Request::post("/graphql").header("content-type", "application/json");
    for authorization in authorizations {
        request = request.header("authorization", *authorization);
    }
    let body = json!({ "query": query, "variables": variables }).to_string();
    let mut request = request.body(Body::from(body)).expect("a request");
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            client, 40000,
        ))));
    common::send(router, request).await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The viewer's name as `router` answers with `token`, or the refusal's code.
async fn viewer_on(router: &Router, token: &str) -> Result<String, String> {
    let (status, body) = post(router, &[&bearer(token)], [10, 0, 0, 1], VIEWER, json!({})).await;
    match body["errors"][0]["extensions"]["code"].as_str() {
        Some(code) => Err(format!("{status} {code}")),
        None => Ok(body["data"]["viewer"]["name"]
            .as_str()
            .unwrap_or("null")
            .to_owned()),
    }
}

async fn register(router: &Router, name: &str, email: &str) -> String {
    let input = json!({"input": {"name": name, "email": email, "password": "long enough"}});
    let (_, body) = post(router, &[], [10, 0, 0, 1], REGISTER, input).await;
    body["data"]["register"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("registered: {body}"))
        .to_owned()
}

async fn instances_accept_each_others_tokens(backend: Backend) {
    let app = TestApp::new(backend).await;
    let other = app.second_instance().await;
    let from_first = register(&app.router, "Ada", "ada@example.com").await;
    let from_second = register(&other, "Bo", "bo@example.com").await;
    for router in [&app.router, &other] {
        assert_eq!(viewer_on(router, &from_first).await.as_deref(), Ok("Ada"));
        assert_eq!(viewer_on(router, &from_second).await.as_deref(), Ok("Bo"));
    }
    // A token signed with a key the database does not hold is refused by both.
    let forged = relgql::auth::Tokens::new(&[9; 32], Duration::from_secs(60))
        .unwrap()
        .issue(1)
        .unwrap();
    for router in [&app.router, &other] {
        assert_eq!(
            viewer_on(router, &forged).await,
            Err("401 Unauthorized UNAUTHENTICATED".into())
        );
    }
}

async fn a_rotation_signs_with_a_new_key_and_old_tokens_verify_until_dropped(backend: Backend) {
    let app = TestApp::new(backend).await;
    let old = register(&app.router, "Ada", "ada@example.com").await;
    let rotated = relgql::signing_keys::rotate(&app.db, Duration::from_secs(3600), Duration::ZERO)
        .await
        .unwrap();
    assert!(rotated.deleted.is_empty(), "{rotated:?}");
    // An instance started after the rotation signs with the new key; the first
    // instance has not read it yet, and does when it meets a token that carries it.
    let later = app.second_instance().await;
    let new = register(&later, "Bo", "bo@example.com").await;
    assert_ne!(kid(&new), kid(&old));
    assert_eq!(kid(&new), rotated.signing.to_string());
    assert_eq!(viewer_on(&app.router, &new).await.as_deref(), Ok("Bo"));
    assert_eq!(viewer_on(&later, &old).await.as_deref(), Ok("Ada"));
    // Once the old key is older than a token lives, a rotation deletes it; its
    // tokens are refused by an instance that reads the keys after that.
    let rotated = relgql::signing_keys::rotate(&app.db, Duration::ZERO, Duration::ZERO)
        .await
        .unwrap();
    // Keys made within the same second are not yet superseded for longer than 0 s:
    // the oldest may stay, but a rotation a second later surely drops it.
    let dropped = if rotated.deleted.is_empty() {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        relgql::signing_keys::rotate(&app.db, Duration::ZERO, Duration::ZERO)
            .await
            .unwrap()
            .deleted
    } else {
        rotated.deleted
    };
    assert!(dropped.contains(&kid(&old).parse().unwrap()), "{dropped:?}");
    let fresh = app.second_instance().await;
    assert_eq!(
        viewer_on(&fresh, &old).await,
        Err("401 Unauthorized UNAUTHENTICATED".into())
    );
}

/// The key id a token's header names.
fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .unwrap()
        .kid
        .expect("a kid")
}

async fn sign_in_failures_count_across_instances(backend: Backend) {
    let options = relgql::api::SchemaOptions {
        login: relgql::throttle::ThrottleSettings {
            per_account: 3,
            per_address: 100,
            window: Duration::from_secs(600),
        },
        ..Default::default()
    };
    let app = TestApp::with_options(backend, options, relgql::http::HttpOptions::default()).await;
    let other = app.second_instance_with(options).await;
    register(&app.router, "Jo", "jo@example.com").await;
    let login =
        |password: &str| json!({"input": {"email": "jo@example.com", "password": password}});
    let reason = |body: &Value| {
        body["errors"][0]["extensions"]["reason"]
            .as_str()
            .map(str::to_owned)
    };
    // Two failures on one instance, one on the other: three in all.
    for router in [&app.router, &other, &app.router] {
        let (_, body) = post(router, &[], [10, 0, 0, 1], LOGIN, login("wrong")).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{body}"
        );
    }
    for router in [&app.router, &other] {
        let (_, body) = post(router, &[], [10, 0, 0, 2], LOGIN, login("long enough")).await;
        assert_eq!(reason(&body).as_deref(), Some("THROTTLED"), "{body}");
    }
    // When the window has ended (moved into the past here), the count starts over:
    // a success, then three more failures before the next refusal.
    app.execute("UPDATE sign_in_failures SET window_started = window_started - 600000")
        .await;
    let (_, body) = post(&other, &[], [10, 0, 0, 2], LOGIN, login("long enough")).await;
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
    for attempt in 1..=3 {
        let (_, body) = post(&app.router, &[], [10, 0, 0, 3], LOGIN, login("wrong")).await;
        assert_eq!(reason(&body), None, "attempt {attempt}: {body}");
    }
    let (_, body) = post(&other, &[], [10, 0, 0, 3], LOGIN, login("wrong")).await;
    assert_eq!(reason(&body).as_deref(), Some("THROTTLED"), "{body}");
    // An expired window's failures restart at one, not at the old count plus one.
    app.execute("UPDATE sign_in_failures SET window_started = window_started - 600000")
        .await;
    let (_, body) = post(&other, &[], [10, 0, 0, 3], LOGIN, login("wrong")).await;
    assert_eq!(reason(&body), None, "{body}");
    let counts = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT failures FROM sign_in_failures WHERE subject = 'account:jo@example.com'",
        ))
        .await
        .unwrap();
    let failures: i32 = counts[0].try_get_by_index(0).unwrap();
    assert_eq!(failures, 1);
}

async fn a_deleted_account_is_unauthenticated_on_reads_on_every_instance(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let token = app.token_for(3);
    assert!(viewer_on(&app.router, &token).await.is_ok());
    app.execute("DELETE FROM users WHERE id = 3").await;
    // The instance that just saw the account answers `viewer` from the database.
    let (_, body) = post(
        &app.router,
        &[&bearer(&token)],
        [10, 0, 0, 1],
        VIEWER,
        json!({}),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body}"
    );
    // Every other read is refused as a whole once the instance asks again.
    let posts = "{ posts { totalCount } }";
    let started = Instant::now();
    let status = loop {
        let (status, body) = post(
            &app.router,
            &[&bearer(&token)],
            [10, 0, 0, 1],
            posts,
            json!({}),
        )
        .await;
        if status == StatusCode::UNAUTHORIZED || started.elapsed() > ACCOUNT_RECHECK * 3 {
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
                "{body}"
            );
            break status;
        }
    };
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "refused within {ACCOUNT_RECHECK:?}"
    );
    // An instance that never saw the account refuses it at once.
    let other = app.second_instance().await;
    let (status, _) = post(&other, &[&bearer(&token)], [10, 0, 0, 1], posts, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn two_authorization_headers_are_refused(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let valid = bearer(&app.token_for(1));
    for pair in [
        [valid.as_str(), "Bearer garbage"],
        [valid.as_str(), valid.as_str()],
    ] {
        let (status, body) = post(&app.router, &pair, [10, 0, 0, 1], VIEWER, json!({})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("one Authorization")
        );
    }
    assert!(viewer_on(&app.router, &app.token_for(1)).await.is_ok());
}

async fn instances_starting_at_once_migrate_once(backend: Backend) {
    if backend == Backend::Sqlite {
        // One process serves a SQLite file: there is no second instance to race.
        return;
    }
    let scratch = ScratchDatabase::new(backend).await;
    let starts = (0..4).map(|_| relgql::db::migrate_then_connect(&scratch.url, 2));
    let started = futures_util::future::join_all(starts).await;
    let mut fresh = 0;
    for result in started {
        let (db, was_fresh) =
            result.unwrap_or_else(|e| panic!("an instance failed to start: {e:#}"));
        fresh += usize::from(was_fresh);
        db.close().await.unwrap();
    }
    assert_eq!(fresh, 1, "exactly one instance found the database fresh");
    let db = relgql::db::connect_current(&scratch.url, 1)
        .await
        .expect("current");
    db.close().await.unwrap();
}

async fn a_service_that_must_not_migrate_refuses_a_stale_schema(backend: Backend) {
    let scratch = ScratchDatabase::new(backend).await;
    let error = relgql::db::connect_current(&scratch.url, 1)
        .await
        .unwrap_err();
    assert!(
        format!("{error:#}").contains("relgql migrate up"),
        "{error:#}"
    );
    let db = relgql::db::connect(&scratch.url, 1).await.unwrap();
    use migration::MigratorTrait as _;
    migration::Migrator::up(&db, Some(2)).await.unwrap();
    db.close().await.unwrap();
    let error = relgql::db::connect_current(&scratch.url, 1)
        .await
        .unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("not current"), "{message}");
    assert!(
        message.contains("m20261121_000003_add_accounts"),
        "{message}"
    );
}

on_every_backend!(
    instances_accept_each_others_tokens,
    a_rotation_signs_with_a_new_key_and_old_tokens_verify_until_dropped,
    sign_in_failures_count_across_instances,
    a_deleted_account_is_unauthenticated_on_reads_on_every_instance,
    two_authorization_headers_are_refused,
    instances_starting_at_once_migrate_once,
    a_service_that_must_not_migrate_refuses_a_stale_schema,
);
