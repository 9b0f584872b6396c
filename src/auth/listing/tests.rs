use super::*;

#[test]
fn entries_in_config_order_with_type_tags() {
    let text = r#"version: "2.0.0"
jwt: { iss: t, exp: 60, secret: "0123456789abcdef0123456789abcdef" }
store: { enabled: true, type: sqlite, path: /tmp/x.db }
providers:
  - { type: plain, name: local, realm: internal, users: [] }
  - { type: ecmwf-api, name: ecmwf, realm: ecmwf, uri: "http://127.0.0.1:9/v1" }
augmenters:
  - { type: plain_advanced, name: adv, realm: ecmwf, match: {}, augment: {} }
"#;
    let config = crate::config::load(std::path::Path::new("/a.yaml"), text, Vec::new())
        .unwrap()
        .config;
    let listing = Listing::new(&config);
    let providers: serde_json::Value = serde_json::from_slice(&listing.providers).unwrap();
    assert_eq!(
        providers,
        serde_json::json!({"providers": [
            {"name": "local", "type": "plain", "realm": "internal"},
            {"name": "ecmwf", "type": "ecmwf-api", "realm": "ecmwf"}
        ]})
    );
    let augmenters: serde_json::Value = serde_json::from_slice(&listing.augmenters).unwrap();
    assert_eq!(
        augmenters,
        serde_json::json!({"augmenters": [{"name": "adv", "type": "plain_advanced", "realm": "ecmwf"}]})
    );
}
