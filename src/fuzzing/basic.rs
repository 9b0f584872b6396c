//! Basic credentials: base64, UTF-8, `user:password`, then the plain provider's verdict.
//!
//! Input: the credential as it follows `Basic ` in the header.

use std::sync::LazyLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::{loaded, text};
use crate::config::ProviderConfig;
use crate::domain::ProviderVerdict;
use crate::providers::plain::{decode_basic, PlainProvider};
use crate::providers::CredentialCheck;

/// Plaintext passwords only: a hash would make each input cost an Argon2 run.
const USERS: &[(&str, &str)] = &[
    ("alice", "wonderland"),
    ("bob", "pa:ss:word"),
    ("zoë", "pässwörd"),
];

static PROVIDER: LazyLock<PlainProvider> = LazyLock::new(|| {
    let users: Vec<String> = USERS
        .iter()
        .map(|(u, p)| format!("{{ username: \"{u}\", password: \"{p}\" }}"))
        .collect();
    let config = loaded(&format!(
        r#"
version: "2.0.0"
jwt: {{ iss: fuzz, exp: 3600, secret: "0123456789abcdef0123456789abcdef" }}
providers:
  - {{ type: plain, name: local, realm: internal, users: [{}] }}
"#,
        users.join(", ")
    ));
    match &config.providers[0] {
        ProviderConfig::Plain(plain) => PlainProvider::new(plain),
        _ => unreachable!("the config above has one plain provider"),
    }
});

pub fn basic(data: &[u8]) {
    // The header parser hands providers visible ASCII only, so anything else is text too.
    let Some(credential) = text(data) else {
        return;
    };
    let decoded = decode_basic(credential);
    if let Ok((username, password)) = &decoded {
        assert!(!username.is_empty(), "an empty username");
        assert!(
            !username.contains(':'),
            "the username ends at the first colon"
        );
        // Whatever was decoded is what encoding it again decodes to.
        let again = STANDARD.encode(format!("{username}:{password}"));
        assert_eq!(
            decode_basic(&again).as_ref(),
            Ok(&(username.clone(), password.clone()))
        );
    }

    let verdict = futures::executor::block_on(PROVIDER.check.verdict(&PROVIDER.info, credential));
    let configured = decoded
        .as_ref()
        .ok()
        .and_then(|(u, p)| USERS.iter().find(|(cu, cp)| cu == u && cp == p));
    match (verdict, configured) {
        (ProviderVerdict::Accepted(user), Some((username, _))) => {
            assert_eq!(user.username, *username)
        }
        (ProviderVerdict::Accepted(user), None) => {
            panic!(
                "accepted {:?} without its configured password",
                user.username
            )
        }
        (ProviderVerdict::Rejected(_), None) => {}
        (ProviderVerdict::Rejected(_), Some((username, _))) => {
            panic!("refused {username:?} with its configured password")
        }
        (ProviderVerdict::AcceptedStoreToken { .. }, _) => {
            panic!("only the token store finds tokens")
        }
        // Only a password hash can leave the provider unable to decide, and there is none.
        (ProviderVerdict::Unavailable(reason), _) => panic!("unavailable: {reason}"),
    }
}
