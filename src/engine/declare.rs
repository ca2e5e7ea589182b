//! One declaration per GraphQL row type ([`row_type!`]): its
//! columns, leaf fields, order, filter and relations are written once, and the rest
//! follows from them: the GraphQL object with its resolvers, the columns each field
//! reads, the leaves written straight from the row, the order enum and its input,
//! the filter input with its clauses on related rows, and the relations' loaders,
//! joins and folds, read off the entity's SeaORM relations.

use async_graphql::parser::types::Field;
use async_graphql::{ContextSelectionSet, Positioned};
use chrono::{DateTime, Utc};
use sea_orm::{ModelTrait, Value};

use crate::engine::datetime::UtcDateTime;
use crate::engine::filter::{BooleanFilter, DateTimeFilter, IntFilter, StringFilter};
use crate::engine::lean::{Leaf, Lean, write_object};
use crate::engine::listing::{ModelOf, Table};
use crate::engine::loaders::{Follows, Joined};
use crate::engine::pagination::SortKind;
use crate::error::{ApiError, ApiResult};

/// A column's Rust type as a leaf field shows it.
pub trait LeafColumn {
    /// What the field's resolver answers.
    type Answer<'a>
    where
        Self: 'a;
    /// The filter on such a column.
    type Filter;
    /// How the column sorts in a cursor.
    const SORT: SortKind;
    /// The resolver's answer.
    fn answer(&self) -> Self::Answer<'_>;
    /// The value a written answer writes.
    fn leaf(&self) -> Leaf<'_>;
}

impl LeafColumn for String {
    type Answer<'a> = &'a str;
    type Filter = StringFilter;
    const SORT: SortKind = SortKind::Text;

    fn answer(&self) -> &str {
        self
    }

    fn leaf(&self) -> Leaf<'_> {
        Leaf::Text(self)
    }
}

impl LeafColumn for bool {
    type Answer<'a> = bool;
    type Filter = BooleanFilter;
    const SORT: SortKind = SortKind::Bool;

    fn answer(&self) -> bool {
        *self
    }

    fn leaf(&self) -> Leaf<'_> {
        Leaf::Boolean(*self)
    }
}

impl LeafColumn for i32 {
    type Answer<'a> = i32;
    type Filter = IntFilter;
    const SORT: SortKind = SortKind::Int;

    fn answer(&self) -> i32 {
        *self
    }

    fn leaf(&self) -> Leaf<'_> {
        Leaf::Int(*self)
    }
}

impl LeafColumn for DateTime<Utc> {
    type Answer<'a> = UtcDateTime;
    type Filter = DateTimeFilter;
    const SORT: SortKind = SortKind::Time;

    fn answer(&self) -> UtcDateTime {
        UtcDateTime(*self)
    }

    fn leaf(&self) -> Leaf<'_> {
        Leaf::Time(*self)
    }
}

/// Checks, at compile time, that the filter `F` is the one for the column that
/// `column` reads.
pub fn filter_fits<F, M, V: LeafColumn<Filter = F>>(_column: fn(&M) -> &V) {}

/// How the column that `column` reads sorts.
pub fn sort_kind<M, V: LeafColumn>(_column: fn(&M) -> &V) -> SortKind {
    V::SORT
}

/// The key that the to-one relation `R` follows from `parent` (`None` when its
/// column is null).
pub fn key_of<R: Follows>(parent: &ModelOf<R::Parent>) -> ApiResult<Option<i32>> {
    match parent.get(R::key()) {
        Value::Int(key) => Ok(key),
        other => Err(ApiError::internal(anyhow::anyhow!(
            "the key column of a relation of {} holds {other:?}",
            <R::Parent as Table>::NAME
        ))),
    }
}

/// What a to-one field answers: its row, which a foreign key guarantees, or (for
/// a relation declared `or null`) its row or null.
pub trait Answer<T>: Sized {
    /// The answer, given the row found (or none).
    fn answer(found: Option<T>) -> ApiResult<Self>;
}

