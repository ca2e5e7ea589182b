//! What one operation may ask for, checked on the parsed document before anything
//! runs: its nesting, its size and its cost.
//!
//! The cost understands connections: a field costs 1 plus what it selects, and a
//! connection multiplies what it selects by its page size (`first`, `last`, or the
//! default page size), so `users(first: 100) { posts(first: 100) { ... } }` costs
//! about 10,000 times what one post does. async-graphql's own complexity counts
//! each field once, whatever its page size.
//!
//! Fragments are analysed once each, whatever the number of spreads, so a document
//! whose fragments spread each other twice over is priced in linear time, and a
//! fragment that spreads itself is refused here (validation, which comes later,
//! would loop on neither, but would walk the exponential expansion).

use std::collections::HashMap;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Pos, ServerError, Value, Variables};

use crate::engine::pagination::PageLimits;
use crate::error::ApiError;

/// The limits, each configurable (see `config.rs` for the settings).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct QueryLimits {
    /// Deepest nesting of fields.
    pub max_depth: u64,
    /// Most fields (each alias counts) in the whole operation, fragments expanded.
    pub max_fields: u64,
    /// Most fields at the root of the operation.
    pub max_root_fields: u64,
    /// Highest cost (see the module documentation).
    pub max_cost: u64,
    /// Most directives on one field, fragment or operation.
    pub max_directives: usize,
    /// Longest query text, in bytes.
    pub max_query_bytes: usize,
    /// Slots of the concurrency budget for HTTP operations: each takes one per
    /// `COST_PER_SLOT` of cost (see `Gate::turn`); the others wait their turn,
    /// within their deadline. This bounds the memory of answers in the making.
    pub max_concurrent: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_depth: crate::config::DEFAULT_MAX_DEPTH,
            max_fields: crate::config::DEFAULT_MAX_FIELDS,
            max_root_fields: crate::config::DEFAULT_MAX_ROOT_FIELDS,
            max_cost: crate::config::DEFAULT_MAX_COST,
            max_directives: crate::config::DEFAULT_MAX_DIRECTIVES,
            max_query_bytes: crate::config::DEFAULT_MAX_QUERY_BYTES,
            max_concurrent: crate::config::DEFAULT_MAX_CONCURRENT_REQUESTS,
        }
    }
}

/// What an operation asks for, fragments expanded.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Measure {
    /// Deepest nesting of fields.
    pub depth: u64,
    /// Fields, each alias counted.
    pub fields: u64,
    /// Cost, lists multiplied by their page size.
    pub cost: u64,
}

impl Measure {
    fn add(self, other: Self) -> Self {
        Self {
            depth: self.depth.max(other.depth),
            fields: self.fields.saturating_add(other.fields),
            cost: self.cost.saturating_add(other.cost),
        }
    }
}

/// A refusal: which limit, the value found and the limit, as the error's
/// extensions carry them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exceeded {
    /// `depth`, `fields`, `rootFields`, `cost`, `directives` or `queryBytes`.
    limit: &'static str,
    /// What the operation asks for.
    found: u64,
    /// The limit.
    max: u64,
    message: String,
    pos: Option<Pos>,
}

impl Exceeded {
    /// The refusal when `found` (`what`, in the message) is over `max`.
    fn over(
        limit: &'static str,
        found: u64,
        max: u64,
        what: &str,
        pos: Option<Pos>,
    ) -> Option<Self> {
        (found > max).then(|| Self {
            limit,
            found,
            max,
            message: format!(
                "{what} is {found}, over the limit of {max} (by {})",
                found - max
            ),
            pos,
        })
    }

    /// The GraphQL error: `TOO_COMPLEX`, with `limit`, the value found (under the
    /// limit's own name, `cost` for instance) and `max` in its extensions.
    pub fn into_server_error(self) -> ServerError {
        let mut error = ApiError::TooComplex(self.message).into_server_error(self.pos);
        let extensions = error.extensions.get_or_insert_with(Default::default);
        extensions.set("limit", self.limit);
        extensions.set(self.limit, self.found);
        extensions.set("max", self.max);
        error
    }
}

/// Refuses a batch whose operations together have more fields or cost more than
/// one operation may: to the limits, a batch is one request.
pub fn check_batch(measures: &[Measure], limits: &QueryLimits) -> Result<Measure, ServerError> {
    let total = measures
        .iter()
        .fold(Measure::default(), |all, measure| all.add(*measure));
    let fields = "the number of fields of the batch's operations together";
    let cost = "the cost of the batch's operations together";
    let over = Exceeded::over("fields", total.fields, limits.max_fields, fields, None)
        .or_else(|| Exceeded::over("cost", total.cost, limits.max_cost, cost, None));
    match over {
        Some(exceeded) => Err(exceeded.into_server_error()),
        None => Ok(total),
    }
}

