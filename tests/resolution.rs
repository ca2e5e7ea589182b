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

    let data = app
        .data(
            "{ posts(first: 1) { nodes { ...A ...B } } }
            fragment A on Post { author { id } } fragment B on Post { author { name } }",
        )
        .await;
    let author = &data["posts"]["nodes"][0]["author"];
    assert_eq!(author["name"], "User 1", "{data}");
    assert_eq!(author["id"], common::gid("User", 1), "{data}");
}

/// Over HTTP, lean objects write their JSON as they resolve, unless the document
/// repeats a response key; both ways give the same bytes. A repeated key at the
/// root sends the same selection down the other way.
async fn written_answers_are_the_bytes_of_the_usual_answers(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 10).await;
    let token = app.token_for(1);
    let awkward = "say \"hi\"\n\tto <b>ü ☃ 😀</b> \\ \u{1}";
    app.write(
        Some(&token),
        "mutation($input: CreateCommentInput!) { createComment(input: $input) { id } }",
        serde_json::json!({ "input": { "body": awkward, "postId": common::gid("Post", 1) } }),
    )
    .await;
    let queries = [
        "{ posts(first: 3, orderBy: [{field: CREATED_AT, direction: DESC}]) { totalCount
            pageInfo { hasNextPage endCursor } nodes { __typename id title createdAt published
            author { id name profile { bio } } comments(first: 2) { totalCount
            edges { cursor node { body author { name } } } } } } }",
        "{ users(first: 4) { nodes { id name email profile { bio }
            posts(first: 2) { nodes { id title comments(last: 2) { nodes { id body } } } } } } }",
        "{ post(id: \"UG9zdDox\") { title comments(first: 20) { nodes { body } } } }",
        "{ nodes: posts(first: 2) { nodes { ... on Post { t: title } author { name } } } }",
    ];
    for query in queries {
        let written = app.body_text(query).await;
        assert!(written.starts_with("{\"data\":{"), "{written}");
        assert!(!written.contains("\"errors\""), "{written}");
        let selection = query
            .trim_end()
            .strip_suffix('}')
            .expect("a query ends with }");
        let usual = app
            .body_text(&format!("{selection} w: __typename w: __typename }}"))
            .await;
        // async-graphql puts the root's `__typename` first or last.
        let usual = usual
            .replacen("\"w\":\"Query\",", "", 1)
            .replacen(",\"w\":\"Query\"", "", 1);
        assert_eq!(written, usual, "{query}");
    }
    let post = app.data(queries[2]).await;
    let bodies = &post["post"]["comments"]["nodes"];
    assert!(
        bodies
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["body"] == awkward),
        "{post}"
    );
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
    written_answers_are_the_bytes_of_the_usual_answers,
);
