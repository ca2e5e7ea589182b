//! The one error type of the API and its mapping to `extensions.code`.

use std::sync::Arc;

use async_graphql::ErrorExtensions as _;

/// Everything a resolver can fail with, as the client sees it.
///
/// It is deliberately not `Display`: async-graphql turns any `Display` type into an
/// error without `extensions.code`, so the only way into a GraphQL error is the
/// conversion below, which always sets the code (and logs internal detail).
#[derive(Clone, Debug)]
pub enum ApiError {
    /// The request itself is wrong: a bad id, cursor, argument or filter.
    BadUserInput(String),
    /// One input field is invalid; the error names it in `extensions.field`.
    InvalidField(&'static str, String),
    /// The request needs a valid token and has none, or a bad one.
    Unauthenticated(String),
    /// The signed-in user may not do this.
    Forbidden(String),
    /// The thing asked for does not exist.
    NotFound(String),
    /// The write clashes with existing data (a taken email, a course name).
    Conflict(String),
    /// The request asks for more work than the server allows.
    TooComplex(String),
    /// The database cannot answer now (down, restarting, or every connection
    /// busy); `INTERNAL_SERVER_ERROR` with this message and `reason`
    /// `DATABASE_UNAVAILABLE`. The detail is logged.
    Unavailable(String),
    /// The request ran past its deadline or a statement past the statement
    /// timeout; `INTERNAL_SERVER_ERROR` with this message and `reason` `TIMEOUT`.
    Timeout(String),
    /// A write was sent and the connection was lost before the database answered:
    /// it may or may not have been applied. `INTERNAL_SERVER_ERROR` with `reason`
    /// `OUTCOME_UNKNOWN`; never retried by the service.
    OutcomeUnknown(String),
    /// Too many failed sign-ins; `FORBIDDEN` with `reason` `THROTTLED` and
    /// `retryAfterSeconds`.
    Throttled(String, u64),
    /// A persisted query's id that the service does not know (yet); the client
    /// sends its text to register it. `PERSISTED_QUERY_NOT_FOUND`, the code Apollo's
    /// persisted-queries link looks for.
    PersistedQueryNotFound(String),
    /// Automatic persisted queries are switched off: `PERSISTED_QUERY_NOT_SUPPORTED`,
    /// on which Apollo's link stops hashing.
    PersistedQueryNotSupported(String),
    /// Something broke on our side; the detail is logged, never sent.
    Internal(Arc<anyhow::Error>),
}

impl ApiError {
    /// A `BAD_USER_INPUT` error with the given message.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput(message.into())
    }

    /// A `BAD_USER_INPUT` error about one input field.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidField(field, message.into())
    }

    /// A `NOT_FOUND` error for the `type_name` with this global id.
    pub fn not_found(type_name: &str, id: &str) -> Self {
        Self::NotFound(format!("no {type_name} has the id `{id}`"))
    }

    /// `CONFLICT` with `message` when `error` is a unique-key violation (whatever the
    /// database calls it); an internal error otherwise.
    pub fn unless_unique(error: sea_orm::DbErr, message: impl Into<String>) -> Self {
        match error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Self::Conflict(message.into()),
            _ => Self::from_database(&error),
        }
    }

    /// The error as a request-level GraphQL error, raised outside any field:
    /// located at `pos` when given, with no location otherwise.
    pub fn into_server_error(self, pos: Option<async_graphql::Pos>) -> async_graphql::ServerError {
        let mut error = async_graphql::Error::from(self).into_server_error(Default::default());
        error.locations = pos.into_iter().collect();
        error
    }

    /// An internal error; its detail stays in the logs.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(Arc::new(error.into()))
    }

    /// The message the client sees.
    pub fn message(&self) -> &str {
        match self {
            Self::BadUserInput(message)
            | Self::InvalidField(_, message)
            | Self::Unauthenticated(message)
            | Self::Forbidden(message)
            | Self::NotFound(message)
            | Self::Conflict(message)
            | Self::TooComplex(message)
            | Self::Unavailable(message)
            | Self::Timeout(message)
            | Self::OutcomeUnknown(message)
            | Self::PersistedQueryNotFound(message)
            | Self::PersistedQueryNotSupported(message)
            | Self::Throttled(message, _) => message,
            Self::Internal(_) => "internal server error",
        }
    }

    /// The `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput(_) | Self::InvalidField(..) => "BAD_USER_INPUT",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) | Self::Throttled(..) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Conflict(_) => "CONFLICT",
            Self::TooComplex(_) => "TOO_COMPLEX",
            Self::PersistedQueryNotFound(_) => "PERSISTED_QUERY_NOT_FOUND",
            Self::PersistedQueryNotSupported(_) => "PERSISTED_QUERY_NOT_SUPPORTED",
            Self::Unavailable(_)
            | Self::Timeout(_)
            | Self::OutcomeUnknown(_)
            | Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    /// The `extensions.reason` of this error, when its code alone does not say it.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Self::Unavailable(_) => Some("DATABASE_UNAVAILABLE"),
            Self::Timeout(_) => Some("TIMEOUT"),
            Self::OutcomeUnknown(_) => Some("OUTCOME_UNKNOWN"),
            Self::Throttled(..) => Some("THROTTLED"),
            _ => None,
        }
    }

    /// What a database error means for the client: unavailable, timed out, or
    /// internal (whose detail stays in the logs).
    pub fn from_database(error: &sea_orm::DbErr) -> Self {
        if crate::db::is_outcome_unknown(error) {
            tracing::warn!(%error, "a write's outcome is unknown");
            return Self::OutcomeUnknown(
                "the connection to the database was lost before it confirmed the write: \
                 it may or may not have been applied; check before sending it again"
                    .into(),
            );
        }
        if crate::db::is_unavailable(error) {
            tracing::warn!(%error, "database unavailable");
            return Self::unavailable();
        }
        let code = crate::db::sql_state(error);
        // PostgreSQL's statement_timeout; MariaDB's max_statement_time; MySQL's
        // max_execution_time.
        let timed_out = match code.as_deref() {
            Some("57014" | "70100") => true,
            Some("HY000") => error
                .to_string()
                .contains("maximum statement execution time"),
            _ => false,
        };
        if timed_out {
            tracing::warn!(%error, "statement timeout");
            return Self::Timeout(
                "a database statement ran longer than the statement timeout; ask for less".into(),
            );
        }
        Self::internal(anyhow::anyhow!("{error}"))
    }

    fn unavailable() -> Self {
        Self::Unavailable("the database is unavailable; try again shortly".into())
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::from_database(&error)
    }
}

impl From<Arc<sea_orm::DbErr>> for ApiError {
    fn from(error: Arc<sea_orm::DbErr>) -> Self {
        Self::from_database(&error)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        if let ApiError::Internal(detail) = &error {
            tracing::error!(error = format!("{detail:#}"), "request failed");
        }
        let code = error.code();
        async_graphql::Error::new(error.message()).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(reason) = error.reason() {
                ext.set("reason", reason);
            }
            match &error {
                ApiError::InvalidField(field, _) => ext.set("field", *field),
                ApiError::Throttled(_, seconds) => ext.set("retryAfterSeconds", *seconds),
                _ => {}
            }
        })
    }
}

/// The result of a resolver.
pub type ApiResult<T> = Result<T, ApiError>;
