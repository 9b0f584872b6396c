//! The JWT provider against a JWKS served by a mock HTTP server: upstream's own scenario, and
//! the hardening upstream lacks (docs/migration-differences.md).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::config::{HttpSettings, JwtChecks};
use crate::http::IdentityClient;

const JWKS: &str = include_str!("../testdata/jwks.json");
const ROTATED: &str = include_str!("../testdata/jwks-rotated.json");
const RSA_1: &str = include_str!("../testdata/rsa-1.pem");
const RSA_2: &str = include_str!("../testdata/rsa-2.pem");
const EC_256: &str = include_str!("../testdata/ec-256.pem");
const EC_384: &str = include_str!("../testdata/ec-384.pem");
const ED_1: &str = include_str!("../testdata/ed-1.pem");
const HMAC_SECRET: &[u8] = b"an-hmac-secret-shared-with-the-idp-0123456789";

/// The defaults, to be adjusted field by field in each test.
fn default_checks() -> JwtChecks {
    JwtChecks::default()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims() -> Value {
    json!({"sub": "user1", "scope": "read write", "exp": now() + 300, "iss": "https://idp", "aud": "api"})
}

fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let key = match alg {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => {
            EncodingKey::from_rsa_pem(RSA_1.as_bytes())
        }
        Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512 => {
            EncodingKey::from_rsa_pem(RSA_1.as_bytes())
        }
        Algorithm::ES256 => EncodingKey::from_ec_pem(EC_256.as_bytes()),
        Algorithm::ES384 => EncodingKey::from_ec_pem(EC_384.as_bytes()),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(ED_1.as_bytes()),
        _ => Ok(EncodingKey::from_secret(HMAC_SECRET)),
    }
    .unwrap();
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, &key).unwrap()
}

async fn jwks_server(body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/certs"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.to_owned(), "application/json"))
        .mount(&server)
        .await;
    server
}

/// A JWKS endpoint that answers 500.
async fn broken_jwks_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/certs"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    server
}

fn validator(server: &MockServer, checks: JwtChecks) -> JwtValidator {
    let http = Arc::new(IdentityClient::new(&HttpSettings::default()).unwrap());
    let ctx = ProviderContext::new(http, 8);
    JwtValidator::new(
        "kc",
        "ecmwf",
        &format!("{}/certs", server.uri()),
        &checks,
        &ctx,
    )
}

fn accepted(verdict: ProviderVerdict) -> crate::domain::User {
    match verdict {
        ProviderVerdict::Accepted(user) => user,
        other => panic!("expected acceptance, got {other:?}"),
    }
}

