//! The statements behind the loaders and top-level lists.
//!
//! A page of related rows for many parents is one statement:
//!
//! ```sql
//! SELECT page.*, <joined to-one rows> FROM (
//!   SELECT t0.*, <parent> AS __parent,
//!          [COUNT(*) OVER w AS __count,]
//!          ROW_NUMBER() OVER w AS __rn -- w: PARTITION BY <parent> ORDER BY <order>, t0.id
//!   FROM <table> t0 [JOIN <junction> j ON j.<to> = t0.id]
//!   WHERE <parent> IN (...) AND <filter> AND <after the cursor>
//! ) page [LEFT JOIN <to-one table> r1 ON r1.<column> = page.<key> ...]
//! WHERE page.__rn <= <limit [+ 1]>
//! ```
//!
//! The rows are put in order per parent by `__rn` as they are read; an extra row
//! per parent, read only when `pageInfo` asks, tells whether another page follows
//! (most selections do not ask: without it, the workload's feed reads 90 comment
//! rows where it read 105); the count, when
//! `totalCount` is asked for on a first page, saves a statement of its own; the
//! to-one rows the selection asks for (see [`super::joins`]) are joined to the
//! page's rows only. Window functions run on SQLite 3.25+, PostgreSQL and
//! MariaDB 10.2+ / MySQL 8 alike.

use std::sync::Arc;

use entity::FromRowAt;
use foldhash::{HashMap, HashMapExt};
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, DynIden, Expr, ExprTrait, Frame, FrameType, Func, IntoIden,
    JoinType, Order, Query, SelectStatement, WindowStatement,
};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, IdenStatic, Iterable, QueryResult};

use super::fold::Fold;
use super::page::{EdgeData, Page};
use super::statement_cache::{self, Shape, ShapeArgs};
use super::{JoinBy, Joins, JoinsReader, Primed, PrimedPages, ToOne};
use crate::db::CountingDb;
use crate::engine::listing::{ColumnOf, Link, ListArgs, Listed, ModelOf, Scope, Table};
use crate::engine::pagination::{OrderDirection, Ordering};
use crate::engine::rules::{self, Reader};

/// The name of a page row's parent id.
pub(super) const PARENT: &str = "__parent";
/// The name of a page row's rank in its parent's page.
pub(super) const ROW_NUMBER: &str = "__rn";
const COUNT: &str = "__count";
const JUNCTION: &str = "j";
const PAGE: &str = "page";

type ColumnRef = (DynIden, DynIden);

/// The statements, as the shapes of the statement cache name them.
struct ListPage;
struct RowsBy;
struct CountAll;
struct RelatedPages;
struct RelatedCounts;

/// A page of a top-level list, its rows with the rows their joins read.
pub async fn list_page<T: Listed>(
    db: &CountingDb,
    reader: Reader,
    args: &Arc<ListArgs<T>>,
) -> Result<Page<T, async_graphql::connection::EmptyFields>, DbErr> {
    let backend = db.get_database_backend();
    let shape = list_shape::<ListPage, T>(backend, reader, None, 0, args);
    let query = statement_cache::statement(shape, &[], |_| {
        let mut query = Query::select();
        query.from_as(T::Entity::default(), t0());
        select_table::<T>(&mut query, reader, &t0(), "", args.omitted);
        if let Some(joins) = &args.joins {
            joins.apply(&mut query, &t0(), reader, JoinBy::Join);
        }
        where_listed(&mut query, reader, args, None);
        for (value, order) in order_terms::<T>(reader, &args.window.read_order()) {
            query.order_by_expr(value, order);
        }
        query.limit(args.rows_read());
        query
    });
    let mut page = Page::default();
    let mut joins = args.joins.as_deref().map(Joins::reader);
    for row in db.query_rows(query, expected_rows(1, args)).await? {
        if page.rows.len() as u64 == args.window.limit {
            page.has_more = true;
            break;
        }
        // The listed table's columns come first.
        let mut node = T::from_model(ModelOf::<T>::from_row_without(&row, 0, args.omitted)?);
        if let Some(joins) = &mut joins {
            node.attach(joins.read(&row)?);
        }
        page.rows
            .push((node, async_graphql::connection::EmptyFields));
    }
    Ok(page)
}

