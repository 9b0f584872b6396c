use super::*;
use crate::auth::test_support::from_yaml;

const TWO_REALMS: &str = r#"
providers:
  - { type: plain, name: p1, realm: r1, users: [] }
  - { type: plain, name: p2, realm: r2, users: [] }
"#;

#[test]
fn the_locations_realm_beats_the_clients_selection() {
    let pinned = Policy {
        realm: Some("r1".into()),
        ..Policy::default()
    };
    assert_eq!(pinned.realm_for(|| Some(b"r2")).as_deref(), Some("r1"));
    assert_eq!(pinned.realm_for(|| None).as_deref(), Some("r1"));
    let unread = || -> Option<&[u8]> { panic!("X-Auth-Realm read for a pinned location") };
    assert_eq!(pinned.realm_for(unread).as_deref(), Some("r1"));

    let open = Policy::default();
    assert_eq!(open.realm_for(|| Some(b" r2 ")).as_deref(), Some("r2"));
    assert_eq!(open.realm_for(|| None), None);
    // A selector that is not visible ASCII is ignored, as upstream ignores it.
    assert_eq!(open.realm_for(|| Some("r\u{e9}".as_bytes())), None);
    assert_eq!(open.realm_for(|| Some(b"  ")), None);
}

#[test]
fn no_required_roles_admits_anyone_and_one_matching_role_is_enough() {
    let user = User::new("bob", "r1", vec!["user".into()]);
    let mut policy = Policy::default();
    assert!(policy.admits(&user));
    policy.required_roles = vec!["admin".into(), "user".into()];
    assert!(policy.admits(&user));
    policy.required_roles = vec!["admin".into()];
    assert!(!policy.admits(&user));
}

#[test]
fn output_headers_are_field_names_we_may_overwrite() {
    for good in ["Authorization", "X-Token", "x_auth!#$%&'*+-.^_`|~1"] {
        assert_eq!(check_output_header(good), Ok(()), "{good}");
    }
    for bad in ["", "bad header", "X:Token", "X-Tök", "a\nb"] {
        assert!(check_output_header(bad).is_err(), "{bad:?}");
    }
    for reserved in [
        "host",
        "Content-Length",
        "COOKIE",
        "x-auth-roles",
        "X-Auth-Realm",
    ] {
        let error = check_output_header(reserved).unwrap_err();
        assert!(error.contains("reserved"), "{reserved}: {error}");
    }
}

#[test]
fn realms_and_roles_follow_the_config_rules() {
    assert_eq!(check_realm("ecmwf"), Ok(()));
    for bad in ["", "a\"b", "a\\b", "a\tb"] {
        assert!(check_realm(bad).is_err(), "{bad:?}");
    }
    assert_eq!(check_role("admin"), Ok(()));
    assert!(check_role("").is_err());
}

#[test]
fn a_pinned_realm_must_exist_in_the_config() {
    let a = from_yaml(TWO_REALMS);
    let known = Policy {
        realm: Some("r2".into()),
        ..Policy::default()
    };
    assert_eq!(known.check_realm_known(&a), Ok(()));
    let unknown = Policy {
        realm: Some("nowhere".into()),
        ..Policy::default()
    };
    let error = unknown.check_realm_known(&a).unwrap_err();
    assert!(error.contains("\"nowhere\" matches no provider"), "{error}");
    assert_eq!(Policy::default().check_realm_known(&a), Ok(()));
}

#[test]
fn the_token_api_needs_the_store() {
    let a = from_yaml(TWO_REALMS);
    let tokens = Policy {
        endpoint: Some(Endpoint::Tokens),
        ..Policy::default()
    };
    let error = tokens.check_store(&a).unwrap_err();
    assert!(error.contains("store: {enabled: true}"), "{error}");
    let whoami = Policy {
        endpoint: Some(Endpoint::Whoami),
        ..Policy::default()
    };
    assert_eq!(whoami.check_store(&a), Ok(()));
}

#[test]
fn endpoints_answer_reads_and_the_token_api_every_method() {
    for endpoint in [Endpoint::Authenticate, Endpoint::Whoami] {
        assert!(endpoint.allows_method(b"GET") && endpoint.allows_method(b"HEAD"));
        assert!(!endpoint.allows_method(b"POST") && !endpoint.allows_method(b"get"));
    }
    for method in [&b"GET"[..], b"POST", b"DELETE", b"PATCH"] {
        assert!(Endpoint::Tokens.allows_method(method));
    }
}

#[test]
fn header_names_match_in_any_case_and_underscore_spellings_are_variants() {
    let ours = b"X-Auth-Username";
    assert_eq!(header_match(ours, b"x-auth-username"), HeaderMatch::Same);
    assert_eq!(header_match(ours, b"X-AUTH-USERNAME"), HeaderMatch::Same);
    for variant in [
        &b"X_Auth_Username"[..],
        b"x_auth-username",
        b"X-AUTH_USERNAME",
    ] {
        assert_eq!(
            header_match(ours, variant),
            HeaderMatch::Variant,
            "{variant:?}"
        );
    }
    for other in [
        &b"X-Auth-User"[..],
        b"X-Auth-Usernames",
        b"X.Auth.Username",
        b"",
    ] {
        assert_eq!(header_match(ours, other), HeaderMatch::Other, "{other:?}");
    }
}

#[test]
fn the_minted_token_replaces_authorization_only_when_that_is_the_output_header() {
    assert!(Policy::default().forwards_in_authorization());
    let custom = Policy {
        header: Arc::from("X-Token"),
        ..Policy::default()
    };
    assert!(!custom.forwards_in_authorization());
}

#[test]
fn every_listed_scope_is_needed() {
    let mut user = User::new("bob", "r1", vec![]);
    user.scopes
        .insert("jwt".into(), vec!["read".into(), "write".into()]);
    let mut policy = Policy::default();
    assert!(policy.grants_scopes(&user));
    assert!(policy.grants_scopes(&User::new("basic", "r1", vec![])));
    policy.required_scopes = vec!["read".into(), "write".into()];
    assert!(policy.grants_scopes(&user));
    policy.required_scopes = vec!["read".into(), "admin".into()];
    assert!(!policy.grants_scopes(&user));
    // Basic and API-key users hold no scope at all.
    policy.required_scopes = vec!["read".into()];
    assert!(!policy.grants_scopes(&User::new("basic", "r1", vec![])));
}

#[test]
fn required_scopes_are_oauth_scope_tokens() {
    for good in ["read", "api:write", "https://x.test/a.b", "!#[]~"] {
        assert_eq!(check_scope(good), Ok(()), "{good}");
    }
    for bad in ["", "a b", "a\"b", "a\\b", "a\nb", "caf\u{e9}", "\u{7f}"] {
        let error = check_scope(bad).unwrap_err();
        assert!(error.contains("is not an OAuth scope"), "{bad:?}: {error}");
    }
}
