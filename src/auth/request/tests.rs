use std::sync::Arc;

use super::*;
use crate::auth::requirement::RequirementCheck;
use crate::auth::test_support::{basic, from_yaml};
use crate::domain::DecisionKind;

const BOB: &str = r#"
providers:
  - { type: plain, name: p1, realm: r1, users: [ { username: bob, password: pw, roles: [user] } ] }
"#;

fn no_api_request() -> ApiRequest {
    panic!("only the token API reads the request line")
}

fn no_address() -> &'static [u8] {
    b""
}

fn ruled(progress: Progress) -> Ruling {
    match progress {
        Progress::Decided(ruling) => ruling,
        Progress::Running(_) => panic!("left the event loop"),
    }
}

async fn finished(progress: Progress) -> Ruling {
    match progress {
        Progress::Decided(ruling) => ruling,
        Progress::Running(work) => work.await,
    }
}

#[tokio::test]
async fn a_new_credential_is_validated_then_answered_from_the_cache() {
    let a = from_yaml(BOB);
    let policy = Arc::new(Policy::default());
    let header = basic("bob", "pw");
    let first = a.begin(
        &policy,
        Some(header.as_bytes()),
        || None,
        no_api_request,
        no_address,
    );
    assert!(matches!(first, Progress::Running(_)));
    assert_eq!(finished(first).await.decision.status(), 200);

    let cached = ruled(a.begin(
        &policy,
        Some(header.as_bytes()),
        || None,
        no_api_request,
        no_address,
    ));
    assert_eq!(cached.decision.status(), 200);
}

#[tokio::test]
async fn a_missing_header_is_refused_without_leaving_the_event_loop() {
    let a = from_yaml(BOB);
    let policy = Arc::new(Policy::default());
    let ruling = ruled(a.begin(&policy, None, || None, no_api_request, no_address));
    assert_eq!(ruling.decision.status(), 401);
}

#[tokio::test]
async fn the_locations_roles_apply_to_validated_and_cached_answers_alike() {
    let a = from_yaml(BOB);
    let admins = Arc::new(Policy {
        required_roles: vec!["admin".into()],
        ..Policy::default()
    });
    let header = basic("bob", "pw");
    let validated = finished(a.begin(
        &admins,
        Some(header.as_bytes()),
        || None,
        no_api_request,
        no_address,
    ));
    assert_eq!(validated.await.decision.status(), 403);
    let cached = ruled(a.begin(
        &admins,
        Some(header.as_bytes()),
        || None,
        no_api_request,
        no_address,
    ));
    assert_eq!(cached.decision.status(), 403);
}

#[tokio::test]
async fn a_pinned_realm_ignores_the_clients_selection() {
    let a = from_yaml(BOB);
    let pinned = Arc::new(Policy {
        realm: Some("r1".into()),
        ..Policy::default()
    });
    let open = Arc::new(Policy::default());
    assert_eq!(status_with_selection(&a, &pinned, b"elsewhere").await, 200);
    assert_eq!(status_with_selection(&a, &open, b"elsewhere").await, 401);
}

async fn status_with_selection(a: &Arc<Authenticator>, policy: &Arc<Policy>, realm: &[u8]) -> u16 {
    let header = basic("bob", "pw");
    let progress = a.begin(
        policy,
        Some(header.as_bytes()),
        || Some(realm),
        no_api_request,
        no_address,
    );
    finished(progress).await.decision.status()
}

#[tokio::test]
async fn the_token_api_always_leaves_the_event_loop() {
    let a = from_yaml(BOB);
    let tokens = Arc::new(Policy {
        endpoint: Some(Endpoint::Tokens),
        ..Policy::default()
    });
    let api_request = || ApiRequest {
        method: "GET".into(),
        path: "/tokens".into(),
        query: String::new(),
    };
    // Even a refusal that needs no provider is answered off the event loop.
    let progress = a.begin(&tokens, None, || None, api_request, no_address);
    let Progress::Running(work) = progress else {
        panic!("decided on the event loop");
    };
    assert_eq!(work.await.decision.status(), 401);
}

#[test]
fn interruptions_fail_closed_and_their_warnings_are_throttled() {
    let a = from_yaml(BOB);
    let timed_out = a.interrupted(Interruption::TimedOut);
    assert!(matches!(
        timed_out.decision,
        Decision::Unavailable { retry_after: 5 }
    ));
    assert!(matches!(
        a.interrupted(Interruption::NoRuntime).decision,
        Decision::Unavailable { .. }
    ));
    assert!(matches!(
        a.interrupted(Interruption::Panicked).decision,
        Decision::Failed
    ));
    // Logged once, then throttled (the throttle is shared by the whole worker).
    let again = a.interrupted(Interruption::TimedOut);
    assert!(again.notes.is_empty(), "{:?}", again.notes);
}

#[tokio::test]
async fn a_redirected_request_keeps_its_identity_and_token_under_the_new_locations_roles() {
    let a = from_yaml(BOB);
    let header = basic("bob", "pw");
    let first = finished(a.begin(
        &Arc::new(Policy::default()),
        Some(header.as_bytes()),
        || None,
        no_api_request,
        no_address,
    ))
    .await;
    let allowed = first.decision.allowed().expect("allowed");
    let identity = allowed.identity.clone();

    let again = a.redecide(identity.clone(), &Policy::default());
    assert_eq!(again.decision.allowed().unwrap().token, allowed.token);
    let admins = Policy {
        required_roles: vec!["admin".into()],
        ..Policy::default()
    };
    assert!(matches!(
        a.redecide(identity, &admins).decision,
        Decision::Forbidden { challenge: None }
    ));
}

