//! The identity a provider vouches for, as upstream's `authotron-types` shapes it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Field order matches upstream's `/whoami` output.
/// Deserialized only from our own token store, which writes every field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub version: i32,
    pub username: String,
    pub realm: String,
    pub roles: Vec<String>,
    pub attributes: BTreeMap<String, String>,
    pub scopes: BTreeMap<String, Vec<String>>,
}

impl User {
    pub fn new(username: impl Into<String>, realm: impl Into<String>, roles: Vec<String>) -> Self {
        User {
            version: 1,
            username: username.into(),
            realm: realm.into(),
            roles,
            attributes: BTreeMap::new(),
            scopes: BTreeMap::new(),
        }
    }

    pub fn has_any_role(&self, wanted: &[String]) -> bool {
        wanted.iter().any(|w| self.roles.contains(w))
    }

    /// The value NGINX variables and legacy headers carry.
    pub fn roles_joined(&self) -> String {
        self.roles.join(",")
    }

    /// Whether `scope` is in any of the user's scope lists, whichever provider granted it.
    pub fn holds_scope(&self, scope: &str) -> bool {
        self.scopes.values().flatten().any(|held| held == scope)
    }

    /// Every scope the user holds, each once, sorted (`$authotron_scopes`): one provider's
    /// list may repeat another's, and a sorted set reads the same whichever answered.
    pub fn scopes_joined(&self) -> String {
        let all: std::collections::BTreeSet<&str> =
            self.scopes.values().flatten().map(String::as_str).collect();
        all.into_iter().collect::<Vec<_>>().join(" ")
    }

    /// The attribute an NGINX variable names. NGINX lowercases variable names, so `name` is
    /// matched exactly first, then ignoring ASCII case (the first such attribute in name order).
    /// Bytes, since a name may come from any module (`ssi`, `njs`), in one pass: a request pays
    /// for this on every read, and the attributes of one identity are few.
    pub fn attribute_for_variable(&self, name: &[u8]) -> Option<&str> {
        let mut folded = None;
        for (key, value) in &self.attributes {
            if key.as_bytes() == name {
                return Some(value);
            }
            if folded.is_none() && key.as_bytes().eq_ignore_ascii_case(name) {
                folded = Some(value.as_str());
            }
        }
        folded
    }

    /// When the credential expires (Unix seconds), from the `exp` attribute a provider copied from
    /// it, if that is a number. A JWT's `exp` may be any JSON number (RFC 7519 §2, NumericDate),
    /// `1733500000.5` or `1.7335e9` as well as `1733500000`: a fraction is rounded down, since the
    /// credential must never be taken to live past its expiry, and a value beyond `i64` is
    /// clamped to it. Anything else (`soon`) is no expiry at all, as before.
    pub fn expires_at(&self) -> Option<i64> {
        let exp = self.attributes.get("exp")?;
        let number: serde_json::Number = serde_json::from_str(exp).ok()?;
        // A parsed JSON number is finite (serde_json refuses `1e400`, `NaN` is not JSON), and
        // `as` saturates, so neither a huge nor a negative value can wrap or panic.
        number
            .as_i64()
            .or_else(|| number.as_f64().map(|seconds| seconds.floor() as i64))
    }

    /// Whether every field that may end up in an HTTP header is free of control characters.
    /// A username like "ad\nmin" would otherwise split a header, or pass for "admin" once a
    /// backend strips it.
    pub fn is_header_safe(&self) -> bool {
        let clean = |s: &str| is_header_safe(s);
        clean(&self.username) && clean(&self.realm) && self.roles.iter().all(|r| clean(r))
    }
}

/// Whether `text` may go into an HTTP header: no control character. Attributes and scopes are
/// not part of the identity check above (an unrelated multi-line claim must not lock a user
/// out); the variables that carry them yield nothing for a value that fails this instead.
pub fn is_header_safe(text: &str) -> bool {
    !text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests;
