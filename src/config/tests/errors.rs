//! Invalid configurations: the message, and the line and column it points at.

use super::*;

/// [`MINIMAL`] with a second user who lacks a username.
const TWO_USERS: &str = concat!(
    header!(),
    alice_provider!(),
    r#"      - password: builder
        roles: [staff]
"#
);

#[test]
fn missing_username_in_second_user_points_at_that_user() {
    let err = load_err(TWO_USERS);
    assert_eq!(err.key_path(), Some("providers[0].users[1]"));
    assert_eq!(err.message(), "missing field `username`");
    assert_at(&err, TWO_USERS, "password: builder");
    assert_eq!(
        err.to_string(),
        "/etc/nginx/authotron.yaml:13:9: providers[0].users[1]: missing field `username`"
    );
}

#[test]
fn unknown_provider_type_points_at_the_type() {
    let text = MINIMAL.replace("type: plain", "type: plane");
    let err = load_err(&text);
    assert_eq!(err.key_path(), Some("providers[0].type"));
    assert!(err.message().starts_with("unknown provider type `plane`"));
    assert!(err.message().contains("ecmwf-token-generator"));
    assert_at(&err, &text, "plane");
}

#[test]
fn unknown_augmenter_type_points_at_the_type() {
    let text = format!("{MINIMAL}augmenters:\n  - {{ type: magic, name: m, realm: r }}\n");
    let err = load_err(&text);
    assert_eq!(err.key_path(), Some("augmenters[0].type"));
    assert!(err.message().starts_with("unknown augmenter type `magic`"));
    assert_at(&err, &text, "magic");
}

#[test]
fn bad_versions_are_refused_on_their_line() {
    for bad in ["\"3.0.0\"", "2.0", "2", "\"\"", "[2.0.0]"] {
        let text = MINIMAL.replace("\"2.0.0\"", bad);
        let err = load_err(&text);
        assert_eq!(err.key_path(), Some("version"), "{bad}");
        assert_eq!(
            err.message(),
            "unsupported schema version; expected \"1.0.0\" or \"2.0.0\""
        );
        assert_at(&err, &text, bad);
    }
}

#[test]
fn missing_version_is_refused() {
    let text = MINIMAL.replace("version: \"2.0.0\"\n", "");
    let err = load_err(&text);
    assert_eq!(err.message(), "missing field `version`");
    assert_eq!(err.key_path(), None);
    assert_eq!(err.line(), Some(1));
}

#[test]
fn missing_jwt_is_refused() {
    let text = "version: \"2.0.0\"\nproviders: []\n";
    let err = load_err(text);
    assert_eq!(err.message(), "missing field `jwt`");
    assert_eq!(err.line(), Some(1));
}

#[test]
fn missing_jwt_field_points_at_the_section() {
    let text = MINIMAL.replace("  exp: 3600\n", "");
    let err = load_err(&text);
    assert_eq!(err.key_path(), Some("jwt"));
    assert_eq!(err.message(), "missing field `exp`");
    assert_at(&err, &text, "iss:");
}

#[test]
fn password_and_password_hash_together_are_refused() {
    let text = TWO_USERS.replace(
        "      - password: builder",
        &format!(
            "      - username: bob\n        password: builder\n        password_hash: '{ARGON2ID}'"
        ),
    );
    let err = load_err(&text);
    assert_eq!(err.key_path(), Some("providers[0].users[1]"));
    assert!(err
        .message()
        .contains("exactly one of `password` and `password_hash`"));
    assert!(err.message().ends_with("has both"));
    assert_at(&err, &text, "username: bob");
}

#[test]
fn neither_password_nor_password_hash_is_refused() {
    let text = TWO_USERS.replace("      - password: builder", "      - username: bob");
    let err = load_err(&text);
    assert_eq!(err.key_path(), Some("providers[0].users[1]"));
    assert!(err.message().ends_with("has neither"));
    assert_at(&err, &text, "username: bob");
}

