//! The PostgreSQL backend.
//!
//! Tenant isolation is the database's job here. Every tenant operation runs
//! in a transaction that first does what PostgREST/Supabase do per request:
//!
//! ```sql
//! SELECT set_config('role', 'authenticated', true),            -- SET LOCAL ROLE
//!        set_config('request.jwt.claims', '{"sub":"<uuid>"}', true);
//! ```
//!
//! so the row-level security policies (`user_id = (select auth.uid())`) apply
//! even to a query that forgets its `WHERE`. Both settings are transaction
//! local: a pooled connection never carries one tenant's identity into
//! another's transaction. Operations that are not a tenant's (payment
//! notifications, shared know-how, pricing, operator calls without a user)
//! run as `service_role`. The connecting role must be a member of
//! `authenticated` and `service_role` and should not be a superuser or
//! `BYPASSRLS` in production (the roles it switches to never are).

use chrono::Utc;
use serde_json::{Value, json};
use sqlx::FromRow;
use sqlx::{PgPool, Postgres, Row, Transaction};
use uuid::Uuid;

use crate::model::*;
use crate::vector::Embedding;
use crate::{StoreError, clamp_k};

/// The HNSW candidate list size for searches: larger than pgvector's default
/// (40) so that results match an exact search for the sizes we ask for.
const EF_SEARCH: i64 = 200;

/// Begins a transaction acting as `tenant` under row-level security.
pub async fn begin_as(
    pool: &PgPool,
    tenant: UserId,
) -> Result<Transaction<'static, Postgres>, StoreError> {
    let mut tx = pool.begin().await?;
    act_as(&mut tx, Some(tenant)).await?;
    Ok(tx)
}

/// Begins a transaction on the service path (`service_role`).
pub async fn begin_service(pool: &PgPool) -> Result<Transaction<'static, Postgres>, StoreError> {
    let mut tx = pool.begin().await?;
    act_as(&mut tx, None).await?;
    Ok(tx)
}

/// Switches the current transaction to `tenant` (`authenticated` with their
/// claims) or, for `None`, to `service_role` without claims.
async fn act_as(
    tx: &mut Transaction<'static, Postgres>,
    tenant: Option<UserId>,
) -> Result<(), StoreError> {
    let (role, claims) = match tenant {
        Some(id) => (
            "authenticated",
            json!({"sub": id, "role": "authenticated"}).to_string(),
        ),
        None => ("service_role", json!({"role": "service_role"}).to_string()),
    };
    sqlx::query("SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true)")
        .bind(role)
        .bind(claims)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

const USER_COLUMNS: &str = "id, email, wechat_openid, wechat_unionid, display_name, auto_pay_limit_fen, created_at, updated_at";

fn user_from(row: &sqlx::postgres::PgRow) -> Result<User, sqlx::Error> {
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
    pool: &PgPool,
    id: UserId,
    u: &NewUser,
) -> Result<User, StoreError> {
    let mut tx = begin_as(pool, id).await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO users (id, email, wechat_openid, wechat_unionid, display_name, auto_pay_limit_fen)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLUMNS}"
    )))
    .bind(id)
    .bind(&u.email)
    .bind(&u.wechat_openid)
    .bind(&u.wechat_unionid)
    .bind(&u.display_name)
    .bind(u.auto_pay_limit_fen)
    .fetch_one(&mut *tx)
    .await?;
    let user = user_from(&row)?;
    tx.commit().await?;
    Ok(user)
}

pub(crate) async fn user(pool: &PgPool, tenant: UserId) -> Result<Option<User>, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
    )))
    .bind(tenant)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.as_ref().map(user_from).transpose()?)
}

pub(crate) async fn set_auto_pay_limit(
    pool: &PgPool,
    tenant: UserId,
    fen: i64,
) -> Result<(), StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let n =
        sqlx::query("UPDATE users SET auto_pay_limit_fen = $2, updated_at = now() WHERE id = $1")
            .bind(tenant)
            .bind(fen)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    tx.commit().await?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("user {tenant}")));
    }
    Ok(())
}

