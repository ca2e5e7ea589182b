//! GraphQL over HTTP (the graphql.org working draft) on `/graphql`.
//!
//! - `POST` with `Content-Type: application/json` runs any operation; other content
//!   types are refused with 415 (a form or `text/plain` post is how cross-site
//!   request forgery gets in).
//! - `GET` runs queries only; a mutation is refused with 405.
//! - The response is `application/graphql-response+json` or `application/json`, as
//!   the `Accept` header prefers (406 when it accepts neither). With the former, a
//!   request that fails before execution (unparsable, invalid) is a 400; with the
//!   latter it is a 200, as the specification asks for legacy clients.
//! - A request may name its document by id instead of sending its text (persisted
//!   queries and trusted documents, see [`crate::persisted`]).
//! - Every answer carries `Cache-Control`: `public, max-age` for a successful query
//!   sent with GET by an anonymous caller, whose answer is everyone's; `no-store`
//!   for the rest.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::{ErrorExtensionValues, Variables};
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::header::{
    ACCEPT, ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, EXPECT, VARY,
    WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use serde_json::{Map, Value, json};
use tracing::Instrument;

use super::AppState;
use crate::auth::Tokens;
use crate::db::{CountingDb, Fallback};
use crate::engine::gate::Pass;
use crate::engine::lean::{Written, write_value, written_size};
use crate::engine::limits::Measure;
use crate::engine::request::RequestState;
use crate::error::ApiError;
use crate::metrics::{METRICS, Outcome};
use crate::persisted::{Missing, is_sha256_hex, sha256_hex};
use crate::replicas::{Replicas, WalPosition};
use crate::telemetry::{self, TRACED};

/// The header that asks for the SQL statement count in `extensions.sqlStatements`.
pub const DEBUG_HEADER: &str = "x-relgql-debug";

/// The media type of the GraphQL-over-HTTP specification.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// Which media type a response is written in.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`: status codes tell request errors.
    GraphqlResponse,
    /// `application/json`: always 200 for a well-formed request.
    Json,
}

impl Media {
    /// The media type the `Accept` header prefers, or `None` if it accepts neither.
    /// `application/graphql-response+json` only when named: legacy clients that send
    /// `*/*` (or nothing) get `application/json`, as the specification advises.
    pub fn negotiate(headers: &HeaderMap) -> Option<Self> {
        let Some(accept) = headers.get(ACCEPT).and_then(|v| v.to_str().ok()) else {
            return Some(Self::Json);
        };
        let mut best: Option<(f32, Self)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let quality = parts
                .filter_map(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()))
                .next()
                .unwrap_or(1.0);
            let candidate = match media.as_str() {
                GRAPHQL_RESPONSE_JSON => Self::GraphqlResponse,
                "application/json" | "application/*" | "*/*" => Self::Json,
                _ => continue,
            };
            if quality <= 0.0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((q, chosen)) => {
                    quality > q
                        || (quality == q
                            && chosen == Self::Json
                            && candidate == Self::GraphqlResponse)
                }
            };
            if better {
                best = Some((quality, candidate));
            }
        }
        best.map(|(_, media)| media)
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        })
    }
}

/// A request refused before execution: its status and GraphQL error.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    /// `extensions.reason`, when the code alone does not say it.
    reason: Option<&'static str>,
    message: String,
}

