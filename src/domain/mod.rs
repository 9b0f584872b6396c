//! The vocabulary every layer shares: users, identities, schemes, verdicts. It depends on no
//! other module of the crate, so providers, augmenters, the store, metrics and the pipeline can
//! all use it without depending on each other.

mod audit;
mod clock;
mod identity;
mod scheme;
mod user;
mod verdict;

pub use audit::{Audit, CacheUse, DecisionKind, Reason};
pub use clock::{time_until, unix_now};
pub use identity::{Identity, Minted};
pub use scheme::Scheme;
pub use user::{is_header_safe, User};
pub use verdict::{OwnerCheck, ProviderVerdict, Verdict};
