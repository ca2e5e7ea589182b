//! The root fields that read one object or one top-level list.

use async_graphql::connection::EmptyFields;
use async_graphql::{Context, ID, Object};

use crate::api::blog::comment::{Comment, CommentFilter, CommentOrder};
use crate::api::blog::post::{Post, PostFilter, PostOrder};
use crate::api::blog::user::{User, UserFilter, UserOrder};
use crate::api::enrollment::course::{Course, CourseFilter, CourseOrder};
use crate::api::enrollment::student::{Student, StudentFilter, StudentOrder};
use crate::engine::connection::{Connection, top_level};
use crate::engine::ids;
use crate::engine::lean::Lean;
use crate::engine::listing::{ListArgs, Table};
use crate::engine::loaders::ById;
use crate::engine::pagination::PageRequest;
use crate::engine::request::{find, viewer_id};
use crate::error::ApiResult;

/// The root fields that read one object or one top-level list.
#[derive(Default)]
pub struct ReadQuery;

async fn by_id<T: Table>(ctx: &Context<'_>, id: &ID) -> ApiResult<Option<Lean<T>>> {
    Ok(find::<ById<T>>(ctx, ids::decode_as(id, T::NAME)?)
        .await?
        .map(Lean))
}

/// The root fields that read one object or one top-level list.
#[Object]
impl ReadQuery {
    /// The signed-in user, or null when the request carries no token.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<Option<Lean<User>>> {
        match viewer_id(ctx)? {
            Some(id) => Ok(find::<ById<User>>(ctx, id).await?.map(Lean)),
            None => Ok(None),
        }
    }

    /// The user with this id, or null if there is none.
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A `User` global id.")] id: ID,
    ) -> ApiResult<Option<Lean<User>>> {
        by_id(ctx, &id).await
    }

    /// The post with this id, or null if there is none.
    async fn post(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A `Post` global id.")] id: ID,
    ) -> ApiResult<Option<Lean<Post>>> {
        by_id(ctx, &id).await
    }

    /// The comment with this id, or null if there is none.
    async fn comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A `Comment` global id.")] id: ID,
    ) -> ApiResult<Option<Lean<Comment>>> {
        by_id(ctx, &id).await
    }

    /// The student with this id, or null if there is none.
    async fn student(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A `Student` global id.")] id: ID,
    ) -> ApiResult<Option<Lean<Student>>> {
        by_id(ctx, &id).await
    }

    /// The course with this id, or null if there is none.
    async fn course(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A `Course` global id.")] id: ID,
    ) -> ApiResult<Option<Lean<Course>>> {
        by_id(ctx, &id).await
    }

    /// All users.
    #[allow(clippy::too_many_arguments)]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page forwards: at most this many users, from the start or `after`.")]
        first: Option<i32>,
        #[graphql(desc = "Start after the user with this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backwards: at most this many users, up to the end or `before`.")]
        last: Option<i32>,
        #[graphql(desc = "End before the user with this cursor.")] before: Option<String>,
        #[graphql(desc = "The order, most significant first; ties are broken by id.")]
        order_by: Option<Vec<UserOrder>>,
        #[graphql(desc = "Only the users who match.")] filter: Option<Box<UserFilter>>,
    ) -> ApiResult<Connection<User, EmptyFields>> {
        let page = PageRequest {
            first,
            after,
            last,
            before,
        };
        top_level(ctx, ListArgs::new(ctx, page, order_by, filter)?).await
    }

    /// All posts.
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
        top_level(ctx, ListArgs::new(ctx, page, order_by, filter)?).await
    }

    /// All comments.
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
        top_level(ctx, ListArgs::new(ctx, page, order_by, filter)?).await
    }

    /// All students.
    #[allow(clippy::too_many_arguments)]
    async fn students(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page forwards: at most this many students, from the start or `after`.")]
        first: Option<i32>,
        #[graphql(desc = "Start after the student with this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backwards: at most this many students, up to the end or `before`.")]
        last: Option<i32>,
        #[graphql(desc = "End before the student with this cursor.")] before: Option<String>,
        #[graphql(desc = "The order, most significant first; ties are broken by id.")]
        order_by: Option<Vec<StudentOrder>>,
        #[graphql(desc = "Only the students who match.")] filter: Option<Box<StudentFilter>>,
    ) -> ApiResult<Connection<Student, EmptyFields>> {
        let page = PageRequest {
            first,
            after,
            last,
            before,
        };
        top_level(ctx, ListArgs::new(ctx, page, order_by, filter)?).await
    }

    /// All courses.
    #[allow(clippy::too_many_arguments)]
    async fn courses(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page forwards: at most this many courses, from the start or `after`.")]
        first: Option<i32>,
        #[graphql(desc = "Start after the course with this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backwards: at most this many courses, up to the end or `before`.")]
        last: Option<i32>,
        #[graphql(desc = "End before the course with this cursor.")] before: Option<String>,
        #[graphql(desc = "The order, most significant first; ties are broken by id.")]
        order_by: Option<Vec<CourseOrder>>,
        #[graphql(desc = "Only the courses that match.")] filter: Option<Box<CourseFilter>>,
    ) -> ApiResult<Connection<Course, EmptyFields>> {
        let page = PageRequest {
            first,
            after,
            last,
            before,
        };
        top_level(ctx, ListArgs::new(ctx, page, order_by, filter)?).await
    }
}
