//! Operations named by an id instead of their text.
//!
//! - Automatic persisted queries (Apollo's protocol): a client sends the SHA-256 of
//!   its document; a hash the service does not know answers
//!   `PERSISTED_QUERY_NOT_FOUND`, and the client sends it again with its text, which
//!   registers it. Registered documents are kept in the database
//!   (`persisted_queries`, at most a set number, the oldest leaving first), so that
//!   every instance serving it knows them, and the most recent in memory.
//! - Trusted documents: a manifest of `{id: document}` loaded at start, as Relay's
//!   compiler and GraphQL Codegen's client preset write it (or Apollo's persisted
//!   query manifest). With `TRUSTED_DOCUMENTS_ONLY` no other operation runs (the
//!   gate refuses it) and nothing is registered.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// The table of registered documents.
#[derive(sea_orm::DeriveIden)]
enum Registered {
    #[sea_orm(iden = "persisted_queries")]
    Table,
    Id,
    Sha256,
    Document,
}

/// How many bytes of documents are kept in memory; older ones are read from the
/// database again when asked for.
const MEMORY_BYTES: usize = 4 * 1024 * 1024;

/// The SHA-256 of `document`, as 64 lowercase hexadecimal digits (as Apollo's
/// link, Relay and GraphQL Codegen write it).
pub fn sha256_hex(document: &str) -> String {
    format!("{:x}", Sha256::digest(document.as_bytes()))
}

/// Whether `text` is a SHA-256 in lowercase hexadecimal.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The documents of a trusted-documents manifest, by id.
#[derive(Debug, Default)]
pub struct TrustedDocuments {
    by_id: HashMap<String, Arc<str>>,
}

impl TrustedDocuments {
    /// Reads a manifest: a JSON object `{id: document}` (Relay's `persistConfig`
    /// file, GraphQL Codegen's `persisted-documents.json`), or Apollo's persisted
    /// query manifest (`{"format": "apollo-persisted-query-manifest", "operations":
    /// [{"id", "body"}]}`). An id that is a SHA-256 must be its document's.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the trusted documents {}", path.display()))?;
        Self::parse(&text).with_context(|| {
            format!(
                "{} is not a trusted-documents manifest: a JSON object of {{id: document}}",
                path.display()
            )
        })
    }

    /// Reads a manifest's JSON text (see [`TrustedDocuments::load`]).
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let manifest: serde_json::Map<String, Value> = serde_json::from_str(text)?;
        let entries: Vec<(String, String)> = match manifest.get("operations") {
            Some(Value::Array(operations))
                if manifest.get("format").and_then(Value::as_str)
                    == Some("apollo-persisted-query-manifest") =>
            {
                operations
                    .iter()
                    .map(|operation| {
                        let field = |name| {
                            operation
                                .get(name)
                                .and_then(Value::as_str)
                                .map(str::to_owned)
                                .with_context(|| format!("an operation has no string `{name}`"))
                        };
                        Ok((field("id")?, field("body")?))
                    })
                    .collect::<anyhow::Result<_>>()?
            }
            _ => manifest
                .into_iter()
                .map(|(id, document)| match document {
                    Value::String(document) => Ok((id, document)),
                    _ => anyhow::bail!("the document of `{id}` is not a string"),
                })
                .collect::<anyhow::Result<_>>()?,
        };
        let mut by_id = HashMap::with_capacity(entries.len());
        for (id, document) in entries {
            anyhow::ensure!(
                !is_sha256_hex(&id) || sha256_hex(&document) == id,
                "the id `{id}` is a SHA-256, but not that of its document"
            );
            by_id.insert(id, Arc::from(document));
        }
        Ok(Self { by_id })
    }

    /// The document with this id.
    pub fn get(&self, id: &str) -> Option<Arc<str>> {
        self.by_id.get(id).cloned()
    }

    /// Every document's text.
    pub fn documents(&self) -> impl Iterator<Item = &str> {
        self.by_id.values().map(|document| &**document)
    }

    /// How many documents there are.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// The documents requests may name by id: the trusted ones, and those registered
/// through automatic persisted queries.
pub struct PersistedQueries {
    db: DatabaseConnection,
    recent: Mutex<Recent>,
    /// Rows kept in `persisted_queries`; 0 turns registration off.
    most_kept: u32,
    trusted: TrustedDocuments,
    trusted_only: bool,
}

/// How a document named by id was not found.
#[derive(Debug, PartialEq, Eq)]
pub enum Missing {
    /// Not known (yet): the client may register it by sending its text.
    NotFound,
    /// Automatic persisted queries are off here: send the text.
    NotSupported,
}

impl PersistedQueries {
    /// A store over `db` (the primary, reached directly) keeping at most
    /// `most_kept` registered documents (0: none, registration off), besides the
    /// `trusted` ones; with `trusted_only` nothing is registered.
    pub fn new(
        db: DatabaseConnection,
        most_kept: u32,
        trusted: TrustedDocuments,
        trusted_only: bool,
    ) -> Self {
        Self {
            db,
            recent: Mutex::default(),
            most_kept,
            trusted,
            trusted_only,
        }
    }

    /// Whether documents may be registered here.
    pub fn registers(&self) -> bool {
        self.most_kept > 0 && !self.trusted_only
    }

    /// The trusted documents.
    pub fn trusted(&self) -> &TrustedDocuments {
        &self.trusted
    }

