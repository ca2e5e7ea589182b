//! The `DateTime` scalar: an instant, as RFC 3339 text in UTC.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{SecondsFormat, Utc};

/// An instant, answered in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UtcDateTime(pub chrono::DateTime<Utc>);

impl UtcDateTime {
    /// The RFC 3339 text of the instant in UTC, ending in `Z`, with as many
    /// fractional digits as it has (none, 3, 6 or 9).
    pub fn to_rfc3339(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

/// An instant in time, as RFC 3339 text in UTC: `2026-12-06T09:30:00Z`, with
/// fractional seconds when it has them (`2026-12-06T09:30:00.250Z`). Input may
/// carry any offset (`2026-12-06T10:30:00+01:00` is the same instant).
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339"
)]
impl ScalarType for UtcDateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
                .map(|time| Self(time.with_timezone(&Utc)))
                .map_err(|_| {
                    InputValueError::custom(format!(
                        "expected an RFC 3339 date and time, such as \"2026-12-06T09:30:00Z\", not \"{}\"",
                        text.chars().take(64).collect::<String>()
                    ))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_end_in_z_and_inputs_take_any_offset() {
        let parsed = |text: &str| UtcDateTime::parse(Value::String(text.into()));
        let time = parsed("2026-12-06T10:30:00+01:00").unwrap();
        assert_eq!(time.to_rfc3339(), "2026-12-06T09:30:00Z");
        let time = parsed("2026-12-06T09:30:00.25Z").unwrap();
        assert_eq!(
            time.to_value(),
            Value::String("2026-12-06T09:30:00.250Z".into())
        );
        for bad in ["yesterday", "2026-12-06", "2026-12-06 09:30:00", ""] {
            let error = parsed(bad)
                .unwrap_err()
                .into_server_error(Default::default());
            assert!(
                error.message.contains("RFC 3339"),
                "{bad}: {}",
                error.message
            );
        }
        assert!(UtcDateTime::parse(Value::Number(1.into())).is_err());
    }
}
