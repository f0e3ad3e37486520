//! `sandbox.run_python` as a tool of the registry, so MCP clients and agents
//! call it like any plugin tool and its calls are recorded and billed.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bioai_policy::Policy;
use serde_json::Value;

use super::{ErrorKind, RunContext, RunOutcome, RunRequest, Sandbox, SandboxError};
use crate::registry::{CallContext, CallFailure, HostTool, Tool, ToolAnnotations, ToolOutcome};
use crate::runtime::{Captured, Failure, Meters};

/// The tool's name.
pub const TOOL_NAME: &str = "sandbox.run_python";

/// The URI scheme of kept output files (see [`super::OutputFile::uri`]).
pub const OUTPUT_SCHEME: &str = "bioai-sandbox://";

const DESCRIPTION: &str = "Run Python 3 code in a sandbox and return its stdout, stderr, \
the value of a final expression, the exception with traceback if it raised, the files it \
wrote to out/, and what it consumed. The code runs in CPython compiled to WebAssembly \
(the whole standard library and the bundled pure-Python packages are importable); code \
that needs native packages such as numpy, pandas, scipy or biopython runs in an OS sandbox \
if the operator enabled one. No network, no access outside /scratch (writable, deleted \
after the run) and /inputs (read-only). Each run starts fresh: nothing is kept between runs.";

/// The sandbox as a registry tool.
pub struct RunPython {
    sandbox: Arc<Sandbox>,
    policy: Arc<Policy>,
    definition: Tool,
}

impl RunPython {
    /// Wraps a sandbox; calls run under the sandbox's policy.
    pub fn new(sandbox: Arc<Sandbox>) -> Self {
        let policy = Arc::new(sandbox.settings().policy.clone());
        let mut definition = Tool::host(
            TOOL_NAME,
            "sandbox",
            DESCRIPTION,
            Sandbox::input_schema(),
            Some(Sandbox::output_schema()),
        );
        definition.title = Some("Run Python in a sandbox".to_string());
        definition.annotations = ToolAnnotations {
            read_only_hint: true,
            destructive_hint: false,
            idempotent_hint: false,
            open_world_hint: false,
        };
        Self {
            sandbox,
            policy,
            definition,
        }
    }

    /// The sandbox behind the tool.
    pub fn sandbox(&self) -> &Arc<Sandbox> {
        &self.sandbox
    }

    async fn run(&self, args: &Value, ctx: CallContext) -> ToolOutcome {
        let mut outcome = ToolOutcome {
            tool: TOOL_NAME.to_string(),
            plugin: "sandbox".to_string(),
            result: Err(CallFailure::Failure(Failure::Cancelled)),
            meters: Meters::default(),
            stdout: Captured::default(),
            stderr: Captured::default(),
        };
        let request = match parse_request(args) {
            Ok(r) => r,
            Err(message) => {
                outcome.result = Err(Failure::BadArguments { message }.into());
                return outcome;
            }
        };
        let run_ctx = RunContext {
            workspace: ctx.workspace.clone(),
            cancel: ctx.cancel.clone(),
        };
        let started = std::time::Instant::now();
        outcome.result = match self.sandbox.run(&request, &run_ctx).await {
            Err(e) => {
                outcome.meters.wall = started.elapsed();
                Err(refused(e))
            }
            Ok(run) => {
                outcome.meters = meters(&run);
                finished(run)
            }
        };
        outcome
    }
}

impl HostTool for RunPython {
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

    fn resource_file(&self, uri: &str) -> Option<(PathBuf, String)> {
        let rest = uri.strip_prefix(OUTPUT_SCHEME)?;
        let (run, name) = rest.split_once('/')?;
        let path = self.sandbox.output_path(run, name)?;
        Some((path, super::media_type(name).to_string()))
    }
}

/// Parses the arguments field by field, so an error names the field.
fn parse_request(args: &Value) -> Result<RunRequest, String> {
    let Value::Object(map) = args else {
        return Err(format!("arguments must be an object, got {args}"));
    };
    let mut request = RunRequest::new(String::new());
    let mut has_code = false;
    for (key, value) in map {
        let field = |e: serde_json::Error| format!("`{key}`: {e}");
        match key.as_str() {
            "code" => {
                request.code = serde_json::from_value(value.clone()).map_err(field)?;
                has_code = true;
            }
            "requirements" => {
                request.requirements = serde_json::from_value(value.clone()).map_err(field)?;
            }
            "input_files" => {
                request.input_files = serde_json::from_value(value.clone()).map_err(|e| {
                    format!(
                        "`input_files`: {e}; each item is {{\"path\": \"<relative path in the workspace>\"}} or {{\"name\": \"<file name>\", \"content\": \"<text>\"}}"
                    )
                })?;
            }
            "timeout_s" => {
                request.timeout_s = serde_json::from_value(value.clone()).map_err(field)?;
            }
            other => {
                return Err(format!(
                    "unknown argument `{other}`; the arguments are code, requirements, input_files and timeout_s"
                ));
            }
        }
    }
    if !has_code {
        return Err("`code` is required: the Python source to run".to_string());
    }
    Ok(request)
}

