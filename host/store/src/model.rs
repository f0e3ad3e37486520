//! The rows the store reads and writes, independent of the backend.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::vector::Embedding;

/// A user id: the tenant. On PostgreSQL it is what `auth.uid()` returns.
pub type UserId = Uuid;

/// A user to create.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// The id, normally the auth provider's `sub`; a fresh one when `None`.
    pub id: Option<UserId>,
    /// E-mail address, unique when present.
    pub email: Option<String>,
    /// WeChat open id, unique when present.
    pub wechat_openid: Option<String>,
    /// WeChat union id, unique when present.
    pub wechat_unionid: Option<String>,
    /// Name shown in the product.
    pub display_name: String,
    /// Micro-payments up to this many fen are charged without asking.
    pub auto_pay_limit_fen: i64,
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// E-mail address.
    pub email: Option<String>,
    /// WeChat open id.
    pub wechat_openid: Option<String>,
    /// WeChat union id.
    pub wechat_unionid: Option<String>,
    /// Name shown in the product.
    pub display_name: String,
    /// Auto-authorized micro-payment limit, fen.
    pub auto_pay_limit_fen: i64,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// When the row was last changed.
    pub updated_at: DateTime<Utc>,
}

/// A project owned by a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    /// The project's id.
    pub id: Uuid,
    /// The owner.
    pub user_id: UserId,
    /// Unique per owner.
    pub name: String,
}

/// The state of an agent run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting to start.
    Queued,
    /// In progress.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Stopped by the user or the host.
    Cancelled,
}

impl RunStatus {
    /// The value stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a stored `status` value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(RunStatus::Queued),
            "running" => Some(RunStatus::Running),
            "succeeded" => Some(RunStatus::Succeeded),
            "failed" => Some(RunStatus::Failed),
            "cancelled" => Some(RunStatus::Cancelled),
            _ => None,
        }
    }

    /// Whether a run in this status is over (succeeded, failed or cancelled).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}

/// An agent run to create ([`crate::Store::create_run`]): a task run as a
/// state machine over agent roles, starting in `state` with `next_role`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    /// The run's id; a fresh one when `None`.
    pub id: Option<Uuid>,
    /// The tenant's project the run belongs to, if any.
    pub project_id: Option<Uuid>,
    /// What the user asked for.
    pub task: String,
    /// The task template the run was started from, if any.
    pub template: Option<String>,
    /// The task's inputs, as given.
    pub inputs: Value,
    /// The state-machine graph the run follows (`default` when in doubt).
    pub graph: String,
    /// The most the run may cost, fen; `None` for no budget of its own.
    pub budget_fen: Option<i64>,
    /// The initial run state.
    pub state: Value,
    /// The first role to run.
    pub next_role: String,
}

/// A stored agent run with its latest persisted state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    /// The run's id.
    pub id: Uuid,
    /// The tenant.
    pub user_id: UserId,
    /// The project, if any.
    pub project_id: Option<Uuid>,
    /// What the user asked for.
    pub task: String,
    /// The task template, if any.
    pub template: Option<String>,
    /// The task's inputs (`{}` for runs started without any).
    pub inputs: Value,
    /// The state-machine graph (`default` for runs started by `start_run`).
    pub graph: String,
    /// The run's budget, fen.
    pub budget_fen: Option<i64>,
    /// Where the run stands.
    pub status: RunStatus,
    /// The latest persisted run state (`None` for runs started by `start_run`).
    pub state: Option<Value>,
    /// The role to run next; `None` once there is nothing left to run.
    pub next_role: Option<String>,
    /// Steps persisted so far.
    pub steps: i64,
    /// The final report, if any.
    pub report: Option<Value>,
    /// Why the run failed, if it did.
    pub error: Option<String>,
    /// Input tokens consumed.
    pub input_tokens: i64,
    /// Output tokens produced.
    pub output_tokens: i64,
    /// What the run has cost so far, fen.
    pub cost_fen: i64,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished, if it has.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A trace event to append to a run ([`crate::Store::save_step`],
/// [`crate::Store::append_run_events`], [`crate::Store::end_run`]); the
/// store numbers it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRunEvent {
    /// What happened, e.g. `role_started`, `tool_call`, `message`.
    pub kind: String,
    /// The role it concerns, if any.
    pub role: Option<String>,
    /// The event's details.
    pub payload: Value,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// One entry of the journal of a run's step in flight: a call the role
/// made through the host (a tool call, an LLM completion) or the role's own
/// charge, with its answer. A step re-run after a host restart replays its
/// journal instead of repeating the calls ([`crate::Store::journal_call`]).
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    /// 0, 1, 2... in the order the role made its calls during the step.
    pub seq: i32,
    /// `tool`, `llm` or `role`.
    pub kind: String,
    /// A hash of the request, so a re-run that asks something else is noticed.
    pub request_hash: String,
    /// The answer to replay; `None` when it was too large to keep.
    pub response: Option<Value>,
}

