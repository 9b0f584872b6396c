//! The `WWW-Authenticate` value: one `<Scheme> realm="<realm>"` per distinct provider scheme
//! and realm, in config order, as upstream Auth-O-Tron answers.

use std::collections::HashMap;
use std::sync::Arc;

use crate::providers::Provider;

pub struct Challenges {
    all: Arc<str>,
    by_realm: HashMap<String, Arc<str>>,
}

impl Challenges {
    pub fn new(providers: &[Arc<dyn Provider>]) -> Self {
        let all = challenge(providers.iter());
        let by_realm = providers
            .iter()
            .map(|p| {
                let realm = p.realm().to_owned();
                let value = challenge(providers.iter().filter(|q| q.realm() == realm));
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

/// Realms were checked at load time to hold no quote, backslash or control character.
fn challenge<'a>(providers: impl Iterator<Item = &'a Arc<dyn Provider>>) -> Arc<str> {
    let mut parts: Vec<String> = Vec::new();
    for p in providers {
        let part = format!("{} realm=\"{}\"", p.scheme(), p.realm());
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    if parts.is_empty() {
        Arc::from("Bearer")
    } else {
        Arc::from(parts.join(", "))
    }
}
