//! Every operation's way in: its text checked, its document parsed (or taken from
//! the cache of parsed documents), then measured against the limits — all before
//! validation, and before any SQL. The HTTP and WebSocket layers pass every
//! request through the [`Gate`].
//!
//! Clients send the same few queries over and over, and parsing one costs more than
//! copying its parsed form, so parsed documents are kept by query text. Only the
//! parse is kept: limits, validation and execution run on every request, and
//! nothing of an answer is kept (every answer reads the database).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::parser::parse_query;
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, ServerError};

use crate::graphql::limits::{self, Exceeded, Measure, QueryLimits, Shape};
use crate::graphql::pagination::PageLimits;
use crate::graphql::{AppSchema, SchemaOptions};

/// How many documents are kept; when full, the cache starts over.
const CAPACITY: usize = 256;

/// The cost that takes one slot of the concurrency budget: the workload's point
/// lookups and feeds take one, its 1,500-row user list (cost ~6,800) four.
pub const COST_PER_SLOT: u64 = 2_000;

/// Longer queries are parsed every time, so that the cache stays small.
const LONGEST_KEPT: usize = 16 * 1024;

/// A bounded cache of parsed documents, shared by every request.
#[derive(Clone, Default)]
pub struct Documents {
    parsed: Arc<Mutex<HashMap<String, Arc<ExecutableDocument>>>>,
}

impl Documents {
    fn get(&self, query: &str) -> Option<ExecutableDocument> {
        let document = self.lock().get(query).cloned()?;
        Some(ExecutableDocument::clone(&document))
    }

    fn keep(&self, query: &str, document: &ExecutableDocument) {
        if query.len() > LONGEST_KEPT {
            return;
        }
        let mut parsed = self.lock();
        if parsed.len() >= CAPACITY {
            parsed.clear();
        }
        parsed.insert(query.to_owned(), Arc::new(document.clone()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<ExecutableDocument>>> {
        // The map holds no invariant a panicking holder could break.
        self.parsed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What every operation passes before it runs: checks of its text, its parse
/// (cached), and its measure against the limits, all before validation and SQL.
///
/// Not a schema extension: with any extension installed, async-graphql takes a
/// slower path for every field it resolves.
pub struct Gate {
    permits: Arc<tokio::sync::Semaphore>,
    shape: Shape,
    documents: Documents,
    limits: QueryLimits,
    pages: PageLimits,
}

impl Gate {
    /// A gate for `schema`, built with `options`.
    pub fn new(schema: &AppSchema, options: &SchemaOptions) -> Self {
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(
                options.query_limits.max_concurrent,
            )),
            shape: Shape::of(&schema.sdl()),
            documents: Documents::default(),
            limits: options.query_limits,
            pages: options.limits,
        }
    }

    /// Waits for a turn to execute an operation of `measure`; the turn ends when
    /// the permit drops. Heavier operations take more of the concurrency budget (one
    /// slot per [`COST_PER_SLOT`] of cost, at least one and at most all), so the
    /// memory of answers in the making follows their cost, not their number.
    pub async fn turn(&self, measure: Measure) -> tokio::sync::OwnedSemaphorePermit {
        let slots = self.slots(measure);
        self.permits
            .clone()
            .acquire_many_owned(slots)
            .await
            .expect("the gate's semaphore is never closed")
    }

    fn slots(&self, measure: Measure) -> u32 {
        let all = u32::try_from(self.limits.max_concurrent).unwrap_or(u32::MAX);
        let slots = measure.cost.div_ceil(COST_PER_SLOT).max(1);
        u32::try_from(slots).unwrap_or(u32::MAX).min(all)
    }

    /// Checks `request`'s operation against the limits and gives it its parsed
    /// document. A query that does not parse passes: execution reports why.
    pub fn prepare(&self, request: &mut Request) -> Result<Measure, ServerError> {
        let document = match self.documents.get(&request.query) {
            Some(document) => document,
            None => {
                limits::check_text(&request.query, &self.limits)
                    .map_err(Exceeded::into_server_error)?;
                let Ok(document) = parse_query(&request.query) else {
                    return Ok(Measure::default());
                };
                self.documents.keep(&request.query, &document);
                document
            }
        };
        let measure = limits::check(
            &self.shape,
            &document,
            request.operation_name.as_deref(),
            &request.variables,
            &self.limits,
            &self.pages,
        )?;
        request.set_parsed_query(document);
        Ok(measure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavier_operations_take_more_of_the_concurrency_budget() {
        let options = SchemaOptions::default();
        let gate = Gate::new(&crate::graphql::schema(options), &options);
        let cost = |cost| Measure {
            cost,
            ..Measure::default()
        };
        assert_eq!(gate.slots(cost(0)), 1);
        assert_eq!(gate.slots(cost(15)), 1);
        assert_eq!(gate.slots(cost(COST_PER_SLOT)), 1);
        assert_eq!(gate.slots(cost(6_751)), 4);
        let all = options.query_limits.max_concurrent as u32;
        assert_eq!(gate.slots(cost(u64::MAX)), all, "never more than all");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let documents = Documents::default();
        let document = async_graphql::parser::parse_query("{ viewer { id } }").unwrap();
        for n in 0..CAPACITY + 10 {
            documents.keep(&format!("{{ a{n}: viewer {{ id }} }}"), &document);
        }
        assert!(documents.lock().len() <= CAPACITY);
        documents.keep(&"#".repeat(LONGEST_KEPT + 1), &document);
        assert!(documents.get(&"#".repeat(LONGEST_KEPT + 1)).is_none());
        documents.keep("{ viewer { id } }", &document);
        assert!(documents.get("{ viewer { id } }").is_some());
    }
}
