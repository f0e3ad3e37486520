//! The coder: runs the plan's tool steps through `call-tool` and records
//! every call as a finding. On a retry (the evaluator rejected) it re-runs
//! the plan with the template's adjusted arguments. With an LLM it may
//! repair a failed step with tool calling (at most [`REPAIR_ROUNDS`]
//! rounds).

use crate::findings;
use crate::host::{Host, ToolFailure};
use crate::llm;
use crate::plan::{Step, Template, retry_args};
use crate::retriever::tool_source;
use crate::state::State;
use crate::{Outcome, trace_reasoning};
use bioai_sdk::agent::{CompletionRequest, Message, Speaker, message};
use serde_json::{Value, json};

/// LLM rounds to repair one failed step.
pub const REPAIR_ROUNDS: usize = 3;
/// At most this many items in a `for_each` step.
pub const MAX_ITEMS: usize = 200;

/// Runs the coder.
pub fn step(host: &mut dyn Host, mut state: State) -> Outcome {
    let Some(plan) = state.plan.clone() else {
        return Outcome::Fail(
            "the coder found no plan in the run state (the planner did not run)".into(),
        );
    };
    let template = plan.template.as_deref().and_then(Template::from_name);
    let attempt = state.attempt;
    let mut findings = findings::without_tool_calls(std::mem::take(&mut state.findings));
    let first_new = findings.len();
    let llm = host.llm_available();
    let (mut ok, mut failed, mut repaired) = (0, 0, 0);
    for step in &plan.steps {
        let calls: Vec<(Option<String>, Value)> = match &step.for_each {
            None => vec![(None, retry_args(template, step, attempt))],
            Some(fe) => {
                let Some(items) = findings::result_of(&findings[first_new..], &fe.step)
                    .and_then(|r| r.get(&fe.path))
                    .and_then(Value::as_array)
                else {
                    continue; // the step it depends on failed: nothing to do
                };
                items
                    .iter()
                    .take(MAX_ITEMS)
                    .enumerate()
                    .map(|(i, item)| {
                        let mut args = retry_args(template, step, attempt);
                        for (arg, field) in &fe.bind {
                            args[arg.as_str()] = item.get(field).cloned().unwrap_or(Value::Null);
                        }
                        let label = fe
                            .label
                            .as_ref()
                            .and_then(|l| item.get(l))
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .unwrap_or_else(|| format!("#{}", i + 1));
                        (Some(label), args)
                    })
                    .collect()
            }
        };
        for (item, args) in calls {
            let args = match resolve_refs(args, &findings[first_new..]) {
                Ok(a) => a,
                Err(e) => {
                    failed += 1;
                    let err = Err(ToolFailure::new("bad_arguments", e));
                    findings.push(findings::tool_finding(
                        &step.id,
                        item.as_deref(),
                        &step.tool,
                        &json!({}),
                        &err,
                        attempt,
                    ));
                    continue;
                }
            };
            let mut outcome = host.call_tool(&step.tool, &args);
            let mut used_args = args;
            let mut was_repaired = false;
            if let Err(e) = &outcome
                && llm
                && repairable(e)
                && let Some((a, r)) = repair(host, &state.task, step, &used_args, e)
            {
                used_args = a;
                outcome = Ok(r);
                was_repaired = true;
            }
            match &outcome {
                Ok(_) => ok += 1,
                Err(_) => failed += 1,
            }
            let mut f = findings::tool_finding(
                &step.id,
                item.as_deref(),
                &step.tool,
                &used_args,
                &outcome,
                attempt,
            );
            if was_repaired {
                repaired += 1;
                f["repaired"] = json!(true);
            }
            findings.push(f);
            state.add_source(tool_source(&step.tool));
        }
    }
    state.findings = findings;
    let summary = format!(
        "Ran {} plan step(s){}: {ok} call(s) succeeded, {failed} failed{}.",
        plan.steps.len(),
        if attempt > 0 {
            format!(" (attempt {})", attempt + 1)
        } else {
            String::new()
        },
        if repaired > 0 {
            format!(", {repaired} repaired with the LLM")
        } else {
            String::new()
        },
    );
    let mut detail = json!({"attempt": attempt, "ok": ok, "failed": failed, "repaired": repaired});
    if template == Some(Template::CrisprKnockout) && attempt > 0 {
        let (lo, hi) = crate::plan::gc_window(attempt);
        detail["gc_window"] = json!([lo, hi]);
    }
    trace_reasoning(host, &summary, &detail);
    Outcome::handoff("done", summary, state)
}

