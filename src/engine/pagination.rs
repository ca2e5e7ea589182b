//! Connection arguments: validation of `first`/`last`, ordering and keyset cursors.

use async_graphql::{Enum, InputType};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::Value;
use serde_json::Value as Json;

use crate::error::{ApiError, ApiResult};

/// The direction of one ordering term.
#[derive(Enum, Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum OrderDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

impl OrderDirection {
    fn flip(self) -> Self {
        match self {
            Self::Asc => Self::Desc,
            Self::Desc => Self::Asc,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

/// The kind of value a sortable column holds, so a cursor can be read back.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SortKind {
    /// An integer column.
    Int,
    /// A text column.
    Text,
    /// A boolean column.
    Bool,
    /// A timestamp column.
    Time,
}

/// One value of a sort key, as it travels in a cursor and back into SQL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SortValue {
    /// An integer.
    Int(i64),
    /// A text.
    Text(String),
    /// A boolean.
    Bool(bool),
    /// A point in time.
    Time(DateTime<Utc>),
}

impl SortValue {
    /// Reads the value of a column out of a SeaORM value.
    pub fn from_value(value: Value) -> ApiResult<Self> {
        Ok(match value {
            Value::Int(Some(v)) => Self::Int(v.into()),
            Value::BigInt(Some(v)) => Self::Int(v),
            Value::String(Some(v)) => Self::Text(v),
            Value::Bool(Some(v)) => Self::Bool(v),
            Value::ChronoDateTimeUtc(Some(v)) => Self::Time(v),
            other => {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "column value {other:?} cannot be a sort key"
                )));
            }
        })
    }

    /// The value to bind in SQL.
    pub fn to_value(&self) -> Value {
        match self {
            Self::Int(v) => Value::BigInt(Some(*v)),
            Self::Text(v) => Value::String(Some(v.clone())),
            Self::Bool(v) => Value::Bool(Some(*v)),
            Self::Time(v) => Value::ChronoDateTimeUtc(Some(*v)),
        }
    }

    fn to_json(&self) -> Json {
        match self {
            Self::Int(v) => Json::from(*v),
            Self::Text(v) => Json::from(v.as_str()),
            Self::Bool(v) => Json::from(*v),
            Self::Time(v) => Json::from(v.to_rfc3339()),
        }
    }

    fn from_json(kind: SortKind, json: &Json) -> Option<Self> {
        match kind {
            SortKind::Int => json.as_i64().map(Self::Int),
            SortKind::Text => json.as_str().map(|s| Self::Text(s.to_owned())),
            SortKind::Bool => json.as_bool().map(Self::Bool),
            SortKind::Time => json
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| Self::Time(t.with_timezone(&Utc))),
        }
    }
}

/// A field a list can be ordered by: its GraphQL name, its column and its kind.
pub trait SortField: InputType + Copy + Eq + std::hash::Hash + Send + Sync + 'static {
    /// The field that makes every order total: the primary key.
    const ID: Self;
    /// The field's name in cursors (stable across releases).
    fn name(self) -> &'static str;
    /// What kind of value the field holds.
    fn kind(self) -> SortKind;
}

/// A total order: the client's terms followed by the primary key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ordering<F> {
    /// The terms, most significant first; the last one is always the id.
    pub terms: Vec<(F, OrderDirection)>,
}

impl<F: SortField> Ordering<F> {
    /// The order a client asked for, made total by breaking ties by id.
    pub fn new(requested: impl IntoIterator<Item = (F, OrderDirection)>) -> ApiResult<Self> {
        let mut terms: Vec<(F, OrderDirection)> = Vec::new();
        for (field, direction) in requested {
            if terms.iter().any(|(f, _)| *f == field) {
                return Err(ApiError::bad_input(format!(
                    "`orderBy` names the field `{}` twice",
                    field.name()
                )));
            }
            terms.push((field, direction));
            if field == F::ID {
                break;
            }
        }
        if terms.last().is_none_or(|(f, _)| *f != F::ID) {
            terms.push((F::ID, OrderDirection::Asc));
        }
        Ok(Self { terms })
    }