#[test]
fn bad_password_hashes_are_refused_on_their_line() {
    let cases = [
        ("not-a-hash", "must be an Argon2id PHC string"),
        (ARGON2I, "only Argon2id"),
        (
            &ARGON2ID.replace("YBMn", "YB!n"),
            "not a valid Argon2id PHC string",
        ),
        (&ARGON2ID.replace("m=4096", "m=1"), "bad parameters"),
        (
            "$argon2id$v=19$m=4096,t=3,p=1",
            "not a valid Argon2id PHC string",
        ),
        (&BCRYPT[..59], "not a valid bcrypt hash"),
        (
            &BCRYPT.replacen("$05$", "$99$", 1),
            "not a valid bcrypt hash",
        ),
        (
            &BCRYPT.replacen("$2y$", "$2x$", 1),
            "must be an Argon2id PHC string",
        ),
    ];
    for (hash, expected) in cases {
        let text = TWO_USERS.replace(
            "      - password: builder",
            &format!("      - username: bob\n        password_hash: '{hash}'"),
        );
        let err = load_err(&text);
        assert_eq!(err.key_path(), Some("providers[0].users[1].password_hash"));
        assert!(err.message().contains(expected), "{hash}: {err}");
        assert!(
            !err.to_string().contains(hash),
            "the hash is printed: {err}"
        );
        assert_at(&err, &text, &format!("'{hash}'"));
    }
}