impl Refusal {
    /// A request whose sign-in failed: a 401 when its token was refused; when the
    /// check itself could not be made (the database), a 503 or 500 that says so,
    /// never a 401 that would sign the client out.
    fn not_signed_in(error: &ApiError) -> Self {
        let status = match error {
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Unavailable(_) | ApiError::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self {
            status,
            code: error.code(),
            reason: error.reason(),
            message: error.message().to_owned(),
        }
    }

    fn internal() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "INTERNAL_SERVER_ERROR",
            reason: None,
            message: "internal server error".into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "BAD_USER_INPUT",
            reason: None,
            message: message.into(),
        }
    }

    fn into_response(self, media: Media) -> Response {
        let mut extensions = json!({ "code": self.code });
        if let Some(reason) = self.reason {
            extensions["reason"] = reason.into();
        }
        let body = json!({ "errors": [{ "message": self.message, "extensions": extensions }] });
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, media.content_type());
        match self.status {
            StatusCode::METHOD_NOT_ALLOWED => {
                headers.insert(ALLOW, HeaderValue::from_static("POST"));
            }
            StatusCode::UNAUTHORIZED => {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

/// `POST /graphql`.
pub async fn post(
    State(state): State<AppState>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(media) = Media::negotiate(&headers) else {
        return not_acceptable();
    };
    let body = match read_body(&headers, body, state.http.max_body_bytes).await {
        Ok(body) => body,
        Err(refusal) => return refusal.into_response(media),
    };
    let operations =
        json_content_type(&headers).and_then(|()| from_json_body(&body, state.http.max_batch));
    let incoming = match operations {
        Ok(Operations::One(incoming)) => incoming,
        Ok(Operations::Batch(operations)) => {
            return batch(state, &headers, peer(client), operations, media).await;
        }
        Err(refusal) => return refusal.into_response(media),
    };
    let (request, registering, pass) = match admit(&state, incoming, media).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal,
    };
    execute(
        state,
        &headers,
        peer(client),
        (request, registering),
        pass,
        media,
        None,
    )
    .await
}

/// One operation with its document found (when named by id) and let through by the
/// gate; or the answer refusing it.
async fn admit(
    state: &AppState,
    incoming: Incoming,
    media: Media,
) -> Result<(async_graphql::Request, Option<Registering>, Pass), Response> {
    let (mut request, registering) = named_document(state, incoming)
        .await
        .map_err(|error| refused(None, error, media))?;
    match state.gate.prepare(&mut request) {
        Ok(pass) => Ok((request, registering, pass)),
        Err(error) => Err(refused(Some(&request), error, media)),
    }
}

/// A batch (a JSON array of operations): each is checked as one operation would be,
/// then the batch as a whole against the fields and cost limits, refused whole when
/// over; then they run one after another, in order, and the answer is an array of
/// their answers in the same order.
async fn batch(
    state: AppState,
    headers: &HeaderMap,
    client: Option<IpAddr>,
    operations: Vec<Incoming>,
    media: Media,
) -> Response {
    let caller = match Caller::of(&state, headers, client).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal.into_response(media),
    };
    let mut prepared = Vec::with_capacity(operations.len());
    for incoming in operations {
        prepared.push(match named_document(&state, incoming).await {
            Ok((mut request, registering)) => {
                let pass = state.gate.prepare(&mut request);
                if let Err(error) = &pass {
                    count_refusal(error);
                }
                ((request, registering), pass)
            }
            Err(error) => ((async_graphql::Request::new(""), None), Err(error)),
        });
    }
    let measures: Vec<Measure> = prepared
        .iter()
        .filter_map(|(_, pass)| pass.as_ref().ok().map(|pass| pass.measure))
        .collect();
    if let Err(error) = state.gate.check_batch(&measures) {
        tracing::info!(error = %error.message, "graphql batch refused");
        count_refusal(&error);
        let answers = prepared
            .iter()
            .map(|_| async_graphql::Response::from_errors(vec![error.clone()]))
            .collect();
        return respond_batch(answers, media, None);
    }
    // The batch is one request: its operations share the request's deadline.
    let began = Instant::now();
    let mut answers = Vec::with_capacity(prepared.len());
    let mut position = None;
    for ((request, registering), pass) in prepared {
        let answer = match pass {
            Ok(pass) => {
                let (answer, written) =
                    run(&state, headers, caller, began, request, pass, registering).await;
                position = written.or(position);
                answer
            }
            Err(error) => async_graphql::Response::from_errors(vec![error]),
        };
        answers.push(answer);
    }
    respond_batch(answers, media, position)
}

/// The HTTP response carrying a batch's `answers`, an array in their order; 200
/// whatever each says, since each carries its own errors.
fn respond_batch(
    answers: Vec<async_graphql::Response>,
    media: Media,
    position: Option<WalPosition>,
) -> Response {
    let mut body = vec![b'['];
    for (i, mut answer) in answers.into_iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        label_user_errors(&mut answer);
        let request_error = failed_before_execution(&answer);
        match encode(&answer, request_error) {
            Ok(encoded) => body.extend_from_slice(&encoded),
            Err(error) => {
                tracing::error!(%error, "cannot serialise a response");
                return Refusal::internal().into_response(media);
            }
        }
    }
    body.push(b']');
    let mut http = (StatusCode::OK, body).into_response();
    http.headers_mut()
        .insert(CONTENT_TYPE, media.content_type());
    with_position(http, position)
}

