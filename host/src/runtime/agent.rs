//! The `bioai:plugin/agent` import: what an agent role may ask of the run it
//! is a step of (LLM completions, tool calls, know-how search, workspace
//! files, trace events).
//!
//! The runtime knows nothing of runs, graphs or LLMs: whoever runs a role's
//! step hands the call a [`RoleHandle`] that serves these requests (the
//! swarm engine in `crate::agents` does, checking the role's policy).
//! Without one, as in an ordinary tool call, every request fails at once
//! with a message. A request in flight ends with its call: the step's
//! deadline and cancellation drop it like any other host call.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::bindings::bioai::plugin::agent;
use super::call::CallState;

pub use super::bindings::bioai::plugin::agent_types::Source;
pub use agent::{
    Completion, CompletionRequest, Message, Origin, Passage, Speaker, ToolCall, ToolError,
    ToolSpec, Usage,
};

/// The answer to one role request.
pub type RoleFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Serves a role's `bioai:plugin/agent` requests for one step of a run.
pub trait RoleHost: Send + Sync {
    /// Whether the run has an LLM the role may use.
    fn llm_available(&self) -> bool;
    /// One LLM completion, metered and billed to the run.
    fn complete(&self, request: CompletionRequest) -> RoleFuture<Result<Completion, String>>;
    /// The tools the role may call.
    fn list_tools(&self) -> Vec<ToolSpec>;
    /// Calls a tool with JSON arguments; its structured result as JSON text.
    fn call_tool(&self, name: String, arguments: String) -> RoleFuture<Result<String, ToolError>>;
    /// Searches the know-how library and the user's documents.
    fn search(&self, query: String, limit: u32) -> RoleFuture<Result<Vec<Passage>, String>>;
    /// Reads a file of the run's workspace.
    fn read_file(&self, path: String) -> RoleFuture<Result<Vec<u8>, String>>;
    /// Writes a file into the run's workspace.
    fn write_file(&self, path: String, data: Vec<u8>) -> RoleFuture<Result<(), String>>;
    /// Adds an event to the run's trace.
    fn trace(&self, kind: String, summary: String, detail: String) -> RoleFuture<()>;
}

/// A step's way to its run, shared by the step's host imports.
pub type RoleHandle = Arc<dyn RoleHost>;

const NOT_A_ROLE: &str = "bioai:plugin/agent is only available to agent roles running a step \
    of an agent run; this call is an ordinary tool call";

impl agent::Host for CallState {
    async fn llm_available(&mut self) -> bool {
        self.role.as_ref().is_some_and(|r| r.llm_available())
    }

    async fn complete(&mut self, request: CompletionRequest) -> Result<Completion, String> {
        match self.role.clone() {
            Some(role) => role.complete(request).await,
            None => Err(NOT_A_ROLE.to_string()),
        }
    }

    async fn list_tools(&mut self) -> Vec<ToolSpec> {
        self.role
            .as_ref()
            .map(|r| r.list_tools())
            .unwrap_or_default()
    }

    async fn call_tool(&mut self, name: String, arguments: String) -> Result<String, ToolError> {
        match self.role.clone() {
            Some(role) => role.call_tool(name, arguments).await,
            None => Err(ToolError {
                message: NOT_A_ROLE.to_string(),
                class: "denied".to_string(),
            }),
        }
    }

    async fn search(&mut self, query: String, limit: u32) -> Result<Vec<Passage>, String> {
        match self.role.clone() {
            Some(role) => role.search(query, limit).await,
            None => Err(NOT_A_ROLE.to_string()),
        }
    }

    async fn read_file(&mut self, path: String) -> Result<Vec<u8>, String> {
        match self.role.clone() {
            Some(role) => role.read_file(path).await,
            None => Err(NOT_A_ROLE.to_string()),
        }
    }

    async fn write_file(&mut self, path: String, data: Vec<u8>) -> Result<(), String> {
        match self.role.clone() {
            Some(role) => role.write_file(path, data).await,
            None => Err(NOT_A_ROLE.to_string()),
        }
    }

    async fn trace(&mut self, kind: String, summary: String, detail: String) {
        if let Some(role) = self.role.clone() {
            role.trace(kind, summary, detail).await;
        }
    }
}

impl super::bindings::bioai::plugin::agent_types::Host for CallState {}
