use super::*;

#[test]
fn a_value_is_satisfied_unless_empty_or_zero() {
    for yes in [
        &b"1"[..],
        b"yes",
        b"00",
        b" ",
        b"0 ",
        b"false",
        b"ann@ecmwf.int",
    ] {
        assert!(is_satisfied(yes), "{yes:?}");
    }
    for no in [&b""[..], b"0"] {
        assert!(!is_satisfied(no), "{no:?}");
    }
}

#[test]
fn the_error_is_the_optional_last_argument() {
    let parse = |args: &[&[u8]]| parse_arguments(args).map(|(v, e)| (v.len(), e));
    assert_eq!(parse(&[b"$a"]), Ok((1, RequirementError::Forbidden)));
    assert_eq!(
        parse(&[b"$a", b"$b", b"error=401"]),
        Ok((2, RequirementError::Unauthorized))
    );
    assert_eq!(
        parse(&[b"$a", b"error=403"]),
        Ok((1, RequirementError::Forbidden))
    );
}

#[test]
fn a_bad_error_or_one_out_of_place_or_no_value_is_refused() {
    let refused = |args: &[&[u8]]| parse_arguments(args).unwrap_err();
    assert!(refused(&[b"$a", b"error=404"]).contains("\"error=404\" must be"));
    assert!(refused(&[b"$a", b"error="]).contains("\"error=\" must be"));
    assert!(refused(&[b"error=401", b"$a"]).contains("must be the last argument"));
    assert!(refused(&[b"error=401"]).contains("at least one value"));
    assert!(refused(&[]).contains("at least one value"));
}
