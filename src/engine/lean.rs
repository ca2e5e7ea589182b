//! Objects resolved without a future per leaf field.
//!
//! async-graphql resolves every field of an object as a boxed future of its own,
//! driven by a `FuturesUnordered` and gathered into a map by name: for a row's
//! `id` or `title`, which are ready at once, that bookkeeping costs more than the
//! value (perf put it at about a fifth of relgql's CPU on Q2). [`Lean`] resolves a
//! plain selection itself: leaf fields (no selection set of their own: scalars and
//! enums) are awaited in place, one after another, and only the fields that select
//! further (relationships, connections) run as futures, together, so siblings still
//! share their batches. Anything else (fragments, directives, repeated names) goes
//! the usual way, through `resolve_container`.
//!
//! Lean fields do not pass through async-graphql extensions' `resolve` hooks; the
//! schema installs none (the gate before execution is not one, for the same
//! reason: with any extension, every field takes a slower path).
//!
//! Over HTTP, a lean object is also written as JSON as it resolves (see
//! [`Written`]): its answer is the bytes the response will carry, not a map of
//! values (hashed by name with SipHash, each entry a `Name` and a `Value`) that is
//! serialised, and freed, afterwards. Its row's plain columns ([`Leaves`]) are
//! written straight from the row, without a call through its resolver.

use std::borrow::Cow;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, resolve_container, resolve_list};
use async_graphql::{
    Context, ContextSelectionSet, Name, OutputType, Positioned, ScalarType, ServerError,
    ServerResult, Value,
};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use smallvec::SmallVec;

use crate::engine::datetime::UtcDateTime;
use crate::engine::ids;

/// Marks a request whose lean objects answer in JSON, written as they resolve: each
/// comes back as a `Value::Binary` of the object's JSON text, which [`write_value`]
/// copies into the response as it is. Only for answers that [`write_value`]
/// serialises (the HTTP layer's; async-graphql's own serialisation, as over
/// WebSocket, would write those bytes as numbers), and only for documents that
/// repeat no response key in any selection ([`repeats_a_key`]): async-graphql
/// merges the answers of a repeated key's selections as maps, which written
/// objects are not. No type of the schema answers with binary data of its own.
#[derive(Copy, Clone, Debug)]
pub struct Written;

/// An object of type `T`, resolved leanly (see the module's documentation); the
/// schema sees `T` itself.
pub struct Lean<T>(pub T);

/// The fields a lean object answers without a call through its resolver: the leaf
/// fields it reads straight from its row, which a [`Written`] answer writes as they
/// are (without a `Value` made and freed, or a future), and the connections whose
/// arguments the request has worked out already for the field. Each must answer as
/// the object's resolver of the same field does (tests/resolution.rs compares every
/// field of every type).
pub trait Leaves {
    /// The value of the field named `field` (its name, not its alias) when this
    /// object reads it straight from its row and it takes no arguments; `None`
    /// resolves it the usual way.
    fn leaf(&self, _field: &str) -> Option<Leaf<'_>> {
        None
    }

    /// The answer of the field `ctx` resolves when it is a connection whose
    /// arguments were worked out for this field of the document under an earlier
    /// parent; `None` resolves it the usual way. The resolver generated for the field
    /// parses its arguments for every parent before it finds them worked out
    /// (cloning each value, and an `orderBy` list is several allocations).
    fn connection(
        &self,
        _ctx: &Context<'_>,
    ) -> impl Future<Output = Option<ServerResult<Option<Value>>>> + Send {
        std::future::ready(None)
    }

    /// Writes the answer (see [`Written`]) of the to-one field `field` of this
    /// object, whose selection set `ctx` is, into `out`, when the statement that
    /// read the row joined the related row and that row's selection is written at
    /// once (see [`write_object`]); `false` (having written nothing) leaves the field
    /// to its resolver, which answers alike.
    fn joined(
        &self,
        _ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
        _out: &mut Vec<u8>,
    ) -> bool {
        false
    }

    /// Loads the pages of the connection field `ctx` resolves for each of
    /// `parents`, rows of this type in one list, before they resolve (see
    /// [`load_siblings`](crate::engine::connection::load_siblings)); `None` when the
    /// field is not one of this type's connections.
    fn load_pages<'a>(
        _ctx: &'a Context<'a>,
        _parents: &std::sync::Arc<[i32]>,
    ) -> Option<BoxFuture<'a, ()>>
    where
        Self: Sized,
    {
        None
    }
}

