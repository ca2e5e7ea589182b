//! To-one relations joined into the statement that reads their parent rows.
//!
//! When a query selects a to-one field of the rows a statement reads (a post's
//! `author`, and the author's `profile`), the statement joins the related rows too:
//!
//! ```sql
//! SELECT t0.*, r1.id AS r1_id, r1.name AS r1_name, ..., r2.id AS r2_id, ...
//! FROM posts t0
//! LEFT JOIN users r1 ON r1.id = t0.user_id
//! LEFT JOIN profiles r2 ON r2.user_id = r1.id
//! ```
//!
//! and the joined rows, or their absence, go with each row read ([`Joined`]), where
//! its to-one fields find them before they ask a loader. A joined field costs no
//! statement of its own, and a missing row (a user without a profile) is known to be
//! missing, so the count of statements still depends on the query alone.
//!
//! A page statement on PostgreSQL looks each related row up instead
//! ([`JoinBy::Lookup`]).
//!
//! Only queries join: a mutation reads what it just wrote through the loaders.

use std::any::{Any, TypeId};
use std::collections::hash_map::Entry;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::OperationType;
use async_graphql::{Context, Lookahead};
use entity::FromRowAt;
use foldhash::HashMap;
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, DynIden, Expr, ExprTrait, IntoIden, JoinType, Query,
    SelectStatement,
};
use sea_orm::{DbErr, IdenStatic, QueryResult};

use super::fold::{Fold, plan_fold};
use super::page::Page;
use super::sql::Layout;
use super::{Follows, ToMany, ToOne};
use crate::engine::listing::{ListArgs, ModelOf, Table};
use crate::engine::rules::{self, Reader};

/// How a statement joins the related rows of the rows it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinBy {
    /// A left join, which the planner may make a hash join that reads the whole
    /// related table.
    Join,
    /// A lookup per row read (`LEFT JOIN LATERAL (… OFFSET 0)`, PostgreSQL's), which
    /// the planner keeps as one: its cost follows the rows read, not the related
    /// table. For pages, whose rows are bounded by their parents and `first`, where
    /// a generic plan (as relgql's sessions use) may hash the page against the
    /// whole related table.
    Lookup,
}

/// The most relations one statement joins; deeper ones are left to the loaders.
const MAX_JOINS: usize = 8;

/// The columns a table's statement leaves out, given which fields are selected.
type Omitted = fn(&dyn Fn(&str) -> bool) -> u32;

/// A to-one field of a row-backed type, which the statement reading its rows can join.
pub struct ToOneField {
    /// The GraphQL field.
    field: &'static str,
    /// The parent's column that holds the key of the related row.
    key: fn() -> &'static str,
    join: fn(&mut SelectStatement, &JoinPlan, Expr, Reader, JoinBy),
    attach: fn(&QueryResult, Located, Joined) -> Result<JoinedRow, DbErr>,
    /// The related table's columns.
    columns: &'static [&'static str],
    /// The related table's column that matches the key (null when there is no row).
    matched: fn() -> &'static str,
    omitted: Omitted,
    nested: fn() -> &'static [ToOneField],
}

impl ToOneField {
    /// The field `field`, which follows `R`.
    pub const fn new<R: Follows>(field: &'static str) -> Self {
        Self {
            field,
            key: key::<R>,
            join: join::<R>,
            attach: attach::<R>,
            columns: <ModelOf<R::Target> as FromRowAt>::COLUMNS,
            matched: matched::<R>,
            omitted: <R::Target as Table>::omitted,
            nested: nested::<R::Target>,
        }
    }
}

/// The to-one relations one statement joins, chosen by the selection, and the page
/// of a to-many relation a lookup folds in (see [`super::fold`]).
pub struct Joins {
    joined: Vec<JoinPlan>,
    fold: Option<Arc<dyn Fold>>,
    /// A canonical description, so that equal plans batch together.
    text: String,
}

/// One joined relation: its alias `r<n>` and the prefix `r<n>_` of its columns.
struct JoinPlan {
    via: &'static ToOneField,
    alias: DynIden,
    prefix: String,
    /// The related table's columns the statement leaves out, as bits.
    omitted: u32,
    nested: Vec<JoinPlan>,
}

