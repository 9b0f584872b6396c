//! No secret value in any error, warning or `Debug` output.

use super::*;

/// Distinctive values that must never be printed.
const SECRETS: &[&str] = &[
    "Sekrit-Jwt-Key-0123456789abcdef-XYZ",
    "Sekrit-Plain-Password",
    "Sekrit-Client-Secret",
    "Sekrit-Generator-Secret",
    "Sekrit-Ldap-Password",
    "Sekrit-Mongo-Password",
    ARGON2ID,
    BCRYPT,
];

fn assert_no_secret(output: &str) {
    for secret in SECRETS {
        assert!(
            !output.contains(secret),
            "secret {secret:?} leaked in: {output}"
        );
    }
    // Parts of the hashes are enough to leak them too.
    assert!(!output.contains("YBMnEgWKgrb5AGKn7Ln92Vq"), "{output}");
    assert!(!output.contains("4rx5mNFA0SU3Xh63Pb"), "{output}");
}

fn all_secrets_config() -> String {
    full()
        .replace("0123456789abcdef0123456789abcdef", SECRETS[0])
        .replace("password: wonderland", &format!("password: {}", SECRETS[1]))
        .replace("private-client-secret", SECRETS[2])
        .replace("generator-client-secret", SECRETS[3])
        .replace("ldap-bind-password", SECRETS[4])
        .replace(
            "mongodb://db.example.com:27017",
            &format!("mongodb://aot:{}@db.example.com:27017", SECRETS[5]),
        )
        // Unknown keys next to the secrets, so that warnings are produced there.
        .replace("  iss: auth-o-tron", "  isss: x\n  iss: auth-o-tron")
        .replace(
            "      - username: bob",
            "      - usr: x\n        username: bob",
        )
}

#[test]
fn debug_output_redacts_every_secret() {
    let loaded = load_schema_only(&all_secrets_config()).unwrap_or_else(|err| panic!("{err}"));
    // The values are really there...
    assert_eq!(loaded.config.jwt.secret.as_deref(), Some(SECRETS[0]));
    let debug = format!("{loaded:?}");
    let pretty = format!("{:#?}", loaded.config);
    // ...but not in what Debug prints.
    assert_no_secret(&debug);
    assert_no_secret(&pretty);
    assert!(debug.contains("\"<redacted>\""));
    assert_eq!(debug.matches("<redacted>").count(), 8, "{pretty}");
}

#[test]
fn warnings_carry_no_secret() {
    let loaded = load_schema_only(&all_secrets_config()).unwrap_or_else(|err| panic!("{err}"));
    assert!(loaded.warnings.len() >= 3, "{:?}", loaded.warnings);
    for warning in &loaded.warnings {
        assert_no_secret(warning);
    }
    let short = MINIMAL.replace("0123456789abcdef0123456789abcdef", "Sekrit-Short");
    for warning in load_ok(&short).warnings {
        assert!(!warning.contains("Sekrit-Short"), "{warning}");
    }
}

#[test]
fn errors_carry_no_secret() {
    let base = all_secrets_config();
    let broken = [
        // A secret of the wrong type.
        base.replace(
            &format!("secret: \"{}\"", SECRETS[0]),
            "secret: [Sekrit-Jwt-Key-0123456789abcdef-XYZ]",
        ),
        base.replace(
            &format!("password: {}", SECRETS[1]),
            "password: { Sekrit-Plain-Password: 1 }",
        ),
        // A user written as one string.
        base.replace(
            &format!("      - username: alice\n        password: {}", SECRETS[1]),
            "      - \"alice:Sekrit-Plain-Password\"",
        ),
        // Both kinds of password.
        base.replace(
            "        password_hash: \"$argon2id",
            "        password: Sekrit-Plain-Password\n        password_hash: \"$argon2id",
        ),
        // A broken hash.
        base.replace(BCRYPT, &BCRYPT[..59]),
        base.replace(ARGON2ID, &ARGON2ID.replace("$argon2id$", "$argon2i$")),
        // A secret where a number is expected.
        base.replace("exp: 3600", "exp: Sekrit-Plain-Password"),
        base.replace("capacity: 500", "capacity: Sekrit-Plain-Password"),
        // A missing field next to secrets.
        base.replace("    iam_url: https://iam.example.com\n", ""),
        // A YAML syntax error on a secret's line.
        base.replace(
            &format!("password: {}", SECRETS[1]),
            "password: Sekrit-Plain-Password: x",
        ),
        base.replace(
            &format!("secret: \"{}\"", SECRETS[0]),
            "secret: \"Sekrit-Jwt-Key-0123456789abcdef-XYZ",
        ),
        // The LDAP entry: its password of the wrong type, a missing bind DN next to it, and
        // values that are refused (messages name the rule, never the value).
        base.replace(
            &format!("ldap_password: {}", SECRETS[4]),
            "ldap_password: [Sekrit-Ldap-Password]",
        ),
        base.replace("    bind_dn: cn=reader,dc=example,dc=com\n", ""),
        base.replace("\"OU=TeamB\"", "\"Sekrit-Ldap-Password\""),
        base.replace(
            "uri: ldaps://ldap.example.com",
            "uri: \"ldaps://reader:Sekrit-Ldap-Password@[::1\"",
        ),
    ];
    for text in &broken {
        let err = load_schema_only(text).expect_err("the fixture is broken");
        assert_no_secret(&err.to_string());
        assert_no_secret(&format!("{err:?}"));
    }
}

#[test]
fn secrets_from_the_environment_are_not_printed_either() {
    let cases = [
        ("AOT_JWT__EXP", "Sekrit-Plain-Password"),
        ("AOT_JWT__SECRET", "Sekrit-Short"),
        ("AOT_PROVIDERS__0__USERS__0", "Sekrit-Plain-Password"),
        (
            "AOT_PROVIDERS__0__USERS__0__PASSWORD_HASH",
            "Sekrit-Plain-Password",
        ),
    ];
    for (var, value) in cases {
        let result = load(Path::new(FILE), MINIMAL, env(&[(var, value)]));
        let output = match result {
            Ok(loaded) => format!("{:?} {:?}", loaded.warnings, loaded.config),
            Err(err) => format!("{err} {err:?}"),
        };
        assert!(!output.contains(value), "{var} leaked: {output}");
    }
}
