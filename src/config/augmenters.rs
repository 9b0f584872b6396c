//! `augmenters:` entries, tagged by `type`, with upstream's field names.

use std::fmt;

use super::decode::{Ctx, Decoded, Fields, Finding, Node};
use super::redact::REDACTED;
use super::remote::decode_cache_ttl;
use crate::augmenters::ldap_roles;

/// One step that adds roles or attributes to an authenticated user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AugmenterConfig {
    /// `type: plain` (deprecated upstream)
    Plain(PlainAugmenterConfig),
    /// `type: plain_advanced`
    PlainAdvanced(PlainAdvancedConfig),
    /// `type: ldap`
    Ldap(LdapAugmenterConfig),
}

/// Every augmenter `type`, in the order of the enum.
pub(crate) const AUGMENTER_TYPES: &[&str] = &["plain", "plain_advanced", "ldap"];

impl AugmenterConfig {
    pub fn name(&self) -> &str {
        match self {
            AugmenterConfig::Plain(c) => &c.name,
            AugmenterConfig::PlainAdvanced(c) => &c.name,
            AugmenterConfig::Ldap(c) => &c.name,
        }
    }

    pub fn realm(&self) -> &str {
        match self {
            AugmenterConfig::Plain(c) => &c.realm,
            AugmenterConfig::PlainAdvanced(c) => &c.realm,
            AugmenterConfig::Ldap(c) => &c.realm,
        }
    }

    /// The `type` tag of the YAML entry.
    pub fn type_tag(&self) -> &'static str {
        match self {
            AugmenterConfig::Plain(_) => "plain",
            AugmenterConfig::PlainAdvanced(_) => "plain_advanced",
            AugmenterConfig::Ldap(_) => "ldap",
        }
    }
}

/// `type: plain`: role name → usernames that get it, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainAugmenterConfig {
    pub name: String,
    pub realm: String,
    pub roles: Vec<(String, Vec<String>)>,
}

/// `type: plain_advanced`: when a user matches, add roles and set attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainAdvancedConfig {
    pub name: String,
    pub realm: String,
    pub r#match: MatchRule,
    pub augment: AugmentRule,
}

/// A user matches when their username is in `username` or one of their roles is in `role`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchRule {
    pub username: Vec<String>,
    pub role: Vec<String>,
}

/// What a match adds: roles (each once), and attributes (overwriting), in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AugmentRule {
    pub roles: Vec<String>,
    pub attributes: Vec<(String, String)>,
}

/// `type: ldap`: roles from the `memberOf` groups of the user's LDAP entry.
#[derive(Clone, PartialEq, Eq)]
pub struct LdapAugmenterConfig {
    pub name: String,
    pub realm: String,
    /// `ldap://`, `ldaps://` or `ldapi://`, checked at load.
    pub uri: String,
    pub search_base: String,
    pub ldap_password: String,
    /// Upstream's single `filter`: a substring the group DN must contain.
    pub filter: Option<String>,
    /// Upstream's `filters`, each checked at load to hold `key=value` components.
    pub filters: Option<Vec<String>>,
    /// Optional upstream, where every lookup without it fails ("No bind DN provided"); we
    /// require it at load instead.
    pub bind_dn: String,
    /// Ours: how long a user's roles are reused (default 120, upstream's).
    pub cache_ttl_seconds: Option<u64>,
}

impl fmt::Debug for LdapAugmenterConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LdapAugmenterConfig")
            .field("name", &self.name)
            .field("realm", &self.realm)
            .field("uri", &self.uri)
            .field("search_base", &self.search_base)
            .field("ldap_password", &REDACTED)
            .field("filter", &self.filter)
            .field("filters", &self.filters)
            .field("bind_dn", &self.bind_dn)
            .field("cache_ttl_seconds", &self.cache_ttl_seconds)
            .finish()
    }
}

