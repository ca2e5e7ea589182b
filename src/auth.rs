//! Accounts: password hashing (argon2) and bearer tokens (JWT, HS256).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{DatabaseConnection, EntityTrait as _, QuerySelect as _};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::signing_keys;

/// The shortest `JWT_SECRET` accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// How long an instance trusts that a token's account exists before it asks the
/// database again: an account deleted on any instance is refused everywhere within
/// this time (at once by `viewer`, which reads the account).
pub const ACCOUNT_RECHECK: Duration = Duration::from_secs(1);

/// How often an instance reads the signing keys again, to sign with the newest.
pub const KEY_REFRESH: Duration = Duration::from_secs(30);

/// Issues and checks the bearer tokens of signed-in users.
///
/// With `JWT_SECRET` set, tokens are signed with it. Without, they are signed with
/// keys kept in the database (`signing_keys`), so that every instance serving it
/// accepts every other's tokens and tokens survive restarts; `relgql keys rotate`
/// adds a newer key, and older ones verify until their tokens have expired.
pub struct Tokens {
    keys: RwLock<Arc<KeyRing>>,
    validation: Validation,
    ttl: Duration,
    /// Where the keys (when not configured) and the accounts are.
    db: Option<DatabaseConnection>,
    /// When the keys were last read for a token signed with an unknown key.
    reloaded: Mutex<Option<Instant>>,
    /// Accounts seen to exist, and when.
    accounts: Mutex<HashMap<i32, Instant>>,
    /// Tokens whose signature has been checked, with their user and expiry (Unix
    /// seconds): a client sends the same token with every request, and checking
    /// the signature again was 5% of a point lookup's instructions.
    verified: Mutex<HashMap<String, (i32, i64)>>,
}

/// How many checked tokens are remembered; when full, the memory starts over.
const MOST_VERIFIED: usize = 10_000;

/// The keys in force: the newest signs, every one verifies.
struct KeyRing {
    signing: SigningKey,
    /// By id; a configured secret has no id and verifies whatever a token names.
    verifying: Vec<(Option<String>, DecodingKey)>,
    /// Whether the keys come from the database (a token naming another may be newer).
    stored: bool,
}

struct SigningKey {
    id: Option<String>,
    key: EncodingKey,
}

impl KeyRing {
    fn fixed(secret: &[u8]) -> Self {
        Self {
            signing: SigningKey {
                id: None,
                key: EncodingKey::from_secret(secret),
            },
            verifying: vec![(None, DecodingKey::from_secret(secret))],
            stored: false,
        }
    }

    fn stored(keys: &[signing_keys::StoredKey]) -> anyhow::Result<Self> {
        let newest = keys.last().context("there is no signing key")?;
        Ok(Self {
            signing: SigningKey {
                id: Some(newest.id.to_string()),
                key: EncodingKey::from_secret(&newest.secret),
            },
            verifying: keys
                .iter()
                .map(|k| (Some(k.id.to_string()), DecodingKey::from_secret(&k.secret)))
                .collect(),
            stored: true,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The user's database id.
    sub: String,
    iat: i64,
    exp: i64,
}

/// Why a token was not accepted, before any account is looked at.
enum Rejected {
    /// Signed with a key this instance does not hold (maybe a newer one).
    UnknownKey,
    /// Anything else.
    Invalid(ApiError),
}

fn invalid() -> ApiError {
    ApiError::Unauthenticated("the token is not valid: sign in again".into())
}

impl Tokens {
    /// Tokens signed with `secret` that stay valid for `ttl`; accounts are not
    /// looked up (for tests of the tokens alone).
    pub fn new(secret: &[u8], ttl: Duration) -> anyhow::Result<Self> {
        Self::check_secret(secret)?;
        Ok(Self::with_keys(KeyRing::fixed(secret), ttl, None))
    }

    fn check_secret(secret: &[u8]) -> anyhow::Result<()> {
        anyhow::ensure!(
            secret.len() >= MIN_SECRET_LEN,
            "JWT_SECRET must be at least {MIN_SECRET_LEN} bytes long (it has {})",
            secret.len()
        );
        Ok(())
    }

    fn with_keys(keys: KeyRing, ttl: Duration, db: Option<DatabaseConnection>) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            keys: RwLock::new(Arc::new(keys)),
            validation,
            ttl,
            db,
            reloaded: Mutex::new(None),
            accounts: Mutex::new(HashMap::new()),
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// Tokens over `db`: signed with `secret` when given, else with the database's
    /// keys (one is made if there is none). Either way a token's account is looked
    /// up in `db`.
    pub async fn from_database(
        db: &DatabaseConnection,
        secret: Option<&str>,
        ttl: Duration,
    ) -> anyhow::Result<Self> {
        let keys = match secret {
            Some(secret) => {
                Self::check_secret(secret.as_bytes())?;
                KeyRing::fixed(secret.as_bytes())
            }
            None => {
                let mut stored = signing_keys::all(db).await?;
                if stored.is_empty() {
                    signing_keys::create(db).await.context(
                        "there is no signing key and none can be written (a read-only \
                         database?): run `relgql keys rotate` against the primary, or set \
                         JWT_SECRET",
                    )?;
                    stored = signing_keys::all(db).await?;
                }
                KeyRing::stored(&stored)?
            }
        };
        Ok(Self::with_keys(keys, ttl, Some(db.clone())))
    }

    /// Reads the database's keys again (nothing to do for a configured secret).
    pub async fn reload(&self) -> anyhow::Result<()> {
        let Some(db) = &self.db else { return Ok(()) };
        if !self.ring().stored {
            return Ok(());
        }
        let ring = KeyRing::stored(&signing_keys::all(db).await?)?;
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(ring);
        Ok(())
    }

    /// Reads the keys again every [`KEY_REFRESH`], for as long as the process runs,
    /// so that a rotation reaches every instance.
    pub fn refresh_keys(self: &Arc<Self>) {
        let tokens = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(KEY_REFRESH).await;
                let Some(tokens) = tokens.upgrade() else {
                    return;
                };
                if let Err(error) = tokens.reload().await {
                    tracing::warn!(error = format!("{error:#}"), "cannot read the signing keys");
                }
            }
        });
    }

