use serde_json::json;

use super::*;

fn reply(status: u16, body: Option<Value>) -> JsonReply {
    JsonReply { status, body }
}

fn kind(answer: Answer) -> &'static str {
    match answer {
        Ok(_) => "ok",
        Err(Failure::Rejected(_)) => "rejected",
        Err(Failure::Unavailable(_)) => "unavailable",
    }
}

#[test]
fn statuses_by_caller() {
    let object = || Some(json!({"a": 1}));
    let cases = [
        (200, object(), "ok", "ok"),
        (204, object(), "ok", "ok"),
        (200, None, "unavailable", "unavailable"),
        (
            200,
            Some(json!(["not", "an", "object"])),
            "unavailable",
            "unavailable",
        ),
        (400, None, "rejected", "rejected"),
        (401, None, "rejected", "unavailable"),
        (403, None, "rejected", "unavailable"),
        (404, None, "rejected", "unavailable"),
        (408, None, "unavailable", "unavailable"),
        (429, None, "unavailable", "unavailable"),
        (500, None, "unavailable", "unavailable"),
        (503, object(), "unavailable", "unavailable"),
        (304, None, "unavailable", "unavailable"),
    ];
    for (status, body, api_key, client) in cases {
        let got = kind(classify("svc", Caller::ApiKey, reply(status, body.clone())));
        assert_eq!(got, api_key, "ApiKey {status}");
        let got = kind(classify("svc", Caller::Client, reply(status, body)));
        assert_eq!(got, client, "Client {status}");
    }
}

#[test]
fn api_key_refusal_has_upstream_message() {
    for status in [401, 403] {
        match classify("svc", Caller::ApiKey, reply(status, None)) {
            Err(Failure::Rejected(reason)) => assert_eq!(reason, "Invalid API token"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn oauth_400_about_the_client_is_an_outage() {
    let body = |code: &str| Some(json!({"error": code, "error_description": "echo: secret"}));
    match classify("idp", Caller::Client, reply(400, body("invalid_grant"))) {
        Err(Failure::Rejected(reason)) => {
            assert_eq!(reason, "idp refused the token (HTTP 400, invalid_grant)")
        }
        other => panic!("{other:?}"),
    }
    for code in [
        "invalid_client",
        "unauthorized_client",
        "unsupported_grant_type",
    ] {
        match classify("idp", Caller::Client, reply(400, body(code))) {
            Err(Failure::Unavailable(reason)) => {
                assert!(reason.contains("client id") && reason.contains(code))
            }
            other => panic!("{other:?}"),
        }
    }
    // An unknown error code is not repeated: it is the service's text.
    match classify(
        "idp",
        Caller::Client,
        reply(400, body("the token was secret")),
    ) {
        Err(Failure::Rejected(reason)) => assert!(!reason.contains("secret")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn endpoints_join_cleanly() {
    let join = |base, segments: &[&str]| endpoint(base, segments).map(|u| u.to_string());
    assert_eq!(
        join("https://api.example.com/v1", &["who-am-i"]).unwrap(),
        "https://api.example.com/v1/who-am-i"
    );
    assert_eq!(
        join("https://api.example.com/v1/", &["who-am-i"]).unwrap(),
        "https://api.example.com/v1/who-am-i"
    );
    assert_eq!(
        join(
            "https://iam.example.com",
            &["realms", "my realm/x", "token"]
        )
        .unwrap(),
        "https://iam.example.com/realms/my%20realm%2Fx/token"
    );
    assert_eq!(
        join("http://efas.example.com/user-details/", &[]).unwrap(),
        "http://efas.example.com/user-details/"
    );
    assert!(join("u", &[]).is_err());
    assert!(join("ftp://example.com", &[]).is_err());
    assert!(join("mailto:someone@example.com", &["x"]).is_err());
}

#[test]
fn string_fields_must_be_non_empty_strings() {
    let body = json!({"a": "x", "b": "", "c": 3})
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(string_field(&body, "a"), Some("x"));
    assert_eq!(string_field(&body, "b"), None);
    assert_eq!(string_field(&body, "c"), None);
    assert_eq!(string_field(&body, "d"), None);
}

#[tokio::test]
async fn a_call_beyond_the_bound_fails_at_once_as_an_outage_and_is_counted() {
    use std::time::Duration;

    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use crate::config::HttpSettings;
    use crate::metrics::test_support::{get, samples};
    use crate::metrics::{Catalogue, Meters, ProviderEntry};

    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"uid": "u"}))
                .set_delay(Duration::from_millis(500)),
        )
        .mount(&server)
        .await;
    let http = IdentityClient::new(&HttpSettings::default()).expect("client");
    let channel = Arc::new(Channel::new(Arc::new(http), 1));
    let call = |channel: Arc<Channel>, url: String| async move {
        let request = channel.client()?.get(url);
        channel.call("svc", Caller::ApiKey, request).await
    };

    let first = tokio::spawn(call(channel.clone(), server.uri()));
    while server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty()
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let meters = Arc::new(Meters::new(Catalogue {
        providers: vec![ProviderEntry {
            name: "svc".into(),
            scheme: "Bearer".into(),
            realm: "r".into(),
            remote: true,
            jwks: false,
        }],
        ..Catalogue::default()
    }));
    let second = meters
        .provider(0)
        .within(call(channel.clone(), server.uri()))
        .await;
    assert!(
        matches!(&second, Err(Failure::Unavailable(why)) if why.contains("too many calls in flight")),
        "{second:?}"
    );
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        1,
        "the refused call reached the service"
    );
    let refused = r#"authotron_outbound_refused_total{provider_name="svc"}"#;
    assert_eq!(get(&samples(&meters), refused), 1.0);

    assert_eq!(kind(first.await.expect("first call")), "ok");
    // Its permit is back: the next call goes through.
    assert_eq!(kind(call(channel, server.uri()).await), "ok");
}
