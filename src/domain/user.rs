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

    /// Whether every field that may end up in an HTTP header is free of control characters.
    /// A username like "ad\nmin" would otherwise split a header, or pass for "admin" once a
    /// backend strips it.
    pub fn is_header_safe(&self) -> bool {
        let clean = |s: &str| !s.chars().any(char::is_control);
        clean(&self.username) && clean(&self.realm) && self.roles.iter().all(|r| clean(r))
    }
}
