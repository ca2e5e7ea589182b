//! Every relation of every row type, as the entities declare it, against the
//! migrated database: it runs between the right tables, on their columns, and on
//! foreign keys the database has. A new type or relation is covered here without
//! an edit to this file.

mod common;

use std::collections::BTreeSet;

use common::{Backend, TestApp};
use relgql::api::node::ROW_TYPES;
use sea_orm::{ConnectionTrait, Statement};

/// Every foreign key of the database, as `((table, column), (table, column))`.
async fn foreign_keys(
    app: &TestApp,
    backend: Backend,
) -> BTreeSet<((String, String), (String, String))> {
    let db = &app.db;
    let row = |sql: &str| Statement::from_string(db.get_database_backend(), sql.to_owned());
    let mut keys = BTreeSet::new();
    match backend {
        Backend::Sqlite => {
            let tables = db
                .query_all_raw(row("SELECT name FROM sqlite_master WHERE type = 'table'"))
                .await
                .unwrap();
            for table in tables {
                let table: String = table.try_get("", "name").unwrap();
                let sql = format!(
                    "SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list('{table}')"
                );
                for key in db.query_all_raw(row(&sql)).await.unwrap() {
                    let column: String = key.try_get("", "from").unwrap();
                    let target: String = key.try_get("", "table").unwrap();
                    let to: String = key.try_get("", "to").unwrap();
                    keys.insert(((table.clone(), column), (target, to)));
                }
            }
        }
        Backend::Postgres | Backend::MySql => {
            let sql = if backend == Backend::Postgres {
                "SELECT kcu.table_name AS from_table, kcu.column_name AS from_column,
                        ccu.table_name AS to_table, ccu.column_name AS to_column
                 FROM information_schema.table_constraints tc
                 JOIN information_schema.key_column_usage kcu
                   ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
                 JOIN information_schema.constraint_column_usage ccu
                   ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
                 WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()"
            } else {
                "SELECT table_name AS from_table, column_name AS from_column,
                        referenced_table_name AS to_table, referenced_column_name AS to_column
                 FROM information_schema.key_column_usage
                 WHERE referenced_table_name IS NOT NULL AND table_schema = DATABASE()"
            };
            for key in db.query_all_raw(row(sql)).await.unwrap() {
                let get = |name: &str| -> String { key.try_get("", name).unwrap() };
                keys.insert((
                    (get("from_table"), get("from_column")),
                    (get("to_table"), get("to_column")),
                ));
            }
        }
    }
    keys
}

async fn every_relation_stands_on_a_foreign_key_of_the_database(backend: Backend) {
    let app = TestApp::new(backend).await;
    let keys = foreign_keys(&app, backend).await;
    assert!(!keys.is_empty(), "the database has foreign keys");
    let mut relations = 0;
    for row_type in ROW_TYPES {
        (row_type.check_relations)();
        for (field, declared) in (row_type.relations)() {
            relations += 1;
            let foreign_keys = declared.foreign_keys();
            let expected = if declared.via.is_some() { 2 } else { 1 };
            assert_eq!(foreign_keys.len(), expected, "{}.{field}", row_type.name);
            for key in foreign_keys {
                assert!(
                    keys.contains(&key),
                    "{}.{field}: no foreign key {key:?} in {keys:?}",
                    row_type.name
                );
            }
        }
    }
    assert!(relations >= ROW_TYPES.len(), "every type has a relation");
}

/// A relation declared on the wrong types, or in the wrong direction, is refused
/// when it is first read, which `check_relations` does for every declared one.
#[test]
fn a_relation_between_other_types_is_refused() {
    use entity::{post, user};
    use relgql::api::blog::{comment::Comment, post::Post, user::User};
    use relgql::engine::relation::{Declared, check_to_many};
    fn refused(check: impl FnOnce() + std::panic::UnwindSafe) -> bool {
        std::panic::catch_unwind(check).is_err()
    }
    let author = || Declared::from(post::Relation::Author);
    assert!(!refused(|| {
        author().to_one_columns::<Post, User>();
    }));
    assert!(refused(|| {
        author().to_one_columns::<Post, Comment>();
    }));
    assert!(refused(|| {
        author().to_one_columns::<User, Post>();
    }));
    assert!(!refused(|| check_to_many::<User, Post>(&Declared::from(
        user::Relation::Posts
    ))));
    // Up a foreign key is not a to-many relation.
    assert!(refused(|| check_to_many::<Post, User>(&author())));
    assert!(refused(|| check_to_many::<User, Comment>(&Declared::from(
        user::Relation::Posts
    ))));
    let courses = Declared::related::<entity::student::Entity, entity::course::Entity>();
    assert_eq!(courses.foreign_keys().len(), 2);
}

on_every_backend!(every_relation_stands_on_a_foreign_key_of_the_database);
