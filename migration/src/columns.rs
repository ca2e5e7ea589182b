//! Column shapes shared by the migrations.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// A non-null point in time, defaulting to now.
///
/// MySQL's `TIMESTAMP` ends in 2038 and shifts with the session time zone, so there
/// it is a `DATETIME(6)` holding UTC; elsewhere a timestamp with time zone.
pub fn timestamp_now(backend: DbBackend, name: impl IntoIden) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    match backend {
        DbBackend::MySql => column.custom(Alias::new("DATETIME(6)")),
        _ => column.timestamp_with_time_zone(),
    };
    column.not_null().default(Expr::current_timestamp()).take()
}

/// A foreign key from `table.column` to `target.id` that cascades on delete.
pub fn cascade_to(
    table: impl IntoIden,
    column: impl IntoIden,
    target: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(target, Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .on_update(ForeignKeyAction::Cascade)
        .take()
}

/// An index on one column, named after the table and the column.
pub fn index_on(table: impl IntoIden, column: impl IntoIden) -> IndexCreateStatement {
    let (table, column) = (table.into_iden(), column.into_iden());
    Index::create()
        .name(format!("idx_{table}_{column}"))
        .table(table)
        .col(column)
        .take()
}
