//! `Enrollment`: one student enrolled in one course, as `enroll` and `unenroll` return
//! it. Its global id carries both keys of its `student_course` row, and `node(id:)`
//! finds it (see `crate::api::node`).

use std::collections::HashMap;

use async_graphql::{Context, ID, Object};
use entity::student_course;
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{EntityTrait as _, QueryFilter as _};

use crate::api::enrollment::course::Course;
use crate::api::enrollment::student::Student;
use crate::engine::datetime::UtcDateTime;
use crate::engine::ids;
use crate::engine::loaders::ById;
use crate::engine::request::{find_required, request_db};
use crate::error::ApiResult;

/// One student enrolled in one course.
#[derive(Clone)]
pub struct Enrollment(pub student_course::Model);

impl Enrollment {
    /// The GraphQL type's name, in its global ids.
    pub const NAME: &'static str = "Enrollment";

    /// Its (student, course) key.
    pub fn key(&self) -> (i32, i32) {
        (self.0.student_id, self.0.course_id)
    }

    /// The enrollments of these (student, course) pairs that exist, by pair, read in
    /// one statement however many are asked for.
    pub async fn find_all(
        ctx: &Context<'_>,
        pairs: &[(i32, i32)],
    ) -> ApiResult<HashMap<(i32, i32), Enrollment>> {
        if pairs.is_empty() {
            return Ok(HashMap::new());
        }
        let columns = [
            Expr::col(student_course::Column::StudentId),
            Expr::col(student_course::Column::CourseId),
        ];
        let rows = student_course::Entity::find()
            .filter(Expr::tuple(columns).in_tuples(pairs.iter().copied()))
            .all(&request_db(ctx)?)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let enrollment = Enrollment(row);
                (enrollment.key(), enrollment)
            })
            .collect())
    }
}

/// One student enrolled in one course.
#[Object]
impl Enrollment {
    /// The global id (Relay Global Object Identification).
    pub async fn id(&self) -> ID {
        ids::encode_pair(Self::NAME, self.key())
    }

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
