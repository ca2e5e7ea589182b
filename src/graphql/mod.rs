//! The GraphQL API: types per domain, the root query, and the schema.

pub mod account;
pub mod blog;
pub mod connection;
pub mod enrollment;
pub mod filter;
pub mod ids;
pub mod listing;
pub mod node;
pub mod pagination;
pub mod query;
pub mod request;
pub mod validate;

use async_graphql::{EmptySubscription, MergedObject, SDLExportOptions, Schema};

use crate::graphql::account::AccountMutation;
use crate::graphql::blog::writes::BlogMutation;
use crate::graphql::enrollment::writes::EnrollmentMutation;

use crate::graphql::node::NodeQuery;
use crate::graphql::pagination::PageLimits;
use crate::graphql::query::ReadQuery;

/// The root query type.
#[derive(MergedObject, Default)]
pub struct Query(NodeQuery, ReadQuery);

/// The root mutation type.
#[derive(MergedObject, Default)]
pub struct Mutation(AccountMutation, BlogMutation, EnrollmentMutation);

/// The schema relgql serves.
pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema; per-request state is attached to each request, not here.
pub fn schema(limits: PageLimits) -> AppSchema {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .data(limits)
        .finish()
}

/// The schema's SDL, as checked in at `schema.graphql`.
pub fn sdl(schema: &AppSchema) -> String {
    schema.sdl_with_options(SDLExportOptions::new().sorted_fields().sorted_enum_items())
}
