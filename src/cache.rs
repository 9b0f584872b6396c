//! Per-worker memory of authentication facts, and single-flight for concurrent misses.
//!
//! Keys are SHA-256 digests of the realm selection and the raw `Authorization` value, never the
//! credential itself. The cache belongs to one loaded config, so a reload starts empty.

mod tags;

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache;
use moka::Expiry;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use tags::TagIndex;

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
    /// With `tagged`: which keys hold the values of each tag.
    tags: Option<Tags<V>>,
}

/// A value's tag, if it has one, read from the value itself: the entry stores nothing more,
/// so a cache hit copies nothing more.
pub type TagOf<V> = fn(&V) -> Option<&str>;

struct Tags<V> {
    tag_of: TagOf<V>,
    index: Arc<TagIndex>,
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
        Self::build(capacity, None)
    }

    /// A cache whose values of one tag (`tag_of`) can be forgotten at once (`remove_tagged`).
    pub fn tagged(capacity: u64, tag_of: TagOf<V>) -> Self {
        let index = Arc::default();
        Self::build(capacity, Some(Tags { tag_of, index }))
    }

    fn build(capacity: u64, tags: Option<Tags<V>>) -> Self {
        let entries = (capacity > 0).then(|| {
            let builder = Cache::builder()
                .max_capacity(capacity)
                .expire_after(PerEntryTtl);
            match &tags {
                Some(Tags { tag_of, index }) => {
                    let (tag_of, index) = (*tag_of, index.clone());
                    builder
                        .eviction_listener(move |key, entry: Timed<V>, _| {
                            if let Some(tag) = tag_of(&entry.value) {
                                index.removed(tag, &key);
                            }
                        })
                        .build()
                }
                None => builder.build(),
            }
        });
        TtlCache { entries, tags }
    }

    pub fn get(&self, key: &CacheKey) -> Option<V> {
        self.entries.as_ref()?.get(key).map(|e| e.value)
    }

    /// Stores `value` for `ttl`; a zero TTL stores nothing.
    pub fn insert(&self, key: CacheKey, value: V, ttl: Duration) {
        if let Some(entries) = &self.entries {
            if !ttl.is_zero() {
                if let Some(Tags { tag_of, index }) = &self.tags {
                    if let Some(tag) = tag_of(&value) {
                        index.stored(tag, key);
                    }
                }
                entries.insert(key, Timed { value, ttl });
            }
        }
    }

    /// Forgets the entries whose value has `tag` (see `tagged`); `get` no longer sees them from
    /// the moment this returns. It costs the number of such entries, not the size of the cache.
    pub fn remove_tagged(&self, tag: &str) {
        if let (Some(entries), Some(tags)) = (&self.entries, &self.tags) {
            for key in tags.index.take(tag) {
                entries.invalidate(&key);
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
