//! `GET /metrics`: the process's counters in Prometheus's text format, on a
//! listener of its own (`METRICS_ADDR`).

use axum::Router;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sea_orm::DatabaseConnection;

use crate::db::pool_connections;
use crate::metrics::METRICS;

/// The routes of the metrics listener: `/metrics` over `db`'s pool.
pub fn routes(db: DatabaseConnection) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(db)
}

async fn metrics(State(db): State<DatabaseConnection>) -> Response {
    let page = METRICS.render(pool_connections(&db));
    let mut response = page.into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
