//! The root fields that read who is asking.

use async_graphql::{Context, Object};

use crate::api::blog::user::User;
use crate::engine::lean::Lean;
use crate::engine::loaders::ById;
use crate::engine::request::{find, tokens, viewer_id};
use crate::error::{ApiError, ApiResult};

/// The root fields that read who is asking.
#[derive(Default)]
pub struct ViewerQuery;

/// The root fields that read who is asking.
#[Object]
impl ViewerQuery {
    /// The signed-in user, or null when the request carries no token.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<Option<Lean<User>>> {
        match viewer_id(ctx)? {
            // The token's account was deleted since it was last checked.
            Some(id) => match find::<ById<User>>(ctx, id).await? {
                Some(user) => Ok(Some(Lean(user))),
                None => {
                    tokens(ctx)?.forget_account(id);
                    Err(ApiError::Unauthenticated(
                        "the token's account no longer exists: sign in again".into(),
                    ))
                }
            },
            None => Ok(None),
        }
    }
}
