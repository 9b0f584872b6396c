//! What a loaded config has that metrics are labelled by: its providers and augmenters, as
//! plain labels. Whoever builds the providers describes them; metrics know no provider types.

/// The realm label of failures and of what has no realm (the token store).
pub const UNKNOWN: &str = "unknown";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderEntry {
    pub name: String,
    /// `Basic` or `Bearer`, as upstream labels `provider_type`.
    pub scheme: String,
    pub realm: String,
    /// Calls an identity service (or fetches keys), so it gets an outbound latency histogram.
    pub remote: bool,
    /// Verifies JWTs against a key set, so it gets key set refresh counters.
    pub jwks: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AugmenterEntry {
    pub name: String,
    /// The YAML `type`: `plain`, `plain_advanced` or `ldap`.
    pub kind: String,
    pub realm: String,
}

/// The entries are in the pipeline's order: a meter is asked for by that position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalogue {
    pub providers: Vec<ProviderEntry>,
    pub augmenters: Vec<AugmenterEntry>,
    /// `http.max_concurrent_calls`, shown as a gauge when some provider calls out.
    pub max_concurrent_calls: u64,
    /// The token store announces revocations (PostgreSQL): its listener has series.
    pub revocation_listener: bool,
    /// The abuse guard is on: its series exist.
    pub guard: bool,
}

impl Catalogue {
    /// Every realm a successful request can be labelled with, `unknown` first.
    pub fn realms(&self) -> Vec<&str> {
        let mut realms = vec![UNKNOWN];
        let named = self.providers.iter().map(|p| p.realm.as_str());
        for realm in named.chain(self.augmenters.iter().map(|a| a.realm.as_str())) {
            if !realm.is_empty() && !realms.contains(&realm) {
                realms.push(realm);
            }
        }
        realms
    }
}

/// The realm label of a provider's realm: one that serves no realm of its own (the token store)
/// is labelled `unknown`.
pub fn realm_label(realm: &str) -> &str {
    match realm {
        "" => UNKNOWN,
        realm => realm,
    }
}
