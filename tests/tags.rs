//! Tags on posts (many-to-many through `post_tags`): reading them both ways, paged
//! per parent inside SQL, filtering through them, and writing them with posts.

mod common;

use common::{Backend, TestApp, gid};
use serde_json::{Value, json};

const CREATE_POST: &str = "mutation($input: CreatePostInput!) {
    createPost(input: $input) { id tags { totalCount nodes { name } } } }";
const UPDATE_POST: &str = "mutation($input: UpdatePostInput!) {
    updatePost(input: $input) { title tags { nodes { name } } } }";

fn input(value: Value) -> Value {
    json!({ "input": value })
}

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

async fn a_post_is_written_with_its_tags_trimmed_and_matched_ignoring_case(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let alice = app.token_for(1);
    let data = app
        .write(
            Some(&alice),
            CREATE_POST,
            input(json!({"title": "Tagged", "body": "b", "tags": ["  Rust ", "rust", "GraphQL"]})),
        )
        .await;
    assert_eq!(data["createPost"]["tags"]["totalCount"], 2);
    assert_eq!(names(&data["createPost"]["tags"]), ["GraphQL", "Rust"]);
    let bob = app.token_for(2);
    let data = app
        .write(
            Some(&bob),
            CREATE_POST,
            input(json!({"title": "Also", "body": "b", "tags": ["RUST", "sql"]})),
        )
        .await;
    // The tag keeps the spelling of its first use.
    assert_eq!(names(&data["createPost"]["tags"]), ["Rust", "sql"]);
    let tags = app
        .data("{ tags { totalCount nodes { name posts { totalCount } } } }")
        .await;
    // The fixture's one tag, and three new ones.
    assert_eq!(tags["tags"]["totalCount"], 4);
    let rust = (tags["tags"]["nodes"].as_array().unwrap().iter())
        .find(|tag| tag["name"] == "Rust")
        .expect("one Rust tag");
    assert_eq!(rust["posts"]["totalCount"], 2);
    let data = app
        .data(r#"{ posts(filter: {tags: {name: {eq: "Rust"}}}) { nodes { title } } }"#)
        .await;
    assert_eq!(
        data["posts"]["nodes"],
        json!([{"title": "Tagged"}, {"title": "Also"}])
    );
}

async fn updating_a_posts_tags_replaces_them(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let alice = app.token_for(1);
    let id = app
        .write(
            Some(&alice),
            CREATE_POST,
            input(json!({"title": "T", "body": "b", "tags": ["a", "b"]})),
        )
        .await["createPost"]["id"]
        .clone();
    let data = app
        .write(
            Some(&alice),
            UPDATE_POST,
            input(json!({"id": id, "tags": ["b", "c"]})),
        )
        .await;
    assert_eq!(names(&data["updatePost"]["tags"]), ["b", "c"]);
    assert_eq!(data["updatePost"]["title"], "T");
    let data = app
        .write(
            Some(&alice),
            UPDATE_POST,
            input(json!({"id": id, "title": "U"})),
        )
        .await;
    assert_eq!(
        names(&data["updatePost"]["tags"]),
        ["b", "c"],
        "kept when not given"
    );
    let data = app
        .write(
            Some(&alice),
            UPDATE_POST,
            input(json!({"id": id, "title": "V", "tags": []})),
        )
        .await;
    assert_eq!(data["updatePost"]["title"], "V");
    assert_eq!(names(&data["updatePost"]["tags"]), Vec::<String>::new());
    // The tags themselves stay, with no post (beside the fixture's one).
    let tags = app.data("{ tags { totalCount } }").await;
    assert_eq!(tags["tags"]["totalCount"], 4);
}

async fn bad_tags_are_refused_naming_the_field_and_change_nothing(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let alice = app.token_for(1);
    let too_many: Vec<String> = (0..21).map(|n| format!("t{n}")).collect();
    for tags in [
        json!(["ok", "   "]),
        json!(["x".repeat(51)]),
        json!(too_many),
        json!(["nul\u{0}"]),
    ] {
        let (_, body) = app
            .request(
                Some(&alice),
                CREATE_POST,
                input(json!({"title": "T", "body": "b", "tags": tags})),
            )
            .await;
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(error["extensions"]["field"], "tags", "{body}");
        let (_, body) = app
            .request(
                Some(&alice),
                UPDATE_POST,
                input(json!({"id": gid("Post", 1), "title": "New", "tags": tags})),
            )
            .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "tags", "{body}");
    }
    let data = app
        .data("{ posts { totalCount } tags { totalCount } }")
        .await;
    assert_eq!(
        data,
        json!({"posts": {"totalCount": 4}, "tags": {"totalCount": 1}})
    );
    let post = app.data(r#"{ post(id: "UG9zdDox") { title } }"#).await;
    assert_eq!(post["post"]["title"], "Hello world");
    // Twenty tags, and one spelt twice, are fine.
    let mut twenty: Vec<String> = (0..20).map(|n| format!("t{n}")).collect();
    twenty.push("T0".into());
    let data = app
        .write(
            Some(&alice),
            CREATE_POST,
            input(json!({"title": "T", "body": "b", "tags": twenty})),
        )
        .await;
    assert_eq!(data["createPost"]["tags"]["totalCount"], 20);
    let data = app
        .write(
            Some(&alice),
            CREATE_POST,
            input(json!({"title": "T", "body": "b", "tags": ["x".repeat(50)]})),
        )
        .await;
    assert_eq!(data["createPost"]["tags"]["totalCount"], 1);
}

async fn two_posts_creating_the_same_new_tag_at_once_share_it(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let (alice, bob) = (app.token_for(1), app.token_for(2));
    for round in 0..5 {
        let tag = format!("fresh {round}");
        let upper = tag.to_uppercase();
        let write = |token: String, name: String| {
            let app = &app;
            async move {
                app.write(
                    Some(&token),
                    CREATE_POST,
                    input(json!({"title": "T", "body": "b", "tags": [name]})),
                )
                .await
            }
        };
        let (a, b) = tokio::join!(write(alice.clone(), tag.clone()), write(bob.clone(), upper));
        assert_eq!(a["createPost"]["tags"]["totalCount"], 1);
        assert_eq!(b["createPost"]["tags"]["totalCount"], 1);
        // `startsWith` ignores case: whichever spelling came first, one tag, on both posts.
        let data = app
            .data(&format!(r#"{{ tags(filter: {{name: {{startsWith: "{tag}"}}}}) {{ nodes {{ posts {{ totalCount }} }} }} }}"#))
            .await;
        assert_eq!(data["tags"]["nodes"], json!([{"posts": {"totalCount": 2}}]));
        let all = app.data("{ tags { totalCount } }").await;
        assert_eq!(
            all["tags"]["totalCount"],
            round + 2,
            "the fixture's tag, and one tag per round: {data}"
        );
    }
}

async fn deleting_a_post_takes_its_tags_off_it(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let alice = app.token_for(1);
    let id = app
        .write(
            Some(&alice),
            CREATE_POST,
            input(json!({"title": "T", "body": "b", "tags": ["gone"]})),
        )
        .await["createPost"]["id"]
        .clone();
    app.write(
        Some(&alice),
        "mutation($input: DeletePostInput!) { deletePost(input: $input) }",
        input(json!({"id": id})),
    )
    .await;
    let data = app
        .data("{ tags { nodes { name posts { totalCount } } } }")
        .await;
    assert_eq!(
        data["tags"]["nodes"],
        json!([
            {"name": "news", "posts": {"totalCount": 1}},
            {"name": "gone", "posts": {"totalCount": 0}}
        ])
    );
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
    a_post_is_written_with_its_tags_trimmed_and_matched_ignoring_case,
    updating_a_posts_tags_replaces_them,
    bad_tags_are_refused_naming_the_field_and_change_nothing,
    two_posts_creating_the_same_new_tag_at_once_share_it,
    deleting_a_post_takes_its_tags_off_it,
    a_tag_list_is_priced_like_every_list,
);
