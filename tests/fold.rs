//! A lookup folds the page of a to-many field into its own statement: the answer is
//! the one the field's own statement gives, for every kind of page, and it costs
//! one statement instead of two.
//!
//! The same user in a top-level list, whose pages are never folded, gives the
//! answer to compare with.

mod common;

use common::{Backend, TestApp, gid};
use serde_json::json;

/// `selection` of user `id` by a lookup, whose page is folded, and in a list, where
/// its page is loaded on its own; `vars` declares the operation's variables.
fn both_forms(vars: &str, id: i32, selection: &str) -> (String, String) {
    (
        format!(
            "query{vars} {{ user(id: \"{}\") {{ {selection} }} }}",
            gid("User", id)
        ),
        format!(
            "query{vars} {{ users(filter: {{databaseId: {{eq: {id}}}}}) {{ nodes {{ {selection} }} }} }}"
        ),
    )
}

/// The user in an answer to either form.
fn the_user(answer: &serde_json::Value) -> &serde_json::Value {
    let data = &answer["data"];
    match data.get("user") {
        Some(user) => user,
        None => &data["users"]["nodes"][0],
    }
}

async fn a_folded_page_answers_as_its_own_statement_does(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 10).await;
    let user = gid("User", 4);
    let pages = [
        "first: 2",
        "first: 5",
        "last: 2",
        "first: 2, orderBy: [{field: TITLE, direction: DESC}]",
        "first: 2, orderBy: {field: CREATED_AT}",
        "first: 3, filter: {title: {contains: \"1\"}}",
        "first: 0",
    ];
    for page in pages {
        let selection = format!(
            "name posts({page}) {{ totalCount
                pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
                nodes {{ id title }} }}"
        );
        let (folded, loaded) = both_forms("", 4, &selection);
        let answer = app.query(&folded).await;
        assert_eq!(
            the_user(&answer),
            the_user(&app.query(&loaded).await),
            "{page}"
        );
        assert!(answer.get("errors").is_none(), "{page}: {answer}");
        assert_eq!(app.statements(&folded).await, 1, "{page}: folded");
        assert_eq!(app.statements(&loaded).await, 2, "{page}: loaded");
    }
    let data = app
        .data(&format!(
            "{{ user(id: \"{user}\") {{ posts(first: 2) {{ totalCount pageInfo {{ hasNextPage }}
                nodes {{ title }} }} }} }}"
        ))
        .await;
    assert_eq!(
        data["user"]["posts"],
        json!({"totalCount": 3, "pageInfo": {"hasNextPage": true},
               "nodes": [{"title": "Post 10"}, {"title": "Post 11"}]})
    );
}

async fn a_page_after_a_cursor_in_a_variable_folds_too(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 10).await;
    let user = gid("User", 4);
    let first = app
        .data(&format!(
            "{{ user(id: \"{user}\") {{ posts(first: 1) {{ pageInfo {{ endCursor }} }} }} }}"
        ))
        .await;
    let cursor = first["user"]["posts"]["pageInfo"]["endCursor"].clone();
    let (folded, loaded) = both_forms(
        "($after: String)",
        4,
        "posts(first: 1, after: $after) {
            totalCount pageInfo { hasNextPage hasPreviousPage } nodes { title } }",
    );
    let variables = json!({ "after": cursor });
    let answer = app.query_with(&folded, variables.clone()).await;
    let user = the_user(&answer);
    assert_eq!(user, the_user(&app.query_with(&loaded, variables).await));
    assert_eq!(user["posts"]["nodes"][0]["title"], "Post 11");
    assert_eq!(user["posts"]["pageInfo"]["hasPreviousPage"], true);
}

async fn empty_pages_and_missing_parents_fold(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    // Carol writes no posts; there is no user 99.
    let query = format!(
        "{{ carol: user(id: \"{}\") {{ name posts(first: 3) {{ totalCount nodes {{ title }} }} }}
            nobody: user(id: \"{}\") {{ name posts(first: 3) {{ totalCount nodes {{ title }} }} }}
            alice: user(id: \"{}\") {{ name posts(first: 3) {{ totalCount nodes {{ title }} }} }} }}",
        gid("User", 3),
        gid("User", 99),
        gid("User", 1),
    );
    let data = app.data(&query).await;
    assert_eq!(
        data["carol"],
        json!({"name": "Carol", "posts": {"totalCount": 0, "nodes": []}})
    );
    assert_eq!(data["nobody"], json!(null));
    assert_eq!(data["alice"]["posts"]["totalCount"], 3);
    assert_eq!(
        app.statements(&query).await,
        1,
        "the three lookups share one statement, pages and all"
    );
}

async fn a_field_selected_twice_is_loaded_not_folded(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let query = format!(
        "{{ user(id: \"{}\") {{ one: posts(first: 1) {{ nodes {{ title }} }}
            two: posts(first: 2) {{ nodes {{ title }} }} }} }}",
        gid("User", 1)
    );
    let data = app.data(&query).await;
    assert_eq!(
        data["user"]["one"]["nodes"],
        json!([{"title": "Hello world"}])
    );
    assert_eq!(
        data["user"]["two"]["nodes"],
        json!([{"title": "Hello world"}, {"title": "Draft notes"}])
    );
    assert_eq!(app.statements(&query).await, 3);
}

async fn bad_page_arguments_are_reported_as_before(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    for page in [
        "first: -1",
        "first: 1, last: 1",
        "after: \"not a cursor\"",
        "first: 100000",
    ] {
        let (folded, loaded) = both_forms("", 1, &format!("posts({page}) {{ nodes {{ title }} }}"));
        let error = app.error(&folded).await;
        assert_eq!(error, app.error(&loaded).await, "{page}");
        assert_eq!(error.0, "BAD_USER_INPUT", "{page}: {}", error.1);
    }
}

async fn nodes_and_posts_fold_their_pages(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let query = format!(
        "{{ node(id: \"{}\") {{ ... on User {{ name posts(first: 2) {{ nodes {{ title }} }} }} }}
            post(id: \"{}\") {{ title comments(first: 2) {{ totalCount nodes {{ body }} }} }} }}",
        gid("User", 2),
        gid("Post", 1),
    );
    let data = app.data(&query).await;
    assert_eq!(
        data["node"],
        json!({"name": "Bob", "posts": {"nodes": [{"title": "Bob's post"}]}})
    );
    assert_eq!(data["post"]["comments"]["totalCount"], 3);
    assert_eq!(
        data["post"]["comments"]["nodes"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(app.statements(&query).await, 2, "one lookup each");
    // Comments that join their authors are left to their loader.
    let joined = format!(
        "{{ post(id: \"{}\") {{ comments(first: 2) {{ nodes {{ author {{ name }} }} }} }} }}",
        gid("Post", 1)
    );
    assert_eq!(app.statements(&joined).await, 2);
    assert_eq!(
        app.data(&joined).await["post"]["comments"]["nodes"][0]["author"]["name"],
        "Bob"
    );
}

on_every_backend!(
    a_folded_page_answers_as_its_own_statement_does,
    a_page_after_a_cursor_in_a_variable_folds_too,
    empty_pages_and_missing_parents_fold,
    a_field_selected_twice_is_loaded_not_folded,
    bad_page_arguments_are_reported_as_before,
    nodes_and_posts_fold_their_pages,
);
