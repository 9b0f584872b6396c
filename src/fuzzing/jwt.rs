//! JWTs from clients: the header (algorithm, `kid`, `crit`) and the claims, read before and
//! after the signature check, and what a `jwt` provider accepts.
//!
//! Input: a token as sent, or `sign` on the first line, then a header JSON line and the claims
//! JSON: the harness then signs them with the HMAC key of the fixture key set, so that the
//! fuzzer reaches the claim checks behind a valid signature, which it could never forge.

use std::sync::{Arc, LazyLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value};

use super::text;
use crate::config::{HttpSettings, JwtChecks, DEFAULT_ALGORITHMS};
use crate::domain::{unix_now, ProviderVerdict, User};
use crate::http::IdentityClient;
use crate::providers::claims::user_from_claims;
use crate::providers::jwt::{has_critical_header, pick_key, JwtValidator};
use crate::providers::ProviderContext;

const PROVIDER: &str = "fuzz-jwt";
const REALM: &str = "fuzz-realm";
const ISS: &str = "https://idp.example/realms/fuzz";
const AUD: &str = "fuzz-audience";
const LEEWAY: u64 = 60;

/// The unit tests' key set: RSA, EC P-256 and P-384, Ed25519, and the `oct` key `hmac-1`.
static KEYS: LazyLock<Vec<Jwk>> = LazyLock::new(|| {
    let set: Value = serde_json::from_str(include_str!("../providers/testdata/jwks.json"))
        .expect("the fixture key set is JSON");
    serde_json::from_value(set["keys"].clone()).expect("the fixture keys are JWKs")
});

/// A provider that allows every algorithm it has a key for and checks `iss` and `aud`, so
/// that every check can be reached. It never fetches its key set: the harness picks keys.
static VALIDATOR: LazyLock<JwtValidator> = LazyLock::new(|| {
    let http = IdentityClient::new(&HttpSettings::default()).expect("a client without CA file");
    let ctx = ProviderContext::new(Arc::new(http), 1);
    let mut algorithms: Vec<String> = DEFAULT_ALGORITHMS.iter().map(|a| a.to_string()).collect();
    algorithms.push("HS256".into());
    let checks = JwtChecks {
        algorithms,
        allow_hmac: true,
        leeway_seconds: LEEWAY,
        iss: Some(ISS.into()),
        aud: Some(AUD.into()),
        ..JwtChecks::default()
    };
    JwtValidator::new(PROVIDER, REALM, "http://127.0.0.1:9/certs", &checks, &ctx)
});

pub fn jwt(data: &[u8]) {
    let Some(input) = text(data) else {
        return;
    };
    let token = match input.strip_prefix("sign\n") {
        Some(parts) => {
            let (header, claims) = parts.split_once('\n').unwrap_or((parts, ""));
            signed(header, claims)
        }
        None => input.to_owned(),
    };
    if let Some(claims) = payload(&token) {
        claims_alone(&claims);
    }

    let Ok(header) = VALIDATOR.screen(&token) else {
        return;
    };
    assert!(
        !has_critical_header(&token),
        "a `crit` header passed the screen"
    );
    let Some(jwk) = pick_key(&KEYS, header.kid.as_deref()) else {
        return;
    };
    match VALIDATOR.verify(&token, header.alg, jwk) {
        ProviderVerdict::Accepted(user) => accepted(&token, &user),
        ProviderVerdict::Rejected(_) => {}
        ProviderVerdict::AcceptedStoreToken { .. } => panic!("only the token store finds tokens"),
        ProviderVerdict::Unavailable(reason) => panic!("verifying needs no service: {reason}"),
    }
}

/// `header.claims.signature`, signed HS256 with the fixture's `oct` key.
fn signed(header: &str, claims: &str) -> String {
    let secret = KEYS
        .iter()
        .find_map(|k| match &k.algorithm {
            AlgorithmParameters::OctetKey(oct) => URL_SAFE_NO_PAD.decode(&oct.value).ok(),
            _ => None,
        })
        .expect("the fixture has an oct key");
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let key = EncodingKey::from_secret(&secret);
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256)
        .expect("HMAC signing cannot fail");
    format!("{message}.{signature}")
}

/// The claims segment as a JSON object, read independently of jsonwebtoken.
fn payload(token: &str) -> Option<Map<String, Value>> {
    let segment = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).ok()?).ok()
}

/// What the claims give, whatever the signature: the user is named by `preferred_username`
/// or `sub`, and every claim that is not structural becomes a printable attribute.
fn claims_alone(claims: &Map<String, Value>) {
    let Ok(user) = user_from_claims(claims, PROVIDER, REALM) else {
        return;
    };
    let name = claims
        .get("preferred_username")
        .and_then(Value::as_str)
        .or_else(|| claims.get("sub").and_then(Value::as_str));
    assert_eq!(Some(user.username.as_str()), name);
    assert_eq!(user.realm, REALM);
    for (key, value) in &user.attributes {
        assert!(claims.contains_key(key), "attribute {key:?} is no claim");
        assert!(
            !value.chars().any(char::is_control),
            "attribute {key:?} has a control char"
        );
    }
    for structural in [
        "sub",
        "scope",
        "realm_access",
        "resource_access",
        "entitlements",
    ] {
        assert!(!user.attributes.contains_key(structural));
    }
    if let Some(Value::String(scope)) = claims.get("scope") {
        let scopes: Vec<&str> = scope.split_whitespace().collect();
        assert_eq!(user.scopes.get(PROVIDER).map(Vec::len), Some(scopes.len()));
    }
}

/// What an accepted token must have been: readable claims, not expired, not early, from our
/// issuer, for our audience, and the user its claims describe.
fn accepted(token: &str, user: &User) {
    let claims = payload(token).expect("an accepted token has a JSON object as claims");
    let now = unix_now() as f64;
    let leeway = LEEWAY as f64;
    let exp = claims.get("exp").and_then(Value::as_f64);
    assert!(
        exp.is_some_and(|exp| exp + leeway >= now),
        "expired or no exp"
    );
    if let Some(nbf) = claims.get("nbf") {
        assert!(
            nbf.as_f64().is_some_and(|nbf| nbf - leeway <= now),
            "not valid yet"
        );
    }
    let iss = claims.get("iss");
    assert!(names(iss, ISS), "accepted from issuer {iss:?}");
    let aud = claims.get("aud");
    assert!(names(aud, AUD), "accepted for audience {aud:?}");
    assert_eq!(
        user_from_claims(&claims, PROVIDER, REALM).as_ref(),
        Ok(user)
    );
}

/// Whether a claim is `wanted`, or a list that holds it.
fn names(claim: Option<&Value>, wanted: &str) -> bool {
    match claim {
        Some(Value::String(one)) => one == wanted,
        Some(Value::Array(many)) => many.iter().any(|v| v.as_str() == Some(wanted)),
        _ => false,
    }
}
