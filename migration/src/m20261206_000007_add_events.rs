//! Events for subscriptions, written by the database in the transaction of the
//! change that causes them (PostgreSQL only; elsewhere events stay in the process).
//!
//! A trigger records each event in `events` and announces it with `pg_notify` on
//! `relgql_events`: a committed change always has its event, even when the writer's
//! connection is lost just after the commit, and an instance whose listener was
//! disconnected catches up from the table.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// The channel the triggers notify; the service listens on it.
pub const EVENTS_CHANNEL: &str = "relgql_events";

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    payload TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_events_created_at ON events (created_at);

CREATE FUNCTION relgql_event(payload json) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    event_id bigint;
BEGIN
    INSERT INTO events (payload) VALUES (payload::text) RETURNING id INTO event_id;
    PERFORM pg_notify('{channel}', json_build_object('id', event_id, 'event', payload)::text);
END
$$;

CREATE FUNCTION relgql_comment_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM relgql_event(json_build_object('kind', 'comment_added', 'comment', NEW.id, 'post', NEW.post_id));
    RETURN NULL;
END
$$;

CREATE FUNCTION relgql_post_published() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM relgql_event(json_build_object('kind', 'post_published', 'post', NEW.id));
    RETURN NULL;
END
$$;

CREATE TRIGGER comment_added AFTER INSERT ON comments
    FOR EACH ROW EXECUTE FUNCTION relgql_comment_added();
CREATE TRIGGER post_published_on_insert AFTER INSERT ON posts
    FOR EACH ROW WHEN (NEW.published) EXECUTE FUNCTION relgql_post_published();
CREATE TRIGGER post_published_on_update AFTER UPDATE OF published ON posts
    FOR EACH ROW WHEN (NEW.published AND NOT OLD.published) EXECUTE FUNCTION relgql_post_published();
"#;

const DOWN: &str = r#"
DROP TRIGGER post_published_on_update ON posts;
DROP TRIGGER post_published_on_insert ON posts;
DROP TRIGGER comment_added ON comments;
DROP FUNCTION relgql_post_published();
DROP FUNCTION relgql_comment_added();
DROP FUNCTION relgql_event(json);
DROP TABLE events;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(&UP.replace("{channel}", EVENTS_CHANNEL))
            .await
            .map(drop)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(DOWN)
            .await
            .map(drop)
    }
}
