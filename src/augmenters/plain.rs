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
mod tests {
    use super::*;

    fn augmenter(roles: &[(&str, &[&str])]) -> Arc<PlainAugmenter> {
        Arc::new(PlainAugmenter::new(&PlainAugmenterConfig {
            name: "plain".into(),
            realm: "r1".into(),
            roles: roles
                .iter()
                .map(|(r, us)| (r.to_string(), us.iter().map(|u| u.to_string()).collect()))
                .collect(),
        }))
    }

    async fn roles_of(a: &Arc<PlainAugmenter>, username: &str) -> Vec<String> {
        let mut user = User::new(username, "r1", vec![]);
        a.clone().augment(&user).await.unwrap().apply(&mut user);
        user.roles
    }

    #[tokio::test]
    async fn adds_every_role_listing_the_user() {
        // Upstream's own test of this augmenter.
        let a = augmenter(&[("admin", &["alice", "bob"]), ("user", &["bob", "carol"])]);
        assert_eq!(roles_of(&a, "bob").await, ["admin", "user"]);
        assert_eq!(roles_of(&a, "alice").await, ["admin"]);
        assert!(roles_of(&a, "mallory").await.is_empty());
    }

    #[tokio::test]
    async fn does_not_deduplicate_like_upstream() {
        let a = augmenter(&[("admin", &["bob"])]);
        let mut user = User::new("bob", "r1", vec!["admin".into()]);
        a.clone().augment(&user).await.unwrap().apply(&mut user);
        assert_eq!(user.roles, ["admin", "admin"]);
    }

    #[test]
    fn metadata() {
        let a = augmenter(&[]);
        assert_eq!(
            (a.name(), a.realm(), a.stage()),
            ("plain", "r1", Stage::Concurrent)
        );
    }
}
