use super::*;
use crate::config::{AugmentRule, MatchRule};

/// The fixture of upstream's own tests of this augmenter.
fn augmenter() -> Arc<PlainAdvancedAugmenter> {
    Arc::new(PlainAdvancedAugmenter::new(&PlainAdvancedConfig {
        name: "adv".into(),
        realm: "ecmwf".into(),
        r#match: MatchRule {
            username: vec!["adam".into()],
            role: vec!["admin".into()],
        },
        augment: AugmentRule {
            roles: vec!["observer".into(), "admin".into()],
            attributes: vec![
                ("team".into(), "polytope".into()),
                ("location".into(), "cloud".into()),
            ],
        },
    }))
}

async fn augmented(user: User) -> User {
    let mut user = user;
    augmenter().augment(&user).await.unwrap().apply(&mut user);
    user
}

#[tokio::test]
async fn username_match_adds_roles_and_attributes() {
    let u = augmented(User::new("adam", "ecmwf", vec![])).await;
    assert_eq!(u.roles, ["observer", "admin"]);
    assert_eq!(u.attributes["team"], "polytope");
    assert_eq!(u.attributes["location"], "cloud");
}

#[tokio::test]
async fn role_match_adds_only_missing_roles() {
    let u = augmented(User::new("eve", "ecmwf", vec!["admin".into()])).await;
    assert_eq!(u.roles, ["admin", "observer"]);
    assert_eq!(u.attributes.len(), 2);
}

#[tokio::test]
async fn no_match_changes_nothing() {
    let u = augmented(User::new("zoe", "ecmwf", vec!["user".into()])).await;
    assert_eq!(u.roles, ["user"]);
    assert!(u.attributes.is_empty());
}

#[tokio::test]
async fn attributes_are_overwritten() {
    let mut user = User::new("adam", "ecmwf", vec![]);
    user.attributes.insert("team".into(), "legacy".into());
    let u = augmented(user).await;
    assert_eq!(u.attributes["team"], "polytope");
}

#[tokio::test]
async fn existing_role_is_not_duplicated() {
    let u = augmented(User::new("adam", "ecmwf", vec!["admin".into()])).await;
    assert_eq!(u.roles.iter().filter(|r| *r == "admin").count(), 1);
}

#[test]
fn runs_sequentially() {
    assert_eq!(augmenter().stage(), Stage::Sequential);
}
