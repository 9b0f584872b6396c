//! Whom a failed validation is counted against. A subject is reduced at once to a keyed
//! 64-bit hash; no credential, username or address is ever stored in the zone.

use sha2::{Digest, Sha256};

use super::Kind;
use crate::domain::Scheme;
use crate::providers::plain::decode_basic;

/// The key of the hash: random per zone, so no client can choose subjects that collide.
pub const KEY_LEN: usize = 32;

/// One subject of a request: its kind and fingerprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subject {
    pub kind: Kind,
    pub fingerprint: u64,
}

/// The subjects of a request: what each credential names, then the client address.
///
/// - Basic: the username within the realm the location asks for (none: every realm). The
///   password takes no part, so guessing passwords for one user is what gets limited.
/// - Bearer: for a JWT (three dot-separated parts) its payload, the claims without the
///   signature, so forging signatures for one set of claims is limited; for any other bearer
///   credential the credential itself, because an opaque token (a store token included) has no
///   part that names its owner without a lookup, and a prefix would merge unrelated tokens.
/// - The client address, which catches guessing across many usernames or tokens.
pub fn subjects<'c>(
    key: &[u8; KEY_LEN],
    credentials: impl IntoIterator<Item = (&'c Scheme, &'c str)>,
    realm: Option<&str>,
    address: &[u8],
) -> Vec<Subject> {
    let mut found: Vec<Subject> = credentials
        .into_iter()
        .filter_map(|(scheme, secret)| match scheme {
            Scheme::Basic => {
                let (username, _) = decode_basic(secret).ok()?;
                let realm = realm.unwrap_or_default().as_bytes();
                Some(subject(key, Kind::Basic, &[realm, username.as_bytes()]))
            }
            Scheme::Bearer => Some(subject(key, Kind::Bearer, &[bearer_claimant(secret)])),
            Scheme::Other(_) => None,
        })
        .collect();
    if !address.is_empty() {
        found.push(subject(key, Kind::Address, &[address]));
    }
    found
}

fn bearer_claimant(secret: &str) -> &[u8] {
    let mut parts = secret.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(_), Some(payload), Some(_), None) => payload.as_bytes(),
        _ => secret.as_bytes(),
    }
}

fn subject(key: &[u8; KEY_LEN], kind: Kind, parts: &[&[u8]]) -> Subject {
    let mut hash = Sha256::new();
    hash.update(key);
    hash.update([kind as u8]);
    for part in parts {
        // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    Subject {
        kind,
        fingerprint: u64::from_le_bytes(first),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(scheme: Scheme, secret: &str) -> (Scheme, String) {
        (scheme, secret.to_owned())
    }

    fn subjects(
        key: &[u8; KEY_LEN],
        credentials: &[(Scheme, String)],
        realm: Option<&str>,
        address: &[u8],
    ) -> Vec<Subject> {
        super::subjects(
            key,
            credentials.iter().map(|(s, c)| (s, c.as_str())),
            realm,
            address,
        )
    }

    const KEY: [u8; KEY_LEN] = [7; KEY_LEN];
    // "alice:one" and "alice:two"
    const ALICE_ONE: &str = "YWxpY2U6b25l";
    const ALICE_TWO: &str = "YWxpY2U6dHdv";

    #[test]
    fn a_basic_subject_is_the_username_in_its_realm_whatever_the_password() {
        let one = subjects(
            &KEY,
            &[credential(Scheme::Basic, ALICE_ONE)],
            Some("r"),
            b"",
        );
        let two = subjects(
            &KEY,
            &[credential(Scheme::Basic, ALICE_TWO)],
            Some("r"),
            b"",
        );
        let other_realm = subjects(
            &KEY,
            &[credential(Scheme::Basic, ALICE_ONE)],
            Some("s"),
            b"",
        );
        assert_eq!(one.len(), 1);
        assert_eq!(one, two);
        assert_ne!(one, other_realm);
        assert_eq!(one[0].kind, Kind::Basic);
    }

    #[test]
    fn a_jwt_subject_is_its_claims_and_an_opaque_token_is_itself() {
        let jwt = |sig| credential(Scheme::Bearer, &format!("h.claims.{sig}"));
        let a = subjects(&KEY, &[jwt("sig1")], None, b"");
        let b = subjects(&KEY, &[jwt("sig2")], None, b"");
        assert_eq!(a, b);
        let t1 = subjects(&KEY, &[credential(Scheme::Bearer, "aot_aaaa1")], None, b"");
        let t2 = subjects(&KEY, &[credential(Scheme::Bearer, "aot_aaaa2")], None, b"");
        assert_ne!(t1, t2);
        assert_eq!(t1[0].kind, Kind::Bearer);
    }

    #[test]
    fn the_address_is_a_subject_and_the_key_changes_every_fingerprint() {
        let found = subjects(
            &KEY,
            &[credential(Scheme::Basic, ALICE_ONE)],
            None,
            b"10.0.0.1",
        );
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].kind, Kind::Address);
        let rekeyed = subjects(&[8; KEY_LEN], &[], None, b"10.0.0.1");
        assert_ne!(found[1], rekeyed[0]);
        // A malformed Basic credential and another scheme name no subject.
        let odd = [
            credential(Scheme::Basic, "!!"),
            credential(Scheme::Other("Digest".into()), "x"),
        ];
        assert!(subjects(&KEY, &odd, None, b"").is_empty());
    }
}
