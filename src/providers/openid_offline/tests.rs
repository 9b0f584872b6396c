//! Upstream's tests of this provider, plus the status policy, encoding and the JWT step.

use serde_json::json;
use std::sync::Arc;
use wiremock::matchers::{any, basic_auth, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use std::time::Duration;

use super::*;
use crate::domain::Scheme;
use crate::providers::test_support::*;
use crate::providers::Provider;

const INTROSPECT: &str = "/realms/test/protocol/openid-connect/token/introspect";
const TOKEN: &str = "/realms/test/protocol/openid-connect/token";
const CLIENT_SECRET: &str = "Sekrit-Client-Secret";

fn provider_at(iam_url: &str, cert_uri: &str) -> Arc<OpenidOfflineProvider> {
    let config = OpenidOfflineConfig {
        name: "offline".into(),
        realm: "test".into(),
        cert_uri: cert_uri.into(),
        public_client_id: "public-client".into(),
        private_client_id: "private-client".into(),
        private_client_secret: CLIENT_SECRET.into(),
        iam_url: iam_url.into(),
        checks: hmac_checks(),
        cache_ttl_seconds: None,
    };
    Arc::new(OpenidOfflineProvider::new(&config, &context()).expect("provider"))
}

fn provider(server: &MockServer) -> Arc<OpenidOfflineProvider> {
    provider_at(&server.uri(), &format!("{}/certs", server.uri()))
}

/// Introspection of `offline` as the private client, answering `answer`, `times` times.
async fn introspect(server: &MockServer, offline: &str, answer: ResponseTemplate, times: u64) {
    Mock::given(method("POST"))
        .and(path(INTROSPECT))
        .and(basic_auth("private-client", CLIENT_SECRET))
        .and(form(&[("token", offline)]))
        .respond_with(answer)
        .expect(times)
        .mount(server)
        .await;
}

/// The refresh-token exchange of `offline`, answering `answer`, `times` times.
async fn exchange(server: &MockServer, offline: &str, answer: ResponseTemplate, times: u64) {
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .and(basic_auth("private-client", CLIENT_SECRET))
        .and(form(&[
            ("client_id", "public-client"),
            ("grant_type", "refresh_token"),
            ("refresh_token", offline),
        ]))
        .respond_with(answer)
        .expect(times)
        .mount(server)
        .await;
}

fn json_answer(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn active() -> ResponseTemplate {
    json_answer(json!({"active": true, "scope": "offline_access other_scope"}))
}

#[tokio::test]
async fn active_offline_token_is_exchanged_for_the_access_token() {
    let server = MockServer::start().await;
    introspect(&server, "offline-1", active(), 1).await;
    let answer = json_answer(json!({"access_token": "new_access_token"}));
    exchange(&server, "offline-1", answer, 1).await;
    let token = provider(&server)
        .check
        .access_token("offline-1")
        .await
        .expect("token");
    assert_eq!(token, "new_access_token");
}

#[tokio::test]
async fn the_access_token_becomes_the_user() {
    let server = MockServer::start().await;
    let cert_uri = serve_jwks(&server, 1).await;
    introspect(&server, TRICKY, active(), 1).await;
    let access = access_token("alice", &["user", "admin"]);
    exchange(
        &server,
        TRICKY,
        json_answer(json!({ "access_token": access })),
        1,
    )
    .await;

    let p = provider_at(&server.uri(), &cert_uri);
    let user = accepted(p.authenticate(TRICKY.into()).await);
    assert_eq!(user.username, "alice");
    assert_eq!(user.realm, "test");
    assert_eq!(user.roles, ["user", "admin"]);
    assert_eq!(user.scopes["offline"], ["openid", "offline_access"]);
}

#[tokio::test]
async fn inactive_or_online_tokens_are_refused_without_exchange() {
    for answer in [
        json!({"active": false, "scope": ""}),
        json!({"active": false, "scope": "offline_access"}),
        json!({"active": "true", "scope": "offline_access"}),
        json!({"active": true}),
        json!({"active": true, "scope": "openid profile"}),
        // A substring is not the scope (upstream accepts these).
        json!({"active": true, "scope": "no_offline_access"}),
        json!({"active": true, "scope": "offline_access_x"}),
    ] {
        let server = MockServer::start().await;
        introspect(&server, "t", json_answer(answer.clone()), 1).await;
        exchange(&server, "t", json_answer(json!({})), 0).await;
        let reason = rejected(provider(&server).authenticate("t".into()).await);
        assert_eq!(reason, "Not a valid offline_access token", "{answer}");
    }
}

#[tokio::test]
async fn introspection_failures_are_classified() {
    assert_failures_classified(Caller::Client, &[TRICKY, CLIENT_SECRET], provider).await;
    let verdict = provider_at(&closed_port_uri(), "http://127.0.0.1:9/certs")
        .authenticate("t".into())
        .await;
    assert_failure("refused", verdict, false, &[]);
}

#[tokio::test]
async fn exchange_failures_are_classified() {
    let mut cases = failures(Caller::Client);
    cases.push((
        "no access_token",
        json_answer(json!({"token_type": "Bearer"})),
        false,
    ));
    let grant = ResponseTemplate::new(400).set_body_json(
        json!({"error": "invalid_grant", "error_description": "Token is not active"}),
    );
    cases.push(("invalid_grant", grant, true));
    let client = ResponseTemplate::new(400).set_body_json(json!({"error": "unauthorized_client"}));
    cases.push(("unauthorized_client", client, false));
    for (label, answer, definitive) in cases {
        let server = MockServer::start().await;
        introspect(&server, TRICKY, active(), 1).await;
        Mock::given(path(TOKEN))
            .respond_with(answer)
            .mount(&server)
            .await;
        let verdict = provider(&server).authenticate(TRICKY.into()).await;
        assert_failure(label, verdict, definitive, &[TRICKY, CLIENT_SECRET]);
    }
}

#[tokio::test]
async fn wrong_client_credentials_say_so() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    match provider(&server).authenticate("t".into()).await {
        ProviderVerdict::Unavailable(reason) => {
            assert!(reason.contains("client credentials"), "{reason}");
            assert!(!reason.contains(CLIENT_SECRET));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_jwt_step_decides_last() {
    // An access token signed with a key the JWKS does not hold.
    let server = MockServer::start().await;
    let cert_uri = serve_jwks(&server, 1..).await;
    introspect(&server, "t", active(), 1).await;
    let forged = mint(
        "k1",
        b"another-secret-another-secret-another-secret-another-secret!!",
        json!({
            "sub": "mallory", "scope": "openid", "exp": 4_000_000_000u64
        }),
    );
    exchange(
        &server,
        "t",
        json_answer(json!({ "access_token": forged })),
        1,
    )
    .await;
    rejected(
        provider_at(&server.uri(), &cert_uri)
            .authenticate("t".into())
            .await,
    );

    // No key set at all: nobody can be checked.
    let server = MockServer::start().await;
    introspect(&server, "t", active(), 1).await;
    let access = access_token("alice", &[]);
    exchange(
        &server,
        "t",
        json_answer(json!({ "access_token": access })),
        1,
    )
    .await;
    Mock::given(path("/certs"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    match provider(&server).authenticate("t".into()).await {
        ProviderVerdict::Unavailable(_) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn warm_up_fetches_the_key_set() {
    let server = MockServer::start().await;
    let cert_uri = serve_jwks(&server, 1).await;
    let p = provider_at(&server.uri(), &cert_uri);
    p.clone().warm_up().expect("a warm-up").await;
    assert_eq!(p.cache_ttl(), Some(Duration::from_secs(120)));
    assert_eq!(p.scheme(), Scheme::Bearer);
    assert_eq!((p.name(), p.realm()), ("offline", "test"));
}

#[test]
fn endpoints_follow_keycloak_layout() {
    let p = provider_at(
        "https://iam.example.com/auth/",
        "https://iam.example.com/certs",
    );
    assert_eq!(
        p.check.introspect.as_str(),
        "https://iam.example.com/auth/realms/test/protocol/openid-connect/token/introspect"
    );
    assert_eq!(
        p.check.token.as_str(),
        "https://iam.example.com/auth/realms/test/protocol/openid-connect/token"
    );
}
