//! Two authenticators on one token database stand for two hosts of a fleet: a revocation
//! through one reaches the other's cache only through the listener's events. A revocation
//! through a host's own token API evicts from its cache at once, without any event.

use std::sync::Arc;
use std::time::Duration;

use super::ListenerLog;
use crate::auth::test_support::{basic, from_yaml};
use crate::auth::{Authenticator, Decision, Endpoint, Lookup, NoteLevel, Policy, Progress};
use crate::domain::{unix_now, Verdict};
use crate::store::api::{self, ApiRequest, Route};
use crate::store::revocation::{ListenerEvent, Notice};
use crate::store::test_support::TempDb;
use crate::store::{Owner, Which};

fn host(db: &TempDb) -> Arc<Authenticator> {
    from_yaml(&format!(
        r#"
providers:
  - {{ type: plain, name: local, realm: internal, users: [ {{ username: alice, password: a1 }} ] }}
store: {{ enabled: true, type: sqlite, path: "{}", cache_ttl_seconds: 300 }}
"#,
        db.path()
    ))
}

/// Alice's new token, as `POST /tokens` on `a` makes it: (Authorization value, public id).
async fn token_of_alice(a: &Arc<Authenticator>) -> (String, String) {
    let Verdict::Authenticated(identity) = validated(a, &basic("alice", "a1")).await else {
        panic!("alice logs in");
    };
    let create = Route::Create {
        status: 201,
        expires_in: None,
        description: None,
    };
    let made = api::perform(a.store().unwrap(), &identity, create, unix_now())
        .await
        .expect("the store is up")
        .response;
    let made: serde_json::Value = serde_json::from_slice(&made.body).unwrap();
    let token = made["token"].as_str().unwrap();
    let id = made["id"].as_str().unwrap();
    (format!("Bearer {token}"), id.to_owned())
}

async fn validated(a: &Arc<Authenticator>, authorization: &str) -> Verdict {
    match a.look_up(Some(authorization.as_bytes()), None) {
        Lookup::Answered(outcome) => outcome.verdict,
        Lookup::NeedsProviders(job) => a.clone().validate(job).await.verdict,
    }
}

/// What the cache alone answers, without any provider.
fn cached(a: &Authenticator, authorization: &str) -> Option<Verdict> {
    match a.look_up(Some(authorization.as_bytes()), None) {
        Lookup::Answered(outcome) => Some(outcome.verdict),
        Lookup::NeedsProviders(_) => None,
    }
}

/// Revokes as another host does: in the shared database, nothing in this host's memory.
async fn revoke_elsewhere(other: &Authenticator, id: &str) {
    let owner = Owner {
        realm: "internal".to_owned(),
        username: "alice".to_owned(),
    };
    let store = other.store().unwrap();
    let revoked = store.revoke(owner, Which::Id(id.to_owned())).await.unwrap();
    assert_eq!(revoked, [id]);
}

#[tokio::test]
async fn an_announced_revocation_evicts_the_cached_token_at_once() {
    let db = TempDb::new("announced");
    let (here, there) = (host(&db), host(&db));
    let (token, id) = token_of_alice(&there).await;
    assert!(matches!(
        validated(&here, &token).await,
        Verdict::Authenticated(_)
    ));
    revoke_elsewhere(&there, &id).await;
    // Without an announcement the cached answer stands (the TTL bound).
    assert!(matches!(
        cached(&here, &token),
        Some(Verdict::Authenticated(_))
    ));

    let password = basic("alice", "a1");
    assert!(matches!(
        validated(&here, &password).await,
        Verdict::Authenticated(_)
    ));

    here.on_listener_event(&ListenerEvent::Revoked(Notice::Revoked(id)));
    assert!(cached(&here, &token).is_none(), "evicted");
    assert!(matches!(validated(&here, &token).await, Verdict::Rejected));
    // Only store tokens go: other credentials stay cached.
    assert!(matches!(
        cached(&here, &password),
        Some(Verdict::Authenticated(_))
    ));
}

/// `validated` and `cached` with a realm selection.
async fn validated_in(a: &Arc<Authenticator>, authorization: &str, realm: &str) -> Verdict {
    match a.look_up(Some(authorization.as_bytes()), Some(realm)) {
        Lookup::Answered(outcome) => outcome.verdict,
        Lookup::NeedsProviders(job) => a.clone().validate(job).await.verdict,
    }
}

fn cached_in(a: &Authenticator, authorization: &str, realm: &str) -> Option<Verdict> {
    match a.look_up(Some(authorization.as_bytes()), Some(realm)) {
        Lookup::Answered(outcome) => Some(outcome.verdict),
        Lookup::NeedsProviders(_) => None,
    }
}

fn is_authenticated(verdict: Option<Verdict>) -> bool {
    matches!(verdict, Some(Verdict::Authenticated(_)))
}

/// Caches both tokens at `here`, token `one` twice: without a realm selection, and for realm
/// "internal".
async fn cache_both(here: &Arc<Authenticator>, one: &str, two: &str) {
    for token in [one, two] {
        assert!(matches!(
            validated(here, token).await,
            Verdict::Authenticated(_)
        ));
    }
    assert!(matches!(
        validated_in(here, one, "internal").await,
        Verdict::Authenticated(_)
    ));
}

/// Token `one` is gone from the cache of `here`, for every realm selection, and refused;
/// token `two` is still answered from the cache, without a store lookup.
async fn only_one_evicted(here: &Arc<Authenticator>, one: &str, two: &str) {
    assert!(cached(here, one).is_none(), "evicted");
    assert!(
        cached_in(here, one, "internal").is_none(),
        "evicted, for the realm too"
    );
    assert!(matches!(validated(here, one).await, Verdict::Rejected));
    assert!(
        is_authenticated(cached(here, two)),
        "token two stays cached"
    );
}