impl<T: Leaves + Sync> Leaves for &T {
    fn leaf(&self, field: &str) -> Option<Leaf<'_>> {
        (**self).leaf(field)
    }

    fn connection(
        &self,
        ctx: &Context<'_>,
    ) -> impl Future<Output = Option<ServerResult<Option<Value>>>> + Send {
        (**self).connection(ctx)
    }

    fn joined(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
        out: &mut Vec<u8>,
    ) -> bool {
        (**self).joined(ctx, field, out)
    }

    fn load_pages<'a>(
        ctx: &'a Context<'a>,
        parents: &std::sync::Arc<[i32]>,
    ) -> Option<BoxFuture<'a, ()>> {
        T::load_pages(ctx, parents)
    }
}

/// The field `ctx` resolves, of `root`: through [`Leaves::connection`] when it
/// answers, or else its resolver.
async fn resolve_field<T: ContainerType + Leaves>(
    root: &T,
    ctx: &Context<'_>,
) -> ServerResult<Option<Value>> {
    match root.connection(ctx).await {
        Some(answer) => answer,
        None => root.resolve_field(ctx).await,
    }
}

/// The value of a leaf field read straight from a row.
#[derive(Copy, Clone, Debug)]
pub enum Leaf<'a> {
    /// A Relay global id: what the ids of the row's GraphQL type share, and its key.
    Id(&'static ids::IdPrefix, i32),
    /// An `Int`.
    Int(i32),
    /// A `String`.
    Text(&'a str),
    /// A `Boolean`.
    Boolean(bool),
    /// A `DateTime`.
    Time(DateTime<Utc>),
    /// `null`: a value the reader may not see.
    Null,
}

impl<'a> Leaf<'a> {
    /// The leaf field `field` of the row `key` of the GraphQL type whose ids start
    /// with `id_prefix`: one of its ids (`id`, `databaseId`), or else what `columns`
    /// finds.
    pub fn of_row(
        id_prefix: &'static ids::IdPrefix,
        key: i32,
        field: &str,
        columns: impl FnOnce(&str) -> Option<Leaf<'a>>,
    ) -> Option<Self> {
        match field {
            "id" => Some(Leaf::Id(id_prefix, key)),
            "databaseId" => Some(Leaf::Int(key)),
            _ => columns(field),
        }
    }

    /// Writes the value as JSON, as async-graphql would answer it.
    fn write(self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        match self {
            Leaf::Id(prefix, key) => ids::write_json(out, prefix, key),
            Leaf::Int(number) => {
                out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes())
            }
            Leaf::Text(text) => write_text(out, text)?,
            Leaf::Boolean(true) => out.extend_from_slice(b"true"),
            Leaf::Boolean(false) => out.extend_from_slice(b"false"),
            Leaf::Time(time) => write_value(out, &UtcDateTime(time).to_value())?,
            Leaf::Null => out.extend_from_slice(b"null"),
        }
        Ok(())
    }
}

