//! Tests of the config loader. Fixtures: an Argon2id hash made with
//! `echo -n pw | argon2 saltsaltsalt -id -e`, its argon2i twin (`-i`), and a bcrypt hash from
//! `htpasswd -nbB u pw`.

/// The `version:` and `jwt:` lines that most fixtures start with. Fixture text is built with
/// macros, not `const`s, so that `concat!` can join the pieces into other `const` fixtures.
macro_rules! header {
    () => {
        r#"version: "2.0.0"
jwt:
  iss: auth-o-tron.example.com
  exp: 3600
  secret: "0123456789abcdef0123456789abcdef"
"#
    };
}

/// The `providers:` section of [`MINIMAL`]: the plain provider `local` of realm `internal`,
/// whose list of users ends with alice, so that a fixture can append more users or keys.
macro_rules! alice_provider {
    () => {
        r#"providers:
  - type: plain
    name: local
    realm: internal
    users:
      - username: alice
        password: wonderland
"#
    };
}

mod env;
mod errors;
mod parse;
mod resource_metadata;
mod secrets;
mod signing_keys;
mod warnings;

use std::path::Path;

use super::*;

pub(super) const FILE: &str = "/etc/nginx/authotron.yaml";

pub(super) const ARGON2ID: &str =
    "$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHRzYWx0$YBMnEgWKgrb5AGKn7Ln92Vq+oeie4ZtG6ivHJACDdfo";
pub(super) const ARGON2I: &str =
    "$argon2i$v=19$m=4096,t=3,p=1$c2FsdHNhbHRzYWx0$hJ0GLM9xvSROX59zasQqOpT0+lIeQk9YIq4XVBhL2Fo";
pub(super) const BCRYPT: &str = "$2y$05$4rx5mNFA0SU3Xh63Pb/KbOIN87inevyxqsh/hNw/UFbatDElc/Zx2";

/// A 32-byte secret, so that no warning is expected about it.
pub(super) const GOOD_SECRET: &str = "0123456789abcdef0123456789abcdef";

pub(super) const MINIMAL: &str = concat!(header!(), alice_provider!());

/// Every section and every provider and augmenter type. Needs `load_with(.., false)`.
pub(super) fn full() -> String {
    concat!(
        r#"version: "2.0.0"
server:
  host: 127.0.0.1
  port: 8080
metrics:
  enabled: false
  port: 9999
auth:
  timeout_in_ms: 3000
include_legacy_headers: true
logging:
  level: info
  format: json
  service_name: auth-o-tron
  service_version: "1.2.3"
jwt:
  iss: auth-o-tron.example.com
  aud: backend
  exp: 3600
  secret: "0123456789abcdef0123456789abcdef"
store:
  enabled: false
  type: mongo
  uri: mongodb://db.example.com:27017
  database: auth_o_tron
services:
  - name: polytope
    scopes: [read, write]
"#,
        alice_provider!(),
        r#"        roles: [admin, user]
      - username: bob
        password_hash: "ARGON2ID"
      - username: carol
        password_hash: "BCRYPT"
        roles: []
  - type: jwt
    name: keycloak
    realm: external
    cert_uri: https://kc.example.com/realms/x/protocol/openid-connect/certs
    iam_realm: x
  - type: openid-offline
    name: offline
    realm: desp
    cert_uri: https://iam.example.com/certs
    public_client_id: public-client
    private_client_id: private-client
    private_client_secret: private-client-secret
    iam_url: https://iam.example.com
  - type: ecmwf-api
    name: ecmwf
    realm: ecmwf
    uri: https://api.ecmwf.int/v1
  - type: efas-api
    name: efas
    realm: efas
    uri: https://efas.example.com/user-details
  - type: ecmwf-token-generator
    name: generator
    realm: ecmwf
    cert_uri: https://iam.ecmwf.int/certs
    client_id: generator-client
    client_secret: generator-client-secret
    token_generator_url: https://tokens.ecmwf.int
augmenters:
  - type: plain
    name: old
    realm: internal
    roles:
      zeta: [alice]
      alpha: [bob, carol]
  - type: plain_advanced
    name: boost
    realm: internal
    match: { username: [alice], role: [admin] }
    augment:
      roles: [superuser]
      attributes: { team: ops, location: cloud, alpha: first }
  - type: ldap
    name: directory
    realm: internal
    uri: ldaps://ldap.example.com
    search_base: dc=example,dc=com
    ldap_password: ldap-bind-password
    bind_dn: cn=reader,dc=example,dc=com
    filters: ["OU=TeamA", "OU=TeamB"]
cache:
  ttl_seconds: 30
  negative_ttl_seconds: 2
  capacity: 500
"#
    )
    .replace("ARGON2ID", ARGON2ID)
    .replace("BCRYPT", BCRYPT)
}

pub(super) fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

pub(super) fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub(super) fn try_load(text: &str) -> Result<Loaded, ConfigError> {
    load(Path::new(FILE), text, no_env())
}

pub(super) fn load_ok(text: &str) -> Loaded {
    try_load(text).unwrap_or_else(|err| panic!("expected the config to load: {err}"))
}

pub(super) fn load_err(text: &str) -> ConfigError {
    match try_load(text) {
        Ok(loaded) => panic!("expected an error, got {:?}", loaded.config),
        Err(err) => err,
    }
}

/// Loads without refusing the types this build cannot run yet.
pub(super) fn load_schema_only(text: &str) -> Result<Loaded, ConfigError> {
    load_with(Path::new(FILE), text, no_env(), false, None)
}

/// 1-based number of the first line of `text` containing `needle`.
pub(super) fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("fixture has no line containing {needle:?}"))
        + 1
}

/// 1-based column where `needle` starts on its line.
pub(super) fn column_of(text: &str, needle: &str) -> usize {
    let line = text
        .lines()
        .find(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("fixture has no line containing {needle:?}"));
    line.find(needle).expect("found above") + 1
}

/// Asserts that `err` points at the line (and column) where `needle` starts.
#[track_caller]
pub(super) fn assert_at(err: &ConfigError, text: &str, needle: &str) {
    assert_eq!(
        (err.line(), err.column()),
        (Some(line_of(text, needle)), Some(column_of(text, needle))),
        "wrong position in: {err}"
    );
}

/// Asserts that `err` points just after `prefix` (at the value that follows a `key: `).
#[track_caller]
pub(super) fn assert_after(err: &ConfigError, text: &str, prefix: &str) {
    assert_eq!(
        (err.line(), err.column()),
        (
            Some(line_of(text, prefix)),
            Some(column_of(text, prefix) + prefix.len())
        ),
        "wrong position in: {err}"
    );
}
