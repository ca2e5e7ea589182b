//! Writing the blog: who may write what, validation, and what comes back.
//!
//! Fixture users: 1 Alice (posts 1-3), 2 Bob (post 4), 3 Carol, 4 alice.
//! Comments on post 1: 1 by Bob, 2 by Carol, 3 by Alice; on post 4: 4 by Alice.

mod common;

use common::{Backend, TestApp, gid};
use serde_json::{Value, json};

const CREATE_POST: &str = "mutation($input: CreatePostInput!) { createPost(input: $input) { id title body published author { name } } }";
const UPDATE_POST: &str =
    "mutation($input: UpdatePostInput!) { updatePost(input: $input) { id title body published } }";
const DELETE_POST: &str = "mutation($input: DeletePostInput!) { deletePost(input: $input) }";
const CREATE_COMMENT: &str = "mutation($input: CreateCommentInput!) { createComment(input: $input) { id body author { name } post { title } } }";
const UPDATE_COMMENT: &str =
    "mutation($input: UpdateCommentInput!) { updateComment(input: $input) { id body } }";
const DELETE_COMMENT: &str =
    "mutation($input: DeleteCommentInput!) { deleteComment(input: $input) }";
const UPSERT_PROFILE: &str = "mutation($input: UpsertProfileInput!) { upsertProfile(input: $input) { id bio user { name } } }";

fn input(value: Value) -> Value {
    json!({ "input": value })
}

async fn post_count(app: &TestApp) -> i64 {
    app.data("{ posts { totalCount } }").await["posts"]["totalCount"]
        .as_i64()
        .unwrap()
}

