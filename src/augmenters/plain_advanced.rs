//! `type: plain_advanced`: when the username or an existing role matches, add roles (once) and
//! upsert attributes. As upstream, it runs after the concurrent augmenters, so it sees the roles
//! they added.

use std::sync::Arc;

use futures::future::{self, BoxFuture};
use futures::FutureExt;

use super::{Augmentation, Augmenter, Stage};
use crate::config::PlainAdvancedConfig;
use crate::domain::User;

pub struct PlainAdvancedAugmenter {
    name: String,
    realm: String,
    match_usernames: Vec<String>,
    match_roles: Vec<String>,
    roles: Vec<String>,
    attributes: Vec<(String, String)>,
}

impl PlainAdvancedAugmenter {
    pub fn new(config: &PlainAdvancedConfig) -> Self {
        PlainAdvancedAugmenter {
            name: config.name.clone(),
            realm: config.realm.clone(),
            match_usernames: config.r#match.username.clone(),
            match_roles: config.r#match.role.clone(),
            roles: config.augment.roles.clone(),
            attributes: config.augment.attributes.clone(),
        }
    }

    fn matches(&self, user: &User) -> bool {
        self.match_usernames.contains(&user.username)
            || user.roles.iter().any(|r| self.match_roles.contains(r))
    }
}

impl Augmenter for PlainAdvancedAugmenter {
    fn name(&self) -> &str {
        &self.name
    }

    fn realm(&self) -> &str {
        &self.realm
    }

    fn stage(&self) -> Stage {
        Stage::Sequential
    }

    fn augment(self: Arc<Self>, user: &User) -> BoxFuture<'static, Result<Augmentation, String>> {
        let augmentation = if self.matches(user) {
            Augmentation {
                distinct_roles: self.roles.clone(),
                attributes: self.attributes.clone(),
                ..Augmentation::default()
            }
        } else {
            Augmentation::default()
        };
        future::ready(Ok(augmentation)).boxed()
    }
}

#[cfg(test)]
mod tests;
