//! Upstream's `/providers` and `/augmenters` listings: name, type tag and realm of each entry,
//! in config order. The token store is not a configured provider and is not listed.

use serde::Serialize;

use crate::config::Config;

/// Both documents, rendered once per loaded config.
pub struct Listing {
    pub providers: Vec<u8>,
    pub augmenters: Vec<u8>,
}

#[derive(Serialize)]
struct Entry<'a> {
    name: &'a str,
    r#type: &'a str,
    realm: &'a str,
}

impl Listing {
    pub fn new(config: &Config) -> Self {
        let providers: Vec<Entry> = config
            .providers
            .iter()
            .map(|p| Entry {
                name: p.name(),
                r#type: p.type_tag(),
                realm: p.realm(),
            })
            .collect();
        let augmenters: Vec<Entry> = config
            .augmenters
            .iter()
            .map(|a| Entry {
                name: a.name(),
                r#type: a.type_tag(),
                realm: a.realm(),
            })
            .collect();
        Listing {
            providers: render("providers", &providers),
            augmenters: render("augmenters", &augmenters),
        }
    }
}

fn render(key: &str, entries: &[Entry]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ key: entries })).unwrap_or_default()
}

#[cfg(test)]
mod tests {
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
}
