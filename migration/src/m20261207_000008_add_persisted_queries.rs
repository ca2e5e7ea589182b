//! Documents registered by clients through automatic persisted queries, kept so
//! that every instance serving the database knows them. `id` orders them by
//! registration: the oldest go first when the table is full.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PersistedQueries {
    Table,
    Id,
    Sha256,
    Document,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PersistedQueries::Table)
                    .col(
                        ColumnDef::new(PersistedQueries::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PersistedQueries::Sha256)
                            .char_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(PersistedQueries::Document).text().not_null())
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PersistedQueries::Table).take())
            .await
    }
}