/// `http`, carrying the primary's WAL position after a write, if there was one.
fn with_position(mut http: Response, position: Option<WalPosition>) -> Response {
    if let Some(position) = position
        && let Ok(value) = HeaderValue::from_str(&position.to_string())
    {
        http.headers_mut().insert(WAL_POSITION_HEADER, value);
    }
    http
}

/// How much of a body over the limit is read and dropped before the 413 is sent, and
/// for how long: a client still sending then reads why it was refused, where a
/// connection closed mid-send would reach it as a reset, with no answer.
const DRAIN_AT_MOST: u64 = 16 * 1024 * 1024;
const DRAIN_FOR: Duration = Duration::from_secs(10);

/// The request's body, at most `limit` bytes; a larger one is a 413.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Refusal> {
    let too_large = || {
        METRICS.refused("bodyBytes");
        Refusal {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "BAD_USER_INPUT",
            reason: None,
            message: format!("the body is larger than the limit of {limit} bytes"),
        }
    };
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let waits_to_send = headers
        .get(EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    // Refused before it is sent (no `100 Continue`), or more than is drained.
    if declared.is_some_and(|n| n > limit as u64 && (waits_to_send || n > DRAIN_AT_MOST)) {
        return Err(too_large());
    }
    let mut frames = body.into_data_stream();
    let mut read = Vec::with_capacity(declared.unwrap_or(0).min(limit as u64) as usize);
    while let Some(frame) = frames.next().await {
        let frame = frame.map_err(|_| Refusal::bad_request("the body could not be read"))?;
        if read.len() + frame.len() > limit {
            let mut drained = (read.len() + frame.len()) as u64;
            let drain = async {
                while drained <= DRAIN_AT_MOST {
                    match frames.next().await {
                        Some(Ok(frame)) => drained += frame.len() as u64,
                        _ => break,
                    }
                }
            };
            let _ = tokio::time::timeout(DRAIN_FOR, drain).await;
            return Err(too_large());
        }
        read.extend_from_slice(&frame);
    }
    Ok(read.into())
}

/// `GET /graphql` without a WebSocket upgrade: queries only.
pub async fn get(
    state: AppState,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(media) = Media::negotiate(&headers) else {
        return not_acceptable();
    };
    let incoming = match from_query_string(query.as_deref().unwrap_or_default()) {
        Ok(incoming) => incoming,
        Err(refusal) => return refusal.into_response(media),
    };
    let (mut request, registering, pass) = match admit(&state, incoming, media).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal,
    };
    if !is_query(&mut request) {
        let refusal = Refusal {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "BAD_USER_INPUT",
            reason: None,
            message: "GET runs queries only: send mutations and subscriptions with POST or over WebSocket".into(),
        };
        return refusal.into_response(media);
    }
    // An answer to a GET is the same for every anonymous caller: a shared cache may
    // keep it. One that depends on who asks, or on a write just made, it may not.
    let public = !headers.contains_key(AUTHORIZATION) && !headers.contains_key(WAL_POSITION_HEADER);
    let max_age = public.then_some(state.http.cache_max_age_secs);
    execute(
        state,
        &headers,
        peer(client),
        (request, registering),
        pass,
        media,
        max_age,
    )
    .await
}

/// The address of the client on the other end of the connection, when the server
/// was started with it (forwarding headers are not trusted).
fn peer(connection: Option<Extension<ConnectInfo<SocketAddr>>>) -> Option<IpAddr> {
    connection.map(|Extension(ConnectInfo(address))| address.ip())
}

fn not_acceptable() -> Response {
    let refusal = Refusal {
        status: StatusCode::NOT_ACCEPTABLE,
        code: "BAD_USER_INPUT",
        reason: None,
        message: format!("accept {GRAPHQL_RESPONSE_JSON} or application/json"),
    };
    refusal.into_response(Media::Json)
}

/// Runs one operation and answers it; `public_max_age` is how long a shared cache
/// may keep a successful answer (none: it may not).
async fn execute(
    state: AppState,
    headers: &HeaderMap,
    client: Option<IpAddr>,
    (request, registering): (async_graphql::Request, Option<Registering>),
    pass: Pass,
    media: Media,
    public_max_age: Option<u32>,
) -> Response {
    let caller = match Caller::of(&state, headers, client).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal.into_response(media),
    };
    let began = Instant::now();
    let (response, position) =
        run(&state, headers, caller, began, request, pass, registering).await;
    let cacheable = response.errors.is_empty();
    let mut http = with_position(respond(response, media), position);
    if let Some(max_age) = public_max_age.filter(|_| cacheable)
        && let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age}"))
    {
        let headers = http.headers_mut();
        headers.insert(CACHE_CONTROL, value);
        headers.insert(VARY, HeaderValue::from_static("Accept, Authorization"));
    }
    http
}

