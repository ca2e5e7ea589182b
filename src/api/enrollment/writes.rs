//! Writing the course catalogue: students, courses and enrollments (admins only).

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{SubsecRound, Utc};
use entity::{course, student, student_course};
use sea_orm::{ActiveModelTrait, EntityTrait, ModelTrait, Set, SqlErr};

use crate::api::enrollment::course::Course;
use crate::api::enrollment::enrolled::Enrollment;
use crate::api::enrollment::student::Student;
use crate::api::validate::{self, MAX_NAME};
use crate::api::viewer::admin;
use crate::engine::ids;
use crate::engine::listing::Table;
use crate::engine::request::{find_row, request_db};
use crate::error::{ApiError, ApiResult};

/// A new student.
#[derive(InputObject)]
pub struct CreateStudentInput {
    /// The student's name.
    pub name: String,
}

/// A student's new name.
#[derive(InputObject)]
pub struct UpdateStudentInput {
    /// The student's global id.
    pub id: ID,
    /// The new name.
    pub name: String,
}

/// The student to delete.
#[derive(InputObject)]
pub struct DeleteStudentInput {
    /// The student's global id.
    pub id: ID,
}

/// A new course.
#[derive(InputObject)]
pub struct CreateCourseInput {
    /// The course's name, unique among courses.
    pub name: String,
}

/// A course's new name.
#[derive(InputObject)]
pub struct UpdateCourseInput {
    /// The course's global id.
    pub id: ID,
    /// The new name, unique among courses.
    pub name: String,
}

/// The course to delete.
#[derive(InputObject)]
pub struct DeleteCourseInput {
    /// The course's global id.
    pub id: ID,
}

/// A student and a course, to enroll or unenroll.
#[derive(InputObject)]
pub struct EnrollInput {
    /// The student's global id.
    pub student_id: ID,
    /// The course's global id.
    pub course_id: ID,
}

/// A student and a course, to unenroll.
#[derive(InputObject)]
pub struct UnenrollInput {
    /// The student's global id.
    pub student_id: ID,
    /// The course's global id.
    pub course_id: ID,
}

const COURSE_NAME_TAKEN: &str = "a course with this name already exists";

/// Writing the course catalogue: students, courses and enrollments (admins only).
#[derive(Default)]
pub struct EnrollmentMutation;

/// Writing the course catalogue: students, courses and enrollments (admins only).
#[Object]
impl EnrollmentMutation {
    /// Adds a student.
    async fn create_student(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The student to add.")] input: CreateStudentInput,
    ) -> ApiResult<Student> {
        admin(ctx).await?;
        let row = student::ActiveModel {
            name: Set(validate::required_text("name", &input.name, MAX_NAME)?),
            ..Default::default()
        }
        .insert(&request_db(ctx)?)
        .await?;
        Ok(Student::from_model(row))
    }

    /// Renames a student.
    async fn update_student(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The student and the new name.")] input: UpdateStudentInput,
    ) -> ApiResult<Student> {
        admin(ctx).await?;
        let mut row: student::ActiveModel = find_row::<Student>(ctx, &input.id).await?.into();
        row.name = Set(validate::required_text("name", &input.name, MAX_NAME)?);
        Ok(Student::from_model(row.update(&request_db(ctx)?).await?))
    }

    /// Deletes a student and their enrollments. Returns the deleted student's id.
    async fn delete_student(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The student to delete.")] input: DeleteStudentInput,
    ) -> ApiResult<ID> {
        admin(ctx).await?;
        find_row::<Student>(ctx, &input.id)
            .await?
            .delete(&request_db(ctx)?)
            .await?;
        Ok(input.id)
    }

    /// Adds a course.
    async fn create_course(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The course to add.")] input: CreateCourseInput,
    ) -> ApiResult<Course> {
        admin(ctx).await?;
        let row = course::ActiveModel {
            name: Set(validate::required_text("name", &input.name, MAX_NAME)?),
            ..Default::default()
        }
        .insert(&request_db(ctx)?)
        .await
        .map_err(|e| ApiError::unless_unique(e, COURSE_NAME_TAKEN))?;
        Ok(Course::from_model(row))
    }

    /// Renames a course.
    async fn update_course(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The course and the new name.")] input: UpdateCourseInput,
    ) -> ApiResult<Course> {
        admin(ctx).await?;
        let mut row: course::ActiveModel = find_row::<Course>(ctx, &input.id).await?.into();
        row.name = Set(validate::required_text("name", &input.name, MAX_NAME)?);
        let row = row
            .update(&request_db(ctx)?)
            .await
            .map_err(|e| ApiError::unless_unique(e, COURSE_NAME_TAKEN))?;
        Ok(Course::from_model(row))
    }

    /// Deletes a course and its enrollments. Returns the deleted course's id.
    async fn delete_course(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The course to delete.")] input: DeleteCourseInput,
    ) -> ApiResult<ID> {
        admin(ctx).await?;
        find_row::<Course>(ctx, &input.id)
            .await?
            .delete(&request_db(ctx)?)
            .await?;
        Ok(input.id)
    }

    /// Enrolls a student in a course. Enrolling again changes nothing and returns
    /// the existing enrollment.
    async fn enroll(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The student and the course.")] input: EnrollInput,
    ) -> ApiResult<Enrollment> {
        admin(ctx).await?;
        let student = find_row::<Student>(ctx, &input.student_id).await?;
        let course = find_row::<Course>(ctx, &input.course_id).await?;
        let db = request_db(ctx)?;
        let key = (student.id, course.id);
        if let Some(existing) = student_course::Entity::find_by_id(key).one(&db).await? {
            return Ok(Enrollment(existing));
        }
        let row = student_course::ActiveModel {
            student_id: Set(student.id),
            course_id: Set(course.id),
            enrolled_at: Set(Utc::now().trunc_subsecs(6)),
        };
        match student_course::Entity::insert(row)
            .exec_without_returning(&db)
            .await
        {
            Ok(_) => {}
            // Enrolled by a concurrent request in the meantime: that row stands.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(e) if matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) => {
                return Err(ApiError::NotFound(
                    "the student or the course was just deleted".into(),
                ));
            }
            Err(e) => return Err(ApiError::from_database(&e)),
        }
        let row = student_course::Entity::find_by_id(key)
            .one(&db)
            .await?
            .ok_or_else(|| ApiError::NotFound("the enrollment was just removed".into()))?;
        Ok(Enrollment(row))
    }

    /// Unenrolls a student from a course. Returns the removed enrollment;
    /// `NOT_FOUND` if the student was not enrolled.
    async fn unenroll(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The student and the course.")] input: UnenrollInput,
    ) -> ApiResult<Enrollment> {
        admin(ctx).await?;
        let student = ids::decode_as(&input.student_id, Student::NAME)?;
        let course = ids::decode_as(&input.course_id, Course::NAME)?;
        let txn = request_db(ctx)?.begin().await?;
        let found = student_course::Entity::find_by_id((student, course))
            .one(&txn)
            .await?
            .ok_or_else(|| {
                ApiError::NotFound("the student is not enrolled in the course".into())
            })?;
        let deleted = student_course::Entity::delete_by_id((student, course))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        if deleted.rows_affected == 0 {
            return Err(ApiError::NotFound(
                "the student is not enrolled in the course".into(),
            ));
        }
        Ok(Enrollment(found))
    }
}
