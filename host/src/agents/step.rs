//! The host side of one role step: serves the role's `bioai:plugin/agent`
//! requests, checking each against the role's policy (`[agent]`), metering
//! and billing what they consume, and writing them into the run's trace.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use bioai_policy::{AgentGrant, WorkspaceAccess};
use bioai_store::{JournalEntry, NewRunEvent, RunCharge, UsageEvent, Utc, Uuid};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::journal::{self, Next, StepJournal};
use super::llm::{self, ChatMessage, ChatRequest, Llm};
use super::swarm::{RunKey, Swarm, event};
use crate::registry::{CallContext, Recording, call_record};
use crate::runtime::{
    Completion, CompletionRequest, Origin, Passage, RoleFuture, RoleHost, Source, Speaker,
    ToolCall, ToolError, ToolSpec, Usage,
};

/// The largest file a role may write into the workspace, in bytes.
pub const MAX_FILE_BYTES: usize = 16 << 20;
/// Tool arguments and results are kept in the trace up to this size; a
/// larger one is replaced by a note with its size.
const MAX_TRACED_JSON: usize = 256 << 10;
/// The most passages one search returns.
const MAX_SEARCH: u32 = 50;
/// The most tokens one completion may ask for.
const MAX_COMPLETION_TOKENS: u32 = 32_768;

/// Serves one step of one role.
pub(super) struct StepHost {
    swarm: Arc<Swarm>,
    key: RunKey,
    role: String,
    grant: AgentGrant,
    workspace: PathBuf,
    cancel: CancellationToken,
    llm: Option<Llm>,
    /// The step's journal: what a re-run of this step replays.
    journal: Arc<StepJournal>,
    /// The run's cost so far, fen, as of the last charge.
    spent: Arc<AtomicI64>,
}

