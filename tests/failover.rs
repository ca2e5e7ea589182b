//! Failover on the standard PostgreSQL high-availability stack: etcd, two Patroni
//! nodes (`deploy/patroni.yml`) and HAProxy (`deploy/haproxy.cfg`), all Debian's,
//! on loopback ports of the test's own. Two `relgql serve` processes write and read
//! through HAProxy while the primary is killed (`kill -9` of Patroni and
//! PostgreSQL): no acknowledged write is lost, on the new primary nor on the old
//! one once it has rejoined; a write whose outcome is unknown says so; both
//! instances write again by themselves soon after a new primary is reachable; a
//! subscriber hears every acknowledged comment. A negative control (asynchronous
//! replication, the standby held back) shows that the check does see a loss.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::postgres::{Scratch, as_postgres, free_port};
use common::process::{Process, get, post, relgql};
use common::ws;
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};
use tokio::process::Command;

/// One Patroni node: its ports, its data directory and its process.
struct Node {
    name: String,
    rest: u16,
    port: u16,
    data: PathBuf,
    config: PathBuf,
    process: Option<Process>,
}

impl Node {
    fn start(&mut self) {
        let mut command = Command::from(as_postgres("/usr/bin/patroni"));
        command.arg(&self.config);
        self.process = Some(Process::spawn(
            &mut command,
            &format!("Patroni {}", self.name),
        ));
    }

    fn rest(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.rest))
    }

    /// Kills Patroni and its PostgreSQL at once, as a crashed machine.
    async fn crash(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill().await;
        }
        if let Ok(pid) = std::fs::read_to_string(self.data.join("postmaster.pid")) {
            let pid = pid.lines().next().unwrap_or_default().trim().to_owned();
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid])
                .status();
        }
    }
}

/// etcd, two Patroni nodes and HAProxy; stopped (and every PostgreSQL of theirs)
/// when dropped, also when the test fails.
struct Cluster {
    _haproxy: Process,
    nodes: Vec<Node>,
    _etcd: Process,
    // Dropped last: the servers stop before their files go.
    _scratch: Scratch,
    /// HAProxy's port, always the primary.
    port: u16,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            drop(node.process.take());
            let _ = as_postgres("/usr/lib/postgresql/15/bin/pg_ctl")
                .args(["stop", "-m", "immediate", "-D"])
                .arg(&node.data)
                .output();
        }
    }
}

/// Polls `done` every 100 ms for up to `limit`; panics naming `what` when it never is.
async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> F,
) {
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < limit,
            "gave up after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (up to 60 s, naming `what`) until the node whose REST API is at `node`
/// leads: Patroni answers 200 on `/primary` there only.
async fn leads(node: SocketAddr, what: &str) {
    wait_until(what, Duration::from_secs(60), || async move {
        get(node, "/primary")
            .await
            .is_ok_and(|(status, _)| status == 200)
    })
    .await;
}

/// The members of the cluster as `node`'s REST API reports them: (name, role, state).
async fn members(node: SocketAddr) -> Vec<(String, String, String)> {
    let Ok((200, body)) = get(node, "/cluster").await else {
        return Vec::new();
    };
    let cluster: Value = serde_json::from_str(&body).unwrap_or_default();
    cluster["members"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let text = |key: &str| m[key].as_str().unwrap_or_default().to_owned();
            (text("name"), text("role"), text("state"))
        })
        .collect()
}

