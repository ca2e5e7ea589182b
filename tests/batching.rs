//! No N+1: a request costs a number of statements set by the shape of its query,
//! whatever the number of rows.

mod common;

use common::{Backend, TestApp};

/// posts -> author -> profile, and posts -> comments -> author: 4 levels.
fn blog_query(posts: u32) -> String {
    format!(
        "{{ posts(first: {posts}) {{ nodes {{ title
            author {{ name profile {{ bio }} }}
            comments(first: 5) {{ totalCount nodes {{ body author {{ name }} }} }}
        }} }} }}"
    )
}

/// courses -> students -> courses: 3 levels through the association table.
fn enrollment_query(courses: u32) -> String {
    format!(
        "{{ courses(first: {courses}) {{ nodes {{ name
            students(first: 10) {{ edges {{ enrolledAt node {{ name courses(first: 10) {{ nodes {{ name }} }} }} }} }}
        }} }} }}"
    )
}

async fn the_blog_query_costs_the_same_for_ten_times_the_parents(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 100).await;
    let few = app.statements(&blog_query(8)).await;
    let many = app.statements(&blog_query(80)).await;
    // posts, authors, profiles, comment pages, comment counts, comment authors.
    assert_eq!(few, 6);
    assert_eq!(many, few);
    let users = "{ users(first: 10) { nodes { posts(first: 3) { nodes { comments(first: 3) { nodes { author { profile { bio } } } } } } } } }";
    let users_many = users.replace("first: 10", "first: 100");
    assert_eq!(app.statements(users).await, 5);
    assert_eq!(app.statements(&users_many).await, 5);
}

async fn the_enrollment_query_costs_the_same_for_ten_times_the_parents(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 100).await;
    let few = app.statements(&enrollment_query(5)).await;
    let many = app.statements(&enrollment_query(50)).await;
    assert_eq!(few, 3);
    assert_eq!(many, few);
}

async fn nested_pages_hold_the_right_rows_for_every_parent(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 10).await;
    let data = app.data(&blog_query(30)).await;
    let posts = data["posts"]["nodes"].as_array().unwrap();
    assert_eq!(posts.len(), 30);
    for (i, post) in posts.iter().enumerate() {
        let p = i + 1;
        assert_eq!(post["title"], format!("Post {p}"));
        assert_eq!(post["author"]["name"], format!("User {}", (p - 1) / 3 + 1));
        assert_eq!(post["comments"]["totalCount"], 3);
        let bodies: Vec<String> = (1..=3)
            .map(|j| format!("Comment {}", (p - 1) * 3 + j))
            .collect();
        let got: Vec<&str> = post["comments"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["body"].as_str().unwrap())
            .collect();
        assert_eq!(got, bodies);
    }
}

async fn only_total_count_loads_no_rows(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 10).await;
    assert_eq!(app.statements("{ posts { totalCount } }").await, 1);
    assert_eq!(
        app.statements("{ users(first: 5) { nodes { posts { totalCount } } } }")
            .await,
        2
    );
}

async fn different_arguments_on_one_field_batch_separately(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 20).await;
    let query = "{ users(first: 20) { nodes { a: posts(first: 1) { nodes { id } } b: posts(last: 1) { nodes { id } } } } }";
    assert_eq!(app.statements(query).await, 3);
    let data = app.data(query).await;
    let user = &data["users"]["nodes"][1];
    assert_eq!(user["a"]["nodes"][0]["id"], common::gid("Post", 4));
    assert_eq!(user["b"]["nodes"][0]["id"], common::gid("Post", 6));
}

on_every_backend!(
    the_blog_query_costs_the_same_for_ten_times_the_parents,
    the_enrollment_query_costs_the_same_for_ten_times_the_parents,
    nested_pages_hold_the_right_rows_for_every_parent,
    only_total_count_loads_no_rows,
    different_arguments_on_one_field_batch_separately,
);
