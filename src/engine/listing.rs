//! What makes a GraphQL type listable: its table, sort fields, filter, and the
//! validated arguments of a connection over it.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_graphql::resolver_utils::ContainerType;
use async_graphql::{Context, InputType, Lookahead, OutputType, SelectionField};
use entity::FromRowAt;
use sea_orm::sea_query::{Alias, Condition, DynIden, Expr, IntoIden};
use sea_orm::{EntityTrait, IdenStatic};

use crate::engine::lean::Leaves;
use crate::engine::loaders::{Joined, Joins, ToManyField, ToOneField};
use crate::engine::pagination::{
    OrderDirection, Ordering, PageLimits, PageRequest, SortField, Window,
};
use crate::engine::request::{per_field_of_type, reader};
use crate::engine::rules::Reader;
use crate::error::{ApiError, ApiResult};

/// The SeaORM model behind a row-backed type.
pub type ModelOf<T> = <<T as Table>::Entity as EntityTrait>::Model;
/// The SeaORM column enum behind a row-backed type.
pub type ColumnOf<T> = <<T as Table>::Entity as EntityTrait>::Column;

/// A GraphQL object backed by one row of one table.
pub trait Table: ContainerType + Leaves + Clone + Send + Sync + 'static {
    /// The table.
    type Entity: EntityTrait<Model: FromRowAt>;
    /// The GraphQL type name, which is also the prefix of its global ids.
    const NAME: &'static str;
    /// Wraps a row.
    fn from_model(model: ModelOf<Self>) -> Self;
    /// The row.
    fn model(&self) -> &ModelOf<Self>;
    /// Gives the row the rows its statement joined to it.
    fn attach(&mut self, joined: Joined);
    /// The rows the row's statement joined to it (none for a row read otherwise).
    fn joined(&self) -> &Joined;
    /// The primary key column.
    fn id_column() -> ColumnOf<Self>;
    /// The row's primary key.
    fn id(&self) -> i32;
    /// Columns that one field alone reads, `(GraphQL field, column)`: a list, a page
    /// or a join whose selection does not ask for the field leaves the column out
    /// (a list's order columns stay, for its cursors), and it reads as its type's
    /// default. Keys stay, but for foreign keys that only their relation's field
    /// follows.
    fn read_by() -> &'static [(&'static str, &'static str)];
    /// Columns that no field shows (a password hash): the statements behind the
    /// schema's reads leave them out, and they read as their type's default.
    const HIDDEN: &'static [&'static str] = &[];
    /// Text columns that only their owner and admins see, `(column, owner column)`
    /// (see [`rules::column`](crate::engine::rules::column)).
    const OWNER_ONLY: &'static [(&'static str, &'static str)] = &[];
    /// The to-one fields that a statement reading these rows may join.
    const TO_ONE: &'static [ToOneField] = &[];
    /// The to-many fields whose page a lookup of these rows may fold in.
    const TO_MANY: &'static [ToManyField] = &[];

    /// The read rule of these rows, as declared beside the type, on the table aliased
    /// `alias`, for a reader with this id (or none): `None` when anyone sees every
    /// row. Admins see every row whatever it says (see
    /// [`rules::visible`](crate::engine::rules::visible), which applies it, and for
    /// `reached_by`).
    fn rule(
        _reader: Option<i32>,
        _alias: &DynIden,
        _reached_by: Option<&str>,
    ) -> Option<Condition> {
        None
    }

    /// The columns a statement leaves out, given which fields are `selected`, as
    /// bits (bit `i` for the model's column `i`, as
    /// [`FromRowAt::from_row_without`](entity::FromRowAt::from_row_without) takes them).
    fn omitted(selected: &dyn Fn(&str) -> bool) -> u32 {
        let columns = ModelOf::<Self>::COLUMNS;
        Self::read_by()
            .iter()
            .filter(|(field, _)| !selected(field))
            .fold(Self::hidden(), |bits, (_, column)| {
                bits | entity::column_bits(columns, &[column])
            })
    }

    /// The bits of the [`HIDDEN`](Self::HIDDEN) columns.
    fn hidden() -> u32 {
        entity::column_bits(ModelOf::<Self>::COLUMNS, Self::HIDDEN)
    }
}

