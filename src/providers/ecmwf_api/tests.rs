use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

use super::*;
use crate::domain::Scheme;
use crate::providers::test_support::*;
use crate::providers::Provider;

fn provider(uri: &str) -> Arc<EcmwfApiProvider> {
    let config = EcmwfApiConfig {
        name: "ecmwf".into(),
        realm: "ecmwf".into(),
        uri: uri.into(),
        cache_ttl_seconds: None,
    };
    Arc::new(EcmwfApiProvider::new(&config, &context()).expect("provider"))
}

async fn who_am_i(server: &MockServer, token: &str, answer: ResponseTemplate) {
    expect_token_query(server, "/who-am-i", token, answer).await;
}

/// Upstream's success scenario for this provider, plus a guard for what upstream changed in
/// 0.3.7: the key is kept in no attribute.
#[tokio::test]
async fn valid_key_gives_the_user_without_the_key() {
    let server = MockServer::start().await;
    let answer = json!({"uid": "user_ecmwf", "email": "user@example.com"});
    who_am_i(
        &server,
        "valid_token",
        ResponseTemplate::new(200).set_body_json(answer),
    )
    .await;

    let user = accepted(
        provider(&server.uri())
            .authenticate("valid_token".into())
            .await,
    );
    assert_eq!(user.username, "user_ecmwf");
    assert_eq!(user.realm, "ecmwf");
    assert!(user.roles.is_empty());
    assert!(!user.attributes.contains_key("ecmwf-apikey"));
    assert!(user.attributes.values().all(|v| !v.contains("valid_token")));
    assert_eq!(user.attributes["ecmwf-email"], "user@example.com");
    assert_eq!(user.attributes.len(), 1);
}

#[tokio::test]
async fn forbidden_is_an_invalid_token() {
    let server = MockServer::start().await;
    who_am_i(&server, "bad", ResponseTemplate::new(403)).await;
    let reason = rejected(provider(&server.uri()).authenticate("bad".into()).await);
    assert_eq!(reason, "Invalid API token");
}

#[tokio::test]
async fn missing_or_empty_uid_is_refused() {
    for answer in [
        json!({"email": "a@b.c"}),
        json!({"uid": ""}),
        json!({"uid": 7}),
    ] {
        let server = MockServer::start().await;
        who_am_i(
            &server,
            "k",
            ResponseTemplate::new(200).set_body_json(answer),
        )
        .await;
        let reason = rejected(provider(&server.uri()).authenticate("k".into()).await);
        assert!(reason.contains("uid"), "{reason}");
    }
}

#[tokio::test]
async fn key_is_percent_encoded() {
    let server = MockServer::start().await;
    who_am_i(
        &server,
        TRICKY,
        ResponseTemplate::new(200).set_body_json(json!({"uid": "tricky"})),
    )
    .await;
    // A trailing slash on `uri` does not give `//who-am-i`.
    let p = provider(&format!("{}/", server.uri()));
    assert_eq!(
        accepted(p.authenticate(TRICKY.into()).await).username,
        "tricky"
    );
}

#[tokio::test]
async fn failures_are_classified() {
    assert_failures_classified(Caller::ApiKey, &[TRICKY, "k&admin"], |s| provider(&s.uri())).await;
}

#[tokio::test]
async fn unreachable_service_is_unavailable() {
    let verdict = provider(&closed_port_uri()).authenticate("k".into()).await;
    assert_failure("refused", verdict, false, &[]);
}

#[test]
fn metadata_and_config() {
    let p = provider("https://api.ecmwf.int/v1");
    assert_eq!(
        p.check.who_am_i.as_str(),
        "https://api.ecmwf.int/v1/who-am-i"
    );
    assert_eq!(p.scheme(), Scheme::Bearer);
    assert_eq!((p.name(), p.realm()), ("ecmwf", "ecmwf"));
    assert_eq!(p.cache_ttl(), Some(Duration::from_secs(60)));
    let config = EcmwfApiConfig {
        name: "ecmwf".into(),
        realm: "ecmwf".into(),
        uri: "api.ecmwf.int".into(),
        cache_ttl_seconds: Some(5),
    };
    let err = EcmwfApiProvider::new(&config, &context())
        .err()
        .expect("bad uri");
    assert!(err.starts_with("provider `ecmwf`: `uri` "), "{err}");
}
