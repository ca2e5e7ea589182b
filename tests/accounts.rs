//! Accounts: registering, signing in, tokens, and changing one's own account.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Backend, TestApp};
use futures_util::future::join_all;
use relgql::auth::Tokens;
use serde_json::{Value, json};

const REGISTER: &str =
    "mutation($input: RegisterInput!) { register(input: $input) { token user { id name email } } }";
const LOGIN: &str =
    "mutation($input: LoginInput!) { login(input: $input) { token user { name } } }";
const VIEWER: &str = "{ viewer { id name email } }";

fn signup(name: &str, email: &str, password: &str) -> Value {
    json!({"input": {"name": name, "email": email, "password": password}})
}

async fn a_forged_an_expired_or_a_malformed_token_is_unauthenticated(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let forged = Tokens::new(&[1; 32], std::time::Duration::from_secs(60))
        .unwrap()
        .issue(1)
        .unwrap();
    let expired = app
        .tokens
        .issue_until(1, chrono::Utc::now().timestamp() - 3600)
        .unwrap();
    for token in [forged.as_str(), expired.as_str(), "garbage", "a.b.c"] {
        let (status, body) = app.request(Some(token), VIEWER, json!({})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{token}: {body}"
        );
        assert!(
            body.get("data").is_none(),
            "nothing runs with a bad token: {body}"
        );
    }
    let (_, body) = app.request(Some(&expired), VIEWER, json!({})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", "Basic dXNlcjpwYXNz")
        .body(Body::from(json!({"query": VIEWER}).to_string()))
        .unwrap();
    let (status, body) = app.send(request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

async fn a_token_of_a_deleted_user_is_unauthenticated_for_writes(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let token = app.token_for(3);
    app.execute("DELETE FROM users WHERE id = 3").await;
    let (code, _) = app
        .write_error(
            Some(&token),
            "mutation { createPost(input: {title: \"t\", body: \"b\"}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "UNAUTHENTICATED");
}

async fn registering_signs_in_and_viewer_is_the_new_user(backend: Backend) {
    let app = TestApp::new(backend).await;
    let data = app
        .write(
            None,
            REGISTER,
            signup("  Dana  ", "Dana@Example.com", "long enough"),
        )
        .await;
    let user = &data["register"]["user"];
    assert_eq!(user["name"], "Dana");
    assert_eq!(user["email"], "dana@example.com");
    let token = data["register"]["token"].as_str().unwrap();
    let viewer = app.write(Some(token), VIEWER, json!({})).await;
    assert_eq!(viewer["viewer"]["id"], user["id"]);
    let body = app.query(VIEWER).await;
    assert_eq!(body["data"], json!({"viewer": null}));
}

async fn login_checks_the_password(backend: Backend) {
    let app = TestApp::new(backend).await;
    app.write(
        None,
        REGISTER,
        signup("Eve", "eve@example.com", "correct horse"),
    )
    .await;
    let ok = app
        .write(
            None,
            LOGIN,
            json!({"input": {"email": "EVE@example.com", "password": "correct horse"}}),
        )
        .await;
    assert_eq!(ok["login"]["user"]["name"], "Eve");
    let token = ok["login"]["token"].as_str().unwrap();
    assert_eq!(
        app.write(Some(token), VIEWER, json!({})).await["viewer"]["name"],
        "Eve"
    );
    for (email, password) in [
        ("eve@example.com", "wrong horse"),
        ("nobody@example.com", "correct horse"),
    ] {
        let (code, message) = app
            .write_error(
                None,
                LOGIN,
                json!({"input": {"email": email, "password": password}}),
            )
            .await;
        assert_eq!(code, "UNAUTHENTICATED");
        assert_eq!(message, "the email address or the password is wrong");
    }
}

async fn users_written_by_plain_sql_cannot_sign_in(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let (code, _) = app
        .write_error(
            None,
            LOGIN,
            json!({"input": {"email": "alice@example.com", "password": "anything at all"}}),
        )
        .await;
    assert_eq!(code, "UNAUTHENTICATED");
}

async fn registration_inputs_are_validated_by_field(backend: Backend) {
    let app = TestApp::new(backend).await;
    for (input, field) in [
        (signup("   ", "a@example.com", "long enough"), "name"),
        (
            signup(&"n".repeat(101), "a@example.com", "long enough"),
            "name",
        ),
        (signup("Ann", "not-an-email", "long enough"), "email"),
        (signup("Ann", "a@example", "long enough"), "email"),
        (signup("Ann", "a@example.com", "short"), "password"),
    ] {
        let (_, body) = app.request(None, REGISTER, input.clone()).await;
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{input}");
        assert_eq!(error["extensions"]["field"], field, "{input}");
        assert!(
            error["message"].as_str().unwrap().contains(field),
            "{error}"
        );
    }
    assert_eq!(
        app.query("{ users { totalCount } }").await["data"]["users"]["totalCount"],
        0
    );
}

async fn a_taken_email_is_a_conflict(backend: Backend) {
    let app = TestApp::new(backend).await;
    app.write(
        None,
        REGISTER,
        signup("Fay", "fay@example.com", "long enough"),
    )
    .await;
    let (code, _) = app
        .write_error(
            None,
            REGISTER,
            signup("Fay 2", "FAY@example.com", "long enough"),
        )
        .await;
    assert_eq!(code, "CONFLICT");
}

async fn concurrent_registrations_with_one_email_let_exactly_one_win(backend: Backend) {
    let app = TestApp::new(backend).await;
    let attempts = (0..6).map(|i| {
        app.request(
            None,
            REGISTER,
            signup(&format!("Racer {i}"), "race@example.com", "long enough"),
        )
    });
    let results = join_all(attempts).await;
    let codes: Vec<Option<String>> = results
        .iter()
        .map(|(_, body)| {
            body["errors"][0]["extensions"]["code"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(codes.iter().filter(|c| c.is_none()).count(), 1, "{codes:?}");
    assert!(codes.iter().flatten().all(|c| c == "CONFLICT"), "{codes:?}");
    assert_eq!(
        app.query("{ users { totalCount } }").await["data"]["users"]["totalCount"],
        1
    );
}

async fn update_viewer_changes_only_the_signed_in_user(backend: Backend) {
    let app = TestApp::new(backend).await;
    let data = app
        .write(
            None,
            REGISTER,
            signup("Gil", "gil@example.com", "long enough"),
        )
        .await;
    let token = data["register"]["token"].as_str().unwrap().to_owned();
    app.write(
        None,
        REGISTER,
        signup("Hal", "hal@example.com", "long enough"),
    )
    .await;
    let update =
        "mutation($input: UpdateViewerInput!) { updateViewer(input: $input) { name email } }";
    let (code, _) = app
        .write_error(None, update, json!({"input": {"name": "Nobody"}}))
        .await;
    assert_eq!(code, "UNAUTHENTICATED");
    let changed = app
        .write(
            Some(&token),
            update,
            json!({"input": {"name": "Gilbert", "password": "new password!"}}),
        )
        .await;
    assert_eq!(
        changed["updateViewer"],
        json!({"name": "Gilbert", "email": "gil@example.com"})
    );
    let (code, _) = app
        .write_error(
            Some(&token),
            update,
            json!({"input": {"email": "hal@example.com"}}),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    let relogin = app
        .write(
            None,
            LOGIN,
            json!({"input": {"email": "gil@example.com", "password": "new password!"}}),
        )
        .await;
    assert_eq!(relogin["login"]["user"]["name"], "Gilbert");
}

async fn passwords_and_hashes_are_never_returned(backend: Backend) {
    let app = TestApp::new(backend).await;
    let data = app
        .write(
            None,
            REGISTER,
            signup("Ida", "ida@example.com", "secret password"),
        )
        .await;
    assert!(!data.to_string().contains("secret password"));
    assert!(!data.to_string().contains("argon2"));
    let (code, _) = app.error("{ users { nodes { passwordHash } } }").await;
    assert_eq!(code, "BAD_USER_INPUT", "there is no such field");
}

/// An app that throttles after 3 failures per account and 5 per address, with an
/// account `email` whose password is "right password".
async fn throttled_app(backend: Backend, email: &str) -> TestApp {
    let options = relgql::api::SchemaOptions {
        login: relgql::throttle::ThrottleSettings {
            per_account: 3,
            per_address: 5,
            window: std::time::Duration::from_secs(600),
        },
        ..Default::default()
    };
    let app = TestApp::with_options(backend, options, relgql::http::HttpOptions::default()).await;
    app.write(None, REGISTER, signup("Throttled", email, "right password"))
        .await;
    app
}

/// Signs in from `address`; returns the body.
async fn login_from(app: &TestApp, address: [u8; 4], email: &str, password: &str) -> Value {
    let body =
        json!({"query": LOGIN, "variables": {"input": {"email": email, "password": password}}});
    let mut request = Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let addr = std::net::SocketAddr::from((address, 40000));
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    app.send(request).await.1
}

async fn failed_sign_ins_are_throttled_per_account(backend: Backend) {
    let app = throttled_app(backend, "jo@example.com").await;
    // From three addresses, so that only the account's count can trip.
    for n in 1..=3 {
        let body = login_from(&app, [10, 0, 0, n], "jo@example.com", "wrong password").await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{body}"
        );
    }
    // Now even the right password waits for the window.
    let body = login_from(&app, [10, 0, 0, 9], "jo@example.com", "right password").await;
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{body}");
    assert_eq!(error["extensions"]["reason"], "THROTTLED");
    let retry = error["extensions"]["retryAfterSeconds"].as_u64().unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
    assert!(
        error["message"].as_str().unwrap().contains("this account"),
        "{body}"
    );
    // Another account is not affected.
    app.write(
        None,
        REGISTER,
        signup("Kim", "kim@example.com", "right password"),
    )
    .await;
    let body = login_from(&app, [10, 0, 0, 9], "kim@example.com", "right password").await;
    assert!(body.get("errors").is_none(), "{body}");
}

async fn failed_sign_ins_are_throttled_per_address(backend: Backend) {
    let app = throttled_app(backend, "lu@example.com").await;
    // Five accounts guessed from one address.
    for n in 0..5 {
        let email = format!("nobody{n}@example.com");
        login_from(&app, [192, 0, 2, 1], &email, "guess").await;
    }
    let body = login_from(&app, [192, 0, 2, 1], "lu@example.com", "right password").await;
    assert_eq!(
        body["errors"][0]["extensions"]["reason"], "THROTTLED",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("this address"),
        "{body}"
    );
    // The same account from elsewhere signs in.
    let body = login_from(&app, [192, 0, 2, 2], "lu@example.com", "right password").await;
    assert!(body.get("errors").is_none(), "{body}");
}

on_every_backend!(
    failed_sign_ins_are_throttled_per_account,
    failed_sign_ins_are_throttled_per_address,
    a_forged_an_expired_or_a_malformed_token_is_unauthenticated,
    a_token_of_a_deleted_user_is_unauthenticated_for_writes,
    registering_signs_in_and_viewer_is_the_new_user,
    login_checks_the_password,
    users_written_by_plain_sql_cannot_sign_in,
    registration_inputs_are_validated_by_field,
    a_taken_email_is_a_conflict,
    concurrent_registrations_with_one_email_let_exactly_one_win,
    update_viewer_changes_only_the_signed_in_user,
    passwords_and_hashes_are_never_returned,
);