fn rejected(verdict: ProviderVerdict) -> String {
    match verdict {
        ProviderVerdict::Rejected(reason) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn every_default_algorithm_verifies() {
    let server = jwks_server(JWKS).await;
    let v = validator(&server, JwtChecks::default());
    for (alg, kid) in [
        (Algorithm::RS256, "rsa-1"),
        (Algorithm::RS384, "rsa-1"),
        (Algorithm::RS512, "rsa-1"),
        (Algorithm::PS256, "rsa-1"),
        (Algorithm::PS384, "rsa-1"),
        (Algorithm::PS512, "rsa-1"),
        (Algorithm::ES256, "ec-256"),
        (Algorithm::ES384, "ec-384"),
        (Algorithm::EdDSA, "ed-1"),
    ] {
        let user = accepted(v.validate(&sign(alg, Some(kid), &claims())).await);
        assert_eq!(user.username, "user1", "{alg:?}");
        assert_eq!(user.scopes["kc"], ["read", "write"]);
    }
}

#[tokio::test]
async fn hmac_keys_only_when_allowed() {
    let server = jwks_server(JWKS).await;
    let token = sign(Algorithm::HS512, Some("hmac-1"), &claims());
    let strict = validator(&server, JwtChecks::default());
    assert!(rejected(strict.validate(&token).await).contains("not allowed"));

    let mut checks = default_checks();
    checks.allow_hmac = true;
    checks.algorithms.push("HS512".into());
    accepted(validator(&server, checks).validate(&token).await);
}

#[tokio::test]
async fn upstream_hs512_scenario_maps_claims() {
    // Upstream's own test of its JWT provider: claims must map exactly as there.
    let server = jwks_server(JWKS).await;
    let mut checks = default_checks();
    checks.allow_hmac = true;
    checks.algorithms = vec!["HS512".into()];
    let token = sign(
        Algorithm::HS512,
        Some("hmac-1"),
        &json!({"sub": "user1", "scope": "read write", "exp": now() + 300,
                "custom": "abc", "nested": {"flag": true}}),
    );
    let user = accepted(validator(&server, checks).validate(&token).await);
    assert_eq!(user.username, "user1");
    assert_eq!(user.attributes["custom"], "abc");
    assert_eq!(user.attributes["nested"], r#"{"flag":true}"#);
    assert_eq!(user.realm, "ecmwf");
}

#[tokio::test]
async fn alg_none_and_garbage_are_rejected() {
    let server = jwks_server(JWKS).await;
    let v = validator(&server, JwtChecks::default());
    let b64 = |v: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims())
    );
    rejected(v.validate(&none).await);
    rejected(v.validate("invalid.token").await);
    rejected(v.validate("").await);
}

#[tokio::test]
async fn a_key_the_set_does_not_hold_is_rejected() {
    let server = jwks_server(JWKS).await;
    let v = validator(&server, JwtChecks::default());
    let forged = {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("rsa-1".into());
        let key = EncodingKey::from_rsa_pem(RSA_2.as_bytes()).unwrap();
        encode(&header, &claims(), &key).unwrap()
    };
    assert!(rejected(v.validate(&forged).await).contains("invalid token"));
    let unknown = {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("rsa-2".into());
        let key = EncodingKey::from_rsa_pem(RSA_2.as_bytes()).unwrap();
        encode(&header, &claims(), &key).unwrap()
    };
    assert!(rejected(v.validate(&unknown).await).contains("does not hold"));
}

#[tokio::test]
async fn rsa_key_cannot_serve_as_an_hmac_secret() {
    // The classic confusion: sign HS256 with the RSA key's public material and name the RSA kid.
    let server = jwks_server(JWKS).await;
    let jwks: Value = serde_json::from_str(JWKS).unwrap();
    let n = jwks["keys"][0]["n"].as_str().unwrap();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".into());
    let token = encode(&header, &claims(), &EncodingKey::from_secret(n.as_bytes())).unwrap();
    let mut checks = default_checks();
    checks.allow_hmac = true;
    checks.algorithms.push("HS256".into());
    assert!(rejected(validator(&server, checks).validate(&token).await).contains("does not fit"));
}

#[tokio::test]
async fn expiry_is_checked_with_leeway() {
    let server = jwks_server(JWKS).await;
    let v = validator(&server, JwtChecks::default());
    let mut inside = claims();
    inside["exp"] = json!(now() - 30);
    accepted(
        v.validate(&sign(Algorithm::RS256, Some("rsa-1"), &inside))
            .await,
    );
    let mut outside = claims();
    outside["exp"] = json!(now() - 120);
    rejected(
        v.validate(&sign(Algorithm::RS256, Some("rsa-1"), &outside))
            .await,
    );
    let mut missing = claims();
    missing.as_object_mut().unwrap().remove("exp");
    rejected(
        v.validate(&sign(Algorithm::RS256, Some("rsa-1"), &missing))
            .await,
    );
}

#[tokio::test]
async fn not_before_is_checked_with_leeway() {
    let server = jwks_server(JWKS).await;
    let v = validator(&server, JwtChecks::default());
    let with_nbf = |offset: i64| {
        let mut c = claims();
        c["nbf"] = json!(now() + offset);
        sign(Algorithm::RS256, Some("rsa-1"), &c)
    };
    accepted(v.validate(&with_nbf(-10)).await);
    accepted(v.validate(&with_nbf(30)).await);
    let reason = rejected(v.validate(&with_nbf(300)).await);
    assert!(!reason.is_empty());
}

/// Found by fuzzing (the `jwt` target's "an accepted token is not early" invariant): an `nbf`
/// of 10^102 passed, as did, when probing the same invariant by hand, an `nbf` written as a
/// string or `null`. jsonwebtoken skips an `nbf` it cannot read as a `u64`.
#[tokio::test]
async fn an_nbf_beyond_u64_or_not_a_number_is_checked_not_ignored() {
    let server = jwks_server(JWKS).await;
    let v = validator(&server, JwtChecks::default());
    let later = now() + 3_000_000_000;
    let huge: Value = serde_json::from_str(&format!("1{}", "3".repeat(102))).unwrap();
    for nbf in [huge, json!(later.to_string()), json!(null)] {
        let mut c = claims();
        c["nbf"] = nbf.clone();
        let reason = rejected(v.validate(&sign(Algorithm::RS256, Some("rsa-1"), &c)).await);
        assert!(reason.contains("nbf"), "{nbf}: {reason}");
    }
    // A fraction is a NumericDate too (RFC 7519 §2).
    let mut c = claims();
    c["nbf"] = json!(now() as f64 - 0.5);
    accepted(v.validate(&sign(Algorithm::RS256, Some("rsa-1"), &c)).await);
}

#[tokio::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let server = jwks_server(JWKS).await;
    let token = sign(Algorithm::RS256, Some("rsa-1"), &claims());
    let mut checks = default_checks();
    checks.iss = Some("https://idp".into());
    checks.aud = Some("api".into());
    accepted(validator(&server, checks.clone()).validate(&token).await);

    checks.iss = Some("https://other".into());
    rejected(validator(&server, checks.clone()).validate(&token).await);
    checks.iss = Some("https://idp".into());
    checks.aud = Some("other-api".into());
    rejected(validator(&server, checks.clone()).validate(&token).await);

    // A configured check is not passed by leaving the claim out.
    checks.aud = Some("api".into());
    for claim in ["iss", "aud"] {
        let mut without = claims();
        without.as_object_mut().unwrap().remove(claim);
        let token = sign(Algorithm::RS256, Some("rsa-1"), &without);
        rejected(validator(&server, checks.clone()).validate(&token).await);
    }
}

