//! Credential providers. Each file holds one provider type; `build` maps a config entry to it.

pub(crate) mod claims;
pub mod ecmwf_api;
pub mod efas_api;
pub mod jwks;
pub mod jwt;
pub mod openid_offline;
mod password;
pub mod plain;
pub(crate) mod remote;
#[cfg(test)]
mod test_support;
pub mod token_generator;
pub mod token_store;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;

use crate::config::ProviderConfig;
use crate::domain::Scheme;
use crate::domain::User;
use crate::domain::{OwnerCheck, ProviderVerdict};
use crate::http::IdentityClient;

pub trait Provider: Send + Sync {
    /// The configured `name`; shown in `$authotron_provider` and in logs.
    fn name(&self) -> &str;
    /// The realm used for `X-Auth-Realm` selection and the challenge.
    fn realm(&self) -> &str;
    /// Whether the provider serves users of every realm (the token store), so a requested
    /// realm is checked against the user it finds rather than against `realm`.
    fn any_realm(&self) -> bool {
        false
    }
    /// The `Authorization` scheme this provider understands.
    fn scheme(&self) -> Scheme;
    /// Whether `credential` has a form only this provider issues (a store token). Such a
    /// credential is shown to this provider alone: every other one would forward it to an
    /// identity service, where it ends up in logs.
    fn owns(&self, _credential: &str) -> bool {
        false
    }
    /// Validates one credential. The future owns what it needs: it runs on the worker's tokio
    /// runtime, possibly after the request that started it has gone.
    fn authenticate(self: Arc<Self>, credential: String) -> BoxFuture<'static, ProviderVerdict>;
    /// What this provider says now of `owner`, a user of its realm it accepted when a store
    /// token was made. Called on every lookup of the token, so it must be cheap and local.
    fn check_owner(&self, _owner: &User) -> OwnerCheck {
        OwnerCheck::CannotTell
    }
    /// How long an identity this provider accepted may be reused; `None` means the global
    /// `cache.ttl_seconds`.
    fn cache_ttl(&self) -> Option<Duration> {
        None
    }
    /// Work worth doing when a worker starts (fetching a key set), so the first request does
    /// not wait for it.
    fn warm_up(self: Arc<Self>) -> Option<BoxFuture<'static, ()>> {
        None
    }
}

/// What every provider is configured with, whatever its type.
pub struct ProviderInfo {
    /// The configured `name`.
    pub name: String,
    /// The configured `realm`.
    pub realm: String,
    /// [`Provider::cache_ttl`].
    pub ttl: Option<Duration>,
}

impl ProviderInfo {
    pub fn new(name: &str, realm: &str, ttl: Option<Duration>) -> Self {
        ProviderInfo {
            name: name.to_owned(),
            realm: realm.to_owned(),
            ttl,
        }
    }
}

/// How one provider type judges a credential: what sets the type apart from the others.
/// [`ConfiguredProvider`] pairs it with a [`ProviderInfo`] to make a [`Provider`].
pub trait CredentialCheck: Send + Sync + 'static {
    /// [`Provider::scheme`].
    const SCHEME: Scheme = Scheme::Bearer;
    /// [`Provider::authenticate`], for the provider configured as `info`.
    fn verdict(
        &self,
        info: &ProviderInfo,
        credential: &str,
    ) -> impl Future<Output = ProviderVerdict> + Send;
    /// [`Provider::check_owner`]. Only a type that holds its users itself can tell.
    fn check_owner(&self, _owner: &User) -> OwnerCheck {
        OwnerCheck::CannotTell
    }
    /// [`Provider::warm_up`].
    fn warm_up(&self) -> Option<BoxFuture<'static, ()>> {
        None
    }
}

/// A provider as configured: its [`ProviderInfo`] and its type's [`CredentialCheck`]. Every
/// provider type but the token store is one.
pub struct ConfiguredProvider<C> {
    pub info: ProviderInfo,
    pub check: C,
}

impl<C: CredentialCheck> Provider for ConfiguredProvider<C> {
    fn name(&self) -> &str {
        &self.info.name
    }

    fn realm(&self) -> &str {
        &self.info.realm
    }

    fn scheme(&self) -> Scheme {
        C::SCHEME
    }

    fn authenticate(self: Arc<Self>, credential: String) -> BoxFuture<'static, ProviderVerdict> {
        async move { self.check.verdict(&self.info, &credential).await }.boxed()
    }

    fn check_owner(&self, owner: &User) -> OwnerCheck {
        self.check.check_owner(owner)
    }

    fn cache_ttl(&self) -> Option<Duration> {
        self.info.ttl
    }

    fn warm_up(self: Arc<Self>) -> Option<BoxFuture<'static, ()>> {
        self.check.warm_up()
    }
}

/// What providers share within one loaded config.
pub struct ProviderContext {
    pub http: Arc<IdentityClient>,
    pub jwks: jwks::JwksRegistry,
    /// `http.max_concurrent_calls`.
    pub max_concurrent_calls: usize,
}

impl ProviderContext {
    pub fn new(http: Arc<IdentityClient>, max_concurrent_calls: usize) -> Self {
        ProviderContext {
            jwks: jwks::JwksRegistry::new(http.clone()),
            http,
            max_concurrent_calls,
        }
    }

    /// A channel to an identity service for one provider, with a bound of its own.
    fn channel(&self) -> remote::Channel {
        remote::Channel::new(self.http.clone(), self.max_concurrent_calls)
    }
}

/// A configured TTL, else the provider type's upstream default.
pub fn ttl_or(configured: Option<u64>, default_secs: u64) -> Duration {
    Duration::from_secs(configured.unwrap_or(default_secs))
}

pub fn build(config: &ProviderConfig, ctx: &ProviderContext) -> Result<Arc<dyn Provider>, String> {
    match config {
        ProviderConfig::Plain(plain) => Ok(Arc::new(plain::PlainProvider::new(plain))),
        ProviderConfig::Jwt(c) => Ok(Arc::new(jwt::JwtProvider::new(c, ctx))),
        ProviderConfig::OpenidOffline(c) => Ok(Arc::new(
            openid_offline::OpenidOfflineProvider::new(c, ctx)?,
        )),
        ProviderConfig::EcmwfApi(c) => Ok(Arc::new(ecmwf_api::EcmwfApiProvider::new(c, ctx)?)),
        ProviderConfig::EfasApi(c) => Ok(Arc::new(efas_api::EfasApiProvider::new(c, ctx)?)),
        ProviderConfig::EcmwfTokenGenerator(c) => Ok(Arc::new(
            token_generator::TokenGeneratorProvider::new(c, ctx)?,
        )),
    }
}
