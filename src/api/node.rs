//! Relay Global Object Identification: the `Node` interface over every row type,
//! `node` and `nodes`, and the typed root fields of each.

use async_graphql::{Context, ID, Object};
use futures_util::future::try_join_all;

use crate::api::blog::{comment::*, post::*, profile::Profile, tag::*, user::*};
use crate::api::enrollment::{course::*, student::*};
use crate::error::{ApiError, ApiResult};

crate::engine::declare::row_types! {
    nodes [User, Profile, Post, Comment, Tag, Student, Course];
    roots [
        user users: User,
        post posts: Post,
        comment comments: Comment,
        tag tags: Tag,
        student students: Student,
        course courses: Course,
    ];
}

/// The most ids one `nodes` call may ask for.
pub const MAX_NODES: usize = 100;

/// The root fields that find objects by global id.
#[derive(Default)]
pub struct NodeQuery;

/// The root fields that find objects by global id.
#[Object]
impl NodeQuery {
    /// The object with this global id, or null if it does not exist (any more).
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id, as any object's `id` field gives it.")] id: ID,
    ) -> ApiResult<Option<Node>> {
        find_node(ctx, &id).await
    }

    /// The objects with these global ids, in the same order; null for each that does not exist.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids, at most 100.")] ids: Vec<ID>,
    ) -> ApiResult<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(ApiError::bad_input(format!(
                "`nodes` takes at most {MAX_NODES} ids (got {})",
                ids.len()
            )));
        }
        try_join_all(ids.iter().map(|id| find_node(ctx, id))).await
    }
}