pub(crate) async fn create_project(
    pool: &PgPool,
    tenant: UserId,
    name: &str,
) -> Result<Project, StoreError> {
    let id = Uuid::now_v7();
    let mut tx = begin_as(pool, tenant).await?;
    sqlx::query("INSERT INTO projects (id, user_id, name) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(tenant)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Project {
        id,
        user_id: tenant,
        name: name.to_string(),
    })
}

pub(crate) async fn projects(pool: &PgPool, tenant: UserId) -> Result<Vec<Project>, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let rows =
        sqlx::query("SELECT id, user_id, name FROM projects WHERE user_id = $1 ORDER BY name")
            .bind(tenant)
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
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
    pool: &PgPool,
    tenant: UserId,
    project: Option<Uuid>,
    task: &str,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    let mut tx = begin_as(pool, tenant).await?;
    sqlx::query("INSERT INTO agent_runs (id, user_id, project_id, task) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(tenant)
        .bind(project)
        .bind(task)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

pub(crate) async fn finish_run(
    pool: &PgPool,
    tenant: UserId,
    run: Uuid,
    status: RunStatus,
    input_tokens: i64,
    output_tokens: i64,
) -> Result<(), StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let n = sqlx::query(
        "UPDATE agent_runs SET status = $2, finished_at = now(), input_tokens = $3, output_tokens = $4
         WHERE id = $1 AND user_id = $5",
    )
    .bind(run)
    .bind(status.as_str())
    .bind(input_tokens)
    .bind(output_tokens)
    .bind(tenant)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("agent run {run}")));
    }
    Ok(())
}

pub(crate) async fn local_user(pool: &PgPool) -> Result<UserId, StoreError> {
    let mut tx = begin_service(pool).await?;
    // A concurrent creator's row makes this a no-op (after waiting for its
    // commit); the SELECT, a new statement, then sees that row.
    sqlx::query(
        "INSERT INTO users (id, email, display_name) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(crate::LOCAL_USER_EMAIL)
    .bind(crate::LOCAL_USER_NAME)
    .execute(&mut *tx)
    .await?;
    let id: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(crate::LOCAL_USER_EMAIL)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

const RUN_COLUMNS: &str = "id, user_id, project_id, task, template, inputs, graph, budget_fen, status, state,
    next_role, steps::int8 AS steps, report, error, input_tokens, output_tokens, cost_fen, started_at, finished_at";

fn run_status(s: &str) -> Result<RunStatus, StoreError> {
    RunStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("agent run status `{s}`")))
}

