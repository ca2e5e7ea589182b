//! Stopping the server (SIGTERM): a request in flight finishes and gets its answer,
//! then the process exits cleanly.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{Backend, TestApp};
use sea_orm::{ConnectionTrait, TransactionTrait};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// POSTs a GraphQL query over a fresh connection; returns the raw HTTP response.
async fn post(address: &str, query: &str) -> std::io::Result<String> {
    let body = serde_json::json!({ "query": query }).to_string();
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_request_in_flight_finish() {
    if !Backend::Postgres.enabled() {
        return;
    }
    let app = TestApp::with_fixture(Backend::Postgres).await;
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let address = format!("127.0.0.1:{port}");
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_relgql"))
        .arg("serve")
        .env("DATABASE_URL", app.url())
        .env("LISTEN_ADDR", &address)
        .env("RUST_LOG", "info")
        .env("LOG_FORMAT", "text")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start relgql");
    let mut up = false;
    for _ in 0..100 {
        if post(&address, "{ __typename }")
            .await
            .is_ok_and(|r| r.contains("200 OK"))
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server came up");

    // A request that waits on a lock, so that it is in flight when the signal comes.
    let other = app.other_pool().await;
    let lock = other.begin().await.unwrap();
    lock.execute_unprepared("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let in_flight = tokio::spawn({
        let address = address.clone();
        async move { post(&address, "{ users { totalCount } }").await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = server.id().expect("a pid").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!in_flight.is_finished(), "still waiting on the lock");
    lock.rollback().await.unwrap();

    let response = tokio::time::timeout(Duration::from_secs(10), in_flight)
        .await
        .expect("the request finished")
        .unwrap()
        .expect("an HTTP response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains(r#"{"data":{"users":{"totalCount":4}}}"#),
        "{response}"
    );

    let status = tokio::time::timeout(Duration::from_secs(10), server.wait())
        .await
        .expect("the server exited")
        .unwrap();
    assert!(status.success(), "{status}");
    let mut log = String::new();
    server
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .await
        .unwrap();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .await
        .unwrap();
    assert!(log.contains("stopped gracefully"), "{log}");
}