impl<T: Table> Answer<T> for Lean<T> {
    fn answer(found: Option<T>) -> ApiResult<Self> {
        found.map(Lean).ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "no {} where a foreign key points at one",
                T::NAME
            ))
        })
    }
}

impl<T: Table> Answer<T> for Option<Lean<T>> {
    fn answer(found: Option<T>) -> ApiResult<Self> {
        Ok(found.map(Lean))
    }
}

/// What the to-one relation's field answers.
pub trait ToOneAnswer: Follows {
    /// The row, or the row or null.
    type Answer: Answer<Self::Target> + async_graphql::OutputType;
}

/// Writes the answer of the to-one field `field` of a row whose statement joined
/// the related row (`joined`) into `out`, as
/// [`Leaves::joined`](crate::engine::lean::Leaves::joined) says: the row's object
/// when it is written at once, or null when there is none and the field answers
/// null for no row. The row is taken as the field's resolver takes it
/// ([`joined_row`](crate::engine::request::joined_row)).
pub fn write_joined<R: ToOneAnswer>(
    ctx: &ContextSelectionSet<'_>,
    field: &Positioned<Field>,
    joined: &Joined,
    out: &mut Vec<u8>,
) -> bool {
    let field_ctx = ctx.with_field(field);
    match crate::engine::request::joined_row::<R>(&field_ctx, joined) {
        Some(Some(row)) => write_object(
            &field_ctx.with_selection_set(&field.node.selection_set),
            row,
            out,
        ),
        Some(None) if R::Answer::answer(None).is_ok() => {
            out.extend_from_slice(b"null");
            true
        }
        _ => false,
    }
}

