//! `Profile`: what a user says about themselves; at most one per user.

use async_graphql::{Context, ID, Object};
use entity::profile;

use crate::api::blog::user::User;
use crate::engine::ids;
use crate::engine::lean::{Leaf, Lean, Leaves};
use crate::engine::listing::Table;
use crate::engine::loaders::{ById, ToOneField};
use crate::engine::request::find_required;
use crate::error::ApiResult;

/// What a user says about themselves; at most one per user.
#[derive(Clone, Debug)]
pub struct Profile(profile::Model);

impl Table for Profile {
    type Entity = profile::Entity;
    const NAME: &'static str = "Profile";

    const READ_BY: &'static [(&'static str, &'static str)] = &[("bio", "bio")];

    fn from_model(model: profile::Model) -> Self {
        Self(model)
    }

    fn model(&self) -> &profile::Model {
        &self.0
    }

    fn id_column() -> profile::Column {
        profile::Column::Id
    }

    const TO_ONE: &'static [ToOneField] = &[ToOneField::new::<ById<User>>("user", "user_id")];
}

/// Read straight from the row in written answers; as the resolvers below answer.
impl Leaves for Profile {
    fn leaf(&self, field: &str) -> Option<Leaf<'_>> {
        Leaf::of_row(Self::NAME, self.0.id, field, |field| {
            (field == "bio").then_some(Leaf::Text(&self.0.bio))
        })
    }
}

/// What a user says about themselves; at most one per user.
#[Object]
impl Profile {
    /// The global id (Relay Global Object Identification).
    pub async fn id(&self) -> ID {
        ids::encode(Self::NAME, self.0.id)
    }

    /// The key of the profile's row in the database.
    async fn database_id(&self) -> i32 {
        self.0.id
    }

    /// The user's own words about themselves.
    async fn bio(&self) -> &str {
        &self.0.bio
    }

    /// The user the profile belongs to.
    async fn user(&self, ctx: &Context<'_>) -> ApiResult<Lean<User>> {
        find_required::<ById<User>>(ctx, self.0.user_id)
            .await
            .map(Lean)
    }
}
