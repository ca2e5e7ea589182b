//! The loaders' statements, written once per shape.
//!
//! A loader's statement is the same text every time for the same types, reader,
//! arguments and number of parents; only the parents' ids differ. Writing it through
//! SeaQuery's builders is a large part of a point lookup's own work (see
//! bench/README.md), so the text is kept, with its values, and a request with that
//! shape only puts its parents' ids in their places.
//!
//! Where the ids go is found, not declared: the statement is written twice with two
//! sets of stand-in ids, and a value that differs between the two in the way the
//! stand-ins differ is a parent's place; every other value must be equal in both.
//! A shape whose two writings differ otherwise (or in their text) is never kept.
//! The reader is part of the shape, not a place: its id also reaches statements
//! through compiled filters, which are not written here.

use std::any::{Any, TypeId};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex};

use foldhash::HashMap;
use sea_orm::sea_query::SelectStatement;
use sea_orm::{DbBackend, Statement, Value, Values};

use crate::engine::listing::Link;
use crate::engine::rules::Reader;

/// What besides the types, the reader, the link and the number of parents a
/// statement's text follows from: a connection's arguments, or a lookup's joins.
pub(super) trait ShapeArgs: Any + Send + Sync {
    /// Whether `other` is equal arguments of the same type.
    fn same_as(&self, other: &dyn ShapeArgs) -> bool;
    /// A hash of what [`same_as`](Self::same_as) compares.
    fn hash_into(&self, state: &mut dyn Hasher);
}

impl<A: Eq + Hash + Send + Sync + 'static> ShapeArgs for A {
    fn same_as(&self, other: &dyn ShapeArgs) -> bool {
        (other as &dyn Any)
            .downcast_ref::<A>()
            .is_some_and(|other| other == self)
    }

    fn hash_into(&self, mut state: &mut dyn Hasher) {
        self.hash(&mut state);
    }
}

/// Everything a loader's statement text follows from.
pub(super) struct Shape {
    /// Which statement, over which row types (a marker type per builder).
    statement: TypeId,
    backend: DbBackend,
    reader: Reader,
    link: Option<Link>,
    parents: usize,
    args: Option<Arc<dyn ShapeArgs>>,
    hash: u64,
}

impl Shape {
    /// The shape of statement `S` (a type naming the builder and its row types).
    pub(super) fn of<S: 'static>(
        backend: DbBackend,
        reader: Reader,
        link: Option<&Link>,
        parents: usize,
        args: Option<Arc<dyn ShapeArgs>>,
    ) -> Self {
        let statement = TypeId::of::<S>();
        let mut state = HASHER.build_hasher();
        statement.hash(&mut state);
        std::mem::discriminant(&backend).hash(&mut state);
        reader.hash(&mut state);
        link.hash(&mut state);
        parents.hash(&mut state);
        if let Some(args) = &args {
            args.hash_into(&mut state);
        }
        Self {
            statement,
            backend,
            reader,
            link: link.cloned(),
            parents,
            args,
            hash: state.finish(),
        }
    }
}

impl PartialEq for Shape {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash
            && self.statement == other.statement
            && self.backend == other.backend
            && self.reader == other.reader
            && self.link == other.link
            && self.parents == other.parents
            && match (&self.args, &other.args) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a.same_as(&**b),
                _ => false,
            }
    }
}

impl Eq for Shape {}

impl Hash for Shape {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

static HASHER: LazyLock<foldhash::fast::RandomState> = LazyLock::new(Default::default);

/// A statement's text and values, and which values are which parent's id.
struct Written {
    sql: String,
    values: Vec<Value>,
    /// `(value, parent)`: the value at index `value` is the id of `parents[parent]`.
    places: Vec<(usize, usize)>,
}

impl Written {
    /// About how much memory it holds.
    fn bytes(&self) -> usize {
        let texts: usize = (self.values.iter())
            .map(|value| match value {
                Value::String(Some(text)) => text.len(),
                _ => 0,
            })
            .sum();
        self.sql.len()
            + texts
            + self.values.len() * std::mem::size_of::<Value>()
            + self.places.len() * std::mem::size_of::<(usize, usize)>()
    }