fn deploy(file: &str) -> String {
    std::fs::read_to_string(format!("{}/deploy/{file}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("deploy/{file}: {e}"))
}

impl Cluster {
    /// Starts the cluster with synchronous replication or without, and a database
    /// `relgql` on it; returns once the standby streams and HAProxy reaches the
    /// primary.
    async fn start(synchronous: bool) -> Self {
        for binary in ["/usr/bin/etcd", "/usr/bin/patroni", "/usr/sbin/haproxy"] {
            assert!(
                std::path::Path::new(binary).exists(),
                "{binary} is installed (Debian's etcd-server, patroni, haproxy; .ci/run installs them)"
            );
        }
        let scratch = Scratch::new("patroni");
        let (client, peer) = (free_port(), free_port());
        let mut etcd = Command::from(as_postgres("/usr/bin/etcd"));
        etcd.args(["--name", "etcd", "--enable-v2=true", "--log-level", "warn"])
            .arg("--data-dir")
            .arg(scratch.path.join("etcd"))
            .args([
                "--listen-client-urls",
                &format!("http://127.0.0.1:{client}"),
            ])
            .args([
                "--advertise-client-urls",
                &format!("http://127.0.0.1:{client}"),
            ])
            .args(["--listen-peer-urls", &format!("http://127.0.0.1:{peer}")])
            .args([
                "--initial-advertise-peer-urls",
                &format!("http://127.0.0.1:{peer}"),
            ])
            .args([
                "--initial-cluster",
                &format!("etcd=http://127.0.0.1:{peer}"),
            ]);
        let mut etcd = Process::spawn(&mut etcd, "etcd");
        etcd.ready(SocketAddr::from(([127, 0, 0, 1], client)), "/version")
            .await;

        let mut nodes: Vec<Node> = (1..=2)
            .map(|n| {
                let name = format!("relgql-{n}");
                let (rest, port) = (free_port(), free_port());
                let data = scratch.path.join(&name);
                let mut config = deploy("patroni.yml")
                    .replace("name: relgql-1", &format!("name: {name}"))
                    .replace("127.0.0.1:8008", &format!("127.0.0.1:{rest}"))
                    .replace("127.0.0.1:5433", &format!("127.0.0.1:{port}"))
                    .replace("host: 127.0.0.1:2379", &format!("host: 127.0.0.1:{client}"))
                    .replace(
                        "/var/lib/postgresql/relgql-1.pgpass",
                        &format!("{}.pgpass", data.display()),
                    )
                    .replace("/var/lib/postgresql/relgql-1", &data.display().to_string())
                    .replace("/var/run/postgresql", &scratch.path.display().to_string());
                if !synchronous {
                    // Asynchronous replication, and the standby held back: the primary
                    // acknowledges commits before writing them to disk, and its WAL
                    // writer (whose writes are what streams) waits 10 s or 1 GB.
                    config = config
                        .replace("synchronous_mode: true", "synchronous_mode: false")
                        .replace(
                            "wal_log_hints: \"on\"",
                            "wal_log_hints: \"on\"\n        synchronous_commit: \"off\"\n        wal_writer_delay: 10s\n        \
                             wal_writer_flush_after: 1GB\n        wal_buffers: 64MB",
                        )
                        .replace(
                            "maximum_lag_on_failover: 1048576",
                            "maximum_lag_on_failover: 1099511627776",
                        );
                }
                let path = scratch.path.join(format!("{name}.yml"));
                std::fs::write(&path, config).expect("a Patroni configuration");
                Node {
                    name,
                    rest,
                    port,
                    data,
                    config: path,
                    process: None,
                }
            })
            .collect();
        nodes[0].start();
        let first = nodes[0].rest();
        leads(first, "the first node to lead").await;
        nodes[1].start();
        let standby_role = if synchronous {
            "sync_standby"
        } else {
            "replica"
        };
        wait_until(
            "the second node to stream",
            Duration::from_secs(60),
            || async move {
                members(first).await.iter().any(|(name, role, state)| {
                    name == "relgql-2"
                        && role == standby_role
                        && (state == "running" || state == "streaming")
                })
            },
        )
        .await;

        let port = free_port();
        let config = deploy("haproxy.cfg")
            .replace("127.0.0.1:5000", &format!("127.0.0.1:{port}"))
            .replace("127.0.0.1:5433", &format!("127.0.0.1:{}", nodes[0].port))
            .replace("127.0.0.1:5434", &format!("127.0.0.1:{}", nodes[1].port))
            .replace("check port 8008", &format!("check port {}", nodes[0].rest))
            .replace("check port 8009", &format!("check port {}", nodes[1].rest));
        let path = scratch.path.join("haproxy.cfg");
        std::fs::write(&path, config).expect("a HAProxy configuration");
        let haproxy = Process::spawn(
            Command::new("/usr/sbin/haproxy")
                .arg("-db")
                .arg("-f")
                .arg(&path),
            "HAProxy",
        );
        let cluster = Self {
            _haproxy: haproxy,
            nodes,
            _etcd: etcd,
            _scratch: scratch,
            port,
        };
        let admin = cluster.url("postgres");
        wait_until(
            "HAProxy to reach the primary",
            Duration::from_secs(30),
            || {
                let admin = admin.clone();
                async move { relgql::db::connect(&admin, 1).await.is_ok() }
            },
        )
        .await;
        // A standby refuses it (read-only) until HAProxy's checks have found it out.
        wait_until(
            "the database to be created on the primary",
            Duration::from_secs(30),
            || {
                let admin = admin.clone();
                async move {
                    let Ok(db) = relgql::db::connect(&admin, 1).await else {
                        return false;
                    };
                    let created = db.execute_unprepared("CREATE DATABASE relgql").await;
                    let _ = db.close().await;
                    created.is_ok()
                }
            },
        )
        .await;
        cluster
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Crashes node `leader` and waits until the other one leads; the other's REST
    /// address.
    async fn fail_over(&mut self, leader: usize) -> SocketAddr {
        self.nodes[leader].crash().await;
        let survivor = self.nodes[1 - leader].rest();
        leads(survivor, "the standby to become the primary").await;
        survivor
    }

    /// The index of the node that leads now.
    async fn leader(&self) -> usize {
        for node in &self.nodes {
            if get(node.rest(), "/primary")
                .await
                .is_ok_and(|(status, _)| status == 200)
            {
                return self.nodes.iter().position(|n| n.name == node.name).unwrap();
            }
        }
        panic!("no node leads");
    }
}

/// Runs `relgql` with `args` against `url`; whether it succeeded.
fn relgql_command(url: &str, args: &[&str]) -> bool {
    std::process::Command::new(env!("CARGO_BIN_EXE_relgql"))
        .env("DATABASE_URL", url)
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run relgql")
        .success()
}

const CREATE_COMMENT: &str =
    "mutation($input: CreateCommentInput!) { createComment(input: $input) { id } }";

/// What the writers saw.
#[derive(Default)]
struct Outcomes {
    acknowledged: Vec<(String, Instant, usize)>,
    refused: usize,
    ambiguous: usize,
    other: Vec<String>,
}

/// What a load shares with the test: the writers' outcomes, the readers' counts
/// (answered, failed), and the tasks.
type Load = (
    Arc<Mutex<Outcomes>>,
    Arc<Mutex<(usize, usize)>>,
    Vec<tokio::task::JoinHandle<()>>,
);

/// Writes comments on `post` from `writers` tasks, alternating over `instances`,
/// until `stop`; reads from `readers` tasks the same way.
fn load(
    instances: Vec<SocketAddr>,
    token: String,
    post_id: String,
    writers: usize,
    readers: usize,
    stop: Arc<AtomicBool>,
) -> Load {
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let reads = Arc::new(Mutex::new((0, 0)));
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let (instances, token, post_id, stop, outcomes) = (
            instances.clone(),
            token.clone(),
            post_id.clone(),
            stop.clone(),
            outcomes.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = format!("w{writer}-{n}");
                let at = (writer + n) % instances.len();
                let input = json!({"input": {"postId": post_id, "body": body}});
                let (_, answer) = post(instances[at], &token, CREATE_COMMENT, input).await;
                {
                    let mut outcomes = outcomes.lock().unwrap();
                    match answer["errors"][0]["extensions"]["reason"].as_str() {
                        _ if answer["data"]["createComment"]["id"].is_string() => {
                            outcomes.acknowledged.push((body, Instant::now(), at));
                        }
                        Some("OUTCOME_UNKNOWN") => outcomes.ambiguous += 1,
                        Some("DATABASE_UNAVAILABLE" | "TIMEOUT") => outcomes.refused += 1,
                        _ => outcomes.other.push(answer.to_string()),
                    }
                }
                if answer.get("errors").is_some() {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    for reader in 0..readers {
        let (instances, token, stop, reads) = (
            instances.clone(),
            token.clone(),
            stop.clone(),
            reads.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = reader;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let (_, answer) = post(
                    instances[n % instances.len()],
                    &token,
                    "{ posts(first: 3) { totalCount nodes { title } } }",
                    json!({}),
                )
                .await;
                let mut reads = reads.lock().unwrap();
                if answer["data"]["posts"]["totalCount"].is_number() {
                    reads.0 += 1
                } else {
                    reads.1 += 1
                }
            }
        }));
    }
    (outcomes, reads, tasks)
}

/// The acknowledged bodies that `db` does not hold.
async fn missing(db: &DatabaseConnection, acknowledged: &[String]) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT body FROM comments",
        ))
        .await
        .expect("the comments");
    let present: HashSet<String> = rows
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect();
    acknowledged
        .iter()
        .filter(|b| !present.contains(*b))
        .cloned()
        .collect()
}

