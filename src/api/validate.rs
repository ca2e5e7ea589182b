//! Validation of write inputs, with messages that name the field.

use crate::error::{ApiError, ApiResult};

/// The longest name (users, students, courses), in characters.
pub const MAX_NAME: usize = 100;
/// The longest post title, in characters.
pub const MAX_TITLE: usize = 200;
/// The longest post or comment body, in characters.
pub const MAX_BODY: usize = 50_000;
/// The longest profile bio, in characters.
pub const MAX_BIO: usize = 2_000;
/// The shortest password, in characters.
pub const MIN_PASSWORD: usize = 8;
/// The longest password, in characters (hashing cost is bounded).
pub const MAX_PASSWORD: usize = 1_000;
/// The longest email address, in characters (RFC 5321).
pub const MAX_EMAIL: usize = 254;

/// `value` trimmed, refused when empty, longer than `max` characters, or with NULs.
pub fn required_text(field: &'static str, value: &str, max: usize) -> ApiResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ApiError::invalid(
            field,
            format!("`{field}` must not be empty"),
        ));
    }
    text(field, trimmed, max)
}

/// `value` as given (it may be empty), refused when longer than `max` characters or with NULs.
pub fn text(field: &'static str, value: &str, max: usize) -> ApiResult<String> {
    if value.contains('\0') {
        return Err(ApiError::invalid(
            field,
            format!("`{field}` must not contain NUL characters"),
        ));
    }
    let length = value.chars().count();
    if length > max {
        return Err(ApiError::invalid(
            field,
            format!("`{field}` may be at most {max} characters long (it has {length})"),
        ));
    }
    Ok(value.to_owned())
}

/// An email address, trimmed and lower-cased, with one `@` between a local part
/// and a dotted domain, and no spaces.
pub fn email(value: &str) -> ApiResult<String> {
    let email = value.trim().to_lowercase();
    let invalid = || {
        ApiError::invalid(
            "email",
            format!("`{}` is not a valid email address", value.trim()),
        )
    };
    if email.chars().count() > MAX_EMAIL
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let labels_ok = domain.split('.').all(|label| !label.is_empty());
    if local.is_empty() || domain.contains('@') || !domain.contains('.') || !labels_ok {
        return Err(invalid());
    }
    Ok(email)
}

/// A password of at least [`MIN_PASSWORD`] characters (kept as given, never trimmed).
pub fn password(value: &str) -> ApiResult<String> {
    let length = value.chars().count();
    if length < MIN_PASSWORD {
        return Err(ApiError::invalid(
            "password",
            format!("`password` must be at least {MIN_PASSWORD} characters long"),
        ));
    }
    if length > MAX_PASSWORD {
        return Err(ApiError::invalid(
            "password",
            format!("`password` may be at most {MAX_PASSWORD} characters long"),
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(email("  Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
            "a@example..com",
        ] {
            assert!(email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(required_text("title", "  Hi  ", 10).unwrap(), "Hi");
        assert!(required_text("title", "   ", 10).is_err());
        assert!(required_text("title", "12345678901", 10).is_err());
        assert!(text("bio", "a\0b", 10).is_err());
        assert_eq!(text("bio", "", 10).unwrap(), "");
    }
}
