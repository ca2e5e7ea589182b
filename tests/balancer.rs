//! Two `relgql serve` processes behind nginx (Debian's, with `deploy/nginx.conf`),
//! on PostgreSQL: HTTP and WebSocket pass through, a subscriber on either instance
//! hears a comment written through either, and when one instance dies the balancer
//! sends requests to the other.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::postgres::{Scratch, free_port};
use common::{Backend, TestApp, gid, ws};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::{Child, Command};

/// A child process, stopped when dropped (also when the test fails): asked with
/// SIGTERM (nginx's master then stops its workers, which a SIGKILL would orphan),
/// killed if it has not exited within 5 s.
struct Process {
    child: Child,
    what: String,
}

impl Process {
    fn spawn(command: &mut Command, what: &str) -> Self {
        let child = command
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Self {
            child,
            what: what.to_owned(),
        }
    }

    /// Waits until `GET path` on `address` answers 200, polling for up to 30 s.
    async fn ready(&mut self, address: SocketAddr, path: &str) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited ({status}) before it was ready", self.what);
            }
            if get(address, path)
                .await
                .is_ok_and(|(status, _)| status == 200)
            {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "gave up after 30 s waiting for {} to answer 200 on {path}",
                self.what
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let Some(pid) = self.child.id() else { return };
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.start_kill();
    }
}

/// A `relgql serve` process over `database_url` on a free port.
async fn instance(database_url: &str, name: &str) -> (Process, SocketAddr) {
    let address = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut process = Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_relgql"))
            .env("DATABASE_URL", database_url)
            .env("LISTEN_ADDR", address.to_string())
            .env("MIGRATE_ON_START", "false")
            .env_remove("JWT_SECRET")
            .arg("serve"),
        name,
    );
    process.ready(address, "/readyz").await;
    (process, address)
}

/// nginx with `deploy/nginx.conf`, balancing `upstreams`, on a free port.
async fn nginx(scratch: &Path, upstreams: [SocketAddr; 2]) -> (Process, SocketAddr) {
    let address = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let config = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/nginx.conf"))
        .expect("deploy/nginx.conf")
        .replace("127.0.0.1:8001", &upstreams[0].to_string())
        .replace("127.0.0.1:8002", &upstreams[1].to_string())
        .replace("127.0.0.1:8080", &address.to_string())
        .replace("worker_processes auto;", "worker_processes 1;");
    let path = scratch.join("nginx.conf");
    std::fs::write(&path, config).expect("write the nginx configuration");
    let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("nginx is installed (Debian's package nginx; .ci/run installs it)");
    let mut process = Process::spawn(
        Command::new(binary)
            .arg("-p")
            .arg(scratch)
            .arg("-c")
            .arg(&path)
            .args(["-g", "daemon off;"]),
        "nginx",
    );
    process.ready(address, "/readyz").await;
    (process, address)
}

/// A plain HTTP/1.0 GET (so that no server chunks the body); the status and the body.
async fn get(address: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    exchange(
        address,
        &format!("GET {path} HTTP/1.0\r\nHost: relgql\r\n\r\n"),
    )
    .await
}

/// A GraphQL POST over HTTP/1.0 to `address`; the status and the JSON body.
async fn post(address: SocketAddr, token: &str, query: &str, variables: Value) -> (u16, Value) {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let request = format!(
        "POST /graphql HTTP/1.0\r\nHost: relgql\r\n\
         Content-Type: application/json\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, body) = exchange(address, &request).await.expect("an answer");
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

async fn exchange(address: SocketAddr, request: &str) -> std::io::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .map_err(|_| std::io::Error::other("no answer within 10 s"))??;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not HTTP: {answer}")))?;
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    Ok((status, body.to_owned()))
}

const CREATE_COMMENT: &str =
    "mutation($input: CreateCommentInput!) { createComment(input: $input) { id } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_nginx_either_instance_serves_and_subscribers_hear_either() {
    if !Backend::Postgres.enabled() {
        return;
    }
    let app = TestApp::with_fixture(Backend::Postgres).await;
    let scratch = Scratch::new("nginx");
    let (_first, a) = instance(app.url(), "the first instance").await;
    let (mut second, b) = instance(app.url(), "the second instance").await;
    let (_nginx, balancer) = nginx(&scratch.path, [a, b]).await;
    let token = app.token_for(2);
    let write = |body: String| {
        let token = token.clone();
        async move {
            let input = json!({"input": {"postId": gid("Post", 1), "body": body}});
            let (status, answer) = post(balancer, &token, CREATE_COMMENT, input).await;
            assert_eq!(status, 200, "{answer}");
            assert!(answer.get("errors").is_none(), "{answer}");
        }
    };
    // Subscribers on each instance directly, and one through nginx.
    let subscription = "subscription { commentAdded { body } }";
    let mut sockets = Vec::new();
    for address in [a, b, balancer] {
        let mut socket = ws::connect(address, json!({})).await;
        let ack = ws::next(&mut socket, Duration::from_secs(5))
            .await
            .expect("an ack");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws::send(
            &mut socket,
            json!({"id": "1", "type": "subscribe", "payload": {"query": subscription}}),
        )
        .await;
        sockets.push(socket);
    }
    for socket in &mut sockets {
        ws::until_listening(socket, || write("ping".into())).await;
    }
    for socket in &mut sockets {
        while ws::next(socket, Duration::from_millis(300)).await.is_some() {}
    }
    // Round robin: consecutive writes go through both instances.
    let bodies: Vec<String> = (1..=4).map(|n| format!("comment {n}")).collect();
    for body in &bodies {
        write(body.clone()).await;
    }
    for (n, socket) in sockets.iter_mut().enumerate() {
        let mut heard = Vec::new();
        while heard.len() < bodies.len() {
            let message = ws::next(socket, Duration::from_secs(10))
                .await
                .unwrap_or_else(|| panic!("subscriber {n} heard only {heard:?}"));
            heard.push(
                message["payload"]["data"]["commentAdded"]["body"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        assert_eq!(heard, bodies, "subscriber {n}");
    }
    // One instance dies: every request through nginx is still answered.
    second.child.kill().await.expect("kill the second instance");
    let query = "{ posts { totalCount } }";
    for attempt in 0..6 {
        let (status, answer) = post(balancer, &token, query, json!({})).await;
        assert_eq!(status, 200, "attempt {attempt}: {answer}");
        assert!(
            answer["data"]["posts"]["totalCount"].is_number(),
            "{answer}"
        );
    }
}
