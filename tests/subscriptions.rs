//! Subscriptions over WebSocket (graphql-transport-ws): delivery, filters, auth,
//! and, on PostgreSQL, delivery across two instances of the service.

mod common;

use std::time::Duration;

use common::ws::{Socket, connect, next, send, until_listening};
use common::{Backend, TestApp, gid};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const CREATE_COMMENT: &str =
    "mutation($input: CreateCommentInput!) { createComment(input: $input) { id } }";

async fn subscribe(socket: &mut Socket, query: &str) {
    let ack = next(socket, Duration::from_secs(5))
        .await
        .expect("connection_ack");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    send(
        socket,
        json!({"id": "1", "type": "subscribe", "payload": {"query": query}}),
    )
    .await;
    // Let the subscription register before anything is published.
    tokio::time::sleep(Duration::from_millis(600)).await;
}

async fn comment(app: &TestApp, user: i32, post: i32, body: &str) {
    let token = app.token_for(user);
    let input = json!({"input": {"postId": gid("Post", post), "body": body}});
    app.write(Some(&token), CREATE_COMMENT, input).await;
}

async fn comments_on_a_post_reach_its_subscribers(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let address = TestApp::serve(app.router.clone()).await;
    let mut socket = connect(address, json!({})).await;
    let query = format!(
        r#"subscription {{ commentAdded(postId: "{}") {{ body author {{ name }} post {{ title }} }} }}"#,
        gid("Post", 4)
    );
    subscribe(&mut socket, &query).await;
    comment(&app, 3, 1, "on another post").await;
    comment(&app, 3, 4, "on Bob's post").await;
    let message = next(&mut socket, Duration::from_secs(10))
        .await
        .expect("a comment");
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(
        message["payload"]["data"]["commentAdded"],
        json!({"body": "on Bob's post", "author": {"name": "Carol"}, "post": {"title": "Bob's post"}})
    );
}

async fn published_posts_reach_subscribers_once(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let address = TestApp::serve(app.router.clone()).await;
    let token = app.token_for(1);
    let mut socket = connect(address, json!({"Authorization": format!("Bearer {token}")})).await;
    subscribe(
        &mut socket,
        "subscription { postPublished { title author { name } } }",
    )
    .await;
    let draft = json!({"input": {"title": "Draft", "body": "b"}});
    app.write(
        Some(&token),
        "mutation($input: CreatePostInput!) { createPost(input: $input) { id } }",
        draft,
    )
    .await;
    let publish = json!({"input": {"id": gid("Post", 2), "published": true}});
    let update = "mutation($input: UpdatePostInput!) { updatePost(input: $input) { id } }";
    app.write(Some(&token), update, publish.clone()).await;
    app.write(Some(&token), update, publish).await;
    let message = next(&mut socket, Duration::from_secs(10))
        .await
        .expect("a post");
    assert_eq!(
        message["payload"]["data"]["postPublished"],
        json!({"title": "Draft notes", "author": {"name": "Alice"}})
    );
    assert!(
        next(&mut socket, Duration::from_millis(700))
            .await
            .is_none(),
        "publishing twice announces once; drafts not at all"
    );
}

async fn a_bad_token_in_connection_init_closes_the_connection(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let address = TestApp::serve(app.router.clone()).await;
    let mut socket = connect(address, json!({"Authorization": "Bearer forged"})).await;
    let closed = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("an answer");
    match closed {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 4403),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

/// A token that cannot be checked because the database does not answer closes the
/// connection with 1013 "try again later", which clients retry; not with 4403,
/// which tells them the token is bad.
async fn an_unverifiable_token_closes_the_connection_to_be_retried(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let address = TestApp::serve(app.router.clone()).await;
    let token = app.token_for(1);
    app.db.close_by_ref().await.unwrap();
    let mut socket = connect(address, json!({"Authorization": format!("Bearer {token}")})).await;
    let closed = tokio::time::timeout(Duration::from_secs(15), socket.next())
        .await
        .expect("an answer");
    match closed {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 1013, "{frame:?}")
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
}

async fn shutdown_closes_subscriptions_with_a_close_frame(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let address = TestApp::serve(app.router.clone()).await;
    let mut socket = connect(address, json!({})).await;
    subscribe(&mut socket, "subscription { postPublished { id } }").await;
    let shutdown = app.shutdown.clone();
    let drained = tokio::spawn(async move {
        shutdown.begin();
        shutdown.drained(Duration::from_secs(5)).await;
    });
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("an answer")
        {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => break other,
        }
    };
    match closed {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 1001);
            assert_eq!(frame.reason, "the server is shutting down");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    drop(socket);
    tokio::time::timeout(Duration::from_secs(5), drained)
        .await
        .expect("the server stops waiting once the session ended")
        .unwrap();
}

