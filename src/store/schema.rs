//! The schema both backends share. Each migration is applied once, in order, and recorded in
//! `authotron_schema`; a new column or index is a new entry at the end, never an edit.

/// Statements of each schema version, in order. Portable between SQLite and PostgreSQL.
pub const MIGRATIONS: &[&[&str]] = &[
    &[
        "CREATE TABLE authotron_tokens (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        realm TEXT NOT NULL,
        username TEXT NOT NULL,
        user_snapshot TEXT NOT NULL,
        description TEXT,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        last_used_at BIGINT
    )",
        "CREATE INDEX authotron_tokens_owner ON authotron_tokens (realm, username)",
        "CREATE INDEX authotron_tokens_expiry ON authotron_tokens (expires_at)",
    ],
    // The `name` of the provider that accepted the owner (docs/token-store.md).
    // NULL in rows written before it was recorded, by this build's predecessors: during a
    // rolling upgrade, machines of a fleet still running one keep writing such rows.
    &["ALTER TABLE authotron_tokens ADD COLUMN provider TEXT"],
];

/// Creates the version table; the migrations run inside the caller's lock.
pub const VERSION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS authotron_schema (version BIGINT NOT NULL)";

/// The migrations a database at `version` still needs, with the version each one reaches.
pub fn pending(version: i64) -> impl Iterator<Item = (i64, &'static [&'static str])> {
    MIGRATIONS
        .iter()
        .enumerate()
        .map(|(i, statements)| (i as i64 + 1, *statements))
        .filter(move |(reached, _)| *reached > version)
}

/// Columns of a listed token, in the order `TokenInfo` is read.
pub const INFO_COLUMNS: &str = "id, description, created_at, expires_at, last_used_at";
