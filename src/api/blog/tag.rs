//! `Tag`: a label on posts, named uniquely ignoring case.

use std::collections::HashSet;

use entity::{post, post_tag, tag};
use sea_orm::sea_query::{Expr, Func, OnConflict};
use sea_orm::{ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QuerySelect};

use crate::api::blog::post::{Post, PostFilter, PostOrder};
use crate::api::validate;
use crate::engine::relation::Declared;
use crate::error::{ApiError, ApiResult};

crate::engine::declare::row_type! {
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

/// The longest tag name, in characters.
pub const MAX_TAG: usize = 50;
/// The most tags one post carries.
pub const MAX_TAGS: usize = 20;

/// The tag names of a write's `tags`: trimmed, each 1 to 50 characters, at most 20
/// once those equal ignoring case are taken as one (the first spelling kept).
pub fn tag_names(names: &[String]) -> ApiResult<Vec<String>> {
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    for name in names {
        let name = validate::required_text("tags", name, MAX_TAG)?;
        if seen.insert(name.to_lowercase()) {
            kept.push(name);
        }
    }
    if kept.len() > MAX_TAGS {
        return Err(ApiError::invalid(
            "tags",
            format!(
                "a post carries at most {MAX_TAGS} tags (got {})",
                kept.len()
            ),
        ));
    }
    Ok(kept)
}

/// The ids of the tags named `names` (ignoring case), created where missing. Two
/// writes creating the same tag at once both find the one tag.
pub async fn tag_ids(db: &impl ConnectionTrait, names: &[String]) -> ApiResult<Vec<i32>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let rows = names.iter().map(|name| tag::ActiveModel {
        name: sea_orm::Set(name.clone()),
        ..Default::default()
    });
    tag::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::new()
                .do_nothing_on([tag::Column::Id])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let lowered = names
        .iter()
        .map(|name| Func::lower(Expr::val(name.as_str())));
    Ok(tag::Entity::find()
        .select_only()
        .column(tag::Column::Id)
        .filter(Func::lower(Expr::col(tag::Column::Name)).is_in(lowered))
        .into_tuple()
        .all(db)
        .await?)
}

/// Makes `tags` the tags of `post`, in place of those it had.
pub async fn set_tags(db: &impl ConnectionTrait, post: i32, tags: &[i32]) -> ApiResult<()> {
    post_tag::Entity::delete_many()
        .filter(Expr::col(post_tag::Column::PostId).eq(post))
        .exec(db)
        .await?;
    add_tags(db, post, tags).await
}

/// Adds `tags` to those of `post`, which has none of them yet.
pub async fn add_tags(db: &impl ConnectionTrait, post: i32, tags: &[i32]) -> ApiResult<()> {
    if tags.is_empty() {
        return Ok(());
    }
    let rows = tags.iter().map(|&tag_id| post_tag::ActiveModel {
        post_id: sea_orm::Set(post),
        tag_id: sea_orm::Set(tag_id),
    });
    post_tag::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}
