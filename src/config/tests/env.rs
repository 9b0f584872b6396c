//! `AOT_*` environment overrides.

use super::*;

fn load_env(text: &str, vars: &[(&str, &str)]) -> Result<Loaded, ConfigError> {
    load(Path::new(FILE), text, env(vars))
}

fn load_env_ok(text: &str, vars: &[(&str, &str)]) -> Loaded {
    load_env(text, vars).unwrap_or_else(|err| panic!("expected the config to load: {err}"))
}

#[test]
fn issuer_is_overridden() {
    let config = load_env_ok(MINIMAL, &[("AOT_JWT__ISS", "overridden-issuer")]).config;
    assert_eq!(config.jwt.iss, "overridden-issuer");
}

#[test]
fn secret_missing_from_the_file_comes_from_the_environment() {
    let text = MINIMAL.replace("  secret: \"0123456789abcdef0123456789abcdef\"\n", "");
    assert_eq!(load_err(&text).message(), "missing field `secret`");
    let loaded = load_env_ok(&text, &[("AOT_JWT__SECRET", GOOD_SECRET)]);
    assert_eq!(loaded.config.jwt.secret.as_deref(), Some(GOOD_SECRET));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn timeout_is_typed_and_its_section_created() {
    let loaded = load_env_ok(MINIMAL, &[("AOT_AUTH__TIMEOUT_IN_MS", "3000")]);
    assert_eq!(loaded.config.auth.timeout_in_ms, 3000);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn booleans_and_nested_sections_are_typed() {
    let text = MINIMAL.replace("jwt:", "metrics: { enabled: true }\njwt:");
    let config = load_env_ok(
        &text,
        &[
            ("AOT_INCLUDE_LEGACY_HEADERS", "true"),
            ("AOT_METRICS__ENABLED", "false"),
            ("AOT_SERVER__PORT", "8081"),
            ("AOT_CACHE__CAPACITY", "42"),
        ],
    )
    .config;
    assert!(config.include_legacy_headers);
    assert!(!config.metrics.expect("metrics").enabled);
    assert_eq!(config.server.expect("server").port, 8081);
    assert_eq!(config.cache.capacity, 42);
}

#[test]
fn config_path_and_foreign_variables_are_ignored() {
    let loaded = load_env_ok(
        MINIMAL,
        &[
            ("AOT_CONFIG_PATH", "/somewhere/else.yaml"),
            ("JWT__ISS", "not-ours"),
            ("PATH", "/usr/bin"),
            ("XAOT_JWT__ISS", "not-ours"),
        ],
    );
    assert_eq!(loaded.config.jwt.iss, "auth-o-tron.example.com");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn keys_are_lower_cased() {
    let config = load_env_ok(MINIMAL, &[("AOT_Jwt__Iss", "mixed")]).config;
    assert_eq!(config.jwt.iss, "mixed");
}

#[test]
fn numeric_text_for_a_string_is_taken_literally() {
    let secret = "00012345678901234567890123456789";
    let config = load_env_ok(
        MINIMAL,
        &[
            ("AOT_JWT__SECRET", secret),
            ("AOT_JWT__ISS", "1.50"),
            ("AOT_JWT__AUD", " spaced #not-a-comment "),
        ],
    )
    .config;
    assert_eq!(config.jwt.secret.as_deref(), Some(secret));
    assert_eq!(config.jwt.iss, "1.50");
    assert_eq!(config.jwt.aud.as_deref(), Some(" spaced #not-a-comment "));

    let config = load_env_ok(MINIMAL, &[("AOT_JWT__AUD", "")]).config;
    assert_eq!(
        config.jwt.aud, None,
        "an empty variable is null, so an absent optional"
    );
    let err = load(Path::new(FILE), MINIMAL, env(&[("AOT_JWT__SECRET", "")])).unwrap_err();
    assert_eq!(err.message(), "must not be empty");
}

#[test]
fn list_entries_are_reached_by_index() {
    let config = load_env_ok(
        MINIMAL,
        &[("AOT_PROVIDERS__0__USERS__0__PASSWORD", "from-env")],
    )
    .config;
    let ProviderConfig::Plain(plain) = &config.providers[0] else {
        panic!("expected a plain provider");
    };
    assert_eq!(plain.users[0].password.as_deref(), Some("from-env"));
}

#[test]
fn a_list_cannot_be_entered_by_name() {
    let err = load_env(MINIMAL, &[("AOT_PROVIDERS__LOCAL__REALM", "x")]).unwrap_err();
    assert_eq!(err.env_var(), Some("AOT_PROVIDERS__LOCAL__REALM"));
    assert_eq!(err.key_path(), Some("providers"));
    assert!(err.message().contains("index below 1"), "{err}");
    let err = load_env(MINIMAL, &[("AOT_PROVIDERS__3__REALM", "x")]).unwrap_err();
    assert!(err.message().contains("index below 1"), "{err}");
}

#[test]
fn bad_environment_values_name_the_variable() {
    let err = load_env(MINIMAL, &[("AOT_AUTH__TIMEOUT_IN_MS", "soon")]).unwrap_err();
    assert_eq!(err.env_var(), Some("AOT_AUTH__TIMEOUT_IN_MS"));
    assert_eq!(err.key_path(), Some("auth.timeout_in_ms"));
    assert_eq!(err.line(), None);
    assert_eq!(
        err.to_string(),
        "/etc/nginx/authotron.yaml: auth.timeout_in_ms: expected a whole number, found a string \
         (from environment variable AOT_AUTH__TIMEOUT_IN_MS)"
    );

    let err = load_env(MINIMAL, &[("AOT_PROVIDERS__0__REALM", "a\"b")]).unwrap_err();
    assert_eq!(err.env_var(), Some("AOT_PROVIDERS__0__REALM"));
    assert_eq!(err.key_path(), Some("providers[0].realm"));
}

#[test]
fn a_section_made_by_the_environment_is_blamed_on_it() {
    let text = "version: \"2.0.0\"\nproviders: []\n";
    let err = load_env(text, &[("AOT_JWT__ISS", "x")]).unwrap_err();
    assert_eq!(err.key_path(), Some("jwt"));
    assert_eq!(err.message(), "missing field `exp`");
    assert_eq!(err.env_var(), Some("AOT_JWT__ISS"));
}

#[test]
fn file_errors_keep_their_line_when_overrides_are_present() {
    let text = MINIMAL.replace("name: local", "title: local");
    let err = load_env(
        &text,
        &[("AOT_JWT__ISS", "x"), ("AOT_AUTH__TIMEOUT_IN_MS", "1")],
    )
    .unwrap_err();
    assert_eq!(err.env_var(), None);
    assert_eq!(err.key_path(), Some("providers[0]"));
    assert_eq!(err.message(), "missing field `name`");
    assert_at(&err, &text, "type: plain");
}

#[test]
fn environment_can_repair_a_bad_file_value() {
    let text = MINIMAL.replace("exp: 3600", "exp: 0");
    let config = load_env_ok(&text, &[("AOT_JWT__EXP", "60")]).config;
    assert_eq!(config.jwt.exp, 60);
}

#[test]
fn an_empty_file_can_be_completed_by_the_environment() {
    let vars = [
        ("AOT_VERSION", "2.0.0"),
        ("AOT_JWT__ISS", "iss"),
        ("AOT_JWT__EXP", "60"),
        ("AOT_JWT__SECRET", GOOD_SECRET),
    ];
    let loaded = load_env_ok("providers: []\n", &vars);
    assert!(loaded.config.providers.is_empty());
    assert_eq!(loaded.config.jwt.exp, 60);
}

#[test]
fn values_are_scalars_only() {
    let err = load_env(MINIMAL, &[("AOT_PROVIDERS", "[]")]).unwrap_err();
    assert_eq!(err.message(), "expected a list, found a string");
    assert_eq!(err.env_var(), Some("AOT_PROVIDERS"));
}

#[test]
fn unknown_keys_from_the_environment_name_the_variable() {
    let loaded = load_env_ok(MINIMAL, &[("AOT_JWT__ISSUER", "x")]);
    assert_eq!(
        loaded.warnings,
        ["/etc/nginx/authotron.yaml: unknown key `jwt.issuer` (ignored) (from environment variable AOT_JWT__ISSUER)"]
    );
}

#[test]
fn malformed_variable_names_are_skipped_with_a_warning() {
    let loaded = load_env_ok(MINIMAL, &[("AOT_JWT____ISS", "x"), ("AOT_", "y")]);
    assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    assert!(loaded.warnings.iter().all(|w| w.contains("ignored")));
    assert_eq!(loaded.config.jwt.iss, "auth-o-tron.example.com");
}
