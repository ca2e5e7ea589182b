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

on_every_backend!(
    a_plain_selection_and_its_fragment_form_answer_alike,
    repeated_names_merge_their_selections,
);