async fn anonymous_writes_are_unauthenticated_and_change_nothing(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let post = gid("Post", 1);
    let comment = gid("Comment", 1);
    for (mutation, variables) in [
        (CREATE_POST, input(json!({"title": "t", "body": "b"}))),
        (UPDATE_POST, input(json!({"id": post, "title": "t"}))),
        (DELETE_POST, input(json!({"id": post}))),
        (CREATE_COMMENT, input(json!({"postId": post, "body": "b"}))),
        (UPDATE_COMMENT, input(json!({"id": comment, "body": "b"}))),
        (DELETE_COMMENT, input(json!({"id": comment}))),
        (UPSERT_PROFILE, input(json!({"bio": "b"}))),
    ] {
        let (code, _) = app.write_error(None, mutation, variables).await;
        assert_eq!(code, "UNAUTHENTICATED", "{mutation}");
    }
    assert_eq!(post_count(&app).await, 4);
    let data = app
        .data(r#"{ post(id: "UG9zdDox") { title comments { totalCount } } }"#)
        .await;
    assert_eq!(
        data["post"],
        json!({"title": "Hello world", "comments": {"totalCount": 3}})
    );
}

async fn nobody_changes_someone_elses_post(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let bob = app.token_for(2);
    let alices_post = gid("Post", 1);
    let (code, _) = app
        .write_error(
            Some(&bob),
            UPDATE_POST,
            input(json!({"id": alices_post, "title": "Mine now"})),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    let (code, _) = app
        .write_error(Some(&bob), DELETE_POST, input(json!({"id": alices_post})))
        .await;
    assert_eq!(code, "FORBIDDEN");
    assert_eq!(
        app.data(r#"{ post(id: "UG9zdDox") { title } }"#).await["post"]["title"],
        "Hello world"
    );
}

async fn authors_and_admins_change_and_delete_posts(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let alice = app.token_for(1);
    let updated = app
        .write(
            Some(&alice),
            UPDATE_POST,
            input(json!({"id": gid("Post", 2), "title": " Final notes ", "published": true})),
        )
        .await;
    assert_eq!(
        updated["updatePost"],
        json!({"id": gid("Post", 2), "title": "Final notes", "body": "Body of Draft notes", "published": true})
    );
    app.make_admin(3).await;
    let admin = app.token_for(3);
    let by_admin = app
        .write(
            Some(&admin),
            UPDATE_POST,
            input(json!({"id": gid("Post", 4), "body": "Edited"})),
        )
        .await;
    assert_eq!(by_admin["updatePost"]["body"], "Edited");
    let deleted = app
        .write(
            Some(&admin),
            DELETE_POST,
            input(json!({"id": gid("Post", 1)})),
        )
        .await;
    assert_eq!(deleted["deletePost"], gid("Post", 1));
    assert_eq!(post_count(&app).await, 3);
    let comments = app.data("{ comments { totalCount } }").await;
    assert_eq!(
        comments["comments"]["totalCount"], 1,
        "the post's comments went with it"
    );
}

async fn creating_a_post_makes_the_viewer_its_author(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let carol = app.token_for(3);
    let data = app
        .write(
            Some(&carol),
            CREATE_POST,
            input(json!({"title": "  Carol's first  ", "body": "Hi"})),
        )
        .await;
    let post = &data["createPost"];
    assert_eq!(post["title"], "Carol's first");
    assert_eq!(post["published"], false, "a draft unless published");
    assert_eq!(post["author"]["name"], "Carol");
    let id = post["id"].as_str().unwrap();
    // Its author reads the draft back.
    let read = app
        .query_as_with(
            Some(&carol),
            &format!(r#"{{ node(id: "{id}") {{ ... on Post {{ title author {{ name }} }} }} }}"#),
            json!({}),
        )
        .await;
    assert_eq!(
        read["data"]["node"],
        json!({"title": "Carol's first", "author": {"name": "Carol"}})
    );
}

async fn post_inputs_are_validated_by_field(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let alice = app.token_for(1);
    for (variables, field) in [
        (input(json!({"title": "   ", "body": "b"})), "title"),
        (
            input(json!({"title": "t".repeat(201), "body": "b"})),
            "title",
        ),
        (
            input(json!({"title": "t", "body": "b".repeat(50_001)})),
            "body",
        ),
        (input(json!({"title": "a\u{0}b", "body": "b"})), "title"),
    ] {
        let (_, body) = app.request(Some(&alice), CREATE_POST, variables).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
    let ok = app
        .write(
            Some(&alice),
            CREATE_POST,
            input(json!({"title": "t".repeat(200), "body": "b".repeat(50_000)})),
        )
        .await;
    assert_eq!(ok["createPost"]["title"].as_str().unwrap().len(), 200);
    let (code, _) = app
        .write_error(
            Some(&alice),
            UPDATE_POST,
            input(json!({"id": gid("Post", 1), "title": ""})),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

async fn ids_of_the_wrong_type_or_of_nothing_are_refused(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let alice = app.token_for(1);
    let (code, message) = app
        .write_error(
            Some(&alice),
            CREATE_COMMENT,
            input(json!({"postId": gid("User", 1), "body": "b"})),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("not of a Post"), "{message}");
    let (code, _) = app
        .write_error(
            Some(&alice),
            CREATE_COMMENT,
            input(json!({"postId": gid("Post", 99), "body": "b"})),
        )
        .await;
    assert_eq!(code, "NOT_FOUND");
    let (code, _) = app
        .write_error(
            Some(&alice),
            UPDATE_POST,
            input(json!({"id": "garbage", "title": "t"})),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    let (code, _) = app
        .write_error(
            Some(&alice),
            DELETE_POST,
            input(json!({"id": gid("Post", 99)})),
        )
        .await;
    assert_eq!(code, "NOT_FOUND");
}

async fn any_signed_in_user_comments_and_only_the_author_edits(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let carol = app.token_for(3);
    let data = app
        .write(
            Some(&carol),
            CREATE_COMMENT,
            input(json!({"postId": gid("Post", 4), "body": " Hi Bob "})),
        )
        .await;
    assert_eq!(data["createComment"]["body"], "Hi Bob");
    assert_eq!(data["createComment"]["author"]["name"], "Carol");
    assert_eq!(data["createComment"]["post"]["title"], "Bob's post");
    let id = data["createComment"]["id"].as_str().unwrap().to_owned();
    let bob = app.token_for(2);
    let (code, _) = app
        .write_error(
            Some(&bob),
            UPDATE_COMMENT,
            input(json!({"id": id, "body": "edited"})),
        )
        .await;
    assert_eq!(
        code, "FORBIDDEN",
        "not even the post's author edits a comment"
    );
    app.make_admin(1).await;
    let admin = app.token_for(1);
    let (code, _) = app
        .write_error(
            Some(&admin),
            UPDATE_COMMENT,
            input(json!({"id": id, "body": "edited"})),
        )
        .await;
    assert_eq!(code, "FORBIDDEN", "nor an admin");
    let edited = app
        .write(
            Some(&carol),
            UPDATE_COMMENT,
            input(json!({"id": id, "body": "edited"})),
        )
        .await;
    assert_eq!(edited["updateComment"]["body"], "edited");
    let (code, _) = app
        .write_error(
            Some(&carol),
            UPDATE_COMMENT,
            input(json!({"id": id, "body": "  "})),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

async fn comments_are_deleted_by_their_author_the_posts_author_or_an_admin(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    // Comment 1 is Bob's on Alice's post 1; comment 2 is Carol's on it; comment 4 is Alice's on Bob's post.
    let (code, _) = app
        .write_error(
            Some(&app.token_for(4)),
            DELETE_COMMENT,
            input(json!({"id": gid("Comment", 1)})),
        )
        .await;
    assert_eq!(code, "FORBIDDEN", "a stranger may not");
    let (code, _) = app
        .write_error(
            Some(&app.token_for(3)),
            DELETE_COMMENT,
            input(json!({"id": gid("Comment", 1)})),
        )
        .await;
    assert_eq!(code, "FORBIDDEN", "another commenter may not");
    let by_author = app
        .write(
            Some(&app.token_for(2)),
            DELETE_COMMENT,
            input(json!({"id": gid("Comment", 1)})),
        )
        .await;
    assert_eq!(by_author["deleteComment"], gid("Comment", 1));
    let by_post_author = app
        .write(
            Some(&app.token_for(1)),
            DELETE_COMMENT,
            input(json!({"id": gid("Comment", 2)})),
        )
        .await;
    assert_eq!(by_post_author["deleteComment"], gid("Comment", 2));
    app.make_admin(4).await;
    let by_admin = app
        .write(
            Some(&app.token_for(4)),
            DELETE_COMMENT,
            input(json!({"id": gid("Comment", 4)})),
        )
        .await;
    assert_eq!(by_admin["deleteComment"], gid("Comment", 4));
    let left = app.data("{ comments { nodes { databaseId } } }").await;
    assert_eq!(left["comments"]["nodes"], json!([{"databaseId": 3}]));
    let (code, _) = app
        .write_error(
            Some(&app.token_for(2)),
            DELETE_COMMENT,
            input(json!({"id": gid("Comment", 1)})),
        )
        .await;
    assert_eq!(code, "NOT_FOUND", "already gone");
}

async fn upsert_profile_writes_only_the_viewers_own_profile(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let carol = app.token_for(3);
    let created = app
        .write(
            Some(&carol),
            UPSERT_PROFILE,
            input(json!({"bio": "New here"})),
        )
        .await;
    assert_eq!(created["upsertProfile"]["bio"], "New here");
    assert_eq!(created["upsertProfile"]["user"]["name"], "Carol");
    let id = created["upsertProfile"]["id"].clone();
    let updated = app
        .write(
            Some(&carol),
            UPSERT_PROFILE,
            input(json!({"bio": "Still here"})),
        )
        .await;
    assert_eq!(
        updated["upsertProfile"]["id"], id,
        "the same profile, changed"
    );
    assert_eq!(updated["upsertProfile"]["bio"], "Still here");
    let alice = app
        .data(r#"{ user(id: "VXNlcjox") { profile { bio } } }"#)
        .await;
    assert_eq!(alice["user"]["profile"]["bio"], "Alice writes");
    let (code, _) = app
        .write_error(
            Some(&carol),
            UPSERT_PROFILE,
            input(json!({"bio": "b".repeat(2001)})),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

on_every_backend!(
    anonymous_writes_are_unauthenticated_and_change_nothing,
    nobody_changes_someone_elses_post,
    authors_and_admins_change_and_delete_posts,
    creating_a_post_makes_the_viewer_its_author,
    post_inputs_are_validated_by_field,
    ids_of_the_wrong_type_or_of_nothing_are_refused,
    any_signed_in_user_comments_and_only_the_author_edits,
    comments_are_deleted_by_their_author_the_posts_author_or_an_admin,
    upsert_profile_writes_only_the_viewers_own_profile,
);
