//! When a password hash may run: at most `permits` hashes at once in a worker, and at most one
//! at a time for any one username.
//!
//! A flood of wrong passwords aimed at one account would otherwise fill the worker's queue, and
//! every other user's login would wait behind all of it, past its timeout. With one lane per
//! username, the flood waits in its own lane and holds at most one of the worker's permits, so
//! a login for another username waits for at most one hash. A lane is chosen by a keyed hash of
//! the username as given, known or not: lanes do not tell which usernames exist, and nobody
//! outside can pick names that share a victim's lane. A flood spread over many usernames still
//! takes every permit; there the bound is each request's own timeout (then 503).

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Two usernames share a lane with a chance of 1 in `LANES`, and a login that shares the lane
/// of a flooded account waits behind the flood: with 64 lanes, 1 of 16 new logins during the
/// soak's floods did (720 ms instead of about 10). 1 024 lanes take well under 100 KiB per
/// worker, allocated once.
pub const LANES: usize = 1024;

pub struct HashGates {
    permits: Arc<Semaphore>,
    lanes: Vec<Arc<Semaphore>>,
    lane_key: RandomState,
}

/// The right to run one hash. It moves into the hash's thread with the hash, so it is held
/// until the hash really ends, even when the caller stopped waiting. The permit is given back
/// before the lane (fields drop in order), so that the next hash of the lane finds it free.
pub struct HashTurn {
    _permit: OwnedSemaphorePermit,
    _lane: OwnedSemaphorePermit,
}

impl HashGates {
    pub fn new(permits: usize, lanes: usize) -> Self {
        HashGates {
            permits: Arc::new(Semaphore::new(permits)),
            lanes: (0..lanes.max(1))
                .map(|_| Arc::new(Semaphore::new(1)))
                .collect(),
            lane_key: RandomState::new(),
        }
    }

    /// Waits for `username`'s lane, then for a permit: a flood waiting in one lane holds no
    /// permit. Errors only once the gates are closed.
    pub async fn enter(&self, username: &str) -> Result<HashTurn, String> {
        let closed = |_| "password checks are shutting down".to_owned();
        let lane = self.lanes[self.lane_of(username)].clone();
        let lane = lane.acquire_owned().await.map_err(closed)?;
        let permit = self.permits.clone().acquire_owned().await.map_err(closed)?;
        Ok(HashTurn {
            _permit: permit,
            _lane: lane,
        })
    }

    #[cfg(test)]
    pub fn available_permits(&self) -> usize {
        self.permits.available_permits()
    }

    pub fn lane_of(&self, username: &str) -> usize {
        (self.lane_key.hash_one(username) % self.lanes.len() as u64) as usize
    }
}
