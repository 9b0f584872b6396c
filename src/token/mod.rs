//! Minting the short-lived JWT backends trust (reference §5): HS256 over `jwt.secret`, with
//! upstream's claims, plus `aud` when configured (upstream parses it but never emits it).

use std::collections::BTreeMap;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::auth::user::User;
use crate::config::JwtSettings;

pub struct Minter {
    issuer: String,
    lifetime_secs: i64,
    audience: Option<String>,
    key: EncodingKey,
    header: Header,
}

/// Serialisation order is upstream's.
#[derive(Serialize)]
struct Claims<'a> {
    sub: String,
    iss: &'a str,
    exp: i64,
    iat: i64,
    roles: &'a [String],
    username: &'a str,
    scopes: &'a BTreeMap<String, Vec<String>>,
    realm: &'a str,
    attributes: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
}

impl Minter {
    pub fn new(settings: &JwtSettings) -> Self {
        Minter {
            issuer: settings.iss.clone(),
            lifetime_secs: settings.exp,
            audience: settings.aud.clone(),
            key: EncodingKey::from_secret(settings.secret.as_bytes()),
            header: Header::new(Algorithm::HS256),
        }
    }

    /// The JWK set of the public keys backends verify minted tokens with. An HS256 secret is
    /// shared, never published, so with it the set is empty.
    pub fn jwks(&self) -> Vec<u8> {
        br#"{"keys":[]}"#.to_vec()
    }

    /// Signs a token for `user` issued at `now` (Unix seconds). An `exp` attribute (for example
    /// copied from an upstream token) caps the lifetime, so ours never outlives the source.
    pub fn mint(&self, user: &User, now: i64) -> Result<String, String> {
        let claims = Claims {
            sub: format!("{}-{}", user.realm, user.username),
            iss: &self.issuer,
            exp: self.expiry(user, now),
            iat: now,
            roles: &user.roles,
            username: &user.username,
            scopes: &user.scopes,
            realm: &user.realm,
            attributes: &user.attributes,
            aud: self.audience.as_deref(),
        };
        encode(&self.header, &claims, &self.key).map_err(|e| format!("cannot sign JWT: {e}"))
    }

    pub fn expiry(&self, user: &User, now: i64) -> i64 {
        let own = now.saturating_add(self.lifetime_secs);
        match user
            .attributes
            .get("exp")
            .and_then(|e| e.parse::<i64>().ok())
        {
            Some(cap) => own.min(cap),
            None => own,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, DecodingKey, Validation};
    use serde_json::Value;

    fn settings(aud: Option<&str>) -> JwtSettings {
        JwtSettings {
            iss: "authotron-test".into(),
            exp: 3600,
            secret: "a-secret-long-enough-for-hs256-tests".into(),
            aud: aud.map(str::to_owned),
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
            &DecodingKey::from_secret(b"a-secret-long-enough-for-hs256-tests"),
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

    #[test]
    fn round_trips_with_upstream_claims() {
        let t = now();
        let token = Minter::new(&settings(None)).mint(&alice(), t).unwrap();
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
        let token = Minter::new(&settings(None)).mint(&alice(), now()).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::HS256);
        assert!(header.kid.is_none());
    }

    #[test]
    fn exp_attribute_caps_the_lifetime() {
        let t = now();
        let mut user = alice();
        user.attributes.insert("exp".into(), (t + 1800).to_string());
        let token = Minter::new(&settings(None)).mint(&user, t).unwrap();
        assert_eq!(decoded(&token, None)["exp"], t + 1800);

        // A later source expiry does not extend ours; a non-number is ignored.
        user.attributes
            .insert("exp".into(), (t + 99_999).to_string());
        assert_eq!(Minter::new(&settings(None)).expiry(&user, t), t + 3600);
        user.attributes.insert("exp".into(), "soon".into());
        assert_eq!(Minter::new(&settings(None)).expiry(&user, t), t + 3600);
    }

    #[test]
    fn audience_is_emitted_when_configured() {
        let token = Minter::new(&settings(Some("polytope")))
            .mint(&alice(), now())
            .unwrap();
        assert_eq!(decoded(&token, Some("polytope"))["aud"], "polytope");
    }
}
