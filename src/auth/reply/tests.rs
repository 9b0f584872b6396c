use std::sync::Arc;

use super::*;
use crate::auth::decision::{Allowed, HeaderPlan};
use crate::auth::test_support::from_yaml;
use crate::domain::{Identity, User};

const ONE_PROVIDER: &str = r#"
providers:
  - { type: plain, name: p1, realm: r1, users: [] }
"#;

fn allowed(token: Option<&str>, api_response: Option<ApiResponse>) -> Decision {
    let user = User::new("bob", "r1", vec!["a".into(), "b".into()]);
    Decision::Allowed(Allowed {
        identity: Arc::new(Identity::new(user, "p1")),
        token: token.map(Arc::from),
        rewrites: HeaderPlan::default(),
        api_response,
    })
}

fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    let mut values = reply.headers.iter().filter(|(n, _)| *n == name);
    let value = values.next().map(|(_, v)| v.as_str());
    assert!(values.next().is_none(), "{name} twice");
    value
}

fn endpoint_reply(endpoint: Endpoint, decision: &Decision) -> Reply {
    Reply::for_endpoint(endpoint, decision, &Policy::default()).expect("a reply")
}

#[test]
fn authenticate_answers_as_upstream() {
    let reply = endpoint_reply(Endpoint::Authenticate, &allowed(Some("t0k"), None));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, b"Authenticated successfully");
    assert_eq!(header(&reply, "Authorization"), Some("Bearer t0k"));
    assert_eq!(header(&reply, "X-Auth-Username"), None);

    let legacy = Policy {
        legacy_headers: true,
        ..Policy::default()
    };
    let decision = allowed(Some("t0k"), None);
    let reply = Reply::for_endpoint(Endpoint::Authenticate, &decision, &legacy).unwrap();
    assert_eq!(header(&reply, "X-Auth-Username"), Some("bob"));
    assert_eq!(header(&reply, "X-Auth-Realm"), Some("r1"));
    assert_eq!(header(&reply, "X-Auth-Roles"), Some("a,b"));
}

#[test]
fn whoami_shows_the_user_and_is_never_cached() {
    let reply = endpoint_reply(Endpoint::Whoami, &allowed(Some("t0k"), None));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type, Some("application/json"));
    assert_eq!(header(&reply, "Cache-Control"), Some("no-store"));
    let user: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(user["username"], "bob");
    assert_eq!(user["roles"], serde_json::json!(["a", "b"]));
}

#[test]
fn refusals_carry_upstreams_json_and_their_headers() {
    let unauthorized = Decision::Unauthorized {
        challenge: Arc::from(r#"Basic realm="r1""#),
    };
    let reply = endpoint_reply(Endpoint::Authenticate, &unauthorized);
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body, br#"{"error": "Unauthorized access"}"#);
    assert_eq!(
        header(&reply, "WWW-Authenticate"),
        Some(r#"Basic realm="r1""#)
    );

    let reply = endpoint_reply(Endpoint::Whoami, &Decision::Forbidden { challenge: None });
    assert_eq!(
        (reply.status, &reply.body[..]),
        (403, &br#"{"error": "Forbidden"}"#[..])
    );
    assert_eq!(header(&reply, "WWW-Authenticate"), None);

    let insufficient = Decision::Forbidden {
        challenge: Some(Arc::from(
            r#"Bearer error="insufficient_scope", scope="read""#,
        )),
    };
    let reply = endpoint_reply(Endpoint::Authenticate, &insufficient);
    assert_eq!(reply.status, 403);
    assert_eq!(
        header(&reply, "WWW-Authenticate"),
        Some(r#"Bearer error="insufficient_scope", scope="read""#)
    );

    let unavailable = Decision::Unavailable { retry_after: 5 };
    let reply = endpoint_reply(Endpoint::Authenticate, &unavailable);
    assert_eq!(reply.status, 503);
    assert_eq!(header(&reply, "Retry-After"), Some("5"));

    let failed = Reply::for_endpoint(
        Endpoint::Authenticate,
        &Decision::Failed,
        &Policy::default(),
    );
    assert_eq!(failed, None);
}

#[test]
fn every_token_api_answer_is_uncacheable() {
    let created = ApiResponse {
        status: 201,
        body: br#"{"token":"aot_x"}"#.to_vec(),
        allow: None,
    };
    let reply = endpoint_reply(Endpoint::Tokens, &allowed(None, Some(created)));
    assert_eq!(reply.status, 201);
    assert_eq!(header(&reply, "Cache-Control"), Some("no-store"));

    let not_allowed = ApiResponse {
        status: 405,
        body: br#"{"error":"method not allowed"}"#.to_vec(),
        allow: Some("GET, POST"),
    };
    let reply = endpoint_reply(Endpoint::Tokens, &allowed(None, Some(not_allowed)));
    assert_eq!(header(&reply, "Allow"), Some("GET, POST"));

    let revoked = ApiResponse {
        status: 204,
        body: Vec::new(),
        allow: None,
    };
    let reply = endpoint_reply(Endpoint::Tokens, &allowed(None, Some(revoked)));
    assert_eq!((reply.status, reply.content_type), (204, None));

    let store_down = ApiResponse {
        status: 503,
        body: br#"{"error":"down"}"#.to_vec(),
        allow: None,
    };
    let reply = endpoint_reply(Endpoint::Tokens, &allowed(None, Some(store_down)));
    assert_eq!(header(&reply, "Retry-After"), Some("5"));

    let reply = endpoint_reply(Endpoint::Tokens, &Decision::Forbidden { challenge: None });
    assert_eq!(header(&reply, "Cache-Control"), Some("no-store"));

    // Allowed but never carried out (no store): nothing to answer.
    let decision = allowed(None, None);
    assert_eq!(
        Reply::for_endpoint(Endpoint::Tokens, &decision, &Policy::default()),
        None
    );
}

#[test]
fn documents_have_their_types_and_cache_rules() {
    let a = from_yaml(ONE_PROVIDER);
    let providers = Reply::document(&a, Document::Providers);
    assert_eq!(providers.content_type, Some("application/json"));
    assert_eq!(header(&providers, "Cache-Control"), Some("no-store"));
    let listing: serde_json::Value = serde_json::from_slice(&providers.body).unwrap();
    assert_eq!(listing["providers"][0]["name"], "p1");

    let jwks = Reply::document(&a, Document::Jwks);
    assert_eq!(header(&jwks, "Cache-Control"), Some("max-age=300"));

    let metrics = Reply::document(&a, Document::Metrics);
    assert_eq!(
        metrics.content_type,
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(metrics.status, 200);
}
