//! Fixtures for the tests of providers that call identity services: a client with short
//! timeouts, HS512 tokens with an `oct` JWKS (as upstream's own tests make their tokens), and
//! the failure answers every such provider must classify.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use wiremock::matchers::{any, method, path, query_param};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate, Times};

use super::remote::Caller;
use super::{Provider, ProviderContext};
use crate::config::{HttpSettings, JwtChecks};
use crate::domain::ProviderVerdict;
use crate::domain::User;
use crate::http::IdentityClient;

/// A credential that changes the request if it is not percent-encoded.
pub const TRICKY: &str = "k&admin=1#frag ment+plus%41/?x";

/// The HMAC secret of the `oct` key `k1` served by [`serve_jwks`].
pub const SECRET: &[u8] = b"a-test-secret-of-at-least-64-bytes-for-hs512-0123456789abcdefghij";

pub fn context() -> ProviderContext {
    let settings = HttpSettings {
        connect_timeout_ms: 200,
        timeout_ms: 300,
        ..HttpSettings::default()
    };
    ProviderContext::new(
        Arc::new(IdentityClient::new(&settings).expect("client")),
        settings.max_concurrent_calls as usize,
    )
}

/// Checks that accept the HS512 test tokens.
pub fn hmac_checks() -> JwtChecks {
    JwtChecks {
        algorithms: vec!["HS512".into()],
        allow_hmac: true,
        ..JwtChecks::default()
    }
}

/// Serves a JWKS holding the `oct` key `k1` ([`SECRET`]) at `/certs`, expecting `fetches`
/// requests; returns its URI.
pub async fn serve_jwks(server: &MockServer, fetches: impl Into<Times>) -> String {
    serve_jwks_as(server, "k1", fetches).await
}

/// [`serve_jwks`] with [`SECRET`] named `kid`.
pub async fn serve_jwks_as(server: &MockServer, kid: &str, fetches: impl Into<Times>) -> String {
    let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(SECRET);
    Mock::given(method("GET"))
        .and(path("/certs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "keys": [{"kty": "oct", "kid": kid, "alg": "HS512", "k": k}]
        })))
        .expect(fetches)
        .mount(server)
        .await;
    format!("{}/certs", server.uri())
}

/// An HS512 token signed with `secret` under `kid`.
pub fn mint(kid: &str, secret: &[u8], claims: Value) -> String {
    let mut header = Header::new(Algorithm::HS512);
    header.kid = Some(kid.into());
    encode(&header, &claims, &EncodingKey::from_secret(secret)).expect("sign")
}

/// An access token for `sub` with realm roles, valid for an hour, signed with key `k1`.
pub fn access_token(sub: &str, roles: &[&str]) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    mint(
        "k1",
        SECRET,
        json!({"sub": sub, "scope": "openid offline_access", "exp": exp,
               "realm_access": {"roles": roles}}),
    )
}

/// Longer than the client's 300 ms timeout.
pub const SLOW: Duration = Duration::from_secs(2);

/// The answers that must not authenticate, and whether each is a definitive "no" (`true`)
/// or an outage (`false`), for a service called as `caller`.
pub fn failures(caller: Caller) -> Vec<(&'static str, ResponseTemplate, bool)> {
    let client = caller == Caller::Client;
    vec![
        ("400", ResponseTemplate::new(400), true),
        ("401", ResponseTemplate::new(401), !client),
        ("403", ResponseTemplate::new(403), !client),
        ("404", ResponseTemplate::new(404), !client),
        ("429", ResponseTemplate::new(429), false),
        ("500", ResponseTemplate::new(500), false),
        (
            "503",
            ResponseTemplate::new(503).set_body_json(json!({})),
            false,
        ),
        (
            "non-JSON",
            ResponseTemplate::new(200).set_body_string("<html>hello</html>"),
            false,
        ),
        (
            "an answer over the size cap",
            ResponseTemplate::new(200).set_body_json(oversized_answer()),
            false,
        ),
        (
            "timeout",
            ResponseTemplate::new(200)
                .set_body_json(json!({}))
                .set_delay(SLOW),
            false,
        ),
    ]
}

/// A well-formed answer of every remote provider's shape (a user for ecmwf-api and efas-api,
/// tokens for the OpenID ones), padded past `MAX_ANSWER_BYTES`: only its size is wrong.
fn oversized_answer() -> Value {
    let sub_token = mint(
        "k",
        b"unused",
        json!({"sub": "someone", "exp": 4_000_000_000u64}),
    );
    json!({
        "uid": "someone",
        "email": "someone@example.org",
        "access_token": sub_token,
        "refresh_token": sub_token,
        "padding": "x".repeat(crate::http::MAX_ANSWER_BYTES),
    })
}

/// Matches a form body holding exactly `expected` (decoded, in any order).
pub fn form(expected: &[(&str, &str)]) -> impl Match {
    let mut expected: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    expected.sort();
    move |request: &Request| {
        let Ok(body) = std::str::from_utf8(&request.body) else {
            return false;
        };
        // The query parser is the form parser (application/x-www-form-urlencoded).
        let mut url = reqwest::Url::parse("http://form.invalid/").expect("static URL");
        url.set_query(Some(body));
        let mut got: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        got.sort();
        got == expected
    }
}

/// A URI where nothing listens: connections are refused.
pub fn closed_port_uri() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Asserts the kind of a failed verdict, and that its reason does not contain `secrets`.
#[track_caller]
pub fn assert_failure(label: &str, verdict: ProviderVerdict, definitive: bool, secrets: &[&str]) {
    let reason = match (verdict, definitive) {
        (ProviderVerdict::Rejected(reason), true)
        | (ProviderVerdict::Unavailable(reason), false) => reason,
        (other, _) => panic!("{label}: expected definitive={definitive}, got {other:?}"),
    };
    for secret in secrets {
        assert!(
            !reason.contains(secret),
            "{label}: reason leaks {secret:?}: {reason}"
        );
    }
}

#[track_caller]
pub fn accepted(verdict: ProviderVerdict) -> User {
    match verdict {
        ProviderVerdict::Accepted(user) | ProviderVerdict::AcceptedStoreToken { user, .. } => user,
        other => panic!("expected a user, got {other:?}"),
    }
}

#[track_caller]
pub fn rejected(verdict: ProviderVerdict) -> String {
    match verdict {
        ProviderVerdict::Rejected(reason) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// Expects one GET of `route` with `token` as its `token` query parameter, and gives `answer`.
pub async fn expect_token_query(
    server: &MockServer,
    route: &str,
    token: &str,
    answer: ResponseTemplate,
) {
    Mock::given(method("GET"))
        .and(path(route))
        .and(query_param("token", token))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

/// Each of [`failures`]`(caller)`, given to every request of a provider made by `provider`
/// for that server, is classified as it says, and none of `secrets` is in the reason.
pub async fn assert_failures_classified<P: Provider + 'static>(
    caller: Caller,
    secrets: &[&str],
    provider: impl Fn(&MockServer) -> Arc<P>,
) {
    for (label, answer, definitive) in failures(caller) {
        let server = MockServer::start().await;
        Mock::given(any()).respond_with(answer).mount(&server).await;
        let verdict = provider(&server).authenticate(TRICKY.into()).await;
        assert_failure(label, verdict, definitive, secrets);
    }
}
