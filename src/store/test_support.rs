//! What the tests of the store and of its users share: a throwaway SQLite database.

use std::path::PathBuf;

use super::{token, Store};
use crate::config::{StoreBackend, StoreSettings};

/// A directory of its own for one test's database, removed when dropped.
pub struct TempDb(pub PathBuf);

impl TempDb {
    pub fn new(name: &str) -> TempDb {
        let dir = std::env::temp_dir().join(format!(
            "authotron-store-{name}-{}-{}",
            std::process::id(),
            token::generate().unwrap().id
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDb(dir)
    }

    /// The database file's path.
    pub fn path(&self) -> String {
        self.0.join("tokens.db").to_string_lossy().into_owned()
    }

    pub fn settings(&self) -> StoreSettings {
        StoreSettings {
            enabled: true,
            backend: Some(StoreBackend::Sqlite { path: self.path() }),
            max_expiry_seconds: 1000,
            default_expiry_seconds: 100,
            ..StoreSettings::default()
        }
    }

    pub fn store(&self) -> Store {
        Store::new(&self.settings()).unwrap().expect("enabled")
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
