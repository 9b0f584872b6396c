//! The token store: long-lived opaque tokens, stored hashed, with an owner and an expiry
//! (upstream Auth-O-Tron's store with its bugs fixed: docs/token-store.md). Backends
//! run their queries off the NGINX event loop; every operation has a deadline, and the schema
//! is created on first use.

pub mod api;
mod postgres;
pub mod revocation;
mod schema;
mod sqlite;
#[cfg(test)]
pub(crate) mod test_support;
pub mod token;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Serialize;

use crate::config::{StoreBackend, StoreSettings};
use crate::domain::User;
use revocation::ListenerEvent;

/// A token as stored, without its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub description: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
}

/// The owner of a token: upstream keys users by (username, realm).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub realm: String,
    pub username: String,
}

/// A new row: the token's hash, its public fields, the owner's snapshot as JSON, and the
/// `name` of the provider that accepted the owner.
pub struct NewRow {
    pub hash: String,
    pub info: TokenInfo,
    pub owner: Owner,
    pub snapshot: String,
    pub provider: String,
}

/// What a successful lookup finds.
pub struct Found {
    /// The token's public id: what a revocation announces, so caches can forget exactly it.
    pub id: String,
    pub snapshot: String,
    pub expires_at: i64,
    /// `None` for a row written before the provider was recorded.
    pub provider: Option<String>,
    pub last_used_at: Option<i64>,
}

/// `last_used_at` is written at most this often per token: a token in steady use costs one
/// write a minute, not one per cache miss.
const LAST_USED_GRANULARITY: i64 = 60;

/// How a revocation names its token.
#[derive(Debug, PartialEq, Eq)]
pub enum Which {
    Hash(String),
    Id(String),
}

/// One database. Every method must return promptly or be bounded by the caller's deadline.
trait Backend: Send + Sync {
    /// Creates or upgrades the schema; idempotent, safe with several workers at once.
    fn migrate(&self) -> BoxFuture<'static, Result<(), String>>;
    fn insert(&self, row: NewRow) -> BoxFuture<'static, Result<(), String>>;
    /// The unexpired token with this hash: one indexed read, never a write, so a flood of
    /// made-up tokens cannot queue writes.
    fn find(&self, hash: String, now: i64) -> BoxFuture<'static, Result<Option<Found>, String>>;
    /// Sets `last_used_at` to `now` unless it is later than `stale_at` already.
    fn touch(
        &self,
        hash: String,
        now: i64,
        stale_at: i64,
    ) -> BoxFuture<'static, Result<(), String>>;
    /// The owner's unexpired tokens, oldest first.
    fn list(&self, owner: Owner, now: i64) -> BoxFuture<'static, Result<Vec<TokenInfo>, String>>;
    /// Deletes the owner's token and answers the public ids it deleted: none when the owner
    /// has no such token. The ids let the worker evict exactly those tokens' cached answers.
    fn revoke(&self, owner: Owner, which: Which)
        -> BoxFuture<'static, Result<Vec<String>, String>>;
    /// Whether revocations are announced to other instances sharing the database, which
    /// `listen` then hears.
    fn announces_revocations(&self) -> bool {
        false
    }
    /// Listens for revocations made through any instance sharing the database, reporting to
    /// `report`, for as long as the future runs. `None` for a database only one host uses.
    fn listen(
        &self,
        _report: Box<dyn FnMut(ListenerEvent) + Send>,
    ) -> Option<BoxFuture<'static, ()>> {
        None
    }
}

pub struct Store {
    backend: Arc<dyn Backend>,
    /// Set once the schema is known to be in place in this worker.
    ready: tokio::sync::OnceCell<()>,
    deadline: Duration,
    pub default_expiry: i64,
    pub max_expiry: i64,
    pub cache_ttl: Duration,
}

/// The database could not be used; always a 503, never a verdict about a token.
#[derive(Debug)]
pub struct Unavailable(pub String);

