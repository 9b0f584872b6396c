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
    // 43 base64 characters carry 258 bits for 256: the last one has 2 spare bits, which must
    // be zero. Decoding refuses the 3 other spellings of one token, each with its own checksum.
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
mod tests;