fn run_from(r: &sqlx::postgres::PgRow) -> Result<Run, StoreError> {
    let json = |col: &str| -> Result<Option<Value>, sqlx::Error> {
        Ok(r.try_get::<Option<sqlx::types::Json<Value>>, _>(col)?
            .map(|j| j.0))
    };
    Ok(Run {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        project_id: r.try_get("project_id")?,
        task: r.try_get("task")?,
        template: r.try_get("template")?,
        inputs: json("inputs")?.unwrap_or(Value::Null),
        graph: r.try_get("graph")?,
        budget_fen: r.try_get("budget_fen")?,
        status: run_status(r.try_get("status")?)?,
        state: json("state")?,
        next_role: r.try_get("next_role")?,
        steps: r.try_get("steps")?,
        report: json("report")?,
        error: r.try_get("error")?,
        input_tokens: r.try_get("input_tokens")?,
        output_tokens: r.try_get("output_tokens")?,
        cost_fen: r.try_get("cost_fen")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

pub(crate) async fn create_run(
    pool: &PgPool,
    tenant: UserId,
    id: Uuid,
    run: &NewRun,
) -> Result<Uuid, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    sqlx::query(
        "INSERT INTO agent_runs (id, user_id, project_id, task, template, inputs, graph, budget_fen, state,
             next_role, status, steps)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'running', 0)",
    )
    .bind(id)
    .bind(tenant)
    .bind(run.project_id)
    .bind(&run.task)
    .bind(&run.template)
    .bind(sqlx::types::Json(&run.inputs))
    .bind(&run.graph)
    .bind(run.budget_fen)
    .bind(sqlx::types::Json(&run.state))
    .bind(&run.next_role)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Locks one of the tenant's runs until the end of the transaction, so that
/// its steps and event numbers are assigned one writer at a time; returns
/// its status and project.
async fn lock_run(
    tx: &mut Transaction<'static, Postgres>,
    tenant: UserId,
    run: Uuid,
) -> Result<(RunStatus, Option<Uuid>), StoreError> {
    let row = sqlx::query(
        "SELECT status, project_id FROM agent_runs WHERE id = $1 AND user_id = $2 FOR UPDATE",
    )
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

/// Appends events to a run locked by [`lock_run`], numbered after its last.
async fn insert_run_events(
    tx: &mut Transaction<'static, Postgres>,
    tenant: UserId,
    run: Uuid,
    project: Option<Uuid>,
    events: &[NewRunEvent],
) -> Result<Vec<i64>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let last: i64 =
        sqlx::query_scalar("SELECT coalesce(max(seq), 0)::int8 FROM run_events WHERE run_id = $1")
            .bind(run)
            .fetch_one(&mut **tx)
            .await?;
    let seqs: Vec<i64> = (1..).take(events.len()).map(|i| last + i).collect();
    sqlx::query(
        "INSERT INTO run_events (run_id, seq, user_id, project_id, kind, role, payload, at)
         SELECT $1, e.seq, $2, $3, e.kind, e.role, e.payload, e.at
         FROM UNNEST($4::int8[], $5::text[], $6::text[], $7::jsonb[], $8::timestamptz[])
             AS e (seq, kind, role, payload, at)",
    )
    .bind(run)
    .bind(tenant)
    .bind(project)
    .bind(&seqs)
    .bind(events.iter().map(|e| e.kind.clone()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.role.clone()).collect::<Vec<_>>())
    .bind(
        events
            .iter()
            .map(|e| sqlx::types::Json(&e.payload))
            .collect::<Vec<_>>(),
    )
    .bind(events.iter().map(|e| e.at).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(seqs)
}

pub(crate) async fn save_step(
    pool: &PgPool,
    tenant: UserId,
    run: Uuid,
    state: &Value,
    next_role: Option<&str>,
    events: &[NewRunEvent],
) -> Result<Vec<i64>, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let (status, project) = lock_run(&mut tx, tenant, run).await?;
    if status != RunStatus::Running {
        return Err(StoreError::Invalid(format!(
            "agent run {run} is {}, not running: it takes no more steps",
            status.as_str()
        )));
    }
    sqlx::query(
        "UPDATE agent_runs SET state = $2, next_role = $3, steps = steps + 1 WHERE id = $1",
    )
    .bind(run)
    .bind(sqlx::types::Json(state))
    .bind(next_role)
    .execute(&mut *tx)
    .await?;
    delete_journal(&mut tx, run).await?;
    let seqs = insert_run_events(&mut tx, tenant, run, project, events).await?;
    tx.commit().await?;
    Ok(seqs)
}

pub(crate) async fn append_run_events(
    pool: &PgPool,
    tenant: UserId,
    run: Uuid,
    events: &[NewRunEvent],
) -> Result<Vec<i64>, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let (_, project) = lock_run(&mut tx, tenant, run).await?;
    let seqs = insert_run_events(&mut tx, tenant, run, project, events).await?;
    tx.commit().await?;
    Ok(seqs)
}

/// Adds `charge` to one of the tenant's runs; returns the run's new cost,
/// or `None` if there is no such run.
async fn charge_run(
    tx: &mut Transaction<'static, Postgres>,
    tenant: UserId,
    run: Uuid,
    charge: RunCharge,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "UPDATE agent_runs SET input_tokens = input_tokens + $3, output_tokens = output_tokens + $4,
             cost_fen = cost_fen + $5
         WHERE id = $1 AND user_id = $2
         RETURNING cost_fen",
    )
    .bind(run)
    .bind(tenant)
    .bind(charge.input_tokens)
    .bind(charge.output_tokens)
    .bind(charge.cost_fen)
    .fetch_optional(&mut **tx)
    .await?)
}

