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
mod tests {
    use super::*;
    use std::sync::Arc;

    #[derive(Clone)]
    struct FakeClock(Arc<Mutex<Instant>>);

    impl FakeClock {
        fn new() -> Self {
            FakeClock(Arc::new(Mutex::new(Instant::now())))
        }

        fn advance(&self, by: Duration) {
            *self.0.lock() += by;
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            *self.0.lock()
        }
    }

    fn throttle() -> (FakeClock, LogThrottle<FakeClock>) {
        let clock = FakeClock::new();
        (clock.clone(), LogThrottle::new(clock, WINDOW))
    }

    #[test]
    fn one_line_per_window_then_the_count_of_dropped_ones() {
        let (clock, t) = throttle();
        assert_eq!(t.admit("a"), Some(0));
        for _ in 0..5 {
            clock.advance(Duration::from_secs(5));
            assert_eq!(t.admit("a"), None);
        }
        // 25 s after the first line: still inside its window.
        clock.advance(Duration::from_millis(4_999));
        assert_eq!(t.admit("a"), None);
        clock.advance(Duration::from_millis(1));
        assert_eq!(t.admit("a"), Some(6));
        // A new window opened with that line, and the count starts again.
        clock.advance(Duration::from_secs(1));
        assert_eq!(t.admit("a"), None);
        clock.advance(Duration::from_secs(30));
        assert_eq!(t.admit("a"), Some(1));
        clock.advance(Duration::from_secs(600));
        assert_eq!(t.admit("a"), Some(0));
    }

    #[test]
    fn keys_are_throttled_independently() {
        let (clock, t) = throttle();
        assert_eq!(t.admit("a"), Some(0));
        assert_eq!(t.admit("b"), Some(0));
        assert_eq!(t.admit("a"), None);
        clock.advance(Duration::from_secs(10));
        assert_eq!(t.admit("c"), Some(0));
        assert_eq!(t.admit("b"), None);
        clock.advance(Duration::from_secs(20));
        assert_eq!(t.admit("a"), Some(1));
        assert_eq!(t.admit("b"), Some(1));
        assert_eq!(t.admit("c"), None);
    }

    #[test]
    fn the_line_says_how_many_were_dropped() {
        let (clock, t) = throttle();
        let line = || "provider \"p\" could not decide: down".to_owned();
        assert_eq!(
            t.line("p", line).as_deref(),
            Some("provider \"p\" could not decide: down")
        );
        assert_eq!(
            t.line("p", || unreachable!("dropped lines are not formatted")),
            None
        );
        clock.advance(WINDOW);
        assert_eq!(
            t.line("p", line).as_deref(),
            Some("provider \"p\" could not decide: down (1 similar line not logged since the last one)")
        );
        t.line("p", line);
        t.line("p", line);
        clock.advance(WINDOW);
        assert!(t
            .line("p", line)
            .unwrap()
            .ends_with("(2 similar lines not logged since the last one)"));
    }

    #[test]
    fn a_clock_going_backwards_does_not_reopen_the_window() {
        let (clock, t) = throttle();
        clock.advance(Duration::from_secs(60));
        assert_eq!(t.admit("a"), Some(0));
        *clock.0.lock() -= Duration::from_secs(60);
        assert_eq!(t.admit("a"), None);
    }
}
