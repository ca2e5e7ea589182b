//! Relay Global Object Identification: the `Node` interface, `node` and `nodes`.

use async_graphql::{Context, ID, Interface, Object};
use futures_util::future::try_join_all;

use crate::api::blog::{comment::Comment, post::Post, profile::Profile, user::User};
use crate::api::enrollment::{course::Course, student::Student};
use crate::engine::ids;
use crate::engine::listing::Table;
use crate::engine::loaders::ById;
use crate::engine::request::find;
use crate::error::{ApiError, ApiResult};

/// The most ids one `nodes` call may ask for.
pub const MAX_NODES: usize = 100;

/// An object with a global id, which `node(id:)` finds again.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "The global id (Relay Global Object Identification)."
))]
pub enum Node {
    /// A user.
    User(User),
    /// A user's profile.
    Profile(Profile),
    /// A blog post.
    Post(Post),
    /// A comment on a post.
    Comment(Comment),
    /// A student.
    Student(Student),
    /// A course.
    Course(Course),
}

/// The object with a global id, or `None` if no row has it (any more).
pub async fn find_node(ctx: &Context<'_>, id: &ID) -> ApiResult<Option<Node>> {
    let (type_name, key) = ids::decode(id)?;
    Ok(match type_name.as_str() {
        User::NAME => find::<ById<User>>(ctx, key).await?.map(Node::User),
        Profile::NAME => find::<ById<Profile>>(ctx, key).await?.map(Node::Profile),
        Post::NAME => find::<ById<Post>>(ctx, key).await?.map(Node::Post),
        Comment::NAME => find::<ById<Comment>>(ctx, key).await?.map(Node::Comment),
        Student::NAME => find::<ById<Student>>(ctx, key).await?.map(Node::Student),
        Course::NAME => find::<ById<Course>>(ctx, key).await?.map(Node::Course),
        _ => {
            return Err(ApiError::bad_input(format!(
                "`{}` is not the id of any type of this API",
                id.as_str()
            )));
        }
    })
}

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
