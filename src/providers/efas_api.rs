//! `type: efas-api`: an EFAS API key, sent as a Bearer token, checked with the EFAS
//! user-details service as upstream does. Unlike upstream the key is percent-encoded, the
//! provider reports its configured realm everywhere (upstream reports a hard-coded `efas` in
//! challenges and realm selection), and the status policy of `remote::Caller::ApiKey` applies.

use reqwest::Url;
use serde_json::{Map, Value};

use super::remote::{self, Caller, Failure};
use super::{ttl_or, ConfiguredProvider, CredentialCheck, ProviderContext, ProviderInfo};
use crate::config::EfasApiConfig;
use crate::domain::ProviderVerdict;
use crate::domain::User;

const SERVICE: &str = "EFAS user-details";

pub type EfasApiProvider = ConfiguredProvider<EfasApi>;

pub struct EfasApi {
    /// Used as configured: the key is added as its `token` query parameter.
    uri: Url,
    channel: remote::Channel,
}

impl EfasApiProvider {
    pub fn new(config: &EfasApiConfig, ctx: &ProviderContext) -> Result<Self, String> {
        let ttl = ttl_or(config.cache_ttl_seconds, 60);
        Ok(ConfiguredProvider {
            info: ProviderInfo::new(&config.name, &config.realm, Some(ttl)),
            check: EfasApi {
                uri: remote::endpoint(&config.uri, &[])
                    .map_err(|e| remote::config_error(&config.name, "uri", e))?,
                channel: ctx.channel(),
            },
        })
    }
}

impl CredentialCheck for EfasApi {
    async fn verdict(&self, info: &ProviderInfo, key: &str) -> ProviderVerdict {
        self.lookup(&info.realm, key).await.into()
    }
}

impl EfasApi {
    async fn lookup(&self, realm: &str, key: &str) -> Result<User, Failure> {
        let request = self
            .channel
            .client()?
            .get(self.uri.clone())
            .query(&[("token", key)]);
        let body = self.channel.call(SERVICE, Caller::ApiKey, request).await?;
        user_from_answer(realm, &body)
    }
}

/// The user of a user-details answer (a 2xx JSON object).
pub(crate) fn user_from_answer(realm: &str, body: &Map<String, Value>) -> Result<User, Failure> {
    let malformed =
        |field| Failure::Rejected(format!("{SERVICE} answered without a usable `{field}`"));
    let username = remote::string_field(body, "username").ok_or_else(|| malformed("username"))?;
    let roles = match body.get("roles") {
        None | Some(Value::Null) => Vec::new(),
        Some(list) => serde_json::from_value(list.clone()).map_err(|_| malformed("roles"))?,
    };
    // Only the e-mail is kept (upstream since 0.3.3): the rest is personal data the
    // backends do not need.
    let mut user = User::new(username, realm.to_owned(), roles);
    if let Some(email) = remote::string_field(body, "email") {
        user.attributes.insert("email".into(), email.into());
    }
    Ok(user)
}

#[cfg(test)]
mod tests;