    fn ring(&self) -> Arc<KeyRing> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A token for `user_id`, valid for the configured time.
    pub fn issue(&self, user_id: i32) -> anyhow::Result<String> {
        let ttl = i64::try_from(self.ttl.as_secs()).context("token lifetime")?;
        self.issue_until(user_id, chrono::Utc::now().timestamp() + ttl)
    }

    /// A token for `user_id` that expires at `expires` (seconds since the epoch).
    pub fn issue_until(&self, user_id: i32, expires: i64) -> anyhow::Result<String> {
        let claims = Claims {
            sub: user_id.to_string(),
            iat: chrono::Utc::now().timestamp(),
            exp: expires,
        };
        let ring = self.ring();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = ring.signing.id.clone();
        jsonwebtoken::encode(&header, &claims, &ring.signing.key).context("cannot sign a token")
    }

    /// The user id of a validly signed, unexpired token; `UNAUTHENTICATED` for any
    /// other. The account is not looked up: see [`authenticate`](Self::authenticate).
    pub fn verify(&self, token: &str) -> Result<i32, ApiError> {
        self.verified_claims(token).map(|(user, _)| user)
    }

    /// The user and expiry of `token`, checked against the keys held now.
    fn verified_claims(&self, token: &str) -> Result<(i32, i64), ApiError> {
        self.verify_with(&self.ring(), token)
            .map_err(|rejected| match rejected {
                Rejected::UnknownKey => invalid(),
                Rejected::Invalid(error) => error,
            })
    }

    fn verify_with(&self, ring: &KeyRing, token: &str) -> Result<(i32, i64), Rejected> {
        let key = match &ring.verifying[..] {
            [(None, key)] => key,
            keys => {
                let header =
                    jsonwebtoken::decode_header(token).map_err(|_| Rejected::Invalid(invalid()))?;
                let kid = header.kid.ok_or(Rejected::Invalid(invalid()))?;
                keys.iter()
                    .find(|(id, _)| id.as_deref() == Some(kid.as_str()))
                    .map(|(_, key)| key)
                    .ok_or(Rejected::UnknownKey)?
            }
        };
        let data =
            jsonwebtoken::decode::<Claims>(token, key, &self.validation).map_err(|error| {
                let reason = match error.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the token has expired",
                    _ => "the token is not valid",
                };
                Rejected::Invalid(ApiError::Unauthenticated(format!(
                    "{reason}: sign in again"
                )))
            })?;
        let user = data
            .claims
            .sub
            .parse()
            .map_err(|_| Rejected::Invalid(invalid()))?;
        Ok((user, data.claims.exp))
    }

    /// The user of a valid token whose account exists; `UNAUTHENTICATED` otherwise.
    ///
    /// A token signed with a key this instance has not read yet (made by a rotation
    /// elsewhere) has the keys read again, at most once a second.
    pub async fn authenticate(&self, token: &str) -> Result<i32, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let remembered = self.verified().get(token).copied();
        let user = match remembered {
            Some((user, expires)) if now < expires => user,
            _ => {
                let (user, expires) = match self.verify_with(&self.ring(), token) {
                    Ok(verified) => verified,
                    Err(Rejected::Invalid(error)) => return Err(error),
                    Err(Rejected::UnknownKey) => {
                        if !self.may_reload() {
                            return Err(invalid());
                        }
                        self.reload().await.map_err(ApiError::internal)?;
                        self.verified_claims(token)?
                    }
                };
                let mut verified = self.verified();
                if verified.len() >= MOST_VERIFIED {
                    verified.clear();
                }
                verified.insert(token.to_owned(), (user, expires));
                user
            }
        };
        self.account_exists(user).await?;
        Ok(user)
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i32, i64)>> {
        // The map holds no invariant a panicking holder could break.
        self.verified.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn may_reload(&self) -> bool {
        let mut last = self.reloaded.lock().unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|at| at.elapsed() < Duration::from_secs(1)) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    /// `UNAUTHENTICATED` when `user`'s account is gone; asks the database at most
    /// once per [`ACCOUNT_RECHECK`] per account.
    async fn account_exists(&self, user: i32) -> Result<(), ApiError> {
        let Some(db) = &self.db else { return Ok(()) };
        if self
            .accounts()
            .get(&user)
            .is_some_and(|at| at.elapsed() < ACCOUNT_RECHECK)
        {
            return Ok(());
        }
        // Through a counting handle for its retries: a connection the database
        // closed (a restart, a failover) is read again on another.
        let found = entity::user::Entity::find_by_id(user)
            .select_only()
            .column(entity::user::Column::Id)
            .into_tuple::<i32>()
            .one(&crate::db::CountingDb::new(db.clone()))
            .await?;
        let mut accounts = self.accounts();
        if found.is_none() {
            accounts.remove(&user);
            return Err(ApiError::Unauthenticated(
                "the token's account no longer exists: sign in again".into(),
            ));
        }
        if accounts.len() >= MAX_ACCOUNTS_TRACKED {
            accounts.retain(|_, at| at.elapsed() < ACCOUNT_RECHECK);
        }
        accounts.insert(user, Instant::now());
        Ok(())
    }

    /// Forgets that `user`'s account was seen, so the next request asks again.
    pub fn forget_account(&self, user: i32) {
        self.accounts().remove(&user);
    }

    fn accounts(&self) -> std::sync::MutexGuard<'_, HashMap<i32, Instant>> {
        // A map of times: nothing a panicking holder could leave half-done.
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Accounts remembered as existing, at most; past it the stale ones are dropped.
const MAX_ACCOUNTS_TRACKED: usize = 100_000;

/// Password hashes computed at once. Each takes 19 MiB and a core for a while, so a
/// flood of sign-ins queues here instead of taking the machine's memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Runs one password-hashing job off the async threads, in its turn.
async fn hashing<T: Send + 'static>(
    job: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let _turn = HASHING
        .acquire()
        .await
        .context("the hashing queue is closed")?;
    tokio::task::spawn_blocking(job)
        .await
        .context("the hashing task failed")?
}