/// Who a request runs for and what its reads must have seen, as its headers say:
/// the same for every operation of a batch.
#[derive(Clone, Copy)]
struct Caller {
    /// The signed-in user, if any.
    viewer: Option<i32>,
    /// The WAL position its reads must have seen (`relgql-wal-position`).
    wanted: Option<WalPosition>,
    /// The client's address.
    client: Option<IpAddr>,
}

impl Caller {
    /// The caller of the request with these `headers`, or the refusal of it.
    async fn of(
        state: &AppState,
        headers: &HeaderMap,
        client: Option<IpAddr>,
    ) -> Result<Self, Refusal> {
        let viewer = signed_in_as(&state.tokens, headers)
            .await
            .map_err(|error| Refusal::not_signed_in(&error))?;
        Ok(Self {
            viewer,
            wanted: wal_position(headers)?,
            client,
        })
    }
}

/// Runs one operation for `caller`, within the deadline of the request that `began`
/// then; its answer, and after a write the primary's WAL position (when there are
/// replicas).
async fn run(
    state: &AppState,
    headers: &HeaderMap,
    caller: Caller,
    began: Instant,
    request: async_graphql::Request,
    pass: Pass,
    registering: Option<Registering>,
) -> (async_graphql::Response, Option<WalPosition>) {
    let Caller {
        viewer,
        wanted,
        client,
    } = caller;
    let mut request = request;
    let (query, name) = operation_of(&mut request);
    let db = match query.then(|| state.replicas.for_read(wanted)).flatten() {
        Some(replica) => {
            let pool = replica.pool.clone();
            let fallback = Fallback {
                primary: state.db.clone(),
                replica_failed: Arc::new(move || replica.failed()),
            };
            CountingDb::for_replica(pool.db, &pool.warm, fallback)
        }
        None => CountingDb::for_request(state.db.clone(), &state.warm),
    };
    // Retries end a little before the deadline, so that a failing database is
    // reported as such rather than as time run out.
    let retry_until = began + state.http.request_timeout.mul_f64(0.8);
    let db = db.retrying_until(retry_until);
    let mut request_state = RequestState::new(
        db,
        state.tokens.clone(),
        state.events.clone(),
        viewer,
        pass.per_field(),
    );
    request_state.client = client;
    let db = request_state.db.clone();
    let scheduler = request_state.scheduler.clone();
    let span = tracing::info_span!(
        target: TRACED,
        "graphql",
        operation = request.operation_name.as_deref().unwrap_or("-"),
        otel.name = tracing::field::Empty,
        otel.kind = tracing::field::Empty,
        graphql.operation.type = tracing::field::Empty,
        graphql.operation.name = tracing::field::Empty,
        relgql.cost = tracing::field::Empty,
        relgql.sql_statements = tracing::field::Empty,
        relgql.outcome = tracing::field::Empty,
    );
    let kind = if query { "query" } else { "mutation" };
    if telemetry::exporting() {
        telemetry::join_callers_trace(&span, headers);
        let title = match &name {
            Some(name) => format!("{kind} {name}"),
            None => kind.to_owned(),
        };
        span.record("otel.name", title);
        span.record("otel.kind", "server");
        span.record("graphql.operation.type", kind);
        if let Some(name) = &name {
            span.record("graphql.operation.name", name.as_str());
        }
        span.record(
            "relgql.cost",
            i64::try_from(pass.measure.cost).unwrap_or(i64::MAX),
        );
    }
    let cost = pass.measure.cost;
    let started = Instant::now();
    let deadline = state.http.request_timeout;
    let ends = tokio::time::Instant::from_std(began + deadline);
    let execution = async {
        let _turn = state.gate.turn(pass.measure).await;
        let mut request = request.data(request_state);
        if pass.writable() {
            request = request.data(Written);
        }
        let execution = state.gate.execute(&state.schema, &pass, request);
        scheduler.run(execution).await
    };
    let mut timed_out = false;
    let mut response = match tokio::time::timeout_at(ends, execution.instrument(span.clone())).await
    {
        Ok(response) => response,
        Err(_) => {
            timed_out = true;
            let error = ApiError::Timeout(format!(
                "the request did not finish within its deadline of {} ms; ask for less",
                deadline.as_millis()
            ));
            async_graphql::Response::from_errors(vec![error.into_server_error(None)])
        }
    };
    let statements = db.statements();
    let asked = headers
        .get(DEBUG_HEADER)
        .is_some_and(|value| value.as_bytes() == b"sql");
    if state.debug_sql_count || asked {
        response.extensions.insert(
            "sqlStatements".to_owned(),
            async_graphql::Value::from(statements),
        );
    }
    // Read-your-writes: the primary's position after a write, for the client to
    // send back so that no replica older than it answers.
    let position = if !query && state.replicas.any() {
        Replicas::primary_position(&state.db).await.ok().flatten()
    } else {
        None
    };
    if let Some(Registering { sha256, document }) = registering
        && !failed_before_execution(&response)
        && let Err(error) = state.persisted.register(&sha256, &document).await
    {
        tracing::warn!(%error, "cannot register a persisted query");
    }
    let outcome = if timed_out {
        Outcome::Timeout
    } else if response.errors.is_empty() {
        Outcome::Ok
    } else if failed_before_execution(&response) {
        Outcome::Refused
    } else {
        Outcome::Error
    };
    let took = started.elapsed();
    if telemetry::exporting() {
        span.record("relgql.sql_statements", i64::from(statements));
        span.record("relgql.outcome", outcome.label());
    }
    METRICS.operation(
        !query,
        name.as_deref(),
        outcome,
        took,
        u64::from(statements),
        cost,
    );
    span.in_scope(|| {
        tracing::info!(
            statements,
            ms = took.as_secs_f64() * 1000.0,
            errors = response.errors.len(),
            "graphql request"
        );
    });
    (response, position)
}

