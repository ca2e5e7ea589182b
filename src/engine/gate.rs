//! Every operation's way in: its text checked, its document parsed (or taken from
//! the cache of parsed documents), then measured against the limits — all before
//! validation, and before any SQL. The HTTP and WebSocket layers pass every
//! request through the [`Gate`].
//!
//! Clients send the same few queries over and over, and parsing one costs more than
//! copying its parsed form, so parsed documents are kept by query text. So is the
//! fact that one was valid: a query without variables that the served schema
//! validated, and answered without an error, validates the same way every time
//! (the schema does not change while the server runs), so later requests of it run
//! on a twin of the schema that skips validation's rules (see bench/README.md
//! for what that saves). Such a query's measure against the limits depends on
//! its document alone too, and is kept once it has passed (a document over the
//! limits is measured, and refused, every time), and so is what its resolvers work
//! out per field (arguments, joins; per reader where that depends on who reads,
//! see [`PerField`]). Execution runs on every request, and nothing of an answer is
//! kept (every answer reads the database).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::parser::parse_query;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{CacheControl, Executor, Request, Response, ServerError, ValidationResult};

use crate::engine::lean::repeats_a_key;
use crate::engine::limits::{self, Exceeded, Measure, QueryLimits, Shape};
use crate::engine::pagination::PageLimits;
use crate::engine::request::PerField;
use crate::error::ApiError;

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
    parsed: Arc<Mutex<HashMap<String, Arc<Kept>>>>,
}

/// A parsed document, and whether the served schema has validated it.
struct Kept {
    document: ExecutableDocument,
    /// Its one operation is a query without variables: its validation depends on
    /// nothing but the document.
    settled: bool,
    /// The served schema validated it (and answered it without an error).
    validated: AtomicBool,
    /// No selection repeats a response key: its lean objects may answer written
    /// (see [`Written`](crate::engine::lean::Written)).
    writable: bool,
    /// Its measure, once it has passed the limits, when that depends on nothing
    /// but the document (settled, and no operation named in the request).
    measure: OnceLock<Measure>,
    /// What its fields' resolvers work out from the document (and who reads),
    /// for every request of it, when settled.
    per_field: Arc<PerField>,
}

impl Kept {
    fn new(document: ExecutableDocument) -> Self {
        let operation = match &document.operations {
            DocumentOperations::Single(operation) => Some(operation),
            DocumentOperations::Multiple(named) if named.len() == 1 => named.values().next(),
            DocumentOperations::Multiple(_) => None,
        };
        let settled = operation.is_some_and(|operation| {
            operation.node.ty == OperationType::Query
                && operation.node.variable_definitions.is_empty()
        });
        Self {
            writable: !repeats_a_key(&document),
            document,
            settled,
            validated: AtomicBool::new(false),
            measure: OnceLock::new(),
            per_field: Arc::default(),
        }
    }
}

impl Documents {
    fn get(&self, query: &str) -> Option<Arc<Kept>> {
        self.lock().get(query).cloned()
    }

