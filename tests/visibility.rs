//! Who may read what (CONTRACT.md, "Who may read what"): a draft, and every comment
//! on it, shows only to its author and to admins; an email address only to its
//! user and to admins; what one may not see reads as missing.
//!
//! The walk finds its fields in the served schema, not in a list kept here: every
//! root field, and every field within three hops of it, is read by four readers
//! (anonymous, another user, the author, an admin). The admin sees everything, so
//! each other reader's answer must be the admin's with what that reader may not see
//! taken out (rows gone, counts lowered, addresses null), and nothing else changed.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Backend, TestApp, gid, ws};
use relgql::api::SchemaOptions;
use relgql::engine::limits::QueryLimits;
use relgql::http::HttpOptions;
use serde_json::{Value, json};

/// Alice (1) wrote the draft, post 2; comments 5 and 6 are on it.
const AUTHOR: i32 = 1;
/// Bob (2) commented on the draft once, but may not see it now.
const OTHER: i32 = 2;
/// Carol (3), made an admin.
const ADMIN: i32 = 3;
const DRAFT: i32 = 2;
const DRAFT_COMMENTS: [i32; 2] = [5, 6];
/// The deepest the walk goes below a root field.
const HOPS: usize = 3;

/// Who asks, and what they may see.
#[derive(Clone, Copy, Debug)]
enum Reader {
    Anonymous,
    User(i32),
}

impl Reader {
    fn all() -> [Reader; 4] {
        [
            Reader::Anonymous,
            Reader::User(OTHER),
            Reader::User(AUTHOR),
            Reader::User(ADMIN),
        ]
    }

    fn sees_draft(self) -> bool {
        matches!(self, Reader::User(AUTHOR | ADMIN))
    }

    fn sees_email_of(self, user: i64) -> bool {
        matches!(self, Reader::User(id) if id == ADMIN || i64::from(id) == user)
    }

    /// Whether the row `id` of `type_name` is hidden from this reader.
    fn hides(self, type_name: &str, id: i64) -> bool {
        let draft_row = match type_name {
            "Post" => id == i64::from(DRAFT),
            "Comment" => DRAFT_COMMENTS.iter().any(|c| i64::from(*c) == id),
            _ => false,
        };
        draft_row && !self.sees_draft()
    }
}

/// The app over the known data and its discussed draft, with limits wide enough
/// for the walk's queries.
async fn app(backend: Backend) -> TestApp {
    let options = SchemaOptions {
        query_limits: QueryLimits {
            max_cost: u64::MAX / 4,
            max_fields: 100_000,
            max_depth: 64,
            max_query_bytes: 1 << 20,
            ..QueryLimits::default()
        },
        ..SchemaOptions::default()
    };
    let app = TestApp::with_options(backend, options, HttpOptions::default()).await;
    common::fixture::known(&app.db).await;
    common::fixture::discussed_draft(&app.db).await;
    app.make_admin(ADMIN).await;
    app
}

/// The token `reader` sends, if any.
fn token(app: &TestApp, reader: Reader) -> Option<String> {
    match reader {
        Reader::Anonymous => None,
        Reader::User(id) => Some(app.token_for(id)),
    }
}

async fn ask(app: &TestApp, reader: Reader, query: &str) -> Value {
    let token = token(app, reader);
    let body = app.query_as_with(token.as_deref(), query, json!({})).await;
    assert!(
        body.get("errors").is_none(),
        "{reader:?}: unexpected errors for {query}: {body}"
    );
    body["data"].clone()
}

/// One type of the schema, as introspection describes it.
#[derive(Debug, Default)]
struct Type {
    kind: String,
    fields: Vec<Field>,
    input_fields: Vec<(String, String)>,
    possible: Vec<String>,
}

#[derive(Debug)]
struct Field {
    name: String,
    /// The named type it answers, lists and non-null taken off.
    answers: String,
    /// Its arguments: name, named type, and whether it must be given.
    args: Vec<(String, String, bool)>,
}

const TYPE_REF: &str = "kind name ofType { kind name ofType { kind name ofType { kind name } } }";

fn named(type_ref: &Value) -> String {
    match type_ref["name"].as_str() {
        Some(name) => name.to_owned(),
        None => named(&type_ref["ofType"]),
    }
}

