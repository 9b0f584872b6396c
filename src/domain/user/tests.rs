use super::*;

fn with_exp(exp: &str) -> User {
    let mut user = User::new("u", "r", vec![]);
    user.attributes.insert("exp".into(), exp.into());
    user
}

#[test]
fn expiry_is_read_from_any_json_number_rounded_down() {
    for (exp, want) in [
        ("1733500000", 1_733_500_000),
        // How a JWT provider writes `1733500000.5` and `1.7335e9` into the attribute.
        ("1733500000.5", 1_733_500_000),
        ("1733500000.0", 1_733_500_000),
        ("1.7335e9", 1_733_500_000),
        ("1.7335000009E+9", 1_733_500_000),
        ("-0.5", -1),
    ] {
        assert_eq!(with_exp(exp).expires_at(), Some(want), "{exp}");
    }
}

#[test]
fn expiry_out_of_range_is_clamped_and_non_numbers_are_none() {
    assert_eq!(with_exp("1e300").expires_at(), Some(i64::MAX));
    assert_eq!(
        with_exp("18446744073709551615").expires_at(),
        Some(i64::MAX)
    );
    assert_eq!(with_exp("-1e300").expires_at(), Some(i64::MIN));
    for exp in ["soon", "", "NaN", "inf", "1e400", "\"1733500000\"", "0x10"] {
        assert_eq!(with_exp(exp).expires_at(), None, "{exp}");
    }
    assert_eq!(User::new("u", "r", vec![]).expires_at(), None);
}

fn with_scopes(lists: &[(&str, &[&str])]) -> User {
    let mut user = User::new("u", "r", vec![]);
    for (provider, scopes) in lists {
        let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        user.scopes.insert((*provider).to_owned(), scopes);
    }
    user
}

#[test]
fn a_scope_is_held_when_any_providers_list_has_it() {
    let user = with_scopes(&[("jwt", &["read", "write"]), ("offline", &["admin"])]);
    assert!(user.holds_scope("read"));
    assert!(user.holds_scope("admin"));
    assert!(!user.holds_scope("rea"));
    assert!(!user.holds_scope("READ"));
    assert!(!User::new("u", "r", vec![]).holds_scope("read"));
}

#[test]
fn the_scopes_variable_is_sorted_and_each_scope_once() {
    let user = with_scopes(&[("b", &["write", "read"]), ("a", &["read", "admin"])]);
    assert_eq!(user.scopes_joined(), "admin read write");
    assert_eq!(User::new("u", "r", vec![]).scopes_joined(), "");
}

#[test]
fn attributes_are_found_by_their_lowercased_variable_name() {
    let mut user = User::new("u", "r", vec![]);
    user.attributes.insert("Email".into(), "upper@x".into());
    user.attributes
        .insert("ecmwf-email".into(), "dash@x".into());
    user.attributes.insert("given_name".into(), "Ann".into());
    assert_eq!(user.attribute_for_variable(b"email"), Some("upper@x"));
    assert_eq!(user.attribute_for_variable(b"given_name"), Some("Ann"));
    assert_eq!(user.attribute_for_variable(b"missing"), None);
    // An exact match wins over one that differs only in case.
    user.attributes.insert("email".into(), "lower@x".into());
    assert_eq!(user.attribute_for_variable(b"email"), Some("lower@x"));
}

#[test]
fn header_safe_text_has_no_control_character() {
    assert!(is_header_safe("ann@ecmwf.int"));
    assert!(is_header_safe(""));
    for unsafe_text in ["a\nb", "a\rb", "a\0b", "a\u{7f}b", "a\u{85}b"] {
        assert!(!is_header_safe(unsafe_text), "{unsafe_text:?}");
    }
}
