//! Persistence for the BioAiSaaS host: users, projects, agent runs (their
//! state after every step and their trace), tool-call records, metering
//! events, pricing, payments, document embeddings and the audit log.
//!
//! Two backends behind one API ([`Store`]):
//!
//! - **PostgreSQL 15+ with pgvector** (production; the schema applies
//!   unchanged to a Supabase project). Tenant isolation is enforced by the
//!   database: every tenant table has row-level security, and every tenant
//!   query runs in a transaction that switches to the `authenticated` role and
//!   sets the request's JWT claims, as PostgREST does ([`pg`]).
//! - **SQLite** (the embedded default, a file in the data directory). SQLite
//!   has neither row-level security nor pgvector: every method of the API
//!   takes the tenant and scopes its SQL to it, and vector search is a
//!   brute-force cosine scan in Rust ([`sqlite`]).
//!
//! Migrations (`migrations/postgres`, `migrations/sqlite`) are embedded in the
//! binary and applied by [`Store::migrate`]; a database carrying a migration
//! this binary does not know is refused ([`StoreError::SchemaTooNew`]).
//! Tool calls are recorded off the hot path by a [`Recorder`].

pub mod model;
pub mod pg;
pub mod recorder;
pub mod schema;
pub mod sqlite;
pub mod vector;

use std::time::Duration;

pub use chrono::{DateTime, Utc};
pub use model::*;
pub use recorder::{Recorder, RecorderConfig, RecorderError, RecorderStats};
pub use schema::SchemaStatus;
/// The sqlx this crate's pools ([`Store::pg_pool`], [`Store::sqlite_pool`]) belong to.
pub use sqlx;
pub use uuid::Uuid;
pub use vector::{DIM, Embedding};

/// Errors of the store. Messages say what went wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one the store understands.
    #[error(
        "unsupported database URL `{0}`: use postgres://user@host/db or sqlite://path/to/file.db (BIOAI_DATABASE_URL)"
    )]
    BadUrl(String),
    /// The database could not be reached or opened.
    #[error("cannot open the database at {url}: {source}")]
    Connect {
        /// The URL, without its password.
        url: String,
        /// What the driver said.
        source: sqlx::Error,
    },
    /// The database has migrations this binary does not know.
    #[error(
        "the database schema is newer than this bioai: it has migration(s) {versions:?} that this binary does not know; run a newer bioai, or restore the backup taken before the upgrade"
    )]
    SchemaTooNew {
        /// The unknown applied versions.
        versions: Vec<i64>,
    },
    /// Applying migrations failed.
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The request is invalid (bad value, missing referenced row...).
    #[error("{0}")]
    Invalid(String),
    /// A unique value already exists (order number, provider transaction id, e-mail...).
    #[error("already exists: {0}")]
    Conflict(String),
    /// The row does not exist, or belongs to another tenant.
    #[error("not found: {0}")]
    NotFound(String),
    /// The database refused the operation (row-level security, append-only table...).
    #[error("refused by the database: {0}")]
    Refused(String),
    /// Stored data cannot be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        let Some(db) = e.as_database_error() else {
            return StoreError::Database(e);
        };
        let message = db.message().to_string();
        match db.kind() {
            ErrorKind::UniqueViolation => StoreError::Conflict(message),
            ErrorKind::ForeignKeyViolation | ErrorKind::CheckViolation => {
                StoreError::Invalid(message)
            }
            ErrorKind::NotNullViolation => StoreError::Invalid(message),
            _ => {
                // 42501 insufficient_privilege: RLS WITH CHECK, missing grant,
                // or our append-only trigger. SQLite's RAISE(ABORT) is code 1811.
                let code = db.code().unwrap_or_default();
                if code == "42501" || code == "1811" || message.contains("append-only") {
                    StoreError::Refused(message)
                } else {
                    StoreError::Database(e)
                }
            }
        }
    }
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// PostgreSQL with pgvector.
    Postgres,
    /// Embedded SQLite.
    Sqlite,
}

