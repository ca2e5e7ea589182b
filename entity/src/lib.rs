//! SeaORM entities of relgql: one module per table, relations declared on both sides.

pub mod comment;
pub mod course;
pub mod post;
pub mod profile;
pub mod student;
pub mod student_course;
pub mod user;
