//! The blog domain: users, their one profile, their posts, the posts' tags, and
//! comments.

pub mod comment;
pub mod post;
pub mod profile;
pub mod tag;
pub mod user;
pub mod writes;