pub(crate) async fn add_run_usage(
    pool: &PgPool,
    tenant: UserId,
    run: Uuid,
    charge: RunCharge,
) -> Result<(), StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
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
    tx: &mut Transaction<'static, Postgres>,
    run: Uuid,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM run_journal WHERE run_id = $1")
        .bind(run)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) async fn step_journal(
    pool: &PgPool,
    tenant: UserId,
    run: Uuid,
    step: i32,
) -> Result<Vec<JournalEntry>, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let rows = sqlx::query(
        "SELECT seq, kind, request_hash, response FROM run_journal
         WHERE run_id = $1 AND user_id = $2 AND step = $3 ORDER BY seq",
    )
    .bind(run)
    .bind(tenant)
    .bind(step)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(|r| {
            let response: Option<sqlx::types::Json<Value>> = r.try_get("response")?;
            Ok(JournalEntry {
                seq: r.try_get("seq")?,
                kind: r.try_get("kind")?,
                request_hash: r.try_get("request_hash")?,
                response: response.map(|j| j.0),
            })
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn journal_call(
    pool: &PgPool,
    tenant: UserId,
    run: Uuid,
    step: i32,
    entry: &JournalEntry,
    charge: RunCharge,
    calls: &[CallRecord],
    usage: &[UsageEvent],
    events: &[NewRunEvent],
) -> Result<Journaled, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let (status, project) = lock_run(&mut tx, tenant, run).await?;
    if status != RunStatus::Running {
        return Err(StoreError::Invalid(format!(
            "agent run {run} is {}, not running: its steps make no more calls",
            status.as_str()
        )));
    }
    let inserted = sqlx::query(
        "INSERT INTO run_journal (run_id, step, seq, user_id, kind, request_hash, response)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(run)
    .bind(step)
    .bind(entry.seq)
    .bind(tenant)
    .bind(&entry.kind)
    .bind(&entry.request_hash)
    .bind(entry.response.as_ref().map(sqlx::types::Json))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let mut seqs = Vec::new();
    let mut cost_fen = None;
    if inserted == 1 {
        cost_fen = charge_run(&mut tx, tenant, run, charge).await?;
        let refs: Vec<&CallRecord> = calls.iter().collect();
        if !refs.is_empty() {
            insert_call_rows(&mut tx, &refs).await?;
        }
        insert_event_rows(&mut tx, usage).await?;
        seqs = insert_run_events(&mut tx, tenant, run, project, events).await?;
    }
    let cost_fen = match cost_fen {
        Some(c) => c,
        None => {
            sqlx::query_scalar("SELECT cost_fen FROM agent_runs WHERE id = $1")
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
    pool: &PgPool,
    tenant: UserId,
    run: Uuid,
    status: RunStatus,
    report: Option<&Value>,
    error: Option<&str>,
    events: &[NewRunEvent],
) -> Result<Vec<i64>, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let (current, project) = lock_run(&mut tx, tenant, run).await?;
    if current.is_finished() {
        return Err(StoreError::Invalid(format!(
            "agent run {run} has already finished ({})",
            current.as_str()
        )));
    }
    sqlx::query(
        "UPDATE agent_runs SET status = $2, finished_at = now(), next_role = NULL, report = $3, error = $4
         WHERE id = $1",
    )
    .bind(run)
    .bind(status.as_str())
    .bind(report.map(sqlx::types::Json))
    .bind(error)
    .execute(&mut *tx)
    .await?;
    delete_journal(&mut tx, run).await?;
    let seqs = insert_run_events(&mut tx, tenant, run, project, events).await?;
    tx.commit().await?;
    Ok(seqs)
}

pub(crate) async fn run(
    pool: &PgPool,
    tenant: UserId,
    run: Uuid,
) -> Result<Option<Run>, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {RUN_COLUMNS} FROM agent_runs WHERE id = $1 AND user_id = $2"
    )))
    .bind(run)
    .bind(tenant)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.as_ref().map(run_from).transpose()
}

pub(crate) async fn runs(
    pool: &PgPool,
    tenant: UserId,
    limit: i64,
) -> Result<Vec<Run>, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {RUN_COLUMNS} FROM agent_runs WHERE user_id = $1
         ORDER BY started_at DESC, id DESC LIMIT $2"
    )))
    .bind(tenant)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter().map(run_from).collect()
}