/// Stops the load and waits for its tasks; then what the writers saw, the bodies
/// of the acknowledged writes, and those of them the new primary does not hold.
async fn stop_and_check(
    stop: &AtomicBool,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    outcomes: &Mutex<Outcomes>,
    cluster: &Cluster,
) -> (Outcomes, Vec<String>, Vec<String>) {
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("a load task");
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let acknowledged: Vec<String> = outcomes
        .acknowledged
        .iter()
        .map(|(body, _, _)| body.clone())
        .collect();
    let new_primary = relgql::db::connect(&cluster.url("relgql"), 1)
        .await
        .expect("the new primary");
    let lost = missing(&new_primary, &acknowledged).await;
    (outcomes, acknowledged, lost)
}

/// The demo data, two instances over HAProxy, and a token.
async fn service(
    cluster: &Cluster,
    names: &[&str],
) -> (Vec<(Process, SocketAddr)>, String, String) {
    let url = cluster.url("relgql");
    // Until HAProxy has found the standby out, a connection may still reach it.
    wait_until(
        "the migrations to apply on the primary",
        Duration::from_secs(30),
        || {
            let url = url.clone();
            async move { relgql_command(&url, &["migrate", "up"]) }
        },
    )
    .await;
    assert!(relgql_command(&url, &["seed"]), "relgql seed failed");
    let mut instances = Vec::new();
    for name in names {
        instances.push(relgql(&[("DATABASE_URL", url.as_str())], name).await);
    }
    let address = instances[0].1;
    let login = "mutation($input: LoginInput!) { login(input: $input) { token } }";
    let input = json!({"input": {"email": relgql::seed::DEMO_EMAIL, "password": relgql::seed::DEMO_PASSWORD}});
    let (_, answer) = post(address, "", login, input).await;
    let token = answer["data"]["login"]["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let (_, answer) = post(
        address,
        &token,
        "{ posts(first: 1, filter: {published: {eq: true}}) { nodes { id } } }",
        json!({}),
    )
    .await;
    let post_id = answer["data"]["posts"]["nodes"][0]["id"]
        .as_str()
        .expect("a post")
        .to_owned();
    (instances, token, post_id)
}

