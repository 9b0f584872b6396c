//! The token-store pseudo-provider, present when `store:` is configured (docs/token-store.md): a Bearer credential in our token format is looked up in the store; anything else
//! is refused without a database call. A token found is honoured only while the provider that
//! accepted its owner still vouches for them (`owner`).

mod owner;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;

use super::Provider;
use crate::domain::unix_now;
use crate::domain::ProviderVerdict;
use crate::domain::Scheme;
use crate::store::api::TOKEN_STORE;
use crate::store::{restore, token, Store};
pub use owner::Owners;

pub struct TokenStoreProvider {
    store: Arc<Store>,
    owners: Owners,
}

impl TokenStoreProvider {
    pub fn new(store: Arc<Store>, owners: Owners) -> Self {
        TokenStoreProvider { store, owners }
    }
}

impl Provider for TokenStoreProvider {
    fn name(&self) -> &str {
        TOKEN_STORE
    }

    /// Tokens belong to users of any realm; the pipeline checks the owner's realm against a
    /// requested one after the lookup.
    fn realm(&self) -> &str {
        ""
    }

    fn any_realm(&self) -> bool {
        true
    }

    fn scheme(&self) -> Scheme {
        Scheme::Bearer
    }

    fn owns(&self, credential: &str) -> bool {
        token::is_well_formed(credential)
    }

    fn authenticate(self: Arc<Self>, credential: String) -> BoxFuture<'static, ProviderVerdict> {
        async move {
            if !token::is_well_formed(&credential) {
                return ProviderVerdict::Rejected("not a store token".to_owned());
            }
            let now = unix_now();
            match self.store.find(&credential, now).await {
                Ok(Some(found)) => match restore(&found) {
                    Ok(snapshot) => match self.owners.vouch(found.provider.as_deref(), snapshot) {
                        Ok(user) => {
                            // Bookkeeping only: a token is not refused for it.
                            let _ = self.store.used(&credential, &found, now).await;
                            ProviderVerdict::AcceptedStoreToken { user, id: found.id }
                        }
                        Err(reason) => ProviderVerdict::Rejected(reason),
                    },
                    Err(e) => ProviderVerdict::Unavailable(e),
                },
                Ok(None) => ProviderVerdict::Rejected("unknown, expired or revoked".to_owned()),
                Err(e) => ProviderVerdict::Unavailable(e.0),
            }
        }
        .boxed()
    }

    /// The bound on how late this worker notices a revocation made elsewhere.
    fn cache_ttl(&self) -> Option<Duration> {
        Some(self.store.cache_ttl)
    }

    fn warm_up(self: Arc<Self>) -> Option<BoxFuture<'static, ()>> {
        Some(async move { drop(self.store.prepare().await) }.boxed())
    }
}

#[cfg(test)]
mod tests;
