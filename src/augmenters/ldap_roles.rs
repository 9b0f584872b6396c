//! The pure half of the `ldap` augmenter: turning the `memberOf` DNs of a user into roles as
//! upstream does, and escaping the username for the search filter (RFC 4515), which upstream
//! does not do. The directory client that uses these is `ldap.rs`.

/// How roles are derived from a group DN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleRule {
    /// The group's CN, for every group, or only for groups whose DN contains this text
    /// (case-sensitive), as upstream's single `filter`.
    Cn(Option<String>),
    /// Upstream's `filters`: each is a run of `key=value` components; where it matches a
    /// contiguous part of the DN (as written or reversed, case-insensitively), the role is the
    /// path from the outermost matched component down to the group: `/TeamA/TeamB/Role`.
    Paths(Vec<Vec<(String, String)>>),
}

impl RoleRule {
    /// Parses `filters`; a filter without any `key=value` component is an error, as upstream.
    pub fn paths(filters: &[String]) -> Result<RoleRule, String> {
        filters
            .iter()
            .map(|f| {
                let parts = components(f);
                if parts.is_empty() {
                    Err(format!(
                        "invalid LDAP filter `{f}`: expected key=value components"
                    ))
                } else {
                    Ok(parts)
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(RoleRule::Paths)
    }

    /// The roles one group DN gives, in filter order.
    pub fn roles(&self, dn: &str) -> Vec<String> {
        let Some(cn) = first_cn(dn) else {
            return Vec::new();
        };
        match self {
            RoleRule::Cn(None) => vec![cn.to_owned()],
            RoleRule::Cn(Some(filter)) if dn.contains(filter.as_str()) => vec![cn.to_owned()],
            RoleRule::Cn(Some(_)) => Vec::new(),
            RoleRule::Paths(filters) => {
                let parts = components(dn);
                filters
                    .iter()
                    .filter_map(|filter| path_role(&parts, filter))
                    .collect()
            }
        }
    }
}

/// The value of the first `CN` component, untrimmed as upstream. Upstream only knows the
/// spelling `CN=`, which Active Directory uses; OpenLDAP writes every DN it returns as `cn=`,
/// and attribute types are case-insensitive (RFC 4514), so any case is accepted here.
pub fn first_cn(dn: &str) -> Option<&str> {
    dn.split(',').find_map(|part| {
        let (key, value) = part.split_at_checked(3)?;
        key.eq_ignore_ascii_case("cn=").then_some(value)
    })
}

/// `key=value` pairs of a DN or filter, trimmed, empty and key-less parts dropped.
pub fn components(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|part| {
            let (key, value) = part.split_once('=')?;
            let (key, value) = (key.trim(), value.trim());
            (!key.is_empty()).then(|| (key.to_owned(), value.to_owned()))
        })
        .collect()
}

/// Where `filter` (or its reverse) sits as a contiguous run in `dn`, the role is `/` and the
/// values from the run's outermost component down to the DN's first one.
fn path_role(dn: &[(String, String)], filter: &[(String, String)]) -> Option<String> {
    let same = |a: &(String, String), b: &(String, String)| {
        a.0.eq_ignore_ascii_case(&b.0) && a.1.eq_ignore_ascii_case(&b.1)
    };
    let reversed: Vec<_> = filter.iter().rev().cloned().collect();
    let width = filter.len();
    if width == 0 || width > dn.len() {
        return None;
    }
    let start = (0..=dn.len() - width).find(|&at| {
        let window = &dn[at..at + width];
        window.iter().zip(filter).all(|(a, b)| same(a, b))
            || window.iter().zip(&reversed).all(|(a, b)| same(a, b))
    })?;
    let outermost = start + width - 1;
    let path: Vec<&str> = dn[..=outermost]
        .iter()
        .rev()
        .map(|(_, v)| v.as_str())
        .collect();
    Some(format!("/{}", path.join("/")))
}

/// Escapes a value for an LDAP search filter (RFC 4515 §3), so a username cannot change the
/// filter: `*`, `(`, `)`, `\` and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`.
pub fn escape_filter_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' => escaped.push_str("\\2a"),
            '(' => escaped.push_str("\\28"),
            ')' => escaped.push_str("\\29"),
            '\\' => escaped.push_str("\\5c"),
            '\0' => escaped.push_str("\\00"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests;
