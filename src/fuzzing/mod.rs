//! Harnesses for the fuzz targets in `fuzz/`: one function per parser that sees untrusted
//! bytes. Each one feeds the input to the real parser and then asserts what must hold whatever
//! the input was; a panic, including a failed assertion, is what the fuzzer reports as a crash.
//!
//! They live in the crate rather than in `fuzz/` so that they can reach `pub(crate)` parsers
//! without widening the crate's API, and so that `cargo test` compiles them and replays the
//! seed corpus through them (`tests.rs`): a harness that no longer builds or whose invariant no
//! longer holds on the seeds fails the ordinary test run, not only a fuzzing session.
//!
//! Inputs that hold several parts separate them with newlines, so that seeds stay readable
//! text; each harness says what its lines mean.

mod authorization;
mod basic;
mod config;
mod identity_answer;
mod jwks;
mod jwt;
mod ldap_dn;
mod store_token;

pub use authorization::authorization;
pub use basic::basic;
pub use config::config;
pub use identity_answer::identity_answer;
pub use jwks::jwks;
pub use jwt::jwt;
pub use ldap_dn::ldap_dn;
pub use store_token::store_token;

/// What a fuzz target calls with each input.
pub type Harness = fn(&[u8]);

/// Every harness by the name of its fuzz target and seed directory.
pub const TARGETS: &[(&str, Harness)] = &[
    ("authorization", authorization),
    ("basic", basic),
    ("config", config),
    ("identity_answer", identity_answer),
    ("jwks", jwks),
    ("jwt", jwt),
    ("ldap_dn", ldap_dn),
    ("store_token", store_token),
];

/// The config a harness runs with, from YAML that is known to load.
fn loaded(yaml: &str) -> crate::config::Config {
    let path = std::path::Path::new("/nonexistent/fuzzing/authotron.yaml");
    match crate::config::load(path, yaml, Vec::new()) {
        Ok(loaded) => loaded.config,
        Err(e) => panic!("the harness's own config does not load: {e}"),
    }
}

/// `data` as text, or `None` for bytes that are not UTF-8 (for parsers that take `&str`
/// because what calls them already has one).
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

#[cfg(test)]
mod tests;
