use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::domain::Scheme;
use crate::providers::test_support::*;
use crate::providers::Provider;

fn provider(uri: &str) -> Arc<EfasApiProvider> {
    let config = EfasApiConfig {
        name: "efas".into(),
        realm: "floods".into(),
        uri: uri.into(),
        cache_ttl_seconds: None,
    };
    Arc::new(EfasApiProvider::new(&config, &context()).expect("provider"))
}

async fn user_details(server: &MockServer, token: &str, answer: ResponseTemplate) {
    expect_token_query(server, "/", token, answer).await;
}

/// Upstream's success scenario for this provider, except that the realm is the configured
/// one, not `efas`.
#[tokio::test]
async fn valid_key_gives_user_roles_and_only_the_email() {
    let server = MockServer::start().await;
    let answer = json!({
        "user_id": 42, "username": "user_ecmwf", "first_name": "Ada",
        "last_name": "Lovelace", "organisation": "ECMWF",
        "email": "user@example.com", "roles": ["admin"]
    });
    user_details(
        &server,
        "valid_token",
        ResponseTemplate::new(200).set_body_json(answer),
    )
    .await;

    let p = provider(&server.uri());
    let user = accepted(p.clone().authenticate("valid_token".into()).await);
    assert_eq!(user.username, "user_ecmwf");
    assert_eq!(user.realm, "floods");
    assert_eq!(p.realm(), "floods");
    assert_eq!(user.roles, ["admin"]);
    assert_eq!(user.attributes.len(), 1);
    assert_eq!(user.attributes["email"], "user@example.com");
}

#[tokio::test]
async fn roles_default_to_empty() {
    let server = MockServer::start().await;
    let answer = json!({"username": "u", "roles": null});
    user_details(
        &server,
        "k",
        ResponseTemplate::new(200).set_body_json(answer),
    )
    .await;
    let user = accepted(provider(&server.uri()).authenticate("k".into()).await);
    assert!(user.roles.is_empty() && user.attributes.is_empty());
}

#[tokio::test]
async fn forbidden_is_an_invalid_token() {
    let server = MockServer::start().await;
    user_details(&server, "bad", ResponseTemplate::new(403)).await;
    let reason = rejected(provider(&server.uri()).authenticate("bad".into()).await);
    assert_eq!(reason, "Invalid API token");
}

#[tokio::test]
async fn malformed_answers_are_refused() {
    for answer in [
        json!({"email": "a@b.c"}),
        json!({"username": ""}),
        json!({"username": "u", "roles": "admin"}),
        json!({"username": "u", "roles": [1]}),
    ] {
        let server = MockServer::start().await;
        user_details(
            &server,
            "k",
            ResponseTemplate::new(200).set_body_json(answer),
        )
        .await;
        rejected(provider(&server.uri()).authenticate("k".into()).await);
    }
}

#[tokio::test]
async fn key_is_percent_encoded() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/efas/user-details"))
        .and(query_param("token", TRICKY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"username": "t"})))
        .expect(1)
        .mount(&server)
        .await;
    let p = provider(&format!("{}/efas/user-details", server.uri()));
    assert_eq!(accepted(p.authenticate(TRICKY.into()).await).username, "t");
}

#[tokio::test]
async fn failures_are_classified() {
    assert_failures_classified(Caller::ApiKey, &[TRICKY, "k&admin"], |s| provider(&s.uri())).await;
    let verdict = provider(&closed_port_uri()).authenticate("k".into()).await;
    assert_failure("refused", verdict, false, &[]);
}

#[test]
fn metadata() {
    let p = provider("https://efas.example.com/user-details");
    assert_eq!(p.scheme(), Scheme::Bearer);
    assert_eq!(p.name(), "efas");
    assert_eq!(p.cache_ttl(), Some(Duration::from_secs(60)));
}
