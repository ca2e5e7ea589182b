//! `Enrollment`: one student enrolled in one course, as `enroll` and `unenroll` return it.

use async_graphql::{Context, Object};
use entity::student_course;

use crate::api::enrollment::course::Course;
use crate::api::enrollment::student::Student;
use crate::engine::datetime::UtcDateTime;
use crate::engine::loaders::ById;
use crate::engine::request::find_required;
use crate::error::ApiResult;

/// One student enrolled in one course.
pub struct Enrollment(pub student_course::Model);

/// One student enrolled in one course.
#[Object]
impl Enrollment {
    /// The enrolled student.
    async fn student(&self, ctx: &Context<'_>) -> ApiResult<Student> {
        find_required::<ById<Student>>(ctx, self.0.student_id).await
    }

    /// The course enrolled in.
    async fn course(&self, ctx: &Context<'_>) -> ApiResult<Course> {
        find_required::<ById<Course>>(ctx, self.0.course_id).await
    }

    /// When the student enrolled.
    async fn enrolled_at(&self) -> UtcDateTime {
        UtcDateTime(self.0.enrolled_at)
    }
}