async fn schema(app: &TestApp) -> (String, BTreeMap<String, Type>) {
    let query = format!(
        "{{ __schema {{ queryType {{ name }} types {{ kind name possibleTypes {{ name }}
           fields {{ name type {{ {TYPE_REF} }} args {{ name defaultValue type {{ {TYPE_REF} }} }} }}
           inputFields {{ name type {{ {TYPE_REF} }} }} }} }} }}"
    );
    let data = ask(app, Reader::Anonymous, &query).await;
    let mut types = BTreeMap::new();
    for t in data["__schema"]["types"].as_array().unwrap() {
        let fields = (t["fields"].as_array().into_iter().flatten())
            .map(|f| Field {
                name: f["name"].as_str().unwrap().to_owned(),
                answers: named(&f["type"]),
                args: (f["args"].as_array().unwrap().iter())
                    .map(|a| {
                        let required =
                            a["type"]["kind"] == "NON_NULL" && a["defaultValue"].is_null();
                        (
                            a["name"].as_str().unwrap().to_owned(),
                            named(&a["type"]),
                            required,
                        )
                    })
                    .collect(),
            })
            .collect();
        let input_fields = (t["inputFields"].as_array().into_iter().flatten())
            .map(|f| (f["name"].as_str().unwrap().to_owned(), named(&f["type"])))
            .collect();
        let possible = (t["possibleTypes"].as_array().into_iter().flatten())
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        let kind = t["kind"].as_str().unwrap().to_owned();
        types.insert(
            t["name"].as_str().unwrap().to_owned(),
            Type {
                kind,
                fields,
                input_fields,
                possible,
            },
        );
    }
    let root = data["__schema"]["queryType"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    (root, types)
}

fn is_connection(types: &BTreeMap<String, Type>, name: &str) -> bool {
    types[name].fields.iter().any(|f| f.name == "nodes")
        && types[name].fields.iter().any(|f| f.name == "totalCount")
}

fn node_type<'a>(types: &'a BTreeMap<String, Type>, connection: &str) -> &'a str {
    let nodes = types[connection].fields.iter().find(|f| f.name == "nodes");
    &nodes.unwrap().answers
}

/// Every field of `type_name` without required arguments, `hops` deep: scalars as
/// they are, objects with their own fields, connections with `totalCount` and
/// their nodes (a page big enough for every row of the data).
fn selection(types: &BTreeMap<String, Type>, type_name: &str, hops: usize) -> String {
    let t = &types[type_name];
    if t.kind == "INTERFACE" || t.kind == "UNION" {
        let parts: Vec<String> = (t.possible.iter())
            .map(|p| format!("... on {p} {{ {} }}", selection(types, p, hops)))
            .collect();
        return format!("__typename {}", parts.join(" "));
    }
    let mut out = vec!["__typename".to_owned()];
    for field in &t.fields {
        if field.args.iter().any(|(_, _, required)| *required) {
            continue;
        }
        let target = &types[&field.answers];
        match target.kind.as_str() {
            "SCALAR" | "ENUM" => out.push(field.name.clone()),
            _ if field.answers == "PageInfo" => {}
            _ if hops == 0 => {}
            _ if is_connection(types, &field.answers) => out.push(format!(
                "{}(first: 20) {{ __typename totalCount nodes {{ {} }} }}",
                field.name,
                selection(types, node_type(types, &field.answers), hops - 1)
            )),
            _ => out.push(format!(
                "{} {{ {} }}",
                field.name,
                selection(types, &field.answers, hops - 1)
            )),
        }
    }
    out.join(" ")
}

