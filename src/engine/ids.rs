//! Relay global ids: the standard base64 of `"<TypeName>:<databaseId>"`.

use async_graphql::ID;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{ApiError, ApiResult};

/// The global id of the row `id` of GraphQL type `type_name`. A row type's own
/// ids start from its prefix, worked out at compile time ([`IdPrefix`]).
pub fn encode(type_name: &str, id: i32) -> ID {
    if !IdPrefix::holds(type_name) {
        return ID(STANDARD.encode(format!("{type_name}:{id}")));
    }
    IdPrefix::of(type_name).encode(id)
}

/// What the global ids of one GraphQL type share, worked out once: the base64 of
/// `"<TypeName>:"` as far as it fills whole groups of three bytes (for `Comment:`,
/// the eight characters of its first six bytes), and the bytes left over, which
/// each id encodes with its digits.
#[derive(Debug)]
pub struct IdPrefix {
    encoded: [u8; ENCODED_PREFIX_CAPACITY],
    encoded_len: usize,
    rest: [u8; 2],
    rest_len: usize,
}

/// Room for the base64 of a type name of up to 49 bytes, with its colon.
const ENCODED_PREFIX_CAPACITY: usize = 64;

impl IdPrefix {
    /// Whether the prefix of the ids of `type_name` fits an `IdPrefix`.
    const fn holds(type_name: &str) -> bool {
        (type_name.len() + 1) / 3 * 4 <= ENCODED_PREFIX_CAPACITY
    }

    /// The prefix of the ids of `type_name`; at compile time, for a type's `static`.
    pub const fn of(type_name: &str) -> Self {
        assert!(Self::holds(type_name), "type name too long");
        let name = type_name.as_bytes();
        let plain_len = name.len() + 1;
        let whole = plain_len / 3 * 3;
        let mut encoded = [0; ENCODED_PREFIX_CAPACITY];
        let mut at = 0;
        while at < whole {
            let quad = base64_quad(
                (prefix_byte(name, at) as u32) << 16
                    | (prefix_byte(name, at + 1) as u32) << 8
                    | prefix_byte(name, at + 2) as u32,
            );
            let to = at / 3 * 4;
            encoded[to] = quad[0];
            encoded[to + 1] = quad[1];
            encoded[to + 2] = quad[2];
            encoded[to + 3] = quad[3];
            at += 3;
        }
        let mut rest = [0; 2];
        while at < plain_len {
            rest[at - whole] = prefix_byte(name, at);
            at += 1;
        }
        Self {
            encoded,
            encoded_len: whole / 3 * 4,
            rest,
            rest_len: plain_len - whole,
        }
    }

    /// The global id of the row `id` of this prefix's type.
    pub fn encode(&self, id: i32) -> ID {
        let mut encoded = Vec::with_capacity(self.encoded_len + REST_AND_KEY.div_ceil(3) * 4);
        self.push(&mut encoded, id);
        ID(String::from_utf8(encoded).expect("base64 is ASCII"))
    }

    /// Appends the base64 of the global id of the row `id` to `out`: the prefix as
    /// it is, then the bytes left over from it with the key's digits.
    fn push(&self, out: &mut Vec<u8>, id: i32) {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(id).as_bytes();
        let mut plain = [0u8; REST_AND_KEY];
        let len = self.rest_len + digits.len();
        plain[..self.rest_len].copy_from_slice(&self.rest[..self.rest_len]);
        plain[self.rest_len..len].copy_from_slice(digits);
        out.extend_from_slice(&self.encoded[..self.encoded_len]);
        push_base64(out, &plain[..len]);
    }
}

/// The most bytes an id encodes after its prefix: two left over from the prefix,
/// then the 11 of an `i32`'s digits.
const REST_AND_KEY: usize = 2 + 11;

/// Byte `at` of `"<name>:"`.
const fn prefix_byte(name: &[u8], at: usize) -> u8 {
    if at < name.len() { name[at] } else { b':' }
}

/// Writes the global id of the row `id` of the type of `prefix` as a JSON string
/// (base64 needs no escapes), for answers written as they resolve.
pub fn write_json(out: &mut Vec<u8>, prefix: &IdPrefix, id: i32) {
    out.push(b'"');
    prefix.push(out, id);
    out.push(b'"');
}

/// The standard base64 alphabet.
const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends the standard base64 of `plain`, padded, to `out`. Every row of an
/// answer shows its id, a dozen bytes to encode: the base64 crate's encoder, made
/// for long inputs, spent more on setting out than on the bytes (and its output
/// had to be sized and zeroed first).
fn push_base64(out: &mut Vec<u8>, plain: &[u8]) {
    let mut triples = plain.chunks_exact(3);
    let last = triples.remainder();
    out.reserve(plain.len().div_ceil(3) * 4);
    for triple in &mut triples {
        let n = u32::from(triple[0]) << 16 | u32::from(triple[1]) << 8 | u32::from(triple[2]);
        out.extend_from_slice(&base64_quad(n));
    }
    match *last {
        [a] => {
            let [c0, c1, ..] = base64_quad(u32::from(a) << 16);
            out.extend_from_slice(&[c0, c1, b'=', b'=']);
        }
        [a, b] => {
            let [c0, c1, c2, _] = base64_quad(u32::from(a) << 16 | u32::from(b) << 8);
            out.extend_from_slice(&[c0, c1, c2, b'=']);
        }
        _ => {}
    }
}

/// The four base64 characters of the 24 bits of `n`.
const fn base64_quad(n: u32) -> [u8; 4] {
    [
        BASE64[(n >> 18) as usize & 63],
        BASE64[(n >> 12) as usize & 63],
        BASE64[(n >> 6) as usize & 63],
        BASE64[n as usize & 63],
    ]
}

