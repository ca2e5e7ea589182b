//! Writing the blog: one's own profile, posts and comments.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{SubsecRound, Utc};
use entity::{comment, post, profile};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IdenStatic, ModelTrait,
    QueryFilter, Set, Statement,
};

use crate::api::blog::comment::Comment;
use crate::api::blog::post::Post;
use crate::api::blog::profile::Profile;
use crate::api::blog::tag::{add_tags, set_tags, tag_ids, tag_names};
use crate::api::validate::{self, MAX_BIO, MAX_BODY, MAX_TITLE};
use crate::api::viewer::{is_admin, signed_in};
use crate::engine::listing::Table;
use crate::engine::request::{events, find_row, request_db};
use crate::error::{ApiError, ApiResult};
use crate::events::Event;

/// The signed-in user's profile.
#[derive(InputObject)]
pub struct UpsertProfileInput {
    /// What the user says about themselves (at most 2,000 characters; may be empty).
    pub bio: String,
}

/// A new post by the signed-in user.
#[derive(InputObject)]
pub struct CreatePostInput {
    /// The title (at most 200 characters).
    pub title: String,
    /// The text (at most 50,000 characters).
    pub body: String,
    /// Whether readers see it now; a draft otherwise.
    #[graphql(default)]
    pub published: bool,
    /// Tag names (trimmed, 1 to 50 characters, at most 20, matched ignoring case),
    /// each tag created on its first use.
    pub tags: Option<Vec<String>>,
}

/// Changes to a post; leave out what stays.
#[derive(InputObject)]
pub struct UpdatePostInput {
    /// The post's global id.
    pub id: ID,
    /// A new title.
    pub title: Option<String>,
    /// A new text.
    pub body: Option<String>,
    /// Publish (true) or withdraw to draft (false).
    pub published: Option<bool>,
    /// The post's tags, in place of those it has (as in `createPost`).
    pub tags: Option<Vec<String>>,
}

/// The post to delete.
#[derive(InputObject)]
pub struct DeletePostInput {
    /// The post's global id.
    pub id: ID,
}

/// A new comment by the signed-in user.
#[derive(InputObject)]
pub struct CreateCommentInput {
    /// The global id of the post to comment on.
    pub post_id: ID,
    /// The text (at most 50,000 characters).
    pub body: String,
    /// The global id of the comment this one replies to, on the same post; none
    /// for a top-level comment.
    pub parent_id: Option<ID>,
}

/// A new text for one's own comment.
#[derive(InputObject)]
pub struct UpdateCommentInput {
    /// The comment's global id.
    pub id: ID,
    /// The new text.
    pub body: String,
}

/// The comment to delete.
#[derive(InputObject)]
pub struct DeleteCommentInput {
    /// The comment's global id.
    pub id: ID,
}

/// Writing the blog: one's own profile, posts and comments.
#[derive(Default)]
pub struct BlogMutation;

