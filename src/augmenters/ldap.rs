//! `type: ldap`: roles from the groups (`memberOf`) of the user's directory entry, as upstream
//! does it: simple bind as `bind_dn`, search `search_base` (subtree) for
//! `(&(objectClass=person)(cn=<username>))`, and turn each group DN into roles (`ldap_roles`).
//!
//! What upstream lacks: the username is escaped in the filter (RFC 4515); the lookup has a
//! connect timeout and a deadline for the whole exchange; `ldaps://` trusts `http.ca_file`; and
//! an error (outage, timeout, refused bind) only costs the user its LDAP roles: the pipeline
//! logs it as a warning. Results are cached per user, successes only, as upstream.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::FutureExt;
use ldap3::asn1::StructureTag;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use super::ldap_roles::{escape_filter_value, RoleRule};
use super::{Augmentation, Augmenter, Stage};
use crate::cache::{cache_key, TtlCache};
use crate::config::{Config, LdapAugmenterConfig};
use crate::domain::User;

/// How long upstream reuses a user's roles.
const DEFAULT_CACHE_TTL_SECONDS: u64 = 120;

pub struct LdapAugmenter {
    name: String,
    realm: String,
    directory: Directory,
    rule: RoleRule,
    /// Keyed by a digest of the username; one cache per augmenter, so per (augmenter, user).
    roles: TtlCache<Arc<[String]>>,
    cache_ttl: Duration,
}

/// Where the directory is and how to talk to it. Not `Debug`: it holds the bind password.
struct Directory {
    uri: String,
    search_base: String,
    bind_dn: String,
    password: String,
    connect_timeout: Duration,
    /// Bound on one whole lookup: connect, bind, search and unbind.
    timeout: Duration,
    /// Only for `ldaps://`.
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl LdapAugmenter {
    /// Timeouts and trusted CAs come from the `http` section, which governs every outbound
    /// call the module makes; the cache holds at most `cache.capacity` users.
    pub fn new(config: &LdapAugmenterConfig, settings: &Config) -> Result<Self, String> {
        let fail = |e: String| format!("augmenter \"{}\": {e}", config.name);
        let rule = match &config.filters {
            Some(filters) => RoleRule::paths(filters).map_err(fail)?,
            None => RoleRule::Cn(config.filter.clone()),
        };
        let tls = if is_ldaps(&config.uri) {
            Some(tls_config(settings.http.ca_file.as_deref()).map_err(fail)?)
        } else {
            None
        };
        let ttl = config
            .cache_ttl_seconds
            .unwrap_or(DEFAULT_CACHE_TTL_SECONDS);
        Ok(LdapAugmenter {
            name: config.name.clone(),
            realm: config.realm.clone(),
            directory: Directory {
                uri: config.uri.clone(),
                search_base: config.search_base.clone(),
                bind_dn: config.bind_dn.clone(),
                password: config.ldap_password.clone(),
                connect_timeout: Duration::from_millis(settings.http.connect_timeout_ms),
                timeout: Duration::from_millis(settings.http.timeout_ms),
                tls,
            },
            rule,
            roles: TtlCache::new(settings.cache.capacity),
            cache_ttl: Duration::from_secs(ttl),
        })
    }

    async fn roles_of(&self, username: &str) -> Result<Arc<[String]>, String> {
        let key = cache_key(None, username.as_bytes());
        if let Some(roles) = self.roles.get(&key) {
            return Ok(roles);
        }
        let groups = self.directory.groups_of(username).await?;
        let roles: Arc<[String]> = groups.iter().flat_map(|dn| self.rule.roles(dn)).collect();
        self.roles.insert(key, roles.clone(), self.cache_ttl);
        Ok(roles)
    }
}

impl Augmenter for LdapAugmenter {
    fn name(&self) -> &str {
        &self.name
    }

    fn realm(&self) -> &str {
        &self.realm
    }

    fn stage(&self) -> Stage {
        Stage::Concurrent
    }

    fn augment(self: Arc<Self>, user: &User) -> BoxFuture<'static, Result<Augmentation, String>> {
        let username = user.username.clone();
        async move {
            let roles = self.roles_of(&username).await?;
            Ok(Augmentation {
                roles: roles.to_vec(),
                ..Augmentation::default()
            })
        }
        .boxed()
    }
}

