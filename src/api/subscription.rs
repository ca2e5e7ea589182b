//! Live updates: `commentAdded` and `postPublished`, over WebSocket.

use async_graphql::{Context, ID, Subscription};
use entity::{comment, post};
use futures_util::{Stream, StreamExt};
use sea_orm::EntityTrait;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::api::blog::comment::Comment;
use crate::api::blog::post::Post;
use crate::engine::ids;
use crate::engine::listing::Table;
use crate::engine::request::{events, request_db};
use crate::error::ApiResult;
use crate::events::Event;

/// Live updates, delivered as they happen.
#[derive(Default)]
pub struct SubscriptionRoot;

/// Live updates, delivered as they happen.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Each comment as it is written: on one post, or on any post.
    async fn comment_added(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only comments on this post (a `Post` global id).")] post_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = Comment>> {
        let only = post_id
            .map(|id| ids::decode_as(&id, Post::NAME))
            .transpose()?;
        let db = request_db(ctx)?;
        let ids = received(ctx)?.filter_map(move |event| async move {
            match event {
                Event::CommentAdded { comment, post } if only.is_none_or(|p| p == post) => {
                    Some(comment)
                }
                _ => None,
            }
        });
        Ok(ids.filter_map(move |id| {
            let db = db.clone();
            async move {
                fresh(comment::Entity::find_by_id(id).one(&db).await, "comment")
                    .map(Comment::from_model)
            }
        }))
    }

    /// Each post as it becomes published (written published, or published later).
    async fn post_published(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = Post>> {
        let db = request_db(ctx)?;
        let ids = received(ctx)?.filter_map(|event| async move {
            match event {
                Event::PostPublished { post } => Some(post),
                _ => None,
            }
        });
        Ok(ids.filter_map(move |id| {
            let db = db.clone();
            async move {
                fresh(post::Entity::find_by_id(id).one(&db).await, "post").map(Post::from_model)
            }
        }))
    }
}

/// The events from now on; events a slow subscriber missed are skipped (and logged).
fn received(ctx: &Context<'_>) -> ApiResult<impl Stream<Item = Event> + use<>> {
    Ok(
        BroadcastStream::new(events(ctx)?.subscribe()).filter_map(|event| async move {
            match event {
                Ok(event) => Some(event),
                Err(BroadcastStreamRecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "a slow subscriber missed events");
                    None
                }
            }
        }),
    )
}

/// The row an event names, read now; `None` if it is gone again or cannot be read.
fn fresh<M>(found: Result<Option<M>, sea_orm::DbErr>, what: &str) -> Option<M> {
    match found {
        Ok(row) => row,
        Err(error) => {
            tracing::error!(%error, "cannot read the {what} of an event");
            None
        }
    }
}
