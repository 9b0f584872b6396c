//! Who a store token stands for at each lookup: the owner as their provider speaks of them
//! now, for each kind of provider and for rows written before the provider was recorded.

use std::sync::Arc;

use super::Owners;
use crate::auth::test_support::config;
use crate::domain::User;
use crate::providers::{self, test_support};

/// The providers of a config holding `providers`, as the token store checks owners against.
fn owners(providers: &str) -> Owners {
    let ctx = test_support::context();
    let built = config(providers)
        .providers
        .iter()
        .map(|p| providers::build(p, &ctx).unwrap())
        .collect::<Vec<Arc<_>>>();
    Owners::new(built)
}

const LOCAL: &str = r#"
providers:
  - { type: plain, name: local, realm: internal, users: [ { username: alice, password: pw, roles: [editor] } ] }
  - { type: ecmwf-api, name: api, realm: ecmwf, uri: "http://127.0.0.1:9/api" }
"#;

/// A snapshot as the store restores it: the roles at creation, and the token's expiry.
fn snapshot(username: &str, realm: &str) -> User {
    let mut user = User::new(username, realm, vec!["reader".into()]);
    user.attributes.insert("exp".into(), "1900000000".into());
    user
}

/// Why the providers of [`LOCAL`] refuse the token of `who` of `realm`, accepted by `provider`.
fn refusal(provider: &str, who: &str, realm: &str) -> String {
    owners(LOCAL)
        .vouch(Some(provider), snapshot(who, realm))
        .expect_err("refused")
}

#[test]
fn a_configured_owner_has_the_roles_listed_now() {
    let user = owners(LOCAL)
        .vouch(Some("local"), snapshot("alice", "internal"))
        .unwrap();
    assert_eq!(user.roles, ["editor"]);
    // The token's expiry stays: neither the cache nor the minted JWT may outlive the token.
    assert_eq!(user.attributes["exp"], "1900000000");
}

#[test]
fn an_owner_no_longer_configured_is_refused() {
    assert_eq!(
        refusal("local", "bob", "internal"),
        "its owner \"bob\" is no longer a user of provider \"local\""
    );
}

#[test]
fn a_provider_renamed_or_moved_to_another_realm_speaks_for_no_one() {
    assert_eq!(
        refusal("staff", "alice", "internal"),
        "provider \"staff\", which accepted its owner \"alice\", is no longer configured for realm \"internal\""
    );
    // `local` serves internal, not the realm the owner was of: alice of realm other is
    // someone else.
    refusal("local", "alice", "other");
    // Same for an identity service.
    refusal("api", "carol", "internal");
}

#[test]
fn an_identity_services_owner_is_the_snapshot() {
    let snapped = snapshot("carol", "ecmwf");
    let user = owners(LOCAL).vouch(Some("api"), snapped.clone()).unwrap();
    assert_eq!(user, snapped);
}

#[test]
fn a_row_without_a_provider_asks_every_provider_of_the_owners_realm() {
    let shared = r#"
providers:
  - { type: ecmwf-api, name: api, realm: internal, uri: "http://127.0.0.1:9/api" }
  - { type: plain, name: local, realm: internal, users: [ { username: alice, password: pw, roles: [editor] } ] }
  - { type: plain, name: lab, realm: lab, users: [ { username: dave, password: pw } ] }
"#;
    let owners = owners(shared);
    // A provider that knows the owner wins over one that cannot tell, whatever the order.
    let alice = owners.vouch(None, snapshot("alice", "internal")).unwrap();
    assert_eq!(alice.roles, ["editor"]);
    // Unknown to `local`, bob may be a user of `api`: his snapshot stands.
    let bob = owners.vouch(None, snapshot("bob", "internal")).unwrap();
    assert_eq!(bob.roles, ["reader"]);
    // Realm lab has no identity service: a user `lab` does not list is gone.
    assert_eq!(
        owners.vouch(None, snapshot("erin", "lab")).unwrap_err(),
        "its owner \"erin\" is no longer a user of any provider of realm \"lab\""
    );
    assert!(owners.vouch(None, snapshot("zoe", "nowhere")).is_err());
}
