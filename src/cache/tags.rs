//! Which keys of a cache hold a value of each tag, so that the values of one tag can be
//! forgotten without walking the cache.
//!
//! Why an index rather than a walk: forgetting one tag then costs the number of its entries,
//! however full the cache is. A walk (`TtlCache::remove_if`) costs the whole cache each time,
//! and moka's `invalidate_entries_if` only moves that walk to the background while every `get`
//! (every cache hit, on the NGINX event loop) tests the pending predicates until it is done.
//! The index is kept by the cache's eviction listener, which moka calls once for every value it
//! removes (expired, evicted, replaced or invalidated): it never holds more keys than the cache
//! holds tagged values, so it is bounded by the cache's capacity and cannot leak. A cache hit
//! never touches it.

use std::collections::HashMap;

use parking_lot::Mutex;

use super::CacheKey;

/// For each tag, its keys, each with how many values stored under it with this tag the cache
/// has not reported removed yet. A count and not a set: a replaced value is reported once its
/// successor is in place, and that report must not take the successor's key off.
#[derive(Default)]
pub struct TagIndex {
    keys: Mutex<HashMap<Box<str>, HashMap<CacheKey, u32>>>,
}

impl TagIndex {
    /// Called before a value with `tag` is stored under `key`, so that its removal, which may
    /// be reported as soon as it is stored, always finds it counted.
    pub fn stored(&self, tag: &str, key: CacheKey) {
        let mut keys = self.keys.lock();
        match keys.get_mut(tag) {
            Some(of_tag) => *of_tag.entry(key).or_insert(0) += 1,
            None => {
                keys.insert(tag.into(), HashMap::from([(key, 1)]));
            }
        }
    }

    /// Called when the cache reports the removal of a value with `tag` stored under `key`.
    /// A tag already taken (see `take`) has nothing left to count.
    pub fn removed(&self, tag: &str, key: &CacheKey) {
        let mut keys = self.keys.lock();
        let Some(of_tag) = keys.get_mut(tag) else {
            return;
        };
        if let Some(count) = of_tag.get_mut(key) {
            *count -= 1;
            if *count == 0 {
                of_tag.remove(key);
            }
        }
        if of_tag.is_empty() {
            keys.remove(tag);
        }
    }

    /// Takes the keys of `tag` out of the index, for the caller to invalidate. The lock is
    /// released on return: the cache reports each invalidation back through `removed`.
    pub fn take(&self, tag: &str) -> Vec<CacheKey> {
        self.keys
            .lock()
            .remove(tag)
            .map(|of_tag| of_tag.into_keys().collect())
            .unwrap_or_default()
    }

    /// How many (tag, key) pairs the index holds.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.keys.lock().values().map(HashMap::len).sum()
    }
}