pub(crate) async fn run_events(
    pool: &PgPool,
    tenant: UserId,
    run: Uuid,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<RunEvent>, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let rows = sqlx::query(
        "SELECT run_id, seq, kind, role, payload, at FROM run_events
         WHERE run_id = $1 AND user_id = $2 AND seq > $3 ORDER BY seq LIMIT $4",
    )
    .bind(run)
    .bind(tenant)
    .bind(after_seq)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        // No (more) events, or no such run of the tenant's?
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM agent_runs WHERE id = $1 AND user_id = $2)",
        )
        .bind(run)
        .bind(tenant)
        .fetch_one(&mut *tx)
        .await?;
        if !exists {
            return Err(StoreError::NotFound(format!("agent run {run}")));
        }
    }
    tx.commit().await?;
    rows.iter()
        .map(|r| {
            Ok(RunEvent {
                run_id: r.try_get("run_id")?,
                seq: r.try_get("seq")?,
                kind: r.try_get("kind")?,
                role: r.try_get("role")?,
                payload: r.try_get::<sqlx::types::Json<Value>, _>("payload")?.0,
                at: r.try_get("at")?,
            })
        })
        .collect()
}

pub(crate) async fn unfinished_runs(pool: &PgPool) -> Result<Vec<(UserId, Uuid)>, StoreError> {
    let mut tx = begin_service(pool).await?;
    let rows: Vec<(UserId, Uuid)> = sqlx::query_as(
        "SELECT user_id, id FROM agent_runs WHERE status = 'running' ORDER BY started_at, id",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// Writes call records and their events in one transaction. Records are
/// grouped by tenant and each group is inserted under that tenant's identity,
/// so the row-level security `WITH CHECK` policies vet the recorder's writes
/// too (a record naming another tenant's project is refused): the recorder
/// needs no privilege a tenant lacks. Records without a tenant are written
/// as `service_role`.
pub async fn write_calls(pool: &PgPool, calls: &[CallRecord]) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    let mut inserted = 0;
    for (tenant, group) in group_by_tenant(calls, |c| c.user_id) {
        act_as(&mut tx, tenant).await?;
        insert_call_rows(&mut tx, &group).await?;
        let events: Vec<UsageEvent> = group.iter().flat_map(|c| c.usage_events()).collect();
        inserted += insert_event_rows(&mut tx, &events).await?;
    }
    tx.commit().await?;
    Ok(inserted)
}

pub(crate) async fn insert_usage_events(
    pool: &PgPool,
    events: &[UsageEvent],
) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    let mut inserted = 0;
    for (tenant, group) in group_by_tenant(events, |e| e.user_id) {
        act_as(&mut tx, tenant).await?;
        let group: Vec<UsageEvent> = group.into_iter().cloned().collect();
        inserted += insert_event_rows(&mut tx, &group).await?;
    }
    tx.commit().await?;
    Ok(inserted)
}

/// Groups items by tenant, keeping the first-seen order of tenants.
fn group_by_tenant<T>(
    items: &[T],
    key: impl Fn(&T) -> Option<UserId>,
) -> Vec<(Option<UserId>, Vec<&T>)> {
    let mut groups: Vec<(Option<UserId>, Vec<&T>)> = Vec::new();
    for item in items {
        let k = key(item);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, v)) => v.push(item),
            None => groups.push((k, vec![item])),
        }
    }
    groups
}