/// The entry of [`Table::read_by`] for `T`'s to-one field `field`, which follows
/// `T`'s column `key`: none when the key is the primary key, which is always read.
pub fn key_read_by<T: Table>(
    field: &'static str,
    key: ColumnOf<T>,
) -> Option<(&'static str, &'static str)> {
    let key = key.as_str();
    (key != T::id_column().as_str()).then_some((field, key))
}

/// A row-backed type that can be listed in a connection.
pub trait Listed: Table + OutputType {
    /// The fields it can be ordered by.
    type Field: SortField;
    /// One term of its `orderBy` list.
    type Order: OrderTerm<Field = Self::Field>;
    /// Its filter input.
    type Filter: FilterInput + InputType + Clone + Eq + Hash + Send + Sync + 'static;
    /// The column behind a sort field.
    fn column(field: Self::Field) -> ColumnOf<Self>;
}

/// One term of an `orderBy` list: an input type of its own per listed type.
pub trait OrderTerm: InputType + Send + Sync {
    /// The fields it orders by.
    type Field: SortField;
    /// The field, and which way.
    fn term(&self) -> (Self::Field, OrderDirection);
}

/// How a row reaches many related rows: the shape of a to-many relation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Link {
    /// The related rows hold a foreign key to this one (a user's posts: `posts.user_id`).
    Children {
        /// The related table.
        table: DynIden,
        /// Its column that holds this row's id.
        foreign_key: DynIden,
    },
    /// Through an association table (a student's courses through `student_course`).
    Junction {
        /// The related table.
        table: DynIden,
        /// The association table.
        junction: DynIden,
        /// Its column that holds this row's id.
        from: DynIden,
        /// Its column that holds the related row's id.
        to: DynIden,
    },
}

/// How a filter reaches related rows: through a to-many link, or up a foreign key.
#[derive(Clone, Debug)]
pub enum Hop {
    /// Many related rows.
    Many(Link),
    /// The one row this row's `foreign_key` points at (a post's author: `posts.user_id`).
    Parent {
        /// The related table.
        table: DynIden,
        /// This table's column that holds the related row's id.
        foreign_key: DynIden,
    },
}

/// The deepest a filter may nest (through `and`, `or`, `not` and related rows).
pub const MAX_FILTER_DEPTH: u8 = 8;

/// Where a filter applies: the alias of its table in the statement, how deep it is,
/// and who reads.
#[derive(Clone, Debug)]
pub struct Scope {
    /// The number in the alias (`t0`, `t1`, ...) of the filtered table.
    table: u8,
    /// How many combinators and related rows enclose this filter.
    depth: u8,
    /// Whose read rules the related rows a filter reaches obey.
    reader: Reader,
}

impl Scope {
    /// The scope of the table a statement lists (alias `t0`), read by `reader`.
    pub fn root(reader: Reader) -> Self {
        Self {
            table: 0,
            depth: 0,
            reader,
        }
    }

    /// The alias of this scope's table.
    pub fn alias(&self) -> DynIden {
        Alias::new(format!("t{}", self.table)).into_iden()
    }

    /// The alias of the table a statement lists, [`root`](Self::root)'s.
    pub fn root_alias() -> DynIden {
        Self::root(Reader::Anonymous).alias()
    }

    /// Who reads.
    pub fn reader(&self) -> Reader {
        self.reader
    }

    /// A column of this scope's table.
    pub fn col(&self, column: impl IntoIden) -> Expr {
        Expr::col((self.alias(), column.into_iden()))
    }

    /// The scope of a related table one level deeper; its alias is new to every
    /// enclosing scope.
    pub fn related(&self) -> ApiResult<Self> {
        let depth = self.deeper()?;
        Ok(Self {
            table: depth,
            depth,
            reader: self.reader,
        })
    }

