//! The store against a real SQLite file: every operation the API and the provider use.
//! PostgreSQL runs the same statements; the t/ suite covers it against a real server.

use std::sync::Arc;

use super::test_support::TempDb;
use super::*;
use crate::config::StoreBackend;
use crate::domain::Identity;
use crate::store::api::{self, ApiRequest, Route};

fn alice() -> Identity {
    let mut user = User::new("alice", "ecmwf", vec!["user".into()]);
    user.attributes.insert("exp".into(), "1".into());
    Identity::new(user, "local")
}

fn bob() -> Identity {
    Identity::new(User::new("bob", "ecmwf", vec![]), "local")
}

async fn run(store: &Store, who: &Identity, route: Route, now: i64) -> api::ApiResponse {
    api::perform(store, who, route, now)
        .await
        .expect("store up")
        .response
}

fn create() -> Route {
    Route::Create {
        status: 201,
        expires_in: None,
        description: Some("job".into()),
    }
}

fn json(answer: &api::ApiResponse) -> serde_json::Value {
    serde_json::from_slice(&answer.body).unwrap()
}

#[tokio::test]
async fn lifecycle_ownership_and_expiry() {
    let db = TempDb::new("lifecycle");
    let store = db.store();
    let now = 1_000_000;

    let created = run(&store, &alice(), create(), now).await;
    assert_eq!(created.status, 201);
    let created = json(&created);
    let secret = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["expires_at"], now + 100);
    assert_eq!(created["description"], "job");

    // The token stands for alice, with the token's expiry instead of the stale `exp`.
    let found = store.find(&secret, now + 5).await.unwrap().expect("found");
    let user = restore(&found).unwrap();
    assert_eq!(
        (user.username.as_str(), user.realm.as_str()),
        ("alice", "ecmwf")
    );
    assert_eq!(user.roles, ["user"]);
    assert_eq!(user.attributes["exp"], (now + 100).to_string());
    // With the provider that accepted alice, which decides whether she still counts.
    assert_eq!(found.provider.as_deref(), Some("local"));
    // And its public id, which a revocation announces.
    assert_eq!(found.id, id);

    // Listing shows the last use (once the provider honoured the token) and never the secret.
    store.used(&secret, &found, now + 5).await.unwrap();
    let listed = run(&store, &alice(), Route::List, now + 6).await;
    let listed_text = String::from_utf8(listed.body.clone()).unwrap();
    assert!(!listed_text.contains(&secret[token::PREFIX.len()..]));
    let listed = json(&listed);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["last_used_at"], now + 5);
    assert_eq!(
        json(&run(&store, &bob(), Route::List, now).await),
        serde_json::json!([])
    );

    // Bob can neither see nor revoke it: 404, as for a token that does not exist.
    let by_bob = Route::Revoke(Which::Hash(token::hash(&secret)));
    assert_eq!(run(&store, &bob(), by_bob, now).await.status, 404);
    assert!(store.find(&secret, now).await.unwrap().is_some());

    // Expired tokens are not found and not listed.
    assert!(store.find(&secret, now + 100).await.unwrap().is_none());
    assert_eq!(
        json(&run(&store, &alice(), Route::List, now + 100).await),
        serde_json::json!([])
    );

    // Alice revokes by id; the token is gone.
    let revoke = Route::Revoke(Which::Id(id));
    assert_eq!(run(&store, &alice(), revoke, now).await.status, 204);
    assert!(store.find(&secret, now).await.unwrap().is_none());
}

#[tokio::test]
async fn only_the_hash_is_stored() {
    let db = TempDb::new("hash");
    let store = db.store();
    let created = json(&run(&store, &alice(), create(), 10).await);
    let secret = created["token"].as_str().unwrap();
    let bytes = std::fs::read(db.0.join("tokens.db")).unwrap();
    let wal = std::fs::read(db.0.join("tokens.db-wal")).unwrap_or_default();
    let body = &secret.as_bytes()[token::PREFIX.len()..];
    for file in [&bytes, &wal] {
        assert!(!file.windows(body.len()).any(|w| w == body));
    }
    assert!(bytes
        .windows(64)
        .chain(wal.windows(64))
        .any(|w| w == token::hash(secret).as_bytes()));
}

#[tokio::test]
async fn store_tokens_cannot_manage_tokens() {
    let db = TempDb::new("renew");
    let store = db.store();
    let via_store = Identity::new(User::new("alice", "ecmwf", vec![]), api::TOKEN_STORE);
    for route in [create(), Route::List] {
        assert_eq!(run(&store, &via_store, route, 10).await.status, 403);
    }
}

#[tokio::test]
async fn workers_share_one_file_and_migrate_once() {
    let db = TempDb::new("workers");
    let (one, two) = (Arc::new(db.store()), Arc::new(db.store()));
    let (a, b) = tokio::join!(one.prepare(), two.prepare());
    a.unwrap();
    b.unwrap();
    let created = json(&run(&one, &alice(), create(), 10).await);
    let secret = created["token"].as_str().unwrap();
    assert!(two.find(secret, 11).await.unwrap().is_some());
    // A third start finds the schema in place.
    db.store().prepare().await.unwrap();
}

