//! The GraphQL API: types per domain, the root query, and the schema.

pub mod account;
pub mod blog;
pub mod connection;
pub mod enrollment;
pub mod filter;
pub mod gate;
pub mod ids;
pub mod introspection;
pub mod lean;
pub mod limits;
pub mod listing;
pub mod node;
pub mod pagination;
pub mod query;
pub mod request;
pub mod subscription;
pub mod validate;

use async_graphql::{MergedObject, SDLExportOptions, Schema, ValidationMode};

use crate::config;
use crate::graphql::account::AccountMutation;
use crate::graphql::blog::writes::BlogMutation;
use crate::graphql::enrollment::writes::EnrollmentMutation;

use crate::graphql::limits::QueryLimits;
use crate::graphql::node::NodeQuery;
use crate::graphql::pagination::PageLimits;
use crate::graphql::query::ReadQuery;
use crate::graphql::subscription::SubscriptionRoot;
use crate::throttle::{LoginThrottle, ThrottleSettings};

/// The root query type.
#[derive(MergedObject, Default)]
pub struct Query(NodeQuery, ReadQuery);

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
    build(options, ValidationMode::Strict)
}

/// The schema's twin for documents the schema has already validated: the same
/// types and settings, with validation's rules left out. Only queries run on it
/// (see [`gate`]); its sign-in throttle is never used.
pub fn trusted_twin(options: SchemaOptions) -> AppSchema {
    build(options, ValidationMode::Fast)
}

fn build(options: SchemaOptions, validation: ValidationMode) -> AppSchema {
    let builder = Schema::build(Query::default(), Mutation::default(), SubscriptionRoot)
        .validation_mode(validation)
        .data(options.limits)
        .data(LoginThrottle::new(options.login));
    if options.introspection {
        builder.finish()
    } else {
        builder
            .disable_introspection()
            .extension(introspection::NoIntrospection)
            .finish()
    }
}

/// The schema's SDL, as checked in at `schema.graphql`.
pub fn sdl(schema: &AppSchema) -> String {
    schema.sdl_with_options(SDLExportOptions::new().sorted_fields().sorted_enum_items())
}
