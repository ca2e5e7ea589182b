//! Filter inputs on scalar fields, and the builder that compiles a type's filter to SQL.

use async_graphql::{ID, InputObject};
use sea_orm::sea_query::{
    Alias, Condition, DynIden, Expr, ExprTrait, Func, IntoCondition, IntoIden, JoinType, LikeExpr,
    Query,
};

use crate::engine::datetime::UtcDateTime;
use crate::engine::ids;
use crate::engine::listing::{ColumnOf, FilterInput, Hop, Link, Scope, Table};
use crate::engine::loaders::Follows;
use crate::engine::relation::DeclaredRelation;
use crate::engine::rules;
use crate::error::{ApiError, ApiResult};

/// The most values an `in` list may hold.
pub const MAX_IN_VALUES: usize = 500;
/// The longest text a filter may compare with, in characters.
pub const MAX_FILTER_TEXT: usize = 1_000;

/// Conditions on a global id; all given conditions must hold.
#[derive(InputObject, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct IdFilter {
    /// Equal to this id.
    pub eq: Option<ID>,
    /// One of these ids.
    #[graphql(name = "in")]
    pub is_in: Option<Vec<ID>>,
    /// There is no id (true), or there is one (false).
    pub is_null: Option<bool>,
}

/// Conditions on an integer; all given conditions must hold.
#[derive(InputObject, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct IntFilter {
    /// Equal to this value.
    pub eq: Option<i32>,
    /// One of these values.
    #[graphql(name = "in")]
    pub is_in: Option<Vec<i32>>,
    /// Greater than this value.
    pub gt: Option<i32>,
    /// Greater than or equal to this value.
    pub gte: Option<i32>,
    /// Less than this value.
    pub lt: Option<i32>,
    /// Less than or equal to this value.
    pub lte: Option<i32>,
}

/// Conditions on a text; all given conditions must hold.
#[derive(InputObject, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct StringFilter {
    /// Exactly this text.
    pub eq: Option<String>,
    /// One of these texts.
    #[graphql(name = "in")]
    pub is_in: Option<Vec<String>>,
    /// Contains this text, ignoring case; `%` and `_` match themselves.
    pub contains: Option<String>,
    /// Starts with this text, ignoring case; `%` and `_` match themselves.
    pub starts_with: Option<String>,
}

/// Conditions on a boolean.
#[derive(InputObject, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct BooleanFilter {
    /// Equal to this value.
    pub eq: Option<bool>,
}

/// Conditions on a point in time; all given conditions must hold.
#[derive(InputObject, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DateTimeFilter {
    /// At exactly this time.
    pub eq: Option<UtcDateTime>,
    /// After this time.
    pub gt: Option<UtcDateTime>,
    /// At or after this time.
    pub gte: Option<UtcDateTime>,
    /// Before this time.
    pub lt: Option<UtcDateTime>,
    /// At or before this time.
    pub lte: Option<UtcDateTime>,
}

/// Collects the conditions of one filter input; all of them must hold.
pub struct Conditions<'a> {
    scope: &'a Scope,
    all: Condition,
}

impl<'a> Conditions<'a> {
    /// An empty set of conditions on the table of `scope`.
    pub fn new(scope: &'a Scope) -> Self {
        Self {
            scope,
            all: Condition::all(),
        }
    }

    /// The conditions, all of which must hold.
    pub fn finish(self) -> Condition {
        self.all
    }

    fn push(&mut self, condition: impl IntoCondition) {
        self.all = std::mem::replace(&mut self.all, Condition::all()).add(condition);
    }

    /// `column` holds the database id of one of the global ids of `type_name` in `filter`.
    pub fn id(
        &mut self,
        filter: &Option<IdFilter>,
        column: impl IntoIden,
        type_name: &str,
    ) -> ApiResult<()> {
        let Some(filter) = filter else { return Ok(()) };
        let column = column.into_iden();
        if let Some(id) = &filter.eq {
            let key = ids::decode_as(id, type_name)?;
            self.push(self.scope.col(column.clone()).eq(key));
        }
        if let Some(list) = &filter.is_in {
            check_in_list(list.len())?;
            let keys = list
                .iter()
                .map(|id| ids::decode_as(id, type_name))
                .collect::<ApiResult<Vec<i32>>>()?;
            self.push(self.scope.col(column.clone()).is_in(keys));
        }
        match filter.is_null {
            Some(true) => self.push(self.scope.col(column).is_null()),
            Some(false) => self.push(self.scope.col(column).is_not_null()),
            None => {}
        }
        Ok(())
    }

