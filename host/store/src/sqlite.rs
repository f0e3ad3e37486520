//! The embedded SQLite backend.
//!
//! SQLite has no row-level security: here the store itself is the tenant
//! boundary. Every tenant function takes the tenant and puts it in every
//! `WHERE` and every inserted row, and a row that names a project or run
//! is checked to belong to the same tenant before it is written (what the
//! PostgreSQL `WITH CHECK` policies do). SQLite also lacks pgvector: the
//! embeddings are f32 BLOBs and search is a brute-force cosine scan over the
//! tenant's rows. Foreign keys are switched on for every connection, and the
//! file runs in WAL mode so readers do not block the recorder's writes.

use std::str::FromStr;
use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use sqlx::FromRow;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use uuid::Uuid;

use crate::StoreError;
use crate::model::*;
use crate::vector::Embedding;

/// Opens (creating when missing) the database file of a `sqlite:` URL.
pub(crate) async fn connect(url: &str) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // The call recorder's batches touch index pages all over the
        // `tool_calls` and `usage_events` B-trees: a 32 MiB page cache (the
        // default is 2 MiB) and reads through a memory map instead of
        // `pread` copies, with statement journals in memory, cut the
        // writer's CPU per record (metering ingest +18% on SQLite).
        .pragma("cache_size", "-32768")
        .pragma("mmap_size", "268435456")
        .pragma("temp_store", "memory");
    let file = options.get_filename();
    if let Some(dir) = file.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
    }
    SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
}

/// Refuses a row that names another tenant's project or run.
async fn check_owned(
    tx: &mut Transaction<'static, Sqlite>,
    tenant: UserId,
    project: Option<Uuid>,
    run: Option<Uuid>,
) -> Result<(), StoreError> {
    if let Some(p) = project {
        let ok: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM projects WHERE id = ? AND user_id = ?)",
        )
        .bind(p)
        .bind(tenant)
        .fetch_one(&mut **tx)
        .await?;
        if !ok {
            return Err(StoreError::Refused(format!(
                "project {p} is not one of the tenant's projects"
            )));
        }
    }
    if let Some(r) = run {
        let ok: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM agent_runs WHERE id = ? AND user_id = ?)",
        )
        .bind(r)
        .bind(tenant)
        .fetch_one(&mut **tx)
        .await?;
        if !ok {
            return Err(StoreError::Refused(format!(
                "agent run {r} is not one of the tenant's runs"
            )));
        }
    }
    Ok(())
}

const USER_COLUMNS: &str = "id, email, wechat_openid, wechat_unionid, display_name, auto_pay_limit_fen, created_at, updated_at";

fn user_from(row: &SqliteRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        wechat_openid: row.try_get("wechat_openid")?,
        wechat_unionid: row.try_get("wechat_unionid")?,
        display_name: row.try_get("display_name")?,
        auto_pay_limit_fen: row.try_get("auto_pay_limit_fen")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(crate) async fn create_user(
    pool: &SqlitePool,
    id: UserId,
    u: &NewUser,
) -> Result<User, StoreError> {
    let now = Utc::now();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO users (id, email, wechat_openid, wechat_unionid, display_name, auto_pay_limit_fen, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {USER_COLUMNS}"
    )))
    .bind(id)
    .bind(&u.email)
    .bind(&u.wechat_openid)
    .bind(&u.wechat_unionid)
    .bind(&u.display_name)
    .bind(u.auto_pay_limit_fen)
    .bind(now)
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok(user_from(&row)?)
}

pub(crate) async fn user(pool: &SqlitePool, tenant: UserId) -> Result<Option<User>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = ?"
    )))
    .bind(tenant)
    .fetch_optional(pool)
    .await?;
    Ok(row.as_ref().map(user_from).transpose()?)
}

pub(crate) async fn set_auto_pay_limit(
    pool: &SqlitePool,
    tenant: UserId,
    fen: i64,
) -> Result<(), StoreError> {
    let n = sqlx::query("UPDATE users SET auto_pay_limit_fen = ?, updated_at = ? WHERE id = ?")
        .bind(fen)
        .bind(Utc::now())
        .bind(tenant)
        .execute(pool)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound(format!("user {tenant}")));
    }
    Ok(())
}

