//! `relgql serve` behind pgbouncer (Debian's) in transaction mode, with
//! `deploy/pgbouncer.ini` and a pool of two server sessions, so that many clients'
//! statements share them: answers stay right under concurrency, writes all land,
//! subscriptions hear every event (LISTEN on the direct URL), and the statement
//! timeout still applies (SET LOCAL, not a startup parameter).

mod common;

use std::time::{Duration, Instant};

use common::postgres::{Scratch, as_postgres, free_port};
use common::process::{Process, post, relgql};
use common::{Backend, TestApp, assert_timed_out, gid, ws};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

/// pgbouncer with `deploy/pgbouncer.ini` in front of the tests' PostgreSQL server,
/// lending `sessions` server sessions; its port once it accepts connections.
async fn pgbouncer(scratch: &Scratch, server: &str, sessions: u32) -> (Process, u16) {
    let port = free_port();
    let (host, server_port) = server
        .rsplit_once('@')
        .map_or(server, |(_, host)| host)
        .split_once(':')
        .expect("host:port in RELGQL_TEST_POSTGRES");
    let dir = scratch.path.display();
    let config =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/pgbouncer.ini"))
            .expect("deploy/pgbouncer.ini")
            .replace(
                "host=127.0.0.1 port=5432",
                &format!("host={host} port={server_port}"),
            )
            .replace("listen_port = 6432", &format!("listen_port = {port}"))
            .replace(
                "default_pool_size = 20",
                &format!("default_pool_size = {sessions}"),
            )
            .replace("= userlist.txt", &format!("= {dir}/userlist.txt"))
            .replace("= pgbouncer.log", &format!("= {dir}/pgbouncer.log"))
            .replace("= pgbouncer.pid", &format!("= {dir}/pgbouncer.pid"));
    let path = scratch.path.join("pgbouncer.ini");
    std::fs::write(&path, config).expect("write the pgbouncer configuration");
    std::fs::write(scratch.path.join("userlist.txt"), "\"postgres\" \"\"\n").expect("userlist");
    let binary = "/usr/sbin/pgbouncer";
    assert!(
        std::path::Path::new(binary).exists(),
        "pgbouncer is installed (Debian's package pgbouncer; .ci/run installs it)"
    );
    let mut command = tokio::process::Command::from(as_postgres(binary));
    let mut process = Process::spawn(command.arg(&path), "pgbouncer");
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(!process.exited(), "pgbouncer exited; see its log in {dir}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "gave up after 20 s waiting for pgbouncer to listen on {port}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (process, port)
}

const QUERIES: [&str; 4] = [
    "{ users(first: 5) { nodes { name posts(first: 3) { totalCount nodes { title comments { totalCount nodes { body } } } } } } }",
    "{ posts(first: 10, orderBy: [{title: ASC}]) { nodes { title author { name } tags { nodes { name } } } } }",
    "{ courses { nodes { name students { totalCount nodes { name } } } } }",
    "{ comments(filter: {parentId: {isNull: true}}) { totalCount nodes { body replies { nodes { body } } } } }",
];

const CREATE_COMMENT: &str =
    "mutation($input: CreateCommentInput!) { createComment(input: $input) { id } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_pgbouncer_in_transaction_mode_answers_writes_and_events_stay_right() {
    if !Backend::Postgres.enabled() {
        return;
    }
    let app = TestApp::with_fixture(Backend::Postgres).await;
    let scratch = Scratch::new("pgbouncer");
    let server = Backend::Postgres.server_url();
    let (_pgbouncer, port) = pgbouncer(&scratch, &server, 2).await;
    let database = app.url().rsplit('/').next().unwrap().to_owned();
    let pooled = format!("postgres://postgres@127.0.0.1:{port}/{database}");
    let env = [
        ("DATABASE_URL", pooled.as_str()),
        ("DATABASE_POOLER", "transaction"),
        ("DATABASE_DIRECT_URL", app.url()),
        ("DB_MAX_CONNECTIONS", "8"),
        ("DB_STATEMENT_TIMEOUT_MS", "500"),
    ];
    let (_instance, address) = relgql(&env, "relgql behind pgbouncer").await;
    let token = app.token_for(2);

    // Reads of four shapes from eight clients at once, each answered as the
    // database itself answers it.
    let mut expected = Vec::new();
    for query in QUERIES {
        expected.push(app.query(query).await);
    }
    let clients = (0..8).map(|client| {
        let expected = expected.clone();
        let token = token.clone();
        tokio::spawn(async move {
            for round in 0..10 {
                let n = (client + round) % QUERIES.len();
                let (status, body) = post(address, &token, QUERIES[n], json!({})).await;
                assert_eq!(status, 200, "{body}");
                assert_eq!(body["data"], expected[n]["data"], "query {n}: {body}");
            }
        })
    });
    for client in futures_util::future::join_all(clients).await {
        client.expect("a client's reads");
    }

    // A subscriber hears every comment written through the pooled instance.
    let mut socket = ws::connect(address, json!({})).await;
    let ack = ws::next(&mut socket, Duration::from_secs(5))
        .await
        .expect("an ack");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let subscription = "subscription { commentAdded { body } }";
    ws::send(
        &mut socket,
        json!({"id": "1", "type": "subscribe", "payload": {"query": subscription}}),
    )
    .await;
    let comment = |body: String| {
        let token = token.clone();
        async move {
            let input = json!({"input": {"postId": gid("Post", 1), "body": body}});
            let (status, answer) = post(address, &token, CREATE_COMMENT, input).await;
            assert_eq!(status, 200, "{answer}");
            assert!(answer.get("errors").is_none(), "{answer}");
        }
    };
    ws::until_listening(&mut socket, || comment("ping".into())).await;
    let before = count_comments(&app).await;
    let writes = (0..10).map(|n| tokio::spawn(comment(format!("comment {n}"))));
    for write in futures_util::future::join_all(writes).await {
        write.expect("a write");
    }
    assert_eq!(
        count_comments(&app).await,
        before + 10,
        "every write landed"
    );
    let mut heard = Vec::new();
    while heard.len() < 10 {
        let message = ws::next(&mut socket, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("heard only {heard:?}"));
        heard.push(
            message["payload"]["data"]["commentAdded"]["body"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    heard.sort();
    let mut bodies: Vec<String> = (0..10).map(|n| format!("comment {n}")).collect();
    bodies.sort();
    assert_eq!(heard, bodies);

    // Writes in transactions of their own (a post with tags), at once.
    let posts = |n: usize| {
        let token = token.clone();
        async move {
            let mutation = "mutation($input: CreatePostInput!) { createPost(input: $input) { tags { nodes { name } } } }";
            let input = json!({"input": {"title": format!("post {n}"), "body": "b", "published": true, "tags": [format!("tag{n}"), "shared"]}});
            let (status, answer) = post(address, &token, mutation, input).await;
            assert_eq!(status, 200, "{answer}");
            assert!(answer.get("errors").is_none(), "{answer}");
        }
    };
    let writes = (0..10).map(|n| tokio::spawn(posts(n)));
    for write in futures_util::future::join_all(writes).await {
        write.expect("a post with tags");
    }

    // The statement timeout reaches the server through the pooler (anonymously:
    // the token check would wait on the lock too, on the direct URL).
    let lock = app.lock_users().await;
    let started = Instant::now();
    let (_, body) = post(address, "", "{ users { totalCount } }", json!({})).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_timed_out(&body, "statement timeout");
    lock.rollback().await.unwrap();
    let (_, body): (u16, Value) =
        post(address, &token, "{ users { totalCount } }", json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
}

async fn count_comments(app: &TestApp) -> i64 {
    app.db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*) FROM comments",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap()
}

#[tokio::test]
async fn a_transaction_pooler_needs_a_direct_url() {
    use clap::Parser as _;
    let cli = relgql::config::Cli::try_parse_from([
        "relgql",
        "--database-url",
        "postgres://postgres@127.0.0.1:6432/relgql",
        "--database-pooler",
        "transaction",
        "serve",
    ])
    .unwrap();
    let error = relgql::commands::run(cli).await.unwrap_err();
    assert!(error.to_string().contains("DATABASE_DIRECT_URL"), "{error}");
}
