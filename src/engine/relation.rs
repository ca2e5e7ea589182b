//! Relations as the entities declare them: SeaORM's `RelationDef` (and `via()` for an
//! association table) read once, so that no foreign key, junction column or
//! direction is typed a second time outside `entity/`.

use std::str::FromStr;

use sea_orm::sea_query::{DynIden, TableRef};
use sea_orm::{EntityName, EntityTrait, IdenStatic, Identity, Related, RelationDef, RelationTrait};

use crate::engine::listing::{ColumnOf, Hop, Link, Table};

/// A relation of a row type, as its entity declares it.
pub trait DeclaredRelation {
    /// The relation.
    fn declared() -> Declared;
}

/// A relation from one table to another, as its entity declares it.
#[derive(Clone, Debug)]
pub struct Declared {
    /// From this table to the related one (for an association, from the
    /// association table to the related one).
    pub to: RelationDef,
    /// From this table to the association table, for a many-to-many relation.
    pub via: Option<RelationDef>,
}

impl Declared {
    /// The relation `Related::to()` and `via()` declare from `A` to `B`.
    pub fn related<A: Related<B>, B: EntityTrait>() -> Self {
        Self {
            to: A::to(),
            via: A::via(),
        }
    }

    /// The table the relation starts from.
    fn start_table(&self) -> String {
        table(
            self.via
                .as_ref()
                .map_or(&self.to.from_tbl, |via| &via.from_tbl),
        )
    }

    /// The related table.
    fn end_table(&self) -> String {
        table(&self.to.to_tbl)
    }

    /// How a row reaches many related rows: the related rows' foreign key, or an
    /// association table. Its parents are keyed by their primary key.
    pub fn link(&self) -> Link {
        match &self.via {
            None => Link::Children {
                table: iden(&self.to.to_tbl),
                foreign_key: column(&self.to.to_col),
            },
            Some(via) => Link::Junction {
                table: iden(&self.to.to_tbl),
                junction: iden(&self.to.from_tbl),
                from: column(&via.to_col),
                to: column(&self.to.from_col),
            },
        }
    }

    /// How a filter reaches the related rows: up this row's own foreign key, or
    /// down to many.
    pub fn hop(&self) -> Hop {
        if self.via.is_none() && holds_key(&self.to) {
            Hop::Parent {
                table: iden(&self.to.to_tbl),
                foreign_key: column(&self.to.from_col),
            }
        } else {
            Hop::Many(self.link())
        }
    }

    /// The columns of a to-one relation from `P` to `T`: `P`'s column that holds
    /// the key, and `T`'s unique column it matches. Panics when the relation is
    /// not one between their tables, or is many-to-many: a declaration's mistake,
    /// which the test that walks every relation finds.
    pub fn to_one_columns<P: Table, T: Table>(&self) -> (ColumnOf<P>, ColumnOf<T>) {
        assert!(
            self.via.is_none(),
            "a to-one relation has no association table"
        );
        self.check_tables::<P, T>();
        (parse(&self.to.from_col), parse(&self.to.to_col))
    }

    /// Panics unless the relation runs from `P`'s table to `T`'s.
    pub fn check_tables<P: Table, T: Table>(&self) {
        let (from, to) = (self.start_table(), self.end_table());
        let (parent, target) = (entity_table::<P>(), entity_table::<T>());
        assert!(
            from == parent && to == target,
            "the relation runs from `{from}` to `{to}`, not from `{parent}` to `{target}`"
        );
    }
}

impl Declared {
    /// The foreign keys the relation stands on, each as
    /// `((table, column), (referenced table, referenced column))`.
    pub fn foreign_keys(&self) -> Vec<((String, String), (String, String))> {
        let end = |table_ref: &TableRef, identity: &Identity| {
            (table(table_ref), column(identity).to_string())
        };
        let key = |def: &RelationDef| {
            let (from, to) = (
                end(&def.from_tbl, &def.from_col),
                end(&def.to_tbl, &def.to_col),
            );
            if holds_key(def) {
                (from, to)
            } else {
                (to, from)
            }
        };
        std::iter::once(&self.to)
            .chain(&self.via)
            .map(key)
            .collect()
    }
}

impl<R: RelationTrait> From<R> for Declared {
    fn from(relation: R) -> Self {
        Self {
            to: relation.def(),
            via: None,
        }
    }
}

/// Whether the relation's `from` table holds the foreign key (a `belongs_to`);
/// SeaORM marks `has_one` and `has_many`, whose `to` table holds it, as owners.
fn holds_key(def: &RelationDef) -> bool {
    !def.is_owner
}

fn entity_table<T: Table>() -> &'static str {
    T::Entity::default().table_name()
}

fn table(table: &TableRef) -> String {
    table.sea_orm_table().to_string()
}

fn iden(table: &TableRef) -> DynIden {
    table.sea_orm_table().clone()
}

/// The one column of a relation's end (relations on composite keys are not served).
fn column(identity: &Identity) -> DynIden {
    match identity {
        Identity::Unary(column) => column.clone(),
        other => panic!("a relation on more than one column ({other:?}) is not served"),
    }
}

fn parse<C: FromStr>(identity: &Identity) -> C {
    let name = column(identity).to_string();
    C::from_str(&name)
        .unwrap_or_else(|_| panic!("`{name}` is not a column of the relation's table"))
}

/// Panics unless `declared` is a to-many relation from `P` to `T` that a page can
/// follow: from `P`'s primary key, to a column of `T` (or of the association table).
pub fn check_to_many<P: Table, T: Table>(declared: &Declared) {
    declared.check_tables::<P, T>();
    let start = declared.via.as_ref().unwrap_or(&declared.to);
    let key = column(&start.from_col).to_string();
    assert!(
        key == P::id_column().as_str(),
        "a to-many relation from `{}` starts from `{key}`, not from its primary key",
        P::NAME
    );
    assert!(
        declared.via.is_some() || !holds_key(&declared.to),
        "a to-many relation from `{}` runs up its own foreign key",
        P::NAME
    );
    if let Some(via) = &declared.via {
        assert!(
            table(&via.to_tbl) == table(&declared.to.from_tbl),
            "the association of a relation from `{}` is not one table",
            P::NAME
        );
    }
    let _ = parse::<ColumnOf<T>>(&declared.to.to_col);
}
