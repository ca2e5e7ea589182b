//! What each request carries into the resolvers: its database handle and loaders.

use std::any::{Any, TypeId};
use std::sync::{Arc, Mutex};

use async_graphql::{Context, Pos};
use foldhash::HashMap;
use sea_orm::EntityTrait;

use crate::auth::Tokens;
use crate::db::CountingDb;
use crate::engine::listing::Table;
use crate::engine::loaders::{self, BatchScheduler, ById, Loaders};
use crate::engine::rules::Reader;
use crate::error::{ApiError, ApiResult};
use crate::events::Events;

/// The per-request state the HTTP layer attaches to every GraphQL request.
///
/// Execute a request that carries it inside `scheduler.run`, or its batches never run.
pub struct RequestState {
    /// Who reads: the signed-in user's id, from a valid bearer token, if any.
    reader: Reader,
    /// The client's address, when the server knows it (for sign-in throttling).
    pub client: Option<std::net::IpAddr>,
    /// Issues tokens (for `register` and `login`).
    pub tokens: Arc<Tokens>,
    /// Where writes announce themselves to subscribers.
    pub events: Events,
    /// The request's statement-counting database handle.
    pub db: CountingDb,
    /// The request's batch loaders, sending through `db`.
    pub loaders: Loaders,
    /// What runs the loaders' batches: wrap the request's execution in its `run`.
    pub scheduler: BatchScheduler,
    /// Values worked out once per field of the request's document (`None` on a
    /// WebSocket connection, whose state outlives each document).
    per_field: Option<Arc<PerField>>,
}

/// Values worked out once per field of one document (see [`per_field`]), by the
/// field's position in it and what was worked out, and by who reads when the value
/// depends on it. Kept for one request, or, for a document whose every such value
/// follows from its text and who reads (a query without variables), with the
/// parsed document for all its requests (see [`Pass`](crate::engine::gate::Pass)).
#[derive(Default)]
pub struct PerField(Mutex<HashMap<Site, Arc<dyn Any + Send + Sync>>>);

/// Where a value worked out for a field is kept.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Site {
    /// The field's position in the document: no two fields share one.
    field: Pos,
    /// What was worked out.
    kind: TypeId,
    /// Who reads, for a value that depends on it.
    reader: Option<Reader>,
}

impl Site {
    /// Where a value of kind `K` for the field at `field` is kept, for `reader`
    /// alone or (`None`) for any reader.
    fn of<K: Any>(field: Pos, reader: Option<Reader>) -> Self {
        Self {
            field,
            kind: TypeId::of::<K>(),
            reader,
        }
    }
}

/// The most values one [`PerField`] keeps; when full, it starts over (a document
/// kept across requests keeps the values of each reader who sent it).
const MOST_KEPT_PER_DOCUMENT: usize = 1024;

/// A value worked out once per field of a document.
pub trait PerFieldValue: Any + Send + Sync {
    /// Whether it depends on who reads (a filter compiled with the read rules),
    /// so that it is kept for that reader alone.
    fn depends_on_reader(&self) -> bool;
}

impl RequestState {
    /// Fresh state for one request over `db` (made for it, see
    /// [`CountingDb::for_request`]), signed in as `viewer`: for the execution of one
    /// document only, whose values per field are kept in `per_field` (the
    /// document's own, when it has them; else the request's).
    pub fn new(
        db: CountingDb,
        tokens: Arc<Tokens>,
        events: Events,
        viewer: Option<i32>,
        per_field: Option<Arc<PerField>>,
    ) -> Self {
        let scheduler = BatchScheduler::default();
        let loaders = |db, reader| loaders::for_request(db, reader, &scheduler);
        let mut state = Self::build(db, tokens, events, viewer, loaders, scheduler.clone());
        state.per_field = Some(per_field.unwrap_or_default());
        state
    }

    /// State for one WebSocket connection: no single future drives a connection's
    /// resolvers, so its loaders batch on their own timer instead of a scheduler.
    pub fn for_connection(
        db: CountingDb,
        tokens: Arc<Tokens>,
        events: Events,
        viewer: Option<i32>,
    ) -> Self {
        Self::build(
            db,
            tokens,
            events,
            viewer,
            loaders::spawning,
            BatchScheduler::default(),
        )
    }

