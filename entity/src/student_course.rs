//! `student_course`: the association of students and courses (many-to-many).

use sea_orm::entity::prelude::*;

/// A row of `student_course`: one student enrolled in one course.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "student_course")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub student_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub course_id: i32,
    pub enrolled_at: DateTimeUtc,
}

/// The two sides of an enrollment.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The enrolled student.
    #[sea_orm(
        belongs_to = "super::student::Entity",
        from = "Column::StudentId",
        to = "super::student::Column::Id",
        on_delete = "Cascade"
    )]
    Student,
    /// The course enrolled in.
    #[sea_orm(
        belongs_to = "super::course::Entity",
        from = "Column::CourseId",
        to = "super::course::Column::Id",
        on_delete = "Cascade"
    )]
    Course,
}

impl Related<super::student::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Student.def()
    }
}

impl Related<super::course::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Course.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