#[tokio::test]
async fn kid_is_required_unless_the_set_has_one_key() {
    let server = jwks_server(JWKS).await;
    let v = validator(&server, JwtChecks::default());
    rejected(v.validate(&sign(Algorithm::RS256, None, &claims())).await);

    let single = jwks_server(ROTATED).await;
    let token = {
        let key = EncodingKey::from_rsa_pem(RSA_2.as_bytes()).unwrap();
        encode(&Header::new(Algorithm::RS256), &claims(), &key).unwrap()
    };
    accepted(
        validator(&single, JwtChecks::default())
            .validate(&token)
            .await,
    );
}

#[tokio::test]
async fn a_rotated_key_is_found_by_refetching_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/certs"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(JWKS, "application/json"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/certs"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(ROTATED, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let v = validator(&server, JwtChecks::default());
    accepted(
        v.validate(&sign(Algorithm::RS256, Some("rsa-1"), &claims()))
            .await,
    );

    let rotated = {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("rsa-2".into());
        let key = EncodingKey::from_rsa_pem(RSA_2.as_bytes()).unwrap();
        encode(&header, &claims(), &key).unwrap()
    };
    accepted(v.validate(&rotated).await);
    // A second unknown kid within 30 s does not hit the endpoint again (`expect` above).
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("nobody".into());
    let key = EncodingKey::from_rsa_pem(RSA_2.as_bytes()).unwrap();
    rejected(v.validate(&encode(&header, &claims(), &key).unwrap()).await);
}