/// What one journaled call adds to its run's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCharge {
    /// Prompt tokens.
    pub input_tokens: i64,
    /// Generated tokens.
    pub output_tokens: i64,
    /// Cost in fen.
    pub cost_fen: i64,
}

/// The outcome of [`crate::Store::journal_call`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journaled {
    /// False when the entry was already journaled (nothing was charged or
    /// traced again).
    pub recorded: bool,
    /// The numbers of the trace events written with it.
    pub seqs: Vec<i64>,
    /// The run's cost so far, fen, including this charge.
    pub cost_fen: i64,
}

/// A stored trace event of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunEvent {
    /// The run.
    pub run_id: Uuid,
    /// Its number in the run's trace: 1, 2, 3...
    pub seq: i64,
    /// What happened.
    pub kind: String,
    /// The role it concerns, if any.
    pub role: Option<String>,
    /// The event's details.
    pub payload: Value,
    /// When it happened (microsecond precision on PostgreSQL).
    pub at: DateTime<Utc>,
}

/// How a tool call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    /// The tool returned a result.
    Ok,
    /// The tool or the host reported an error.
    Failed,
    /// The call was cancelled.
    Cancelled,
}

impl CallStatus {
    /// The value stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Ok => "ok",
            CallStatus::Failed => "failed",
            CallStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a stored `status` value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ok" => Some(CallStatus::Ok),
            "failed" => Some(CallStatus::Failed),
            "cancelled" => Some(CallStatus::Cancelled),
            _ => None,
        }
    }
}

/// One finished tool call, as the host reports it: becomes one `tool_calls`
/// row and its `usage_events`, written together in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The call's id; usage event ids derive from it, so re-writing a record
    /// is harmless.
    pub id: Uuid,
    /// The agent run the call belongs to; `None` for a direct call.
    pub run_id: Option<Uuid>,
    /// The tenant; `None` for an operator's call without one (`bioai call`).
    pub user_id: Option<UserId>,
    /// The project, if any.
    pub project_id: Option<Uuid>,
    /// The plugin that provided the tool (shared: the host keeps one copy
    /// per tool instead of allocating the name for every call).
    pub plugin: Arc<str>,
    /// The tool, `namespace.function`.
    pub tool: Arc<str>,
    /// How it ended.
    pub status: CallStatus,
    /// The failure class (`CallFailure::class()`), when it failed.
    pub error_class: Option<String>,
    /// Fuel consumed.
    pub fuel: u64,
    /// Peak linear memory, bytes.
    pub peak_memory_bytes: u64,
    /// Wall-clock time, microseconds.
    pub wall_us: u64,
    /// Outgoing HTTP requests.
    pub net_requests: u64,
    /// Bytes sent.
    pub net_bytes_out: u64,
    /// Bytes received.
    pub net_bytes_in: u64,
    /// When the call started.
    pub started_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
}

