//! `Course`: taken by students.

use entity::{course, student};

use crate::api::enrollment::EnrollmentFields;
use crate::api::enrollment::student::{Student, StudentFilter, StudentOrder};
use crate::engine::relation::Declared;

crate::engine::declare::row_type! {
    /// A course, taken by students.
    Course on course {
        /// The course's name, unique among courses.
        name: &str, order "By name.", filter StringFilter "On the name.";
    }
    many {
        /// The students who take the course; each edge tells when they enrolled.
        students: Student = Declared::related::<course::Entity, student::Entity>(),
            edge EnrollmentFields,
            filter "At least one student who takes the course matches (for example `{students: {id: {eq: \"...\"}}}`: the courses a given student takes).";
    }
}
