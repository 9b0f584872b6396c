//! The `Authorization` header (every scheme, several credentials), the `X-Auth-Realm` selector
//! and the cache key derived from both.
//!
//! Input: up to four lines, `header A`, `realm selector A`, `header B`, `realm selector B`
//! (a missing line is a missing header). Newline separates them because NGINX never hands a
//! header value with one in it; every other byte reaches the parser as sent.

use std::sync::{Arc, LazyLock};

use super::loaded;
use crate::auth::header::{parse_authorization, parse_realm_selector, Credential, MAX_CREDENTIALS};
use crate::auth::{Authenticator, Lookup};
use crate::cache::cache_key;
use crate::domain::Verdict;

/// An authenticator with one provider per scheme; `look_up` never calls them, it only parses
/// and consults the (always empty) cache.
static AUTHENTICATOR: LazyLock<Arc<Authenticator>> = LazyLock::new(|| {
    let config = loaded(
        r#"
version: "2.0.0"
jwt: { iss: fuzz, exp: 3600, secret: "0123456789abcdef0123456789abcdef" }
providers:
  - { type: plain, name: local, realm: internal, users: [{ username: u, password: p }] }
  - { type: ecmwf-api, name: api, realm: ecmwf, uri: "http://127.0.0.1:9/api" }
"#,
    );
    Arc::new(Authenticator::new(&config).expect("the fuzzing authenticator builds"))
});

pub fn authorization(data: &[u8]) {
    let mut lines = data.split(|&b| b == b'\n');
    let a = (lines.next(), lines.next());
    let b = (lines.next(), lines.next());
    let key_a = one_request(a.0, a.1);
    let key_b = one_request(b.0, b.1);

    // The cache answers a request without parsing its header, so two requests may share a key
    // only if they are the same request: same header bytes, same realm selection. A missing
    // header and an empty one are the same request (both are refused and never cached).
    let same_request =
        a.0.unwrap_or_default() == b.0.unwrap_or_default() && realm(a.1) == realm(b.1);
    assert_eq!(
        key_a == key_b,
        same_request,
        "the cache key must tell two requests apart exactly when they differ"
    );
}

/// The realm a location without `authotron_realm` selects for this `X-Auth-Realm`.
fn realm(selector: Option<&[u8]>) -> Option<String> {
    parse_realm_selector(selector)
}

/// Parses one header as the access handler's first look does, checks what must hold, and
/// returns its cache key.
fn one_request(header: Option<&[u8]>, selector: Option<&[u8]>) -> [u8; 32] {
    let realm = realm(selector);
    if let Some(realm) = &realm {
        assert!(!realm.is_empty() && realm.trim() == realm);
    }
    let parsed = parse_authorization(header);
    if let Ok(credentials) = &parsed {
        well_formed(header.unwrap_or_default(), credentials);
    }

    // A refused header never reaches a provider and never yields an identity.
    match AUTHENTICATOR.look_up(header, realm.as_deref()) {
        Lookup::Answered(outcome) => {
            assert!(parsed.is_err(), "a parsed header must go to the providers");
            assert!(matches!(outcome.verdict, Verdict::Rejected));
        }
        Lookup::NeedsProviders(_) => assert!(parsed.is_ok(), "a refused header went on"),
    }
    cache_key(realm.as_deref(), header.unwrap_or_default())
}

/// What every accepted header gives: one to three credentials, each a scheme and a secret taken
/// from the header as sent, in the order sent, no scheme twice.
fn well_formed(raw: &[u8], credentials: &[Credential]) {
    assert!(
        (1..=MAX_CREDENTIALS).contains(&credentials.len()),
        "{} credentials",
        credentials.len()
    );
    let text = std::str::from_utf8(raw).expect("an accepted header is text");
    let mut from = 0;
    for (i, credential) in credentials.iter().enumerate() {
        let secret = credential.secret.as_str();
        assert!(!secret.is_empty());
        assert!(!secret.contains(|c: char| c == ',' || c.is_ascii_whitespace()));
        assert!(secret.bytes().all(|b| (0x21..0x7f).contains(&b)));
        let at = text[from..]
            .find(secret)
            .unwrap_or_else(|| panic!("credential {i} is not in the header after the one before"));
        from += at + secret.len();
        for earlier in &credentials[..i] {
            assert!(
                !earlier.scheme.same_as(&credential.scheme),
                "one scheme twice"
            );
        }
    }
}