impl Joins {
    /// The to-one fields of `T` that any of `selections` asks for, and theirs in
    /// turn, and with `fold`, a to-many field of `T` that the one selection asks
    /// for; `None` when there are none, or when the operation is not a query.
    pub fn of<T: Table>(
        ctx: &Context<'_>,
        selections: &[Lookahead<'_>],
        fold: bool,
    ) -> Option<Arc<Self>> {
        if ctx.query_env.operation.node.ty != OperationType::Query {
            return None;
        }
        let mut count = 0;
        let joined = plan(T::TO_ONE, selections, &mut count);
        let fold = match selections {
            [selection] if fold => plan_fold(ctx, T::TO_MANY, selection),
            _ => None,
        };
        if joined.is_empty() && fold.is_none() {
            return None;
        }
        let mut text = String::new();
        describe(&joined, &mut text);
        if let Some(fold) = &fold {
            text.push('+');
            fold.describe(&mut text);
        }
        Some(Arc::new(Self { joined, fold, text }))
    }

    /// Whether the plan depends on who reads (see
    /// [`PerFieldValue`](crate::engine::request::PerFieldValue)): its folded page's
    /// filter may.
    pub fn depends_on_reader(&self) -> bool {
        self.fold
            .as_ref()
            .is_some_and(|fold| fold.depends_on_reader())
    }

    /// The to-many page to fold in, if any.
    pub fn fold(&self) -> Option<&dyn Fold> {
        self.fold.as_deref()
    }

    /// Joins the relations to `query`, whose parent rows are aliased `parent`: the
    /// related rows that `reader` may see.
    pub fn apply(&self, query: &mut SelectStatement, parent: &DynIden, reader: Reader, by: JoinBy) {
        apply(&self.joined, query, parent, reader, by);
    }

    /// What reads the joined rows of a statement's rows.
    pub fn reader(&self) -> JoinsReader<'_> {
        JoinsReader {
            joins: self,
            at: None,
        }
    }
}

/// Reads the joined rows of one statement's rows, by position: the columns are
/// found by name on the first row.
pub struct JoinsReader<'a> {
    joins: &'a Joins,
    /// For each joined relation, in the order of the plan: where its columns are.
    at: Option<Vec<Located>>,
}

/// Where a joined relation's columns are in a statement's rows.
#[derive(Clone, Copy)]
struct Located {
    /// The related table's columns the statement leaves out.
    omitted: u32,
    /// The related table's first column.
    first: usize,
    /// The related table's column that matches the key.
    matched: usize,
}

impl JoinsReader<'_> {
    /// The joined rows of `row` (or their absence).
    pub fn read(&mut self, row: &QueryResult) -> Result<Joined, DbErr> {
        let at = match &mut self.at {
            Some(at) => at,
            None => {
                let mut at = Vec::new();
                locate(&self.joins.joined, &Layout::of(row), &mut at)?;
                self.at.insert(at)
            }
        };
        read(&self.joins.joined, row, &mut at.iter())
    }
}

