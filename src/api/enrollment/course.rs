//! `Course`: taken by students.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use entity::{course, student, student_course};

use crate::api::enrollment::EnrollmentFields;
use crate::api::enrollment::student::{Student, StudentFilter, StudentOrder};
use crate::engine::connection::{Connection, related};
use crate::engine::filter::{Conditions, IdFilter, IntFilter, StringFilter};
use crate::engine::ids;
use crate::engine::lean::{Leaf, Leaves};
use crate::engine::listing::{FilterInput, Link, ListArgs, Listed, Scope, Table};
use crate::engine::loaders::ToMany;
use crate::engine::pagination::{PageRequest, SortField, SortKind};
use crate::error::ApiResult;

/// A course, taken by students.
#[derive(Clone, Debug)]
pub struct Course(course::Model);

impl Table for Course {
    type Entity = course::Entity;
    const NAME: &'static str = "Course";

    const READ_BY: &'static [(&'static str, &'static str)] = &[("name", "name")];

    fn from_model(model: course::Model) -> Self {
        Self(model)
    }

    fn model(&self) -> &course::Model {
        &self.0
    }

    fn id_column() -> course::Column {
        course::Column::Id
    }
}

impl Listed for Course {
    type Field = CourseOrderField;
    type Order = CourseOrder;
    type Filter = CourseFilter;

    fn column(field: CourseOrderField) -> course::Column {
        match field {
            CourseOrderField::Id => course::Column::Id,
            CourseOrderField::Name => course::Column::Name,
        }
    }
}

crate::order_term!(CourseOrder, CourseOrderField);

/// The fields courses can be ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CourseOrderField {
    /// By id.
    Id,
    /// By name.
    Name,
}

impl SortField for CourseOrderField {
    const ID: Self = Self::Id;

    fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Name => "name",
        }
    }

    fn kind(self) -> SortKind {
        match self {
            Self::Id => SortKind::Int,
            Self::Name => SortKind::Text,
        }
    }
}

/// Conditions on courses; all the given conditions must hold.
#[derive(InputObject, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CourseFilter {
    /// On the global id.
    pub id: Option<IdFilter>,
    /// On the database id.
    pub database_id: Option<IntFilter>,
    /// On the name.
    pub name: Option<StringFilter>,
    /// At least one student who takes the course matches (for example
    /// `{students: {id: {eq: "..."}}}`: the courses a given student takes).
    pub students: Option<Box<StudentFilter>>,
    /// Every one of these filters holds.
    pub and: Option<Vec<CourseFilter>>,
    /// At least one of these filters holds.
    pub or: Option<Vec<CourseFilter>>,
    /// This filter does not hold.
    pub not: Option<Box<CourseFilter>>,
}

impl FilterInput for CourseFilter {
    fn condition(&self, scope: &Scope) -> ApiResult<sea_orm::Condition> {
        let mut all = Conditions::new(scope);
        all.id(&self.id, course::Column::Id, Course::NAME)?;
        all.int(&self.database_id, course::Column::Id)?;
        all.text(&self.name, course::Column::Name)?;
        all.related(&self.students, StudentsInCourse::link())?;
        all.combine(&self.and, &self.or, &self.not)?;
        Ok(all.finish())
    }
}

/// The students who take a course.
pub struct StudentsInCourse;

impl ToMany for StudentsInCourse {
    type Target = Student;
    type Edge = EnrollmentFields;

    fn link() -> Link {
        Link::junction::<student::Entity, student_course::Entity>(
            student_course::Column::CourseId,
            student_course::Column::StudentId,
        )
    }
}

/// Read straight from the row in written answers; as the resolvers below answer.
impl Leaves for Course {
    fn leaf(&self, field: &str) -> Option<Leaf<'_>> {
        Leaf::of_row(Self::NAME, self.0.id, field, |field| {
            (field == "name").then_some(Leaf::Text(&self.0.name))
        })
    }
}

/// A course, taken by students.
#[Object]
impl Course {
    /// The global id (Relay Global Object Identification).
    pub async fn id(&self) -> ID {
        ids::encode(Self::NAME, self.0.id)
    }

    /// The key of the course's row in the database.
    async fn database_id(&self) -> i32 {
        self.0.id
    }

    /// The course's name, unique among courses.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The students who take the course; each edge tells when they enrolled.
    #[allow(clippy::too_many_arguments)]
    async fn students(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page forwards: at most this many students, from the start or `after`.")]
        first: Option<i32>,
        #[graphql(desc = "Start after the student with this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backwards: at most this many students, up to the end or `before`.")]
        last: Option<i32>,
        #[graphql(desc = "End before the student with this cursor.")] before: Option<String>,
        #[graphql(desc = "The order, most significant first; ties are broken by id.")]
        order_by: Option<Vec<StudentOrder>>,
        #[graphql(desc = "Only the students who match.")] filter: Option<Box<StudentFilter>>,
    ) -> ApiResult<Connection<Student, EnrollmentFields>> {
        let page = PageRequest {
            first,
            after,
            last,
            before,
        };
        related::<StudentsInCourse>(ctx, self.0.id, ListArgs::new(ctx, page, order_by, filter)?)
            .await
    }
}
