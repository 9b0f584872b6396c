//! The top-level sections other than `providers` and `augmenters`.

use std::fmt;

use super::decode::{Ctx, Decoded, Finding, Node};
use super::redact::REDACTED;

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

/// `jwt`: the token handed to the upstream. `aud` is parsed but, as upstream, not emitted.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtSettings {
    pub iss: String,
    pub exp: i64,
    pub secret: String,
    pub aud: Option<String>,
}

impl fmt::Debug for JwtSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSettings")
            .field("iss", &self.iss)
            .field("exp", &self.exp)
            .field("secret", &REDACTED)
            .field("aud", &self.aud)
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
    let secret_node = f.required("secret")?;
    let secret = secret_node.string(cx)?;
    if secret.is_empty() {
        return Err(secret_node.error("must not be empty"));
    }
    if secret.len() < MIN_SECRET_BYTES {
        cx.warn(Finding::at(
            secret_node.path(),
            format!(
                "`{}` is shorter than {MIN_SECRET_BYTES} bytes; HS256 needs at least {MIN_SECRET_BYTES} random bytes to be safe",
                secret_node.path()
            ),
        ));
    }
    let aud = f.optional_string(cx, "aud")?;
    f.finish(cx);
    Ok(JwtSettings {
        iss,
        exp,
        secret,
        aud,
    })
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