/// A row type of the schema, as [`row_types!`] lists them.
pub struct RowType {
    /// The GraphQL type's name.
    pub name: &'static str,
    /// Panics unless every relation runs between the right tables, on their columns.
    pub check_relations: fn(),
    /// Each relation field, and the relation as the entity declares it.
    pub relations: fn() -> Vec<(&'static str, crate::engine::relation::Declared)>,
}

/// Declares a GraphQL type backed by one row of one table: what it reads, shows,
/// orders and filters by, and what it is related to, once.
///
/// ```text
/// row_type! {
///     /// The type's description.
///     Post on post {                          // the entity module
///         /// The field's description.
///         title: &str, order "By title.", filter StringFilter "On the title.";
///         ...
///     }
///     order_by_id "By id.";
///     one {                                   // to-one (`User or null`: nullable)
///         /// The user who wrote the post.
///         author: User = post::Relation::Author,
///             id_filter "On the author's id.", filter "The author matches.";
///     }
///     many {                                  // to-many, a connection
///         /// The comments on the post.
///         comments: Comment = post::Relation::Comments, filter "Some comment matches.";
///     }
///     special { ... }                         // hand-written resolvers
/// }
/// ```
///
/// A relation is a SeaORM `Relation` variant, or `Declared::related::<A, B>()` for
/// one through an association table (with `edge` naming what each edge carries).
/// `hidden [password_hash]` names columns that no field shows; a leaf declared
/// `owner_only id` shows only to the user whose id that column holds, and to admins
/// (null to everyone else). The read rule of the rows, if any, is
/// `visible_when published or author;` (rows whose boolean column is true, or whose
/// to-one relation points at the reader) or `visible_with post;` (rows whose to-one
/// relation reaches a row the reader may see); admins see every row.
macro_rules! row_type {
    (
        $(#[doc = $doc:literal])*
        $name:ident on $entity:ident {
            $(
                $(#[doc = $leaf_doc:literal])*
                $leaf:ident: $leaf_ty:ty
                    $(, owner_only $leaf_owner:ident)?
                    $(, order $order_doc:literal)?
                    $(, filter $filter_ty:ident $filter_doc:literal)?;
            )*
        }
        $(order_by_id $id_order_doc:literal;)?
        $(hidden [$($hidden:ident),* $(,)?];)?
        $(visible_when $published:ident or $owner_rel:ident;)?
        $(visible_with $parent_rel:ident;)?
        $(one {
            $(
                $(#[doc = $one_doc:literal])*
                $one:ident: $one_target:ident $(or $one_null:ident)? = $one_rel:expr
                    $(, id_filter $one_id_filter_doc:literal)?
                    $(, filter $one_filter_doc:literal)?;
            )*
        })?
        $(many {
            $(
                $(#[doc = $many_doc:literal])*
                $many:ident: $many_target:ident = $many_rel:expr
                    $(, edge $many_edge:ty)?
                    $(, filter $many_filter_doc:literal)?;
            )*
        })?
        $(special { $($special:tt)* })?
    ) => { $crate::engine::declare::pastey::paste! {
        $(#[doc = $doc])*
        #[derive(Clone, Debug)]
        pub struct $name(entity::$entity::Model, $crate::engine::loaders::Joined);

        impl $crate::engine::listing::Table for $name {
            type Entity = entity::$entity::Entity;
            const NAME: &'static str = stringify!($name);

            fn from_model(model: entity::$entity::Model) -> Self {
                Self(model, Default::default())
            }

            fn model(&self) -> &entity::$entity::Model {
                &self.0
            }

            fn attach(&mut self, joined: $crate::engine::loaders::Joined) {
                self.1 = joined;
            }

            fn joined(&self) -> &$crate::engine::loaders::Joined {
                &self.1
            }

            fn id_column() -> entity::$entity::Column {
                entity::$entity::Column::Id
            }

            fn id(&self) -> i32 {
                self.0.id
            }

            fn read_by() -> &'static [(&'static str, &'static str)] {
                static READ_BY: std::sync::OnceLock<Vec<(&'static str, &'static str)>> =
                    std::sync::OnceLock::new();
                READ_BY.get_or_init(|| {
                    #[allow(unused_mut)]
                    let mut read_by = vec![$((
                        stringify!([<$leaf:lower_camel>]),
                        stringify!($leaf),
                    )),*];
                    $($(
                        read_by.extend($crate::engine::listing::key_read_by::<$name>(
                            stringify!([<$one:lower_camel>]),
                            <[<$name $one:camel>] as $crate::engine::loaders::Follows>::key(),
                        ));
                    )*)?
                    read_by
                })
            }

            $(const HIDDEN: &'static [&'static str] = {
                // Each is a column of the model.
                const _: fn(&entity::$entity::Model) = |row| { $(let _ = &row.$hidden;)* };
                &[$(stringify!($hidden)),*]
            };)?

            const OWNER_ONLY: &'static [(&'static str, &'static str)] = {
                // Each is a text column of the model, and so is its owner's.
                const _: fn(&entity::$entity::Model) = |row| {
                    let _ = row;
                    $($(
                        let _: &String = &row.$leaf;
                        let _: &i32 = &row.$leaf_owner;
                    )?)*
                };
                &[$($((stringify!($leaf), stringify!($leaf_owner)),)?)*]
            };

            $(
                fn rule(
                    reader: Option<i32>,
                    alias: &sea_orm::sea_query::DynIden,
                    _reached_by: Option<&str>,
                ) -> Option<sea_orm::Condition> {
                    Some($crate::engine::rules::published_or_owner::<[<$name $owner_rel:camel>]>(
                        reader,
                        alias,
                        entity::$entity::Column::[<$published:camel>],
                    ))
                }
            )?

            $(
                fn rule(
                    reader: Option<i32>,
                    alias: &sea_orm::sea_query::DynIden,
                    reached_by: Option<&str>,
                ) -> Option<sea_orm::Condition> {
                    $crate::engine::rules::with_parent::<[<$name $parent_rel:camel>]>(
                        reader, alias, reached_by,
                    )
                }
            )?

            const TO_ONE: &'static [$crate::engine::loaders::ToOneField] = &[
                $($($crate::engine::loaders::ToOneField::new::<[<$name $one:camel>]>(
                    stringify!([<$one:lower_camel>]),
                ),)*)?
            ];

            const TO_MANY: &'static [$crate::engine::loaders::ToManyField] = &[
                $($($crate::engine::loaders::ToManyField::new::<[<$name $many:camel>]>(
                    stringify!([<$many:lower_camel>]),
                ),)*)?
            ];
        }

        impl $crate::engine::listing::Listed for $name {
            type Field = [<$name OrderField>];
            type Filter = [<$name Filter>];
            type Order = [<$name Order>];

            fn column(field: [<$name OrderField>]) -> entity::$entity::Column {
                match field {
                    [<$name OrderField>]::Id => entity::$entity::Column::Id,
                    $($(
                        [<$name OrderField>]::[<$leaf:camel>] => {
                            $crate::engine::declare::row_type!(@skip $order_doc);
                            entity::$entity::Column::[<$leaf:camel>]
                        }
                    )?)*
                }
            }
        }

        /// One term of an `orderBy` list.
        #[derive(async_graphql::InputObject, Clone, Copy, Debug)]
        pub struct [<$name Order>] {
            /// The field to order by.
            pub field: [<$name OrderField>],
            /// Ascending or descending.
            #[graphql(default)]
            pub direction: $crate::engine::pagination::OrderDirection,
        }

        impl $crate::engine::listing::OrderTerm for [<$name Order>] {
            type Field = [<$name OrderField>];

            fn term(&self) -> ([<$name OrderField>], $crate::engine::pagination::OrderDirection) {
                (self.field, self.direction)
            }
        }

        #[doc = "The fields " [<$name:lower>] "s can be ordered by."]
        #[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub enum [<$name OrderField>] {
            #[doc = $crate::engine::declare::row_type!(@or "By id." $($id_order_doc)?)]
            Id,
            $($(
                #[doc = $order_doc]
                [<$leaf:camel>],
            )?)*
        }

        impl $crate::engine::pagination::SortField for [<$name OrderField>] {
            const ID: Self = Self::Id;

            fn name(self) -> &'static str {
                match self {
                    Self::Id => "id",
                    $($(
                        Self::[<$leaf:camel>] => {
                            $crate::engine::declare::row_type!(@skip $order_doc);
                            stringify!([<$leaf:lower_camel>])
                        }
                    )?)*
                }
            }

            fn kind(self) -> $crate::engine::pagination::SortKind {
                match self {
                    Self::Id => $crate::engine::pagination::SortKind::Int,
                    $($(
                        Self::[<$leaf:camel>] => {
                            $crate::engine::declare::row_type!(@skip $order_doc);
                            $crate::engine::declare::sort_kind(
                                |row: &entity::$entity::Model| &row.$leaf,
                            )
                        }
                    )?)*
                }
            }
        }

        #[doc = "Conditions on " [<$name:lower>] "s; all the given conditions must hold."]
        #[derive(async_graphql::InputObject, Clone, Debug, Default, PartialEq, Eq, Hash)]
        pub struct [<$name Filter>] {
            /// On the global id.
            pub id: Option<$crate::engine::filter::IdFilter>,
            /// On the database id.
            pub database_id: Option<$crate::engine::filter::IntFilter>,
            $($(
                #[doc = $filter_doc]
                pub $leaf: Option<$crate::engine::filter::$filter_ty>,
            )?)*
            $($(
                $(
                    #[doc = $one_id_filter_doc]
                    pub [<$one _id>]: Option<$crate::engine::filter::IdFilter>,
                )?
                $(
                    #[doc = $one_filter_doc]
                    pub $one: Option<Box<[<$one_target Filter>]>>,
                )?
            )*)?
            $($(
                $(
                    #[doc = $many_filter_doc]
                    pub $many: Option<Box<[<$many_target Filter>]>>,
                )?
            )*)?
            /// Every one of these filters holds.
            pub and: Option<Vec<[<$name Filter>]>>,
            /// At least one of these filters holds.
            pub or: Option<Vec<[<$name Filter>]>>,
            /// This filter does not hold.
            pub not: Option<Box<[<$name Filter>]>>,
        }

        impl $crate::engine::listing::FilterInput for [<$name Filter>] {
            type Row = $name;

            fn condition(
                &self,
                scope: &$crate::engine::listing::Scope,
            ) -> $crate::error::ApiResult<sea_orm::Condition> {
                use $crate::engine::listing::Table as _;
                let mut all = $crate::engine::filter::Conditions::new(scope);
                all.id(&self.id, entity::$entity::Column::Id, $name::NAME)?;
                all.column::<$name, _>(&self.database_id, entity::$entity::Column::Id)?;
                $($(
                    // The filter fits the column's type.
                    $crate::engine::declare::filter_fits::<$crate::engine::filter::$filter_ty, _, _>(
                        |row: &entity::$entity::Model| &row.$leaf,
                    );
                    all.column::<$name, _>(&self.$leaf, entity::$entity::Column::[<$leaf:camel>])?;
                )?)*
                $($(
                    $(
                        $crate::engine::declare::row_type!(@skip $one_id_filter_doc);
                        all.key::<[<$name $one:camel>]>(&self.[<$one _id>])?;
                    )?
                    $(
                        $crate::engine::declare::row_type!(@skip $one_filter_doc);
                        all.through::<[<$name $one:camel>], _>(&self.$one)?;
                    )?
                )*)?
                $($(
                    $(
                        $crate::engine::declare::row_type!(@skip $many_filter_doc);
                        all.through::<[<$name $many:camel>], _>(&self.$many)?;
                    )?
                )*)?
                all.combine(&self.and, &self.or, &self.not)?;
                Ok(all.finish())
            }
        }

        $($(
            #[doc = "The `" $one "` relation of " $name " rows."]
            pub struct [<$name $one:camel>];

            $crate::engine::declare::row_type!(
                @to_one $name, [<$name $one:camel>], $one_target $($one_null)?, $one_rel
            );
        )*)?
        $($(
            #[doc = "The `" $many "` relation of " $name " rows."]
            pub struct [<$name $many:camel>];

            impl $crate::engine::relation::DeclaredRelation for [<$name $many:camel>] {
                fn declared() -> $crate::engine::relation::Declared {
                    $crate::engine::relation::Declared::from($many_rel)
                }
            }

            impl $crate::engine::loaders::ToMany for [<$name $many:camel>] {
                type Target = $many_target;
                type Edge = $crate::engine::declare::row_type!(@edge $($many_edge)?);

                fn link() -> $crate::engine::listing::Link {
                    static LINK: std::sync::OnceLock<$crate::engine::listing::Link> =
                        std::sync::OnceLock::new();
                    use $crate::engine::relation::DeclaredRelation as _;
                    LINK.get_or_init(|| Self::declared().link()).clone()
                }
            }
        )*)?

        impl $name {
            /// Each relation field, and the relation as the entity declares it.
            pub fn relations() -> Vec<(&'static str, $crate::engine::relation::Declared)> {
                use $crate::engine::relation::DeclaredRelation as _;
                vec![
                    $($((stringify!([<$one:lower_camel>]), [<$name $one:camel>]::declared()),)*)?
                    $($((stringify!([<$many:lower_camel>]), [<$name $many:camel>]::declared()),)*)?
                ]
            }

            /// Checks each relation against the entity's declaration: that it runs
            /// between these types' tables, on columns they have. Panics otherwise.
            pub fn check_relations() {
                #[allow(unused_imports)]
                use $crate::engine::relation::DeclaredRelation as _;
                $($(
                    let _ = <[<$name $one:camel>] as $crate::engine::loaders::Follows>::key();
                )*)?
                $($(
                    $crate::engine::relation::check_to_many::<$name, $many_target>(
                        &[<$name $many:camel>]::declared(),
                    );
                )*)?
            }
        }

        impl $name {
            /// What the global ids of this type share, worked out at compile time.
            fn id_prefix() -> &'static $crate::engine::ids::IdPrefix {
                static ID_PREFIX: $crate::engine::ids::IdPrefix = $crate::engine::ids::IdPrefix::of(
                    <$name as $crate::engine::listing::Table>::NAME,
                );
                &ID_PREFIX
            }
        }

