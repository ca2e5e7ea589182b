//! `students`: enrolled in courses through `student_course`.

use sea_orm::entity::prelude::*;

model! {
    /// A row of `students`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "students")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
    }
}

/// What a student is related to.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The student's enrollments.
    #[sea_orm(has_many = "super::student_course::Entity")]
    Enrollments,
}

impl Related<super::student_course::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Enrollments.def()
    }
}

/// A student takes courses through `student_course`.
impl Related<super::course::Entity> for Entity {
    fn to() -> RelationDef {
        super::student_course::Relation::Course.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::student_course::Relation::Student.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
