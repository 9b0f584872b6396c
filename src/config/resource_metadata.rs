//! `resource_metadata` (ours): what the protected resource says about itself in its OAuth 2.0
//! Protected Resource Metadata document (RFC 9728). Absent, no document is served and no
//! challenge changes.

use super::decode::{Ctx, Decoded, Node};
use super::validate::is_scope_token;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMetadataSettings {
    /// The resource identifier: an `https` URL without query or fragment.
    pub resource: String,
    /// `scopes_supported` as written; `None` takes the scopes of `services`.
    pub scopes_supported: Option<Vec<String>>,
    pub resource_name: Option<String>,
    /// An http(s) URL of human-readable documentation.
    pub resource_documentation: Option<String>,
}

pub(crate) fn decode_resource_metadata(
    node: &Node<'_>,
    cx: &mut Ctx<'_>,
) -> Decoded<ResourceMetadataSettings> {
    let mut f = node.mapping()?;
    let resource_node = f.required("resource")?;
    let resource = resource_node.string(cx)?;
    resource_identifier(&resource).map_err(|m| resource_node.error(m))?;
    let scopes_supported = match f.optional("scopes_supported") {
        Some(list) => {
            let scopes = list.string_list(cx)?;
            if let Some(n) = scopes.iter().position(|s| !is_scope_token(s)) {
                let item = &list.sequence()?[n];
                return Err(item.error(
                    "a scope is one or more printable ASCII characters other than space, `\"` and `\\`",
                ));
            }
            Some(scopes)
        }
        None => None,
    };
    let resource_name = f.optional_string(cx, "resource_name")?;
    let resource_documentation = match f.optional("resource_documentation") {
        Some(doc) => {
            let url = doc.string(cx)?;
            super::validate::http_url(&url).map_err(|m| doc.error(m))?;
            Some(url)
        }
        None => None,
    };
    f.finish(cx);
    Ok(ResourceMetadataSettings {
        resource,
        scopes_supported,
        resource_name,
        resource_documentation,
    })
}

/// RFC 9728 §1.2: the identifier is an `https` URL without a fragment. A query is refused too:
/// the well-known address of the document would have to carry it, and the identifier is written
/// as it is into the `resource_metadata` quoted string of every Bearer challenge, so nothing
/// that could end that string is allowed either.
pub(crate) fn resource_identifier(text: &str) -> Result<(), String> {
    if text
        .chars()
        .any(|c| c == '"' || c == '\\' || c.is_whitespace() || c.is_control())
    {
        return Err(
            "resource must not contain spaces, `\"`, `\\` or control characters".to_owned(),
        );
    }
    let url = reqwest::Url::parse(text).map_err(|e| format!("resource is not a URL ({e})"))?;
    if url.scheme() != "https" || !text.starts_with("https://") {
        return Err("resource must be an https URL, written `https://host…` (RFC 9728)".to_owned());
    }
    // The document's address is built from the text as written (the URL parser would accept
    // and repair `https:host` or `https:///host`), so the authority must be plain too: an
    // ASCII host name or address and an optional port.
    let authority = text["https://".len()..]
        .split('/')
        .next()
        .unwrap_or_default();
    if authority.is_empty()
        || url.host_str().is_none_or(str::is_empty)
        || !authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '@'))
    {
        return Err(
            "resource must name a host in ASCII (letters, digits, `.`, `-`, a `:port`)".to_owned(),
        );
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("resource must not carry a user name or password".to_owned());
    }
    if text.contains('?') || text.contains('#') {
        return Err("resource must have no query or fragment".to_owned());
    }
    Ok(())
}
