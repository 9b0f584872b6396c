//! `providers:` entries, tagged by `type`, with upstream's field names.

use std::fmt;

use super::decode::{Ctx, Decoded, Finding, Node};
use super::redact::{self, REDACTED};
use super::remote::{self, JwtChecks};
use super::validate;

/// One credential validator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderConfig {
    /// `type: plain`
    Plain(PlainProviderConfig),
    /// `type: jwt`
    Jwt(JwtProviderConfig),
    /// `type: openid-offline`
    OpenidOffline(OpenidOfflineConfig),
    /// `type: ecmwf-api`
    EcmwfApi(EcmwfApiConfig),
    /// `type: efas-api`
    EfasApi(EfasApiConfig),
    /// `type: ecmwf-token-generator`
    EcmwfTokenGenerator(TokenGeneratorConfig),
}

/// Every provider `type`, in the order of the enum.
pub(crate) const PROVIDER_TYPES: &[&str] = &[
    "plain",
    "jwt",
    "openid-offline",
    "ecmwf-api",
    "efas-api",
    "ecmwf-token-generator",
];

impl ProviderConfig {
    pub fn name(&self) -> &str {
        match self {
            ProviderConfig::Plain(c) => &c.name,
            ProviderConfig::Jwt(c) => &c.name,
            ProviderConfig::OpenidOffline(c) => &c.name,
            ProviderConfig::EcmwfApi(c) => &c.name,
            ProviderConfig::EfasApi(c) => &c.name,
            ProviderConfig::EcmwfTokenGenerator(c) => &c.name,
        }
    }

    /// The realm as configured (for `efas-api` too; upstream's hard-coded `efas` is not kept).
    pub fn realm(&self) -> &str {
        match self {
            ProviderConfig::Plain(c) => &c.realm,
            ProviderConfig::Jwt(c) => &c.realm,
            ProviderConfig::OpenidOffline(c) => &c.realm,
            ProviderConfig::EcmwfApi(c) => &c.realm,
            ProviderConfig::EfasApi(c) => &c.realm,
            ProviderConfig::EcmwfTokenGenerator(c) => &c.realm,
        }
    }

    /// The `type` tag of the YAML entry.
    pub fn type_tag(&self) -> &'static str {
        match self {
            ProviderConfig::Plain(_) => "plain",
            ProviderConfig::Jwt(_) => "jwt",
            ProviderConfig::OpenidOffline(_) => "openid-offline",
            ProviderConfig::EcmwfApi(_) => "ecmwf-api",
            ProviderConfig::EfasApi(_) => "efas-api",
            ProviderConfig::EcmwfTokenGenerator(_) => "ecmwf-token-generator",
        }
    }
}

/// `type: plain`: HTTP Basic against a static list of users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainProviderConfig {
    pub name: String,
    pub realm: String,
    pub users: Vec<PlainUser>,
}

/// One user of a `plain` provider. Exactly one of `password` (plaintext, as upstream) and
/// `password_hash` (Argon2id PHC string or bcrypt) is set.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainUser {
    pub username: String,
    pub password: Option<String>,
    pub password_hash: Option<String>,
    pub roles: Vec<String>,
}

impl fmt::Debug for PlainUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlainUser")
            .field("username", &self.username)
            .field("password", &redact::optional(&self.password))
            .field("password_hash", &redact::optional(&self.password_hash))
            .field("roles", &self.roles)
            .finish()
    }
}

/// `type: jwt`: Bearer JWT checked against a JWKS. `iam_realm` is required but unused, as
/// upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtProviderConfig {
    pub name: String,
    pub realm: String,
    pub cert_uri: String,
    pub iam_realm: String,
    pub checks: JwtChecks,
    pub cache_ttl_seconds: Option<u64>,
}

/// `type: openid-offline`: Keycloak offline token exchanged for an access token.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenidOfflineConfig {
    pub name: String,
    pub realm: String,
    pub cert_uri: String,
    pub public_client_id: String,
    pub private_client_id: String,
    pub private_client_secret: String,
    pub iam_url: String,
    pub checks: JwtChecks,
    pub cache_ttl_seconds: Option<u64>,
}

impl fmt::Debug for OpenidOfflineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenidOfflineConfig")
            .field("name", &self.name)
            .field("realm", &self.realm)
            .field("cert_uri", &self.cert_uri)
            .field("public_client_id", &self.public_client_id)
            .field("private_client_id", &self.private_client_id)
            .field("private_client_secret", &REDACTED)
            .field("iam_url", &self.iam_url)
            .field("checks", &self.checks)
            .field("cache_ttl_seconds", &self.cache_ttl_seconds)
            .finish()
    }
}

/// `type: ecmwf-api`: ECMWF API key checked with who-am-i.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcmwfApiConfig {
    pub name: String,
    pub realm: String,
    pub uri: String,
    pub cache_ttl_seconds: Option<u64>,
}

/// `type: efas-api`: EFAS API key checked with the user-details service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EfasApiConfig {
    pub name: String,
    pub realm: String,
    pub uri: String,
    pub cache_ttl_seconds: Option<u64>,
}

/// `type: ecmwf-token-generator`: offline token validated and exchanged by the ECMWF token
/// generator.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenGeneratorConfig {
    pub name: String,
    pub realm: String,
    pub cert_uri: String,
    pub client_id: String,
    pub client_secret: String,
    pub token_generator_url: String,
    pub checks: JwtChecks,
    pub cache_ttl_seconds: Option<u64>,
}

