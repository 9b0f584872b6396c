//! The opaque token format: `aot_`, 32 random bytes and a checksum, all URL-safe. The prefix
//! makes a leaked token recognisable to secret scanners; the checksum lets us turn away typos
//! and garbage without a database round trip.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "aot_";
const RANDOM_BYTES: usize = 32;
/// Base64 characters of the random part (32 bytes, unpadded).
const BODY_LEN: usize = 43;
/// Base64 characters of the checksum (4 bytes of SHA-256, unpadded).
const CHECK_LEN: usize = 6;
pub const TOKEN_LEN: usize = PREFIX.len() + BODY_LEN + CHECK_LEN;

/// A freshly generated token. Only `hash` is ever stored.
pub struct NewToken {
    pub secret: String,
    pub hash: String,
    /// The public handle used to list and revoke the token.
    pub id: String,
}

/// Generates a token and its id from the operating system's random source.
pub fn generate() -> Result<NewToken, String> {
    let mut random = [0u8; RANDOM_BYTES];
    let mut id = [0u8; 16];
    getrandom::fill(&mut random)
        .and_then(|()| getrandom::fill(&mut id))
        .map_err(|e| format!("no random bytes: {e}"))?;
    let body = URL_SAFE_NO_PAD.encode(random);
    let secret = format!("{PREFIX}{body}{}", checksum(&body));
    Ok(NewToken {
        hash: hash(&secret),
        secret,
        id: hex(&id),
    })
}

/// Whether `text` is well-formed: prefix, length, alphabet and checksum. Cheap and local.
pub fn is_well_formed(text: &str) -> bool {
    if text.len() != TOKEN_LEN || !text.starts_with(PREFIX) {
        return false;
    }
    let rest = &text[PREFIX.len()..];
    if !rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return false;
    }
    let (body, check) = rest.split_at(BODY_LEN);
    // The last character of 32 bytes in base64 carries 4 spare bits, which must be zero; a
    // decode round trip rejects the 15 other spellings of one token.
    URL_SAFE_NO_PAD.decode(body).is_ok() && checksum(body) == check
}

/// What the store keeps: SHA-256 of the token, hex. Tokens carry 256 random bits, so a fast
/// hash is enough; a slow one would only slow every lookup down.
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Whether `text` looks like a token id (32 hex digits).
pub fn is_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn checksum(body: &str) -> String {
    let digest = Sha256::digest(format!("{PREFIX}{body}").as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..4])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_well_formed_and_distinct() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert!(is_well_formed(&a.secret), "{}", a.secret);
        assert_eq!(a.secret.len(), TOKEN_LEN);
        assert_ne!(a.secret, b.secret);
        assert_ne!(a.id, b.id);
        assert!(is_id(&a.id));
        assert_eq!(a.hash, hash(&a.secret));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.secret[PREFIX.len()..]));
    }

    #[test]
    fn near_misses_are_refused_locally() {
        let token = generate().unwrap().secret;
        assert!(!is_well_formed(""));
        assert!(!is_well_formed(&token[..TOKEN_LEN - 1]));
        assert!(!is_well_formed(&format!("{token}x")));
        assert!(!is_well_formed(&format!("xot_{}", &token[4..])));
        assert!(!is_well_formed(&token.replacen('_', "+", 1)));
        // Every single-character change of the random part or checksum is caught.
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for i in PREFIX.len()..TOKEN_LEN {
            for c in alphabet.chars() {
                let mut changed = token.clone().into_bytes();
                if changed[i] == c as u8 {
                    continue;
                }
                changed[i] = c as u8;
                let changed = String::from_utf8(changed).unwrap();
                assert!(!is_well_formed(&changed), "{changed} passed for {token}");
            }
        }
        let non_ascii = format!("{}é", &token[..TOKEN_LEN - 2]);
        assert!(!is_well_formed(&non_ascii));
    }
}