    /// The statement for `parents`.
    fn with(&self, backend: DbBackend, parents: &[i32]) -> Statement {
        let mut values = self.values.clone();
        for &(value, parent) in &self.places {
            values[value] = Value::Int(Some(parents[parent]));
        }
        Statement {
            sql: self.sql.clone(),
            values: Some(Values(values)),
            db_backend: backend,
        }
    }
}

#[derive(Clone)]
enum Entry {
    /// Written once, as it was asked for: a shape seen once may never come again,
    /// and learning where its ids go takes two writings.
    SeenOnce,
    Kept(Arc<Written>),
    /// Its two writings differed in more than the ids: written each time.
    NotKept,
}

/// Shapes known at most, and bytes of statements kept at most (a page over
/// hundreds of parents keeps as many values); past either the cache starts again
/// empty.
const MOST_SHAPES: usize = 4_096;
const MOST_BYTES: usize = 4 * 1024 * 1024;

/// The shapes seen, and the bytes their kept statements hold.
#[derive(Default)]
struct Shapes {
    entries: HashMap<Shape, Entry>,
    kept_bytes: usize,
}

impl Shapes {
    fn get(&self, shape: &Shape) -> Option<&Entry> {
        self.entries.get(shape)
    }

    fn insert(&mut self, shape: Shape, entry: Entry) {
        let bytes = match &entry {
            Entry::Kept(written) => written.bytes(),
            Entry::SeenOnce | Entry::NotKept => 0,
        };
        if self.entries.len() >= MOST_SHAPES || self.kept_bytes + bytes > MOST_BYTES {
            self.entries.clear();
            self.kept_bytes = 0;
        }
        self.kept_bytes += bytes;
        self.entries.insert(shape, entry);
    }
}

static SHAPES: LazyLock<Mutex<Shapes>> = LazyLock::new(Default::default);

fn shapes() -> std::sync::MutexGuard<'static, Shapes> {
    // The map holds no invariant a panicking holder could break.
    SHAPES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The statement that `write` writes for `parents`, of the given `shape`: from the
/// cache when the shape was seen before. `write` must put each parent's id in the
/// statement only as a value of its own, and depend on nothing that `shape` does
/// not hold.
pub(super) fn statement(
    shape: Shape,
    parents: &[i32],
    write: impl Fn(&[i32]) -> SelectStatement,
) -> Statement {
    let backend = shape.backend;
    let entry = {
        let mut shapes = shapes();
        match shapes.get(&shape) {
            Some(entry) => entry.clone(),
            None => {
                shapes.insert(shape, Entry::SeenOnce);
                return backend.build(&write(parents));
            }
        }
    };
    let statement = match entry {
        Entry::Kept(written) => written.with(backend, parents),
        Entry::NotKept => return backend.build(&write(parents)),
        Entry::SeenOnce => match learn(backend, parents.len(), &write) {
            Some(written) => {
                let statement = written.with(backend, parents);
                shapes().insert(shape, Entry::Kept(Arc::new(written)));
                statement
            }
            None => {
                shapes().insert(shape, Entry::NotKept);
                return backend.build(&write(parents));
            }
        },
    };
    debug_assert_eq!(
        statement,
        backend.build(&write(parents)),
        "a kept statement differs from the one its builder writes"
    );
    statement
}

/// Stand-in ids for `n` parents, the first or the second set: no id of one set
/// equals an id of the other.
fn stand_ins(n: usize, set: i32) -> Vec<i32> {
    (0..n as i32).map(|i| i32::MIN + 2 * i + set).collect()
}

/// The statement `write` writes for any `parents` parents, with their places.
fn learn(
    backend: DbBackend,
    parents: usize,
    write: &impl Fn(&[i32]) -> SelectStatement,
) -> Option<Written> {
    if parents > (i32::MAX / 2) as usize {
        return None;
    }
    let first = backend.build(&write(&stand_ins(parents, 0)));
    let second = backend.build(&write(&stand_ins(parents, 1)));
    if first.sql != second.sql {
        return None;
    }
    let values = first.values.map(|v| v.0).unwrap_or_default();
    let others = second.values.map(|v| v.0).unwrap_or_default();
    if values.len() != others.len() {
        return None;
    }
    let mut places = Vec::new();
    for (at, (value, other)) in values.iter().zip(&others).enumerate() {
        if value == other {
            continue;
        }
        let (Value::Int(Some(a)), Value::Int(Some(b))) = (value, other) else {
            return None;
        };
        let parent = a.abs_diff(i32::MIN) as usize / 2;
        if parent >= parents || *a != i32::MIN + 2 * parent as i32 || *b != *a + 1 {
            return None;
        }
        places.push((at, parent));
    }
    Some(Written {
        sql: first.sql,
        values,
        places,
    })
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};

    use super::*;

    /// `SELECT * FROM t WHERE a = <constant> AND id IN (<parents>)`.
    fn by_ids(constant: i32) -> impl Fn(&[i32]) -> SelectStatement {
        move |parents| {
            let mut query = Query::select();
            query
                .column(Alias::new("id"))
                .from(Alias::new("t"))
                .and_where(Expr::col(Alias::new("a")).eq(constant))
                .and_where(Expr::col(Alias::new("id")).is_in(parents.iter().copied()));
            query
        }
    }

    struct ByIds;
    struct Other;

