//! The relations the loaders follow, and the keys they batch.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use futures_util::future::try_join_all;

use super::page::{EdgeData, Page};
use super::{Joins, LoadError, MOST_KEYS_PER_BATCH, PrimedPages, SqlLoader, sql};
use crate::engine::listing::{ColumnOf, Link, ListArgs, Listed, Table};

/// A to-one relation: the row of `Target` whose `column` equals the key.
pub trait ToOne: Send + Sync + 'static {
    /// The type at the other end.
    type Target: Table;
    /// The unique column the key is matched against.
    fn column() -> ColumnOf<Self::Target>;
}

/// A to-one relation of a row type, as its entity declares it: the parent's column
/// that holds the key.
pub trait Follows: ToOne {
    /// The type the relation starts from.
    type Parent: Table;
    /// The parent's column that holds the key of the related row.
    fn key() -> ColumnOf<Self::Parent>;
}

/// A to-many relation: the rows of `Target` linked to a parent id.
pub trait ToMany: Send + Sync + 'static {
    /// The type listed.
    type Target: Listed;
    /// What each edge carries besides the node (columns of an association table).
    type Edge: EdgeData;
    /// How a parent reaches the rows.
    fn link() -> Link;
}

/// A row by its primary key.
pub struct ById<T>(PhantomData<fn() -> T>);

impl<T: Table> ToOne for ById<T> {
    type Target = T;

    fn column() -> ColumnOf<T> {
        T::id_column()
    }
}

/// Key: the row of `R::Target` whose `R::column()` is this value, with the to-one
/// rows to join to it.
pub struct One<R> {
    value: i32,
    joins: Option<Arc<Joins>>,
    relation: PhantomData<fn() -> R>,
}

impl<R> One<R> {
    /// The key for `value`, joining `joins`.
    pub fn new(value: i32, joins: Option<Arc<Joins>>) -> Self {
        Self {
            value,
            joins,
            relation: PhantomData,
        }
    }
}

/// Key: the page of rows related to `parent` that `args` asks for.
pub struct Many<R: ToMany> {
    /// The parent's id.
    pub parent: i32,
    /// Which rows, in what order, how many.
    pub args: Arc<ListArgs<R::Target>>,
}

/// Key: the pages of rows related to each of `parents`, the rows of one list, that
/// `args` asks for: loaded before those rows resolve, in one batch with the other
/// lists' (the same field under every row of every list), and primed for each row's
/// field to take (see [`Primed::page`](super::Primed::page)). One key for a list
/// where each row's field would be a key of its own: the loader keeps sets, a
/// channel and maps hashed with SipHash for every key (bench/README.md has the
/// figures).
///
/// A key equals only itself, not another list of the same rows: each list leaves a
/// take of the page for each of its rows.
pub struct Siblings<R: ToMany> {
    /// The rows of the list, by id.
    pub parents: Arc<[i32]>,
    /// Which rows of each, in what order, how many.
    pub args: Arc<ListArgs<R::Target>>,
}

/// Key: how many rows related to `parent` match the filter of `args`.
pub struct Count<R: ToMany> {
    /// The parent's id.
    pub parent: i32,
    /// The filter (the window is ignored).
    pub args: Arc<ListArgs<R::Target>>,
}

macro_rules! key_traits {
    ($key:ident<$r:ident: $bound:ident>, $($field:tt),+) => {
        impl<$r: $bound> Clone for $key<$r> {
            fn clone(&self) -> Self {
                Self { $($field: self.$field.clone()),+ }
            }
        }
        impl<$r: $bound> PartialEq for $key<$r> {
            fn eq(&self, other: &Self) -> bool {
                $(self.$field == other.$field)&&+
            }
        }
        impl<$r: $bound> Eq for $key<$r> {}
        impl<$r: $bound> Hash for $key<$r> {
            fn hash<H: Hasher>(&self, state: &mut H) {
                $(self.$field.hash(state);)+
            }
        }
    };
}

key_traits!(Many<R: ToMany>, parent, args);
key_traits!(Count<R: ToMany>, parent, args);

impl<R: ToMany> Clone for Siblings<R> {
    fn clone(&self) -> Self {
        Self {
            parents: self.parents.clone(),
            args: self.args.clone(),
        }
    }
}
impl<R: ToMany> PartialEq for Siblings<R> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.parents, &other.parents) && self.args == other.args
    }
}
impl<R: ToMany> Eq for Siblings<R> {}
impl<R: ToMany> Hash for Siblings<R> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parents.as_ptr().hash(state);
        self.args.hash(state);
    }
}

impl<R> Clone for One<R> {
    fn clone(&self) -> Self {
        Self::new(self.value, self.joins.clone())
    }
}
impl<R> PartialEq for One<R> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value && self.joins == other.joins
    }
}
impl<R> Eq for One<R> {}
impl<R> Hash for One<R> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state);
        self.joins.hash(state);
    }
}

impl<R: ToOne> Loader<One<R>> for SqlLoader {
    type Value = R::Target;
    type Error = LoadError;

