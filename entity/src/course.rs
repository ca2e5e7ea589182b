//! `courses`: taken by students through `student_course`.

use sea_orm::entity::prelude::*;

model! {
    /// A row of `courses`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "courses")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub name: String,
    }
}

/// What a course is related to.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The course's enrollments.
    #[sea_orm(has_many = "super::student_course::Entity")]
    Enrollments,
}

impl Related<super::student_course::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Enrollments.def()
    }
}

/// A course is taken by students through `student_course`.
impl Related<super::student::Entity> for Entity {
    fn to() -> RelationDef {
        super::student_course::Relation::Student.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::student_course::Relation::Course.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