    /// `T`'s column `column` meets `filter`, whichever kind of column filter it is;
    /// the column as the reader may read it (see [`rules::column`]).
    pub fn column<T: Table, F: ColumnFilter>(
        &mut self,
        filter: &Option<F>,
        column: ColumnOf<T>,
    ) -> ApiResult<()> {
        if filter.is_none() {
            return Ok(());
        }
        let value = rules::column::<T>(self.scope.reader(), &self.scope.alias(), column);
        F::apply(filter, self, value)
    }

    /// `column` meets the integer conditions of `filter`.
    fn int(&mut self, filter: &Option<IntFilter>, column: Expr) -> ApiResult<()> {
        let Some(filter) = filter else { return Ok(()) };
        let col = || column.clone();
        let mut exprs = Vec::new();
        exprs.extend(filter.eq.map(|v| col().eq(v)));
        if let Some(list) = &filter.is_in {
            check_in_list(list.len())?;
            exprs.push(col().is_in(list.iter().copied()));
        }
        exprs.extend(filter.gt.map(|v| col().gt(v)));
        exprs.extend(filter.gte.map(|v| col().gte(v)));
        exprs.extend(filter.lt.map(|v| col().lt(v)));
        exprs.extend(filter.lte.map(|v| col().lte(v)));
        exprs.into_iter().for_each(|e| self.push(e));
        Ok(())
    }

    /// `column` meets the text conditions of `filter`.
    fn text(&mut self, filter: &Option<StringFilter>, column: Expr) -> ApiResult<()> {
        let Some(filter) = filter else { return Ok(()) };
        let col = || column.clone();
        let mut exprs = Vec::new();
        if let Some(v) = &filter.eq {
            exprs.push(col().eq(checked_text(v)?));
        }
        if let Some(list) = &filter.is_in {
            check_in_list(list.len())?;
            let values = list.iter().map(|v| checked_text(v).map(str::to_owned));
            exprs.push(col().is_in(values.collect::<ApiResult<Vec<String>>>()?));
        }
        if let Some(v) = &filter.contains {
            exprs.push(like(col(), &format!("%{}%", escape_like(checked_text(v)?))));
        }
        if let Some(v) = &filter.starts_with {
            exprs.push(like(col(), &format!("{}%", escape_like(checked_text(v)?))));
        }
        exprs.into_iter().for_each(|e| self.push(e));
        Ok(())
    }

    /// `column` meets the boolean condition of `filter`.
    fn boolean(&mut self, filter: &Option<BooleanFilter>, column: Expr) {
        if let Some(v) = filter.as_ref().and_then(|f| f.eq) {
            self.push(column.eq(v));
        }
    }

    /// `column` meets the time conditions of `filter`.
    fn time(&mut self, filter: &Option<DateTimeFilter>, column: Expr) {
        let Some(filter) = filter else { return };
        let col = || column.clone();
        let mut exprs = Vec::new();
        exprs.extend(filter.eq.map(|v| col().eq(v.0)));
        exprs.extend(filter.gt.map(|v| col().gt(v.0)));
        exprs.extend(filter.gte.map(|v| col().gte(v.0)));
        exprs.extend(filter.lt.map(|v| col().lt(v.0)));
        exprs.extend(filter.lte.map(|v| col().lte(v.0)));
        exprs.into_iter().for_each(|e| self.push(e));
    }

    /// Some row reached through `hop` that the reader may see meets `filter`.
    fn related<F: FilterInput>(&mut self, filter: &Option<Box<F>>, hop: Hop) -> ApiResult<()> {
        let Some(filter) = filter else { return Ok(()) };
        let inner = self.scope.related()?;
        let mut exists = Query::select();
        exists.expr(Expr::val(1));
        // Rows reached by their foreign key from this row, which the statement
        // shows only if the reader sees it, obey a rule that follows that key.
        let mut reached_by = None;
        match hop {
            Hop::Many(Link::Children { table, foreign_key }) => {
                reached_by = Some(foreign_key.to_string());
                exists
                    .from_as(table, inner.alias())
                    .and_where(inner.col(foreign_key).equals((self.scope.alias(), id())));
            }
            Hop::Parent { table, foreign_key } => {
                exists
                    .from_as(table, inner.alias())
                    .and_where(inner.col(id()).equals((self.scope.alias(), foreign_key)));
            }
            Hop::Many(Link::Junction {
                table,
                junction,
                from,
                to,
            }) => {
                let link = Alias::new(format!("{}_link", inner.alias()));
                exists
                    .from_as(table, inner.alias())
                    .join_as(
                        JoinType::InnerJoin,
                        junction,
                        link.clone(),
                        inner.col(id()).equals((link.clone(), to)),
                    )
                    .and_where(Expr::col((link, from)).equals((self.scope.alias(), id())));
            }
        }
        exists.cond_where(filter.condition(&inner)?);
        let reader = self.scope.reader();
        if let Some(rule) = rules::visible::<F::Row>(reader, &inner.alias(), reached_by.as_deref())
        {
            exists.cond_where(rule);
        }
        self.push(Expr::exists(exists));
        Ok(())
    }

