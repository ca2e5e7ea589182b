//! A generative test: random operations built from the schema itself (`schema.graphql`)
//! — random fields, nesting, aliases, fragments and argument values, hostile strings,
//! forged ids and cursors, out-of-range numbers, random mutations — sent through the
//! HTTP layer. Every one must get a well-formed answer: data, or errors that each
//! carry a contract code, and never an internal error or a server failure.

mod common;

use std::collections::HashMap;

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use axum::http::StatusCode;
use common::{Backend, TestApp, gid};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const CODES: [&str; 6] = [
    "BAD_USER_INPUT",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "CONFLICT",
    "TOO_COMPLEX",
];

/// Strings meant to break things: SQL, LIKE wildcards, NUL, emoji, escapes, long text.
const STRINGS: [&str; 14] = [
    "",
    "Alice",
    "%",
    "_",
    "100%_sure",
    "'; DROP TABLE users; --",
    "\" OR 1=1 --",
    "a\u{0}b",
    "🦀🚀 ünïcødé",
    "\\",
    "\\u0000",
    "Robert'); DELETE FROM posts;--",
    "\n\t\r",
    "ＡＢＣ",
];

#[derive(Clone, Debug)]
struct Field {
    name: String,
    args: Vec<(String, Type)>,
    ty: Type,
}

#[derive(Clone, Debug)]
enum Kind {
    Leaf,
    Object(Vec<Field>),
    Enum(Vec<String>),
    Input(Vec<(String, Type)>),
}

struct Schema {
    types: HashMap<String, Kind>,
    possible: HashMap<String, Vec<String>>,
}

impl Schema {
    fn load() -> Self {
        let sdl = include_str!("../schema.graphql");
        let document = async_graphql::parser::parse_schema(sdl).expect("schema.graphql parses");
        let mut types = HashMap::new();
        let mut possible: HashMap<String, Vec<String>> = HashMap::new();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let name = ty.node.name.node.to_string();
            let fields = |fields: Vec<
                async_graphql::Positioned<async_graphql::parser::types::FieldDefinition>,
            >| {
                fields
                    .into_iter()
                    .map(|f| Field {
                        name: f.node.name.node.to_string(),
                        args: f
                            .node
                            .arguments
                            .iter()
                            .map(|a| (a.node.name.node.to_string(), a.node.ty.node.clone()))
                            .collect(),
                        ty: f.node.ty.node,
                    })
                    .collect()
            };
            let kind = match ty.node.kind {
                TypeKind::Scalar => Kind::Leaf,
                TypeKind::Object(object) => {
                    for interface in &object.implements {
                        possible
                            .entry(interface.node.to_string())
                            .or_default()
                            .push(name.clone());
                    }
                    Kind::Object(fields(object.fields))
                }
                TypeKind::Interface(interface) => Kind::Object(fields(interface.fields)),
                TypeKind::Enum(e) => Kind::Enum(
                    e.values
                        .iter()
                        .map(|v| v.node.value.node.to_string())
                        .collect(),
                ),
                TypeKind::InputObject(input) => Kind::Input(
                    input
                        .fields
                        .iter()
                        .map(|f| (f.node.name.node.to_string(), f.node.ty.node.clone()))
                        .collect(),
                ),
                TypeKind::Union(_) => continue,
            };
            types.insert(name, kind);
        }
        for builtin in ["String", "Int", "Float", "Boolean", "ID"] {
            types.insert(builtin.to_owned(), Kind::Leaf);
        }
        Self { types, possible }
    }
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

/// Builds one random operation from a seed.
struct Generator<'a> {
    schema: &'a Schema,
    rng: StdRng,
    fragments: Vec<String>,
}

