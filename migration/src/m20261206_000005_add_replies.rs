//! Threaded replies: `comments.parent_id` names the comment a reply answers (on the
//! same post); deleting a comment deletes its replies.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // SQLite adds a column with its foreign key in place; the others add the
        // constraint to the table.
        let add = match manager.get_database_backend() {
            DbBackend::Sqlite => {
                "ALTER TABLE comments ADD COLUMN parent_id integer NULL \
                 REFERENCES comments (id) ON DELETE CASCADE ON UPDATE CASCADE"
            }
            DbBackend::Postgres => {
                "ALTER TABLE comments ADD COLUMN parent_id integer NULL, \
                 ADD CONSTRAINT fk_comments_parent_id FOREIGN KEY (parent_id) \
                 REFERENCES comments (id) ON DELETE CASCADE ON UPDATE CASCADE"
            }
            _ => {
                "ALTER TABLE comments ADD COLUMN parent_id int NULL, \
                 ADD CONSTRAINT fk_comments_parent_id FOREIGN KEY (parent_id) \
                 REFERENCES comments (id) ON DELETE CASCADE ON UPDATE CASCADE"
            }
        };
        db.execute_unprepared(add).await?;
        if manager.get_database_backend() != DbBackend::MySql {
            // MySQL indexes a foreign key's column itself.
            db.execute_unprepared("CREATE INDEX idx_comments_parent_id ON comments (parent_id)")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::MySql => {
                db.execute_unprepared(
                    "ALTER TABLE comments DROP FOREIGN KEY fk_comments_parent_id, DROP COLUMN parent_id",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared("DROP INDEX idx_comments_parent_id")
                    .await?;
                db.execute_unprepared("ALTER TABLE comments DROP COLUMN parent_id")
                    .await?;
            }
        }
        Ok(())
    }
}
