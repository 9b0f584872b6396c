//! Warnings about how entries relate to one another, once every entry is decoded: mistakes
//! upstream accepts silently, so they stay warnings and existing files keep loading.

use super::augmenters::AugmenterConfig;
use super::decode::{Ctx, Finding};
use super::keypath::KeyPath;
use super::providers::ProviderConfig;

pub(crate) fn warn(providers: &[ProviderConfig], augmenters: &[AugmenterConfig], cx: &mut Ctx<'_>) {
    let entry = |list: &str, n: usize, key: &str| KeyPath::root().key(list).index(n).key(key);
    for (n, provider) in providers.iter().enumerate() {
        if let Some(first) = providers[..n]
            .iter()
            .position(|p| p.name() == provider.name())
        {
            let path = entry("providers", n, "name");
            cx.warn(Finding::at(
                &path,
                format!(
                    "`{path}` repeats the name of `providers[{first}]`: messages and listings that name providers cannot tell the two apart"
                ),
            ));
        }
    }
    for (n, augmenter) in augmenters.iter().enumerate() {
        // A user's realm is the realm of the provider that accepted them (a store token keeps
        // the one it was created with), compared as upstream does: exactly, case included.
        if !providers.iter().any(|p| p.realm() == augmenter.realm()) {
            let path = entry("augmenters", n, "realm");
            cx.warn(Finding::at(
                &path,
                format!(
                    "`{path}` matches the realm of no provider (realms compare case-sensitively): this augmenter never applies"
                ),
            ));
        }
    }
}