#[tokio::test]
async fn an_unusable_database_is_unavailable_not_a_verdict() {
    let db = TempDb::new("down");
    let mut settings = db.settings();
    settings.backend = Some(StoreBackend::Sqlite {
        path: db
            .0
            .join("missing-dir/tokens.db")
            .to_string_lossy()
            .into_owned(),
    });
    // `nginx -t` refuses it (config::load_file); should the directory go away later, the
    // failure says which one.
    let missing = Store::new(&settings).unwrap().unwrap();
    let err = missing.find("x", 1).await.err().expect("unavailable").0;
    assert!(err.contains("missing-dir\" does not exist"), "{err}");

    // A file that is not a database: every operation is an outage, never a verdict.
    std::fs::write(db.0.join("tokens.db"), b"not a database, not at all, no").unwrap();
    let store = db.store();
    let secret = token::generate().unwrap().secret;
    assert!(store.find(&secret, 1).await.is_err());
    assert!(api::perform(&store, &alice(), Route::List, 1)
        .await
        .is_err());
}

#[tokio::test]
async fn a_database_of_the_first_schema_is_upgraded_and_keeps_its_tokens() {
    let db = TempDb::new("upgrade");
    let old = token::generate().unwrap();
    {
        // As the first release left it: schema version 1, one token.
        let c = rusqlite::Connection::open(db.path()).unwrap();
        c.execute(schema::VERSION_TABLE, []).unwrap();
        for statement in schema::MIGRATIONS[0] {
            c.execute(statement, []).unwrap();
        }
        c.execute("INSERT INTO authotron_schema (version) VALUES (1)", [])
            .unwrap();
        c.execute(
            "INSERT INTO authotron_tokens (id, token_hash, realm, username, user_snapshot, \
             created_at, expires_at) VALUES (?1, ?2, 'ecmwf', 'alice', ?3, 1, 100)",
            rusqlite::params![old.id, old.hash, snapshot(alice().provided()).unwrap()],
        )
        .unwrap();
    }
    let store = db.store();
    let found = store.find(&old.secret, 10).await.unwrap().expect("kept");
    assert_eq!(found.provider, None);
    // New tokens record their provider next to it.
    let created = json(&run(&store, &alice(), create(), 10).await);
    let new = store.find(created["token"].as_str().unwrap(), 11).await;
    assert_eq!(new.unwrap().unwrap().provider.as_deref(), Some("local"));
}

#[tokio::test]
async fn last_used_is_written_at_most_once_a_minute() {
    let db = TempDb::new("last-used");
    let store = db.store();
    let now = 1_000_000;
    let secret = json(&run(&store, &alice(), create(), now).await)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let last_used = || async {
        json(&run(&store, &alice(), Route::List, now).await)[0]["last_used_at"].clone()
    };
    assert_eq!(last_used().await, serde_json::Value::Null);
    for (at, shown) in [
        (now + 1, now + 1),
        (now + 30, now + 1),
        (now + 61, now + 61),
    ] {
        let found = store.find(&secret, at).await.unwrap().expect("found");
        store.used(&secret, &found, at).await.unwrap();
        assert_eq!(last_used().await, shown, "used at {at}");
    }
}

#[tokio::test]
async fn an_unknown_token_is_looked_up_without_a_write() {
    let db = TempDb::new("no-write");
    // A generous deadline: creating the schema must not fail on a busy machine, and a lookup
    // that needs the write lock fails all the same, only later.
    let settings = StoreSettings {
        timeout_ms: 20_000,
        ..db.settings()
    };
    let store = Store::new(&settings).unwrap().expect("enabled");
    store.prepare().await.unwrap();
    // Another connection holds the database's write lock, as a busy writer would.
    let writer = rusqlite::Connection::open(db.path()).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    let made_up = token::generate().unwrap().secret;
    let found = store.find(&made_up, 1_000_000).await;
    assert!(
        matches!(found, Ok(None)),
        "a lookup waited for the write lock: {:?}",
        found.err()
    );
    writer.execute_batch("ROLLBACK").unwrap();
}

#[tokio::test]
async fn a_revocation_names_the_token_it_deleted_and_only_that_one() {
    let db = TempDb::new("revoked-ids");
    let store = db.store();
    let one = json(&run(&store, &alice(), create(), 10).await);
    let two = json(&run(&store, &alice(), create(), 10).await);
    let alices = || Owner {
        realm: "ecmwf".to_owned(),
        username: "alice".to_owned(),
    };
    let bobs = Owner {
        realm: "ecmwf".to_owned(),
        username: "bob".to_owned(),
    };
    let one_hash = || Which::Hash(token::hash(one["token"].as_str().unwrap()));

    // Another owner's revocation deletes nothing, so it names nothing.
    assert!(store.revoke(bobs, one_hash()).await.unwrap().is_empty());
    // Named by its secret, the token's public id comes back; token two stays.
    assert_eq!(
        store.revoke(alices(), one_hash()).await.unwrap(),
        [one["id"].as_str().unwrap()]
    );
    assert!(store.revoke(alices(), one_hash()).await.unwrap().is_empty());
    let listed = json(&run(&store, &alice(), Route::List, 11).await);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], two["id"]);

    // Through the API, the same ids go to the worker.
    let by_id = ApiRequest {
        method: "DELETE".into(),
        path: format!("/tokens/{}", two["id"].as_str().unwrap()),
        query: String::new(),
    };
    let served = api::serve(&store, &alice(), &by_id, 12).await;
    assert_eq!(served.response.status, 204);
    assert_eq!(served.revoked, [two["id"].as_str().unwrap()]);
    let again = api::serve(&store, &alice(), &by_id, 12).await;
    assert_eq!(again.response.status, 404);
    assert!(again.revoked.is_empty());
}
