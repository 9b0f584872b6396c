//! `type: ecmwf-token-generator`: an offline (refresh) token issued by the ECMWF token
//! generator, sent as a Bearer token. As upstream, the generator validates it, exchanges it for
//! an access token, and that token is validated like a `jwt` provider's. Unlike upstream,
//! the status policy of `remote::Caller::Client` applies.

use futures::future::BoxFuture;
use reqwest::Url;
use serde_json::{json, Map, Value};

use super::jwt::JwtValidator;
use super::remote::{self, Caller, Failure};
use super::{ttl_or, ConfiguredProvider, CredentialCheck, ProviderContext, ProviderInfo};
use crate::config::TokenGeneratorConfig;
use crate::domain::ProviderVerdict;

const VALIDATION: &str = "ECMWF token generator validation";
const EXCHANGE: &str = "ECMWF token generator exchange";

pub type TokenGeneratorProvider = ConfiguredProvider<TokenGenerator>;

pub struct TokenGenerator {
    validate: Url,
    refresh: Url,
    client_id: String,
    client_secret: String,
    channel: remote::Channel,
    validator: JwtValidator,
}

impl TokenGeneratorProvider {
    pub fn new(config: &TokenGeneratorConfig, ctx: &ProviderContext) -> Result<Self, String> {
        let url = |segments: &[&str]| {
            remote::endpoint(&config.token_generator_url, segments)
                .map_err(|e| remote::config_error(&config.name, "token_generator_url", e))
        };
        let ttl = ttl_or(config.cache_ttl_seconds, 240);
        let check = TokenGenerator {
            validate: url(&["validate-token"])?,
            refresh: url(&["admin", "refresh-access-token"])?,
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            channel: ctx.channel(),
            validator: JwtValidator::new(
                &config.name,
                &config.realm,
                &config.cert_uri,
                &config.checks,
                ctx,
            ),
        };
        Ok(ConfiguredProvider {
            info: ProviderInfo::new(&config.name, &config.realm, Some(ttl)),
            check,
        })
    }
}

impl TokenGenerator {
    async fn access_token(&self, offline: &str) -> Result<String, Failure> {
        let client = self.channel.client()?;
        let request = client
            .post(self.validate.clone())
            .json(&json!({"token": offline, "client_id": self.client_id}));
        let validation = self
            .channel
            .call(VALIDATION, Caller::Client, request)
            .await?;
        if !is_active(&validation) {
            return Err(Failure::Rejected(
                "Token is not valid according to ECMWF Token Generator".into(),
            ));
        }
        let request = client.post(self.refresh.clone()).json(&json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": offline,
        }));
        let exchange = self.channel.call(EXCHANGE, Caller::Client, request).await?;
        remote::access_token(EXCHANGE, &exchange)
    }
}

/// Whether a validation answer says the offline token is valid. An absent `active` counts as
/// false, as upstream.
pub(crate) fn is_active(validation: &Map<String, Value>) -> bool {
    validation.get("active") == Some(&Value::Bool(true))
}

impl CredentialCheck for TokenGenerator {
    async fn verdict(&self, _: &ProviderInfo, offline: &str) -> ProviderVerdict {
        let exchanged = self.access_token(offline).await;
        self.validator.validate_exchanged(exchanged).await
    }

    fn warm_up(&self) -> Option<BoxFuture<'static, ()>> {
        Some(self.validator.warm_up())
    }
}

#[cfg(test)]
mod tests;
