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

#[test]
fn the_spare_bits_of_the_last_character_must_be_zero() {
    let token = generate().unwrap().secret;
    let body = &token[PREFIX.len()..PREFIX.len() + BODY_LEN];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = alphabet
        .iter()
        .position(|&c| c == body.as_bytes()[BODY_LEN - 1])
        .unwrap();
    assert_eq!(last & 0b11, 0, "a generated token's spare bits are zero");
    // The same 256 bits with a spare bit set, and a checksum that matches them.
    for spare in 1..4 {
        let mut other = body.as_bytes().to_vec();
        other[BODY_LEN - 1] = alphabet[last | spare];
        let other = String::from_utf8(other).unwrap();
        let spelled = format!("{PREFIX}{other}{}", checksum(&other));
        assert!(!is_well_formed(&spelled), "{spelled}");
    }
}
