//! Findings: the JSON objects the roles add to the run state's `findings`.
//!
//! - a tool call: `{"step": "guides", "tool": "crispr.design_guides",
//!   "args": {...}, "result": {...}}`, or with `"error": {"message": ...,
//!   "class": ...}` instead of `result` when it failed; steps repeated with
//!   `for_each` add `"item": "<label>"`; a call the LLM repaired adds
//!   `"repaired": true`; `"attempt": n` is the coder's attempt;
//! - background from the retriever: `{"step": "background", "kind":
//!   "background", "query": ..., "passages": [{"title", "uri", "excerpt",
//!   "origin"}]}`;
//! - the evaluator's verdict: `{"step": "evaluation", "kind": "evaluation",
//!   "verdict": "accept" | "reject", "reason": ..., "by": "checks" | "llm"}`.

use crate::host::ToolFailure;
use serde_json::{Value, json};

/// A tool call's finding.
pub fn tool_finding(
    step: &str,
    item: Option<&str>,
    tool: &str,
    args: &Value,
    outcome: &Result<Value, ToolFailure>,
    attempt: u32,
) -> Value {
    let mut f = json!({"step": step, "tool": tool, "args": args, "attempt": attempt});
    if let Some(item) = item {
        f["item"] = json!(item);
    }
    match outcome {
        Ok(v) => f["result"] = v.clone(),
        Err(e) => f["error"] = json!({"message": e.message, "class": e.class}),
    }
    f
}

/// Whether `f` is a tool call's finding.
pub fn is_tool(f: &Value) -> bool {
    f.get("tool").is_some_and(Value::is_string)
}

/// The findings of step `step` (tool calls only), in order.
pub fn of_step<'a>(findings: &'a [Value], step: &str) -> impl Iterator<Item = &'a Value> {
    let step = step.to_string();
    findings
        .iter()
        .filter(move |f| is_tool(f) && f.get("step").and_then(Value::as_str) == Some(&step))
}

/// The result of the first successful call of `step`.
pub fn result_of<'a>(findings: &'a [Value], step: &str) -> Option<&'a Value> {
    of_step(findings, step).find_map(|f| f.get("result"))
}

/// The error message of the first failed call of `step`.
pub fn error_of<'a>(findings: &'a [Value], step: &str) -> Option<&'a str> {
    of_step(findings, step).find_map(|f| f.pointer("/error/message").and_then(Value::as_str))
}

/// The last evaluation finding.
pub fn evaluation(findings: &[Value]) -> Option<&Value> {
    findings
        .iter()
        .rev()
        .find(|f| f.get("kind").and_then(Value::as_str) == Some("evaluation"))
}

/// The findings without tool calls and evaluations (what the coder keeps
/// when it re-runs the plan).
pub fn without_tool_calls(findings: Vec<Value>) -> Vec<Value> {
    findings
        .into_iter()
        .filter(|f| !is_tool(f) && f.get("kind").and_then(Value::as_str) != Some("evaluation"))
        .collect()
}
