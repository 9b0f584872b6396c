//! `authotron_require <value> ... [error=401|403]`: NGINX evaluates the values (they are
//! usually variables an operator built with `map`), and the core decides what they mean. This
//! module holds the rules; the binding only compiles and evaluates the values.

/// What a location answers when one of its requirements is not met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequirementError {
    /// `error=401`: with the location's usual challenge, as for a rejected credential.
    Unauthorized,
    /// `error=403`, the default.
    Forbidden,
}

/// One `authotron_require` directive: how many values it has and what refuses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub values: usize,
    pub error: RequirementError,
}

/// What the binding found when it evaluated a location's requirements for an allowed identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequirementCheck {
    /// Every value of every requirement was satisfied (or the location has none).
    Met,
    /// The first requirement, in the order the directives were written, with an unsatisfied
    /// value.
    Unmet(usize),
    /// A value could not be evaluated (NGINX had no memory for it).
    Failed,
}

const ERROR_PREFIX: &[u8] = b"error=";

/// A value grants access iff it is non-empty and not "0", as NGINX's own `auth_jwt_require`
/// and `if ($var)` read it.
pub fn is_satisfied(value: &[u8]) -> bool {
    !value.is_empty() && value != b"0"
}

/// Splits the directive's arguments into the values and the error: `error=401` or `error=403`
/// may come last, and only last.
pub fn parse_arguments<'a>(
    arguments: &'a [&'a [u8]],
) -> Result<(&'a [&'a [u8]], RequirementError), String> {
    let (values, error) = match arguments.split_last() {
        Some((last, values)) if last.starts_with(ERROR_PREFIX) => {
            let error = match &last[ERROR_PREFIX.len()..] {
                b"401" => RequirementError::Unauthorized,
                b"403" => RequirementError::Forbidden,
                other => {
                    return Err(format!(
                        "\"error={}\" must be \"error=401\" or \"error=403\"",
                        String::from_utf8_lossy(other).escape_debug()
                    ))
                }
            };
            (values, error)
        }
        _ => (arguments, RequirementError::Forbidden),
    };
    if values.is_empty() {
        return Err("at least one value is required".to_owned());
    }
    if values.iter().any(|v| v.starts_with(ERROR_PREFIX)) {
        return Err("\"error=\" must be the last argument".to_owned());
    }
    Ok((values, error))
}

#[cfg(test)]
mod tests;
