//! The registry end to end: which series a catalogue gets, the exposition format, histograms,
//! the shared table across "reloads", positions and shared label sets.

use std::sync::Arc;
use std::time::Duration;

use super::test_support::{augmenter_attempts, expect_samples, get, provider_attempts, samples};
use super::*;
use crate::domain::{Identity, ProviderVerdict, User, Verdict};

/// A provider of `Basic` credentials that calls nobody.
fn provider(name: &str, realm: &str) -> ProviderEntry {
    ProviderEntry {
        name: name.into(),
        scheme: "Basic".into(),
        realm: realm.into(),
        remote: false,
        jwks: false,
    }
}

fn augmenter(name: &str, kind: &str, realm: &str) -> AugmenterEntry {
    AugmenterEntry {
        name: name.into(),
        kind: kind.into(),
        realm: realm.into(),
    }
}

/// One password provider, and augmenters in its realm and in another.
fn plain() -> Catalogue {
    Catalogue {
        providers: vec![provider("local", "internal")],
        augmenters: vec![
            augmenter("ops", "plain_advanced", "internal"),
            augmenter("extra", "plain", "other"),
        ],
        ..Catalogue::default()
    }
}

fn meters(catalogue: Catalogue) -> Arc<Meters> {
    Arc::new(Meters::new(catalogue))
}

/// alice of `internal`, as `local` (position 0 of [`plain`]) vouched for her.
fn alice() -> Verdict {
    let user = User::new("alice", "internal", Vec::new());
    Verdict::Authenticated(Arc::new(Identity::new(user, "local")))
}

