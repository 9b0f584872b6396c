//! The top-level sections other than `providers` and `augmenters`.

use std::fmt;
use std::path::PathBuf;

use super::decode::{Ctx, Decoded, Finding, Node};
use crate::token::keys::{PublicKey, SigningAlgorithm, SigningKey};

/// The `version` of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaVersion {
    /// `"1.0.0"`: `bind_address` instead of `server` and `metrics`.
    V1,
    /// `"2.0.0"`
    V2,
}

/// `server` (v2; from `bind_address` in v1). Accepted for compatibility; nginx listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
}

/// `metrics`. Accepted for compatibility; unused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    pub enabled: bool,
    pub port: u16,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            enabled: true,
            port: 9090,
        }
    }
}

/// `auth`: how long one provider may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    pub timeout_in_ms: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            timeout_in_ms: 5000,
        }
    }
}

/// `jwt`: the token handed to the upstream. Key files are read and checked while the
/// configuration loads, so `nginx -t` reports a bad one.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtSettings {
    pub iss: String,
    pub exp: i64,
    /// The HS256 key; required with HS256, unused otherwise.
    pub secret: Option<String>,
    pub aud: Option<String>,
    pub algorithm: SigningAlgorithm,
    /// The `kid` header of minted tokens: `jwt.kid`, else for a private key its RFC 7638
    /// thumbprint; `None` (upstream's header) for HS256 without `jwt.kid`.
    pub kid: Option<String>,
    /// `jwt.private_key`, parsed; present exactly when the algorithm is asymmetric.
    pub private_key: Option<SigningKey>,
    /// `jwt.verification_keys`: published in the JWKS, never used to sign.
    pub verification_keys: Vec<VerificationKey>,
}

/// One `jwt.verification_keys` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationKey {
    pub kid: String,
    pub key: PublicKey,
}

impl fmt::Debug for JwtSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSettings")
            .field("iss", &self.iss)
            .field("exp", &self.exp)
            .field("secret", &super::redact::optional(&self.secret))
            .field("aud", &self.aud)
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .field("private_key", &self.private_key)
            .field("verification_keys", &self.verification_keys)
            .finish()
    }
}

/// `logging`. Accepted for compatibility; nginx's `error_log` applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggingSettings {
    pub level: String,
    pub format: String,
    pub service_name: Option<String>,
    pub service_version: Option<String>,
}

/// One `services` entry. Declared upstream, used by nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    pub name: String,
    pub scopes: Vec<String>,
}

/// `cache` (ours): bounded per-worker cache of authentication results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSettings {
    /// How long a successful result is reused.
    pub ttl_seconds: u64,
    /// How long a definitive refusal is reused.
    pub negative_ttl_seconds: u64,
    /// Most entries kept.
    pub capacity: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            ttl_seconds: 60,
            negative_ttl_seconds: 5,
            capacity: 10_000,
        }
    }
}

/// The shortest HS256 key we accept without a warning (RFC 7518 §3.2).
const MIN_SECRET_BYTES: usize = 32;

