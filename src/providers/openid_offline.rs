//! `type: openid-offline`: a Keycloak offline (refresh) token, sent as a Bearer token. As
//! upstream, it is introspected, exchanged for an access token, and that token is validated
//! like a `jwt` provider's. Unlike upstream, `offline_access` must be a whole scope
//! (not a substring of one) and the status policy of `remote::Caller::Client` applies.

use futures::future::BoxFuture;
use reqwest::{Client, RequestBuilder, Url};
use serde_json::{Map, Value};

use super::jwt::JwtValidator;
use super::remote::{self, Caller, Failure};
use super::{ttl_or, ConfiguredProvider, CredentialCheck, ProviderContext, ProviderInfo};
use crate::config::OpenidOfflineConfig;
use crate::domain::ProviderVerdict;

const INTROSPECTION: &str = "Keycloak token introspection";
const EXCHANGE: &str = "Keycloak token exchange";

pub type OpenidOfflineProvider = ConfiguredProvider<OpenidOffline>;

pub struct OpenidOffline {
    introspect: Url,
    token: Url,
    public_client_id: String,
    private_client_id: String,
    private_client_secret: String,
    channel: remote::Channel,
    validator: JwtValidator,
}

impl OpenidOfflineProvider {
    pub fn new(config: &OpenidOfflineConfig, ctx: &ProviderContext) -> Result<Self, String> {
        // `realm` is also the Keycloak realm, as upstream.
        let url = |tail: &[&str]| {
            let mut segments = vec!["realms", &config.realm, "protocol", "openid-connect"];
            segments.extend_from_slice(tail);
            remote::endpoint(&config.iam_url, &segments)
                .map_err(|e| remote::config_error(&config.name, "iam_url", e))
        };
        let ttl = ttl_or(config.cache_ttl_seconds, 120);
        let check = OpenidOffline {
            introspect: url(&["token", "introspect"])?,
            token: url(&["token"])?,
            public_client_id: config.public_client_id.clone(),
            private_client_id: config.private_client_id.clone(),
            private_client_secret: config.private_client_secret.clone(),
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

impl OpenidOffline {
    /// A form POST authenticated as the private client.
    fn post(&self, client: &Client, url: &Url, form: &[(&str, &str)]) -> RequestBuilder {
        client
            .post(url.clone())
            .basic_auth(&self.private_client_id, Some(&self.private_client_secret))
            .form(form)
    }

    async fn access_token(&self, offline: &str) -> Result<String, Failure> {
        let client = self.channel.client()?;
        let request = self.post(client, &self.introspect, &[("token", offline)]);
        let introspection = self
            .channel
            .call(INTROSPECTION, Caller::Client, request)
            .await?;
        if !is_active_offline(&introspection) {
            return Err(Failure::Rejected("Not a valid offline_access token".into()));
        }
        let form = [
            ("client_id", self.public_client_id.as_str()),
            ("grant_type", "refresh_token"),
            ("refresh_token", offline),
        ];
        let request = self.post(client, &self.token, &form);
        let exchange = self.channel.call(EXCHANGE, Caller::Client, request).await?;
        remote::access_token(EXCHANGE, &exchange)
    }
}

/// `active: true` and `offline_access` among the space-separated scopes (RFC 7662).
pub(crate) fn is_active_offline(introspection: &Map<String, Value>) -> bool {
    let scope = introspection.get("scope").and_then(Value::as_str);
    introspection.get("active") == Some(&Value::Bool(true))
        && scope.is_some_and(|s| s.split_whitespace().any(|s| s == "offline_access"))
}

impl CredentialCheck for OpenidOffline {
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
