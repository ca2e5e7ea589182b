//! `users`: the people who write posts and comments.

use sea_orm::entity::prelude::*;

model! {
    /// A row of `users`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
        #[sea_orm(unique)]
        pub email: String,
        pub created_at: DateTimeUtc,
        /// The argon2id hash of the user's password; none for rows written by plain SQL,
        /// who cannot sign in.
        pub password_hash: Option<String>,
        /// `user` or `admin`.
        pub role: String,
    }
}

/// The role of an administrator, who may change anything.
pub const ADMIN: &str = "admin";
/// The role of everyone else.
pub const USER: &str = "user";

/// What a user is related to.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The user's one profile, if any.
    #[sea_orm(has_one = "super::profile::Entity")]
    Profile,
    /// The posts the user wrote.
    #[sea_orm(has_many = "super::post::Entity")]
    Posts,
    /// The comments the user wrote.
    #[sea_orm(has_many = "super::comment::Entity")]
    Comments,
}

impl Related<super::profile::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Profile.def()
    }
}

impl Related<super::post::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Posts.def()
    }
}

impl Related<super::comment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Comments.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
