//! What a loaded config has that metrics are labelled by: its providers and augmenters.

use std::sync::Arc;

use crate::augmenters::Augmenter;
use crate::config::{Config, ProviderConfig};
use crate::providers::Provider;

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

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalogue {
    pub providers: Vec<ProviderEntry>,
    pub augmenters: Vec<AugmenterEntry>,
}

impl Catalogue {
    /// The built providers and augmenters say what they are; the config adds what only it
    /// knows (the `type` tags). Providers and augmenters are built in config order, so each is
    /// described by the config entry at its own position, when that entry has its name (one
    /// assembled by hand may have none).
    pub fn new(
        config: &Config,
        providers: &[Arc<dyn Provider>],
        augmenters: &[Arc<dyn Augmenter>],
    ) -> Self {
        Catalogue {
            providers: providers
                .iter()
                .enumerate()
                .map(|(position, p)| {
                    let configured = config
                        .providers
                        .get(position)
                        .filter(|c| c.name() == p.name());
                    ProviderEntry::of(p.as_ref(), configured)
                })
                .collect(),
            augmenters: augmenters
                .iter()
                .enumerate()
                .map(|(position, a)| {
                    let kind = config
                        .augmenters
                        .get(position)
                        .filter(|c| c.name() == a.name())
                        .map_or(UNKNOWN, |c| c.type_tag());
                    AugmenterEntry {
                        name: a.name().to_owned(),
                        kind: kind.to_owned(),
                        realm: a.realm().to_owned(),
                    }
                })
                .collect(),
        }
    }

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

impl ProviderEntry {
    /// `configured` is `None` for what the YAML does not list as a provider (the token store).
    pub fn of(provider: &dyn Provider, configured: Option<&ProviderConfig>) -> Self {
        let jwks = matches!(
            configured,
            Some(
                ProviderConfig::Jwt(_)
                    | ProviderConfig::OpenidOffline(_)
                    | ProviderConfig::EcmwfTokenGenerator(_)
            )
        );
        let remote = jwks
            || matches!(
                configured,
                Some(ProviderConfig::EcmwfApi(_) | ProviderConfig::EfasApi(_))
            );
        let realm = match provider.realm() {
            "" => UNKNOWN,
            realm => realm,
        };
        ProviderEntry {
            name: provider.name().to_owned(),
            scheme: provider.scheme().as_str().to_owned(),
            realm: realm.to_owned(),
            remote,
            jwks,
        }
    }
}
