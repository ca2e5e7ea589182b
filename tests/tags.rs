//! Tags on posts (many-to-many through `post_tags`): reading them both ways, paged
//! per parent inside SQL, and filtering through them.

mod common;

use common::{Backend, TestApp, gid};
use serde_json::{Value, json};

fn names(connection: &Value) -> Vec<String> {
    let nodes = connection["nodes"].as_array().expect("nodes");
    let mut names: Vec<String> = nodes
        .iter()
        .map(|node| node["name"].as_str().expect("a name").to_owned())
        .collect();
    names.sort();
    names
}

async fn tags_and_their_posts_are_paged_per_parent_in_one_statement_each(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 10).await;
    // Post p carries tags p % 10 + 1 and (p + 1) % 10 + 1; tag t is on six posts.
    let data = app
        .data(
            "{ posts(first: 3) { nodes { databaseId tags(first: 1, orderBy: {field: NAME, direction: DESC}) {
                totalCount nodes { name } } } } }",
        )
        .await;
    let posts = data["posts"]["nodes"].as_array().unwrap();
    assert_eq!(posts.len(), 3);
    for post in posts {
        let p = post["databaseId"].as_i64().unwrap();
        let mut expected = [
            format!("Tag {}", p % 10 + 1),
            format!("Tag {}", (p + 1) % 10 + 1),
        ];
        expected.sort();
        assert_eq!(post["tags"]["totalCount"], 2, "{post}");
        assert_eq!(
            post["tags"]["nodes"],
            json!([{"name": expected[1]}]),
            "{post}"
        );
    }
    let data = app
        .data("{ tags(first: 2) { totalCount nodes { name posts(first: 4) { totalCount nodes { databaseId } } } } }")
        .await;
    assert_eq!(data["tags"]["totalCount"], 10);
    let tag = &data["tags"]["nodes"][0];
    assert_eq!(tag["name"], "Tag 1");
    assert_eq!(tag["posts"]["totalCount"], 6);
    // Tag 1 is on the posts p with p % 10 == 0 or (p + 1) % 10 == 0.
    assert_eq!(
        tag["posts"]["nodes"],
        json!([{"databaseId": 9}, {"databaseId": 10}, {"databaseId": 19}, {"databaseId": 20}])
    );
    // Statements follow the query's shape, not how many rows it reads.
    let query = |n: i32| {
        format!(
            "{{ tags(first: {n}) {{ nodes {{ posts(first: 5) {{ totalCount nodes {{ title tags {{ nodes {{ name }} }} }} }} }} }} }}"
        )
    };
    let few = app.statements(&query(2)).await;
    let many = app.statements(&query(10)).await;
    assert_eq!(few, many);
    assert!(few <= 4, "{few} statements");
}

async fn tags_are_found_by_id_and_filtered_through_both_ways(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 10).await;
    let tag = gid("Tag", 3);
    let data = app
        .data(&format!(
            r#"{{ tag(id: "{tag}") {{ id databaseId name }} node(id: "{tag}") {{ ... on Tag {{ name }} }} }}"#
        ))
        .await;
    assert_eq!(
        data["tag"],
        json!({"id": tag, "databaseId": 3, "name": "Tag 3"})
    );
    assert_eq!(data["node"]["name"], "Tag 3");
    let (code, _) = app
        .error(&format!(
            r#"{{ tag(id: "{}") {{ name }} }}"#,
            gid("Post", 3)
        ))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    // Posts 1, 2, 11, 12, 21, 22 carry tag 3.
    let data = app
        .data(r#"{ posts(filter: {tags: {name: {eq: "Tag 3"}}}) { totalCount nodes { databaseId } } }"#)
        .await;
    assert_eq!(data["posts"]["totalCount"], 6);
    assert_eq!(data["posts"]["nodes"][0]["databaseId"], 1);
    let data = app
        .data(r#"{ tags(filter: {posts: {title: {eq: "Post 12"}}}) { nodes { name } } }"#)
        .await;
    assert_eq!(names(&data["tags"]), ["Tag 3", "Tag 4"]);
    let data = app
        .data(r#"{ posts(first: 1) { nodes { tags(filter: {name: {startsWith: "tag 3"}}) { nodes { name } } } } }"#)
        .await;
    assert_eq!(names(&data["posts"]["nodes"][0]["tags"]), ["Tag 3"]);
}

async fn a_tag_list_is_priced_like_every_list(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (code, _) = app
        .error("{ tags(first: 100) { nodes { posts(first: 100) { nodes { tags(first: 100) { nodes { name } } } } } } }")
        .await;
    assert_eq!(code, "TOO_COMPLEX");
}

on_every_backend!(
    tags_and_their_posts_are_paged_per_parent_in_one_statement_each,
    tags_are_found_by_id_and_filtered_through_both_ways,
    a_tag_list_is_priced_like_every_list,
);
