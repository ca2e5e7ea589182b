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
    /// The thing asked for does not exist.
    NotFound(String),
    /// The request asks for more work than the server allows.
    TooComplex(String),
    /// Something broke on our side; the detail is logged, never sent.
    Internal(Arc<anyhow::Error>),
}

impl ApiError {
    /// A `BAD_USER_INPUT` error with the given message.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput(message.into())
    }

    /// An internal error; its detail stays in the logs.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(Arc::new(error.into()))
    }

    /// The message the client sees.
    pub fn message(&self) -> &str {
        match self {
            Self::BadUserInput(message) | Self::NotFound(message) | Self::TooComplex(message) => {
                message
            }
            Self::Internal(_) => "internal server error",
        }
    }

    /// The `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput(_) => "BAD_USER_INPUT",
            Self::NotFound(_) => "NOT_FOUND",
            Self::TooComplex(_) => "TOO_COMPLEX",
            Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::internal(error)
    }
}

impl From<Arc<sea_orm::DbErr>> for ApiError {
    fn from(error: Arc<sea_orm::DbErr>) -> Self {
        Self::internal(anyhow::anyhow!("{error}"))
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        if let ApiError::Internal(detail) = &error {
            tracing::error!(error = format!("{detail:#}"), "request failed");
        }
        let code = error.code();
        async_graphql::Error::new(error.message()).extend_with(|_, ext| ext.set("code", code))
    }
}

/// The result of a resolver.
pub type ApiResult<T> = Result<T, ApiError>;
