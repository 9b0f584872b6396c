//! `type: ecmwf-token-generator`: an offline (refresh) token issued by the ECMWF token
//! generator, sent as a Bearer token (reference §3.6). The generator validates it, exchanges it
//! for an access token, and that token is validated like a `jwt` provider's. Unlike upstream,
//! the status policy of `remote::Caller::Client` applies.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use reqwest::Url;
use serde_json::{json, Value};

use super::jwt::JwtValidator;
use super::remote::{self, Caller, Failure};
use super::{ttl_or, Provider, ProviderContext, ProviderVerdict};
use crate::auth::header::Scheme;
use crate::config::TokenGeneratorConfig;
use crate::http::IdentityClient;

const VALIDATION: &str = "ECMWF token generator validation";
const EXCHANGE: &str = "ECMWF token generator exchange";

pub struct TokenGeneratorProvider {
    name: String,
    realm: String,
    validate: Url,
    refresh: Url,
    client_id: String,
    client_secret: String,
    http: Arc<IdentityClient>,
    validator: JwtValidator,
    ttl: Duration,
}

impl TokenGeneratorProvider {
    pub fn new(config: &TokenGeneratorConfig, ctx: &ProviderContext) -> Result<Self, String> {
        let url = |segments: &[&str]| {
            remote::endpoint(&config.token_generator_url, segments)
                .map_err(|e| remote::config_error(&config.name, "token_generator_url", e))
        };
        Ok(TokenGeneratorProvider {
            name: config.name.clone(),
            realm: config.realm.clone(),
            validate: url(&["validate-token"])?,
            refresh: url(&["admin", "refresh-access-token"])?,
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            http: ctx.http.clone(),
            validator: JwtValidator::new(
                &config.name,
                &config.realm,
                &config.cert_uri,
                &config.checks,
                ctx,
            ),
            ttl: ttl_or(config.cache_ttl_seconds, 240),
        })
    }

    async fn access_token(&self, offline: &str) -> Result<String, Failure> {
        let client = remote::client(&self.http)?;
        let request = client
            .post(self.validate.clone())
            .json(&json!({"token": offline, "client_id": self.client_id}));
        let validation = remote::call(VALIDATION, Caller::Client, request).await?;
        // An absent `active` counts as false, as upstream.
        if validation.get("active") != Some(&Value::Bool(true)) {
            return Err(Failure::Rejected(
                "Token is not valid according to ECMWF Token Generator".into(),
            ));
        }
        let request = client.post(self.refresh.clone()).json(&json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": offline,
        }));
        let exchange = remote::call(EXCHANGE, Caller::Client, request).await?;
        remote::access_token(EXCHANGE, &exchange)
    }
}

impl Provider for TokenGeneratorProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn realm(&self) -> &str {
        &self.realm
    }

    fn scheme(&self) -> Scheme {
        Scheme::Bearer
    }

    fn authenticate(self: Arc<Self>, credential: String) -> BoxFuture<'static, ProviderVerdict> {
        async move {
            match self.access_token(&credential).await {
                Ok(access) => self.validator.validate(&access).await,
                Err(failure) => failure.into(),
            }
        }
        .boxed()
    }

    fn cache_ttl(&self) -> Option<Duration> {
        Some(self.ttl)
    }

    fn warm_up(self: Arc<Self>) -> Option<BoxFuture<'static, ()>> {
        Some(self.validator.warm_up())
    }
}

#[cfg(test)]
#[path = "token_generator_tests.rs"]
mod tests;