/// The rows of `R::Target` that `reader` may see whose `R::column()` is one of
/// `values`, by that value, with the rows their joins read; the pages it folds in
/// go into `primed`.
pub async fn rows_by<R: ToOne>(
    db: &impl ConnectionTrait,
    reader: Reader,
    values: &[i32],
    joins: Option<&Arc<Joins>>,
    primed: &Primed,
) -> Result<HashMap<i32, R::Target>, DbErr> {
    let backend = db.get_database_backend();
    let args = joins.map(|joins| joins.clone() as Arc<dyn ShapeArgs>);
    let shape = Shape::of::<(RowsBy, R)>(backend, reader, None, values.len(), args);
    let joins = joins.map(|joins| &**joins);
    let query = statement_cache::statement(shape, values, |values| {
        rows_by_statement::<R>(backend, reader, values, joins)
    });
    let mut found = HashMap::with_capacity(values.len());
    let mut read = PrimedPages::default();
    let mut fold = folded::<R>(joins).map(Fold::reader);
    let mut joins = joins.map(Joins::reader);
    // The table's columns come first, but for the hidden ones.
    let hidden = <R::Target as Table>::hidden();
    let key_at = column_at::<R::Target>(R::column().as_str(), hidden)?;
    for row in db.query_all_raw(query).await? {
        if let Some(fold) = &mut fold {
            fold.read(&row)?;
        }
        let key: i32 = entity::column(&row, key_at)?;
        if found.contains_key(&key) {
            continue; // the row again, with another row of its folded page
        }
        let mut node =
            R::Target::from_model(ModelOf::<R::Target>::from_row_without(&row, 0, hidden)?);
        if let Some(joins) = &mut joins {
            node.attach(joins.read(&row)?);
        }
        found.insert(key, node);
    }
    if let Some(fold) = fold {
        fold.finish(&found.keys().copied().collect::<Vec<_>>(), &mut read);
    }
    primed.extend(read);
    Ok(found)
}

/// The page `joins` folds in, when the rows are looked up by their id (which the
/// folded rows point at).
fn folded<R: ToOne>(joins: Option<&Joins>) -> Option<&dyn Fold> {
    let by_id = R::column().as_str() == <R::Target as Table>::id_column().as_str();
    joins?.fold().filter(|_| by_id)
}

pub fn rows_by_statement<R: ToOne>(
    backend: DbBackend,
    reader: Reader,
    values: &[i32],
    joins: Option<&Joins>,
) -> SelectStatement {
    let mut query = Query::select();
    query.from_as(<R::Target as Table>::Entity::default(), t0());
    let hidden = <R::Target as Table>::hidden();
    select_table::<R::Target>(&mut query, reader, &t0(), "", hidden);
    if let Some(joins) = joins {
        joins.apply(&mut query, &t0(), reader, JoinBy::Join);
    }
    if let Some(fold) = folded::<R>(joins) {
        let id = <R::Target as Table>::id_column().into_iden();
        fold.apply(backend, reader, &mut query, &t0(), id, values);
    }
    query.and_where(Expr::col((t0(), R::column())).is_in(values.iter().copied()));
    if let Some(rule) = rules::visible::<R::Target>(reader, &t0(), None) {
        query.cond_where(rule);
    }
    query
}

/// How many rows of a top-level list that `reader` may see match its filter.
pub async fn count_all<T: Listed>(
    db: &impl ConnectionTrait,
    reader: Reader,
    args: &Arc<ListArgs<T>>,
) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let shape = list_shape::<CountAll, T>(backend, reader, None, 0, args);
    let query = statement_cache::statement(shape, &[], |_| {
        let mut query = Query::select();
        query
            .from_as(T::Entity::default(), t0())
            .expr_as(Func::count(Expr::col(Asterisk)), Alias::new(COUNT))
            .cond_where(args.condition.clone());
        if let Some(rule) = rules::visible::<T>(reader, &t0(), None) {
            query.cond_where(rule);
        }
        query
    });
    let row = db.query_one_raw(query).await?;
    row.map_or(Ok(0), |row| row.try_get("", COUNT))
}

