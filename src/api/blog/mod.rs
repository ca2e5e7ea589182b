//! The blog domain: users, their one profile, their posts and comments.

pub mod comment;
pub mod post;
pub mod profile;
pub mod user;
pub mod writes;