/// The global id of the row of `type_name` keyed by two database ids, as an
/// association row is: the base64 of `"<TypeName>:<a>:<b>"`.
pub fn encode_pair(type_name: &str, (a, b): (i32, i32)) -> ID {
    ID(STANDARD.encode(format!("{type_name}:{a}:{b}")))
}

/// The two database ids in `id` when it is the global id of a row of `expected`
/// keyed by two (see [`encode_pair`]); `None` when it is any other id, or none.
pub fn decode_pair(id: &str, expected: &str) -> Option<(i32, i32)> {
    let text = String::from_utf8(STANDARD.decode(id).ok()?).ok()?;
    let (a, b) = text
        .strip_prefix(expected)?
        .strip_prefix(':')?
        .split_once(':')?;
    let key = |digits: &str| {
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse::<i32>().ok())
            .flatten()
            .filter(|&key| key >= 1)
    };
    Some((key(a)?, key(b)?))
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
    fn pair_ids_round_trip_and_nothing_else_passes_for_one() {
        let id = encode_pair("Enrollment", (3, 41)).0;
        assert_eq!(id, STANDARD.encode("Enrollment:3:41"));
        assert_eq!(decode_pair(&id, "Enrollment"), Some((3, 41)));
        assert_eq!(decode_pair(&id, "Enrollments"), None);
        assert_eq!(decode_pair(&id, "Enroll"), None);
        let plain = |text: &str| decode_pair(&STANDARD.encode(text), "Enrollment");
        for text in [
            "Enrollment:3",
            "Enrollment:3:",
            "Enrollment::4",
            "Enrollment:0:4",
            "Enrollment:3:-4",
            "Enrollment:+3:4",
            "Enrollment:3:4:5",
            "Enrollment:3:99999999999",
            "Student:3:4",
        ] {
            assert_eq!(plain(text), None, "{text}");
        }
        assert_eq!(decode_pair("not base64!", "Enrollment"), None);
        // A pair id is no single-key id.
        assert!(decode(&id).is_err());
    }

    #[test]
    fn user_777_is_the_contracts_example() {
        assert_eq!(encode("User", 777).0, "VXNlcjo3Nzc=");
        assert_eq!(decode("VXNlcjo3Nzc=").unwrap(), ("User".to_owned(), 777));
    }

    #[test]
    fn ids_round_trip_whatever_their_length() {
        // Names of up to 49 bytes are encoded from their prefix, longer ones whole.
        let longer: Vec<String> = [48, 49, 50, 51, 80].map(|len| "L".repeat(len)).into();
        let names = ["A", "User", "Comment", "Enrollment"]
            .into_iter()
            .chain(longer.iter().map(String::as_str));
        for type_name in names {
            for id in [1, 9, 10, 99, 100, 12_345, i32::MAX] {
                let encoded = encode(type_name, id).0;
                assert_eq!(encoded, STANDARD.encode(format!("{type_name}:{id}")));
                assert_eq!(decode(&encoded).unwrap(), (type_name.to_owned(), id));
            }
        }
    }

    #[test]
    fn written_ids_are_encoded_ids_whatever_the_name_s_length() {
        let names: Vec<String> = (1..=49)
            .map(|len| "Ab".repeat(len)[..len].to_owned())
            .collect();
        for type_name in names.iter().map(String::as_str).chain(["User", "Comment"]) {
            let prefix = IdPrefix::of(type_name);
            for id in [1, 9, 10, 99, 100, 12_345, i32::MAX, -1, i32::MIN] {
                let mut written = b"[".to_vec();
                write_json(&mut written, &prefix, id);
                let encoded = STANDARD.encode(format!("{type_name}:{id}"));
                assert_eq!(
                    written,
                    format!("[\"{encoded}\"").into_bytes(),
                    "{type_name}:{id}"
                );
            }
        }
    }

    #[test]
    fn base64_is_the_standard_padded_one_for_every_remainder() {
        let bytes: Vec<u8> = (0..=255).rev().collect();
        for len in 0..=70 {
            for plain in [&bytes[..len], &bytes[256 - len..]] {
                let mut written = b"x".to_vec();
                push_base64(&mut written, plain);
                assert_eq!(
                    written[1..],
                    *STANDARD.encode(plain).as_bytes(),
                    "{len} bytes"
                );
            }
        }
    }

    #[test]
    fn an_id_in_an_error_is_cut_after_64_characters() {
        let message = |error: ApiError| match error {
            ApiError::BadUserInput(message) => message,
            other => panic!("not a bad input: {other:?}"),
        };
        let of_64 = "é".repeat(63) + "x";
        assert_eq!(
            message(decode(&of_64).unwrap_err()),
            format!("`{of_64}` is not a valid id")
        );
        let of_65 = of_64.clone() + "y";
        assert_eq!(
            message(decode(&of_65).unwrap_err()),
            format!("`{of_64}…` is not a valid id")
        );
        let post = encode("Post", 1).0;
        assert_eq!(
            message(decode_as(&post, "User").unwrap_err()),
            format!("`{post}` is the id of a Post, not of a User")
        );
    }

    #[test]
    fn ids_of_another_type_or_malformed_are_refused() {
        assert!(decode_as(&encode("Post", 1).0, "User").is_err());
        for bad in ["", "%%%", "VXNlcg==", "VXNlcjp4", "VXNlcjotMQ==", "OjE="] {
            assert!(decode(bad).is_err(), "{bad} should be refused");
        }
    }
}
