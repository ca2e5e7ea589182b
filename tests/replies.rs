//! Threaded replies (`comments.parent_id`, self-referential one-to-many): a
//! comment's parent and replies, top-level comments only, replies nested to any
//! depth in statements set by the depth, writing replies, and deleting threads.
//!
//! Fixture: post 1 has comments 1, 2, 3 (top-level); post 4 has comment 4.

mod common;

use common::{Backend, TestApp, gid};
use serde_json::{Value, json};

const REPLY: &str = "mutation($input: CreateCommentInput!) {
    createComment(input: $input) { id databaseId body parent { databaseId } post { databaseId } } }";

fn input(value: Value) -> Value {
    json!({ "input": value })
}

/// Writes a reply as user 2 to `parent` on `post`; returns its database id.
async fn reply(app: &TestApp, post: i32, parent: i64, body: &str) -> i64 {
    let token = app.token_for(2);
    let variables = input(json!({
        "postId": gid("Post", post),
        "body": body,
        "parentId": gid("Comment", parent as i32),
    }));
    let data = app.write(Some(&token), REPLY, variables).await;
    assert_eq!(data["createComment"]["parent"]["databaseId"], parent);
    data["createComment"]["databaseId"].as_i64().unwrap()
}

/// Gives each of post 1's comments a chain of `depth` replies, each with a
/// sibling: every level has two replies, the first one replied to in turn.
async fn threads(app: &TestApp, depth: usize) {
    for top in 1..=3 {
        let mut parent = top;
        for level in 1..=depth {
            let next = reply(app, 1, parent, &format!("{top}.{level}")).await;
            reply(app, 1, parent, &format!("{top}.{level} aside")).await;
            parent = next;
        }
    }
}

const NESTED: &str = r#"{ post(id: "UG9zdDox") { comments(filter: {parentId: {isNull: true}}) {
    totalCount nodes { databaseId parent { id } replies(first: 1) { totalCount nodes { body
      parent { databaseId } replies(first: 1) { totalCount nodes { body
        replies(first: 1) { totalCount nodes { body } } } } } } } } } }"#;

async fn replies_nest_to_the_depth_asked_in_statements_set_by_that_depth(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    threads(&app, 3).await;
    let data = app.data(NESTED).await;
    let top = &data["post"]["comments"];
    assert_eq!(top["totalCount"], 3, "top-level comments only");
    let first = &top["nodes"][0];
    assert_eq!(first["databaseId"], 1);
    assert_eq!(first["parent"], Value::Null);
    let level1 = &first["replies"];
    assert_eq!(level1["totalCount"], 2);
    assert_eq!(level1["nodes"][0]["body"], "1.1");
    assert_eq!(level1["nodes"][0]["parent"]["databaseId"], 1);
    let level2 = &level1["nodes"][0]["replies"];
    assert_eq!(level2["nodes"][0]["body"], "1.2");
    let level3 = &level2["nodes"][0]["replies"];
    assert_eq!(level3["totalCount"], 2);
    assert_eq!(level3["nodes"][0]["body"], "1.3");
    // Every comment of the post, replies included, is in Post.comments.
    let all = app
        .data(r#"{ post(id: "UG9zdDox") { comments { totalCount } } }"#)
        .await;
    assert_eq!(all["post"]["comments"]["totalCount"], 3 + 3 * 3 * 2);
    let few = app.statements(NESTED).await;
    threads(&app, 5).await;
    let more = app.statements(NESTED).await;
    assert_eq!(few, more, "statements follow the depth, not the comments");
    assert!(few <= 5, "{few} statements for three levels");
}

async fn replies_page_per_parent_with_order_cursors_and_filters(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    for n in 1..=3 {
        reply(&app, 1, 1, &format!("to one {n}")).await;
        reply(&app, 1, 2, &format!("to two {n}")).await;
    }
    let query = r#"{ comments(filter: {parentId: {isNull: true}, post: {title: {eq: "Hello world"}}}) { nodes {
        databaseId replies(first: 2, orderBy: {field: CREATED_AT, direction: DESC}) {
          totalCount edges { cursor node { body } } pageInfo { hasNextPage endCursor } } } } }"#;
    let data = app.data(query).await;
    let nodes = data["comments"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    let bodies = |replies: &Value| -> Vec<String> {
        (replies["edges"].as_array().unwrap().iter())
            .map(|edge| edge["node"]["body"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(bodies(&nodes[0]["replies"]), ["to one 3", "to one 2"]);
    assert_eq!(bodies(&nodes[1]["replies"]), ["to two 3", "to two 2"]);
    assert_eq!(nodes[2]["replies"]["totalCount"], 0);
    assert_eq!(nodes[0]["replies"]["pageInfo"]["hasNextPage"], true);
    let cursor = nodes[0]["replies"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap();
    let next = app
        .data(&format!(
            r#"{{ comment(id: "{}") {{ replies(first: 2, after: "{cursor}", orderBy: {{field: CREATED_AT, direction: DESC}}) {{
                nodes {{ body }} pageInfo {{ hasNextPage }} }} }} }}"#,
            gid("Comment", 1)
        ))
        .await;
    assert_eq!(
        next["comment"]["replies"]["nodes"],
        json!([{"body": "to one 1"}])
    );
    assert_eq!(next["comment"]["replies"]["pageInfo"]["hasNextPage"], false);
    // Filters through replies and parents.
    let data = app
        .data(r#"{ comments(filter: {replies: {body: {startsWith: "to two"}}}) { nodes { databaseId } } }"#)
        .await;
    assert_eq!(data["comments"]["nodes"], json!([{"databaseId": 2}]));
    let data = app
        .data(&format!(
            r#"{{ comments(filter: {{parentId: {{eq: "{}"}}}}) {{ totalCount }} replied: comments(filter: {{parent: {{databaseId: {{eq: 2}}}}}}) {{ totalCount }} replies: comments(filter: {{parentId: {{isNull: false}}}}) {{ totalCount }} }}"#,
            gid("Comment", 1)
        ))
        .await;
    assert_eq!(
        data,
        json!({"comments": {"totalCount": 3}, "replied": {"totalCount": 3}, "replies": {"totalCount": 6}})
    );
}

