use std::time::Duration;

use super::*;
use crate::store::token;

#[test]
fn the_payload_is_the_public_id_and_reads_back_as_a_revocation() {
    let fresh = token::generate().unwrap();
    let payload = payload(&fresh.id);
    assert_eq!(Notice::parse(&payload), Notice::Revoked(fresh.id.clone()));
    // Nothing that lets anyone use the token, or look it up in the store, travels.
    assert!(!payload.contains(&fresh.secret));
    assert!(!payload.contains(&fresh.hash));
    assert!(!payload.contains(token::PREFIX));
}

#[test]
fn other_payloads_are_unrecognised() {
    let fresh = token::generate().unwrap();
    for other in [
        "",
        fresh.secret.as_str(),
        fresh.hash.as_str(),
        "0123456789ABCDEF0123456789ABCDEF",
        "v2 0123456789abcdef0123456789abcdef",
    ] {
        assert_eq!(Notice::parse(other), Notice::Unrecognised, "{other:?}");
    }
}

#[test]
fn backoff_doubles_up_to_its_bound_and_starts_over_after_a_success() {
    let mut backoff = Backoff::default();
    let waits: Vec<Duration> = (0..10).map(|_| backoff.next_wait()).collect();
    assert_eq!(waits[0], Backoff::FIRST);
    assert_eq!(waits[1], Backoff::FIRST * 2);
    assert!(waits.windows(2).all(|w| w[0] <= w[1]), "{waits:?}");
    assert_eq!(*waits.last().unwrap(), Backoff::LONGEST);
    backoff.reset();
    assert_eq!(backoff.next_wait(), Backoff::FIRST);
}
