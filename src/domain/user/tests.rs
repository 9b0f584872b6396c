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
