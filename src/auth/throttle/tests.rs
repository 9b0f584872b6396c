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
        Some(
            "provider \"p\" could not decide: down (1 similar line not logged since the last one)"
        )
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