/// The pages of rows related to each of `parents` through `link`, their rows with
/// the rows their joins read. When `args` asks for `totalCount` and starts at the
/// beginning, the same statement counts each parent's rows.
pub async fn related_pages<T: Listed, E: EdgeData>(
    db: &CountingDb,
    reader: Reader,
    link: &Link,
    parents: &[i32],
    args: &Arc<ListArgs<T>>,
) -> Result<HashMap<i32, Page<T, E>>, DbErr> {
    if parents.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = db.get_database_backend();
    let shape =
        list_shape::<(RelatedPages, E), T>(backend, reader, Some(link), parents.len(), args);
    let outer = statement_cache::statement(shape, parents, |parents| {
        let inner = ranked_rows::<T, E>(backend, reader, link, parents, args, "");
        let page_alias = Alias::new(PAGE).into_iden();
        let mut outer = Query::select();
        outer
            .column((page_alias.clone(), Asterisk))
            .from_subquery(inner, page_alias.clone());
        if let Some(joins) = &args.joins {
            let by = match backend {
                DbBackend::Postgres => JoinBy::Lookup,
                _ => JoinBy::Join,
            };
            joins.apply(&mut outer, &page_alias, reader, by);
        }
        outer.and_where(Expr::col((page_alias, Alias::new(ROW_NUMBER))).lte(args.rows_read()));
        outer
    });

    let mut pages = PageReader::new("", args);
    let mut joins = args.joins.as_deref().map(Joins::reader);
    for row in db
        .query_rows(outer, expected_rows(parents.len(), args))
        .await?
    {
        pages.read(&row, joins.as_mut())?;
    }
    Ok(pages.finish(parents))
}

/// The rows related to each of `parents` through `link`, ranked in each parent's
/// page by `ROW_NUMBER()`, with the parent's id (and, for a first page whose
/// `totalCount` is asked for, the parent's count of rows); every column is named
/// `<prefix><name>`, an association table's as `<prefix>j_<column>`.
///
/// Where the backend allows it, the count and the rank share one window (ordered,
/// its frame the whole partition): PostgreSQL then computes both in one pass, where
/// a window of its own for the count buffered every partition a second time (a
/// feed's comment pages: 0.31 -> 0.19 ms of PostgreSQL's CPU). MySQL and MariaDB
/// refuse a frame on `ROW_NUMBER()`, so there the count keeps a window of its own.
pub(super) fn ranked_rows<T: Listed, E: EdgeData>(
    backend: DbBackend,
    reader: Reader,
    link: &Link,
    parents: &[i32],
    args: &ListArgs<T>,
    prefix: &str,
) -> SelectStatement {
    let named = |name: &str| Alias::new(format!("{prefix}{name}"));
    let (mut inner, parent) = related_source::<T>(link, parents);
    select_table::<T>(&mut inner, reader, &t0(), prefix, args.omitted);
    for column in E::COLUMNS {
        inner.expr_as(
            Expr::col((Alias::new(JUNCTION), Alias::new(*column))),
            named(&format!("j_{column}")),
        );
    }
    inner.expr_as(Expr::col(parent.clone()), named(PARENT));
    where_listed(&mut inner, reader, args, Some(link));
    let mut window = WindowStatement::partition_by(parent.clone());
    for (value, order) in order_terms::<T>(reader, &args.window.read_order()) {
        window.order_by_expr(value, order);
    }
    if counted(args) {
        let count = if backend == DbBackend::MySql {
            WindowStatement::partition_by(parent)
        } else {
            window.frame_between(
                FrameType::Rows,
                Frame::UnboundedPreceding,
                Frame::UnboundedFollowing,
            );
            window.clone()
        };
        inner.expr_window_as(Func::count(Expr::col(Asterisk)), count, named(COUNT));
    }
    inner.expr_window_as(Func::cust("ROW_NUMBER"), window, named(ROW_NUMBER));
    inner
}

/// Whether a page statement counts each parent's rows: when `totalCount` is asked
/// for on a first page.
fn counted<T: Listed>(args: &ListArgs<T>) -> bool {
    args.total_wanted && args.window.cursor.is_none()
}

/// Pages as their rows are read, in no particular order: each row goes to its
/// parent's page at its rank (asking PostgreSQL to order them sorts again what the
/// window sorted). The page's columns are named `<prefix><column>`.
pub(super) struct PageReader<T, E> {
    prefix: &'static str,
    counted: bool,
    /// The listed table's columns the statement leaves out.
    omitted: u32,
    last: i64,
    found: HashMap<i32, Reading<T, E>>,
    /// Where the page's columns are, found on the first row.
    at: Option<PageColumns>,
}

/// The positions of a page's columns in its statement's rows.
struct PageColumns {
    /// The first of the listed table's columns.
    model: usize,
    parent: usize,
    rank: usize,
    count: Option<usize>,
}