pub(crate) async fn create_project(
    pool: &SqlitePool,
    tenant: UserId,
    name: &str,
) -> Result<Project, StoreError> {
    let id = Uuid::now_v7();
    let now = Utc::now();
    sqlx::query(
        "INSERT INTO projects (id, user_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(tenant)
    .bind(name)
    .bind(now)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(Project {
        id,
        user_id: tenant,
        name: name.to_string(),
    })
}

pub(crate) async fn projects(
    pool: &SqlitePool,
    tenant: UserId,
) -> Result<Vec<Project>, StoreError> {
    let rows =
        sqlx::query("SELECT id, user_id, name FROM projects WHERE user_id = ? ORDER BY name")
            .bind(tenant)
            .fetch_all(pool)
            .await?;
    rows.iter()
        .map(|r| {
            Ok(Project {
                id: r.try_get("id")?,
                user_id: r.try_get("user_id")?,
                name: r.try_get("name")?,
            })
        })
        .collect()
}

pub(crate) async fn start_run(
    pool: &SqlitePool,
    tenant: UserId,
    project: Option<Uuid>,
    task: &str,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    check_owned(&mut tx, tenant, project, None).await?;
    sqlx::query(
        "INSERT INTO agent_runs (id, user_id, project_id, task, started_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(tenant)
    .bind(project)
    .bind(task)
    .bind(Utc::now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub(crate) async fn finish_run(
    pool: &SqlitePool,
    tenant: UserId,
    run: Uuid,
    status: RunStatus,
    input_tokens: i64,
    output_tokens: i64,
) -> Result<(), StoreError> {
    let n = sqlx::query(
        "UPDATE agent_runs SET status = ?, finished_at = ?, input_tokens = ?, output_tokens = ?
         WHERE id = ? AND user_id = ?",
    )
    .bind(status.as_str())
    .bind(Utc::now())
    .bind(input_tokens)
    .bind(output_tokens)
    .bind(run)
    .bind(tenant)
    .execute(pool)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound(format!("agent run {run}")));
    }
    Ok(())
}

pub(crate) async fn local_user(pool: &SqlitePool) -> Result<UserId, StoreError> {
    let now = Utc::now();
    // The INSERT and the SELECT share one write transaction: another
    // process creating the user at the same time waits, then finds it.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "INSERT INTO users (id, email, display_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (email) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(crate::LOCAL_USER_EMAIL)
    .bind(crate::LOCAL_USER_NAME)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let id: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = ?")
        .bind(crate::LOCAL_USER_EMAIL)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

const RUN_COLUMNS: &str = "id, user_id, project_id, task, template, inputs, graph, budget_fen, status, state,
    next_role, steps, report, error, input_tokens, output_tokens, cost_fen, started_at, finished_at";

fn run_status(s: &str) -> Result<RunStatus, StoreError> {
    RunStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("agent run status `{s}`")))
}

fn run_from(r: &SqliteRow) -> Result<Run, StoreError> {
    Ok(Run {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        project_id: r.try_get("project_id")?,
        task: r.try_get("task")?,
        template: r.try_get("template")?,
        inputs: json_text(r, "inputs")?.unwrap_or(Value::Null),
        graph: r.try_get("graph")?,
        budget_fen: r.try_get("budget_fen")?,
        status: run_status(r.try_get("status")?)?,
        state: json_text(r, "state")?,
        next_role: r.try_get("next_role")?,
        steps: r.try_get("steps")?,
        report: json_text(r, "report")?,
        error: r.try_get("error")?,
        input_tokens: r.try_get("input_tokens")?,
        output_tokens: r.try_get("output_tokens")?,
        cost_fen: r.try_get("cost_fen")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

pub(crate) async fn create_run(
    pool: &SqlitePool,
    tenant: UserId,
    id: Uuid,
    run: &NewRun,
) -> Result<Uuid, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    check_owned(&mut tx, tenant, run.project_id, None).await?;
    sqlx::query(
        "INSERT INTO agent_runs (id, user_id, project_id, task, template, inputs, graph, budget_fen, state,
             next_role, status, steps, started_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', 0, ?)",
    )
    .bind(id)
    .bind(tenant)
    .bind(run.project_id)
    .bind(&run.task)
    .bind(&run.template)
    .bind(run.inputs.to_string())
    .bind(&run.graph)
    .bind(run.budget_fen)
    .bind(run.state.to_string())
    .bind(&run.next_role)
    .bind(Utc::now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// One of the tenant's runs: its status and project. Called in a
/// `BEGIN IMMEDIATE` transaction, which holds the database's write lock, so
/// steps and event numbers are assigned one writer at a time.
async fn lock_run(
    tx: &mut Transaction<'static, Sqlite>,
    tenant: UserId,
    run: Uuid,
) -> Result<(RunStatus, Option<Uuid>), StoreError> {
    let row = sqlx::query("SELECT status, project_id FROM agent_runs WHERE id = ? AND user_id = ?")
        .bind(run)
        .bind(tenant)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else {
        return Err(StoreError::NotFound(format!("agent run {run}")));
    };
    Ok((
        run_status(row.try_get("status")?)?,
        row.try_get("project_id")?,
    ))
}

/// `run_events` rows per INSERT: 8 parameters each.
const RUN_EVENT_ROWS_PER_STATEMENT: usize = 1_000;

/// Appends events to a run checked by [`lock_run`], numbered after its last.
async fn insert_run_events(
    tx: &mut Transaction<'static, Sqlite>,
    tenant: UserId,
    run: Uuid,
    project: Option<Uuid>,
    events: &[NewRunEvent],
) -> Result<Vec<i64>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let last: i64 =
        sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM run_events WHERE run_id = ?")
            .bind(run)
            .fetch_one(&mut **tx)
            .await?;
    let seqs: Vec<i64> = (1..).take(events.len()).map(|i| last + i).collect();
    let rows: Vec<(i64, &NewRunEvent)> = seqs.iter().copied().zip(events).collect();
    for chunk in rows.chunks(RUN_EVENT_ROWS_PER_STATEMENT) {
        let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
            "INSERT INTO run_events (run_id, seq, user_id, project_id, kind, role, payload, at) ",
        );
        insert.push_values(chunk, |mut row, (seq, e)| {
            row.push_bind(run)
                .push_bind(*seq)
                .push_bind(tenant)
                .push_bind(project)
                .push_bind(e.kind.as_str())
                .push_bind(e.role.as_deref())
                .push_bind(e.payload.to_string())
                .push_bind(e.at);
        });
        insert.build().execute(&mut **tx).await?;
    }
    Ok(seqs)
}

pub(crate) async fn save_step(
    pool: &SqlitePool,
    tenant: UserId,
    run: Uuid,
    state: &Value,
    next_role: Option<&str>,
    events: &[NewRunEvent],
) -> Result<Vec<i64>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let (status, project) = lock_run(&mut tx, tenant, run).await?;
    if status != RunStatus::Running {
        return Err(StoreError::Invalid(format!(
            "agent run {run} is {}, not running: it takes no more steps",
            status.as_str()
        )));
    }
    sqlx::query(
        "UPDATE agent_runs SET state = ?, next_role = ?, steps = steps + 1 WHERE id = ? AND user_id = ?",
    )
    .bind(state.to_string())
    .bind(next_role)
    .bind(run)
    .bind(tenant)
    .execute(&mut *tx)
    .await?;
    delete_journal(&mut tx, run).await?;
    let seqs = insert_run_events(&mut tx, tenant, run, project, events).await?;
    tx.commit().await?;
    Ok(seqs)
}

pub(crate) async fn append_run_events(
    pool: &SqlitePool,
    tenant: UserId,
    run: Uuid,
    events: &[NewRunEvent],
) -> Result<Vec<i64>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let (_, project) = lock_run(&mut tx, tenant, run).await?;
    let seqs = insert_run_events(&mut tx, tenant, run, project, events).await?;
    tx.commit().await?;
    Ok(seqs)
}

/// Adds `charge` to one of the tenant's runs; returns the run's new cost,
/// or `None` if there is no such run.
async fn charge_run(
    tx: &mut Transaction<'static, Sqlite>,
    tenant: UserId,
    run: Uuid,
    charge: RunCharge,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "UPDATE agent_runs SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,
             cost_fen = cost_fen + ?
         WHERE id = ? AND user_id = ?
         RETURNING cost_fen",
    )
    .bind(charge.input_tokens)
    .bind(charge.output_tokens)
    .bind(charge.cost_fen)
    .bind(run)
    .bind(tenant)
    .fetch_optional(&mut **tx)
    .await?)
}

