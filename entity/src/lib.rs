//! SeaORM entities of relgql: one module per table, relations declared on both sides.

/// A model read from a row by position: its columns one after another from `at`, in
/// the order the model declares them (the order of its `Column` enum). Reading by
/// position spares a lookup by name per value, and a `format!` per value for a
/// prefixed (joined) row.
pub trait FromRowAt: Sized {
    /// The model's columns, in the order they are read.
    const COLUMNS: &'static [&'static str];
    /// Reads the model from `row`, whose column `at` holds its first column.
    fn from_row_at(row: &sea_orm::QueryResult, at: usize) -> Result<Self, sea_orm::DbErr> {
        Self::from_row_without(row, at, 0)
    }
    /// Reads the model from `row`, whose column `at` holds its first column, where
    /// the statement left out the columns whose bits are set in `omitted` (bit `i`
    /// for `COLUMNS[i]`): the present ones follow each other, and each left out
    /// reads as its type's default.
    fn from_row_without(
        row: &sea_orm::QueryResult,
        at: usize,
        omitted: u32,
    ) -> Result<Self, sea_orm::DbErr>;
}

/// The bits of `columns` among `all` (bit `i` for `all[i]`), as
/// [`FromRowAt::from_row_without`] takes them.
pub fn column_bits(all: &[&str], columns: &[&str]) -> u32 {
    all.iter()
        .enumerate()
        .filter(|(_, column)| columns.contains(column))
        .fold(0, |bits, (i, _)| bits | 1 << i)
}

/// The value of column `at` of `row`. On PostgreSQL, a value in the binary format
/// (as the results of prepared statements come) is decoded from its bytes here
/// ([`ColumnValue`]); sqlx's decoding went through a check of the column's type
/// against `T` and a generic integer decoder, which cost more than the values.
/// The statements select the model's own columns, whose types the migrations set.
/// The bytes are still decoded strictly: a value of the wrong size or a null for a
/// non-optional `T` is an error, not a wrong value.
pub fn column<T: ColumnValue>(row: &sea_orm::QueryResult, at: usize) -> Result<T, sea_orm::DbErr> {
    use sea_orm::sqlx::Row;
    use sea_orm::sqlx::postgres::PgValueFormat;
    let Some(row) = row.try_as_pg_row() else {
        return row.try_get_by_index(at);
    };
    let decoded = row
        .try_get_raw(at)
        .map_err(|e| e.to_string())
        .and_then(|value| match value.format() {
            PgValueFormat::Binary => T::from_binary(value.as_bytes().ok()),
            PgValueFormat::Text => T::decode(value).map_err(|e| e.to_string()),
        });
    decoded.map_err(|e| sea_orm::DbErr::Type(format!("column {at}: {e}")))
}

/// A type the models' columns hold, decoded from PostgreSQL's binary format.
pub trait ColumnValue:
    sea_orm::TryGetable
    + for<'r> sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Postgres>
    + sea_orm::sqlx::Type<sea_orm::sqlx::Postgres>
{
    /// The value of these bytes (`None` for SQL's null), as sqlx's `Decode` reads
    /// them in the binary format.
    fn from_binary(bytes: Option<&[u8]>) -> Result<Self, String>;
}

fn not_null(bytes: Option<&[u8]>) -> Result<&[u8], String> {
    bytes.ok_or_else(|| "unexpected null".to_owned())
}

/// A big-endian integer of two, four or eight bytes (int2, int4, int8), which
/// sqlx reads into any integer type that holds its value.
fn integer(bytes: Option<&[u8]>) -> Result<i64, String> {
    let bytes = not_null(bytes)?;
    match *bytes {
        [a, b, c, d] => Ok(i32::from_be_bytes([a, b, c, d]).into()),
        [a, b, c, d, e, f, g, h] => Ok(i64::from_be_bytes([a, b, c, d, e, f, g, h])),
        [a, b] => Ok(i16::from_be_bytes([a, b]).into()),
        _ => Err(format!("an integer of {} bytes", bytes.len())),
    }
}

impl ColumnValue for i32 {
    fn from_binary(bytes: Option<&[u8]>) -> Result<Self, String> {
        let value = integer(bytes)?;
        i32::try_from(value).map_err(|_| format!("{value} is out of range for i32"))
    }
}