    /// The key that the to-one relation `R` follows is one of the ids in `filter`.
    pub fn key<R: Follows>(&mut self, filter: &Option<IdFilter>) -> ApiResult<()> {
        self.id(filter, R::key(), <R::Target as Table>::NAME)
    }

    /// Some row that the relation `R` reaches meets `filter`.
    pub fn through<R: DeclaredRelation, F: FilterInput>(
        &mut self,
        filter: &Option<Box<F>>,
    ) -> ApiResult<()> {
        if filter.is_none() {
            return Ok(());
        }
        self.related(filter, R::declared().hop())
    }

    /// The `and`, `or` and `not` combinators of a filter.
    pub fn combine<F: FilterInput>(
        &mut self,
        and: &Option<Vec<F>>,
        or: &Option<Vec<F>>,
        not: &Option<Box<F>>,
    ) -> ApiResult<()> {
        if and.is_none() && or.is_none() && not.is_none() {
            return Ok(());
        }
        let inner = self.scope.nested()?;
        if let Some(filters) = and {
            check_in_list(filters.len())?;
            for filter in filters {
                self.push(filter.condition(&inner)?);
            }
        }
        if let Some(filters) = or {
            if filters.is_empty() {
                return Err(ApiError::bad_input("`or` needs at least one filter"));
            }
            check_in_list(filters.len())?;
            let mut any = Condition::any();
            for filter in filters {
                any = any.add(filter.condition(&inner)?);
            }
            self.push(any);
        }
        if let Some(filter) = not {
            self.push(filter.condition(&inner)?.not());
        }
        Ok(())
    }
}

/// A filter on one column of a kind (text, number, time, truth).
pub trait ColumnFilter: Sized {
    /// Adds the filter's conditions on `column` to `all`.
    fn apply(filter: &Option<Self>, all: &mut Conditions<'_>, column: Expr) -> ApiResult<()>;
}

impl ColumnFilter for StringFilter {
    fn apply(filter: &Option<Self>, all: &mut Conditions<'_>, column: Expr) -> ApiResult<()> {
        all.text(filter, column)
    }
}

impl ColumnFilter for IntFilter {
    fn apply(filter: &Option<Self>, all: &mut Conditions<'_>, column: Expr) -> ApiResult<()> {
        all.int(filter, column)
    }
}

impl ColumnFilter for BooleanFilter {
    fn apply(filter: &Option<Self>, all: &mut Conditions<'_>, column: Expr) -> ApiResult<()> {
        all.boolean(filter, column);
        Ok(())
    }
}

impl ColumnFilter for DateTimeFilter {
    fn apply(filter: &Option<Self>, all: &mut Conditions<'_>, column: Expr) -> ApiResult<()> {
        all.time(filter, column);
        Ok(())
    }
}

/// The primary key column, named `id` in every table with one.
fn id() -> DynIden {
    Alias::new("id").into_iden()
}

fn like(col: Expr, pattern: &str) -> Expr {
    Expr::expr(Func::lower(col)).like(LikeExpr::new(pattern.to_lowercase()).escape('!'))
}

/// Makes `%`, `_` and the escape character `!` match themselves in a LIKE pattern.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '!' | '%' | '_') {
            escaped.push('!');
        }
        escaped.push(c);
    }
    escaped
}

fn checked_text(text: &str) -> ApiResult<&str> {
    if text.contains('\0') {
        return Err(ApiError::bad_input(
            "text in a filter must not contain NUL characters",
        ));
    }
    if text.chars().count() > MAX_FILTER_TEXT {
        return Err(ApiError::bad_input(format!(
            "text in a filter may be at most {MAX_FILTER_TEXT} characters long"
        )));
    }
    Ok(text)
}

fn check_in_list(len: usize) -> ApiResult<()> {
    if len > MAX_IN_VALUES {
        return Err(ApiError::bad_input(format!(
            "a filter list may hold at most {MAX_IN_VALUES} values (got {len})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_wildcards_match_themselves() {
        assert_eq!(escape_like("50%_off!"), "50!%!_off!!");
        assert_eq!(escape_like("plain"), "plain");
    }
}
