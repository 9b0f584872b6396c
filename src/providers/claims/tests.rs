use super::*;
use serde_json::json;

fn map(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn maps_like_upstream() {
    let claims = map(json!({
        "sub": "abc", "preferred_username": "alice", "scope": "openid  offline_access",
        "realm_access": {"roles": ["r1"]}, "entitlements": ["e1"],
        "resource_access": {"zeta": {"roles": ["z"]}, "alpha": {"roles": ["a"]}},
        "email": "a@example.com", "exp": 1700000000, "flag": true, "none": null,
        "nested": {"flag": true}, "evil": "a\nb"
    }));
    let u = user_from_claims(&claims, "kc", "ecmwf").unwrap();
    assert_eq!(u.username, "alice");
    assert_eq!(u.realm, "ecmwf");
    assert_eq!(u.roles, ["r1", "e1", "a", "z"]);
    assert_eq!(u.scopes["kc"], ["openid", "offline_access"]);
    assert_eq!(u.attributes["email"], "a@example.com");
    assert_eq!(u.attributes["exp"], "1700000000");
    assert_eq!(u.attributes["flag"], "true");
    assert_eq!(u.attributes["none"], "null");
    assert_eq!(u.attributes["nested"], r#"{"flag":true}"#);
    assert_eq!(u.attributes["preferred_username"], "alice");
    assert_eq!(u.attributes["evil"], "ab");
    for structural in STRUCTURAL {
        assert!(!u.attributes.contains_key(*structural));
    }
}

#[test]
fn sub_is_the_fallback_username_and_scope_is_optional() {
    let u = user_from_claims(&map(json!({"sub": "abc"})), "kc", "r").unwrap();
    assert_eq!(u.username, "abc");
    assert!(u.scopes.is_empty() && u.roles.is_empty());
}

#[test]
fn malformed_shapes_are_refused() {
    for bad in [
        json!({"scope": "x"}),
        json!({"sub": 1}),
        json!({"sub": "a", "scope": 3}),
        json!({"sub": "a", "realm_access": {}}),
        json!({"sub": "a", "resource_access": {"c": {}}}),
        json!({"sub": "a", "entitlements": [1]}),
    ] {
        assert!(
            user_from_claims(&map(bad.clone()), "kc", "r").is_err(),
            "{bad}"
        );
    }
}
