//! Pipeline scenarios from upstream Auth-O-Tron's own test suite, adapted to our deliberate
//! differences (docs/migration-differences.md), plus timeouts, caching
//! and single-flight.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;

use super::*;
use crate::augmenters::Augmentation;
use crate::auth::test_support::{basic, config, from_yaml};
use crate::domain::Scheme;

async fn run(a: &Arc<Authenticator>, header: &str, realm: Option<&str>) -> Outcome {
    match a.look_up(Some(header.as_bytes()), realm) {
        Lookup::Answered(outcome) => outcome,
        Lookup::NeedsProviders(job) => a.clone().validate(job).await,
    }
}

fn user_of(outcome: &Outcome) -> &User {
    match &outcome.verdict {
        Verdict::Authenticated(identity) => &identity.user,
        _ => panic!("not authenticated; notes: {:?}", outcome.notes),
    }
}

fn is_rejected(outcome: &Outcome) -> bool {
    matches!(outcome.verdict, Verdict::Rejected)
}

fn is_unavailable(outcome: &Outcome) -> bool {
    matches!(outcome.verdict, Verdict::Unavailable)
}

/// Two plain providers that accept the same credential in two realms, as in upstream's suite.
const TWO_REALMS: &str = r#"
providers:
  - { type: plain, name: local, realm: localrealm, users: [ { username: dummy, password: pw, roles: [r1] } ] }
  - { type: plain, name: other, realm: otherrealm, users: [ { username: dummy, password: pw, roles: [r2] } ] }
"#;

#[tokio::test]
async fn basic_credential_gives_the_user() {
    let a = from_yaml(TWO_REALMS);
    let outcome = run(&a, &basic("dummy", "pw"), Some("localrealm")).await;
    assert_eq!(user_of(&outcome).username, "dummy");
    assert_eq!(user_of(&outcome).realm, "localrealm");
}

#[tokio::test]
async fn realm_selection_is_exact() {
    let a = from_yaml(TWO_REALMS);
    let other = run(&a, &basic("dummy", "pw"), Some("otherrealm")).await;
    assert_eq!(user_of(&other).roles, ["r2"]);
    assert!(is_rejected(
        &run(&a, &basic("dummy", "pw"), Some("nonexistent")).await
    ));
    // Upstream matches `X-Auth-Realm` case-insensitively; we match it exactly, so a realm
    // is never selected by a look-alike spelling.
    assert!(is_rejected(
        &run(&a, &basic("dummy", "pw"), Some("LocalRealm")).await
    ));
}

#[tokio::test]
async fn without_selection_config_order_breaks_ties() {
    let a = from_yaml(TWO_REALMS);
    let outcome = run(&a, &basic("dummy", "pw"), None).await;
    assert_eq!(user_of(&outcome).realm, "localrealm");
    assert!(matches!(&outcome.verdict, Verdict::Authenticated(i) if i.provider == "local"));
}

#[tokio::test]
async fn identical_duplicates_and_limits() {
    let a = from_yaml(TWO_REALMS);
    let good = basic("dummy", "pw");
    let bad = basic("dummy", "wrong");
    user_of(&run(&a, &format!("{good}, {good}"), None).await);
    assert!(is_rejected(&run(&a, &format!("{bad}, {bad}"), None).await));
    // Upstream lets the last Basic win; we refuse conflicting credentials of one scheme.
    assert!(is_rejected(&run(&a, &format!("{bad}, {good}"), None).await));
    let four = format!("{good}, Bearer a, Digest b, Other c");
    assert!(is_rejected(&run(&a, &four, None).await));
    user_of(&run(&a, &format!("Bearer a, Digest b, {good}"), None).await);
}

/// A provider whose answer the test decides.
struct Scripted {
    name: &'static str,
    realm: &'static str,
    scheme: Scheme,
    accepts: &'static str,
    delay: Duration,
    hangs: bool,
    calls: AtomicUsize,
    ttl: Option<Duration>,
}

impl Scripted {
    fn new(name: &'static str, scheme: Scheme, accepts: &'static str) -> Self {
        Scripted {
            name,
            realm: "r1",
            scheme,
            accepts,
            delay: Duration::ZERO,
            hangs: false,
            calls: AtomicUsize::new(0),
            ttl: None,
        }
    }
}