impl<T: Listed, E: EdgeData> PageReader<T, E> {
    pub(super) fn new(prefix: &'static str, args: &ListArgs<T>) -> Self {
        Self {
            prefix,
            counted: counted(args),
            omitted: args.omitted,
            last: i64::try_from(args.window.limit).unwrap_or(i64::MAX),
            found: HashMap::new(),
            at: None,
        }
    }

    fn columns(&mut self, row: &QueryResult) -> Result<&PageColumns, DbErr> {
        if self.at.is_none() {
            let layout = Layout::of(row);
            let prefix = self.prefix;
            let named = |name: &str| layout.at(&format!("{prefix}{name}"));
            let count = self.counted.then(|| named(COUNT)).transpose()?;
            self.at = Some(PageColumns {
                model: named(ModelOf::<T>::COLUMNS[0])?,
                parent: named(PARENT)?,
                rank: named(ROW_NUMBER)?,
                count,
            });
        }
        self.at
            .as_ref()
            .ok_or_else(|| DbErr::Custom("the page's columns were not located".into()))
    }

    /// Reads the page row of `row`, if it carries one (a row without a rank is a
    /// parent without rows), with the rows `joins` read.
    pub(super) fn read(
        &mut self,
        row: &QueryResult,
        joins: Option<&mut JoinsReader<'_>>,
    ) -> Result<(), DbErr> {
        let at = self.columns(row)?;
        let Some(rank) = rank(row, at.rank)? else {
            return Ok(());
        };
        let (model, parent, count) = (at.model, at.parent, at.count);
        let last = self.last;
        let reading = self
            .found
            .entry(entity::column(row, parent)?)
            .or_insert_with(|| Reading::new(last));
        let page = &mut reading.page;
        if let Some(count) = count
            && page.total.is_none()
        {
            page.total = Some(entity::column(row, count)?);
        }
        if rank > last {
            page.has_more = true;
            return Ok(());
        }
        let mut node = T::from_model(ModelOf::<T>::from_row_without(row, model, self.omitted)?);
        if let Some(joins) = joins {
            node.attach(joins.read(row)?);
        }
        reading.push(rank, (node, E::read(row)?));
        Ok(())
    }

    /// The pages read, by parent; each of `parents` counts 0 rows when the
    /// statement counted and read none of its rows.
    pub(super) fn finish(self, parents: &[i32]) -> HashMap<i32, Page<T, E>> {
        let mut pages: HashMap<i32, Page<T, E>> = self
            .found
            .into_iter()
            .map(|(parent, reading)| (parent, reading.finish()))
            .collect();
        if self.counted {
            for parent in parents {
                pages.entry(*parent).or_default().total.get_or_insert(0);
            }
        }
        pages
    }
}

/// Where a statement's columns are, by name: looked up once, on its first row, so
/// that every row is read by position.
pub(super) struct Layout(Vec<String>);

impl Layout {
    pub(super) fn of(row: &QueryResult) -> Self {
        Self(row.column_names())
    }

    /// The position of the first column named `name`.
    pub(super) fn at(&self, name: &str) -> Result<usize, DbErr> {
        self.0
            .iter()
            .position(|column| column == name)
            .ok_or_else(|| DbErr::Type(format!("the statement selects no column {name}")))
    }
}

/// The position of `column` among the columns of `T`'s table that a statement
/// reads, which leaves out the `omitted` ones.
pub fn column_at<T: Table>(column: &str, omitted: u32) -> Result<usize, DbErr> {
    ModelOf::<T>::COLUMNS
        .iter()
        .enumerate()
        .filter(|(i, _)| omitted & 1 << i == 0)
        .position(|(_, c)| *c == column)
        .ok_or_else(|| DbErr::Type(format!("{} reads no column {column}", T::NAME)))
}

/// How many rows a statement reading pages of `args` for `parents` parents returns
/// at most: every page full (and read past its end when `pageInfo` asks).
fn expected_rows<T: Listed>(parents: usize, args: &ListArgs<T>) -> usize {
    usize::try_from(args.rows_read())
        .unwrap_or(usize::MAX)
        .saturating_mul(parents)
}

/// Room kept at first for a page's rows: its limit, up to this many.
const MOST_ROWS_RESERVED: i64 = 64;

