//! What a page load returns, and the data an edge may carry.

use async_graphql::ObjectType;
use async_graphql::connection::EmptyFields;
use sea_orm::{DbErr, QueryResult};

/// Rows of one page for one parent, in the order they were read.
#[derive(Clone, Debug)]
pub struct Page<T, E> {
    /// The rows, each with its edge data; at most the page's limit.
    pub rows: Vec<(T, E)>,
    /// Whether more rows follow in the reading direction.
    pub has_more: bool,
    /// How many rows the whole list holds, when the statement counted them.
    pub total: Option<i64>,
}

impl<T, E> Default for Page<T, E> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            has_more: false,
            total: None,
        }
    }
}

/// Data an edge carries besides its node: columns of an association table.
pub trait EdgeData: ObjectType + Clone + Send + Sync + 'static {
    /// Prefix of the connection and edge type names (`Enrolled` + `Course` + `Edge`).
    const PREFIX: &'static str;
    /// The association table's columns to read.
    const COLUMNS: &'static [&'static str];
    /// Reads the data from a row where each column of [`Self::COLUMNS`] is
    /// selected as `j_<column>`.
    fn read(row: &QueryResult) -> Result<Self, DbErr>;
}

impl EdgeData for EmptyFields {
    const PREFIX: &'static str = "";
    const COLUMNS: &'static [&'static str] = &[];

    fn read(_: &QueryResult) -> Result<Self, DbErr> {
        Ok(EmptyFields)
    }
}