impl Provider for Scripted {
    fn name(&self) -> &str {
        self.name
    }
    fn realm(&self) -> &str {
        self.realm
    }
    fn scheme(&self) -> Scheme {
        self.scheme.clone()
    }
    fn cache_ttl(&self) -> Option<Duration> {
        self.ttl
    }
    fn authenticate(self: Arc<Self>, credential: String) -> BoxFuture<'static, ProviderVerdict> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        async move {
            if self.hangs {
                futures::future::pending::<()>().await;
            }
            tokio::time::sleep(self.delay).await;
            if credential == self.accepts {
                ProviderVerdict::Accepted(User::new(self.name, self.realm, vec![]))
            } else {
                ProviderVerdict::Rejected("no".into())
            }
        }
        .boxed()
    }
}

fn scripted(providers: Vec<Scripted>) -> (Arc<Authenticator>, Vec<Arc<Scripted>>) {
    let providers: Vec<Arc<Scripted>> = providers.into_iter().map(Arc::new).collect();
    let dyns = providers
        .iter()
        .map(|p| p.clone() as Arc<dyn Provider>)
        .collect();
    let a = Authenticator::assemble(&config("providers: []\n"), dyns, vec![]);
    (Arc::new(a), providers)
}

#[tokio::test]
async fn schemes_are_tried_in_the_order_sent() {
    let (a, _) = scripted(vec![
        Scripted::new("basic", Scheme::Basic, "b"),
        Scripted::new("bearer", Scheme::Bearer, "t"),
    ]);
    assert_eq!(
        user_of(&run(&a, "Bearer t, Basic b", None).await).username,
        "bearer"
    );
    assert_eq!(
        user_of(&run(&a, "Basic b, Bearer t", None).await).username,
        "basic"
    );
    // A failing first scheme falls through to the next.
    assert_eq!(
        user_of(&run(&a, "Bearer x, Basic b", None).await).username,
        "basic"
    );
}

#[tokio::test]
async fn first_acceptance_wins_without_waiting_for_slow_providers() {
    let mut slow = Scripted::new("slow", Scheme::Bearer, "t");
    slow.hangs = true;
    let (a, _) = scripted(vec![slow, Scripted::new("fast", Scheme::Bearer, "t")]);
    let outcome = run(&a, "Bearer t", None).await;
    assert_eq!(user_of(&outcome).username, "fast");
}

#[tokio::test]
async fn a_provider_that_cannot_answer_makes_the_result_unavailable() {
    let mut hung = Scripted::new("hung", Scheme::Bearer, "t");
    hung.hangs = true;
    let (a, _) = scripted(vec![Scripted::new("no", Scheme::Bearer, "other"), hung]);
    let outcome = run(&a, "Bearer t", None).await;
    assert!(is_unavailable(&outcome));
    assert!(outcome
        .notes
        .iter()
        .any(|n| n.text.contains("no answer within 200 ms")));
    // Outages are not cached: the next request asks again.
    assert!(matches!(
        a.look_up(Some(b"Bearer t"), None),
        Lookup::NeedsProviders(_)
    ));
}

