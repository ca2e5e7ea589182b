//! `Tag`: a label on posts, named uniquely ignoring case.

use entity::{post, tag};

use crate::api::blog::post::{Post, PostFilter, PostOrder};
use crate::engine::relation::Declared;

crate::row_type! {
    /// A label on posts, named uniquely ignoring case.
    Tag on tag {
        /// The tag's name.
        name: &str, order "By name.", filter StringFilter "On the name.";
    }
    many {
        /// The posts with the tag.
        posts: Post = Declared::related::<tag::Entity, post::Entity>(),
            filter "At least one post with the tag matches.";
    }
}
