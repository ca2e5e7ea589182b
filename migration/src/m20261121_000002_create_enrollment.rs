//! Course enrollment: students and courses, many-to-many through `student_course`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, pk_auto, string, string_uniq};

use crate::columns::{cascade_to, index_on, timestamp_now};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Students {
    Table,
    Id,
    Name,
}

#[derive(DeriveIden)]
enum Courses {
    Table,
    Id,
    Name,
}

#[derive(DeriveIden)]
enum StudentCourse {
    Table,
    StudentId,
    CourseId,
    EnrolledAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Students::Table)
                    .col(pk_auto(Students::Id))
                    .col(string(Students::Name))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Courses::Table)
                    .col(pk_auto(Courses::Id))
                    .col(string_uniq(Courses::Name))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StudentCourse::Table)
                    .col(integer(StudentCourse::StudentId))
                    .col(integer(StudentCourse::CourseId))
                    .col(timestamp_now(backend, StudentCourse::EnrolledAt))
                    .primary_key(
                        Index::create()
                            .col(StudentCourse::StudentId)
                            .col(StudentCourse::CourseId),
                    )
                    .foreign_key(&mut cascade_to(
                        StudentCourse::Table,
                        StudentCourse::StudentId,
                        Students::Table,
                    ))
                    .foreign_key(&mut cascade_to(
                        StudentCourse::Table,
                        StudentCourse::CourseId,
                        Courses::Table,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index_on(StudentCourse::Table, StudentCourse::CourseId))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StudentCourse::Table.into_iden(),
            Courses::Table.into_iden(),
            Students::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