/// The header that carries a write's WAL position to the client, and back: a query
/// that sends it reads from no replica that has not replayed that far.
pub const WAL_POSITION_HEADER: &str = "relgql-wal-position";

/// The position a request's `relgql-wal-position` header asks its reads to see.
fn wal_position(headers: &HeaderMap) -> Result<Option<WalPosition>, Refusal> {
    let Some(value) = headers.get(WAL_POSITION_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(WalPosition::parse)
        .map(Some)
        .ok_or_else(|| {
            Refusal::bad_request(format!(
                "`{WAL_POSITION_HEADER}` must be a position as a write's response gave it, \
                 such as `0/16B3748`"
            ))
        })
}

/// The answer to a request the gate refused before it ran.
fn refused(
    request: Option<&async_graphql::Request>,
    error: async_graphql::ServerError,
    media: Media,
) -> Response {
    count_refusal(&error);
    tracing::info!(
        operation = request
            .and_then(|request| request.operation_name.as_deref())
            .unwrap_or("-"),
        error = %error.message,
        "graphql request refused"
    );
    respond(async_graphql::Response::from_errors(vec![error]), media)
}

/// Counts a refusal by the gate under the limit it names (`TOO_COMPLEX`'s
/// `extensions.limit`), or as `trustedDocuments` (`FORBIDDEN`); a document that did
/// not parse or name a known document is no limit's.
fn count_refusal(error: &async_graphql::ServerError) {
    let extension = |name| match error.extensions.as_ref().and_then(|e| e.get(name)) {
        Some(async_graphql::Value::String(value)) => Some(value.clone()),
        Some(async_graphql::Value::Enum(value)) => Some(value.to_string()),
        _ => None,
    };
    let limit = match (extension("code").as_deref(), extension("limit").as_deref()) {
        (Some("FORBIDDEN"), _) => "trustedDocuments",
        (_, Some("depth")) => "depth",
        (_, Some("fields")) => "fields",
        (_, Some("rootFields")) => "rootFields",
        (_, Some("cost")) => "cost",
        (_, Some("directives")) => "directives",
        (_, Some("queryBytes")) => "queryBytes",
        _ => return,
    };
    METRICS.refused(limit);
}

/// The HTTP response carrying `response`.
fn respond(mut response: async_graphql::Response, media: Media) -> Response {
    label_user_errors(&mut response);
    let request_error = failed_before_execution(&response);
    let status = if media == Media::GraphqlResponse && request_error {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = match encode(&response, request_error) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "cannot serialise a response");
            return Refusal::internal().into_response(media);
        }
    };
    let mut http = (status, body).into_response();
    http.headers_mut()
        .insert(CONTENT_TYPE, media.content_type());
    http
}

