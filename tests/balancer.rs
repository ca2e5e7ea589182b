//! Two `relgql serve` processes behind nginx (Debian's, with `deploy/nginx.conf`),
//! on PostgreSQL: HTTP and WebSocket pass through, a subscriber on either instance
//! hears a comment written through either, and when one instance dies the balancer
//! sends requests to the other.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::postgres::{Scratch, free_port};
use common::process::{Process, post, relgql};
use common::{Backend, TestApp, gid, ws};
use serde_json::json;
use tokio::process::Command;

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

const CREATE_COMMENT: &str =
    "mutation($input: CreateCommentInput!) { createComment(input: $input) { id } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_nginx_either_instance_serves_and_subscribers_hear_either() {
    if !Backend::Postgres.enabled() {
        return;
    }
    let app = TestApp::with_fixture(Backend::Postgres).await;
    let scratch = Scratch::new("nginx");
    let env = [("DATABASE_URL", app.url())];
    let (_first, a) = relgql(&env, "the first instance").await;
    let (mut second, b) = relgql(&env, "the second instance").await;
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
    second.kill().await;
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
