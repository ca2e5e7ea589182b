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

/// Written answers take the leaf fields of rows straight from the rows, not from
/// their resolvers: every such field of every row type, under its name and under an
/// alias, answers as its resolver does.
async fn every_leaf_of_every_row_type_is_written_as_its_resolver_answers(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 4).await;
    let types = row_types_and_paths(&app).await;
    assert!(types.len() >= 6, "{types:?}");
    for (type_name, selection) in types {
        let type_name = type_name.as_str();
        let leaves = leaf_fields(&app, type_name).await;
        assert!(leaves.contains(&"id".to_owned()), "{type_name}: {leaves:?}");
        let fields: Vec<String> = leaves
            .iter()
            .map(|field| format!("{field} again_{field}: {field}"))
            .collect();
        let query = format!("{{ {} }}", selection.replace("FIELDS", &fields.join(" ")));
        let written = app.body_text(&query).await;
        assert!(!written.contains("\"errors\""), "{written}");
        let usual = app
            .body_text(&format!(
                "{{ {} w: __typename w: __typename }}",
                &query[2..query.len() - 2]
            ))
            .await
            .replacen("\"w\":\"Query\",", "", 1)
            .replacen(",\"w\":\"Query\"", "", 1);
        assert_eq!(written, usual, "{type_name}");
    }
}

/// Every row type (a `Node` with a `databaseId`; those keyed by two ids are not
/// written as rows), with a selection that lists some of its rows (`FIELDS` where
/// its fields go): from a root connection of its own, or through a to-one field of
/// the rows of another root connection.
async fn row_types_and_paths(app: &TestApp) -> Vec<(String, String)> {
    let data = app
        .data(
            r#"{ node: __type(name: "Node") { possibleTypes { name fields { name } } }
                 query: __type(name: "Query") { fields { name type { ofType { name } } } } }"#,
        )
        .await;
    let names = |list: &serde_json::Value, key: &str| -> Vec<String> {
        let list = list.as_array().expect("a list");
        list.iter()
            .map(|item| item[key].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let roots: Vec<(String, String)> = data["query"]["fields"]
        .as_array()
        .expect("root fields")
        .iter()
        .filter_map(|field| {
            let ty = field["type"]["ofType"]["name"].as_str()?;
            let listed = ty.strip_suffix("Connection")?;
            Some((listed.to_owned(), field["name"].as_str()?.to_owned()))
        })
        .collect();
    let mut paths = Vec::new();
    let row_types = data["node"]["possibleTypes"]
        .as_array()
        .expect("the Node types")
        .iter()
        .filter(|ty| names(&ty["fields"], "name").contains(&"databaseId".to_owned()))
        .map(|ty| ty["name"].as_str().expect("a name").to_owned());
    for type_name in row_types {
        if let Some((_, root)) = roots.iter().find(|(listed, _)| *listed == type_name) {
            paths.push((
                type_name,
                format!("{root}(first: 3) {{ nodes {{ FIELDS }} }}"),
            ));
            continue;
        }
        let mut found = None;
        for (listed, root) in &roots {
            let fields = app
                .data(&format!(
                    r#"{{ __type(name: "{listed}") {{ fields {{ name args {{ name }} type {{ name ofType {{ name }} }} }} }} }}"#
                ))
                .await;
            let to_one = fields["__type"]["fields"].as_array().and_then(|fields| {
                fields.iter().find(|field| {
                    let ty = &field["type"];
                    field["args"].as_array().is_some_and(Vec::is_empty)
                        && (ty["name"] == type_name.as_str()
                            || ty["ofType"]["name"] == type_name.as_str())
                })
            });
            if let Some(field) = to_one {
                let field = field["name"].as_str().expect("a name");
                found = Some(format!(
                    "{root}(first: 3) {{ nodes {{ {field} {{ FIELDS }} }} }}"
                ));
                break;
            }
        }
        let path = found.unwrap_or_else(|| panic!("no way to list {type_name} rows"));
        paths.push((type_name, path));
    }
    paths
}

/// The fields of `type_name` that take no arguments and are scalars or enums.
async fn leaf_fields(app: &TestApp, type_name: &str) -> Vec<String> {
    let data = app
        .data(&format!(
            r#"{{ __type(name: "{type_name}") {{ fields {{ name args {{ name }}
                type {{ kind ofType {{ kind }} }} }} }} }}"#
        ))
        .await;
    let leaf = |field: &&serde_json::Value| {
        let kind = match field["type"]["kind"].as_str() {
            Some("NON_NULL") => &field["type"]["ofType"]["kind"],
            _ => &field["type"]["kind"],
        };
        let no_args = field["args"].as_array().is_some_and(Vec::is_empty);
        no_args && (kind == "SCALAR" || kind == "ENUM")
    };
    data["__type"]["fields"]
        .as_array()
        .expect("the type has fields")
        .iter()
        .filter(leaf)
        .map(|field| field["name"].as_str().expect("a name").to_owned())
        .collect()
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
        let paths = |answer: &serde_json::Value| -> Vec<serde_json::Value> {
            let errors = answer["errors"].as_array().expect("errors");
            errors.iter().map(|error| error["path"].clone()).collect()
        };
        assert_eq!(paths(&lean), paths(&usual), "{plain}");
    }
    let (_, partial) = app.request(None, cases[0].0, serde_json::json!({})).await;
    let post = &partial["data"]["posts"]["nodes"][0];
    assert_eq!(post["title"], "Post 1");
    assert_eq!(post["author"]["name"], "User 1");
    assert_eq!(post["b"]["nodes"][0]["body"], "Comment 1");
    assert!(post.get("a").is_none(), "{post}");
}