pub(crate) async fn add_run_usage(
    pool: &SqlitePool,
    tenant: UserId,
    run: Uuid,
    charge: RunCharge,
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let cost = charge_run(&mut tx, tenant, run, charge).await?;
    tx.commit().await?;
    match cost {
        Some(_) => Ok(()),
        None => Err(StoreError::NotFound(format!("agent run {run}"))),
    }
}

/// Deletes the journal of a run locked by [`lock_run`] (its step in flight
/// was saved, or the run ended).
async fn delete_journal(
    tx: &mut Transaction<'static, Sqlite>,
    run: Uuid,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM run_journal WHERE run_id = ?")
        .bind(run)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) async fn step_journal(
    pool: &SqlitePool,
    tenant: UserId,
    run: Uuid,
    step: i32,
) -> Result<Vec<JournalEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, kind, request_hash, response FROM run_journal
         WHERE run_id = ? AND user_id = ? AND step = ? ORDER BY seq",
    )
    .bind(run)
    .bind(tenant)
    .bind(step)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let response: Option<String> = r.try_get("response")?;
            Ok(JournalEntry {
                seq: r.try_get("seq")?,
                kind: r.try_get("kind")?,
                request_hash: r.try_get("request_hash")?,
                response: response
                    .map(|t| serde_json::from_str(&t))
                    .transpose()
                    .map_err(|e| StoreError::Corrupt(format!("run_journal.response: {e}")))?,
            })
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn journal_call(
    pool: &SqlitePool,
    tenant: UserId,
    run: Uuid,
    step: i32,
    entry: &JournalEntry,
    charge: RunCharge,
    calls: &[CallRecord],
    usage: &[UsageEvent],
    events: &[NewRunEvent],
) -> Result<Journaled, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let (status, project) = lock_run(&mut tx, tenant, run).await?;
    if status != RunStatus::Running {
        return Err(StoreError::Invalid(format!(
            "agent run {run} is {}, not running: its steps make no more calls",
            status.as_str()
        )));
    }
    let inserted = sqlx::query(
        "INSERT INTO run_journal (run_id, step, seq, user_id, kind, request_hash, response, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(run)
    .bind(step)
    .bind(entry.seq)
    .bind(tenant)
    .bind(&entry.kind)
    .bind(&entry.request_hash)
    .bind(entry.response.as_ref().map(Value::to_string))
    .bind(Utc::now())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let mut seqs = Vec::new();
    let mut cost_fen = None;
    if inserted == 1 {
        cost_fen = charge_run(&mut tx, tenant, run, charge).await?;
        check_tenants(
            &mut tx,
            usage.iter().map(|e| (e.user_id, e.project_id, e.run_id)),
        )
        .await?;
        insert_call_rows(&mut tx, calls).await?;
        insert_event_rows(&mut tx, usage).await?;
        seqs = insert_run_events(&mut tx, tenant, run, project, events).await?;
    }
    let cost_fen = match cost_fen {
        Some(c) => c,
        None => {
            sqlx::query_scalar("SELECT cost_fen FROM agent_runs WHERE id = ?")
                .bind(run)
                .fetch_one(&mut *tx)
                .await?
        }
    };
    tx.commit().await?;
    Ok(Journaled {
        recorded: inserted == 1,
        seqs,
        cost_fen,
    })
}