async fn a_reply_names_a_comment_on_the_same_post(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let token = app.token_for(2);
    let write = |parent: String, post: i32| {
        input(json!({"postId": gid("Post", post), "body": "b", "parentId": parent}))
    };
    let (_, body) = app
        .request(Some(&token), REPLY, write(gid("Comment", 4), 1))
        .await;
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(error["extensions"]["field"], "parentId", "{body}");
    let (code, _) = app
        .write_error(Some(&token), REPLY, write(gid("Comment", 99), 1))
        .await;
    assert_eq!(code, "NOT_FOUND");
    let (code, _) = app
        .write_error(Some(&token), REPLY, write(gid("Post", 1), 1))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    let (code, _) = app
        .write_error(None, REPLY, write(gid("Comment", 1), 1))
        .await;
    assert_eq!(code, "UNAUTHENTICATED");
    let data = app.data("{ comments { totalCount } }").await;
    assert_eq!(data["comments"]["totalCount"], 4, "nothing written");
    let data = app
        .write(Some(&token), REPLY, write(gid("Comment", 4), 4))
        .await;
    assert_eq!(data["createComment"]["post"]["databaseId"], 4);
    assert_eq!(data["createComment"]["parent"]["databaseId"], 4);
}

async fn deleting_a_comment_deletes_its_replies_at_any_depth(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let mut parent = 1;
    for level in 1..=20 {
        parent = reply(&app, 1, parent, &format!("level {level}")).await;
    }
    let aside = reply(&app, 1, 2, "kept").await;
    let alice = app.token_for(1);
    let delete = "mutation($input: DeleteCommentInput!) { deleteComment(input: $input) }";
    app.write(
        Some(&alice),
        delete,
        input(json!({"id": gid("Comment", 1)})),
    )
    .await;
    let data = app
        .data(r#"{ post(id: "UG9zdDox") { comments { nodes { databaseId } } } }"#)
        .await;
    assert_eq!(
        data["post"]["comments"]["nodes"],
        json!([{"databaseId": 2}, {"databaseId": 3}, {"databaseId": aside}])
    );
    // A deep thread goes with its post.
    let mut parent = 2;
    for level in 1..=20 {
        parent = reply(&app, 1, parent, &format!("again {level}")).await;
    }
    let delete = "mutation($input: DeletePostInput!) { deletePost(input: $input) }";
    app.write(Some(&alice), delete, input(json!({"id": gid("Post", 1)})))
        .await;
    let data = app.data("{ comments { nodes { databaseId } } }").await;
    assert_eq!(data["comments"]["nodes"], json!([{"databaseId": 4}]));
}

async fn nested_replies_are_priced_by_their_page_sizes(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (code, _) = app
        .error("{ comments(first: 100) { nodes { replies(first: 100) { nodes { replies(first: 100) { nodes { id } } } } } } }")
        .await;
    assert_eq!(code, "TOO_COMPLEX");
}

on_every_backend!(
    replies_nest_to_the_depth_asked_in_statements_set_by_that_depth,
    replies_page_per_parent_with_order_cursors_and_filters,
    a_reply_names_a_comment_on_the_same_post,
    deleting_a_comment_deletes_its_replies_at_any_depth,
    nested_replies_are_priced_by_their_page_sizes,
);