async fn subscriptions_pass_the_same_limits(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let address = TestApp::serve(app.router.clone()).await;
    let mut socket = connect(address, json!({})).await;
    let aliases: String = (0..600).map(|i| format!("a{i}: id ")).collect();
    subscribe(
        &mut socket,
        &format!("subscription {{ postPublished {{ {aliases} }} }}"),
    )
    .await;
    let message = next(&mut socket, Duration::from_secs(5))
        .await
        .expect("an answer");
    // The refusal comes as the subscription's one result, before anything runs.
    assert_eq!(message["type"], "next", "{message}");
    assert!(message["payload"]["data"].is_null(), "{message}");
    let error = &message["payload"]["errors"][0];
    assert_eq!(error["extensions"]["code"], "TOO_COMPLEX", "{message}");
    assert_eq!(error["extensions"]["limit"], "fields", "{message}");
}

async fn a_subscription_over_post_is_refused_cleanly(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let (code, _) = app.error("subscription { postPublished { id } }").await;
    assert_eq!(code, "BAD_USER_INPUT");
}

on_every_backend!(
    subscriptions_pass_the_same_limits,
    shutdown_closes_subscriptions_with_a_close_frame,
    comments_on_a_post_reach_its_subscribers,
    published_posts_reach_subscribers_once,
    a_bad_token_in_connection_init_closes_the_connection,
    an_unverifiable_token_closes_the_connection_to_be_retried,
    a_subscription_over_post_is_refused_cleanly,
);

/// Two instances over one PostgreSQL database: a comment written through one
/// reaches a subscriber connected to the other, through LISTEN/NOTIFY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_comments_travel_between_instances() {
    if !Backend::Postgres.enabled() {
        return;
    }
    let writer = TestApp::with_fixture(Backend::Postgres).await;
    let reader = TestApp::serve(writer.second_instance().await).await;
    let mut socket = connect(reader, json!({})).await;
    subscribe(
        &mut socket,
        "subscription { commentAdded { body author { name } } }",
    )
    .await;
    comment(&writer, 2, 1, "written through the other instance").await;
    let message = next(&mut socket, Duration::from_secs(10))
        .await
        .expect("the comment, across instances");
    assert_eq!(
        message["payload"]["data"]["commentAdded"],
        json!({"body": "written through the other instance", "author": {"name": "Bob"}})
    );
}

/// On PostgreSQL the database writes each event with its change: a comment written
/// by plain SQL reaches subscribers, and comments written while an instance's
/// listener was cut off reach its subscribers once each when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_events_come_with_the_change_and_survive_a_lost_listener() {
    if !Backend::Postgres.enabled() {
        return;
    }
    let app = TestApp::with_fixture(Backend::Postgres).await;
    let address = TestApp::serve(app.router.clone()).await;
    let mut socket = connect(address, json!({})).await;
    let ack = next(&mut socket, Duration::from_secs(5))
        .await
        .expect("an ack");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let query = "subscription { commentAdded { body } }";
    send(
        &mut socket,
        json!({"id": "1", "type": "subscribe", "payload": {"query": query}}),
    )
    .await;
    until_listening(&mut socket, || comment(&app, 2, 1, "ping")).await;
    let body_of = |message: Value| {
        message["payload"]["data"]["commentAdded"]["body"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    app.execute(
        "INSERT INTO comments (body, post_id, user_id, created_at) \
         VALUES ('by plain SQL', 1, 2, now())",
    )
    .await;
    let message = next(&mut socket, Duration::from_secs(10))
        .await
        .expect("an event");
    assert_eq!(body_of(message), "by plain SQL");
    // Cut the instance's listener off, and write while it is away.
    app.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .await;
    let written: Vec<String> = (1..=5).map(|n| format!("while away {n}")).collect();
    for body in &written {
        comment(&app, 2, 1, body).await;
    }
    let mut heard = Vec::new();
    while heard.len() < written.len() {
        let message = next(&mut socket, Duration::from_secs(15))
            .await
            .unwrap_or_else(|| panic!("heard only {heard:?}"));
        heard.push(body_of(message));
    }
    heard.sort();
    assert_eq!(heard, written);
    assert!(
        next(&mut socket, Duration::from_millis(1500))
            .await
            .is_none(),
        "each event once"
    );
}
