//! The subcommands: serve, migrate, seed, print-schema.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use entity::user;
use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::api::{self, AppSchema, SchemaOptions};
use crate::auth::Tokens;
use crate::config::{AdminAction, Cli, Command, KeysAction, MigrateAction, Settings};
use crate::engine::limits::QueryLimits;
use crate::engine::pagination::PageLimits;
use crate::events::Events;
use crate::http::{AppState, HttpOptions};
use crate::persisted::{PersistedQueries, TrustedDocuments};
use crate::replicas::Replicas;
use crate::throttle::ThrottleSettings;
use crate::{auth, db, seed, signing_keys};

/// Runs the subcommand `cli` names (`serve` when none).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    settings.validate()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&settings).await,
        Command::Migrate { action } => migrate(&settings, action).await,
        Command::Seed { bench } => {
            // Seeding a database that was never migrated migrates it first.
            let (db, _) =
                db::migrate_then_connect(settings.direct_url(), direct_pool(&settings)).await?;
            if bench {
                seed::bench(&db).await
            } else {
                seed::demo(&db).await
            }
        }
        Command::Admin { action } => {
            let db = connect(&settings).await?;
            let (email, role) = match &action {
                AdminAction::Grant { email } => (email, user::ADMIN),
                AdminAction::Revoke { email } => (email, user::USER),
            };
            set_role(&db, email, role).await
        }
        Command::Keys {
            action: KeysAction::Rotate,
        } => {
            let db = connect(&settings).await?;
            let rotated = signing_keys::rotate(
                &db,
                Duration::from_secs(settings.token_ttl_secs),
                auth::KEY_REFRESH * 2,
            )
            .await?;
            println!(
                "new tokens are signed with key {}; every instance uses it within {} s",
                rotated.signing,
                auth::KEY_REFRESH.as_secs()
            );
            if !rotated.deleted.is_empty() {
                println!("deleted keys no valid token carries: {:?}", rotated.deleted);
            }
            Ok(())
        }
        Command::PrintSchema { output } => {
            let sdl = api::sdl(&schema(&settings));
            match output {
                Some(path) => std::fs::write(&path, sdl)
                    .with_context(|| format!("cannot write {}", path.display())),
                None => {
                    print!("{sdl}");
                    Ok(())
                }
            }
        }
    }
}

/// The schema with the limits of `settings`.
pub fn schema(settings: &Settings) -> AppSchema {
    api::schema(schema_options(settings))
}

fn schema_options(settings: &Settings) -> SchemaOptions {
    SchemaOptions {
        limits: PageLimits {
            max: settings.max_page_size,
            default: settings.default_page_size,
        },
        query_limits: QueryLimits {
            max_depth: settings.max_depth,
            max_fields: settings.max_fields,
            max_root_fields: settings.max_root_fields,
            max_cost: settings.max_cost,
            max_directives: settings.max_directives,
            max_query_bytes: settings.max_query_bytes,
            max_concurrent: settings.max_concurrent_requests,
        },
        login: ThrottleSettings {
            per_account: settings.login_failures_per_account,
            per_address: settings.login_failures_per_address,
            window: std::time::Duration::from_secs(settings.login_window_secs),
        },
        introspection: settings.introspection,
    }
}

/// A connection for a command, which needs the schema current and says what to run
/// if it is not.
async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    db::connect_current(settings.direct_url(), direct_pool(settings)).await
}