#[test]
fn bad_realms_are_refused_on_their_line() {
    for (realm, written) in [
        ("", "\"\""),
        ("in\"side", r#""in\"side""#),
        ("back\\slash", r#""back\\slash""#),
        ("tab\there", r#""tab\there""#),
        ("new\nline", r#""new\nline""#),
    ] {
        let text = MINIMAL.replace("realm: internal", &format!("realm: {written}"));
        let err = load_err(&text);
        assert_eq!(err.key_path(), Some("providers[0].realm"), "{realm:?}");
        assert!(err.message().starts_with("realm must not"), "{err}");
        assert_at(&err, &text, written);
    }
    let text = format!(
        "{MINIMAL}augmenters:\n  - type: plain_advanced\n    name: a\n    realm: 'a\"b'\n    match: {{}}\n    augment: {{}}\n"
    );
    let err = load_err(&text);
    assert_eq!(err.key_path(), Some("augmenters[0].realm"));
    assert_at(&err, &text, "'a\"b'");
}

#[test]
fn jwt_values_are_checked() {
    let cases = [
        (
            "exp: 3600",
            "exp: 0",
            "jwt.exp",
            "must be greater than 0 (seconds)",
        ),
        (
            "exp: 3600",
            "exp: -5",
            "jwt.exp",
            "must be greater than 0 (seconds)",
        ),
        (
            "exp: 3600",
            "exp: soon",
            "jwt.exp",
            "expected a whole number, found a string",
        ),
        (
            "secret: \"0123456789abcdef0123456789abcdef\"",
            "secret: \"\"",
            "jwt.secret",
            "must not be empty",
        ),
    ];
    for (from, to, key_path, message) in cases {
        let text = MINIMAL.replace(from, to);
        let err = load_err(&text);
        assert_eq!(err.key_path(), Some(key_path));
        assert_eq!(err.message(), message);
        let key = to.split_once(": ").expect("fixture").0;
        assert_after(&err, &text, &format!("  {key}: "));
    }
}

#[test]
fn zero_timeout_and_zero_capacity_are_refused() {
    for (section, key_path) in [
        ("auth: { timeout_in_ms: 0 }", "auth.timeout_in_ms"),
        ("cache: { capacity: 0 }", "cache.capacity"),
    ] {
        let text = format!("{MINIMAL}{section}\n");
        let err = load_err(&text);
        assert_eq!(err.key_path(), Some(key_path));
        assert_eq!(err.message(), "must be greater than 0");
        assert_at(&err, &text, "0 }");
    }
}

#[test]
fn wrong_types_name_what_was_expected() {
    let cases = [
        (
            "    users:\n",
            "    users: nobody\n    other:\n",
            "providers[0].users",
            "expected a list, found a string",
        ),
        (
            "  - type: plain",
            "  - type: [plain]",
            "providers[0].type",
            "expected a string, found a list",
        ),
        (
            "  exp: 3600",
            "  exp: 3600.5",
            "jwt.exp",
            "expected a whole number that fits in 64 bits",
        ),
        (
            "version",
            "include_legacy_headers: yes\nversion",
            "include_legacy_headers",
            "expected true or false, found a string",
        ),
        (
            "version",
            "server: { port: 70000 }\nversion",
            "server.port",
            "expected a port number (0 to 65535)",
        ),
        (
            "version",
            "services: [ { name: s } ]\nversion",
            "services[0]",
            "missing field `scopes`",
        ),
    ];
    for (from, to, key_path, message) in cases {
        let text = MINIMAL.replacen(from, to, 1);
        let err = load_err(&text);
        assert_eq!(err.key_path(), Some(key_path), "{err}");
        assert_eq!(err.message(), message);
        assert!(err.line().is_some());
    }
}

#[test]
fn every_provider_type_is_supported() {
    let cases = [
        ("jwt", "cert_uri: 'http://c', iam_realm: x"),
        (
            "openid-offline",
            "cert_uri: 'http://c', public_client_id: a, private_client_id: b, private_client_secret: s, iam_url: 'http://u'",
        ),
        ("ecmwf-api", "uri: 'https://u'"),
        ("efas-api", "uri: 'https://u'"),
        (
            "ecmwf-token-generator",
            "cert_uri: 'http://c', client_id: a, client_secret: s, token_generator_url: 'http://u'",
        ),
    ];
    for (tag, fields) in cases {
        let text = format!("{MINIMAL}  - {{ type: {tag}, name: n, realm: r, {fields} }}\n");
        let loaded = load_ok(&text);
        assert_eq!(loaded.config.providers[1].type_tag(), tag);
    }
}

#[test]
fn jwt_without_iam_realm_is_refused() {
    let text = format!("{MINIMAL}  - {{ type: jwt, name: n, realm: r, cert_uri: 'http://c' }}\n");
    let err = load_err(&text);
    assert_eq!(err.message(), "missing field `iam_realm`");
    assert_eq!(err.key_path(), Some("providers[1]"));
}

#[test]
fn identity_service_addresses_must_be_http_urls_at_their_line() {
    for uri in ["ftp://host/v1", "not a url", "/relative"] {
        let text = format!("{MINIMAL}  - {{ type: ecmwf-api, name: n, realm: r, uri: '{uri}' }}\n");
        let err = load_err(&text);
        assert_eq!(err.key_path(), Some("providers[1].uri"), "{uri}");
        assert_eq!(err.line(), Some(13), "{uri}");
    }
}

/// An LDAP augmenter entry, complete; tests remove or change one line of it.
fn ldap_entry() -> String {
    format!(
        "{MINIMAL}augmenters:
  - type: ldap
    name: directory
    realm: internal
    uri: ldap://ldap.example.com
    search_base: dc=example,dc=com
    bind_dn: cn=reader,dc=example,dc=com
    ldap_password: pw
    filters:
      - OU=TeamA
      - OU=TeamA,OU=TeamB
"
    )
}

#[test]
fn ldap_augmenter_loads() {
    let loaded = load_ok(&ldap_entry());
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn ldap_entries_report_missing_fields() {
    let text = format!(
        "{MINIMAL}augmenters:\n  - {{ type: ldap, name: d, realm: r, uri: ldap://ldap, ldap_password: pw, filter: OU=A }}\n"
    );
    let err = load_err(&text);
    assert_eq!(err.message(), "missing field `search_base`");
    assert_eq!(err.key_path(), Some("augmenters[0]"));
}

#[test]
fn ldap_without_bind_dn_is_refused_at_its_entry() {
    // Upstream starts, then fails every lookup with "No bind DN provided".
    let text = ldap_entry().replace("    bind_dn: cn=reader,dc=example,dc=com\n", "");
    let err = load_err(&text);
    assert!(
        err.message().starts_with("missing field `bind_dn`"),
        "{}",
        err.message()
    );
    assert_eq!(err.key_path(), Some("augmenters[0]"));
    assert_at(&err, &text, "type: ldap");
}

#[test]
fn an_ldap_filter_without_key_value_is_refused_at_its_line() {
    // Upstream's LDAP tests reject a filter list containing `Invalid` too, but at run time; we
    // reject it when the config loads, so `nginx -t` reports it.
    for bad in ["Invalid", "''", "=x"] {
        let text = ldap_entry().replace("      - OU=TeamA\n", &format!("      - {bad}\n"));
        let err = load_err(&text);
        assert_eq!(err.key_path(), Some("augmenters[0].filters[0]"), "{bad}");
        assert!(err.message().contains("`key=value`"), "{}", err.message());
        let item = format!("      - {bad}");
        assert_eq!(err.line(), Some(line_of(&text, &item)), "{bad}");
    }
}

#[test]
fn ldap_uri_must_be_an_ldap_url_at_its_line() {
    for uri in ["http://ldap.example.com", "ldap.example.com", "ldap://"] {
        let text = ldap_entry().replace("ldap://ldap.example.com", uri);
        let err = load_err(&text);
        assert_eq!(err.key_path(), Some("augmenters[0].uri"), "{uri}");
        assert_after(&err, &text, "    uri: ");
    }
    for uri in [
        "ldaps://ldap.example.com:636",
        "ldapi://%2Frun%2Fslapd%2Fldapi",
    ] {
        load_ok(&ldap_entry().replace("ldap://ldap.example.com", uri));
    }
}

#[test]
fn mongo_store_is_refused_with_advice() {
    let text = format!(
        "{MINIMAL}store:\n  enabled: true\n  type: mongo\n  uri: mongodb://db\n  database: aot\n"
    );
    load_schema_only(&text).unwrap_or_else(|err| panic!("{err}"));
    let err = load_err(&text);
    assert_eq!(err.key_path(), Some("store.type"));
    assert!(err.message().contains("use `type: sqlite`"), "{err}");
    assert!(err.message().contains("`type: postgres`"), "{err}");
    assert_at(&err, &text, "mongo");

    let text = format!("{MINIMAL}store:\n  enabled: true\n");
    let err = load_err(&text);
    assert_eq!(
        err.message(),
        "`enabled` is true but no store `type` is set"
    );

    let text = format!("{MINIMAL}store:\n  enabled: false\n  type: mongo\n");
    assert_eq!(load_err(&text).message(), "missing field `uri`");
}

#[test]
fn store_settings_are_checked_where_they_are_written() {
    let cases = [
        ("type: sqlite\n  path: \"\"", "path", "must not be empty"),
        ("type: sqlite", "enabled", "missing"),
        (
            "type: postgres\n  uri: \"host=/x port=notanumber\"",
            "uri",
            "not a PostgreSQL",
        ),
        (
            "type: postgres\n  uri: postgresql://db/aot?sslmode=require",
            "uri",
            "sslmode=require",
        ),
        (
            "type: postgres\n  uri: postgresql://db/aot\n  pool_size: 0",
            "pool_size",
            "greater than 0",
        ),
        ("type: redis", "redis", "unknown store type"),
        (
            "type: sqlite\n  path: t.db\n  default_expiry_seconds: 100\n  max_expiry_seconds: 10",
            "max_expiry_seconds",
            "longer than",
        ),
        (
            "type: sqlite\n  path: t.db\n  timeout_ms: 0",
            "timeout_ms",
            "greater than 0",
        ),
    ];
    for (body, at, message) in cases {
        let text = format!("{MINIMAL}store:\n  enabled: true\n  {body}\n");
        let err = load_err(&text);
        assert!(err.message().contains(message), "{body}: {err}");
        assert_eq!(err.line(), Some(line_of(&text, at)), "{body}: {err}");
    }
}

#[test]
fn yaml_syntax_errors_carry_their_position() {
    let text = MINIMAL.replace("  exp: 3600", "  exp: [3600");
    let err = load_err(&text);
    assert!(err.message().starts_with("invalid YAML: "), "{err}");
    assert!(err.line().is_some());
    let (line, column) = (err.line().unwrap(), err.column().unwrap());
    let repeated = format!(" at line {line} column {column}");
    assert!(
        !err.message().contains(&repeated),
        "position said twice: {err}"
    );
}

#[test]
fn duplicate_keys_are_refused() {
    let text = format!("{MINIMAL}providers: []\n");
    let err = load_err(&text);
    assert!(err.message().contains("duplicate entry"), "{err}");
}

#[test]
fn empty_and_non_mapping_documents_are_refused() {
    assert_eq!(load_err("").message(), "the configuration is empty");
    assert_eq!(
        load_err("# nothing\n").message(),
        "the configuration is empty"
    );
    assert_eq!(
        load_err("- version\n").message(),
        "expected a mapping, found a list"
    );
}

#[test]
fn unreadable_file_is_named() {
    let path = Path::new("/nonexistent/authotron.yaml");
    let err = load_file(path, None).expect_err("no such file");
    assert_eq!(err.file(), path);
    assert!(
        err.to_string()
            .starts_with("/nonexistent/authotron.yaml: cannot read: "),
        "{err}"
    );
    assert_eq!(err.line(), None);
}

#[test]
fn error_is_a_std_error() {
    let err: Box<dyn std::error::Error> = Box::new(load_err(TWO_USERS));
    assert!(err.to_string().contains("missing field `username`"));
}

#[test]
fn guard_limits_out_of_range_are_refused_on_their_line() {
    for (section, key_path, message) in [
        (
            "guard: { max_failures: 4096 }",
            "guard.max_failures",
            "must be from 0 to 4095",
        ),
        (
            "guard: { bearer: { window_seconds: 0 } }",
            "guard.bearer.window_seconds",
            "must be from 1 to 86400",
        ),
        (
            "guard: { subjects: 0 }",
            "guard.subjects",
            "must be from 1 to 16777216",
        ),
    ] {
        let text = format!("{MINIMAL}{section}\n");
        let err = load_err(&text);
        assert_eq!(err.key_path(), Some(key_path), "{section}");
        assert_eq!(err.message(), message);
    }
}
