//! PostgreSQL: one database shared by every NGINX machine. Each worker has its own small pool,
//! created on first use (after `fork`), on the worker's tokio runtime, and one more
//! connection that listens for revocations (`listener`).

mod listener;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use futures::future::BoxFuture;
use futures::FutureExt;
use tokio_postgres::{NoTls, Row};

use super::revocation::{self, ListenerEvent};
use super::schema::{self, INFO_COLUMNS};
use super::{Backend, Found, NewRow, Owner, TokenInfo, Which};

/// Any constant shared by every instance: the advisory lock that serialises migrations.
const MIGRATION_LOCK: i64 = 0x6175_7468_6f74_726f; // "authotro"

/// How long the listening connection may be silent before TCP keepalives probe it.
const LISTENER_KEEPALIVE: Duration = Duration::from_secs(15);

pub struct Postgres {
    shared: Arc<Shared>,
}

struct Shared {
    config: tokio_postgres::Config,
    pool_size: usize,
    deadline: Duration,
    pool: OnceLock<Pool>,
}

impl Postgres {
    pub fn new(uri: &str, pool_size: usize, deadline: Duration) -> Result<Self, String> {
        let mut config: tokio_postgres::Config = uri
            .parse()
            .map_err(|_| "the store `uri` is not a PostgreSQL connection string".to_owned())?;
        config.connect_timeout(deadline);
        if config.get_application_name().is_none() {
            config.application_name("authotron");
        }
        Ok(Postgres {
            shared: Arc::new(Shared {
                config,
                pool_size,
                deadline,
                pool: OnceLock::new(),
            }),
        })
    }

    /// Runs `work` with a pooled connection.
    fn with<T: Send + 'static>(
        &self,
        work: impl for<'c> FnOnce(&'c mut Object) -> BoxFuture<'c, Result<T, tokio_postgres::Error>>
            + Send
            + 'static,
    ) -> BoxFuture<'static, Result<T, String>> {
        let shared = self.shared.clone();
        async move {
            let mut connection = shared
                .pool()?
                .get()
                .await
                .map_err(|e| format!("PostgreSQL: {}", pool_error(&e)))?;
            work(&mut connection).await.map_err(|e| describe(&e))
        }
        .boxed()
    }
}

impl Shared {
    fn pool(&self) -> Result<&Pool, String> {
        if let Some(pool) = self.pool.get() {
            return Ok(pool);
        }
        let manager = Manager::from_config(
            self.config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(self.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(self.deadline))
            .create_timeout(Some(self.deadline))
            .recycle_timeout(Some(self.deadline))
            .build()
            .map_err(|e| format!("PostgreSQL pool: {e}"))?;
        Ok(self.pool.get_or_init(|| pool))
    }
}

/// Messages for logs. Neither the server's errors nor ours quote bound values, and connection
/// errors do not repeat the password.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("PostgreSQL: {}", db.message()),
        None => format!("PostgreSQL: {e}"),
    }
}

fn pool_error(e: &deadpool_postgres::PoolError) -> String {
    match e {
        deadpool_postgres::PoolError::Backend(e) => describe(e),
        deadpool_postgres::PoolError::Timeout(_) => "no connection within the deadline".to_owned(),
        other => other.to_string(),
    }
}

fn info(row: &Row) -> Result<TokenInfo, tokio_postgres::Error> {
    Ok(TokenInfo {
        id: row.try_get(0)?,
        description: row.try_get(1)?,
        created_at: row.try_get(2)?,
        expires_at: row.try_get(3)?,
        last_used_at: row.try_get(4)?,
    })
}