fn plan(
    fields: &'static [ToOneField],
    selections: &[Lookahead<'_>],
    count: &mut usize,
) -> Vec<JoinPlan> {
    let mut joined = Vec::new();
    for via in fields {
        if *count == MAX_JOINS {
            break;
        }
        let selected: Vec<Lookahead<'_>> = selections
            .iter()
            .map(|selection| selection.field(via.field))
            .filter(Lookahead::exists)
            .collect();
        if selected.is_empty() {
            continue;
        }
        *count += 1;
        // The column the join matches tells whether there is a related row.
        let matched = entity::column_bits(via.columns, &[(via.matched)()]);
        let omitted =
            (via.omitted)(&|field| selected.iter().any(|s| s.field(field).exists())) & !matched;
        let n = *count;
        joined.push(JoinPlan {
            via,
            alias: Alias::new(format!("r{n}")).into_iden(),
            prefix: format!("r{n}_"),
            omitted,
            nested: plan((via.nested)(), &selected, count),
        });
    }
    joined
}

fn describe(joined: &[JoinPlan], text: &mut String) {
    for j in joined {
        text.push_str(j.via.field);
        text.push('-');
        text.push_str(&j.omitted.to_string());
        text.push('(');
        describe(&j.nested, text);
        text.push(')');
    }
}

fn apply(
    joined: &[JoinPlan],
    query: &mut SelectStatement,
    parent: &DynIden,
    reader: Reader,
    by: JoinBy,
) {
    for j in joined {
        let key = Expr::col((parent.clone(), Alias::new((j.via.key)())));
        (j.via.join)(query, j, key, reader, by);
        apply(&j.nested, query, &j.alias, reader, by);
    }
}

fn locate(joined: &[JoinPlan], layout: &Layout, at: &mut Vec<Located>) -> Result<(), DbErr> {
    for j in joined {
        at.push(Located {
            omitted: j.omitted,
            first: layout.at(&format!("{}{}", j.prefix, j.via.columns[0]))?,
            matched: layout.at(&format!("{}{}", j.prefix, (j.via.matched)()))?,
        });
        locate(&j.nested, layout, at)?;
    }
    Ok(())
}

fn read<'a>(
    joined: &[JoinPlan],
    row: &QueryResult,
    at: &mut impl Iterator<Item = &'a Located>,
) -> Result<Joined, DbErr> {
    let mut rows = Vec::with_capacity(joined.len());
    for j in joined {
        let &located = at
            .next()
            .ok_or_else(|| DbErr::Type("a joined relation was not located".into()))?;
        // The related row's own joined rows, which go with it.
        let nested = read(&j.nested, row, at)?;
        // A null key matches no row: the field answers null, as the row's own
        // key says before it looks for one (see `follow`).
        rows.push((j.via.attach)(row, located, nested)?);
    }
    Ok(Joined(rows))
}

/// Joins the row `R` relates to `key`, when `reader` may see it.
fn join<R: ToOne>(
    query: &mut SelectStatement,
    joined: &JoinPlan,
    key: Expr,
    reader: Reader,
    by: JoinBy,
) {
    let alias = &joined.alias;
    let mut on = Condition::all().add(Expr::col((alias.clone(), R::column())).eq(key));
    if let Some(rule) = rules::visible::<R::Target>(reader, alias, None) {
        on = on.add(rule);
    }
    let table = <R::Target as Table>::Entity::default();
    match by {
        JoinBy::Join => {
            query.join_as(JoinType::LeftJoin, table, alias.clone(), on);
        }
        JoinBy::Lookup => {
            // `OFFSET 0` keeps the planner from pulling the lookup up into a join.
            let mut lookup = Query::select();
            lookup
                .column((alias.clone(), Asterisk))
                .from_as(table, alias.clone())
                .cond_where(on)
                .offset(0);
            query.join_lateral(
                JoinType::LeftJoin,
                lookup,
                alias.clone(),
                Condition::all().add(Expr::cust("TRUE")),
            );
        }
    }
    let (prefix, omitted) = (&joined.prefix, joined.omitted);
    super::sql::select_table::<R::Target>(query, reader, alias, prefix, omitted);
}

/// The row `R` relates a row to, whose columns are `at` (all null when there is
/// none), with its own joined rows.
fn attach<R: ToOne>(row: &QueryResult, at: Located, nested: Joined) -> Result<JoinedRow, DbErr> {
    let found = match entity::column::<Option<i32>>(row, at.matched)? {
        Some(_) => {
            let model = ModelOf::<R::Target>::from_row_without(row, at.first, at.omitted)?;
            let mut found = <R::Target as Table>::from_model(model);
            found.attach(nested);
            Some(Arc::new(found) as Arc<dyn Any + Send + Sync>)
        }
        None => None,
    };
    Ok(JoinedRow {
        relation: TypeId::of::<R>(),
        omitted: at.omitted,
        row: found,
    })
}

fn matched<R: ToOne>() -> &'static str {
    R::column().as_str()
}

fn key<R: Follows>() -> &'static str {
    R::key().as_str()
}

fn nested<T: Table>() -> &'static [ToOneField] {
    T::TO_ONE
}

impl PartialEq for Joins {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Joins {}

impl Hash for Joins {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl fmt::Debug for Joins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Joins({})", self.text)
    }
}

