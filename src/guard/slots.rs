//! The failure counts, one 64-bit word per subject, so every change is a single atomic
//! compare-and-swap that any worker (any thread of any process mapping the zone) can make
//! without a lock.
//!
//! A word packs `[kind:2][tag:18][failures:12][start:32]`: `start` is the unix second the
//! current window (or lockout) began. A subject's 64-bit fingerprint chooses a bucket of
//! `BUCKET` neighbouring words and, through other bits, the tag that tells it from the other
//! subjects of the bucket. The fingerprint is a keyed hash (see `Fingerprints`), so no client can
//! aim two subjects at one word; two subjects still meet with a chance of about one in 2^18 per
//! pair sharing a bucket, and then share a count. An empty word is 0.
//!
//! Two workers recording the first failure of one subject at once pick the same free word, and
//! the compare-and-swap lets one win while the other counts again into the winner's word. Only
//! when the bucket changes between their reads can they claim two words; the subject's count is
//! then split until one expires, so it is limited somewhat later. A lock for every failure
//! would cost more than that is worth.
//!
//! Window arithmetic: a subject's failures are counted from its first one for `window`
//! seconds; the failure that reaches `max_failures` restarts `start` at its own second, and the
//! subject is limited until `start + window`. An entry past its window is as good as empty.

use std::sync::atomic::{AtomicU64, Ordering};

use super::Kind;
use crate::config::Limit;

/// Words searched per subject: one 64-byte cache line.
pub const BUCKET: usize = 8;
/// A word is rewritten at most this many times per call before the call gives up; only a
/// storm of changes to one bucket gets there, and then one failure goes uncounted.
const ATTEMPTS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    kind: u64,
    tag: u64,
    failures: u32,
    start: u32,
}

impl Entry {
    fn unpack(word: u64) -> Entry {
        Entry {
            kind: word >> 62,
            tag: (word >> 44) & 0x3_ffff,
            failures: ((word >> 32) & 0xfff) as u32,
            start: word as u32,
        }
    }

    fn pack(self) -> u64 {
        (self.kind << 62)
            | (self.tag << 44)
            | (u64::from(self.failures.min(0xfff)) << 32)
            | u64::from(self.start)
    }

    /// The second this entry stops meaning anything.
    fn ends(self, limit: Limit) -> u64 {
        u64::from(self.start) + u64::from(limit.window_seconds)
    }

    fn is_limited(self, limit: Limit) -> bool {
        limit.max_failures > 0 && self.failures >= limit.max_failures
    }
}

/// The slots of a zone (or of a process, before NGINX installs the zone).
pub struct Slots<'a> {
    words: &'a [AtomicU64],
}

impl<'a> Slots<'a> {
    /// `words` must hold at least one bucket; a partial bucket at the end is never used.
    pub fn new(words: &'a [AtomicU64]) -> Self {
        let whole = words.len() / BUCKET * BUCKET;
        Slots {
            words: &words[..whole],
        }
    }

    fn bucket(&self, fingerprint: u64) -> &'a [AtomicU64] {
        let buckets = (self.words.len() / BUCKET) as u64;
        if buckets == 0 {
            return &[];
        }
        let first = (fingerprint % buckets) as usize * BUCKET;
        &self.words[first..first + BUCKET]
    }

    /// The seconds left of the subject's lockout, or `None` when it is not limited.
    pub fn limited_for(&self, kind: Kind, fingerprint: u64, limit: Limit, now: u32) -> Option<u32> {
        let tag = tag_of(fingerprint);
        self.bucket(fingerprint)
            .iter()
            .map(|word| Entry::unpack(word.load(Ordering::Acquire)))
            .filter(|e| e.kind == kind as u64 && e.tag == tag && e.is_limited(limit))
            .map(|e| e.ends(limit).saturating_sub(u64::from(now)))
            .filter(|&left| left > 0)
            .max()
            .map(|left| left as u32)
    }

    /// Counts one failure of the subject; `true` when this failure made it limited.
    pub fn fail(&self, kind: Kind, fingerprint: u64, limit: Limit, now: u32) -> bool {
        if limit.max_failures == 0 {
            return false;
        }
        let tag = tag_of(fingerprint);
        let bucket = self.bucket(fingerprint);
        for _ in 0..ATTEMPTS {
            let words: Vec<u64> = bucket.iter().map(|w| w.load(Ordering::Acquire)).collect();
            let live = |e: Entry| u64::from(now) < e.ends(limit);
            let mine = words.iter().position(|&w| {
                let e = Entry::unpack(w);
                w != 0 && e.kind == kind as u64 && e.tag == tag && live(e)
            });
            let (index, next) = match mine {
                Some(index) => {
                    let e = Entry::unpack(words[index]);
                    if e.is_limited(limit) {
                        // Nothing runs for a limited subject; a failure that overlapped its
                        // lockout does not extend it.
                        return false;
                    }
                    (index, counted(e, 1 + e.failures, limit, now))
                }
                None => {
                    let fresh = Entry {
                        kind: kind as u64,
                        tag,
                        failures: 0,
                        start: now,
                    };
                    (victim(&words, now), counted(fresh, 1, limit, now))
                }
            };
            if bucket[index]
                .compare_exchange(
                    words[index],
                    next.pack(),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_ok()
            {
                return next.is_limited(limit);
            }
        }
        false
    }

    /// How many subjects of `kind` are limited now.
    pub fn limited_subjects(&self, kind: Kind, limit: Limit, now: u32) -> u64 {
        self.words
            .iter()
            .map(|w| w.load(Ordering::Relaxed))
            .filter(|&w| w != 0)
            .map(Entry::unpack)
            .filter(|e| e.kind == kind as u64 && e.is_limited(limit))
            .filter(|e| u64::from(now) < e.ends(limit))
            .count() as u64
    }
}

/// The entry after a failure brought it to `failures`: the one that reaches the limit starts
/// the lockout.
fn counted(entry: Entry, failures: u32, limit: Limit, now: u32) -> Entry {
    let start = if failures >= limit.max_failures {
        now
    } else {
        entry.start
    };
    Entry {
        failures,
        start,
        ..entry
    }
}

/// Where a new subject goes: an empty word, else the one whose window began longest ago
/// (an old lockout is forgotten before a recent count; see the zone's sizing in the docs).
fn victim(words: &[u64], now: u32) -> usize {
    if let Some(empty) = words.iter().position(|&w| w == 0) {
        return empty;
    }
    let age = |w: u64| now.wrapping_sub(Entry::unpack(w).start);
    (0..words.len()).max_by_key(|&i| age(words[i])).unwrap_or(0)
}

fn tag_of(fingerprint: u64) -> u64 {
    (fingerprint >> 40) & 0x3_ffff
}

#[cfg(test)]
mod tests;
