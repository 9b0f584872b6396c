//! Reading the `Authorization` header the way upstream does, with two deliberate differences
//! (docs/migration-differences.md): credentials keep the order they were
//! sent in, and one scheme given twice with different credentials is refused instead of "last
//! one wins".

use std::fmt;

use crate::domain::{Reason, Scheme};

/// Upstream accepts at most this many distinct `scheme credential` parts.
pub const MAX_CREDENTIALS: usize = 3;

/// One `scheme credential` part. The credential is secret: no `Debug` that shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub scheme: Scheme,
    pub secret: String,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credential({} <redacted>)", self.scheme)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// No header, an empty one, or one that is not visible ASCII (upstream treats those alike).
    Missing,
    /// A part that is not exactly `scheme credential`.
    Malformed,
    TooManyCredentials,
    /// The same scheme twice with different credentials.
    ConflictingCredentials,
}

impl HeaderError {
    /// The fixed code an access log shows for this refusal.
    pub fn audit_reason(self) -> Reason {
        match self {
            HeaderError::Missing => Reason::NoCredentials,
            _ => Reason::MalformedCredentials,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            HeaderError::Missing => "no credentials",
            HeaderError::Malformed => "malformed Authorization header",
            HeaderError::TooManyCredentials => "too many credentials in Authorization header",
            HeaderError::ConflictingCredentials => {
                "one scheme given twice with different credentials"
            }
        }
    }
}

/// Parses the raw header bytes into credentials in the order they were sent.
pub fn parse_authorization(raw: Option<&[u8]>) -> Result<Vec<Credential>, HeaderError> {
    let text = raw.and_then(visible_ascii).unwrap_or("").trim();
    if text.is_empty() {
        return Err(HeaderError::Missing);
    }

    let mut credentials: Vec<Credential> = Vec::new();
    let mut seen_parts: Vec<&str> = Vec::new();
    for part in text.split(',').map(str::trim) {
        if seen_parts.contains(&part) {
            continue;
        }
        seen_parts.push(part);
        if seen_parts.len() > MAX_CREDENTIALS {
            return Err(HeaderError::TooManyCredentials);
        }

        let mut tokens = part.split_ascii_whitespace();
        let (Some(scheme), Some(secret), None) = (tokens.next(), tokens.next(), tokens.next())
        else {
            return Err(HeaderError::Malformed);
        };
        let credential = Credential {
            scheme: Scheme::parse(scheme),
            secret: secret.to_owned(),
        };

        match credentials
            .iter()
            .find(|c| c.scheme.same_as(&credential.scheme))
        {
            Some(earlier) if earlier.secret == credential.secret => {}
            Some(_) => return Err(HeaderError::ConflictingCredentials),
            None => credentials.push(credential),
        }
    }
    Ok(credentials)
}

/// The realm a client selects with `X-Auth-Realm`; ignored unless it is visible ASCII.
pub fn parse_realm_selector(raw: Option<&[u8]>) -> Option<String> {
    let realm = raw.and_then(visible_ascii)?.trim();
    (!realm.is_empty()).then(|| realm.to_owned())
}

/// What upstream's `HeaderValue::to_str` accepts: tab, space and printable ASCII.
fn visible_ascii(raw: &[u8]) -> Option<&str> {
    raw.iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
        .then(|| std::str::from_utf8(raw).ok())
        .flatten()
}

#[cfg(test)]
mod tests;
