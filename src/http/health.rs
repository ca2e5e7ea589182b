//! Health for load balancers and orchestrators:
//!
//! - `GET /livez`: liveness. 200 while the process serves requests at all; it asks
//!   nothing of the database, so a database outage does not get healthy instances
//!   restarted.
//! - `GET /readyz`: readiness. 200 when the primary database answers within 2 s and
//!   the service is not shutting down; 503 otherwise, so a balancer sends new
//!   requests elsewhere (during a failover, or while draining).
//! - `GET /health`: liveness and database readiness in one, as before.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use super::AppState;

/// `GET /livez`.
pub async fn live() -> impl IntoResponse {
    (StatusCode::OK, Json(json!({ "status": "ok" })))
}

/// `GET /readyz`.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    if state.shutdown.has_begun() {
        let body = json!({ "status": "unavailable", "reason": "shutting down" });
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body));
    }
    health(State(state)).await
}

/// `GET /health`: 200 when the database answers within 2 s, 503 when it does not.
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let ping = tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await;
    match ping {
        Ok(Ok(())) => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "database": "up" })),
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
        Json(json!({ "status": "unavailable", "database": "down" })),
    )
}