/// A page as its rows are read: its rows as they come, with their ranks. A
/// statement mostly sends each page's rows in their order, which then stand as they
/// came; otherwise they are sorted by rank at the end.
struct Reading<T, E> {
    page: Page<T, E>,
    ranks: Vec<i64>,
}

impl<T, E> Reading<T, E> {
    fn new(limit: i64) -> Self {
        let room = usize::try_from(limit.clamp(0, MOST_ROWS_RESERVED)).unwrap_or(0);
        Self {
            page: Page {
                rows: Vec::with_capacity(room),
                ..Page::default()
            },
            ranks: Vec::with_capacity(room),
        }
    }

    fn push(&mut self, rank: i64, row: (T, E)) {
        self.ranks.push(rank);
        self.page.rows.push(row);
    }

    fn finish(self) -> Page<T, E> {
        let Self { mut page, ranks } = self;
        if !ranks.is_sorted_by(|a, b| a < b) {
            let mut ranked: Vec<(i64, (T, E))> = ranks.into_iter().zip(page.rows).collect();
            ranked.sort_unstable_by_key(|(rank, _)| *rank);
            page.rows = ranked.into_iter().map(|(_, row)| row).collect();
        }
        page
    }
}

/// A row's place in its parent's page (in column `at`), from 1, if it has one
/// (`ROW_NUMBER()` is unsigned on MySQL and MariaDB).
fn rank(row: &QueryResult, at: usize) -> Result<Option<i64>, DbErr> {
    entity::column::<Option<i64>>(row, at).or_else(|_| {
        let rank: Option<u64> = row.try_get_by_index(at)?;
        rank.map(|rank| i64::try_from(rank).map_err(|e| DbErr::Type(e.to_string())))
            .transpose()
    })
}

/// How many rows related to each of `parents` through `link` that `reader` may see
/// match the filter.
pub async fn related_counts<T: Listed>(
    db: &impl ConnectionTrait,
    reader: Reader,
    link: &Link,
    parents: &[i32],
    args: &Arc<ListArgs<T>>,
) -> Result<HashMap<i32, i64>, DbErr> {
    if parents.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = db.get_database_backend();
    let shape = list_shape::<RelatedCounts, T>(backend, reader, Some(link), parents.len(), args);
    let query = statement_cache::statement(shape, parents, |parents| {
        let (mut query, parent) = related_source::<T>(link, parents);
        query
            .expr_as(Expr::col(parent.clone()), Alias::new(PARENT))
            .expr_as(Func::count(Expr::col(Asterisk)), Alias::new(COUNT))
            .cond_where(args.condition.clone())
            .group_by_col(parent);
        if let Some(rule) = rules::visible::<T>(reader, &t0(), reached_by(link).as_deref()) {
            query.cond_where(rule);
        }
        query
    });
    let mut counts = HashMap::with_capacity(parents.len());
    for row in db.query_all_raw(query).await? {
        counts.insert(row.try_get("", PARENT)?, row.try_get("", COUNT)?);
    }
    Ok(counts)
}

/// The shape of statement `S` (a marker) over the rows of `T` and a connection's `args`.
fn list_shape<S: 'static, T: Listed>(
    backend: DbBackend,
    reader: Reader,
    link: Option<&Link>,
    parents: usize,
    args: &Arc<ListArgs<T>>,
) -> Shape {
    Shape::of::<(S, T)>(backend, reader, link, parents, Some(args.clone()))
}

fn t0() -> DynIden {
    Scope::root_alias()
}

/// `FROM` the listed table (joined to the association table for a junction),
/// limited to `parents`; returns the column that holds the parent's id.
fn related_source<T: Listed>(link: &Link, parents: &[i32]) -> (SelectStatement, ColumnRef) {
    let mut query = Query::select();
    query.from_as(T::Entity::default(), t0());
    let parent: ColumnRef = match link {
        Link::Children { foreign_key, .. } => (t0(), foreign_key.clone()),
        Link::Junction {
            junction, from, to, ..
        } => {
            let link = Alias::new(JUNCTION).into_iden();
            query.join_as(
                JoinType::InnerJoin,
                junction.clone(),
                link.clone(),
                Expr::col((link.clone(), to.clone())).equals((t0(), T::id_column())),
            );
            (link, from.clone())
        }
    };
    query.and_where(Expr::col(parent.clone()).is_in(parents.iter().copied()));
    (query, parent)
}

