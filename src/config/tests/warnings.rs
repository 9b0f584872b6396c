//! Warnings: unknown keys by path, weak or deprecated settings.

use super::*;

#[test]
fn clean_config_has_no_warnings() {
    assert!(load_ok(MINIMAL).warnings.is_empty());
    let text = format!(
        "{MINIMAL}augmenters:
  - type: plain_advanced
    name: boost
    realm: internal
    match: {{ username: [alice] }}
    augment: {{ roles: [x], attributes: {{ team: ops }} }}
cache: {{ ttl_seconds: 10 }}
"
    );
    assert!(load_ok(&text).warnings.is_empty());
}

/// Misspelt keys at every level; `expiry` is still in the `jwt` section.
const TYPOS: &str = concat!(
    header!(),
    "  expiry: 10\n",
    "include_legacy_header: true\n",
    alice_provider!(),
    r#"      - username: bob
        password: builder
        pasword: builder
        role: [admin]
    user: []
augmenters:
  - type: plain_advanced
    name: boost
    realm: internal
    match: { username: [alice], roles: [admin] }
    augment: { roles: [x], attribute: { a: b } }
    when: always
"#
);

#[test]
fn unknown_keys_are_reported_by_path_and_line() {
    let warnings = load_ok(TYPOS).warnings;
    let at = |key: &str, needle: &str| {
        format!(
            "{FILE}:{}:{}: unknown key `{key}` (ignored)",
            line_of(TYPOS, needle),
            column_of(TYPOS, needle)
        )
    };
    assert_eq!(
        warnings,
        [
            at("jwt.expiry", "expiry"),
            at("include_legacy_header", "include_legacy_header"),
            at("providers[0].users[1].pasword", "pasword"),
            at("providers[0].users[1].role", "role: [admin]"),
            at("providers[0].user", "user: []"),
            at("augmenters[0].match.roles", "roles: [admin]"),
            at("augmenters[0].augment.attribute", "attribute"),
            at("augmenters[0].when", "when"),
        ]
    );
}

#[test]
fn unknown_keys_in_every_section_are_found() {
    let text = MINIMAL.replace(
        "jwt:",
        "server: { port: 1, hots: x }\nmetrics: { enable: true }\nauth: { timeout: 1 }\n\
         logging: { level: info, format: json, levle: x }\nstore: { enabled: false, uri2: x }\n\
         services: [ { name: s, scopes: [], scope: [] } ]\ncache: { ttl: 1 }\njwt:",
    );
    let warnings = load_ok(&text).warnings;
    for key in [
        "server.hots",
        "metrics.enable",
        "auth.timeout",
        "logging.levle",
        "store.uri2",
        "services[0].scope",
        "cache.ttl",
    ] {
        assert!(
            warnings
                .iter()
                .any(|w| w.ends_with(&format!("unknown key `{key}` (ignored)"))),
            "{key} not reported: {warnings:?}"
        );
    }
    assert_eq!(warnings.len(), 7, "{warnings:?}");
}

#[test]
fn short_secret_is_a_warning() {
    let text = MINIMAL.replace("0123456789abcdef0123456789abcdef", "short-secret");
    let loaded = load_ok(&text);
    assert_eq!(loaded.config.jwt.secret.as_deref(), Some("short-secret"));
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0].contains("`jwt.secret` is shorter than 32 bytes"));
    assert!(loaded.warnings[0].starts_with(&format!("{FILE}:{}:", line_of(&text, "secret:"))));
}

#[test]
fn plain_augmenter_is_deprecated_once_per_augmenter() {
    let text = format!(
        "{MINIMAL}augmenters:
  - {{ type: plain, name: a, realm: internal, roles: {{ admin: [alice] }} }}
  - {{ type: plain, name: b, realm: internal, roles: {{}} }}
"
    );
    let warnings = load_ok(&text).warnings;
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("`augmenters[0]`: the `plain` augmenter is deprecated"));
    assert!(warnings[1].contains("`augmenters[1]`: the `plain` augmenter is deprecated"));
}

#[test]
fn v1_schema_is_accepted_with_a_warning() {
    let text = MINIMAL.replace("\"2.0.0\"", "\"1.0.0\"");
    let warnings = load_ok(&text).warnings;
    assert_eq!(
        warnings,
        [format!(
            "{FILE}:1:10: schema version 1.0.0 accepted; version 2.0.0 is current"
        )]
    );
}

#[test]
fn risky_but_valid_settings_are_warned_about() {
    let text = MINIMAL.replace("password: wonderland", "password: \"\"")
        + "      - username: alice\n        password: again\n";
    let warnings = load_ok(&text).warnings;
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("`providers[0].users[0]` has an empty password"));
    assert!(warnings[1].contains("`providers[0].users[1]` repeats the username"));

    let text = "version: \"2.0.0\"\njwt: { iss: a, exp: 1, secret: \"0123456789abcdef0123456789abcdef\" }\nproviders: []\n";
    let warnings = load_ok(text).warnings;
    assert_eq!(
        warnings,
        [format!(
            "{FILE}:3:12: `providers` is empty: every request will be refused"
        )]
    );

    let text = format!(
        "{MINIMAL}augmenters:\n  - {{ type: plain_advanced, name: a, realm: r, match: {{}}, augment: {{}} }}\n"
    );
    let warnings = load_ok(&text).warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("`augmenters[0].match` is empty"));
}

#[test]
fn ldap_filter_beside_filters_and_empty_filters_are_reported() {
    let text = format!(
        "{MINIMAL}augmenters:
  - type: ldap
    name: directory
    realm: internal
    uri: ldap://ldap.example.com
    search_base: dc=example,dc=com
    bind_dn: cn=reader,dc=example,dc=com
    ldap_password: pw
    filter: TeamA
    filters: []
"
    );
    assert_eq!(
        load_ok(&text).warnings,
        [
            format!(
                "{FILE}:{}:5: `augmenters[0].filter` is ignored: `filters` is set",
                line_of(&text, "filter: TeamA")
            ),
            format!(
                "{FILE}:{}:14: `augmenters[0].filters` is empty: this augmenter never adds a role",
                line_of(&text, "filters: []")
            ),
        ]
    );
}
