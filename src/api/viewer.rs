//! Who is asking: the signed-in user, and whether they are an admin.

use async_graphql::Context;
use entity::user;
use sea_orm::EntityTrait;

use crate::engine::request::{request_db, viewer_id};
use crate::error::{ApiError, ApiResult};

/// The signed-in user; `UNAUTHENTICATED` without a token or when its user is gone.
pub async fn signed_in(ctx: &Context<'_>) -> ApiResult<user::Model> {
    let id = viewer_id(ctx)?.ok_or_else(|| {
        ApiError::Unauthenticated("sign in first: this needs a bearer token".into())
    })?;
    user::Entity::find_by_id(id)
        .one(&request_db(ctx)?)
        .await?
        .ok_or_else(|| {
            ApiError::Unauthenticated("the token's user no longer exists: sign in again".into())
        })
}

/// The signed-in user, who must be an admin (`FORBIDDEN` otherwise).
pub async fn admin(ctx: &Context<'_>) -> ApiResult<user::Model> {
    let viewer = signed_in(ctx).await?;
    if !is_admin(&viewer) {
        return Err(ApiError::Forbidden("only an admin may do this".into()));
    }
    Ok(viewer)
}

/// Whether `user` has the admin role.
pub fn is_admin(user: &user::Model) -> bool {
    user.role == user::ADMIN
}
