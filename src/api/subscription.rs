//! Live updates: `commentAdded` and `postPublished`, over WebSocket.

use std::time::{Duration, Instant};

use async_graphql::{Context, ID, Subscription};
use futures_util::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::api::blog::comment::Comment;
use crate::api::blog::post::Post;
use crate::db::is_unavailable;
use crate::engine::ids;
use crate::engine::listing::Table;
use crate::engine::request::{events, find_visible, reader, request_db};
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
        let (db, reader) = (request_db(ctx)?, reader(ctx)?);
        let ids = received(ctx)?.filter_map(move |event| async move {
            match event {
                Event::CommentAdded { comment, post } if only.is_none_or(|p| p == post) => {
                    Some(comment)
                }
                _ => None,
            }
        });
        // Only the comments the subscriber may see: none on a draft of another's.
        Ok(ids.filter_map(move |id| {
            let db = db.clone();
            async move { fresh("comment", || find_visible::<Comment>(&db, reader, id)).await }
        }))
    }

    /// Each post as it becomes published (written published, or published later).
    async fn post_published(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = Post>> {
        let (db, reader) = (request_db(ctx)?, reader(ctx)?);
        let ids = received(ctx)?.filter_map(|event| async move {
            match event {
                Event::PostPublished { post } => Some(post),
                _ => None,
            }
        });
        // Read as the subscriber may: a post withdrawn again at once is not sent.
        Ok(ids.filter_map(move |id| {
            let db = db.clone();
            async move { fresh("post", || find_visible::<Post>(&db, reader, id)).await }
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

/// How long the row an event names is read again while the database cannot answer
/// (a restart, a failover), before the event is given up.
const EVENT_READ_PATIENCE: Duration = Duration::from_secs(30);

/// The row an event names, read now; `None` if it is gone again or hidden from the
/// subscriber. While the database cannot answer, the read is tried again (for up to
/// [`EVENT_READ_PATIENCE`]): an event is not dropped for a failover.
async fn fresh<M, F>(what: &str, read: impl Fn() -> F) -> Option<M>
where
    F: std::future::Future<Output = Result<Option<M>, sea_orm::DbErr>>,
{
    let started = Instant::now();
    loop {
        match read().await {
            Ok(row) => return row,
            Err(error) if is_unavailable(&error) && started.elapsed() < EVENT_READ_PATIENCE => {
                tracing::warn!(%error, "cannot read the {what} of an event yet");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot read the {what} of an event");
                return None;
            }
        }
    }
}
