//! Credential providers. Each file holds one provider type; `build` maps a config entry to it.

mod password;
pub mod plain;

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::auth::header::Scheme;
use crate::auth::user::User;
use crate::config::ProviderConfig;

/// What one provider concluded about one credential.
#[derive(Debug)]
pub enum ProviderVerdict {
    Accepted(User),
    /// The provider gave a definitive "no"; the reason is for logs only.
    Rejected(String),
    /// The provider could not decide (timeout, outage); the reason is for logs only.
    Unavailable(String),
}

pub trait Provider: Send + Sync {
    /// The configured `name`; shown in `$authotron_provider` and in logs.
    fn name(&self) -> &str;
    /// The realm used for `X-Auth-Realm` selection and the challenge.
    fn realm(&self) -> &str;
    /// The `Authorization` scheme this provider understands.
    fn scheme(&self) -> Scheme;
    /// Validates one credential. The future owns what it needs: it runs on the worker's tokio
    /// runtime, possibly after the request that started it has gone.
    fn authenticate(self: Arc<Self>, credential: String) -> BoxFuture<'static, ProviderVerdict>;
}

pub fn build(config: &ProviderConfig) -> Result<Arc<dyn Provider>, String> {
    match config {
        ProviderConfig::Plain(plain) => Ok(Arc::new(plain::PlainProvider::new(plain))),
        other => Err(format!(
            "provider type `{}` is not supported by this build yet",
            other.type_tag()
        )),
    }
}
