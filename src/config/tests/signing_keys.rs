//! `jwt.algorithm`, `jwt.private_key`, `jwt.kid` and `jwt.verification_keys`: key files are read
//! while loading, and every mistake names its line.

use super::*;
use crate::token::keys::SigningAlgorithm;

fn keys_dir() -> String {
    format!("{}/t/fixtures/keys", env!("CARGO_MANIFEST_DIR"))
}

/// [`MINIMAL`] with its `jwt` section replaced by `jwt` (lines indented under `jwt:`), `KEYS`
/// standing for the fixture key directory.
fn with_jwt(jwt: &str) -> String {
    let jwt = jwt.replace("KEYS", &keys_dir());
    let mut text =
        String::from("version: \"2.0.0\"\njwt:\n  iss: auth-o-tron.example.com\n  exp: 3600\n");
    for line in jwt.lines() {
        text.push_str("  ");
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(alice_provider!());
    text
}

#[test]
fn rs256_reads_its_key_and_defaults_the_kid_to_the_thumbprint() {
    let text = with_jwt("algorithm: RS256\nprivate_key: KEYS/sign-rsa-1.pem");
    let loaded = load_ok(&text);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let jwt = &loaded.config.jwt;
    assert_eq!(jwt.algorithm, SigningAlgorithm::RS256);
    assert_eq!(jwt.secret, None);
    let key = jwt.private_key.as_ref().expect("parsed");
    assert_eq!(
        jwt.kid.as_deref(),
        Some(key.public_key().thumbprint().as_str())
    );
    assert_eq!(jwt.kid.as_deref().map(str::len), Some(43));
}

#[test]
fn each_algorithm_takes_an_explicit_kid_and_verification_keys() {
    for (algorithm, file) in [
        ("RS256", "sign-rsa-1.pkcs1.pem"),
        ("ES256", "sign-ec-1.pem"),
        ("ES256", "sign-ec-1.sec1.pem"),
        ("EdDSA", "sign-ed-1.pem"),
    ] {
        let text = with_jwt(&format!(
            "algorithm: {algorithm}\nprivate_key: KEYS/{file}\nkid: current\nverification_keys:\n  - {{ kid: old, public_key: KEYS/sign-rsa-2.pub.pem }}\n  - public_key: KEYS/sign-ed-1.pub.pem"
        ));
        let text = if algorithm == "EdDSA" {
            text.replace("sign-ed-1.pub.pem", "sign-ec-1.pub.pem")
        } else {
            text
        };
        let jwt = load_ok(&text).config.jwt;
        assert_eq!(jwt.algorithm.name(), algorithm);
        assert_eq!(jwt.kid.as_deref(), Some("current"));
        assert_eq!(jwt.verification_keys.len(), 2, "{file}");
        assert_eq!(jwt.verification_keys[0].kid, "old");
        let second = &jwt.verification_keys[1];
        assert_eq!(second.kid, second.key.thumbprint());
    }
}

#[test]
fn relative_key_paths_are_relative_to_the_yaml_file() {
    let text = with_jwt(
        "algorithm: ES256\nprivate_key: keys/sign-ec-1.pem\nverification_keys: [ { public_key: ./keys/sign-rsa-2.pub.pem } ]",
    );
    let yaml = format!("{}/t/fixtures/authotron.yaml", env!("CARGO_MANIFEST_DIR"));
    let loaded = load(Path::new(&yaml), &text, no_env()).unwrap();
    assert_eq!(loaded.config.jwt.verification_keys.len(), 1);
    // The same text elsewhere names the missing file, resolved.
    let err = load_err(&text);
    assert_eq!(err.key_path(), Some("jwt.private_key"));
    assert!(
        err.message()
            .starts_with("cannot read /etc/nginx/keys/sign-ec-1.pem: "),
        "{err}"
    );
    assert_after(&err, &text, "private_key: ");
}

#[test]
fn hs256_stays_the_default_and_needs_its_secret() {
    let loaded = load_ok(MINIMAL);
    let jwt = &loaded.config.jwt;
    assert_eq!(jwt.algorithm, SigningAlgorithm::HS256);
    assert_eq!((jwt.kid.as_ref(), jwt.private_key.as_ref()), (None, None));

    let text = with_jwt("algorithm: HS256");
    let err = load_err(&text);
    assert_eq!(err.key_path(), Some("jwt"));
    assert_eq!(err.message(), "missing field `secret`");
}

#[test]
fn mistakes_in_the_jwt_section_are_refused_on_their_line() {
    let cases = [
        (
            "algorithm: RS512\nsecret: \"0123456789abcdef0123456789abcdef\"",
            "jwt.algorithm",
            "unsupported algorithm `RS512`; expected HS256, RS256, ES256 or EdDSA",
            "algorithm: ",
        ),
        (
            "algorithm: ES256",
            "jwt",
            "missing field `private_key` (jwt.algorithm ES256 signs with a private key)",
            "iss: ",
        ),
        (
            "secret: \"0123456789abcdef0123456789abcdef\"\nprivate_key: KEYS/sign-rsa-1.pem",
            "jwt.private_key",
            "needs jwt.algorithm RS256, ES256 or EdDSA; jwt.algorithm is HS256",
            "private_key: ",
        ),
        (
            "algorithm: ES256\nprivate_key: KEYS/sign-rsa-1.pem",
            "jwt.private_key",
            "KEYS/sign-rsa-1.pem: jwt.algorithm ES256 needs a P-256 EC key; this file holds an RSA key",
            "private_key: ",
        ),
        (
            "algorithm: EdDSA\nprivate_key: KEYS/sign-ed-1.pub.pem",
            "jwt.private_key",
            "KEYS/sign-ed-1.pub.pem: holds a public key, not a private key",
            "private_key: ",
        ),
        (
            "algorithm: RS256\nprivate_key: KEYS/../jwks/default.json",
            "jwt.private_key",
            "KEYS/../jwks/default.json: no PEM block found (expected -----BEGIN PRIVATE KEY-----)",
            "private_key: ",
        ),
        (
            "algorithm: RS256\nprivate_key: KEYS/sign-rsa-1024.pem",
            "jwt.private_key",
            "KEYS/sign-rsa-1024.pem: the RSA key is too small (2048 bits at least)",
            "private_key: ",
        ),
        (
            "algorithm: RS256\nprivate_key: KEYS/sign-rsa-1.pem\nkid: \"\"",
            "jwt.kid",
            "must be non-empty text without control characters",
            "kid: ",
        ),
        (
            "algorithm: RS256\nprivate_key: KEYS/sign-rsa-1.pem\nverification_keys:\n  - public_key: KEYS/sign-rsa-2.pem",
            "jwt.verification_keys[0].public_key",
            "KEYS/sign-rsa-2.pem: holds a private key; give its public key (openssl pkey -in KEY -pubout)",
            "public_key: ",
        ),
        (
            "algorithm: RS256\nprivate_key: KEYS/sign-rsa-1.pem\nverification_keys:\n  - public_key: KEYS/sign-ec-p384.pub.pem",
            "jwt.verification_keys[0].public_key",
            "KEYS/sign-ec-p384.pub.pem: cannot read the public key: this is a P-384 EC key; keys must be RSA, P-256 EC or Ed25519",
            "public_key: ",
        ),
        (
            "algorithm: RS256\nprivate_key: KEYS/sign-rsa-1.pem\nverification_keys:\n  - kid: x\n    public_key: KEYS/sign-rsa-1.pub.pem",
            "jwt.verification_keys[0].public_key",
            "is the public key of jwt.private_key, which is published anyway; remove this entry",
            "public_key: ",
        ),
        (
            "algorithm: RS256\nprivate_key: KEYS/sign-rsa-1.pem\nverification_keys:\n  - public_key: KEYS/sign-ec-1.pub.pem\n  - public_key: KEYS/sign-ec-1.pub.pem",
            "jwt.verification_keys[1].public_key",
            "the same key as jwt.verification_keys[0]",
            "public_key: KEYS/sign-ec-1.pub.pem",
        ),
        (
            "algorithm: RS256\nprivate_key: KEYS/sign-rsa-1.pem\nkid: k1\nverification_keys:\n  - { public_key: KEYS/sign-rsa-2.pub.pem, kid: k1 }",
            "jwt.verification_keys[0].kid",
            "kid `k1` is already the kid of the signing key (jwt.private_key); every published key needs its own",
            "kid: k1 }",
        ),
        (
            "algorithm: RS256\nprivate_key: KEYS/sign-rsa-1.pem\nverification_keys:\n  - { public_key: KEYS/sign-rsa-2.pub.pem, kid: k2 }\n  - { public_key: KEYS/sign-ec-1.pub.pem, kid: k2 }",
            "jwt.verification_keys[1].kid",
            "kid `k2` is already the kid of jwt.verification_keys[0]; every published key needs its own",
            "kid: k2 }",
        ),
    ];
    for (jwt, key_path, message, at) in cases {
        let text = with_jwt(jwt);
        let err = load_err(&text);
        assert_eq!(err.key_path(), Some(key_path), "{jwt}");
        assert_eq!(err.message(), message.replace("KEYS", &keys_dir()), "{jwt}");
        // The line of the last occurrence of `at`.
        let at = at.replace("KEYS", &keys_dir());
        let start = text.rfind(&at).unwrap();
        let line = text[..start].matches('\n').count() + 1;
        assert_eq!(err.line(), Some(line), "{err}");
    }
}

#[test]
fn a_missing_key_file_is_named() {
    let text = with_jwt("algorithm: RS256\nprivate_key: /nonexistent/key.pem");
    let err = load_err(&text);
    assert!(
        err.to_string().starts_with(
            "/etc/nginx/authotron.yaml:6:16: jwt.private_key: cannot read /nonexistent/key.pem: "
        ),
        "{err}"
    );
}

#[test]
fn a_secret_beside_a_private_key_is_reported_unused() {
    let text = with_jwt(
        "algorithm: EdDSA\nprivate_key: KEYS/sign-ed-1.pem\nsecret: \"0123456789abcdef0123456789abcdef\"",
    );
    let loaded = load_ok(&text);
    assert_eq!(loaded.config.jwt.secret, None);
    assert_eq!(loaded.warnings.len(), 1);
    assert!(
        loaded.warnings[0]
            .ends_with("`jwt.secret` is not used: jwt.algorithm EdDSA signs with jwt.private_key"),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn keys_can_come_from_the_environment() {
    let dir = keys_dir();
    let loaded = load(
        Path::new(FILE),
        MINIMAL,
        env(&[
            ("AOT_JWT__ALGORITHM", "ES256"),
            ("AOT_JWT__PRIVATE_KEY", &format!("{dir}/sign-ec-1.pem")),
            ("AOT_JWT__KID", "from-env"),
        ]),
    )
    .unwrap();
    assert_eq!(loaded.config.jwt.kid.as_deref(), Some("from-env"));
    let err = load(
        Path::new(FILE),
        MINIMAL,
        env(&[
            ("AOT_JWT__ALGORITHM", "ES256"),
            ("AOT_JWT__PRIVATE_KEY", &format!("{dir}/sign-ed-1.pem")),
        ]),
    )
    .unwrap_err();
    assert_eq!(err.env_var(), Some("AOT_JWT__PRIVATE_KEY"));
    assert!(
        err.message().ends_with("this file holds an Ed25519 key"),
        "{err}"
    );
}

#[test]
fn debug_output_shows_no_key_material() {
    let text = with_jwt("algorithm: RS256\nprivate_key: KEYS/sign-rsa-1.pkcs1.pem");
    let shown = format!("{:?}", load_ok(&text).config);
    let pem = std::fs::read_to_string(format!("{}/sign-rsa-1.pkcs1.pem", keys_dir())).unwrap();
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!shown.contains(line));
    }
    assert!(shown.contains("private: \"<redacted>\""), "{shown}");
}
