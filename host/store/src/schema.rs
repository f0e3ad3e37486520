//! Embedded migrations and the schema version check.

use std::borrow::Cow;
use std::sync::LazyLock;

use serde::Serialize;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::StoreError;

mod files {
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
}

/// The PostgreSQL migrations (`migrations/postgres/`), embedded at build time.
pub static POSTGRES: LazyLock<Migrator> = LazyLock::new(|| migrator(files::POSTGRES));

/// The SQLite migrations (`migrations/sqlite/`), embedded at build time.
pub static SQLITE: LazyLock<Migrator> = LazyLock::new(|| migrator(files::SQLITE));

/// A migrator for embedded files, as `sqlx::migrate!` builds one: the same
/// descriptions and checksums (of the SQL text), so databases migrated by
/// either recognise each other's history.
fn migrator(files: &'static [(i64, &'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        files
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    sql.starts_with("-- no-transaction"),
                )
            })
            .collect(),
    )
}

/// Where a database's schema stands relative to this binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaStatus {
    /// `postgres` or `sqlite`.
    pub backend: &'static str,
    /// Versions applied to the database, ascending.
    pub applied: Vec<i64>,
    /// Versions this binary knows but the database lacks.
    pub pending: Vec<i64>,
    /// Versions applied to the database that this binary does not know:
    /// the database was migrated by a newer bioai.
    pub unknown: Vec<i64>,
    /// Every migration this binary carries: (version, description).
    pub known: Vec<(i64, String)>,
}

impl SchemaStatus {
    /// Whether the schema is exactly what this binary expects.
    pub fn up_to_date(&self) -> bool {
        self.pending.is_empty() && self.unknown.is_empty()
    }

    fn new(backend: &'static str, migrator: &Migrator, applied: Vec<i64>) -> Self {
        let known: Vec<(i64, String)> = migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| (m.version, m.description.to_string()))
            .collect();
        let pending = known
            .iter()
            .map(|(v, _)| *v)
            .filter(|v| !applied.contains(v))
            .collect();
        let unknown = applied
            .iter()
            .copied()
            .filter(|v| !migrator.version_exists(*v))
            .collect();
        Self {
            backend,
            applied,
            pending,
            unknown,
            known,
        }
    }
}

/// Status of a PostgreSQL database.
pub(crate) async fn status_pg(pool: &sqlx::PgPool) -> Result<SchemaStatus, StoreError> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    let applied = if exists {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    Ok(SchemaStatus::new("postgres", &POSTGRES, applied))
}

/// Status of a SQLite database.
pub(crate) async fn status_sqlite(pool: &sqlx::SqlitePool) -> Result<SchemaStatus, StoreError> {
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(pool)
    .await?;
    let applied = if exists {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    Ok(SchemaStatus::new("sqlite", &SQLITE, applied))
}