impl fmt::Debug for TokenGeneratorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenGeneratorConfig")
            .field("name", &self.name)
            .field("realm", &self.realm)
            .field("cert_uri", &self.cert_uri)
            .field("client_id", &self.client_id)
            .field("client_secret", &REDACTED)
            .field("token_generator_url", &self.token_generator_url)
            .field("checks", &self.checks)
            .field("cache_ttl_seconds", &self.cache_ttl_seconds)
            .finish()
    }
}

pub(crate) fn decode_list(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<Vec<ProviderConfig>> {
    let entries = node.sequence()?;
    if entries.is_empty() {
        cx.warn(Finding::at(
            node.path(),
            "`providers` is empty: every request will be refused",
        ));
    }
    entries.iter().map(|entry| decode(entry, cx)).collect()
}

fn decode(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<ProviderConfig> {
    let mut f = node.mapping()?;
    let type_node = f.required("type")?;
    let tag = type_node.string(cx)?;
    let name = f.required_string(cx, "name")?;
    let realm = f.required_realm(cx)?;
    let provider = match tag.as_str() {
        "plain" => {
            let users = f.required("users")?;
            ProviderConfig::Plain(PlainProviderConfig {
                name,
                realm,
                users: decode_users(&users, cx)?,
            })
        }
        "jwt" => ProviderConfig::Jwt(JwtProviderConfig {
            name,
            realm,
            cert_uri: f.required_url(cx, "cert_uri")?,
            iam_realm: f.required_string(cx, "iam_realm")?,
            checks: remote::decode_jwt_checks(&mut f, cx)?,
            cache_ttl_seconds: remote::decode_cache_ttl(&mut f)?,
        }),
        "openid-offline" => ProviderConfig::OpenidOffline(OpenidOfflineConfig {
            name,
            realm,
            cert_uri: f.required_url(cx, "cert_uri")?,
            public_client_id: f.required_string(cx, "public_client_id")?,
            private_client_id: f.required_string(cx, "private_client_id")?,
            private_client_secret: f.required_string(cx, "private_client_secret")?,
            iam_url: f.required_url(cx, "iam_url")?,
            checks: remote::decode_jwt_checks(&mut f, cx)?,
            cache_ttl_seconds: remote::decode_cache_ttl(&mut f)?,
        }),
        "ecmwf-api" => ProviderConfig::EcmwfApi(EcmwfApiConfig {
            name,
            realm,
            uri: f.required_url(cx, "uri")?,
            cache_ttl_seconds: remote::decode_cache_ttl(&mut f)?,
        }),
        "efas-api" => ProviderConfig::EfasApi(EfasApiConfig {
            name,
            realm,
            uri: f.required_url(cx, "uri")?,
            cache_ttl_seconds: remote::decode_cache_ttl(&mut f)?,
        }),
        "ecmwf-token-generator" => ProviderConfig::EcmwfTokenGenerator(TokenGeneratorConfig {
            name,
            realm,
            cert_uri: f.required_url(cx, "cert_uri")?,
            client_id: f.required_string(cx, "client_id")?,
            client_secret: f.required_string(cx, "client_secret")?,
            token_generator_url: f.required_url(cx, "token_generator_url")?,
            checks: remote::decode_jwt_checks(&mut f, cx)?,
            cache_ttl_seconds: remote::decode_cache_ttl(&mut f)?,
        }),
        _ => {
            return Err(type_node.error(format!(
                "unknown provider type `{tag}`; expected one of: {}",
                PROVIDER_TYPES.join(", ")
            )))
        }
    };
    f.finish(cx);
    Ok(provider)
}

fn decode_users(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<Vec<PlainUser>> {
    let entries = node.sequence()?;
    let mut users: Vec<PlainUser> = Vec::with_capacity(entries.len());
    for entry in &entries {
        let user = decode_user(entry, cx)?;
        if users.iter().any(|u| u.username == user.username) {
            cx.warn(Finding::at(
                entry.path(),
                format!(
                    "`{}` repeats the username of an earlier user; each of their passwords will be accepted",
                    entry.path()
                ),
            ));
        }
        users.push(user);
    }
    Ok(users)
}

fn decode_user(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<PlainUser> {
    let mut f = node.mapping()?;
    let username = f.required_string(cx, "username")?;
    let password = f.optional_string(cx, "password")?;
    let password_hash = match f.optional("password_hash") {
        Some(hash_node) => {
            let hash = hash_node.string(cx)?;
            validate::password_hash(&hash).map_err(|m| hash_node.error(m))?;
            Some(hash)
        }
        None => None,
    };
    let roles = f.string_list(cx, "roles")?;
    match (&password, &password_hash) {
        (Some(_), Some(_)) => {
            return Err(node.error(
                "a user needs exactly one of `password` and `password_hash`, and this one has both",
            ))
        }
        (None, None) => {
            return Err(f.blame_misspelling(
                node.error(
                    "a user needs exactly one of `password` and `password_hash`, and this one has neither",
                ),
                &["password", "password_hash"],
            ))
        }
        (Some(p), None) if p.is_empty() => cx.warn(Finding::at(
            node.path(),
            format!(
                "`{}` has an empty password: the username alone signs in",
                node.path()
            ),
        )),
        _ => {}
    }
    f.finish(cx);
    Ok(PlainUser {
        username,
        password,
        password_hash,
        roles,
    })
}
