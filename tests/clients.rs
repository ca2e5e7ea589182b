//! relgql through real clients, driven by Node.js scripts in `tests/clients`:
//! the graphql-http audit suite of the GraphQL-over-HTTP specification, Apollo
//! Client's batching and persisted-queries links, Relay's compiler and runtime with
//! persisted queries as trusted documents, and GraphiQL in headless Chromium with
//! every other host blocked.
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

/// Installs the lockfile's packages when they are missing or older than it, one
/// test at a time: two `npm ci` in one directory remove each other's files.
fn ensure_packages() {
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _installing = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
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
    against_the_fixture_on(Backend::Sqlite, script).await;
}

/// Like [`against_the_fixture`], on `backend`.
async fn against_the_fixture_on(backend: Backend, script: &'static str) {
    let app = TestApp::with_fixture(backend).await;
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

async fn apollo_persisted_queries_register_once_then_travel_as_a_hash(backend: Backend) {
    against_the_fixture_on(backend, "apollo-persisted.mjs").await;
}

/// Relay's compiler writes the manifest; relgql runs it alone; Relay's runtime
/// sends the ids.
async fn relay_persisted_queries_run_as_trusted_documents(backend: Backend) {
    /// Removes the Relay project when the test ends, passed or not.
    struct Project(PathBuf);
    impl Drop for Project {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let project = Project(
        std::env::temp_dir().join(format!("relgql-relay-{}-{backend:?}", std::process::id())),
    );
    let dir = project.0.to_str().unwrap().to_owned();
    let compiling = dir.clone();
    tokio::task::spawn_blocking(move || node("relay-persisted.mjs", &["compile", &compiling]))
        .await
        .unwrap();
    let manifest =
        relgql::persisted::TrustedDocuments::load(&project.0.join("persisted.json")).unwrap();
    assert_eq!(manifest.len(), 1);
    let app = TestApp::with_fixture(backend).await;
    let router = app
        .instance_with(relgql::http::HttpOptions::default(), 100, Some(manifest))
        .await;
    let url = format!("http://{}/graphql", TestApp::serve(router).await);
    tokio::task::spawn_blocking(move || node("relay-persisted.mjs", &["run", &dir, &url]))
        .await
        .unwrap();
}

on_every_backend!(
    apollo_persisted_queries_register_once_then_travel_as_a_hash,
    relay_persisted_queries_run_as_trusted_documents,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_a_pasted_query_at_once_in_headless_chromium_offline() {
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