impl StepHost {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        swarm: Arc<Swarm>,
        key: RunKey,
        role: String,
        grant: AgentGrant,
        workspace: PathBuf,
        cancel: CancellationToken,
        llm: Option<Llm>,
        journal: StepJournal,
        spent_fen: i64,
    ) -> Self {
        StepHost {
            swarm,
            key,
            role,
            grant,
            workspace,
            cancel,
            llm,
            journal: Arc::new(journal),
            spent: Arc::new(AtomicI64::new(spent_fen)),
        }
    }

    /// Charges the role's own fuel for this step, once: a re-run of a step
    /// whose charge was journaled before the host stopped is not charged
    /// again.
    pub(super) async fn charge_role(
        &self,
        cost_fen: i64,
        record: bioai_store::CallRecord,
    ) -> Result<(), bioai_store::StoreError> {
        let (seq, next) = self.journal.next("role", "role");
        if next != Next::Live {
            return Ok(());
        }
        let entry = JournalEntry {
            seq,
            kind: "role".into(),
            request_hash: "role".into(),
            response: None,
        };
        let charge = RunCharge {
            cost_fen,
            ..RunCharge::default()
        };
        self.journal_call(entry, charge, &[record], &[], Vec::new())
            .await
    }

    /// Journals a call with its charge, usage events and trace events in
    /// one transaction, then publishes the events to live followers.
    async fn journal_call(
        &self,
        entry: JournalEntry,
        charge: RunCharge,
        calls: &[bioai_store::CallRecord],
        usage: &[UsageEvent],
        events: Vec<NewRunEvent>,
    ) -> Result<(), bioai_store::StoreError> {
        let done = self
            .swarm
            .store
            .journal_call(
                self.key.tenant,
                self.key.id,
                self.journal.step,
                &entry,
                charge,
                calls,
                usage,
                &events,
            )
            .await?;
        self.spent.store(done.cost_fen, Ordering::Relaxed);
        self.swarm.publish(&self.key, &done.seqs, events);
        Ok(())
    }

    /// Refuses a new LLM call once the run has spent its budget.
    fn check_budget(&self) -> Result<(), String> {
        let spent = self.spent.load(Ordering::Relaxed);
        match self.key.budget_fen {
            Some(budget) if spent >= budget => Err(format!(
                "the cost budget is exhausted: the run has cost {spent} fen of its {budget} fen \
                 budget, so no more LLM calls are made"
            )),
            _ => Ok(()),
        }
    }

    fn denied(&self, what: &str, key: &str) -> String {
        format!(
            "role `{}` may not {what}: its policy (policies/{}.toml) does not grant `[agent] {key}`",
            self.role, self.role
        )
    }

    async fn trace_event(&self, kind: &str, payload: Value) {
        self.swarm
            .emit_event(&self.key, event(kind, Some(&self.role), payload))
            .await;
    }

    /// Traces what the role reports or does without a journaled call (notes,
    /// searches, files), unless the step is replaying: the previous run of
    /// the step traced those already.
    async fn trace_unless_replaying(&self, kind: &str, payload: Value) {
        if !self.journal.replaying() {
            self.trace_event(kind, payload).await;
        }
    }

    async fn complete_inner(&self, request: CompletionRequest) -> Result<Completion, String> {
        if !self.grant.llm {
            return Err(self.denied("use the LLM", "llm = true"));
        }
        let Some(llm) = self.llm.clone() else {
            return Err(
                "no LLM is configured: set BIOAI_LLM_PROVIDER (openai or anthropic), \
                        BIOAI_LLM_MODEL and BIOAI_LLM_API_KEY (see README), or use a built-in \
                        task template"
                    .to_string(),
            );
        };
        let request = chat_request(request);
        let hash = journal::request_hash(
            "llm",
            &[&serde_json::to_string(&request).unwrap_or_default()],
        );
        let (seq, next) = self.journal.next("llm", &hash);
        if let Next::Replay(Some(response)) = &next {
            return replayed_completion(response);
        }
        self.check_budget()?;
        let answer = tokio::select! {
            r = llm.complete(&request, None) => r,
            () = self.cancel.cancelled() => return Err("the run was cancelled".into()),
        };
        let (usage, model, interrupted) = match &answer {
            Ok(c) => (Some(c.usage), c.model.clone(), false),
            Err(e) => (
                e.usage(),
                String::new(),
                matches!(e, llm::LlmError::Interrupted { .. }),
            ),
        };
        let response = match &answer {
            Ok(c) => json!({ "ok": c }),
            Err(e) => json!({ "error": e.to_string() }),
        };
        if next == Next::Live {
            let mut events = Vec::new();
            let (charge, billed) = match usage {
                Some(u) => {
                    let (charge, billed, traced) = self.token_charge(seq, u, &model, interrupted);
                    events.push(traced);
                    (charge, billed)
                }
                None => (RunCharge::default(), Vec::new()),
            };
            if let Err(e) = &answer {
                events.push(event(
                    "error",
                    Some(&self.role),
                    json!({"message": e.to_string(), "source": "llm"}),
                ));
            }
            let entry = JournalEntry {
                seq,
                kind: "llm".into(),
                request_hash: hash,
                response: journal::keep(response),
            };
            if let Err(e) = self.journal_call(entry, charge, &[], &billed, events).await {
                tracing::error!(run = %self.key.id, "LLM call not journaled or billed: {e}");
            }
        }
        match answer {
            Ok(c) => Ok(to_completion(c)),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The charge, usage events (ids derived from the run, step and call,
    /// so they are stored once) and trace event of an LLM call's tokens.
    fn token_charge(
        &self,
        seq: i32,
        usage: llm::TokenUsage,
        model: &str,
        interrupted: bool,
    ) -> (RunCharge, Vec<UsageEvent>, NewRunEvent) {
        let cost = self
            .swarm
            .rates
            .tokens(usage.input_tokens, usage.output_tokens);
        let now = Utc::now();
        let to_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let call = journal::call_id(self.key.id, self.journal.step, Some(seq));
        let billed: Vec<UsageEvent> = [
            ("input_tokens", usage.input_tokens),
            ("output_tokens", usage.output_tokens),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| UsageEvent {
            id: Uuid::new_v5(&call, kind.as_bytes()),
            user_id: Some(self.key.tenant),
            project_id: self.key.project,
            tool_call_id: None,
            run_id: Some(self.key.id),
            kind: kind.to_string(),
            quantity: to_i64(n),
            role: Some(self.role.clone()),
            occurred_at: now,
        })
        .collect();
        let charge = RunCharge {
            input_tokens: to_i64(usage.input_tokens),
            output_tokens: to_i64(usage.output_tokens),
            cost_fen: cost,
        };
        let traced = event(
            "llm",
            Some(&self.role),
            json!({
                "model": model,
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "estimated": usage.estimated,
                "interrupted": interrupted,
                "cost_fen": cost,
                "note": if interrupted {
                    Some("the answer's stream was interrupted: billed for the tokens received")
                } else {
                    None
                },
            }),
        );
        (charge, billed, traced)
    }

    async fn call_tool_inner(&self, name: String, arguments: String) -> Result<String, ToolError> {
        if !self.grant.allows_tool(&name) {
            let message = format!(
                "role `{}` may not call `{name}`: its policy (policies/{}.toml) does not list it \
                 in `[agent] tools`",
                self.role, self.role
            );
            self.trace_unless_replaying(
                "tool_call",
                json!({"tool": name, "error": {"message": message, "class": "denied"}}),
            )
            .await;
            return Err(ToolError {
                message,
                class: "denied".into(),
            });
        }
        let args: Value = match serde_json::from_str(&arguments) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) | Err(_) => {
                return Err(ToolError {
                    message: format!("the arguments of `{name}` must be a JSON object"),
                    class: "bad_arguments".into(),
                });
            }
        };
        let hash = journal::request_hash("tool", &[&name, &args.to_string()]);
        let (seq, next) = self.journal.next("tool", &hash);
        if let Next::Replay(Some(response)) = &next {
            return replayed_tool(response);
        }
        let registry = self.swarm.catalog.registry();
        let call_id = journal::call_id(self.key.id, self.journal.step, Some(seq));
        let ctx = CallContext {
            workspace: Some(self.workspace.clone()),
            cancel: self.cancel.child_token(),
            user_id: Some(self.key.tenant),
            project_id: self.key.project,
            run_id: Some(self.key.id),
            recording: Recording::Caller,
            ..CallContext::default()
        };
        let started_at = Utc::now();
        let outcome = match registry.call(&name, &args, ctx).await {
            Ok(o) => o,
            Err(unknown) => {
                let message = unknown.to_string();
                self.trace_unless_replaying(
                    "tool_call",
                    json!({"tool": name, "args": traced(&args),
                           "error": {"message": message, "class": "unknown_tool"}}),
                )
                .await;
                return Err(ToolError {
                    message,
                    class: "unknown_tool".into(),
                });
            }
        };
        let cost = self.swarm.rates.fuel(outcome.meters.fuel);
        let meters = serde_json::to_value(outcome.meters).unwrap_or(Value::Null);
        // Its billing record goes with the journal entry, so a host stopped
        // before a recorder batch is written loses nothing.
        let record = call_record(
            &outcome,
            call_id,
            (Some(self.key.tenant), self.key.project, Some(self.key.id)),
            started_at,
        );
        let (answer, payload, response) = match outcome.result {
            Ok(result) => (
                Ok(result.to_string()),
                json!({"tool": name, "args": traced(&args), "result": traced(&result),
                       "meters": meters, "cost_fen": cost}),
                // Moved, not copied through `json!`'s `to_value`.
                Value::Object(serde_json::Map::from_iter([("ok".to_string(), result)])),
            ),
            Err(failure) => {
                let error = ToolError {
                    message: failure.to_string(),
                    class: failure.class().to_string(),
                };
                let payload = json!({"tool": name, "args": traced(&args),
                       "error": {"message": error.message, "class": error.class},
                       "meters": meters, "cost_fen": cost});
                let response = json!({"error": {"message": error.message, "class": error.class}});
                (Err(error), payload, response)
            }
        };
        // A call replayed without its (too large) answer was charged and
        // traced by the step's previous run.
        if next == Next::Live {
            let entry = JournalEntry {
                seq,
                kind: "tool".into(),
                request_hash: hash,
                response: journal::keep(response),
            };
            let charge = RunCharge {
                cost_fen: cost,
                ..RunCharge::default()
            };
            let traced = event("tool_call", Some(&self.role), payload);
            if let Err(e) = self
                .journal_call(entry, charge, &[record], &[], vec![traced])
                .await
            {
                tracing::error!(run = %self.key.id, "tool call not journaled or charged: {e}");
            }
        }
        answer
    }

    async fn search_inner(&self, query: String, limit: u32) -> Result<Vec<Passage>, String> {
        if !self.grant.search {
            return Err(self.denied("search", "search = true"));
        }
        let Some(knowhow) = self.swarm.knowhow.clone() else {
            return Err(
                "the know-how library is not available: its embedding model was not \
                        found (run `cargo xtask build`, or set BIOAI_EMBEDDING_MODEL)"
                    .into(),
            );
        };
        let limit = limit.clamp(1, MAX_SEARCH) as usize;
        let found = knowhow
            .search(&self.swarm.store, Some(self.key.tenant), &query, limit)
            .await
            .map_err(|e| e.to_string())?;
        self.trace_unless_replaying(
            "search",
            json!({
                "query": query,
                "hits": found.iter().map(|p| json!({
                    "title": p.title, "source": p.source_uri, "score": p.score,
                })).collect::<Vec<_>>(),
            }),
        )
        .await;
        Ok(found
            .into_iter()
            .map(|p| Passage {
                source: Source {
                    title: p.title.clone(),
                    uri: p.source_uri,
                    licence: (!p.licence.is_empty()).then_some(p.licence),
                },
                title: p.title,
                text: p.text,
                origin: match p.origin {
                    super::knowhow::Origin::KnowHow => Origin::KnowHow,
                    super::knowhow::Origin::Document => Origin::Document,
                },
                score: p.score as f32,
            })
            .collect())
    }

    fn workspace_path(&self, path: &str) -> Result<PathBuf, String> {
        let p = Path::new(path);
        let ok = !path.is_empty()
            && !path.contains('\0')
            && p.components().all(|c| matches!(c, Component::Normal(_)));
        if !ok {
            return Err(format!(
                "`{path}` is not a workspace path: give a relative path without `..`, e.g. `report.md`"
            ));
        }
        Ok(self.workspace.join(p))
    }

    async fn read_inner(&self, path: String) -> Result<Vec<u8>, String> {
        if self.grant.workspace == WorkspaceAccess::None {
            return Err(self.denied("read workspace files", "workspace = \"read\""));
        }
        let full = self.workspace_path(&path)?;
        let meta = tokio::fs::metadata(&full)
            .await
            .map_err(|e| format!("cannot read `{path}`: {e}"))?;
        if meta.len() > MAX_FILE_BYTES as u64 {
            return Err(format!(
                "`{path}` is {} bytes; roles may read at most {MAX_FILE_BYTES}",
                meta.len()
            ));
        }
        tokio::fs::read(&full)
            .await
            .map_err(|e| format!("cannot read `{path}`: {e}"))
    }

    async fn write_inner(&self, path: String, data: Vec<u8>) -> Result<(), String> {
        if self.grant.workspace != WorkspaceAccess::ReadWrite {
            return Err(self.denied("write workspace files", "workspace = \"read-write\""));
        }
        if data.len() > MAX_FILE_BYTES {
            return Err(format!(
                "`{path}` would be {} bytes; roles may write at most {MAX_FILE_BYTES}",
                data.len()
            ));
        }
        let full = self.workspace_path(&path)?;
        if let Some(dir) = full.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| format!("cannot create the directory of `{path}`: {e}"))?;
        }
        tokio::fs::write(&full, &data)
            .await
            .map_err(|e| format!("cannot write `{path}`: {e}"))?;
        self.trace_unless_replaying("file", json!({"path": path, "bytes": data.len()}))
            .await;
        Ok(())
    }
}