async fn insert_call_rows(
    tx: &mut Transaction<'static, Postgres>,
    calls: &[&CallRecord],
) -> Result<(), StoreError> {
    let col = |f: fn(&CallRecord) -> i64| calls.iter().map(|c| f(c)).collect::<Vec<i64>>();
    sqlx::query(
        "INSERT INTO tool_calls (id, run_id, user_id, project_id, plugin, tool, status, error_class,
             fuel, peak_memory_bytes, wall_us, net_requests, net_bytes_out, net_bytes_in, started_at, finished_at)
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[],
             $8::text[], $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::int8[], $14::int8[],
             $15::timestamptz[], $16::timestamptz[])
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(calls.iter().map(|c| c.id).collect::<Vec<_>>())
    .bind(calls.iter().map(|c| c.run_id).collect::<Vec<_>>())
    .bind(calls.iter().map(|c| c.user_id).collect::<Vec<_>>())
    .bind(calls.iter().map(|c| c.project_id).collect::<Vec<_>>())
    .bind(calls.iter().map(|c| &*c.plugin).collect::<Vec<&str>>())
    .bind(calls.iter().map(|c| &*c.tool).collect::<Vec<&str>>())
    .bind(calls.iter().map(|c| c.status.as_str().to_string()).collect::<Vec<_>>())
    .bind(calls.iter().map(|c| c.error_class.clone()).collect::<Vec<_>>())
    .bind(col(|c| clamp_i64(c.fuel)))
    .bind(col(|c| clamp_i64(c.peak_memory_bytes)))
    .bind(col(|c| clamp_i64(c.wall_us)))
    .bind(col(|c| clamp_i64(c.net_requests)))
    .bind(col(|c| clamp_i64(c.net_bytes_out)))
    .bind(col(|c| clamp_i64(c.net_bytes_in)))
    .bind(calls.iter().map(|c| c.started_at).collect::<Vec<_>>())
    .bind(calls.iter().map(|c| c.finished_at).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_event_rows(
    tx: &mut Transaction<'static, Postgres>,
    events: &[UsageEvent],
) -> Result<u64, StoreError> {
    let n = sqlx::query(
        "INSERT INTO usage_events (id, user_id, project_id, tool_call_id, run_id, kind, quantity, occurred_at, role)
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[],
             $7::int8[], $8::timestamptz[], $9::text[])
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(events.iter().map(|e| e.id).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.user_id).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.project_id).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.tool_call_id).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.run_id).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.kind.clone()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.quantity).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.occurred_at).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.role.clone()).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n)
}

pub(crate) async fn tool_calls(
    pool: &PgPool,
    tenant: UserId,
    limit: i64,
) -> Result<Vec<ToolCallRow>, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let rows = sqlx::query(
        "SELECT id, run_id, user_id, project_id, plugin, tool, status, error_class, fuel, peak_memory_bytes,
                wall_us, net_requests, net_bytes_out, net_bytes_in
         FROM tool_calls WHERE user_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2",
    )
    .bind(tenant)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter().map(|r| Ok(ToolCallRow::from_row(r)?)).collect()
}

pub(crate) async fn usage_events(
    pool: &PgPool,
    tenant: UserId,
) -> Result<Vec<UsageEvent>, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let rows = sqlx::query(
        "SELECT id, user_id, project_id, tool_call_id, run_id, kind, quantity, occurred_at, role
         FROM usage_events WHERE user_id = $1 ORDER BY occurred_at, id",
    )
    .bind(tenant)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
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

