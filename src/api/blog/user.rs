//! `User`: a person who writes posts and comments.

use async_graphql::connection::EmptyFields;
use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::{comment, post, profile, user};

use crate::api::blog::comment::{Comment, CommentFilter, CommentOrder};
use crate::api::blog::post::{Post, PostFilter, PostOrder};
use crate::api::blog::profile::Profile;
use crate::engine::connection::{Connection, related};
use crate::engine::filter::{Conditions, DateTimeFilter, IdFilter, IntFilter, StringFilter};
use crate::engine::ids;
use crate::engine::lean::{Leaf, Lean, Leaves};
use crate::engine::listing::{FilterInput, Link, ListArgs, Listed, Scope, Table};
use crate::engine::loaders::{ToMany, ToManyField, ToOne, ToOneField};
use crate::engine::pagination::{PageRequest, SortField, SortKind};
use crate::engine::request::find;
use crate::error::ApiResult;

/// A person who writes posts and comments.
#[derive(Clone, Debug)]
pub struct User(user::Model);

impl Table for User {
    type Entity = user::Entity;
    const NAME: &'static str = "User";

    fn from_model(model: user::Model) -> Self {
        Self(model)
    }

    fn model(&self) -> &user::Model {
        &self.0
    }

    fn id_column() -> user::Column {
        user::Column::Id
    }

    const READ_BY: &'static [(&'static str, &'static str)] = &[
        ("name", "name"),
        ("email", "email"),
        ("createdAt", "created_at"),
    ];

    const HIDDEN: &'static [&'static str] = &["password_hash", "role"];

    const TO_ONE: &'static [ToOneField] = &[ToOneField::new::<ProfileOfUser>("profile", "id")];

    const TO_MANY: &'static [ToManyField] = &[
        ToManyField::new::<PostsByAuthor>("posts"),
        ToManyField::new::<CommentsByAuthor>("comments"),
    ];
}

impl Listed for User {
    type Field = UserOrderField;
    type Order = UserOrder;
    type Filter = UserFilter;

    fn column(field: UserOrderField) -> user::Column {
        match field {
            UserOrderField::Id => user::Column::Id,
            UserOrderField::Name => user::Column::Name,
            UserOrderField::Email => user::Column::Email,
            UserOrderField::CreatedAt => user::Column::CreatedAt,
        }
    }
}

crate::order_term!(UserOrder, UserOrderField);

/// The fields users can be ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum UserOrderField {
    /// By id, that is by sign-up order.
    Id,
    /// By name.
    Name,
    /// By email address.
    Email,
    /// By sign-up time.
    CreatedAt,
}

impl SortField for UserOrderField {
    const ID: Self = Self::Id;

    fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Name => "name",
            Self::Email => "email",
            Self::CreatedAt => "createdAt",
        }
    }

    fn kind(self) -> SortKind {
        match self {
            Self::Id => SortKind::Int,
            Self::Name | Self::Email => SortKind::Text,
            Self::CreatedAt => SortKind::Time,
        }
    }
}

/// Conditions on users; all the given conditions must hold.
#[derive(InputObject, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct UserFilter {
    /// On the global id.
    pub id: Option<IdFilter>,
    /// On the database id.
    pub database_id: Option<IntFilter>,
    /// On the name.
    pub name: Option<StringFilter>,
    /// On the email address.
    pub email: Option<StringFilter>,
    /// On the sign-up time.
    pub created_at: Option<DateTimeFilter>,
    /// The user wrote at least one post that matches.
    pub posts: Option<Box<PostFilter>>,
    /// The user wrote at least one comment that matches.
    pub comments: Option<Box<CommentFilter>>,
    /// Every one of these filters holds.
    pub and: Option<Vec<UserFilter>>,
    /// At least one of these filters holds.
    pub or: Option<Vec<UserFilter>>,
    /// This filter does not hold.
    pub not: Option<Box<UserFilter>>,
}

impl FilterInput for UserFilter {
    fn condition(&self, scope: &Scope) -> ApiResult<sea_orm::Condition> {
        let mut all = Conditions::new(scope);
        all.id(&self.id, user::Column::Id, User::NAME)?;
        all.int(&self.database_id, user::Column::Id)?;
        all.text(&self.name, user::Column::Name)?;
        all.text(&self.email, user::Column::Email)?;
        all.time(&self.created_at, user::Column::CreatedAt);
        all.related(
            &self.posts,
            Link::children::<post::Entity>(post::Column::UserId),
        )?;
        all.related(
            &self.comments,
            Link::children::<comment::Entity>(comment::Column::UserId),
        )?;
        all.combine(&self.and, &self.or, &self.not)?;
        Ok(all.finish())
    }
}

