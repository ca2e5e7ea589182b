//! Logging and tracing set-up: structured logs to standard error, filtered by
//! `RUST_LOG`; and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, traces sent over
//! OTLP (HTTP, protobuf or JSON as `OTEL_EXPORTER_OTLP_PROTOCOL` says): a span per
//! GraphQL request, a child span per SQL statement, joined to the caller's trace
//! when the request carries a W3C `traceparent`.

use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::HeaderMap;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, fmt};

/// How log lines are written (`LOG_FORMAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The target of the spans traced: the requests' and their statements'.
pub const TRACED: &str = "relgql::trace";

/// Set once traces are exported: spans for statements are made only then.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// What is set up; traces still buffered are sent when it is shut down.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still buffered, and stops exporting.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("relgql: cannot send the last traces: {error}");
        }
    }
}

/// Installs the global tracing subscriber; `RUST_LOG` overrides the default filter
/// of the logs. Traces are exported when the OpenTelemetry environment names an
/// endpoint.
pub fn init(format: LogFormat) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let logs = match format {
        LogFormat::Text => fmt::layer().with_writer(std::io::stderr).boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_writer(std::io::stderr)
            .boxed(),
    }
    .with_filter(filter);
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|endpoint| !endpoint.is_empty());
    let Some(endpoint) = endpoint else {
        tracing_subscriber::registry().with(logs).init();
        return Ok(Telemetry { provider: None });
    };
    let provider = provider(&endpoint)?;
    let traces = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("relgql"))
        .with_filter(Targets::new().with_target(TRACED, tracing::Level::INFO));
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .init();
    EXPORTING.store(true, Ordering::Relaxed);
    Ok(Telemetry {
        provider: Some(provider),
    })
}

/// The provider sending spans in batches to `endpoint` (`/v1/traces` is added, as
/// the OTLP specification says for this variable).
fn provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let protocol = match std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref() {
        Err(_) | Ok("http/protobuf") => Protocol::HttpBinary,
        Ok("http/json") => Protocol::HttpJson,
        Ok(other) => anyhow::bail!(
            "OTEL_EXPORTER_OTLP_PROTOCOL is `{other}`: relgql sends `http/protobuf` or `http/json`"
        ),
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .build()?;
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "relgql".to_owned());
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service)
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// Whether traces are being exported.
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// Makes `span` a child of the trace the request's `traceparent` header names, if
/// it names one and traces are exported.
pub fn join_callers_trace(span: &tracing::Span, headers: &HeaderMap) {
    if !exporting() || !headers.contains_key("traceparent") {
        return;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&Headers(headers))
    });
    let _ = span.set_parent(parent);
}

/// A request's headers, as OpenTelemetry's propagators read them.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

/// The span of one SQL statement, `sql` (its text with placeholders, never its
/// parameters), when traces are exported; none otherwise.
pub fn statement_span(sql: &str, system: &'static str) -> tracing::Span {
    if !exporting() {
        return tracing::Span::none();
    }
    let operation = sql.split_whitespace().next().unwrap_or("SQL");
    tracing::info_span!(
        target: TRACED,
        "sql",
        otel.name = operation,
        otel.kind = "client",
        db.system.name = system,
        db.query.text = sql,
    )
}
