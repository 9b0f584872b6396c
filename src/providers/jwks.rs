//! JSON Web Key Sets fetched from `cert_uri`, shared by every provider that names the same URI.
//!
//! A set is reused for `jwks_refresh_seconds`. A token whose `kid` is not in the set triggers
//! one early refetch, at most every 30 s per URI (key rotation without waiting for the
//! refresh). When a fetch fails, the last good set stays in use and the fetch is retried after
//! 30 s: an outage of the key endpoint does not lock everybody out.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::Jwk;
use parking_lot::Mutex;

use crate::http::{send_json, url_for_logs, IdentityClient};

/// How often a JWKS endpoint may be asked again early (unknown `kid`, or after a failure while
/// a last good set is still in use).
pub const RETRY_INTERVAL: Duration = Duration::from_secs(30);
/// With no key set at all every token is refused as unverifiable, so retry sooner; but not on
/// every request, which would queue each one behind a fetch of a dead endpoint.
pub const RETRY_WITHOUT_KEYS: Duration = Duration::from_secs(5);

pub type KeySet = Arc<Vec<Jwk>>;

pub struct JwksRegistry {
    http: Arc<IdentityClient>,
    caches: Mutex<HashMap<(String, Duration), Arc<JwksCache>>>,
}

impl JwksRegistry {
    pub fn new(http: Arc<IdentityClient>) -> Self {
        JwksRegistry {
            http,
            caches: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, uri: &str, refresh: Duration) -> Arc<JwksCache> {
        self.caches
            .lock()
            .entry((uri.to_owned(), refresh))
            .or_insert_with(|| Arc::new(JwksCache::new(uri, self.http.clone(), refresh)))
            .clone()
    }
}

pub struct JwksCache {
    uri: String,
    /// `uri` as error messages show it (`http::url_for_logs`).
    shown: String,
    http: Arc<IdentityClient>,
    refresh: Duration,
    state: Mutex<KeyState>,
    /// One fetch at a time per URI; waiters then use its result.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct KeyState {
    keys: Option<KeySet>,
    /// When the keys must be fetched again.
    next_fetch: Option<Instant>,
    /// The last early refetch for an unknown `kid`.
    last_early_fetch: Option<Instant>,
    /// Why the last fetch failed, while no set was ever fetched.
    failure: Option<String>,
}

impl JwksCache {
    fn new(uri: &str, http: Arc<IdentityClient>, refresh: Duration) -> Self {
        JwksCache {
            uri: uri.to_owned(),
            shown: url_for_logs(uri),
            http,
            refresh,
            state: Mutex::new(KeyState::default()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The key set to verify with: cached while fresh, fetched otherwise. An error means there
    /// is no set at all (never fetched successfully).
    pub async fn current(&self) -> Result<KeySet, String> {
        if let Some(known) = self.known() {
            return known;
        }
        let _one_fetch = self.fetching.lock().await;
        if let Some(known) = self.known() {
            return known;
        }
        self.fetch_and_store().await
    }

    /// Fetches again because a token names a key the set lacks; `None` when that was already
    /// done within the last 30 s or the fetch failed.
    pub async fn refetch_for_unknown_key(&self) -> Option<KeySet> {
        let _one_fetch = self.fetching.lock().await;
        {
            let mut state = self.state.lock();
            let now = Instant::now();
            if state
                .last_early_fetch
                .is_some_and(|at| now.duration_since(at) < RETRY_INTERVAL)
            {
                return None;
            }
            state.last_early_fetch = Some(now);
        }
        self.fetch_and_store().await.ok()
    }

    /// What to answer without fetching: the set while it is fresh, or the last failure while
    /// it is too early to try again. `None` means fetch now.
    fn known(&self) -> Option<Result<KeySet, String>> {
        let state = self.state.lock();
        if state.next_fetch.is_none_or(|at| Instant::now() >= at) {
            return None;
        }
        match (&state.keys, &state.failure) {
            (Some(keys), _) => Some(Ok(keys.clone())),
            (None, Some(failure)) => Some(Err(failure.clone())),
            (None, None) => None,
        }
    }

    async fn fetch_and_store(&self) -> Result<KeySet, String> {
        let timer = crate::metrics::outbound_call();
        let fetched = self.fetch().await;
        timer.finish();
        crate::metrics::jwks_refreshed(fetched.is_ok());
        let mut state = self.state.lock();
        match fetched {
            Ok(keys) => {
                state.keys = Some(keys.clone());
                state.failure = None;
                state.next_fetch = Some(Instant::now() + self.refresh);
                Ok(keys)
            }
            Err(e) => match state.keys.clone() {
                Some(last_good) => {
                    state.next_fetch = Some(Instant::now() + RETRY_INTERVAL);
                    Ok(last_good)
                }
                None => {
                    state.failure = Some(e.clone());
                    state.next_fetch = Some(Instant::now() + RETRY_WITHOUT_KEYS);
                    Err(e)
                }
            },
        }
    }

    async fn fetch(&self) -> Result<KeySet, String> {
        let client = self.http.client()?;
        let reply = send_json(client.get(&self.uri))
            .await
            .map_err(|e| format!("JWKS {}: {e}", self.shown))?;
        if !(200..300).contains(&reply.status) {
            return Err(format!("JWKS {}: status {}", self.shown, reply.status));
        }
        key_set(reply.body.as_ref()).map_err(|e| format!("JWKS {}: {e}", self.shown))
    }
}

/// The usable keys of a JWKS document (`None`: the body was not JSON).
pub(crate) fn key_set(body: Option<&serde_json::Value>) -> Result<KeySet, &'static str> {
    let keys = body
        .and_then(|body| body.get("keys"))
        .and_then(|keys| keys.as_array())
        .ok_or("not a key set")?;
    // A key of a type we cannot use must not make the whole set unusable.
    let usable = keys
        .iter()
        .filter_map(|key| serde_json::from_value::<Jwk>(key.clone()).ok())
        .collect();
    Ok(Arc::new(usable))
}
