//! Turning the claims of a validated JWT into a `User`, as upstream's `jwt` provider does.

use serde_json::{Map, Value};

use crate::domain::User;

/// Claims that feed the user's fields and so are not copied into attributes.
const STRUCTURAL: &[&str] = &[
    "sub",
    "scope",
    "realm_access",
    "resource_access",
    "entitlements",
];

/// Maps claims as upstream does: username from `preferred_username` or `sub`; roles from
/// `realm_access`, `entitlements`, then each client of `resource_access` (in client-name
/// order); every other claim becomes a string attribute; scopes are keyed by provider name.
pub fn user_from_claims(
    claims: &Map<String, Value>,
    provider: &str,
    realm: &str,
) -> Result<User, String> {
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or("the token has no string `sub`")?;
    let username = claims
        .get("preferred_username")
        .and_then(Value::as_str)
        .unwrap_or(sub);

    let mut roles = Vec::new();
    if let Some(realm_access) = claims.get("realm_access") {
        roles.extend(roles_of(realm_access).ok_or("`realm_access` has no `roles` list")?);
    }
    if let Some(entitlements) = claims.get("entitlements") {
        roles.extend(strings(entitlements).ok_or("`entitlements` is not a list of strings")?);
    }
    if let Some(resource_access) = claims.get("resource_access") {
        let clients = resource_access
            .as_object()
            .ok_or("`resource_access` is not an object")?;
        for client in clients.values() {
            roles.extend(roles_of(client).ok_or("a `resource_access` entry has no `roles` list")?);
        }
    }

    let mut user = User::new(username, realm, roles);
    for (name, value) in claims {
        if !STRUCTURAL.contains(&name.as_str()) {
            user.attributes.insert(name.clone(), attribute_text(value));
        }
    }
    match claims.get("scope") {
        Some(Value::String(scope)) => {
            let scopes = scope.split_whitespace().map(str::to_owned).collect();
            user.scopes.insert(provider.to_owned(), scopes);
        }
        Some(_) => return Err("`scope` is not a string".to_owned()),
        None => {}
    }
    Ok(user)
}

fn roles_of(holder: &Value) -> Option<Vec<String>> {
    strings(holder.get("roles")?)
}

fn strings(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// Strings as they are, anything else as compact JSON; control characters removed.
fn attribute_text(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests;
