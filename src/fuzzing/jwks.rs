//! JWKS documents as an identity service serves them at `cert_uri`.
//!
//! Input: the body of the answer.

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};

use crate::http::MAX_ANSWER_BYTES;
use crate::providers::jwks::key_set;
use crate::providers::jwt::key_fits;

const ALGORITHMS: &[Algorithm] = &[
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

pub fn jwks(data: &[u8]) {
    // Larger answers are refused before they are read.
    if data.len() > MAX_ANSWER_BYTES {
        return;
    }
    let body = serde_json::from_slice(data).ok();
    let Ok(keys) = key_set(body.as_ref()) else {
        return;
    };
    let listed = body
        .as_ref()
        .and_then(|b| b.get("keys"))
        .and_then(|k| k.as_array())
        .map_or(0, Vec::len);
    assert!(keys.len() <= listed, "more keys than the document lists");
    for key in keys.iter() {
        // What a key becomes is what it said: it reads back as itself.
        let text = serde_json::to_string(key).expect("a parsed key serializes");
        let again: Jwk = serde_json::from_str(&text).expect("a serialized key parses");
        assert_eq!(&again, key);
        // What validating a token does with each key must not panic, whatever it holds.
        for &alg in ALGORITHMS {
            if key_fits(key, alg) {
                let _ = DecodingKey::from_jwk(key);
            }
        }
    }
}
