//! What one NGINX location asks of the module, and the rules its directives must follow. The
//! binding parses the directives into a `Policy` once, at configuration time; every request of
//! the location is decided against it.

use std::borrow::Cow;
use std::sync::Arc;

use super::header::parse_realm_selector;
use super::requirement::Requirement;
use super::Authenticator;
use crate::config::validate;
use crate::domain::User;

/// The header the minted token goes to unless `authotron_header` names another.
pub const AUTHORIZATION: &str = "Authorization";
/// The header a client selects a realm with, and one of upstream's legacy output headers.
pub const REALM_SELECTOR: &str = "X-Auth-Realm";
pub const LEGACY_USERNAME: &str = "X-Auth-Username";
pub const LEGACY_ROLES: &str = "X-Auth-Roles";

/// Headers NGINX or HTTP framing rely on, and the legacy trio the module writes itself:
/// `authotron_header` may name none of them.
const RESERVED_HEADERS: &[&str] = &[
    "Host",
    "Content-Length",
    "Transfer-Encoding",
    "Connection",
    "Keep-Alive",
    "Upgrade",
    "TE",
    "Expect",
    "Trailer",
    "Cookie",
    LEGACY_USERNAME,
    REALM_SELECTOR,
    LEGACY_ROLES,
];

/// A location served by one of the module's content handlers, authenticated first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `authotron_authenticate`: upstream's `/authenticate`.
    Authenticate,
    /// `authotron_whoami`: upstream's `/whoami`.
    Whoami,
    /// `authotron_tokens`: the token store's API.
    Tokens,
}

impl Endpoint {
    /// Whether the endpoint serves `method`. The token routes take every method and refuse
    /// the wrong ones themselves, after authentication, so that anonymous clients learn nothing
    /// about them.
    pub fn allows_method(self, method: &[u8]) -> bool {
        self == Endpoint::Tokens || is_read(method)
    }
}

/// GET or HEAD: all that the other endpoints and the documents answer.
pub fn is_read(method: &[u8]) -> bool {
    method == b"GET" || method == b"HEAD"
}

/// The `Allow` header of a 405 from an endpoint other than the token routes (which name their
/// own) or from a document: the methods `is_read` accepts. RFC 9110 requires it on every 405.
pub const READ_METHODS: &str = "GET, HEAD";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `authotron_realm`: only providers of this realm; it also beats `X-Auth-Realm`.
    pub realm: Option<String>,
    /// `authotron_require_role`: the user needs one of these (none: anyone authenticated).
    pub required_roles: Vec<String>,
    /// `authotron_require_scope`: the user needs every one of these.
    pub required_scopes: Vec<String>,
    /// `authotron_require`, in the order written; the binding evaluates their values.
    pub requirements: Vec<Requirement>,
    /// `authotron_header`: where the upstream gets the minted token.
    pub header: Arc<str>,
    /// `authotron_legacy_headers`: also send `X-Auth-Username`, `-Realm` and `-Roles`.
    pub legacy_headers: bool,
    /// `None` protects whatever the location serves (`authotron on`).
    pub endpoint: Option<Endpoint>,
    /// `authotron shadow`: decide, record, and let the request through untouched.
    pub shadow: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            realm: None,
            required_roles: Vec::new(),
            required_scopes: Vec::new(),
            requirements: Vec::new(),
            header: Arc::from(AUTHORIZATION),
            legacy_headers: false,
            endpoint: None,
            shadow: false,
        }
    }
}

impl Policy {
    /// The realm a request is validated in: the location's, else the one the client selects
    /// (`selector` reads `X-Auth-Realm`; it is only called when the location has no realm).
    pub fn realm_for<'a, 's>(
        &'a self,
        selector: impl FnOnce() -> Option<&'s [u8]>,
    ) -> Option<Cow<'a, str>> {
        match &self.realm {
            Some(realm) => Some(Cow::Borrowed(realm)),
            None => parse_realm_selector(selector()).map(Cow::Owned),
        }
    }

    /// Whether `user` satisfies `authotron_require_role`.
    pub fn admits(&self, user: &User) -> bool {
        self.required_roles.is_empty() || user.has_any_role(&self.required_roles)
    }

    /// Whether `user` holds every scope `authotron_require_scope` lists.
    pub fn grants_scopes(&self, user: &User) -> bool {
        self.required_scopes.iter().all(|s| user.holds_scope(s))
    }

    /// Whether the minted token replaces the client's `Authorization` header.
    pub fn forwards_in_authorization(&self) -> bool {
        self.header.eq_ignore_ascii_case(AUTHORIZATION)
    }

    /// `authotron_tokens` needs the token store enabled in the `authotron_config` file.
    pub fn check_store(&self, authenticator: &Authenticator) -> Result<(), String> {
        if self.endpoint == Some(Endpoint::Tokens) && !authenticator.has_store() {
            return Err(
                "\"authotron_tokens\" needs \"store: {enabled: true}\" in the authotron_config file"
                    .to_owned(),
            );
        }
        Ok(())
    }

    /// `authotron_realm` must name a realm some provider of the `authotron_config` file has.
    pub fn check_realm_known(&self, authenticator: &Authenticator) -> Result<(), String> {
        match &self.realm {
            Some(realm) if !authenticator.has_realm(realm) => Err(format!(
                "\"authotron_realm\" \"{realm}\" matches no provider in the authotron_config file"
            )),
            _ => Ok(()),
        }
    }
}

/// How a request header's name relates to one the module writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderMatch {
    /// The same name, in any case: it gets the module's value.
    Same,
    /// The same name with `_` for `-` (`X_Auth_Username`), which NGINX passes on with
    /// `underscores_in_headers on` and FastCGI, uwsgi and SCGI hand to applications under the
    /// same variable as the real one: it is removed, whatever the module writes.
    Variant,
    Other,
}

/// Compares `candidate`, a request header's name, with `ours`.
pub fn header_match(ours: &[u8], candidate: &[u8]) -> HeaderMatch {
    let fold = |b: &u8| match b.to_ascii_lowercase() {
        b'_' => b'-',
        other => other,
    };
    if ours.eq_ignore_ascii_case(candidate) {
        HeaderMatch::Same
    } else if ours.len() == candidate.len() && ours.iter().map(fold).eq(candidate.iter().map(fold))
    {
        HeaderMatch::Variant
    } else {
        HeaderMatch::Other
    }
}

/// `authotron_realm`: the same rule as a provider's `realm`, since both end up in the
/// `WWW-Authenticate` challenge.
pub fn check_realm(realm: &str) -> Result<(), String> {
    validate::realm(realm)
}

/// `authotron_require_role`: roles are compared as text; an empty one could never match.
pub fn check_role(role: &str) -> Result<(), String> {
    if role.is_empty() {
        return Err("roles must not be empty".to_owned());
    }
    Ok(())
}

/// `authotron_require_scope`: an RFC 6749 scope-token, which the `insufficient_scope`
/// challenge can quote as it is.
pub fn check_scope(scope: &str) -> Result<(), String> {
    if !validate::is_scope_token(scope) {
        return Err(format!(
            "\"{}\" is not an OAuth scope (printable ASCII without space, `\"` or `\\`)",
            scope.escape_debug()
        ));
    }
    Ok(())
}

/// `authotron_header`: an HTTP field name that the module may overwrite.
pub fn check_output_header(name: &str) -> Result<(), String> {
    let is_token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(is_token) {
        return Err(format!("invalid header name \"{}\"", name.escape_debug()));
    }
    if RESERVED_HEADERS
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
    {
        return Err(format!("\"{name}\" is reserved"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