/// The admin's answer as `reader` should see it: rows the reader may not see taken
/// out of lists (and their counts), nulled where one was asked for, addresses of
/// others nulled. Counts how much was taken out in `removed`.
fn as_seen_by(reader: Reader, value: &Value, removed: &mut usize) -> Value {
    match value {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| as_seen_by(reader, item, removed))
                .collect(),
        ),
        Value::Object(object) => {
            let type_name = object
                .get("__typename")
                .and_then(Value::as_str)
                .unwrap_or("");
            let id = object.get("databaseId").and_then(Value::as_i64);
            if let Some(id) = id
                && reader.hides(type_name, id)
            {
                *removed += 1;
                return Value::Null;
            }
            let mut seen = serde_json::Map::new();
            for (key, field) in object {
                let field = match key.as_str() {
                    "email" if !reader.sees_email_of(id.unwrap_or_default()) => {
                        if !field.is_null() {
                            *removed += 1;
                        }
                        Value::Null
                    }
                    _ => as_seen_by(reader, field, removed),
                };
                seen.insert(key.clone(), field);
            }
            if type_name.ends_with("Connection") {
                let nodes = seen["nodes"].as_array().unwrap();
                let shown: Vec<Value> = nodes.iter().filter(|n| !n.is_null()).cloned().collect();
                let total = seen["totalCount"].as_i64().unwrap();
                let gone = i64::try_from(nodes.len() - shown.len()).unwrap();
                seen.insert("totalCount".into(), json!(total - gone));
                seen.insert("nodes".into(), Value::Array(shown));
            }
            Value::Object(seen)
        }
        other => other.clone(),
    }
}

/// Every connection in an admin's answer holds all its rows, so that taking rows
/// out gives exactly what a reader who may not see them is answered.
fn assert_whole(value: &Value, query: &str) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| assert_whole(item, query)),
        Value::Object(object) => {
            if let (Some(total), Some(nodes)) = (
                object.get("totalCount").and_then(Value::as_i64),
                object.get("nodes").and_then(Value::as_array),
            ) {
                assert_eq!(total, nodes.len() as i64, "a page of {query} is cut");
            }
            object.values().for_each(|v| assert_whole(v, query));
        }
        _ => {}
    }
}

