//! The migrations of relgql, oldest first.

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261121_000001_create_blog;
mod m20261121_000002_create_enrollment;
mod m20261121_000003_add_accounts;
mod m20261206_000004_add_tags;
mod m20261206_000005_add_replies;
mod m20261206_000006_add_shared_instance_state;
mod m20261206_000007_add_events;
mod m20261207_000008_add_persisted_queries;

pub use m20261206_000007_add_events::EVENTS_CHANNEL;

/// Applies relgql's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_create_blog::Migration),
            Box::new(m20261121_000002_create_enrollment::Migration),
            Box::new(m20261121_000003_add_accounts::Migration),
            Box::new(m20261206_000004_add_tags::Migration),
            Box::new(m20261206_000005_add_replies::Migration),
            Box::new(m20261206_000006_add_shared_instance_state::Migration),
            Box::new(m20261206_000007_add_events::Migration),
            Box::new(m20261207_000008_add_persisted_queries::Migration),
        ]
    }
}
