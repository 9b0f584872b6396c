use super::*;

fn parse(s: &str) -> Result<Vec<Credential>, HeaderError> {
    parse_authorization(Some(s.as_bytes()))
}

fn schemes(s: &str) -> Vec<String> {
    parse(s)
        .unwrap()
        .iter()
        .map(|c| format!("{} {}", c.scheme, c.secret))
        .collect()
}

#[test]
fn missing_empty_or_non_ascii_header_is_missing() {
    assert_eq!(parse_authorization(None), Err(HeaderError::Missing));
    assert_eq!(parse("   "), Err(HeaderError::Missing));
    assert_eq!(
        parse_authorization(Some("Basic é".as_bytes())),
        Err(HeaderError::Missing)
    );
    assert_eq!(
        parse_authorization(Some(b"Basic a\x01b")),
        Err(HeaderError::Missing)
    );
}

#[test]
fn schemes_are_normalised() {
    assert_eq!(Scheme::parse("plain"), Scheme::Basic);
    assert_eq!(Scheme::parse("PLAIN"), Scheme::Basic);
    assert_eq!(Scheme::parse("Basic"), Scheme::Basic);
    assert_eq!(Scheme::parse("bearer"), Scheme::Bearer);
    assert_eq!(Scheme::parse("unknown"), Scheme::Other("unknown".into()));
    assert_eq!(schemes("plain abc"), ["Basic abc"]);
}

#[test]
fn parts_keep_their_order() {
    assert_eq!(
        schemes("Bearer tok, Basic abc"),
        ["Bearer tok", "Basic abc"]
    );
    assert_eq!(
        schemes("Basic abc ,\tBearer tok"),
        ["Basic abc", "Bearer tok"]
    );
}

#[test]
fn identical_duplicates_are_dropped_and_do_not_count() {
    assert_eq!(schemes("Basic X, Basic X"), ["Basic X"]);
    assert_eq!(
        schemes("Basic X, Bearer Y, Basic X, EmailKey Z"),
        ["Basic X", "Bearer Y", "EmailKey Z"]
    );
    // Same scheme and credential spelt differently is the same credential.
    assert_eq!(schemes("Basic X, plain X"), ["Basic X"]);
}

#[test]
fn at_most_three_unique_parts() {
    assert_eq!(
        parse("Basic a, Bearer b, Digest c, Other d"),
        Err(HeaderError::TooManyCredentials)
    );
    assert_eq!(schemes("Basic a, Bearer b, Digest c").len(), 3);
}

#[test]
fn one_scheme_with_different_credentials_is_refused() {
    // Upstream silently lets the last one win; we refuse.
    assert_eq!(
        parse("Basic a, Basic b, Basic c"),
        Err(HeaderError::ConflictingCredentials)
    );
    assert_eq!(
        parse("Basic a, plain b"),
        Err(HeaderError::ConflictingCredentials)
    );
    assert_eq!(
        parse("Foo a, foo b"),
        Err(HeaderError::ConflictingCredentials)
    );
}

#[test]
fn each_part_is_exactly_scheme_and_credential() {
    for bad in [
        "Bearer",
        "Bearer a b",
        "Basic abc,",
        ",Basic abc",
        "Basic a,,Bearer b",
    ] {
        assert_eq!(parse(bad), Err(HeaderError::Malformed), "{bad:?}");
    }
}

#[test]
fn realm_selector_must_be_visible_ascii() {
    assert_eq!(parse_realm_selector(Some(b"ecmwf")), Some("ecmwf".into()));
    assert_eq!(parse_realm_selector(Some(b" ecmwf ")), Some("ecmwf".into()));
    assert_eq!(parse_realm_selector(Some(b"")), None);
    assert_eq!(parse_realm_selector(Some("réalm".as_bytes())), None);
    assert_eq!(parse_realm_selector(None), None);
}

#[test]
fn debug_never_shows_the_secret() {
    let c = &parse("Basic c2VjcmV0").unwrap()[0];
    assert!(!format!("{c:?}").contains("c2VjcmV0"));
}

mod hostile_input {
    use super::*;

    /// Random bytes biased towards the characters the parser cares about must never panic,
    /// and whatever parses respects the limits.
    #[test]
    fn random_headers_never_panic() {
        const ALPHABET: &[u8] = b"Basic Bearer plain ,,\t  abc=:\x00\x7f\xff";
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let len = (state % 48) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    ALPHABET[(state % ALPHABET.len() as u64) as usize]
                })
                .collect();
            if let Ok(credentials) = parse_authorization(Some(&bytes)) {
                assert!(!credentials.is_empty() && credentials.len() <= MAX_CREDENTIALS);
                assert!(credentials.iter().all(|c| !c.secret.is_empty()));
            }
            let _ = parse_realm_selector(Some(&bytes));
        }
    }
}
