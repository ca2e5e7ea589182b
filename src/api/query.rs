//! The root fields that read who is asking.

use async_graphql::{Context, Object};

use crate::api::blog::user::User;
use crate::engine::lean::Lean;
use crate::engine::loaders::ById;
use crate::engine::request::{find, viewer_id};
use crate::error::ApiResult;

/// The root fields that read who is asking.
#[derive(Default)]
pub struct ViewerQuery;

/// The root fields that read who is asking.
#[Object]
impl ViewerQuery {
    /// The signed-in user, or null when the request carries no token.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<Option<Lean<User>>> {
        match viewer_id(ctx)? {
            Some(id) => Ok(find::<ById<User>>(ctx, id).await?.map(Lean)),
            None => Ok(None),
        }
    }
}
