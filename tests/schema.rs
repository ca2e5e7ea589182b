//! `schema.graphql` is exactly the schema the server serves.

use std::collections::BTreeMap;

use async_graphql::parser::types::{
    ConstDirective, FieldDefinition, InputValueDefinition, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Positioned, Value as ConstValue};
use relgql::api::SchemaOptions;
use serde_json::{Value, json};

#[test]
fn the_checked_in_schema_is_the_served_schema() {
    let served = relgql::api::sdl(&relgql::api::schema(SchemaOptions::default()));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let checked_in = std::fs::read_to_string(path).expect("schema.graphql at the repository root");
    assert!(
        checked_in == served,
        "schema.graphql differs from the served schema: run `cargo run -- print-schema --output schema.graphql`"
    );
}

const INTROSPECTION: &str = "{ __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { kind name description specifiedByURL
      fields(includeDeprecated: true) { name description isDeprecated deprecationReason
        type { ...Type } args { ...Input } }
      inputFields { ...Input }
      interfaces { name } possibleTypes { name }
      enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } }
    directives { name description locations args { ...Input } } } }
  fragment Input on __InputValue { name description type { ...Type } defaultValue }
  fragment Type on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// Types every schema has, which the file does not print.
fn built_in(name: &str) -> bool {
    name.starts_with("__") || ["String", "Int", "Float", "Boolean", "ID"].contains(&name)
}

/// What introspection tells of the served schema, as comparable JSON: each type by
/// name, members by name, type references written as in SDL.
fn from_introspection(schema: &Value) -> BTreeMap<String, Value> {
    fn type_ref(ty: &Value) -> String {
        match ty["kind"].as_str().unwrap() {
            "NON_NULL" => format!("{}!", type_ref(&ty["ofType"])),
            "LIST" => format!("[{}]", type_ref(&ty["ofType"])),
            _ => ty["name"].as_str().unwrap().to_owned(),
        }
    }
    let inputs = |list: &Value| -> Value {
        let by_name: BTreeMap<String, Value> = list
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                let name = v["name"].as_str().unwrap().to_owned();
                let value = json!({"description": v["description"], "type": type_ref(&v["type"]),
                    "default": v["defaultValue"]});
                (name, value)
            })
            .collect();
        json!(by_name)
    };
    let names = |list: &Value| -> Value {
        let mut names: Vec<&str> = list
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        names.sort();
        json!(names)
    };
    let mut types = BTreeMap::new();
    for ty in schema["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        if built_in(name) {
            continue;
        }
        let fields: BTreeMap<String, Value> = ty["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                let value = json!({"description": f["description"], "type": type_ref(&f["type"]),
                    "args": inputs(&f["args"]), "deprecated": f["deprecationReason"]});
                (f["name"].as_str().unwrap().to_owned(), value)
            })
            .collect();
        let values: BTreeMap<String, Value> = ty["enumValues"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                let value =
                    json!({"description": v["description"], "deprecated": v["deprecationReason"]});
                (v["name"].as_str().unwrap().to_owned(), value)
            })
            .collect();
        types.insert(
            name.to_owned(),
            json!({"kind": ty["kind"], "description": ty["description"],
                "specifiedBy": ty["specifiedByURL"], "fields": fields,
                "inputFields": inputs(&ty["inputFields"]), "interfaces": names(&ty["interfaces"]),
                "possibleTypes": names(&ty["possibleTypes"]), "enumValues": values}),
        );
    }
    let roots =
        ["queryType", "mutationType", "subscriptionType"].map(|root| schema[root]["name"].clone());
    types.insert("(roots)".into(), json!(roots));
    for directive in schema["directives"].as_array().unwrap() {
        let name = directive["name"].as_str().unwrap();
        let value = json!({"description": directive["description"], "locations": directive["locations"],
            "args": inputs(&directive["args"])});
        types.insert(format!("@{name}"), value);
    }
    types
}

/// Directives every schema has, which the file may leave out.
fn built_in_directive(name: &str) -> bool {
    ["@skip", "@include", "@deprecated", "@specifiedBy", "@oneOf"].contains(&name)
}

