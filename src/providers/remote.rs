//! What the providers that ask an identity service share: building endpoint URLs, sending a
//! request, and reading the answer as either a JSON object or a verdict.
//!
//! Upstream reads the body whatever the status; we check the status, and the same status means
//! different things depending on whose credential the service judges (see `Caller`, and the
//! table in docs/migration-differences.md, "Identity services"). No reason built here contains
//! the user's credential, a client
//! secret, a URL (an API key travels in the query) or the service's own error text.

use std::sync::Arc;

use reqwest::{Client, RequestBuilder, Url};
use serde_json::{Map, Value};
use tokio::sync::Semaphore;

use crate::domain::ProviderVerdict;
use crate::domain::User;
use crate::http::{send_json, IdentityClient, JsonReply};

/// Whose credential a 4xx answer is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
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
pub(crate) enum Failure {
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
pub(crate) type Answer = Result<Map<String, Value>, Failure>;

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

/// One provider's way to its identity service: the worker's shared HTTP client, and the
/// provider's own bound on calls in flight (`http.max_concurrent_calls`). When a service slows
/// down, a call beyond the bound fails at once as an outage (503), rather than joining an
/// unbounded queue of requests that would all time out anyway.
pub(super) struct Channel {
    http: Arc<IdentityClient>,
    permits: Arc<Semaphore>,
}

impl Channel {
    pub(super) fn new(http: Arc<IdentityClient>, max_in_flight: usize) -> Self {
        Channel {
            http,
            permits: Arc::new(Semaphore::new(max_in_flight)),
        }
    }

    /// The worker's HTTP client; failing to build one is an outage, not a verdict on the user.
    pub(super) fn client(&self) -> Result<&Client, Failure> {
        self.http.client().map_err(Failure::Unavailable)
    }

    /// Sends `request` to `service` (a label for logs) and classifies the answer.
    pub(super) async fn call(
        &self,
        service: &str,
        caller: Caller,
        request: RequestBuilder,
    ) -> Answer {
        let Ok(_permit) = self.permits.try_acquire() else {
            crate::metrics::outbound_refused();
            return Err(Failure::Unavailable(format!(
                "{service}: too many calls in flight (http.max_concurrent_calls)"
            )));
        };
        let timer = crate::metrics::outbound_call();
        let sent = send_json(request).await;
        timer.finish();
        match sent {
            Ok(reply) => classify(service, caller, reply),
            Err(transport) => Err(Failure::Unavailable(format!("{service}: {transport}"))),
        }
    }
}

/// What an answer means, from its status and body. Apart from `Channel::call` so that it can
/// be fuzzed without a service.
pub(crate) fn classify(service: &str, caller: Caller, reply: JsonReply) -> Answer {
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
pub(crate) fn access_token(service: &str, body: &Map<String, Value>) -> Result<String, Failure> {
    string_field(body, "access_token")
        .map(str::to_owned)
        .ok_or_else(|| {
            Failure::Unavailable(format!("{service} answered without an `access_token`"))
        })
}

#[cfg(test)]
mod tests;
