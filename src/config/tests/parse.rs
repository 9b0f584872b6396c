//! What valid configurations turn into.

use super::*;

#[test]
fn minimal_v2_gets_the_defaults() {
    let loaded = load_ok(MINIMAL);
    let config = &loaded.config;
    assert_eq!(config.version, SchemaVersion::V2);
    assert_eq!(config.auth.timeout_in_ms, 5000);
    assert!(!config.include_legacy_headers);
    assert_eq!(config.cache, CacheSettings::default());
    assert_eq!(
        (
            config.cache.ttl_seconds,
            config.cache.negative_ttl_seconds,
            config.cache.capacity
        ),
        (60, 5, 10_000)
    );
    assert_eq!(config.server, None);
    assert_eq!(config.metrics, None);
    assert_eq!(config.logging, None);
    assert_eq!(config.store, None);
    assert_eq!(config.bind_address, None);
    assert!(config.services.is_empty());
    assert!(config.augmenters.is_empty());
    assert_eq!(config.jwt.iss, "auth-o-tron.example.com");
    assert_eq!(config.jwt.exp, 3600);
    assert_eq!(config.jwt.secret.as_deref(), Some(GOOD_SECRET));
    assert_eq!(config.jwt.aud, None);
    let ProviderConfig::Plain(plain) = &config.providers[0] else {
        panic!("expected a plain provider");
    };
    assert_eq!(plain.users[0].username, "alice");
    assert_eq!(plain.users[0].password.as_deref(), Some("wonderland"));
    assert_eq!(plain.users[0].password_hash, None);
    assert!(plain.users[0].roles.is_empty());
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn unquoted_version_is_a_string_too() {
    let text = MINIMAL.replace("version: \"2.0.0\"", "version: 2.0.0");
    assert_eq!(load_ok(&text).config.version, SchemaVersion::V2);
}

#[test]
fn full_v2_parses_every_type() {
    let loaded = load_schema_only(&full()).unwrap_or_else(|err| panic!("{err}"));
    let config = loaded.config;
    assert_eq!(
        config.server,
        Some(ServerSettings {
            host: "127.0.0.1".into(),
            port: 8080
        })
    );
    assert_eq!(
        config.metrics,
        Some(MetricsSettings {
            enabled: false,
            port: 9999
        })
    );
    assert_eq!(config.auth.timeout_in_ms, 3000);
    assert!(config.include_legacy_headers);
    let logging = config.logging.expect("logging");
    assert_eq!(
        (
            logging.level.as_str(),
            logging.format.as_str(),
            logging.service_name.as_deref(),
            logging.service_version.as_deref()
        ),
        ("info", "json", Some("auth-o-tron"), Some("1.2.3"))
    );
    assert_eq!(config.jwt.aud.as_deref(), Some("backend"));
    let store = config.store.expect("store");
    assert!(!store.enabled);
    assert_eq!(
        store.backend,
        Some(StoreBackend::Mongo {
            uri: "mongodb://db.example.com:27017".into(),
            database: "auth_o_tron".into()
        })
    );
    assert_eq!(config.services[0].name, "polytope");
    assert_eq!(config.services[0].scopes, ["read", "write"]);
    assert_eq!(
        config.cache,
        CacheSettings {
            ttl_seconds: 30,
            negative_ttl_seconds: 2,
            capacity: 500
        }
    );

    let tags: Vec<_> = config.providers.iter().map(|p| p.type_tag()).collect();
    assert_eq!(
        tags,
        [
            "plain",
            "jwt",
            "openid-offline",
            "ecmwf-api",
            "efas-api",
            "ecmwf-token-generator"
        ]
    );
    let names: Vec<_> = config.providers.iter().map(|p| p.name()).collect();
    assert_eq!(
        names,
        ["local", "keycloak", "offline", "ecmwf", "efas", "generator"]
    );
    let realms: Vec<_> = config.providers.iter().map(|p| p.realm()).collect();
    assert_eq!(
        realms,
        ["internal", "external", "desp", "ecmwf", "efas", "ecmwf"]
    );
    match &config.providers[0] {
        ProviderConfig::Plain(plain) => {
            assert_eq!(plain.users.len(), 3);
            assert_eq!(plain.users[0].roles, ["admin", "user"]);
            assert_eq!(plain.users[1].password_hash.as_deref(), Some(ARGON2ID));
            assert_eq!(plain.users[2].password_hash.as_deref(), Some(BCRYPT));
            assert_eq!(plain.users[2].password, None);
        }
        other => panic!("unexpected {other:?}"),
    }
    match &config.providers[1] {
        ProviderConfig::Jwt(jwt) => {
            assert!(jwt.cert_uri.ends_with("/certs"));
            assert_eq!(jwt.iam_realm, "x");
        }
        other => panic!("unexpected {other:?}"),
    }
    match &config.providers[2] {
        ProviderConfig::OpenidOffline(c) => {
            assert_eq!(c.public_client_id, "public-client");
            assert_eq!(c.private_client_id, "private-client");
            assert_eq!(c.private_client_secret, "private-client-secret");
            assert_eq!(c.iam_url, "https://iam.example.com");
        }
        other => panic!("unexpected {other:?}"),
    }
    match (&config.providers[3], &config.providers[4]) {
        (ProviderConfig::EcmwfApi(ecmwf), ProviderConfig::EfasApi(efas)) => {
            assert_eq!(ecmwf.uri, "https://api.ecmwf.int/v1");
            assert_eq!(efas.uri, "https://efas.example.com/user-details");
        }
        other => panic!("unexpected {other:?}"),
    }
    match &config.providers[5] {
        ProviderConfig::EcmwfTokenGenerator(c) => {
            assert_eq!(c.client_id, "generator-client");
            assert_eq!(c.client_secret, "generator-client-secret");
            assert_eq!(c.token_generator_url, "https://tokens.ecmwf.int");
        }
        other => panic!("unexpected {other:?}"),
    }

    let tags: Vec<_> = config.augmenters.iter().map(|a| a.type_tag()).collect();
    assert_eq!(tags, ["plain", "plain_advanced", "ldap"]);
    let names: Vec<_> = config.augmenters.iter().map(|a| a.name()).collect();
    assert_eq!(names, ["old", "boost", "directory"]);
    assert!(config.augmenters.iter().all(|a| a.realm() == "internal"));
    match &config.augmenters[0] {
        AugmenterConfig::Plain(plain) => assert_eq!(
            plain.roles,
            [
                ("zeta".to_owned(), vec!["alice".to_owned()]),
                (
                    "alpha".to_owned(),
                    vec!["bob".to_owned(), "carol".to_owned()]
                ),
            ],
            "file order is kept"
        ),
        other => panic!("unexpected {other:?}"),
    }
    match &config.augmenters[1] {
        AugmenterConfig::PlainAdvanced(advanced) => {
            assert_eq!(
                advanced.r#match,
                MatchRule {
                    username: vec!["alice".into()],
                    role: vec!["admin".into()]
                }
            );
            let attributes: Vec<_> = advanced
                .augment
                .attributes
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            assert_eq!(
                attributes,
                [("team", "ops"), ("location", "cloud"), ("alpha", "first")],
                "file order is kept"
            );
            assert_eq!(advanced.augment.roles, ["superuser"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    match &config.augmenters[2] {
        AugmenterConfig::Ldap(ldap) => {
            assert_eq!(ldap.uri, "ldaps://ldap.example.com");
            assert_eq!(ldap.search_base, "dc=example,dc=com");
            assert_eq!(ldap.ldap_password, "ldap-bind-password");
            assert_eq!(ldap.bind_dn, "cn=reader,dc=example,dc=com");
            assert_eq!(ldap.cache_ttl_seconds, None);
            assert_eq!(ldap.filter, None);
            assert_eq!(
                ldap.filters.as_deref(),
                Some(&["OU=TeamA".to_owned(), "OU=TeamB".to_owned()][..])
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn full_v2_loads_with_every_augmenter_type() {
    let loaded = try_load(&full()).unwrap_or_else(|err| panic!("{err}"));
    let tags: Vec<_> = loaded
        .config
        .augmenters
        .iter()
        .map(|a| a.type_tag())
        .collect();
    assert_eq!(tags, ["plain", "plain_advanced", "ldap"]);
}

#[test]
fn ldap_single_filter_and_cache_lifetime() {
    let text = format!(
        "{MINIMAL}augmenters:
  - type: ldap
    name: directory
    realm: internal
    uri: ldap://127.0.0.1:389
    search_base: dc=example,dc=com
    bind_dn: cn=reader,dc=example,dc=com
    ldap_password: pw
    filter: TeamA
    cache_ttl_seconds: 30
"
    );
    let loaded = load_ok(&text);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    match &loaded.config.augmenters[0] {
        AugmenterConfig::Ldap(ldap) => {
            assert_eq!(ldap.filter.as_deref(), Some("TeamA"));
            assert_eq!(ldap.filters, None);
            assert_eq!(ldap.cache_ttl_seconds, Some(30));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn plain_advanced_lists_default_to_empty() {
    let text = format!(
        "{MINIMAL}augmenters:
  - type: plain_advanced
    name: by-role
    realm: internal
    match:
      role: [admin]
    augment: {{}}
"
    );
    let config = load_ok(&text).config;
    match &config.augmenters[0] {
        AugmenterConfig::PlainAdvanced(advanced) => {
            assert!(advanced.r#match.username.is_empty());
            assert_eq!(advanced.r#match.role, ["admin"]);
            assert_eq!(advanced.augment, AugmentRule::default());
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn password_hashes_of_both_kinds_are_accepted() {
    for hash in [ARGON2ID, BCRYPT, &BCRYPT.replacen("$2y$", "$2b$", 1)] {
        let text = MINIMAL.replace("password: wonderland", &format!("password_hash: '{hash}'"));
        let config = load_ok(&text).config;
        let ProviderConfig::Plain(plain) = &config.providers[0] else {
            panic!("expected a plain provider");
        };
        assert_eq!(plain.users[0].password_hash.as_deref(), Some(hash));
    }
}

const V1: &str = r#"version: "1.0.0"
bind_address: "127.0.0.1:8080"
jwt: { iss: a, exp: 60, secret: "0123456789abcdef0123456789abcdef" }
providers: []
"#;

#[test]
fn v1_with_bind_address_parses() {
    let loaded = load_ok(V1);
    let config = loaded.config;
    assert_eq!(config.version, SchemaVersion::V1);
    assert_eq!(config.bind_address.as_deref(), Some("127.0.0.1:8080"));
    assert_eq!(
        config.server,
        Some(ServerSettings {
            host: "127.0.0.1".into(),
            port: 8080
        })
    );
    assert_eq!(config.metrics, None);
}

#[test]
fn bind_address_follows_upstream() {
    let ok = |address: &str| validate::bind_address(address).expect(address);
    assert_eq!(ok("127.0.0.1:8080"), ("127.0.0.1".to_owned(), 8080));
    assert_eq!(ok("[::1]:3000"), ("::1".to_owned(), 3000));
    assert_eq!(ok("::1:3000"), ("::1".to_owned(), 3000));
    assert_eq!(ok("localhost:8080"), ("localhost".to_owned(), 8080));
    for bad in [
        ":3000",
        "localhost",
        "localhost:http",
        "localhost:70000",
        "[]:80",
    ] {
        assert!(validate::bind_address(bad).is_err(), "{bad} accepted");
    }
}

#[test]
fn bad_bind_address_is_an_error_on_its_line() {
    for bad in [":3000", "localhost"] {
        let text = V1.replace("127.0.0.1:8080", bad);
        let err = load_err(&text);
        assert_eq!(err.key_path(), Some("bind_address"));
        assert_at(&err, &text, &format!("\"{bad}\""));
    }
}

#[test]
fn listening_sections_belong_to_their_schema_version() {
    let v2 = MINIMAL.replace("jwt:", "bind_address: \"0.0.0.0:1\"\njwt:");
    let warnings = load_ok(&v2).warnings;
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("unknown key `bind_address`")),
        "{warnings:?}"
    );
    let v1 = V1.replace(
        "providers: []",
        "providers: []\nserver: { port: 1 }\nmetrics: {}",
    );
    let warnings = load_ok(&v1).warnings;
    assert!(warnings.iter().any(|w| w.contains("unknown key `server`")));
    assert!(warnings.iter().any(|w| w.contains("unknown key `metrics`")));
}

#[test]
fn optional_sections_take_their_upstream_defaults() {
    let text = MINIMAL.replace(
        "jwt:",
        "server: { port: 8080 }\nmetrics: {}\nauth: {}\nstore: { enabled: false }\nservices: []\ncache: { ttl_seconds: 0 }\njwt:",
    );
    let config = load_ok(&text).config;
    assert_eq!(
        config.server,
        Some(ServerSettings {
            host: "0.0.0.0".into(),
            port: 8080
        })
    );
    assert_eq!(config.metrics, Some(MetricsSettings::default()));
    assert_eq!(config.auth.timeout_in_ms, 5000);
    let store = config.store.expect("store");
    assert!(!store.enabled && store.backend.is_none());
    assert_eq!(config.cache.ttl_seconds, 0);
    assert_eq!(config.cache.capacity, 10_000);
}

#[test]
fn null_optional_values_count_as_absent() {
    let text = MINIMAL.replace("jwt:", "auth:\naugmenters:\njwt:\n  aud: ~");
    let config = load_ok(&text).config;
    assert_eq!(config.auth.timeout_in_ms, 5000);
    assert!(config.augmenters.is_empty());
    assert_eq!(config.jwt.aud, None);
}

#[test]
fn yaml_anchors_are_followed() {
    let text = format!(
        "{MINIMAL}      - username: bob
        password: builder
        roles: &staff [staff]
      - username: carol
        password: singer
        roles: *staff
"
    );
    let config = load_ok(&text).config;
    let ProviderConfig::Plain(plain) = &config.providers[0] else {
        panic!("expected a plain provider");
    };
    assert_eq!(plain.users[2].roles, ["staff"]);
}

#[test]
fn load_file_reads_the_file() {
    let path =
        std::env::temp_dir().join(format!("authotron-config-test-{}.yaml", std::process::id()));
    std::fs::write(&path, MINIMAL).expect("write fixture");
    let loaded = load_file(&path, None);
    std::fs::remove_file(&path).ok();
    assert_eq!(loaded.expect("loads").config.providers.len(), 1);
}

#[test]
fn store_backends_and_limits() {
    let text = format!(
        "{MINIMAL}store:\n  enabled: true\n  type: sqlite\n  path: tokens.db\n  cache_ttl_seconds: 0\n"
    );
    let store = load_ok(&text).config.store.expect("store");
    // Relative to the YAML file, like `http.ca_file`.
    let expected = Path::new(FILE).parent().unwrap().join("tokens.db");
    assert_eq!(
        store.backend,
        Some(StoreBackend::Sqlite {
            path: expected.to_string_lossy().into_owned()
        })
    );
    assert_eq!(
        (store.default_expiry_seconds, store.max_expiry_seconds),
        (30 * 24 * 3600, 365 * 24 * 3600)
    );
    assert_eq!((store.cache_ttl_seconds, store.timeout_ms), (0, 2000));

    let text = format!(
        "{MINIMAL}store:\n  enabled: true\n  type: postgres\n  uri: postgresql://aot:pw@db:5432/aot\n  pool_size: 8\n  default_expiry_seconds: 60\n  max_expiry_seconds: 60\n"
    );
    let store = load_ok(&text).config.store.expect("store");
    assert_eq!(
        store.backend,
        Some(StoreBackend::Postgres {
            uri: "postgresql://aot:pw@db:5432/aot".into(),
            pool_size: 8
        })
    );
    assert_eq!(
        (store.default_expiry_seconds, store.max_expiry_seconds),
        (60, 60)
    );
    assert!(!format!("{store:?}").contains("pw@"));
}

/// With the worker user known (as NGINX's binding passes it), an unusable SQLite directory is
/// a load error at the line of `store.path` that names the directory and the user.
#[test]
fn the_sqlite_directory_is_checked_for_the_worker_user() {
    let dir = std::env::temp_dir().join(format!("authotron-store-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("authotron.yaml");
    let write = |store_path: &str| {
        let text = MINIMAL.replace(
            "jwt:",
            &format!("store:\n  enabled: true\n  type: sqlite\n  path: {store_path}\njwt:"),
        );
        std::fs::write(&path, &text).unwrap();
        text
    };
    let me = WorkerUser::current();

    let text = write("missing/tokens.db");
    let err = load_file(&path, Some(&me)).unwrap_err();
    assert_eq!(err.line(), Some(line_of(&text, "path: missing")));
    assert_eq!(err.key_path(), Some("store.path"));
    assert!(err.message().ends_with("missing\" does not exist"), "{err}");

    write("tokens.db");
    assert!(load_file(&path, Some(&me)).is_ok());
    assert!(load_file(&path, None).is_ok());

    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stranger = WorkerUser {
        name: "stranger".into(),
        uid: std::fs::metadata(&dir).unwrap().uid().wrapping_add(4321),
        gid: 4321,
        groups: Vec::new(),
        by_default: false,
    };
    let text = write("tokens.db");
    let err = load_file(&path, Some(&stranger)).unwrap_err();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(err.line(), Some(line_of(&text, "path: tokens.db")));
    assert!(err.message().contains("worker user \"stranger\""), "{err}");
}

#[test]
fn the_guard_is_off_by_default_and_kinds_inherit_the_top_level_limit() {
    let off = load_ok(MINIMAL).config.guard;
    assert_eq!(off, GuardSettings::default());
    assert!(!off.enabled);
    let text = format!(
        "{MINIMAL}guard: {{ enabled: true, max_failures: 7, window_seconds: 30, subjects: 100, address: {{ max_failures: 50 }}, bearer: {{ window_seconds: 5 }} }}\n"
    );
    let guard = load_ok(&text).config.guard;
    assert!(guard.enabled);
    assert_eq!(guard.subjects, 100);
    let limit = |max_failures, window_seconds| Limit {
        max_failures,
        window_seconds,
    };
    assert_eq!(guard.basic, limit(7, 30));
    assert_eq!(guard.bearer, limit(7, 5));
    assert_eq!(guard.address, limit(50, 30));
}