        /// Read straight from the row in written answers; as the resolvers answer.
        impl $crate::engine::lean::Leaves for $name {
            fn leaf(&self, field: &str) -> Option<$crate::engine::lean::Leaf<'_>> {
                $crate::engine::lean::Leaf::of_row(Self::id_prefix(), self.0.id, field, |field| {
                    match field {
                        $(stringify!([<$leaf:lower_camel>]) => Some(
                            $crate::engine::declare::row_type!(@leaf (&self.0.$leaf) $($leaf_owner)?),
                        ),)*
                        _ => None,
                    }
                })
            }

            async fn connection(
                &self,
                ctx: &async_graphql::Context<'_>,
            ) -> Option<async_graphql::ServerResult<Option<async_graphql::Value>>> {
                match ctx.item.node.name.node.as_str() {
                    $($(
                        stringify!([<$many:lower_camel>]) => {
                            let args = $crate::engine::listing::ListArgs::<$many_target>::worked_out(ctx)?;
                            Some($crate::engine::connection::answer_related::<[<$name $many:camel>]>(
                                ctx, self.0.id, args,
                            ).await)
                        }
                    )*)?
                    _ => None,
                }
            }

            #[allow(unused_variables)]
            fn joined(
                &self,
                ctx: &async_graphql::ContextSelectionSet<'_>,
                field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
                out: &mut Vec<u8>,
            ) -> bool {
                match field.node.name.node.as_str() {
                    $($(
                        stringify!([<$one:lower_camel>]) => {
                            $crate::engine::declare::write_joined::<[<$name $one:camel>]>(
                                ctx, field, &self.1, out,
                            )
                        }
                    )*)?
                    _ => false,
                }
            }