impl RoleHost for StepHost {
    fn llm_available(&self) -> bool {
        self.grant.llm && self.llm.is_some()
    }

    fn complete(&self, request: CompletionRequest) -> RoleFuture<Result<Completion, String>> {
        let this = self.clone_handle();
        Box::pin(async move {
            if request.max_tokens == 0 || request.max_tokens > MAX_COMPLETION_TOKENS {
                return Err(format!(
                    "max-tokens must be 1..={MAX_COMPLETION_TOKENS}, not {}",
                    request.max_tokens
                ));
            }
            this.complete_inner(request).await
        })
    }

    fn list_tools(&self) -> Vec<ToolSpec> {
        let registry = self.swarm.catalog.registry();
        registry
            .tools()
            .filter(|t| self.grant.shows_tool(&t.name))
            .map(|t| ToolSpec {
                name: t.name.clone(),
                description: t.description.clone(),
                parameters: t.input_schema.to_string(),
            })
            .collect()
    }

    fn call_tool(&self, name: String, arguments: String) -> RoleFuture<Result<String, ToolError>> {
        let this = self.clone_handle();
        Box::pin(async move { this.call_tool_inner(name, arguments).await })
    }

    fn search(&self, query: String, limit: u32) -> RoleFuture<Result<Vec<Passage>, String>> {
        let this = self.clone_handle();
        Box::pin(async move { this.search_inner(query, limit).await })
    }