impl<T: ContainerType + Leaves> OutputType for Lean<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        // A written object's leaves are written at once; one whose every field is a
        // leaf of its row (a comment's `body`, its author's `name`) is answered
        // without a future of its own.
        let written = ctx.data_opt::<Written>().is_some();
        if written && is_plain(&ctx.item.node.items, true) {
            let mut leaves = Vec::with_capacity(32 * ctx.item.node.items.len() + 2);
            let pending = write_leaves(ctx, &self.0, &mut leaves)?;
            if pending.is_empty() {
                return Ok(closed(leaves));
            }
            // Boxed as a `dyn Future`: a type's fields resolve objects that resolve
            // it again (a user's posts' author), and only a boxed future ends that
            // cycle.
            let object: BoxFuture<'_, ServerResult<Value>> =
                Box::pin(resolve_pending(ctx, &self.0, leaves, pending));
            return object.await;
        }
        let object: BoxFuture<'_, ServerResult<Value>> =
            Box::pin(resolve_lean(ctx, &self.0, written));
        object.await
    }
}

/// Rows answered as a list of [`Lean`] objects (a page's `nodes` or `edges`). A
/// written list with a plain selection is written as one: each row's leaves in
/// place, in order, and only the rows with fields left to resolve as futures,
/// together; where async-graphql makes each row a future of its own, gathered in
/// a list of values. Otherwise the rows answer as async-graphql answers a list.
/// Each row is a handle on an object: a reference, or a view such as an edge.
pub struct LeanList<R>(pub Vec<R>);

impl<R: ContainerType + Leaves + Copy + Sync> OutputType for LeanList<R> {
    fn type_name() -> Cow<'static, str> {
        <Vec<Lean<R>> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<Lean<R>> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<Lean<R>> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let rows = self.0.iter().map(|row| Lean(*row));
        if ctx.data_opt::<Written>().is_none() || !is_plain(&ctx.item.node.items, true) {
            return resolve_list(ctx, field, rows, Some(self.0.len())).await;
        }
        let list: BoxFuture<'_, ServerResult<Value>> = Box::pin(write_list(ctx, &self.0));
        list.await
    }
}

/// A written list of `rows` (see [`LeanList`]), each answered as [`Lean`] answers
/// it, its errors on the row's path as async-graphql puts them.
async fn write_list<'a, R: ContainerType + Leaves + Sync>(
    ctx: &ContextSelectionSet<'a>,
    rows: &[R],
) -> ServerResult<Value> {
    let mut list = Vec::with_capacity(2 + 64 * rows.len());
    list.push(b'[');
    let mut unfinished = Vec::new();
    for (idx, row) in rows.iter().enumerate() {
        if idx > 0 {
            list.push(b',');
        }
        let item = ctx.with_index(idx);
        let start = list.len();
        let pending = write_leaves(&item, row, &mut list).map_err(|e| item.set_error_path(e))?;
        if pending.is_empty() {
            close(&mut list, start);
        } else {
            // Its leaves stay in the list, unclosed, and are written out with its
            // pending fields' answers once those settle: in a buffer of their own
            // they would be grown to take the answers and copied once more.
            unfinished.push((start..list.len(), idx, row, pending));
        }
    }
    list.push(b']');
    if unfinished.is_empty() {
        return Ok(Value::Binary(list.into()));
    }
    let resolving = unfinished
        .into_iter()
        .map(|(leaves, idx, row, pending)| async move {
            (
                leaves,
                settle_pending(&ctx.with_index(idx), row, pending).await,
            )
        });
    let objects = futures_util::future::join_all(resolving).await;
    let size = list.len()
        + objects
            .iter()
            .map(|(_, nested)| nested.iter().map(entry_size).sum::<usize>() + "null".len())
            .sum::<usize>();
    let mut written = Vec::with_capacity(size);
    let mut from = 0;
    for (leaves, nested) in &objects {
        written.extend_from_slice(&list[from..leaves.start]);
        let start = written.len();
        write_spliced(&mut written, &list[..leaves.end], leaves.start, nested)
            .map_err(unwritable)?;
        close(&mut written, start);
        from = leaves.end;
    }
    written.extend_from_slice(&list[from..]);
    Ok(Value::Binary(written.into()))
}

