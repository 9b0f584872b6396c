//! The OAuth 2.0 Protected Resource Metadata document (RFC 9728) and its address, from the
//! `resource_metadata` section: what an OAuth client needs to find out, unaided, where to get
//! a token for this resource.

use serde::Serialize;

use crate::config::{Config, ProviderConfig, ResourceMetadataSettings};

/// The path RFC 9728 §3 registers for the document.
pub const WELL_KNOWN_PATH: &str = "/.well-known/oauth-protected-resource";

/// The document, ready to serve, and the absolute URL it is announced at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMetadata {
    /// The value of `resource_metadata="…"` in Bearer challenges.
    pub url: String,
    pub document: Vec<u8>,
}

/// RFC 9728 §2, in its order; absent values are left out rather than sent as `null`.
#[derive(Serialize)]
struct Document<'a> {
    resource: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authorization_servers: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scopes_supported: Vec<&'a str>,
    bearer_methods_supported: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_documentation: Option<&'a str>,
}

impl ResourceMetadata {
    /// `None` when the config has no `resource_metadata` section.
    pub fn new(config: &Config) -> Option<Self> {
        let settings = config.resource_metadata.as_ref()?;
        let document = Document {
            resource: &settings.resource,
            authorization_servers: authorization_servers(&config.providers),
            scopes_supported: scopes(settings, config),
            // Credentials are only read from a header (`authotron_header` names which).
            bearer_methods_supported: ["header"],
            resource_name: settings.resource_name.as_deref(),
            resource_documentation: settings.resource_documentation.as_deref(),
        };
        Some(ResourceMetadata {
            url: metadata_url(&settings.resource),
            // Serialising strings and lists cannot fail.
            document: serde_json::to_vec(&document).unwrap_or_default(),
        })
    }
}

/// RFC 9728 §3.1: the well-known path goes between the host and the path of the resource
/// identifier; a path of just `/` is dropped. The identifier was checked at load time to be an
/// `https` URL without query or fragment.
pub fn metadata_url(resource: &str) -> String {
    let rest = resource.strip_prefix("https://").unwrap_or(resource);
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    let path = if path == "/" { "" } else { path };
    format!("https://{authority}{WELL_KNOWN_PATH}{path}")
}

/// The issuers that the JWT-validating providers require, deduplicated, in config order. A
/// provider without an `iss` check names no issuer, so none is published for it.
fn authorization_servers(providers: &[ProviderConfig]) -> Vec<&str> {
    let mut issuers: Vec<&str> = Vec::new();
    for provider in providers {
        let checks = match provider {
            ProviderConfig::Jwt(c) => &c.checks,
            ProviderConfig::OpenidOffline(c) => &c.checks,
            ProviderConfig::EcmwfTokenGenerator(c) => &c.checks,
            ProviderConfig::Plain(_) | ProviderConfig::EcmwfApi(_) | ProviderConfig::EfasApi(_) => {
                continue
            }
        };
        if let Some(iss) = checks.iss.as_deref() {
            if !issuers.contains(&iss) {
                issuers.push(iss);
            }
        }
    }
    issuers
}

/// `scopes_supported` as written, else every scope the `services` entries name, deduplicated.
fn scopes<'a>(settings: &'a ResourceMetadataSettings, config: &'a Config) -> Vec<&'a str> {
    if let Some(listed) = &settings.scopes_supported {
        return listed.iter().map(String::as_str).collect();
    }
    let mut scopes: Vec<&str> = Vec::new();
    for scope in config.services.iter().flat_map(|s| &s.scopes) {
        if !scopes.contains(&scope.as_str()) {
            scopes.push(scope);
        }
    }
    scopes
}

#[cfg(test)]
mod tests;
