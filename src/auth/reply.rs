//! The responses the module writes itself: upstream's `/authenticate`, `/whoami` and token
//! routes, answered from the decision, and the documents served without authentication.

use super::decision::{legacy_headers, Decision};
use super::policy::{Endpoint, Policy};
use super::Authenticator;
use crate::store::api::ApiResponse;

const JSON: &str = "application/json";
const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A complete response: status, headers and body, exactly as upstream answers.
#[derive(Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<&'static str>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// A document that the module serves without authentication. Restrict them with
/// `allow`/`deny` where they should not be public.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Document {
    /// Upstream's `/providers`.
    Providers,
    /// Upstream's `/augmenters`.
    Augmenters,
    /// The public keys that verify minted tokens.
    Jwks,
    /// Prometheus metrics.
    Metrics,
    /// The OAuth 2.0 Protected Resource Metadata document (RFC 9728).
    ResourceMetadata,
}

impl Document {
    /// What `nginx -t` says about a location serving `document` with this config, if it
    /// cannot be served.
    pub fn check(self, authenticator: &Authenticator) -> Result<(), String> {
        match self {
            Document::ResourceMetadata if authenticator.resource_metadata().is_none() => Err(
                "\"authotron_resource_metadata\" needs a `resource_metadata` section with `resource` in the authotron_config file".to_owned(),
            ),
            _ => Ok(()),
        }
    }
}

impl Reply {
    fn json_error(status: u16, message: &str) -> Reply {
        Reply {
            status,
            content_type: Some(JSON),
            headers: Vec::new(),
            // Upstream's exact bytes, space included; messages are fixed text.
            body: format!("{{\"error\": \"{message}\"}}").into_bytes(),
        }
    }

    fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }

    /// The answer of an endpoint location, `None` when there is none to give (a failure on our
    /// side, or an allowed token API request that was never carried out): NGINX answers 500.
    pub fn for_endpoint(endpoint: Endpoint, decision: &Decision, policy: &Policy) -> Option<Reply> {
        let reply = match decision {
            Decision::Allowed(allowed) => match endpoint {
                Endpoint::Authenticate => {
                    let token = allowed.token.as_ref()?;
                    let mut headers = vec![("Authorization", format!("Bearer {token}"))];
                    if policy.legacy_headers {
                        headers.extend(legacy_headers(&allowed.identity));
                    }
                    Reply {
                        status: 200,
                        content_type: None,
                        headers,
                        body: b"Authenticated successfully".to_vec(),
                    }
                }
                Endpoint::Whoami => Reply {
                    status: 200,
                    content_type: Some(JSON),
                    headers: vec![("Cache-Control", "no-store".to_owned())],
                    body: serde_json::to_vec(&allowed.identity.user).ok()?,
                },
                Endpoint::Tokens => Reply::from(allowed.api_response.clone()?),
            },
            Decision::Unauthorized { challenge } => Reply::json_error(401, "Unauthorized access")
                .with_header("WWW-Authenticate", challenge.to_string()),
            Decision::Forbidden { challenge } => {
                let reply = Reply::json_error(403, "Forbidden");
                match challenge {
                    Some(challenge) => reply.with_header("WWW-Authenticate", challenge.to_string()),
                    None => reply,
                }
            }
            Decision::Unavailable { retry_after } => Reply::json_error(503, "Service unavailable")
                .with_header("Retry-After", retry_after.to_string()),
            Decision::Limited { retry_after } => Reply::json_error(429, "Too many requests")
                .with_header("Retry-After", retry_after.to_string()),
            Decision::Failed => return None,
        };
        Some(match endpoint {
            Endpoint::Tokens => reply.uncacheable(),
            _ => reply,
        })
    }

    /// Every answer of the token API is about one caller's secrets; none may be cached.
    fn uncacheable(self) -> Reply {
        if self
            .headers
            .iter()
            .any(|(name, _)| *name == "Cache-Control")
        {
            return self;
        }
        self.with_header("Cache-Control", "no-store".to_owned())
    }

    pub fn document(authenticator: &Authenticator, document: Document) -> Reply {
        let (content_type, cache_control, body) = match document {
            Document::Providers => (JSON, "no-store", authenticator.listing().providers.clone()),
            Document::Augmenters => (JSON, "no-store", authenticator.listing().augmenters.clone()),
            Document::Jwks => (JSON, "max-age=300", authenticator.jwks()),
            Document::Metrics => (PROMETHEUS, "no-store", authenticator.render_metrics()),
            Document::ResourceMetadata => match authenticator.resource_metadata() {
                Some(document) => (JSON, "max-age=300", document.to_vec()),
                // `nginx -t` refuses such a location (`Document::check`); never an empty 200.
                None => return Reply::json_error(404, "Not found"),
            },
        };
        Reply {
            status: 200,
            content_type: Some(content_type),
            headers: vec![("Cache-Control", cache_control.to_owned())],
            body,
        }
    }
}

impl From<ApiResponse> for Reply {
    fn from(response: ApiResponse) -> Reply {
        let mut reply = Reply {
            status: response.status,
            content_type: (!response.body.is_empty()).then_some(JSON),
            headers: vec![("Cache-Control", "no-store".to_owned())],
            body: response.body,
        };
        if let Some(allow) = response.allow {
            reply.headers.push(("Allow", allow.to_owned()));
        }
        if response.status == 503 {
            reply
                .headers
                .push(("Retry-After", super::RETRY_AFTER_SECONDS.to_string()));
        }
        reply
    }
}

#[cfg(test)]
mod tests;
