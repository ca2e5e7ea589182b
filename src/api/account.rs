//! Accounts: `register`, `login` and `updateViewer`.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{SubsecRound, Utc};
use entity::user;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::api::blog::user::User;
use crate::api::validate::{self, MAX_NAME};
use crate::api::viewer::signed_in;
use crate::auth;
use crate::engine::listing::Table;
use crate::engine::request::{client, request_db, tokens};
use crate::error::{ApiError, ApiResult};
use crate::throttle::LoginThrottle;

/// What it takes to open an account.
#[derive(InputObject)]
pub struct RegisterInput {
    /// The name to go by.
    pub name: String,
    /// An email address no other account uses.
    pub email: String,
    /// At least 8 characters.
    #[graphql(secret)]
    pub password: String,
}

/// What it takes to sign in.
#[derive(InputObject)]
pub struct LoginInput {
    /// The account's email address.
    pub email: String,
    /// The account's password.
    #[graphql(secret)]
    pub password: String,
}

/// Changes to the signed-in user's account; leave out what stays.
#[derive(InputObject)]
pub struct UpdateViewerInput {
    /// A new name.
    pub name: Option<String>,
    /// A new email address, which no other account may use.
    pub email: Option<String>,
    /// A new password of at least 8 characters.
    #[graphql(secret)]
    pub password: Option<String>,
}

/// A signed-in session.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// The bearer token: send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// The signed-in user.
    pub user: User,
}

/// Opening accounts, signing in, and changing one's own account.
#[derive(Default)]
pub struct AccountMutation;

const EMAIL_TAKEN: &str = "an account with this email address already exists";

/// Opening accounts, signing in, and changing one's own account.
#[Object]
impl AccountMutation {
    /// Opens an account and signs it in.
    async fn register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account to open.")] input: RegisterInput,
    ) -> ApiResult<AuthPayload> {
        let name = validate::required_text("name", &input.name, MAX_NAME)?;
        let email = validate::email(&input.email)?;
        let password = validate::password(&input.password)?;
        let hash = auth::hash_password(password)
            .await
            .map_err(ApiError::internal)?;
        let row = user::ActiveModel {
            name: Set(name),
            email: Set(email),
            created_at: Set(Utc::now().trunc_subsecs(6)),
            password_hash: Set(Some(hash)),
            role: Set(user::USER.to_owned()),
            ..Default::default()
        }
        .insert(&request_db(ctx)?)
        .await
        .map_err(|e| ApiError::unless_unique(e, EMAIL_TAKEN))?;
        tracing::info!(user = row.id, "registered an account");
        session(ctx, row)
    }

    /// Signs in with an email address and password.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's credentials.")] input: LoginInput,
    ) -> ApiResult<AuthPayload> {
        let email = validate::email(&input.email)?;
        let throttle = ctx.data::<LoginThrottle>().map_err(|_| {
            ApiError::internal(anyhow::anyhow!("the schema carries no LoginThrottle"))
        })?;
        let client = client(ctx)?;
        let db = request_db(ctx)?;
        if let Err(throttled) = throttle.check(&db, &email, client).await? {
            let seconds = throttled.retry_after.as_secs().max(1);
            tracing::warn!(by = throttled.by, "sign-in throttled");
            return Err(ApiError::Throttled(
                format!(
                    "too many failed sign-ins for this {}; try again in {seconds} s",
                    throttled.by
                ),
                seconds,
            ));
        }
        let found = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&db)
            .await?;
        let hash = found.as_ref().and_then(|u| u.password_hash.clone());
        let matches = auth::verify_password(input.password, hash)
            .await
            .map_err(ApiError::internal)?;
        match found {
            Some(row) if matches => {
                throttle.succeeded(&db, &email).await?;
                tracing::info!(user = row.id, "signed in");
                session(ctx, row)
            }
            _ => {
                throttle.failed(&db, &email, client).await?;
                tracing::info!("sign-in failed");
                Err(ApiError::Unauthenticated(
                    "the email address or the password is wrong".into(),
                ))
            }
        }
    }

    /// Changes the signed-in user's name, email address or password.
    async fn update_viewer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to change.")] input: UpdateViewerInput,
    ) -> ApiResult<User> {
        let viewer = signed_in(ctx).await?;
        if input.name.is_none() && input.email.is_none() && input.password.is_none() {
            return Ok(User::from_model(viewer));
        }
        let mut row: user::ActiveModel = viewer.into();
        if let Some(name) = &input.name {
            row.name = Set(validate::required_text("name", name, MAX_NAME)?);
        }
        if let Some(email) = &input.email {
            row.email = Set(validate::email(email)?);
        }
        if let Some(password) = &input.password {
            let password = validate::password(password)?;
            let hash = auth::hash_password(password)
                .await
                .map_err(ApiError::internal)?;
            row.password_hash = Set(Some(hash));
        }
        let row = row
            .update(&request_db(ctx)?)
            .await
            .map_err(|e| ApiError::unless_unique(e, EMAIL_TAKEN))?;
        Ok(User::from_model(row))
    }
}

fn session(ctx: &Context<'_>, row: user::Model) -> ApiResult<AuthPayload> {
    let token = tokens(ctx)?.issue(row.id).map_err(ApiError::internal)?;
    Ok(AuthPayload {
        token,
        user: User::from_model(row),
    })
}