impl CallRecord {
    /// A version 7 id for a call that started at `started` (its time in the
    /// id's leading 48 bits, the other 74 bits random), made from the same
    /// clock reading as the call's `started_at` rather than from a second
    /// one. Unlike [`Uuid::now_v7`] it takes no process-wide lock: ids made
    /// in the same millisecond are unique but not in start order, and
    /// nothing orders calls by id (`started_at` does that).
    pub fn id_at(started: std::time::SystemTime) -> Uuid {
        let since = started
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            since.as_secs(),
            since.subsec_nanos(),
        ))
    }

    /// The metering events of this call: the input to billing. Every call
    /// has `tool_call` (1), `fuel` and `wall_us`; network counters are added
    /// when non-zero. Ids are derived from the call id and the kind, so the
    /// same call always yields the same event ids.
    pub fn usage_events(&self) -> Vec<UsageEvent> {
        let mut kinds: Vec<(&'static str, u64)> = vec![
            ("tool_call", 1),
            ("fuel", self.fuel),
            ("wall_us", self.wall_us),
        ];
        for (kind, n) in [
            ("net_requests", self.net_requests),
            ("net_bytes_out", self.net_bytes_out),
            ("net_bytes_in", self.net_bytes_in),
        ] {
            if n > 0 {
                kinds.push((kind, n));
            }
        }
        kinds
            .into_iter()
            .map(|(kind, quantity)| UsageEvent {
                id: Uuid::new_v5(&self.id, kind.as_bytes()),
                user_id: self.user_id,
                project_id: self.project_id,
                tool_call_id: Some(self.id),
                run_id: self.run_id,
                kind: kind.to_string(),
                quantity: clamp_i64(quantity),
                role: None,
                occurred_at: self.finished_at,
            })
            .collect()
    }
}

/// Stored counters are signed 64-bit; a counter beyond that saturates.
pub(crate) fn clamp_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A stored `tool_calls` row (read by column name on either backend).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolCallRow {
    /// The call's id.
    pub id: Uuid,
    /// Its run, if any.
    pub run_id: Option<Uuid>,
    /// Its tenant.
    pub user_id: Option<UserId>,
    /// Its project.
    pub project_id: Option<Uuid>,
    /// The plugin.
    pub plugin: String,
    /// The tool.
    pub tool: String,
    /// `ok`, `failed` or `cancelled`.
    pub status: String,
    /// The failure class.
    pub error_class: Option<String>,
    /// Fuel consumed.
    pub fuel: i64,
    /// Peak memory, bytes.
    pub peak_memory_bytes: i64,
    /// Wall time, microseconds.
    pub wall_us: i64,
    /// Outgoing requests.
    pub net_requests: i64,
    /// Bytes sent.
    pub net_bytes_out: i64,
    /// Bytes received.
    pub net_bytes_in: i64,
}

// Written out rather than derived: sqlx's derive macros bring its whole
// query-macro crate, which builds both database drivers (and SQLite's C
// source) a second time for the compiler, minutes of every clean build.
impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for ToolCallRow
where
    &'r str: sqlx::ColumnIndex<R>,
    Uuid: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(ToolCallRow {
            id: row.try_get("id")?,
            run_id: row.try_get("run_id")?,
            user_id: row.try_get("user_id")?,
            project_id: row.try_get("project_id")?,
            plugin: row.try_get("plugin")?,
            tool: row.try_get("tool")?,
            status: row.try_get("status")?,
            error_class: row.try_get("error_class")?,
            fuel: row.try_get("fuel")?,
            peak_memory_bytes: row.try_get("peak_memory_bytes")?,
            wall_us: row.try_get("wall_us")?,
            net_requests: row.try_get("net_requests")?,
            net_bytes_out: row.try_get("net_bytes_out")?,
            net_bytes_in: row.try_get("net_bytes_in")?,
        })
    }
}

/// A metering event: one quantity of one kind, billed to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageEvent {
    /// Unique; writing the same id twice stores it once.
    pub id: Uuid,
    /// The tenant billed; `None` for operator calls.
    pub user_id: Option<UserId>,
    /// The project, if any.
    pub project_id: Option<Uuid>,
    /// The tool call that produced it, if any.
    pub tool_call_id: Option<Uuid>,
    /// The agent run, if any.
    pub run_id: Option<Uuid>,
    /// What was consumed: `tool_call`, `fuel`, `wall_us`, `input_tokens`...
    pub kind: String,
    /// How much.
    pub quantity: i64,
    /// The agent role that consumed it (LLM tokens of a run), if any.
    #[serde(default)]
    pub role: Option<String>,
    /// When it was consumed.
    pub occurred_at: DateTime<Utc>,
}

/// A pricing plan: token rates and outcome prices, all in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PricingPlan {
    /// The plan's id.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// Fen per million input tokens.
    pub input_fen_per_mtok: i64,
    /// Fen per million output tokens.
    pub output_fen_per_mtok: i64,
    /// `{"task template": fen}`.
    pub outcome_prices: Value,
    /// Whether it is offered.
    pub active: bool,
}

