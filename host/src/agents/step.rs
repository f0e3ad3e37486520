//! The host side of one role step: serves the role's `bioai:plugin/agent`
//! requests, checking each against the role's policy (`[agent]`), metering
//! and billing what they consume, and writing them into the run's trace.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use bioai_policy::{AgentGrant, WorkspaceAccess};
use bioai_store::{UsageEvent, Utc, Uuid};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::llm::{self, ChatMessage, ChatRequest, Llm};
use super::swarm::{RunKey, Swarm, event};
use crate::registry::CallContext;
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
}

impl StepHost {
    pub(super) fn new(
        swarm: Arc<Swarm>,
        key: RunKey,
        role: String,
        grant: AgentGrant,
        workspace: PathBuf,
        cancel: CancellationToken,
        llm: Option<Llm>,
    ) -> Self {
        StepHost {
            swarm,
            key,
            role,
            grant,
            workspace,
            cancel,
            llm,
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
        if let Some(usage) = usage {
            self.bill_tokens(usage, &model, interrupted).await;
        }
        match answer {
            Ok(c) => Ok(Completion {
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
            }),
            Err(e) => {
                self.trace_event("error", json!({"message": e.to_string(), "source": "llm"}))
                    .await;
                Err(e.to_string())
            }
        }
    }

    /// Records token usage as usage events, adds it to the run's totals and
    /// cost, and traces it.
    async fn bill_tokens(&self, usage: llm::TokenUsage, model: &str, interrupted: bool) {
        let rates = self.swarm.rates;
        let cost = rates.tokens(usage.input_tokens, usage.output_tokens);
        let now = Utc::now();
        let events: Vec<UsageEvent> = [
            ("input_tokens", usage.input_tokens),
            ("output_tokens", usage.output_tokens),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| UsageEvent {
            id: Uuid::now_v7(),
            user_id: Some(self.key.tenant),
            project_id: self.key.project,
            tool_call_id: None,
            run_id: Some(self.key.id),
            kind: kind.to_string(),
            quantity: i64::try_from(n).unwrap_or(i64::MAX),
            role: Some(self.role.clone()),
            occurred_at: now,
        })
        .collect();
        let store = &self.swarm.store;
        if let Err(e) = store.insert_usage_events(&events).await {
            tracing::error!(run = %self.key.id, "LLM usage events not stored: {e}");
        }
        let to_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        if let Err(e) = store
            .add_run_usage(
                self.key.tenant,
                self.key.id,
                to_i64(usage.input_tokens),
                to_i64(usage.output_tokens),
                cost,
            )
            .await
        {
            tracing::error!(run = %self.key.id, "LLM usage not added to the run: {e}");
        }
        self.trace_event(
            "llm",
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
        )
        .await;
    }

    async fn call_tool_inner(&self, name: String, arguments: String) -> Result<String, ToolError> {
        if !self.grant.allows_tool(&name) {
            let message = format!(
                "role `{}` may not call `{name}`: its policy (policies/{}.toml) does not list it \
                 in `[agent] tools`",
                self.role, self.role
            );
            self.trace_event(
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
        let registry = self.swarm.catalog.registry();
        let ctx = CallContext {
            workspace: Some(self.workspace.clone()),
            cancel: self.cancel.child_token(),
            user_id: Some(self.key.tenant),
            project_id: self.key.project,
            run_id: Some(self.key.id),
            ..CallContext::default()
        };
        let outcome = match registry.call(&name, &args, ctx).await {
            Ok(o) => o,
            Err(unknown) => {
                let message = unknown.to_string();
                self.trace_event(
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
        if cost > 0
            && let Err(e) = self
                .swarm
                .store
                .add_run_usage(self.key.tenant, self.key.id, 0, 0, cost)
                .await
        {
            tracing::error!(run = %self.key.id, "tool cost not added to the run: {e}");
        }
        let meters = serde_json::to_value(outcome.meters).unwrap_or(Value::Null);
        match outcome.result {
            Ok(result) => {
                self.trace_event(
                    "tool_call",
                    json!({"tool": name, "args": traced(&args), "result": traced(&result),
                           "meters": meters, "cost_fen": cost}),
                )
                .await;
                Ok(result.to_string())
            }
            Err(failure) => {
                let error = ToolError {
                    message: failure.to_string(),
                    class: failure.class().to_string(),
                };
                self.trace_event(
                    "tool_call",
                    json!({"tool": name, "args": traced(&args),
                           "error": {"message": error.message, "class": error.class},
                           "meters": meters, "cost_fen": cost}),
                )
                .await;
                Err(error)
            }
        }
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
        self.trace_event(
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
        self.trace_event("file", json!({"path": path, "bytes": data.len()}))
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
            this.trace_event(
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
        })
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