pub(crate) async fn end_run(
    pool: &SqlitePool,
    tenant: UserId,
    run: Uuid,
    status: RunStatus,
    report: Option<&Value>,
    error: Option<&str>,
    events: &[NewRunEvent],
) -> Result<Vec<i64>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let (current, project) = lock_run(&mut tx, tenant, run).await?;
    if current.is_finished() {
        return Err(StoreError::Invalid(format!(
            "agent run {run} has already finished ({})",
            current.as_str()
        )));
    }
    sqlx::query(
        "UPDATE agent_runs SET status = ?, finished_at = ?, next_role = NULL, report = ?, error = ?
         WHERE id = ? AND user_id = ?",
    )
    .bind(status.as_str())
    .bind(Utc::now())
    .bind(report.map(Value::to_string))
    .bind(error)
    .bind(run)
    .bind(tenant)
    .execute(&mut *tx)
    .await?;
    delete_journal(&mut tx, run).await?;
    let seqs = insert_run_events(&mut tx, tenant, run, project, events).await?;
    tx.commit().await?;
    Ok(seqs)
}

pub(crate) async fn run(
    pool: &SqlitePool,
    tenant: UserId,
    run: Uuid,
) -> Result<Option<Run>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {RUN_COLUMNS} FROM agent_runs WHERE id = ? AND user_id = ?"
    )))
    .bind(run)
    .bind(tenant)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(run_from).transpose()
}

