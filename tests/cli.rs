//! The command line: migrations, seeding and the admin role.

mod common;

use clap::Parser;
use common::{Backend, ScratchDatabase};
use relgql::commands::run;
use relgql::config::Cli;
use sea_orm::{ConnectionTrait, Statement};

fn scratch_sqlite(name: &str) -> String {
    let path = std::env::temp_dir().join(format!("relgql_cli_{name}_{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    format!("sqlite://{}?mode=rwc", path.display())
}

async fn relgql(url: &str, args: &[&str]) -> anyhow::Result<()> {
    let mut argv = vec!["relgql", "--database-url", url];
    argv.extend_from_slice(args);
    run(Cli::try_parse_from(argv)?).await
}

async fn role_of(url: &str, email: &str) -> String {
    let db = relgql::db::connect(url, 1).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT role FROM users WHERE email = '{email}'"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "role").unwrap()
}

#[tokio::test]
async fn admin_grant_and_revoke_change_the_role_by_email() {
    let url = scratch_sqlite("admin");
    relgql(&url, &["migrate", "up"]).await.unwrap();
    relgql(&url, &["seed"]).await.unwrap();
    assert_eq!(role_of(&url, "demo@example.com").await, "user");
    relgql(&url, &["admin", "grant", "Demo@Example.com"])
        .await
        .unwrap();
    assert_eq!(role_of(&url, "demo@example.com").await, "admin");
    relgql(&url, &["admin", "revoke", "demo@example.com"])
        .await
        .unwrap();
    assert_eq!(role_of(&url, "demo@example.com").await, "user");
    let error = relgql(&url, &["admin", "grant", "nobody@example.com"])
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("no user has the email"),
        "{error}"
    );
}

/// `seed` on a database that was never migrated migrates it first; the commands
/// that need the schema say what to run instead of failing on a missing table.
async fn seeding_a_fresh_database_migrates_it_first(backend: Backend) {
    let scratch = ScratchDatabase::new(backend).await;
    let url = scratch.url.as_str();
    for command in [
        &["admin", "grant", "demo@example.com"][..],
        &["keys", "rotate"],
    ] {
        let error = format!("{:#}", relgql(url, command).await.unwrap_err());
        assert!(
            error.contains("run `relgql migrate up`") && !error.contains('\n'),
            "{command:?}: {error}"
        );
    }
    relgql(url, &["seed"]).await.unwrap();
    assert_eq!(role_of(url, "demo@example.com").await, "user");
    relgql(url, &["admin", "grant", "demo@example.com"])
        .await
        .unwrap();
    assert_eq!(role_of(url, "demo@example.com").await, "admin");
}

on_every_backend!(seeding_a_fresh_database_migrates_it_first);

#[tokio::test]
async fn seeding_refuses_a_database_that_holds_data_and_migrations_go_down_and_up() {
    let url = scratch_sqlite("seed");
    relgql(&url, &["migrate", "up"]).await.unwrap();
    relgql(&url, &["seed"]).await.unwrap();
    let error = relgql(&url, &["seed"]).await.unwrap_err();
    assert!(error.to_string().contains("already holds data"), "{error}");
    use migration::MigratorTrait;
    let all = migration::Migrator::migrations().len().to_string();
    relgql(&url, &["migrate", "down", "--steps", &all])
        .await
        .unwrap();
    relgql(&url, &["migrate", "up"]).await.unwrap();
    relgql(&url, &["seed"]).await.unwrap();
}

#[tokio::test]
async fn a_short_jwt_secret_is_refused_at_start() {
    let url = scratch_sqlite("secret");
    let error = relgql(
        &url,
        &[
            "--jwt-secret",
            "too short",
            "--listen-addr",
            "127.0.0.1:0",
            "serve",
        ],
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("at least 32 bytes"), "{error}");
}

#[tokio::test]
async fn trusted_documents_that_cannot_be_read_or_are_missing_are_refused_at_start() {
    let url = scratch_sqlite("trusted");
    let serving = |extra: &[&str]| {
        let args = [&["--listen-addr", "127.0.0.1:0"], extra, &["serve"]].concat();
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>()
    };
    let start = async |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        format!("{:#}", relgql(&url, &args).await.unwrap_err())
    };
    let error = start(serving(&["--trusted-documents-only", "true"])).await;
    assert!(error.contains("needs TRUSTED_DOCUMENTS"), "{error}");
    let manifest =
        std::env::temp_dir().join(format!("relgql_manifest_{}.json", std::process::id()));
    // The id is the SHA-256 of another document.
    let hash = relgql::persisted::sha256_hex("{ a }");
    std::fs::write(&manifest, format!(r#"{{"{hash}": "{{ b }}"}}"#)).unwrap();
    let error = start(serving(&[
        "--trusted-documents",
        manifest.to_str().unwrap(),
    ]))
    .await;
    let _ = std::fs::remove_file(&manifest);
    assert!(error.contains("not that of its document"), "{error}");
    let error = start(serving(&[
        "--trusted-documents",
        "/nonexistent/manifest.json",
    ]))
    .await;
    assert!(
        error.contains("cannot read the trusted documents"),
        "{error}"
    );
}

#[tokio::test]
async fn serving_without_migrating_refuses_a_database_that_is_not_current() {
    let url = scratch_sqlite("no_migrate");
    let serve = [
        "--migrate-on-start",
        "false",
        "--listen-addr",
        "127.0.0.1:0",
        "serve",
    ];
    let error = relgql(&url, &serve).await.unwrap_err();
    assert!(
        format!("{error:#}").contains("relgql migrate up"),
        "{error:#}"
    );
    // Nothing was written: the migrations are still all pending.
    relgql(&url, &["migrate", "up"]).await.unwrap();
}

#[tokio::test]
async fn rotating_keys_adds_a_newer_signing_key() {
    let url = scratch_sqlite("rotate");
    relgql(&url, &["migrate", "up"]).await.unwrap();
    relgql(&url, &["keys", "rotate"]).await.unwrap();
    relgql(&url, &["keys", "rotate"]).await.unwrap();
    let db = relgql::db::connect(&url, 1).await.unwrap();
    let keys = relgql::signing_keys::all(&db).await.unwrap();
    assert_eq!(keys.iter().map(|k| k.id).collect::<Vec<_>>(), [1, 2]);
}
