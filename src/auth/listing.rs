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
mod tests;
