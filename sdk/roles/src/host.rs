//! What a role asks of the host, as a trait: [`SdkHost`] is the real
//! `bioai:plugin/agent` import; tests use a fake that answers tool calls
//! with recorded results.

use bioai_sdk::agent::{self, Completion, CompletionRequest, Passage, ToolSpec};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why a tool call gave no result (WIT `tool-error`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolFailure {
    /// What went wrong.
    pub message: String,
    /// The failure class (`tool_error`, `denied`, `bad_arguments`, ...).
    pub class: String,
}

impl ToolFailure {
    /// A failure of class `class`.
    pub fn new(class: &str, message: impl Into<String>) -> ToolFailure {
        ToolFailure {
            message: message.into(),
            class: class.into(),
        }
    }
}

/// The `agent` import, as the roles use it.
pub trait Host {
    /// Whether the run has an LLM.
    fn llm_available(&mut self) -> bool;
    /// Asks the run's LLM.
    fn complete(&mut self, request: &CompletionRequest) -> Result<Completion, String>;
    /// The tools the role may call.
    fn list_tools(&mut self) -> Vec<ToolSpec>;
    /// Calls a tool with a JSON object of arguments; returns its JSON result.
    fn call_tool(&mut self, name: &str, args: &Value) -> Result<Value, ToolFailure>;
    /// Searches know-how and project documents.
    fn search(&mut self, query: &str, limit: u32) -> Result<Vec<Passage>, String>;
    /// Writes a workspace file.
    fn write_file(&mut self, path: &str, data: &[u8]) -> Result<(), String>;
    /// Adds a trace event.
    fn trace(&mut self, kind: &str, summary: &str, detail: &str);
}

/// Calls a tool with typed arguments and a typed result.
pub fn call<A: Serialize, R: DeserializeOwned>(
    host: &mut dyn Host,
    name: &str,
    args: &A,
) -> Result<R, ToolFailure> {
    let args = serde_json::to_value(args)
        .map_err(|e| ToolFailure::new("bad_arguments", format!("cannot encode arguments: {e}")))?;
    let value = host.call_tool(name, &args)?;
    serde_json::from_value(value)
        .map_err(|e| ToolFailure::new("bad_result", format!("unexpected result from {name}: {e}")))
}

/// The real host: `bioai_sdk::agent`'s functions.
pub struct SdkHost;

impl Host for SdkHost {
    fn llm_available(&mut self) -> bool {
        agent::llm_available()
    }

    fn complete(&mut self, request: &CompletionRequest) -> Result<Completion, String> {
        agent::complete(request)
    }

    fn list_tools(&mut self) -> Vec<ToolSpec> {
        agent::list_tools()
    }

    fn call_tool(&mut self, name: &str, args: &Value) -> Result<Value, ToolFailure> {
        let text = agent::call_tool(name, &args.to_string()).map_err(|e| ToolFailure {
            message: e.message,
            class: e.class,
        })?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| {
            ToolFailure::new("bad_result", format!("{name} returned invalid JSON: {e}"))
        })
    }

    fn search(&mut self, query: &str, limit: u32) -> Result<Vec<Passage>, String> {
        agent::search(query, limit)
    }

    fn write_file(&mut self, path: &str, data: &[u8]) -> Result<(), String> {
        agent::write_file(path, data)
    }

    fn trace(&mut self, kind: &str, summary: &str, detail: &str) {
        agent::trace(kind, summary, detail)
    }
}
