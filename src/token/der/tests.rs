use super::*;

#[test]
fn lengths_round_trip() {
    for len in [0, 1, 127, 128, 255, 256, 70_000] {
        let contents = vec![7u8; len];
        let mut out = Vec::new();
        write(&mut out, TAG_OCTET_STRING, &contents);
        let mut r = Reader::new(&out);
        assert_eq!(r.expect(TAG_OCTET_STRING).unwrap(), &contents[..]);
        assert!(r.is_empty());
    }
}

#[test]
fn truncated_and_indefinite_lengths_are_malformed() {
    for bad in [
        &[0x30, 0x05, 1, 2][..],
        &[0x30, 0x80, 0, 0],
        &[0x30, 0x82, 1],
        &[0x30],
    ] {
        assert_eq!(Reader::new(bad).any().unwrap_err(), MALFORMED, "{bad:?}");
    }
}

#[test]
fn integers_lose_their_sign_byte_and_negative_ones_are_refused() {
    let mut r = Reader::new(&[0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x00, 0x02, 0x01, 0xff]);
    assert_eq!(r.unsigned_integer().unwrap(), &[0x80]);
    assert_eq!(r.unsigned_integer().unwrap(), &[0x00]);
    assert!(r.unsigned_integer().is_err());
}

#[test]
fn pem_blocks_are_read_with_their_labels_and_headers() {
    let text = b"junk before\n-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n\
-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    let blocks = pem_blocks(text).unwrap();
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0].label, "EC PARAMETERS");
    assert_eq!(
        blocks[0].der,
        [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
    );
    assert!(!blocks[0].encrypted);
    assert_eq!(blocks[1].label, "RSA PRIVATE KEY");
    assert!(blocks[1].encrypted);
    assert!(pem_blocks(b"-----BEGIN PUBLIC KEY-----\nAAAA\n").is_err());
    assert!(pem_blocks(b"-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----\n").is_err());
    assert!(pem_blocks(b"\xff\xfe").is_err());
}
