//! The GraphQL API: types per domain, the roots, and the schema. It stands on the
//! engine (`crate::engine`), which never imports it.

pub mod account;
pub mod blog;
pub mod enrollment;
pub mod node;
pub mod query;
pub mod subscription;
pub mod validate;
pub mod viewer;

use async_graphql::{MergedObject, SDLExportOptions, Schema};

use crate::api::account::AccountMutation;
use crate::api::blog::writes::BlogMutation;
use crate::api::enrollment::writes::EnrollmentMutation;
use crate::config;
use crate::engine::gate::Gate;

use crate::api::node::{NodeQuery, RowQuery};
use crate::api::query::ViewerQuery;
use crate::api::subscription::SubscriptionRoot;
use crate::engine::limits::QueryLimits;
use crate::engine::pagination::PageLimits;
use crate::throttle::{LoginThrottle, ThrottleSettings};

/// The root query type.
#[derive(MergedObject, Default)]
pub struct Query(NodeQuery, RowQuery, ViewerQuery);

/// The root mutation type.
#[derive(MergedObject, Default)]
pub struct Mutation(AccountMutation, BlogMutation, EnrollmentMutation);

/// The schema relgql serves.
pub type AppSchema = Schema<Query, Mutation, SubscriptionRoot>;

/// What the schema is built with.
#[derive(Copy, Clone, Debug)]
pub struct SchemaOptions {
    /// Page size limits.
    pub limits: PageLimits,
    /// What one operation may ask for.
    pub query_limits: QueryLimits,
    /// Failed sign-ins allowed.
    pub login: ThrottleSettings,
    /// Whether clients may introspect the schema.
    pub introspection: bool,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        Self {
            limits: PageLimits {
                max: config::DEFAULT_MAX_PAGE_SIZE,
                default: config::DEFAULT_PAGE_SIZE,
            },
            query_limits: QueryLimits::default(),
            login: ThrottleSettings::default(),
            introspection: true,
        }
    }
}

/// Builds the schema; per-request state is attached to each request, not here.
pub fn schema(options: SchemaOptions) -> AppSchema {
    build(options, false)
}

/// The schema's twin for documents the schema has already validated: the same
/// types and settings, without validation. Only queries run on it (see [`gate`]);
/// its sign-in throttle is never used.
pub fn trusted_twin(options: SchemaOptions) -> AppSchema {
    build(options, true)
}

fn build(options: SchemaOptions, trusted_twin: bool) -> AppSchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), SubscriptionRoot)
        .data(options.limits)
        .data(LoginThrottle::new(options.login));
    if trusted_twin {
        builder = builder.extension(crate::engine::gate::ValidatedBefore);
    }
    if options.introspection {
        builder.finish()
    } else {
        builder
            .disable_introspection()
            .extension(crate::engine::introspection::NoIntrospection)
            .finish()
    }
}

/// The gate every operation on `schema` passes, with the schema's trusted twin.
pub fn gate(schema: &AppSchema, options: &SchemaOptions) -> Gate<AppSchema> {
    Gate::new(
        &schema.sdl(),
        trusted_twin(*options),
        options.query_limits,
        options.limits,
    )
}

/// The schema's SDL, as checked in at `schema.graphql`.
///
/// The directives the specification defines (`@skip`, `@include`, `@deprecated`,
/// `@specifiedBy`, `@oneOf`) are left out, as graphql-js's `printSchema` leaves them
/// out: every schema has them, and async-graphql would print them without their
/// arguments' descriptions, unlike introspection.
pub fn sdl(schema: &AppSchema) -> String {
    let printed = schema.sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_enum_items()
            .include_specified_by(),
    );
    without_built_in_directives(&printed)
}

fn without_built_in_directives(sdl: &str) -> String {
    const BUILT_IN: [&str; 5] = ["skip", "include", "deprecated", "specifiedBy", "oneOf"];
    let built_in = |line: &str| {
        line.strip_prefix("directive @").is_some_and(|rest| {
            let name = rest.split(['(', ' ']).next().unwrap_or_default();
            BUILT_IN.contains(&name)
        })
    };
    let mut kept = String::with_capacity(sdl.len());
    // A description is held back until the line it describes shows whether to keep it.
    let mut description = String::new();
    let mut in_description = false;
    for line in sdl.lines() {
        let quotes = line.trim_start().starts_with("\"\"\"");
        if in_description || (quotes && description.is_empty() && !line.starts_with('\t')) {
            description.push_str(line);
            description.push('\n');
            let single_line = line.trim().len() > 3 && line.trim().ends_with("\"\"\"");
            in_description = if in_description {
                !quotes
            } else {
                !single_line
            };
            continue;
        }
        if !built_in(line) {
            kept.push_str(&description);
            kept.push_str(line);
            kept.push('\n');
        }
        description.clear();
    }
    kept.push_str(&description);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The twin runs only documents the schema has validated, and does not validate
    /// them again: a document the schema refuses (its unused fragments spread each
    /// other) answers on the twin.
    #[tokio::test]
    async fn the_trusted_twin_does_not_validate_again() {
        let query = "{ __typename } fragment A on Query { ...B } fragment B on Query { ...A }";
        let options = SchemaOptions::default();
        let refused = schema(options).execute(query).await;
        assert!(!refused.errors.is_empty());
        let answered = trusted_twin(options).execute(query).await;
        assert!(answered.errors.is_empty(), "{:?}", answered.errors);
        assert_eq!(answered.data.to_string(), r#"{__typename: "Query"}"#);
    }
}