/// The same, read from `schema.graphql`.
fn from_file(sdl: &str) -> BTreeMap<String, Value> {
    let document = async_graphql::parser::parse_schema(sdl).expect("schema.graphql parses");
    let text = |d: &Option<Positioned<String>>| json!(d.as_ref().map(|d| d.node.clone()));
    let directive_argument =
        |directives: &[Positioned<ConstDirective>], directive: &str, argument: &str| {
            directives
                .iter()
                .find(|d| d.node.name.node == directive)
                .map(|d| match d.node.get_argument(argument).map(|a| &a.node) {
                    Some(ConstValue::String(value)) => json!(value),
                    // The reason `@deprecated` gives when it is given none.
                    _ => json!("No longer supported"),
                })
                .unwrap_or(Value::Null)
        };
    let inputs = |list: &[Positioned<InputValueDefinition>]| -> Value {
        let by_name: BTreeMap<String, Value> = list
            .iter()
            .map(|v| {
                let v = &v.node;
                let value = json!({"description": text(&v.description), "type": v.ty.node.to_string(),
                    "default": v.default_value.as_ref().map(|d| d.node.to_string())});
                (v.name.node.to_string(), value)
            })
            .collect();
        json!(by_name)
    };
    let fields = |list: &[Positioned<FieldDefinition>]| -> BTreeMap<String, Value> {
        list.iter()
            .map(|f| {
                let f = &f.node;
                let value = json!({"description": text(&f.description), "type": f.ty.node.to_string(),
                    "args": inputs(&f.arguments),
                    "deprecated": directive_argument(&f.directives, "deprecated", "reason")});
                (f.name.node.to_string(), value)
            })
            .collect()
    };
    let sorted = |names: &mut Vec<String>| {
        names.sort();
        json!(names)
    };
    let names_of = |list: &[Positioned<async_graphql::Name>]| -> Vec<String> {
        list.iter().map(|name| name.node.to_string()).collect()
    };
    let mut implementers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut types = BTreeMap::new();
    let mut roots = [Value::Null, Value::Null, Value::Null];
    for definition in &document.definitions {
        let ty = match definition {
            TypeSystemDefinition::Schema(schema) => {
                let schema = &schema.node;
                roots = [&schema.query, &schema.mutation, &schema.subscription]
                    .map(|root| json!(root.as_ref().map(|r| r.node.to_string())));
                continue;
            }
            TypeSystemDefinition::Directive(directive) => {
                let directive = &directive.node;
                // `FragmentSpread` is written `FRAGMENT_SPREAD`.
                let locations: Vec<String> = directive
                    .locations
                    .iter()
                    .map(|l| {
                        let words = format!("{:?}", l.node);
                        let mut name = String::new();
                        for (i, c) in words.chars().enumerate() {
                            if c.is_uppercase() && i > 0 {
                                name.push('_');
                            }
                            name.push(c.to_ascii_uppercase());
                        }
                        name
                    })
                    .collect();
                let value = json!({"description": text(&directive.description), "locations": locations,
                    "args": inputs(&directive.arguments)});
                types.insert(format!("@{}", directive.name.node), value);
                continue;
            }
            TypeSystemDefinition::Type(ty) => &ty.node,
        };
        let name = ty.name.node.to_string();
        let mut entry = json!({"kind": "", "description": text(&ty.description),
            "specifiedBy": directive_argument(&ty.directives, "specifiedBy", "url"),
            "fields": {}, "inputFields": {}, "interfaces": [], "possibleTypes": [], "enumValues": {}});
        match &ty.kind {
            TypeKind::Scalar => entry["kind"] = json!("SCALAR"),
            TypeKind::Object(object) => {
                entry["kind"] = json!("OBJECT");
                entry["fields"] = json!(fields(&object.fields));
                let mut interfaces = names_of(&object.implements);
                for interface in &interfaces {
                    implementers
                        .entry(interface.clone())
                        .or_default()
                        .push(name.clone());
                }
                entry["interfaces"] = sorted(&mut interfaces);
            }
            TypeKind::Interface(interface) => {
                entry["kind"] = json!("INTERFACE");
                entry["fields"] = json!(fields(&interface.fields));
                let mut interfaces = names_of(&interface.implements);
                entry["interfaces"] = sorted(&mut interfaces);
            }
            TypeKind::Union(union) => {
                entry["kind"] = json!("UNION");
                let mut members = names_of(&union.members);
                entry["possibleTypes"] = sorted(&mut members);
            }
            TypeKind::Enum(enumeration) => {
                entry["kind"] = json!("ENUM");
                let values: BTreeMap<String, Value> = enumeration
                    .values
                    .iter()
                    .map(|v| {
                        let value = json!({"description": text(&v.node.description),
                            "deprecated": directive_argument(&v.node.directives, "deprecated", "reason")});
                        (v.node.value.node.to_string(), value)
                    })
                    .collect();
                entry["enumValues"] = json!(values);
            }
            TypeKind::InputObject(input) => {
                entry["kind"] = json!("INPUT_OBJECT");
                entry["inputFields"] = inputs(&input.fields);
            }
        }
        types.insert(name, entry);
    }
    for (interface, mut objects) in implementers {
        if let Some(entry) = types.get_mut(&interface) {
            entry["possibleTypes"] = sorted(&mut objects);
        }
    }
    if roots[0].is_null() {
        // Without a schema definition, the roots go by their default names.
        roots = ["Query", "Mutation", "Subscription"]
            .map(|root| json!(types.contains_key(root).then_some(root)));
    }
    types.insert("(roots)".into(), json!(roots));
    types
}