pub(crate) async fn counts(pool: &PgPool) -> Result<TableCounts, StoreError> {
    let mut tx = begin_service(pool).await?;
    let r = sqlx::query(
        "SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM tool_calls) AS tool_calls,
                (SELECT count(*) FROM usage_events) AS usage_events, (SELECT count(*) FROM payments) AS payments,
                (SELECT count(*) FROM documents) AS documents, (SELECT count(*) FROM audit_log) AS audit_log",
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(TableCounts {
        users: r.try_get("users")?,
        tool_calls: r.try_get("tool_calls")?,
        usage_events: r.try_get("usage_events")?,
        payments: r.try_get("payments")?,
        documents: r.try_get("documents")?,
        audit_log: r.try_get("audit_log")?,
    })
}

pub(crate) async fn upsert_pricing_plan(pool: &PgPool, p: &PricingPlan) -> Result<(), StoreError> {
    let mut tx = begin_service(pool).await?;
    sqlx::query(
        "INSERT INTO pricing_plans (id, name, input_fen_per_mtok, output_fen_per_mtok, outcome_prices, active)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (name) DO UPDATE SET input_fen_per_mtok = excluded.input_fen_per_mtok,
             output_fen_per_mtok = excluded.output_fen_per_mtok, outcome_prices = excluded.outcome_prices,
             active = excluded.active",
    )
    .bind(p.id)
    .bind(&p.name)
    .bind(p.input_fen_per_mtok)
    .bind(p.output_fen_per_mtok)
    .bind(sqlx::types::Json(&p.outcome_prices))
    .bind(p.active)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn pricing_plans(pool: &PgPool) -> Result<Vec<PricingPlan>, StoreError> {
    let mut tx = begin_service(pool).await?;
    let rows = sqlx::query(
        "SELECT id, name, input_fen_per_mtok, output_fen_per_mtok, outcome_prices, active
         FROM pricing_plans WHERE active ORDER BY name",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(|r| {
            Ok(PricingPlan {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                input_fen_per_mtok: r.try_get("input_fen_per_mtok")?,
                output_fen_per_mtok: r.try_get("output_fen_per_mtok")?,
                outcome_prices: r
                    .try_get::<sqlx::types::Json<Value>, _>("outcome_prices")?
                    .0,
                active: r.try_get("active")?,
            })
        })
        .collect()
}

const PAYMENT_COLUMNS: &str =
    "id, user_id, provider, order_no, provider_txn_id, amount_fen, status, raw_notification";

fn payment_from(r: &sqlx::postgres::PgRow) -> Result<Payment, sqlx::Error> {
    Ok(Payment {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        provider: r.try_get("provider")?,
        order_no: r.try_get("order_no")?,
        provider_txn_id: r.try_get("provider_txn_id")?,
        amount_fen: r.try_get("amount_fen")?,
        status: r.try_get("status")?,
        raw_notification: r
            .try_get::<Option<sqlx::types::Json<Value>>, _>("raw_notification")?
            .map(|j| j.0),
    })
}

pub(crate) async fn create_payment(
    pool: &PgPool,
    tenant: UserId,
    p: &NewPayment,
) -> Result<Payment, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO payments (id, user_id, provider, order_no, amount_fen) VALUES ($1, $2, $3, $4, $5)
         RETURNING {PAYMENT_COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(tenant)
    .bind(p.provider.as_str())
    .bind(&p.order_no)
    .bind(p.amount_fen)
    .fetch_one(&mut *tx)
    .await?;
    let payment = payment_from(&row)?;
    tx.commit().await?;
    Ok(payment)
}

pub(crate) async fn mark_paid(
    pool: &PgPool,
    order_no: &str,
    txn: &str,
    raw: &Value,
) -> Result<Payment, StoreError> {
    let mut tx = begin_service(pool).await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE payments SET status = 'paid', provider_txn_id = $2, raw_notification = $3, updated_at = now()
         WHERE order_no = $1 AND (provider_txn_id IS NULL OR provider_txn_id = $2)
         RETURNING {PAYMENT_COLUMNS}"
    )))
    .bind(order_no)
    .bind(txn)
    .bind(sqlx::types::Json(raw))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Err(StoreError::NotFound(format!(
            "no payment with order number {order_no} awaiting transaction {txn}"
        )));
    };
    let payment = payment_from(&row)?;
    tx.commit().await?;
    Ok(payment)
}

pub(crate) async fn payments(pool: &PgPool, tenant: UserId) -> Result<Vec<Payment>, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
    )))
    .bind(tenant)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows.iter().map(payment_from).collect::<Result<_, _>>()?)
}

