//! Whether the owner of a store token is still someone the running config vouches for (docs/token-store.md,
//! "A token and its owner"). A token outlives the login that made it, so each lookup asks the
//! provider that accepted the owner again. One that holds its users (`plain`) answers from the
//! config, which a reload replaces; an identity service cannot be asked without the owner's own
//! credential, so for its users the snapshot taken at creation stands.

use std::sync::Arc;

use crate::domain::{OwnerCheck, User};
use crate::providers::Provider;

/// The configured providers an owner can have come from: all of them but the store itself.
pub struct Owners {
    providers: Vec<Arc<dyn Provider>>,
}

impl Owners {
    pub fn new(providers: Vec<Arc<dyn Provider>>) -> Self {
        Owners { providers }
    }

    /// The user a token stands for now, from its owner's `snapshot` and the `name` of the
    /// provider that accepted them (`None` in rows written before it was recorded: then any
    /// provider of the owner's realm may speak for them); or why it stands for no one.
    pub fn vouch(&self, provider: Option<&str>, snapshot: User) -> Result<User, String> {
        // A provider that serves another realm now no longer speaks for users of the old one.
        let speakers = self
            .providers
            .iter()
            .filter(|p| p.realm() == snapshot.realm)
            .filter(|p| provider.is_none_or(|name| p.name() == name));
        let (mut heard, mut cannot_tell) = (false, false);
        for speaker in speakers {
            heard = true;
            match speaker.check_owner(&snapshot) {
                // What a provider knows now wins over the snapshot.
                OwnerCheck::Current(user) => return Ok(user),
                OwnerCheck::Gone => {}
                OwnerCheck::CannotTell => cannot_tell = true,
            }
        }
        if cannot_tell {
            return Ok(snapshot);
        }
        let (who, realm) = (&snapshot.username, &snapshot.realm);
        Err(match (provider, heard) {
            (Some(name), false) => format!(
                "provider \"{name}\", which accepted its owner \"{who}\", is no longer configured for realm \"{realm}\""
            ),
            (Some(name), true) => {
                format!("its owner \"{who}\" is no longer a user of provider \"{name}\"")
            }
            (None, _) => {
                format!("its owner \"{who}\" is no longer a user of any provider of realm \"{realm}\"")
            }
        })
    }
}