/// A connection pool to one of the two backends. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

/// Calls the same-named function of [`pg`] or [`sqlite`] with the pool.
macro_rules! dispatch {
    ($self:ident, $f:ident ( $($arg:expr),* )) => {
        match &$self.backend {
            Backend::Postgres(p) => pg::$f(p $(, $arg)*).await,
            Backend::Sqlite(p) => sqlite::$f(p $(, $arg)*).await,
        }
    };
}

impl Store {
    /// Opens `url`: `postgres://...` / `postgresql://...`, or `sqlite://path`
    /// (the file and its directory are created when missing). Does not migrate.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let connect = |source| StoreError::Connect {
            url: redact(url),
            source,
        };
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .map_err(connect)?;
            Backend::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite(sqlite::connect(url).await.map_err(connect)?)
        } else {
            return Err(StoreError::BadUrl(redact(url)));
        };
        Ok(Self { backend })
    }

    /// Which backend this is.
    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Postgres(_) => BackendKind::Postgres,
            Backend::Sqlite(_) => BackendKind::Sqlite,
        }
    }

    /// The PostgreSQL pool, for tests and tools that need raw SQL.
    pub fn pg_pool(&self) -> Option<&sqlx::PgPool> {
        match &self.backend {
            Backend::Postgres(p) => Some(p),
            Backend::Sqlite(_) => None,
        }
    }

    /// The SQLite pool, for tests and tools that need raw SQL.
    pub fn sqlite_pool(&self) -> Option<&sqlx::SqlitePool> {
        match &self.backend {
            Backend::Sqlite(p) => Some(p),
            Backend::Postgres(_) => None,
        }
    }

    /// Applies pending migrations, after refusing a schema newer than this binary.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let status = self.status().await?;
        if !status.unknown.is_empty() {
            return Err(StoreError::SchemaTooNew {
                versions: status.unknown,
            });
        }
        match &self.backend {
            Backend::Postgres(p) => schema::POSTGRES.run(p).await?,
            Backend::Sqlite(p) => schema::SQLITE.run(p).await?,
        }
        Ok(())
    }

    /// Applied, pending and unknown migrations.
    pub async fn status(&self) -> Result<SchemaStatus, StoreError> {
        match &self.backend {
            Backend::Postgres(p) => schema::status_pg(p).await,
            Backend::Sqlite(p) => schema::status_sqlite(p).await,
        }
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Postgres(p) => p.close().await,
            Backend::Sqlite(p) => p.close().await,
        }
    }

    // ------------------------------------------------------------ users, projects, runs

    /// Creates a user. On PostgreSQL the insert runs as the new user (the
    /// `users` policy lets a user insert only their own row).
    pub async fn create_user(&self, user: &NewUser) -> Result<User, StoreError> {
        if user.auto_pay_limit_fen < 0 {
            return Err(StoreError::Invalid(
                "auto_pay_limit_fen must not be negative".into(),
            ));
        }
        let id = user.id.unwrap_or_else(Uuid::now_v7);
        dispatch!(self, create_user(id, user))
    }

    /// The tenant's own user row.
    pub async fn user(&self, tenant: UserId) -> Result<Option<User>, StoreError> {
        dispatch!(self, user(tenant))
    }

    /// Sets the tenant's micro-payment auto-authorization limit (fen).
    pub async fn set_auto_pay_limit(&self, tenant: UserId, fen: i64) -> Result<(), StoreError> {
        if fen < 0 {
            return Err(StoreError::Invalid(
                "the auto-pay limit must not be negative".into(),
            ));
        }
        dispatch!(self, set_auto_pay_limit(tenant, fen))
    }

    /// Creates a project owned by the tenant.
    pub async fn create_project(&self, tenant: UserId, name: &str) -> Result<Project, StoreError> {
        dispatch!(self, create_project(tenant, name))
    }

    /// The tenant's projects, by name.
    pub async fn projects(&self, tenant: UserId) -> Result<Vec<Project>, StoreError> {
        dispatch!(self, projects(tenant))
    }

    /// Starts an agent run for the tenant; `project` must be the tenant's.
    pub async fn start_run(
        &self,
        tenant: UserId,
        project: Option<Uuid>,
        task: &str,
    ) -> Result<Uuid, StoreError> {
        dispatch!(self, start_run(tenant, project, task))
    }

    /// Finishes one of the tenant's runs with its token usage.
    pub async fn finish_run(
        &self,
        tenant: UserId,
        run: Uuid,
        status: RunStatus,
        input_tokens: i64,
        output_tokens: i64,
    ) -> Result<(), StoreError> {
        dispatch!(
            self,
            finish_run(tenant, run, status, input_tokens, output_tokens)
        )
    }

    /// The embedded single-machine user, used until authentication lands:
    /// finds, or creates, the user with e-mail [`LOCAL_USER_EMAIL`] and
    /// display name `Local user` (service path). Idempotent, and safe when
    /// several processes ask at once (the e-mail is unique).
    pub async fn local_user(&self) -> Result<UserId, StoreError> {
        dispatch!(self, local_user())
    }

    // ------------------------------------------------------------ runs as state machines

    /// Creates one of the tenant's runs, `running` with 0 steps, in
    /// `run.state` with `run.next_role` to run first; `run.project_id` must be
    /// the tenant's. Returns its id.
    pub async fn create_run(&self, tenant: UserId, run: &NewRun) -> Result<Uuid, StoreError> {
        if run.budget_fen.is_some_and(|b| b < 0) {
            return Err(StoreError::Invalid(
                "a run budget must not be negative".into(),
            ));
        }
        if run.graph.is_empty() || run.next_role.is_empty() {
            return Err(StoreError::Invalid(
                "a run needs a graph and a first role".into(),
            ));
        }
        let id = run.id.unwrap_or_else(Uuid::now_v7);
        dispatch!(self, create_run(tenant, id, run))
    }

    /// Persists one step of a running run, in one transaction: its new
    /// `state`, the role to run next (`None`: nothing left to run), one more
    /// step, and the step's trace `events`, numbered after the run's last
    /// event. Returns the events' numbers. A run that is not `running` is
    /// refused ([`StoreError::Invalid`]); another tenant's run is
    /// [`StoreError::NotFound`].
    pub async fn save_step(
        &self,
        tenant: UserId,
        run: Uuid,
        state: &serde_json::Value,
        next_role: Option<&str>,
        events: &[NewRunEvent],
    ) -> Result<Vec<i64>, StoreError> {
        dispatch!(self, save_step(tenant, run, state, next_role, events))
    }

    /// Appends trace events to one of the tenant's runs, finished or not;
    /// returns their numbers.
    pub async fn append_run_events(
        &self,
        tenant: UserId,
        run: Uuid,
        events: &[NewRunEvent],
    ) -> Result<Vec<i64>, StoreError> {
        dispatch!(self, append_run_events(tenant, run, events))
    }

    /// Adds tokens and cost (fen) to one of the tenant's runs, finished or not.
    pub async fn add_run_usage(
        &self,
        tenant: UserId,
        run: Uuid,
        input_tokens: i64,
        output_tokens: i64,
        cost_fen: i64,
    ) -> Result<(), StoreError> {
        let charge = RunCharge {
            input_tokens,
            output_tokens,
            cost_fen,
        };
        check_charge(&charge)?;
        dispatch!(self, add_run_usage(tenant, run, charge))
    }

    /// The journal of step `step` of one of the tenant's runs, in call
    /// order: what a step re-run after a restart replays.
    pub async fn step_journal(
        &self,
        tenant: UserId,
        run: Uuid,
        step: i32,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        dispatch!(self, step_journal(tenant, run, step))
    }

    /// Journals one call of step `step` of one of the tenant's running runs
    /// in one transaction with its consequences: `charge` added to the
    /// run's totals, the `calls`' `tool_calls` rows and their usage events
    /// and the other `usage` events stored (idempotently: a call recorded
    /// again by the [`Recorder`] is not duplicated), and trace `events`
    /// appended. If the entry is already journaled, nothing is
    /// written ([`Journaled::recorded`] is false), so a call is never
    /// charged twice. The journal is deleted when the step is saved
    /// ([`Store::save_step`]) or the run ends ([`Store::end_run`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn journal_call(
        &self,
        tenant: UserId,
        run: Uuid,
        step: i32,
        entry: &JournalEntry,
        charge: RunCharge,
        calls: &[CallRecord],
        usage: &[UsageEvent],
        events: &[NewRunEvent],
    ) -> Result<Journaled, StoreError> {
        check_charge(&charge)?;
        if step < 1 || entry.seq < 0 {
            return Err(StoreError::Invalid(format!(
                "journal entries are numbered from step 1, seq 0; got step {step}, seq {}",
                entry.seq
            )));
        }
        if let Some(e) = usage
            .iter()
            .find(|e| e.user_id != Some(tenant) || e.run_id != Some(run))
        {
            return Err(StoreError::Invalid(format!(
                "usage event {} is not the run's: it names user {:?} and run {:?}",
                e.id, e.user_id, e.run_id
            )));
        }
        if let Some(c) = calls
            .iter()
            .find(|c| c.user_id != Some(tenant) || c.run_id != Some(run))
        {
            return Err(StoreError::Invalid(format!(
                "call {} is not the run's: it names user {:?} and run {:?}",
                c.id, c.user_id, c.run_id
            )));
        }
        let mut usage = usage.to_vec();
        usage.extend(calls.iter().flat_map(CallRecord::usage_events));
        dispatch!(
            self,
            journal_call(tenant, run, step, entry, charge, calls, &usage, events)
        )
    }

    /// Ends one of the tenant's runs, in one transaction: its final `status`
    /// (succeeded, failed or cancelled), finish time, no next role, its
    /// report and error, and its last trace `events` (whose numbers it
    /// returns). A run already finished is refused ([`StoreError::Invalid`]).
    pub async fn end_run(
        &self,
        tenant: UserId,
        run: Uuid,
        status: RunStatus,
        report: Option<&serde_json::Value>,
        error: Option<&str>,
        events: &[NewRunEvent],
    ) -> Result<Vec<i64>, StoreError> {
        if !status.is_finished() {
            return Err(StoreError::Invalid(format!(
                "a run cannot end as `{}`: use succeeded, failed or cancelled",
                status.as_str()
            )));
        }
        dispatch!(self, end_run(tenant, run, status, report, error, events))
    }

    /// One of the tenant's runs; `None` if it does not exist or is another tenant's.
    pub async fn run(&self, tenant: UserId, run: Uuid) -> Result<Option<Run>, StoreError> {
        dispatch!(self, run(tenant, run))
    }

    /// The tenant's most recent runs, newest first.
    pub async fn runs(&self, tenant: UserId, limit: i64) -> Result<Vec<Run>, StoreError> {
        dispatch!(self, runs(tenant, limit.max(0)))
    }

    /// Up to `limit` trace events of one of the tenant's runs numbered after
    /// `after_seq` (0: from the start), in order: for streaming and replay.
    /// [`StoreError::NotFound`] if the run is not the tenant's.
    pub async fn run_events(
        &self,
        tenant: UserId,
        run: Uuid,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<RunEvent>, StoreError> {
        dispatch!(
            self,
            run_events(tenant, run, after_seq.max(0), limit.max(0))
        )
    }

    /// Every tenant's runs still `running`, oldest first (service path): what
    /// to resume after a restart.
    pub async fn unfinished_runs(&self) -> Result<Vec<(UserId, Uuid)>, StoreError> {
        dispatch!(self, unfinished_runs())
    }

    // ------------------------------------------------------------ calls and metering

    /// Writes tool-call records and their usage events in one transaction.
    /// Idempotent: records and events already stored are skipped. Each
    /// record is written under its own tenant (see [`pg::write_calls`]).
    /// Returns the number of usage events newly stored.
    pub async fn write_calls(&self, calls: &[CallRecord]) -> Result<u64, StoreError> {
        if calls.is_empty() {
            return Ok(0);
        }
        dispatch!(self, write_calls(calls))
    }

    /// Stores metering events; an id already stored is skipped. Returns how
    /// many were new.
    pub async fn insert_usage_events(&self, events: &[UsageEvent]) -> Result<u64, StoreError> {
        if events.is_empty() {
            return Ok(0);
        }
        dispatch!(self, insert_usage_events(events))
    }

    /// The tenant's most recent tool calls.
    pub async fn tool_calls(
        &self,
        tenant: UserId,
        limit: i64,
    ) -> Result<Vec<ToolCallRow>, StoreError> {
        dispatch!(self, tool_calls(tenant, limit))
    }

    /// The tenant's usage events, oldest first.
    pub async fn usage_events(&self, tenant: UserId) -> Result<Vec<UsageEvent>, StoreError> {
        dispatch!(self, usage_events(tenant))
    }

    /// Row counts over all tenants (the service path; for operators and tests).
    pub async fn counts(&self) -> Result<TableCounts, StoreError> {
        dispatch!(self, counts())
    }

    // ------------------------------------------------------------ pricing and payments

    /// Creates or replaces a pricing plan by name (service path).
    pub async fn upsert_pricing_plan(&self, plan: &PricingPlan) -> Result<(), StoreError> {
        dispatch!(self, upsert_pricing_plan(plan))
    }

    /// The active pricing plans, by name.
    pub async fn pricing_plans(&self) -> Result<Vec<PricingPlan>, StoreError> {
        dispatch!(self, pricing_plans())
    }

    /// Creates a pending payment order for the tenant.
    pub async fn create_payment(
        &self,
        tenant: UserId,
        payment: &NewPayment,
    ) -> Result<Payment, StoreError> {
        if payment.amount_fen <= 0 {
            return Err(StoreError::Invalid(
                "a payment amount must be a positive number of fen".into(),
            ));
        }
        dispatch!(self, create_payment(tenant, payment))
    }

    /// Records the provider's notification that `order_no` was paid (service
    /// path: notifications are not made by a tenant). The provider
    /// transaction id is unique: a second payment claiming the same id is a
    /// [`StoreError::Conflict`].
    pub async fn mark_paid(
        &self,
        order_no: &str,
        provider_txn_id: &str,
        raw_notification: &serde_json::Value,
    ) -> Result<Payment, StoreError> {
        dispatch!(self, mark_paid(order_no, provider_txn_id, raw_notification))
    }

    /// The tenant's payments, newest first.
    pub async fn payments(&self, tenant: UserId) -> Result<Vec<Payment>, StoreError> {
        dispatch!(self, payments(tenant))
    }

    // ------------------------------------------------------------ documents and know-how

    /// Adds a chunk of the tenant's private document; returns its id.
    pub async fn add_document(
        &self,
        tenant: UserId,
        doc: &NewDocument,
    ) -> Result<Uuid, StoreError> {
        dispatch!(self, add_document(tenant, doc))
    }

    /// The tenant's `k` document chunks nearest to `query` (cosine distance),
    /// nearest first.
    pub async fn search_documents(
        &self,
        tenant: UserId,
        query: &Embedding,
        k: usize,
    ) -> Result<Vec<Hit>, StoreError> {
        dispatch!(self, search_documents(tenant, query, k))
    }

    /// Adds a shared know-how chunk (service path); returns its id.
    pub async fn add_know_how(&self, item: &NewKnowHow) -> Result<Uuid, StoreError> {
        dispatch!(self, add_know_how(item))
    }

    /// The `k` know-how chunks nearest to `query`, nearest first.
    pub async fn search_know_how(
        &self,
        query: &Embedding,
        k: usize,
    ) -> Result<Vec<Hit>, StoreError> {
        dispatch!(self, search_know_how(query, k))
    }

    /// `(id, source)` of the know-how chunks whose source starts with
    /// `prefix`, oldest first (service path): how a loader finds the chunks
    /// it wrote before, to replace them.
    pub async fn know_how_sources(&self, prefix: &str) -> Result<Vec<(Uuid, String)>, StoreError> {
        dispatch!(self, know_how_sources(prefix))
    }

    /// Deletes know-how chunks by id (service path); returns how many existed.
    pub async fn delete_know_how(&self, ids: &[Uuid]) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        dispatch!(self, delete_know_how(ids))
    }

    // ------------------------------------------------------------ audit

    /// Appends to the audit log as the tenant.
    pub async fn audit(
        &self,
        tenant: UserId,
        action: &str,
        table: &str,
        row_id: &str,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        dispatch!(self, audit(tenant, action, table, row_id, detail))
    }

    /// The tenant's audit entries, oldest first.
    pub async fn audit_entries(&self, tenant: UserId) -> Result<Vec<AuditEntry>, StoreError> {
        dispatch!(self, audit_entries(tenant))
    }
}

