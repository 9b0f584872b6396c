use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn keys_depend_on_realm_and_header() {
    let k = cache_key(None, b"Basic x");
    assert_eq!(k, cache_key(None, b"Basic x"));
    assert_ne!(k, cache_key(Some(""), b"Basic x"));
    assert_ne!(k, cache_key(Some("a"), b"Basic x"));
    assert_ne!(cache_key(Some("ab"), b"c"), cache_key(Some("a"), b"bc"));
    assert_ne!(k, cache_key(None, b"Basic y"));
}

#[test]
fn entries_expire_and_zero_ttl_is_not_stored() {
    let cache = TtlCache::new(10);
    cache.insert([1; 32], "short", Duration::from_millis(50));
    cache.insert([2; 32], "never", Duration::ZERO);
    assert_eq!(cache.get(&[1; 32]), Some("short"));
    assert_eq!(cache.get(&[2; 32]), None);
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(cache.get(&[1; 32]), None);
}

#[test]
fn a_flood_of_keys_stays_within_capacity() {
    let cache = TtlCache::new(100);
    for n in 0..10_000u32 {
        let mut key = [0; 32];
        key[..4].copy_from_slice(&n.to_le_bytes());
        cache.insert(key, n, Duration::from_secs(60));
    }
    let entries = cache.entries.as_ref().unwrap();
    entries.run_pending_tasks();
    assert!(entries.entry_count() <= 100, "{}", entries.entry_count());
}

#[test]
fn zero_capacity_disables() {
    let cache = TtlCache::new(0);
    cache.insert([1; 32], 1, Duration::from_secs(60));
    assert_eq!(cache.get(&[1; 32]), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_share_one_run() {
    let flight = Arc::new(SingleFlight::<u8, usize>::default());
    let runs = Arc::new(AtomicUsize::new(0));
    let calls = (0..64).map(|_| {
        let (flight, runs) = (flight.clone(), runs.clone());
        tokio::spawn(async move {
            flight
                .run(7, || async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    runs.fetch_add(1, Ordering::SeqCst) + 100
                })
                .await
        })
    });
    let results = futures::future::join_all(calls).await;
    assert!(results.into_iter().all(|r| r.unwrap() == 100));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(flight.in_flight(), 0);
}

#[tokio::test]
async fn a_cancelled_leader_hands_over() {
    let flight = Arc::new(SingleFlight::<u8, &'static str>::default());
    let leader = {
        let flight = flight.clone();
        tokio::spawn(async move {
            flight
                .run(1, futures::future::pending::<&'static str>)
                .await
        })
    };
    tokio::task::yield_now().await;
    let follower = {
        let flight = flight.clone();
        tokio::spawn(async move { flight.run(1, || async { "follower" }).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    leader.abort();
    assert_eq!(follower.await.unwrap(), "follower");
    assert_eq!(flight.in_flight(), 0);
}

#[test]
fn remove_if_forgets_only_the_doomed_entries() {
    let cache = TtlCache::new(100);
    for n in 0..50u8 {
        cache.insert([n; 32], n, Duration::from_secs(60));
    }
    cache.remove_if(|n| n % 2 == 0);
    for n in 0..50u8 {
        let expected = (n % 2 == 1).then_some(n);
        assert_eq!(cache.get(&[n; 32]), expected, "entry {n}");
    }
}

/// Values tagged by their first part (a token id, for the verdicts cache).
type Tagged = (Option<&'static str>, u8);

fn tag_of(value: &Tagged) -> Option<&str> {
    value.0
}

fn tags_of(cache: &TtlCache<Tagged>) -> usize {
    cache.tags.as_ref().unwrap().index.len()
}

#[test]
fn remove_tagged_forgets_every_entry_of_the_tag_and_no_other() {
    let cache = TtlCache::tagged(100, tag_of);
    let ttl = Duration::from_secs(60);
    // Tag a under three keys (three spellings or realm selections of one token).
    for n in 0..3 {
        cache.insert([n; 32], (Some("a"), n), ttl);
    }
    cache.insert([10; 32], (Some("b"), 10), ttl);
    cache.insert([11; 32], (None, 11), ttl);
    cache.remove_tagged("a");
    for n in 0..3 {
        assert_eq!(cache.get(&[n; 32]), None, "entry {n} of a");
    }
    assert_eq!(cache.get(&[10; 32]), Some((Some("b"), 10)));
    assert_eq!(cache.get(&[11; 32]), Some((None, 11)));
    // An unknown tag, or one already removed, removes nothing.
    cache.remove_tagged("a");
    cache.remove_tagged("c");
    assert_eq!(cache.get(&[10; 32]), Some((Some("b"), 10)));
    assert_eq!(tags_of(&cache), 1, "only b's key is left in the index");
}

#[test]
fn a_value_stored_again_under_its_key_is_still_removed_by_its_tag() {
    let cache = TtlCache::tagged(100, tag_of);
    let ttl = Duration::from_secs(60);
    cache.insert([1; 32], (Some("a"), 1), ttl);
    // Replaced by the same tag: the report of the old value must not untrack the new one.
    cache.insert([1; 32], (Some("a"), 2), ttl);
    cache.entries.as_ref().unwrap().run_pending_tasks();
    assert_eq!(tags_of(&cache), 1);
    cache.remove_tagged("a");
    assert_eq!(cache.get(&[1; 32]), None);
    // Replaced by an untagged value: the key leaves the index.
    cache.insert([2; 32], (Some("a"), 3), ttl);
    cache.insert([2; 32], (None, 4), ttl);
    cache.entries.as_ref().unwrap().run_pending_tasks();
    assert_eq!(tags_of(&cache), 0);
}

#[test]
fn the_tag_index_follows_expiry_eviction_and_removal_and_does_not_leak() {
    let cache = TtlCache::tagged(100, tag_of);
    let entries = cache.entries.as_ref().unwrap();
    let tags: Vec<&'static str> = (0..50)
        .map(|n| &*Box::leak(format!("t{n}").into_boxed_str()))
        .collect();
    // Ten times the capacity: most entries are evicted for room.
    for n in 0..1000u32 {
        let mut key = [0; 32];
        key[..4].copy_from_slice(&n.to_le_bytes());
        let value = (Some(tags[n as usize % 50]), 0);
        cache.insert(key, value, Duration::from_secs(60));
    }
    entries.run_pending_tasks();
    assert!(entries.entry_count() <= 100, "{}", entries.entry_count());
    assert_eq!(tags_of(&cache) as u64, entries.entry_count());

    cache.remove_if(|(tag, _)| *tag == Some("t0"));
    entries.run_pending_tasks();
    assert_eq!(tags_of(&cache) as u64, entries.entry_count());

    // Short-lived entries: once expired and swept (moka sweeps expired entries in about
    // one-second steps), nothing of them is left in the index.
    cache.clear();
    entries.run_pending_tasks();
    assert_eq!(tags_of(&cache), 0, "cleared");
    for n in 0..20u8 {
        cache.insert([n; 32], (Some("short"), n), Duration::from_millis(20));
    }
    entries.run_pending_tasks();
    assert_eq!(tags_of(&cache), 20);
    let deadline = Instant::now() + Duration::from_secs(10);
    while entries.entry_count() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        entries.run_pending_tasks();
    }
    assert_eq!(entries.entry_count(), 0, "swept");
    assert_eq!(tags_of(&cache), 0);
}
