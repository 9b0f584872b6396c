//! The store-token format check: what decides, without a database, whether a Bearer value is
//! one of our tokens (and so is shown to the store alone).
//!
//! Input: any text, checked as a credential. Its first 32 bytes (zero-padded) also make a
//! well-formed token, and the next two bytes pick a position and a character to change in it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::store::token::{is_well_formed, PREFIX, TOKEN_LEN};

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub fn store_token(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if is_well_formed(text) {
            assert_eq!(text.len(), TOKEN_LEN);
            assert!(text.starts_with(PREFIX));
            assert!(text[PREFIX.len()..].bytes().all(|b| ALPHABET.contains(&b)));
        }
    }

    let mut random = [0u8; 32];
    let take = data.len().min(32);
    random[..take].copy_from_slice(&data[..take]);
    let token = token_from(&random);
    assert!(
        is_well_formed(&token),
        "a token made as the format says is refused"
    );

    let (Some(&position), Some(&replacement)) = (data.get(32), data.get(33)) else {
        return;
    };
    let mut changed = token.clone().into_bytes();
    let at = usize::from(position) % changed.len();
    changed[at] = ALPHABET[usize::from(replacement) % ALPHABET.len()];
    if changed == token.as_bytes() || !certainly_refused(at, &token, &changed) {
        return;
    }
    let changed = String::from_utf8(changed).expect("ASCII");
    assert!(
        !is_well_formed(&changed),
        "{changed:?} passes for {token:?}"
    );
}

/// The format, written out from its description (`src/store/token.rs`): `aot_`, the 32 bytes
/// in unpadded URL-safe base64, and the first 4 bytes of SHA-256 of `aot_` and that text, the
/// same way. Independent of the code it checks, so a drift between the two shows.
fn token_from(random: &[u8; 32]) -> String {
    let body = URL_SAFE_NO_PAD.encode(random);
    let digest = Sha256::digest(format!("{PREFIX}{body}").as_bytes());
    format!("{PREFIX}{body}{}", URL_SAFE_NO_PAD.encode(&digest[..4]))
}

/// Whether a one-character change must be refused whatever the checksum does: a change to the
/// prefix or to the checksum, or to the two spare low bits of the body's last character (43
/// characters carry 258 bits for 256: the token has one spelling only). A change elsewhere in
/// the body is refused unless it happens to keep the 32-bit checksum, which is a matter of
/// chance, not of the format.
fn certainly_refused(at: usize, token: &str, changed: &[u8]) -> bool {
    let body_end = TOKEN_LEN - 6;
    let last_body = body_end - 1;
    let sextet = |b: u8| ALPHABET.iter().position(|&a| a == b).expect("base64 digit");
    at < PREFIX.len()
        || at >= body_end
        || (at == last_body && sextet(token.as_bytes()[at]) >> 2 == sextet(changed[at]) >> 2)
}