/// The rows a statement joined to one of its rows, by relation: its to-one fields
/// answer from them (see the module's documentation). A row read otherwise (by a
/// mutation, or past [`MAX_JOINS`]) has none, and its fields ask their loaders.
#[derive(Clone, Default)]
pub struct Joined(Vec<JoinedRow>);

/// One relation's joined row.
#[derive(Clone)]
struct JoinedRow {
    /// The relation's marker type.
    relation: TypeId,
    /// The related table's columns the statement left out, as bits.
    omitted: u32,
    /// The related row, with its own joined rows; `None` when there is none.
    row: Option<Arc<dyn Any + Send + Sync>>,
}

impl Joined {
    /// The row `R` relates this one to, when its statement joined it with every
    /// column but those of the bits `unneeded` (a field reads what its selection
    /// asks for): `Some(None)` when it read that there is none.
    pub fn get<R: ToOne>(&self, unneeded: u32) -> Option<Option<&R::Target>> {
        match self.find(TypeId::of::<R>(), unneeded)? {
            Some(row) => Some(Some(row.downcast_ref::<R::Target>()?)),
            None => Some(None),
        }
    }

    fn find(&self, relation: TypeId, unneeded: u32) -> Option<Option<&(dyn Any + Send + Sync)>> {
        let joined = self.0.iter().find(|joined| joined.relation == relation)?;
        (joined.omitted & !unneeded == 0).then_some(joined.row.as_deref())
    }
}

impl fmt::Debug for Joined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Joined({} rows)", self.0.len())
    }
}

/// A page's relation, parent and the fingerprint of its arguments.
type PageSlot = (TypeId, i32, u64);
/// A page's arguments and rows, as `(Arc<ListArgs<_>>, Arc<Page<_, _>>)`, and
/// which fields take it.
struct PageRows {
    rows: Box<dyn Any + Send + Sync>,
    takers: Takers,
}

/// Which fields take a primed page.
#[derive(Clone, Copy)]
enum Takers {
    /// Any number: a page folded into a lookup, which may be looked up again, so
    /// each field takes a clone of it.
    Any,
    /// This many, one for each time its parent was in a list that asked for it (see
    /// [`Siblings`](super::Siblings)): the last takes the page itself.
    Left(usize),
}

impl Takers {
    /// Both `self`'s takers and `more`.
    fn and(self, more: Takers) -> Takers {
        match (self, more) {
            (Takers::Left(one), Takers::Left(other)) => Takers::Left(one + other),
            _ => Takers::Any,
        }
    }

    /// One field has taken the page: whether it was the last.
    fn take(&mut self) -> bool {
        match self {
            Takers::Any => false,
            Takers::Left(left) => {
                *left = left.saturating_sub(1);
                *left == 0
            }
        }
    }
}

/// The pages that statements of this request have already read, by relation,
/// parent and arguments: a connection field finds its page here before it asks a
/// loader.
#[derive(Default)]
pub struct Primed(Mutex<Read>);

#[derive(Default)]
struct Read {
    pages: HashMap<PageSlot, PageRows>,
}

/// Pages read by one statement, noted in [`Primed`] at once when it is done.
#[derive(Default)]
pub struct PrimedPages {
    pages: Vec<(PageSlot, PageRows)>,
}

/// The rows and edges of a page of `R`.
type PageOf<R> = Page<<R as ToMany>::Target, <R as ToMany>::Edge>;

impl PrimedPages {
    /// Notes the page of `parent`'s rows that `args` asks for, which any number of
    /// fields may take (a page folded into a lookup).
    pub fn add_page<R: ToMany>(
        &mut self,
        parent: i32,
        args: &Arc<ListArgs<R::Target>>,
        page: Arc<PageOf<R>>,
    ) {
        self.add_page_for::<R>(parent, args, page, Takers::Any);
    }

    /// Notes the page of `parent`'s rows that `args` asks for, which `takers` fields
    /// will take, one each (pages loaded for lists of parents, see
    /// [`Siblings`](super::Siblings)).
    pub fn add_page_taken_by<R: ToMany>(
        &mut self,
        parent: i32,
        args: &Arc<ListArgs<R::Target>>,
        page: PageOf<R>,
        takers: usize,
    ) {
        self.add_page_for::<R>(parent, args, Arc::new(page), Takers::Left(takers));
    }

