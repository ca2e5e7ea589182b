//! `Comment`: a user's comment on a post.

use entity::comment;

use crate::api::blog::post::{Post, PostFilter};
use crate::api::blog::user::{User, UserFilter};

crate::engine::declare::row_type! {
    /// A user's comment on a post.
    Comment on comment {
        /// The text of the comment.
        body: &str, filter StringFilter "On the text.";
        /// When the comment was written.
        created_at: crate::engine::datetime::UtcDateTime,
            order "By creation time.", filter DateTimeFilter "On the creation time.";
    }
    order_by_id "By id, that is by creation order.";
    // A comment shows to whoever sees its post.
    visible_with post;
    one {
        /// The post the comment is on.
        post: Post = comment::Relation::Post,
            id_filter "On the global id of the post commented on.",
            filter "The post commented on matches.";
        /// The user who wrote the comment.
        author: User = comment::Relation::Author,
            id_filter "On the global id of the author.", filter "The author matches.";
        /// The comment this one replies to, or null for a top-level comment.
        parent: Comment or null = comment::Relation::Parent,
            id_filter "On the global id of the comment replied to (`{isNull: true}`: top-level comments only).",
            filter "The comment replied to matches.";
    }
    many {
        /// The replies to the comment.
        replies: Comment = comment::Relation::Replies,
            filter "At least one reply to the comment matches.";
    }
}
