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
    let at = |key: &str, needle: &str, meant: Option<&str>| {
        let hint = meant.map_or(String::new(), |m| format!("; did you mean `{m}`?"));
        format!(
            "{FILE}:{}:{}: unknown key `{key}` (ignored){hint}",
            line_of(TYPOS, needle),
            column_of(TYPOS, needle)
        )
    };
    assert_eq!(
        warnings,
        [
            // `exp` is three edits away from `expiry`: too far to be a typo.
            at("jwt.expiry", "expiry", None),
            at(
                "include_legacy_header",
                "include_legacy_header",
                Some("include_legacy_headers")
            ),
            at("providers[0].users[1].pasword", "pasword", Some("password")),
            at("providers[0].users[1].role", "role: [admin]", Some("roles")),
            at("providers[0].user", "user: []", Some("users")),
            // `match` knows `role`, not `roles`: the suggestion is among the keys of that place.
            at("augmenters[0].match.roles", "roles: [admin]", Some("role")),
            at(
                "augmenters[0].augment.attribute",
                "attribute",
                Some("attributes")
            ),
            at("augmenters[0].when", "when", None),
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
    for (key, meant) in [
        ("server.hots", Some("host")),
        ("metrics.enable", Some("enabled")),
        ("auth.timeout", None),
        ("logging.levle", Some("level")),
        ("store.uri2", None),
        ("services[0].scope", Some("scopes")),
        ("cache.ttl", None),
    ] {
        let hint = meant.map_or(String::new(), |m| format!("; did you mean `{m}`?"));
        assert!(
            warnings
                .iter()
                .any(|w| w.ends_with(&format!("unknown key `{key}` (ignored){hint}"))),
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
        "{MINIMAL}augmenters:\n  - {{ type: plain_advanced, name: a, realm: internal, match: {{}}, augment: {{}} }}\n"
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

/// A misspelt key that leaves a required one missing is an error, and the error names the
/// misspelt key, at its line, with the key it stands for; the password is never shown.
#[test]
fn a_misspelt_required_key_is_named_in_the_error() {
    let text = format!("{MINIMAL}      - {{ username: bob, pasword: s3cr3t-b0b }}\n");
    let err = load(Path::new(FILE), &text, Vec::new()).unwrap_err();
    assert_eq!(err.key_path(), Some("providers[0].users[1].pasword"));
    assert!(
        err.message()
            .ends_with("(unknown key `pasword`; did you mean `password`?)"),
        "{err}"
    );
    assert_eq!(err.line(), Some(line_of(&text, "pasword")));
    assert!(!err.to_string().contains("s3cr3t-b0b"), "{err}");

    let text = MINIMAL.replace("name: local", "nmae: local");
    let err = load(Path::new(FILE), &text, Vec::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{FILE}:{}:5: providers[0].nmae: missing field `name` (unknown key `nmae`; did you mean `name`?)",
            line_of(&text, "nmae")
        )
    );

    let text = MINIMAL.replace(
        "jwt:",
        "store: { enabled: true, tpye: sqlite, path: /tmp/t.db }\njwt:",
    );
    let err = load(Path::new(FILE), &text, Vec::new()).unwrap_err();
    assert_eq!(err.key_path(), Some("store.tpye"));
    assert!(err.message().contains("did you mean `type`?"), "{err}");
}

/// Upstream accepts both silently; they load, with a warning at the line of the value.
#[test]
fn unknown_augmenter_realms_and_repeated_provider_names_are_warnings() {
    let text = format!(
        "{MINIMAL}  - {{ type: plain, name: local, realm: other, users: [] }}
augmenters:
  - type: plain_advanced
    name: good
    realm: internal
    match: {{ username: [alice] }}
    augment: {{ roles: [x] }}
  - type: plain_advanced
    name: stray
    realm: Internal
    match: {{ username: [alice] }}
    augment: {{ roles: [x] }}
"
    );
    let warnings = load_ok(&text).warnings;
    assert_eq!(
        warnings,
        [
            format!(
                "{FILE}:{}:{}: `providers[1].name` repeats the name of `providers[0]`: messages and listings that name providers cannot tell the two apart",
                line_of(&text, "realm: other"),
                column_of(&text, "local, realm: other")
            ),
            format!(
                "{FILE}:{}:{}: `augmenters[1].realm` matches the realm of no provider (realms compare case-sensitively): this augmenter never applies",
                line_of(&text, "realm: Internal"),
                column_of(&text, "Internal")
            ),
        ]
    );
}
