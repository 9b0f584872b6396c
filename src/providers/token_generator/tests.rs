//! Upstream's tests of this provider (including its end-to-end scenario), plus the status
//! policy.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{decode, DecodingKey, Validation};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::auth::{Authenticator, Lookup};
use crate::domain::Scheme;
use crate::domain::Verdict;
use crate::providers::test_support::*;
use crate::providers::Provider;

const CLIENT_SECRET: &str = "Sekrit-Generator-Secret";

fn provider_at(url: &str, cert_uri: &str) -> Arc<TokenGeneratorProvider> {
    let config = TokenGeneratorConfig {
        name: "generator".into(),
        realm: "ecmwf".into(),
        cert_uri: cert_uri.into(),
        client_id: "generator-client".into(),
        client_secret: CLIENT_SECRET.into(),
        token_generator_url: url.into(),
        checks: hmac_checks(),
        cache_ttl_seconds: None,
    };
    Arc::new(TokenGeneratorProvider::new(&config, &context()).expect("provider"))
}

fn provider(server: &MockServer) -> Arc<TokenGeneratorProvider> {
    provider_at(&server.uri(), &format!("{}/certs", server.uri()))
}

async fn validate(server: &MockServer, token: &str, answer: ResponseTemplate, times: u64) {
    Mock::given(method("POST"))
        .and(path("/validate-token"))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"token": token, "client_id": "generator-client"}),
        ))
        .respond_with(answer)
        .expect(times)
        .mount(server)
        .await;
}

async fn refresh(server: &MockServer, token: &str, answer: ResponseTemplate, times: u64) {
    Mock::given(method("POST"))
        .and(path("/admin/refresh-access-token"))
        .and(body_json(json!({
            "client_id": "generator-client",
            "client_secret": CLIENT_SECRET,
            "refresh_token": token
        })))
        .respond_with(answer)
        .expect(times)
        .mount(server)
        .await;
}

fn json_answer(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test]
async fn active_token_is_exchanged_for_the_access_token() {
    let server = MockServer::start().await;
    validate(&server, TRICKY, json_answer(json!({"active": true})), 1).await;
    let answer = json_answer(json!({"access_token": "new_access_token", "expires_in": 300}));
    refresh(&server, TRICKY, answer, 1).await;
    let token = provider(&server)
        .check
        .access_token(TRICKY)
        .await
        .expect("token");
    assert_eq!(token, "new_access_token");
}

#[tokio::test]
async fn inactive_tokens_are_refused_without_exchange() {
    for answer in [
        json!({"active": false}),
        json!({}),
        json!({"active": "yes"}),
    ] {
        let server = MockServer::start().await;
        validate(&server, "t", json_answer(answer), 1).await;
        refresh(&server, "t", json_answer(json!({})), 0).await;
        let reason = rejected(provider(&server).authenticate("t".into()).await);
        assert!(reason.contains("not valid according to ECMWF Token Generator"));
    }
}

#[tokio::test]
async fn validation_failures_are_classified() {
    assert_failures_classified(Caller::Client, &[TRICKY, CLIENT_SECRET], provider).await;
    let verdict = provider_at(&closed_port_uri(), "http://127.0.0.1:9/certs")
        .authenticate("t".into())
        .await;
    assert_failure("refused", verdict, false, &[]);
}