/// Writing the blog: one's own profile, posts and comments.
#[Object]
impl BlogMutation {
    /// Writes the signed-in user's profile, creating it if they have none.
    async fn upsert_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's content.")] input: UpsertProfileInput,
    ) -> ApiResult<Profile> {
        let viewer = signed_in(ctx).await?;
        let bio = validate::text("bio", &input.bio, MAX_BIO)?;
        let db = request_db(ctx)?;
        let row = profile::ActiveModel {
            user_id: Set(viewer.id),
            bio: Set(bio),
            ..Default::default()
        };
        profile::Entity::insert(row)
            .on_conflict(
                OnConflict::column(profile::Column::UserId)
                    .update_column(profile::Column::Bio)
                    .to_owned(),
            )
            .exec_without_returning(&db)
            .await?;
        let row = profile::Entity::find()
            .filter(profile::Column::UserId.eq(viewer.id))
            .one(&db)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the upserted profile is gone")))?;
        Ok(Profile::from_model(row))
    }

    /// Writes a post as the signed-in user.
    async fn create_post(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post to write.")] input: CreatePostInput,
    ) -> ApiResult<Post> {
        let viewer = signed_in(ctx).await?;
        let row = post::ActiveModel {
            user_id: Set(viewer.id),
            title: Set(validate::required_text("title", &input.title, MAX_TITLE)?),
            body: Set(validate::text("body", &input.body, MAX_BODY)?),
            published: Set(input.published),
            created_at: Set(Utc::now().trunc_subsecs(6)),
            ..Default::default()
        };
        let names = input.tags.as_deref().map(tag_names).transpose()?;
        let db = request_db(ctx)?;
        let row = match names.filter(|names| !names.is_empty()) {
            None => row.insert(&db).await?,
            Some(names) => {
                let tags = tag_ids(&db, &names).await?;
                let txn = db.begin().await?;
                let row = row.insert(&txn).await?;
                add_tags(&txn, row.id, &tags).await?;
                txn.commit().await?;
                row
            }
        };
        if row.published {
            events(ctx)?
                .publish(Event::PostPublished { post: row.id })
                .await;
        }
        Ok(Post::from_model(row))
    }

    /// Changes a post; only its author or an admin may.
    async fn update_post(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post and what to change.")] input: UpdatePostInput,
    ) -> ApiResult<Post> {
        let viewer = signed_in(ctx).await?;
        let found = find_row::<Post>(ctx, &input.id).await?;
        if found.user_id != viewer.id && !is_admin(&viewer) {
            return Err(ApiError::Forbidden(
                "only the post's author or an admin may change it".into(),
            ));
        }
        let mut row: post::ActiveModel = found.clone().into();
        if let Some(title) = &input.title {
            row.title = Set(validate::required_text("title", title, MAX_TITLE)?);
        }
        if let Some(body) = &input.body {
            row.body = Set(validate::text("body", body, MAX_BODY)?);
        }
        if let Some(published) = input.published {
            row.published = Set(published);
        }
        let names = input.tags.as_deref().map(tag_names).transpose()?;
        let db = request_db(ctx)?;
        let changed = input.title.is_some() || input.body.is_some() || input.published.is_some();
        let row = match names {
            None if !changed => return Ok(Post::from_model(found)),
            None => row.update(&db).await?,
            Some(names) => {
                let tags = tag_ids(&db, &names).await?;
                let txn = db.begin().await?;
                set_tags(&txn, found.id, &tags).await?;
                let row = if changed {
                    row.update(&txn).await?
                } else {
                    found.clone()
                };
                txn.commit().await?;
                row
            }
        };
        if row.published && !found.published {
            events(ctx)?
                .publish(Event::PostPublished { post: row.id })
                .await;
        }
        Ok(Post::from_model(row))
    }

    /// Deletes a post and its comments; only its author or an admin may.
    /// Returns the deleted post's id.
    async fn delete_post(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post to delete.")] input: DeletePostInput,
    ) -> ApiResult<ID> {
        let viewer = signed_in(ctx).await?;
        let found = find_row::<Post>(ctx, &input.id).await?;
        if found.user_id != viewer.id && !is_admin(&viewer) {
            return Err(ApiError::Forbidden(
                "only the post's author or an admin may delete it".into(),
            ));
        }
        let db = request_db(ctx)?;
        if db.get_database_backend() == DbBackend::MySql {
            // The post's threads first, newest first (see `delete_comments`).
            let txn = db.begin().await?;
            delete_comments(&txn, comment::Column::PostId, found.id).await?;
            found.delete(&txn).await?;
            txn.commit().await?;
        } else {
            found.delete(&db).await?;
        }
        Ok(input.id)
    }

    /// Comments on a post as the signed-in user.
    async fn create_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post and the comment.")] input: CreateCommentInput,
    ) -> ApiResult<Comment> {
        let viewer = signed_in(ctx).await?;
        let post = find_row::<Post>(ctx, &input.post_id).await?;
        let parent = match &input.parent_id {
            Some(id) => Some(find_row::<Comment>(ctx, id).await?),
            None => None,
        };
        if parent
            .as_ref()
            .is_some_and(|parent| parent.post_id != post.id)
        {
            return Err(ApiError::invalid(
                "parentId",
                "`parentId` must be a comment on the same post",
            ));
        }
        let row = comment::ActiveModel {
            post_id: Set(post.id),
            user_id: Set(viewer.id),
            body: Set(validate::required_text("body", &input.body, MAX_BODY)?),
            created_at: Set(Utc::now().trunc_subsecs(6)),
            parent_id: Set(parent.map(|parent| parent.id)),
            ..Default::default()
        }
        .insert(&request_db(ctx)?)
        .await
        .map_err(|e| match e.sql_err() {
            // The post, or the comment replied to, was deleted since it was found.
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
                ApiError::NotFound("the post, or the comment replied to, no longer exists".into())
            }
            _ => ApiError::from_database(&e),
        })?;
        let event = Event::CommentAdded {
            comment: row.id,
            post: row.post_id,
        };
        events(ctx)?.publish(event).await;
        Ok(Comment::from_model(row))
    }

    /// Changes the text of a comment; only its author may.
    async fn update_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The comment and its new text.")] input: UpdateCommentInput,
    ) -> ApiResult<Comment> {
        let viewer = signed_in(ctx).await?;
        let found = find_row::<Comment>(ctx, &input.id).await?;
        if found.user_id != viewer.id {
            return Err(ApiError::Forbidden(
                "only the comment's author may change it".into(),
            ));
        }
        let mut row: comment::ActiveModel = found.into();
        row.body = Set(validate::required_text("body", &input.body, MAX_BODY)?);
        Ok(Comment::from_model(row.update(&request_db(ctx)?).await?))
    }

    /// Deletes a comment and every reply to it, at any depth; its author, the
    /// post's author or an admin may. Returns the deleted comment's id.
    async fn delete_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The comment to delete.")] input: DeleteCommentInput,
    ) -> ApiResult<ID> {
        let viewer = signed_in(ctx).await?;
        let found = find_row::<Comment>(ctx, &input.id).await?;
        let allowed = found.user_id == viewer.id || is_admin(&viewer) || {
            let post = post::Entity::find_by_id(found.post_id)
                .one(&request_db(ctx)?)
                .await?;
            post.is_some_and(|p| p.user_id == viewer.id)
        };
        if !allowed {
            return Err(ApiError::Forbidden(
                "only the comment's author, the post's author or an admin may delete it".into(),
            ));
        }
        delete_comments(&request_db(ctx)?, comment::Column::Id, found.id).await?;
        Ok(input.id)
    }
}

/// Deletes the comments whose `column` is `value` (a comment by its id, or a post's
/// comments) and their replies at every depth, in one statement.
///
/// The foreign keys delete the replies, but MariaDB follows a cascade at most 15
/// levels deep: there the whole thread is deleted newest first (a reply is always
/// newer than what it answers), which leaves each row nothing to cascade to.
async fn delete_comments(
    db: &impl ConnectionTrait,
    column: comment::Column,
    value: i32,
) -> ApiResult<()> {
    if db.get_database_backend() != DbBackend::MySql {
        comment::Entity::delete_many()
            .filter(column.eq(value))
            .exec(db)
            .await?;
        return Ok(());
    }
    let sql = format!(
        "DELETE FROM comments WHERE id IN (SELECT id FROM (
           WITH RECURSIVE thread (id) AS (
             SELECT id FROM comments WHERE {} = ?
             UNION ALL SELECT c.id FROM comments c JOIN thread t ON c.parent_id = t.id)
           SELECT id FROM thread) AS doomed) ORDER BY id DESC",
        column.as_str()
    );
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::MySql,
        sql,
        [value.into()],
    ))
    .await?;
    Ok(())
}
