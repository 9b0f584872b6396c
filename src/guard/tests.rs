use super::*;
use crate::domain::Scheme;

fn settings() -> GuardSettings {
    GuardSettings {
        enabled: true,
        subjects: 64,
        address: Limit {
            max_failures: 10,
            window_seconds: 60,
        },
        ..GuardSettings::default()
    }
}

const ALICE: [(&Scheme, &str); 1] = [(&Scheme::Basic, "YWxpY2U6b25l")];

#[test]
fn off_means_no_guard() {
    assert!(Guard::new(&GuardSettings::default()).unwrap().is_none());
}

#[test]
fn the_sixth_attempt_within_the_window_is_limited_by_the_username() {
    let guard = Guard::new(&settings()).unwrap().unwrap();
    let subjects = guard.subjects(ALICE, None, b"10.0.0.1");
    for second in 0..5 {
        assert_eq!(guard.limited_at(&subjects, 100 + second), None);
        guard.failed_at(&subjects, 100 + second);
    }
    assert_eq!(
        guard.limited_at(&subjects, 104),
        Some(Limited {
            kind: Kind::Basic,
            retry_after: 60
        })
    );
    // Another user from the same address is not limited yet (address limit 10).
    let bob = [(&Scheme::Basic, "Ym9iOng=")];
    assert_eq!(
        guard.limited_at(&guard.subjects(bob, None, b"10.0.0.1"), 104),
        None
    );
    assert_eq!(guard.limited_at(&subjects, 164), None);
}

#[test]
fn a_kind_with_no_limit_has_no_subjects() {
    let mut s = settings();
    s.address.max_failures = 0;
    let guard = Guard::new(&s).unwrap().unwrap();
    let subjects = guard.subjects(ALICE, None, b"10.0.0.1");
    assert_eq!(subjects.len(), 1);
    assert_eq!(subjects[0].kind, Kind::Basic);
}

#[test]
fn a_reused_zone_keeps_its_key_and_counts_and_a_new_one_starts_empty() {
    let region: &'static [AtomicU64] = Box::leak(
        (0..zone::HEADER_WORDS + 64)
            .map(|_| AtomicU64::new(0))
            .collect(),
    );
    let (slots, key) = zone::open(region, 64, false).unwrap();
    slots[3].store(9, std::sync::atomic::Ordering::Relaxed);
    let (again, same) = zone::open(region, 64, true).unwrap();
    assert_eq!(same, key);
    assert_eq!(again[3].load(std::sync::atomic::Ordering::Relaxed), 9);
    let (fresh, other) = zone::open(region, 64, false).unwrap();
    assert_ne!(other, key);
    assert_eq!(fresh[3].load(std::sync::atomic::Ordering::Relaxed), 0);
    assert!(zone::open(region, 65, true).is_err());
}
