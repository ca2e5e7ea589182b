//! Processes of a test's own (`relgql serve`, nginx, pgbouncer), stopped when the
//! test ends or fails, and a plain HTTP client for talking to them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::{Child, Command};

use super::postgres::free_port;

/// A child process, stopped when dropped (also when the test fails): asked with
/// SIGTERM (nginx's master then stops its workers, which a SIGKILL would orphan),
/// killed if it has not exited within 5 s. What it writes goes to a log file, kept
/// when the test fails (its path is printed) and removed otherwise.
pub struct Process {
    child: Child,
    what: String,
    log: PathBuf,
}

impl Process {
    /// Starts `command`, called `what` in messages.
    pub fn spawn(command: &mut Command, what: &str) -> Self {
        let log = std::env::temp_dir().join(format!(
            "relgql-test-{}-{}.log",
            std::process::id(),
            rand::random::<u32>()
        ));
        let file = std::fs::File::create(&log).expect("a log file");
        let child = command
            .kill_on_drop(true)
            .stdout(file.try_clone().expect("a log file"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Self {
            child,
            what: what.to_owned(),
            log,
        }
    }

    /// Waits until `GET path` on `address` answers 200, polling for up to 30 s.
    pub async fn ready(&mut self, address: SocketAddr, path: &str) {
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

impl Process {
    /// Kills it at once, as a crash would.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Whether it has exited.
    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{} wrote its log to {}", self.what, self.log.display());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
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

/// A `relgql serve` process (the binary of this build) with the environment `env`,
/// on a free port, once it is ready; it migrates nothing unless `env` says so.
pub async fn relgql(env: &[(&str, &str)], name: &str) -> (Process, SocketAddr) {
    let address = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut command = Command::new(env!("CARGO_BIN_EXE_relgql"));
    command
        .env("LISTEN_ADDR", address.to_string())
        .env("MIGRATE_ON_START", "false")
        .env_remove("JWT_SECRET")
        .envs(env.iter().copied())
        .arg("serve");
    let mut process = Process::spawn(&mut command, name);
    process.ready(address, "/readyz").await;
    (process, address)
}

/// A plain HTTP/1.0 GET (so that no server chunks the body); the status and the body.
pub async fn get(address: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    exchange(
        address,
        &format!("GET {path} HTTP/1.0\r\nHost: relgql\r\n\r\n"),
    )
    .await
}

/// A GraphQL POST over HTTP/1.0 to `address`, signed in with `token` unless it is
/// empty; the status and the JSON body.
pub async fn post(address: SocketAddr, token: &str, query: &str, variables: Value) -> (u16, Value) {
    let authorization = format!("Bearer {token}");
    let headers: &[(&str, &str)] = if token.is_empty() {
        &[]
    } else {
        &[("Authorization", &authorization)]
    };
    post_with_headers(address, headers, query, variables).await
}

/// A GraphQL POST over HTTP/1.0 to `address` with these extra `headers`; the status
/// and the JSON body.
pub async fn post_with_headers(
    address: SocketAddr,
    headers: &[(&str, &str)],
    query: &str,
    variables: Value,
) -> (u16, Value) {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let request = format!(
        "POST /graphql HTTP/1.0\r\nHost: relgql\r\n\
         Content-Type: application/json\r\n{headers}\
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
