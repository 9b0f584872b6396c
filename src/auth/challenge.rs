//! The `WWW-Authenticate` value: one `<Scheme> realm="<realm>"` per distinct provider scheme
//! and realm, in config order, as upstream Auth-O-Tron answers. With protected resource
//! metadata configured, each Bearer challenge also names the document (RFC 9728 §5.1).

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::Scheme;
use crate::providers::Provider;

pub struct Challenges {
    all: Arc<str>,
    by_realm: HashMap<String, Arc<str>>,
}

impl Challenges {
    /// `metadata_url`: the absolute URL of the protected resource metadata document, if any.
    pub fn new(providers: &[Arc<dyn Provider>], metadata_url: Option<&str>) -> Self {
        let all = challenge(providers.iter(), metadata_url);
        let by_realm = providers
            .iter()
            .map(|p| {
                let realm = p.realm().to_owned();
                let value = challenge(
                    providers.iter().filter(|q| q.realm() == realm),
                    metadata_url,
                );
                (realm, value)
            })
            .collect();
        Challenges { all, by_realm }
    }

    /// A location pinned to one realm only advertises that realm.
    pub fn for_realm(&self, realm: Option<&str>) -> Arc<str> {
        realm
            .and_then(|r| self.by_realm.get(r))
            .unwrap_or(&self.all)
            .clone()
    }

    pub fn has_realm(&self, realm: &str) -> bool {
        self.by_realm.contains_key(realm)
    }
}

/// Realms and the metadata URL were checked at load time to hold no quote, backslash or
/// control character.
fn challenge<'a>(
    providers: impl Iterator<Item = &'a Arc<dyn Provider>>,
    metadata_url: Option<&str>,
) -> Arc<str> {
    let metadata = |scheme: Scheme| match metadata_url {
        Some(url) if scheme == Scheme::Bearer => format!(", resource_metadata=\"{url}\""),
        _ => String::new(),
    };
    let mut parts: Vec<String> = Vec::new();
    for p in providers {
        let part = format!(
            "{} realm=\"{}\"{}",
            p.scheme(),
            p.realm(),
            metadata(p.scheme())
        );
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    if parts.is_empty() {
        match metadata_url {
            Some(url) => Arc::from(format!("Bearer resource_metadata=\"{url}\"")),
            None => Arc::from("Bearer"),
        }
    } else {
        Arc::from(parts.join(", "))
    }
}

/// The `WWW-Authenticate` value of a 403 for a token that lacks a scope the location requires
/// (RFC 6750 §3.1), naming every scope the location lists, and the protected resource
/// metadata document when there is one, where a client learns how to get those scopes
/// (RFC 9728 §5.1). `metadata_url` was checked at load time like a realm.
pub fn insufficient_scope(scopes: &[String], metadata_url: Option<&str>) -> Arc<str> {
    let listed = scopes.join(" ");
    let metadata = match metadata_url {
        Some(url) => format!(", resource_metadata=\"{url}\""),
        None => String::new(),
    };
    Arc::from(format!(
        "Bearer error=\"insufficient_scope\", scope=\"{}\"{metadata}",
        quoted_string_content(&listed)
    ))
}

/// Text made safe inside an RFC 9110 quoted-string: `"` and `\` escaped, control characters
/// dropped. Configured scopes are checked to be scope-tokens, which need none of this; it keeps
/// the header well-formed whatever a caller passes.
fn quoted_string_content(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len());
    for c in text.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted
}

#[cfg(test)]
mod tests;
