//! Reading the blog: every field and relationship, in both directions.

mod common;

use common::{Backend, TestApp, gid};
use serde_json::json;

async fn users_have_their_fields_profile_posts_and_comments(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let data = app
        .data(
            r#"{ users(first: 3) { totalCount nodes {
                id databaseId name email createdAt
                profile { id databaseId bio user { name } }
                posts { totalCount nodes { title } }
                comments { totalCount nodes { body } }
            } } }"#,
        )
        .await;
    assert_eq!(data["users"]["totalCount"], 4);
    let alice = &data["users"]["nodes"][0];
    assert_eq!(alice["id"], gid("User", 1));
    assert_eq!(alice["databaseId"], 1);
    assert_eq!(alice["name"], "Alice");
    assert_eq!(alice["email"], "alice@example.com");
    assert_eq!(alice["createdAt"], "2026-01-01T01:00:00Z");
    assert_eq!(alice["profile"]["id"], gid("Profile", 1));
    assert_eq!(alice["profile"]["bio"], "Alice writes");
    assert_eq!(alice["profile"]["user"]["name"], "Alice");
    assert_eq!(alice["posts"]["totalCount"], 3);
    assert_eq!(
        alice["posts"]["nodes"],
        json!([{"title": "Hello world"}, {"title": "Draft notes"}, {"title": "100% sure_thing"}])
    );
    assert_eq!(alice["comments"]["totalCount"], 2);
    assert_eq!(
        alice["comments"]["nodes"],
        json!([{"body": "Thanks!"}, {"body": "Welcome, Bob"}])
    );
    let carol = &data["users"]["nodes"][2];
    assert_eq!(carol["profile"], json!(null));
    assert_eq!(carol["posts"], json!({"totalCount": 0, "nodes": []}));
}

async fn posts_have_their_author_and_comments_with_authors(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let data = app
        .data(
            r#"{ post(id: "UG9zdDox") {
                id databaseId title body published createdAt
                author { name profile { bio } }
                comments { totalCount edges { cursor node { body createdAt author { name } post { title } } } }
            } }"#,
        )
        .await;
    let post = &data["post"];
    assert_eq!(post["id"], gid("Post", 1));
    assert_eq!(post["title"], "Hello world");
    assert_eq!(post["body"], "Body of Hello world");
    assert_eq!(post["published"], true);
    assert_eq!(post["createdAt"], "2026-01-01T11:00:00Z");
    assert_eq!(
        post["author"],
        json!({"name": "Alice", "profile": {"bio": "Alice writes"}})
    );
    assert_eq!(post["comments"]["totalCount"], 3);
    let edges = post["comments"]["edges"].as_array().unwrap();
    let authors: Vec<_> = edges
        .iter()
        .map(|e| e["node"]["author"]["name"].clone())
        .collect();
    assert_eq!(authors, vec![json!("Bob"), json!("Carol"), json!("Alice")]);
    assert!(
        edges
            .iter()
            .all(|e| e["cursor"].as_str().is_some_and(|c| !c.is_empty()))
    );
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["post"]["title"] == "Hello world")
    );
}

async fn comments_link_back_to_their_post_and_author(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let data = app
        .data(&format!(
            r#"{{ comment(id: "{}") {{ id databaseId body post {{ title author {{ name }} }} author {{ name }} }} }}"#,
            gid("Comment", 4)
        ))
        .await;
    assert_eq!(
        data["comment"],
        json!({
            "id": gid("Comment", 4), "databaseId": 4, "body": "Welcome, Bob",
            "post": {"title": "Bob's post", "author": {"name": "Bob"}},
            "author": {"name": "Alice"}
        })
    );
}

async fn a_deep_query_follows_every_hop(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let data = app
        .data(
            r#"{ users(first: 1) { nodes { posts(first: 1) { nodes { comments(first: 1) {
                nodes { author { profile { bio user { posts(first: 1) { nodes { title } } } } } }
            } } } } } }"#,
        )
        .await;
    let profile = &data["users"]["nodes"][0]["posts"]["nodes"][0]["comments"]["nodes"][0]["author"]
        ["profile"];
    assert_eq!(profile["bio"], "Bob reads");
    assert_eq!(profile["user"]["posts"]["nodes"][0]["title"], "Bob's post");
}

async fn top_level_lists_default_to_id_order(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let data = app
        .data("{ posts { nodes { databaseId } } comments { nodes { databaseId } } }")
        .await;
    assert_eq!(
        data["posts"]["nodes"],
        json!([{"databaseId": 1}, {"databaseId": 2}, {"databaseId": 3}, {"databaseId": 4}])
    );
    assert_eq!(data["comments"]["nodes"].as_array().unwrap().len(), 4);
}

async fn an_empty_database_gives_empty_lists(backend: Backend) {
    let app = TestApp::new(backend).await;
    let data = app
        .data("{ users { totalCount nodes { id } edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }")
        .await;
    assert_eq!(
        data["users"],
        json!({"totalCount": 0, "nodes": [], "edges": [], "pageInfo": {
            "hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null
        }})
    );
}

async fn viewer_is_null_without_a_token(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    assert_eq!(app.data("{ viewer { id } }").await, json!({"viewer": null}));
}

on_every_backend!(
    users_have_their_fields_profile_posts_and_comments,
    posts_have_their_author_and_comments_with_authors,
    comments_link_back_to_their_post_and_author,
    a_deep_query_follows_every_hop,
    top_level_lists_default_to_id_order,
    an_empty_database_gives_empty_lists,
    viewer_is_null_without_a_token,
);

on_every_backend!(bodies_are_read_whenever_any_selection_asks_for_them);

async fn bodies_are_read_whenever_any_selection_asks_for_them(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let body = "Body of Hello world";
    for query in [
        "{ posts(first: 1) { nodes { body } } }",
        "{ posts(first: 1) { edges { node { body } } } }",
        "{ posts(first: 1) { nodes { ...P } } } fragment P on Post { body }",
        "{ posts(first: 1) { nodes { ... on Post { body } } } }",
        "{ posts(first: 1) { ...C } } fragment C on PostConnection { nodes { body } }",
        "{ users(first: 1) { nodes { posts(first: 1) { nodes { ...P } } } } } fragment P on Post { body }",
    ] {
        let data = app.data(query).await;
        assert!(data.to_string().contains(body), "{query}: {data}");
    }
    let data = app.data("{ posts(first: 1) { nodes { title } } }").await;
    assert_eq!(data["posts"]["nodes"][0]["title"], "Hello world");
}
