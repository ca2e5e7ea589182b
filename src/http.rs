//! The HTTP layer: routes, the GraphQL handler with its request span, and health.

use std::time::{Duration, Instant};

use async_graphql::{ErrorExtensionValues, Response, Value};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::DatabaseConnection;
use tracing::Instrument;

use crate::graphql::AppSchema;
use crate::graphql::request::RequestState;

/// The header that asks for the SQL statement count in `extensions.sqlStatements`.
pub const DEBUG_HEADER: &str = "x-relgql-debug";

/// What every handler shares: built once, cloned per request.
#[derive(Clone)]
pub struct AppState {
    /// The GraphQL schema.
    pub schema: AppSchema,
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
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let request = request.into_inner();
    let request_state = RequestState::new(state.db.clone());
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
    response.into()
}

/// Errors raised by async-graphql itself (parse, validation, argument types) carry
/// no code; they are all the client's mistakes, so they get `BAD_USER_INPUT`.
fn label_user_errors(response: &mut Response) {
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