/// Refuses a negative charge: run totals only grow.
fn check_charge(charge: &RunCharge) -> Result<(), StoreError> {
    if charge.input_tokens < 0 || charge.output_tokens < 0 || charge.cost_fen < 0 {
        return Err(StoreError::Invalid("run usage must not be negative".into()));
    }
    Ok(())
}

/// The e-mail address of the embedded single-machine user ([`Store::local_user`]).
pub const LOCAL_USER_EMAIL: &str = "local@bioai.localhost";

/// The display name of the embedded single-machine user.
pub const LOCAL_USER_NAME: &str = "Local user";

/// Creates database `name` on the PostgreSQL server of `admin_url` and
/// returns its URL (for tests and benchmarks that need a fresh database).
/// `name` must be lowercase letters, digits and `_`.
pub async fn create_pg_database(admin_url: &str, name: &str) -> Result<String, StoreError> {
    pg_admin(admin_url, name, "CREATE DATABASE").await?;
    Ok(pg_database_url(admin_url, name))
}

/// Drops database `name` (created by [`create_pg_database`]), closing its sessions.
pub async fn drop_pg_database(admin_url: &str, name: &str) -> Result<(), StoreError> {
    pg_admin(admin_url, name, "DROP DATABASE IF EXISTS").await
}

async fn pg_admin(admin_url: &str, name: &str, verb: &str) -> Result<(), StoreError> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(StoreError::Invalid(format!(
            "`{name}` is not a valid database name: use lowercase letters, digits and `_`"
        )));
    }
    let suffix = if verb.starts_with("DROP") {
        " WITH (FORCE)"
    } else {
        ""
    };
    let pool = sqlx::PgPool::connect(admin_url)
        .await
        .map_err(|source| StoreError::Connect {
            url: redact(admin_url),
            source,
        })?;
    let result = sqlx::query(sqlx::AssertSqlSafe(format!("{verb} \"{name}\"{suffix}")))
        .execute(&pool)
        .await;
    pool.close().await;
    result?;
    Ok(())
}

/// `url` with its database name replaced by `name`.
pub fn pg_database_url(url: &str, name: &str) -> String {
    let (head, query) = url
        .split_once('?')
        .map_or((url, None), |(h, q)| (h, Some(q)));
    let cut = head.find("://").map_or(0, |i| i + 3);
    let base = head[cut..].find('/').map_or(head, |i| &head[..cut + i]);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// `url` without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Clamps a search size to something sensible.
pub(crate) fn clamp_k(k: usize) -> i64 {
    i64::try_from(k.min(1000)).unwrap_or(1000)
}