/// The response's JSON, as async-graphql's `Response` serialises (`data`,
/// `extensions`, `errors`), with the objects written as they resolved copied as
/// they are (see [`Written`]); a request that failed before execution has no
/// `data` entry.
fn encode(response: &async_graphql::Response, request_error: bool) -> serde_json::Result<Vec<u8>> {
    let mut body = Vec::with_capacity(written_size(&response.data) + 256);
    let mut separator = b'{';
    let mut entry = |body: &mut Vec<u8>, key: &[u8]| {
        body.push(separator);
        body.extend_from_slice(key);
        separator = b',';
    };
    if !request_error {
        entry(&mut body, b"\"data\":");
        write_value(&mut body, &response.data)?;
    }
    if !response.extensions.is_empty() {
        entry(&mut body, b"\"extensions\":");
        serde_json::to_writer(&mut body, &response.extensions)?;
    }
    if !response.errors.is_empty() {
        entry(&mut body, b"\"errors\":");
        serde_json::to_writer(&mut body, &response.errors)?;
    }
    if body.is_empty() {
        body.push(b'{');
    }
    body.push(b'}');
    Ok(body)
}

/// A response without data whose errors have no path failed to parse or validate.
fn failed_before_execution(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
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

/// The user a request's bearer token names: none without an `Authorization` header,
/// `UNAUTHENTICATED` for a malformed, forged or expired token, a token whose account
/// is gone, or more than one `Authorization` header (which one would count?).
pub async fn signed_in_as(tokens: &Tokens, headers: &HeaderMap) -> Result<Option<i32>, ApiError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::Unauthenticated(
            "send one Authorization header, not several".into(),
        ));
    }
    bearer_user(tokens, value.to_str().unwrap_or_default())
        .await
        .map(Some)
}

/// The user of an `Authorization` value `Bearer <token>`.
pub async fn bearer_user(tokens: &Tokens, authorization: &str) -> Result<i32, ApiError> {
    let token = authorization
        .strip_prefix("Bearer ")
        .or_else(|| authorization.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthenticated("the Authorization header must be `Bearer <token>`".into())
        })?;
    tokens.authenticate(token).await
}

fn json_content_type(headers: &HeaderMap) -> Result<(), Refusal> {
    let unsupported = || Refusal {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: "BAD_USER_INPUT",
        reason: None,
        message: "send the request as `Content-Type: application/json`".into(),
    };
    let value = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unsupported)?;
    let mime: mime::Mime = value.parse().map_err(|_| unsupported())?;
    let charset_ok = mime
        .get_param(mime::CHARSET)
        .is_none_or(|c| c == mime::UTF_8);
    if mime.essence_str() == "application/json" && charset_ok {
        Ok(())
    } else {
        Err(unsupported())
    }
}

/// What a POST asks for: one operation, or a batch of them answered as an array.
// Made once per request and taken apart at once: boxing the one operation would
// allocate for every request that is not a batch.
#[allow(clippy::large_enum_variant)]
enum Operations {
    One(Incoming),
    Batch(Vec<Incoming>),
}

fn from_json_body(body: &[u8], max_batch: usize) -> Result<Operations, Refusal> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Refusal::bad_request(format!("the body is not valid JSON: {e}")))?;
    match value {
        Value::Object(params) => from_params(params, false).map(Operations::One),
        Value::Array(_) if max_batch == 0 => Err(Refusal::bad_request(
            "batched requests are switched off here: send one operation per request",
        )),
        Value::Array(items) if items.is_empty() => Err(Refusal::bad_request(
            "a batch (a JSON array) needs at least one operation",
        )),
        Value::Array(items) if items.len() > max_batch => {
            METRICS.refused("batchSize");
            Err(Refusal::bad_request(format!(
                "a batch holds at most {max_batch} operations (this one has {})",
                items.len()
            )))
        }
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(params) => from_params(params, false),
                _ => Err(Refusal::bad_request(format!(
                    "operation {i} of the batch must be a JSON object with a `query`"
                ))),
            })
            .collect::<Result<_, _>>()
            .map(Operations::Batch),
        _ => Err(Refusal::bad_request(
            "the body must be a JSON object with a `query`, or an array of them",
        )),
    }
}