impl Store {
    /// `None` when the store is disabled.
    pub fn new(settings: &StoreSettings) -> Result<Option<Store>, String> {
        if !settings.enabled {
            return Ok(None);
        }
        let deadline = Duration::from_millis(settings.timeout_ms);
        let backend: Arc<dyn Backend> = match &settings.backend {
            Some(StoreBackend::Sqlite { path }) => Arc::new(sqlite::Sqlite::new(path, deadline)?),
            Some(StoreBackend::Postgres { uri, pool_size }) => {
                Arc::new(postgres::Postgres::new(uri, *pool_size, deadline)?)
            }
            Some(other) => return Err(format!("store type `{}` cannot run", other.type_tag())),
            None => return Err("the store has no type".to_owned()),
        };
        Ok(Some(Store {
            backend,
            ready: tokio::sync::OnceCell::new(),
            deadline,
            default_expiry: clamp_i64(settings.default_expiry_seconds),
            max_expiry: clamp_i64(settings.max_expiry_seconds),
            cache_ttl: Duration::from_secs(settings.cache_ttl_seconds),
        }))
    }

    /// Creates the schema; run when a worker starts, and again by the first operation after
    /// a failure (a database that was down at start-up is picked up when it comes back).
    pub async fn prepare(&self) -> Result<(), Unavailable> {
        self.ready
            .get_or_try_init(|| self.bounded(self.backend.migrate()))
            .await
            .map(|_| ())
    }

    pub async fn insert(&self, row: NewRow) -> Result<(), Unavailable> {
        self.prepare().await?;
        self.bounded(self.backend.insert(row)).await
    }

    /// The user a token stands for, if it exists and has not expired.
    pub async fn find(&self, secret: &str, now: i64) -> Result<Option<Found>, Unavailable> {
        self.prepare().await?;
        self.bounded(self.backend.find(token::hash(secret), now))
            .await
    }

    /// Records that the token `find` found was honoured at `now`, at most once a minute.
    pub async fn used(&self, secret: &str, found: &Found, now: i64) -> Result<(), Unavailable> {
        if found
            .last_used_at
            .is_some_and(|last| now - last < LAST_USED_GRANULARITY)
        {
            return Ok(());
        }
        let hash = token::hash(secret);
        self.bounded(self.backend.touch(hash, now, now - LAST_USED_GRANULARITY))
            .await
    }

    pub async fn list(&self, owner: Owner, now: i64) -> Result<Vec<TokenInfo>, Unavailable> {
        self.prepare().await?;
        self.bounded(self.backend.list(owner, now)).await
    }

    /// The public ids of the tokens deleted: none when the owner has no such token.
    pub async fn revoke(&self, owner: Owner, which: Which) -> Result<Vec<String>, Unavailable> {
        self.prepare().await?;
        self.bounded(self.backend.revoke(owner, which)).await
    }

    /// Listens for revocations made on other instances (see `revocation`); `None` when the
    /// backend cannot (SQLite: one host, where a revocation is seen by the next lookup).
    pub fn announces_revocations(&self) -> bool {
        self.backend.announces_revocations()
    }

    pub fn listen(
        &self,
        report: Box<dyn FnMut(ListenerEvent) + Send>,
    ) -> Option<BoxFuture<'static, ()>> {
        self.backend.listen(report)
    }

    async fn bounded<T>(
        &self,
        work: BoxFuture<'static, Result<T, String>>,
    ) -> Result<T, Unavailable> {
        match tokio::time::timeout(self.deadline, work).await {
            Ok(result) => result.map_err(Unavailable),
            Err(_) => Err(Unavailable(format!(
                "the token store did not answer within {} ms",
                self.deadline.as_millis()
            ))),
        }
    }
}

/// The snapshot a token keeps of its owner: the user as its provider vouched for it, before
/// augmenters (they run again on every use, so a role taken away is taken from tokens too),
/// and without a stale `exp` (the token's own expiry replaces it).
pub fn snapshot(user: &User) -> Result<String, String> {
    let mut user = user.clone();
    user.attributes.remove("exp");
    serde_json::to_string(&user).map_err(|e| e.to_string())
}

/// The owner a stored snapshot describes, with `exp` set to the token's expiry so that neither
/// the cached identity nor the JWT minted from it outlives the token.
pub fn restore(found: &Found) -> Result<User, String> {
    let mut user: User = serde_json::from_str(&found.snapshot)
        .map_err(|e| format!("unreadable user snapshot: {e}"))?;
    user.attributes
        .insert("exp".to_owned(), found.expires_at.to_string());
    Ok(user)
}

fn clamp_i64(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
