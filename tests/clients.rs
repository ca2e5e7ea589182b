//! relgql through real clients, driven by Node.js scripts in `tests/clients`:
//! the graphql-http audit suite of the GraphQL-over-HTTP specification, Apollo
//! Client's batching link, and GraphiQL in headless Chromium with every other host
//! blocked.
//!
//! The scripts' packages come from `tests/clients/package-lock.json` (installed
//! here when missing). The browser test needs Debian's `chromium`; without it the
//! test says so and passes, unless `RELGQL_REQUIRE_BROWSER=1` (as `.ci/run` sets).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Backend, TestApp};

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// Installs the lockfile's packages when they are missing or older than it.
fn ensure_packages() {
    let dir = scripts();
    let modified = |path: &str| {
        std::fs::metadata(dir.join(path))
            .and_then(|m| m.modified())
            .ok()
    };
    if let (Some(installed), Some(locked)) = (
        modified("node_modules/.package-lock.json"),
        modified("package-lock.json"),
    ) && installed >= locked
    {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .status()
        .expect("npm is needed for the client tests");
    assert!(status.success(), "npm ci in tests/clients failed");
}

fn node(script: &str, args: &[&str]) {
    ensure_packages();
    let output = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(scripts())
        .output()
        .expect("node is needed for the client tests");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{script} failed:\n{stdout}");
}

/// Runs `script` against the fixture's data served on a free port, its URL as the
/// argument.
async fn against_the_fixture(script: &'static str) {
    let app = TestApp::with_fixture(Backend::Sqlite).await;
    let address = TestApp::serve(app.router.clone()).await;
    let url = format!("http://{address}/graphql");
    tokio::task::spawn_blocking(move || node(script, &[&url]))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphql_over_http_audit_passes_every_must_and_should() {
    against_the_fixture("audit.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apollo_batch_http_link_sends_one_request_and_gets_each_answer() {
    against_the_fixture("apollo-batch.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_a_nested_query_in_headless_chromium_offline() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    if !Path::new(&chromium).exists() {
        let required = std::env::var("RELGQL_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "RELGQL_REQUIRE_BROWSER=1 but there is no browser at {chromium}"
        );
        eprintln!("no browser at {chromium}: install Debian's chromium to run this test");
        return;
    }
    let app = TestApp::new(Backend::Sqlite).await;
    relgql::seed::demo(&app.db).await.unwrap();
    let address = TestApp::serve(app.router.clone()).await;
    let base = format!("http://{address}");
    tokio::task::spawn_blocking(move || node("graphiql.mjs", &[&base, &chromium]))
        .await
        .unwrap();
}
