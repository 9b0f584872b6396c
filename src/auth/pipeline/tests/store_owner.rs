//! A store token across a reload: its owner is checked against the configuration the new
//! workers load (docs/token-store.md, "A token and its owner"). Each `Authenticator` here is what one
//! configuration's workers run; they share the token database, as workers across a reload do.

use std::sync::Arc;

use super::{is_rejected, run, texts, user_of};
use crate::auth::test_support::{basic, from_yaml};
use crate::auth::{Authenticator, NoteLevel};
use crate::domain::{unix_now, Verdict};
use crate::store::api::{self, Route};
use crate::store::test_support::TempDb;

/// A configuration with these users of the plain provider `local` (realm internal) and the
/// token store in `db`.
fn with_users(db: &TempDb, users: &str) -> Arc<Authenticator> {
    from_yaml(&format!(
        r#"
providers:
  - {{ type: plain, name: local, realm: internal, users: [ {users} ] }}
store: {{ enabled: true, type: sqlite, path: "{}" }}
"#,
        db.path()
    ))
}

/// A new token of whoever `authorization` logs in as, made as `POST /tokens` makes it.
async fn token_of(a: &Arc<Authenticator>, authorization: &str) -> String {
    let outcome = run(a, authorization, None).await;
    let Verdict::Authenticated(identity) = &outcome.verdict else {
        panic!("the login failed: {:?}", outcome.notes);
    };
    let create = Route::Create {
        status: 201,
        expires_in: None,
        description: None,
    };
    let store = a.store().expect("the store is enabled");
    let made = api::perform(store, identity, create, unix_now())
        .await
        .expect("the store is up")
        .response;
    let made: serde_json::Value = serde_json::from_slice(&made.body).unwrap();
    let token = made["token"].as_str().expect("a token");
    format!("Bearer {token}")
}

#[tokio::test]
async fn a_token_stands_for_its_owner_as_the_config_lists_them_now() {
    let db = TempDb::new("owner");
    let before = with_users(
        &db,
        "{ username: alice, password: a1, roles: [reader] }, \
         { username: bob, password: b1, roles: [writer] }",
    );
    let alice = token_of(&before, &basic("alice", "a1")).await;
    let bob = token_of(&before, &basic("bob", "b1")).await;
    assert_eq!(user_of(&run(&before, &bob, None).await).roles, ["writer"]);

    // Bob is removed; alice's password and role change.
    let after = with_users(&db, "{ username: alice, password: a2, roles: [editor] }");
    let refused = run(&after, &bob, None).await;
    assert!(is_rejected(&refused));
    assert!(
        texts(&refused, NoteLevel::Info)
            .iter()
            .any(|t| t.contains("its owner \"bob\" is no longer a user of provider \"local\"")),
        "{:?}",
        refused.notes
    );
    // A password is one way of proving who alice is, the token another: it survives the
    // change, and carries her role as listed now.
    assert_eq!(user_of(&run(&after, &alice, None).await).roles, ["editor"]);

    // The token stayed in the store: listed again, bob has it back.
    let back = with_users(&db, "{ username: bob, password: b3, roles: [writer] }");
    assert_eq!(user_of(&run(&back, &bob, None).await).username, "bob");
}
