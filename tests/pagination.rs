//! Connections: first/after/last/before, ordering with ties, limits and bad cursors.

mod common;

use common::{Backend, TestApp};
use relgql::engine::pagination::PageLimits;
use serde_json::{Value, json};

fn ids(connection: &Value) -> Vec<i64> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["databaseId"].as_i64().unwrap())
        .collect()
}

const PAGE: &str = "edges { cursor node { databaseId } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }";

async fn paging_forwards_visits_every_row_once(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let first = app
        .data(&format!("{{ posts(first: 3) {{ {PAGE} }} }}"))
        .await;
    assert_eq!(ids(&first["posts"]), vec![1, 2, 3]);
    assert_eq!(first["posts"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["posts"]["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(
        first["posts"]["pageInfo"]["startCursor"],
        first["posts"]["edges"][0]["cursor"]
    );
    let end = first["posts"]["pageInfo"]["endCursor"].as_str().unwrap();
    let second = app
        .data(&format!(
            r#"{{ posts(first: 3, after: "{end}") {{ {PAGE} }} }}"#
        ))
        .await;
    assert_eq!(ids(&second["posts"]), vec![4]);
    assert_eq!(second["posts"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(second["posts"]["pageInfo"]["hasPreviousPage"], true);
    let end = second["posts"]["pageInfo"]["endCursor"].as_str().unwrap();
    let past = app
        .data(&format!(
            r#"{{ posts(first: 3, after: "{end}") {{ {PAGE} }} }}"#
        ))
        .await;
    assert_eq!(ids(&past["posts"]), Vec::<i64>::new());
    assert_eq!(past["posts"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(past["posts"]["pageInfo"]["endCursor"], json!(null));
}

async fn paging_backwards_returns_rows_in_list_order(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let last = app
        .data(&format!("{{ posts(last: 2) {{ {PAGE} }} }}"))
        .await;
    assert_eq!(ids(&last["posts"]), vec![3, 4]);
    assert_eq!(last["posts"]["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(last["posts"]["pageInfo"]["hasNextPage"], false);
    let start = last["posts"]["pageInfo"]["startCursor"].as_str().unwrap();
    let before = app
        .data(&format!(
            r#"{{ posts(last: 5, before: "{start}") {{ {PAGE} }} }}"#
        ))
        .await;
    assert_eq!(ids(&before["posts"]), vec![1, 2]);
    assert_eq!(before["posts"]["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(before["posts"]["pageInfo"]["hasNextPage"], true);
}

async fn first_zero_gives_no_rows_but_tells_whether_there_are_any(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let data = app
        .data(&format!("{{ posts(first: 0) {{ totalCount {PAGE} }} }}"))
        .await;
    assert_eq!(ids(&data["posts"]), Vec::<i64>::new());
    assert_eq!(data["posts"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(data["posts"]["totalCount"], 4);
}

async fn ties_are_broken_by_id_in_both_directions(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    app.execute(
        "INSERT INTO users (id, name, email, created_at) VALUES \
         (5, 'Zed', 'z1@example.com', '2026-01-01 00:00:00'), \
         (6, 'Zed', 'z2@example.com', '2026-01-01 00:00:00'), \
         (7, 'Zed', 'z3@example.com', '2026-01-01 00:00:00')",
    )
    .await;
    for direction in ["ASC", "DESC"] {
        let order = format!(
            "orderBy: [{{field: NAME, direction: {direction}}}], filter: {{name: {{eq: \"Zed\"}}}}"
        );
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let page = app
                .data(&format!(
                    "{{ users(first: 1, {order}{after}) {{ {PAGE} }} }}"
                ))
                .await;
            seen.extend(ids(&page["users"]));
            if page["users"]["pageInfo"]["hasNextPage"] != true {
                break;
            }
            let end = page["users"]["pageInfo"]["endCursor"].as_str().unwrap();
            after = format!(", after: \"{end}\"");
        }
        assert_eq!(
            seen,
            vec![5, 6, 7],
            "{direction}: equal names are ordered by id"
        );
    }
}

async fn a_multi_term_order_pages_with_its_cursor(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let order = "orderBy: [{field: PUBLISHED, direction: DESC}]";
    let (code, _) = app
        .error(&format!("{{ posts({order}) {{ {PAGE} }} }}"))
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "PUBLISHED is not a sort field");
    let order = "orderBy: [{field: CREATED_AT, direction: DESC}, {field: TITLE}]";
    let first = app
        .data(&format!("{{ posts(first: 2, {order}) {{ {PAGE} }} }}"))
        .await;
    assert_eq!(ids(&first["posts"]), vec![4, 3]);
    let end = first["posts"]["pageInfo"]["endCursor"].as_str().unwrap();
    let next = app
        .data(&format!(
            r#"{{ posts(first: 2, after: "{end}", {order}) {{ {PAGE} }} }}"#
        ))
        .await;
    assert_eq!(ids(&next["posts"]), vec![2, 1]);
}

/// A page reads its order's columns only when a cursor is asked for; each way of
/// asking for one still pages on, whatever else the selection leaves out.
async fn each_way_of_asking_for_a_cursor_reads_the_order(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let order = "orderBy: [{field: TITLE, direction: DESC}]";
    let everything = app
        .data(&format!(
            "{{ posts({order}) {{ nodes {{ databaseId }} }} }}"
        ))
        .await;
    let all: Vec<i64> = everything["posts"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["databaseId"].as_i64().unwrap())
        .collect();
    assert!(all.len() > 2, "{everything}");
    let ways = [
        ("pageInfo { endCursor }", "/posts/pageInfo/endCursor"),
        ("edges { cursor }", "/posts/edges/1/cursor"),
        (
            "pageInfo { startCursor } edges { node { id } }",
            "/posts/pageInfo/startCursor",
        ),
    ];
    for (asked, pointer) in ways {
        let first = app
            .data(&format!(
                "{{ posts(first: 2, {order}) {{ nodes {{ databaseId }} {asked} }} }}"
            ))
            .await;
        let cursor = first.pointer(pointer).and_then(|c| c.as_str()).unwrap();
        let next = app
            .data(&format!(
                r#"{{ posts(first: 1, after: "{cursor}", {order}) {{ nodes {{ databaseId }} }} }}"#
            ))
            .await;
        let after = if pointer.contains("startCursor") {
            1
        } else {
            2
        };
        assert_eq!(
            next["posts"]["nodes"][0]["databaseId"], all[after],
            "{asked}: {first}"
        );
    }
}

/// Whether another page follows takes reading one row past the page, which is
/// done only when asked for: under an alias, in a fragment, or backwards.
async fn whether_another_page_follows_is_known_however_it_is_asked(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let cases = [
        ("posts(first: 2) { pageInfo { more: hasNextPage } }", true),
        ("posts(first: 9) { pageInfo { more: hasNextPage } }", false),
        (
            "posts(first: 2) { ... on PostConnection { pageInfo { more: hasNextPage } } }",
            true,
        ),
        (
            "posts(first: 2) { ...Page } } fragment Page on PostConnection { pageInfo { more: hasNextPage }",
            true,
        ),
        (
            "posts(last: 2) { nodes { id } pageInfo { more: hasPreviousPage } }",
            true,
        ),
        (
            "posts(last: 9) { pageInfo { more: hasPreviousPage } }",
            false,
        ),
    ];
    for (selection, more) in cases {
        let data = app.data(&format!("{{ {selection} }}")).await;
        assert_eq!(
            data["posts"]["pageInfo"]["more"], more,
            "{selection}: {data}"
        );
    }
    let nested = app
        .data(r#"{ post(id: "UG9zdDox") { comments(first: 2) { nodes { id } pageInfo { hasNextPage } } } }"#)
        .await;
    assert_eq!(
        nested["post"]["comments"]["pageInfo"]["hasNextPage"], true,
        "{nested}"
    );
    let nested = app
        .data(
            r#"{ posts(first: 1) { nodes { comments(first: 3) { pageInfo { hasNextPage } } } } }"#,
        )
        .await;
    assert_eq!(
        nested["posts"]["nodes"][0]["comments"]["pageInfo"]["hasNextPage"], false,
        "{nested}"
    );
}

async fn nested_pages_use_the_same_cursor_rules(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let first = app
        .data(&format!(
            r#"{{ post(id: "UG9zdDox") {{ comments(first: 2) {{ {PAGE} }} }} }}"#
        ))
        .await;
    let comments = &first["post"]["comments"];
    assert_eq!(ids(comments), vec![1, 2]);
    assert_eq!(comments["pageInfo"]["hasNextPage"], true);
    let end = comments["pageInfo"]["endCursor"].as_str().unwrap();
    let next = app
        .data(&format!(
            r#"{{ post(id: "UG9zdDox") {{ comments(first: 2, after: "{end}") {{ {PAGE} }} }} }}"#
        ))
        .await;
    assert_eq!(ids(&next["post"]["comments"]), vec![3]);
    assert_eq!(next["post"]["comments"]["pageInfo"]["hasNextPage"], false);
    let last = app
        .data(&format!(
            r#"{{ post(id: "UG9zdDox") {{ comments(last: 1) {{ {PAGE} }} }} }}"#
        ))
        .await;
    assert_eq!(ids(&last["post"]["comments"]), vec![3]);
    assert_eq!(
        last["post"]["comments"]["pageInfo"]["hasPreviousPage"],
        true
    );
}

async fn bad_page_arguments_are_bad_user_input(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    for (args, needle) in [
        ("first: 101", "maximum page size of 100"),
        ("last: 1000000000", "maximum page size of 100"),
        ("first: -1", "must not be negative"),
        ("last: -5", "must not be negative"),
        ("first: 1, last: 1", "not both"),
        (r#"first: 1, after: "not a cursor""#, "malformed"),
        (r#"first: 1, after: "WyJQb3N0Il0""#, "malformed"),
        (r#"last: 1, after: "x""#, "`after` goes with `first`"),
    ] {
        let (code, message) = app
            .error(&format!("{{ posts({args}) {{ nodes {{ id }} }} }}"))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{args}");
        assert!(message.contains(needle), "{args}: {message}");
        let (code, _) = app
            .error(&format!(
                r#"{{ post(id: "UG9zdDox") {{ comments({args}) {{ nodes {{ id }} }} }} }}"#
            ))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "nested {args}");
    }
}

async fn a_cursor_from_another_list_or_order_is_refused(backend: Backend) {
    let app = TestApp::with_fixture(backend)
        .await
        .reading_as_admin(3)
        .await;
    let users = app
        .data("{ users(first: 1) { pageInfo { endCursor } } }")
        .await;
    let user_cursor = users["users"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, message) = app
        .error(&format!(
            r#"{{ posts(first: 1, after: "{user_cursor}") {{ nodes {{ id }} }} }}"#
        ))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("another list"), "{message}");
    let posts = app
        .data("{ posts(first: 1) { pageInfo { endCursor } } }")
        .await;
    let by_id = posts["posts"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, _) = app
        .error(&format!(
            r#"{{ posts(first: 1, after: "{by_id}", orderBy: [{{field: TITLE}}]) {{ nodes {{ id }} }} }}"#
        ))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

async fn the_page_size_maximum_is_a_setting(backend: Backend) {
    let app = TestApp::with_limits(backend, PageLimits { max: 2, default: 1 }).await;
    relgql_fixture(&app).await;
    let data = app.data("{ posts { nodes { databaseId } } }").await;
    assert_eq!(data["posts"]["nodes"], json!([{"databaseId": 1}]));
    let (code, message) = app.error("{ posts(first: 3) { nodes { id } } }").await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("maximum page size of 2"), "{message}");
}

async fn relgql_fixture(app: &TestApp) {
    common::fixture::known(&app.db).await;
}

on_every_backend!(
    paging_forwards_visits_every_row_once,
    paging_backwards_returns_rows_in_list_order,
    first_zero_gives_no_rows_but_tells_whether_there_are_any,
    ties_are_broken_by_id_in_both_directions,
    a_multi_term_order_pages_with_its_cursor,
    nested_pages_use_the_same_cursor_rules,
    each_way_of_asking_for_a_cursor_reads_the_order,
    whether_another_page_follows_is_known_however_it_is_asked,
    bad_page_arguments_are_bad_user_input,
    a_cursor_from_another_list_or_order_is_refused,
    the_page_size_maximum_is_a_setting,
);
