use super::*;

// `echo -n pw | argon2 saltsaltsalt -id -t 1 -m 8 -e`
const ARGON2_PW: &str =
    "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHRzYWx0$Ppmdan2yDv6l5sdaRM52bjjoXuSF2+ZrIcKRt4sHWoc";
// `htpasswd -nbB -C 4 u pw`
const BCRYPT_PW: &str = "$2y$04$scC7WTEp0UP9Pe1e8mLm.Oy28DcW0upnLIY1.sKSTF.3VOrqd61la";

#[tokio::test]
async fn argon2_and_bcrypt_verify() {
    for hash in [ARGON2_PW, BCRYPT_PW] {
        assert_eq!(
            verify_hash(hash.into(), "pw".into()).await,
            Ok(true),
            "{hash}"
        );
        assert_eq!(
            verify_hash(hash.into(), "pW".into()).await,
            Ok(false),
            "{hash}"
        );
        assert_eq!(
            verify_hash(hash.into(), "".into()).await,
            Ok(false),
            "{hash}"
        );
    }
}

#[test]
fn plaintext_compares_digests() {
    assert!(same_digest(&digest("secret"), &digest("secret")));
    assert!(!same_digest(&digest("secret"), &digest("Secret")));
    assert!(!same_digest(&digest("secret"), &digest("secret ")));
}