            #[allow(unused_variables)]
            fn load_pages<'a>(
                ctx: &'a async_graphql::Context<'a>,
                parents: &std::sync::Arc<[i32]>,
            ) -> Option<$crate::engine::declare::futures_util::future::BoxFuture<'a, ()>> {
                match ctx.item.node.name.node.as_str() {
                    $($(
                        stringify!([<$many:lower_camel>]) => Some(
                            $crate::engine::connection::load_siblings::<[<$name $many:camel>]>(
                                ctx, parents,
                            ),
                        ),
                    )*)?
                    _ => None,
                }
            }
        }

        $(#[doc = $doc])*
        #[async_graphql::Object]
        impl $name {
            /// The global id (Relay Global Object Identification).
            pub async fn id(&self) -> async_graphql::ID {
                Self::id_prefix().encode(self.0.id)
            }

            #[doc = "The key of the " [<$name:lower>] "'s row in the database."]
            async fn database_id(&self) -> i32 {
                self.0.id
            }

            $(
                $(#[doc = $leaf_doc])*
                async fn $leaf(&self) -> $leaf_ty {
                    $crate::engine::declare::row_type!(@answer_leaf (&self.0.$leaf) $($leaf_owner)?)
                }
            )*

            $($(
                $(#[doc = $one_doc])*
                async fn $one(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                ) -> $crate::error::ApiResult<
                    <[<$name $one:camel>] as $crate::engine::declare::ToOneAnswer>::Answer,
                > {
                    let found =
                        $crate::engine::request::follow::<[<$name $one:camel>]>(ctx, self).await?;
                    $crate::engine::declare::Answer::answer(found)
                }
            )*)?


            $($(
                $(#[doc = $many_doc])*
                #[allow(clippy::too_many_arguments)]
                async fn $many(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                    #[graphql(desc = "Page forwards: at most this many, from the start or `after`.")]
                    first: Option<i32>,
                    #[graphql(desc = "Start after the item with this cursor.")]
                    after: Option<String>,
                    #[graphql(desc = "Page backwards: at most this many, up to the end or `before`.")]
                    last: Option<i32>,
                    #[graphql(desc = "End before the item with this cursor.")]
                    before: Option<String>,
                    #[graphql(desc = "The order, most significant first; ties are broken by id.")]
                    order_by: Option<Vec<[<$many_target Order>]>>,
                    #[graphql(desc = "Only the items that match.")]
                    filter: Option<Box<[<$many_target Filter>]>>,
                ) -> $crate::error::ApiResult<$crate::engine::connection::Connection<
                    $many_target,
                    $crate::engine::declare::row_type!(@edge $($many_edge)?),
                >> {
                    let page = $crate::engine::pagination::PageRequest {
                        first,
                        after,
                        last,
                        before,
                    };
                    let args = $crate::engine::listing::ListArgs::new(ctx, page, order_by, filter)?;
                    $crate::engine::connection::related::<[<$name $many:camel>]>(ctx, self.0.id, args)
                        .await
                }
            )*)?

            $($($special)*)?
        }
    } };

    (@to_one $name:ident, $marker:ident, $target:ident $($null:ident)?, $rel:expr) => {
        impl $crate::engine::relation::DeclaredRelation for $marker {
            fn declared() -> $crate::engine::relation::Declared {
                $crate::engine::relation::Declared::from($rel)
            }
        }

        impl $marker {
            fn columns() -> &'static (
                $crate::engine::listing::ColumnOf<$name>,
                $crate::engine::listing::ColumnOf<$target>,
            ) {
                static COLUMNS: std::sync::OnceLock<(
                    $crate::engine::listing::ColumnOf<$name>,
                    $crate::engine::listing::ColumnOf<$target>,
                )> = std::sync::OnceLock::new();
                use $crate::engine::relation::DeclaredRelation as _;
                COLUMNS.get_or_init(|| Self::declared().to_one_columns::<$name, $target>())
            }
        }

        impl $crate::engine::loaders::ToOne for $marker {
            type Target = $target;

            fn column() -> $crate::engine::listing::ColumnOf<$target> {
                Self::columns().1
            }
        }

        impl $crate::engine::declare::ToOneAnswer for $marker {
            type Answer = $crate::engine::declare::row_type!(@answer $target $($null)?);
        }

        impl $crate::engine::loaders::Follows for $marker {
            type Parent = $name;

            fn key() -> $crate::engine::listing::ColumnOf<$name> {
                Self::columns().0
            }
        }
    };
    (@answer_leaf ($value:expr)) => { $crate::engine::declare::LeafColumn::answer($value) };
    (@answer_leaf ($value:expr) $owner:ident) => { $crate::engine::rules::owner_only($value) };
    (@leaf ($value:expr)) => { $crate::engine::declare::LeafColumn::leaf($value) };
    (@leaf ($value:expr) $owner:ident) => {
        match $crate::engine::rules::owner_only($value) {
            Some(text) => $crate::engine::lean::Leaf::Text(text),
            None => $crate::engine::lean::Leaf::Null,
        }
    };
    (@answer $target:ident) => { $crate::engine::lean::Lean<$target> };
    (@answer $target:ident null) => { Option<$crate::engine::lean::Lean<$target>> };
    (@edge) => { async_graphql::connection::EmptyFields };
    (@edge $edge:ty) => { $edge };
    (@or $default:literal) => { $default };
    (@or $default:literal $given:literal) => { $given };
    (@skip $($tokens:tt)*) => {};
}

