//! A graphql-transport-ws client for the subscription tests.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A WebSocket to the service.
pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// A subscriber connected to `address`, initialised with `payload`.
pub async fn connect(address: std::net::SocketAddr, payload: Value) -> Socket {
    let mut request = format!("ws://{address}/graphql")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("a WebSocket");
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    send(
        &mut socket,
        json!({"type": "connection_init", "payload": payload}),
    )
    .await;
    socket
}

/// Sends one message.
pub async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next text message, as JSON; `None` on close or after `wait`.
pub async fn next(socket: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(wait, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return Some(serde_json::from_str(&text).unwrap()),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            _ => return None,
        }
    }
}

/// Waits until `socket`'s subscription listens: a subscription starts listening a
/// moment after it is sent, and no message tells when. `poke` writes something it
/// delivers; this pokes until a delivery arrives (or gives up), then drains.
pub async fn until_listening<F: std::future::Future<Output = ()>>(
    socket: &mut Socket,
    poke: impl Fn() -> F,
) {
    for _ in 0..100 {
        poke().await;
        if next(socket, Duration::from_millis(100)).await.is_some() {
            while next(socket, Duration::from_millis(300)).await.is_some() {}
            return;
        }
    }
    panic!("the subscription delivered nothing after 100 writes");
}