pub(crate) async fn add_document(
    pool: &PgPool,
    tenant: UserId,
    d: &NewDocument,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    let mut tx = begin_as(pool, tenant).await?;
    sqlx::query(
        "INSERT INTO documents (id, user_id, project_id, source, chunk_index, content, embedding)
         VALUES ($1, $2, $3, $4, $5, $6, $7::float4[]::vector)",
    )
    .bind(id)
    .bind(tenant)
    .bind(d.project_id)
    .bind(&d.source)
    .bind(d.chunk_index)
    .bind(&d.content)
    .bind(d.embedding.as_slice().to_vec())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Makes HNSW searches in this transaction exhaustive enough to be exact at
/// our sizes, and keeps scanning when row-level security filters candidates
/// out (pgvector 0.8 iterative scans), so a tenant gets `k` of their own rows.
async fn tune_hnsw(tx: &mut Transaction<'static, Postgres>) -> Result<(), StoreError> {
    sqlx::query(
        "SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'strict_order', true)",
    )
    .bind(EF_SEARCH.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Search results; `know_how` rows also carry their citation columns.
fn hits(rows: &[sqlx::postgres::PgRow], know_how: bool) -> Result<Vec<Hit>, StoreError> {
    rows.iter()
        .map(|r| {
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
            Ok(Hit {
                id: r.try_get("id")?,
                content: r.try_get("content")?,
                distance: r.try_get("distance")?,
                source: r.try_get("source")?,
                citation,
            })
        })
        .collect()
}

pub(crate) async fn search_documents(
    pool: &PgPool,
    tenant: UserId,
    q: &Embedding,
    k: usize,
) -> Result<Vec<Hit>, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    tune_hnsw(&mut tx).await?;
    let rows = sqlx::query(
        "SELECT id, content, source, (embedding <=> $1::float4[]::vector)::float8 AS distance
         FROM documents WHERE user_id = $2
         ORDER BY embedding <=> $1::float4[]::vector LIMIT $3",
    )
    .bind(q.as_slice().to_vec())
    .bind(tenant)
    .bind(clamp_k(k))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    hits(&rows, false)
}

pub(crate) async fn add_know_how(pool: &PgPool, k: &NewKnowHow) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    let mut tx = begin_service(pool).await?;
    sqlx::query(
        "INSERT INTO know_how_index (id, source, title, content, licence, attribution, url, embedding)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::float4[]::vector)",
    )
    .bind(id)
    .bind(&k.source)
    .bind(&k.title)
    .bind(&k.content)
    .bind(&k.licence)
    .bind(&k.attribution)
    .bind(&k.url)
    .bind(k.embedding.as_slice().to_vec())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub(crate) async fn search_know_how(
    pool: &PgPool,
    q: &Embedding,
    k: usize,
) -> Result<Vec<Hit>, StoreError> {
    let mut tx = begin_service(pool).await?;
    tune_hnsw(&mut tx).await?;
    let rows = sqlx::query(
        "SELECT id, content, source, title, licence, attribution, url,
                (embedding <=> $1::float4[]::vector)::float8 AS distance
         FROM know_how_index ORDER BY embedding <=> $1::float4[]::vector LIMIT $2",
    )
    .bind(q.as_slice().to_vec())
    .bind(clamp_k(k))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    hits(&rows, true)
}

/// (id, source) of the know-how chunks whose source starts with `prefix`,
/// oldest first.
pub(crate) async fn know_how_sources(
    pool: &PgPool,
    prefix: &str,
) -> Result<Vec<(Uuid, String)>, StoreError> {
    let mut tx = begin_service(pool).await?;
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT id, source FROM know_how_index WHERE starts_with(source, $1) ORDER BY created_at, id",
    )
    .bind(prefix)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

pub(crate) async fn delete_know_how(pool: &PgPool, ids: &[Uuid]) -> Result<u64, StoreError> {
    let mut tx = begin_service(pool).await?;
    let done = sqlx::query("DELETE FROM know_how_index WHERE id = ANY($1)")
        .bind(ids.to_vec())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

pub(crate) async fn audit(
    pool: &PgPool,
    tenant: UserId,
    action: &str,
    table: &str,
    row_id: &str,
    detail: &Value,
) -> Result<(), StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    sqlx::query("INSERT INTO audit_log (user_id, action, table_name, row_id, detail, at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(tenant)
        .bind(action)
        .bind(table)
        .bind(row_id)
        .bind(sqlx::types::Json(detail))
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn audit_entries(
    pool: &PgPool,
    tenant: UserId,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut tx = begin_as(pool, tenant).await?;
    let rows = sqlx::query(
        "SELECT id, user_id, action, table_name, row_id, detail FROM audit_log WHERE user_id = $1 ORDER BY id",
    )
    .bind(tenant)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get("id")?,
                user_id: r.try_get("user_id")?,
                action: r.try_get("action")?,
                table_name: r.try_get("table_name")?,
                row_id: r.try_get("row_id")?,
                detail: r.try_get::<sqlx::types::Json<Value>, _>("detail")?.0,
            })
        })
        .collect()
}
