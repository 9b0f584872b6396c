//! Augmenters add roles and attributes to an authenticated user of their realm, as upstream's
//! do.

pub mod ldap;
pub mod ldap_roles;
pub mod plain;
pub mod plain_advanced;

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::config::{AugmenterConfig, Config};
use crate::domain::User;

/// When an augmenter runs: upstream runs every ordinary augmenter concurrently first, then the
/// `plain_advanced` ones one by one in config order, so they can match roles added earlier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Concurrent,
    Sequential,
}

/// What one augmenter adds. Concurrent augmenters return additions instead of editing the user,
/// so results are applied in config order and the final roles do not depend on timing.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Augmentation {
    /// Appended as given (upstream does not de-duplicate these).
    pub roles: Vec<String>,
    /// Roles appended only when the user does not have them yet.
    pub distinct_roles: Vec<String>,
    /// Inserted, overwriting existing values.
    pub attributes: Vec<(String, String)>,
}

impl Augmentation {
    pub fn apply(self, user: &mut User) {
        user.roles.extend(self.roles);
        for role in self.distinct_roles {
            if !user.roles.contains(&role) {
                user.roles.push(role);
            }
        }
        user.attributes.extend(self.attributes);
    }
}

pub trait Augmenter: Send + Sync {
    fn name(&self) -> &str;
    fn realm(&self) -> &str;
    fn stage(&self) -> Stage;
    /// Looks at the user as it stands and says what to add; errors are logged, never fatal.
    fn augment(self: Arc<Self>, user: &User) -> BoxFuture<'static, Result<Augmentation, String>>;
}

/// Builds one augmenter. `settings` is the whole loaded config, for what augmenters share with
/// the rest of the module (outbound timeouts and CAs, cache capacity).
pub fn build(config: &AugmenterConfig, settings: &Config) -> Result<Arc<dyn Augmenter>, String> {
    Ok(match config {
        AugmenterConfig::Plain(c) => Arc::new(plain::PlainAugmenter::new(c)),
        AugmenterConfig::PlainAdvanced(c) => {
            Arc::new(plain_advanced::PlainAdvancedAugmenter::new(c))
        }
        AugmenterConfig::Ldap(c) => Arc::new(ldap::LdapAugmenter::new(c, settings)?),
    })
}
