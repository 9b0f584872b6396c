//! What the core's unit tests share: authenticators built from YAML, and credentials.

use std::path::Path;
use std::sync::Arc;

use base64::Engine;

use super::Authenticator;
use crate::config::{self, Config};

const SETTINGS: &str = r#"
version: "2.0.0"
auth: { timeout_in_ms: 200 }
jwt: { iss: test, exp: 3600, secret: "0123456789abcdef0123456789abcdef" }
"#;

/// A config of the common settings above plus `extra` (providers, augmenters, …).
pub fn config(extra: &str) -> Config {
    let yaml = format!("{SETTINGS}{extra}");
    config::load(Path::new("test.yaml"), &yaml, Vec::new())
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

pub fn from_yaml(extra: &str) -> Arc<Authenticator> {
    Arc::new(Authenticator::new(&config(extra)).unwrap())
}

/// An `Authorization` value for Basic credentials.
pub fn basic(user: &str, password: &str) -> String {
    let raw = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}
