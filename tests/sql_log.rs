//! `LOG_SQL_VALUES`: each statement of a request logged whole, its values inlined,
//! and as sent, its values apart, only when asked (`bench/run` replays what it logs).

mod common;

use common::{Backend, CapturedLog, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_are_logged_with_their_values_only_when_asked() {
    let captured = CapturedLog::of_statements();
    let app = TestApp::with_fixture(Backend::Sqlite).await;
    let query = |needle: &str| {
        format!("{{ posts(filter: {{title: {{contains: \"{needle}\"}}}}) {{ totalCount }} }}")
    };

    relgql::db::log_statement_values(true);
    app.data(&query("needle-one")).await;
    let logged = captured.take();
    let line = logged
        .lines()
        .find(|line| line.contains("needle-one"))
        .unwrap_or_else(|| panic!("the statement with its value: {logged}"));
    assert!(
        line.contains("SELECT") && line.contains("relgql::sql"),
        "{line}"
    );
    // The text as sent, with its placeholder, and the value bound to it apart.
    assert!(line.contains("LIKE ?") || line.contains("LIKE $"), "{line}");
    assert!(line.contains(r#"["'%needle-one%'","TRUE"]"#), "{line}");

    relgql::db::log_statement_values(false);
    app.data(&query("needle-two")).await;
    let logged = captured.take();
    assert!(
        !logged.contains("needle-two"),
        "logged though off: {logged}"
    );
}