fn from_query_string(query: &str) -> Result<Incoming, Refusal> {
    let mut params = Map::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if params
            .insert(key.clone().into_owned(), Value::String(value.into_owned()))
            .is_some()
        {
            return Err(Refusal::bad_request(format!(
                "the parameter `{key}` is given twice"
            )));
        }
    }
    from_params(params, true)
}

/// An operation as the client sent it: its text, or the id that names it, or both.
struct Incoming {
    /// The request; its `query` is empty when only an id names the document.
    request: async_graphql::Request,
    /// Whether `query` was sent.
    has_text: bool,
    /// The id that names the document, if one was sent.
    id: Option<DocumentId>,
}

/// How a request names its document instead of (or besides) sending its text.
enum DocumentId {
    /// `extensions.persistedQuery.sha256Hash` (Apollo's automatic persisted queries,
    /// GraphQL Codegen's persisted documents).
    Sha256(String),
    /// `documentId` (the GraphQL-over-HTTP draft) or `doc_id` (Relay's examples):
    /// the id of a trusted document.
    Trusted(String),
}

/// A document sent with its hash and not yet registered: kept once it has run.
struct Registering {
    sha256: String,
    document: String,
}

/// The request with the text of its document, found by the id it sent when it sent
/// no text; with a hash sent beside the text checked, and what to register.
async fn named_document(
    state: &AppState,
    incoming: Incoming,
) -> Result<(async_graphql::Request, Option<Registering>), async_graphql::ServerError> {
    let Incoming {
        mut request,
        has_text,
        id,
    } = incoming;
    let store = &state.persisted;
    let bad = |message: &str| ApiError::bad_input(message).into_server_error(None);
    match id {
        None => Ok((request, None)),
        Some(DocumentId::Sha256(sha256)) if has_text => {
            if sha256_hex(&request.query) != sha256 {
                return Err(bad(
                    "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of `query`: \
                     hash the exact text sent",
                ));
            }
            let registering = store.registers().then(|| Registering {
                sha256,
                document: request.query.clone(),
            });
            Ok((request, registering))
        }
        Some(DocumentId::Trusted(_)) if has_text => Err(bad(
            "send a trusted document's `documentId` or a `query`, not both",
        )),
        Some(DocumentId::Sha256(id) | DocumentId::Trusted(id)) => {
            match store
                .find(&id)
                .await
                .map_err(|error| ApiError::from_database(&error).into_server_error(None))?
            {
                Ok(document) => {
                    request.query = document.to_string();
                    Ok((request, None))
                }
                Err(Missing::NotFound) => Err(ApiError::PersistedQueryNotFound(format!(
                    "no persisted query has the id `{id}`: send it again with its `query`"
                ))
                .into_server_error(None)),
                Err(Missing::NotSupported) => Err(ApiError::PersistedQueryNotSupported(
                    "persisted queries are switched off here: send the `query`".into(),
                )
                .into_server_error(None)),
            }
        }
    }
}

/// Reads the GraphQL parameters; in a URL, `variables` and `extensions` are JSON text.
fn from_params(mut params: Map<String, Value>, encoded: bool) -> Result<Incoming, Refusal> {
    let (query, has_text) = match params.remove("query") {
        Some(Value::String(query)) => (query, true),
        None | Some(Value::Null) => (String::new(), false),
        Some(_) => return Err(Refusal::bad_request("`query` must be a string")),
    };
    let mut request = async_graphql::Request::new(query);
    match params.remove("operationName") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) if encoded && name.is_empty() => {}
        Some(Value::String(name)) => request = request.operation_name(name),
        Some(_) => return Err(Refusal::bad_request("`operationName` must be a string")),
    }
    if let Some(variables) = object_param(&mut params, "variables", encoded)? {
        request = request.variables(Variables::from_json(Value::Object(variables)));
    }
    let mut id = None;
    if let Some(mut extensions) = object_param(&mut params, "extensions", encoded)? {
        if let Some(persisted) = extensions.remove("persistedQuery") {
            id = Some(DocumentId::Sha256(persisted_query_hash(persisted)?));
        }
        let extensions = serde_json::from_value(Value::Object(extensions))
            .map_err(|_| Refusal::bad_request("`extensions` must be an object"))?;
        request.extensions = extensions;
    }
    for name in ["documentId", "doc_id"] {
        match params.remove(name) {
            None | Some(Value::Null) => {}
            Some(Value::String(document)) if id.is_none() && !document.is_empty() => {
                id = Some(DocumentId::Trusted(document));
            }
            Some(Value::String(_)) if id.is_some() => {
                return Err(Refusal::bad_request(
                    "name the document once: by `documentId`, `doc_id` or \
                     `extensions.persistedQuery`",
                ));
            }
            Some(_) => {
                return Err(Refusal::bad_request(format!(
                    "`{name}` must be a non-empty string"
                )));
            }
        }
    }
    if !has_text && id.is_none() {
        return Err(Refusal::bad_request("the request has no `query`"));
    }
    Ok(Incoming {
        request,
        has_text,
        id,
    })
}

