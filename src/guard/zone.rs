//! The guard's shared zone: a small header, then the slots. The header keeps the hash key, so a
//! reload that reuses the zone finds its subjects (and their counts) again.

use std::sync::atomic::{AtomicU64, Ordering};

use super::KEY_LEN;

const MAGIC: u64 = u64::from_le_bytes(*b"aotguard");
/// Magic, slot count, then the key.
pub const HEADER_WORDS: usize = 2 + KEY_LEN / 8;

/// Formats `region` (zeroed or not) for `words` slots with a fresh random key, or, with `reuse`,
/// takes over a region an earlier call formatted for the same number of slots.
pub fn open(
    region: &'static [AtomicU64],
    words: usize,
    reuse: bool,
) -> Result<(&'static [AtomicU64], [u8; KEY_LEN]), String> {
    if region.len() < HEADER_WORDS + words {
        return Err("the guard zone is too small".to_owned());
    }
    let (header, slots) = region.split_at(HEADER_WORDS);
    let slots = &slots[..words];
    let formatted = header[0].load(Ordering::Acquire) == MAGIC
        && header[1].load(Ordering::Acquire) == words as u64;
    if !(reuse && formatted) {
        let mut key = [0u8; KEY_LEN];
        getrandom::fill(&mut key).map_err(|e| format!("no randomness for the guard: {e}"))?;
        for (word, bytes) in header[2..].iter().zip(key.chunks_exact(8)) {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(bytes);
            word.store(u64::from_le_bytes(eight), Ordering::Relaxed);
        }
        for slot in slots {
            slot.store(0, Ordering::Relaxed);
        }
        header[1].store(words as u64, Ordering::Relaxed);
        header[0].store(MAGIC, Ordering::Release);
    }
    let mut key = [0u8; KEY_LEN];
    for (word, bytes) in header[2..].iter().zip(key.chunks_exact_mut(8)) {
        bytes.copy_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
    }
    Ok((slots, key))
}
