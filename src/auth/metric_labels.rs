//! What metrics label each provider and augmenter with. Metrics know no provider types, so the
//! pipeline, which builds the providers, describes them.

use std::sync::Arc;

use crate::augmenters::Augmenter;
use crate::config::{AugmenterConfig, Config, ProviderConfig};
use crate::metrics::catalogue::{realm_label, UNKNOWN};
use crate::metrics::{AugmenterEntry, Catalogue, ProviderEntry};
use crate::providers::Provider;

/// The catalogue of `providers` and `augmenters`, in their order. The built providers and
/// augmenters say what they are; the config adds what only it knows (the `type` tags).
/// Providers and augmenters are built in config order, so each is described by the config entry
/// at its own position, when that entry has its name (one assembled by hand may have none).
pub fn catalogue(
    config: &Config,
    providers: &[Arc<dyn Provider>],
    augmenters: &[Arc<dyn Augmenter>],
) -> Catalogue {
    let provider_entries = providers.iter().enumerate().map(|(position, p)| {
        let configured = at(&config.providers, position, p.name(), ProviderConfig::name);
        provider_entry(p.as_ref(), configured)
    });
    let augmenter_entries = augmenters.iter().enumerate().map(|(position, a)| {
        let configured = at(
            &config.augmenters,
            position,
            a.name(),
            AugmenterConfig::name,
        );
        augmenter_entry(a.as_ref(), configured)
    });
    Catalogue {
        providers: provider_entries.collect(),
        augmenters: augmenter_entries.collect(),
        max_concurrent_calls: config.http.max_concurrent_calls,
        // Set by `Authenticator::with_store` for a store that announces revocations.
        revocation_listener: false,
        guard: config.guard.enabled,
    }
}

/// `configured` is `None` for what the YAML does not list as a provider (the token store).
pub fn provider_entry(
    provider: &dyn Provider,
    configured: Option<&ProviderConfig>,
) -> ProviderEntry {
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
    ProviderEntry {
        name: provider.name().to_owned(),
        scheme: provider.scheme().as_str().to_owned(),
        realm: realm_label(provider.realm()).to_owned(),
        remote,
        jwks,
    }
}

fn augmenter_entry(
    augmenter: &dyn Augmenter,
    configured: Option<&AugmenterConfig>,
) -> AugmenterEntry {
    AugmenterEntry {
        name: augmenter.name().to_owned(),
        kind: configured
            .map_or(UNKNOWN, AugmenterConfig::type_tag)
            .to_owned(),
        realm: augmenter.realm().to_owned(),
    }
}

/// The config entry at `position`, if it is the one called `name`.
fn at<'c, C>(
    entries: &'c [C],
    position: usize,
    name: &str,
    name_of: impl Fn(&C) -> &str,
) -> Option<&'c C> {
    entries.get(position).filter(|c| name_of(c) == name)
}

#[cfg(test)]
mod tests;
