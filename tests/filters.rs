//! Filters: on ids, keys, texts, booleans and times; combinators; related rows.

mod common;

use common::{Backend, TestApp, gid};
use serde_json::{Value, json};

async fn titles(app: &TestApp, filter: &str) -> Vec<String> {
    let data = app
        .data(&format!(
            "{{ posts(filter: {filter}) {{ totalCount nodes {{ title }} }} }}"
        ))
        .await;
    let nodes = data["posts"]["nodes"].as_array().unwrap();
    assert_eq!(
        data["posts"]["totalCount"],
        nodes.len(),
        "totalCount follows the filter"
    );
    nodes
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn names(app: &TestApp, list: &str, filter: &str) -> Vec<Value> {
    let data = app
        .data(&format!(
            "{{ {list}(filter: {filter}) {{ nodes {{ name }} }} }}"
        ))
        .await;
    data[list]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].clone())
        .collect()
}

async fn ids_and_keys_filter_by_equality_and_membership(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let (p1, p4) = (gid("Post", 1), gid("Post", 4));
    assert_eq!(
        titles(&app, &format!(r#"{{id: {{eq: "{p4}"}}}}"#)).await,
        ["Bob's post"]
    );
    assert_eq!(
        titles(&app, &format!(r#"{{id: {{in: ["{p1}", "{p4}"]}}}}"#)).await,
        ["Hello world", "Bob's post"]
    );
    assert_eq!(
        titles(&app, "{databaseId: {in: [2, 3]}}").await,
        ["Draft notes", "100% sure_thing"]
    );
    assert_eq!(
        titles(&app, "{databaseId: {gt: 1, lte: 2}}").await,
        ["Draft notes"]
    );
    let bob = gid("User", 2);
    assert_eq!(
        titles(&app, &format!(r#"{{authorId: {{eq: "{bob}"}}}}"#)).await,
        ["Bob's post"]
    );
}

async fn texts_filter_by_contains_and_prefix_ignoring_case(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    assert_eq!(
        titles(&app, r#"{title: {contains: "WORLD"}}"#).await,
        ["Hello world"]
    );
    assert_eq!(
        titles(&app, r#"{title: {startsWith: "draft"}}"#).await,
        ["Draft notes"]
    );
    assert_eq!(
        titles(&app, r#"{title: {eq: "Bob's post"}}"#).await,
        ["Bob's post"]
    );
    assert_eq!(
        titles(&app, r#"{title: {in: ["Hello world", "nope"]}}"#).await,
        ["Hello world"]
    );
    assert_eq!(
        titles(&app, r#"{body: {contains: "notes"}}"#).await,
        ["Draft notes"]
    );
}

async fn like_wildcards_in_filters_match_literally(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    assert_eq!(
        titles(&app, r#"{title: {contains: "%"}}"#).await,
        ["100% sure_thing"]
    );
    assert_eq!(
        titles(&app, r#"{title: {contains: "_"}}"#).await,
        ["100% sure_thing"]
    );
    assert_eq!(
        titles(&app, r#"{title: {contains: "o_d"}}"#).await,
        Vec::<String>::new()
    );
    assert_eq!(
        titles(&app, r#"{title: {startsWith: "%"}}"#).await,
        Vec::<String>::new()
    );
    assert_eq!(
        titles(&app, r#"{title: {contains: "!"}}"#).await,
        Vec::<String>::new()
    );
}

async fn booleans_and_times_filter(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    assert_eq!(
        titles(&app, "{published: {eq: false}}").await,
        ["Draft notes"]
    );
    assert_eq!(
        titles(
            &app,
            r#"{createdAt: {gte: "2026-01-01T12:00:00Z", lt: "2026-01-01T14:00:00Z"}}"#
        )
        .await,
        ["Draft notes", "100% sure_thing"]
    );
    assert_eq!(
        titles(&app, r#"{createdAt: {eq: "2026-01-01T11:00:00+00:00"}}"#).await,
        ["Hello world"]
    );
    // An offset names the same instant in UTC.
    assert_eq!(
        titles(&app, r#"{createdAt: {eq: "2026-01-01T12:30:00+01:30"}}"#).await,
        ["Hello world"]
    );
    let (code, message) = app
        .error(r#"{ posts(filter: {createdAt: {eq: "yesterday"}}) { totalCount } }"#)
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("RFC 3339"), "{message}");
}

async fn and_or_not_combine_filters(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    assert_eq!(
        titles(
            &app,
            r#"{or: [{title: {startsWith: "Hello"}}, {title: {startsWith: "Bob"}}]}"#
        )
        .await,
        ["Hello world", "Bob's post"]
    );
    assert_eq!(
        titles(
            &app,
            r#"{and: [{published: {eq: true}}, {not: {title: {contains: "o"}}}]}"#
        )
        .await,
        ["100% sure_thing"]
    );
    assert_eq!(
        titles(&app, r#"{not: {published: {eq: true}}}"#).await,
        ["Draft notes"]
    );
}

async fn filters_follow_related_rows(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    assert_eq!(
        titles(&app, r#"{author: {name: {startsWith: "B"}}}"#).await,
        ["Bob's post"],
        "posts whose author's name starts with B"
    );
    assert_eq!(
        names(&app, "users", r#"{posts: {title: {contains: "world"}}}"#).await,
        [json!("Alice")],
        "users who wrote a post matching"
    );
    assert_eq!(
        titles(&app, r#"{comments: {author: {name: {eq: "Carol"}}}}"#).await,
        ["Hello world"],
        "posts Carol commented on"
    );
    let sam = gid("Student", 1);
    assert_eq!(
        names(
            &app,
            "courses",
            &format!(r#"{{students: {{id: {{eq: "{sam}"}}}}}}"#)
        )
        .await,
        [json!("Algebra"), json!("Biology")],
        "courses that a given student takes"
    );
    assert_eq!(
        names(
            &app,
            "students",
            r#"{courses: {name: {eq: "Algebra"}}, not: {name: {eq: "Sam"}}}"#
        )
        .await,
        [json!("Tia")]
    );
    assert_eq!(
        names(
            &app,
            "users",
            r#"{comments: {post: {author: {name: {eq: "Bob"}}}}}"#
        )
        .await,
        [json!("Alice")],
        "users who commented on a post of Bob's"
    );
}

async fn nested_lists_filter_per_parent(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let data = app
        .data(r#"{ users(first: 2) { nodes { posts(filter: {published: {eq: true}}) { totalCount nodes { title } } } } }"#)
        .await;
    assert_eq!(
        data["users"]["nodes"],
        json!([
            {"posts": {"totalCount": 2, "nodes": [{"title": "Hello world"}, {"title": "100% sure_thing"}]}},
            {"posts": {"totalCount": 1, "nodes": [{"title": "Bob's post"}]}}
        ])
    );
}

async fn bad_filters_are_bad_user_input(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let student = gid("Student", 1);
    for filter in [
        format!(r#"{{id: {{eq: "{student}"}}}}"#),
        r#"{id: {eq: "garbage"}}"#.to_owned(),
        r#"{authorId: {in: ["UG9zdDox"]}}"#.to_owned(),
        "{title: {contains: \"a\\u0000b\"}}".to_owned(),
        "{or: []}".to_owned(),
        format!(r#"{{title: {{contains: "{}"}}}}"#, "x".repeat(1001)),
    ] {
        let (code, _) = app
            .error(&format!(
                "{{ posts(filter: {filter}) {{ nodes {{ id }} }} }}"
            ))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{filter}");
    }
}

async fn sql_text_and_emoji_in_filters_are_plain_text(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let token = app.token_for(1);
    let create = "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }";
    app.write(
        Some(&token),
        create,
        json!({"i": {"title": "Ünïcødé 🦀 crabs", "body": "x", "published": true}}),
    )
    .await;
    for text in [
        "'; DROP TABLE users; --",
        "\" OR 1=1 --",
        "') OR ('1'='1",
        "\\",
    ] {
        let (_, body) = app
            .request(
                None,
                "query($t: String!) { posts(filter: {title: {contains: $t}}) { totalCount } }",
                json!({"t": text}),
            )
            .await;
        assert_eq!(body["data"]["posts"]["totalCount"], 0, "{text}: {body}");
    }
    // Nothing was dropped, and emoji match themselves.
    let (_, body) = app
        .request(
            None,
            "query($t: String!) { posts(filter: {title: {contains: $t}}) { nodes { title } } users { totalCount } }",
            json!({"t": "🦀"}),
        )
        .await;
    assert_eq!(
        body["data"]["posts"]["nodes"][0]["title"], "Ünïcødé 🦀 crabs",
        "{body}"
    );
    assert_eq!(body["data"]["users"]["totalCount"], 4, "{body}");
}

async fn filters_nest_only_so_deep(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let mut filter = "{title: {eq: \"x\"}}".to_owned();
    for _ in 0..9 {
        filter = format!("{{not: {filter}}}");
    }
    let (code, message) = app
        .error(&format!(
            "{{ posts(filter: {filter}) {{ nodes {{ id }} }} }}"
        ))
        .await;
    assert_eq!(code, "TOO_COMPLEX");
    assert!(message.contains("deeper than 8"), "{message}");
}

async fn emoji_and_sql_text_in_filters_are_just_text(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    assert_eq!(
        titles(&app, r#"{title: {contains: "'; DROP TABLE posts; --"}}"#).await,
        Vec::<String>::new()
    );
    assert_eq!(
        titles(&app, r#"{title: {contains: "🦀"}}"#).await,
        Vec::<String>::new()
    );
    assert_eq!(
        app.data("{ posts { totalCount } }").await["posts"]["totalCount"],
        4
    );
}

on_every_backend!(
    sql_text_and_emoji_in_filters_are_plain_text,
    ids_and_keys_filter_by_equality_and_membership,
    texts_filter_by_contains_and_prefix_ignoring_case,
    like_wildcards_in_filters_match_literally,
    booleans_and_times_filter,
    and_or_not_combine_filters,
    filters_follow_related_rows,
    nested_lists_filter_per_parent,
    bad_filters_are_bad_user_input,
    filters_nest_only_so_deep,
    emoji_and_sql_text_in_filters_are_just_text,
);
