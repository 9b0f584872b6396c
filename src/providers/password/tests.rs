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

// A deliberately slow Argon2id hash (m=64 MiB, t=6): long enough to still run when its caller
// gives up.
const SLOW_ARGON2: &str = "$argon2id$v=19$m=65536,t=6,p=1$YXV0aG90cm9uc2FsdDAwMg$Oi1hUl1PCF2z1tx+F6jy/BqReFp5+yTio+nisw6owMs";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_hash_keeps_its_permit_until_it_ends() {
    let permits = Arc::new(Semaphore::new(2));
    let abandoned = tokio::time::timeout(
        std::time::Duration::from_millis(20),
        verify_hash_within(&permits, SLOW_ARGON2.into(), "wrong".into()),
    )
    .await;
    assert!(abandoned.is_err(), "the slow hash finished within 20 ms");
    assert_eq!(
        permits.available_permits(),
        1,
        "the hash still runs, so it must still count"
    );
    // Once it ends, its permit comes back.
    let _both = tokio::time::timeout(std::time::Duration::from_secs(30), permits.acquire_many(2))
        .await
        .expect("the abandoned hash never gave its permit back");
}

#[test]
fn plaintext_compares_digests() {
    assert!(same_digest(&digest("secret"), &digest("secret")));
    assert!(!same_digest(&digest("secret"), &digest("Secret")));
    assert!(!same_digest(&digest("secret"), &digest("secret ")));
}

#[test]
fn mapped_memory_verifies_as_the_library_does() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};

    let salt = SaltString::encode_b64(b"authotron-salt-16").unwrap();
    for algorithm in [Algorithm::Argon2id, Algorithm::Argon2i, Algorithm::Argon2d] {
        for version in [Version::V0x10, Version::V0x13] {
            for (m, t, p, len) in [(8, 1, 1, 32), (32, 2, 4, 64)] {
                let params = Params::new(m, t, p, Some(len)).unwrap();
                let argon = Argon2::new(algorithm, version, params);
                let phc = argon.hash_password(b"pw", &salt).unwrap().to_string();
                let parsed = PasswordHash::new(&phc).unwrap();
                for attempt in ["pw", "pW", ""] {
                    let library = Argon2::default()
                        .verify_password(attempt.as_bytes(), &parsed)
                        .is_ok();
                    assert_eq!(
                        argon2_memory::verify(&parsed, attempt.as_bytes()),
                        library,
                        "{phc} with {attempt:?}"
                    );
                }
            }
        }
    }
}
