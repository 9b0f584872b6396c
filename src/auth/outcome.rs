//! What the pipeline hands back to the NGINX side: owned values only.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::user::User;
use crate::store::api::Answer;
use crate::token::Minted;

/// A user vouched for by one provider and enriched by the augmenters.
pub struct Identity {
    pub user: User,
    /// The user as the provider vouched for it, before augmenters, when that differs from
    /// `user`; it is what the token store keeps.
    pub provided: Option<User>,
    /// The `name` of the provider that accepted the credential.
    pub provider: String,
    /// The last token minted for this identity. It is handed out again, unchanged (its own
    /// `iat` and `exp`), while more than half of its lifetime is left, so that a signature
    /// (about a millisecond for RS256) is not paid per request.
    pub(crate) minted: Mutex<Option<Minted>>,
    /// How long this identity may be answered from the cache (before its own `exp` cap).
    pub cache_ttl: Duration,
}

impl Identity {
    pub fn new(user: User, provider: impl Into<String>) -> Self {
        Identity {
            user,
            provided: None,
            provider: provider.into(),
            minted: Mutex::new(None),
            cache_ttl: Duration::ZERO,
        }
    }

    /// The user before augmenters ran.
    pub fn provided(&self) -> &User {
        self.provided.as_ref().unwrap_or(&self.user)
    }

    pub fn reusable_for(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }
}

/// What a 503 tells clients: outages are usually brief, and nothing about an outage is cached.
pub const RETRY_AFTER_SECONDS: u32 = 5;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteLevel {
    Debug,
    Info,
    Warn,
}

/// A log line produced off the NGINX thread, logged by NGINX when the request resumes.
/// Notes never contain credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub level: NoteLevel,
    pub text: String,
}

#[derive(Clone)]
pub struct Outcome {
    pub verdict: Verdict,
    pub notes: Vec<Note>,
    /// The token management API's response, when the request was one.
    pub answer: Option<Answer>,
}

impl Outcome {
    pub fn new(verdict: Verdict) -> Self {
        Outcome {
            verdict,
            notes: Vec::new(),
            answer: None,
        }
    }

    pub fn note(mut self, level: NoteLevel, text: impl Into<String>) -> Self {
        self.notes.push(Note {
            level,
            text: text.into(),
        });
        self
    }
}
