//! `store`: where long-lived opaque tokens live. Upstream knows only `mongo`; we run `sqlite`
//! (one machine) and `postgres` (a fleet sharing one database) and refuse `mongo` with advice.

use std::fmt;
use std::path::Path;

use super::decode::{Ctx, Decoded, Finding, Node};
use super::keypath::KeyPath;
use super::redact;
use super::settings::positive;
use super::worker_user::{self, WorkerUser};

/// `store`, with our limits filled in.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreSettings {
    pub enabled: bool,
    /// Absent only when the store is disabled and names no type.
    pub backend: Option<StoreBackend>,
    /// Lifetime of a token created without asking for one.
    pub default_expiry_seconds: u64,
    /// The longest lifetime a token may ask for.
    pub max_expiry_seconds: u64,
    /// How long a worker reuses a store lookup: the bound on how late a revocation made
    /// elsewhere is noticed.
    pub cache_ttl_seconds: u64,
    /// Every database operation's deadline.
    pub timeout_ms: u64,
}

#[derive(Clone, PartialEq, Eq)]
pub enum StoreBackend {
    /// `type: sqlite`: one database file, shared by the workers of one machine.
    Sqlite { path: String },
    /// `type: postgres`: one database shared by every machine; `pool_size` connections per
    /// worker at most.
    Postgres { uri: String, pool_size: usize },
    /// `type: mongo`: parsed so upstream files load while the store is disabled.
    Mongo { uri: String, database: String },
}

impl StoreBackend {
    pub fn type_tag(&self) -> &'static str {
        match self {
            StoreBackend::Sqlite { .. } => "sqlite",
            StoreBackend::Postgres { .. } => "postgres",
            StoreBackend::Mongo { .. } => "mongo",
        }
    }
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            enabled: false,
            backend: None,
            default_expiry_seconds: 30 * 24 * 3600,
            max_expiry_seconds: 365 * 24 * 3600,
            cache_ttl_seconds: 30,
            timeout_ms: 2000,
        }
    }
}

// Connection strings may hold passwords.
impl fmt::Debug for StoreBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreBackend::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            StoreBackend::Postgres { pool_size, .. } => f
                .debug_struct("Postgres")
                .field("uri", &redact::REDACTED)
                .field("pool_size", pool_size)
                .finish(),
            StoreBackend::Mongo { database, .. } => f
                .debug_struct("Mongo")
                .field("uri", &redact::REDACTED)
                .field("database", database)
                .finish(),
        }
    }
}

impl fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreSettings")
            .field("enabled", &self.enabled)
            .field("backend", &self.backend)
            .field("default_expiry_seconds", &self.default_expiry_seconds)
            .field("max_expiry_seconds", &self.max_expiry_seconds)
            .field("cache_ttl_seconds", &self.cache_ttl_seconds)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

const STORE_TYPES: &[&str] = &["sqlite", "postgres", "mongo"];

const MONGO_REFUSED: &str = "the `mongo` token store is not supported: upstream's returns a token \
     it never stored, never expires tokens and lets anyone revoke anyone's; use `type: sqlite` \
     (one machine) or `type: postgres` (machines sharing one database)";

pub(crate) fn decode_store(node: &Node<'_>, cx: &mut Ctx<'_>) -> Decoded<StoreSettings> {
    let mut f = node.mapping()?;
    let mut settings = StoreSettings {
        enabled: f.required("enabled")?.boolean()?,
        ..StoreSettings::default()
    };
    if let Some(type_node) = f.optional("type") {
        let tag = type_node.string(cx)?;
        let backend = match tag.as_str() {
            "sqlite" => {
                let path_node = f.required("path")?;
                let path = path_node.string(cx)?;
                if path.is_empty() {
                    return Err(path_node.error("must not be empty"));
                }
                StoreBackend::Sqlite { path }
            }
            "postgres" => {
                let uri_node = f.required("uri")?;
                let uri = uri_node.string(cx)?;
                check_postgres_uri(&uri).map_err(|m| uri_node.error(m))?;
                let pool_size = match f.optional("pool_size") {
                    Some(n) => usize::try_from(positive(&n)?).unwrap_or(usize::MAX),
                    None => 4,
                };
                StoreBackend::Postgres { uri, pool_size }
            }
            "mongo" => {
                if settings.enabled && cx.check_support {
                    return Err(type_node.error(MONGO_REFUSED));
                }
                StoreBackend::Mongo {
                    uri: f.required_string(cx, "uri")?,
                    database: f.required_string(cx, "database")?,
                }
            }
            _ => {
                return Err(type_node.error(format!(
                    "unknown store type `{tag}`; expected one of: {}",
                    STORE_TYPES.join(", ")
                )))
            }
        };
        settings.backend = Some(backend);
    }
    if let Some(n) = f.optional("default_expiry_seconds") {
        settings.default_expiry_seconds = positive(&n)?;
    }
    let max_node = f.optional("max_expiry_seconds");
    if let Some(n) = &max_node {
        settings.max_expiry_seconds = positive(n)?;
    }
    if settings.default_expiry_seconds > settings.max_expiry_seconds {
        let at = max_node.as_ref().unwrap_or(node);
        return Err(at.error(format!(
            "`default_expiry_seconds` ({}) is longer than `max_expiry_seconds` ({})",
            settings.default_expiry_seconds, settings.max_expiry_seconds
        )));
    }
    if let Some(n) = f.optional("cache_ttl_seconds") {
        settings.cache_ttl_seconds = n.unsigned()?;
    }
    if let Some(n) = f.optional("timeout_ms") {
        settings.timeout_ms = positive(&n)?;
    }
    if settings.enabled && settings.backend.is_none() {
        let finding = node.error("`enabled` is true but no store `type` is set");
        return Err(f.blame_misspelling(finding, &["type"]));
    }
    f.finish(cx);
    Ok(settings)
}

/// What our PostgreSQL client can use: a URI it parses, without a TLS requirement (this build
/// connects without TLS: use a local socket or a trusted network).
fn check_postgres_uri(uri: &str) -> Result<(), String> {
    let config: tokio_postgres::Config = uri
        .parse()
        .map_err(|_| "`uri` is not a PostgreSQL connection string".to_owned())?;
    if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
        return Err(
            "`sslmode=require` is not supported: this build connects to PostgreSQL without TLS"
                .to_owned(),
        );
    }
    Ok(())
}

/// A relative SQLite `path` is relative to the YAML file, like `http.ca_file`.
pub(crate) fn resolve_paths(store: &mut Option<StoreSettings>, config_path: &Path) {
    let Some(StoreSettings {
        backend: Some(StoreBackend::Sqlite { path }),
        ..
    }) = store
    else {
        return;
    };
    if let (true, Some(dir)) = (Path::new(path.as_str()).is_relative(), config_path.parent()) {
        *path = dir.join(&*path).to_string_lossy().into_owned();
    }
}

/// Why the workers, running as `user`, could not use an enabled SQLite store, as a finding at
/// `store.path`.
pub(crate) fn usable_by(store: &Option<StoreSettings>, user: &WorkerUser) -> Option<Finding> {
    let Some(StoreSettings {
        enabled: true,
        backend: Some(StoreBackend::Sqlite { path }),
        ..
    }) = store
    else {
        return None;
    };
    let problem = worker_user::sqlite_problem(Path::new(path), user)?;
    Some(Finding::at(
        &KeyPath::root().key("store").key("path"),
        problem,
    ))
}