    /// The same order, backwards (for `last`/`before`).
    pub fn reversed(&self) -> Self {
        Self {
            terms: self.terms.iter().map(|(f, d)| (*f, d.flip())).collect(),
        }
    }

    fn signature(&self) -> String {
        let terms: Vec<String> = self
            .terms
            .iter()
            .map(|(f, d)| format!("{}.{}", f.name(), d.as_str()))
            .collect();
        terms.join(",")
    }
}

/// Which way a page is read, and how many rows it holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the start (or after a cursor): `first`.
    Forward,
    /// From the end (or before a cursor): `last`.
    Backward,
}

/// A validated page request over a list of `type_name` ordered by `ordering`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Window<F> {
    /// Which way the page is read.
    pub direction: Direction,
    /// How many rows the page holds at most.
    pub limit: u64,
    /// The sort key to start after (forward) or before (backward).
    pub cursor: Option<Vec<SortValue>>,
    /// The order the client asked for.
    pub ordering: Ordering<F>,
}

/// Limits on page sizes, from the settings.
#[derive(Copy, Clone, Debug)]
pub struct PageLimits {
    /// Largest `first`/`last`.
    pub max: u32,
    /// Page size when neither is given.
    pub default: u32,
}

/// The raw connection arguments of a field.
#[derive(Default)]
pub struct PageRequest {
    /// `first`.
    pub first: Option<i32>,
    /// `after`.
    pub after: Option<String>,
    /// `last`.
    pub last: Option<i32>,
    /// `before`.
    pub before: Option<String>,
}

impl<F: SortField> Window<F> {
    /// Validates the arguments of a connection over `type_name`.
    pub fn new(
        type_name: &str,
        request: PageRequest,
        ordering: Ordering<F>,
        limits: PageLimits,
    ) -> ApiResult<Self> {
        let PageRequest {
            first,
            after,
            last,
            before,
        } = request;
        let (direction, size, cursor) = match (first, last) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_input(
                    "give `first` or `last`, not both: page forwards or backwards",
                ));
            }
            (_, Some(last)) => {
                if after.is_some() {
                    return Err(ApiError::bad_input("`after` goes with `first`, not `last`"));
                }
                (Direction::Backward, Some(("last", last)), before)
            }
            (first, None) => {
                if before.is_some() && after.is_none() && first.is_none() {
                    (Direction::Backward, None, before)
                } else if before.is_some() {
                    return Err(ApiError::bad_input(
                        "`before` goes with `last`, not `first`",
                    ));
                } else {
                    (Direction::Forward, first.map(|n| ("first", n)), after)
                }
            }
        };
        let limit = match size {
            None => limits.default,
            Some((name, n)) if n < 0 => {
                return Err(ApiError::bad_input(format!(
                    "`{name}` must not be negative (got {n})"
                )));
            }
            Some((name, n)) if n as u32 > limits.max => {
                return Err(ApiError::bad_input(format!(
                    "`{name}` is {n}, above the maximum page size of {}",
                    limits.max
                )));
            }
            Some((_, n)) => n as u32,
        };
        let cursor = cursor
            .map(|c| decode_cursor(&c, type_name, &ordering))
            .transpose()?;
        Ok(Self {
            direction,
            limit: limit.into(),
            cursor,
            ordering,
        })
    }

    /// The order rows are read from the database in.
    pub fn read_order(&self) -> Ordering<F> {
        match self.direction {
            Direction::Forward => self.ordering.clone(),
            Direction::Backward => self.ordering.reversed(),
        }
    }
}

/// The opaque cursor of a row: its list's type, the order and the row's sort key.
pub fn encode_cursor<F: SortField>(
    type_name: &str,
    ordering: &Ordering<F>,
    key: &[SortValue],
) -> String {
    let mut parts = vec![Json::from(type_name), Json::from(ordering.signature())];
    parts.extend(key.iter().map(SortValue::to_json));
    URL_SAFE_NO_PAD.encode(Json::Array(parts).to_string())
}

