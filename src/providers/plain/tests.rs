use super::*;
use crate::config::PlainUser as UserConfig;
use crate::providers::Provider;

const ARGON2_PW: &str =
    "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHRzYWx0$Ppmdan2yDv6l5sdaRM52bjjoXuSF2+ZrIcKRt4sHWoc";
const BCRYPT_PW: &str = "$2y$04$scC7WTEp0UP9Pe1e8mLm.Oy28DcW0upnLIY1.sKSTF.3VOrqd61la";

fn user(name: &str, password: &str, roles: &[&str]) -> UserConfig {
    UserConfig {
        username: name.into(),
        password: Some(password.into()),
        password_hash: None,
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

fn hashed(name: &str, hash: &str) -> UserConfig {
    UserConfig {
        username: name.into(),
        password: None,
        password_hash: Some(hash.into()),
        roles: vec!["hashed".into()],
    }
}

fn provider(users: Vec<UserConfig>) -> Arc<PlainProvider> {
    Arc::new(PlainProvider::new(&PlainProviderConfig {
        name: "Plain provider".into(),
        realm: "test".into(),
        users,
    }))
}

/// The users of upstream's plain provider tests, so the same names and passwords (an
/// e-mail address, symbols, non-ASCII) are covered.
fn upstream_users() -> Arc<PlainProvider> {
    provider(vec![
        user("admin", "admin123", &["admin", "user"]),
        user("user1", "password1", &["user"]),
        user("guest", "guest123", &[]),
        user("empty_roles", "password", &[]),
        user("user@domain.com", "p@ssw0rd!#$", &[]),
        user("用户", "密码", &[]),
    ])
}

fn b64(raw: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(raw)
}

async fn run(p: &Arc<PlainProvider>, raw: &[u8]) -> ProviderVerdict {
    p.clone().authenticate(b64(raw)).await
}

fn rejected_with(verdict: ProviderVerdict) -> String {
    match verdict {
        ProviderVerdict::Rejected(reason) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn valid_credentials_give_the_user() {
    let ProviderVerdict::Accepted(u) = run(&upstream_users(), b"admin:admin123").await else {
        panic!("admin rejected")
    };
    assert_eq!(u.username, "admin");
    assert_eq!(u.realm, "test");
    assert_eq!(u.roles, ["admin", "user"]);
    assert_eq!(u.version, 1);
    assert!(u.attributes.is_empty() && u.scopes.is_empty());

    let ProviderVerdict::Accepted(g) = run(&upstream_users(), b"guest:guest123").await else {
        panic!("guest rejected")
    };
    assert!(g.roles.is_empty());
}

#[tokio::test]
async fn wrong_or_unknown_is_rejected() {
    let p = upstream_users();
    for raw in [
        &b"admin:wrong"[..],
        b"nobody:admin123",
        b"nobody:nothing",
        b"admin:",
        b"usernamepassword",
        b"user:pass:word",
        b"ADMIN:admin123",
        b"admin:ADMIN123",
        b" admin :admin123",
    ] {
        assert_eq!(rejected_with(run(&p, raw).await), WRONG, "{raw:?}");
    }
}

#[tokio::test]
async fn password_may_contain_colons() {
    let p = provider(vec![user("user", "pass:word", &[])]);
    assert!(matches!(
        run(&p, b"user:pass:word").await,
        ProviderVerdict::Accepted(_)
    ));
}

#[tokio::test]
async fn malformed_credentials_have_upstream_messages() {
    let p = upstream_users();
    let verdict = p.clone().authenticate("not_base64".into()).await;
    assert_eq!(rejected_with(verdict), "Invalid base64 in Basic auth");
    let verdict = run(&p, &[0xff, 0xfe, 0xfd]).await;
    assert_eq!(rejected_with(verdict), "Invalid UTF-8 in Basic auth");
    for raw in [&b":password"[..], b":"] {
        assert_eq!(
            rejected_with(run(&p, raw).await),
            "No username in Basic credentials"
        );
    }
}

#[tokio::test]
async fn special_and_unicode_characters_work() {
    let p = upstream_users();
    assert!(matches!(
        run(&p, "user@domain.com:p@ssw0rd!#$".as_bytes()).await,
        ProviderVerdict::Accepted(_)
    ));
    assert!(matches!(
        run(&p, "用户:密码".as_bytes()).await,
        ProviderVerdict::Accepted(_)
    ));
}

#[tokio::test]
async fn empty_user_list_rejects() {
    assert_eq!(rejected_with(run(&provider(vec![]), b"a:b").await), WRONG);
}

#[tokio::test]
async fn hashed_users_verify() {
    let p = provider(vec![
        hashed("argon", ARGON2_PW),
        hashed("bcrypt", BCRYPT_PW),
    ]);
    for name in ["argon", "bcrypt"] {
        let ProviderVerdict::Accepted(u) = run(&p, format!("{name}:pw").as_bytes()).await else {
            panic!("{name} rejected")
        };
        assert_eq!(u.username, name);
        assert_eq!(u.roles, ["hashed"]);
        let wrong = run(&p, format!("{name}:nope").as_bytes()).await;
        assert_eq!(rejected_with(wrong), WRONG);
    }
    assert_eq!(rejected_with(run(&p, b"ghost:pw").await), WRONG);
}

#[test]
fn metadata() {
    let p = upstream_users();
    assert_eq!(p.scheme(), Scheme::Basic);
    assert_eq!(p.realm(), "test");
    assert_eq!(p.name(), "Plain provider");
}
