//! `type: jwt`: Bearer JWTs checked against a JWKS, as upstream, with hardening upstream lacks
//! (docs/migration-differences.md): an explicit algorithm allowlist, HMAC
//! keys only on request, the key's type must fit the algorithm, optional `iss`/`aud` checks,
//! and key rotation handled by `jwks`.
//!
//! `JwtValidator` is also the last step of `openid-offline` and `ecmwf-token-generator`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures::future::BoxFuture;
use futures::FutureExt;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Header, Validation};
use serde_json::{Map, Value};

use super::claims::user_from_claims;
use super::jwks::JwksCache;
use super::remote::Failure;
use super::{ConfiguredProvider, CredentialCheck, ProviderContext, ProviderInfo};
use crate::config::{JwtChecks, JwtProviderConfig};
use crate::domain::{unix_now, ProviderVerdict};

pub struct JwtValidator {
    name: String,
    realm: String,
    algorithms: Vec<Algorithm>,
    leeway_seconds: u64,
    iss: Option<String>,
    aud: Option<String>,
    jwks: Arc<JwksCache>,
}

impl JwtValidator {
    pub fn new(
        name: &str,
        realm: &str,
        cert_uri: &str,
        checks: &JwtChecks,
        ctx: &ProviderContext,
    ) -> Self {
        JwtValidator {
            name: name.to_owned(),
            realm: realm.to_owned(),
            // Names were checked when the config was loaded.
            algorithms: checks
                .algorithms
                .iter()
                .filter_map(|a| Algorithm::from_str(a).ok())
                .collect(),
            leeway_seconds: checks.leeway_seconds,
            iss: checks.iss.clone(),
            aud: checks.aud.clone(),
            jwks: ctx
                .jwks
                .get(cert_uri, Duration::from_secs(checks.jwks_refresh_seconds)),
        }
    }