    /// The same table one level deeper (inside `and`, `or`, `not`).
    pub fn nested(&self) -> ApiResult<Self> {
        Ok(Self {
            table: self.table,
            depth: self.deeper()?,
            reader: self.reader,
        })
    }

    fn deeper(&self) -> ApiResult<u8> {
        if self.depth >= MAX_FILTER_DEPTH {
            return Err(ApiError::TooComplex(format!(
                "the filter nests deeper than {MAX_FILTER_DEPTH} levels"
            )));
        }
        Ok(self.depth + 1)
    }
}

/// A filter input that compiles to a SQL condition.
pub trait FilterInput {
    /// The rows it filters.
    type Row: Table;
    /// The condition on the table of `scope`.
    fn condition(&self, scope: &Scope) -> ApiResult<Condition>;
}

/// The validated arguments of one connection field.
///
/// Equal arguments batch together: the window, the filter, the omitted columns,
/// whether `totalCount` is asked for and the joins are compared; the compiled
/// condition follows from the filter.
#[derive(Clone, Debug)]
pub struct ListArgs<T: Listed> {
    /// Which page.
    pub window: Window<T::Field>,
    /// The filter as the client gave it.
    pub filter: Option<T::Filter>,
    /// The filter compiled for the listed table, aliased `t0`.
    pub condition: Condition,
    /// Columns the selection does not use, so the statement skips them (see
    /// [`Table::read_by`]), as bits (see [`Table::omitted`]).
    pub omitted: u32,
    /// Whether the selection asks for any rows (not only `totalCount`).
    pub rows_wanted: bool,
    /// Whether the selection asks for `totalCount`.
    pub total_wanted: bool,
    /// Whether the selection asks whether another page follows (or precedes), which
    /// takes reading one row past the page.
    pub probe: bool,
    /// The to-one fields of the rows to join into the statement that reads them.
    pub joins: Option<Arc<Joins>>,
    /// A hash of the window, the filter, the omitted columns, whether it counts or
    /// reads past the page, and the joins, computed once:
    /// every sibling's loader key hashes these arguments.
    fingerprint: u64,
}

impl<T: Listed> ListArgs<T> {
    /// Validates a connection field's arguments, once per field of the document:
    /// its siblings (the same field under every parent of a list) share them.
    ///
    /// The filter comes boxed: a filter input is large, and the resolvers' futures,
    /// which hold it, are moved whole as they are created (a future as big as its
    /// largest field's, for every field of every row).
    pub fn new(
        ctx: &Context<'_>,
        request: PageRequest,
        order_by: Option<Vec<T::Order>>,
        filter: Option<Box<T::Filter>>,
    ) -> ApiResult<Arc<Self>> {
        per_field_of_type(ctx, || {
            Self::validate(
                ctx,
                request,
                order_by,
                filter.map(|f| *f),
                &ctx.look_ahead(),
            )
        })
    }

    /// The arguments of the connection field `ctx` resolves, when [`ListArgs::new`]
    /// has worked them out already for this field of the document.
    pub fn worked_out(ctx: &Context<'_>) -> Option<Arc<Self>> {
        crate::engine::request::made_per_field(ctx)
    }

    /// The arguments of the connection field `ctx` resolves, parsed and validated as
    /// the field's resolver will (see [`ListArgs::new`]), before it resolves; `None`
    /// when they do not parse or validate (the resolver then reports why).
    pub fn of_field(ctx: &Context<'_>) -> Option<Arc<Self>> {
        if let Some(args) = Self::worked_out(ctx) {
            return Some(args);
        }
        let args = Self::of_selection(ctx, ctx.field())?;
        per_field_of_type(ctx, || Ok(args)).ok()
    }