    fn shape<S: 'static>(reader: Reader, parents: usize) -> Shape {
        Shape::of::<S>(DbBackend::Postgres, reader, None, parents, None)
    }

    #[test]
    fn the_ids_take_their_places_and_constants_stay() {
        // A constant equal to a stand-in id is still a constant.
        let constant = i32::MIN;
        let written = learn(DbBackend::Postgres, 3, &by_ids(constant)).expect("learnt");
        assert_eq!(written.places, vec![(1, 0), (2, 1), (3, 2)]);
        let statement = written.with(DbBackend::Postgres, &[7, 8, 9]);
        assert_eq!(
            statement,
            DbBackend::Postgres.build(&by_ids(constant)(&[7, 8, 9]))
        );
    }

    #[test]
    fn a_statement_whose_ids_shape_its_text_is_not_kept() {
        let by_sign = |parents: &[i32]| {
            let mut query = Query::select();
            query.column(Alias::new("id")).from(Alias::new("t"));
            if parents.first().is_some_and(|p| p % 2 == 0) {
                query.and_where(Expr::col(Alias::new("even")).eq(true));
            }
            query
        };
        assert!(learn(DbBackend::Postgres, 1, &by_sign).is_none());
        let plus_one =
            |parents: &[i32]| by_ids(0)(&parents.iter().map(|p| p + 1).collect::<Vec<_>>());
        assert!(learn(DbBackend::Postgres, 2, &plus_one).is_none());
    }

    #[test]
    fn a_shape_is_kept_from_its_second_use_and_answers_for_other_ids() {
        let reader = Reader::User(41);
        for parents in [[1, 2], [3, 4], [5, 6]] {
            let statement = statement(shape::<ByIds>(reader, 2), &parents, by_ids(5));
            assert_eq!(statement, DbBackend::Postgres.build(&by_ids(5)(&parents)));
        }
        let kept = matches!(
            shapes().get(&shape::<ByIds>(reader, 2)),
            Some(Entry::Kept(_))
        );
        assert!(kept, "kept after its second use");
    }

    #[test]
    fn a_kept_statement_counts_its_text_values_strings_and_places() {
        let written = Written {
            sql: "x".repeat(100),
            values: vec![Value::Int(Some(1)), Value::String(Some("abcd".into()))],
            places: vec![(0, 0)],
        };
        let value = std::mem::size_of::<Value>();
        let place = std::mem::size_of::<(usize, usize)>();
        assert_eq!(written.bytes(), 100 + 4 + 2 * value + place);
    }

    #[test]
    fn the_kept_statements_stay_within_their_bytes() {
        let mut cache = Shapes::default();
        let parents = 500;
        let written = Arc::new(learn(DbBackend::Postgres, parents, &by_ids(0)).expect("learnt"));
        let each = written.bytes();
        assert!(each > parents * std::mem::size_of::<Value>(), "{each}");
        let fits = MOST_BYTES / each;
        for reader in 0..=fits as i32 {
            let shape = shape::<ByIds>(Reader::User(reader), parents);
            cache.insert(shape, Entry::Kept(written.clone()));
            assert!(
                cache.kept_bytes <= MOST_BYTES,
                "{} bytes kept",
                cache.kept_bytes
            );
            if (reader as usize) < fits {
                assert_eq!(
                    cache.entries.len(),
                    reader as usize + 1,
                    "kept while they fit"
                );
                assert_eq!(cache.kept_bytes, cache.entries.len() * each);
            }
        }
        assert_eq!(cache.entries.len(), 1, "started again once full");
        assert!(
            cache
                .get(&shape::<ByIds>(Reader::User(fits as i32), parents))
                .is_some()
        );
    }

    #[test]
    fn shapes_differ_by_statement_reader_count_and_arguments() {
        let base = shape::<ByIds>(Reader::Anonymous, 2);
        assert!(base == shape::<ByIds>(Reader::Anonymous, 2));
        assert!(base != shape::<Other>(Reader::Anonymous, 2));
        assert!(base != shape::<ByIds>(Reader::User(1), 2));
        assert!(shape::<ByIds>(Reader::User(1), 2) != shape::<ByIds>(Reader::User(2), 2));
        assert!(base != shape::<ByIds>(Reader::Anonymous, 3));
        let with = |args: u64| {
            let args: Arc<dyn ShapeArgs> = Arc::new(args);
            Shape::of::<ByIds>(DbBackend::Postgres, Reader::Anonymous, None, 2, Some(args))
        };
        assert!(with(1) == with(1));
        assert!(with(1) != with(2));
        assert!(with(1) != base);
        let mysql = Shape::of::<ByIds>(DbBackend::MySql, Reader::Anonymous, None, 2, None);
        assert!(base != mysql);
    }
}
