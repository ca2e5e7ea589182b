//! The HTTP layer: routes, the GraphQL handler with its request span, and health.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{ErrorExtensionValues, Value};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::header::{ALLOW, AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::DatabaseConnection;
use tracing::Instrument;

use crate::auth::Tokens;
use crate::error::ApiError;
use crate::graphql::AppSchema;
use crate::graphql::request::RequestState;

/// The header that asks for the SQL statement count in `extensions.sqlStatements`.
pub const DEBUG_HEADER: &str = "x-relgql-debug";

/// What every handler shares: built once, cloned per request.
#[derive(Clone)]
pub struct AppState {
    /// The GraphQL schema.
    pub schema: AppSchema,
    /// Issues and checks bearer tokens.
    pub tokens: Arc<Tokens>,
    /// The connection pool.
    pub db: DatabaseConnection,
    /// Report the statement count on every response, not only when asked.
    pub debug_sql_count: bool,
}

/// The service's routes.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql).post(graphql))
        .route("/health", get(health))
        .with_state(state)
}

async fn graphql(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    let request = request.into_inner();
    if method == Method::GET && !is_query(&request) {
        return refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "BAD_USER_INPUT",
            "GET runs queries only: send mutations with POST",
        );
    }
    let viewer = match signed_in_as(&state.tokens, &headers) {
        Ok(viewer) => viewer,
        Err(error) => return refuse(StatusCode::UNAUTHORIZED, error.code(), error.message()),
    };
    let request_state = RequestState::new(state.db.clone(), state.tokens.clone(), viewer);
    let db = request_state.db.clone();
    let scheduler = request_state.scheduler.clone();
    let span = tracing::info_span!(
        "graphql",
        operation = request.operation_name.as_deref().unwrap_or("-"),
    );
    let started = Instant::now();
    let execution = state.schema.execute(request.data(request_state));
    let mut response = scheduler.run(execution).instrument(span.clone()).await;
    let statements = db.statements();
    label_user_errors(&mut response);
    let asked = headers
        .get(DEBUG_HEADER)
        .is_some_and(|value| value.as_bytes() == b"sql");
    if state.debug_sql_count || asked {
        response
            .extensions
            .insert("sqlStatements".to_owned(), Value::from(statements));
    }
    span.in_scope(|| {
        tracing::info!(
            statements,
            ms = started.elapsed().as_secs_f64() * 1000.0,
            errors = response.errors.len(),
            "graphql request"
        );
    });
    GraphQLResponse::from(response).into_response()
}

/// The user a request's bearer token names: none without an `Authorization` header,
/// `UNAUTHENTICATED` for a malformed, forged or expired token.
fn signed_in_as(tokens: &Tokens, headers: &HeaderMap) -> Result<Option<i32>, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthenticated("the Authorization header must be `Bearer <token>`".into())
        })?;
    tokens.verify(token).map(Some)
}

/// Whether the operation a request runs is a query (not a mutation or subscription).
/// A document that does not parse counts as a query: execution reports its errors.
fn is_query(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return true;
    };
    let operation = match (&document.operations, &request.operation_name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name.as_str()),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()
        }
        (DocumentOperations::Multiple(_), None) => None,
    };
    operation.is_none_or(|op| op.node.ty == OperationType::Query)
}

/// A GraphQL error response that ends a request before execution.
fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
    }
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// Errors raised by async-graphql itself (parse, validation, argument types) carry
/// no code; they are all the client's mistakes, so they get `BAD_USER_INPUT`.
fn label_user_errors(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let extensions = error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "BAD_USER_INPUT");
        }
    }
}

/// Liveness and database readiness: 200 when the database answers, 503 when not.
async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let ping = tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await;
    match ping {
        Ok(Ok(())) => (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "ok", "database": "up" })),
        ),
        Ok(Err(error)) => {
            tracing::warn!(error = %error, "health check: database unavailable");
            unavailable()
        }
        Err(_) => {
            tracing::warn!("health check: database did not answer within 2 s");
            unavailable()
        }
    }
}

fn unavailable() -> (StatusCode, Json<serde_json::Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(serde_json::json!({ "status": "unavailable", "database": "down" })),
    )
}