/// The hash of `extensions.persistedQuery`: `{"version": 1, "sha256Hash": "<hex>"}`.
fn persisted_query_hash(persisted: Value) -> Result<String, Refusal> {
    let wrong = || {
        Refusal::bad_request(
            "`extensions.persistedQuery` must be `{\"version\": 1, \"sha256Hash\": \"<64 \
             lowercase hexadecimal digits>\"}`",
        )
    };
    let Value::Object(mut persisted) = persisted else {
        return Err(wrong());
    };
    if persisted.get("version").and_then(Value::as_u64) != Some(1) {
        return Err(wrong());
    }
    match persisted.remove("sha256Hash") {
        Some(Value::String(hash)) if is_sha256_hex(&hash) => Ok(hash),
        _ => Err(wrong()),
    }
}

fn object_param(
    params: &mut Map<String, Value>,
    name: &str,
    encoded: bool,
) -> Result<Option<Map<String, Value>>, Refusal> {
    let value = match params.remove(name) {
        Some(Value::String(text)) if encoded => {
            if text.is_empty() {
                return Ok(None);
            }
            serde_json::from_str(&text)
                .map_err(|_| Refusal::bad_request(format!("`{name}` must be a JSON object")))?
        }
        Some(value) => value,
        None => return Ok(None),
    };
    match value {
        Value::Object(map) => Ok(Some(map)),
        Value::Null => Ok(None),
        _ => Err(Refusal::bad_request(format!("`{name}` must be an object"))),
    }
}

/// Whether the operation a request runs is a query (not a mutation or subscription).
fn is_query(request: &mut async_graphql::Request) -> bool {
    operation_of(request).0
}

/// Whether the operation a request runs is a query (not a mutation or
/// subscription), and its name when it has one. A document that does not parse
/// counts as an anonymous query: execution reports its errors.
fn operation_of(request: &mut async_graphql::Request) -> (bool, Option<async_graphql::Name>) {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    // Taken out and put back, not cloned: the document borrows the request.
    let sent = request.operation_name.take();
    // Parsed by the gate already (which bounds its nesting), or unparsable.
    let found = match request.parsed_query() {
        Err(_) => (true, None),
        Ok(document) => {
            let (name, operation) = match (&document.operations, &sent) {
                (DocumentOperations::Single(operation), _) => (None, Some(operation)),
                (DocumentOperations::Multiple(operations), Some(sent)) => {
                    match operations.get_key_value(sent.as_str()) {
                        Some((name, operation)) => (Some(name.clone()), Some(operation)),
                        None => (None, None),
                    }
                }
                (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
                    match operations.iter().next() {
                        Some((name, operation)) => (Some(name.clone()), Some(operation)),
                        None => (None, None),
                    }
                }
                (DocumentOperations::Multiple(_), None) => (None, None),
            };
            let query = operation.is_none_or(|op| op.node.ty == OperationType::Query);
            (query, name)
        }
    };
    request.operation_name = sent;
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Option<Media> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_str(value).unwrap());
        Media::negotiate(&headers)
    }

    #[test]
    fn accept_prefers_the_graphql_response_type() {
        assert_eq!(Media::negotiate(&HeaderMap::new()), Some(Media::Json));
        assert_eq!(accept("application/json"), Some(Media::Json));
        assert_eq!(accept(GRAPHQL_RESPONSE_JSON), Some(Media::GraphqlResponse));
        assert_eq!(
            accept("application/json, application/graphql-response+json"),
            Some(Media::GraphqlResponse)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0.5, application/json"),
            Some(Media::Json)
        );
        assert_eq!(accept("*/*"), Some(Media::Json));
        assert_eq!(
            accept("*/*, application/graphql-response+json"),
            Some(Media::GraphqlResponse)
        );
        assert_eq!(accept("text/html"), None);
    }
}
