//! Objects answer alike whichever way they are resolved: leanly, for a plain
//! selection, or through async-graphql's own path, for fragments and repeated names.

mod common;

use common::{Backend, TestApp};

async fn a_plain_selection_and_its_fragment_form_answer_alike(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 10).await;
    let plain = "{ posts(first: 4) { __typename totalCount nodes { __typename id title
        author { name profile { bio } } comments(first: 2) { edges { cursor node { body } } } } } }";
    let fragments = "{ posts(first: 4) { ... on PostConnection { __typename totalCount }
        nodes { ...P } } }
        fragment P on Post { __typename id title author { ... { name profile { bio } } }
        comments(first: 2) { edges { cursor node { ... on Comment { body } } } } }";
    let answer = app.data(plain).await;
    assert_eq!(answer, app.data(fragments).await);
    assert_eq!(
        app.statements(plain).await,
        app.statements(fragments).await,
        "batched alike"
    );
    let post = &answer["posts"]["nodes"][0];
    assert_eq!(answer["posts"]["__typename"], "PostConnection");
    assert_eq!(post["__typename"], "Post");
    assert_eq!(post["title"], "Post 1");
    assert_eq!(post["comments"]["edges"][0]["node"]["body"], "Comment 1");
}

async fn repeated_names_merge_their_selections(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 10).await;
    let data = app
        .data("{ posts(first: 1) { nodes { title title author { name } author { id } } } }")
        .await;
    let post = &data["posts"]["nodes"][0];
    assert_eq!(post["title"], "Post 1");
    assert_eq!(post["author"]["name"], "User 1");
    assert_eq!(post["author"]["id"], common::gid("User", 1));
}

/// A nested field that fails is left out of its object, and an object whose every
/// field failed is null, whichever way the object is resolved.
async fn failed_fields_are_left_out_alike(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 10).await;
    let cases = [
        (
            r#"{ posts(first: 2) { nodes { title a: comments(after: "nope") { totalCount }
                author { name } b: comments(first: 1) { nodes { body } } } } }"#,
            r#"{ posts(first: 2) { nodes { ...P } } }
                fragment P on Post { title a: comments(after: "nope") { totalCount }
                author { name } b: comments(first: 1) { nodes { body } } }"#,
        ),
        (
            r#"{ users(first: 2) { nodes { a: posts(after: "nope") { totalCount } } } }"#,
            r#"{ users(first: 2) { nodes { ... on User { a: posts(after: "nope") { totalCount } } } } }"#,
        ),
    ];
    for (plain, fragments) in cases {
        let (_, lean) = app.request(None, plain, serde_json::json!({})).await;
        let (_, usual) = app.request(None, fragments, serde_json::json!({})).await;
        assert_eq!(lean["data"], usual["data"], "{plain}");
        assert_eq!(
            lean["errors"].as_array().map(Vec::len),
            usual["errors"].as_array().map(Vec::len)
        );
        assert_eq!(
            lean["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{lean}"
        );
    }
    let (_, partial) = app.request(None, cases[0].0, serde_json::json!({})).await;
    let post = &partial["data"]["posts"]["nodes"][0];
    assert_eq!(post["title"], "Post 1");
    assert_eq!(post["author"]["name"], "User 1");
    assert_eq!(post["b"]["nodes"][0]["body"], "Comment 1");
    assert!(post.get("a").is_none(), "{post}");
}

on_every_backend!(
    a_plain_selection_and_its_fragment_form_answer_alike,
    repeated_names_merge_their_selections,
    failed_fields_are_left_out_alike,
);