impl Generator<'_> {
    fn operation(&mut self) -> String {
        let (keyword, root) = if self.rng.random_bool(0.8) {
            ("query", "Query")
        } else {
            ("mutation", "Mutation")
        };
        let selection = self.selection(root, 0);
        let mut text = format!("{keyword} {selection}");
        for fragment in std::mem::take(&mut self.fragments) {
            text.push('\n');
            text.push_str(&fragment);
        }
        text
    }

    fn selection(&mut self, ty: &str, depth: usize) -> String {
        let Some(Kind::Object(fields)) = self.schema.types.get(ty) else {
            return String::new();
        };
        let fields = fields.clone();
        let mut parts = Vec::new();
        for i in 0..self.rng.random_range(1..=3) {
            let field = &fields[self.rng.random_range(0..fields.len())];
            let child = named(&field.ty).to_owned();
            // Fields with arguments get an alias, so that siblings do not conflict.
            let alias = if !field.args.is_empty() || self.rng.random_bool(0.2) {
                format!("a{i}_{depth}: ")
            } else {
                String::new()
            };
            let args = self.arguments(&field.args);
            let inner = match self.schema.types.get(&child) {
                Some(Kind::Object(_)) if depth >= 5 => continue,
                Some(Kind::Object(_)) => {
                    let mut inner = self.selection(&child, depth + 1);
                    if inner.is_empty() {
                        inner = "{ __typename }".to_owned();
                    }
                    if let Some(types) = self.schema.possible.get(&child) {
                        // An interface: sometimes ask for one of its types' own fields.
                        let concrete = types[self.rng.random_range(0..types.len())].clone();
                        let extra = self.selection(&concrete, depth + 1);
                        inner = format!("{{ __typename ... on {concrete} {extra} }}");
                    }
                    if self.rng.random_bool(0.15) {
                        let name = format!("F{}", self.fragments.len());
                        self.fragments
                            .push(format!("fragment {name} on {child} {inner}"));
                        format!("{{ ...{name} }}")
                    } else {
                        inner
                    }
                }
                _ => String::new(),
            };
            parts.push(format!("{alias}{}{args} {inner}", field.name));
        }
        if parts.is_empty() {
            return String::new();
        }
        format!("{{ {} }}", parts.join(" "))
    }

    fn arguments(&mut self, args: &[(String, Type)]) -> String {
        let mut chosen = Vec::new();
        for (name, ty) in args {
            // Cursors can only be forged here: mostly leave them out.
            let odds = if name == "after" || name == "before" {
                0.15
            } else {
                0.4
            };
            if !ty.nullable || self.rng.random_bool(odds) {
                chosen.push(format!("{name}: {}", self.value(ty, 0)));
            }
        }
        if chosen.is_empty() {
            String::new()
        } else {
            format!("({})", chosen.join(", "))
        }
    }

    fn value(&mut self, ty: &Type, depth: usize) -> String {
        if ty.nullable && self.rng.random_bool(0.1) {
            return "null".into();
        }
        if let BaseType::List(inner) = &ty.base {
            let n = self.rng.random_range(0..=3);
            let items: Vec<String> = (0..n).map(|_| self.value(inner, depth + 1)).collect();
            return format!("[{}]", items.join(", "));
        }
        let name = named(ty).to_owned();
        match (name.as_str(), self.schema.types.get(&name)) {
            ("Int", _) if self.rng.random_bool(0.7) => self.rng.random_range(1..=5).to_string(),
            ("Int", _) => {
                let values = [-1_i64, 0, 20, 100, 101, 1_000_000_000, 2_147_483_647];
                values[self.rng.random_range(0..values.len())].to_string()
            }
            ("Float", _) => "1.5".into(),
            ("Boolean", _) => self.rng.random_bool(0.5).to_string(),
            ("ID", _) => {
                let types: Vec<&str> = (relgql::api::node::ROW_TYPES.iter())
                    .map(|row_type| row_type.name)
                    .chain(["Nope"])
                    .collect();
                let id = match self.rng.random_range(0..9) {
                    0..=4 => gid(
                        types[self.rng.random_range(0..types.len())],
                        self.rng.random_range(-1..10),
                    ),
                    5 => "not base64 !!".into(),
                    6 => gid("User", i32::MAX),
                    7 => {
                        use base64::Engine as _;
                        base64::engine::general_purpose::STANDARD.encode("Post:abc")
                    }
                    _ => STRINGS[self.rng.random_range(0..STRINGS.len())].into(),
                };
                json!(id).to_string()
            }
            ("String" | "DateTime", _) => {
                let s = match self.rng.random_range(0..5) {
                    0 | 1 => "2026-01-01T00:00:00Z".to_owned(),
                    2 => "x".repeat(self.rng.random_range(0..300)),
                    _ => STRINGS[self.rng.random_range(0..STRINGS.len())].to_owned(),
                };
                json!(s).to_string()
            }
            (_, Some(Kind::Enum(values))) => values[self.rng.random_range(0..values.len())].clone(),
            (_, Some(Kind::Input(fields))) if depth < 3 => {
                let fields = fields.clone();
                let mut chosen = Vec::new();
                for (name, ty) in &fields {
                    if !ty.nullable || self.rng.random_bool(0.3) {
                        chosen.push(format!("{name}: {}", self.value(ty, depth + 1)));
                    }
                }
                format!("{{{}}}", chosen.join(", "))
            }
            // Cursors and anything else: a forged string.
            _ => json!(STRINGS[self.rng.random_range(0..STRINGS.len())]).to_string(),
        }
    }
}

/// Checks that `body` is a well-formed answer with only contract codes.
fn check_answer(query: &str, status: StatusCode, body: &Value) -> Result<(), TestCaseError> {
    prop_assert!(
        status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
        "status {status} for {query}: {body}"
    );
    prop_assert!(
        body.get("data").is_some() || body.get("errors").is_some(),
        "neither data nor errors for {query}: {body}"
    );
    if let Some(errors) = body.get("errors").and_then(Value::as_array) {
        for error in errors {
            let code = error["extensions"]["code"].as_str().unwrap_or("none");
            prop_assert!(CODES.contains(&code), "code {code} for {query}: {body}");
        }
    }
    Ok(())
}

async fn random_operations_get_clean_answers(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let schema = Schema::load();
    let token = app.token_for(1);
    let mut runner = TestRunner::new(Config {
        cases: 150,
        failure_persistence: None,
        ..Config::default()
    });
    let handle = tokio::runtime::Handle::current();
    let answered = std::cell::Cell::new(0u32);
    let result = tokio::task::block_in_place(|| {
        runner.run(&(any::<u64>(), any::<bool>()), |(seed, signed_in)| {
            let mut generator = Generator {
                schema: &schema,
                rng: StdRng::seed_from_u64(seed),
                fragments: Vec::new(),
            };
            let query = generator.operation();
            let token = signed_in.then_some(token.as_str());
            let (status, body) = handle.block_on(app.request(token, &query, json!({})));
            if std::env::var("GENERATIVE_SHOW").is_ok() {
                eprintln!("{query}\n=> {status} {body}\n");
            }
            if body["data"]
                .as_object()
                .is_some_and(|d| d.values().any(|v| !v.is_null()))
            {
                answered.set(answered.get() + 1);
            }
            check_answer(&query, status, &body)
        })
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    // Not only refusals: a good share of the operations ran and returned data.
    assert!(
        answered.get() >= 25,
        "only {} of 150 returned data",
        answered.get()
    );
}

on_every_backend!(random_operations_get_clean_answers);
