//! What `Debug` prints in place of a secret.

/// Stands in for a password, key or client secret in `Debug` output.
pub(crate) const REDACTED: &str = "<redacted>";

/// `Some("<redacted>")` for a secret that is set, `None` for one that is not.
pub(crate) fn optional(secret: &Option<String>) -> Option<&'static str> {
    secret.as_ref().map(|_| REDACTED)
}
