//! The related rows a page statement joins (a comment page's authors): on
//! PostgreSQL looked up per row read, whose cost follows the page and not the
//! related table; elsewhere joined. Both give the same answers.

mod common;

use common::{Backend, CapturedLog, TestApp};

const QUERY: &str = "{ posts(first: 2) { nodes { title
    comments(first: 2) { nodes { body author { name profile { bio } } } } } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pages_joined_rows_are_looked_up_per_row_on_postgres_alone() {
    let captured = CapturedLog::of_statements();
    relgql::db::log_statement_values(true);

    let mut answers = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres, Backend::MySql] {
        if !backend.enabled() {
            continue;
        }
        let app = TestApp::with_fixture(backend).await;
        captured.take();
        let data = app.data(QUERY).await;
        let logged = captured.take();
        // The comment pages' statement: ranked by `ROW_NUMBER()` per post.
        let page = logged
            .lines()
            .find(|line| line.contains("ROW_NUMBER") && line.contains("comments"))
            .unwrap_or_else(|| panic!("{backend:?}: no page statement logged: {logged}"));
        let looked_up = page.contains("LEFT JOIN LATERAL");
        assert_eq!(
            looked_up,
            backend == Backend::Postgres,
            "{backend:?}: {page}"
        );
        if looked_up {
            // The author and the author's profile, each its own lookup; the line
            // holds the statement twice (its values written in, and as sent).
            assert_eq!(page.matches("OFFSET").count(), 2 * 2, "{page}");
        }
        let authors = data["posts"]["nodes"]
            .as_array()
            .expect("posts")
            .iter()
            .flat_map(|post| {
                post["comments"]["nodes"]
                    .as_array()
                    .expect("comments")
                    .clone()
            })
            .filter(|comment| comment["author"]["name"].is_string())
            .count();
        assert!(
            authors > 0,
            "{backend:?}: no comment with its author: {data}"
        );
        answers.push((backend, data));
    }
    for (backend, data) in &answers[1..] {
        assert_eq!(
            data, &answers[0].1,
            "{backend:?} against {:?}",
            answers[0].0
        );
    }
}