/// One cluster at a time: each keeps both cores busy.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_loses_no_acknowledged_write_and_the_service_recovers_by_itself() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut cluster = Cluster::start(true).await;
    let (instances, token, post_id) =
        service(&cluster, &["the first instance", "the second instance"]).await;
    let addresses: Vec<SocketAddr> = instances.iter().map(|(_, a)| *a).collect();

    // A subscriber on the second instance, listening.
    let mut socket = ws::connect(addresses[1], json!({})).await;
    let ack = ws::next(&mut socket, Duration::from_secs(5))
        .await
        .expect("an ack");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws::send(&mut socket, json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { commentAdded { body } }"}})).await;
    let first = addresses[0];
    let poke = || {
        let (token, post_id) = (token.clone(), post_id.clone());
        async move {
            let input = json!({"input": {"postId": post_id, "body": "ping"}});
            post(first, &token, CREATE_COMMENT, input).await;
        }
    };
    ws::until_listening(&mut socket, poke).await;
    let heard = Arc::new(Mutex::new(HashSet::new()));
    let listening = {
        let heard = heard.clone();
        tokio::spawn(async move {
            while let Some(message) = ws::next(&mut socket, Duration::from_secs(120)).await {
                match message["payload"]["data"]["commentAdded"]["body"].as_str() {
                    Some(body) => {
                        heard.lock().unwrap().insert(body.to_owned());
                    }
                    None => eprintln!("the subscriber heard {message}"),
                }
            }
        })
    };

    let stop = Arc::new(AtomicBool::new(false));
    let (outcomes, reads, tasks) = load(
        addresses.clone(),
        token.clone(),
        post_id.clone(),
        8,
        4,
        stop.clone(),
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let leader = cluster.leader().await;
    let killed = Instant::now();
    let survivor = cluster.fail_over(leader).await;
    let promoted = Instant::now();
    // Both instances write again by themselves, within 10 s of the new primary.
    let recovered = |instance: usize| {
        let outcomes = outcomes.clone();
        async move {
            outcomes
                .lock()
                .unwrap()
                .acknowledged
                .iter()
                .any(|(_, at, on)| *on == instance && *at > promoted)
        }
    };
    for instance in 0..addresses.len() {
        wait_until(
            "an instance to write again",
            Duration::from_secs(10),
            || recovered(instance),
        )
        .await;
    }
    let recovery: Vec<f64> = (0..addresses.len())
        .map(|instance| {
            let outcomes = outcomes.lock().unwrap();
            let first = outcomes
                .acknowledged
                .iter()
                .filter(|(_, at, on)| *on == instance && *at > promoted)
                .map(|(_, at, _)| *at)
                .min()
                .unwrap();
            (first - promoted).as_secs_f64()
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (outcomes, acknowledged, lost) = stop_and_check(&stop, tasks, &outcomes, &cluster).await;
    let (reads_ok, reads_failed) = *reads.lock().unwrap();
    println!(
        "failover: {} writes acknowledged, {} lost, {} of unknown outcome, {} refused before running; \
         a new primary reachable {:.1} s after the kill, each instance writing again {:?} s after that; \
         reads {} answered, {} failed",
        acknowledged.len(),
        lost.len(),
        outcomes.ambiguous,
        outcomes.refused,
        (promoted - killed).as_secs_f64(),
        recovery,
        reads_ok,
        reads_failed
    );
    assert!(
        outcomes.other.is_empty(),
        "unexpected answers: {:?}",
        &outcomes.other[..outcomes.other.len().min(3)]
    );
    assert!(
        acknowledged.len() > 100,
        "the load wrote little: {}",
        acknowledged.len()
    );
    assert_eq!(
        lost,
        Vec::<String>::new(),
        "acknowledged writes lost on the new primary"
    );

    // Every acknowledged comment reaches the subscriber.
    let unheard = || {
        let heard = heard.lock().unwrap();
        acknowledged
            .iter()
            .filter(|b| !heard.contains(*b))
            .cloned()
            .collect::<Vec<_>>()
    };
    let started = Instant::now();
    while !unheard().is_empty() && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let unheard = unheard();
    assert!(
        unheard.is_empty(),
        "{} acknowledged comments never reached the subscriber, such as {:?}",
        unheard.len(),
        &unheard[..unheard.len().min(5)]
    );
    listening.abort();

    // The old primary rejoins as a standby, and holds every acknowledged write too.
    cluster.nodes[leader].start();
    let old_name = cluster.nodes[leader].name.clone();
    wait_until("the old primary to rejoin", Duration::from_secs(60), || {
        let old_name = old_name.clone();
        async move {
            members(survivor).await.iter().any(|(name, role, state)| {
                *name == old_name
                    && role == "sync_standby"
                    && (state == "running" || state == "streaming")
            })
        }
    })
    .await;
    let old = format!(
        "postgres://postgres@127.0.0.1:{}/relgql",
        cluster.nodes[leader].port
    );
    let old = relgql::db::connect(&old, 1).await.expect("the old primary");
    wait_until(
        "the rejoined node to replay",
        Duration::from_secs(30),
        || {
            let (old, acknowledged) = (&old, &acknowledged);
            async move { missing(old, acknowledged).await.is_empty() }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_asynchronous_replication_and_the_standby_held_back_the_check_sees_a_loss() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut cluster = Cluster::start(false).await;
    let (instances, token, post_id) = service(&cluster, &["the instance"]).await;
    let addresses: Vec<SocketAddr> = instances.iter().map(|(_, a)| *a).collect();
    let leader = cluster.leader().await;
    // The schema and the demo data reach the standby first (a checkpoint writes
    // the WAL out, and the standby replays it): only the load may be lost.
    let primary = relgql::db::connect(&cluster.url("relgql"), 1)
        .await
        .expect("the primary");
    primary
        .execute_unprepared("CHECKPOINT")
        .await
        .expect("a checkpoint");
    let standby = format!(
        "postgres://postgres@127.0.0.1:{}/relgql",
        cluster.nodes[1 - leader].port
    );
    // Until the standby has replayed `CREATE DATABASE`, connecting to it fails.
    wait_until(
        "the standby to replay the demo data",
        Duration::from_secs(30),
        || {
            let standby = &standby;
            async move {
                let Ok(standby) = relgql::db::connect(standby, 1).await else {
                    return false;
                };
                let posts = standby
                    .query_one_raw(Statement::from_string(
                        DbBackend::Postgres,
                        "SELECT count(*) FROM posts",
                    ))
                    .await
                    .ok()
                    .flatten()
                    .and_then(|row| row.try_get_by_index::<i64>(0).ok());
                standby.close().await.ok();
                posts.is_some_and(|posts| posts > 0)
            }
        },
    )
    .await;
    let stop = Arc::new(AtomicBool::new(false));
    let (outcomes, _, tasks) = load(addresses, token, post_id, 4, 0, stop.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before_crash = outcomes.lock().unwrap().acknowledged.len();
    cluster.fail_over(leader).await;
    let (_, acknowledged, lost) = stop_and_check(&stop, tasks, &outcomes, &cluster).await;
    println!(
        "negative control: {} writes acknowledged ({before_crash} before the kill), {} lost \
         (asynchronous replication, standby held back)",
        acknowledged.len(),
        lost.len()
    );
    assert!(
        !lost.is_empty(),
        "the check must see the writes the standby never received"
    );
}
