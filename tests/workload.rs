//! The benchmark workload (`../shared/bench/WORKLOAD.md`): its four queries cost a
//! fixed number of statements on the real data, whatever `first` says.

mod common;

use common::{Backend, TestApp};

fn workload_query(n: u32) -> String {
    let path = format!("{}/bench/queries/q{n}.graphql", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("a workload query")
}

async fn the_workload_queries_cost_a_fixed_number_of_statements(backend: Backend) {
    let app = TestApp::new(backend).await;
    relgql::seed::bench(&app.db)
        .await
        .expect("seed the workload");
    let expected = [(1, 2), (2, 3), (3, 3), (4, 1)];
    for (n, statements) in expected {
        assert_eq!(app.statements(&workload_query(n)).await, statements, "Q{n}");
    }
    let q2_wider = workload_query(2).replace("users(first: 50)", "users(first: 100)");
    assert_eq!(app.statements(&q2_wider).await, 3, "Q2 with 100 users");
    let q3_wider = workload_query(3).replace("courses(first: 20)", "courses(first: 100)");
    assert_eq!(app.statements(&q3_wider).await, 3, "Q3 with 100 courses");

    let q1 = app.data(&workload_query(1)).await;
    let newest = &q1["posts"]["nodes"][0];
    assert_eq!(newest["title"], "Post 1000.1", "the newest post");
    assert_eq!(
        newest["author"]["profile"],
        serde_json::Value::Null,
        "user 1000 has no profile"
    );
    assert_eq!(newest["comments"]["totalCount"], 1);
    let q4 = app.data(&workload_query(4)).await;
    assert_eq!(q4["user"]["name"], "User 777");
    assert_eq!(q4["user"]["profile"]["bio"], "Bio of user 777");
    assert_eq!(q4["user"]["posts"]["nodes"].as_array().unwrap().len(), 5);
    let q2 = app.data(&workload_query(2)).await;
    let users = q2["users"]["nodes"].as_array().unwrap();
    assert_eq!(users.len(), 50);
    let posts_of_user_9 = users[8]["posts"]["nodes"].as_array().unwrap();
    assert_eq!(
        posts_of_user_9.len(),
        10,
        "user 9 writes 19 posts; a page holds 10"
    );
}

on_every_backend!(the_workload_queries_cost_a_fixed_number_of_statements);