    /// Keeps `document`, parsed from `query`; a document too long to keep comes back.
    fn keep(
        &self,
        query: &str,
        document: ExecutableDocument,
    ) -> Result<Arc<Kept>, Box<ExecutableDocument>> {
        if query.len() > LONGEST_KEPT {
            return Err(Box::new(document));
        }
        let kept = Arc::new(Kept::new(document));
        let mut parsed = self.lock();
        if parsed.len() >= CAPACITY {
            parsed.clear();
        }
        parsed.insert(query.to_owned(), kept.clone());
        Ok(kept)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Kept>>> {
        // The map holds no invariant a panicking holder could break.
        self.parsed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An operation the gate let through: its measure, and its kept document.
pub struct Pass {
    /// What the operation asks for, against the limits.
    pub measure: Measure,
    kept: Option<Arc<Kept>>,
}

impl Pass {
    /// Whether the operation's lean objects may answer written as JSON (see
    /// [`Written`](crate::engine::lean::Written)): a document that is not kept is not checked, so it may not.
    pub fn writable(&self) -> bool {
        self.kept.as_ref().is_some_and(|kept| kept.writable)
    }

    /// Where the operation's resolvers keep what they work out per field, when
    /// that follows from the document's text and who reads alone (a query without
    /// variables): the same for every request of the document.
    pub fn per_field(&self) -> Option<Arc<PerField>> {
        let kept = self.kept.as_ref().filter(|kept| kept.settled)?;
        Some(kept.per_field.clone())
    }
}

/// What every operation passes before it runs: checks of its text, its parse
/// (cached), and its measure against the limits, all before validation and SQL.
///
/// Not a schema extension: with any extension installed, async-graphql takes a
/// slower path for every field it resolves.
pub struct Gate<E> {
    /// The served schema's twin that skips validation's rules, for documents the
    /// served schema has validated.
    trusted: E,
    permits: Arc<tokio::sync::Semaphore>,
    shape: Shape,
    documents: Documents,
    limits: QueryLimits,
    pages: PageLimits,
    /// When set, the only documents that may run (the trusted documents).
    only: Option<HashSet<String>>,
}

impl<E: Executor> Gate<E> {
    /// A gate for the schema whose SDL is `sdl`, with its `trusted` twin (the same
    /// schema without validation's rules), measuring against `limits` and `pages`.
    pub fn new(sdl: &str, trusted: E, limits: QueryLimits, pages: PageLimits) -> Self {
        Self {
            trusted,
            permits: Arc::new(tokio::sync::Semaphore::new(limits.max_concurrent)),
            shape: Shape::of(sdl),
            documents: Documents::default(),
            limits,
            pages,
            only: None,
        }
    }

    /// This gate, letting through only operations whose text is one of `documents`
    /// and refusing every other with `FORBIDDEN`.
    #[must_use]
    pub fn only(mut self, documents: impl IntoIterator<Item = String>) -> Self {
        self.only = Some(documents.into_iter().collect());
        self
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
    pub fn prepare(&self, request: &mut Request) -> Result<Pass, ServerError> {
        if let Some(only) = &self.only
            && !only.contains(request.query.as_str())
        {
            return Err(ApiError::Forbidden(
                "this service runs only its trusted documents: send one's id \
                 (`documentId`, or `extensions.persistedQuery`), or its exact text"
                    .into(),
            )
            .into_server_error(None));
        }
        let kept = match self.documents.get(&request.query) {
            Some(kept) => kept,
            None => {
                limits::check_text(&request.query, &self.limits)
                    .map_err(Exceeded::into_server_error)?;
                let Ok(document) = parse_query(&request.query) else {
                    return Ok(Pass {
                        measure: Measure::default(),
                        kept: None,
                    });
                };
                match self.documents.keep(&request.query, document) {
                    Ok(kept) => kept,
                    Err(document) => {
                        let measure = self.measure(request, &document)?;
                        request.set_parsed_query(*document);
                        return Ok(Pass {
                            measure,
                            kept: None,
                        });
                    }
                }
            }
        };
        let measure = if kept.settled && request.operation_name.is_none() {
            match kept.measure.get() {
                Some(measure) => *measure,
                None => {
                    let measure = self.measure(request, &kept.document)?;
                    *kept.measure.get_or_init(|| measure)
                }
            }
        } else {
            self.measure(request, &kept.document)?
        };
        request.set_parsed_query(kept.document.clone());
        Ok(Pass {
            measure,
            kept: Some(kept),
        })
    }

    /// Refuses a batch whose operations, which passed one by one as `measures`, ask
    /// together for more than one operation may.
    pub fn check_batch(&self, measures: &[Measure]) -> Result<Measure, ServerError> {
        limits::check_batch(measures, &self.limits)
    }

    fn measure(
        &self,
        request: &Request,
        document: &ExecutableDocument,
    ) -> Result<Measure, ServerError> {
        limits::check(
            &self.shape,
            document,
            request.operation_name.as_deref(),
            &request.variables,
            &self.limits,
            &self.pages,
        )
    }

    /// Executes `request`, which passed as `pass`, on `served`, or on its trusted
    /// twin when `served` has validated the document already.
    ///
    /// An execution's future is boxed where it is made: it is several kilobytes,
    /// and every future that holds it (the deadline, the span, the HTTP handler)
    /// would otherwise be as large, and be copied whole as each is made.
    pub async fn execute(&self, served: &E, pass: &Pass, request: Request) -> Response {
        let Some(kept) = pass.kept.as_ref().filter(|kept| kept.settled) else {
            return Box::pin(served.execute(request)).await;
        };
        if kept.validated.load(Ordering::Acquire) {
            return Box::pin(self.trusted.execute(request)).await;
        }
        let response = Box::pin(served.execute(request)).await;
        if response.errors.is_empty() {
            kept.validated.store(true, Ordering::Release);
        }
        response
    }
}

/// Installed on the trusted twin: its documents were validated by the served
/// schema, so the twin's own pass over each (the fragment cycles it would find
/// again, and the complexity, depth and cache hints that nothing here reads) is
/// left out. The one extension on the twin: the fields it resolves go past
/// extensions' hooks (see [`crate::engine::lean`]), all but its root fields.
pub struct ValidatedBefore;

impl ExtensionFactory for ValidatedBefore {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ValidatedBefore)
    }
}

#[async_trait::async_trait]
impl Extension for ValidatedBefore {
    async fn validation(
        &self,
        _ctx: &ExtensionContext<'_>,
        _next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        Ok(ValidationResult {
            cache_control: CacheControl::default(),
            complexity: 0,
            depth: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, ID, Object, Schema};

    use super::*;

    /// Items that list items: enough of a schema to measure.
    struct Item;

    #[Object]
    impl Item {
        async fn id(&self) -> ID {
            ID::from("1")
        }

        async fn items(&self, first: Option<i32>) -> ItemConnection {
            let _ = first;
            ItemConnection
        }
    }

    struct ItemConnection;

    #[Object]
    impl ItemConnection {
        async fn nodes(&self) -> Vec<Item> {
            Vec::new()
        }

        async fn total_count(&self) -> i32 {
            0
        }
    }

    struct Query;

    #[Object]
    impl Query {
        async fn viewer(&self) -> Option<Item> {
            None
        }

        async fn items(&self, first: Option<i32>) -> ItemConnection {
            let _ = first;
            ItemConnection
        }
    }

    type TestSchema = Schema<Query, EmptyMutation, EmptySubscription>;

    fn gate() -> Gate<TestSchema> {
        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        Gate::new(
            &schema.sdl(),
            schema,
            QueryLimits::default(),
            PageLimits {
                max: 100,
                default: 20,
            },
        )
    }

    #[test]
    fn heavier_operations_take_more_of_the_concurrency_budget() {
        let gate = gate();
        let cost = |cost| Measure {
            cost,
            ..Measure::default()
        };
        assert_eq!(gate.slots(cost(0)), 1);
        assert_eq!(gate.slots(cost(15)), 1);
        assert_eq!(gate.slots(cost(COST_PER_SLOT)), 1);
        assert_eq!(gate.slots(cost(6_751)), 4);
        let all = QueryLimits::default().max_concurrent as u32;
        assert_eq!(gate.slots(cost(u64::MAX)), all, "never more than all");
    }

    #[test]
    fn only_queries_without_variables_are_settled_by_their_document() {
        let settled = |query: &str| Kept::new(parse_query(query).unwrap()).settled;
        assert!(settled("{ viewer { id } }"));
        assert!(settled("query Feed { posts(first: 2) { totalCount } }"));
        assert!(!settled(
            "query($n: Int) { posts(first: $n) { totalCount } }"
        ));
        assert!(!settled(
            "mutation { deletePost(input: { id: \"UG9zdDox\" }) }"
        ));
        assert!(!settled(
            "query A { viewer { id } } query B { viewer { name } }"
        ));
        assert!(!settled("subscription { postPublished { id } }"));
    }

    #[test]
    fn a_settled_documents_measure_is_kept_once_it_passes() {
        let gate = gate();
        let query = "{ items(first: 7) { nodes { id } } }";
        let first = gate.prepare(&mut Request::new(query)).unwrap().measure;
        let kept = gate.documents.get(query).expect("kept");
        assert_eq!(kept.measure.get(), Some(&first));
        assert_eq!(
            gate.prepare(&mut Request::new(query)).unwrap().measure,
            first
        );

        let named = "query A { items(first: 7) { totalCount } }";
        let other = gate.prepare(&mut Request::new(named).operation_name("B"));
        assert_eq!(
            other.unwrap().measure,
            Measure::default(),
            "no such operation"
        );
        let kept = gate.documents.get(named).expect("kept");
        assert_eq!(kept.measure.get(), None, "measured per request when named");
        let measure = gate.prepare(&mut Request::new(named)).unwrap().measure;
        assert_eq!(kept.measure.get(), Some(&measure));
        assert!(measure.cost > 0);

        let costly = "{ items(first: 100) { nodes { items(first: 100) { nodes {
            items(first: 100) { nodes { id } } } } } } }";
        for _ in 0..2 {
            assert!(
                gate.prepare(&mut Request::new(costly)).is_err(),
                "refused every time"
            );
        }
        assert_eq!(
            gate.documents.get(costly).expect("kept").measure.get(),
            None
        );
    }

    #[test]
    fn a_settled_documents_requests_share_what_is_worked_out_per_field() {
        let gate = gate();
        let per_field = |query: &str| {
            let pass = gate.prepare(&mut Request::new(query)).unwrap();
            pass.per_field()
        };
        let settled = "{ items(first: 7) { nodes { id } } }";
        let first = per_field(settled).expect("kept");
        let second = per_field(settled).expect("kept");
        assert!(Arc::ptr_eq(&first, &second));
        let other = per_field("{ items(first: 8) { nodes { id } } }").expect("kept");
        assert!(!Arc::ptr_eq(&first, &other), "each document its own");
        let variables = "query($n: Int) { items(first: $n) { totalCount } }";
        assert!(per_field(variables).is_none(), "worked out per request");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let documents = Documents::default();
        let document = async_graphql::parser::parse_query("{ viewer { id } }").unwrap();
        for n in 0..CAPACITY + 10 {
            let kept = documents.keep(&format!("{{ a{n}: viewer {{ id }} }}"), document.clone());
            assert!(kept.is_ok());
        }
        assert!(documents.lock().len() <= CAPACITY);
        let long = documents.keep(&"#".repeat(LONGEST_KEPT + 1), document.clone());
        assert!(long.is_err(), "handed back");
        assert!(documents.get(&"#".repeat(LONGEST_KEPT + 1)).is_none());
        assert!(documents.keep("{ viewer { id } }", document).is_ok());
        assert!(documents.get("{ viewer { id } }").is_some());
    }
}
