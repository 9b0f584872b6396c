//! Our extensions for providers that call identity services: the outbound HTTP settings, the
//! checks applied to JWTs, and per-provider cache lifetimes.

use super::decode::{Ctx, Decoded, Fields, Node};
use super::settings::positive;

/// `http` (ours): how the module talks to identity services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    pub connect_timeout_ms: u64,
    /// Bound on one whole HTTP exchange; `auth.timeout_in_ms` still bounds a provider.
    pub timeout_ms: u64,
    /// Extra CAs (PEM) to trust. NGINX clears worker environments, so `SSL_CERT_FILE` cannot
    /// do this job. A relative path is relative to the YAML file.
    pub ca_file: Option<String>,
    /// Calls one provider may have in flight per worker; beyond that a validation is answered
    /// "unavailable" at once instead of queueing behind a slow identity service.
    pub max_concurrent_calls: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout_ms: 2_000,
            timeout_ms: 4_000,
            ca_file: None,
            max_concurrent_calls: 256,
        }
    }
}

/// Signature algorithms accepted when a provider does not list its own: asymmetric only.
pub const DEFAULT_ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// HMAC algorithms; a JWKS `oct` key is shared by every verifier, so they need `allow_hmac`.
pub const HMAC_ALGORITHMS: &[&str] = &["HS256", "HS384", "HS512"];

/// How JWTs from an identity service are checked (ours, on `jwt`, `openid-offline` and
/// `ecmwf-token-generator`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtChecks {
    pub algorithms: Vec<String>,
    pub allow_hmac: bool,
    pub leeway_seconds: u64,
    pub iss: Option<String>,
    pub aud: Option<String>,
    /// How long a fetched key set is used before it is fetched again.
    pub jwks_refresh_seconds: u64,
}

impl Default for JwtChecks {
    fn default() -> Self {
        JwtChecks {
            algorithms: DEFAULT_ALGORITHMS.iter().map(|a| a.to_string()).collect(),
            allow_hmac: false,
            // Upstream's (jsonwebtoken's default).
            leeway_seconds: 60,
            iss: None,
            aud: None,
            jwks_refresh_seconds: 600,
        }
    }
}

/// Far beyond what one worker can usefully have waiting on one service.
const MAX_CONCURRENT_CALLS: u64 = 65_536;

pub(crate) fn decode_http(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<HttpSettings> {
    let mut f = node.mapping()?;
    let mut settings = HttpSettings::default();
    if let Some(ms) = f.optional("connect_timeout_ms") {
        settings.connect_timeout_ms = positive(&ms)?;
    }
    if let Some(ms) = f.optional("timeout_ms") {
        settings.timeout_ms = positive(&ms)?;
    }
    if let Some(n) = f.optional("max_concurrent_calls") {
        settings.max_concurrent_calls = positive(&n)?;
        if settings.max_concurrent_calls > MAX_CONCURRENT_CALLS {
            return Err(n.error(format!("must be at most {MAX_CONCURRENT_CALLS}")));
        }
    }
    if let Some(path) = f.optional("ca_file") {
        let file = path.string(cx)?;
        if file.is_empty() {
            return Err(path.error("must not be empty"));
        }
        settings.ca_file = Some(file);
    }
    f.finish(cx);
    Ok(settings)
}

/// Reads the JWT check keys of a provider entry; absent keys keep their defaults.
pub(crate) fn decode_jwt_checks(f: &mut Fields<'_>, cx: &mut Ctx<'_>) -> Decoded<JwtChecks> {
    let mut checks = JwtChecks::default();
    if let Some(flag) = f.optional("allow_hmac") {
        checks.allow_hmac = flag.boolean()?;
    }
    if let Some(list) = f.optional("algorithms") {
        let algorithms = list.string_list(cx)?;
        if algorithms.is_empty() {
            return Err(list.error("must list at least one algorithm"));
        }
        for alg in &algorithms {
            let known = DEFAULT_ALGORITHMS.contains(&alg.as_str())
                || HMAC_ALGORITHMS.contains(&alg.as_str());
            if !known {
                return Err(list.error(format!(
                    "unsupported algorithm `{alg}`; expected some of: {}, {}",
                    DEFAULT_ALGORITHMS.join(", "),
                    HMAC_ALGORITHMS.join(", ")
                )));
            }
        }
        checks.algorithms = algorithms;
    } else if checks.allow_hmac {
        checks
            .algorithms
            .extend(HMAC_ALGORITHMS.iter().map(|a| a.to_string()));
    }
    if !checks.allow_hmac && checks.algorithms.iter().any(|a| a.starts_with("HS")) {
        return Err(f.error("HMAC algorithms need `allow_hmac: true`"));
    }
    if let Some(leeway) = f.optional("leeway_seconds") {
        checks.leeway_seconds = leeway.unsigned()?;
    }
    checks.iss = f.optional_string(cx, "iss")?;
    checks.aud = f.optional_string(cx, "aud")?;
    if let Some(refresh) = f.optional("jwks_refresh_seconds") {
        checks.jwks_refresh_seconds = positive(&refresh)?;
    }
    Ok(checks)
}

/// `cache_ttl_seconds`, when the entry sets it.
pub(crate) fn decode_cache_ttl(f: &mut Fields<'_>) -> Decoded<Option<u64>> {
    f.optional("cache_ttl_seconds")
        .map(|node| node.unsigned())
        .transpose()
}