/// What the pipeline records when `local` accepts alice and `ops` enriches her.
async fn alice_signs_in(m: &Arc<Meters>) {
    let accepted = async { ProviderVerdict::Accepted(User::new("alice", "internal", Vec::new())) };
    let attempt = m.provider(0).attempt(Duration::from_secs(1), accepted);
    assert!(attempt.await.is_ok());
    let enriched = m.augmenter(0).observe(async { Ok::<_, ()>(()) });
    assert_eq!(enriched.await, Ok(()));
    m.validated(&alice(), Duration::from_millis(1));
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
fn a_catalogue_gets_upstreams_zero_series() {
    let s = samples(&meters(plain()));
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
        r#"authotron_shadow_decisions_total{result="allowed"}"#,
        r#"authotron_shadow_decisions_total{result="limited"}"#,
        r#"authotron_shadow_decisions_total{result="failed"}"#,
    ];
    for series in zero {
        assert_eq!(get(&s, series), 0.0, "{series}");
    }
    let version = format!(
        "authotron_build_info{{version=\"{}\"}}",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(get(&s, &version), 1.0);
    // A provider that calls nobody and verifies no JWTs has no outbound or key set series.
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
    let text = String::from_utf8(meters(plain()).render()).unwrap();
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
    assert_eq!(families.len(), 12, "{families:#?}");
}

#[test]
fn histograms_are_cumulative_with_a_sum_in_seconds() {
    let m = &meters(plain());
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
async fn every_worker_adds_to_the_shared_totals() {
    let region = zone(256 * 1024);
    let a = meters(plain());
    let installed = a.install(&table(region));
    assert_eq!(installed.dropped, 0);
    assert_eq!(installed.reused, 0);
    // A worker's copy of the same config resolves to the same numbers.
    let b = meters(plain());
    b.install(&table(region));
    alice_signs_in(&a).await;
    b.refused_header(true, Duration::from_millis(1));
    for meters in [a, b] {
        let s = samples(&meters);
        expect_samples(
            &s,
            &[
                (
                    r#"authotron_auth_requests_total{result="success",realm="internal"}"#,
                    1.0,
                ),
                (
                    r#"authotron_auth_requests_total{result="no_auth_header",realm="unknown"}"#,
                    1.0,
                ),
            ],
        );
    }
}

#[tokio::test]
async fn a_reload_with_the_same_layout_keeps_every_total() {
    let region = zone(256 * 1024);
    let before = meters(plain());
    before.install(&table(region));
    alice_signs_in(&before).await;
    before.answered_from_cache(&alice());
    let old = samples(&before);

    let after = meters(plain());
    let installed = after.install(&table(region));
    assert_eq!(installed.reused, after.layout().cells());
    assert_eq!(samples(&after), old);
    // The old workers still running add to what the new ones show.
    before.refused_header(true, Duration::from_millis(1));
    let s = samples(&after);
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
    let before = meters(plain());
    before.install(&table(region));
    alice_signs_in(&before).await;

    // `local` stays, `extra` goes, `backup` and realm `spare` are new.
    let after = meters(Catalogue {
        providers: vec![provider("local", "internal"), provider("backup", "spare")],
        augmenters: vec![augmenter("ops", "plain_advanced", "internal")],
        ..Catalogue::default()
    });
    let installed = after.install(&table(region));
    assert!(installed.reused > 0 && installed.reused < after.layout().cells());
    let s = samples(&after);
    expect_samples(
        &s,
        &[
            (
                r#"authotron_auth_requests_total{result="success",realm="internal"}"#,
                1.0,
            ),
            (
                r#"authotron_cache_misses_total{provider_name="local"}"#,
                1.0,
            ),
            (
                r#"authotron_augmenter_attempts_total{augmenter_name="ops",augmenter_type="plain_advanced",realm="internal",result="success"}"#,
                1.0,
            ),
            (
                r#"authotron_auth_requests_total{result="success",realm="spare"}"#,
                0.0,
            ),
            (
                r#"authotron_cache_misses_total{provider_name="backup"}"#,
                0.0,
            ),
        ],
    );
    assert!(!s
        .keys()
        .any(|k| k.contains("\"extra\"") || k.contains("\"other\"")));
}

#[test]
fn a_full_zone_drops_series_but_never_shows_wrong_ones() {
    let a = meters(plain());
    let installed = a.install(&table(zone(Table::MIN_LEN)));
    assert!(installed.dropped > 0);
    a.refused_header(true, Duration::from_millis(1));
    // Still well-formed; what did fit is shown, whole histograms or nothing.
    let s = samples(&a);
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

#[tokio::test]
async fn entries_with_identical_labels_share_their_series() {
    let twin = ProviderEntry {
        name: "twin".into(),
        scheme: "Bearer".into(),
        realm: "r".into(),
        remote: true,
        jwks: true,
    };
    let ops = augmenter("ops", "plain", "r");
    let meters = meters(Catalogue {
        providers: vec![twin.clone(), twin],
        augmenters: vec![ops.clone(), ops],
        ..Catalogue::default()
    });
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
    expect_samples(
        &s,
        &[
            (
                r#"authotron_jwks_refreshes_total{provider_name="twin",result="ok"}"#,
                2.0,
            ),
            (
                r#"authotron_augmenter_attempts_total{augmenter_name="ops",augmenter_type="plain",realm="r",result="success"}"#,
                2.0,
            ),
        ],
    );
    let provider_series = s
        .keys()
        .filter(|k| k.starts_with("authotron_auth_provider_attempts_total"))
        .count();
    assert_eq!(provider_series, 3);
}

#[tokio::test]
async fn providers_and_augmenters_are_counted_at_their_position() {
    let m = meters(Catalogue {
        providers: vec![provider("twin", "first"), provider("twin", "second")],
        augmenters: vec![
            augmenter("roles", "plain", "first"),
            augmenter("roles", "plain", "second"),
        ],
        ..Catalogue::default()
    });
    let refusal = async { ProviderVerdict::Rejected("no".into()) };
    assert!(m
        .provider(1)
        .attempt(Duration::from_secs(1), refusal)
        .await
        .is_ok());
    let failed = m.augmenter(1).observe(async { Err::<(), _>("down") });
    assert_eq!(failed.await, Err("down"));
    let s = samples(&m);
    let attempts = |realm: &str| provider_attempts(&s, ["twin", "Basic", realm, "error"]);
    assert_eq!((attempts("first"), attempts("second")), (0.0, 1.0));
    let runs = |realm: &str| augmenter_attempts(&s, ["roles", "plain", realm, "error"]);
    assert_eq!((runs("first"), runs("second")), (0.0, 1.0));
}

#[test]
fn the_call_bound_is_shown_once_as_set_when_a_provider_calls_out() {
    let remote = ProviderEntry {
        remote: true,
        ..provider("api", "internal")
    };
    let text = |providers| {
        let m = meters(Catalogue {
            providers,
            max_concurrent_calls: 7,
            ..Catalogue::default()
        });
        String::from_utf8(m.render()).unwrap()
    };
    let calling = text(vec![remote]);
    assert_eq!(
        calling
            .lines()
            .filter(|l| l.starts_with("authotron_outbound_max_concurrent_calls"))
            .collect::<Vec<_>>(),
        ["authotron_outbound_max_concurrent_calls 7"]
    );
    assert!(calling.contains("authotron_outbound_refused_total{provider_name=\"api\"} 0\n"));
    assert!(!text(vec![provider("local", "internal")]).contains("outbound"));
}