/// Under a list, a lean object answers a connection from the arguments worked out
/// for the first parent, without its resolver; a fragment takes every parent
/// through the resolver. Every connection field of every root's rows answers alike
/// both ways, with each kind of argument, in the same number of statements.
async fn connections_under_many_parents_answer_as_their_resolvers(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 6).await;
    let arguments = [
        "first: 2",
        "last: 1, orderBy: [{field: ID, direction: DESC}]",
        "first: 3, filter: { databaseId: { gt: 2 } }",
    ];
    let mut checked = 0;
    for (type_name, root) in connection_roots(&app).await {
        for field in connection_fields(&app, &type_name).await {
            for args in arguments {
                let selection = format!(
                    "a: {field}({args}) {{ totalCount nodes {{ id }} }} b: {field}(first: 1) {{ nodes {{ id }} }}"
                );
                let plain = format!("{{ {root}(first: 4) {{ nodes {{ {selection} }} }} }}");
                let fragment = format!(
                    "{{ {root}(first: 4) {{ nodes {{ ...F }} }} }} fragment F on {type_name} {{ {selection} }}"
                );
                let answer = app.data(&plain).await;
                assert_eq!(answer, app.data(&fragment).await, "{plain}");
                let nodes = answer[&root]["nodes"].as_array().expect("nodes");
                assert!(nodes.len() > 1, "{plain}: {answer}");
                assert_eq!(
                    app.statements(&plain).await,
                    app.statements(&fragment).await,
                    "{plain}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 8 * arguments.len(), "{checked}");
}

/// The rows of a list load their connections' pages before they resolve, all the
/// list's at once, and each row takes its own; a row in several lists (a student in
/// several courses) takes its page in each. Every connection under every
/// connection of every root's rows, through `nodes` and through `edges`, answers
/// as it does when a fragment sends each row through its resolver, in the same
/// number of statements.
async fn nested_connections_answer_as_their_resolvers(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 6).await;
    let inner = "totalCount nodes { id }";
    let mut checked = 0;
    let mut repeated = 0;
    for (type_name, root) in connection_roots(&app).await {
        for field in connection_fields(&app, &type_name).await {
            let probe = format!(
                "{{ {root}(first: 4) {{ nodes {{ {field}(first: 3) {{ nodes {{ __typename id }} }} }} }} }}"
            );
            let answer = app.data(&probe).await;
            let lists: Vec<&serde_json::Value> = answer[&root]["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .flat_map(|row| row[&field]["nodes"].as_array().expect("a page"))
                .collect();
            let Some(listed) = lists.first().and_then(|row| row["__typename"].as_str()) else {
                continue;
            };
            let ids: std::collections::HashSet<&str> =
                lists.iter().filter_map(|row| row["id"].as_str()).collect();
            let repeats = ids.len() < lists.len();
            for nested in connection_fields(&app, listed).await {
                let selection = format!("{nested}(first: 2) {{ {inner} }}");
                let forms = [
                    (
                        format!(
                            "{{ {root}(first: 4) {{ nodes {{ {field}(first: 3) {{ nodes {{ {selection} }} }} }} }} }}"
                        ),
                        format!(
                            "{{ {root}(first: 4) {{ nodes {{ {field}(first: 3) {{ nodes {{ ...F }} }} }} }} }} fragment F on {listed} {{ {selection} }}"
                        ),
                    ),
                    (
                        format!(
                            "{{ {root}(first: 4) {{ edges {{ node {{ {field}(first: 3) {{ edges {{ node {{ {selection} }} }} }} }} }} }} }}"
                        ),
                        format!(
                            "{{ {root}(first: 4) {{ edges {{ node {{ {field}(first: 3) {{ edges {{ node {{ ...F }} }} }} }} }} }} }} fragment F on {listed} {{ {selection} }}"
                        ),
                    ),
                ];
                for (plain, fragment) in forms {
                    assert_eq!(app.data(&plain).await, app.data(&fragment).await, "{plain}");
                    assert_eq!(
                        app.statements(&plain).await,
                        app.statements(&fragment).await,
                        "{plain}"
                    );
                    checked += 1;
                    repeated += usize::from(repeats);
                }
            }
        }
    }
    assert!(checked >= 16, "{checked}");
    assert!(repeated >= 4, "rows in several lists: {repeated}");
}

/// Written answers take a to-one field's row from the row its parent was read with
/// (the parent's statement joined it) and write it at once, without the field's
/// resolver. Every to-one field of every root's rows, selecting the related row's
/// leaves and its own to-one fields in turn, is written as its resolver answers
/// (the usual way), in the same number of statements as a fragment that sends each
/// row through its resolvers; including related rows that are missing (a top-level
/// comment's `parent`, a user without a profile).
async fn every_to_one_field_is_written_as_its_resolver_answers(backend: Backend) {
    let app = TestApp::new(backend).await;
    common::fixture::scaled(&app.db, 6).await;
    let (mut checked, mut missing, mut found) = (0, 0, 0);
    for (type_name, root) in connection_roots(&app).await {
        for (field, related) in to_one_fields(&app, &type_name).await {
            let mut inner = leaf_fields(&app, &related).await;
            for (nested, _) in to_one_fields(&app, &related).await {
                inner.push(format!("{nested} {{ id again: databaseId }}"));
            }
            let selection = format!("{field} {{ {} }}", inner.join(" "));
            let plain = format!("{{ {root}(first: 6) {{ nodes {{ id {selection} }} }} }}");
            let written = app.body_text(&plain).await;
            assert!(!written.contains("\"errors\""), "{written}");
            let usual = app
                .body_text(&format!(
                    "{{ {root}(first: 6) {{ nodes {{ id {selection} }} }} w: __typename w: __typename }}"
                ))
                .await
                .replacen("\"w\":\"Query\",", "", 1)
                .replacen(",\"w\":\"Query\"", "", 1);
            assert_eq!(written, usual, "{plain}");
            let fragment = format!(
                "{{ {root}(first: 6) {{ nodes {{ id ...F }} }} }} fragment F on {type_name} {{ {selection} }}"
            );
            assert_eq!(app.body_text(&fragment).await, written, "{fragment}");
            assert_eq!(
                app.statements(&plain).await,
                app.statements(&fragment).await,
                "{plain}"
            );
            let answer: serde_json::Value = serde_json::from_str(&written).expect("JSON");
            for row in answer["data"][&root]["nodes"].as_array().expect("nodes") {
                match &row[&field] {
                    serde_json::Value::Null => missing += 1,
                    _ => found += 1,
                }
                for (nested, _) in to_one_fields(&app, &related).await {
                    match &row[&field][&nested] {
                        serde_json::Value::Null => missing += 1,
                        _ => found += 1,
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "{checked}");
    assert!(found > 0 && missing > 0, "found {found}, missing {missing}");
}

/// The fields of `type_name` that answer one row of another type (or null), and
/// that type.
async fn to_one_fields(app: &TestApp, type_name: &str) -> Vec<(String, String)> {
    let data = app
        .data(&format!(
            r#"{{ __type(name: "{type_name}") {{ fields {{ name args {{ name }}
                type {{ kind name ofType {{ kind name }} }} }} }} }}"#
        ))
        .await;
    data["__type"]["fields"]
        .as_array()
        .expect("the type has fields")
        .iter()
        .filter_map(|field| {
            let ty = match field["type"]["kind"].as_str() {
                Some("NON_NULL") => &field["type"]["ofType"],
                _ => &field["type"],
            };
            let related = ty["name"].as_str()?;
            let object = ty["kind"] == "OBJECT" && !related.ends_with("Connection");
            let no_args = field["args"].as_array().is_some_and(Vec::is_empty);
            let name = field["name"].as_str()?;
            (object && no_args).then(|| (name.to_owned(), related.to_owned()))
        })
        .collect()
}

/// Each root connection's row type and root field.
async fn connection_roots(app: &TestApp) -> Vec<(String, String)> {
    let data = app
        .data(r#"{ __type(name: "Query") { fields { name type { ofType { name } } } } }"#)
        .await;
    data["__type"]["fields"]
        .as_array()
        .expect("root fields")
        .iter()
        .filter_map(|field| {
            let listed = field["type"]["ofType"]["name"]
                .as_str()?
                .strip_suffix("Connection")?;
            Some((listed.to_owned(), field["name"].as_str()?.to_owned()))
        })
        .collect()
}

/// The fields of `type_name` that answer a connection.
async fn connection_fields(app: &TestApp, type_name: &str) -> Vec<String> {
    let data = app
        .data(&format!(
            r#"{{ __type(name: "{type_name}") {{ fields {{ name type {{ name ofType {{ name }} }} }} }} }}"#
        ))
        .await;
    data["__type"]["fields"]
        .as_array()
        .expect("the type has fields")
        .iter()
        .filter(|field| {
            let ty = &field["type"];
            [&ty["name"], &ty["ofType"]["name"]].iter().any(|name| {
                name.as_str()
                    .is_some_and(|name| name.ends_with("Connection"))
            })
        })
        .map(|field| field["name"].as_str().expect("a name").to_owned())
        .collect()
}

on_every_backend!(
    connections_under_many_parents_answer_as_their_resolvers,
    nested_connections_answer_as_their_resolvers,
    a_plain_selection_and_its_fragment_form_answer_alike,
    repeated_names_merge_their_selections,
    failed_fields_are_left_out_alike,
    written_answers_are_the_bytes_of_the_usual_answers,
    every_leaf_of_every_row_type_is_written_as_its_resolver_answers,
    every_to_one_field_is_written_as_its_resolver_answers,
);
