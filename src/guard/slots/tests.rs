use super::*;

const LIMIT: Limit = Limit {
    max_failures: 3,
    window_seconds: 60,
};
const T: u32 = 1_000_000;

fn words(n: usize) -> Vec<AtomicU64> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

#[test]
fn the_failure_that_reaches_the_limit_starts_a_lockout_of_one_window() {
    let w = words(64);
    let slots = Slots::new(&w);
    assert!(!slots.fail(Kind::Basic, 42, LIMIT, T));
    assert!(!slots.fail(Kind::Basic, 42, LIMIT, T + 10));
    assert_eq!(slots.limited_for(Kind::Basic, 42, LIMIT, T + 10), None);
    assert!(slots.fail(Kind::Basic, 42, LIMIT, T + 20));
    assert_eq!(slots.limited_for(Kind::Basic, 42, LIMIT, T + 20), Some(60));
    assert_eq!(slots.limited_for(Kind::Basic, 42, LIMIT, T + 79), Some(1));
    assert_eq!(slots.limited_for(Kind::Basic, 42, LIMIT, T + 80), None);
    assert_eq!(slots.limited_subjects(Kind::Basic, LIMIT, T + 30), 1);
    assert_eq!(slots.limited_subjects(Kind::Basic, LIMIT, T + 80), 0);
}

#[test]
fn failures_older_than_the_window_are_forgotten() {
    let w = words(64);
    let slots = Slots::new(&w);
    slots.fail(Kind::Basic, 42, LIMIT, T);
    slots.fail(Kind::Basic, 42, LIMIT, T + 1);
    // The window opened at T closes at T + 60: this is a first failure again.
    assert!(!slots.fail(Kind::Basic, 42, LIMIT, T + 60));
    assert!(!slots.fail(Kind::Basic, 42, LIMIT, T + 61));
    assert!(slots.fail(Kind::Basic, 42, LIMIT, T + 62));
}

#[test]
fn a_failure_during_a_lockout_does_not_extend_it() {
    let w = words(64);
    let slots = Slots::new(&w);
    for _ in 0..3 {
        slots.fail(Kind::Basic, 42, LIMIT, T);
    }
    assert!(!slots.fail(Kind::Basic, 42, LIMIT, T + 30));
    assert_eq!(slots.limited_for(Kind::Basic, 42, LIMIT, T + 30), Some(30));
}

#[test]
fn subjects_and_kinds_are_counted_apart() {
    let w = words(64);
    let slots = Slots::new(&w);
    for _ in 0..3 {
        slots.fail(Kind::Basic, 42, LIMIT, T);
    }
    assert_eq!(slots.limited_for(Kind::Basic, 43 << 40, LIMIT, T), None);
    assert_eq!(slots.limited_for(Kind::Address, 42, LIMIT, T), None);
    assert_eq!(slots.limited_subjects(Kind::Address, LIMIT, T), 0);
}

#[test]
fn a_zero_limit_counts_nothing() {
    let w = words(64);
    let slots = Slots::new(&w);
    let off = Limit {
        max_failures: 0,
        ..LIMIT
    };
    for _ in 0..10 {
        assert!(!slots.fail(Kind::Bearer, 1, off, T));
    }
    assert!(w.iter().all(|w| w.load(Ordering::Relaxed) == 0));
}

#[test]
fn a_full_bucket_gives_up_its_oldest_entry() {
    let w = words(BUCKET);
    let slots = Slots::new(&w);
    // One bucket: every fingerprint lands in it; tags differ by the bits above 40.
    for i in 0..BUCKET as u64 {
        slots.fail(Kind::Basic, i << 40, LIMIT, T + i as u32);
    }
    slots.fail(Kind::Basic, 99 << 40, LIMIT, T + 20);
    // The first subject (the oldest window) went; the second is still counted.
    let starts: Vec<u32> = w
        .iter()
        .map(|w| Entry::unpack(w.load(Ordering::Relaxed)).start)
        .collect();
    assert!(!starts.contains(&T));
    assert!(starts.contains(&(T + 1)));
    assert!(starts.contains(&(T + 20)));
}

#[test]
fn an_entry_packs_and_unpacks() {
    let e = Entry {
        kind: 2,
        tag: 0x3_ffff,
        failures: 4095,
        start: u32::MAX,
    };
    assert_eq!(Entry::unpack(e.pack()), e);
}

#[test]
fn counts_from_several_threads_all_land() {
    let w = words(64);
    let slots = Slots::new(&w);
    let big = Limit {
        max_failures: 4000,
        window_seconds: 60,
    };
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..200 {
                    slots.fail(Kind::Basic, 7, big, T);
                }
            });
        }
    });
    let e = w
        .iter()
        .map(|w| Entry::unpack(w.load(Ordering::Relaxed)))
        .find(|e| e.failures > 0)
        .unwrap();
    assert_eq!(e.failures, 800);
}
