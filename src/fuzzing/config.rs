//! The YAML configuration loader with `AOT_*` environment overrides.
//!
//! Input: the YAML text, then optionally a line `#env` (a YAML comment, so seeds stay valid
//! YAML) followed by `NAME=value` lines, the environment NGINX's master would have.

use std::path::Path;

use crate::config::{self, AugmenterConfig, Config, ProviderConfig};

/// Relative key and CA paths resolve under a directory that does not exist.
const FILE: &str = "/nonexistent/fuzzing/authotron.yaml";
/// A secret holding this character is one the harness can look for in what loading prints:
/// none of the loader's own words contain it.
const SECRET_MARK: char = '~';

pub fn config(data: &[u8]) {
    let Some(input) = super::text(data) else {
        return;
    };
    let (yaml, env) = match input.split_once("\n#env\n") {
        Some((yaml, env)) => (yaml, env),
        None => (input, ""),
    };
    // An environment holds each name once: a later line replaces an earlier one.
    let mut vars: Vec<(String, String)> = Vec::new();
    for (name, value) in env.lines().filter_map(|line| line.split_once('=')) {
        vars.retain(|(earlier, _)| earlier != name);
        vars.push((name.to_owned(), value.to_owned()));
    }
    let env = vars;

    let first = printed(yaml, env.clone());
    // The same file and environment print the same settings, warnings or error every time.
    assert_eq!(first, printed(yaml, env.clone()), "loading twice differs");
    // The environment has no order: reading it backwards changes nothing.
    let mut reversed = env.clone();
    reversed.reverse();
    assert_eq!(
        first,
        printed(yaml, reversed),
        "the environment's order matters"
    );

    // A YAML alias (`*name`) can copy a secret into a field that is printed, as written.
    let aliases = yaml.contains('*');
    if let (Ok(loaded), false) = (config::load(Path::new(FILE), yaml, env.clone()), aliases) {
        for secret in secrets(&loaded.config) {
            // Written once, so any copy in the output comes from the secret itself.
            let once = input.matches(secret).count() == 1;
            if secret.contains(SECRET_MARK) && once {
                assert!(!first.contains(secret), "a secret is printed");
            }
        }
    }
}

/// Everything loading tells: the effective settings (`Config`'s `Debug`, which redacts
/// secrets) and the warnings, or the error.
fn printed(yaml: &str, env: Vec<(String, String)>) -> String {
    match config::load(Path::new(FILE), yaml, env) {
        Ok(loaded) => format!("{:#?}\n{}", loaded.config, loaded.warnings.join("\n")),
        Err(e) => format!("error: {e}"),
    }
}

/// The values that must never be printed.
fn secrets(config: &Config) -> Vec<&str> {
    let mut found: Vec<&str> = config.jwt.secret.as_deref().into_iter().collect();
    for provider in &config.providers {
        match provider {
            ProviderConfig::Plain(plain) => {
                for user in &plain.users {
                    found.extend(user.password.as_deref());
                    found.extend(user.password_hash.as_deref());
                }
            }
            ProviderConfig::OpenidOffline(c) => found.push(&c.private_client_secret),
            ProviderConfig::EcmwfTokenGenerator(c) => found.push(&c.client_secret),
            _ => {}
        }
    }
    for augmenter in &config.augmenters {
        if let AugmenterConfig::Ldap(ldap) = augmenter {
            found.push(&ldap.ldap_password);
        }
    }
    found
}
