//! `Comment`: a user's comment on a post.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::{comment, post, user};

use crate::api::blog::post::{Post, PostFilter};
use crate::api::blog::user::{User, UserFilter};
use crate::engine::filter::{Conditions, DateTimeFilter, IdFilter, IntFilter, StringFilter};
use crate::engine::ids;
use crate::engine::lean::{Leaf, Lean, Leaves};
use crate::engine::listing::{FilterInput, Hop, Listed, Scope, Table};
use crate::engine::loaders::{ById, ToOneField};
use crate::engine::pagination::{SortField, SortKind};
use crate::engine::request::find_required;
use crate::error::ApiResult;

/// A user's comment on a post.
#[derive(Clone, Debug)]
pub struct Comment(comment::Model);

impl Table for Comment {
    type Entity = comment::Entity;
    const NAME: &'static str = "Comment";

    fn from_model(model: comment::Model) -> Self {
        Self(model)
    }

    fn model(&self) -> &comment::Model {
        &self.0
    }

    fn id_column() -> comment::Column {
        comment::Column::Id
    }

    const READ_BY: &'static [(&'static str, &'static str)] = &[
        ("body", "body"),
        ("createdAt", "created_at"),
        ("post", "post_id"),
        ("author", "user_id"),
    ];

    const TO_ONE: &'static [ToOneField] = &[
        ToOneField::new::<ById<Post>>("post", "post_id"),
        ToOneField::new::<ById<User>>("author", "user_id"),
    ];
}

impl Listed for Comment {
    type Field = CommentOrderField;
    type Order = CommentOrder;
    type Filter = CommentFilter;

    fn column(field: CommentOrderField) -> comment::Column {
        match field {
            CommentOrderField::Id => comment::Column::Id,
            CommentOrderField::CreatedAt => comment::Column::CreatedAt,
        }
    }
}

crate::order_term!(CommentOrder, CommentOrderField);

/// The fields comments can be ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CommentOrderField {
    /// By id, that is by creation order.
    Id,
    /// By creation time.
    CreatedAt,
}

impl SortField for CommentOrderField {
    const ID: Self = Self::Id;

    fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::CreatedAt => "createdAt",
        }
    }

    fn kind(self) -> SortKind {
        match self {
            Self::Id => SortKind::Int,
            Self::CreatedAt => SortKind::Time,
        }
    }
}

/// Conditions on comments; all the given conditions must hold.
#[derive(InputObject, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CommentFilter {
    /// On the global id.
    pub id: Option<IdFilter>,
    /// On the database id.
    pub database_id: Option<IntFilter>,
    /// On the global id of the post commented on.
    pub post_id: Option<IdFilter>,
    /// On the global id of the author.
    pub author_id: Option<IdFilter>,
    /// On the text.
    pub body: Option<StringFilter>,
    /// On the creation time.
    pub created_at: Option<DateTimeFilter>,
    /// The post commented on matches.
    pub post: Option<Box<PostFilter>>,
    /// The author matches.
    pub author: Option<Box<UserFilter>>,
    /// Every one of these filters holds.
    pub and: Option<Vec<CommentFilter>>,
    /// At least one of these filters holds.
    pub or: Option<Vec<CommentFilter>>,
    /// This filter does not hold.
    pub not: Option<Box<CommentFilter>>,
}

impl FilterInput for CommentFilter {
    fn condition(&self, scope: &Scope) -> ApiResult<sea_orm::Condition> {
        let mut all = Conditions::new(scope);
        all.id(&self.id, comment::Column::Id, Comment::NAME)?;
        all.int(&self.database_id, comment::Column::Id)?;
        all.id(&self.post_id, comment::Column::PostId, Post::NAME)?;
        all.id(&self.author_id, comment::Column::UserId, User::NAME)?;
        all.text(&self.body, comment::Column::Body)?;
        all.time(&self.created_at, comment::Column::CreatedAt);
        all.related(
            &self.post,
            Hop::parent::<post::Entity>(comment::Column::PostId),
        )?;
        all.related(
            &self.author,
            Hop::parent::<user::Entity>(comment::Column::UserId),
        )?;
        all.combine(&self.and, &self.or, &self.not)?;
        Ok(all.finish())
    }
}

/// Read straight from the row in written answers; as the resolvers below answer.
impl Leaves for Comment {
    fn leaf(&self, field: &str) -> Option<Leaf<'_>> {
        Leaf::of_row(Self::NAME, self.0.id, field, |field| match field {
            "body" => Some(Leaf::Text(&self.0.body)),
            "createdAt" => Some(Leaf::Time(self.0.created_at)),
            _ => None,
        })
    }
}

/// A user's comment on a post.
#[Object]
impl Comment {
    /// The global id (Relay Global Object Identification).
    pub async fn id(&self) -> ID {
        ids::encode(Self::NAME, self.0.id)
    }

    /// The key of the comment's row in the database.
    async fn database_id(&self) -> i32 {
        self.0.id
    }

    /// The text of the comment.
    async fn body(&self) -> &str {
        &self.0.body
    }

    /// When the comment was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The post the comment is on.
    async fn post(&self, ctx: &Context<'_>) -> ApiResult<Lean<Post>> {
        find_required::<ById<Post>>(ctx, self.0.post_id)
            .await
            .map(Lean)
    }

    /// The user who wrote the comment.
    async fn author(&self, ctx: &Context<'_>) -> ApiResult<Lean<User>> {
        find_required::<ById<User>>(ctx, self.0.user_id)
            .await
            .map(Lean)
    }
}
