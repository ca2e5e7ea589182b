//! Accounts: password hashing (argon2) and bearer tokens (JWT, HS256).

use std::time::Duration;

use anyhow::Context as _;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The shortest `JWT_SECRET` accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// Issues and checks the bearer tokens of signed-in users.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The user's database id.
    sub: String,
    iat: i64,
    exp: i64,
}

impl Tokens {
    /// Tokens signed with `secret` that stay valid for `ttl`.
    pub fn new(secret: &[u8], ttl: Duration) -> anyhow::Result<Self> {
        anyhow::ensure!(
            secret.len() >= MIN_SECRET_LEN,
            "JWT_SECRET must be at least {MIN_SECRET_LEN} bytes long (it has {})",
            secret.len()
        );
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        })
    }

    /// Tokens from the configured secret, or from a random one (with a warning)
    /// when none is configured.
    pub fn from_settings(secret: Option<&str>, ttl: Duration) -> anyhow::Result<Self> {
        match secret {
            Some(secret) => Self::new(secret.as_bytes(), ttl),
            None => {
                tracing::warn!(
                    "JWT_SECRET is not set: signing tokens with a random secret, \
                     so they will not survive a restart"
                );
                Self::new(&rand::random::<[u8; 32]>(), ttl)
            }
        }
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
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .context("cannot sign a token")
    }

    /// The user id of a valid token; `UNAUTHENTICATED` for any other.
    pub fn verify(&self, token: &str) -> Result<i32, ApiError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|error| {
                let reason = match error.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the token has expired",
                    _ => "the token is not valid",
                };
                ApiError::Unauthenticated(format!("{reason}: sign in again"))
            })?;
        data.claims
            .sub
            .parse()
            .map_err(|_| ApiError::Unauthenticated("the token is not valid: sign in again".into()))
    }
}

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
