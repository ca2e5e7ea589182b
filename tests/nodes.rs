//! Global ids: `node`, `nodes` and the typed root fields.

mod common;

use common::{Backend, TestApp, gid};
use serde_json::json;

async fn node_finds_every_type_by_its_global_id(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let types = app
        .data(r#"{ __type(name: "Node") { possibleTypes { name fields { name type { kind ofType { name } } } } } }"#)
        .await;
    let types = types["__type"]["possibleTypes"].as_array().expect("types");
    assert!(types.len() >= 6, "{types:?}");
    for node_type in types {
        let type_name = node_type["name"].as_str().expect("a name");
        let fields = node_type["fields"].as_array().expect("fields");
        if !fields.iter().any(|f| f["name"] == "databaseId") {
            // A type keyed by two ids (an association row): the fixture's (1, 1).
            let id = base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{type_name}:1:1"),
            );
            let data = app
                .data(&format!(r#"{{ node(id: "{id}") {{ __typename id }} }}"#))
                .await;
            assert_eq!(data["node"], json!({"__typename": type_name, "id": id}));
            continue;
        }
        // Its first text field that is never null.
        let field = node_type["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .find(|f| f["type"]["kind"] == "NON_NULL" && f["type"]["ofType"]["name"] == "String")
            .and_then(|f| f["name"].as_str())
            .unwrap_or_else(|| panic!("{type_name} has a text field"));
        let id = gid(type_name, 1);
        let data = app
            .data(&format!(r#"{{ node(id: "{id}") {{ __typename id ... on {type_name} {{ databaseId {field} }} }} }}"#))
            .await;
        assert_eq!(data["node"]["__typename"], type_name);
        assert_eq!(data["node"]["id"], id);
        assert_eq!(data["node"]["databaseId"], 1);
        assert!(data["node"][field].is_string());
    }
}

async fn the_contracts_example_id_is_user_777(backend: Backend) {
    let app = TestApp::new(backend).await;
    app.execute("INSERT INTO users (id, name, email, created_at) VALUES (777, 'Seven', 's@example.com', '2026-01-01 00:00:00')")
        .await;
    let data = app
        .data(r#"{ user(id: "VXNlcjo3Nzc=") { id databaseId name } }"#)
        .await;
    assert_eq!(
        data["user"],
        json!({"id": "VXNlcjo3Nzc=", "databaseId": 777, "name": "Seven"})
    );
}

async fn nodes_keeps_order_and_gives_null_for_missing_rows(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let query = format!(
        r#"{{ nodes(ids: ["{}", "{}", "{}", "{}"]) {{ id }} }}"#,
        gid("Post", 4),
        gid("User", 99),
        gid("User", 2),
        gid("Course", 3)
    );
    let data = app.data(&query).await;
    assert_eq!(
        data["nodes"],
        json!([{"id": gid("Post", 4)}, null, {"id": gid("User", 2)}, {"id": gid("Course", 3)}])
    );
}

async fn a_deleted_row_is_null(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    app.execute("DELETE FROM comments WHERE id = 2").await;
    let id = gid("Comment", 2);
    assert_eq!(
        app.data(&format!(r#"{{ node(id: "{id}") {{ id }} }}"#))
            .await,
        json!({"node": null})
    );
    assert_eq!(
        app.data(&format!(r#"{{ comment(id: "{id}") {{ id }} }}"#))
            .await,
        json!({"comment": null})
    );
}

async fn malformed_or_unknown_ids_are_bad_user_input(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    for id in [
        "",
        "!!!",
        "VXNlcg==",
        "VXNlcjphYmM=",
        "VXNlcjotMQ==",
        &gid("Nothing", 1),
    ] {
        let (code, _) = app
            .error(&format!(r#"{{ node(id: "{id}") {{ id }} }}"#))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "node({id})");
    }
    let (code, _) = app
        .error(r#"{ nodes(ids: ["VXNlcjox", "bad"]) { id } }"#)
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

async fn a_typed_root_field_refuses_an_id_of_another_type(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    for (field, other) in [
        ("user", "Post"),
        ("post", "User"),
        ("comment", "Course"),
        ("student", "Course"),
        ("course", "Student"),
    ] {
        let (code, message) = app
            .error(&format!(
                r#"{{ {field}(id: "{}") {{ id }} }}"#,
                gid(other, 1)
            ))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{field}");
        assert!(message.contains(&format!("id of a {other}")), "{message}");
    }
}

async fn nodes_takes_at_most_a_hundred_ids(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let ids: Vec<String> = (1..=101)
        .map(|i| format!("\"{}\"", gid("User", i)))
        .collect();
    let (code, _) = app
        .error(&format!("{{ nodes(ids: [{}]) {{ id }} }}", ids.join(",")))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

/// `nodes` looks up rows of several types under one field: each type joins what its
/// own selection asks for (a comment its author), not what another type's does.
async fn nodes_of_several_types_join_each_their_own_rows(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let query = format!(
        r#"{{ nodes(ids: ["{}", "{}", "{}"]) {{ __typename
            ... on Comment {{ body author {{ name }} }}
            ... on Course {{ name }}
            ... on User {{ name posts(first: 1) {{ nodes {{ title }} }} }} }} }}"#,
        gid("Comment", 1),
        gid("Course", 1),
        gid("User", 2),
    );
    let data = app.data(&query).await;
    assert_eq!(
        data["nodes"],
        json!([
            {"__typename": "Comment", "body": "Nice post", "author": {"name": "Bob"}},
            {"__typename": "Course", "name": "Algebra"},
            {"__typename": "User", "name": "Bob", "posts": {"nodes": [{"title": "Bob's post"}]}},
        ])
    );
}

/// A type backed by a row (it has a `databaseId`) is a `Node`: a declared row type
/// left out of the registration would fail here.
async fn every_row_type_is_a_node(backend: Backend) {
    let app = TestApp::new(backend).await;
    let data = app
        .data(r#"{ __schema { types { name kind fields { name } } } node: __type(name: "Node") { possibleTypes { name } } }"#)
        .await;
    let nodes: Vec<&str> = (data["node"]["possibleTypes"]
        .as_array()
        .expect("types")
        .iter())
    .filter_map(|t| t["name"].as_str())
    .collect();
    let rows: Vec<&str> = (data["__schema"]["types"].as_array().expect("types").iter())
        .filter(|t| t["kind"] == "OBJECT")
        .filter(|t| {
            t["fields"]
                .as_array()
                .is_some_and(|fields| fields.iter().any(|f| f["name"] == "databaseId"))
        })
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(rows.len() >= 6, "{rows:?}");
    for row in rows {
        assert!(nodes.contains(&row), "{row} is not a Node: {nodes:?}");
    }
}

on_every_backend!(
    every_row_type_is_a_node,
    nodes_of_several_types_join_each_their_own_rows,
    node_finds_every_type_by_its_global_id,
    the_contracts_example_id_is_user_777,
    nodes_keeps_order_and_gives_null_for_missing_rows,
    a_deleted_row_is_null,
    malformed_or_unknown_ids_are_bad_user_input,
    a_typed_root_field_refuses_an_id_of_another_type,
    nodes_takes_at_most_a_hundred_ids,
);
