//! The keys that sign bearer tokens when `JWT_SECRET` is not set, kept in the
//! database (`signing_keys`) so that every instance serving it signs and verifies
//! alike.
//!
//! The newest key signs. `relgql keys rotate` adds a newer one and deletes the keys
//! that no token still valid can carry: those superseded longer ago than a token
//! lives, plus the time instances take to notice a rotation.

use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait as _, Order, Query};
use sea_orm::{ConnectionTrait, DbErr};

#[derive(sea_orm::DeriveIden)]
enum SigningKeys {
    Table,
    Id,
    Secret,
    CreatedAt,
}

/// One key as stored.
#[derive(Clone)]
pub struct StoredKey {
    /// Its id, carried in the tokens it signs (`kid`).
    pub id: i32,
    /// The HMAC secret.
    pub secret: Vec<u8>,
    /// When it was made, in seconds since the Unix epoch.
    pub created_at: i64,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("id", &self.id)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// Every key, oldest first.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<StoredKey>, DbErr> {
    let select = Query::select()
        .columns([SigningKeys::Id, SigningKeys::Secret, SigningKeys::CreatedAt])
        .from(SigningKeys::Table)
        .order_by(SigningKeys::Id, Order::Asc)
        .to_owned();
    let mut keys = Vec::new();
    for row in db.query_all(&select).await? {
        let secret: String = row.try_get_by_index(1)?;
        keys.push(StoredKey {
            id: row.try_get_by_index(0)?,
            secret: from_hex(&secret)
                .ok_or_else(|| DbErr::Custom("a signing key is not hexadecimal".into()))?,
            created_at: row.try_get_by_index(2)?,
        });
    }
    Ok(keys)
}

/// Adds a new random key, which becomes the newest.
pub async fn create(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let secret = to_hex(&rand::random::<[u8; 32]>());
    let insert = Query::insert()
        .into_table(SigningKeys::Table)
        .columns([SigningKeys::Secret, SigningKeys::CreatedAt])
        .values_panic([secret.into(), chrono::Utc::now().timestamp().into()])
        .to_owned();
    db.execute(&insert).await.map(drop)
}

/// What a rotation did.
#[derive(Debug, PartialEq, Eq)]
pub struct Rotated {
    /// The id of the key that now signs.
    pub signing: i32,
    /// The ids of the keys deleted.
    pub deleted: Vec<i32>,
}

/// Adds a new key and deletes those superseded more than `token_ttl` plus
/// `grace` ago (no valid token can carry them any more).
pub async fn rotate(
    db: &impl ConnectionTrait,
    token_ttl: Duration,
    grace: Duration,
) -> anyhow::Result<Rotated> {
    create(db).await?;
    let keys = all(db).await?;
    let horizon = chrono::Utc::now().timestamp()
        - i64::try_from((token_ttl + grace).as_secs()).unwrap_or(i64::MAX);
    let deleted: Vec<i32> = keys
        .windows(2)
        .filter(|pair| pair[1].created_at < horizon)
        .map(|pair| pair[0].id)
        .collect();
    if !deleted.is_empty() {
        let delete = Query::delete()
            .from_table(SigningKeys::Table)
            .and_where(Expr::col(SigningKeys::Id).is_in(deleted.clone()))
            .to_owned();
        db.execute(&delete).await?;
    }
    let signing = keys.last().map(|k| k.id).unwrap_or_default();
    Ok(Rotated { signing, deleted })
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        let bytes = [0u8, 1, 0xab, 0xff, 0x10];
        assert_eq!(to_hex(&bytes), "0001abff10");
        assert_eq!(from_hex("0001abff10").unwrap(), bytes);
        assert_eq!(from_hex("0g"), None);
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("é1"), None);
    }
}
