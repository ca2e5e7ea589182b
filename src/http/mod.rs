//! The HTTP layer: routes, GraphQL over HTTP and WebSocket, health (liveness and
//! readiness), GraphiQL, and metrics on a listener of their own.

mod graphiql;
mod graphql;
mod health;
pub mod metrics;
mod shutdown;
mod subscriptions;

use std::sync::Arc;

use axum::Router;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::response::Response;
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::api::AppSchema;
use crate::auth::Tokens;
use crate::db::Warm;
use crate::engine::gate::Gate;
use crate::events::Events;
use crate::persisted::PersistedQueries;
use crate::replicas::Replicas;

pub use graphql::{DEBUG_HEADER, GRAPHQL_RESPONSE_JSON, Media, WAL_POSITION_HEADER};
pub use shutdown::Shutdown;

/// What every handler shares: built once, cloned per request.
#[derive(Clone)]
pub struct AppState {
    /// The GraphQL schema.
    pub schema: AppSchema,
    /// Issues and checks bearer tokens.
    pub tokens: Arc<Tokens>,
    /// Where writes announce themselves to subscribers.
    pub events: Events,
    /// The connection pool.
    pub db: DatabaseConnection,
    /// Connections kept open between requests for their reads (PostgreSQL).
    pub warm: Arc<Warm>,
    /// Read replicas that queries may read from (none: the primary).
    pub replicas: Arc<Replicas>,
    /// Report the statement count on every response, not only when asked.
    pub debug_sql_count: bool,
    /// Settings of the HTTP layer.
    pub http: HttpOptions,
    /// What every operation passes before it runs (limits, parse cache).
    pub gate: Arc<Gate<AppSchema>>,
    /// Documents requests may name by id (persisted queries, trusted documents).
    pub persisted: Arc<PersistedQueries>,
    /// Tells WebSocket sessions to close when the server stops.
    pub shutdown: Shutdown,
}

/// Settings of the HTTP layer.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Origins whose pages may call the API from a browser.
    pub cors_allowed_origins: Vec<String>,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Most operations in one batched request; 0 refuses batches.
    pub max_batch: usize,
    /// How long one GraphQL request may take in all.
    pub request_timeout: std::time::Duration,
    /// How long a shared cache may keep an anonymous GET's answer, in seconds.
    pub cache_max_age_secs: u32,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            cors_allowed_origins: Vec::new(),
            max_body_bytes: crate::config::DEFAULT_MAX_BODY_BYTES,
            max_batch: crate::config::DEFAULT_MAX_BATCH,
            request_timeout: std::time::Duration::from_millis(
                crate::config::DEFAULT_REQUEST_TIMEOUT_MS,
            ),
            cache_max_age_secs: 0,
        }
    }
}

/// The service's routes.
pub fn app(state: AppState) -> Router {
    let cors = cors(&state.http.cors_allowed_origins);
    let body_limit = DefaultBodyLimit::max(state.http.max_body_bytes);
    Router::new()
        .route(
            "/graphql",
            get(graphql_get)
                .post(graphql::post)
                // What an answer says to caches unless its handler said more.
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                )),
        )
        .route("/health", get(health::health))
        .route("/livez", get(health::live))
        .route("/readyz", get(health::ready))
        .merge(graphiql::routes())
        .layer(body_limit)
        .layer(cors)
        .with_state(state)
}

/// `GET /graphql`: a WebSocket upgrade for subscriptions, or a query in the URL.
async fn graphql_get(
    State(state): State<AppState>,
    client: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    headers: HeaderMap,
    query: RawQuery,
) -> Response {
    match upgrade {
        Ok(upgrade) => subscriptions::upgrade(state, upgrade, &headers),
        Err(_) => graphql::get(state, client, headers, query).await,
    }
}

/// Browsers may call the API from the listed origins only; with credentials, since
/// the origins are named one by one.
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| o.parse().ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::ACCEPT,
            HeaderName::from_static(WAL_POSITION_HEADER),
        ])
        .expose_headers([HeaderName::from_static(WAL_POSITION_HEADER)])
        .allow_credentials(true)
}
