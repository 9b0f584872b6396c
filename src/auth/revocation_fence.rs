//! Keeps a revoked token out of the cache. A validation that started before a revocation may
//! finish after it, holding an answer the revocation made stale; it must not cache that
//! answer. So a validation notes the revocation count when it starts, and caches only if no
//! revocation came since. The check and the caching happen under the same lock as a
//! revocation's count and eviction: otherwise a revocation could count and evict between a
//! validation's check and its insert, and the stale answer would stay cached for its TTL.
//!
//! Only validations that finish and revocations take the lock, never a cache hit.

use parking_lot::Mutex;

#[derive(Default)]
pub struct RevocationFence {
    /// Revocations so far.
    revocations: Mutex<u64>,
}

/// What a validation saw when it started.
#[derive(Clone, Copy, Debug)]
pub struct Seen(u64);

impl RevocationFence {
    /// Noted when a validation starts.
    pub fn seen(&self) -> Seen {
        Seen(*self.revocations.lock())
    }

    /// Runs `remember` (the validation's insert into the cache) unless a revocation came since
    /// `seen`; no revocation can run meanwhile.
    pub fn remember_unless_revoked(&self, seen: Seen, remember: impl FnOnce()) {
        let revocations = self.revocations.lock();
        if *revocations == seen.0 {
            remember();
        }
    }

    /// A revocation: counted first, so that no validation running now caches its answer, then
    /// `evict` drops what the cache already holds. No validation can cache meanwhile.
    pub fn revoke(&self, evict: impl FnOnce()) {
        let mut revocations = self.revocations.lock();
        *revocations += 1;
        evict();
    }
}

#[cfg(test)]
mod tests;