#[tokio::test]
async fn definitive_answers_are_cached_and_outages_are_not() {
    let (a, providers) = scripted(vec![Scripted::new("p", Scheme::Bearer, "good")]);
    user_of(&run(&a, "Bearer good", None).await);
    assert!(is_rejected(&run(&a, "Bearer bad", None).await));
    assert!(matches!(
        a.look_up(Some(b"Bearer good"), None),
        Lookup::Answered(_)
    ));
    assert!(matches!(
        a.look_up(Some(b"Bearer bad"), None),
        Lookup::Answered(_)
    ));
    // Another realm selection is another key.
    assert!(matches!(
        a.look_up(Some(b"Bearer good"), Some("r1")),
        Lookup::NeedsProviders(_)
    ));
    user_of(&run(&a, "Bearer good", None).await);
    assert_eq!(providers[0].calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn zero_ttl_disables_the_cache() {
    let cfg = config("providers: []\ncache: { ttl_seconds: 0, negative_ttl_seconds: 0 }\n");
    let p = Arc::new(Scripted::new("p", Scheme::Bearer, "good"));
    let a = Arc::new(Authenticator::assemble(&cfg, vec![p.clone()], vec![]));
    user_of(&run(&a, "Bearer good", None).await);
    user_of(&run(&a, "Bearer good", None).await);
    assert_eq!(p.calls.load(Ordering::SeqCst), 2);
}

/// What docs/configuration.md promises for `cache.ttl_seconds: 0`: it leaves a provider's own TTL alone.
#[tokio::test]
async fn zero_ttl_leaves_providers_with_their_own_ttl_cached() {
    let cfg = config("providers: []\ncache: { ttl_seconds: 0 }\n");
    let mut p = Scripted::new("p", Scheme::Bearer, "good");
    p.ttl = Some(Duration::from_secs(60));
    let p = Arc::new(p);
    let a = Arc::new(Authenticator::assemble(&cfg, vec![p.clone()], vec![]));
    user_of(&run(&a, "Bearer good", None).await);
    user_of(&run(&a, "Bearer good", None).await);
    assert_eq!(p.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_providers_own_ttl_wins_over_the_global_one() {
    let mut no_reuse = Scripted::new("p", Scheme::Bearer, "good");
    no_reuse.ttl = Some(Duration::ZERO);
    let (a, providers) = scripted(vec![no_reuse]);
    user_of(&run(&a, "Bearer good", None).await);
    user_of(&run(&a, "Bearer good", None).await);
    assert_eq!(providers[0].calls.load(Ordering::SeqCst), 2);
}

#[test]
fn cached_identity_ends_before_its_minted_token_stops_being_reused() {
    let identity =
        Identity::new(User::new("u", "r", vec![]), "p").reusable_for(Duration::from_secs(60));
    let now = unix_now();
    *identity.minted.lock() = Some(crate::domain::Minted {
        token: "t".into(),
        issued_at: now,
        expires_at: now + 10,
    });
    // Reused until the second now + 5 begins: a hit after that would sign a new token on the
    // event loop.
    let reuse_ends_in = time_until(now + 5);
    assert!(positive_ttl(&identity) <= reuse_ends_in);
}

#[test]
fn cached_identity_never_outlives_its_exp_attribute() {
    let ttl = |user: &User| {
        positive_ttl(&Identity::new(user.clone(), "p").reusable_for(Duration::from_secs(60)))
    };
    let mut user = User::new("u", "r", vec![]);
    assert_eq!(ttl(&user), Duration::from_secs(60));
    let exp = unix_now() + 5;
    user.attributes.insert("exp".into(), exp.to_string());
    // To the nanosecond, not in whole seconds from a truncated now: that would keep the
    // identity up to a second into the second `exp`. The bound is taken first; time only
    // shrinks what positive_ttl returns after it.
    let until_exp = time_until(exp);
    assert!(ttl(&user) <= until_exp);
    user.attributes
        .insert("exp".into(), (unix_now() - 5).to_string());
    assert_eq!(ttl(&user), Duration::ZERO);
    // Any JSON number form of a JWT's exp counts, not only an integer.
    user.attributes
        .insert("exp".into(), format!("{}.5", unix_now() + 5));
    assert!(ttl(&user) <= Duration::from_secs(5));
    user.attributes
        .insert("exp".into(), format!("{}e0", unix_now() - 5));
    assert_eq!(ttl(&user), Duration::ZERO);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_make_one_provider_call() {
    let mut p = Scripted::new("p", Scheme::Bearer, "good");
    p.delay = Duration::from_millis(50);
    let (a, providers) = scripted(vec![p]);
    let calls = (0..32).map(|_| {
        let a = a.clone();
        tokio::spawn(async move { run(&a, "Bearer good", None).await })
    });
    for outcome in futures::future::join_all(calls).await {
        user_of(&outcome.unwrap());
    }
    assert_eq!(providers[0].calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn challenge_lists_each_scheme_and_realm_once() {
    let a = from_yaml(
        r#"
providers:
  - { type: plain, name: a, realm: realm2, users: [] }
  - { type: plain, name: b, realm: realm2, users: [] }
  - { type: plain, name: c, realm: realm1, users: [] }
"#,
    );
    assert_eq!(
        &*a.challenge(None),
        r#"Basic realm="realm2", Basic realm="realm1""#
    );
    assert_eq!(&*a.challenge(Some("realm1")), r#"Basic realm="realm1""#);
    assert!(a.has_realm("realm2") && !a.has_realm("realm3"));

    let (mixed, _) = scripted(vec![Scripted::new("x", Scheme::Bearer, "")]);
    assert_eq!(&*mixed.challenge(None), r#"Bearer realm="r1""#);
    let (none, _) = scripted(vec![]);
    assert_eq!(&*none.challenge(None), "Bearer");
}

/// Upstream's augmenter scenario: plain augmenters of two realms and a plain_advanced one that
/// derives roles and attributes from roles given before it.
const AUGMENTED: &str = r#"
providers:
  - { type: plain, name: p1, realm: r1, users: [ { username: bob, password: pw }, { username: dan, password: pw } ] }
  - { type: plain, name: p2, realm: r2, users: [ { username: bob, password: pw } ] }
augmenters:
  - { type: plain, name: aug1, realm: r1, roles: { admin: [alice, bob] } }
  - { type: plain, name: aug2, realm: r1, roles: { user: [bob, carol] } }
  - { type: plain, name: aug3, realm: r2, roles: { other: [bob] } }
  - type: plain_advanced
    name: adv
    realm: r1
    match: { role: [admin] }
    augment: { roles: [observer, admin], attributes: { team: ops } }
"#;

#[tokio::test]
async fn augmenters_of_the_users_realm_apply_in_order() {
    let a = from_yaml(AUGMENTED);
    let bob = run(&a, &basic("bob", "pw"), Some("r1")).await;
    assert_eq!(user_of(&bob).roles, ["admin", "user", "observer"]);
    assert_eq!(user_of(&bob).attributes["team"], "ops");

    let bob2 = run(&a, &basic("bob", "pw"), Some("r2")).await;
    assert_eq!(user_of(&bob2).roles, ["other"]);
    assert!(user_of(&bob2).attributes.is_empty());

    let dan = run(&a, &basic("dan", "pw"), Some("r1")).await;
    assert!(user_of(&dan).roles.is_empty());
}

/// A concurrent augmenter of realm r1 with a scripted answer.
struct ScriptedRoles {
    name: &'static str,
    delay: Duration,
    answer: fn() -> Result<Augmentation, String>,
}

/// Answers late, with the role "base".
fn slow_roles() -> Arc<ScriptedRoles> {
    Arc::new(ScriptedRoles {
        name: "slow",
        delay: Duration::from_millis(100),
        answer: || {
            Ok(Augmentation {
                roles: vec!["base".into()],
                ..Augmentation::default()
            })
        },
    })
}

/// Its directory is down.
fn down_roles() -> Arc<ScriptedRoles> {
    Arc::new(ScriptedRoles {
        name: "down",
        delay: Duration::ZERO,
        answer: || Err("connection refused".to_owned()),
    })
}

impl Augmenter for ScriptedRoles {
    fn name(&self) -> &str {
        self.name
    }
    fn realm(&self) -> &str {
        "r1"
    }
    fn stage(&self) -> Stage {
        Stage::Concurrent
    }
    fn augment(self: Arc<Self>, _: &User) -> BoxFuture<'static, Result<Augmentation, String>> {
        async move {
            tokio::time::sleep(self.delay).await;
            (self.answer)()
        }
        .boxed()
    }
}

#[tokio::test]
async fn sequential_augmenters_see_roles_from_slow_concurrent_ones() {
    // Upstream runs plain_advanced after the concurrent augmenters, however long they take.
    let cfg = config(
        r#"
providers: []
augmenters:
  - { type: plain_advanced, name: derive, realm: r1, match: { role: [base] }, augment: { roles: [derived] } }
"#,
    );
    let advanced = crate::augmenters::build(&cfg.augmenters[0], &cfg).unwrap();
    let (_, providers) = scripted(vec![Scripted::new("p", Scheme::Bearer, "t")]);
    let a = Arc::new(Authenticator::assemble(
        &cfg,
        vec![providers[0].clone()],
        vec![advanced, slow_roles()],
    ));
    let outcome = run(&a, "Bearer t", None).await;
    assert_eq!(user_of(&outcome).roles, ["base", "derived"]);
}

async fn authenticated_bob(a: &Arc<Authenticator>) -> Arc<Identity> {
    let bob = run(a, &basic("bob", "pw"), Some("r1")).await;
    match bob.verdict {
        Verdict::Authenticated(identity) => identity,
        _ => panic!("bob was not authenticated: {:?}", bob.notes),
    }
}

#[tokio::test]
async fn tokens_are_reused_while_more_than_half_their_lifetime_is_left() {
    let a = from_yaml(AUGMENTED);
    let bob = authenticated_bob(&a).await;
    let identity = &bob;
    // The validation already signed one, off the event loop.
    let premade = identity.minted.lock().clone().expect("minted by validate");
    let t = premade.issued_at;
    let lifetime = premade.expires_at - t;
    assert!(lifetime > 2);
    let first = a.token_at(identity, t).unwrap();
    assert!(Arc::ptr_eq(&first, &premade.token));
    let late = a.token_at(identity, t + lifetime / 2 - 1).unwrap();
    assert!(Arc::ptr_eq(&first, &late), "still reusable");
    // At the reuse point a new token is signed, with its own iat and exp.
    let renewed = a.token_at(identity, t + lifetime / 2).unwrap();
    assert!(!Arc::ptr_eq(&first, &renewed));
    let current = identity.minted.lock().clone().unwrap();
    assert_eq!(current.issued_at, t + lifetime / 2);
    assert_eq!(current.expires_at, t + lifetime / 2 + lifetime);
    assert!(Arc::ptr_eq(&renewed, &current.token));
    assert!(Arc::ptr_eq(
        &renewed,
        &a.token_at(identity, t + lifetime / 2 + 1).unwrap()
    ));
}

#[tokio::test]
async fn a_token_capped_by_an_exp_attribute_is_reused_for_half_its_own_lifetime() {
    let a = from_yaml(AUGMENTED);
    let bob = authenticated_bob(&a).await;
    let identity = &bob;
    let t = unix_now() + 10;
    let mut capped = Identity::new(identity.user.clone(), "p");
    capped
        .user
        .attributes
        .insert("exp".into(), (t + 40).to_string());
    let first = a.token_at(&capped, t).unwrap();
    assert_eq!(capped.minted.lock().clone().unwrap().expires_at, t + 40);
    assert!(Arc::ptr_eq(&first, &a.token_at(&capped, t + 19).unwrap()));
    assert!(!Arc::ptr_eq(&first, &a.token_at(&capped, t + 20).unwrap()));
}

#[tokio::test]
async fn a_token_is_never_served_before_its_iat() {
    let a = from_yaml(AUGMENTED);
    let bob = authenticated_bob(&a).await;
    let identity = &bob;
    let t = identity.minted.lock().clone().unwrap().issued_at;
    a.token_at(identity, t - 5).unwrap();
    assert_eq!(identity.minted.lock().clone().unwrap().issued_at, t - 5);
}

#[tokio::test]
async fn identities_with_control_characters_are_refused() {
    let (a, _) = scripted(vec![Scripted::new("bad\nname", Scheme::Bearer, "t")]);
    let outcome = run(&a, "Bearer t", None).await;
    assert!(is_rejected(&outcome));
}

#[tokio::test]
async fn malformed_headers_are_answered_without_providers() {
    let (a, providers) = scripted(vec![Scripted::new("p", Scheme::Bearer, "t")]);
    for header in ["", "Bearer", "Bearer a b", "Bearer t,"] {
        match a.look_up(Some(header.as_bytes()), None) {
            Lookup::Answered(outcome) => assert!(is_rejected(&outcome), "{header:?}"),
            Lookup::NeedsProviders(_) => panic!("{header:?} needs no provider"),
        }
    }
    assert!(matches!(a.look_up(None, None), Lookup::Answered(_)));
    assert_eq!(providers[0].calls.load(Ordering::SeqCst), 0);
}

fn texts(outcome: &Outcome, level: NoteLevel) -> Vec<&str> {
    let notes = outcome.notes.iter().filter(|n| n.level == level);
    notes.map(|n| n.text.as_str()).collect()
}

#[tokio::test]
async fn a_validation_logs_who_at_info_and_a_cache_hit_logs_nothing() {
    let (a, _) = scripted(vec![
        Scripted::new("no", Scheme::Bearer, "other"),
        Scripted::new("p", Scheme::Bearer, "s3cr3t-token"),
    ]);
    let first = run(&a, "Bearer s3cr3t-token", None).await;
    user_of(&first);
    assert_eq!(
        texts(&first, NoteLevel::Info).last(),
        Some(&"user \"p\" of realm \"r1\" authenticated by provider \"p\"")
    );
    let refused = run(&a, "Bearer wrong-s3cr3t", None).await;
    for note in first.notes.iter().chain(&refused.notes) {
        assert!(!note.text.contains("s3cr3t"), "{note:?}");
    }
    match a.look_up(Some(b"Bearer s3cr3t-token"), None) {
        Lookup::Answered(hit) => assert!(hit.notes.is_empty(), "{:?}", hit.notes),
        Lookup::NeedsProviders(_) => panic!("not cached"),
    }
}

#[tokio::test]
async fn outage_warnings_are_throttled_per_provider() {
    let mut hung = Scripted::new("hung", Scheme::Bearer, "t");
    hung.hangs = true;
    let mut also = Scripted::new("also", Scheme::Basic, "b");
    also.hangs = true;
    let (a, _) = scripted(vec![hung, also]);
    let first = run(&a, "Bearer t", None).await;
    assert!(is_unavailable(&first));
    assert_eq!(
        texts(&first, NoteLevel::Warn),
        ["provider \"hung\" of realm \"r1\" could not decide: no answer within 200 ms"]
    );
    // Within 30 s of it, the same provider's outage is not logged again; another's is.
    let second = run(&a, "Bearer t", None).await;
    assert!(is_unavailable(&second));
    assert!(texts(&second, NoteLevel::Warn).is_empty());
    let other = run(&a, "Basic b", None).await;
    assert_eq!(texts(&other, NoteLevel::Warn).len(), 1);
}

#[tokio::test]
async fn a_throttled_augmenter_failure_still_shortens_the_reuse() {
    let cfg = config("providers: []\ncache: { ttl_seconds: 600 }\n");
    let p: Arc<dyn Provider> = Arc::new(Scripted::new("p", Scheme::Bearer, "t"));
    let a = Arc::new(Authenticator::assemble(&cfg, vec![p], vec![down_roles()]));
    let first = run(&a, "Bearer t", None).await;
    assert_eq!(texts(&first, NoteLevel::Warn).len(), 1);
    a.verdicts.clear();
    let second = run(&a, "Bearer t", None).await;
    assert!(texts(&second, NoteLevel::Warn).is_empty());
    match &second.verdict {
        Verdict::Authenticated(identity) => {
            assert_eq!(identity.cache_ttl, Duration::from_secs(5))
        }
        _ => panic!("not authenticated"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_sharing_a_validation_log_it_once() {
    let mut p = Scripted::new("p", Scheme::Bearer, "good");
    p.delay = Duration::from_millis(50);
    let (a, _) = scripted(vec![Scripted::new("no", Scheme::Bearer, "x"), p]);
    let calls = (0..16).map(|_| {
        let a = a.clone();
        tokio::spawn(async move { run(&a, "Bearer good", None).await })
    });
    let outcomes: Vec<Outcome> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let lines: usize = outcomes.iter().map(|o| o.notes.len()).sum();
    // One refusal by "no" and one success, from the request that ran the validation.
    assert_eq!(lines, 2);
}

mod metrics;
mod store_owner;

#[tokio::test]
async fn a_store_token_is_shown_to_no_other_provider() {
    let (a, providers) = scripted(vec![Scripted::new("remote", Scheme::Bearer, "t")]);
    let store_token = crate::store::token::generate().unwrap().secret;
    let outcome = run(&a, &format!("Bearer {store_token}"), None).await;
    assert!(is_rejected(&outcome));
    assert_eq!(providers[0].calls.load(Ordering::SeqCst), 0);

    // Anything else still reaches it, a near miss of the format included.
    let (head, last) = store_token.split_at(store_token.len() - 1);
    let near_miss = format!("{head}{}", if last == "x" { "y" } else { "x" });
    run(&a, &format!("Bearer {near_miss}"), None).await;
    assert_eq!(providers[0].calls.load(Ordering::SeqCst), 1);
}
