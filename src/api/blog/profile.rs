//! `Profile`: what a user says about themselves; at most one per user.

use entity::profile;

use crate::api::blog::user::User;

crate::engine::declare::row_type! {
    /// What a user says about themselves; at most one per user.
    Profile on profile {
        /// The user's own words about themselves.
        bio: &str;
    }
    one {
        /// The user the profile belongs to.
        user: User = profile::Relation::User;
    }
}