pub(crate) async fn runs(
    pool: &SqlitePool,
    tenant: UserId,
    limit: i64,
) -> Result<Vec<Run>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {RUN_COLUMNS} FROM agent_runs WHERE user_id = ?
         ORDER BY started_at DESC, id DESC LIMIT ?"
    )))
    .bind(tenant)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(run_from).collect()
}

pub(crate) async fn run_events(
    pool: &SqlitePool,
    tenant: UserId,
    run: Uuid,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<RunEvent>, StoreError> {
    let rows = sqlx::query(
        "SELECT run_id, seq, kind, role, payload, at FROM run_events
         WHERE run_id = ? AND user_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    )
    .bind(run)
    .bind(tenant)
    .bind(after_seq)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    if rows.is_empty() {
        // No (more) events, or no such run of the tenant's?
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM agent_runs WHERE id = ? AND user_id = ?)",
        )
        .bind(run)
        .bind(tenant)
        .fetch_one(pool)
        .await?;
        if !exists {
            return Err(StoreError::NotFound(format!("agent run {run}")));
        }
    }
    rows.iter()
        .map(|r| {
            Ok(RunEvent {
                run_id: r.try_get("run_id")?,
                seq: r.try_get("seq")?,
                kind: r.try_get("kind")?,
                role: r.try_get("role")?,
                payload: json_text(r, "payload")?.unwrap_or(Value::Null),
                at: r.try_get("at")?,
            })
        })
        .collect()
}

pub(crate) async fn unfinished_runs(pool: &SqlitePool) -> Result<Vec<(UserId, Uuid)>, StoreError> {
    let rows: Vec<(UserId, Uuid)> = sqlx::query_as(
        "SELECT user_id, id FROM agent_runs WHERE status = 'running' ORDER BY started_at, id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// Writes call records and their events in one transaction; each record's
/// project and run are checked to be its tenant's.
pub(crate) async fn write_calls(
    pool: &SqlitePool,
    calls: &[CallRecord],
) -> Result<u64, StoreError> {
    // Every writing transaction takes the write lock up front: a deferred
    // one that reads first fails with SQLITE_BUSY_SNAPSHOT (517) when
    // another connection wrote in between, which no busy timeout waits out.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    check_tenants(
        &mut tx,
        calls.iter().map(|c| (c.user_id, c.project_id, c.run_id)),
    )
    .await?;
    insert_call_rows(&mut tx, calls).await?;
    let events: Vec<UsageEvent> = calls.iter().flat_map(CallRecord::usage_events).collect();
    let inserted = insert_event_rows(&mut tx, &events).await?;
    tx.commit().await?;
    Ok(inserted)
}

/// Inserts `tool_calls` rows, skipping ids already stored.
async fn insert_call_rows(
    tx: &mut Transaction<'static, Sqlite>,
    calls: &[CallRecord],
) -> Result<(), StoreError> {
    // Multi-row statements: every statement is a round trip to sqlx's
    // SQLite thread (two thread switches), which per row cost more CPU
    // than the calls being recorded.
    for chunk in calls.chunks(CALL_ROWS_PER_STATEMENT) {
        let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
            "INSERT INTO tool_calls (id, run_id, user_id, project_id, plugin, tool, status, error_class,
                 fuel, peak_memory_bytes, wall_us, net_requests, net_bytes_out, net_bytes_in, started_at, finished_at) ",
        );
        insert.push_values(chunk, |mut row, c| {
            row.push_bind(c.id)
                .push_bind(c.run_id)
                .push_bind(c.user_id)
                .push_bind(c.project_id)
                .push_bind(&*c.plugin)
                .push_bind(&*c.tool)
                .push_bind(c.status.as_str())
                .push_bind(c.error_class.as_deref())
                .push_bind(clamp_i64(c.fuel))
                .push_bind(clamp_i64(c.peak_memory_bytes))
                .push_bind(clamp_i64(c.wall_us))
                .push_bind(clamp_i64(c.net_requests))
                .push_bind(clamp_i64(c.net_bytes_out))
                .push_bind(clamp_i64(c.net_bytes_in))
                .push_bind(c.started_at)
                .push_bind(c.finished_at);
        });
        insert.push(" ON CONFLICT (id) DO NOTHING");
        insert.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// `tool_calls` rows per INSERT: 16 parameters each, well under SQLite's
/// limit of 32,766 parameters per statement.
const CALL_ROWS_PER_STATEMENT: usize = 500;
/// `usage_events` rows per INSERT: 9 parameters each.
const EVENT_ROWS_PER_STATEMENT: usize = 1_000;

/// Checks that every row's project and run belong to its tenant (what the
/// PostgreSQL `WITH CHECK` policies do), each distinct combination once.
async fn check_tenants(
    tx: &mut Transaction<'static, Sqlite>,
    rows: impl Iterator<Item = (Option<UserId>, Option<Uuid>, Option<Uuid>)>,
) -> Result<(), StoreError> {
    let mut checked: Vec<(UserId, Option<Uuid>, Option<Uuid>)> = Vec::new();
    for (user, project, run) in rows {
        if let Some(tenant) = user
            && (project.is_some() || run.is_some())
            && !checked.contains(&(tenant, project, run))
        {
            check_owned(tx, tenant, project, run).await?;
            checked.push((tenant, project, run));
        }
    }
    Ok(())
}

/// Inserts usage events, skipping ids already stored; returns how many were new.
async fn insert_event_rows(
    tx: &mut Transaction<'static, Sqlite>,
    events: &[UsageEvent],
) -> Result<u64, StoreError> {
    let mut inserted = 0;
    for chunk in events.chunks(EVENT_ROWS_PER_STATEMENT) {
        let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
            "INSERT INTO usage_events (id, user_id, project_id, tool_call_id, run_id, kind, quantity, occurred_at, role) ",
        );
        insert.push_values(chunk, |mut row, e| {
            row.push_bind(e.id)
                .push_bind(e.user_id)
                .push_bind(e.project_id)
                .push_bind(e.tool_call_id)
                .push_bind(e.run_id)
                .push_bind(e.kind.as_str())
                .push_bind(e.quantity)
                .push_bind(e.occurred_at)
                .push_bind(e.role.as_deref());
        });
        insert.push(" ON CONFLICT (id) DO NOTHING");
        inserted += insert.build().execute(&mut **tx).await?.rows_affected();
    }
    Ok(inserted)
}

