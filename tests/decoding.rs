//! Columns read by position (`entity::column`) decode as SeaORM and sqlx decode
//! them: on PostgreSQL from the bytes of the binary format, which relgql decodes
//! itself, edge values and nulls included; and values of the wrong type or size,
//! or nulls where a value must be, are errors.

mod common;

use chrono::{DateTime, Utc};
use common::{Backend, TestApp};
use sea_orm::{ConnectionTrait, QueryResult, Statement};

/// One row of `values` (where `$1` is 1): read by a prepared statement, in the
/// binary format, or else by a simple query, whose values come as text.
async fn row_of(app: &TestApp, values: &str, prepared: bool) -> QueryResult {
    if !prepared {
        let pool = app.db.get_postgres_connection_pool();
        let sql = format!("SELECT {}", values.replace("$1", "1"));
        let row = sea_orm::sqlx::raw_sql(sea_orm::sqlx::AssertSqlSafe(sql))
            .fetch_one(pool)
            .await
            .expect("the query runs");
        return row.into();
    }
    let rows = app
        .db
        .query_all_raw(Statement::from_sql_and_values(
            app.db.get_database_backend(),
            format!("SELECT {values}"),
            [sea_orm::Value::from(1)],
        ))
        .await
        .expect("the statement runs");
    rows.into_iter().next().expect("one row")
}

/// Column `at` read both ways, which must agree.
fn agree<T>(row: &QueryResult, at: usize) -> T
where
    T: entity::ColumnValue + PartialEq + std::fmt::Debug,
{
    let ours: T = entity::column(row, at).unwrap_or_else(|e| panic!("column {at}: {e}"));
    let theirs = T::try_get_by_index(row, at).unwrap_or_else(|e| panic!("column {at}: {e:?}"));
    assert_eq!(ours, theirs, "column {at}");
    ours
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_values_decode_as_sqlx_decodes_them() {
    if !Backend::Postgres.enabled() {
        return;
    }
    let app = TestApp::new(Backend::Postgres).await;
    for prepared in [true, false] {
        decode_both_ways(&app, prepared).await;
    }
}

async fn decode_both_ways(app: &TestApp, prepared: bool) {
    let row = row_of(
        app,
        "$1::int4 AS one, (-2147483648)::int4, 2147483647::int4, 0::int4,
         9223372036854775807::int8, (-1)::int8, 7::int2,
         true, false, ''::text, 'say \"hi\" ü ☃ 😀'::varchar,
         NULL::int4, NULL::text, 12::int4,
         '2000-01-01 00:00:00Z'::timestamptz, '1969-07-20 20:17:40.123456Z'::timestamptz,
         '2262-04-11 23:47:16.854775Z'::timestamptz, '1900-01-01 00:00:00.000001+02'::timestamptz,
         COUNT(*) OVER ()",
        prepared,
    )
    .await;
    assert_eq!(agree::<i32>(&row, 0), 1);
    assert_eq!(agree::<i32>(&row, 1), i32::MIN);
    assert_eq!(agree::<i32>(&row, 2), i32::MAX);
    assert_eq!(agree::<i32>(&row, 3), 0);
    assert_eq!(agree::<i64>(&row, 4), i64::MAX);
    assert_eq!(agree::<i64>(&row, 5), -1);
    // sqlx's checked decoding refuses an int2 as i64; read unchecked, it is one.
    assert_eq!(entity::column::<i64>(&row, 6).expect("int2"), 7);
    assert!(agree::<bool>(&row, 7));
    assert!(!agree::<bool>(&row, 8));
    assert_eq!(agree::<String>(&row, 9), "");
    assert_eq!(agree::<String>(&row, 10), "say \"hi\" ü ☃ 😀");
    assert_eq!(agree::<Option<i32>>(&row, 11), None);
    assert_eq!(agree::<Option<String>>(&row, 12), None);
    assert_eq!(agree::<Option<i32>>(&row, 13), Some(12));
    let times: Vec<DateTime<Utc>> = (14..=17).map(|at| agree(&row, at)).collect();
    assert_eq!(times[0].to_rfc3339(), "2000-01-01T00:00:00+00:00");
    assert_eq!(times[1].to_rfc3339(), "1969-07-20T20:17:40.123456+00:00");
    assert_eq!(times[2].to_rfc3339(), "2262-04-11T23:47:16.854775+00:00");
    assert_eq!(times[3].to_rfc3339(), "1899-12-31T22:00:00.000001+00:00");
    assert_eq!(agree::<Option<i64>>(&row, 18), Some(1));

    // The wrong size, a value out of range, a null where a value must be: what
    // the error says, in the binary format and in text (sqlx's own errors).
    let wrong = [
        (
            entity::column::<i32>(&row, 4).map(drop),
            "out of range",
            "out of range",
        ),
        (
            entity::column::<bool>(&row, 0).map(drop),
            "4 bytes",
            "for boolean",
        ),
        (
            entity::column::<DateTime<Utc>>(&row, 0).map(drop),
            "4 bytes",
            "input",
        ),
        (entity::column::<i32>(&row, 11).map(drop), "null", "null"),
        (entity::column::<String>(&row, 12).map(drop), "null", "null"),
        (entity::column::<i32>(&row, 99).map(drop), "99", "99"),
    ];
    for (at, (result, binary, text)) in wrong.into_iter().enumerate() {
        let error = result.expect_err("an error").to_string();
        let saying = if prepared { binary } else { text };
        assert!(
            error.starts_with("Type Error: column") && error.contains(saying),
            "case {at}, prepared {prepared}: {error}"
        );
    }
}
