use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use parking_lot::Mutex;

use super::RevocationFence;

#[test]
fn a_validation_that_overlapped_a_revocation_caches_nothing() {
    let fence = RevocationFence::default();
    let cached = Mutex::new(false);
    let seen = fence.seen();
    fence.revoke(|| *cached.lock() = false);
    fence.remember_unless_revoked(seen, || *cached.lock() = true);
    assert!(!*cached.lock());

    // One that started after it caches as usual.
    let seen = fence.seen();
    fence.remember_unless_revoked(seen, || *cached.lock() = true);
    assert!(*cached.lock());
}

/// The interleaving that a check followed by a separate insert would lose: the revocation
/// comes after the validation's check and before its insert. It must wait for the insert,
/// then evict what it inserted.
#[test]
fn a_revocation_between_the_check_and_the_insert_still_evicts() {
    let fence = Arc::new(RevocationFence::default());
    let cached = Arc::new(Mutex::new(false));
    let (checked, on_checked) = mpsc::channel();
    let (go, on_go) = mpsc::channel::<()>();

    let validation = {
        let (fence, cached) = (fence.clone(), cached.clone());
        thread::spawn(move || {
            let seen = fence.seen();
            fence.remember_unless_revoked(seen, || {
                checked.send(()).unwrap();
                // Held here until the revocation has been started.
                let _ = on_go.recv_timeout(Duration::from_secs(5));
                *cached.lock() = true;
            });
        })
    };
    on_checked.recv().unwrap();
    let revocation = {
        let (fence, cached) = (fence.clone(), cached.clone());
        thread::spawn(move || fence.revoke(|| *cached.lock() = false))
    };
    // Give the revocation every chance to run before the insert, as it could without the lock.
    thread::sleep(Duration::from_millis(50));
    go.send(()).unwrap();
    validation.join().unwrap();
    revocation.join().unwrap();
    assert!(!*cached.lock(), "the revoked answer stayed cached");
}
