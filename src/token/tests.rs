use super::keys::{tests::signing, PublicKey, SigningAlgorithm};
use super::*;
use crate::config::VerificationKey;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::Value;

const SECRET: &str = "a-secret-long-enough-for-hs256-tests";

fn settings(aud: Option<&str>) -> JwtSettings {
    JwtSettings {
        iss: "authotron-test".into(),
        exp: 3600,
        secret: Some(SECRET.into()),
        aud: aud.map(str::to_owned),
        algorithm: SigningAlgorithm::HS256,
        kid: None,
        private_key: None,
        verification_keys: Vec::new(),
    }
}

fn keyed(algorithm: SigningAlgorithm, file: &str, kid: &str) -> JwtSettings {
    JwtSettings {
        secret: None,
        algorithm,
        kid: Some(kid.into()),
        private_key: Some(signing(algorithm, file)),
        ..settings(None)
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn decoded(token: &str, aud: Option<&str>) -> Value {
    let mut validation = Validation::new(Algorithm::HS256);
    match aud {
        Some(a) => validation.set_audience(&[a]),
        None => validation.validate_aud = false,
    }
    decode::<Value>(
        token,
        &DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims
}

fn alice() -> User {
    let mut u = User::new("alice", "internal", vec!["admin".into()]);
    u.attributes.insert("team".into(), "ops".into());
    u
}

fn mint(settings: &JwtSettings, user: &User, t: i64) -> String {
    Minter::new(settings)
        .mint(user, t)
        .unwrap()
        .token
        .to_string()
}

/// Verifies `token` as a backend would: the key named by its `kid` in the published set.
fn verify_with_jwks(minter: &Minter, token: &str) -> Value {
    let set: JwkSet = serde_json::from_slice(&minter.jwks()).unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwk = set
        .find(header.kid.as_deref().unwrap())
        .expect("kid in the JWKS");
    let mut validation = Validation::new(header.alg);
    validation.validate_aud = false;
    decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

#[test]
fn round_trips_with_upstream_claims() {
    let t = now();
    let token = mint(&settings(None), &alice(), t);
    let claims = decoded(&token, None);
    assert_eq!(claims["iss"], "authotron-test");
    assert_eq!(claims["username"], "alice");
    assert_eq!(claims["sub"], "internal-alice");
    assert_eq!(claims["realm"], "internal");
    assert_eq!(claims["roles"], serde_json::json!(["admin"]));
    assert_eq!(claims["scopes"], serde_json::json!({}));
    assert_eq!(claims["attributes"], serde_json::json!({"team": "ops"}));
    assert_eq!(claims["iat"], t);
    assert_eq!(claims["exp"], t + 3600);
    assert!(claims.get("aud").is_none());
    let keys: Vec<_> = claims.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 9);
}

#[test]
fn header_is_plain_hs256() {
    let token = mint(&settings(None), &alice(), now());
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert!(header.kid.is_none());
}

/// The same bytes as upstream's library (jsonwebtoken's default header, serde's claims).
#[test]
fn hs256_tokens_are_byte_for_byte_upstreams() {
    let t = now();
    let user = alice();
    let minter = Minter::new(&settings(None));
    let claims = Claims {
        sub: "internal-alice".into(),
        iss: "authotron-test",
        exp: t + 3600,
        iat: t,
        roles: &user.roles,
        username: &user.username,
        scopes: &user.scopes,
        realm: &user.realm,
        attributes: &user.attributes,
        aud: None,
    };
    let theirs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert_eq!(&*minter.mint(&user, t).unwrap().token, theirs);
}

#[test]
fn exp_attribute_caps_the_lifetime() {
    let t = now();
    let mut user = alice();
    user.attributes.insert("exp".into(), (t + 1800).to_string());
    let token = mint(&settings(None), &user, t);
    assert_eq!(decoded(&token, None)["exp"], t + 1800);

    // A later source expiry does not extend ours; a non-number is ignored.
    user.attributes
        .insert("exp".into(), (t + 99_999).to_string());
    assert_eq!(Minter::new(&settings(None)).expiry(&user, t), t + 3600);
    user.attributes.insert("exp".into(), "soon".into());
    assert_eq!(Minter::new(&settings(None)).expiry(&user, t), t + 3600);
}

#[test]
fn a_fractional_exp_attribute_caps_the_lifetime_rounded_down() {
    let t = now();
    let mut user = alice();
    // `{t}.5`, and t + 1800 written as `<tenth>e1`.
    let tenth = (t + 1800) as f64 / 10.0;
    for (exp, want) in [(format!("{t}.5"), t), (format!("{tenth}e1"), t + 1800)] {
        user.attributes.insert("exp".into(), exp.clone());
        let token = mint(&settings(None), &user, t);
        assert_eq!(decoded(&token, None)["exp"], want, "{exp}");
    }
}

#[test]
fn audience_is_emitted_when_configured() {
    let token = mint(&settings(Some("polytope")), &alice(), now());
    assert_eq!(decoded(&token, Some("polytope"))["aud"], "polytope");
}

#[test]
fn hs256_publishes_an_empty_key_set() {
    assert_eq!(Minter::new(&settings(None)).jwks(), br#"{"keys":[]}"#);
}

#[test]
fn a_kid_is_put_in_an_hs256_header_only_when_configured() {
    let with_kid = JwtSettings {
        kid: Some("hs-1".into()),
        ..settings(None)
    };
    let token = mint(&with_kid, &alice(), now());
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.kid.as_deref(), Some("hs-1"));
    assert_eq!(decoded(&token, None)["username"], "alice");
    assert_eq!(Minter::new(&with_kid).jwks(), br#"{"keys":[]}"#);
}

#[test]
fn each_algorithm_signs_tokens_that_verify_with_the_published_key() {
    use SigningAlgorithm::*;
    for (algorithm, file, alg) in [
        (RS256, "sign-rsa-1.pem", Algorithm::RS256),
        (RS256, "sign-rsa-1.pkcs1.pem", Algorithm::RS256),
        (ES256, "sign-ec-1.pem", Algorithm::ES256),
        (ES256, "sign-ec-1.sec1.pem", Algorithm::ES256),
        (EdDSA, "sign-ed-1.pem", Algorithm::EdDSA),
    ] {
        let t = now();
        let minter = Minter::new(&JwtSettings {
            aud: Some("polytope".into()),
            ..keyed(algorithm, file, "key-1")
        });
        let token = minter.mint(&alice(), t).unwrap().token;
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, alg, "{file}");
        assert_eq!(header.kid.as_deref(), Some("key-1"), "{file}");
        assert_eq!(header.typ.as_deref(), Some("JWT"), "{file}");
        let claims = verify_with_jwks(&minter, &token);
        assert_eq!(claims["sub"], "internal-alice", "{file}");
        assert_eq!(claims["aud"], "polytope", "{file}");
        assert_eq!(claims["exp"], t + 3600, "{file}");

        let jwks: Value = serde_json::from_slice(&minter.jwks()).unwrap();
        let only = &jwks["keys"].as_array().unwrap()[..];
        assert_eq!(only.len(), 1, "{file}");
        assert_eq!(only[0]["kid"], "key-1");
        assert_eq!(only[0]["alg"], algorithm.name());
        assert_eq!(only[0]["use"], "sig");
    }
}

#[test]
fn a_token_does_not_verify_with_another_published_key() {
    let minter = Minter::new(&keyed(SigningAlgorithm::RS256, "sign-rsa-1.pem", "k"));
    let token = minter.mint(&alice(), now()).unwrap().token;
    let other = Minter::new(&keyed(SigningAlgorithm::RS256, "sign-rsa-2.pem", "k"));
    let set: JwkSet = serde_json::from_slice(&other.jwks()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_aud = false;
    let key = DecodingKey::from_jwk(&set.keys[0]).unwrap();
    assert!(decode::<Value>(&token, &key, &validation).is_err());
}

#[test]
fn verification_keys_are_published_after_the_signing_key_and_never_sign() {
    let old = PublicKey::from_pem(&keys::tests::fixture("sign-rsa-2.pub.pem")).unwrap();
    let ed = PublicKey::from_pem(&keys::tests::fixture("sign-ed-1.pub.pem")).unwrap();
    let minter = Minter::new(&JwtSettings {
        verification_keys: vec![
            VerificationKey {
                kid: "old".into(),
                key: old,
            },
            VerificationKey {
                kid: "next-ed".into(),
                key: ed,
            },
        ],
        ..keyed(SigningAlgorithm::RS256, "sign-rsa-1.pem", "current")
    });
    let jwks: Value = serde_json::from_slice(&minter.jwks()).unwrap();
    let kids: Vec<_> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kid"].as_str().unwrap(), k["alg"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kids,
        [("current", "RS256"), ("old", "RS256"), ("next-ed", "EdDSA")]
    );
    let token = minter.mint(&alice(), now()).unwrap().token;
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(),
        Some("current")
    );
    assert_eq!(verify_with_jwks(&minter, &token)["username"], "alice");
}

#[test]
fn hs256_migrating_to_a_key_publishes_only_the_coming_key() {
    let next = PublicKey::from_pem(&keys::tests::fixture("sign-ec-1.pub.pem")).unwrap();
    let minter = Minter::new(&JwtSettings {
        verification_keys: vec![VerificationKey {
            kid: "next".into(),
            key: next,
        }],
        ..settings(None)
    });
    let jwks: Value = serde_json::from_slice(&minter.jwks()).unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kid"], "next");
    assert!(jwks.to_string().find(SECRET).is_none());
}

#[test]
fn reuse_lasts_half_the_lifetime_and_never_longer() {
    let t = 1_700_000_000;
    let minted = |exp| Minted {
        token: "t".into(),
        issued_at: t,
        expires_at: exp,
    };
    // jwt.exp 600: handed out for 300 s, i.e. while more than 300 s are left.
    let m = minted(t + 600);
    assert_eq!(m.reuse_until(), t + 300);
    assert!(m.reusable_at(t));
    assert!(m.reusable_at(t + 299));
    assert!(!m.reusable_at(t + 300));
    assert!(!m.reusable_at(t + 10_000));
    // The clock went back: a token issued "in the future" is not handed out.
    assert!(!m.reusable_at(t - 1));
    // Capped by an `exp` attribute to 61 s: half of that, rounded down.
    let capped = minted(t + 61);
    assert_eq!(capped.reuse_until(), t + 30);
    assert!(capped.reusable_at(t + 29) && !capped.reusable_at(t + 30));
    // Lifetimes of a second or less, or already expired sources: only within the second.
    for exp in [t + 1, t, t - 50] {
        let short = minted(exp);
        assert!(short.reusable_at(t));
        assert!(!short.reusable_at(t + 1));
    }
}

#[test]
fn reuse_window_leaves_more_than_half_the_lifetime_to_every_token_served() {
    for lifetime in [1, 2, 3, 59, 60, 61, 600, 3600] {
        let m = Minted {
            token: "t".into(),
            issued_at: 0,
            expires_at: lifetime,
        };
        for now in 0..m.reuse_until() {
            assert!(m.reusable_at(now));
            let left = lifetime - now;
            assert!(2 * left > lifetime, "{lifetime} {now}");
        }
        assert!(!m.reusable_at(m.reuse_until()));
    }
}
