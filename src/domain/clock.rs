//! Wall-clock time in the seconds JWTs and the token store count in.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// How long from now until the start of the whole second `at`, to the nanosecond; zero once it
/// has begun. An entry kept exactly that long is never seen in the second `at`.
pub fn time_until(at: i64) -> Duration {
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(at).unwrap_or(0));
    at.duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}
