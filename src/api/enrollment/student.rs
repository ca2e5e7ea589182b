//! `Student`: takes courses.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use entity::{course, student, student_course};

use crate::api::enrollment::EnrollmentFields;
use crate::api::enrollment::course::{Course, CourseFilter, CourseOrder};
use crate::engine::connection::{Connection, related};
use crate::engine::filter::{Conditions, IdFilter, IntFilter, StringFilter};
use crate::engine::ids;
use crate::engine::lean::{Leaf, Leaves};
use crate::engine::listing::{FilterInput, Link, ListArgs, Listed, Scope, Table};
use crate::engine::loaders::ToMany;
use crate::engine::pagination::{PageRequest, SortField, SortKind};
use crate::error::ApiResult;

/// A student, enrolled in courses.
#[derive(Clone, Debug)]
pub struct Student(student::Model);

impl Table for Student {
    type Entity = student::Entity;
    const NAME: &'static str = "Student";

    const READ_BY: &'static [(&'static str, &'static str)] = &[("name", "name")];

    fn from_model(model: student::Model) -> Self {
        Self(model)
    }

    fn model(&self) -> &student::Model {
        &self.0
    }

    fn id_column() -> student::Column {
        student::Column::Id
    }
}

impl Listed for Student {
    type Field = StudentOrderField;
    type Order = StudentOrder;
    type Filter = StudentFilter;

    fn column(field: StudentOrderField) -> student::Column {
        match field {
            StudentOrderField::Id => student::Column::Id,
            StudentOrderField::Name => student::Column::Name,
        }
    }
}

crate::order_term!(StudentOrder, StudentOrderField);

/// The fields students can be ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum StudentOrderField {
    /// By id.
    Id,
    /// By name.
    Name,
}

impl SortField for StudentOrderField {
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

/// Conditions on students; all the given conditions must hold.
#[derive(InputObject, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct StudentFilter {
    /// On the global id.
    pub id: Option<IdFilter>,
    /// On the database id.
    pub database_id: Option<IntFilter>,
    /// On the name.
    pub name: Option<StringFilter>,
    /// The student takes at least one course that matches.
    pub courses: Option<Box<CourseFilter>>,
    /// Every one of these filters holds.
    pub and: Option<Vec<StudentFilter>>,
    /// At least one of these filters holds.
    pub or: Option<Vec<StudentFilter>>,
    /// This filter does not hold.
    pub not: Option<Box<StudentFilter>>,
}

impl FilterInput for StudentFilter {
    fn condition(&self, scope: &Scope) -> ApiResult<sea_orm::Condition> {
        let mut all = Conditions::new(scope);
        all.id(&self.id, student::Column::Id, Student::NAME)?;
        all.int(&self.database_id, student::Column::Id)?;
        all.text(&self.name, student::Column::Name)?;
        all.related(&self.courses, CoursesOfStudent::link())?;
        all.combine(&self.and, &self.or, &self.not)?;
        Ok(all.finish())
    }
}

/// The courses a student takes.
pub struct CoursesOfStudent;

impl ToMany for CoursesOfStudent {
    type Target = Course;
    type Edge = EnrollmentFields;

    fn link() -> Link {
        Link::junction::<course::Entity, student_course::Entity>(
            student_course::Column::StudentId,
            student_course::Column::CourseId,
        )
    }
}

/// Read straight from the row in written answers; as the resolvers below answer.
impl Leaves for Student {
    fn leaf(&self, field: &str) -> Option<Leaf<'_>> {
        Leaf::of_row(Self::NAME, self.0.id, field, |field| {
            (field == "name").then_some(Leaf::Text(&self.0.name))
        })
    }
}

/// A student, enrolled in courses.
#[Object]
impl Student {
    /// The global id (Relay Global Object Identification).
    pub async fn id(&self) -> ID {
        ids::encode(Self::NAME, self.0.id)
    }

    /// The key of the student's row in the database.
    async fn database_id(&self) -> i32 {
        self.0.id
    }

    /// The student's name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The courses the student takes; each edge tells when they enrolled.
    #[allow(clippy::too_many_arguments)]
    async fn courses(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page forwards: at most this many courses, from the start or `after`.")]
        first: Option<i32>,
        #[graphql(desc = "Start after the course with this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backwards: at most this many courses, up to the end or `before`.")]
        last: Option<i32>,
        #[graphql(desc = "End before the course with this cursor.")] before: Option<String>,
        #[graphql(desc = "The order, most significant first; ties are broken by id.")]
        order_by: Option<Vec<CourseOrder>>,
        #[graphql(desc = "Only the courses that match.")] filter: Option<Box<CourseFilter>>,
    ) -> ApiResult<Connection<Course, EnrollmentFields>> {
        let page = PageRequest {
            first,
            after,
            last,
            before,
        };
        related::<CoursesOfStudent>(ctx, self.0.id, ListArgs::new(ctx, page, order_by, filter)?)
            .await
    }
}
