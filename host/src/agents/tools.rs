//! The agent tools MCP clients call: `bio_agent.run_task`,
//! `bio_agent.stream_trace` and `billing.get_quote`, as registry host tools.
//!
//! Until authentication lands, every call runs as the embedded single-machine
//! user ([`bioai_store::Store::local_user`]); the auth middleware will put
//! the request's user into the [`CallContext`] instead.
//!
//! A run's meters are the sum of its role steps and tool calls, each of
//! which is recorded (and billed) on its own; so the `run_task` call itself
//! reports only its wall time in its meters, never the run's fuel again, and
//! the run's totals are in the report (`report.meters`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bioai_policy::Policy;
use bioai_roles::plan::Template;
use bioai_store::{RunStatus, UserId, Uuid};
use serde_json::{Map, Value, json};

use super::llm::Llm;
use super::swarm::{AgentError, RunRequest, Swarm};
use crate::registry::{CallContext, CallFailure, HostTool, Tool, ToolAnnotations, ToolOutcome};
use crate::runtime::{Captured, Failure, Meters};

/// `bio_agent.run_task`.
pub const RUN_TASK: &str = "bio_agent.run_task";
/// `bio_agent.stream_trace`.
pub const STREAM_TRACE: &str = "bio_agent.stream_trace";
/// `billing.get_quote`.
pub const GET_QUOTE: &str = "billing.get_quote";

/// The three agent tools over one swarm.
pub fn host_tools(swarm: &Arc<Swarm>) -> Vec<Arc<dyn HostTool>> {
    vec![
        Arc::new(AgentTool::new(swarm.clone(), Kind::RunTask)),
        Arc::new(AgentTool::new(swarm.clone(), Kind::StreamTrace)),
        Arc::new(AgentTool::new(swarm.clone(), Kind::Quote)),
    ]
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    RunTask,
    StreamTrace,
    Quote,
}

struct AgentTool {
    swarm: Arc<Swarm>,
    kind: Kind,
    definition: Tool,
    policy: Arc<Policy>,
}

fn template_schema() -> Value {
    json!({
        "anyOf": [
            {"type": "string", "enum": bioai_roles::plan::TEMPLATE_NAMES},
            {"type": "null"}
        ],
        "description": "A built-in task template; recognised from the task's words when null."
    })
}

