//! Secrets never reach the logs: the log of registering, signing in (rightly and
//! wrongly), changing a password and using a token, captured at every level.

mod common;

use common::{Backend, CapturedLog, TestApp};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_token_or_secret_is_logged() {
    let captured = CapturedLog::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .init();

    let app = TestApp::new(Backend::Sqlite).await;
    let password = "correct horse battery staple";
    let register = "mutation($i: RegisterInput!) { register(input: $i) { token } }";
    let body = app
        .write(
            None,
            register,
            json!({"i": {"name": "Max", "email": "max@example.com", "password": password}}),
        )
        .await;
    let token = body["register"]["token"].as_str().unwrap().to_owned();

    let login = "mutation($i: LoginInput!) { login(input: $i) { token } }";
    let wrong = "wrong horse battery staple";
    let (_, failed) = app
        .request(
            None,
            login,
            json!({"i": {"email": "max@example.com", "password": wrong}}),
        )
        .await;
    assert!(failed.get("errors").is_some());
    let body = app
        .write(
            None,
            login,
            json!({"i": {"email": "max@example.com", "password": password}}),
        )
        .await;
    let second_token = body["login"]["token"].as_str().unwrap().to_owned();

    let new_password = "another secret passphrase";
    let update = "mutation($i: UpdateViewerInput!) { updateViewer(input: $i) { id } }";
    app.write(
        Some(&token),
        update,
        json!({"i": {"password": new_password}}),
    )
    .await;
    app.write(Some(&second_token), "{ viewer { id } }", json!({}))
        .await;
    // A forged token is refused, and must not be echoed either.
    let forged = format!("{token}x");
    app.request(Some(&forged), "{ viewer { id } }", json!({}))
        .await;

    let log = captured.take();
    assert!(
        log.contains("signed in") && log.contains("sign-in failed"),
        "the capture works: {log}"
    );
    for secret in [
        password,
        wrong,
        new_password,
        &token,
        &second_token,
        &forged,
    ] {
        assert!(!log.contains(secret), "{secret} is in the log");
    }
    // The JWT signature part alone, and the test's signing key (32 × '*').
    let signature = token.rsplit('.').next().unwrap();
    assert!(!log.contains(signature));
    assert!(!log.contains(&"*".repeat(32)));
    assert!(!log.contains("$argon2"), "no password hash in the log");
}
