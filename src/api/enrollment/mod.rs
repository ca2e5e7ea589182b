//! Course enrollment: students and courses, many-to-many through `student_course`.

pub mod course;
pub mod enrolled;
pub mod student;
pub mod writes;

use async_graphql::SimpleObject;
use sea_orm::{DbErr, QueryResult};

use crate::engine::datetime::UtcDateTime;
use crate::engine::loaders::EdgeData;

/// What an edge between a student and a course carries: the enrollment.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "EnrollmentFields")]
pub struct EnrollmentFields {
    /// When the student enrolled in the course.
    pub enrolled_at: UtcDateTime,
}

impl EdgeData for EnrollmentFields {
    const PREFIX: &'static str = "Enrolled";
    const COLUMNS: &'static [&'static str] = &["enrolled_at"];

    fn read(row: &QueryResult) -> Result<Self, DbErr> {
        Ok(Self {
            enrolled_at: UtcDateTime(row.try_get("", "j_enrolled_at")?),
        })
    }
}