/// Writes the answer (see [`Written`]) of `root`, whose selection set `ctx` is,
/// into `out`, as [`Lean`] answers it, when it is plain and each of its fields is
/// written at once (leaves, and joined rows likewise written: see
/// [`Leaves::joined`]); `false` (having written nothing) when a field is left to
/// its resolver.
pub fn write_object<T: ContainerType + Leaves>(
    ctx: &ContextSelectionSet<'_>,
    root: &T,
    out: &mut Vec<u8>,
) -> bool {
    if !is_plain(&ctx.item.node.items, true) {
        return false;
    }
    let start = out.len();
    match write_leaves(ctx, root, out) {
        Ok(pending) if pending.is_empty() => {
            close(out, start);
            true
        }
        _ => {
            out.truncate(start);
            false
        }
    }
}

/// Selections longer than this go the usual way, unless the answer is written
/// (checking names for repeats is quadratic).
const MOST_FIELDS: usize = 16;

/// An object that is not written, or whose selection is not plain (see
/// [`is_plain`]; a written answer's document names no response key twice,
/// [`repeats_a_key`]).
async fn resolve_lean<T: ContainerType + Leaves>(
    ctx: &ContextSelectionSet<'_>,
    root: &T,
    written: bool,
) -> ServerResult<Value> {
    let items = &ctx.item.node.items;
    if written || !is_plain(items, false) {
        return resolve_container(ctx, root).await;
    }
    // The answer is built in place, in the selection's order: each leaf field as it
    // resolves, and a placeholder for each nested field, filled when it resolves.
    let mut object = IndexMap::with_capacity(items.len());
    let mut nested = 0;
    let mut first_nested = None;
    for field in fields(items) {
        let key = field.node.response_key().node.clone();
        if field.node.name.node == "__typename" {
            let name = root.introspection_type_name().into_owned();
            object.insert(key, Value::String(name));
        } else if field.node.selection_set.node.items.is_empty() {
            let value = root.resolve_field(&ctx.with_field(field)).await;
            if let Some(value) = settle(ctx, value) {
                object.insert(key, value);
            }
        } else {
            first_nested.get_or_insert((object.len(), field));
            object.insert(key, Value::Null);
            nested += 1;
        }
    }
    let mut failed = Vec::new();
    if let (1, Some((at, field))) = (nested, first_nested) {
        let value = resolve_field(root, &ctx.with_field(field)).await;
        fill(ctx, &mut object, at, value, &mut failed);
    } else if nested > 1 {
        let resolving = fields(items)
            .filter(|field| !field.node.selection_set.node.items.is_empty())
            .map(|field| async move { (field, resolve_field(root, &ctx.with_field(field)).await) });
        for (field, value) in futures_util::future::join_all(resolving).await {
            if let Some(at) = object.get_index_of(&field.node.response_key().node) {
                fill(ctx, &mut object, at, value, &mut failed);
            }
        }
    }
    // As `resolve_container` answers: a field that failed is left out, and an
    // object whose every field failed is null.
    failed.sort_unstable();
    for at in failed.into_iter().rev() {
        object.shift_remove_index(at);
    }
    Ok(if object.is_empty() {
        Value::Null
    } else {
        Value::Object(object)
    })
}

/// The fields of a plain selection that a written answer (see [`Written`]) leaves
/// to their resolvers, each with its place among the leaves written before it.
/// Most objects have one or two (a comment's author; a post's author and comments).
type Pending<'a> = SmallVec<[(usize, &'a Positioned<Field>); 2]>;