pub(crate) fn decode_list(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<Vec<AugmenterConfig>> {
    node.sequence()?
        .iter()
        .map(|entry| decode(entry, cx))
        .collect()
}

fn decode(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<AugmenterConfig> {
    let mut f = node.mapping()?;
    let type_node = f.required("type")?;
    let tag = type_node.string(cx)?;
    let name = f.required_string(cx, "name")?;
    let realm = f.required_realm(cx)?;
    let augmenter = match tag.as_str() {
        "plain" => {
            let roles = f.required("roles")?;
            cx.warn(Finding::at(
                node.path(),
                format!(
                    "`{}`: the `plain` augmenter is deprecated; use `plain_advanced`",
                    node.path()
                ),
            ));
            AugmenterConfig::Plain(PlainAugmenterConfig {
                name,
                realm,
                roles: decode_role_map(&roles, cx)?,
            })
        }
        "plain_advanced" => {
            let rule = f.required("match")?;
            let augment = f.required("augment")?;
            let config = PlainAdvancedConfig {
                name,
                realm,
                r#match: decode_match(&rule, cx)?,
                augment: decode_augment(&augment, cx)?,
            };
            if config.r#match.username.is_empty() && config.r#match.role.is_empty() {
                cx.warn(Finding::at(
                    rule.path(),
                    format!("`{}` is empty: this augmenter never applies", rule.path()),
                ));
            }
            AugmenterConfig::PlainAdvanced(config)
        }
        "ldap" => AugmenterConfig::Ldap(decode_ldap(node, &mut f, cx, name, realm)?),
        _ => {
            return Err(type_node.error(format!(
                "unknown augmenter type `{tag}`; expected one of: {}",
                AUGMENTER_TYPES.join(", ")
            )))
        }
    };
    f.finish(cx);
    Ok(augmenter)
}

fn decode_ldap(
    node: &Node<'_>,
    f: &mut Fields<'_>,
    cx: &mut Ctx<'_>,
    name: String,
    realm: String,
) -> Decoded<LdapAugmenterConfig> {
    let uri_node = f.required("uri")?;
    let uri = uri_node.string(cx)?;
    ldap_url(&uri).map_err(|message| uri_node.error(message))?;
    let search_base = f.required_string(cx, "search_base")?;
    let ldap_password = f.required_string(cx, "ldap_password")?;
    let bind_dn = f.optional_string(cx, "bind_dn")?.ok_or_else(|| {
        node.error(
            "missing field `bind_dn`: the augmenter binds with `bind_dn` and `ldap_password` \
             (upstream Auth-O-Tron fails every lookup without it)",
        )
    })?;
    let filter = f.optional_string(cx, "filter")?;
    let filters = match f.optional("filters") {
        Some(list) => Some(decode_dn_filters(&list, cx)?),
        None => None,
    };
    if filter.is_some() && filters.is_some() {
        cx.warn(Finding::at_key(
            &node.path().key("filter"),
            format!("`{}.filter` is ignored: `filters` is set", node.path()),
        ));
    }
    Ok(LdapAugmenterConfig {
        name,
        realm,
        uri,
        search_base,
        ldap_password,
        filter,
        filters,
        bind_dn,
        cache_ttl_seconds: decode_cache_ttl(f)?,
    })
}

/// Upstream fails every lookup at run time when one of the `filters` has no `key=value`
/// component; here the file does not load, and the error points at that filter.
fn decode_dn_filters(list: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<Vec<String>> {
    let items = list.sequence()?;
    if items.is_empty() {
        cx.warn(Finding::at(
            list.path(),
            format!(
                "`{}` is empty: this augmenter never adds a role",
                list.path()
            ),
        ));
    }
    items
        .iter()
        .map(|item| {
            let filter = item.string(cx)?;
            if ldap_roles::components(&filter).is_empty() {
                return Err(item.error(
                    "an LDAP DN filter needs `key=value` components, such as `OU=TeamA` or \
                     `OU=TeamA,OU=TeamB`",
                ));
            }
            Ok(filter)
        })
        .collect()
}

/// The directory address, as the LDAP client accepts it: `ldap://` or `ldaps://` with a host,
/// or `ldapi://` with a socket path. Checked now, so that a typo fails `nginx -t` instead of
/// every lookup.
fn ldap_url(text: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(text).map_err(|e| format!("is not a usable URL ({e})"))?;
    match url.scheme() {
        "ldap" | "ldaps" | "ldapi" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        "ldap" | "ldaps" | "ldapi" => Err("the LDAP URL names no host".to_owned()),
        other => Err(format!(
            "must be an ldap, ldaps or ldapi URL, not `{other}:`"
        )),
    }
}

fn decode_role_map(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<Vec<(String, Vec<String>)>> {
    node.mapping()?
        .all_entries()?
        .into_iter()
        .map(|(role, users)| Ok((role, users.string_list(cx)?)))
        .collect()
}

fn decode_match(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<MatchRule> {
    let mut f: Fields<'_> = node.mapping()?;
    let rule = MatchRule {
        username: f.string_list(cx, "username")?,
        role: f.string_list(cx, "role")?,
    };
    f.finish(cx);
    Ok(rule)
}

fn decode_augment(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<AugmentRule> {
    let mut f = node.mapping()?;
    let roles = f.string_list(cx, "roles")?;
    let attributes = match f.optional("attributes") {
        Some(map) => map
            .mapping()?
            .all_entries()?
            .into_iter()
            .map(|(key, value)| Ok((key, value.string(cx)?)))
            .collect::<Decoded<Vec<_>>>()?,
        None => Vec::new(),
    };
    f.finish(cx);
    Ok(AugmentRule { roles, attributes })
}