pub(crate) fn decode_version(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<SchemaVersion> {
    const EXPECTED: &str = "expected \"1.0.0\" or \"2.0.0\"";
    let text = node
        .string(cx)
        .map_err(|_| node.error(format!("unsupported schema version; {EXPECTED}")))?;
    match text.as_str() {
        "2.0.0" => Ok(SchemaVersion::V2),
        "1.0.0" => {
            cx.warn(Finding::at(
                node.path(),
                "schema version 1.0.0 accepted; version 2.0.0 is current",
            ));
            Ok(SchemaVersion::V1)
        }
        _ => Err(node.error(format!("unsupported schema version; {EXPECTED}"))),
    }
}

/// v1 `bind_address`, checked as upstream and turned into the `server` it stands for.
pub(crate) fn decode_bind_address(
    node: &Node<'_>,
    cx: &Ctx<'_>,
) -> Decoded<(String, ServerSettings)> {
    let address = node.string(cx)?;
    let (host, port) = super::validate::bind_address(&address).map_err(|m| node.error(m))?;
    Ok((address, ServerSettings { host, port }))
}

pub(crate) fn decode_server(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<ServerSettings> {
    let mut f = node.mapping()?;
    let host = f
        .optional_string(cx, "host")?
        .unwrap_or_else(|| "0.0.0.0".to_owned());
    let port = f.required("port")?.port()?;
    f.finish(cx);
    Ok(ServerSettings { host, port })
}

pub(crate) fn decode_metrics(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<MetricsSettings> {
    let mut f = node.mapping()?;
    let defaults = MetricsSettings::default();
    let settings = MetricsSettings {
        enabled: f
            .optional("enabled")
            .map(|n| n.boolean())
            .transpose()?
            .unwrap_or(defaults.enabled),
        port: f
            .optional("port")
            .map(|n| n.port())
            .transpose()?
            .unwrap_or(defaults.port),
    };
    f.finish(cx);
    Ok(settings)
}

pub(crate) fn decode_auth(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<AuthSettings> {
    let mut f = node.mapping()?;
    let mut settings = AuthSettings::default();
    if let Some(timeout) = f.optional("timeout_in_ms") {
        settings.timeout_in_ms = positive(&timeout)?;
    }
    f.finish(cx);
    Ok(settings)
}

pub(crate) fn decode_jwt(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<JwtSettings> {
    let mut f = node.mapping()?;
    let iss = f.required_string(cx, "iss")?;
    let exp_node = f.required("exp")?;
    let exp = exp_node.signed()?;
    if exp <= 0 {
        return Err(exp_node.error("must be greater than 0 (seconds)"));
    }
    let algorithm = match f.optional("algorithm") {
        Some(node) => {
            let name = node.string(cx)?;
            SigningAlgorithm::parse(&name).ok_or_else(|| {
                node.error(format!(
                    "unsupported algorithm `{name}`; expected {}",
                    SigningAlgorithm::NAMES
                ))
            })?
        }
        None => SigningAlgorithm::HS256,
    };
    let secret = if algorithm.is_asymmetric() {
        if let Some(node) = f.optional("secret") {
            cx.warn(Finding::at(
                node.path(),
                format!(
                    "`{}` is not used: jwt.algorithm {algorithm} signs with jwt.private_key",
                    node.path()
                ),
            ));
        }
        None
    } else {
        Some(decode_secret(&f.required("secret")?, cx)?)
    };
    let private_key = match f.optional("private_key") {
        Some(node) if !algorithm.is_asymmetric() => {
            return Err(node.error(format!(
                "needs jwt.algorithm RS256, ES256 or EdDSA; jwt.algorithm is {algorithm}"
            )))
        }
        Some(node) => {
            let (shown, pem) = read_key_file(&node, cx)?;
            let key = SigningKey::from_pem(algorithm, &pem)
                .map_err(|m| node.error(format!("{shown}: {m}")))?;
            Some(key)
        }
        None if algorithm.is_asymmetric() => {
            return Err(f.error(format!(
                "missing field `private_key` (jwt.algorithm {algorithm} signs with a private key)"
            )))
        }
        None => None,
    };
    let kid = match f.optional("kid") {
        Some(node) => Some(decode_kid(&node, cx)?),
        None => private_key.as_ref().map(|k| k.public_key().thumbprint()),
    };
    let verification_keys = match f.optional("verification_keys") {
        Some(node) => decode_verification_keys(&node, cx, kid.as_deref(), private_key.as_ref())?,
        None => Vec::new(),
    };
    let aud = f.optional_string(cx, "aud")?;
    f.finish(cx);
    Ok(JwtSettings {
        iss,
        exp,
        secret,
        aud,
        algorithm,
        kid,
        private_key,
        verification_keys,
    })
}

fn decode_secret(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<String> {
    let secret = node.string(cx)?;
    if secret.is_empty() {
        return Err(node.error("must not be empty"));
    }
    if secret.len() < MIN_SECRET_BYTES {
        cx.warn(Finding::at(
            node.path(),
            format!(
                "`{}` is shorter than {MIN_SECRET_BYTES} bytes; HS256 needs at least {MIN_SECRET_BYTES} random bytes to be safe",
                node.path()
            ),
        ));
    }
    Ok(secret)
}

/// A key id: published, so any text, but not empty and without control characters.
fn decode_kid(node: &Node<'_>, cx: &Ctx<'_>) -> Decoded<String> {
    let kid = node.string(cx)?;
    if kid.is_empty() || kid.chars().any(char::is_control) {
        return Err(node.error("must be non-empty text without control characters"));
    }
    Ok(kid)
}

/// The path a key file option names (relative to the YAML file) and the file's bytes.
fn read_key_file(node: &Node<'_>, cx: &Ctx<'_>) -> Decoded<(String, Vec<u8>)> {
    let mut path = PathBuf::from(node.string(cx)?);
    if path.is_relative() {
        if let Some(dir) = cx.dir {
            path = dir.join(path);
        }
    }
    let shown = path.display().to_string();
    let bytes =
        std::fs::read(&path).map_err(|e| node.error(format!("cannot read {shown}: {e}")))?;
    Ok((shown, bytes))
}

/// `jwt.verification_keys`: `[{ public_key: FILE, kid: ID }]`. Every kid in the published set
/// must be unique, and no key may be listed twice.
fn decode_verification_keys(
    node: &Node<'_>,
    cx: &mut Ctx<'_>,
    signing_kid: Option<&str>,
    signing_key: Option<&SigningKey>,
) -> Decoded<Vec<VerificationKey>> {
    let mut keys: Vec<VerificationKey> = Vec::new();
    for entry in node.sequence()?.iter() {
        let mut f = entry.mapping()?;
        let key_node = f.required("public_key")?;
        let (shown, pem) = read_key_file(&key_node, cx)?;
        let key = PublicKey::from_pem(&pem).map_err(|m| key_node.error(format!("{shown}: {m}")))?;
        if signing_key.is_some_and(|s| s.public_key() == &key) {
            return Err(key_node.error(
                "is the public key of jwt.private_key, which is published anyway; remove this entry",
            ));
        }
        if let Some(i) = keys.iter().position(|k| k.key == key) {
            return Err(key_node.error(format!("the same key as jwt.verification_keys[{i}]")));
        }
        let kid_node = f.optional("kid");
        let kid = match &kid_node {
            Some(kid_node) => decode_kid(kid_node, cx)?,
            None => key.thumbprint(),
        };
        let taken = if signing_kid == Some(kid.as_str()) {
            Some("the signing key (jwt.private_key)".to_owned())
        } else {
            keys.iter()
                .position(|k| k.kid == kid)
                .map(|i| format!("jwt.verification_keys[{i}]"))
        };
        if let Some(owner) = taken {
            let at = kid_node.as_ref().unwrap_or(entry);
            return Err(at.error(format!(
                "kid `{kid}` is already the kid of {owner}; every published key needs its own"
            )));
        }
        f.finish(cx);
        keys.push(VerificationKey { kid, key });
    }
    Ok(keys)
}

pub(crate) fn decode_logging(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<LoggingSettings> {
    let mut f = node.mapping()?;
    let settings = LoggingSettings {
        level: f.required_string(cx, "level")?,
        format: f.required_string(cx, "format")?,
        service_name: f.optional_string(cx, "service_name")?,
        service_version: f.optional_string(cx, "service_version")?,
    };
    f.finish(cx);
    Ok(settings)
}

pub(crate) fn decode_services(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<Vec<ServiceEntry>> {
    node.sequence()?
        .iter()
        .map(|entry| {
            let mut f = entry.mapping()?;
            let service = ServiceEntry {
                name: f.required_string(cx, "name")?,
                scopes: f.required("scopes")?.string_list(cx)?,
            };
            f.finish(cx);
            Ok(service)
        })
        .collect()
}

pub(crate) fn decode_cache(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<CacheSettings> {
    let mut f = node.mapping()?;
    let mut settings = CacheSettings::default();
    if let Some(ttl) = f.optional("ttl_seconds") {
        settings.ttl_seconds = ttl.unsigned()?;
    }
    if let Some(ttl) = f.optional("negative_ttl_seconds") {
        settings.negative_ttl_seconds = ttl.unsigned()?;
    }
    if let Some(capacity) = f.optional("capacity") {
        settings.capacity = positive(&capacity)?;
    }
    f.finish(cx);
    Ok(settings)
}

pub(crate) fn positive(node: &Node<'_>) -> Decoded<u64> {
    match node.unsigned()? {
        0 => Err(node.error("must be greater than 0")),
        n => Ok(n),
    }
}