impl Directory {
    /// The `memberOf` values of every person whose `cn` is `username`, in the order the
    /// directory returns them. Errors name the step that failed, never the password.
    async fn groups_of(&self, username: &str) -> Result<Vec<String>, String> {
        let deadline = Deadline::after(self.timeout);
        let (connection, mut ldap) = self.connect().await?;
        ldap3::drive!(connection);
        let groups = self.search(&mut ldap, username, &deadline).await;
        // Courtesy only: the answer is in hand, and dropping `ldap` ends the connection
        // (its driver stops once no handle is left).
        if let Ok(left) = deadline.left("unbind") {
            let _ = ldap.with_timeout(left).unbind().await;
        }
        groups
    }

    async fn connect(&self) -> Result<(LdapConnAsync, Ldap), String> {
        // Covers the TCP connect and the TLS handshake.
        let mut settings =
            LdapConnSettings::new().set_conn_timeout(self.connect_timeout.min(self.timeout));
        if let Some(tls) = &self.tls {
            settings = settings.set_config(tls.clone());
        }
        LdapConnAsync::with_settings(settings, &self.uri)
            .await
            .map_err(|e| failed(&format!("connecting to {}", self.uri), e))
    }

    async fn search(
        &self,
        ldap: &mut Ldap,
        username: &str,
        deadline: &Deadline,
    ) -> Result<Vec<String>, String> {
        ldap.with_timeout(deadline.left("bind")?)
            .simple_bind(&self.bind_dn, &self.password)
            .await
            .and_then(|result| result.success())
            .map_err(|e| failed(&format!("binding as {}", self.bind_dn), e))?;
        let filter = format!(
            "(&(objectClass=person)(cn={}))",
            escape_filter_value(username)
        );
        let (entries, _) = ldap
            .with_timeout(deadline.left("search")?)
            .search(&self.search_base, Scope::Subtree, &filter, vec!["memberOf"])
            .await
            .and_then(|result| result.success())
            .map_err(|e| failed("searching", e))?;
        Ok(entries
            .into_iter()
            .flat_map(|entry| member_of(entry.0))
            .collect())
    }
}

/// What is left of one lookup's time budget.
struct Deadline(Instant);

impl Deadline {
    fn after(budget: Duration) -> Self {
        Deadline(Instant::now() + budget)
    }

    fn left(&self, step: &str) -> Result<Duration, String> {
        self.0
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or_else(|| format!("{step}: out of time"))
    }
}

/// ldap3's messages carry result codes and server texts, never what was sent (the password).
fn failed(step: &str, error: LdapError) -> String {
    match error {
        LdapError::Timeout { .. } => format!("{step}: timed out"),
        other => format!("{step}: {other}"),
    }
}

/// The `memberOf` values of one search result entry. ldap3's `SearchEntry::construct` panics
/// on an entry it cannot parse; a directory must never be able to take a worker down, so this
/// reader skips what it cannot read instead.
fn member_of(entry: StructureTag) -> Vec<String> {
    // SearchResultEntry ::= [APPLICATION 4] SEQUENCE { objectName, attributes }
    let attributes = entry
        .match_id(4)
        .and_then(StructureTag::expect_constructed)
        .and_then(|parts| parts.into_iter().nth(1))
        .and_then(StructureTag::expect_constructed)
        .unwrap_or_default();
    attributes
        .into_iter()
        .filter_map(member_of_values)
        .flatten()
        .collect()
}

/// The values of one attribute (`SEQUENCE { type, SET OF value }`) if it is `memberOf`.
fn member_of_values(attribute: StructureTag) -> Option<Vec<String>> {
    let mut parts = attribute.expect_constructed()?.into_iter();
    let name = parts.next()?.expect_primitive()?;
    if !name.eq_ignore_ascii_case(b"memberOf") {
        return None;
    }
    let values = parts.next()?.expect_constructed()?;
    Some(
        values
            .into_iter()
            .filter_map(|value| String::from_utf8(value.expect_primitive()?).ok())
            .collect(),
    )
}

fn is_ldaps(uri: &str) -> bool {
    reqwest::Url::parse(uri).is_ok_and(|url| url.scheme() == "ldaps")
}

/// The TLS settings for `ldaps://`: the roots HTTPS calls trust (Mozilla's, as reqwest's) plus
/// `http.ca_file`. Built when the config loads, so `nginx -t` reports an unreadable bundle.
fn tls_config(ca_file: Option<&str>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(file) = ca_file {
        let bad = |e: &dyn std::fmt::Display| format!("http.ca_file {file}: {e}");
        for cert in CertificateDer::pem_file_iter(file).map_err(|e| bad(&e))? {
            roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
        }
    }
    // Named explicitly: rustls refuses to guess when more than one provider is compiled in.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests;