impl Backend for Postgres {
    fn migrate(&self) -> BoxFuture<'static, Result<(), String>> {
        self.with(|c| {
            async move {
                let tx = c.transaction().await?;
                // Several machines may start at once; the lock lasts until commit.
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                    .await?;
                tx.execute(schema::VERSION_TABLE, &[]).await?;
                let version: i64 = tx
                    .query_one(
                        "SELECT COALESCE(MAX(version), 0)::BIGINT FROM authotron_schema",
                        &[],
                    )
                    .await?
                    .try_get(0)?;
                for (reached, statements) in schema::pending(version) {
                    for statement in statements {
                        tx.execute(*statement, &[]).await?;
                    }
                    tx.execute(
                        "INSERT INTO authotron_schema (version) VALUES ($1)",
                        &[&reached],
                    )
                    .await?;
                }
                tx.commit().await
            }
            .boxed()
        })
    }

    fn insert(&self, row: NewRow) -> BoxFuture<'static, Result<(), String>> {
        self.with(move |c| {
            async move {
                // Expired rows are of no use to anyone; creation is rare enough to sweep them.
                c.execute(
                    "DELETE FROM authotron_tokens WHERE expires_at <= $1",
                    &[&row.info.created_at],
                )
                .await?;
                c.execute(
                    "INSERT INTO authotron_tokens (id, token_hash, realm, username, \
                     user_snapshot, description, created_at, expires_at, provider) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        &row.info.id,
                        &row.hash,
                        &row.owner.realm,
                        &row.owner.username,
                        &row.snapshot,
                        &row.info.description,
                        &row.info.created_at,
                        &row.info.expires_at,
                        &row.provider,
                    ],
                )
                .await?;
                Ok(())
            }
            .boxed()
        })
    }

    fn find(&self, hash: String, now: i64) -> BoxFuture<'static, Result<Option<Found>, String>> {
        self.with(move |c| {
            async move {
                // Prepared once per connection: a lookup is then one round trip, not two
                // (parse, then execute), which halves how long a flood of forged tokens holds
                // each pooled connection.
                let find = c
                    .prepare_cached(
                        "SELECT id, user_snapshot, expires_at, provider, last_used_at \
                         FROM authotron_tokens WHERE token_hash = $1 AND expires_at > $2",
                    )
                    .await?;
                let row = c.query_opt(&find, &[&hash, &now]).await?;
                row.map(|row| {
                    Ok(Found {
                        id: row.try_get(0)?,
                        snapshot: row.try_get(1)?,
                        expires_at: row.try_get(2)?,
                        provider: row.try_get(3)?,
                        last_used_at: row.try_get(4)?,
                    })
                })
                .transpose()
            }
            .boxed()
        })
    }

    fn touch(
        &self,
        hash: String,
        now: i64,
        stale_at: i64,
    ) -> BoxFuture<'static, Result<(), String>> {
        self.with(move |c| {
            async move {
                c.execute(
                    "UPDATE authotron_tokens SET last_used_at = $1 \
                     WHERE token_hash = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
                    &[&now, &hash, &stale_at],
                )
                .await?;
                Ok(())
            }
            .boxed()
        })
    }

    fn list(&self, owner: Owner, now: i64) -> BoxFuture<'static, Result<Vec<TokenInfo>, String>> {
        self.with(move |c| {
            async move {
                let rows = c
                    .query(
                        &format!(
                            "SELECT {INFO_COLUMNS} FROM authotron_tokens \
                             WHERE realm = $1 AND username = $2 AND expires_at > $3 \
                             ORDER BY created_at, id"
                        ),
                        &[&owner.realm, &owner.username, &now],
                    )
                    .await?;
                rows.iter().map(info).collect()
            }
            .boxed()
        })
    }

    fn revoke(
        &self,
        owner: Owner,
        which: Which,
    ) -> BoxFuture<'static, Result<Vec<String>, String>> {
        self.with(move |c| {
            async move {
                let (column, value) = match which {
                    Which::Hash(hash) => ("token_hash", hash),
                    Which::Id(id) => ("id", id),
                };
                // The announcement is part of the deletion's transaction: PostgreSQL delivers
                // it when, and only if, the deletion commits.
                let tx = c.transaction().await?;
                let deleted = tx
                    .query(
                        &format!(
                            "DELETE FROM authotron_tokens \
                             WHERE {column} = $1 AND realm = $2 AND username = $3 RETURNING id"
                        ),
                        &[&value, &owner.realm, &owner.username],
                    )
                    .await?;
                let mut ids = Vec::with_capacity(deleted.len());
                for row in &deleted {
                    let id: String = row.try_get(0)?;
                    tx.execute(
                        "SELECT pg_notify($1, $2)",
                        &[&revocation::CHANNEL, &revocation::payload(&id)],
                    )
                    .await?;
                    ids.push(id);
                }
                tx.commit().await?;
                Ok(ids)
            }
            .boxed()
        })
    }

    fn announces_revocations(&self) -> bool {
        true
    }

    fn listen(
        &self,
        report: Box<dyn FnMut(ListenerEvent) + Send>,
    ) -> Option<BoxFuture<'static, ()>> {
        let mut config = self.shared.config.clone();
        // Its own name, so operators (and tests) can tell it from the pooled connections.
        let name = config.get_application_name().unwrap_or("authotron");
        config.application_name(format!("{name} revocations"));
        // A listener that is only waiting would not notice a dead peer for hours otherwise.
        config
            .keepalives_idle(LISTENER_KEEPALIVE)
            .keepalives_interval(LISTENER_KEEPALIVE)
            .keepalives_retries(3);
        Some(listener::listen(config, report).boxed())
    }
}
