//! Who a caller is once a provider vouched for them, and the token minted for them.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::domain::User;

/// A user vouched for by one provider and enriched by the augmenters.
pub struct Identity {
    pub user: User,
    /// The user as the provider vouched for it, before augmenters, when that differs from
    /// `user`; it is what the token store keeps.
    pub provided: Option<User>,
    /// The `name` of the provider that accepted the credential.
    pub provider: String,
    /// The public id of the store token the credential was, when the token store accepted it:
    /// a revocation names the token by it, and the cache forgets the entries that carry it.
    pub store_token: Option<String>,
    /// The last token minted for this identity. It is handed out again, unchanged (its own
    /// `iat` and `exp`), while more than half of its lifetime is left, so that a signature
    /// (about 0.3 ms with a 2048-bit RS256 key) is not paid per request.
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
            store_token: None,
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

/// A signed token and its validity, for deciding how long it may be handed out again.
#[derive(Clone, Debug)]
pub struct Minted {
    pub token: Arc<str>,
    pub issued_at: i64,
    pub expires_at: i64,
}

impl Minted {
    /// Whether the token may still be handed out at `now`: while more than half of its
    /// lifetime (`exp - iat`, so an `exp` cap counts) is left, and always within the second it
    /// was issued in (a new one would carry the same claims). Never once `now` is before its
    /// `iat` (the clock went back) or past the reuse point.
    pub fn reusable_at(&self, now: i64) -> bool {
        now >= self.issued_at && now < self.reuse_until()
    }

    /// The first second in which the token is no longer handed out.
    pub fn reuse_until(&self) -> i64 {
        let lifetime = self.expires_at.saturating_sub(self.issued_at);
        self.issued_at.saturating_add((lifetime / 2).max(1))
    }
}