impl ColumnValue for i64 {
    fn from_binary(bytes: Option<&[u8]>) -> Result<Self, String> {
        integer(bytes)
    }
}

impl ColumnValue for bool {
    fn from_binary(bytes: Option<&[u8]>) -> Result<Self, String> {
        match not_null(bytes)? {
            [byte] => Ok(*byte != 0),
            other => Err(format!("a boolean of {} bytes", other.len())),
        }
    }
}

impl ColumnValue for String {
    fn from_binary(bytes: Option<&[u8]>) -> Result<Self, String> {
        std::str::from_utf8(not_null(bytes)?)
            .map(str::to_owned)
            .map_err(|e| e.to_string())
    }
}

impl ColumnValue for chrono::DateTime<chrono::Utc> {
    /// Microseconds since 2000-01-01 00:00:00 UTC, PostgreSQL's epoch.
    fn from_binary(bytes: Option<&[u8]>) -> Result<Self, String> {
        const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;
        let since = match *not_null(bytes)? {
            [a, b, c, d, e, f, g, h] => i64::from_be_bytes([a, b, c, d, e, f, g, h]),
            ref other => return Err(format!("a timestamp of {} bytes", other.len())),
        };
        since
            .checked_add(POSTGRES_EPOCH_MICROS)
            .and_then(chrono::DateTime::from_timestamp_micros)
            .ok_or_else(|| format!("timestamp {since} is out of range"))
    }
}

impl<T: ColumnValue> ColumnValue for Option<T>
where
    Option<T>: sea_orm::TryGetable,
{
    fn from_binary(bytes: Option<&[u8]>) -> Result<Self, String> {
        bytes.map(|bytes| T::from_binary(Some(bytes))).transpose()
    }
}

/// Declares the module's `Model` (with its attributes, such as SeaORM's
/// `DeriveEntityModel`) and implements [`FromRowAt`] for it from the same list of
/// fields, so that it reads its columns in the order they are declared.
macro_rules! model {
    (
        $(#[$attr:meta])*
        pub struct Model {
            $($(#[$field_attr:meta])* pub $field:ident: $ty:ty),+ $(,)?
        }
    ) => {
        $(#[$attr])*
        pub struct Model {
            $($(#[$field_attr])* pub $field: $ty),+
        }

        impl $crate::FromRowAt for Model {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];

            fn from_row_without(
                row: &sea_orm::QueryResult,
                at: usize,
                omitted: u32,
            ) -> Result<Self, sea_orm::DbErr> {
                let mut next = at;
                let mut bit = 1u32;
                let mut present = || {
                    let here = omitted & bit == 0;
                    bit <<= 1;
                    next += usize::from(here);
                    here.then_some(next - 1)
                };
                // Fields are read in the order written, which is the columns' order.
                Ok(Self {
                    $($field: match present() {
                        Some(at) => $crate::column(row, at)?,
                        None => Default::default(),
                    },)+
                })
            }
        }
    };
}

pub mod comment;
pub mod course;
pub mod post;
pub mod post_tag;
pub mod profile;
pub mod student;
pub mod student_course;
pub mod tag;
pub mod user;

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, IdenStatic, Iterable};

    use super::FromRowAt;

    fn columns<E: EntityTrait>() -> Vec<&'static str> {
        E::Column::iter().map(|c| c.as_str()).collect()
    }

    /// Each model reads its columns by position in the order of its `Column` enum,
    /// which is the order the statements select them in.
    #[test]
    fn column_bits_follow_the_order_of_the_columns() {
        let all = super::user::Model::COLUMNS;
        assert_eq!(super::column_bits(all, &[]), 0);
        assert_eq!(super::column_bits(all, &["id"]), 0b1);
        assert_eq!(super::column_bits(all, &["email", "role"]), 0b10_0100);
        assert_eq!(super::column_bits(all, &["nope"]), 0);
    }

    /// The columns a model reads follow its `Column` enum: one list of fields
    /// makes both.
    #[test]
    fn models_read_their_columns_in_the_order_of_their_column_enum() {
        assert_eq!(
            super::user::Model::COLUMNS,
            columns::<super::user::Entity>()
        );
    }
}