/// A document that cannot be priced because a fragment spreads itself.
fn fragment_cycle(name: &Name, pos: Pos) -> ServerError {
    let message = format!("fragment `{name}` spreads itself, directly or through other fragments");
    ApiError::bad_input(message).into_server_error(Some(pos))
}

/// Refuses query text too long or, before it is parsed, nested too deep: the
/// parser recurses once per level, so nesting is bounded before it runs.
pub fn check_text(query: &str, limits: &QueryLimits) -> Result<(), Exceeded> {
    let (length, max_length) = (query.len() as u64, limits.max_query_bytes as u64);
    let what = "the query's length in bytes";
    if let Some(exceeded) = Exceeded::over("queryBytes", length, max_length, what, None) {
        return Err(exceeded);
    }
    // Each field level takes at most a `{` and its arguments a few `(`/`[`/`{` more.
    let max_nesting = limits.max_depth.saturating_mul(4).saturating_add(16);
    let what = "the query's nesting of brackets";
    match Exceeded::over("depth", nesting(query), max_nesting, what, None) {
        Some(exceeded) => Err(exceeded),
        None => Ok(()),
    }
}

/// The deepest nesting of `{`, `(` and `[` in GraphQL text, strings and comments skipped.
fn nesting(query: &str) -> u64 {
    let bytes = query.as_bytes();
    let (mut depth, mut deepest, mut i) = (0u64, 0u64, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'(' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// What the limits need to know of the schema: each field's type, and whether it
/// is a connection (priced by its page size).
#[derive(Debug, Default)]
pub struct Shape {
    types: HashMap<String, HashMap<String, FieldShape>>,
    query: String,
    mutation: String,
    subscription: String,
}

#[derive(Debug)]
struct FieldShape {
    ty: String,
    paged: bool,
}

impl Shape {
    /// The shape of the schema whose SDL is `sdl`.
    pub fn of(sdl: &str) -> Self {
        use async_graphql::parser::types::{BaseType, TypeKind, TypeSystemDefinition};
        let mut shape = Self {
            query: "Query".into(),
            mutation: "Mutation".into(),
            subscription: "Subscription".into(),
            ..Self::default()
        };
        // The server's own SDL always parses; an empty shape would price every field at 1.
        let Ok(document) = async_graphql::parser::parse_schema(sdl) else {
            return shape;
        };
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let schema = schema.node;
                    let name = |n: Option<async_graphql::Positioned<Name>>, default: &str| {
                        n.map_or(default.to_owned(), |n| n.node.to_string())
                    };
                    shape.query = name(schema.query, "Query");
                    shape.mutation = name(schema.mutation, "Mutation");
                    shape.subscription = name(schema.subscription, "Subscription");
                }
                TypeSystemDefinition::Type(ty) => {
                    let fields = match ty.node.kind {
                        TypeKind::Object(object) => object.fields,
                        TypeKind::Interface(interface) => interface.fields,
                        _ => continue,
                    };
                    let fields = fields
                        .into_iter()
                        .map(|field| {
                            let field = field.node;
                            let mut ty = &field.ty.node;
                            while let BaseType::List(inner) = &ty.base {
                                ty = inner;
                            }
                            let BaseType::Named(name) = &ty.base else {
                                unreachable!("lists were unwrapped")
                            };
                            // A connection: priced by its page size.
                            let paged = name.ends_with("Connection")
                                && field.arguments.iter().any(|a| a.node.name.node == "first");
                            let shape = FieldShape {
                                ty: name.to_string(),
                                paged,
                            };
                            (field.name.node.to_string(), shape)
                        })
                        .collect();
                    shape.types.insert(ty.node.name.node.to_string(), fields);
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        shape
    }

    fn field(&self, ty: &str, name: &str) -> Option<&FieldShape> {
        self.types.get(ty)?.get(name)
    }
}

/// Measures the operation a request runs and refuses it when over a limit.
///
/// `operation_name` picks the operation as execution will; when it names none, or
/// none is named in a document of several, there is nothing to measure here and
/// validation reports the mistake.
pub fn check(
    shape: &Shape,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    limits: &QueryLimits,
    pages: &PageLimits,
) -> Result<Measure, ServerError> {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => match operations.get(name) {
            Some(operation) => operation,
            None => return Ok(Measure::default()),
        },
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().expect("one operation")
        }
        (DocumentOperations::Multiple(_), None) => return Ok(Measure::default()),
    };
    let root = match operation.node.ty {
        async_graphql::parser::types::OperationType::Query => shape.query.as_str(),
        async_graphql::parser::types::OperationType::Mutation => shape.mutation.as_str(),
        async_graphql::parser::types::OperationType::Subscription => shape.subscription.as_str(),
    };
    let mut pricer = Pricer {
        shape,
        document,
        variables,
        operation: &operation.node,
        limits,
        pages,
        fragments: HashMap::new(),
    };
    directives(operation.node.directives.len(), operation.pos, limits)?;
    let measure = pricer.selection_set(&operation.node.selection_set.node, root)?;
    let at = Some(operation.pos);
    let fields = "the number of fields (aliases included, fragments expanded)";
    let over = Exceeded::over("fields", measure.fields, limits.max_fields, fields, at)
        .or_else(|| {
            // Root fields are counted by walking fragments again, unmemoised: only
            // now that the field count, which bounds that walk, is known to be small.
            let root_fields = pricer.root_fields(&operation.node.selection_set.node);
            let what = "the number of root fields";
            Exceeded::over("rootFields", root_fields, limits.max_root_fields, what, at)
        })
        .or_else(|| {
            let what = "the query's depth";
            Exceeded::over("depth", measure.depth, limits.max_depth, what, at)
        })
        .or_else(|| {
            let what = "the query's cost (lists multiplied by their first/last)";
            Exceeded::over("cost", measure.cost, limits.max_cost, what, at)
        });
    match over {
        Some(exceeded) => Err(exceeded.into_server_error()),
        None => Ok(measure),
    }
}

