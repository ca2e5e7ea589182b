//! `User`: a person who writes posts and comments.

use entity::user;

use crate::api::blog::comment::{Comment, CommentFilter, CommentOrder};
use crate::api::blog::post::{Post, PostFilter, PostOrder};
use crate::api::blog::profile::Profile;

crate::engine::declare::row_type! {
    /// A person who writes posts and comments.
    User on user {
        /// The name the user goes by.
        name: &str, order "By name.", filter StringFilter "On the name.";
        /// The user's email address: shown to the user and to admins, null to
        /// everyone else.
        email: Option<&str>, owner_only id, order "By email address.", filter StringFilter "On the email address.";
        /// When the user signed up.
        created_at: crate::engine::datetime::UtcDateTime,
            order "By sign-up time.", filter DateTimeFilter "On the sign-up time.";
    }
    order_by_id "By id, that is by sign-up order.";
    hidden [password_hash, role];
    one {
        /// The user's profile, or null if they have none.
        profile: Profile or null = user::Relation::Profile;
    }
    many {
        /// The posts the user wrote.
        posts: Post = user::Relation::Posts,
            filter "The user wrote at least one post that matches.";
        /// The comments the user wrote, on any post.
        comments: Comment = user::Relation::Comments,
            filter "The user wrote at least one comment that matches.";
    }
}

#[cfg(test)]
mod tests {
    use entity::FromRowAt;
    use sea_orm::DbBackend;
    use sea_orm::sea_query::PostgresQueryBuilder;

    use super::User;
    use crate::engine::listing::Table;
    use crate::engine::loaders::ById;
    use crate::engine::loaders::sql::{column_at, rows_by_statement};
    use crate::engine::rules::Reader;

    #[test]
    fn no_statement_behind_the_schema_reads_a_password_hash() {
        let reader = Reader::User(7);
        let lookup = rows_by_statement::<ById<User>>(DbBackend::Postgres, reader, &[7], None)
            .to_string(PostgresQueryBuilder);
        assert!(!lookup.contains("password_hash"), "{lookup}");
        assert!(lookup.contains(r#""t0"."name""#), "{lookup}");
        // Lists, pages and joins leave out what `omitted` names, whatever is asked.
        let hash = entity::column_bits(entity::user::Model::COLUMNS, &["password_hash"]);
        assert_ne!(User::omitted(&|_| true) & hash, 0);
    }

    #[test]
    fn columns_are_found_among_those_a_statement_reads() {
        let hidden = entity::column_bits(entity::user::Model::COLUMNS, &["password_hash"]);
        assert_eq!(column_at::<User>("id", hidden).unwrap(), 0);
        assert_eq!(column_at::<User>("role", 0).unwrap(), 5);
        assert_eq!(column_at::<User>("role", hidden).unwrap(), 4);
        assert!(column_at::<User>("password_hash", hidden).is_err());
    }
}
