//! `type: plain` (deprecated upstream): static role → usernames map.

use std::sync::Arc;

use futures::future::{self, BoxFuture};
use futures::FutureExt;

use super::{Augmentation, Augmenter, Stage};
use crate::config::PlainAugmenterConfig;
use crate::domain::User;

pub struct PlainAugmenter {
    name: String,
    realm: String,
    roles: Vec<(String, Vec<String>)>,
}

impl PlainAugmenter {
    pub fn new(config: &PlainAugmenterConfig) -> Self {
        PlainAugmenter {
            name: config.name.clone(),
            realm: config.realm.clone(),
            roles: config.roles.clone(),
        }
    }

    fn roles_for(&self, username: &str) -> Vec<String> {
        self.roles
            .iter()
            .filter(|(_, users)| users.iter().any(|u| u == username))
            .map(|(role, _)| role.clone())
            .collect()
    }
}

impl Augmenter for PlainAugmenter {
    fn name(&self) -> &str {
        &self.name
    }

    fn realm(&self) -> &str {
        &self.realm
    }

    fn stage(&self) -> Stage {
        Stage::Concurrent
    }

    fn augment(self: Arc<Self>, user: &User) -> BoxFuture<'static, Result<Augmentation, String>> {
        let roles = self.roles_for(&user.username);
        future::ready(Ok(Augmentation {
            roles,
            ..Augmentation::default()
        }))
        .boxed()
    }
}

#[cfg(test)]
mod tests;
