//! Minting the short-lived JWT backends trust: upstream's claims, plus `aud` when configured
//! (upstream parses it but never emits it). HS256 over `jwt.secret` as upstream, or RS256 /
//! ES256 / EdDSA with `jwt.private_key`, whose public key (and any `jwt.verification_keys`) the
//! JWK set publishes.

mod der;
pub mod keys;

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;
use serde::Serialize;

use crate::config::JwtSettings;
use crate::domain::{Minted, User};
use keys::SigningKey;

pub struct Minter {
    issuer: String,
    lifetime_secs: i64,
    audience: Option<String>,
    signer: Signer,
    /// The Base64url JOSE header, the same for every token.
    header: String,
    /// The JWK set, rendered once.
    jwks: Vec<u8>,
}

enum Signer {
    Hmac(hmac::Key),
    Key(SigningKey),
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

/// The JOSE header, in the member order of upstream's library (`typ`, `alg`, `kid`).
#[derive(Serialize)]
struct JoseHeader<'a> {
    typ: &'static str,
    alg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

impl Minter {
    pub fn new(settings: &JwtSettings) -> Self {
        let signer = match &settings.private_key {
            Some(key) => Signer::Key(key.clone()),
            None => Signer::Hmac(hmac::Key::new(
                hmac::HMAC_SHA256,
                settings.secret.as_deref().unwrap_or_default().as_bytes(),
            )),
        };
        let header = JoseHeader {
            typ: "JWT",
            alg: settings.algorithm.name(),
            kid: settings.kid.as_deref(),
        };
        Minter {
            issuer: settings.iss.clone(),
            lifetime_secs: settings.exp,
            audience: settings.aud.clone(),
            signer,
            header: URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap_or_default()),
            jwks: render_jwks(settings),
        }
    }

    /// The JWK set of the public keys backends verify minted tokens with: the signing key's
    /// first, then the verification keys. An HS256 secret is shared, never published.
    pub fn jwks(&self) -> Vec<u8> {
        self.jwks.clone()
    }

    /// Signs a token for `user` issued at `now` (Unix seconds). An `exp` attribute (for example
    /// copied from an upstream token) caps the lifetime, so ours never outlives the source.
    pub fn mint(&self, user: &User, now: i64) -> Result<Minted, String> {
        let expires_at = self.expiry(user, now);
        let claims = Claims {
            sub: format!("{}-{}", user.realm, user.username),
            iss: &self.issuer,
            exp: expires_at,
            iat: now,
            roles: &user.roles,
            username: &user.username,
            scopes: &user.scopes,
            realm: &user.realm,
            attributes: &user.attributes,
            aud: self.audience.as_deref(),
        };
        let payload = serde_json::to_vec(&claims).map_err(|e| format!("cannot sign JWT: {e}"))?;
        let mut token = String::with_capacity(self.header.len() + payload.len() * 4 / 3 + 360);
        token.push_str(&self.header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signature = match &self.signer {
            Signer::Hmac(key) => hmac::sign(key, token.as_bytes()).as_ref().to_vec(),
            Signer::Key(key) => key
                .sign(token.as_bytes())
                .map_err(|e| format!("cannot sign JWT: {e}"))?,
        };
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        Ok(Minted {
            token: token.into(),
            issued_at: now,
            expires_at,
        })
    }

    pub fn expiry(&self, user: &User, now: i64) -> i64 {
        let own = now.saturating_add(self.lifetime_secs);
        match user.expires_at() {
            Some(cap) => own.min(cap),
            None => own,
        }
    }
}

fn render_jwks(settings: &JwtSettings) -> Vec<u8> {
    #[derive(Serialize)]
    struct Set<'a> {
        keys: Vec<keys::Jwk<'a>>,
    }
    let signing = settings
        .private_key
        .as_ref()
        .zip(settings.kid.as_deref())
        .map(|(key, kid)| key.public_key().jwk(kid));
    let set = Set {
        keys: signing
            .into_iter()
            .chain(settings.verification_keys.iter().map(|v| v.key.jwk(&v.kid)))
            .collect(),
    };
    serde_json::to_vec(&set).unwrap_or_else(|_| br#"{"keys":[]}"#.to_vec())
}

#[cfg(test)]
mod tests;
