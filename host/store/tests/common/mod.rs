//! Test fixtures: a fresh store on each backend.
//!
//! SQLite: a file in a temporary directory. PostgreSQL: a fresh database per
//! test, created next to the database named by `BIOAI_TEST_DATABASE_URL`
//! (`cargo xtask test` creates one per run and sets it). Under CI (`CI=true`)
//! that variable is required, so the PostgreSQL half of the suite fails
//! instead of silently not running; elsewhere the tests fall back to the
//! server on 127.0.0.1:5432.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use bioai_store::{DIM, Embedding, Store};

/// A store and what must be cleaned up after it.
pub struct Fixture {
    pub store: Store,
    /// The database URL the store uses.
    pub url: String,
    /// PostgreSQL: (admin URL, database name), dropped by [`Fixture::finish`].
    pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Fixture {
    /// Closes the store and drops the test database (PostgreSQL). A test that
    /// panics leaves its database behind; `cargo xtask test` drops old ones.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin, name)) = self.pg {
            let pool = sqlx::PgPool::connect(&admin)
                .await
                .expect("admin connection");
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&pool)
            .await
            .expect("drop test database");
            pool.close().await;
        }
    }
}

/// A migrated store on a fresh SQLite file.
pub async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = Store::open(&url).await.expect("open sqlite");
    store.migrate().await.expect("migrate sqlite");
    Fixture {
        store,
        url,
        pg: None,
        _dir: Some(dir),
    }
}

/// The PostgreSQL server/database the tests use.
pub fn pg_base_url() -> String {
    match std::env::var("BIOAI_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(
                std::env::var("CI").map(|v| v != "true").unwrap_or(true),
                "BIOAI_TEST_DATABASE_URL is not set: under CI the PostgreSQL tests must run; use `cargo xtask test`, which prepares the database"
            );
            "postgres://root@127.0.0.1:5432/postgres".to_string()
        }
    }
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, db: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let after_scheme = head.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match head[after_scheme..].find('/') {
        Some(i) => &head[..after_scheme + i],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

fn database_name(url: &str) -> String {
    let head = url.split('?').next().unwrap_or(url);
    head.rsplit('/').next().unwrap_or("postgres").to_string()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A migrated store on a fresh PostgreSQL database.
pub async fn postgres(test: &str) -> Fixture {
    let admin = pg_base_url();
    let base = database_name(&admin);
    let prefix = if base.starts_with("bioai_test_") {
        base
    } else {
        format!("bioai_test_{}", std::process::id())
    };
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let short: String = test
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(16)
        .collect();
    let mut name = format!("{prefix}_{n}_{short}").to_lowercase();
    name.truncate(63);
    let pool = sqlx::PgPool::connect(&admin).await.unwrap_or_else(|e| {
        panic!(
            "cannot connect to PostgreSQL at {admin}: {e}; start it or set BIOAI_TEST_DATABASE_URL"
        )
    });
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&pool)
    .await
    .expect("drop stale test database");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&pool)
        .await
        .expect("create test database");
    pool.close().await;
    let url = with_database(&admin, &name);
    let store = Store::open(&url).await.expect("open postgres");
    store.migrate().await.expect("migrate postgres");
    Fixture {
        store,
        url,
        pg: Some((admin, name)),
        _dir: None,
    }
}

/// A small deterministic generator (SplitMix64), for random embeddings.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub fn unit(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    pub fn embedding_values(&mut self) -> Vec<f32> {
        (0..DIM).map(|_| self.unit()).collect()
    }

    pub fn embedding(&mut self) -> Embedding {
        Embedding::new(self.embedding_values()).expect("valid embedding")
    }
}
