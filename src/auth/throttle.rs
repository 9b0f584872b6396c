//! Throttling of repetitive log lines, as upstream does: a line of one kind is written at most
//! once per window (30 s) per key, and the next one written says how many were dropped in
//! between. An outage of a busy provider would otherwise write a warning per request.
//!
//! The state is per `Authenticator`, so per worker and per loaded config. Keys name configured
//! providers and augmenters, never anything a client sends, so the map stays as small as the
//! config.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Upstream's window.
pub const WINDOW: Duration = Duration::from_secs(30);

/// Where the throttle reads the time; tests substitute a clock they move by hand.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

pub struct LogThrottle<C: Clock = SystemClock> {
    clock: C,
    window: Duration,
    keys: Mutex<HashMap<String, Window>>,
}

struct Window {
    /// When the last line for the key was written.
    opened: Instant,
    /// Lines dropped since.
    suppressed: u64,
}

impl Default for LogThrottle<SystemClock> {
    fn default() -> Self {
        LogThrottle::new(SystemClock, WINDOW)
    }
}

impl<C: Clock> LogThrottle<C> {
    pub fn new(clock: C, window: Duration) -> Self {
        LogThrottle {
            clock,
            window,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a line for `key` may be written now: `Some(n)`, with `n` the lines dropped since
    /// the last one written for the key, or `None` to drop this one.
    pub fn admit(&self, key: &str) -> Option<u64> {
        let now = self.clock.now();
        let mut keys = self.keys.lock();
        let Some(window) = keys.get_mut(key) else {
            keys.insert(
                key.to_owned(),
                Window {
                    opened: now,
                    suppressed: 0,
                },
            );
            return Some(0);
        };
        if now.saturating_duration_since(window.opened) < self.window {
            window.suppressed += 1;
            return None;
        }
        let suppressed = window.suppressed;
        *window = Window {
            opened: now,
            suppressed: 0,
        };
        Some(suppressed)
    }

    /// `line`, with the count of dropped lines when there were any; `None` when this one is
    /// dropped.
    pub fn line(&self, key: &str, line: impl FnOnce() -> String) -> Option<String> {
        let suppressed = self.admit(key)?;
        let mut line = line();
        if suppressed > 0 {
            let s = if suppressed == 1 { "" } else { "s" };
            line.push_str(&format!(
                " ({suppressed} similar line{s} not logged since the last one)"
            ));
        }
        Some(line)
    }
}

#[cfg(test)]
mod tests;
