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