impl AgentTool {
    fn new(swarm: Arc<Swarm>, kind: Kind) -> Self {
        let run_timeout = swarm.graph().run_timeout;
        let (name, provider, title, description, input, output) = match kind {
            Kind::RunTask => (
                RUN_TASK,
                "bio_agent",
                "Run a biomedical task with the agent swarm",
                "Runs a task through the agent swarm (planner, retriever, coder, evaluator, \
                 reporter) and returns its report: Markdown, structured findings, artifacts, \
                 sources and the run's total meters. Built-in templates run without an LLM: \
                 crispr_knockout (inputs: sequence, gene, pam, guide_length, max_results), \
                 pcr_primers (template, target_start, target_length, product_min, product_max), \
                 cloning_check (sequence, enzymes, circular), sequence_qc (fasta, min_length), \
                 gene_lookup (symbol, species). The run id comes at once in a progress \
                 notification and in the result; follow it with bio_agent.stream_trace. \
                 Long runs are MCP tasks for clients that support them.",
                json!({
                    "type": "object",
                    "properties": {
                        "task": {"type": "string", "description": "What to do, in words."},
                        "project_id": {
                            "type": ["string", "null"],
                            "description": "The project (a UUID) the run belongs to; its workspace holds the artifacts."
                        },
                        "template": template_schema(),
                        "inputs": {"type": "object", "description": "The task's inputs (see the templates)."},
                        "budget_fen": {
                            "type": ["integer", "null"], "minimum": 0,
                            "description": "The most the run may cost, in fen; it stops when reached."
                        }
                    },
                    "required": ["task"],
                    "additionalProperties": false
                }),
                json!({
                    "type": "object",
                    "properties": {
                        "run_id": {"type": "string"},
                        "status": {"type": "string", "enum": ["running", "succeeded", "failed", "cancelled"]},
                        "report": {"type": ["object", "null"]},
                        "error": {"type": ["string", "null"]},
                        "steps": {"type": "integer"},
                        "cost_fen": {"type": "integer"},
                        "input_tokens": {"type": "integer"},
                        "output_tokens": {"type": "integer"}
                    },
                    "required": ["run_id", "status"]
                }),
            ),
            Kind::StreamTrace => (
                STREAM_TRACE,
                "bio_agent",
                "Stream an agent run's trace",
                "Streams a run's trace as it happens (each event as a progress notification \
                 when the request has a progress token) and returns every event: the user's \
                 task, each role's reasoning summary, tool calls with arguments, results and \
                 meters, LLM usage, handoffs with reasons, retries, errors and the end. For a \
                 finished run it replays the stored trace. Large values are elided in the \
                 result, which holds at most 320 KiB of events: when `complete` is false, ask \
                 again with `after_seq` = `last_seq`.",
                json!({
                    "type": "object",
                    "properties": {
                        "run_id": {"type": "string", "description": "The run (from bio_agent.run_task)."},
                        "after_seq": {"type": "integer", "minimum": 0, "default": 0,
                                      "description": "Only events after this sequence number."},
                        "follow": {"type": "boolean", "default": true,
                                   "description": "Wait for new events until the run ends."}
                    },
                    "required": ["run_id"],
                    "additionalProperties": false
                }),
                json!({
                    "type": "object",
                    "properties": {
                        "run_id": {"type": "string"},
                        "status": {"type": "string"},
                        "events": {"type": "array", "items": {"type": "object"}},
                        "complete": {"type": "boolean", "description": "false: more events follow; ask again with after_seq = last_seq"},
                        "last_seq": {"type": "integer"}
                    },
                    "required": ["run_id", "status", "events", "complete", "last_seq"]
                }),
            ),
            Kind::Quote => (
                GET_QUOTE,
                "billing",
                "Estimate what a task will cost",
                "Estimates the cost range of running a task, in fen, with the basis of the \
                 estimate spelled out: the template's outcome price when the pricing plan has \
                 one, otherwise token and fuel estimates at the current rates. Nothing is \
                 charged.",
                json!({
                    "type": "object",
                    "properties": {
                        "task": {"type": "string"},
                        "template": template_schema(),
                        "inputs": {"type": "object"}
                    },
                    "required": ["task"],
                    "additionalProperties": false
                }),
                json!({
                    "type": "object",
                    "properties": {
                        "min_fen": {"type": "integer"},
                        "max_fen": {"type": "integer"},
                        "currency": {"type": "string"},
                        "model": {"type": "string", "enum": ["outcome", "metered"]},
                        "template": {"type": ["string", "null"]},
                        "basis": {"type": "string"},
                        "breakdown": {"type": "array", "items": {"type": "object"}}
                    },
                    "required": ["min_fen", "max_fen", "currency", "model", "basis"]
                }),
            ),
        };
        let mut definition = Tool::host(name, provider, description, input, Some(output));
        definition.title = Some(title.to_string());
        definition.annotations = ToolAnnotations {
            read_only_hint: kind != Kind::RunTask,
            destructive_hint: false,
            idempotent_hint: kind == Kind::Quote,
            open_world_hint: kind == Kind::RunTask,
        };
        let mut policy = Policy::default_for(provider);
        policy.limits.timeout = match kind {
            // Longer than the task threshold: runs become MCP tasks.
            Kind::RunTask | Kind::StreamTrace => run_timeout + Duration::from_secs(60),
            Kind::Quote => Duration::from_secs(30),
        };
        AgentTool {
            swarm,
            kind,
            definition,
            policy: Arc::new(policy),
        }
    }

    async fn run(&self, args: &Value, ctx: CallContext) -> ToolOutcome {
        let started = Instant::now();
        let result = match self.kind {
            Kind::RunTask => self.run_task(args, ctx).await,
            Kind::StreamTrace => self.stream_trace(args, ctx).await,
            Kind::Quote => self.quote(args, ctx).await,
        };
        ToolOutcome {
            tool: self.definition.name.clone(),
            plugin: self.definition.plugin.clone(),
            result,
            meters: Meters {
                wall: started.elapsed(),
                ..Meters::default()
            },
            stdout: Captured::default(),
            stderr: Captured::default(),
        }
    }

    async fn tenant(&self, ctx: &CallContext) -> Result<UserId, CallFailure> {
        match ctx.user_id {
            Some(u) => Ok(u),
            None => self.swarm.store().local_user().await.map_err(|e| {
                tool_error(
                    format!("the local user cannot be set up: {e}"),
                    "store_error",
                )
            }),
        }
    }

