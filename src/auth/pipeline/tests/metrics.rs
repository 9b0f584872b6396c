//! What the pipeline records in metrics: requests, attempts, augmenter runs, the cache, calls
//! made for a provider, each under the provider or augmenter that did the work.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::auth::test_support::{basic, config, from_yaml};
use crate::auth::{Authenticator, Lookup, Outcome};
use crate::domain::{ProviderVerdict, Scheme, Verdict};
use crate::metrics::test_support::{
    augmenter_attempts, expect_samples, get, provider_attempts, samples,
};
use crate::providers::Provider;

const PLAIN: &str = r#"
providers:
  - { type: plain, name: local, realm: internal, users: [ { username: alice, password: pw } ] }
augmenters:
  - { type: plain_advanced, name: ops, realm: internal, match: { username: [alice] }, augment: { roles: [ops] } }
  - { type: plain, name: extra, realm: other, roles: { x: [alice] } }
"#;

async fn run(a: &Arc<Authenticator>, header: Option<&str>) -> Outcome {
    match a.look_up(header.map(str::as_bytes), None) {
        Lookup::Answered(outcome) => outcome,
        Lookup::NeedsProviders(job) => a.clone().validate(job).await,
    }
}

#[tokio::test]
async fn the_pipeline_counts_requests_attempts_augmenters_and_the_cache() {
    let a = from_yaml(PLAIN);
    let good = basic("alice", "pw");
    let bad = basic("alice", "nope");
    assert!(matches!(
        run(&a, Some(&good)).await.verdict,
        Verdict::Authenticated(_)
    ));
    for _ in 0..3 {
        run(&a, Some(&good)).await;
    }
    run(&a, Some(&bad)).await;
    run(&a, Some(&bad)).await;
    run(&a, None).await;
    run(&a, Some("Bearer")).await;
    run(&a, Some("Digest abc")).await;

    let s = samples(a.metrics());
    let requests = |result: &str, realm: &str| {
        get(
            &s,
            &format!("authotron_auth_requests_total{{result=\"{result}\",realm=\"{realm}\"}}"),
        )
    };
    assert_eq!(requests("success", "internal"), 4.0);
    assert_eq!(requests("all_failed", "unknown"), 3.0);
    assert_eq!(requests("no_auth_header", "unknown"), 1.0);
    assert_eq!(requests("invalid_header", "unknown"), 1.0);
    assert_eq!(requests("success", "unknown"), 0.0);
    let attempts = |result: &str| provider_attempts(&s, ["local", "Basic", "internal", result]);
    // One validation per distinct credential; repeats come from the cache.
    assert_eq!(
        (attempts("success"), attempts("error"), attempts("timeout")),
        (1.0, 1.0, 0.0)
    );
    expect_samples(
        &s,
        &[
            (
                r#"authotron_auth_provider_duration_seconds_count{provider_name="local",provider_type="Basic",realm="internal"}"#,
                2.0,
            ),
            (r#"authotron_cache_hits_total{provider_name="local"}"#, 3.0),
            (
                r#"authotron_cache_misses_total{provider_name="local"}"#,
                1.0,
            ),
        ],
    );
    // The cached refusal, and the refusals that needed a validation (the Digest one included).
    expect_samples(
        &s,
        &[
            (r#"authotron_cache_hits_total{provider_name="none"}"#, 1.0),
            (r#"authotron_cache_misses_total{provider_name="none"}"#, 2.0),
        ],
    );
    // Only the augmenter of alice's realm ran, once (later answers came from the cache).
    expect_samples(
        &s,
        &[
            (
                r#"authotron_augmenter_attempts_total{augmenter_name="ops",augmenter_type="plain_advanced",realm="internal",result="success"}"#,
                1.0,
            ),
            (
                r#"authotron_augmenter_duration_seconds_count{augmenter_type="plain_advanced",realm="internal"}"#,
                1.0,
            ),
            (
                r#"authotron_augmenter_attempts_total{augmenter_name="extra",augmenter_type="plain",realm="other",result="success"}"#,
                0.0,
            ),
            ("authotron_validations_in_flight", 0.0),
        ],
    );
}

/// A provider that answers after `delay`, or never.
struct Slow {
    delay: Option<Duration>,
    verdict: fn() -> ProviderVerdict,
}

impl Provider for Slow {
    fn name(&self) -> &str {
        "slow"
    }
    fn realm(&self) -> &str {
        "r"
    }
    fn scheme(&self) -> Scheme {
        Scheme::Bearer
    }
    fn authenticate(self: Arc<Self>, _: String) -> BoxFuture<'static, ProviderVerdict> {
        async move {
            match self.delay {
                Some(delay) => tokio::time::sleep(delay).await,
                None => futures::future::pending::<()>().await,
            }
            (self.verdict)()
        }
        .boxed()
    }
}

fn slow(delay: Option<Duration>, verdict: fn() -> ProviderVerdict) -> Arc<Authenticator> {
    let provider: Arc<dyn Provider> = Arc::new(Slow { delay, verdict });
    Arc::new(Authenticator::assemble(
        &config("providers: []\n"),
        vec![provider],
        Vec::new(),
    ))
}

#[tokio::test]
async fn timeouts_and_outages_are_counted_apart() {
    let a = slow(None, || ProviderVerdict::Unavailable("down".into()));
    let outcome = run(&a, Some("Bearer t1")).await;
    assert!(matches!(outcome.verdict, Verdict::Unavailable));
    let s = samples(a.metrics());
    let attempts = |result: &str| provider_attempts(&s, ["slow", "Bearer", "r", result]);
    assert_eq!((attempts("timeout"), attempts("error")), (1.0, 0.0));
    // A timeout has no duration sample, as upstream.
    expect_samples(
        &s,
        &[
            (
                r#"authotron_auth_provider_duration_seconds_count{provider_name="slow",provider_type="Bearer",realm="r"}"#,
                0.0,
            ),
            (
                r#"authotron_auth_requests_total{result="unavailable",realm="unknown"}"#,
                1.0,
            ),
        ],
    );

    let a = slow(Some(Duration::from_millis(1)), || {
        ProviderVerdict::Unavailable("down".into())
    });
    run(&a, Some("Bearer t2")).await;
    let s = samples(a.metrics());
    assert_eq!(
        get(
            &s,
            r#"authotron_auth_provider_attempts_total{provider_name="slow",provider_type="Bearer",realm="r",result="error"}"#
        ),
        1.0
    );
    // Outages are not cached: the next request is another miss.
    run(&a, Some("Bearer t2")).await;
    let s = samples(a.metrics());
    assert_eq!(
        get(&s, r#"authotron_cache_misses_total{provider_name="none"}"#),
        2.0
    );
}

#[tokio::test]
async fn the_in_flight_gauge_follows_running_validations() {
    let a = slow(Some(Duration::from_millis(200)), || {
        ProviderVerdict::Rejected("no".into())
    });
    let running = {
        let a = a.clone();
        tokio::spawn(async move { run(&a, Some("Bearer x")).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        get(&samples(a.metrics()), "authotron_validations_in_flight"),
        1.0
    );
    // A cancelled validation (the client went away) lowers it too.
    running.abort();
    let _ = running.await;
    assert_eq!(
        get(&samples(a.metrics()), "authotron_validations_in_flight"),
        0.0
    );
}

#[tokio::test]
async fn calls_and_key_set_fetches_count_for_their_provider() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/who-am-i"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"uid": "u1"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/certs"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let a = from_yaml(&format!(
        r#"
providers:
  - {{ type: ecmwf-api, name: api, realm: ecmwf, uri: "{uri}" }}
  - {{ type: jwt, name: keys, realm: ecmwf, iam_realm: ecmwf, cert_uri: "{uri}/certs" }}
"#,
        uri = server.uri()
    ));
    a.warm_up().await;
    assert!(matches!(
        run(&a, Some("Bearer some-key")).await.verdict,
        Verdict::Authenticated(_)
    ));
    let s = samples(a.metrics());
    expect_samples(
        &s,
        &[
            (
                r#"authotron_jwks_refreshes_total{provider_name="keys",result="error"}"#,
                1.0,
            ),
            (
                r#"authotron_jwks_refreshes_total{provider_name="keys",result="ok"}"#,
                0.0,
            ),
            (
                r#"authotron_outbound_request_duration_seconds_count{provider_name="keys"}"#,
                1.0,
            ),
        ],
    );
    // The API key is no JWT: the jwt provider refused it without a call.
    assert_eq!(
        get(
            &s,
            r#"authotron_outbound_request_duration_seconds_count{provider_name="api"}"#
        ),
        1.0
    );
    assert!(!s
        .keys()
        .any(|k| k.contains("jwks") && k.contains("\"api\"")));
}

#[tokio::test]
async fn the_token_store_is_labelled_as_upstream() {
    let dir = std::env::temp_dir().join(format!("authotron-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = from_yaml(&format!(
        "{PLAIN}store: {{ enabled: true, type: sqlite, path: \"{}\" }}\n",
        dir.join("tokens.db").display()
    ));
    let s = samples(a.metrics());
    assert_eq!(
        get(
            &s,
            r#"authotron_auth_provider_attempts_total{provider_name="token-store",provider_type="Bearer",realm="unknown",result="success"}"#
        ),
        0.0
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Upstream's own integration config names two providers "Plain provider", in two realms.
const SHARED_NAMES: &str = r#"
providers:
  - { type: plain, name: Plain provider, realm: first, users: [ { username: ann, password: pw } ] }
  - { type: plain, name: Plain provider, realm: second, users: [ { username: bob, password: pw } ] }
augmenters:
  - { type: plain, name: roles, realm: first, roles: { a: [ann] } }
  - { type: plain, name: roles, realm: second, roles: { b: [bob] } }
"#;

#[tokio::test]
async fn providers_and_augmenters_sharing_a_name_count_under_their_own_realm() {
    let a = from_yaml(SHARED_NAMES);
    // Only the second realm knows bob: the first provider refuses him, the second accepts.
    assert!(matches!(
        run(&a, Some(&basic("bob", "pw"))).await.verdict,
        Verdict::Authenticated(_)
    ));
    let s = samples(a.metrics());
    let attempts = |realm: &str, result: &str| {
        provider_attempts(&s, ["Plain provider", "Basic", realm, result])
    };
    assert_eq!(
        (attempts("first", "success"), attempts("first", "error")),
        (0.0, 1.0)
    );
    assert_eq!(
        (attempts("second", "success"), attempts("second", "error")),
        (1.0, 0.0)
    );
    let augmented = |realm: &str| augmenter_attempts(&s, ["roles", "plain", realm, "success"]);
    assert_eq!((augmented("first"), augmented("second")), (0.0, 1.0));
    // The cache families are labelled by the name alone: both providers share its series.
    assert_eq!(
        get(
            &s,
            r#"authotron_cache_misses_total{provider_name="Plain provider"}"#
        ),
        1.0
    );
}
