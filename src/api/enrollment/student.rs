//! `Student`: takes courses.

use entity::{course, student};

use crate::api::enrollment::EnrollmentFields;
use crate::api::enrollment::course::{Course, CourseFilter, CourseOrder};
use crate::engine::relation::Declared;

crate::engine::declare::row_type! {
    /// A student, enrolled in courses.
    Student on student {
        /// The student's name.
        name: &str, order "By name.", filter StringFilter "On the name.";
    }
    many {
        /// The courses the student takes; each edge tells when they enrolled.
        courses: Course = Declared::related::<student::Entity, course::Entity>(),
            edge EnrollmentFields,
            filter "The student takes at least one course that matches.";
    }
}