/// The columns of `T`'s table aliased `alias`, as `reader` may read them, named
/// `<prefix><column>`, but for those whose bits are set in `omitted` (the `Column`
/// enum lists them in the model's order, which a test of `entity` checks).
pub(super) fn select_table<T: Table>(
    query: &mut SelectStatement,
    reader: Reader,
    alias: &DynIden,
    prefix: &str,
    omitted: u32,
) {
    for (i, column) in ColumnOf::<T>::iter().enumerate() {
        if omitted & 1 << i == 0 {
            let name = Alias::new(format!("{prefix}{}", column.as_str()));
            query.expr_as(rules::column::<T>(reader, alias, column), name);
        }
    }
}

/// The column of the listed rows by which `link` reaches them from their parent.
fn reached_by(link: &Link) -> Option<std::borrow::Cow<'static, str>> {
    match link {
        Link::Children { foreign_key, .. } => Some(foreign_key.inner()),
        Link::Junction { .. } => None,
    }
}

/// The filter, the read rule of the rows (reached through `link`, if any), and the
/// keyset condition that starts the page after the cursor.
fn where_listed<T: Listed>(
    query: &mut SelectStatement,
    reader: Reader,
    args: &ListArgs<T>,
    link: Option<&Link>,
) {
    query.cond_where(args.condition.clone());
    if let Some(rule) = rules::visible::<T>(reader, &t0(), link.and_then(reached_by).as_deref()) {
        query.cond_where(rule);
    }
    if let Some(cursor) = &args.window.cursor {
        let order = args.window.read_order();
        query.cond_where(after_key::<T>(reader, &order, cursor));
    }
}

/// Rows strictly after `key` in `order`:
/// `(a > ka) OR (a = ka AND b > kb) OR ...` with `<` for descending terms.
fn after_key<T: Listed>(
    reader: Reader,
    order: &Ordering<T::Field>,
    key: &[crate::engine::pagination::SortValue],
) -> Condition {
    let value_of = |field| rules::column::<T>(reader, &t0(), T::column(field));
    let mut any = Condition::any();
    for (i, ((field, direction), value)) in order.terms.iter().zip(key).enumerate() {
        let mut all = Condition::all();
        for ((earlier, _), earlier_value) in order.terms[..i].iter().zip(key) {
            all = all.add(value_of(*earlier).eq(earlier_value.to_value()));
        }
        let column = value_of(*field);
        all = all.add(match direction {
            OrderDirection::Asc => column.gt(value.to_value()),
            OrderDirection::Desc => column.lt(value.to_value()),
        });
        any = any.add(all);
    }
    any
}

/// The terms of `order`, on the listed columns as `reader` may read them.
fn order_terms<T: Listed>(reader: Reader, order: &Ordering<T::Field>) -> Vec<(Expr, Order)> {
    order
        .terms
        .iter()
        .map(|(field, direction)| {
            let order = match direction {
                OrderDirection::Asc => Order::Asc,
                OrderDirection::Desc => Order::Desc,
            };
            (rules::column::<T>(reader, &t0(), T::column(*field)), order)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(limit: i64, ranks: &[i64]) -> Vec<i64> {
        let mut reading = Reading::new(limit);
        for rank in ranks {
            reading.push(*rank, (*rank, ()));
        }
        reading
            .finish()
            .rows
            .into_iter()
            .map(|(row, ())| row)
            .collect()
    }

    #[test]
    fn a_pages_rows_come_out_in_rank_order_however_they_came() {
        assert_eq!(read(3, &[1, 2, 3]), [1, 2, 3]);
        assert_eq!(read(3, &[2, 1, 3]), [1, 2, 3]);
        assert_eq!(read(3, &[1, 3, 2]), [1, 2, 3]);
        assert_eq!(read(3, &[3, 2, 1]), [1, 2, 3]);
        // Equal ranks are out of order too (they do not come from one window).
        assert_eq!(read(2, &[2, 2, 1]), [1, 2, 2]);
        assert_eq!(read(0, &[]), Vec::<i64>::new());
    }

    #[test]
    fn room_for_a_pages_rows_is_its_limit_within_bounds() {
        assert!(Reading::<u64, ()>::new(10).page.rows.capacity() >= 10);
        assert_eq!(Reading::<u64, ()>::new(-1).page.rows.capacity(), 0);
        assert!(
            Reading::<u64, ()>::new(i64::MAX).page.rows.capacity() <= MOST_ROWS_RESERVED as usize
        );
    }
}