    /// Fetches the key set ahead of the first request.
    pub fn warm_up(&self) -> BoxFuture<'static, ()> {
        let jwks = self.jwks.clone();
        async move {
            let _ = jwks.current().await;
        }
        .boxed()
    }

    /// The last step of a token exchange: validates the access token it gave, if any.
    pub(super) async fn validate_exchanged(
        &self,
        exchanged: Result<String, Failure>,
    ) -> ProviderVerdict {
        match exchanged {
            Ok(access) => self.validate(&access).await,
            Err(failure) => failure.into(),
        }
    }

    pub async fn validate(&self, token: &str) -> ProviderVerdict {
        let header = match self.screen(token) {
            Ok(header) => header,
            Err(reason) => return ProviderVerdict::Rejected(reason),
        };
        let keys = match self.jwks.current().await {
            Ok(keys) => keys,
            Err(e) => return ProviderVerdict::Unavailable(e),
        };
        let jwk = match pick_key(&keys, header.kid.as_deref()) {
            Some(jwk) => jwk.clone(),
            None => match self.jwks.refetch_for_unknown_key().await {
                Some(keys) if header.kid.is_some() => {
                    match pick_key(&keys, header.kid.as_deref()) {
                        Some(jwk) => jwk.clone(),
                        None => return unknown_key(),
                    }
                }
                _ => return unknown_key(),
            },
        };
        self.verify(token, header.alg, &jwk)
    }

    /// What the token alone tells, before any key is fetched: a header we can read, no
    /// critical extension, an allowed algorithm. The error is why the token is refused. Split
    /// out so that it can be fuzzed offline.
    pub(crate) fn screen(&self, token: &str) -> Result<Header, String> {
        let header = match decode_header(token) {
            Ok(header) => header,
            // Covers `alg: none`, which jsonwebtoken does not even parse.
            Err(_) => return Err("not a JWT we accept".to_owned()),
        };
        if has_critical_header(token) {
            return Err(
                "the header marks extensions critical (`crit`), and we understand none".to_owned(),
            );
        }
        if !self.algorithms.contains(&header.alg) {
            return Err(format!("algorithm {:?} is not allowed", header.alg));
        }
        Ok(header)
    }

    /// The signature and the claims, with the key the header selected.
    pub(crate) fn verify(&self, token: &str, alg: Algorithm, jwk: &Jwk) -> ProviderVerdict {
        if !key_fits(jwk, alg) {
            return ProviderVerdict::Rejected(format!(
                "key {:?} does not fit algorithm {:?}",
                jwk.common.key_id, alg
            ));
        }
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            return ProviderVerdict::Rejected("the matching key is unusable".to_owned());
        };
        let claims = match decode::<Map<String, Value>>(token, &key, &self.validation(alg)) {
            Ok(data) => data.claims,
            Err(e) => return ProviderVerdict::Rejected(format!("invalid token: {e}")),
        };
        if claims.get("nbf").is_some_and(|nbf| !self.started(nbf)) {
            let reason = "not valid yet, or its `nbf` is not a NumericDate";
            return ProviderVerdict::Rejected(reason.to_owned());
        }
        match user_from_claims(&claims, &self.name, &self.realm) {
            Ok(user) => ProviderVerdict::Accepted(user),
            Err(reason) => ProviderVerdict::Rejected(reason),
        }
    }

    /// Whether a token with this `nbf` may be used now. jsonwebtoken checks an `nbf` only when
    /// it reads as a `u64` and skips any other value, so a string or a number beyond `u64`
    /// made a token valid years early; this checks every JSON number, with the leeway.
    fn started(&self, nbf: &Value) -> bool {
        let now = unix_now() as f64 + self.leeway_seconds as f64;
        nbf.as_f64().is_some_and(|nbf| nbf <= now)
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.leeway = self.leeway_seconds;
        // A token that is not valid yet is refused like an expired one (RFC 7519 §4.1.5).
        validation.validate_nbf = true;
        // A configured check must not pass because the claim is simply absent.
        let mut required = vec!["exp"];
        required.extend(self.iss.as_ref().map(|_| "iss"));
        required.extend(self.aud.as_ref().map(|_| "aud"));
        validation.set_required_spec_claims(&required);
        match &self.iss {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &self.aud {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        validation
    }
}

/// Whether the JOSE header has a `crit` member. RFC 7515 §4.1.11: a recipient must refuse a
/// token whose `crit` lists an extension it does not understand, and we understand none; an
/// empty list must not be sent at all. jsonwebtoken's `Header` has no `crit` field and drops it
/// unread, so the header is read again here. `decode_header` accepted it, so the token has
/// exactly three segments and the first one decodes; if it did not, it counts as critical.
pub(crate) fn has_critical_header(token: &str) -> bool {
    let segment = token.split('.').next().unwrap_or_default();
    URL_SAFE_NO_PAD
        .decode(segment)
        .ok()
        .and_then(|json| serde_json::from_slice::<Map<String, Value>>(&json).ok())
        .is_none_or(|header| header.contains_key("crit"))
}

fn unknown_key() -> ProviderVerdict {
    ProviderVerdict::Rejected("signed with a key the JWKS does not hold".to_owned())
}

/// The key named by `kid`; without a `kid`, the only key of a one-key set.
pub(crate) fn pick_key<'a>(keys: &'a [Jwk], kid: Option<&str>) -> Option<&'a Jwk> {
    match kid {
        Some(kid) => keys
            .iter()
            .find(|k| k.common.key_id.as_deref() == Some(kid)),
        None if keys.len() == 1 => keys.first(),
        None => None,
    }
}

/// The key's type must be the algorithm's family (no RSA key used as an HMAC secret), and an
/// algorithm or use the key declares must agree.
pub(crate) fn key_fits(jwk: &Jwk, alg: Algorithm) -> bool {
    use Algorithm::*;
    let family = matches!(
        (&jwk.algorithm, alg),
        (
            AlgorithmParameters::RSA(_),
            RS256 | RS384 | RS512 | PS256 | PS384 | PS512
        ) | (AlgorithmParameters::EllipticCurve(_), ES256 | ES384)
            | (AlgorithmParameters::OctetKeyPair(_), EdDSA)
            | (AlgorithmParameters::OctetKey(_), HS256 | HS384 | HS512)
    );
    let declared = jwk
        .common
        .key_algorithm
        .is_none_or(|declared| format!("{declared:?}") == format!("{alg:?}"));
    let for_signing = !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption));
    family && declared && for_signing
}

pub type JwtProvider = ConfiguredProvider<JwtValidator>;

impl JwtProvider {
    pub fn new(config: &JwtProviderConfig, ctx: &ProviderContext) -> Self {
        let ttl = config.cache_ttl_seconds.map(Duration::from_secs);
        ConfiguredProvider {
            info: ProviderInfo::new(&config.name, &config.realm, ttl),
            check: JwtValidator::new(
                &config.name,
                &config.realm,
                &config.cert_uri,
                &config.checks,
                ctx,
            ),
        }
    }
}

impl CredentialCheck for JwtValidator {
    async fn verdict(&self, _: &ProviderInfo, token: &str) -> ProviderVerdict {
        self.validate(token).await
    }

    fn warm_up(&self) -> Option<BoxFuture<'static, ()>> {
        Some(JwtValidator::warm_up(self))
    }
}

#[cfg(test)]
mod tests;
