//! Password checks for the plain provider: constant-time plaintext comparison, and Argon2id or
//! bcrypt verification on threads of their own, at low priority, so no hash ever runs on the
//! NGINX event loop or takes a core from it.

use std::sync::{Arc, OnceLock};

use argon2::PasswordHash;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use gates::HashGates;

/// Hash verifications allowed at once per worker. Argon2 is memory-hard by design; a burst of
/// wrong passwords must not take every core and gigabytes of memory.
const CONCURRENT_HASH_CHECKS: usize = 2;

/// How a configured user's password is stored.
#[derive(Clone)]
pub enum StoredPassword {
    /// SHA-256 of the plaintext, so comparison time depends on neither length nor content.
    Plain([u8; 32]),
    /// An Argon2id or bcrypt string, validated when the config was loaded.
    Hash(Arc<str>),
}

impl StoredPassword {
    pub fn plain(password: &str) -> Self {
        StoredPassword::Plain(digest(password))
    }

    pub fn hashed(phc: &str) -> Self {
        StoredPassword::Hash(phc.into())
    }
}

pub fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

pub fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.ct_eq(b).into()
}

/// Verifies `password`, given for `username`, against a hash off the event loop. A hash that
/// fails to parse counts as a mismatch (config loading already rejected malformed ones).
pub async fn verify_hash(username: &str, hash: Arc<str>, password: String) -> Result<bool, String> {
    verify_hash_within(hash_gates(), username, hash, password).await
}

/// The turn moves into the hash's thread. A caller that gives up (its provider
/// timed out) stops waiting, but a hash cannot be stopped: it keeps its turn until it really
/// ends, so a flood of wrong passwords never has more hashes, and their Argon2 memory, at once
/// than the gates allow. Callers beyond that wait, each at most its own timeout.
async fn verify_hash_within(
    gates: &HashGates,
    username: &str,
    hash: Arc<str>,
    password: String,
) -> Result<bool, String> {
    let turn = gates.enter(username).await?;
    let (verified, answer) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(HASH_THREAD.to_owned())
        .spawn(move || {
            yield_to_the_event_loop();
            let result = verify_hash_now(&hash, &password);
            drop(turn);
            let _ = verified.send(result);
        })
        .map_err(|e| format!("password check failed: {e}"))?;
    answer.await.map_err(|_| "password check failed".to_owned())
}

/// Hashes run on threads of their own, at most the gates' permits at once, started per hash
/// (microseconds, against milliseconds of hashing).
const HASH_THREAD: &str = "authotron-hash";

/// Lowers this thread's priority (Linux: `nice` is per thread), so that on a busy machine
/// NGINX's event loop, which answers cached requests in microseconds, gets the CPU before a
/// flood's hashes do. A thread can always lower its own priority; if the call fails anyway, the
/// hash runs at normal priority, as before.
fn yield_to_the_event_loop() {
    // SAFETY: setpriority reads no memory; `who` 0 is the calling thread.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, HASH_NICENESS) };
}

/// Enough for the event loop to win nearly every contest for a core (a weight of 110 against
/// 1024 for nice 0), while hashes still get what the event loop leaves.
const HASH_NICENESS: libc::c_int = 10;

fn verify_hash_now(hash: &str, password: &str) -> bool {
    if hash.starts_with("$2") {
        return bcrypt::verify(password, hash).unwrap_or(false);
    }
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2_memory::verify(&parsed, password.as_bytes()),
        Err(_) => false,
    }
}

fn hash_gates() -> &'static HashGates {
    static GATES: OnceLock<HashGates> = OnceLock::new();
    GATES.get_or_init(|| HashGates::new(CONCURRENT_HASH_CHECKS, gates::LANES))
}

mod argon2_memory;
mod gates;

#[cfg(test)]
mod tests;
