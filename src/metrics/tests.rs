//! The registry end to end: which series a config gets, the exposition format, histograms, the
//! shared table across "reloads", and what the pipeline records.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use futures::future::BoxFuture;
use futures::FutureExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::auth::{Authenticator, Lookup, Outcome};
use crate::config::{self, Config};
use crate::domain::Scheme;
use crate::domain::{ProviderVerdict, Verdict};
use crate::providers::Provider;

const SETTINGS: &str = r#"
version: "2.0.0"
auth: { timeout_in_ms: 300 }
jwt: { iss: test, exp: 3600, secret: "0123456789abcdef0123456789abcdef" }
"#;

const PLAIN: &str = r#"
providers:
  - { type: plain, name: local, realm: internal, users: [ { username: alice, password: pw } ] }
augmenters:
  - { type: plain_advanced, name: ops, realm: internal, match: { username: [alice] }, augment: { roles: [ops] } }
  - { type: plain, name: extra, realm: other, roles: { x: [alice] } }
"#;

fn config(extra: &str) -> Config {
    config::load(
        Path::new("test.yaml"),
        &format!("{SETTINGS}{extra}"),
        Vec::new(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .config
}

fn authenticator(extra: &str) -> Arc<Authenticator> {
    Arc::new(Authenticator::new(&config(extra)).unwrap())
}

fn basic(user: &str, password: &str) -> String {
    let pair = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

async fn run(a: &Arc<Authenticator>, header: Option<&str>) -> Outcome {
    match a.look_up(header.map(str::as_bytes), None) {
        Lookup::Answered(outcome) => outcome,
        Lookup::NeedsProviders(job) => a.clone().validate(job).await,
    }
}

/// A strict reader of the text format: every line is a HELP or TYPE comment or a sample; a
/// sample's family was typed before it; no sample appears twice. Returns the samples by
/// `name{labels}` as written.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut typed: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = BTreeMap::new();
    assert!(text.ends_with('\n'), "the body ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(!help.is_empty() && valid_name(name), "{line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(
                typed.insert(name.to_owned(), kind.to_owned()).is_none(),
                "{line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("sample value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("number in {line}"));
        let name = series.split('{').next().unwrap();
        assert!(valid_name(name), "{line}");
        if let Some(labels) = series.strip_prefix(name) {
            if !labels.is_empty() {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
                assert_labels(&labels[1..labels.len() - 1], line);
            }
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| typed.get(*f).is_some_and(|k| k == "histogram"))
            })
            .unwrap_or(name);
        assert!(typed.contains_key(family), "sample before its TYPE: {line}");
        assert!(
            samples.insert(series.to_owned(), value).is_none(),
            "twice: {line}"
        );
    }
    samples
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

fn assert_labels(mut labels: &str, line: &str) {
    while !labels.is_empty() {
        let (name, rest) = labels.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
        assert!(valid_name(name), "{line}");
        let mut end = None;
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.unwrap_or_else(|| panic!("unterminated label in {line}"));
        labels = rest[end + 1..]
            .strip_prefix(',')
            .unwrap_or(&rest[end + 1..]);
    }
}

fn samples(meters: &Meters) -> BTreeMap<String, f64> {
    parse(std::str::from_utf8(&meters.render()).unwrap())
}

fn get(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no {series} in {samples:#?}"))
}

/// A leaked zeroed region standing in for an NGINX zone (which lives as long as the process).
fn zone(len: usize) -> (*mut u8, usize) {
    let memory: &'static mut [u64] = Box::leak(vec![0u64; len / 8].into_boxed_slice());
    (memory.as_mut_ptr().cast(), len)
}

fn table((region, len): (*mut u8, usize)) -> Table<'static> {
    unsafe { Table::open(region, len).unwrap() }
}

#[test]
fn a_config_gets_upstreams_zero_series() {
    let a = authenticator(PLAIN);
    let s = samples(a.metrics());
    let zero = [
        r#"authotron_auth_requests_total{result="success",realm="unknown"}"#,
        r#"authotron_auth_requests_total{result="success",realm="internal"}"#,
        r#"authotron_auth_requests_total{result="success",realm="other"}"#,
        r#"authotron_auth_requests_total{result="no_auth_header",realm="unknown"}"#,
        r#"authotron_auth_requests_total{result="invalid_header",realm="unknown"}"#,
        r#"authotron_auth_requests_total{result="all_failed",realm="unknown"}"#,
        r#"authotron_auth_requests_total{result="unavailable",realm="unknown"}"#,
        r#"authotron_auth_duration_seconds_count{result="all_failed",realm="unknown"}"#,
        r#"authotron_auth_provider_attempts_total{provider_name="local",provider_type="Basic",realm="internal",result="success"}"#,
        r#"authotron_auth_provider_attempts_total{provider_name="local",provider_type="Basic",realm="internal",result="error"}"#,
        r#"authotron_auth_provider_attempts_total{provider_name="local",provider_type="Basic",realm="internal",result="timeout"}"#,
        r#"authotron_auth_provider_duration_seconds_bucket{provider_name="local",provider_type="Basic",realm="internal",le="5"}"#,
        r#"authotron_augmenter_attempts_total{augmenter_name="ops",augmenter_type="plain_advanced",realm="internal",result="success"}"#,
        r#"authotron_augmenter_attempts_total{augmenter_name="extra",augmenter_type="plain",realm="other",result="error"}"#,
        r#"authotron_augmenter_duration_seconds_bucket{augmenter_type="plain",realm="other",le="2.5"}"#,
        r#"authotron_cache_hits_total{provider_name="local"}"#,
        r#"authotron_cache_hits_total{provider_name="none"}"#,
        r#"authotron_cache_misses_total{provider_name="local"}"#,
        r#"authotron_cache_misses_total{provider_name="none"}"#,
        "authotron_validations_in_flight",
        "authotron_unavailable_total",
    ];
    for series in zero {
        assert_eq!(get(&s, series), 0.0, "{series}");
    }
    let version = format!(
        "authotron_build_info{{version=\"{}\"}}",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(get(&s, &version), 1.0);
    // A plain provider calls nobody and verifies no JWTs: no outbound or key set series.
    assert!(!s
        .keys()
        .any(|k| k.contains("outbound") || k.contains("jwks")));
    // The provider histogram stops at 5 s, the augmenter one at 2.5 s, as upstream.
    assert!(!s
        .keys()
        .any(|k| k.contains("provider_duration") && k.contains("le=\"10\"")));
    assert!(!s
        .keys()
        .any(|k| k.contains("augmenter_duration") && k.contains("le=\"5\"")));
}

#[test]
fn the_text_format_is_exact() {
    let a = authenticator(PLAIN);
    let text = String::from_utf8(a.metrics().render()).unwrap();
    assert!(text.starts_with(
        "# HELP authotron_build_info Build information of the authotron NGINX module.\n# TYPE authotron_build_info gauge\n"
    ));
    assert!(text.contains(
        "# TYPE authotron_auth_requests_total counter\nauthotron_auth_requests_total{result=\"success\",realm=\"unknown\"} 0\n"
    ));
    assert!(text.contains(
        "authotron_auth_duration_seconds_bucket{result=\"success\",realm=\"internal\",le=\"0.001\"} 0\n"
    ));
    assert!(text.contains("authotron_validations_in_flight 0\n"));
    assert!(text.contains(
        "authotron_auth_duration_seconds_sum{result=\"success\",realm=\"internal\"} 0\n"
    ));
    // Families without series (no remote provider: no outbound calls, no key sets) are left
    // out, as client libraries do.
    let families: Vec<_> = text.lines().filter(|l| l.starts_with("# TYPE")).collect();
    assert_eq!(families.len(), 11, "{families:#?}");
}

#[test]
fn histograms_are_cumulative_with_a_sum_in_seconds() {
    let a = authenticator(PLAIN);
    let m = a.metrics();
    for (ms, missing) in [(0, true), (3, true), (3, false), (40, true), (20_000, true)] {
        m.refused_header(missing, Duration::from_millis(ms));
    }
    let s = samples(m);
    let bucket = |le: &str| {
        get(
            &s,
            &format!(
                "authotron_auth_duration_seconds_bucket{{result=\"no_auth_header\",realm=\"unknown\",le=\"{le}\"}}"
            ),
        )
    };
    let expected = [
        ("0.001", 1.0),
        ("0.005", 2.0),
        ("0.01", 2.0),
        ("0.025", 2.0),
        ("0.05", 3.0),
        ("0.1", 3.0),
        ("5", 3.0),
        ("10", 3.0),
        ("+Inf", 4.0),
    ];
    for (le, want) in expected {
        assert_eq!(bucket(le), want, "le={le}");
    }
    let labels = r#"{result="no_auth_header",realm="unknown"}"#;
    assert_eq!(
        get(
            &s,
            &format!("authotron_auth_duration_seconds_count{labels}")
        ),
        4.0
    );
    assert_eq!(
        get(&s, &format!("authotron_auth_duration_seconds_sum{labels}")),
        20.043
    );
    assert_eq!(
        get(&s, &format!("authotron_auth_requests_total{labels}")),
        4.0
    );
    let invalid = r#"{result="invalid_header",realm="unknown"}"#;
    assert_eq!(
        get(&s, &format!("authotron_auth_requests_total{invalid}")),
        1.0
    );
    // Bucket bounds are inclusive: exactly 5 ms is in le="0.005".
    m.refused_header(false, Duration::from_millis(5));
    let s = samples(m);
    assert_eq!(
        get(
            &s,
            r#"authotron_auth_duration_seconds_bucket{result="invalid_header",realm="unknown",le="0.005"}"#
        ),
        2.0
    );
}

#[tokio::test]
async fn the_pipeline_counts_requests_attempts_augmenters_and_the_cache() {
    let a = authenticator(PLAIN);
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
    let attempts = |result: &str| {
        get(
            &s,
            &format!(
                "authotron_auth_provider_attempts_total{{provider_name=\"local\",provider_type=\"Basic\",realm=\"internal\",result=\"{result}\"}}"
            ),
        )
    };
    // One validation per distinct credential; repeats come from the cache.
    assert_eq!(
        (attempts("success"), attempts("error"), attempts("timeout")),
        (1.0, 1.0, 0.0)
    );
    assert_eq!(
        get(
            &s,
            r#"authotron_auth_provider_duration_seconds_count{provider_name="local",provider_type="Basic",realm="internal"}"#
        ),
        2.0
    );
    assert_eq!(
        get(&s, r#"authotron_cache_hits_total{provider_name="local"}"#),
        3.0
    );
    assert_eq!(
        get(&s, r#"authotron_cache_misses_total{provider_name="local"}"#),
        1.0
    );
    // The cached refusal, and the refusals that needed a validation (the Digest one included).
    assert_eq!(
        get(&s, r#"authotron_cache_hits_total{provider_name="none"}"#),
        1.0
    );
    assert_eq!(
        get(&s, r#"authotron_cache_misses_total{provider_name="none"}"#),
        2.0
    );
    // Only the augmenter of alice's realm ran, once (later answers came from the cache).
    assert_eq!(
        get(
            &s,
            r#"authotron_augmenter_attempts_total{augmenter_name="ops",augmenter_type="plain_advanced",realm="internal",result="success"}"#
        ),
        1.0
    );
    assert_eq!(
        get(
            &s,
            r#"authotron_augmenter_duration_seconds_count{augmenter_type="plain_advanced",realm="internal"}"#
        ),
        1.0
    );
    assert_eq!(
        get(
            &s,
            r#"authotron_augmenter_attempts_total{augmenter_name="extra",augmenter_type="plain",realm="other",result="success"}"#
        ),
        0.0
    );
    assert_eq!(get(&s, "authotron_validations_in_flight"), 0.0);
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
    let attempts = |result: &str| {
        get(
            &s,
            &format!(
                "authotron_auth_provider_attempts_total{{provider_name=\"slow\",provider_type=\"Bearer\",realm=\"r\",result=\"{result}\"}}"
            ),
        )
    };
    assert_eq!((attempts("timeout"), attempts("error")), (1.0, 0.0));
    // A timeout has no duration sample, as upstream.
    assert_eq!(
        get(
            &s,
            r#"authotron_auth_provider_duration_seconds_count{provider_name="slow",provider_type="Bearer",realm="r"}"#
        ),
        0.0
    );
    assert_eq!(
        get(
            &s,
            r#"authotron_auth_requests_total{result="unavailable",realm="unknown"}"#
        ),
        1.0
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
    let a = authenticator(&format!(
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
    assert_eq!(
        get(
            &s,
            r#"authotron_jwks_refreshes_total{provider_name="keys",result="error"}"#
        ),
        1.0
    );
    assert_eq!(
        get(
            &s,
            r#"authotron_jwks_refreshes_total{provider_name="keys",result="ok"}"#
        ),
        0.0
    );
    assert_eq!(
        get(
            &s,
            r#"authotron_outbound_request_duration_seconds_count{provider_name="keys"}"#
        ),
        1.0
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
    let a = authenticator(&format!(
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

#[tokio::test]
async fn every_worker_adds_to_the_shared_totals() {
    let region = zone(256 * 1024);
    let a = authenticator(PLAIN);
    let installed = a.metrics().install(&table(region));
    assert_eq!(installed.dropped, 0);
    assert_eq!(installed.reused, 0);
    // A worker's copy of the same config resolves to the same numbers.
    let b = authenticator(PLAIN);
    b.metrics().install(&table(region));
    run(&a, Some(&basic("alice", "pw"))).await;
    run(&b, None).await;
    for meters in [a.metrics(), b.metrics()] {
        let s = samples(meters);
        assert_eq!(
            get(
                &s,
                r#"authotron_auth_requests_total{result="success",realm="internal"}"#
            ),
            1.0
        );
        assert_eq!(
            get(
                &s,
                r#"authotron_auth_requests_total{result="no_auth_header",realm="unknown"}"#
            ),
            1.0
        );
    }
}

#[tokio::test]
async fn a_reload_with_the_same_layout_keeps_every_total() {
    let region = zone(256 * 1024);
    let before = authenticator(PLAIN);
    before.metrics().install(&table(region));
    run(&before, Some(&basic("alice", "pw"))).await;
    run(&before, Some(&basic("alice", "pw"))).await;
    let old = samples(before.metrics());

    let after = authenticator(PLAIN);
    let installed = after.metrics().install(&table(region));
    assert_eq!(installed.reused, after.metrics().layout().cells());
    assert_eq!(samples(after.metrics()), old);
    // The old workers still running add to what the new ones show.
    run(&before, None).await;
    let s = samples(after.metrics());
    assert_eq!(
        get(
            &s,
            r#"authotron_auth_requests_total{result="no_auth_header",realm="unknown"}"#
        ),
        1.0
    );
}

#[tokio::test]
async fn a_reload_with_a_new_layout_keeps_the_series_it_shares() {
    let region = zone(256 * 1024);
    let before = authenticator(PLAIN);
    before.metrics().install(&table(region));
    run(&before, Some(&basic("alice", "pw"))).await;

    // `local` stays, `extra` goes, `backup` and realm `spare` are new.
    let after = authenticator(
        r#"
providers:
  - { type: plain, name: local, realm: internal, users: [ { username: alice, password: pw } ] }
  - { type: plain, name: backup, realm: spare, users: [ { username: bob, password: pw } ] }
augmenters:
  - { type: plain_advanced, name: ops, realm: internal, match: { username: [alice] }, augment: { roles: [ops] } }
"#,
    );
    let installed = after.metrics().install(&table(region));
    assert!(installed.reused > 0 && installed.reused < after.metrics().layout().cells());
    let s = samples(after.metrics());
    assert_eq!(
        get(
            &s,
            r#"authotron_auth_requests_total{result="success",realm="internal"}"#
        ),
        1.0
    );
    assert_eq!(
        get(&s, r#"authotron_cache_misses_total{provider_name="local"}"#),
        1.0
    );
    assert_eq!(
        get(
            &s,
            r#"authotron_augmenter_attempts_total{augmenter_name="ops",augmenter_type="plain_advanced",realm="internal",result="success"}"#
        ),
        1.0
    );
    assert_eq!(
        get(
            &s,
            r#"authotron_auth_requests_total{result="success",realm="spare"}"#
        ),
        0.0
    );
    assert_eq!(
        get(
            &s,
            r#"authotron_cache_misses_total{provider_name="backup"}"#
        ),
        0.0
    );
    assert!(!s
        .keys()
        .any(|k| k.contains("\"extra\"") || k.contains("\"other\"")));
}

#[test]
fn a_full_zone_drops_series_but_never_shows_wrong_ones() {
    let a = authenticator(PLAIN);
    let installed = a.metrics().install(&table(zone(Table::MIN_LEN)));
    assert!(installed.dropped > 0);
    a.metrics().refused_header(true, Duration::from_millis(1));
    // Still well-formed; what did fit is shown, whole histograms or nothing.
    let s = samples(a.metrics());
    assert!(!s.is_empty());
    for (series, _) in s.iter().filter(|(k, _)| k.contains("_bucket{")) {
        let base = series
            .split(",le=")
            .next()
            .unwrap()
            .replace("_bucket", "_count");
        assert!(
            s.keys().any(|k| k.starts_with(&base)),
            "{series} without its count"
        );
    }
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
    let a = authenticator(SHARED_NAMES);
    // Only the second realm knows bob: the first provider refuses him, the second accepts.
    assert!(matches!(
        run(&a, Some(&basic("bob", "pw"))).await.verdict,
        Verdict::Authenticated(_)
    ));
    let s = samples(a.metrics());
    let attempts = |realm: &str, result: &str| {
        get(
            &s,
            &format!(
                "authotron_auth_provider_attempts_total{{provider_name=\"Plain provider\",provider_type=\"Basic\",realm=\"{realm}\",result=\"{result}\"}}"
            ),
        )
    };
    assert_eq!(
        (attempts("first", "success"), attempts("first", "error")),
        (0.0, 1.0)
    );
    assert_eq!(
        (attempts("second", "success"), attempts("second", "error")),
        (1.0, 0.0)
    );
    let augmented = |realm: &str| {
        get(
            &s,
            &format!(
                "authotron_augmenter_attempts_total{{augmenter_name=\"roles\",augmenter_type=\"plain\",realm=\"{realm}\",result=\"success\"}}"
            ),
        )
    };
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

#[tokio::test]
async fn entries_with_identical_labels_share_their_series() {
    let twin = ProviderEntry {
        name: "twin".into(),
        scheme: "Bearer".into(),
        realm: "r".into(),
        remote: true,
        jwks: true,
    };
    let ops = catalogue::AugmenterEntry {
        name: "ops".into(),
        kind: "plain".into(),
        realm: "r".into(),
    };
    let meters = Arc::new(Meters::new(Catalogue {
        providers: vec![twin.clone(), twin],
        augmenters: vec![ops.clone(), ops],
    }));
    // Position 2 is no provider's (nor augmenter's): it records nothing.
    for position in [0, 1, 2] {
        let refusal = async { ProviderVerdict::Rejected("no".into()) };
        let meter = meters.provider(position);
        assert!(meter
            .clone()
            .attempt(Duration::from_secs(1), refusal)
            .await
            .is_ok());
        meter.within(async { jwks_refreshed(true) }).await;
        let run = meters
            .augmenter(position)
            .observe(async { Ok::<_, ()>(()) });
        assert_eq!(run.await, Ok(()));
    }
    // `parse` insists that no series is shown twice.
    let s = samples(&meters);
    let attempts = r#"authotron_auth_provider_attempts_total{provider_name="twin",provider_type="Bearer",realm="r",result="error"}"#;
    assert_eq!(get(&s, attempts), 2.0);
    assert_eq!(
        get(
            &s,
            r#"authotron_jwks_refreshes_total{provider_name="twin",result="ok"}"#
        ),
        2.0
    );
    assert_eq!(
        get(
            &s,
            r#"authotron_augmenter_attempts_total{augmenter_name="ops",augmenter_type="plain",realm="r",result="success"}"#
        ),
        2.0
    );
    let provider_series = s
        .keys()
        .filter(|k| k.starts_with("authotron_auth_provider_attempts_total"))
        .count();
    assert_eq!(provider_series, 3);
}
