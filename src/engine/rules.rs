//! Who may read what: the reader of a request, and the conditions that the read
//! rules of the row types (declared beside each type in [`row_type!`]) add to every
//! statement that reads their rows.
//!
//! A rule is a condition on the rows, so it sits inside the statement, under the
//! window that pages and counts them: pages stay full and counts true. Whether the
//! reader is an admin is asked inside the statement too (an uncorrelated
//! `EXISTS` on the reader's account, which the database evaluates once per
//! statement), so a demoted admin loses their view at once and a request costs no
//! statement more for being signed in.
//!
//! [`row_type!`]: crate::engine::declare::row_type

use std::sync::OnceLock;

use entity::user;
use sea_orm::sea_query::{
    Alias, CaseStatement, Condition, DynIden, Expr, ExprTrait, IntoCondition, IntoIden, Query,
};
use sea_orm::{EntityName, IdenStatic};

use crate::engine::listing::{ColumnOf, Table};
use crate::engine::loaders::Follows;

/// Who reads: anyone, or a signed-in user (whom the statements may find an admin).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reader {
    /// No token.
    #[default]
    Anonymous,
    /// The user with this database id.
    User(i32),
}

impl Reader {
    /// The reader of a request signed in as `viewer`, if any.
    pub fn of(viewer: Option<i32>) -> Self {
        viewer.map_or(Self::Anonymous, Self::User)
    }

    /// The signed-in user's id.
    pub fn id(self) -> Option<i32> {
        match self {
            Self::Anonymous => None,
            Self::User(id) => Some(id),
        }
    }
}

/// `EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND id = <reader>)`, which the
/// database evaluates once per statement. It goes into nearly every statement of a
/// signed-in request, so the constant part is written once as text rather than
/// rendered from column expressions each time (see bench/README.md).
fn admin(id: i32) -> Expr {
    static ROLE_IS_ADMIN: OnceLock<String> = OnceLock::new();
    let role_is_admin = ROLE_IS_ADMIN
        .get_or_init(|| format!("{} = '{}'", user::Column::Role.as_str(), user::ADMIN));
    let mut query = Query::select();
    query
        .expr(Expr::cust("1"))
        .from(user::Entity)
        .and_where(Expr::cust(role_is_admin.as_str()))
        .and_where(Expr::col(user::Column::Id).eq(id));
    Expr::exists(query)
}

/// The rows of `T`, aliased `alias`, that `reader` may see; `None` when every row.
///
/// `reached_by` names the column of `T` by which the rows are reached from a parent
/// that the reader sees (a post's comments by `post_id`): a rule that follows that
/// very column to the parent holds already.
pub fn visible<T: Table>(
    reader: Reader,
    alias: &DynIden,
    reached_by: Option<&str>,
) -> Option<Condition> {
    let own = T::rule(reader.id(), alias, reached_by)?;
    Some(match reader {
        Reader::Anonymous => own,
        Reader::User(id) => Condition::any().add(admin(id)).add(own),
    })
}

/// The rule `visible_when <published> or <owner>`: rows whose boolean column
/// `published` is true, or whose to-one relation `R` points at the reader.
pub fn published_or_owner<R: Follows>(
    reader: Option<i32>,
    alias: &DynIden,
    published: ColumnOf<R::Parent>,
) -> Condition {
    let published = Expr::col((alias.clone(), published)).eq(true);
    match reader {
        None => published.into_condition(),
        Some(id) => Condition::any()
            .add(published)
            .add(Expr::col((alias.clone(), R::key())).eq(id)),
    }
}

/// The rule `visible_with <relation>`: rows whose to-one relation `R` reaches a row
/// the reader may see (a comment goes with its post). `None` when the rows are
/// reached by `R`'s key from a parent the reader sees, or `R`'s rows have no rule.
pub fn with_parent<R: Follows>(
    reader: Option<i32>,
    alias: &DynIden,
    reached_by: Option<&str>,
) -> Option<Condition> {
    let key = R::key();
    if reached_by == Some(key.as_str()) {
        return None;
    }
    let parent = Alias::new(format!("{}_{}", alias, key.as_str())).into_iden();
    let rule = <R::Target as Table>::rule(reader, &parent, None)?;
    let mut query = Query::select();
    query
        .expr(Expr::val(1))
        .from_as(
            <R::Target as Table>::Entity::default().table_ref(),
            parent.clone(),
        )
        .and_where(Expr::col((parent, R::column())).equals((alias.clone(), key)))
        .cond_where(rule);
    Some(Expr::exists(query).into_condition())
}

/// The value of `T`'s column `column` (aliased `alias`) as `reader` may read it:
/// a column declared `owner_only` reads as itself to the user whose id its owner
/// column holds and to admins, and as `''` to everyone else, wherever a statement
/// reads, filters or orders by it.
pub fn column<T: Table>(reader: Reader, alias: &DynIden, column: ColumnOf<T>) -> Expr {
    let name = column.as_str();
    let raw = Expr::col((alias.clone(), column));
    let Some((_, owner)) = T::OWNER_ONLY.iter().find(|(guarded, _)| *guarded == name) else {
        return raw;
    };
    // Anonymous readers see no row's value; the `CASE` stays, as PostgreSQL
    // refuses a bare constant in `ORDER BY`.
    let seen = match reader {
        Reader::Anonymous => Expr::cust("1 = 0").into_condition(),
        Reader::User(id) => Condition::any()
            .add(Expr::col((alias.clone(), Alias::new(*owner))).eq(id))
            .add(admin(id)),
    };
    CaseStatement::new()
        .case(seen, raw)
        .finally(Expr::cust("''"))
        .into()
}

/// What an `owner_only` text column answers: null where the statement read `''`
/// (the reader may not see it; a written value is never empty).
pub fn owner_only(value: &str) -> Option<&str> {
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{MysqlQueryBuilder, PostgresQueryBuilder, Query, SqliteQueryBuilder};

    use super::admin;

    #[test]
    fn the_admin_check_looks_the_reader_up_by_id() {
        let mut query = Query::select();
        query.expr(admin(7));
        let expected =
            r#"SELECT EXISTS(SELECT 1 FROM "users" WHERE (role = 'admin') AND "id" = 7)"#;
        assert_eq!(query.to_string(PostgresQueryBuilder), expected);
        assert_eq!(query.to_string(SqliteQueryBuilder), expected);
        assert_eq!(
            query.to_string(MysqlQueryBuilder),
            expected.replace('"', "`")
        );
    }
}
