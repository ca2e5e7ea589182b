//! Subscriptions over WebSocket on `/graphql` (`graphql-transport-ws`, and the older
//! `subscriptions-transport-ws`). The bearer token comes in the `connection_init`
//! payload, as `{"Authorization": "Bearer <token>"}` (or `authorization`, or
//! `token`); a bad one closes the connection with 4403 Forbidden, one that cannot be
//! checked while the database does not answer with 1013 (try again later).

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocket, WebSocketProtocols, WsMessage};
use async_graphql::{Data, Executor};
use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
use axum::http::header::SEC_WEBSOCKET_PROTOCOL;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::BoxStream;
use futures_util::{SinkExt, StreamExt, future};
use serde_json::Value;

use super::AppState;
use super::graphql::bearer_user;
use crate::api::AppSchema;
use crate::db::CountingDb;
use crate::engine::gate::Gate;
use crate::engine::request::RequestState;
use crate::error::ApiError;
use crate::metrics::METRICS;

/// The close code for a connection whose token is refused at `connection_init`
/// (graphql-transport-ws): clients do not try again with it.
const FORBIDDEN: u16 = 4403;

/// The close code for a connection whose token could not be checked (the database
/// did not answer): RFC 6455's "try again later", which clients retry.
const TRY_AGAIN_LATER: u16 = 1013;

/// The close code for a connection refused for an error of the server's own.
const INTERNAL_ERROR: u16 = 1011;

/// The close code for sessions ended by the server stopping (RFC 6455: going away).
const GOING_AWAY: u16 = 1001;

/// Accepts a WebSocket for subscriptions, if it speaks a GraphQL protocol.
pub fn upgrade(state: AppState, upgrade: WebSocketUpgrade, headers: &HeaderMap) -> Response {
    let Some(protocol) = protocol(headers) else {
        return (
            StatusCode::BAD_REQUEST,
            "ask for the graphql-transport-ws subprotocol (Sec-WebSocket-Protocol)",
        )
            .into_response();
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(state, socket, protocol))
}

fn protocol(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get(SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
}

async fn serve(
    state: AppState,
    socket: axum::extract::ws::WebSocket,
    protocol: WebSocketProtocols,
) {
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|message| future::ready(message.is_ok()))
        .filter_map(|message| {
            future::ready(match message {
                Ok(message @ (Message::Text(_) | Message::Binary(_))) => Some(message.into_data()),
                _ => None,
            })
        });
    // The close code of a connection refused at `connection_init`; 0 while none is.
    let refused = Arc::new(AtomicU16::new(0));
    let shutdown = state.shutdown.clone();
    let executor = Gated {
        schema: state.schema.clone(),
        gate: state.gate.clone(),
    };
    let on_init = {
        let refused = refused.clone();
        move |payload| connection_data(state, payload, refused)
    };
    let output = WebSocket::new(executor, input, protocol)
        .on_connection_init(on_init)
        .map(|message| match message {
            WsMessage::Text(text) => Message::Text(text.into()),
            WsMessage::Close(code, reason) => {
                let code = match refused.load(Ordering::Acquire) {
                    0 => code,
                    refused => refused,
                };
                Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                }))
            }
        });
    futures_util::pin_mut!(output);
    let _session = shutdown.session();
    loop {
        let message = tokio::select! {
            message = output.next() => message,
            () = shutdown.begun() => {
                let close = Message::Close(Some(CloseFrame {
                    code: GOING_AWAY,
                    reason: "the server is shutting down".into(),
                }));
                let _ = sink.send(close).await;
                break;
            }
        };
        let Some(message) = message else { break };
        if sink.send(message).await.is_err() {
            break;
        }
    }
}

/// The connection's state, signed in as the token in the init payload (if any).
async fn connection_data(
    state: AppState,
    payload: Value,
    refused: Arc<AtomicU16>,
) -> async_graphql::Result<Data> {
    let authorization = ["Authorization", "authorization"]
        .iter()
        .find_map(|key| payload.get(key).and_then(Value::as_str).map(str::to_owned))
        .or_else(|| {
            payload
                .get("token")
                .and_then(Value::as_str)
                .map(|t| format!("Bearer {t}"))
        });
    let viewer = match authorization {
        Some(value) => match bearer_user(&state.tokens, &value).await {
            Ok(user) => Some(user),
            Err(error) => {
                let code = match error {
                    ApiError::Unauthenticated(_) => FORBIDDEN,
                    ApiError::Unavailable(_) | ApiError::Timeout(_) => TRY_AGAIN_LATER,
                    _ => INTERNAL_ERROR,
                };
                refused.store(code, Ordering::Release);
                return Err(error.into());
            }
        },
        None => None,
    };
    let mut data = Data::default();
    data.insert(RequestState::for_connection(
        CountingDb::for_connection(state.db, &state.warm),
        state.tokens,
        state.events,
        viewer,
    ));
    Ok(data)
}

/// The schema behind the [`Gate`]: subscriptions pass the same limits as queries.
#[derive(Clone)]
struct Gated {
    schema: AppSchema,
    gate: Arc<Gate<AppSchema>>,
}

impl Executor for Gated {
    async fn execute(&self, mut request: async_graphql::Request) -> async_graphql::Response {
        match self.gate.prepare(&mut request) {
            Ok(pass) => self.gate.execute(&self.schema, &pass, request).await,
            Err(error) => async_graphql::Response::from_errors(vec![error]),
        }
    }

    fn execute_stream(
        &self,
        mut request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        match self.gate.prepare(&mut request) {
            Ok(_) => {
                let open = METRICS.subscription_opened();
                Executor::execute_stream(&self.schema, request, session_data)
                    .map(move |answer| {
                        let _open = &open;
                        answer
                    })
                    .boxed()
            }
            Err(error) => futures_util::stream::once(future::ready(
                async_graphql::Response::from_errors(vec![error]),
            ))
            .boxed(),
        }
    }
}
