//! The run state as serde types, converted from and to the WIT
//! `run-state` (whose `inputs`, `plan` and `findings` are JSON text).

use crate::plan::Plan;
use bioai_sdk::agent;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A file the run wrote (WIT `artifact`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactInfo {
    /// Path relative to the run's workspace directory.
    pub path: String,
    /// Media type.
    pub media_type: String,
    /// What it holds.
    pub description: String,
}

/// Where a finding comes from (WIT `source`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Human-readable title.
    pub title: String,
    /// URI (`bioai-knowhow://...`, `bioai-tool://crispr.design_guides`, ...).
    pub uri: String,
    /// Licence of quoted text.
    pub licence: Option<String>,
}

/// The run state with its JSON fields parsed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    /// The run's id.
    pub run_id: String,
    /// The task as the user wrote it.
    pub task: String,
    /// The built-in template, when named or recognised.
    pub template: Option<String>,
    /// The inputs object (`{}` when the host passed none).
    pub inputs: Map<String, Value>,
    /// The plan, once the planner ran.
    pub plan: Option<Plan>,
    /// The findings so far (see [`crate::findings`]).
    pub findings: Vec<Value>,
    /// Files written so far.
    pub artifacts: Vec<ArtifactInfo>,
    /// Sources so far.
    pub sources: Vec<SourceInfo>,
    /// One line per finished step.
    pub history: Vec<String>,
    /// Re-entries of this role through a retry edge.
    pub attempt: u32,
    /// What the previous role said to this one.
    pub feedback: Option<String>,
}

impl State {
    /// A state for `task` with `inputs` (for tests and examples).
    pub fn new(task: &str, inputs: Value) -> State {
        State {
            run_id: "run".into(),
            task: task.into(),
            inputs: match inputs {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            ..State::default()
        }
    }

    /// Adds a source unless one with the same URI is already listed.
    pub fn add_source(&mut self, source: SourceInfo) {
        if !self.sources.iter().any(|s| s.uri == source.uri) {
            self.sources.push(source);
        }
    }

    /// Parses the WIT run state. Malformed `inputs` or `findings` are
    /// errors; an empty or `null` plan is no plan.
    pub fn from_wit(s: agent::RunState) -> Result<State, String> {
        let inputs = match s.inputs.trim() {
            "" | "null" => Map::new(),
            text => match serde_json::from_str(text) {
                Ok(Value::Object(m)) => m,
                Ok(_) => return Err("the run's inputs must be a JSON object".into()),
                Err(e) => return Err(format!("the run's inputs are not valid JSON: {e}")),
            },
        };
        let plan = match s.plan.trim() {
            "" | "null" => None,
            text => Some(
                serde_json::from_str(text)
                    .map_err(|e| format!("the run's plan is not a valid plan: {e}"))?,
            ),
        };
        let findings = match s.findings.trim() {
            "" | "null" => Vec::new(),
            text => serde_json::from_str(text)
                .map_err(|e| format!("the run's findings are not a JSON array: {e}"))?,
        };
        Ok(State {
            run_id: s.run_id,
            task: s.task,
            template: s.template.filter(|t| !t.trim().is_empty()),
            inputs,
            plan,
            findings,
            artifacts: s
                .artifacts
                .into_iter()
                .map(|a| ArtifactInfo {
                    path: a.path,
                    media_type: a.media_type,
                    description: a.description,
                })
                .collect(),
            sources: s.sources.into_iter().map(source_from_wit).collect(),
            history: s.history,
            attempt: s.attempt,
            feedback: s.feedback,
        })
    }

    /// The WIT run state.
    pub fn into_wit(self) -> agent::RunState {
        agent::RunState {
            run_id: self.run_id,
            task: self.task,
            template: self.template,
            inputs: Value::Object(self.inputs).to_string(),
            plan: serde_json::to_string(&self.plan).unwrap_or_else(|_| "null".into()),
            findings: Value::Array(self.findings).to_string(),
            artifacts: self.artifacts.into_iter().map(artifact_to_wit).collect(),
            sources: self.sources.into_iter().map(source_to_wit).collect(),
            history: self.history,
            attempt: self.attempt,
            feedback: self.feedback,
        }
    }
}

/// WIT `source` to [`SourceInfo`].
pub fn source_from_wit(s: agent::Source) -> SourceInfo {
    SourceInfo {
        title: s.title,
        uri: s.uri,
        licence: s.licence,
    }
}

/// [`SourceInfo`] to WIT `source`.
pub fn source_to_wit(s: SourceInfo) -> agent::Source {
    agent::Source {
        title: s.title,
        uri: s.uri,
        licence: s.licence,
    }
}

/// [`ArtifactInfo`] to WIT `artifact`.
pub fn artifact_to_wit(a: ArtifactInfo) -> agent::Artifact {
    agent::Artifact {
        path: a.path,
        media_type: a.media_type,
        description: a.description,
    }
}