/// The root fields of the walk, with the arguments each needs: every id of its type
/// (the draft's and its comments' among them).
fn root_fields(types: &BTreeMap<String, Type>, root: &str) -> Vec<(String, String)> {
    let all_ids: Vec<String> = [("User", 4), ("Post", 4), ("Comment", 6), ("Tag", 2)]
        .iter()
        .flat_map(|(t, n)| (1..=*n).map(move |id| gid(t, id)))
        .collect();
    let mut fields = Vec::new();
    for field in &types[root].fields {
        let sel = selection(types, &field.answers, HOPS);
        let required: Vec<&(String, String, bool)> = field
            .args
            .iter()
            .filter(|(_, _, required)| *required)
            .collect();
        match required.as_slice() {
            [] if is_connection(types, &field.answers) => fields.push((
                field.name.clone(),
                format!(
                    "{{ {}(first: 20) {{ __typename totalCount nodes {{ {} }} }} }}",
                    field.name,
                    selection(types, node_type(types, &field.answers), HOPS)
                ),
            )),
            [] => fields.push((
                field.name.clone(),
                format!("{{ {} {{ {sel} }} }}", field.name),
            )),
            [(arg, arg_type, _)] if arg_type == "ID" && types[&field.answers].kind == "OBJECT" => {
                for id in 1..=6 {
                    let id = gid(&field.answers, id);
                    let query = format!(r#"{{ {}({arg}: "{id}") {{ {sel} }} }}"#, field.name);
                    fields.push((field.name.clone(), query));
                }
            }
            [(arg, arg_type, _)] if arg_type == "ID" => {
                for id in &all_ids {
                    let query = format!(r#"{{ {}({arg}: "{id}") {{ {sel} }} }}"#, field.name);
                    fields.push((field.name.clone(), query));
                }
            }
            [(arg, _, _)] => {
                let ids = serde_json::to_string(&all_ids).unwrap();
                let query = format!("{{ {}({arg}: {ids}) {{ {sel} }} }}", field.name);
                fields.push((field.name.clone(), query));
            }
            more => panic!(
                "the walk does not know how to call {}: {more:?}",
                field.name
            ),
        }
    }
    fields
}

async fn every_field_answers_each_reader_what_they_may_see(backend: Backend) {
    let app = app(backend).await;
    let (root, types) = schema(&app).await;
    let mut removed_for = [0usize; 4];
    let mut walked = Vec::new();
    for (field, query) in root_fields(&types, &root) {
        walked.push(field.clone());
        let admin = ask(&app, Reader::User(ADMIN), &query).await;
        assert_whole(&admin, &query);
        for (i, reader) in Reader::all().into_iter().enumerate() {
            let expected = if field == "viewer" {
                // Each reader's viewer is their own account, as an admin reads it.
                match reader {
                    Reader::Anonymous => json!({"viewer": null}),
                    Reader::User(id) => {
                        let own = query.replacen(
                            "viewer",
                            &format!(r#"user(id: "{}")"#, gid("User", id)),
                            1,
                        );
                        let admin = ask(&app, Reader::User(ADMIN), &own).await;
                        json!({"viewer": as_seen_by(reader, &admin["user"], &mut removed_for[i])})
                    }
                }
            } else {
                as_seen_by(reader, &admin, &mut removed_for[i])
            };
            let answer = ask(&app, reader, &query).await;
            assert_eq!(answer, expected, "{reader:?} asked {query}");
        }
    }
    for expected in [
        "posts", "comments", "tags", "users", "node", "nodes", "post", "comment",
    ] {
        assert!(
            walked.iter().any(|f| f == expected),
            "the walk missed {expected}: {walked:?}"
        );
    }
    // The walk met what each reader may not see, and the admin nothing hidden.
    let [anonymous, other, author, admin] = removed_for;
    assert!(anonymous > 0 && other > 0 && author > 0, "{removed_for:?}");
    assert_eq!(admin, 0);
}

/// A filter on related rows never matches on a row the reader may not see: each
/// filter input that reaches a `Post` or a `Comment`, on each root list, matched
/// against only the draft's rows.
async fn filters_never_match_on_what_the_reader_may_not_see(backend: Backend) {
    let app = app(backend).await;
    let (root, types) = schema(&app).await;
    let mut tried = 0;
    for field in &types[&root].fields {
        if !is_connection(&types, &field.answers) {
            continue;
        }
        let node = node_type(&types, &field.answers);
        let Some((_, filter_type)) = field
            .args
            .iter()
            .map(|(n, t, _)| (n, t))
            .find(|(n, _)| *n == "filter")
        else {
            continue;
        };
        for clause in draft_clauses(&types, node, filter_type) {
            let query = format!("{{ {}(filter: {clause}) {{ totalCount }} }}", field.name);
            let admin = ask(&app, Reader::User(ADMIN), &query).await;
            let matched = admin[&field.name]["totalCount"].as_i64().unwrap();
            assert!(matched > 0, "the admin matches with {query}");
            for reader in Reader::all() {
                let total = ask(&app, reader, &query).await[&field.name]["totalCount"].clone();
                let expected = if reader.sees_draft() { matched } else { 0 };
                assert_eq!(total, json!(expected), "{reader:?} asked {query}");
            }
            tried += 1;
        }
    }
    assert!(tried >= 8, "only {tried} clauses reach a draft's rows");
}

/// The clauses of `filter_type` (filtering `node`) that match only through the
/// draft's rows: on its own id, on a related row's id, or on a related row's filter.
fn draft_clauses(types: &BTreeMap<String, Type>, node: &str, filter_type: &str) -> Vec<String> {
    let draft_of = |t: &str| match t {
        "Post" => Some(vec![DRAFT]),
        "Comment" => Some(DRAFT_COMMENTS.to_vec()),
        _ => None,
    };
    let global = |t: &str, ids: &[i32]| {
        serde_json::to_string(&ids.iter().map(|id| gid(t, *id)).collect::<Vec<_>>()).unwrap()
    };
    let mut clauses = Vec::new();
    if let Some(ids) = draft_of(node) {
        clauses.push(format!("{{databaseId: {{in: {ids:?}}}}}"));
    }
    for (name, input) in &types[filter_type].input_fields {
        // A related row's filter: `posts: PostFilter`.
        if let Some(related) = input.strip_suffix("Filter")
            && let Some(ids) = draft_of(related)
            && types.contains_key(input)
            && types[input].kind == "INPUT_OBJECT"
            && types[node].fields.iter().any(|f| &f.name == name)
        {
            clauses.push(format!("{{{name}: {{databaseId: {{in: {ids:?}}}}}}}"));
        }
        // A related row's id: `postId: IdFilter` beside `post: Post`.
        if let Some(relation) = name.strip_suffix("Id")
            && input == "IdFilter"
            && let Some(field) = types[node].fields.iter().find(|f| f.name == relation)
            && let Some(ids) = draft_of(&field.answers)
        {
            clauses.push(format!(
                "{{{name}: {{in: {}}}}}",
                global(&field.answers, &ids)
            ));
        }
    }
    clauses
}

async fn addresses_filter_and_order_only_for_those_who_see_them(backend: Backend) {
    let app = app(backend).await;
    let query =
        r#"{ users(filter: {email: {contains: "alice@"}}) { nodes { databaseId email } } }"#;
    for (reader, expected) in [
        (Reader::Anonymous, json!([])),
        (Reader::User(OTHER), json!([])),
        (
            Reader::User(AUTHOR),
            json!([{"databaseId": 1, "email": "alice@example.com"}]),
        ),
        (
            Reader::User(ADMIN),
            json!([{"databaseId": 1, "email": "alice@example.com"}]),
        ),
    ] {
        assert_eq!(
            ask(&app, reader, query).await["users"]["nodes"],
            expected,
            "{reader:?}"
        );
    }
    // Ordered by address, others' rows fall back to id order, whatever the addresses.
    let ordered = "{ users(orderBy: [{field: EMAIL, direction: DESC}]) { nodes { databaseId } } }";
    let ids = |data: Value| -> Vec<i64> {
        (data["users"]["nodes"].as_array().unwrap().iter())
            .map(|n| n["databaseId"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        ids(ask(&app, Reader::User(ADMIN), ordered).await)[..2],
        [3, 2]
    );
    assert_eq!(
        ids(ask(&app, Reader::Anonymous, ordered).await),
        [1, 2, 3, 4]
    );
    assert_eq!(
        ids(ask(&app, Reader::User(OTHER), ordered).await),
        [2, 1, 3, 4]
    );
    // An admin's cursor replayed by anyone else tells nothing of the addresses:
    // after any of them, anonymous readers get the same page.
    let cursors = "{ users(orderBy: [{field: EMAIL}]) { edges { cursor } } }";
    let admin = ask(&app, Reader::User(ADMIN), cursors).await;
    let mut pages = Vec::new();
    for edge in admin["users"]["edges"].as_array().unwrap() {
        let after = format!(
            r#"{{ users(orderBy: [{{field: EMAIL}}], after: "{}") {{ nodes {{ databaseId email }} }} }}"#,
            edge["cursor"].as_str().unwrap()
        );
        pages.push(ask(&app, Reader::Anonymous, &after).await);
    }
    assert!(pages.windows(2).all(|w| w[0] == w[1]), "{pages:?}");
}

/// What a query's resolvers work out per field is kept with its document across
/// requests, but a nested list's filter, compiled with the read rules, only for the
/// reader it was compiled for: the same text, asked by each reader in turn (the
/// admin first and last, anonymously twice), answers each what they may see.
async fn a_nested_filter_is_compiled_for_each_reader(backend: Backend) {
    let app = app(backend).await;
    // Alice's comments whose author wrote the draft: 3 and 4 on published posts,
    // and 6 on the draft itself.
    let filter = "filter: {author: {posts: {databaseId: {in: [2]}}}}";
    let comments = format!("comments({filter}) {{ nodes {{ databaseId }} }}");
    let alice = gid("User", AUTHOR);
    for (query, path) in [
        // Folded into the statement that looks Alice up.
        (
            format!(r#"{{ user(id: "{alice}") {{ {comments} }} }}"#),
            "/user/comments/nodes",
        ),
        // Read for each row of a list.
        (
            format!("{{ users(first: 1) {{ nodes {{ {comments} }} }} }}"),
            "/users/nodes/0/comments/nodes",
        ),
    ] {
        for reader in [
            Reader::User(ADMIN),
            Reader::Anonymous,
            Reader::User(OTHER),
            Reader::User(AUTHOR),
            Reader::Anonymous,
            Reader::User(ADMIN),
        ] {
            let expected = if reader.sees_draft() {
                json!([{"databaseId": 3}, {"databaseId": 4}, {"databaseId": 6}])
            } else {
                json!([])
            };
            let data = ask(&app, reader, &query).await;
            assert_eq!(
                data.pointer(path),
                Some(&expected),
                "{reader:?} asked {query}"
            );
        }
    }
}

async fn a_cursor_taken_on_a_draft_shows_others_only_what_they_see(backend: Backend) {
    let app = app(backend).await;
    let first = "{ posts(first: 2) { nodes { databaseId } pageInfo { endCursor } } }";
    let admin = ask(&app, Reader::User(ADMIN), first).await;
    assert_eq!(
        admin["posts"]["nodes"],
        json!([{"databaseId": 1}, {"databaseId": 2}])
    );
    let cursor = admin["posts"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let next = format!(
        r#"{{ posts(after: "{cursor}") {{ totalCount nodes {{ databaseId }} }} comments(filter: {{postId: {{eq: "{}"}}}}) {{ totalCount }} }}"#,
        gid("Post", DRAFT)
    );
    for reader in [Reader::Anonymous, Reader::User(OTHER)] {
        assert_eq!(
            ask(&app, reader, &next).await,
            json!({"posts": {"totalCount": 3, "nodes": [{"databaseId": 3}, {"databaseId": 4}]},
                   "comments": {"totalCount": 0}}),
            "{reader:?}"
        );
    }
}

const UPDATE_POST: &str = "mutation($input: UpdatePostInput!) { updatePost(input: $input) { id } }";
const DELETE_POST: &str = "mutation($input: DeletePostInput!) { deletePost(input: $input) }";
const CREATE_COMMENT: &str = "mutation($input: CreateCommentInput!) { createComment(input: $input) { id body author { email } post { author { email } } } }";
const UPDATE_COMMENT: &str =
    "mutation($input: UpdateCommentInput!) { updateComment(input: $input) { id } }";
const DELETE_COMMENT: &str =
    "mutation($input: DeleteCommentInput!) { deleteComment(input: $input) }";

/// Writes to a row one may not see are `NOT_FOUND`, as for a missing row (not
/// `FORBIDDEN`, which would tell it exists), and change nothing.
async fn writes_to_what_one_may_not_see_are_not_found(backend: Backend) {
    let app = app(backend).await;
    let bob = app.token_for(OTHER);
    let draft = gid("Post", DRAFT);
    let on_draft = gid("Comment", DRAFT_COMMENTS[0]);
    let input = |value: Value| json!({ "input": value });
    for (mutation, variables) in [
        (
            UPDATE_POST,
            input(json!({"id": draft, "title": "Mine now"})),
        ),
        (DELETE_POST, input(json!({"id": draft}))),
        (
            CREATE_COMMENT,
            input(json!({"postId": draft, "body": "hello?"})),
        ),
        (
            CREATE_COMMENT,
            input(json!({"postId": gid("Post", 1), "body": "re", "parentId": on_draft})),
        ),
        (
            UPDATE_COMMENT,
            input(json!({"id": on_draft, "body": "edited"})),
        ),
        (DELETE_COMMENT, input(json!({"id": on_draft}))),
    ] {
        let (code, message) = app.write_error(Some(&bob), mutation, variables).await;
        assert_eq!(code, "NOT_FOUND", "{mutation}: {message}");
    }
    // A post one may see but not change is still FORBIDDEN.
    let (code, _) = app
        .write_error(
            Some(&bob),
            UPDATE_POST,
            input(json!({"id": gid("Post", 1), "title": "x"})),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    let unchanged = format!(
        r#"{{ post(id: "{draft}") {{ title comments {{ totalCount nodes {{ body }} }} }} }}"#
    );
    assert_eq!(
        ask(&app, Reader::User(ADMIN), &unchanged).await["post"],
        json!({"title": "Draft notes", "comments": {"totalCount": 2,
               "nodes": [{"body": "Draft comment 5"}, {"body": "Draft comment 6"}]}})
    );
    // A mutation's answer obeys the rules too: Bob sees his address, not Alice's.
    let data = app
        .write(
            Some(&bob),
            CREATE_COMMENT,
            input(json!({"postId": gid("Post", 1), "body": "visible"})),
        )
        .await;
    assert_eq!(data["createComment"]["author"]["email"], "bob@example.com");
    assert_eq!(
        data["createComment"]["post"]["author"]["email"],
        Value::Null
    );
    // The author still writes to their draft.
    let alice = app.token_for(AUTHOR);
    app.write(
        Some(&alice),
        CREATE_COMMENT,
        input(json!({"postId": draft, "body": "note"})),
    )
    .await;
}

/// A subscriber, signed in with `token` if given, to `query`, acknowledged.
async fn subscribe(app: &TestApp, token: Option<String>, query: &str) -> ws::Socket {
    let address = TestApp::serve(app.router.clone()).await;
    let payload = match token {
        Some(token) => json!({"Authorization": format!("Bearer {token}")}),
        None => json!({}),
    };
    let mut socket = ws::connect(address, payload).await;
    let ack = ws::next(&mut socket, Duration::from_secs(5))
        .await
        .expect("an ack");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": query}});
    ws::send(&mut socket, subscribe).await;
    socket
}

async fn write_comment(app: &TestApp, user: i32, post: i32, body: &str) {
    let input = json!({"input": {"postId": gid("Post", post), "body": body}});
    app.write(Some(&app.token_for(user)), CREATE_COMMENT, input)
        .await;
}

/// `commentAdded` delivers a comment on a draft only to those who see the draft.
async fn comments_on_a_draft_reach_only_those_who_see_it(backend: Backend) {
    let app = app(backend).await;
    let query = "subscription { commentAdded { body post { databaseId } } }";
    for reader in Reader::all() {
        let mut socket = subscribe(&app, token(&app, reader), query).await;
        ws::until_listening(&mut socket, || write_comment(&app, OTHER, 1, "ping")).await;
        write_comment(&app, AUTHOR, DRAFT, "on the draft").await;
        write_comment(&app, OTHER, 1, "in the open").await;
        let mut heard = Vec::new();
        while !heard.iter().any(|b| b == "in the open") {
            let message = ws::next(&mut socket, Duration::from_secs(10))
                .await
                .unwrap_or_else(|| panic!("{reader:?}: no comment in the open; heard {heard:?}"));
            let body = &message["payload"]["data"]["commentAdded"]["body"];
            heard.push(body.as_str().unwrap_or_default().to_owned());
        }
        let expected: &[&str] = if reader.sees_draft() {
            &["on the draft", "in the open"]
        } else {
            &["in the open"]
        };
        assert_eq!(heard, expected, "{reader:?}");
    }
}

/// The title of the next post `socket` hears published.
async fn published_title(socket: &mut ws::Socket) -> Value {
    let message = ws::next(socket, Duration::from_secs(10))
        .await
        .expect("a published post");
    message["payload"]["data"]["postPublished"]["title"].clone()
}

/// `postPublished` fires as a draft becomes published (written published, or
/// published later), and not for a draft, an edit, or a withdrawal.
async fn post_published_fires_when_a_draft_is_published(backend: Backend) {
    let app = app(backend).await;
    let alice = app.token_for(AUTHOR);
    let query = "subscription { postPublished { databaseId title } }";
    let mut socket = subscribe(&app, None, query).await;
    let create = "mutation($input: CreatePostInput!) { createPost(input: $input) { databaseId } }";
    let publish_new = |title: &'static str| {
        let (app, alice) = (&app, alice.clone());
        async move {
            let input = json!({"input": {"title": title, "body": "b", "published": true}});
            app.write(Some(&alice), create, input).await;
        }
    };
    ws::until_listening(&mut socket, || publish_new("Ping")).await;
    let update = |changes: Value| {
        let (app, alice) = (&app, alice.clone());
        async move {
            let mut input = json!({"id": gid("Post", DRAFT)});
            input
                .as_object_mut()
                .unwrap()
                .extend(changes.as_object().unwrap().clone());
            app.write(Some(&alice), UPDATE_POST, json!({ "input": input }))
                .await;
        }
    };
    // Neither a new draft nor an edit of a draft fires; publishing one does.
    app.write(
        Some(&alice),
        create,
        json!({"input": {"title": "New draft", "body": "b"}}),
    )
    .await;
    update(json!({"title": "Draft notes, edited"})).await;
    update(json!({"published": true})).await;
    assert_eq!(published_title(&mut socket).await, "Draft notes, edited");
    // Editing it published, withdrawing it and publishing another: only the last.
    update(json!({"title": "Published notes"})).await;
    update(json!({"published": false})).await;
    publish_new("After").await;
    assert_eq!(published_title(&mut socket).await, "After");
}

on_every_backend!(
    every_field_answers_each_reader_what_they_may_see,
    filters_never_match_on_what_the_reader_may_not_see,
    addresses_filter_and_order_only_for_those_who_see_them,
    a_nested_filter_is_compiled_for_each_reader,
    a_cursor_taken_on_a_draft_shows_others_only_what_they_see,
    writes_to_what_one_may_not_see_are_not_found,
    comments_on_a_draft_reach_only_those_who_see_it,
    post_published_fires_when_a_draft_is_published,
);
