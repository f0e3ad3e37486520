//! The values of `bioai:plugin/agent-types` as the engine handles them (JSON
//! through `witjson`, so the field names are the WIT names in snake_case).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A file the run wrote into its workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// Relative to the run's workspace directory.
    pub path: String,
    /// Its media type.
    pub media_type: String,
    /// What it holds.
    pub description: String,
}

/// Where a finding comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    /// Title.
    pub title: String,
    /// URI.
    pub uri: String,
    /// Licence of quoted text.
    pub licence: Option<String>,
}

/// The state handed from role to role (`run-state`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// The run's id.
    pub run_id: String,
    /// The task as written.
    pub task: String,
    /// The task template, if any.
    pub template: Option<String>,
    /// The inputs: a JSON object as text.
    pub inputs: String,
    /// The plan: JSON text.
    pub plan: String,
    /// The findings: a JSON array as text.
    pub findings: String,
    /// Files written.
    pub artifacts: Vec<Artifact>,
    /// Sources.
    pub sources: Vec<SourceRef>,
    /// One line per finished step.
    pub history: Vec<String>,
    /// Re-entries of this role by a retry edge.
    pub attempt: u32,
    /// What the previous role said to this one.
    pub feedback: Option<String>,
}

impl RunState {
    /// The state a run starts with.
    pub fn initial(run_id: &str, task: &str, template: Option<&str>, inputs: &Value) -> Self {
        RunState {
            run_id: run_id.to_string(),
            task: task.to_string(),
            template: template.map(str::to_string),
            inputs: inputs.to_string(),
            plan: "null".to_string(),
            findings: "[]".to_string(),
            artifacts: Vec::new(),
            sources: Vec::new(),
            history: Vec::new(),
            attempt: 0,
            feedback: None,
        }
    }
}

/// The run's final result (`report`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Markdown for people.
    pub markdown: String,
    /// Structured findings: a JSON array as text.
    pub findings: String,
    /// Files produced.
    pub artifacts: Vec<Artifact>,
    /// Sources.
    pub sources: Vec<SourceRef>,
}

/// A handoff (`handoff`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    /// The outcome label the graph routes on.
    pub outcome: String,
    /// Why.
    pub reason: String,
    /// The updated state.
    pub state: RunState,
}

/// What a role's step returned (`step-result`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepResult {
    /// Pass the run on.
    Handoff(Handoff),
    /// Finish with a report.
    Final(Report),
    /// Give up.
    Fail(String),
}

/// What the engine persists after every step: the role state plus the
/// engine's own bookkeeping, so a restarted host resumes exactly here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Persisted {
    /// The state the next role receives.
    pub run: RunState,
    /// How many times each limited edge was taken ([`super::graph::Edge::key`]).
    #[serde(default)]
    pub edges: BTreeMap<String, u32>,
}