/// Writes the start of a plain selection's answer as JSON onto `leaves`: each leaf
/// field that the object reads straight from its row ([`Leaves::leaf`]),
/// `__typename`, and each to-one field whose joined row is written at once
/// ([`Leaves::joined`]), in the selection's order; and gives the fields left to
/// resolve (other nested fields, and leaves with a resolver of their own), with
/// their places in `leaves`.
fn write_leaves<'a, T: ContainerType + Leaves>(
    ctx: &ContextSelectionSet<'a>,
    root: &T,
    leaves: &mut Vec<u8>,
) -> ServerResult<Pending<'a>> {
    let items = &ctx.item.node.items;
    // Every entry is written after a comma; the first comma becomes the brace.
    let mut pending = Pending::new();
    for field in fields(items) {
        let key = field.node.response_key().node.as_str();
        let name = field.node.name.node.as_str();
        let leaf = || {
            let plain =
                field.node.selection_set.node.items.is_empty() && field.node.arguments.is_empty();
            root.leaf(name).filter(|_| plain)
        };
        if name == "__typename" {
            let name = Value::String(root.introspection_type_name().into_owned());
            write_entry(leaves, key, &name).map_err(unwritable)?;
        } else if let Some(leaf) = leaf() {
            write_key(leaves, key);
            leaf.write(leaves).map_err(unwritable)?;
        } else {
            let at = leaves.len();
            write_key(leaves, key);
            if !root.joined(ctx, field, leaves) {
                leaves.truncate(at);
                pending.push((at, field));
            }
        }
    }
    Ok(pending)
}

/// A written answer (see [`write_leaves`]) with its `pending` fields resolved
/// (together, so that siblings share their batches) and spliced in at their places.
async fn resolve_pending<'a, T: ContainerType + Leaves>(
    ctx: &ContextSelectionSet<'a>,
    root: &T,
    leaves: Vec<u8>,
    pending: Pending<'a>,
) -> ServerResult<Value> {
    let nested = settle_pending(ctx, root, pending).await;
    let object = splice(leaves, &nested).map_err(unwritable)?;
    Ok(closed(object))
}

/// The `pending` fields of `root` resolved (together, so that siblings share
/// their batches) and settled in the selection's order, so that errors are noted
/// in it.
async fn settle_pending<'a, T: ContainerType + Leaves>(
    ctx: &ContextSelectionSet<'a>,
    root: &T,
    pending: Pending<'a>,
) -> SmallVec<[Settled<'a>; 1]> {
    let resolve = |nested| resolve_nested(ctx, root, nested);
    let settle_nested = |resolved| settled(ctx, resolved);
    // Two or more go through a list of futures: the object's future, moved whole
    // into its box, is as large as what it awaits inline.
    match pending[..] {
        [one] => smallvec::smallvec![settle_nested(resolve(one).await)],
        _ => {
            let resolved = futures_util::future::join_all(pending.into_iter().map(resolve)).await;
            resolved.into_iter().map(settle_nested).collect()
        }
    }
}

/// A written object's JSON, from its entries (each after a comma): as
/// `resolve_container` answers, an object whose every field failed is null.
fn closed(mut object: Vec<u8>) -> Value {
    if object.is_empty() {
        return Value::Null;
    }
    close(&mut object, 0);
    Value::Binary(object.into())
}

/// Closes the object whose entries `out` holds from `start` on: `null` when it has
/// none (see [`closed`]).
fn close(out: &mut Vec<u8>, start: usize) {
    if out.len() == start {
        out.extend_from_slice(b"null");
    } else {
        out[start] = b'{';
        out.push(b'}');
    }
}

/// A nested field, resolved: its place among the leaves, the field, its value.
type Resolved<'a> = (usize, &'a Positioned<Field>, ServerResult<Option<Value>>);

async fn resolve_nested<'a, T: ContainerType + Leaves>(
    ctx: &ContextSelectionSet<'a>,
    root: &T,
    (at, field): (usize, &'a Positioned<Field>),
) -> Resolved<'a> {
    (at, field, resolve_field(root, &ctx.with_field(field)).await)
}

/// A nested field settled: its place among the leaves, the field, and its value
/// (`None` when it failed, and is left out).
type Settled<'a> = (usize, &'a Positioned<Field>, Option<Value>);

/// `resolved`, settled (see [`settle`]).
fn settled<'a>(ctx: &ContextSelectionSet<'_>, (at, field, value): Resolved<'a>) -> Settled<'a> {
    (at, field, settle(ctx, value))
}

