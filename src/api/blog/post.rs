//! `Post`: written by a user, commented on by users.

use entity::{post, tag};

use crate::api::blog::comment::{Comment, CommentFilter, CommentOrder};
use crate::api::blog::tag::{Tag, TagFilter, TagOrder};
use crate::api::blog::user::{User, UserFilter};
use crate::engine::relation::Declared;

crate::engine::declare::row_type! {
    /// A blog post, written by a user and commented on by users.
    Post on post {
        /// The title.
        title: &str, order "By title.", filter StringFilter "On the title.";
        /// The text of the post.
        body: &str, filter StringFilter "On the body.";
        /// Whether the post is published (visible to readers) or a draft.
        published: bool, filter BooleanFilter "On whether the post is published.";
        /// When the post was written.
        created_at: crate::engine::datetime::UtcDateTime,
            order "By creation time.", filter DateTimeFilter "On the creation time.";
    }
    order_by_id "By id, that is by creation order.";
    // A draft shows only to its author (and to admins).
    visible_when published or author;
    one {
        /// The user who wrote the post.
        author: User = post::Relation::Author,
            id_filter "On the global id of the author.", filter "The author matches.";
    }
    many {
        /// The comments on the post.
        comments: Comment = post::Relation::Comments,
            filter "At least one comment on the post matches.";
        /// The post's tags.
        tags: Tag = Declared::related::<post::Entity, tag::Entity>(),
            filter "At least one of the post's tags matches.";
    }
}