/// Payment providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// WeChat Pay.
    Wechat,
    /// Alipay.
    Alipay,
    /// Stripe.
    Stripe,
}

impl Provider {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Wechat => "wechat",
            Provider::Alipay => "alipay",
            Provider::Stripe => "stripe",
        }
    }
}

/// A payment order to create.
#[derive(Debug, Clone)]
pub struct NewPayment {
    /// The provider.
    pub provider: Provider,
    /// Our order number, unique.
    pub order_no: String,
    /// Amount in fen, positive.
    pub amount_fen: i64,
}

/// A stored payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payment {
    /// The payment's id.
    pub id: Uuid,
    /// Who pays.
    pub user_id: UserId,
    /// `wechat`, `alipay` or `stripe`.
    pub provider: String,
    /// Our order number.
    pub order_no: String,
    /// The provider's transaction id, once paid.
    pub provider_txn_id: Option<String>,
    /// Amount in fen.
    pub amount_fen: i64,
    /// `pending`, `paid`, `failed`, `refunded` or `closed`.
    pub status: String,
    /// The provider's notification, verbatim.
    pub raw_notification: Option<Value>,
}

/// A chunk of a user's private document.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// The project, if any.
    pub project_id: Option<Uuid>,
    /// Where it came from (file name, URL).
    pub source: String,
    /// Position of the chunk in its source.
    pub chunk_index: i32,
    /// The text.
    pub content: String,
    /// Its embedding.
    pub embedding: Embedding,
}

/// A shared know-how chunk with its licence.
#[derive(Debug, Clone)]
pub struct NewKnowHow {
    /// Where it came from.
    pub source: String,
    /// Title.
    pub title: String,
    /// The text.
    pub content: String,
    /// SPDX licence id, e.g. `CC-BY-4.0`.
    pub licence: String,
    /// Required attribution text.
    pub attribution: String,
    /// Canonical URL.
    pub url: Option<String>,
    /// Its embedding.
    pub embedding: Embedding,
}

/// A vector search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// The row's id.
    pub id: Uuid,
    /// The chunk's text.
    pub content: String,
    /// Cosine distance to the query (0 = same direction, 2 = opposite).
    pub distance: f64,
    /// Where the chunk came from: the document's or know-how item's `source`.
    pub source: String,
    /// How to cite a shared know-how chunk; `None` for the tenant's documents.
    pub citation: Option<Citation>,
}

/// Citation metadata of a shared know-how chunk, returned with each hit so
/// that a retriever can cite it without a second query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Citation {
    /// The item's title.
    pub title: String,
    /// SPDX licence id.
    pub licence: String,
    /// Required attribution text (may be empty).
    pub attribution: String,
    /// Canonical URL, when the item has one.
    pub url: Option<String>,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Sequence number.
    pub id: i64,
    /// Who acted.
    pub user_id: Option<UserId>,
    /// What they did, e.g. `update`.
    pub action: String,
    /// Which table.
    pub table_name: String,
    /// Which row.
    pub row_id: String,
    /// Details, e.g. changed fields.
    pub detail: Value,
}

/// Counts of every table, for `bioai db status` and tests (service path: all tenants).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TableCounts {
    /// `users` rows.
    pub users: i64,
    /// `tool_calls` rows.
    pub tool_calls: i64,
    /// `usage_events` rows.
    pub usage_events: i64,
    /// `payments` rows.
    pub payments: i64,
    /// `documents` rows.
    pub documents: i64,
    /// `audit_log` rows.
    pub audit_log: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn call_ids_carry_their_start_millisecond_and_differ() {
        let started =
            UNIX_EPOCH + Duration::from_millis(1_764_547_200_123) + Duration::from_micros(456);
        let a = CallRecord::id_at(started);
        let b = CallRecord::id_at(started);
        assert_eq!(a.get_version_num(), 7);
        let (secs, nanos) = a.get_timestamp().expect("v7 has a timestamp").to_unix();
        assert_eq!((secs, nanos), (1_764_547_200, 123_000_000));
        assert_ne!(a, b, "the same start time still gives distinct ids");
        // A clock before 1970 gives the epoch, not a panic.
        let early = CallRecord::id_at(UNIX_EPOCH - Duration::from_secs(1));
        assert_eq!(early.get_timestamp().map(|t| t.to_unix()), Some((0, 0)));
    }
}