pub(crate) async fn insert_usage_events(
    pool: &SqlitePool,
    events: &[UsageEvent],
) -> Result<u64, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    check_tenants(
        &mut tx,
        events.iter().map(|e| (e.user_id, e.project_id, e.run_id)),
    )
    .await?;
    let inserted = insert_event_rows(&mut tx, events).await?;
    tx.commit().await?;
    Ok(inserted)
}

pub(crate) async fn tool_calls(
    pool: &SqlitePool,
    tenant: UserId,
    limit: i64,
) -> Result<Vec<ToolCallRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, run_id, user_id, project_id, plugin, tool, status, error_class, fuel, peak_memory_bytes,
                wall_us, net_requests, net_bytes_out, net_bytes_in
         FROM tool_calls WHERE user_id = ? ORDER BY started_at DESC, id DESC LIMIT ?",
    )
    .bind(tenant)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| Ok(ToolCallRow::from_row(r)?)).collect()
}

pub(crate) async fn usage_events(
    pool: &SqlitePool,
    tenant: UserId,
) -> Result<Vec<UsageEvent>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, user_id, project_id, tool_call_id, run_id, kind, quantity, occurred_at, role
         FROM usage_events WHERE user_id = ? ORDER BY occurred_at, id",
    )
    .bind(tenant)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UsageEvent {
                id: r.try_get("id")?,
                user_id: r.try_get("user_id")?,
                project_id: r.try_get("project_id")?,
                tool_call_id: r.try_get("tool_call_id")?,
                run_id: r.try_get("run_id")?,
                kind: r.try_get("kind")?,
                quantity: r.try_get("quantity")?,
                role: r.try_get("role")?,
                occurred_at: r.try_get("occurred_at")?,
            })
        })
        .collect()
}

