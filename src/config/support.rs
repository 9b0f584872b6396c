//! What this build can run. The schema of every upstream type is parsed and checked in full;
//! this list alone decides which of them are refused afterwards, so implementing a type means
//! deleting its line here.

/// The part of the configuration a type tag belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Provider,
    Augmenter,
    Store,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Provider => "provider",
            Kind::Augmenter => "augmenter",
            Kind::Store => "store",
        }
    }
}

/// Types that are parsed and validated but cannot run in this build yet.
const NOT_YET_SUPPORTED: &[(Kind, &str)] = &[(Kind::Store, "mongo")];

/// `Err(message)` when `tag` is a type this build cannot run yet.
pub(crate) fn check(kind: Kind, tag: &str) -> Result<(), String> {
    if NOT_YET_SUPPORTED.contains(&(kind, tag)) {
        Err(format!(
            "{} type `{tag}` is not supported by this build yet",
            kind.noun()
        ))
    } else {
        Ok(())
    }
}
