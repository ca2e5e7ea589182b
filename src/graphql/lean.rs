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

use std::borrow::Cow;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, resolve_container};
use async_graphql::{
    ContextSelectionSet, Name, OutputType, Positioned, ServerError, ServerResult, Value,
};
use futures_util::future::BoxFuture;

/// An object of type `T`, resolved leanly (see the module's documentation); the
/// schema sees `T` itself.
pub struct Lean<T>(pub T);

impl<T: ContainerType> OutputType for Lean<T> {
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
        // Boxed as a `dyn Future`: a type's fields resolve objects that resolve it
        // again (a user's posts' author), and only a boxed future ends that cycle.
        let object: BoxFuture<'_, ServerResult<Value>> = Box::pin(resolve_lean(ctx, &self.0));
        object.await
    }
}

/// Selections longer than this go the usual way (checking names for repeats is
/// quadratic).
const MOST_FIELDS: usize = 16;

async fn resolve_lean<T: ContainerType>(
    ctx: &ContextSelectionSet<'_>,
    root: &T,
) -> ServerResult<Value> {
    let items = &ctx.item.node.items;
    if !is_plain(items) {
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
        let value = root.resolve_field(&ctx.with_field(field)).await;
        fill(ctx, &mut object, at, value, &mut failed);
    } else if nested > 1 {
        let resolving = fields(items)
            .filter(|field| !field.node.selection_set.node.items.is_empty())
            .map(|field| async move { (field, root.resolve_field(&ctx.with_field(field)).await) });
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

/// Fields only, without directives, each under a name of its own.
fn is_plain(items: &[Positioned<Selection>]) -> bool {
    items.len() <= MOST_FIELDS
        && items.iter().enumerate().all(|(i, selection)| {
            let Selection::Field(field) = &selection.node else {
                return false;
            };
            let key = &field.node.response_key().node;
            field.node.directives.is_empty()
                && items[..i].iter().all(|earlier| match &earlier.node {
                    Selection::Field(earlier) => earlier.node.response_key().node != *key,
                    _ => false,
                })
        })
}