    /// The document with this id: a trusted document's id, or a registered
    /// document's SHA-256.
    pub async fn find(&self, id: &str) -> Result<Result<Arc<str>, Missing>, DbErr> {
        if let Some(document) = self.trusted.get(id) {
            return Ok(Ok(document));
        }
        if !self.registers() {
            return Ok(Err(if self.trusted.is_empty() {
                Missing::NotSupported
            } else {
                Missing::NotFound
            }));
        }
        if let Some(document) = self.lock().get(id) {
            return Ok(Ok(document));
        }
        let select = Query::select()
            .column(Registered::Document)
            .from(Registered::Table)
            .and_where(Expr::col(Registered::Sha256).eq(id))
            .to_owned();
        let Some(row) = self.db.query_one(&select).await? else {
            return Ok(Err(Missing::NotFound));
        };
        let document: Arc<str> = Arc::from(row.try_get_by_index::<String>(0)?);
        self.lock().insert(id, document.clone());
        Ok(Ok(document))
    }

    /// Keeps `document` under its SHA-256 `sha256` (which the caller checked), for
    /// every instance; the oldest registered documents leave when there are more
    /// than the most kept.
    pub async fn register(&self, sha256: &str, document: &str) -> Result<(), DbErr> {
        if !self.registers() || self.lock().get(sha256).is_some() {
            return Ok(());
        }
        let insert = Query::insert()
            .into_table(Registered::Table)
            .columns([Registered::Sha256, Registered::Document])
            .values_panic([sha256.into(), document.into()])
            // Registered meanwhile by another request or instance: the same text.
            .on_conflict(
                OnConflict::column(Registered::Sha256)
                    .update_column(Registered::Sha256)
                    .to_owned(),
            )
            .to_owned();
        self.db.execute(&insert).await?;
        // MySQL cannot delete from a table it selects from in the same statement.
        let oldest_kept = Query::select()
            .column(Registered::Id)
            .from(Registered::Table)
            .order_by(Registered::Id, Order::Desc)
            .limit(1)
            .offset(u64::from(self.most_kept))
            .to_owned();
        if let Some(row) = self.db.query_one(&oldest_kept).await? {
            let first_gone: i32 = row.try_get_by_index(0)?;
            let delete = Query::delete()
                .from_table(Registered::Table)
                .and_where(Expr::col(Registered::Id).lte(first_gone))
                .to_owned();
            self.db.execute(&delete).await?;
        }
        self.lock().insert(sha256, Arc::from(document));
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recent> {
        // The cache holds no invariant a panicking holder could break.
        self.recent.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The documents found or registered most recently, at most [`MEMORY_BYTES`] of
/// them, the oldest leaving first.
#[derive(Default)]
struct Recent {
    by_sha256: HashMap<String, Arc<str>>,
    order: VecDeque<String>,
    bytes: usize,
}

impl Recent {
    fn get(&self, sha256: &str) -> Option<Arc<str>> {
        self.by_sha256.get(sha256).cloned()
    }

    fn insert(&mut self, sha256: &str, document: Arc<str>) {
        if self.by_sha256.contains_key(sha256) {
            return;
        }
        self.bytes += document.len();
        self.order.push_back(sha256.to_owned());
        self.by_sha256.insert(sha256.to_owned(), document);
        while self.bytes > MEMORY_BYTES {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(gone) = self.by_sha256.remove(&oldest) {
                self.bytes -= gone.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_sha256_in_lowercase_hexadecimal() {
        // The SHA-256 of "abc", from FIPS 180-2.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex("abc"), abc);
        assert!(is_sha256_hex(abc));
        assert!(!is_sha256_hex(&abc.to_uppercase()));
        assert!(!is_sha256_hex(&abc[1..]));
        assert!(!is_sha256_hex(&format!("{}g", &abc[1..])));
    }

    #[test]
    fn a_manifest_is_read_in_each_shape_and_a_wrong_hash_refused() {
        let query = "{ viewer { id } }";
        let hash = sha256_hex(query);
        let relay =
            TrustedDocuments::parse(&format!(r#"{{"{hash}": "{query}", "md5ish": "{{ a }}"}}"#))
                .unwrap();
        assert_eq!(relay.get(&hash).as_deref(), Some(query));
        assert_eq!(relay.get("md5ish").as_deref(), Some("{ a }"));
        assert_eq!(relay.len(), 2);
        let apollo = TrustedDocuments::parse(&format!(
            r#"{{"format": "apollo-persisted-query-manifest", "version": 1,
                "operations": [{{"id": "{hash}", "name": "V", "type": "query", "body": "{query}"}}]}}"#
        ))
        .unwrap();
        assert_eq!(apollo.get(&hash).as_deref(), Some(query));
        let wrong = format!(r#"{{"{hash}": "{{ other }}"}}"#);
        let error = TrustedDocuments::parse(&wrong).unwrap_err().to_string();
        assert!(error.contains("not that of its document"), "{error}");
        assert!(TrustedDocuments::parse(r#"{"a": 1}"#).is_err());
        assert!(TrustedDocuments::parse("[]").is_err());
    }

    #[test]
    fn recent_documents_are_bounded_by_their_bytes_oldest_first() {
        let mut recent = Recent::default();
        let big: Arc<str> = Arc::from("x".repeat(MEMORY_BYTES / 2));
        recent.insert("a", big.clone());
        recent.insert("b", big.clone());
        recent.insert("a", big.clone());
        assert_eq!(recent.bytes, MEMORY_BYTES);
        recent.insert("c", Arc::from("y"));
        assert!(recent.get("a").is_none(), "the oldest left");
        assert!(recent.get("b").is_some() && recent.get("c").is_some());
        assert_eq!(recent.bytes, MEMORY_BYTES / 2 + 1);
    }
}
