//! What the service counts for operators, written in Prometheus's text format on
//! `/metrics` (served on `METRICS_ADDR`, apart from the API).
//!
//! One set of counters for the process, as the log is one: every layer records
//! into [`METRICS`] with a few atomic additions (a lock only for the counters
//! labelled by operation), and the page is written when scraped.

use std::collections::HashMap as StdHashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Duration;

use foldhash::{HashMap, HashMapExt as _};

/// The process's counters.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::default);

/// Distinct operation names labelled one by one; later names count as `other`, so
/// that clients cannot grow the page without bound.
const MOST_NAMES: usize = 200;

/// Upper bounds of the buckets of request durations, in seconds.
const SECONDS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Upper bounds of the buckets of SQL statements per request.
const STATEMENTS: [f64; 10] = [0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0];
/// Upper bounds of the buckets of operation costs.
const COSTS: [f64; 9] = [
    1.0, 10.0, 100.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0, 25_000.0,
];

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Answered without errors.
    Ok,
    /// Answered with errors in some fields.
    Error,
    /// Refused before it ran (unparsable, invalid, over a limit, untrusted).
    Refused,
    /// Ran past its deadline.
    Timeout,
}

impl Outcome {
    /// Every outcome, in the order of their counts.
    const ALL: [Self; 4] = [Self::Ok, Self::Error, Self::Refused, Self::Timeout];

    /// Its name, as a label value.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Refused => "refused",
            Self::Timeout => "timeout",
        }
    }
}

/// A histogram with fixed buckets.
struct Histogram {
    bounds: &'static [f64],
    /// One count per bound, and one for `+Inf`; not cumulative (summed when written).
    counts: Vec<AtomicU64>,
    /// The sum of the observations, as the bits of an `f64`.
    sum: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0f64.to_bits()),
        }
    }

    fn observe(&self, value: f64) {
        let bucket = self.bounds.partition_point(|bound| *bound < value);
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        let _ = self
            .sum
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + value).to_bits())
            });
    }

    fn write(&self, page: &mut String, name: &str, help: &str) {
        let _ = writeln!(page, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, count) in self.counts.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            match self.bounds.get(i) {
                Some(bound) => {
                    let _ = writeln!(page, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
                }
                None => {
                    let _ = writeln!(page, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
                }
            }
        }
        let sum = f64::from_bits(self.sum.load(Ordering::Relaxed));
        let _ = writeln!(page, "{name}_sum {sum}\n{name}_count {cumulative}");
    }
}

/// The operation types counted, in the order of their counts.
const TYPES: [&str; 2] = ["query", "mutation"];

/// One operation name's counts, by type and outcome (`type * 4 + outcome`).
type Counts = [u64; TYPES.len() * Outcome::ALL.len()];

/// The process's counters.
pub struct Metrics {
    /// By operation name (looked up without allocating: one lock, one hash).
    operations: Mutex<HashMap<String, Counts>>,
    seconds: Histogram,
    statements: Histogram,
    costs: Histogram,
    refusals: Mutex<StdHashMap<&'static str, u64>>,
    subscriptions_open: AtomicI64,
    events_relayed: AtomicU64,
    waiting_for_connection: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            operations: Mutex::new(HashMap::new()),
            seconds: Histogram::new(&SECONDS),
            statements: Histogram::new(&STATEMENTS),
            costs: Histogram::new(&COSTS),
            refusals: Mutex::default(),
            subscriptions_open: AtomicI64::new(0),
            events_relayed: AtomicU64::new(0),
            waiting_for_connection: AtomicI64::new(0),
        }
    }
}

/// The connections of a pool, as the page reports them.
#[derive(Clone, Copy, Debug, Default)]
pub struct PoolConnections {
    /// Open and lent to a request.
    pub in_use: u64,
    /// Open and free.
    pub idle: u64,
}

