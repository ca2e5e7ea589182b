//! The blog: users, their one profile, their posts and comments.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, integer, pk_auto, string, string_uniq, text};

use crate::columns::{cascade_to, index_on, timestamp_now};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Name,
    Email,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Profiles {
    Table,
    Id,
    UserId,
    Bio,
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    Id,
    UserId,
    Title,
    Body,
    Published,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Comments {
    Table,
    Id,
    PostId,
    UserId,
    Body,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_auto(Users::Id))
                    .col(string(Users::Name))
                    .col(string_uniq(Users::Email))
                    .col(timestamp_now(backend, Users::CreatedAt))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Profiles::Table)
                    .col(pk_auto(Profiles::Id))
                    .col(integer(Profiles::UserId).unique_key())
                    .col(text(Profiles::Bio).default(""))
                    .foreign_key(&mut cascade_to(
                        Profiles::Table,
                        Profiles::UserId,
                        Users::Table,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .col(pk_auto(Posts::Id))
                    .col(integer(Posts::UserId))
                    .col(string(Posts::Title))
                    .col(text(Posts::Body))
                    .col(boolean(Posts::Published).default(false))
                    .col(timestamp_now(backend, Posts::CreatedAt))
                    .foreign_key(&mut cascade_to(Posts::Table, Posts::UserId, Users::Table))
                    .take(),
            )
            .await?;
        manager
            .create_index(index_on(Posts::Table, Posts::UserId))
            .await?;
        manager
            .create_index(index_on(Posts::Table, Posts::CreatedAt))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .col(pk_auto(Comments::Id))
                    .col(integer(Comments::PostId))
                    .col(integer(Comments::UserId))
                    .col(text(Comments::Body))
                    .col(timestamp_now(backend, Comments::CreatedAt))
                    .foreign_key(&mut cascade_to(
                        Comments::Table,
                        Comments::PostId,
                        Posts::Table,
                    ))
                    .foreign_key(&mut cascade_to(
                        Comments::Table,
                        Comments::UserId,
                        Users::Table,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index_on(Comments::Table, Comments::PostId))
            .await?;
        manager
            .create_index(index_on(Comments::Table, Comments::UserId))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Comments::Table.into_iden(),
            Posts::Table.into_iden(),
            Profiles::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
