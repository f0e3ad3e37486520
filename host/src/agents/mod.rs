//! Multi-agent runs: the swarm graph engine, the host side of the
//! `bioai:plugin/agent` import that roles use, LLM providers and know-how
//! retrieval.
//!
//! A run is a task driven through a [`graph::Graph`] of role components
//! (planner -> retriever -> coder -> evaluator -> reporter by default) by
//! the [`swarm::Swarm`]. Roles reach the world only through the host
//! imports served by `step` (LLM, tools, know-how search, workspace files,
//! trace events), each checked against the role's policy. The MCP tools
//! `bio_agent.run_task`, `bio_agent.stream_trace` and `billing.get_quote`
//! are in [`tools`].

pub mod biosafety;
pub mod cost;
pub mod graph;
mod journal;
pub mod knowhow;
pub mod llm;
mod quote;
pub mod state;
mod step;
pub mod swarm;
pub mod tools;

pub use graph::Graph;
pub use swarm::{AgentError, RunRequest, Swarm, SwarmConfig};