/// A user's profile, by the profile's `user_id`.
pub struct ProfileOfUser;

impl ToOne for ProfileOfUser {
    type Target = Profile;

    fn column() -> profile::Column {
        profile::Column::UserId
    }
}

/// The posts a user wrote.
pub struct PostsByAuthor;

impl ToMany for PostsByAuthor {
    type Target = Post;
    type Edge = EmptyFields;

    fn link() -> Link {
        Link::children::<post::Entity>(post::Column::UserId)
    }
}

/// The comments a user wrote.
pub struct CommentsByAuthor;

impl ToMany for CommentsByAuthor {
    type Target = Comment;
    type Edge = EmptyFields;

    fn link() -> Link {
        Link::children::<comment::Entity>(comment::Column::UserId)
    }
}

/// Read straight from the row in written answers; as the resolvers below answer.
impl Leaves for User {
    fn leaf(&self, field: &str) -> Option<Leaf<'_>> {
        Leaf::of_row(Self::NAME, self.0.id, field, |field| match field {
            "name" => Some(Leaf::Text(&self.0.name)),
            "email" => Some(Leaf::Text(&self.0.email)),
            "createdAt" => Some(Leaf::Time(self.0.created_at)),
            _ => None,
        })
    }
}

/// A person who writes posts and comments.
#[Object]
impl User {
    /// The global id (Relay Global Object Identification).
    pub async fn id(&self) -> ID {
        ids::encode(Self::NAME, self.0.id)
    }

    /// The key of the user's row in the database.
    async fn database_id(&self) -> i32 {
        self.0.id
    }

    /// The name the user goes by.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The user's email address.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// When the user signed up.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The user's profile, or null if they have none.
    async fn profile(&self, ctx: &Context<'_>) -> ApiResult<Option<Lean<Profile>>> {
        Ok(find::<ProfileOfUser>(ctx, self.0.id).await?.map(Lean))
    }

    /// The posts the user wrote.
    #[allow(clippy::too_many_arguments)]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page forwards: at most this many posts, from the start or `after`.")]
        first: Option<i32>,
        #[graphql(desc = "Start after the post with this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backwards: at most this many posts, up to the end or `before`.")]
        last: Option<i32>,
        #[graphql(desc = "End before the post with this cursor.")] before: Option<String>,
        #[graphql(desc = "The order, most significant first; ties are broken by id.")]
        order_by: Option<Vec<PostOrder>>,
        #[graphql(desc = "Only the posts that match.")] filter: Option<Box<PostFilter>>,
    ) -> ApiResult<Connection<Post, EmptyFields>> {
        let page = PageRequest {
            first,
            after,
            last,
            before,
        };
        related::<PostsByAuthor>(ctx, self.0.id, ListArgs::new(ctx, page, order_by, filter)?).await
    }

    /// The comments the user wrote, on any post.
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
        related::<CommentsByAuthor>(ctx, self.0.id, ListArgs::new(ctx, page, order_by, filter)?)
            .await
    }
}

#[cfg(test)]
mod tests {
    use entity::FromRowAt;
    use sea_orm::DbBackend;
    use sea_orm::sea_query::PostgresQueryBuilder;

    use super::User;
    use crate::engine::listing::Table;
    use crate::engine::loaders::ById;
    use crate::engine::loaders::sql::{column_at, rows_by_statement};

    #[test]
    fn no_statement_behind_the_schema_reads_a_password_hash() {
        let lookup = rows_by_statement::<ById<User>>(DbBackend::Postgres, &[7], None)
            .to_string(PostgresQueryBuilder);
        assert!(!lookup.contains("password_hash"), "{lookup}");
        assert!(lookup.contains(r#""t0"."name""#), "{lookup}");
        // Lists, pages and joins leave out what `omitted` names, whatever is asked.
        let hash = entity::column_bits(entity::user::Model::COLUMNS, &["password_hash"]);
        assert_ne!(User::omitted(&|_| true) & hash, 0);
    }

    #[test]
    fn columns_are_found_among_those_a_statement_reads() {
        let hidden = entity::column_bits(entity::user::Model::COLUMNS, &["password_hash"]);
        assert_eq!(column_at::<User>("id", hidden).unwrap(), 0);
        assert_eq!(column_at::<User>("role", 0).unwrap(), 5);
        assert_eq!(column_at::<User>("role", hidden).unwrap(), 4);
        assert!(column_at::<User>("password_hash", hidden).is_err());
    }
}
