//! `type: plain`: HTTP Basic against the users listed in the config, as upstream.

use std::sync::Arc;

use base64::Engine;

use super::password::{digest, same_digest, verify_hash, StoredPassword};
use super::{ConfiguredProvider, CredentialCheck, ProviderInfo};
use crate::config::PlainProviderConfig;
use crate::domain::Scheme;
use crate::domain::User;
use crate::domain::{OwnerCheck, ProviderVerdict};

const WRONG: &str = "Wrong username or password";

pub type PlainProvider = ConfiguredProvider<Plain>;

pub struct Plain {
    users: Vec<PlainUser>,
}

struct PlainUser {
    username_digest: [u8; 32],
    username: String,
    password: StoredPassword,
    roles: Vec<String>,
}

impl PlainProvider {
    pub fn new(config: &PlainProviderConfig) -> Self {
        let users = config
            .users
            .iter()
            .map(|u| PlainUser {
                username_digest: digest(&u.username),
                username: u.username.clone(),
                password: match (&u.password_hash, &u.password) {
                    (Some(hash), _) => StoredPassword::hashed(hash),
                    (None, Some(plain)) => StoredPassword::plain(plain),
                    // Config loading requires one of the two; a user without either can never log in.
                    (None, None) => StoredPassword::Plain([0; 32]),
                },
                roles: u.roles.clone(),
            })
            .collect();
        ConfiguredProvider {
            info: ProviderInfo::new(&config.name, &config.realm, None),
            check: Plain { users },
        }
    }
}

impl CredentialCheck for Plain {
    const SCHEME: Scheme = Scheme::Basic;

    async fn verdict(&self, info: &ProviderInfo, credential: &str) -> ProviderVerdict {
        let (username, password) = match decode_basic(credential) {
            Ok(pair) => pair,
            Err(reason) => return ProviderVerdict::Rejected(reason.to_owned()),
        };

        // Every user is compared, so timing does not tell which usernames exist.
        let wanted = digest(&username);
        let given = digest(&password);
        let mut plain_match = None;
        let mut hashed = Vec::new();
        for (index, user) in self.users.iter().enumerate() {
            if !same_digest(&user.username_digest, &wanted) {
                continue;
            }
            match &user.password {
                StoredPassword::Plain(stored) => {
                    if same_digest(stored, &given) && plain_match.is_none() {
                        plain_match = Some(index);
                    }
                }
                StoredPassword::Hash(hash) => hashed.push((index, hash.clone())),
            }
        }

        if let Some(index) = plain_match {
            return self.accept(&info.realm, index);
        }
        if hashed.is_empty() {
            if let Some(decoy) = self.first_hash() {
                // An unknown username costs as much as a known one.
                let _ = verify_hash(&username, decoy, password).await;
            }
            return ProviderVerdict::Rejected(WRONG.to_owned());
        }
        for (index, hash) in hashed {
            match verify_hash(&username, hash, password.clone()).await {
                Ok(true) => return self.accept(&info.realm, index),
                Ok(false) => {}
                Err(reason) => return ProviderVerdict::Unavailable(reason),
            }
        }
        ProviderVerdict::Rejected(WRONG.to_owned())
    }

    /// The config is the truth about its users, now as at creation: an owner who is no longer
    /// listed is gone, and one still listed has the roles listed now. The password is not
    /// looked at: it is one way of proving who the owner is, and the token is another.
    fn check_owner(&self, owner: &User) -> OwnerCheck {
        // A username listed twice (two passwords) has the roles of its first entry.
        match self.users.iter().find(|u| u.username == owner.username) {
            Some(listed) => OwnerCheck::Current(User {
                roles: listed.roles.clone(),
                ..owner.clone()
            }),
            None => OwnerCheck::Gone,
        }
    }
}

impl Plain {
    fn accept(&self, realm: &str, index: usize) -> ProviderVerdict {
        let user = &self.users[index];
        ProviderVerdict::Accepted(User::new(
            user.username.clone(),
            realm.to_owned(),
            user.roles.clone(),
        ))
    }

    fn first_hash(&self) -> Option<Arc<str>> {
        self.users.iter().find_map(|u| match &u.password {
            StoredPassword::Hash(hash) => Some(hash.clone()),
            StoredPassword::Plain(_) => None,
        })
    }
}

/// Standard base64 with padding, UTF-8, split at the first colon; a missing colon means an
/// empty password. The messages are upstream's.
pub(crate) fn decode_basic(credential: &str) -> Result<(String, String), &'static str> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(credential)
        .map_err(|_| "Invalid base64 in Basic auth")?;
    let text = String::from_utf8(bytes).map_err(|_| "Invalid UTF-8 in Basic auth")?;
    let (username, password) = text.split_once(':').unwrap_or((&text, ""));
    if username.is_empty() {
        return Err("No username in Basic credentials");
    }
    Ok((username.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests;
