//! Which labels a config's providers and augmenters get: position pairing with the config.

use super::*;
use crate::auth::test_support::config;
use crate::http::IdentityClient;
use crate::providers::ProviderContext;
use crate::{augmenters, providers};

/// Two providers and two augmenters sharing a name, each pair of two types.
const TWINS: &str = r#"
providers:
  - { type: plain, name: twin, realm: a, users: [ { username: ann, password: pw } ] }
  - { type: jwt, name: twin, realm: b, iam_realm: b, cert_uri: "http://127.0.0.1:9/certs" }
augmenters:
  - { type: plain, name: roles, realm: a, roles: { x: [ann] } }
  - { type: plain_advanced, name: roles, realm: b, match: { username: [ann] }, augment: { roles: [y] } }
"#;

const OTHER: &str = r#"
providers:
  - { type: plain, name: other, realm: b, users: [ { username: bob, password: pw } ] }
"#;

fn built_providers(config: &Config) -> Vec<Arc<dyn Provider>> {
    let ctx = ProviderContext::new(
        Arc::new(IdentityClient::new(&config.http).unwrap()),
        config.http.max_concurrent_calls as usize,
    );
    let build = |p| providers::build(p, &ctx).unwrap();
    config.providers.iter().map(build).collect()
}

fn built_augmenters(config: &Config) -> Vec<Arc<dyn Augmenter>> {
    let build = |a| augmenters::build(a, config).unwrap();
    config.augmenters.iter().map(build).collect()
}

#[test]
fn each_entry_is_described_by_the_config_entry_at_its_position() {
    let twins = config(TWINS);
    let providers = built_providers(&twins);
    let catalogue = catalogue(&twins, &providers, &built_augmenters(&twins));
    let provider = |scheme: &str, realm: &str, remote_with_keys: bool| ProviderEntry {
        name: "twin".into(),
        scheme: scheme.into(),
        realm: realm.into(),
        remote: remote_with_keys,
        jwks: remote_with_keys,
    };
    assert_eq!(
        catalogue.providers,
        [provider("Basic", "a", false), provider("Bearer", "b", true)]
    );
    let augmenter = |kind: &str, realm: &str| AugmenterEntry {
        name: "roles".into(),
        kind: kind.into(),
        realm: realm.into(),
    };
    assert_eq!(
        catalogue.augmenters,
        [augmenter("plain", "a"), augmenter("plain_advanced", "b")]
    );
}

#[test]
fn a_provider_the_config_lists_under_another_name_has_no_type_facts() {
    let twins = config(TWINS);
    let providers = built_providers(&twins);
    let others = built_providers(&config(OTHER));
    // Assembled by hand: at position 1 the config has the key set provider `twin`.
    let assembled = [providers[0].clone(), others[0].clone()];
    let described = catalogue(&twins, &assembled, &[]);
    assert_eq!(described.providers[1].name, "other");
    assert!(!described.providers[1].remote && !described.providers[1].jwks);
}