/// Replaces every `{"$from": "<step id>", "pointer": "/json/pointer"}` in
/// `args` with that part of the step's (first successful) result, so that
/// a plan can feed one tool's output to the next (e.g. a fetched sequence
/// to the guide design). An unknown step or pointer is an error.
pub fn resolve_refs(args: Value, found: &[Value]) -> Result<Value, String> {
    match args {
        Value::Object(m) if m.contains_key("$from") => {
            let from = m.get("$from").and_then(Value::as_str).unwrap_or_default();
            let pointer = m.get("pointer").and_then(Value::as_str).unwrap_or("");
            let result = findings::result_of(found, from)
                .ok_or_else(|| format!("step `{from}` has no result to take `{pointer}` from"))?;
            result
                .pointer(pointer)
                .cloned()
                .ok_or_else(|| format!("the result of step `{from}` has nothing at `{pointer}`"))
        }
        Value::Object(m) => m
            .into_iter()
            .map(|(k, v)| Ok((k, resolve_refs(v, found)?)))
            .collect::<Result<serde_json::Map<_, _>, String>>()
            .map(Value::Object),
        Value::Array(a) => a
            .into_iter()
            .map(|v| resolve_refs(v, found))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other),
    }
}

fn repairable(e: &ToolFailure) -> bool {
    !matches!(
        e.class.as_str(),
        "denied" | "budget" | "fuel_exhausted" | "timeout"
    )
}

/// Asks the LLM, with the run's tools, to fix a failed call; returns the
/// arguments and result of the first call it makes that succeeds.
fn repair(
    host: &mut dyn Host,
    task: &str,
    step: &Step,
    args: &Value,
    error: &ToolFailure,
) -> Option<(Value, Value)> {
    let tools = host.list_tools();
    if tools.is_empty() {
        return None;
    }
    let mut messages: Vec<Message> = vec![
        message(
            Speaker::System,
            "You repair failed bioinformatics tool calls. Call the tool again with corrected \
             arguments (or another tool that does the same job). Do not explain.",
        ),
        message(
            Speaker::User,
            format!(
                "Task: {}\nStep `{}` called `{}` with arguments {} and failed ({}): {}",
                llm::truncate(task, 2_000),
                step.id,
                step.tool,
                llm::truncate(&args.to_string(), 8_000),
                error.class,
                llm::truncate(&error.message, 2_000),
            ),
        ),
    ];
    for _ in 0..REPAIR_ROUNDS {
        let request = CompletionRequest {
            messages: messages.clone(),
            tools: tools.clone(),
            max_tokens: 1_500,
            temperature: Some(0.0),
        };
        let completion = host.complete(&request).ok()?;
        if completion.tool_calls.is_empty() {
            return None;
        }
        messages.push(Message {
            speaker: Speaker::Assistant,
            content: completion.text.clone(),
            tool_call_id: None,
            tool_calls: completion.tool_calls.clone(),
        });
        for call in &completion.tool_calls {
            let call_args: Value = serde_json::from_str(&call.arguments).unwrap_or(json!({}));
            match host.call_tool(&call.name, &call_args) {
                Ok(result) if call.name == step.tool => {
                    trace_reasoning(
                        host,
                        &format!(
                            "Repaired step `{}` with corrected arguments from the LLM.",
                            step.id
                        ),
                        &json!({"step": step.id, "tool": call.name}),
                    );
                    return Some((call_args, result));
                }
                Ok(result) => messages.push(Message {
                    speaker: Speaker::Tool,
                    content: llm::truncate(&result.to_string(), 8_000),
                    tool_call_id: Some(call.id.clone()),
                    tool_calls: Vec::new(),
                }),
                Err(e) => messages.push(Message {
                    speaker: Speaker::Tool,
                    content: format!("error ({}): {}", e.class, llm::truncate(&e.message, 2_000)),
                    tool_call_id: Some(call.id.clone()),
                    tool_calls: Vec::new(),
                }),
            }
        }
    }
    None
}