#[tokio::test]
async fn a_revocation_evicts_every_entry_of_its_token_and_keeps_the_other_tokens() {
    let db = TempDb::new("one-token");
    let (here, there) = (host(&db), host(&db));
    let (one, one_id) = token_of_alice(&there).await;
    let (two, _) = token_of_alice(&there).await;
    cache_both(&here, &one, &two).await;
    assert!(is_authenticated(cached_in(&here, &one, "internal")));

    revoke_elsewhere(&there, &one_id).await;
    here.on_listener_event(&ListenerEvent::Revoked(Notice::Revoked(one_id)));
    only_one_evicted(&here, &one, &two).await;

    // A reconnection cannot know what it missed: every store token goes.
    here.on_listener_event(&ListenerEvent::Listening);
    assert!(
        cached(&here, &two).is_none(),
        "token two evicted on reconnection"
    );
    assert!(matches!(
        validated(&here, &two).await,
        Verdict::Authenticated(_)
    ));
}

#[tokio::test]
async fn reconnecting_evicts_too_and_losing_the_connection_does_not() {
    let db = TempDb::new("reconnect");
    let (here, there) = (host(&db), host(&db));
    let (token, id) = token_of_alice(&there).await;
    assert!(matches!(
        validated(&here, &token).await,
        Verdict::Authenticated(_)
    ));

    here.on_listener_event(&ListenerEvent::Lost("gone".to_owned()));
    assert!(matches!(
        cached(&here, &token),
        Some(Verdict::Authenticated(_))
    ));
    // Revoked while nobody listened: the announcement is lost, the reconnection makes up
    // for it.
    revoke_elsewhere(&there, &id).await;
    here.on_listener_event(&ListenerEvent::Listening);
    assert!(matches!(validated(&here, &token).await, Verdict::Rejected));
}

#[tokio::test]
async fn an_unrecognised_announcement_still_evicts() {
    let db = TempDb::new("unrecognised");
    let (here, there) = (host(&db), host(&db));
    let (token, _) = token_of_alice(&there).await;
    assert!(matches!(
        validated(&here, &token).await,
        Verdict::Authenticated(_)
    ));
    here.on_listener_event(&ListenerEvent::Revoked(Notice::Unrecognised));
    assert!(cached(&here, &token).is_none());
}

#[test]
fn the_log_has_one_line_per_change_of_state() {
    let ttl = Duration::from_secs(300);
    let mut log = ListenerLog::default();
    let lost = |reason: &str| ListenerEvent::Lost(reason.to_owned());
    let revoked = ListenerEvent::Revoked(Notice::Unrecognised);

    // Never connected: one warning, however many attempts fail.
    let first = log.line(&lost("refused"), ttl).expect("a warning");
    assert_eq!(first.level, NoteLevel::Warn);
    assert!(
        first.text.contains("refused") && first.text.contains("300 s"),
        "{}",
        first.text
    );
    assert!(log.line(&lost("refused"), ttl).is_none());
    assert!(log.line(&lost("timed out"), ttl).is_none());

    let up = log.line(&ListenerEvent::Listening, ttl).expect("back");
    assert_eq!(up.level, NoteLevel::Info);
    assert!(log.line(&revoked, ttl).is_none());
    assert!(log.line(&ListenerEvent::Listening, ttl).is_none());
    assert!(log.line(&lost("terminated"), ttl).is_some());
    assert!(log.line(&lost("refused"), ttl).is_none());
}

/// `DELETE <path>` through `a`'s token API, logged in with alice's password: the status.
async fn delete_through_api(a: &Arc<Authenticator>, path: &str) -> u16 {
    let tokens = Arc::new(Policy {
        endpoint: Some(Endpoint::Tokens),
        ..Policy::default()
    });
    let password = basic("alice", "a1");
    let request = || ApiRequest {
        method: "DELETE".into(),
        path: path.to_owned(),
        query: String::new(),
    };
    let ruling = match a.begin(&tokens, Some(password.as_bytes()), || None, request, || b"") {
        Progress::Decided(ruling) => ruling,
        Progress::Running(work) => work.await,
    };
    let Decision::Allowed(allowed) = ruling.decision else {
        panic!("alice may use the token API");
    };
    allowed.api_response.expect("the API answered").status
}

#[tokio::test]
async fn a_revocation_through_this_hosts_api_evicts_that_token_only() {
    let db = TempDb::new("own-api");
    let here = host(&db);
    let (one, _) = token_of_alice(&here).await;
    let (two, two_id) = token_of_alice(&here).await;
    cache_both(&here, &one, &two).await;

    // Named by itself, as upstream's route takes it: only the database knows its id.
    let secret = one.strip_prefix("Bearer ").unwrap();
    assert_eq!(
        delete_through_api(&here, &format!("/tokens/{secret}")).await,
        204
    );
    only_one_evicted(&here, &one, &two).await;
    assert!(
        is_authenticated(cached(&here, &basic("alice", "a1"))),
        "the password stays cached"
    );

    // A revocation that deleted nothing evicts nothing.
    assert_eq!(
        delete_through_api(&here, &format!("/tokens/{secret}")).await,
        404
    );
    assert!(is_authenticated(cached(&here, &two)));

    // Named by its id, as a listing shows it.
    assert_eq!(
        delete_through_api(&here, &format!("/tokens/{two_id}")).await,
        204
    );
    assert!(cached(&here, &two).is_none(), "evicted by id");
    assert!(matches!(validated(&here, &two).await, Verdict::Rejected));
}