impl Metrics {
    /// Counts one operation that ran (or was refused) over `took`, with its SQL
    /// `statements` and `cost`.
    pub fn operation(
        &self,
        mutation: bool,
        name: Option<&str>,
        outcome: Outcome,
        took: Duration,
        statements: u64,
        cost: u64,
    ) {
        let slot = usize::from(mutation) * Outcome::ALL.len() + outcome as usize;
        let name = name.unwrap_or("anonymous");
        {
            let mut operations = lock(&self.operations);
            if let Some(counts) = operations.get_mut(name) {
                counts[slot] += 1;
            } else {
                let name = if operations.len() < MOST_NAMES && is_label_safe(name) {
                    name
                } else {
                    "other"
                };
                operations.entry(name.to_owned()).or_default()[slot] += 1;
            }
        }
        self.seconds.observe(took.as_secs_f64());
        self.statements.observe(statements as f64);
        self.costs.observe(cost as f64);
    }

    /// Counts a request refused by `limit` (`cost`, `depth`, `bodyBytes`…).
    pub fn refused(&self, limit: &'static str) {
        *lock(&self.refusals).entry(limit).or_default() += 1;
    }

    /// A subscription opened; it counts as open until the guard drops.
    pub fn subscription_opened(&'static self) -> OpenSubscription {
        self.subscriptions_open.fetch_add(1, Ordering::Relaxed);
        OpenSubscription(self)
    }

    /// Counts an event handed to this instance's subscribers.
    pub fn event_relayed(&self) {
        self.events_relayed.fetch_add(1, Ordering::Relaxed);
    }

    /// A wait for a pooled connection began; it ends when the guard drops.
    pub fn waiting_for_connection(&'static self) -> WaitingForConnection {
        self.waiting_for_connection.fetch_add(1, Ordering::Relaxed);
        WaitingForConnection(self)
    }

    /// The page, in Prometheus's text format (version 0.0.4), with the pool's
    /// `connections` as they are now.
    pub fn render(&self, connections: PoolConnections) -> String {
        let mut page = String::with_capacity(4096);
        page.push_str(
            "# HELP relgql_graphql_requests_total GraphQL operations, by type, name and outcome.\n\
             # TYPE relgql_graphql_requests_total counter\n",
        );
        let mut operations: Vec<(String, Counts)> = lock(&self.operations)
            .iter()
            .map(|(name, counts)| (name.clone(), *counts))
            .collect();
        operations.sort_unstable();
        for (kind_index, kind) in TYPES.iter().enumerate() {
            for (name, counts) in &operations {
                for outcome in Outcome::ALL {
                    let count = counts[kind_index * Outcome::ALL.len() + outcome as usize];
                    if count > 0 {
                        let _ = writeln!(
                            page,
                            "relgql_graphql_requests_total{{type=\"{kind}\",operation=\"{name}\",outcome=\"{}\"}} {count}",
                            outcome.label()
                        );
                    }
                }
            }
        }
        self.seconds.write(
            &mut page,
            "relgql_graphql_request_duration_seconds",
            "Time from a GraphQL operation's start to its answer.",
        );
        self.statements.write(
            &mut page,
            "relgql_graphql_sql_statements",
            "SQL statements one GraphQL operation sent.",
        );
        self.costs.write(
            &mut page,
            "relgql_graphql_cost",
            "Cost of a GraphQL operation, as the cost limit counts it.",
        );
        page.push_str(
            "# HELP relgql_graphql_refusals_total Requests refused before they ran, by the limit they were over.\n\
             # TYPE relgql_graphql_refusals_total counter\n",
        );
        let mut refusals: Vec<_> = lock(&self.refusals)
            .iter()
            .map(|(limit, count)| (*limit, *count))
            .collect();
        refusals.sort_unstable();
        for (limit, count) in refusals {
            let _ = writeln!(
                page,
                "relgql_graphql_refusals_total{{limit=\"{limit}\"}} {count}"
            );
        }
        let _ = write!(
            page,
            "# HELP relgql_db_pool_connections Connections of the database pool.\n\
             # TYPE relgql_db_pool_connections gauge\n\
             relgql_db_pool_connections{{state=\"in_use\"}} {}\n\
             relgql_db_pool_connections{{state=\"idle\"}} {}\n\
             # HELP relgql_db_pool_waiting Statements waiting for a pooled connection.\n\
             # TYPE relgql_db_pool_waiting gauge\n\
             relgql_db_pool_waiting {}\n\
             # HELP relgql_subscriptions_open Subscriptions open now.\n\
             # TYPE relgql_subscriptions_open gauge\n\
             relgql_subscriptions_open {}\n\
             # HELP relgql_events_relayed_total Events handed to this instance's subscribers.\n\
             # TYPE relgql_events_relayed_total counter\n\
             relgql_events_relayed_total {}\n",
            connections.in_use,
            connections.idle,
            self.waiting_for_connection.load(Ordering::Relaxed).max(0),
            self.subscriptions_open.load(Ordering::Relaxed).max(0),
            self.events_relayed.load(Ordering::Relaxed),
        );
        page
    }
}

