//! `type: ecmwf-api`: an ECMWF API key, sent as a Bearer token, checked with the who-am-i
//! service, as upstream does. Unlike upstream the key is percent-encoded, an answer without a
//! `uid` is refused, and the status policy of `remote::Caller::ApiKey` applies.

use reqwest::Url;
use serde_json::{Map, Value};

use super::remote::{self, Caller, Failure};
use super::{ttl_or, ConfiguredProvider, CredentialCheck, ProviderContext, ProviderInfo};
use crate::config::EcmwfApiConfig;
use crate::domain::ProviderVerdict;
use crate::domain::User;

const SERVICE: &str = "ECMWF who-am-i";

pub type EcmwfApiProvider = ConfiguredProvider<EcmwfApi>;

pub struct EcmwfApi {
    who_am_i: Url,
    channel: remote::Channel,
}

impl EcmwfApiProvider {
    pub fn new(config: &EcmwfApiConfig, ctx: &ProviderContext) -> Result<Self, String> {
        let ttl = ttl_or(config.cache_ttl_seconds, 60);
        Ok(ConfiguredProvider {
            info: ProviderInfo::new(&config.name, &config.realm, Some(ttl)),
            check: EcmwfApi {
                who_am_i: remote::endpoint(&config.uri, &["who-am-i"])
                    .map_err(|e| remote::config_error(&config.name, "uri", e))?,
                channel: ctx.channel(),
            },
        })
    }
}

impl CredentialCheck for EcmwfApi {
    async fn verdict(&self, info: &ProviderInfo, key: &str) -> ProviderVerdict {
        self.lookup(&info.realm, key).await.into()
    }
}

impl EcmwfApi {
    async fn lookup(&self, realm: &str, key: &str) -> Result<User, Failure> {
        let request = self
            .channel
            .client()?
            .get(self.who_am_i.clone())
            .query(&[("token", key)]);
        let body = self.channel.call(SERVICE, Caller::ApiKey, request).await?;
        user_from_answer(realm, &body)
    }
}

/// The user of a who-am-i answer (a 2xx JSON object).
pub(crate) fn user_from_answer(realm: &str, body: &Map<String, Value>) -> Result<User, Failure> {
    // Upstream accepts a missing `uid` as the empty username; nobody should be "".
    let uid = remote::string_field(body, "uid")
        .ok_or_else(|| Failure::Rejected(format!("{SERVICE} answered without a `uid`")))?;
    // Only the e-mail: since 0.3.7 the key itself is not kept (it would reach the JWT).
    let mut user = User::new(uid, realm.to_owned(), Vec::new());
    if let Some(email) = remote::string_field(body, "email") {
        user.attributes.insert("ecmwf-email".into(), email.into());
    }
    Ok(user)
}

#[cfg(test)]
mod tests;
