//! The outbound HTTP client providers use to reach identity services.
//!
//! One `reqwest` client per worker process: the `Authenticator` is built in the master at
//! configuration time, and the client is built lazily on first use, after the fork, on the
//! worker's runtime. Every call has a connect and a total timeout. Trusted CAs come from the
//! config, because NGINX clears worker environments (`SSL_CERT_FILE` would never be seen).

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::{Certificate, Client};

use crate::config::HttpSettings;

pub struct IdentityClient {
    connect_timeout: Duration,
    timeout: Duration,
    extra_roots: Vec<Certificate>,
    client: OnceLock<Result<Client, String>>,
}

impl IdentityClient {
    /// Reads the CA bundle now, so `nginx -t` reports a bad one.
    pub fn new(settings: &HttpSettings) -> Result<Self, String> {
        let extra_roots = match &settings.ca_file {
            Some(file) => {
                let pem = std::fs::read(file)
                    .map_err(|e| format!("http.ca_file {file}: cannot read: {e}"))?;
                let roots = Certificate::from_pem_bundle(&pem)
                    .map_err(|e| format!("http.ca_file {file}: {e}"))?;
                if roots.is_empty() {
                    return Err(format!("http.ca_file {file}: no PEM certificate in it"));
                }
                roots
            }
            None => Vec::new(),
        };
        Ok(IdentityClient {
            connect_timeout: Duration::from_millis(settings.connect_timeout_ms),
            timeout: Duration::from_millis(settings.timeout_ms),
            extra_roots,
            client: OnceLock::new(),
        })
    }

    pub fn client(&self) -> Result<&Client, String> {
        self.client
            .get_or_init(|| self.build())
            .as_ref()
            .map_err(Clone::clone)
    }

    fn build(&self) -> Result<Client, String> {
        let mut builder = Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(concat!("authotron-nginx/", env!("CARGO_PKG_VERSION")))
            // Proxy variables are not ours to read: workers have no environment anyway.
            .no_proxy();
        for root in &self.extra_roots {
            builder = builder.add_root_certificate(root.clone());
        }
        builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))
    }
}

/// What a call to an identity service produced, before the provider interprets it.
pub struct JsonReply {
    pub status: u16,
    /// `None` when the body is not JSON.
    pub body: Option<serde_json::Value>,
}

/// The largest answer read from an identity service. Real answers are a few hundred bytes and
/// key sets a few KiB; a hostile or broken service must not make a worker buffer without bound.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Sends `request` and reads a JSON body. The error is a transport failure (refused, timeout,
/// TLS) or an answer over [`MAX_ANSWER_BYTES`]: the service could not answer. Its text never
/// contains the URL, which may carry a credential in its query.
pub async fn send_json(request: reqwest::RequestBuilder) -> Result<JsonReply, String> {
    let response = request
        .send()
        .await
        .map_err(|e| format!("request failed: {}", with_causes(&e.without_url())))?;
    let status = response.status().as_u16();
    let bytes = read_capped(response).await?;
    Ok(JsonReply {
        status,
        body: serde_json::from_slice(&bytes).ok(),
    })
}

/// An error and its causes down the `source()` chain, `: `-separated. reqwest's own text
/// ("error sending request") says nothing of why; its causes do: connection refused, a
/// timeout, the TLS problem. A cause that repeats what is already said is skipped, and one that
/// quotes a URL is left out, since a query may carry a credential (the top error must come
/// without its URL, see `reqwest::Error::without_url`).
pub(crate) fn with_causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(e) = cause {
        let part = e.to_string();
        if !part.contains("://") && !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = e.source();
    }
    text
}

/// `url` as logs may show it: without user information, query or fragment, any of which may
/// carry a credential (`https://user:secret@idp/jwks?access_token=...`).
pub(crate) fn url_for_logs(url: &str) -> String {
    let Ok(mut url) = reqwest::Url::parse(url) else {
        return "(not a URL)".to_owned();
    };
    // Both only fail for URLs that cannot have user information, which then have none.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.into()
}

/// The body, read as it arrives and abandoned once it passes the cap, whatever the answer's
/// `Content-Length` claims (a chunked answer has none).
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let too_large = || format!("the answer is larger than {} KiB", MAX_ANSWER_BYTES / 1024);
    if response
        .content_length()
        .is_some_and(|length| length > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        format!(
            "reading the answer failed: {}",
            with_causes(&e.without_url())
        )
    })? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::{url_for_logs, with_causes};

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    fn chain(texts: &[&'static str]) -> Layer {
        texts
            .iter()
            .rev()
            .fold(None, |inner, text| Some(Layer(text, inner.map(Box::new))))
            .unwrap()
    }

    #[test]
    fn the_causes_say_why_a_request_failed() {
        let err = chain(&[
            "error sending request",
            "client error (Connect)",
            "tcp connect error",
            "Connection refused (os error 111)",
            "Connection refused (os error 111)",
        ]);
        assert_eq!(
            with_causes(&err),
            "error sending request: client error (Connect): tcp connect error: Connection refused (os error 111)"
        );
    }

    #[test]
    fn a_cause_quoting_a_url_is_left_out() {
        let err = chain(&[
            "error sending request",
            "redirect to https://idp.example/v1?key=s3cr3t refused",
            "invalid peer certificate: UnknownIssuer",
        ]);
        let text = with_causes(&err);
        assert_eq!(
            text,
            "error sending request: invalid peer certificate: UnknownIssuer"
        );
        assert!(!text.contains("s3cr3t"));
    }

    #[test]
    fn a_url_for_logs_keeps_no_credential() {
        assert_eq!(
            url_for_logs("https://user:secret@idp.test:8443/jwks?access_token=secret#secret"),
            "https://idp.test:8443/jwks"
        );
        assert_eq!(url_for_logs("http://idp/certs"), "http://idp/certs");
        assert_eq!(url_for_logs("not a url ?secret"), "(not a URL)");
    }
}