    fn read_file(&self, path: String) -> RoleFuture<Result<Vec<u8>, String>> {
        let this = self.clone_handle();
        Box::pin(async move { this.read_inner(path).await })
    }

    fn write_file(&self, path: String, data: Vec<u8>) -> RoleFuture<Result<(), String>> {
        let this = self.clone_handle();
        Box::pin(async move { this.write_inner(path, data).await })
    }

    fn trace(&self, kind: String, summary: String, detail: String) -> RoleFuture<()> {
        let this = self.clone_handle();
        Box::pin(async move {
            // Roles may only add their own kinds of events; the host writes
            // tool calls, handoffs and the rest itself.
            let kind = match kind.as_str() {
                "reasoning" | "note" => kind,
                _ => "note".to_string(),
            };
            let summary: String = summary.chars().take(2000).collect();
            let detail = if detail.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&detail).unwrap_or(Value::String(detail))
            };
            this.trace_unless_replaying(
                &kind,
                json!({"summary": summary, "detail": traced(&detail)}),
            )
            .await;
        })
    }
}

impl StepHost {
    fn clone_handle(&self) -> Arc<StepHost> {
        Arc::new(StepHost {
            swarm: self.swarm.clone(),
            key: self.key.clone(),
            role: self.role.clone(),
            grant: self.grant.clone(),
            workspace: self.workspace.clone(),
            cancel: self.cancel.clone(),
            llm: self.llm.clone(),
            journal: self.journal.clone(),
            spent: self.spent.clone(),
        })
    }
}