    fn build(
        db: CountingDb,
        tokens: Arc<Tokens>,
        events: Events,
        viewer: Option<i32>,
        loaders: impl FnOnce(CountingDb, Reader) -> Loaders,
        scheduler: BatchScheduler,
    ) -> Self {
        let reader = Reader::of(viewer);
        Self {
            reader,
            client: None,
            tokens,
            events,
            loaders: loaders(db.clone(), reader),
            db,
            scheduler,
            per_field: None,
        }
    }
}

fn state<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a RequestState> {
    ctx.data::<RequestState>()
        .map_err(|_| ApiError::internal(anyhow::anyhow!("the request carries no RequestState")))
}

/// What `make` works out for the field `ctx` resolves, made once per field of the
/// document and `K` and shared by every resolution of that field in the request (the
/// same field under each parent of a list has the same arguments and selection),
/// and by later requests of the same document (see [`PerField`]).
/// `K` names what is made: one field can need several things of one type (`nodes`
/// plans the joins of each type of row it looks up).
pub fn per_field<K: Any, T: PerFieldValue>(
    ctx: &Context<'_>,
    make: impl FnOnce() -> ApiResult<T>,
) -> ApiResult<Arc<T>> {
    let state = state(ctx)?;
    let Some(cache) = state.per_field.as_ref() else {
        return make().map(Arc::new);
    };
    let field = ctx.item.pos;
    if let Some(made) = cache.made::<K, T>(field, state.reader) {
        return Ok(made);
    }
    let made = Arc::new(make()?);
    let depends_on_reader = made.depends_on_reader();
    cache.keep::<K>(field, state.reader, depends_on_reader, made.clone());
    Ok(made)
}

/// [`per_field`] for a value that is the only one of its type made for a field:
/// kept under its own type, where [`made_per_field`] finds it.
pub fn per_field_of_type<T: PerFieldValue>(
    ctx: &Context<'_>,
    make: impl FnOnce() -> ApiResult<T>,
) -> ApiResult<Arc<T>> {
    per_field::<T, T>(ctx, make)
}

/// What [`per_field_of_type`] made already for the field `ctx` resolves, if it has.
pub fn made_per_field<T: PerFieldValue>(ctx: &Context<'_>) -> Option<Arc<T>> {
    let state = state(ctx).ok()?;
    (state.per_field.as_ref()?).made::<T, T>(ctx.item.pos, state.reader)
}

impl PerField {
    /// What was made for the field at `field` and `K`, for any reader or for
    /// `reader`.
    fn made<K: Any, T: Any + Send + Sync>(&self, field: Pos, reader: Reader) -> Option<Arc<T>> {
        let kept = self.lock();
        let found = (kept.get(&Site::of::<K>(field, None)))
            .or_else(|| kept.get(&Site::of::<K>(field, Some(reader))))
            .cloned();
        drop(kept);
        found?.downcast::<T>().ok()
    }

