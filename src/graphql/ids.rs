//! Relay global ids: the standard base64 of `"<TypeName>:<databaseId>"`.

use async_graphql::ID;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{ApiError, ApiResult};

/// The global id of the row `id` of GraphQL type `type_name`.
pub fn encode(type_name: &str, id: i32) -> ID {
    ID(STANDARD.encode(format!("{type_name}:{id}")))
}

/// Splits a global id into its type name and database id.
pub fn decode(id: &str) -> ApiResult<(String, i32)> {
    let malformed = || ApiError::bad_input(format!("`{}` is not a valid id", shorten(id)));
    let bytes = STANDARD.decode(id).map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    let (type_name, key) = text.split_once(':').ok_or_else(malformed)?;
    let key: i32 = key.parse().map_err(|_| malformed())?;
    if type_name.is_empty() || key < 1 {
        return Err(malformed());
    }
    Ok((type_name.to_owned(), key))
}

/// The database id in `id`, which must be a global id of type `expected`.
pub fn decode_as(id: &str, expected: &str) -> ApiResult<i32> {
    let (type_name, key) = decode(id)?;
    if type_name != expected {
        return Err(ApiError::bad_input(format!(
            "`{}` is the id of a {type_name}, not of a {expected}",
            shorten(id)
        )));
    }
    Ok(key)
}

/// At most 64 characters of client input, for error messages.
fn shorten(input: &str) -> String {
    match input.char_indices().nth(64) {
        Some((end, _)) => format!("{}…", &input[..end]),
        None => input.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_777_is_the_contracts_example() {
        assert_eq!(encode("User", 777).0, "VXNlcjo3Nzc=");
        assert_eq!(decode("VXNlcjo3Nzc=").unwrap(), ("User".to_owned(), 777));
    }

    #[test]
    fn ids_of_another_type_or_malformed_are_refused() {
        assert!(decode_as(&encode("Post", 1).0, "User").is_err());
        for bad in ["", "%%%", "VXNlcg==", "VXNlcjp4", "VXNlcjotMQ==", "OjE="] {
            assert!(decode(bad).is_err(), "{bad} should be refused");
        }
    }
}