/// An open subscription; closed when dropped.
pub struct OpenSubscription(&'static Metrics);

impl Drop for OpenSubscription {
    fn drop(&mut self) {
        self.0.subscriptions_open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A wait for a pooled connection; over when dropped.
pub struct WaitingForConnection(&'static Metrics);

impl Drop for WaitingForConnection {
    fn drop(&mut self) {
        self.0
            .waiting_for_connection
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// A GraphQL name (`[_A-Za-z][_0-9A-Za-z]*`) of at most 64 characters: safe in a
/// label value without escaping.
fn is_label_safe(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric())
        && !name.as_bytes()[0].is_ascii_digit()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Counters hold no invariant a panicking holder could break.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_counts_each_observation_in_the_first_bucket_that_holds_it() {
        static BOUNDS: [f64; 3] = [1.0, 2.0, 5.0];
        let histogram = Histogram::new(&BOUNDS);
        for value in [0.5, 1.0, 1.5, 5.0, 7.0] {
            histogram.observe(value);
        }
        let mut page = String::new();
        histogram.write(&mut page, "h", "help");
        assert!(page.contains("h_bucket{le=\"1\"} 2\n"), "{page}");
        assert!(page.contains("h_bucket{le=\"2\"} 3\n"), "{page}");
        assert!(page.contains("h_bucket{le=\"5\"} 4\n"), "{page}");
        assert!(page.contains("h_bucket{le=\"+Inf\"} 5\n"), "{page}");
        assert!(page.contains("h_sum 15\nh_count 5\n"), "{page}");
    }

    #[test]
    fn operation_names_are_labelled_only_when_safe_and_few() {
        let metrics = Metrics::default();
        let count = |metrics: &Metrics, name: Option<&str>| {
            metrics.operation(false, name, Outcome::Ok, Duration::ZERO, 1, 1);
        };
        count(&metrics, Some("Posts"));
        count(&metrics, Some("bad\"name"));
        count(&metrics, None);
        for n in 0..MOST_NAMES * 2 {
            count(&metrics, Some(&format!("Op{n}")));
        }
        count(&metrics, Some("Posts"));
        let page = metrics.render(PoolConnections::default());
        let line = |name: &str| {
            format!(
                "relgql_graphql_requests_total{{type=\"query\",operation=\"{name}\",outcome=\"ok\"}}"
            )
        };
        assert!(page.contains(&format!("{} 2\n", line("Posts"))), "{page}");
        assert!(page.contains(&format!("{} 1\n", line("anonymous"))));
        assert!(!page.contains("bad"));
        let labelled = page
            .lines()
            .filter(|l| l.starts_with("relgql_graphql_requests_total{"))
            .count();
        assert!(labelled <= MOST_NAMES + 1, "{labelled} series");
        assert!(page.contains(&line("other")));
    }
}