    async fn run_task(&self, args: &Value, ctx: CallContext) -> Result<Value, CallFailure> {
        let map = object(args)?;
        let task = required_string(map, "task")?;
        let project_id = optional_uuid(map, "project_id")?.or(ctx.project_id);
        let template = optional_template(map)?;
        let inputs = match map.get("inputs") {
            None | Some(Value::Null) => json!({}),
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => return Err(bad("`inputs` must be a JSON object")),
        };
        let budget_fen = match map.get("budget_fen") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_i64()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| bad("`budget_fen` must be a whole number of fen, 0 or more"))?,
            ),
        };
        let tenant = self.tenant(&ctx).await?;
        let client_llm = ctx
            .client
            .clone()
            .filter(|c| c.can_sample())
            .map(Llm::sampling);
        let request = RunRequest {
            task,
            project_id,
            template,
            inputs,
            budget_fen,
        };
        let id = self
            .swarm
            .start(tenant, request, client_llm)
            .await
            .map_err(agent_failure)?;
        if let Some(progress) = &ctx.progress {
            progress(0.0, format!("run {id} started"));
        }
        // Progress follows the trace; the call ends with the run.
        let max_steps = f64::from(self.swarm.graph().max_steps.max(1));
        let progress = ctx.progress.clone();
        let mut steps = 0.0;
        let follow = self
            .swarm
            .follow(tenant, id, 0, &ctx.cancel, |e| {
                if let Some(p) = &progress {
                    if e.kind == "step" {
                        steps += 1.0;
                    }
                    if matches!(e.kind.as_str(), "step" | "handoff" | "finished" | "error") {
                        p((steps / max_steps).min(0.99), summarize(e));
                    }
                }
            })
            .await;
        if let Err(e) = follow {
            tracing::warn!(run = %id, "following the run failed: {e}");
        }
        if ctx.cancel.is_cancelled() {
            // The client gave up on the call (closed the stream, cancelled
            // the request or the task): the run stops too.
            let _ = self.swarm.cancel(tenant, id).await;
        }
        let run = self
            .swarm
            .wait(tenant, id, &tokio_util::sync::CancellationToken::new())
            .await
            .map_err(agent_failure)?;
        let value = json!({
            "run_id": id.to_string(),
            "status": run.status.as_str(),
            "report": run.report.map(bounded_report),
            "error": run.error,
            "steps": run.steps,
            "cost_fen": run.cost_fen,
            "input_tokens": run.input_tokens,
            "output_tokens": run.output_tokens,
        });
        match run.status {
            RunStatus::Succeeded => Ok(value),
            RunStatus::Cancelled => Err(CallFailure::Failure(Failure::Cancelled)),
            _ => Err(CallFailure::ToolError {
                message: format!(
                    "run {id} {}: {}",
                    run.status.as_str(),
                    run.error.as_deref().unwrap_or("no reason recorded")
                ),
                detail: value.clone(),
                class: "tool_error",
                partial: Some(value),
            }),
        }
    }

    async fn stream_trace(&self, args: &Value, ctx: CallContext) -> Result<Value, CallFailure> {
        let map = object(args)?;
        let id = optional_uuid(map, "run_id")?.ok_or_else(|| bad("`run_id` is required"))?;
        let after = match map.get("after_seq") {
            None | Some(Value::Null) => 0,
            Some(v) => v
                .as_i64()
                .filter(|n| *n >= 0)
                .ok_or_else(|| bad("`after_seq` must be a whole number, 0 or more"))?,
        };
        let follow = match map.get("follow") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(bad("`follow` must be true or false")),
        };
        let tenant = self.tenant(&ctx).await?;
        let stop = if follow {
            ctx.cancel.clone()
        } else {
            let t = tokio_util::sync::CancellationToken::new();
            t.cancel();
            t
        };
        let progress = ctx.progress.clone();
        let mut n = 0.0;
        let events = self
            .swarm
            .follow(tenant, id, after, &stop, |e| {
                if let Some(p) = &progress {
                    n += 1.0;
                    p(n / (n + 1.0), serde_json::to_string(e).unwrap_or_default());
                }
            })
            .await
            .map_err(agent_failure)?;
        let run = self.swarm.run(tenant, id).await.map_err(agent_failure)?;
        let (events, complete, last_seq) = bounded(&events);
        Ok(json!({
            "run_id": id.to_string(),
            "status": run.status.as_str(),
            "events": events,
            "complete": complete,
            "last_seq": last_seq,
        }))
    }

    async fn quote(&self, args: &Value, ctx: CallContext) -> Result<Value, CallFailure> {
        let map = object(args)?;
        let task = required_string(map, "task")?;
        let inputs = match map.get("inputs") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(bad("`inputs` must be a JSON object")),
        };
        let template = optional_template(map)?
            .and_then(|t| Template::from_name(&t))
            .or_else(|| Template::recognise(&task).map(|(t, _)| t));
        let tenant = self.tenant(&ctx).await?;
        super::quote::quote(&self.swarm, tenant, template, &inputs)
            .await
            .map_err(|message| tool_error(message, "tool_error"))
    }
}

impl HostTool for AgentTool {
    fn definition(&self) -> &Tool {
        &self.definition
    }

    fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    fn call<'a>(
        &'a self,
        args: &'a Value,
        ctx: CallContext,
    ) -> Pin<Box<dyn Future<Output = ToolOutcome> + Send + 'a>> {
        Box::pin(self.run(args, ctx))
    }
}

