//! A page of related rows folded into the lookup that reads their parent.
//!
//! When a lookup (`user(id:)`, or a to-one field left to the loaders) selects a
//! to-many field of the row it reads (a user's `posts`), the lookup's statement
//! reads that page too, as extra rows:
//!
//! ```sql
//! SELECT t0.*, <joined to-one rows>, fold.* FROM users t0
//! LEFT JOIN (
//!   SELECT t0.id AS f_id, ..., t0.user_id AS f___parent,
//!          ROW_NUMBER() OVER (PARTITION BY t0.user_id ORDER BY ...) AS f___rn
//!   FROM posts t0 WHERE t0.user_id IN (<the looked-up ids>) AND <filter>
//! ) fold ON fold.f___parent = t0.id AND fold.f___rn <= <limit [+ 1]>
//! WHERE t0.id IN (<the looked-up ids>)
//! ```
//!
//! Each parent row comes once per row of its page (once with nulls when the page is
//! empty). The pages go into the request's [`Primed`](super::Primed) pages under the
//! relation, the parent and the field's arguments, where the connection field looks
//! before it asks a loader: the field then costs no statement of its own.
//!
//! The arguments are worked out from the lookup's selection, as the field's resolver
//! will work them out; a field selected twice, under directives, or with arguments
//! that do not validate is not folded (its resolver loads it, and reports any error).
//! Only pages of rows that hold a foreign key to their parent, whose own to-one
//! fields are not joined, are folded, and at most one per lookup: two pages of one
//! parent would multiply each other's rows.

use std::sync::Arc;

use async_graphql::parser::types::{Field, Selection};
use async_graphql::{Context, Lookahead, Positioned};
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, DynIden, Expr, ExprTrait, IntoIden, JoinType, SelectStatement,
};
use sea_orm::{DbBackend, DbErr, QueryResult};

use super::sql::{self, PageReader};
use super::{PrimedPages, ToMany};
use crate::engine::listing::{Link, ListArgs};
use crate::engine::rules::Reader;

/// The prefix of a folded page's columns.
const PREFIX: &str = "f_";
/// The alias of the folded page.
const FOLD: &str = "fold";

/// A to-many field of a row-backed type, whose page a lookup of its rows can fold in.
pub struct ToManyField {
    /// The GraphQL field.
    field: &'static str,
    plan: fn(&Context<'_>, async_graphql::SelectionField<'_>) -> Option<Arc<dyn Fold>>,
}

impl ToManyField {
    /// The GraphQL field's name.
    pub const fn field(&self) -> &'static str {
        self.field
    }

    /// The connection field `field`, which lists the rows `R` relates to the parent.
    pub const fn new<R: ToMany>(field: &'static str) -> Self {
        Self {
            field,
            plan: plan::<R>,
        }
    }
}

/// The first of `fields` that `selection` asks for and that can be folded.
pub fn plan_fold(
    ctx: &Context<'_>,
    fields: &'static [ToManyField],
    selection: &Lookahead<'_>,
) -> Option<Arc<dyn Fold>> {
    fields.iter().find_map(|via| {
        let selected = selection.field(via.field).selection_fields();
        match selected.as_slice() {
            [field] if field.directives().is_ok_and(|d| d.is_empty()) => (via.plan)(ctx, *field),
            _ => None,
        }
    })
}

/// A page folded into a lookup: how to read it, and where its pages go.
pub trait Fold: Send + Sync {
    /// A canonical description, so that equal plans batch together.
    fn describe(&self, text: &mut String);
    /// Whether the plan depends on who reads: its page's filter may.
    fn depends_on_reader(&self) -> bool;
    /// Joins the pages of `parents` to `query`, whose rows are aliased `parent` and
    /// keyed by its column `id`: the rows of them that `reader` may see.
    fn apply(
        &self,
        backend: DbBackend,
        reader: Reader,
        query: &mut SelectStatement,
        parent: &DynIden,
        id: DynIden,
        parents: &[i32],
    );
    /// Reads the pages from the statement's rows.
    fn reader(&self) -> Box<dyn FoldReader>;
}

