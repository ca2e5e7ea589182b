//! Relay Global Object Identification: the `Node` interface over every row type,
//! `node` and `nodes`, and the typed root fields of each.

use async_graphql::{Context, ID, Object};
use futures_util::future::try_join_all;

use crate::api::blog::{comment::*, post::*, profile::Profile, tag::*, user::*};
use crate::api::enrollment::{course::*, enrolled::Enrollment, student::*};
use crate::engine::ids::decode_pair;
use crate::error::{ApiError, ApiResult};

crate::engine::declare::row_types! {
    nodes [User, Profile, Post, Comment, Tag, Student, Course];
    keyed_by_pairs [Enrollment];
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
        if let Some(key) = decode_pair(&id, Enrollment::NAME) {
            let mut found = Enrollment::find_all(ctx, &[key]).await?;
            return Ok(found.remove(&key).map(Node::Enrollment));
        }
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
        // Enrollments, keyed by pairs, are read together in one statement; the row
        // types through their loaders.
        let pairs: Vec<Option<(i32, i32)>> = ids
            .iter()
            .map(|id| decode_pair(id, Enrollment::NAME))
            .collect();
        let wanted: Vec<(i32, i32)> = pairs.iter().flatten().copied().collect();
        let enrollments = Enrollment::find_all(ctx, &wanted).await?;
        let enrollments = &enrollments;
        try_join_all(ids.iter().zip(pairs).map(|(id, pair)| async move {
            match pair {
                Some(key) => Ok(enrollments.get(&key).cloned().map(Node::Enrollment)),
                None => find_node(ctx, id).await,
            }
        }))
        .await
    }
}
