use super::*;

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/t/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub(crate) fn signing(algorithm: SigningAlgorithm, name: &str) -> SigningKey {
    SigningKey::from_pem(algorithm, &fixture(name)).unwrap()
}

fn public(name: &str) -> PublicKey {
    PublicKey::from_pem(&fixture(name)).unwrap()
}

#[test]
fn each_algorithm_reads_its_key_and_derives_the_published_public_key() {
    use SigningAlgorithm::*;
    for (algorithm, private, public_file) in [
        (RS256, "sign-rsa-1.pem", "sign-rsa-1.pub.pem"),
        (RS256, "sign-rsa-1.pkcs1.pem", "sign-rsa-1.pub.pem"),
        (RS256, "sign-rsa-2.pem", "sign-rsa-2.pub.pem"),
        (ES256, "sign-ec-1.pem", "sign-ec-1.pub.pem"),
        (ES256, "sign-ec-1.sec1.pem", "sign-ec-1.pub.pem"),
        (EdDSA, "sign-ed-1.pem", "sign-ed-1.pub.pem"),
    ] {
        let key = signing(algorithm, private);
        assert_eq!(key.algorithm(), algorithm, "{private}");
        assert_eq!(key.public_key(), &public(public_file), "{private}");
    }
}

#[test]
fn public_numbers_have_their_sizes() {
    match public("sign-rsa-1.pub.pem") {
        PublicKey::Rsa { n, e } => {
            assert_eq!(n.len(), 256);
            assert_eq!(e, [1, 0, 1]);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(public("sign-ec-1.pub.pem"),
        PublicKey::P256 { x, y } if x.len() == 32 && y.len() == 32));
    assert!(matches!(public("sign-ed-1.pub.pem"), PublicKey::Ed25519 { x } if x.len() == 32));
}

#[test]
fn a_key_of_another_type_is_refused_with_both_types_named() {
    use SigningAlgorithm::*;
    for (algorithm, file, message) in [
        (
            RS256,
            "sign-ec-1.pem",
            "jwt.algorithm RS256 needs an RSA key; this file holds a P-256 EC key",
        ),
        (
            ES256,
            "sign-rsa-1.pkcs1.pem",
            "jwt.algorithm ES256 needs a P-256 EC key; this file holds an RSA key",
        ),
        (
            ES256,
            "sign-ec-p384.pem",
            "jwt.algorithm ES256 needs a P-256 EC key; this file holds a P-384 EC key",
        ),
        (
            EdDSA,
            "sign-ec-1.sec1.pem",
            "jwt.algorithm EdDSA needs an Ed25519 key; this file holds a P-256 EC key",
        ),
        (
            RS256,
            "sign-ed-1.pem",
            "jwt.algorithm RS256 needs an RSA key; this file holds an Ed25519 key",
        ),
    ] {
        let err = SigningKey::from_pem(algorithm, &fixture(file)).unwrap_err();
        assert_eq!(err, message, "{file}");
    }
}

#[test]
fn unusable_files_are_refused_without_quoting_them() {
    let rs = |pem: &[u8]| SigningKey::from_pem(SigningAlgorithm::RS256, pem).unwrap_err();
    assert_eq!(
        rs(&fixture("sign-rsa-1024.pem")),
        "the RSA key is too small (2048 bits at least)"
    );
    assert_eq!(
        rs(&fixture("sign-rsa-1.pub.pem")),
        "holds a public key, not a private key"
    );
    assert!(rs(b"").starts_with("no PEM block found"));
    assert!(rs(b"just some text\n").starts_with("no PEM block found"));
    let encrypted =
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert!(rs(encrypted).starts_with("the private key is encrypted"));
    // A PKCS#8 RSA key with its middle cut out: structure intact up to the key, key broken.
    let good = String::from_utf8(fixture("sign-rsa-1.pem")).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let cut = [&lines[..4], &lines[lines.len() - 4..]].concat().join("\n");
    let err = rs(cut.as_bytes());
    assert!(
        err.starts_with("cannot read the private key") || err.starts_with("the key is not usable"),
        "{err}"
    );
    assert!(!err.contains(lines[1]));
    assert_eq!(
        SigningKey::from_pem(SigningAlgorithm::HS256, &fixture("sign-rsa-1.pem")).unwrap_err(),
        "HS256 signs with jwt.secret, not a key file"
    );
}

#[test]
fn public_key_files_must_hold_a_supported_public_key() {
    assert_eq!(
        PublicKey::from_pem(&fixture("sign-rsa-1.pem")).unwrap_err(),
        "holds a private key; give its public key (openssl pkey -in KEY -pubout)"
    );
    assert_eq!(
        PublicKey::from_pem(&fixture("sign-ec-p384.pub.pem")).unwrap_err(),
        "cannot read the public key: this is a P-384 EC key; keys must be RSA, P-256 EC or Ed25519"
    );
    assert!(PublicKey::from_pem(b"").is_err());
}

#[test]
fn pkcs1_public_keys_are_read_too() {
    let PublicKey::Rsa { n, e } = public("sign-rsa-1.pub.pem") else {
        panic!()
    };
    let mut body = Vec::new();
    let mut with_sign = vec![0];
    with_sign.extend_from_slice(&n);
    der::write(&mut body, der::TAG_INTEGER, &with_sign);
    der::write(&mut body, der::TAG_INTEGER, &e);
    let mut seq = Vec::new();
    der::write(&mut seq, der::TAG_SEQUENCE, &body);
    let pem = format!(
        "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(&seq)
    );
    assert_eq!(
        PublicKey::from_pem(pem.as_bytes()).unwrap(),
        public("sign-rsa-1.pub.pem")
    );
}

/// RFC 7638 §3.1.
#[test]
fn thumbprint_matches_the_rfc_example() {
    let n = URL_SAFE_NO_PAD
        .decode(concat!(
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs",
            "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn",
            "1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ))
        .unwrap();
    let key = PublicKey::Rsa {
        n,
        e: vec![1, 0, 1],
    };
    assert_eq!(
        key.thumbprint(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn jwks_members_follow_the_key_type() {
    let rsa = serde_json::to_value(public("sign-rsa-1.pub.pem").jwk("r")).unwrap();
    assert_eq!(rsa["kty"], "RSA");
    assert_eq!(rsa["alg"], "RS256");
    assert_eq!(rsa["use"], "sig");
    assert_eq!(rsa["kid"], "r");
    assert_eq!(rsa["e"], "AQAB");
    assert!(rsa.get("crv").is_none() && rsa.get("x").is_none());
    let ec = serde_json::to_value(public("sign-ec-1.pub.pem").jwk("e")).unwrap();
    assert_eq!(
        (ec["kty"].as_str(), ec["crv"].as_str(), ec["alg"].as_str()),
        (Some("EC"), Some("P-256"), Some("ES256"))
    );
    assert_eq!(ec["x"].as_str().unwrap().len(), 43);
    assert_eq!(ec["y"].as_str().unwrap().len(), 43);
    let ed = serde_json::to_value(public("sign-ed-1.pub.pem").jwk("d")).unwrap();
    assert_eq!(
        (ed["kty"].as_str(), ed["crv"].as_str(), ed["alg"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    assert!(ed.get("y").is_none() && ed.get("n").is_none());
}

#[test]
fn debug_output_never_shows_the_private_key() {
    let shown = format!("{:?}", signing(SigningAlgorithm::ES256, "sign-ec-1.pem"));
    assert!(
        shown.contains("ES256") && shown.contains("<redacted>"),
        "{shown}"
    );
}