    /// Keeps `made` for the field at `field` and `K`: for `reader` alone when it
    /// depends on who reads, else for any reader.
    fn keep<K: Any>(
        &self,
        field: Pos,
        reader: Reader,
        depends_on_reader: bool,
        made: Arc<dyn Any + Send + Sync>,
    ) {
        let site = Site::of::<K>(field, depends_on_reader.then_some(reader));
        let mut kept = self.lock();
        if kept.len() >= MOST_KEPT_PER_DOCUMENT {
            kept.clear();
        }
        kept.insert(site, made);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Site, Arc<dyn Any + Send + Sync>>> {
        // The map holds no invariant a panicking holder could break.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The request's database handle.
pub fn request_db(ctx: &Context<'_>) -> ApiResult<CountingDb> {
    Ok(state(ctx)?.db.clone())
}

/// The request's batch loaders.
pub fn loaders<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Loaders> {
    Ok(&state(ctx)?.loaders)
}

/// The row that `R` relates to `value`, if any, batched with its siblings (joining
/// the to-one rows that the field's own selection asks for, and folding in a page
/// of to-many rows).
pub async fn find<R: crate::engine::loaders::ToOne>(
    ctx: &Context<'_>,
    value: i32,
) -> ApiResult<Option<R::Target>> {
    find_joined::<R>(ctx, value, None).await
}

/// [`find`], answered from `joined` when the statement that read the parent row
/// joined the row with what the field's selection reads.
async fn find_joined<R: crate::engine::loaders::ToOne>(
    ctx: &Context<'_>,
    value: i32,
    joined: Option<&crate::engine::loaders::Joined>,
) -> ApiResult<Option<R::Target>> {
    if let Some(found) = joined.and_then(|joined| joined_row::<R>(ctx, joined)) {
        return Ok(found.cloned());
    }
    // What the statement that loads the row joins and folds in, worked out once
    // per field of the document.
    let joins = per_field::<R, _>(ctx, || {
        Ok(crate::engine::loaders::Joins::of::<R::Target>(
            ctx,
            &[ctx.look_ahead()],
            true,
        ))
    })?;
    Ok(loaders(ctx)?
        .load_one(crate::engine::loaders::One::<R>::new(
            value,
            (*joins).clone(),
        ))
        .await?)
}

/// The row that `R` relates a row to, when the statement that read that row
/// joined it with every column the to-one field `ctx` resolves reads (see
/// [`Joined`](crate::engine::loaders::Joined)): `Some(None)` when it read that
/// there is none; `None` when the field must find it.
pub fn joined_row<'a, R: crate::engine::loaders::ToOne>(
    ctx: &Context<'_>,
    joined: &'a crate::engine::loaders::Joined,
) -> Option<Option<&'a R::Target>> {
    let unneeded = per_field::<(R, Unneeded), _>(ctx, || {
        let selection = ctx.look_ahead();
        Ok(Unneeded(R::Target::omitted(&|field| {
            selection.field(field).exists()
        })))
    });
    joined.get::<R>(unneeded.ok()?.0)
}

/// The bits of the columns that a to-one field's selection does not read.
struct Unneeded(u32);

impl PerFieldValue for Option<Arc<crate::engine::loaders::Joins>> {
    fn depends_on_reader(&self) -> bool {
        self.as_ref().is_some_and(|joins| joins.depends_on_reader())
    }
}

impl PerFieldValue for Unneeded {
    fn depends_on_reader(&self) -> bool {
        false
    }
}

/// The row that `R` relates to `value`, which a foreign key guarantees.
pub async fn find_required<R: crate::engine::loaders::ToOne>(
    ctx: &Context<'_>,
    value: i32,
) -> ApiResult<R::Target> {
    find::<R>(ctx, value).await?.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "no {} with key {value}, though a foreign key points at it",
            <R::Target as crate::engine::listing::Table>::NAME
        ))
    })
}

/// The row of `T` with the global id `id`, or `None` when there is none;
/// `BAD_USER_INPUT` for an id of another type.
pub async fn find_by_global_id<T: Table>(
    ctx: &Context<'_>,
    id: &async_graphql::ID,
) -> ApiResult<Option<crate::engine::lean::Lean<T>>> {
    let key = crate::engine::ids::decode_as(id, T::NAME)?;
    Ok(find::<crate::engine::loaders::ById<T>>(ctx, key)
        .await?
        .map(crate::engine::lean::Lean))
}

/// The row the to-one relation `R` relates `parent` to; `None` when its key is
/// null or there is no such row.
pub async fn follow<R: crate::engine::loaders::Follows>(
    ctx: &Context<'_>,
    parent: &R::Parent,
) -> ApiResult<Option<R::Target>> {
    use crate::engine::listing::Table as _;
    match crate::engine::declare::key_of::<R>(parent.model())? {
        Some(key) => find_joined::<R>(ctx, key, Some(parent.joined())).await,
        None => Ok(None),
    }
}

/// The issuer of bearer tokens.
pub fn tokens<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Tokens> {
    Ok(&state(ctx)?.tokens)
}

/// The signed-in user's id, if the request carries a valid token.
pub fn viewer_id(ctx: &Context<'_>) -> ApiResult<Option<i32>> {
    Ok(state(ctx)?.reader.id())
}

/// Who reads: the read rules of every statement are theirs.
pub fn reader(ctx: &Context<'_>) -> ApiResult<Reader> {
    Ok(state(ctx)?.reader)
}