/// The answer of a journaled tool call.
fn replayed_tool(response: &Value) -> Result<String, ToolError> {
    if let Some(result) = response.get("ok") {
        return Ok(result.to_string());
    }
    let error = &response["error"];
    Err(ToolError {
        message: error["message"].as_str().unwrap_or_default().to_string(),
        class: error["class"].as_str().unwrap_or("failed").to_string(),
    })
}

/// The answer of a journaled LLM call.
fn replayed_completion(response: &Value) -> Result<Completion, String> {
    if let Some(ok) = response.get("ok") {
        let c: llm::Completion = serde_json::from_value(ok.clone())
            .map_err(|e| format!("the journaled LLM answer is unreadable: {e}"))?;
        return Ok(to_completion(c));
    }
    Err(response["error"]
        .as_str()
        .unwrap_or("the LLM call failed")
        .to_string())
}

fn to_completion(c: llm::Completion) -> Completion {
    Completion {
        text: c.text,
        tool_calls: c
            .tool_calls
            .into_iter()
            .map(|t| ToolCall {
                id: t.id,
                name: t.name,
                arguments: t.arguments,
            })
            .collect(),
        stop_reason: c.stop_reason,
        model: c.model,
        usage: Usage {
            input_tokens: c.usage.input_tokens,
            output_tokens: c.usage.output_tokens,
        },
    }
}

/// `v`, or a note with its size when it is too large to keep in the trace.
pub(super) fn traced(v: &Value) -> Value {
    let len = v.to_string().len();
    if len <= MAX_TRACED_JSON {
        v.clone()
    } else {
        json!({"omitted": format!("{len} bytes of JSON, too large for the trace")})
    }
}

fn chat_request(r: CompletionRequest) -> ChatRequest {
    ChatRequest {
        messages: r
            .messages
            .into_iter()
            .map(|m| ChatMessage {
                speaker: match m.speaker {
                    Speaker::System => llm::Speaker::System,
                    Speaker::User => llm::Speaker::User,
                    Speaker::Assistant => llm::Speaker::Assistant,
                    Speaker::Tool => llm::Speaker::Tool,
                },
                content: m.content,
                tool_call_id: m.tool_call_id,
                tool_calls: m
                    .tool_calls
                    .into_iter()
                    .map(|t| llm::ToolCall {
                        id: t.id,
                        name: t.name,
                        arguments: t.arguments,
                    })
                    .collect(),
            })
            .collect(),
        tools: r
            .tools
            .into_iter()
            .map(|t| llm::ToolSpec {
                name: t.name,
                description: t.description,
                parameters: serde_json::from_str(&t.parameters)
                    .unwrap_or_else(|_| json!({"type": "object"})),
            })
            .collect(),
        max_tokens: r.max_tokens,
        temperature: r.temperature,
    }
}