fn decode_cursor<F: SortField>(
    cursor: &str,
    type_name: &str,
    ordering: &Ordering<F>,
) -> ApiResult<Vec<SortValue>> {
    let malformed =
        || ApiError::bad_input("the cursor is malformed: use a cursor this API returned");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| malformed())?;
    let parts: Vec<Json> = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
    let [list, signature, key @ ..] = parts.as_slice() else {
        return Err(malformed());
    };
    if list.as_str() != Some(type_name) || signature.as_str() != Some(&ordering.signature()) {
        return Err(ApiError::bad_input(
            "the cursor belongs to another list or another order: \
             use a cursor from this connection with the same `orderBy`",
        ));
    }
    if key.len() != ordering.terms.len() {
        return Err(malformed());
    }
    key.iter()
        .zip(&ordering.terms)
        .map(|(json, (field, _))| SortValue::from_json(field.kind(), json).ok_or_else(malformed))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
    enum Field {
        Id,
        Name,
    }

    impl SortField for Field {
        const ID: Self = Field::Id;
        fn name(self) -> &'static str {
            match self {
                Field::Id => "id",
                Field::Name => "name",
            }
        }
        fn kind(self) -> SortKind {
            match self {
                Field::Id => SortKind::Int,
                Field::Name => SortKind::Text,
            }
        }
    }

    const LIMITS: PageLimits = PageLimits {
        max: 100,
        default: 20,
    };

    fn request(first: Option<i32>, last: Option<i32>) -> PageRequest {
        PageRequest {
            first,
            after: None,
            last,
            before: None,
        }
    }

    #[test]
    fn orders_end_with_the_id_once() {
        let by_name = Ordering::new([(Field::Name, OrderDirection::Desc)]).unwrap();
        assert_eq!(
            by_name.terms,
            vec![
                (Field::Name, OrderDirection::Desc),
                (Field::Id, OrderDirection::Asc)
            ]
        );
        let by_id = Ordering::new([(Field::Id, OrderDirection::Desc)]).unwrap();
        assert_eq!(by_id.terms, vec![(Field::Id, OrderDirection::Desc)]);
        assert!(
            Ordering::new([
                (Field::Name, OrderDirection::Asc),
                (Field::Name, OrderDirection::Desc)
            ])
            .is_err()
        );
    }

    #[test]
    fn cursors_round_trip_and_refuse_other_lists() {
        let ordering = Ordering::new([(Field::Name, OrderDirection::Asc)]).unwrap();
        let key = vec![SortValue::Text("a".into()), SortValue::Int(3)];
        let cursor = encode_cursor("User", &ordering, &key);
        assert_eq!(decode_cursor(&cursor, "User", &ordering).unwrap(), key);
        assert!(decode_cursor(&cursor, "Post", &ordering).is_err());
        let by_id = Ordering::<Field>::new([]).unwrap();
        assert!(decode_cursor(&cursor, "User", &by_id).is_err());
    }

    #[test]
    fn page_sizes_are_checked() {
        let ord = || Ordering::<Field>::new([]).unwrap();
        assert_eq!(
            Window::new("User", request(None, None), ord(), LIMITS)
                .unwrap()
                .limit,
            20
        );
        assert_eq!(
            Window::new("User", request(Some(100), None), ord(), LIMITS)
                .unwrap()
                .limit,
            100
        );
        assert!(Window::new("User", request(Some(101), None), ord(), LIMITS).is_err());
        assert!(Window::new("User", request(Some(-1), None), ord(), LIMITS).is_err());
        assert!(Window::new("User", request(Some(1), Some(1)), ord(), LIMITS).is_err());
        let backward = Window::new("User", request(None, Some(5)), ord(), LIMITS).unwrap();
        assert_eq!(backward.direction, Direction::Backward);
    }
}