/// The row of `T` with the key `id` that `reader` may see, read now over `db`
/// (for what no request's loaders serve: a subscription's events).
pub async fn find_visible<T: Table>(
    db: &CountingDb,
    reader: Reader,
    id: i32,
) -> Result<Option<T>, sea_orm::DbErr> {
    let primed = crate::engine::loaders::Primed::default();
    let mut found =
        crate::engine::loaders::sql::rows_by::<ById<T>>(db, reader, &[id], None, &primed).await?;
    Ok(found.remove(&id))
}

/// Where writes announce themselves to subscribers.
pub fn events<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Events> {
    Ok(&state(ctx)?.events)
}

/// The row of `T` with this global id; `BAD_USER_INPUT` for an id of another type,
/// `NOT_FOUND` when there is no such row, or the reader may not see it (which must
/// not tell that it exists). For writes, which need the row itself.
pub async fn find_row<T: crate::engine::listing::Table>(
    ctx: &Context<'_>,
    id: &async_graphql::ID,
) -> ApiResult<crate::engine::listing::ModelOf<T>> {
    use sea_orm::sea_query::{Alias, IntoIden};
    use sea_orm::{ColumnTrait, EntityName, QueryFilter};
    let key = crate::engine::ids::decode_as(id, T::NAME)?;
    let mut query = <T::Entity as EntityTrait>::find().filter(T::id_column().eq(key));
    // SeaORM names the table by itself, so the rule is on that name.
    let table = Alias::new(T::Entity::default().table_name()).into_iden();
    if let Some(rule) = crate::engine::rules::visible::<T>(reader(ctx)?, &table, None) {
        query = query.filter(rule);
    }
    query
        .one(&request_db(ctx)?)
        .await?
        .ok_or_else(|| ApiError::not_found(T::NAME, id))
}

/// The client's address, when known.
pub fn client(ctx: &Context<'_>) -> ApiResult<Option<std::net::IpAddr>> {
    Ok(state(ctx)?.client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize) -> Pos {
        Pos { line, column: 3 }
    }

    #[test]
    fn a_value_that_depends_on_who_reads_is_found_by_that_reader_alone() {
        let kept = PerField::default();
        let (alice, bob) = (Reader::User(1), Reader::User(2));
        kept.keep::<u8>(at(1), alice, true, Arc::new(10_u32));
        assert_eq!(kept.made::<u8, u32>(at(1), alice).as_deref(), Some(&10));
        assert_eq!(kept.made::<u8, u32>(at(1), bob), None);
        assert_eq!(kept.made::<u8, u32>(at(1), Reader::Anonymous), None);
        kept.keep::<u8>(at(1), bob, true, Arc::new(20_u32));
        assert_eq!(kept.made::<u8, u32>(at(1), alice).as_deref(), Some(&10));
        assert_eq!(kept.made::<u8, u32>(at(1), bob).as_deref(), Some(&20));

        kept.keep::<u16>(at(1), alice, false, Arc::new(30_u32));
        for reader in [alice, bob, Reader::Anonymous] {
            assert_eq!(kept.made::<u16, u32>(at(1), reader).as_deref(), Some(&30));
        }
        assert_eq!(kept.made::<u16, u32>(at(2), alice), None, "another field");
        assert_eq!(kept.made::<u32, u32>(at(1), alice), None, "another kind");
        assert_eq!(kept.made::<u16, u64>(at(1), alice), None, "another type");
    }

    #[test]
    fn a_documents_values_start_over_when_full() {
        let kept = PerField::default();
        for line in 0..MOST_KEPT_PER_DOCUMENT {
            kept.keep::<u8>(at(line), Reader::Anonymous, false, Arc::new(line));
        }
        assert_eq!(kept.lock().len(), MOST_KEPT_PER_DOCUMENT);
        assert!(kept.made::<u8, usize>(at(0), Reader::Anonymous).is_some());
        kept.keep::<u8>(
            at(MOST_KEPT_PER_DOCUMENT),
            Reader::Anonymous,
            false,
            Arc::new(0_usize),
        );
        assert_eq!(kept.lock().len(), 1, "started over");
        assert!(kept.made::<u8, usize>(at(0), Reader::Anonymous).is_none());
    }
}
