//! # bioai-roles: the built-in agent roles' logic
//!
//! The five role components (`plugins/planner`, `retriever`, `coder`,
//! `evaluator`, `reporter`) are thin: each implements
//! `bioai_sdk::agent::Guest` by calling [`run`] with its [`Role`]. Everything
//! else is here, testable natively with a fake [`Host`]:
//!
//! - [`plan`]: the plan JSON ([`Plan`](plan::Plan)) and the built-in task
//!   templates ([`Template`](plan::Template)): recognition from the task's
//!   keywords and plan building from the run's inputs;
//! - [`findings`]: the finding JSON shapes;
//! - one module per role ([`planner`], [`retriever`], [`coder`],
//!   [`evaluator`], [`reporter`]) and [`render`] (the reports' tables);
//! - [`host`]: the `agent` import as a trait, with [`host::call`], a typed
//!   `call_tool<A: Serialize, R: DeserializeOwned>`.
//!
//! The default graph: planner -done-> retriever -done-> coder -done->
//! evaluator; evaluator -accept-> reporter, -reject-> coder (retries);
//! reporter returns `final`.

pub mod coder;
pub mod evaluator;
pub mod findings;
pub mod host;
pub mod llm;
pub mod plan;
pub mod planner;
pub mod render;
pub mod reporter;
pub mod retriever;
pub mod state;

#[cfg(test)]
mod tests;

pub use host::{Host, SdkHost, ToolFailure};
pub use state::State;

use bioai_sdk::agent::{Handoff, Report, RunState, StepResult};
use serde_json::Value;

/// The built-in roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Picks a template or asks the LLM for a plan.
    Planner,
    /// Searches know-how and documents for background.
    Retriever,
    /// Runs the plan's tool steps.
    Coder,
    /// Accepts or rejects the results.
    Evaluator,
    /// Writes the report.
    Reporter,
}

/// What a role's step produced (before conversion to WIT).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Hand the run on with an outcome label.
    Handoff {
        /// `done`, `accept`, `reject`.
        outcome: String,
        /// One sentence.
        reason: String,
        /// The updated state.
        state: Box<State>,
    },
    /// The final report.
    Final(Box<reporter::FinalReport>),
    /// Give up.
    Fail(String),
}

impl Outcome {
    /// A handoff.
    pub fn handoff(outcome: &str, reason: String, state: State) -> Outcome {
        Outcome::Handoff {
            outcome: outcome.into(),
            reason,
            state: Box::new(state),
        }
    }

    /// The outcome label of a handoff, `final` or `fail`.
    pub fn label(&self) -> &str {
        match self {
            Outcome::Handoff { outcome, .. } => outcome,
            Outcome::Final(_) => "final",
            Outcome::Fail(_) => "fail",
        }
    }
}

/// Adds a `reasoning` trace event (a short, safe summary of a decision).
pub fn trace_reasoning(host: &mut dyn Host, summary: &str, detail: &Value) {
    host.trace("reasoning", summary, &detail.to_string());
}

/// Runs one step of `role` on a parsed state.
pub fn step(role: Role, host: &mut dyn Host, state: State) -> Outcome {
    match role {
        Role::Planner => planner::step(host, state),
        Role::Retriever => retriever::step(host, state),
        Role::Coder => coder::step(host, state),
        Role::Evaluator => evaluator::step(host, state),
        Role::Reporter => match reporter::step(host, state) {
            Ok(r) => Outcome::Final(Box::new(r)),
            Err(e) => Outcome::Fail(e),
        },
    }
}

/// Runs one step of `role` on the WIT state with the real host: what the
/// role components' `step` export does.
pub fn run(role: Role, state: RunState) -> StepResult {
    let state = match State::from_wit(state) {
        Ok(s) => s,
        Err(e) => return StepResult::Fail(e),
    };
    to_wit(step(role, &mut SdkHost, state))
}

/// Converts an [`Outcome`] to the WIT step result.
pub fn to_wit(outcome: Outcome) -> StepResult {
    match outcome {
        Outcome::Handoff {
            outcome,
            reason,
            state,
        } => StepResult::Handoff(Handoff {
            outcome,
            reason,
            state: state.into_wit(),
        }),
        Outcome::Final(r) => {
            let r = *r;
            StepResult::Final(Report {
                markdown: r.markdown,
                findings: Value::Array(r.state.findings).to_string(),
                artifacts: r
                    .state
                    .artifacts
                    .into_iter()
                    .map(state::artifact_to_wit)
                    .collect(),
                sources: r
                    .state
                    .sources
                    .into_iter()
                    .map(state::source_to_wit)
                    .collect(),
            })
        }
        Outcome::Fail(m) => StepResult::Fail(m),
    }
}