#[tokio::test]
async fn an_outage_keeps_the_last_good_set() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/certs"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(JWKS, "application/json"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/certs"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let mut checks = default_checks();
    checks.jwks_refresh_seconds = 1;
    let v = validator(&server, checks);
    let token = sign(Algorithm::RS256, Some("rsa-1"), &claims());
    accepted(v.validate(&token).await);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    accepted(v.validate(&token).await);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn no_key_set_at_all_is_unavailable_not_rejected() {
    let server = broken_jwks_server().await;
    let v = validator(&server, JwtChecks::default());
    let verdict = v
        .validate(&sign(Algorithm::RS256, Some("rsa-1"), &claims()))
        .await;
    assert!(
        matches!(verdict, ProviderVerdict::Unavailable(_)),
        "{verdict:?}"
    );

    // Without any set, the next requests do not each wait for another fetch.
    v.validate(&sign(Algorithm::RS256, Some("rsa-1"), &claims()))
        .await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    let garbage = jwks_server("<html>").await;
    let verdict = validator(&garbage, JwtChecks::default())
        .validate(&sign(Algorithm::RS256, Some("rsa-1"), &claims()))
        .await;
    assert!(
        matches!(verdict, ProviderVerdict::Unavailable(_)),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn a_failed_fetch_names_the_set_without_its_query() {
    let server = broken_jwks_server().await;
    let http = Arc::new(IdentityClient::new(&HttpSettings::default()).unwrap());
    let uri = format!("{}/certs?access_token=hunter2", server.uri());
    let v = JwtValidator::new(
        "kc",
        "ecmwf",
        &uri,
        &JwtChecks::default(),
        &ProviderContext::new(http, 8),
    );
    let verdict = v
        .validate(&sign(Algorithm::RS256, Some("rsa-1"), &claims()))
        .await;
    let ProviderVerdict::Unavailable(reason) = verdict else {
        panic!("expected unavailable, got {verdict:?}");
    };
    assert!(reason.contains("/certs: status 500"), "{reason}");
    assert!(!reason.contains("hunter2"), "{reason}");
}

#[tokio::test]
async fn warm_up_fetches_the_set_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/certs"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(JWKS, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let v = validator(&server, JwtChecks::default());
    v.warm_up().await;
    accepted(
        v.validate(&sign(Algorithm::ES256, Some("ec-256"), &claims()))
            .await,
    );
}

/// An RS256 token under `rsa-1` from header and payload JSON as written, for what `Header` and
/// `serde_json` cannot produce: a `crit` member, a number in exponent form.
fn sign_raw(header: &str, payload: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let key = EncodingKey::from_rsa_pem(RSA_1.as_bytes()).unwrap();
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::RS256).unwrap();
    format!("{message}.{signature}")
}

#[tokio::test]
async fn a_fractional_or_exponent_exp_is_the_users_expiry_rounded_down() {
    let server = jwks_server(JWKS).await;
    let v = validator(&server, JwtChecks::default());
    let header = r#"{"alg":"RS256","typ":"JWT","kid":"rsa-1"}"#;
    let exp = now() + 300;
    // exp + 0.5, as a fraction and as an exponent form of it.
    for written in [format!("{exp}.5"), format!("{}5e-1", exp)] {
        let payload = format!(r#"{{"sub":"user1","exp":{written}}}"#);
        let user = accepted(v.validate(&sign_raw(header, &payload)).await);
        assert_eq!(user.expires_at(), Some(exp), "{written}");
    }
}

#[tokio::test]
async fn a_crit_header_is_refused() {
    let server = jwks_server(JWKS).await;
    let v = validator(&server, JwtChecks::default());
    let payload = claims().to_string();
    accepted(
        v.validate(&sign_raw(
            r#"{"alg":"RS256","typ":"JWT","kid":"rsa-1"}"#,
            &payload,
        ))
        .await,
    );
    for crit in [r#"["foo"]"#, r#"["exp"]"#, "[]", "null"] {
        let header =
            format!(r#"{{"alg":"RS256","typ":"JWT","kid":"rsa-1","crit":{crit},"foo":1}}"#);
        let reason = rejected(v.validate(&sign_raw(&header, &payload)).await);
        assert!(reason.contains("crit"), "{crit}: {reason}");
    }
}
