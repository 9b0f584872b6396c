//! Group DNs from the directory (`memberOf`) turned into roles, and usernames escaped for the
//! search filter.
//!
//! Input: the DN on the first line, then one `filters` entry per line. The DN doubles as the
//! username to escape, and the first filter as the single `filter`.

use crate::augmenters::ldap_roles::{escape_filter_value, first_cn, RoleRule};

pub fn ldap_dn(data: &[u8]) {
    let Some(input) = super::text(data) else {
        return;
    };
    let mut lines = input.split('\n');
    let dn = lines.next().unwrap_or_default();
    let filters: Vec<String> = lines.map(str::to_owned).collect();

    let cn = first_cn(dn);
    assert_eq!(
        RoleRule::Cn(None).roles(dn),
        Vec::from_iter(cn.map(str::to_owned))
    );
    if let Some(filter) = filters.first() {
        let roles = RoleRule::Cn(Some(filter.clone())).roles(dn);
        assert!(roles.is_empty() || (dn.contains(filter.as_str()) && roles.len() == 1));
    }

    if let Ok(rule) = RoleRule::paths(&filters) {
        let roles = rule.roles(dn);
        assert!(roles.len() <= filters.len());
        assert!(roles.iter().all(|r| r.starts_with('/')));
        if cn.is_none() {
            assert!(roles.is_empty(), "roles from a DN without a CN");
        }
        // A filter matches as written or reversed, so reversing every filter gives the same.
        let reversed: Vec<String> = filters.iter().map(|f| reverse_components(f)).collect();
        let again = RoleRule::paths(&reversed).expect("reversing keeps the components");
        assert_eq!(again.roles(dn), roles);
    }

    // A username cannot change the search filter: nothing special is left unescaped, and the
    // escaping reads back as the username.
    let escaped = escape_filter_value(dn);
    assert!(!escaped.contains(['*', '(', ')', '\0']));
    assert_eq!(unescape(&escaped), dn);
}

/// The filter's `key=value` components in reverse order (what they are, not how they were
/// spelt: the rule trims them and drops empty ones).
fn reverse_components(filter: &str) -> String {
    let parts: Vec<&str> = filter.split(',').filter(|p| p.contains('=')).collect();
    parts.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// RFC 4515 `\XX` escapes back to characters.
fn unescape(escaped: &str) -> String {
    let mut out = Vec::new();
    let bytes = escaped.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("two hex digits");
            out.push(u8::from_str_radix(hex, 16).expect("an escape is hex"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("unescaping gives back UTF-8")
}
