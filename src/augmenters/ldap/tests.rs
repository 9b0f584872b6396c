use std::net::TcpListener;
use std::path::Path;

use ldap3::asn1::{ASNTag, OctetString, Sequence, Set, Tag, TagClass};

use super::*;

const PASSWORD: &str = "Sekrit-Bind-Password";

fn settings(yaml_tail: &str) -> Config {
    let text = format!(
        "version: \"2.0.0\"\njwt: {{ iss: t, exp: 60, secret: \"0123456789abcdef0123456789abcdef\" }}\nproviders: []\n{yaml_tail}"
    );
    crate::config::load(Path::new("/t.yaml"), &text, Vec::new())
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

/// An augmenter for `uri` with upstream's fixture filters, and short timeouts.
fn augmenter(uri: &str, extra: &str) -> Result<Arc<LdapAugmenter>, String> {
    let config = settings(&format!(
        "http: {{ connect_timeout_ms: 300, timeout_ms: 600 }}\naugmenters:
  - type: ldap
    name: dir
    realm: r
    uri: \"{uri}\"
    search_base: dc=example,dc=com
    bind_dn: cn=reader,dc=example,dc=com
    ldap_password: {PASSWORD}
    filters: [\"OU=TeamA\"]
{extra}"
    ));
    match &config.augmenters[0] {
        crate::config::AugmenterConfig::Ldap(c) => LdapAugmenter::new(c, &config).map(Arc::new),
        other => panic!("unexpected {other:?}"),
    }
}

fn octets(text: &[u8]) -> Tag {
    Tag::OctetString(OctetString {
        inner: text.to_vec(),
        ..Default::default()
    })
}

fn attribute(name: &str, values: &[&[u8]]) -> Tag {
    Tag::Sequence(Sequence {
        inner: vec![
            octets(name.as_bytes()),
            Tag::Set(Set {
                inner: values.iter().map(|v| octets(v)).collect(),
                ..Default::default()
            }),
        ],
        ..Default::default()
    })
}

fn entry(attributes: Vec<Tag>) -> StructureTag {
    Tag::Sequence(Sequence {
        id: 4,
        class: TagClass::Application,
        inner: vec![
            octets(b"cn=adam,dc=example,dc=com"),
            Tag::Sequence(Sequence {
                inner: attributes,
                ..Default::default()
            }),
        ],
    })
    .into_structure()
}

#[test]
fn member_of_values_are_read_in_order() {
    let tag = entry(vec![
        attribute("mail", &[b"adam@example.com"]),
        attribute("memberof", &[b"cn=B,dc=x", b"cn=A,dc=x"]),
    ]);
    assert_eq!(member_of(tag), ["cn=B,dc=x", "cn=A,dc=x"]);
}

#[test]
fn malformed_entries_are_skipped_not_fatal() {
    assert!(member_of(octets(b"not an entry").into_structure()).is_empty());
    let not_utf8 = entry(vec![attribute("memberOf", &[b"\xff\xfe", b"cn=ok"])]);
    assert_eq!(member_of(not_utf8), ["cn=ok"]);
    let no_values = entry(vec![Tag::Sequence(Sequence {
        inner: vec![octets(b"memberOf")],
        ..Default::default()
    })]);
    assert!(member_of(no_values).is_empty());
}

#[test]
fn the_role_rule_follows_filter_and_filters() {
    let paths = augmenter("ldap://127.0.0.1:1", "").unwrap();
    assert_eq!(
        paths.rule,
        RoleRule::Paths(vec![vec![("OU".into(), "TeamA".into())]])
    );
    assert!(paths.directory.tls.is_none());
    assert_eq!(paths.cache_ttl, Duration::from_secs(120));
    let single = augmenter("ldaps://127.0.0.1:1", "    cache_ttl_seconds: 5\n").unwrap();
    assert!(single.directory.tls.is_some());
    assert_eq!(single.cache_ttl, Duration::from_secs(5));
    assert_eq!(single.stage(), Stage::Concurrent);
}

#[test]
fn an_unreadable_ca_file_is_reported_by_name() {
    let err = tls_config(Some("/nonexistent/ca.pem")).unwrap_err();
    assert!(
        err.starts_with("http.ca_file /nonexistent/ca.pem: "),
        "{err}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_an_error_and_not_cached() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let a = augmenter(&format!("ldap://127.0.0.1:{port}"), "").unwrap();
    let user = User::new("adam", "r", vec![]);
    let err = a.clone().augment(&user).await.unwrap_err();
    assert!(err.starts_with("connecting to ldap://127.0.0.1:"), "{err}");
    assert!(!err.contains(PASSWORD));
    assert!(a.roles.get(&cache_key(None, b"adam")).is_none());
}

#[tokio::test]
async fn a_silent_directory_times_out_within_the_budget() {
    // Accepts connections (the kernel does) but never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("ldap://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let a = augmenter(&uri, "").unwrap();
    let started = Instant::now();
    let err = a
        .clone()
        .augment(&User::new("adam", "r", vec![]))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(1_500), "{err}");
    assert_eq!(err, "binding as cn=reader,dc=example,dc=com: timed out");
}