/// Commands reach the database directly, never through a transaction pooler.
fn direct_pool(settings: &Settings) -> db::PoolSettings {
    db::PoolSettings {
        transaction_pooler: false,
        ..settings.pool()
    }
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    db::log_statement_values(settings.log_sql_values);
    let trusted = match &settings.trusted_documents {
        Some(path) => TrustedDocuments::load(path)?,
        None => TrustedDocuments::default(),
    };
    let (url, is_default) = settings.database();
    let pool = settings.pool();
    // Migrations, LISTEN and the service's own statements (token checks, events,
    // replica probes) reach the primary directly; requests through the pooler, if any.
    let direct_pool = if pool.transaction_pooler {
        db::PoolSettings {
            max_connections: 4,
            transaction_pooler: false,
            ..pool
        }
    } else {
        pool
    };
    let direct_url = settings.direct_url();
    let (direct, fresh) = if settings.migrate_on_start {
        db::migrate_then_connect(direct_url, direct_pool).await?
    } else {
        (db::connect_current(direct_url, direct_pool).await?, false)
    };
    let (db, warm) = if pool.transaction_pooler {
        let db = db::connect(url, pool).await?;
        let pooling = db::TransactionPooling::new(pool.statement_timeout);
        (db.clone(), db::Warm::through_pooler(&db, pooling))
    } else {
        (direct.clone(), db::Warm::for_database(&direct))
    };
    if is_default && fresh {
        seed::demo(&direct).await?;
    }
    if is_default {
        tracing::info!(
            "demo account: sign in with the `login` mutation as {} / {}",
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD
        );
    }
    let tokens = Arc::new(
        Tokens::from_database(
            &direct,
            settings.jwt_secret.as_deref(),
            Duration::from_secs(settings.token_ttl_secs),
        )
        .await?,
    );
    tokens.refresh_keys();
    let events = Events::for_database(&direct)
        .await
        .context("cannot listen for events")?;
    let replicas = Replicas::connect(
        &direct,
        &settings.read_replica_urls,
        Duration::from_millis(settings.replica_max_lag_ms),
        // Replicas are read directly (a pooler in front of them is not supported).
        db::PoolSettings {
            transaction_pooler: false,
            ..pool
        },
    )
    .await?;
    let options = schema_options(settings);
    let schema = api::schema(options);
    let mut gate = api::gate(&schema, &options);
    if settings.trusted_documents_only {
        gate = gate.only(trusted.documents().map(str::to_owned));
    }
    tracing::info!(
        trusted = trusted.len(),
        only = settings.trusted_documents_only,
        "trusted documents"
    );
    let persisted = PersistedQueries::new(
        direct.clone(),
        settings.persisted_queries_max,
        trusted,
        settings.trusted_documents_only,
    );
    let state = AppState {
        gate: Arc::new(gate),
        persisted: Arc::new(persisted),
        schema,
        tokens,
        events,
        http: HttpOptions {
            cors_allowed_origins: settings.cors_allowed_origins.clone(),
            max_body_bytes: settings.max_body_bytes,
            max_batch: settings.max_batch,
            request_timeout: std::time::Duration::from_millis(settings.request_timeout_ms),
            cache_max_age_secs: settings.cache_max_age_secs,
        },
        warm,
        replicas,
        db,
        debug_sql_count: settings.debug_sql_count,
        shutdown: Default::default(),
    };
    if let Some(address) = settings.metrics_addr {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot serve metrics on {address}"))?;
        tracing::info!(%address, "metrics on http://{address}/metrics");
        let routes = crate::http::metrics::routes(state.db.clone());
        tokio::spawn(async move { axum::serve(listener, routes).await });
    }
    let listener = tokio::net::TcpListener::bind(settings.listen_addr)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen_addr))?;
    tracing::info!(
        address = %settings.listen_addr,
        database = %db::redact(url),
        "relgql serving GraphQL on http://{}/graphql",
        settings.listen_addr
    );
    let shutdown = state.shutdown.clone();
    let app = crate::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let stopping = shutdown.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: finishing requests, closing subscriptions");
            stopping.begin();
        })
        .await
        .context("the server failed")?;
    shutdown.drained(std::time::Duration::from_secs(5)).await;
    tracing::info!("relgql stopped gracefully");
    Ok(())
}

async fn migrate(settings: &Settings, action: MigrateAction) -> anyhow::Result<()> {
    // One connection: the migration lock and the migrations share its session.
    let db = db::connect(settings.direct_url(), 1).await?;
    match action {
        MigrateAction::Up => {
            db::migrate(&db).await?;
        }
        MigrateAction::Down { steps } => Migrator::down(&db, Some(steps)).await?,
        MigrateAction::Status => {
            for migration in Migrator::get_migration_with_status(&db).await? {
                println!("{:?}\t{}", migration.status(), migration.name());
            }
        }
    }
    Ok(())
}

async fn set_role(db: &DatabaseConnection, email: &str, role: &str) -> anyhow::Result<()> {
    let email = email.trim().to_lowercase();
    let updated = user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::value(role))
        .filter(user::Column::Email.eq(email.as_str()))
        .exec(db)
        .await?;
    anyhow::ensure!(
        updated.rows_affected == 1,
        "no user has the email address {email}"
    );
    println!("{email} is now {role}");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
