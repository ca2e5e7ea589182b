//! `comments`: a user's comment on a post.

use sea_orm::entity::prelude::*;

model! {
    /// A row of `comments`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "comments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub post_id: i32,
        pub user_id: i32,
        #[sea_orm(column_type = "Text")]
        pub body: String,
        pub created_at: DateTimeUtc,
        /// The comment this one replies to, on the same post; none for a top-level
        /// comment.
        pub parent_id: Option<i32>,
    }
}

/// What a comment is related to.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The post the comment is on.
    #[sea_orm(
        belongs_to = "super::post::Entity",
        from = "Column::PostId",
        to = "super::post::Column::Id",
        on_delete = "Cascade"
    )]
    Post,
    /// The user who wrote the comment.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    Author,
    /// The comment this one replies to.
    #[sea_orm(
        belongs_to = "Entity",
        from = "Column::ParentId",
        to = "Column::Id",
        on_delete = "Cascade"
    )]
    Parent,
    /// The replies to this comment.
    #[sea_orm(has_many = "Entity", via_rel = "Relation::Parent")]
    Replies,
}

impl Related<super::post::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Post.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Author.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