/// The argon2id hash (PHC string) of `password`, computed off the async threads.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    hashing(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("cannot hash a password: {e}"))
    })
    .await
}

/// Whether `password` matches `hash`. Without a hash (no such user, or a user
/// without a password) it still spends the time of a check, so timing does not
/// tell which emails have accounts.
pub async fn verify_password(password: String, hash: Option<String>) -> anyhow::Result<bool> {
    hashing(move || {
        let stored = hash.as_deref().unwrap_or(DUMMY_HASH);
        let parsed = PasswordHash::new(stored)
            .map_err(|e| anyhow::anyhow!("a stored hash is malformed: {e}"))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(matches && hash.is_some())
    })
    .await
}

/// A valid argon2id hash of a random password, to verify against when there is no user.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1x6I5XlXh3YO0SWEQ1XPJ+Z0hq2t1qT0vQqH3uC9n3Q";

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(&[7; 32], Duration::from_secs(60)).unwrap()
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(Tokens::new(b"short", Duration::from_secs(60)).is_err());
    }

    #[test]
    fn tokens_round_trip_and_refuse_forgeries_and_expiry() {
        let tokens = tokens();
        assert_eq!(tokens.verify(&tokens.issue(42).unwrap()).unwrap(), 42);
        let forger = Tokens::new(&[8; 32], Duration::from_secs(60)).unwrap();
        assert!(tokens.verify(&forger.issue(42).unwrap()).is_err());
        let expired = tokens
            .issue_until(42, chrono::Utc::now().timestamp() - 3600)
            .unwrap();
        assert!(tokens.verify(&expired).is_err());
        assert!(tokens.verify("not.a.token").is_err());
    }

    #[tokio::test]
    async fn a_checked_token_is_remembered_until_it_expires() {
        let tokens = tokens();
        let token = tokens.issue(42).unwrap();
        assert_eq!(tokens.authenticate(&token).await.unwrap(), 42);
        let (user, expires) = tokens.verified()[&token];
        assert_eq!(user, 42);
        assert!(expires > chrono::Utc::now().timestamp());
        // What is remembered answers without the signature being checked again...
        let now = chrono::Utc::now().timestamp();
        tokens.verified().insert("remembered".into(), (7, now + 60));
        assert_eq!(tokens.authenticate("remembered").await.unwrap(), 7);
        // ...until its expiry, when the token is checked again (and here refused).
        tokens.verified().insert("lapsed".into(), (7, now));
        assert!(tokens.authenticate("lapsed").await.is_err());
        assert!(tokens.authenticate("never.seen.before").await.is_err());
        assert!(!tokens.verified().contains_key("never.seen.before"));
    }

    #[tokio::test]
    async fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("wrong horse".into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(!verify_password("correct horse".into(), None).await.unwrap());
    }
}