const GUARDED: &str = r#"
cache: { negative_ttl_seconds: 0 }
guard: { enabled: true, max_failures: 2, address: { max_failures: 0 } }
providers:
  - { type: plain, name: p1, realm: r1, users: [ { username: bob, password: pw, roles: [user] } ] }
"#;

fn provider_attempts(a: &Authenticator) -> usize {
    let text = String::from_utf8(a.render_metrics()).unwrap();
    text.lines()
        .filter(|l| l.starts_with("authotron_auth_provider_attempts_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<usize>().unwrap())
        .sum()
}

#[tokio::test]
async fn a_limited_subject_is_answered_429_on_the_event_loop_without_a_provider() {
    let a = from_yaml(GUARDED);
    let policy = Arc::new(Policy::default());
    let good = basic("bob", "pw");
    // Validated and cached before the lockout.
    let first = finished(a.begin(
        &policy,
        Some(good.as_bytes()),
        || None,
        no_api_request,
        no_address,
    ));
    assert_eq!(first.await.decision.status(), 200);
    for wrong in ["x", "y"] {
        let header = basic("bob", wrong);
        let ruling = finished(a.begin(
            &policy,
            Some(header.as_bytes()),
            || None,
            no_api_request,
            no_address,
        ))
        .await;
        assert_eq!(ruling.decision.status(), 401);
    }
    assert_eq!(provider_attempts(&a), 3);
    let header = basic("bob", "z");
    let ruling = ruled(a.begin(
        &policy,
        Some(header.as_bytes()),
        || None,
        no_api_request,
        no_address,
    ));
    let Decision::Limited { retry_after } = ruling.decision else {
        panic!("not limited");
    };
    assert!((1..=60).contains(&retry_after));
    assert_eq!(provider_attempts(&a), 3, "no provider ran");
    // The cached credential of the same user still works.
    let cached = ruled(a.begin(
        &policy,
        Some(good.as_bytes()),
        || None,
        no_api_request,
        no_address,
    ));
    assert_eq!(cached.decision.status(), 200);
    let metrics = String::from_utf8(a.render_metrics()).unwrap();
    assert!(metrics.contains("authotron_guard_limited_requests_total{kind=\"basic\"} 1\n"));
    assert!(metrics.contains("authotron_guard_limited_subjects{kind=\"basic\"} 1\n"));
}

#[tokio::test]
async fn an_outage_counts_nothing() {
    let a = from_yaml(
        r#"
guard: { enabled: true, max_failures: 1 }
providers:
  - { type: ecmwf-api, name: api, realm: ecmwf, uri: "http://127.0.0.1:9/v1" }
"#,
    );
    let policy = Arc::new(Policy::default());
    for _ in 0..3 {
        let ruling = finished(a.begin(
            &policy,
            Some(b"Bearer key-abcdef"),
            || None,
            no_api_request,
            || b"10.0.0.1",
        ))
        .await;
        assert_eq!(ruling.decision.status(), 503);
    }
}

#[tokio::test]
async fn without_the_guard_the_client_address_is_never_read() {
    let a = from_yaml(BOB);
    let policy = Arc::new(Policy::default());
    let header = basic("bob", "wrong");
    let address = || -> &'static [u8] { panic!("the address was read") };
    let ruling = finished(a.begin(
        &policy,
        Some(header.as_bytes()),
        || None,
        no_api_request,
        address,
    ))
    .await;
    assert_eq!(ruling.decision.status(), 401);
}

#[test]
fn header_refusals_and_interruptions_say_why() {
    let a = from_yaml(BOB);
    let anyone = Arc::new(Policy::default());
    let reason = |header: Option<&str>| match a.begin(
        &anyone,
        header.map(str::as_bytes),
        || None,
        no_api_request,
        no_address,
    ) {
        Progress::Decided(ruling) => ruling.audit.reason,
        Progress::Running(_) => panic!("the header alone answers"),
    };
    assert_eq!(reason(None), Reason::NoCredentials);
    assert_eq!(reason(Some("Basic")), Reason::MalformedCredentials);
    let interrupted = |i| a.interrupted(i).audit;
    assert_eq!(
        interrupted(Interruption::TimedOut).reason,
        Reason::ValidationTimedOut
    );
    assert_eq!(
        interrupted(Interruption::NoRuntime).reason,
        Reason::NoRuntime
    );
    assert_eq!(
        interrupted(Interruption::Panicked).reason,
        Reason::InternalError
    );
    assert_eq!(interrupted(Interruption::Panicked).cache, CacheUse::Miss);
}

#[tokio::test]
async fn a_limited_request_says_so_and_a_shadow_location_counts_it() {
    let a = from_yaml(GUARDED);
    let shadow = Arc::new(Policy {
        shadow: true,
        ..Policy::default()
    });
    for wrong in ["x", "y"] {
        let header = basic("bob", wrong);
        let mut ruling = finished(a.begin(
            &shadow,
            Some(header.as_bytes()),
            || None,
            no_api_request,
            no_address,
        ))
        .await;
        a.conclude(&shadow, &mut ruling, RequirementCheck::Met);
    }
    let header = basic("bob", "z");
    let mut ruling = ruled(a.begin(
        &shadow,
        Some(header.as_bytes()),
        || None,
        no_api_request,
        no_address,
    ));
    a.conclude(&shadow, &mut ruling, RequirementCheck::Met);
    assert_eq!(ruling.decision.kind(), DecisionKind::Limited);
    assert_eq!(ruling.audit.reason, Reason::TooManyFailures);
    let metrics = String::from_utf8(a.render_metrics()).unwrap();
    assert!(metrics.contains("authotron_shadow_decisions_total{result=\"limited\"} 1\n"));
    assert!(metrics.contains("authotron_shadow_decisions_total{result=\"unauthorized\"} 2\n"));
}
