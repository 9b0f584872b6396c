//! SQLite: one file shared by the workers of one machine. Each worker keeps one connection and
//! uses it from tokio's blocking threads, never from the NGINX event loop. WAL mode lets
//! lookups in one worker run while another writes.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::FutureExt;
use parking_lot::Mutex;
use rusqlite::{params, Connection, OptionalExtension};

use super::schema::{self, INFO_COLUMNS};
use super::{Backend, Found, NewRow, Owner, TokenInfo, Which};
use crate::config::{sqlite_problem, WorkerUser};

pub struct Sqlite {
    shared: Arc<Shared>,
}

struct Shared {
    path: String,
    busy_timeout: Duration,
    /// Opened on first use in the worker (never in the master before `fork`), and dropped
    /// after an error so the next operation starts from a fresh connection.
    connection: Mutex<Option<Connection>>,
}

impl Sqlite {
    /// The directory and its permissions are checked when the configuration is loaded, where
    /// the worker user and the line of `store.path` are known.
    pub fn new(path: &str, busy_timeout: Duration) -> Result<Self, String> {
        Ok(Sqlite {
            shared: Arc::new(Shared {
                path: path.to_owned(),
                busy_timeout,
                connection: Mutex::new(None),
            }),
        })
    }

    /// Runs `work` on a blocking thread with this worker's connection.
    fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> BoxFuture<'static, Result<T, String>> {
        let shared = self.shared.clone();
        async move {
            tokio::task::spawn_blocking(move || shared.run(work))
                .await
                .map_err(|e| format!("token store task failed: {e}"))?
        }
        .boxed()
    }
}

impl Shared {
    fn run<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, String> {
        let mut slot = self.connection.lock();
        if slot.is_none() {
            *slot = Some(self.open().map_err(|e| self.open_failure(&e))?);
        }
        let connection = slot.as_mut().expect("opened above");
        work(connection).map_err(|e| {
            *slot = None;
            describe(&e)
        })
    }

    /// Why the database cannot be opened, with what to fix when this worker's permissions are
    /// the reason (`nginx -t` checked them, but the directory may have changed since).
    fn open_failure(&self, e: &rusqlite::Error) -> String {
        let problem = sqlite_problem(Path::new(&self.path), &WorkerUser::current())
            .map(|problem| format!("; {problem}"))
            .unwrap_or_default();
        format!("SQLite: cannot open \"{}\": {e}{problem}", self.path)
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let deadline = Instant::now() + self.busy_timeout;
        loop {
            match self.try_open() {
                // Workers starting together race to switch a new file to WAL. That switch needs
                // an exclusive lock, and SQLite can answer "locked" at once instead of waiting out
                // the busy timeout, so the waiting happens here.
                Err(e) if is_busy(&e) && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                opened => return opened,
            }
        }
    }

    fn try_open(&self) -> rusqlite::Result<Connection> {
        let connection = Connection::open(&self.path)?;
        connection.busy_timeout(self.busy_timeout)?;
        // This pragma answers with the mode now in force, so it must be read as a query.
        connection.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(connection)
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// The message for logs: SQLite's, which names no token (we only bind hashes).
fn describe(e: &rusqlite::Error) -> String {
    format!("SQLite: {e}")
}

impl Backend for Sqlite {
    fn migrate(&self) -> BoxFuture<'static, Result<(), String>> {
        self.with(|c| {
            // IMMEDIATE takes the write lock first, so two workers never migrate at once.
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute(schema::VERSION_TABLE, [])?;
            let version: i64 = tx.query_row(
                "SELECT COALESCE(MAX(version), 0) FROM authotron_schema",
                [],
                |row| row.get(0),
            )?;
            for (reached, statements) in schema::pending(version) {
                for statement in statements {
                    tx.execute(statement, [])?;
                }
                tx.execute(
                    "INSERT INTO authotron_schema (version) VALUES (?1)",
                    [reached],
                )?;
            }
            tx.commit()
        })
    }

    fn insert(&self, row: NewRow) -> BoxFuture<'static, Result<(), String>> {
        self.with(move |c| {
            // Expired rows are of no use to anyone; creation is rare enough to sweep them.
            c.execute(
                "DELETE FROM authotron_tokens WHERE expires_at <= ?1",
                [row.info.created_at],
            )?;
            c.execute(
                "INSERT INTO authotron_tokens (id, token_hash, realm, username, user_snapshot, \
                 description, created_at, expires_at, provider) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    row.info.id,
                    row.hash,
                    row.owner.realm,
                    row.owner.username,
                    row.snapshot,
                    row.info.description,
                    row.info.created_at,
                    row.info.expires_at,
                    row.provider
                ],
            )?;
            Ok(())
        })
    }

    fn find(&self, hash: String, now: i64) -> BoxFuture<'static, Result<Option<Found>, String>> {
        self.with(move |c| {
            c.query_row(
                "SELECT id, user_snapshot, expires_at, provider, last_used_at FROM authotron_tokens \
                 WHERE token_hash = ?1 AND expires_at > ?2",
                params![hash, now],
                |row| {
                    Ok(Found {
                        id: row.get(0)?,
                        snapshot: row.get(1)?,
                        expires_at: row.get(2)?,
                        provider: row.get(3)?,
                        last_used_at: row.get(4)?,
                    })
                },
            )
            .optional()
        })
    }

    fn touch(
        &self,
        hash: String,
        now: i64,
        stale_at: i64,
    ) -> BoxFuture<'static, Result<(), String>> {
        self.with(move |c| {
            c.execute(
                "UPDATE authotron_tokens SET last_used_at = ?1 \
                 WHERE token_hash = ?2 AND (last_used_at IS NULL OR last_used_at <= ?3)",
                params![now, hash, stale_at],
            )?;
            Ok(())
        })
    }

    fn list(&self, owner: Owner, now: i64) -> BoxFuture<'static, Result<Vec<TokenInfo>, String>> {
        self.with(move |c| {
            let mut statement = c.prepare(&format!(
                "SELECT {INFO_COLUMNS} FROM authotron_tokens \
                 WHERE realm = ?1 AND username = ?2 AND expires_at > ?3 \
                 ORDER BY created_at, id"
            ))?;
            let rows = statement.query_map(params![owner.realm, owner.username, now], |row| {
                Ok(TokenInfo {
                    id: row.get(0)?,
                    description: row.get(1)?,
                    created_at: row.get(2)?,
                    expires_at: row.get(3)?,
                    last_used_at: row.get(4)?,
                })
            })?;
            rows.collect()
        })
    }

    fn revoke(
        &self,
        owner: Owner,
        which: Which,
    ) -> BoxFuture<'static, Result<Vec<String>, String>> {
        self.with(move |c| {
            let (column, value) = match which {
                Which::Hash(hash) => ("token_hash", hash),
                Which::Id(id) => ("id", id),
            };
            // RETURNING (SQLite 3.35 and later) names the deleted rows in the deleting
            // statement itself, so no other writer can come between the two.
            let mut statement = c.prepare(&format!(
                "DELETE FROM authotron_tokens \
                 WHERE {column} = ?1 AND realm = ?2 AND username = ?3 RETURNING id"
            ))?;
            let ids = statement.query_map(params![value, owner.realm, owner.username], |row| {
                row.get(0)
            })?;
            ids.collect()
        })
    }
}
