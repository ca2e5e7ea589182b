//! The generic batch loaders: one per kind of relation, parameterised by entity.
//!
//! - [`One`]: a row by a unique column (primary key, or a one-to-one foreign key);
//! - [`Many`]: a page of related rows per parent, through a foreign key or an
//!   association table, cut per parent by a window function in one statement;
//! - [`Count`]: the number of related rows per parent, grouped in one statement.
//!
//! In a query, a statement also joins the to-one rows its selection asks for
//! ([`Joins`]), which go with the rows they were joined to ([`Joined`]), and a
//! lookup folds in a page of to-many rows ([`fold`]), which the request remembers
//! ([`Primed`]): those fields then cost no statement of their own.
//!
//! Loaders live for one request: nothing is cached across requests.

pub mod fold;
mod joins;
mod keys;
mod page;
mod scheduler;
pub mod sql;
mod statement_cache;

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use sea_orm::DbErr;

use crate::db::CountingDb;
use crate::engine::rules::Reader;

pub use fold::ToManyField;
pub use joins::{JoinBy, Joined, Joins, JoinsReader, Primed, PrimedPages, ToOneField};
pub use keys::{ById, Count, Follows, Many, One, Siblings, ToMany, ToOne};
pub use page::{EdgeData, Page};
pub use scheduler::BatchScheduler;
pub use sql::{count_all, list_page};

/// What a batch load fails with; shared by every key of the batch.
pub type LoadError = Arc<DbErr>;

/// The loader behind every relationship field of one request.
pub struct SqlLoader {
    db: CountingDb,
    /// Who reads: every statement applies the read rules for them.
    reader: Reader,
    /// The related rows the request's statements have read already.
    pub primed: Primed,
}

/// The per-request data loader.
pub type Loaders = DataLoader<SqlLoader>;

/// A fresh loader for one request, sending its statements through `db`; its
/// batches run when `scheduler` drives them, at once.
///
/// The zero delay is truly zero because async-graphql is built without its
/// `tokio-timer` feature: a tokio timer rounds its deadline up to the next
/// millisecond tick and fires when the runtime next turns its timer wheel, which
/// made every level of a request wait about a millisecond with the cores idle.
pub fn for_request(db: CountingDb, reader: Reader, scheduler: &BatchScheduler) -> Loaders {
    scheduled(SqlLoader::new(db, reader), scheduler)
}

/// A DataLoader over `loader` whose batches `scheduler` runs, with no delay.
fn scheduled<L: Send + Sync + 'static>(loader: L, scheduler: &BatchScheduler) -> DataLoader<L> {
    DataLoader::new(loader, scheduler.spawner())
        .delay(std::time::Duration::ZERO)
        .max_batch_size(MOST_KEYS_PER_BATCH)
}

/// The most keys in one batch, and so the most parents whose rows one statement
/// reads: a statement binds each of them.
const MOST_KEYS_PER_BATCH: usize = 1000;

/// A loader whose batches start after a short delay on their own task, for
/// resolvers that no [`BatchScheduler`] drives (subscription events).
pub fn spawning(db: CountingDb, reader: Reader) -> Loaders {
    DataLoader::new(SqlLoader::new(db, reader), |batch| {
        tokio::spawn(async move {
            tokio::time::sleep(SIBLINGS_DELAY).await;
            batch.await;
        });
    })
    .delay(std::time::Duration::ZERO)
    .max_batch_size(MOST_KEYS_PER_BATCH)
}

/// How long a spawned batch waits for its siblings' keys (the DataLoader's own
/// default; kept on tokio's timer rather than async-graphql's, see [`for_request`]).
const SIBLINGS_DELAY: std::time::Duration = std::time::Duration::from_millis(1);

impl SqlLoader {
    fn new(db: CountingDb, reader: Reader) -> Self {
        Self {
            db,
            reader,
            primed: Primed::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_graphql::dataloader::Loader;

    use super::*;

    /// Doubles its keys, and counts its batches.
    #[derive(Default)]
    struct Doubler(AtomicUsize);

    impl Loader<i32> for Doubler {
        type Value = i32;
        type Error = std::convert::Infallible;

        async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, i32>, Self::Error> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(keys.iter().map(|k| (*k, k * 2)).collect())
        }
    }

    /// On a runtime without timers, any tokio timer panics: the batch must start
    /// without one (and siblings still share it).
    #[test]
    fn scheduled_batches_wait_on_no_timer() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let scheduler = BatchScheduler::default();
        let loader = scheduled(Doubler::default(), &scheduler);
        let loaded = runtime.block_on(scheduler.run(async {
            let (a, b) = futures_util::join!(loader.load_one(1), loader.load_one(2));
            (a.unwrap(), b.unwrap())
        }));
        assert_eq!(loaded, (Some(2), Some(4)));
        assert_eq!(loader.loader().0.load(Ordering::SeqCst), 1, "one batch");
    }
}
