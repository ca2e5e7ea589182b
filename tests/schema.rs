//! `schema.graphql` is exactly the schema the server serves.

use relgql::graphql::pagination::PageLimits;

#[test]
fn the_checked_in_schema_is_the_served_schema() {
    let served = relgql::graphql::sdl(&relgql::graphql::schema(PageLimits {
        max: 100,
        default: 20,
    }));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let checked_in = std::fs::read_to_string(path).expect("schema.graphql at the repository root");
    assert!(
        checked_in == served,
        "schema.graphql differs from the served schema: run `cargo run -- print-schema --output schema.graphql`"
    );
}

#[test]
fn every_type_field_and_argument_has_a_description() {
    let served = relgql::graphql::sdl(&relgql::graphql::schema(PageLimits {
        max: 100,
        default: 20,
    }));
    let lines: Vec<&str> = served.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        let is_definition = ["type ", "input ", "enum ", "interface ", "scalar "]
            .iter()
            .any(|k| trimmed.starts_with(k));
        let is_member = line.starts_with('\t')
            && !trimmed.starts_with('"')
            && !trimmed.is_empty()
            && trimmed != "}";
        if (is_definition || is_member) && i > 0 {
            assert_eq!(
                lines[i - 1].trim(),
                "\"\"\"",
                "no description before `{trimmed}`"
            );
        }
    }
}
