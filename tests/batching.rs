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
    // posts with their authors and profiles joined; comment pages with their
    // counts and authors.
    assert_eq!(few, 2);
    assert_eq!(many, few);
    let users = "{ users(first: 10) { nodes { posts(first: 3) { nodes { comments(first: 3) { nodes { author { profile { bio } } } } } } } } }";
    let users_many = users.replace("first: 10", "first: 100");
    assert_eq!(app.statements(users).await, 3);
    assert_eq!(app.statements(&users_many).await, 3);
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

/// Every to-one field, two deep, with and without a row at the other end.
async fn joined_rows_are_the_related_rows(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 10).await;
    let app = app.reading_as_admin(1).await;
    let query = "{ comments(first: 30) { nodes { body
        author { name profile { bio user { name } } }
        post { title body author { email } } } } }";
    assert_eq!(
        app.statements(query).await,
        1,
        "one statement joins them all"
    );
    let data = app.data(query).await;
    let comments = data["comments"]["nodes"].as_array().unwrap();
    assert_eq!(comments.len(), 30);
    for (i, comment) in comments.iter().enumerate() {
        let c = i + 1;
        let (u, p) = (c % 10 + 1, (c - 1) / 3 + 1);
        assert_eq!(comment["body"], format!("Comment {c}"));
        assert_eq!(comment["author"]["name"], format!("User {u}"));
        if u % 2 == 0 {
            assert_eq!(comment["author"]["profile"]["bio"], format!("Bio {u}"));
            assert_eq!(
                comment["author"]["profile"]["user"]["name"],
                format!("User {u}")
            );
        } else {
            assert_eq!(
                comment["author"]["profile"],
                serde_json::Value::Null,
                "user {u}"
            );
        }
        assert_eq!(comment["post"]["title"], format!("Post {p}"));
        assert_eq!(
            comment["post"]["body"], "body",
            "a joined post reads its body when asked"
        );
        let writer = (p - 1) / 3 + 1;
        assert_eq!(
            comment["post"]["author"]["email"],
            format!("user{writer}@example.com")
        );
    }
    // A joined post leaves its body out when no one asks for it.
    let titles = app
        .data("{ comments(first: 4) { nodes { post { title } } } }")
        .await;
    let titles: Vec<&str> = titles["comments"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["post"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Post 1", "Post 1", "Post 1", "Post 2"]);
    // A root lookup joins what its selection asks for; a missing profile is known
    // to be missing without another statement.
    let one = "{ a: user(id: \"VXNlcjoy\") { profile { bio } } b: user(id: \"VXNlcjox\") { profile { bio } } }";
    assert_eq!(app.statements(one).await, 1);
    let data = app.data(one).await;
    assert_eq!(data["a"]["profile"]["bio"], "Bio 2");
    assert_eq!(data["b"]["profile"], serde_json::Value::Null);
}

/// `totalCount` beside a first page is counted by the page's statement, also when
/// nothing matches; after a cursor it still counts the whole list.
async fn page_statements_count_their_lists(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 10).await;
    let counted = "{ users(first: 10) { nodes { posts(first: 2) { totalCount nodes { id } } } } }";
    assert_eq!(app.statements(counted).await, 2);
    let data = app.data(counted).await;
    for user in data["users"]["nodes"].as_array().unwrap() {
        assert_eq!(user["posts"]["totalCount"], 3);
        assert_eq!(user["posts"]["nodes"].as_array().unwrap().len(), 2);
    }
    let none = "{ users(first: 10) { nodes { posts(first: 2, filter: {title: {eq: \"nothing\"}}) { totalCount nodes { id } } } } }";
    assert_eq!(app.statements(none).await, 2);
    let data = app.data(none).await;
    for user in data["users"]["nodes"].as_array().unwrap() {
        assert_eq!(user["posts"]["totalCount"], 0);
    }
    let first = app
        .data("{ user(id: \"VXNlcjox\") { posts(first: 1) { edges { cursor } } } }")
        .await;
    let cursor = first["user"]["posts"]["edges"][0]["cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let resumed = format!(
        "{{ users(first: 2) {{ nodes {{ posts(first: 1, after: \"{cursor}\") {{ totalCount nodes {{ id }} }} }} }} }}"
    );
    assert_eq!(app.statements(&resumed).await, 3, "users, pages, counts");
    let data = app.data(&resumed).await;
    let user1 = &data["users"]["nodes"][0]["posts"];
    assert_eq!(
        user1["totalCount"], 3,
        "the whole list, not what follows the cursor"
    );
    assert_eq!(user1["nodes"][0]["id"], common::gid("Post", 2));
}

/// One field of the document (here in a fragment) reached under different parents
/// and lists: its arguments are worked out once, its pages are each parent's own.
async fn a_field_shared_through_a_fragment_pages_each_parent(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 10).await;
    let query = "fragment C on Post { comments(first: 1, orderBy: [{field: ID, direction: DESC}]) { nodes { body } } }
        { posts(first: 2) { nodes { ...C } } users(first: 2) { nodes { posts(first: 1) { nodes { ...C } } } } }";
    let data = app.data(query).await;
    let first = |post: &serde_json::Value| post["comments"]["nodes"][0]["body"].clone();
    assert_eq!(first(&data["posts"]["nodes"][0]), "Comment 3");
    assert_eq!(first(&data["posts"]["nodes"][1]), "Comment 6");
    assert_eq!(
        first(&data["users"]["nodes"][1]["posts"]["nodes"][0]),
        "Comment 12"
    );
}

on_every_backend!(
    joined_rows_are_the_related_rows,
    a_field_shared_through_a_fragment_pages_each_parent,
    page_statements_count_their_lists,
    the_blog_query_costs_the_same_for_ten_times_the_parents,
    the_enrollment_query_costs_the_same_for_ten_times_the_parents,
    nested_pages_hold_the_right_rows_for_every_parent,
    only_total_count_loads_no_rows,
    different_arguments_on_one_field_batch_separately,
);