pub(crate) async fn counts(pool: &SqlitePool) -> Result<TableCounts, StoreError> {
    let r = sqlx::query(
        "SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM tool_calls) AS tool_calls,
                (SELECT count(*) FROM usage_events) AS usage_events, (SELECT count(*) FROM payments) AS payments,
                (SELECT count(*) FROM documents) AS documents, (SELECT count(*) FROM audit_log) AS audit_log",
    )
    .fetch_one(pool)
    .await?;
    Ok(TableCounts {
        users: r.try_get("users")?,
        tool_calls: r.try_get("tool_calls")?,
        usage_events: r.try_get("usage_events")?,
        payments: r.try_get("payments")?,
        documents: r.try_get("documents")?,
        audit_log: r.try_get("audit_log")?,
    })
}

pub(crate) async fn upsert_pricing_plan(
    pool: &SqlitePool,
    p: &PricingPlan,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO pricing_plans (id, name, input_fen_per_mtok, output_fen_per_mtok, outcome_prices, active, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET input_fen_per_mtok = excluded.input_fen_per_mtok,
             output_fen_per_mtok = excluded.output_fen_per_mtok, outcome_prices = excluded.outcome_prices,
             active = excluded.active",
    )
    .bind(p.id)
    .bind(&p.name)
    .bind(p.input_fen_per_mtok)
    .bind(p.output_fen_per_mtok)
    .bind(p.outcome_prices.to_string())
    .bind(p.active)
    .bind(Utc::now())
    .execute(pool)
    .await?;
    Ok(())
}

fn json_text(r: &SqliteRow, col: &str) -> Result<Option<Value>, StoreError> {
    let text: Option<String> = r.try_get(col)?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
        .transpose()
}

pub(crate) async fn pricing_plans(pool: &SqlitePool) -> Result<Vec<PricingPlan>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, input_fen_per_mtok, output_fen_per_mtok, outcome_prices, active
         FROM pricing_plans WHERE active ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PricingPlan {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                input_fen_per_mtok: r.try_get("input_fen_per_mtok")?,
                output_fen_per_mtok: r.try_get("output_fen_per_mtok")?,
                outcome_prices: json_text(r, "outcome_prices")?.unwrap_or(Value::Null),
                active: r.try_get("active")?,
            })
        })
        .collect()
}

const PAYMENT_COLUMNS: &str =
    "id, user_id, provider, order_no, provider_txn_id, amount_fen, status, raw_notification";

fn payment_from(r: &SqliteRow) -> Result<Payment, StoreError> {
    Ok(Payment {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        provider: r.try_get("provider")?,
        order_no: r.try_get("order_no")?,
        provider_txn_id: r.try_get("provider_txn_id")?,
        amount_fen: r.try_get("amount_fen")?,
        status: r.try_get("status")?,
        raw_notification: json_text(r, "raw_notification")?,
    })
}

pub(crate) async fn create_payment(
    pool: &SqlitePool,
    tenant: UserId,
    p: &NewPayment,
) -> Result<Payment, StoreError> {
    let now = Utc::now();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO payments (id, user_id, provider, order_no, amount_fen, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {PAYMENT_COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(tenant)
    .bind(p.provider.as_str())
    .bind(&p.order_no)
    .bind(p.amount_fen)
    .bind(now)
    .bind(now)
    .fetch_one(pool)
    .await?;
    payment_from(&row)
}

pub(crate) async fn mark_paid(
    pool: &SqlitePool,
    order_no: &str,
    txn: &str,
    raw: &Value,
) -> Result<Payment, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE payments SET status = 'paid', provider_txn_id = ?, raw_notification = ?, updated_at = ?
         WHERE order_no = ? AND (provider_txn_id IS NULL OR provider_txn_id = ?)
         RETURNING {PAYMENT_COLUMNS}"
    )))
    .bind(txn)
    .bind(raw.to_string())
    .bind(Utc::now())
    .bind(order_no)
    .bind(txn)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => payment_from(&row),
        None => Err(StoreError::NotFound(format!(
            "no payment with order number {order_no} awaiting transaction {txn}"
        ))),
    }
}

pub(crate) async fn payments(
    pool: &SqlitePool,
    tenant: UserId,
) -> Result<Vec<Payment>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE user_id = ? ORDER BY created_at DESC, id DESC"
    )))
    .bind(tenant)
    .fetch_all(pool)
    .await?;
    rows.iter().map(payment_from).collect()
}

