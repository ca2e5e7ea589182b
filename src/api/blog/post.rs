//! `Post`: written by a user, commented on by users.

use async_graphql::connection::EmptyFields;
use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::{comment, post, user};

use crate::api::blog::comment::{Comment, CommentFilter, CommentOrder};
use crate::api::blog::user::{User, UserFilter};
use crate::engine::connection::{Connection, related};
use crate::engine::filter::{
    BooleanFilter, Conditions, DateTimeFilter, IdFilter, IntFilter, StringFilter,
};
use crate::engine::ids;
use crate::engine::lean::{Leaf, Lean, Leaves};
use crate::engine::listing::{FilterInput, Hop, Link, ListArgs, Listed, Scope, Table};
use crate::engine::loaders::{ById, ToMany, ToManyField, ToOneField};
use crate::engine::pagination::{PageRequest, SortField, SortKind};
use crate::engine::request::find_required;
use crate::error::ApiResult;

/// A blog post, written by a user and commented on by users.
#[derive(Clone, Debug)]
pub struct Post(post::Model);

impl Table for Post {
    type Entity = post::Entity;
    const NAME: &'static str = "Post";

    fn from_model(model: post::Model) -> Self {
        Self(model)
    }

    fn model(&self) -> &post::Model {
        &self.0
    }

    fn id_column() -> post::Column {
        post::Column::Id
    }

    const READ_BY: &'static [(&'static str, &'static str)] = &[
        ("title", "title"),
        ("body", "body"),
        ("published", "published"),
        ("createdAt", "created_at"),
        ("author", "user_id"),
    ];

    const TO_ONE: &'static [ToOneField] = &[ToOneField::new::<ById<User>>("author", "user_id")];

    const TO_MANY: &'static [ToManyField] = &[ToManyField::new::<CommentsOnPost>("comments")];
}

impl Listed for Post {
    type Field = PostOrderField;
    type Order = PostOrder;
    type Filter = PostFilter;

    fn column(field: PostOrderField) -> post::Column {
        match field {
            PostOrderField::Id => post::Column::Id,
            PostOrderField::Title => post::Column::Title,
            PostOrderField::CreatedAt => post::Column::CreatedAt,
        }
    }
}

crate::order_term!(PostOrder, PostOrderField);

/// The fields posts can be ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum PostOrderField {
    /// By id, that is by creation order.
    Id,
    /// By title.
    Title,
    /// By creation time.
    CreatedAt,
}

impl SortField for PostOrderField {
    const ID: Self = Self::Id;

    fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Title => "title",
            Self::CreatedAt => "createdAt",
        }
    }

    fn kind(self) -> SortKind {
        match self {
            Self::Id => SortKind::Int,
            Self::Title => SortKind::Text,
            Self::CreatedAt => SortKind::Time,
        }
    }
}

/// Conditions on posts; all the given conditions must hold.
#[derive(InputObject, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PostFilter {
    /// On the global id.
    pub id: Option<IdFilter>,
    /// On the database id.
    pub database_id: Option<IntFilter>,
    /// On the global id of the author.
    pub author_id: Option<IdFilter>,
    /// On the title.
    pub title: Option<StringFilter>,
    /// On the body.
    pub body: Option<StringFilter>,
    /// On whether the post is published.
    pub published: Option<BooleanFilter>,
    /// On the creation time.
    pub created_at: Option<DateTimeFilter>,
    /// The author matches.
    pub author: Option<Box<UserFilter>>,
    /// At least one comment on the post matches.
    pub comments: Option<Box<CommentFilter>>,
    /// Every one of these filters holds.
    pub and: Option<Vec<PostFilter>>,
    /// At least one of these filters holds.
    pub or: Option<Vec<PostFilter>>,
    /// This filter does not hold.
    pub not: Option<Box<PostFilter>>,
}

impl FilterInput for PostFilter {
    fn condition(&self, scope: &Scope) -> ApiResult<sea_orm::Condition> {
        let mut all = Conditions::new(scope);
        all.id(&self.id, post::Column::Id, Post::NAME)?;
        all.int(&self.database_id, post::Column::Id)?;
        all.id(&self.author_id, post::Column::UserId, User::NAME)?;
        all.text(&self.title, post::Column::Title)?;
        all.text(&self.body, post::Column::Body)?;
        all.boolean(&self.published, post::Column::Published);
        all.time(&self.created_at, post::Column::CreatedAt);
        all.related(
            &self.author,
            Hop::parent::<user::Entity>(post::Column::UserId),
        )?;
        all.related(
            &self.comments,
            Link::children::<comment::Entity>(comment::Column::PostId),
        )?;
        all.combine(&self.and, &self.or, &self.not)?;
        Ok(all.finish())
    }
}

/// The comments on a post.
pub struct CommentsOnPost;

impl ToMany for CommentsOnPost {
    type Target = Comment;
    type Edge = EmptyFields;

    fn link() -> Link {
        Link::children::<comment::Entity>(comment::Column::PostId)
    }
}

/// Read straight from the row in written answers; as the resolvers below answer.
impl Leaves for Post {
    fn leaf(&self, field: &str) -> Option<Leaf<'_>> {
        Leaf::of_row(Self::NAME, self.0.id, field, |field| match field {
            "title" => Some(Leaf::Text(&self.0.title)),
            "body" => Some(Leaf::Text(&self.0.body)),
            "published" => Some(Leaf::Boolean(self.0.published)),
            "createdAt" => Some(Leaf::Time(self.0.created_at)),
            _ => None,
        })
    }
}

/// A blog post, written by a user and commented on by users.
#[Object]
impl Post {
    /// The global id (Relay Global Object Identification).
    pub async fn id(&self) -> ID {
        ids::encode(Self::NAME, self.0.id)
    }

    /// The key of the post's row in the database.
    async fn database_id(&self) -> i32 {
        self.0.id
    }

    /// The title.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// The text of the post.
    async fn body(&self) -> &str {
        &self.0.body
    }

    /// Whether the post is published (visible to readers) or a draft.
    async fn published(&self) -> bool {
        self.0.published
    }

    /// When the post was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The user who wrote the post.
    async fn author(&self, ctx: &Context<'_>) -> ApiResult<Lean<User>> {
        find_required::<ById<User>>(ctx, self.0.user_id)
            .await
            .map(Lean)
    }

    /// The comments on the post.
    #[allow(clippy::too_many_arguments)]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page forwards: at most this many comments, from the start or `after`.")]
        first: Option<i32>,
        #[graphql(desc = "Start after the comment with this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backwards: at most this many comments, up to the end or `before`.")]
        last: Option<i32>,
        #[graphql(desc = "End before the comment with this cursor.")] before: Option<String>,
        #[graphql(desc = "The order, most significant first; ties are broken by id.")]
        order_by: Option<Vec<CommentOrder>>,
        #[graphql(desc = "Only the comments that match.")] filter: Option<Box<CommentFilter>>,
    ) -> ApiResult<Connection<Comment, EmptyFields>> {
        let page = PageRequest {
            first,
            after,
            last,
            before,
        };
        related::<CommentsOnPost>(ctx, self.0.id, ListArgs::new(ctx, page, order_by, filter)?).await
    }
}
