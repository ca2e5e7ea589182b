//! What each request carries into the resolvers: its database handle and loaders.

use async_graphql::Context;

use crate::db::CountingDb;
use crate::error::{ApiError, ApiResult};
use crate::loaders::{self, BatchScheduler, Loaders};

/// The per-request state the HTTP layer attaches to every GraphQL request.
pub struct RequestState {
    /// The request's statement-counting database handle.
    pub db: CountingDb,
    /// The request's batch loaders, sending through `db`.
    pub loaders: Loaders,
    /// What runs the loaders' batches: wrap the request's execution in its `run`.
    pub scheduler: BatchScheduler,
}

impl RequestState {
    /// Fresh state for one request over the pool `db`.
    pub fn new(db: sea_orm::DatabaseConnection) -> Self {
        let db = CountingDb::new(db);
        let scheduler = BatchScheduler::default();
        Self {
            loaders: loaders::for_request(db.clone(), &scheduler),
            db,
            scheduler,
        }
    }
}

fn state<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a RequestState> {
    ctx.data::<RequestState>()
        .map_err(|_| ApiError::internal(anyhow::anyhow!("the request carries no RequestState")))
}

/// The request's database handle.
pub fn request_db(ctx: &Context<'_>) -> ApiResult<CountingDb> {
    Ok(state(ctx)?.db.clone())
}

/// The request's batch loaders.
pub fn loaders<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Loaders> {
    Ok(&state(ctx)?.loaders)
}

/// The row that `R` relates to `value`, if any, batched with its siblings.
pub async fn find<R: crate::loaders::ToOne>(
    ctx: &Context<'_>,
    value: i32,
) -> ApiResult<Option<R::Target>> {
    Ok(loaders(ctx)?
        .load_one(crate::loaders::One::<R>::new(value))
        .await?)
}

/// The row that `R` relates to `value`, which a foreign key guarantees.
pub async fn find_required<R: crate::loaders::ToOne>(
    ctx: &Context<'_>,
    value: i32,
) -> ApiResult<R::Target> {
    find::<R>(ctx, value).await?.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "no {} with key {value}, though a foreign key points at it",
            <R::Target as crate::graphql::listing::Table>::NAME
        ))
    })
}
