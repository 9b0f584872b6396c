//! What the providers that ask an identity service share: building endpoint URLs, sending a
//! request, and reading the answer as either a JSON object or a verdict.
//!
//! Upstream reads the body whatever the status; we check the status, and the same status means
//! different things depending on whose credential the service judges (see `Caller`, and the
//! table in README, "Behaviour and differences from upstream"). No reason built here contains the user's credential, a client
//! secret, a URL (an API key travels in the query) or the service's own error text.

use reqwest::{Client, RequestBuilder, Url};
use serde_json::{Map, Value};

use crate::domain::ProviderVerdict;
use crate::domain::User;
use crate::http::{send_json, IdentityClient, JsonReply};

/// Whose credential a 4xx answer is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Caller {
    /// The user's key is the only credential sent (`ecmwf-api`, `efas-api`): a 4xx is the
    /// service saying no to that key.
    ApiKey,
    /// We call as an OAuth client and pass the user's token along (`openid-offline`,
    /// `ecmwf-token-generator`): only a 400 is about the token; 401/403 mean our own client
    /// credentials are wrong, and other 4xx a wrong URL. The user can fix none of those, so
    /// they must not read as "bad credential" (401) or be cached as one.
    Client,
}

/// Why a provider stopped before it had a user; it becomes the provider's verdict.
#[derive(Debug)]
pub(super) enum Failure {
    /// A definitive "no" about the credential.
    Rejected(String),
    /// No answer worth trusting: an outage or a misconfiguration.
    Unavailable(String),
}

impl From<Failure> for ProviderVerdict {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Rejected(reason) => ProviderVerdict::Rejected(reason),
            Failure::Unavailable(reason) => ProviderVerdict::Unavailable(reason),
        }
    }
}

impl From<Result<User, Failure>> for ProviderVerdict {
    fn from(result: Result<User, Failure>) -> Self {
        match result {
            Ok(user) => ProviderVerdict::Accepted(user),
            Err(failure) => failure.into(),
        }
    }
}

/// The JSON object of a 2xx answer, or why there is none.
pub(super) type Answer = Result<Map<String, Value>, Failure>;

/// `base` with `segments` appended as percent-encoded path segments; a trailing slash on
/// `base` is not doubled. Checked when the config is loaded, so `nginx -t` reports it.
pub(super) fn endpoint(base: &str, segments: &[&str]) -> Result<Url, String> {
    let mut url = Url::parse(base).map_err(|e| format!("not a usable URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "must be an http or https URL, not `{}:`",
            url.scheme()
        ));
    }
    if !segments.is_empty() {
        url.path_segments_mut()
            .map_err(|()| "not a usable URL (it cannot have a path)".to_owned())?
            .pop_if_empty()
            .extend(segments);
    }
    Ok(url)
}

/// A config error about `key` of provider `name`, worded for `nginx -t`.
pub(super) fn config_error(name: &str, key: &str, problem: String) -> String {
    format!("provider `{name}`: `{key}` {problem}")
}

/// The worker's HTTP client; failing to build one is an outage, not a verdict on the user.
pub(super) fn client(http: &IdentityClient) -> Result<&Client, Failure> {
    http.client().map_err(Failure::Unavailable)
}

/// Sends `request` to `service` (a label for logs) and classifies the answer.
pub(super) async fn call(service: &str, caller: Caller, request: RequestBuilder) -> Answer {
    let timer = crate::metrics::outbound_call();
    let sent = send_json(request).await;
    timer.finish();
    match sent {
        Ok(reply) => classify(service, caller, reply),
        Err(transport) => Err(Failure::Unavailable(format!("{service}: {transport}"))),
    }
}

fn classify(service: &str, caller: Caller, reply: JsonReply) -> Answer {
    let status = reply.status;
    let unavailable = |why: &str| Err(Failure::Unavailable(format!("{service} {why}")));
    match (status, caller) {
        (200..=299, _) => match reply.body {
            Some(Value::Object(body)) => Ok(body),
            _ => unavailable(&format!("answered HTTP {status} without a JSON object")),
        },
        // Transient whoever asked: try again later rather than refuse the user.
        (408 | 429, _) => unavailable(&format!("answered HTTP {status}")),
        (401 | 403, Caller::ApiKey) => Err(Failure::Rejected("Invalid API token".into())),
        (400..=499, Caller::ApiKey) => Err(Failure::Rejected(format!(
            "{service} refused the API key (HTTP {status})"
        ))),
        (400, Caller::Client) => match oauth_error(&reply.body) {
            // RFC 6749 §5.2: a 400 may also be about our client (failed authentication, or
            // not allowed this grant), which the user cannot fix.
            Some(code @ ("invalid_client" | "unauthorized_client" | "unsupported_grant_type")) => {
                unavailable(&format!(
                    "refused this module's client (HTTP 400, {code}); check the provider's client id, secret and grants"
                ))
            }
            Some(code) => Err(Failure::Rejected(format!(
                "{service} refused the token (HTTP 400, {code})"
            ))),
            None => Err(Failure::Rejected(format!(
                "{service} refused the token (HTTP 400)"
            ))),
        },
        (401 | 403, Caller::Client) => unavailable(&format!(
            "refused this module's client credentials (HTTP {status}); check the provider's client id and secret"
        )),
        (400..=499, Caller::Client) => unavailable(&format!(
            "answered HTTP {status}; check the provider's URL"
        )),
        // 5xx, and anything else a redirect-following client should never see.
        _ => unavailable(&format!("answered HTTP {status}")),
    }
}

/// The standard OAuth `error` code of a refusal. Only codes from RFC 6749/7662 are returned:
/// any other text is the service's and may echo what we sent.
fn oauth_error(body: &Option<Value>) -> Option<&'static str> {
    const CODES: &[&str] = &[
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "invalid_token",
    ];
    let code = body.as_ref()?.get("error")?.as_str()?;
    CODES.iter().copied().find(|known| *known == code)
}

/// `field` of `body` when it is a non-empty string.
pub(super) fn string_field<'a>(body: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
    body.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The `access_token` of a 2xx exchange answer. Its absence is the service misbehaving, not
/// a verdict on the user.
pub(super) fn access_token(service: &str, body: &Map<String, Value>) -> Result<String, Failure> {
    string_field(body, "access_token")
        .map(str::to_owned)
        .ok_or_else(|| {
            Failure::Unavailable(format!("{service} answered without an `access_token`"))
        })
}

#[cfg(test)]
mod tests {
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
}
