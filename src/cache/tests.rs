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