/// Reads a folded page's rows, then notes the pages.
pub trait FoldReader: Send {
    /// Reads the page row of `row`, if it carries one.
    fn read(&mut self, row: &QueryResult) -> Result<(), DbErr>;
    /// Notes the page of each of `parents` (empty when no row carried one).
    fn finish(self: Box<Self>, parents: &[i32], rows: &mut PrimedPages);
}

struct Folded<R: ToMany> {
    args: Arc<ListArgs<R::Target>>,
}

fn plan<R: ToMany>(
    ctx: &Context<'_>,
    field: async_graphql::SelectionField<'_>,
) -> Option<Arc<dyn Fold>> {
    if !matches!(R::link(), Link::Children { .. }) {
        return None;
    }
    let args = match selected_directly(ctx, field.name()) {
        // Worked out for the field itself, which its resolver then finds.
        Some(selected) => {
            let selection = ctx.with_selection_set(&ctx.item.node.selection_set);
            ListArgs::<R::Target>::of_field(&selection.with_field(selected))?
        }
        None => Arc::new(ListArgs::<R::Target>::of_selection(ctx, field)?),
    };
    if !args.rows_wanted || args.joins.is_some() {
        return None;
    }
    Some(Arc::new(Folded::<R> { args }))
}

/// The field named `name` in the selection of the field `ctx` resolves, when it
/// is there itself (not through a fragment), once.
fn selected_directly<'a>(ctx: &Context<'a>, name: &str) -> Option<&'a Positioned<Field>> {
    let mut named = ctx
        .item
        .node
        .selection_set
        .node
        .items
        .iter()
        .filter_map(|item| match &item.node {
            Selection::Field(field) if field.node.name.node == name => Some(field),
            _ => None,
        });
    match (named.next(), named.next()) {
        (Some(field), None) => Some(field),
        _ => None,
    }
}

impl<R: ToMany> Fold for Folded<R> {
    fn describe(&self, text: &mut String) {
        text.push_str(std::any::type_name::<R>());
        text.push('#');
        text.push_str(&self.args.fingerprint().to_string());
    }

    fn depends_on_reader(&self) -> bool {
        self.args.depends_on_reader()
    }

    fn apply(
        &self,
        backend: DbBackend,
        reader: Reader,
        query: &mut SelectStatement,
        parent: &DynIden,
        id: DynIden,
        parents: &[i32],
    ) {
        let args = &self.args;
        let link = R::link();
        let inner =
            sql::ranked_rows::<R::Target, R::Edge>(backend, reader, &link, parents, args, PREFIX);
        let fold = Alias::new(FOLD).into_iden();
        let rank = Alias::new(format!("{PREFIX}{}", sql::ROW_NUMBER));
        let on = Condition::all()
            .add(
                Expr::col((fold.clone(), Alias::new(format!("{PREFIX}{}", sql::PARENT))))
                    .equals((parent.clone(), id)),
            )
            .add(Expr::col((fold.clone(), rank)).lte(args.rows_read()));
        query
            .column((fold.clone(), Asterisk))
            .join_subquery(JoinType::LeftJoin, inner, fold, on);
    }

    fn reader(&self) -> Box<dyn FoldReader> {
        Box::new(PagesReader::<R> {
            pages: PageReader::new(PREFIX, &self.args),
            args: self.args.clone(),
        })
    }
}

struct PagesReader<R: ToMany> {
    pages: PageReader<R::Target, R::Edge>,
    args: Arc<ListArgs<R::Target>>,
}

impl<R: ToMany> FoldReader for PagesReader<R> {
    fn read(&mut self, row: &QueryResult) -> Result<(), DbErr> {
        self.pages.read(row, None)
    }

    fn finish(self: Box<Self>, parents: &[i32], rows: &mut PrimedPages) {
        let mut pages = self.pages.finish(parents);
        for parent in parents {
            let page = pages.remove(parent).unwrap_or_default();
            rows.add_page::<R>(*parent, &self.args, Arc::new(page));
        }
    }
}
