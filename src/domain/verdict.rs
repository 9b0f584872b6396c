//! What is concluded about a credential: by one provider, and by the whole pipeline.

use std::sync::Arc;

use super::identity::Identity;
use crate::domain::User;

/// What one provider concluded about one credential.
#[derive(Debug)]
pub enum ProviderVerdict {
    Accepted(User),
    /// The provider gave a definitive "no"; the reason is for logs only.
    Rejected(String),
    /// The provider could not decide (timeout, outage); the reason is for logs only.
    Unavailable(String),
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
