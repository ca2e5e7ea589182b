//! PostgreSQL servers of a test's own, from the machine's PostgreSQL binaries, on
//! free loopback ports: a primary and a streaming standby, for the tests of read
//! replicas and poolers. The machine's own server on 5432 is not touched. Each
//! server is stopped and its files removed when the value drops, also when the test
//! fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait as _, DatabaseConnection};

/// The directory of the newest installed PostgreSQL's binaries.
fn bin(name: &str) -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let newest = std::fs::read_dir(root)
        .expect("PostgreSQL's binaries under /usr/lib/postgresql")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .max()
        .expect("a PostgreSQL version under /usr/lib/postgresql");
    root.join(newest.to_string()).join("bin").join(name)
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

/// `program` run as the `postgres` user when the tests run as root (PostgreSQL and
/// pgbouncer refuse to run as root). `setpriv` execs it in its own place, so a
/// signal to the child reaches the program itself.
pub fn as_postgres(program: impl AsRef<std::ffi::OsStr>) -> Command {
    if running_as_root() {
        let mut command = Command::new("setpriv");
        command
            .args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--",
            ])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Runs `command`; panics with its output when it fails.
pub fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot {what}: {e}"));
    assert!(
        output.status.success(),
        "cannot {what}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A free loopback port (free when asked; taken by the caller soon after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A directory of the test's own, writable by the `postgres` user, removed on drop.
pub struct Scratch {
    /// Its path.
    pub path: PathBuf,
}

impl Scratch {
    /// A new empty directory.
    pub fn new(what: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "relgql-{what}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&path).expect("a scratch directory");
        if running_as_root() {
            run(
                Command::new("chown").arg("postgres:").arg(&path),
                "give the scratch directory to postgres",
            );
        }
        Self { path }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// One PostgreSQL server of the test's own.
pub struct Server {
    data: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    stopped: bool,
}

impl Server {
    fn start(data: PathBuf, socket_dir: &Path) -> Self {
        let port = free_port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            socket_dir.display()
        );
        let log = data.with_extension("log");
        run(
            as_postgres(bin("pg_ctl"))
                .arg("start")
                .args(["-w", "-t", "60", "-D"])
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-o", &options]),
            "start a PostgreSQL server (waited up to 60 s for it to accept connections)",
        );
        Self {
            data,
            port,
            stopped: false,
        }
    }

    /// The URL of `database` on this server, as the `postgres` user.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the server at once, as a crash would (`immediate`).
    pub fn kill(&mut self) {
        if !self.stopped {
            self.stopped = true;
            let _ = as_postgres(bin("pg_ctl"))
                .args(["stop", "-m", "immediate", "-D"])
                .arg(&self.data)
                .output();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A primary and one standby streaming from it, with a database `relgql`.
pub struct Replicated {
    /// The primary.
    pub primary: Server,
    /// The standby.
    pub standby: Server,
    // Dropped last: the servers stop before their files go.
    _scratch: Scratch,
}

impl Replicated {
    /// Starts both and waits until the standby streams and has the database.
    pub async fn start() -> Self {
        let scratch = Scratch::new("replicated");
        let primary_data = scratch.path.join("primary");
        run(
            as_postgres(bin("initdb"))
                .args(["-U", "postgres", "--auth=trust", "-D"])
                .arg(&primary_data),
            "initialise a PostgreSQL cluster",
        );
        let primary = Server::start(primary_data, &scratch.path);
        let admin = connect(&primary.url("postgres")).await;
        admin
            .execute_unprepared("CREATE DATABASE relgql")
            .await
            .expect("create the database");
        let standby_data = scratch.path.join("standby");
        run(
            as_postgres(bin("pg_basebackup"))
                .args([
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-X",
                    "stream",
                    "-R",
                    "-c",
                    "fast",
                ])
                .args(["-p", &primary.port.to_string(), "-D"])
                .arg(&standby_data),
            "copy the primary for a standby",
        );
        let standby = Server::start(standby_data, &scratch.path);
        let started = Instant::now();
        loop {
            let streaming = admin
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
                ))
                .await
                .ok()
                .flatten()
                .and_then(|row| row.try_get_by_index::<i64>(0).ok());
            if streaming == Some(1) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the standby did not stream from the primary within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        admin.close().await.ok();
        Self {
            primary,
            standby,
            _scratch: scratch,
        }
    }
}

/// A pool of one on `url`.
pub async fn connect(url: &str) -> DatabaseConnection {
    relgql::db::connect(url, 1)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e:#}"))
}