/// What introspection answers and what `schema.graphql` says are the same, type by
/// type: descriptions, fields, arguments and their defaults, deprecations, and the
/// scalars' `@specifiedBy`.
#[tokio::test]
async fn the_checked_in_schema_is_what_introspection_answers() {
    let schema = relgql::api::schema(SchemaOptions::default());
    let response = schema.execute(INTROSPECTION).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().unwrap();
    let served = from_introspection(&data["__schema"]);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let file = from_file(&std::fs::read_to_string(path).unwrap());
    let names = |types: &BTreeMap<String, Value>| {
        types
            .keys()
            .filter(|name| !built_in_directive(name))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&file),
        names(&served),
        "the types and directives differ"
    );
    for (name, ty) in &file {
        assert_eq!(
            ty, &served[name],
            "{name} differs between schema.graphql (left) and introspection (right)"
        );
    }
    // It sees what it compares: the scalar's `@specifiedBy` is there.
    assert_eq!(
        served["DateTime"]["specifiedBy"],
        "https://datatracker.ietf.org/doc/html/rfc3339"
    );
}

#[tokio::test]
async fn every_type_field_and_argument_has_a_description() {
    let schema = relgql::api::schema(SchemaOptions::default());
    let response = schema
        .execute(
            "{ __schema { types { name description
                fields { name description args { name description } }
                inputFields { name description }
                enumValues { name description } } } }",
        )
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().unwrap();
    let mut missing = Vec::new();
    let described = |v: &serde_json::Value| {
        v["description"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty())
    };
    for ty in data["__schema"]["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        if name.starts_with("__") || ["String", "Int", "Boolean", "ID", "Float"].contains(&name) {
            continue;
        }
        if !described(ty) {
            missing.push(name.to_owned());
        }
        let members = ["fields", "inputFields", "enumValues"]
            .iter()
            .flat_map(|kind| ty[kind].as_array().cloned().unwrap_or_default());
        for member in members {
            let field = format!("{name}.{}", member["name"].as_str().unwrap());
            if !described(&member) {
                missing.push(field.clone());
            }
            for arg in member["args"].as_array().cloned().unwrap_or_default() {
                if !described(&arg) {
                    missing.push(format!("{field}({})", arg["name"].as_str().unwrap()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "no description on: {missing:?}");
}