pub(crate) async fn add_document(
    pool: &SqlitePool,
    tenant: UserId,
    d: &NewDocument,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    check_owned(&mut tx, tenant, d.project_id, None).await?;
    sqlx::query(
        "INSERT INTO documents (id, user_id, project_id, source, chunk_index, content, embedding, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(tenant)
    .bind(d.project_id)
    .bind(&d.source)
    .bind(d.chunk_index)
    .bind(&d.content)
    .bind(d.embedding.to_blob())
    .bind(Utc::now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Exact k-nearest neighbours by cosine distance over `rows` (id, content,
/// source, embedding BLOB; `know_how` rows also their citation columns).
fn nearest(
    rows: &[SqliteRow],
    q: &Embedding,
    k: usize,
    know_how: bool,
) -> Result<Vec<Hit>, StoreError> {
    let mut scored = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let blob: Vec<u8> = r.try_get("embedding")?;
        let e = Embedding::from_blob(&blob)?;
        scored.push((q.cosine_distance(&e), i));
    }
    // NaN distances (zero vectors) sort last, as in pgvector.
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    scored.truncate(k);
    let mut hits = Vec::with_capacity(scored.len());
    for (distance, i) in scored {
        let r = &rows[i];
        let citation = if know_how {
            Some(Citation {
                title: r.try_get("title")?,
                licence: r.try_get("licence")?,
                attribution: r.try_get("attribution")?,
                url: r.try_get("url")?,
            })
        } else {
            None
        };
        hits.push(Hit {
            id: r.try_get("id")?,
            content: r.try_get("content")?,
            distance,
            source: r.try_get("source")?,
            citation,
        });
    }
    Ok(hits)
}

pub(crate) async fn search_documents(
    pool: &SqlitePool,
    tenant: UserId,
    q: &Embedding,
    k: usize,
) -> Result<Vec<Hit>, StoreError> {
    let rows =
        sqlx::query("SELECT id, content, source, embedding FROM documents WHERE user_id = ?")
            .bind(tenant)
            .fetch_all(pool)
            .await?;
    nearest(&rows, q, k, false)
}

pub(crate) async fn add_know_how(pool: &SqlitePool, k: &NewKnowHow) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO know_how_index (id, source, title, content, licence, attribution, url, embedding, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(&k.source)
    .bind(&k.title)
    .bind(&k.content)
    .bind(&k.licence)
    .bind(&k.attribution)
    .bind(&k.url)
    .bind(k.embedding.to_blob())
    .bind(Utc::now())
    .execute(pool)
    .await?;
    Ok(id)
}

pub(crate) async fn search_know_how(
    pool: &SqlitePool,
    q: &Embedding,
    k: usize,
) -> Result<Vec<Hit>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, content, source, title, licence, attribution, url, embedding FROM know_how_index",
    )
    .fetch_all(pool)
    .await?;
    nearest(&rows, q, k, true)
}

pub(crate) async fn know_how_sources(
    pool: &SqlitePool,
    prefix: &str,
) -> Result<Vec<(Uuid, String)>, StoreError> {
    // substr rather than LIKE: the prefix may contain `%` or `_`.
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT id, source FROM know_how_index WHERE substr(source, 1, length(?1)) = ?1 ORDER BY created_at, id",
    )
    .bind(prefix)
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

pub(crate) async fn delete_know_how(pool: &SqlitePool, ids: &[Uuid]) -> Result<u64, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut deleted = 0;
    for id in ids {
        deleted += sqlx::query("DELETE FROM know_how_index WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok(deleted)
}

pub(crate) async fn audit(
    pool: &SqlitePool,
    tenant: UserId,
    action: &str,
    table: &str,
    row_id: &str,
    detail: &Value,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO audit_log (user_id, action, table_name, row_id, detail, at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(tenant)
        .bind(action)
        .bind(table)
        .bind(row_id)
        .bind(detail.to_string())
        .bind(Utc::now())
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn audit_entries(
    pool: &SqlitePool,
    tenant: UserId,
) -> Result<Vec<AuditEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, user_id, action, table_name, row_id, detail FROM audit_log WHERE user_id = ? ORDER BY id",
    )
    .bind(tenant)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get("id")?,
                user_id: r.try_get("user_id")?,
                action: r.try_get("action")?,
                table_name: r.try_get("table_name")?,
                row_id: r.try_get("row_id")?,
                detail: json_text(r, "detail")?.unwrap_or(Value::Null),
            })
        })
        .collect()
}