/// A run that could not start: bad arguments, unusable inputs, packages no
/// enabled engine has, or a sandbox set-up problem.
fn refused(e: SandboxError) -> CallFailure {
    match e {
        SandboxError::BadRequest(m) => Failure::BadArguments { message: m }.into(),
        SandboxError::BadInput(m) => Failure::BadArguments {
            message: format!("input_files: {m}"),
        }
        .into(),
        other => {
            let class = match &other {
                SandboxError::NeedsNative { .. } | SandboxError::MissingOnFallback { .. } => {
                    "needs_native"
                }
                SandboxError::Busy(_) => "busy",
                _ => "sandbox_setup",
            };
            CallFailure::ToolError {
                message: other.to_string(),
                detail: Value::Null,
                class,
                partial: None,
            }
        }
    }
}

/// A run that started: success, or an error result carrying the whole
/// outcome (stdout, traceback, files, meters) so nothing the run produced
/// is lost.
fn finished(run: RunOutcome) -> Result<Value, CallFailure> {
    let value = serde_json::to_value(&run).unwrap_or(Value::Null);
    if run.is_success() {
        return Ok(value);
    }
    let (class, mut message) = match (&run.error, &run.exception) {
        (Some(e), _) => (error_class(e.kind), e.message.clone()),
        (None, Some(ex)) => ("python_exception", ex.traceback.trim_end().to_string()),
        (None, None) => ("python_exception", String::new()),
    };
    if message.is_empty()
        && let Some(ex) = &run.exception
    {
        message = format!("{}: {}", ex.type_name, ex.message);
    }
    for (label, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        if !text.is_empty() {
            message.push_str(&format!("\n\n{label}:\n{}", tail(text, 4096)));
        }
    }
    Err(CallFailure::ToolError {
        message,
        detail: value.clone(),
        class,
        partial: Some(value),
    })
}

/// The same class names as the runtime's failures where they correspond.
fn error_class(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::OutOfFuel => "out_of_fuel",
        ErrorKind::CpuTime => "cpu_time",
        ErrorKind::MemoryLimit => "memory_limit",
        ErrorKind::Timeout => "deadline",
        ErrorKind::OutputLimit => "output_limit",
        ErrorKind::ProcessLimit => "process_limit",
        ErrorKind::Cancelled => "cancelled",
        ErrorKind::Denied => "denied",
        ErrorKind::Crashed => "crashed",
    }
}

/// The last `max` bytes of `text`, on a character boundary.
fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// The registry's meters from a run's: fuel on the component engine; wall
/// time and peak memory on both (CPU time stays in the structured result).
fn meters(run: &RunOutcome) -> Meters {
    let m = &run.meters;
    Meters {
        fuel: m.fuel.unwrap_or(0),
        peak_memory_bytes: m.peak_memory_bytes.unwrap_or(0),
        wall: Duration::from_micros(m.wall_us),
        net_requests: m.net_requests,
        net_bytes_out: 0,
        net_bytes_in: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_char_boundaries() {
        assert_eq!(tail("abc", 10), "abc");
        assert_eq!(tail("aé", 1), "");
        assert_eq!(tail("aéb", 2), "b");
        assert_eq!(tail("aéb", 3), "éb");
    }

    #[test]
    fn bad_arguments_name_the_field() {
        let err = |v| parse_request(&v).expect_err("bad arguments");
        assert!(err(serde_json::json!({"code": 1})).starts_with("`code`:"));
        assert!(err(serde_json::json!({"code": "1", "cod": 2})).contains("`cod`"));
        assert!(err(serde_json::json!({"requirements": []})).contains("`code` is required"));
        assert!(err(serde_json::json!({"code": "", "timeout_s": "x"})).starts_with("`timeout_s`"));
        assert!(
            err(serde_json::json!({"code": "", "input_files": [{"x": 1}]}))
                .starts_with("`input_files`")
        );
        let ok = parse_request(&serde_json::json!({"code": "1", "requirements": ["attrs"]}))
            .expect("valid");
        assert_eq!(ok.requirements, ["attrs"]);
        assert_eq!(ok.timeout_s, 30.0);
    }
}
