//! What is concluded about a credential: by one provider, and by the whole pipeline; and what
//! a provider says of the owner of a store token.

use std::sync::Arc;

use super::identity::Identity;
use crate::domain::User;

/// What one provider concluded about one credential.
#[derive(Debug)]
pub enum ProviderVerdict {
    Accepted(User),
    /// The token store found a store token of this user. `id` is the token's public id (not a
    /// secret: lists and revocations show it), by which a revocation names the token, so that
    /// the cache can forget this token's answers and no others.
    AcceptedStoreToken {
        user: User,
        id: String,
    },
    /// The provider gave a definitive "no"; the reason is for logs only.
    Rejected(String),
    /// The provider could not decide (timeout, outage); the reason is for logs only.
    Unavailable(String),
}

/// What a provider says, at a token's use, of the user it vouched for when the store token was
/// made (docs/token-store.md, "A token and its owner").
#[derive(Debug, PartialEq, Eq)]
pub enum OwnerCheck {
    /// It still vouches for them, as this user: the snapshot with what it knows now.
    Current(User),
    /// It no longer does: a configured user who has been removed.
    Gone,
    /// It cannot tell without the user's own credential (an identity service): the snapshot
    /// stands until the token expires or is revoked.
    CannotTell,
}

/// The authentication fact about one credential; this is what the cache keeps.
#[derive(Clone)]
pub enum Verdict {
    Authenticated(Arc<Identity>),
    /// Definitively not authenticated: 401.
    Rejected,
    /// No provider could answer (timeouts, outages): 503.
    Unavailable,
    /// Something went wrong on our side: 500. Never cached.
    Failed,
}
