use std::time::Duration;

use futures::FutureExt;

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
            verify_hash("u", hash.into(), "pw".into()).await,
            Ok(true),
            "{hash}"
        );
        assert_eq!(
            verify_hash("u", hash.into(), "pW".into()).await,
            Ok(false),
            "{hash}"
        );
        assert_eq!(
            verify_hash("u", hash.into(), "".into()).await,
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
    let gates = HashGates::new(2, gates::LANES);
    let abandoned = tokio::time::timeout(
        Duration::from_millis(20),
        verify_hash_within(&gates, "u", SLOW_ARGON2.into(), "wrong".into()),
    )
    .await;
    assert!(abandoned.is_err(), "the slow hash finished within 20 ms");
    assert_eq!(
        gates.available_permits(),
        1,
        "the hash still runs, so it must still count"
    );
    // Once it ends, its permit comes back: the same username gets its lane again.
    let _turn = tokio::time::timeout(Duration::from_secs(30), gates.enter("u"))
        .await
        .expect("the abandoned hash never gave its turn back");
    assert_eq!(gates.available_permits(), 1);
}

/// Whether a turn for another username is free at once while one username's flood holds a turn
/// and five more of its calls wait.
async fn another_user_gets_a_turn_during_a_flood(lanes: usize) -> bool {
    let gates = Arc::new(HashGates::new(2, lanes));
    let other = (0..)
        .map(|i| format!("user{i}"))
        .find(|name| lanes == 1 || gates.lane_of(name) != gates.lane_of("mallory"))
        .unwrap();
    let _hashing = gates.enter("mallory").await.unwrap();
    for _ in 0..5 {
        let gates = gates.clone();
        tokio::spawn(async move {
            let _turn = gates.enter("mallory").await;
        });
    }
    // On this single-threaded runtime, one yield lets every spawned call reach its gate.
    tokio::task::yield_now().await;
    gates.enter(&other).now_or_never().is_some()
}

#[tokio::test]
async fn a_flood_on_one_username_leaves_a_permit_to_everyone_else() {
    // Mallory's calls wait in mallory's lane and hold one permit between them; another
    // username takes the second permit at once.
    assert!(another_user_gets_a_turn_during_a_flood(gates::LANES).await);
}

#[tokio::test]
async fn with_a_single_lane_another_user_waits_behind_the_flood() {
    // What the lanes change: with one lane for every username (a worker-wide queue, as before
    // lanes), the other username waits behind the whole flood.
    assert!(!another_user_gets_a_turn_during_a_flood(1).await);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashes_run_at_a_lower_priority_than_the_event_loop() {
    let gates = HashGates::new(2, gates::LANES);
    let hash = verify_hash_within(&gates, "u", SLOW_ARGON2.into(), "wrong".into());
    let seen = async {
        loop {
            if let Some(nice) = niceness_of_thread_named(HASH_THREAD) {
                return nice;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    let nice = tokio::select! {
        nice = seen => nice,
        _ = hash => panic!("the hash ended before its thread was seen"),
    };
    assert_eq!(nice, HASH_NICENESS);
}

/// The nice value (field 19 of /proc/<pid>/task/<tid>/stat) of a thread of this process.
fn niceness_of_thread_named(name: &str) -> Option<i32> {
    std::fs::read_dir("/proc/self/task")
        .ok()?
        .flatten()
        .find_map(|task| {
            let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
            if comm.trim_end() != name {
                return None;
            }
            let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
            // Fields after the command, which is in parentheses and may hold spaces.
            let after = &stat[stat.rfind(')')? + 2..];
            after.split(' ').nth(16)?.parse().ok()
        })
}