    async fn load(&self, keys: &[One<R>]) -> Result<HashMap<One<R>, R::Target>, LoadError> {
        let mut groups: HashMap<&Option<Arc<Joins>>, Vec<i32>> = HashMap::new();
        for key in keys {
            groups.entry(&key.joins).or_default().push(key.value);
        }
        let rows = try_join_all(groups.iter().map(|(joins, values)| {
            sql::rows_by::<R>(&self.db, self.reader, values, joins.as_ref(), &self.primed)
        }))
        .await?;
        let mut found = HashMap::with_capacity(keys.len());
        for ((joins, _), rows) in groups.into_iter().zip(rows) {
            for (value, row) in rows {
                found.insert(One::new(value, joins.clone()), row);
            }
        }
        Ok(found)
    }
}

/// Keys that share their arguments, with their parents: one statement each.
fn by_args<T: Listed>(
    parents: impl Iterator<Item = (i32, Arc<ListArgs<T>>)>,
) -> Vec<(Arc<ListArgs<T>>, Vec<i32>)> {
    let mut groups: HashMap<Arc<ListArgs<T>>, Vec<i32>> = HashMap::new();
    for (parent, args) in parents {
        groups.entry(args).or_default().push(parent);
    }
    groups.into_iter().collect()
}

impl<R: ToMany> Loader<Many<R>> for SqlLoader {
    /// Shared: the loader hands every waiting key a clone of its value.
    type Value = Arc<Page<R::Target, R::Edge>>;
    type Error = LoadError;

    async fn load(&self, keys: &[Many<R>]) -> Result<HashMap<Many<R>, Self::Value>, LoadError> {
        let groups = by_args(keys.iter().map(|k| (k.parent, k.args.clone())));
        let link = R::link();
        let pages = try_join_all(groups.iter().map(|(args, parents)| {
            sql::related_pages::<R::Target, R::Edge>(&self.db, self.reader, &link, parents, args)
        }))
        .await?;
        let mut found = HashMap::with_capacity(keys.len());
        for ((args, parents), mut pages) in groups.into_iter().zip(pages) {
            for parent in parents {
                let page = pages.remove(&parent).unwrap_or_default();
                found.insert(
                    Many {
                        parent,
                        args: args.clone(),
                    },
                    Arc::new(page),
                );
            }
        }
        Ok(found)
    }
}

impl<R: ToMany> Loader<Siblings<R>> for SqlLoader {
    /// Nothing: the pages are primed.
    type Value = ();
    type Error = LoadError;

    async fn load(&self, keys: &[Siblings<R>]) -> Result<HashMap<Siblings<R>, ()>, LoadError> {
        let mut groups: HashMap<&Arc<ListArgs<R::Target>>, Vec<i32>> = HashMap::new();
        for key in keys {
            groups
                .entry(&key.args)
                .or_default()
                .extend(&key.parents[..]);
        }
        let link = R::link();
        try_join_all(groups.into_iter().map(|(args, mut parents)| {
            parents.sort_unstable();
            let counted = counted(&parents);
            let link = &link;
            async move {
                // No more parents in a statement than in a batch of keys.
                for counted in counted.chunks(MOST_KEYS_PER_BATCH) {
                    let parents: Vec<i32> = counted.iter().map(|(parent, _)| *parent).collect();
                    let (db, reader, primed) = (&self.db, self.reader, &self.primed);
                    let mut pages =
                        sql::related_pages::<R::Target, R::Edge>(db, reader, link, &parents, args)
                            .await?;
                    let mut read = PrimedPages::default();
                    for (parent, lists) in counted {
                        let page = pages.remove(parent).unwrap_or_default();
                        read.add_page_taken_by::<R>(*parent, args, page, *lists);
                    }
                    primed.extend(read);
                }
                Ok::<_, LoadError>(())
            }
        }))
        .await?;
        Ok(keys.iter().map(|key| (key.clone(), ())).collect())
    }
}

/// Each parent of `sorted`, once, with how many times it is there (in how many
/// lists).
fn counted(sorted: &[i32]) -> Vec<(i32, usize)> {
    let mut counted: Vec<(i32, usize)> = Vec::with_capacity(sorted.len());
    for parent in sorted {
        match counted.last_mut() {
            Some((last, count)) if last == parent => *count += 1,
            _ => counted.push((*parent, 1)),
        }
    }
    counted
}

impl<R: ToMany> Loader<Count<R>> for SqlLoader {
    type Value = i64;
    type Error = LoadError;

    async fn load(&self, keys: &[Count<R>]) -> Result<HashMap<Count<R>, i64>, LoadError> {
        let groups = by_args(keys.iter().map(|k| (k.parent, k.args.clone())));
        let link = R::link();
        let counts = try_join_all(groups.iter().map(|(args, parents)| {
            sql::related_counts(&self.db, self.reader, &link, parents, args)
        }))
        .await?;
        let mut found = HashMap::with_capacity(keys.len());
        for ((args, parents), counts) in groups.into_iter().zip(counts) {
            for parent in parents {
                let count = counts.get(&parent).copied().unwrap_or(0);
                found.insert(
                    Count {
                        parent,
                        args: args.clone(),
                    },
                    count,
                );
            }
        }
        Ok(found)
    }
}
