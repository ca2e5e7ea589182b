//! `schema.graphql` is exactly the schema the server serves.

use relgql::api::SchemaOptions;

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
