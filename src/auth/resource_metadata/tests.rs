use serde_json::{json, Value};

use super::*;
use crate::auth::test_support::{config, from_yaml};
use crate::auth::{Document, Reply};

/// Providers of every kind that could name an issuer, two of them the same one, one without.
const PROVIDERS: &str = r#"
providers:
  - { type: plain, name: local, realm: staff, users: [] }
  - type: jwt
    name: sso
    realm: sso
    cert_uri: "https://idp.example.com/certs"
    iam_realm: r
    iss: "https://idp.example.com/realms/one"
  - type: jwt
    name: sso-again
    realm: sso
    cert_uri: "https://idp.example.com/certs"
    iam_realm: r
    iss: "https://idp.example.com/realms/one"
  - type: jwt
    name: anyone
    realm: sso
    cert_uri: "https://idp.example.com/certs"
    iam_realm: r
  - type: openid-offline
    name: offline
    realm: offline
    cert_uri: "https://kc.example.com/certs"
    public_client_id: pub
    private_client_id: priv
    private_client_secret: s
    iam_url: "https://kc.example.com"
    iss: "https://kc.example.com/realms/two"
"#;

fn document(extra: &str) -> Value {
    let metadata = ResourceMetadata::new(&config(extra)).expect("a document");
    serde_json::from_slice(&metadata.document).unwrap()
}

#[test]
fn without_the_section_there_is_no_document() {
    assert_eq!(ResourceMetadata::new(&config(PROVIDERS)), None);
    let a = from_yaml(PROVIDERS);
    assert_eq!(a.resource_metadata(), None);
    assert!(Document::ResourceMetadata.check(&a).is_err());
    assert_eq!(Reply::document(&a, Document::ResourceMetadata).status, 404);
}

#[test]
fn the_document_is_built_from_the_config() {
    let yaml = format!(
        "{PROVIDERS}resource_metadata:\n  resource: \"https://api.example.com/v1\"\n  \
         scopes_supported: [read, write]\n  resource_name: Example API\n  \
         resource_documentation: \"https://docs.example.com/api\"\n"
    );
    assert_eq!(
        document(&yaml),
        json!({
            "resource": "https://api.example.com/v1",
            "authorization_servers": [
                "https://idp.example.com/realms/one",
                "https://kc.example.com/realms/two"
            ],
            "scopes_supported": ["read", "write"],
            "bearer_methods_supported": ["header"],
            "resource_name": "Example API",
            "resource_documentation": "https://docs.example.com/api"
        })
    );
}

#[test]
fn absent_values_are_left_out() {
    let yaml = "providers: []\nresource_metadata: { resource: \"https://api.example.com\" }\n";
    assert_eq!(
        document(yaml),
        json!({"resource": "https://api.example.com", "bearer_methods_supported": ["header"]})
    );
}

#[test]
fn scopes_default_to_those_the_services_name() {
    let yaml = "services:\n  - { name: a, scopes: [read, write] }\n  - { name: b, scopes: [write, admin] }\n\
                providers: []\nresource_metadata: { resource: \"https://api.example.com\" }\n";
    assert_eq!(
        document(yaml)["scopes_supported"],
        json!(["read", "write", "admin"])
    );
    let listed = yaml.replace(
        "example.com\" }",
        "example.com\", scopes_supported: [only] }",
    );
    assert_eq!(document(&listed)["scopes_supported"], json!(["only"]));
}

#[test]
fn the_url_puts_the_well_known_path_before_the_resource_path() {
    for (resource, url) in [
        (
            "https://api.example.com",
            "https://api.example.com/.well-known/oauth-protected-resource",
        ),
        (
            "https://api.example.com/",
            "https://api.example.com/.well-known/oauth-protected-resource",
        ),
        (
            "https://api.example.com:8443/v1/data",
            "https://api.example.com:8443/.well-known/oauth-protected-resource/v1/data",
        ),
    ] {
        assert_eq!(metadata_url(resource), url, "{resource}");
    }
}

#[test]
fn bearer_challenges_name_the_document_and_others_do_not() {
    let plain = "providers:\n  - { type: plain, name: local, realm: staff, users: [] }\n\
                 resource_metadata: { resource: \"https://api.example.com\" }\n";
    let a = from_yaml(&format!(
        "{PROVIDERS}resource_metadata: {{ resource: \"https://api.example.com\" }}\n"
    ));
    let announced =
        "resource_metadata=\"https://api.example.com/.well-known/oauth-protected-resource\"";
    assert_eq!(
        &*a.challenge(None),
        format!(
            "Basic realm=\"staff\", Bearer realm=\"sso\", {announced}, Bearer realm=\"offline\", {announced}"
        )
    );
    assert_eq!(&*a.challenge(Some("staff")), "Basic realm=\"staff\"");
    assert_eq!(&*from_yaml(plain).challenge(None), "Basic realm=\"staff\"");
    let none = "providers: []\nresource_metadata: { resource: \"https://api.example.com\" }\n";
    assert_eq!(
        &*from_yaml(none).challenge(None),
        format!("Bearer {announced}")
    );
}

#[test]
fn without_the_section_challenges_are_unchanged() {
    let a = from_yaml(PROVIDERS);
    assert_eq!(
        &*a.challenge(None),
        "Basic realm=\"staff\", Bearer realm=\"sso\", Bearer realm=\"offline\""
    );
    assert_eq!(&*from_yaml("providers: []\n").challenge(None), "Bearer");
}

#[test]
fn the_reply_is_cacheable_json() {
    let a =
        from_yaml("providers: []\nresource_metadata: { resource: \"https://api.example.com\" }\n");
    assert!(Document::ResourceMetadata.check(&a).is_ok());
    let reply = Reply::document(&a, Document::ResourceMetadata);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type, Some("application/json"));
    assert_eq!(
        reply.headers,
        vec![("Cache-Control", "max-age=300".to_owned())]
    );
    assert_eq!(reply.body, a.resource_metadata().unwrap());
}