    /// The arguments of the connection field `field`, selected under the field `ctx`
    /// resolves, as that field's own resolver will work them out; `None` when they
    /// do not parse or validate (the resolver then reports why).
    pub fn of_selection(ctx: &Context<'_>, field: SelectionField<'_>) -> Option<Self> {
        fn parse<V: InputType>(value: async_graphql::Value) -> Option<V> {
            V::parse(Some(value)).ok()
        }
        let mut request = PageRequest::default();
        let mut order_by = None;
        let mut filter = None;
        for (name, value) in field.arguments().ok()? {
            match name.as_str() {
                "first" => request.first = parse(value)?,
                "after" => request.after = parse(value)?,
                "last" => request.last = parse(value)?,
                "before" => request.before = parse(value)?,
                "orderBy" => order_by = parse(value)?,
                "filter" => filter = parse(value)?,
                _ => return None,
            }
        }
        Self::validate(ctx, request, order_by, filter, &Lookahead::from(field)).ok()
    }

    /// Whether these arguments depend on who reads: a filter is compiled with the
    /// read rules of the rows it reaches.
    pub fn depends_on_reader(&self) -> bool {
        self.filter.is_some()
    }

    /// How many rows a statement reads per page: one past the page when the
    /// selection asks whether another follows.
    pub fn rows_read(&self) -> u64 {
        self.window.limit + u64::from(self.probe)
    }

    /// A hash of what makes these arguments equal to others (see [`PartialEq`]).
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    fn validate(
        ctx: &Context<'_>,
        request: PageRequest,
        order_by: Option<Vec<T::Order>>,
        filter: Option<T::Filter>,
        selection: &Lookahead<'_>,
    ) -> ApiResult<Self> {
        let limits = *ctx
            .data::<PageLimits>()
            .map_err(|e| ApiError::internal(anyhow::anyhow!(e.message)))?;
        let order_by = order_by.unwrap_or_default();
        let terms = order_by.iter().map(OrderTerm::term);
        let window = Window::new(T::NAME, request, Ordering::new(terms)?, limits)?;
        let condition = match &filter {
            Some(filter) => filter.condition(&Scope::root(reader(ctx)?))?,
            None => Condition::all(),
        };
        // The order's columns are read for the cursors, when any is asked for.
        let page_info = selection.field("pageInfo");
        let cursors = selection.field("edges").field("cursor").exists()
            || page_info.field("startCursor").exists()
            || page_info.field("endCursor").exists();
        let for_cursors = if cursors {
            let order: Vec<&str> = (window.ordering.terms.iter())
                .map(|(field, _)| T::column(*field).as_str())
                .collect();
            entity::column_bits(ModelOf::<T>::COLUMNS, &order)
        } else {
            0
        };
        let omitted = T::omitted(&|field| {
            selection.field("nodes").field(field).exists()
                || selection.field("edges").field("node").field(field).exists()
        }) & !for_cursors;
        let rows_wanted = ["edges", "nodes", "pageInfo"]
            .iter()
            .any(|field| selection.field(field).exists());
        let total_wanted = selection.field("totalCount").exists();
        let probe =
            page_info.field("hasNextPage").exists() || page_info.field("hasPreviousPage").exists();
        let joins = Joins::of::<T>(
            ctx,
            &[
                selection.field("nodes"),
                selection.field("edges").field("node"),
            ],
            false,
        );
        let mut hasher = std::hash::DefaultHasher::new();
        (&window, &filter, &omitted, total_wanted, probe, &joins).hash(&mut hasher);
        Ok(Self {
            window,
            filter,
            condition,
            omitted,
            rows_wanted,
            total_wanted,
            probe,
            joins,
            fingerprint: hasher.finish(),
        })
    }
}

impl<T: Listed> crate::engine::request::PerFieldValue for ListArgs<T> {
    fn depends_on_reader(&self) -> bool {
        ListArgs::depends_on_reader(self)
    }
}

impl<T: Listed> PartialEq for ListArgs<T> {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
            && self.window == other.window
            && self.filter == other.filter
            && self.omitted == other.omitted
            && self.total_wanted == other.total_wanted
            && self.probe == other.probe
            && self.joins == other.joins
    }
}

impl<T: Listed> Eq for ListArgs<T> {}

impl<T: Listed> Hash for ListArgs<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.fingerprint);
    }
}
