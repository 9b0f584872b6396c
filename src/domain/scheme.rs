//! The `Authorization` schemes providers understand.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scheme {
    Basic,
    Bearer,
    /// Any other scheme; no provider accepts it, but it still counts as a part.
    Other(String),
}

impl Scheme {
    /// `basic` and `plain` are both Basic; scheme names are case-insensitive.
    pub fn parse(name: &str) -> Scheme {
        if name.eq_ignore_ascii_case("basic") || name.eq_ignore_ascii_case("plain") {
            Scheme::Basic
        } else if name.eq_ignore_ascii_case("bearer") {
            Scheme::Bearer
        } else {
            Scheme::Other(name.to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Scheme::Basic => "Basic",
            Scheme::Bearer => "Bearer",
            Scheme::Other(name) => name,
        }
    }

    /// Whether two parts name one scheme (names are case-insensitive).
    pub fn same_as(&self, other: &Scheme) -> bool {
        match (self, other) {
            (Scheme::Other(a), Scheme::Other(b)) => a.eq_ignore_ascii_case(b),
            _ => self == other,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
