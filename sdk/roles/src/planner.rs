//! The planner: picks a built-in template (from `state.template` or the
//! task's keywords) and builds its plan from the inputs; otherwise asks the
//! LLM for a plan of tool steps and validates it.

use crate::host::Host;
use crate::llm;
use crate::plan::{NO_TEMPLATE_NO_LLM, Plan, Template};
use crate::state::State;
use crate::{Outcome, trace_reasoning};
use serde_json::{Value, json};
use std::collections::HashSet;

/// At most this many steps in an LLM plan.
pub const MAX_LLM_STEPS: usize = 12;

/// Runs the planner.
pub fn step(host: &mut dyn Host, mut state: State) -> Outcome {
    let named = state.template.clone();
    let template = match named.as_deref() {
        Some(name) => match Template::from_name(name) {
            Some(t) => Some((t, "the run names it".to_string())),
            None => {
                return Outcome::Fail(format!(
                    "unknown template `{name}`: the built-in templates are {}",
                    crate::plan::TEMPLATE_NAMES.join(", ")
                ));
            }
        },
        None => {
            Template::recognise(&state.task).map(|(t, w)| (t, format!("the task mentions \"{w}\"")))
        }
    };

    if let Some((t, why)) = template {
        let plan = match t.plan(&state.inputs) {
            Ok(p) => p,
            Err(e) => return Outcome::Fail(e),
        };
        trace_reasoning(
            host,
            &format!(
                "Using the built-in template {} ({why}); {} tool step(s).",
                t.name(),
                plan.steps.len()
            ),
            &json!({"template": t.name(), "steps": plan.steps.iter().map(|s| &s.tool).collect::<Vec<_>>()}),
        );
        state.template = Some(t.name().to_string());
        state.plan = Some(plan);
        return Outcome::handoff(
            "done",
            format!("planned with the {} template", t.name()),
            state,
        );
    }

    if !host.llm_available() {
        return Outcome::Fail(NO_TEMPLATE_NO_LLM.to_string());
    }
    let tools = host.list_tools();
    let catalogue: Vec<Value> = tools
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "description": llm::truncate(&t.description, 600),
                "parameters": serde_json::from_str::<Value>(&t.parameters).unwrap_or(Value::Null),
            })
        })
        .collect();
    let known: HashSet<String> = tools.iter().map(|t| t.name.clone()).collect();
    let user = format!(
        "Task: {}\n\nInputs (JSON): {}\n\nTools:\n{}\n\nAnswer with one JSON object only: \
         {{\"goal\": \"<one sentence>\", \"search_queries\": [\"<1-3 short queries for background \
         knowledge>\"], \"steps\": [{{\"id\": \"s1\", \"tool\": \"<tool name from the list>\", \
         \"args\": {{<arguments matching its parameters>}}, \"essential\": true, \"why\": \"<short \
         reason>\"}}]}}. To pass part of an earlier step's result as an argument, write \
         {{\"$from\": \"<step id>\", \"pointer\": \"<JSON pointer into its result, e.g. \
         /records/0/sequence>\"}} as the argument's value. Use at most {MAX_LLM_STEPS} steps, only the tools listed, and put the \
         inputs' values into the arguments.",
        state.task,
        Value::Object(state.inputs.clone()),
        llm::truncate(
            &serde_json::to_string_pretty(&catalogue).unwrap_or_default(),
            24_000
        ),
    );
    let system = "You plan bioinformatics analyses as a short sequence of tool calls. \
                  You never invent tools or results.";
    let mut last_error = String::new();
    for round in 0..2 {
        let prompt = if round == 0 {
            user.clone()
        } else {
            format!("{user}\n\nYour previous plan was invalid: {last_error}. Answer again.")
        };
        let text = match llm::ask(host, system, &prompt, 2_000) {
            Ok(t) => t,
            Err(e) => return Outcome::Fail(format!("the planner could not ask the LLM: {e}")),
        };
        match parse_llm_plan(&text, &known) {
            Ok(plan) => {
                trace_reasoning(
                    host,
                    &format!(
                        "No built-in template fits; the LLM planned {} tool step(s).",
                        plan.steps.len()
                    ),
                    &json!({"goal": plan.goal, "steps": plan.steps.iter().map(|s| &s.tool).collect::<Vec<_>>()}),
                );
                state.plan = Some(plan);
                return Outcome::handoff("done", "planned with the LLM".to_string(), state);
            }
            Err(e) => last_error = e,
        }
    }
    Outcome::Fail(format!(
        "the LLM did not produce a valid plan: {last_error}"
    ))
}

/// Parses and validates an LLM plan; `known` are the tools the run may
/// call (no check when empty).
pub fn parse_llm_plan(text: &str, known: &HashSet<String>) -> Result<Plan, String> {
    let mut v = llm::extract_json_object(text).ok_or("the answer holds no JSON object")?;
    v["source"] = json!("llm");
    v["template"] = Value::Null;
    if let Some(steps) = v.get_mut("steps").and_then(Value::as_array_mut) {
        for (i, s) in steps.iter_mut().enumerate() {
            if s.get("id")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                s["id"] = json!(format!("s{}", i + 1));
            }
            s.as_object_mut().map(|o| o.remove("for_each"));
        }
    }
    let plan: Plan =
        serde_json::from_value(v).map_err(|e| format!("the plan is malformed: {e}"))?;
    if plan.steps.is_empty() {
        return Err("the plan has no steps".into());
    }
    if plan.steps.len() > MAX_LLM_STEPS {
        return Err(format!(
            "the plan has {} steps (at most {MAX_LLM_STEPS})",
            plan.steps.len()
        ));
    }
    let mut ids = HashSet::new();
    for s in &plan.steps {
        if !ids.insert(s.id.as_str()) {
            return Err(format!("two steps have the id `{}`", s.id));
        }
        if !known.is_empty() && !known.contains(&s.tool) {
            return Err(format!(
                "step `{}` uses the unknown tool `{}`",
                s.id, s.tool
            ));
        }
        if !s.args.is_object() {
            return Err(format!(
                "the arguments of step `{}` are not a JSON object",
                s.id
            ));
        }
    }
    Ok(plan)
}