/// `leaves` with each nested field's entry written at its place (`nested` in the
/// order of their places), with room for the closing brace. Written on at the end
/// when every place is there, as it is when nested fields come last.
fn splice(mut leaves: Vec<u8>, nested: &[Settled<'_>]) -> serde_json::Result<Vec<u8>> {
    let size = leaves.len() + nested.iter().map(entry_size).sum::<usize>() + 1;
    if nested.iter().all(|(at, _, _)| *at == leaves.len()) {
        leaves.reserve_exact(size - leaves.len());
        for settled in nested {
            write_nested(&mut leaves, settled)?;
        }
        return Ok(leaves);
    }
    let mut object = Vec::with_capacity(size);
    write_spliced(&mut object, &leaves, 0, nested)?;
    Ok(object)
}

/// Writes onto `out` an object's entries that `written` holds from `from` on,
/// with each nested field's entry at its place among them (`nested` in the order
/// of their places, which count from the start of `written`).
fn write_spliced(
    out: &mut Vec<u8>,
    written: &[u8],
    mut from: usize,
    nested: &[Settled<'_>],
) -> serde_json::Result<()> {
    for settled in nested {
        out.extend_from_slice(&written[from..settled.0]);
        from = settled.0;
        write_nested(out, settled)?;
    }
    out.extend_from_slice(&written[from..]);
    Ok(())
}

/// Writes a nested field's entry (see [`write_entry`]), unless it is left out.
fn write_nested(out: &mut Vec<u8>, (_, field, value): &Settled<'_>) -> serde_json::Result<()> {
    match value {
        Some(value) => write_entry(out, field.node.response_key().node.as_str(), value),
        None => Ok(()),
    }
}

/// The size of a nested field's entry (see [`write_entry`]); nothing for a field
/// left out.
fn entry_size((_, field, value): &Settled<'_>) -> usize {
    value.as_ref().map_or(0, |value| {
        field.node.response_key().node.len() + 4 + written_size(value)
    })
}

/// Writes `,"key":value`. A response key is a GraphQL name (letters, digits and
/// underscores), which JSON needs no escape for.
fn write_entry(out: &mut Vec<u8>, key: &str, value: &Value) -> serde_json::Result<()> {
    write_key(out, key);
    write_value(out, value)
}

/// Writes `,"key":` (see [`write_entry`]).
fn write_key(out: &mut Vec<u8>, key: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Writes `value` as JSON, as serde_json writes it, but for a `Binary`, which is
/// the JSON of a [`Written`] object and is copied as it is.
pub fn write_value(out: &mut Vec<u8>, value: &Value) -> serde_json::Result<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => serde_json::to_writer(&mut *out, number)?,
        Value::String(text) => write_text(out, text)?,
        Value::Enum(name) => serde_json::to_writer(&mut *out, name.as_str())?,
        Value::Binary(json) => out.extend_from_slice(json),
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(entries) => {
            out.push(b'{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key.as_str())?;
                out.push(b':');
                write_value(out, item)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Writes `text` as a JSON string. Most text needs no escape (JSON escapes
/// quotes, backslashes and control characters only, as serde_json does) and is
/// copied whole; serde_json's writer copied the text in pieces around the bytes
/// it looked up.
fn write_text(out: &mut Vec<u8>, text: &str) -> serde_json::Result<()> {
    if !text.bytes().all(|b| UNESCAPED[usize::from(b)]) {
        return serde_json::to_writer(out, text);
    }
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
    Ok(())
}

/// The bytes JSON strings carry as they are: all but control characters, the
/// quote and the backslash.
static UNESCAPED: [bool; 256] = {
    let mut unescaped = [true; 256];
    let mut byte = 0;
    while byte < 0x20 {
        unescaped[byte] = false;
        byte += 1;
    }
    unescaped[b'"' as usize] = false;
    unescaped[b'\\' as usize] = false;
    unescaped
};

/// About how many bytes `value` takes written: exact for written objects and the
/// lists and maps of them, which are most of a nested field's answer.
pub fn written_size(value: &Value) -> usize {
    // Brackets, and a comma between each two items.
    let enclosed = |count: usize, items: usize| 2 + count.saturating_sub(1) + items;
    match value {
        Value::Binary(json) => json.len(),
        Value::Null => 4,
        Value::List(items) => enclosed(items.len(), items.iter().map(written_size).sum()),
        Value::Object(entries) => {
            let entry = |(key, item): (&Name, &Value)| key.len() + 3 + written_size(item);
            enclosed(entries.len(), entries.iter().map(entry).sum())
        }
        _ => 16,
    }
}

fn unwritable(error: serde_json::Error) -> ServerError {
    ServerError::new(format!("cannot write an answer: {error}"), None)
}

/// Whether some selection of `document` names a response key twice, counting the
/// fields its fragments bring in: async-graphql then merges the answers under that
/// key, which [`Written`] objects do not allow.
pub fn repeats_a_key(document: &ExecutableDocument) -> bool {
    let fragments = &document.fragments;
    let mut sets: Vec<&SelectionSet> = document
        .operations
        .iter()
        .map(|(_, operation)| &operation.node.selection_set.node)
        .chain(
            fragments
                .values()
                .map(|fragment| &fragment.node.selection_set.node),
        )
        .collect();
    while let Some(set) = sets.pop() {
        let mut keys = Vec::new();
        let mut spread = Vec::new();
        // The selections at one level, and whether a fragment spread brought them
        // in: the nested selections of those are checked with their fragment.
        let mut level = vec![(set, false)];
        while let Some((set, borrowed)) = level.pop() {
            for selection in &set.items {
                match &selection.node {
                    Selection::Field(field) => {
                        let key = field.node.response_key().node.as_str();
                        if keys.contains(&key) {
                            return true;
                        }
                        keys.push(key);
                        if !borrowed {
                            sets.push(&field.node.selection_set.node);
                        }
                    }
                    Selection::InlineFragment(inline) => {
                        level.push((&inline.node.selection_set.node, borrowed));
                    }
                    Selection::FragmentSpread(fragment) => {
                        let name = &fragment.node.fragment_name.node;
                        if let Some(fragment) = fragments.get(name)
                            && !spread.contains(&name)
                        {
                            spread.push(name);
                            level.push((&fragment.node.selection_set.node, true));
                        }
                    }
                }
            }
        }
    }
    false
}

/// The fields of a plain selection.
fn fields(items: &[Positioned<Selection>]) -> impl Iterator<Item = &Positioned<Field>> {
    items.iter().filter_map(|selection| match &selection.node {
        Selection::Field(field) => Some(field),
        _ => None,
    })
}

/// Puts a nested field's value at `at`, its placeholder, or notes that it failed.
fn fill(
    ctx: &ContextSelectionSet<'_>,
    object: &mut IndexMap<Name, Value>,
    at: usize,
    value: Result<Option<Value>, ServerError>,
    failed: &mut Vec<usize>,
) {
    match (settle(ctx, value), object.get_index_mut(at)) {
        (Some(value), Some((_, slot))) => *slot = value,
        _ => failed.push(at),
    }
}

/// A field's value, or its error recorded on the request (the field is then left
/// out, as `resolve_container` does).
fn settle(
    ctx: &ContextSelectionSet<'_>,
    value: Result<Option<Value>, ServerError>,
) -> Option<Value> {
    match value {
        Ok(value) => Some(value.unwrap_or_default()),
        Err(error) => {
            ctx.add_error(error);
            None
        }
    }
}

/// Fields only, without directives, each under a name of its own (checked unless
/// `keys_unique`, when the document is known to repeat no response key).
fn is_plain(items: &[Positioned<Selection>], keys_unique: bool) -> bool {
    let simple = |selection: &Positioned<Selection>| match &selection.node {
        Selection::Field(field) => field.node.directives.is_empty(),
        _ => false,
    };
    if keys_unique {
        return items.iter().all(simple);
    }
    items.len() <= MOST_FIELDS
        && items.iter().enumerate().all(|(i, selection)| {
            let Selection::Field(field) = &selection.node else {
                return false;
            };
            let key = &field.node.response_key().node;
            simple(selection)
                && items[..i].iter().all(|earlier| match &earlier.node {
                    Selection::Field(earlier) => earlier.node.response_key().node != *key,
                    _ => false,
                })
        })
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    #[test]
    fn text_is_written_as_serde_json_writes_it_whatever_its_characters() {
        let characters = (0..=0x7f)
            .filter_map(char::from_u32)
            .chain(['\u{80}', 'ü', '\u{2028}', '☃', '\u{fffd}', '😀']);
        for character in characters {
            for text in [
                character.to_string(),
                format!("Comment {character} 1.1"),
                format!("{character}{character}"),
            ] {
                let mut written = b"[".to_vec();
                write_text(&mut written, &text).unwrap();
                assert_eq!(
                    written[1..],
                    serde_json::to_vec(&text).unwrap(),
                    "{character:?}"
                );
            }
        }
        let mut written = Vec::new();
        write_text(&mut written, "").unwrap();
        assert_eq!(written, b"\"\"");
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them_and_written_objects_as_they_are() {
        let value = async_graphql::value!({
            "text": "say \"hi\"\n\tto <b>ü ☃ 😀</b> \\ \u{1} \u{7f}",
            "numbers": [0, -3, 2.5, 1e300, 9007199254740993_u64],
            "flags": [true, false, null],
            "nested": { "empty": {}, "list": [] },
        });
        let mut written = Vec::new();
        write_value(&mut written, &value).unwrap();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            serde_json::to_string(&value).unwrap()
        );

        let raw = Value::Binary(br#"{"id":"VXNlcjox"}"#.to_vec().into());
        let list = Value::List(vec![raw.clone(), Value::Null, raw.clone()]);
        let mut written = Vec::new();
        write_value(&mut written, &list).unwrap();
        assert_eq!(written, br#"[{"id":"VXNlcjox"},null,{"id":"VXNlcjox"}]"#);
        assert_eq!(written_size(&list), written.len());
        let nodes = Value::List(vec![raw.clone(), raw]);
        let page = Value::Object(IndexMap::from_iter([(Name::new("nodes"), nodes)]));
        let mut written = Vec::new();
        write_value(&mut written, &page).unwrap();
        assert_eq!(
            written_size(&page),
            written.len(),
            "exact for written objects"
        );
    }

    #[test]
    fn a_key_named_twice_at_one_level_is_a_repeat_wherever_it_comes_from() {
        let repeats = |query: &str| repeats_a_key(&parse_query(query).unwrap());
        assert!(!repeats("{ a { id name } b: a { id } }"));
        assert!(!repeats(
            "{ a { ...F } } fragment F on A { id b { id } ... on A { c } }"
        ));
        assert!(repeats("{ a { id id } }"));
        assert!(repeats("{ a { id } a { name } }"));
        assert!(repeats("{ a { x: id x: name } }"));
        assert!(repeats("{ a { id ... on A { id } } }"));
        assert!(repeats(
            "{ a { ...F ...G } } fragment F on A { b { id } } fragment G on A { b { name } }"
        ));
        assert!(repeats("{ a { ...F } } fragment F on A { b { c c } }"));
        assert!(repeats("query A { x } query B { y { z z } }"));
    }

    /// Such documents fail validation; the check must still end (and, spreading a
    /// fragment's fields into themselves, it finds them twice).
    #[test]
    fn fragments_that_spread_themselves_end() {
        let repeats = |query: &str| repeats_a_key(&parse_query(query).unwrap());
        assert!(repeats(
            "{ a { ...F } } fragment F on A { id b { ...F } ...F }"
        ));
        assert!(repeats(
            "{ a { ...F } } fragment F on A { id ...G } fragment G on A { b ...F }"
        ));
        assert!(!repeats("{ a { ...F } } fragment F on A { b { ...F } }"));
    }
}
