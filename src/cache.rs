//! Per-worker memory of authentication facts, and single-flight for concurrent misses.
//!
//! Keys are SHA-256 digests of the realm selection and the raw `Authorization` value, never the
//! credential itself. The cache belongs to one loaded config, so a reload starts empty.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::time::{Duration, Instant};

use moka::sync::Cache;
use moka::Expiry;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

pub type CacheKey = [u8; 32];

pub fn cache_key(realm_selector: Option<&str>, raw_authorization: &[u8]) -> CacheKey {
    let mut hasher = Sha256::new();
    // The length prefix keeps ("ab", "c") and ("a", "bc") apart.
    let realm = realm_selector.unwrap_or("");
    hasher.update((realm.len() as u64).to_le_bytes());
    hasher.update(realm.as_bytes());
    hasher.update([u8::from(realm_selector.is_some())]);
    hasher.update(raw_authorization);
    hasher.finalize().into()
}

/// A bounded map whose entries each carry their own lifetime.
pub struct TtlCache<V: Clone + Send + Sync + 'static> {
    entries: Option<Cache<CacheKey, Timed<V>>>,
}

#[derive(Clone)]
struct Timed<V> {
    value: V,
    ttl: Duration,
}

struct PerEntryTtl;

impl<V> Expiry<CacheKey, Timed<V>> for PerEntryTtl {
    fn expire_after_create(&self, _: &CacheKey, entry: &Timed<V>, _: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
}

impl<V: Clone + Send + Sync + 'static> TtlCache<V> {
    /// A capacity of zero disables the cache.
    pub fn new(capacity: u64) -> Self {
        let entries = (capacity > 0).then(|| {
            Cache::builder()
                .max_capacity(capacity)
                .expire_after(PerEntryTtl)
                .build()
        });
        TtlCache { entries }
    }

    pub fn get(&self, key: &CacheKey) -> Option<V> {
        self.entries.as_ref()?.get(key).map(|e| e.value)
    }

    /// Stores `value` for `ttl`; a zero TTL stores nothing.
    pub fn insert(&self, key: CacheKey, value: V, ttl: Duration) {
        if let Some(entries) = &self.entries {
            if !ttl.is_zero() {
                entries.insert(key, Timed { value, ttl });
            }
        }
    }

    /// Forgets the entries whose value is `doomed`; `get` no longer sees them from the moment
    /// this returns. It walks the whole cache: for rare events, not for requests.
    pub fn remove_if(&self, doomed: impl Fn(&V) -> bool) {
        if let Some(entries) = &self.entries {
            for (key, entry) in entries.iter() {
                if doomed(&entry.value) {
                    entries.invalidate(key.as_ref());
                }
            }
        }
    }

    /// Forgets every entry; `get` no longer sees them from the moment this returns.
    pub fn clear(&self) {
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }
}

/// Makes concurrent calls for one key share a single run of the work.
pub struct SingleFlight<K, V> {
    waiting: Mutex<HashMap<K, Vec<oneshot::Sender<V>>>>,
}

impl<K: Hash + Eq + Clone, V: Clone> Default for SingleFlight<K, V> {
    fn default() -> Self {
        SingleFlight {
            waiting: Mutex::new(HashMap::new()),
        }
    }
}

enum Role<V> {
    Leader,
    Follower(oneshot::Receiver<V>),
}

impl<K: Hash + Eq + Clone, V: Clone> SingleFlight<K, V> {
    /// Runs `work` unless a run for `key` is already under way, in which case its result is
    /// shared. If the leading run is cancelled, a waiting caller takes over.
    pub async fn run<F: Future<Output = V>>(&self, key: K, work: impl FnOnce() -> F) -> V {
        let mut work = Some(work);
        loop {
            match self.join(&key) {
                Role::Follower(result) => {
                    if let Ok(value) = result.await {
                        return value;
                    }
                }
                Role::Leader => {
                    let lead = Lead {
                        flight: self,
                        key: key.clone(),
                    };
                    // `join` only makes one leader per run, and a leader returns below.
                    let work = work.take().expect("a caller leads at most once");
                    let value = work().await;
                    lead.finish(value.clone());
                    return value;
                }
            }
        }
    }

    fn join(&self, key: &K) -> Role<V> {
        let mut waiting = self.waiting.lock();
        match waiting.get_mut(key) {
            Some(followers) => {
                let (tx, rx) = oneshot::channel();
                followers.push(tx);
                Role::Follower(rx)
            }
            None => {
                waiting.insert(key.clone(), Vec::new());
                Role::Leader
            }
        }
    }

    pub fn in_flight(&self) -> usize {
        self.waiting.lock().len()
    }
}

/// Clears the key when the leader finishes or is dropped mid-run; dropping the followers'
/// senders wakes them to retry.
struct Lead<'a, K: Hash + Eq + Clone, V: Clone> {
    flight: &'a SingleFlight<K, V>,
    key: K,
}

impl<K: Hash + Eq + Clone, V: Clone> Lead<'_, K, V> {
    fn finish(self, value: V) {
        let followers = self.flight.waiting.lock().remove(&self.key);
        for follower in followers.into_iter().flatten() {
            let _ = follower.send(value.clone());
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Drop for Lead<'_, K, V> {
    fn drop(&mut self) {
        self.flight.waiting.lock().remove(&self.key);
    }
}

#[cfg(test)]
mod tests;