/// The most bytes of events one `stream_trace` result carries: clients cap
/// a message (the Python SDK at 1 MiB per SSE event), and a result carries
/// its structured content twice (as JSON and as its text rendering).
const MAX_TRACE_RESULT_BYTES: usize = 320 << 10;
/// Payload values larger than this are elided in `stream_trace` results
/// (the progress notifications carry each event whole, as stored).
const MAX_TRACE_VALUE_BYTES: usize = 4 << 10;

/// The events as JSON within [`MAX_TRACE_RESULT_BYTES`]: large payload
/// values elided, and the list cut short when it is still too large.
/// Returns (events, whether all were included, the last included seq).
fn bounded(events: &[bioai_store::RunEvent]) -> (Vec<Value>, bool, i64) {
    let mut out = Vec::new();
    let mut used = 0;
    let mut last = 0;
    for e in events {
        let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
        if let Some(Value::Object(payload)) = v.get_mut("payload") {
            for value in payload.values_mut() {
                let len = value.to_string().len();
                if len > MAX_TRACE_VALUE_BYTES {
                    *value = json!({"omitted": format!(
                        "{len} bytes; follow the run with a progress token to receive events whole"
                    )});
                }
            }
        }
        let len = v.to_string().len();
        if used + len > MAX_TRACE_RESULT_BYTES {
            return (out, false, last);
        }
        used += len;
        last = e.seq;
        out.push(v);
    }
    (out, true, last)
}

/// The report within [`MAX_TRACE_RESULT_BYTES`]: when it is larger, the
/// large values inside its findings are elided (the stored report, the
/// trace and the workspace files keep them).
fn bounded_report(mut report: Value) -> Value {
    if report.to_string().len() <= MAX_TRACE_RESULT_BYTES {
        return report;
    }
    if let Some(Value::Array(findings)) = report.get_mut("findings") {
        for finding in findings.iter_mut() {
            if let Value::Object(f) = finding {
                for value in f.values_mut() {
                    let len = value.to_string().len();
                    if len > MAX_TRACE_VALUE_BYTES {
                        *value = json!({"omitted": format!(
                            "{len} bytes; see the run's trace and workspace files"
                        )});
                    }
                }
            }
        }
    }
    if let Value::Object(m) = &mut report {
        m.insert("findings_elided".into(), Value::Bool(true));
    }
    report
}

/// A one-line summary of a trace event for progress messages.
fn summarize(e: &bioai_store::RunEvent) -> String {
    let role = e.role.as_deref().unwrap_or("run");
    let p = &e.payload;
    match e.kind.as_str() {
        "step" => format!("{role}: step {}", p["step"]),
        "handoff" => format!(
            "{role} -> {}: {} ({})",
            p["to"].as_str().unwrap_or("?"),
            p["outcome"].as_str().unwrap_or("?"),
            p["reason"].as_str().unwrap_or("")
        ),
        "error" => format!("{role}: error: {}", p["message"].as_str().unwrap_or("?")),
        "finished" => format!("run {}", p["status"].as_str().unwrap_or("?")),
        other => format!("{role}: {other}"),
    }
}

fn bad(message: impl Into<String>) -> CallFailure {
    CallFailure::Failure(Failure::BadArguments {
        message: message.into(),
    })
}

fn tool_error(message: String, class: &'static str) -> CallFailure {
    CallFailure::ToolError {
        detail: Value::String(message.clone()),
        message,
        class,
        partial: None,
    }
}

fn agent_failure(e: AgentError) -> CallFailure {
    match e {
        AgentError::BadRequest(m) => bad(m),
        AgentError::Refused(m) => tool_error(m, "refused"),
        other => tool_error(other.to_string(), "tool_error"),
    }
}

fn object(args: &Value) -> Result<&Map<String, Value>, CallFailure> {
    args.as_object()
        .ok_or_else(|| bad("the arguments must be a JSON object"))
}

fn required_string(map: &Map<String, Value>, key: &str) -> Result<String, CallFailure> {
    match map.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(bad(format!("`{key}` must be a string"))),
        None => Err(bad(format!("`{key}` is required"))),
    }
}

fn optional_uuid(map: &Map<String, Value>, key: &str) -> Result<Option<Uuid>, CallFailure> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Uuid::parse_str(s).map(Some).map_err(|_| {
            bad(format!(
                "`{key}` must be a UUID, e.g. 0192f0c1-...; got `{s}`"
            ))
        }),
        Some(_) => Err(bad(format!("`{key}` must be a UUID string"))),
    }
}

fn optional_template(map: &Map<String, Value>) -> Result<Option<String>, CallFailure> {
    match map.get("template") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => match Template::from_name(s) {
            Some(t) => Ok(Some(t.name().to_string())),
            None => Err(bad(format!(
                "`template`: `{s}` is not a built-in template; use one of {}",
                bioai_roles::plan::TEMPLATE_NAMES.join(", ")
            ))),
        },
        Some(_) => Err(bad("`template` must be a string or null")),
    }
}
