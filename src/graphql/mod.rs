//! The GraphQL API: types per domain, the root query, and the schema.

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

use async_graphql::{EmptyMutation, EmptySubscription, MergedObject, SDLExportOptions, Schema};

use crate::graphql::node::NodeQuery;
use crate::graphql::pagination::PageLimits;
use crate::graphql::query::ReadQuery;

/// The root query type.
#[derive(MergedObject, Default)]
pub struct Query(NodeQuery, ReadQuery);

/// The schema relgql serves.
pub type AppSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// Builds the schema; per-request state is attached to each request, not here.
pub fn schema(limits: PageLimits) -> AppSchema {
    Schema::build(Query::default(), EmptyMutation, EmptySubscription)
        .data(limits)
        .finish()
}

/// The schema's SDL, as checked in at `schema.graphql`.
pub fn sdl(schema: &AppSchema) -> String {
    schema.sdl_with_options(SDLExportOptions::new().sorted_fields().sorted_enum_items())
}