#[tokio::test]
async fn exchange_failures_are_classified() {
    let mut cases = failures(Caller::Client);
    // Upstream's case: a 401 with an empty body.
    cases.push((
        "401 empty",
        ResponseTemplate::new(401).set_body_string(""),
        false,
    ));
    cases.push((
        "no access_token",
        json_answer(json!({"expires_in": 300})),
        false,
    ));
    for (label, answer, definitive) in cases {
        let server = MockServer::start().await;
        validate(&server, TRICKY, json_answer(json!({"active": true})), 1).await;
        Mock::given(path("/admin/refresh-access-token"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let verdict = provider(&server).authenticate(TRICKY.into()).await;
        assert_failure(label, verdict, definitive, &[TRICKY, CLIENT_SECRET]);
    }
}

#[tokio::test]
async fn warm_up_and_metadata() {
    let server = MockServer::start().await;
    let cert_uri = serve_jwks(&server, 1).await;
    let p = provider_at(&format!("{}/", server.uri()), &cert_uri);
    p.clone().warm_up().expect("a warm-up").await;
    assert_eq!(p.cache_ttl(), Some(Duration::from_secs(240)));
    assert_eq!(p.scheme(), Scheme::Bearer);
    assert_eq!((p.name(), p.realm()), ("generator", "ecmwf"));
    let base = server.uri();
    assert_eq!(p.check.validate.as_str(), format!("{base}/validate-token"));
    assert_eq!(
        p.check.refresh.as_str(),
        format!("{base}/admin/refresh-access-token")
    );
}

/// Upstream's `ecmwf_token_generator_integration.rs`, through the whole pipeline: the refresh
/// token is itself a JWT we cannot verify (only the generator can judge it), the access token
/// it yields is, and the identity is cached so a second request calls nobody.
#[tokio::test]
async fn end_to_end_through_the_pipeline() {
    const OUR_SECRET: &str = "0123456789abcdef0123456789abcdef";
    let server = MockServer::start().await;
    let refresh_token = mint(
        "refresh-key",
        b"a-wrong-key-a-wrong-key-a-wrong-key-a-wrong-key-a-wrong-key-0000",
        json!({"sub": "alice", "typ": "Offline", "exp": 4_000_000_000u64}),
    );
    validate(
        &server,
        &refresh_token,
        json_answer(json!({"active": true})),
        1,
    )
    .await;
    let exp = 4_000_000_000u64;
    let access = mint(
        "access-key",
        SECRET,
        json!({"sub": "alice", "preferred_username": "alice", "scope": "openid",
               "exp": exp, "realm_access": {"roles": ["user", "admin"]}}),
    );
    let answer = json_answer(json!({"access_token": access, "expires_in": 300}));
    refresh(&server, &refresh_token, answer, 1).await;
    let cert_uri = serve_jwks_as(&server, "access-key", 1).await;

    let yaml = format!(
        r#"version: "2.0.0"
auth: {{ timeout_in_ms: 2000 }}
jwt: {{ iss: authotron, exp: 3600, secret: "{OUR_SECRET}" }}
providers:
  - type: ecmwf-token-generator
    name: generator
    realm: ecmwf
    cert_uri: {cert_uri}
    client_id: generator-client
    client_secret: {CLIENT_SECRET}
    token_generator_url: {url}
    allow_hmac: true
    algorithms: [HS512]
"#,
        url = server.uri()
    );
    let config = crate::config::load(Path::new("test.yaml"), &yaml, Vec::new())
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    let auth = Arc::new(Authenticator::new(&config).expect("authenticator"));
    let header = format!("Bearer {refresh_token}");

    let Lookup::NeedsProviders(job) = auth.look_up(Some(header.as_bytes()), None) else {
        panic!("a first request cannot be a cache hit")
    };
    let outcome = auth.clone().validate(job).await;
    let Verdict::Authenticated(identity) = &outcome.verdict else {
        panic!("not authenticated: {:?}", outcome.notes)
    };
    let issued = auth.token(identity).expect("our JWT");
    let mut checks = Validation::new(jsonwebtoken::Algorithm::HS256);
    checks.set_issuer(&["authotron"]);
    let claims = decode::<serde_json::Value>(
        &issued,
        &DecodingKey::from_secret(OUR_SECRET.as_bytes()),
        &checks,
    )
    .expect("our JWT verifies")
    .claims;
    assert_eq!(claims["realm"], "ecmwf");
    assert_eq!(claims["username"], "alice");
    assert_eq!(claims["roles"], json!(["user", "admin"]));

    // The second request is answered from the cache: the `expect(1)`s hold.
    assert!(matches!(
        auth.look_up(Some(header.as_bytes()), None),
        Lookup::Answered(_)
    ));
}