/// Declares the schema's row types, once each: the `Node` interface over them (and
/// over the types keyed by two ids, such as an association row, which find
/// themselves), `find_node` that finds any row type by global id, [`ROW_TYPES`] for
/// the tests that walk every type, and `RowQuery`, whose root fields read one row by
/// id, or a top-level list, of each type named under `roots`.
///
/// ```text
/// row_types! {
///     nodes [User, Profile, Post];
///     keyed_by_pairs [Enrollment];
///     roots [user users: User, post posts: Post];
/// }
/// ```
macro_rules! row_types {
    (
        nodes [$($node:ident),* $(,)?];
        keyed_by_pairs [$($pair_node:ident),* $(,)?];
        roots [$($single:ident $plural:ident: $root:ident),* $(,)?];
    ) => { $crate::engine::declare::pastey::paste! {
        /// An object with a global id, which `node(id:)` finds again.
        #[derive(async_graphql::Interface)]
        #[graphql(field(
            name = "id",
            ty = "async_graphql::ID",
            desc = "The global id (Relay Global Object Identification)."
        ))]
        pub enum Node {
            $(
                #[doc = "A " $node "."]
                $node($node),
            )*
            $(
                #[doc = "A " $pair_node ", keyed by two ids."]
                $pair_node($pair_node),
            )*
        }

        /// The object with a global id, or `None` if no row has it (any more).
        pub async fn find_node(
            ctx: &async_graphql::Context<'_>,
            id: &async_graphql::ID,
        ) -> $crate::error::ApiResult<Option<Node>> {
            let (type_name, key) = $crate::engine::ids::decode(id)?;
            $(
                if type_name == <$node as $crate::engine::listing::Table>::NAME {
                    return Ok($crate::engine::request::find::<
                        $crate::engine::loaders::ById<$node>,
                    >(ctx, key)
                    .await?
                    .map(Node::$node));
                }
            )*
            Err($crate::error::ApiError::bad_input(format!(
                "`{}` is not the id of any type of this API",
                id.as_str()
            )))
        }

        /// Every row type, for the tests that walk them all.
        pub const ROW_TYPES: &[$crate::engine::declare::RowType] = &[
            $($crate::engine::declare::RowType {
                name: stringify!($node),
                check_relations: $node::check_relations,
                relations: $node::relations,
            }),*
        ];

        /// The root fields that read one row, or a top-level list, of each type.
        #[derive(Default)]
        pub struct RowQuery;

        /// The root fields that read one row, or a top-level list, of each type.
        #[async_graphql::Object]
        impl RowQuery {
            $(
                #[doc = "The " $single " with this id, or null if there is none."]
                async fn $single(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                    #[graphql(desc = "A global id of this type.")] id: async_graphql::ID,
                ) -> $crate::error::ApiResult<Option<$crate::engine::lean::Lean<$root>>> {
                    $crate::engine::request::find_by_global_id::<$root>(ctx, &id).await
                }

                #[doc = "All " $plural "."]
                #[allow(clippy::too_many_arguments)]
                async fn $plural(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                    #[graphql(desc = "Page forwards: at most this many, from the start or `after`.")]
                    first: Option<i32>,
                    #[graphql(desc = "Start after the item with this cursor.")]
                    after: Option<String>,
                    #[graphql(desc = "Page backwards: at most this many, up to the end or `before`.")]
                    last: Option<i32>,
                    #[graphql(desc = "End before the item with this cursor.")]
                    before: Option<String>,
                    #[graphql(desc = "The order, most significant first; ties are broken by id.")]
                    order_by: Option<Vec<[<$root Order>]>>,
                    #[graphql(desc = "Only the items that match.")]
                    filter: Option<Box<[<$root Filter>]>>,
                ) -> $crate::error::ApiResult<$crate::engine::connection::Connection<
                    $root,
                    async_graphql::connection::EmptyFields,
                >> {
                    let page = $crate::engine::pagination::PageRequest {
                        first,
                        after,
                        last,
                        before,
                    };
                    let args = $crate::engine::listing::ListArgs::new(ctx, page, order_by, filter)?;
                    $crate::engine::connection::top_level(ctx, args).await
                }
            )*
        }
    } };
}

pub(crate) use {row_type, row_types};

#[doc(hidden)]
pub use {futures_util, pastey};