    fn add_page_for<R: ToMany>(
        &mut self,
        parent: i32,
        args: &Arc<ListArgs<R::Target>>,
        page: Arc<PageOf<R>>,
        takers: Takers,
    ) {
        let slot = (TypeId::of::<R>(), parent, args.fingerprint());
        let rows = Box::new((args.clone(), page));
        self.pages.push((slot, PageRows { rows, takers }));
    }
}

impl Primed {
    /// The page of `parent`'s rows that `args` asks for, when a statement has read
    /// it; its last taker takes it out, so that it holds the only handle to it.
    pub fn page<R: ToMany>(
        &self,
        parent: i32,
        args: &ListArgs<R::Target>,
    ) -> Option<Arc<PageOf<R>>> {
        let mut read = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let slot = (TypeId::of::<R>(), parent, args.fingerprint());
        let found = read.pages.get_mut(&slot)?;
        let (read_for, page) = found
            .rows
            .downcast_ref::<(Arc<ListArgs<R::Target>>, Arc<PageOf<R>>)>()?;
        if **read_for != *args {
            return None;
        }
        let page = page.clone();
        if found.takers.take() {
            read.pages.remove(&slot);
        }
        Some(page)
    }

    /// Notes what one statement read.
    pub fn extend(&self, read: PrimedPages) {
        if read.pages.is_empty() {
            return;
        }
        let mut primed = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for (slot, page) in read.pages {
            match primed.pages.entry(slot) {
                // The same page again (its parent in another list): it keeps the
                // rows it has, for its takers and these.
                Entry::Occupied(mut kept) => {
                    let kept = kept.get_mut();
                    kept.takers = kept.takers.and(page.takers);
                }
                Entry::Vacant(slot) => {
                    slot.insert(page);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(omitted: u32, row: Option<u32>) -> Joined {
        Joined(vec![JoinedRow {
            relation: TypeId::of::<u32>(),
            omitted,
            row: row.map(|row| Arc::new(row) as Arc<dyn Any + Send + Sync>),
        }])
    }

    fn found(joined: &Joined, unneeded: u32) -> Option<Option<u32>> {
        let found = joined.find(TypeId::of::<u32>(), unneeded)?;
        Some(found.map(|row| *row.downcast_ref::<u32>().unwrap()))
    }

    #[test]
    fn a_row_joined_without_a_column_is_not_given_to_a_field_that_reads_it() {
        let read = joined(0b0110, Some(7));
        assert_eq!(found(&read, 0b0110), Some(Some(7)));
        assert_eq!(
            found(&read, 0b1110),
            Some(Some(7)),
            "lacks only the unneeded"
        );
        assert_eq!(found(&read, 0b0010), None, "lacks a needed column");
        assert_eq!(found(&read, 0), None, "lacks two needed columns");
        assert_eq!(found(&joined(0, None), 0), Some(None), "read to be missing");
        assert!(
            read.find(TypeId::of::<u8>(), u32::MAX).is_none(),
            "another relation was not joined"
        );
        assert_eq!(found(&Joined::default(), u32::MAX), None);
    }

    /// Takes until the last, and whether it was.
    fn takes(mut takers: Takers, times: usize) -> Vec<bool> {
        (0..times).map(|_| takers.take()).collect()
    }

    #[test]
    fn a_page_goes_to_its_last_taker_and_a_folded_page_to_none() {
        assert_eq!(takes(Takers::Left(1), 1), [true]);
        assert_eq!(takes(Takers::Left(3), 3), [false, false, true]);
        assert_eq!(takes(Takers::Any, 3), [false, false, false]);
        // Primed again before it was taken: both lists' takers take it.
        let both = Takers::Left(2).and(Takers::Left(1));
        assert_eq!(takes(both, 3), [false, false, true]);
        assert_eq!(takes(Takers::Left(2).and(Takers::Any), 3), [false; 3]);
        assert_eq!(takes(Takers::Any.and(Takers::Left(2)), 3), [false; 3]);
    }
}
