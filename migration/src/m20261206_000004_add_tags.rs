//! Tags on posts: `tags`, named uniquely ignoring case, and `post_tags`, which
//! associates them with posts (many-to-many).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, pk_auto, string_len};
use sea_orm_migration::sea_orm::DbBackend;

use crate::columns::{cascade_to, index_on};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tags {
    Table,
    Id,
    Name,
}

#[derive(DeriveIden)]
enum PostTags {
    Table,
    PostId,
    TagId,
}

#[derive(DeriveIden)]
enum Posts {
    Table,
}

/// The longest tag name, in characters.
const MAX_TAG: u32 = 50;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let name = match backend {
            // A case-insensitive collation makes the unique key ignore case.
            DbBackend::MySql => ColumnDef::new(Tags::Name)
                .custom(Alias::new(format!(
                    "VARCHAR({MAX_TAG}) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )))
                .not_null()
                .unique_key()
                .take(),
            _ => string_len(Tags::Name, MAX_TAG),
        };
        manager
            .create_table(
                Table::create()
                    .table(Tags::Table)
                    .col(pk_auto(Tags::Id))
                    .col(name)
                    .take(),
            )
            .await?;
        if backend != DbBackend::MySql {
            manager
                .get_connection()
                .execute_unprepared("CREATE UNIQUE INDEX idx_tags_name_lower ON tags (LOWER(name))")
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PostTags::Table)
                    .col(integer(PostTags::PostId))
                    .col(integer(PostTags::TagId))
                    .primary_key(Index::create().col(PostTags::PostId).col(PostTags::TagId))
                    .foreign_key(&mut cascade_to(
                        PostTags::Table,
                        PostTags::PostId,
                        Posts::Table,
                    ))
                    .foreign_key(&mut cascade_to(
                        PostTags::Table,
                        PostTags::TagId,
                        Tags::Table,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index_on(PostTags::Table, PostTags::TagId))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [PostTags::Table.into_iden(), Tags::Table.into_iden()] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