fn directives(count: usize, pos: Pos, limits: &QueryLimits) -> Result<(), ServerError> {
    let (count, max) = (count as u64, limits.max_directives as u64);
    let what = "the number of directives in one place";
    match Exceeded::over("directives", count, max, what, Some(pos)) {
        Some(exceeded) => Err(exceeded.into_server_error()),
        None => Ok(()),
    }
}

/// A fragment's measure, or a mark that it is being measured (to find cycles).
enum Fragment {
    Measuring,
    Measured(Measure),
}

struct Pricer<'a> {
    shape: &'a Shape,
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    operation: &'a OperationDefinition,
    limits: &'a QueryLimits,
    pages: &'a PageLimits,
    fragments: HashMap<&'a Name, Fragment>,
}

impl<'a> Pricer<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet, ty: &str) -> Result<Measure, ServerError> {
        let mut total = Measure::default();
        for selection in &set.items {
            let measure = match &selection.node {
                Selection::Field(field) => {
                    let field_pos = field.pos;
                    let field = &field.node;
                    directives(field.directives.len(), field_pos, self.limits)?;
                    // Introspection reads the schema, not the database: free, and
                    // exempt from depth (its standard query nests `ofType` deeply).
                    if field.name.node.starts_with("__") {
                        continue;
                    }
                    let Some(meta) = self.shape.field(ty, &field.name.node) else {
                        // Unknown: validation reports it.
                        total = total.add(Measure {
                            depth: 1,
                            fields: 1,
                            cost: 1,
                        });
                        continue;
                    };
                    let inner = self.selection_set(&field.selection_set.node, &meta.ty)?;
                    let times = self.multiplier(field, meta.paged);
                    Measure {
                        depth: inner.depth + 1,
                        fields: inner.fields.saturating_add(1),
                        cost: inner.cost.saturating_mul(times).saturating_add(1),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    directives(spread.node.directives.len(), spread.pos, self.limits)?;
                    self.fragment(&spread.node.fragment_name.node, spread.pos)?
                }
                Selection::InlineFragment(inline) => {
                    directives(inline.node.directives.len(), inline.pos, self.limits)?;
                    let on = inline
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(ty, |c| c.node.on.node.as_str());
                    self.selection_set(&inline.node.selection_set.node, on)?
                }
            };
            total = total.add(measure);
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'a Name, pos: Pos) -> Result<Measure, ServerError> {
        match self.fragments.get(name) {
            Some(Fragment::Measured(measure)) => return Ok(*measure),
            Some(Fragment::Measuring) => return Err(fragment_cycle(name, pos)),
            None => {}
        }
        let Some(definition) = self.document.fragments.get(name) else {
            // Unknown: validation reports it.
            return Ok(Measure::default());
        };
        directives(
            definition.node.directives.len(),
            definition.pos,
            self.limits,
        )?;
        self.fragments.insert(name, Fragment::Measuring);
        let on = definition.node.type_condition.node.on.node.as_str();
        let measure = self.selection_set(&definition.node.selection_set.node, on)?;
        self.fragments.insert(name, Fragment::Measured(measure));
        Ok(measure)
    }

    /// Fields at the root, through fragments (all measured by now, so no cycles).
    fn root_fields(&self, set: &'a SelectionSet) -> u64 {
        set.items.iter().fold(0u64, |count, selection| {
            count.saturating_add(match &selection.node {
                Selection::Field(_) => 1,
                Selection::InlineFragment(inline) => {
                    self.root_fields(&inline.node.selection_set.node)
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    match (self.document.fragments.get(name), self.fragments.get(name)) {
                        (Some(definition), Some(Fragment::Measured(_))) => {
                            self.root_fields(&definition.node.selection_set.node)
                        }
                        _ => 0,
                    }
                }
            })
        })
    }

    /// How many times a field's selection runs: its page size for a connection
    /// (a field with `first`), the number of ids for `nodes`, once otherwise.
    fn multiplier(&self, field: &async_graphql::parser::types::Field, paged: bool) -> u64 {
        let argument = |name: &str| {
            field
                .arguments
                .iter()
                .find(|(arg, _)| arg.node == name)
                .and_then(|(_, value)| {
                    let resolve = |name: Name| self.variable(&name).ok_or(());
                    value.node.clone().into_const_with(resolve).ok()
                })
        };
        if paged {
            let asked = [argument("first"), argument("last")]
                .into_iter()
                .flatten()
                .filter_map(|value| match value {
                    Value::Number(n) => n.as_i64(),
                    _ => None,
                })
                .max();
            return match asked {
                // Out-of-range sizes are refused when the field runs; priced at the cap.
                Some(n) => n.clamp(0, i64::from(self.pages.max)) as u64,
                None => u64::from(self.pages.default),
            };
        }
        match argument("ids") {
            Some(Value::List(ids)) => ids.len() as u64,
            _ => 1,
        }
    }

    /// The value of the variable `name`: given, or its default.
    fn variable(&self, name: &Name) -> Option<Value> {
        self.variables.get(name).cloned().or_else(|| {
            self.operation
                .variable_definitions
                .iter()
                .find(|definition| definition.node.name.node == *name)
                .and_then(|definition| definition.node.default_value.as_ref())
                .map(|default| default.node.clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_skips_strings_and_comments() {
        assert_eq!(nesting("{ a { b(x: \"{{{{\") } } # {{{{"), 3);
        assert_eq!(nesting("{ a(x: \"\"\"{{{ \\\"\"\" {{\"\"\") }"), 2);
        assert_eq!(nesting(&"{a".repeat(50)), 50);
    }

    #[test]
    fn nesting_ends_comments_and_strings_where_graphql_does() {
        // A comment ends at a carriage return as at a newline.
        assert_eq!(nesting("# {{{{\r{ a }"), 1);
        assert_eq!(nesting("# {{{{\n{ a }"), 1);
        // An escaped quote does not end a string.
        assert_eq!(nesting(r#"{ a(x: "\"{{{{") }"#), 2);
        // A string cannot span lines: what follows an unclosed one counts.
        assert_eq!(nesting("{ a(x: \"open\n{ b } }"), 3);
        // A block string ends at its closing quotes, and the next byte counts.
        assert_eq!(nesting("\"\"\"{{\"\"\"{"), 1);
        assert_eq!(nesting("\"\"\"\"\"\"["), 1);
        // Closing more than was opened does not go below zero, and siblings do
        // not add up.
        assert_eq!(nesting("}}}{"), 1);
        assert_eq!(nesting("{ } { } ( ) [ ]"), 1);
        assert_eq!(nesting(""), 0);
    }

    #[test]
    fn a_limit_is_exceeded_only_above_its_maximum() {
        assert!(Exceeded::over("cost", 25_000, 25_000, "the cost", None).is_none());
        let exceeded = Exceeded::over("cost", 25_001, 25_000, "the cost", None).unwrap();
        assert_eq!(
            exceeded.message,
            "the cost is 25001, over the limit of 25000 (by 1)"
        );
        let error = exceeded.into_server_error();
        let extensions = error.extensions.unwrap();
        assert_eq!(
            extensions.get("limit"),
            Some(&async_graphql::Value::from("cost"))
        );
        assert_eq!(
            extensions.get("cost"),
            Some(&async_graphql::Value::from(25_001))
        );
        assert_eq!(
            extensions.get("max"),
            Some(&async_graphql::Value::from(25_000))
        );
        assert_eq!(
            extensions.get("code"),
            Some(&async_graphql::Value::from("TOO_COMPLEX"))
        );
    }
}
