//! `augmenters:` entries, tagged by `type`, with upstream's field names.

use std::fmt;

use super::decode::{Ctx, Decoded, Fields, Finding, Node};
use super::redact::REDACTED;
use super::support::{self, Kind};

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
    pub uri: String,
    pub search_base: String,
    pub ldap_password: String,
    pub filter: Option<String>,
    pub filters: Option<Vec<String>>,
    pub bind_dn: Option<String>,
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
        "ldap" => AugmenterConfig::Ldap(LdapAugmenterConfig {
            name,
            realm,
            uri: f.required_string(cx, "uri")?,
            search_base: f.required_string(cx, "search_base")?,
            ldap_password: f.required_string(cx, "ldap_password")?,
            filter: f.optional_string(cx, "filter")?,
            filters: f
                .optional("filters")
                .map(|n| n.string_list(cx))
                .transpose()?,
            bind_dn: f.optional_string(cx, "bind_dn")?,
        }),
        _ => {
            return Err(type_node.error(format!(
                "unknown augmenter type `{tag}`; expected one of: {}",
                AUGMENTER_TYPES.join(", ")
            )))
        }
    };
    f.finish(cx);
    if cx.check_support {
        support::check(Kind::Augmenter, augmenter.type_tag()).map_err(|m| node.error(m))?;
    }
    Ok(augmenter)
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
