//! The evaluator: accepts or rejects the coder's results. Templates have
//! deterministic checks; free-form plans ask the LLM for a verdict
//! (`{"verdict": "accept" | "reject", "reason": ...}`), falling back to
//! the deterministic check (every essential step succeeded) when the answer
//! does not parse. A failed essential step always rejects.

use crate::findings;
use crate::host::Host;
use crate::llm;
use crate::plan::{Plan, Template};
use crate::state::State;
use crate::{Outcome, trace_reasoning};
use serde_json::{Value, json};

/// A verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Accept the results.
    pub accept: bool,
    /// Why, in one sentence.
    pub reason: String,
}

impl Verdict {
    fn accept(reason: impl Into<String>) -> Verdict {
        Verdict {
            accept: true,
            reason: reason.into(),
        }
    }
    fn reject(reason: impl Into<String>) -> Verdict {
        Verdict {
            accept: false,
            reason: reason.into(),
        }
    }
}

/// The deterministic check of the findings of `plan`.
pub fn check(plan: &Plan, found: &[Value]) -> Verdict {
    // Essential steps first: their failure is a rejection whatever the template.
    for s in plan.steps.iter().filter(|s| s.essential) {
        if findings::result_of(found, &s.id).is_none() {
            let why = findings::error_of(found, &s.id).unwrap_or("it was not run");
            return Verdict::reject(format!(
                "the essential step `{}` ({}) failed: {why}",
                s.id, s.tool
            ));
        }
    }
    match plan.template.as_deref().and_then(Template::from_name) {
        Some(Template::CrisprKnockout) => {
            let r = findings::result_of(found, "guides")
                .cloned()
                .unwrap_or(Value::Null);
            let guides = r
                .get("guides")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let good = guides
                .iter()
                .filter(|g| {
                    g.get("flags")
                        .and_then(Value::as_array)
                        .is_some_and(Vec::is_empty)
                        && g.get("score").is_some_and(Value::is_number)
                })
                .count();
            if good > 0 {
                Verdict::accept(format!(
                    "{good} guide(s) pass every filter and have a Rule Set 1 score"
                ))
            } else {
                Verdict::reject(format!(
                    "no guide passes the filters with a Rule Set 1 score ({} found, {} passing); \
                     retry with a wider GC window",
                    r.get("total_found").and_then(Value::as_u64).unwrap_or(0),
                    r.get("total_passing").and_then(Value::as_u64).unwrap_or(0),
                ))
            }
        }
        Some(Template::PcrPrimers) => {
            let r = findings::result_of(found, "primers")
                .cloned()
                .unwrap_or(Value::Null);
            let n = r.get("pairs").and_then(Value::as_array).map_or(0, Vec::len);
            if n > 0 {
                Verdict::accept(format!("{n} primer pair(s) designed"))
            } else {
                Verdict::reject(
                    "no primer pair meets the constraints: widen the product size range or move \
                     the target away from the template ends",
                )
            }
        }
        Some(Template::CloningCheck) => {
            Verdict::accept("the restriction sites and the digest were computed")
        }
        Some(Template::SequenceQc) => {
            let n = findings::result_of(found, "parse")
                .and_then(|r| r.get("value"))
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            Verdict::accept(format!("the FASTA parsed into {n} record(s)"))
        }
        Some(Template::GeneLookup) => {
            let ens = findings::result_of(found, "ensembl").is_some();
            let ncbi = findings::result_of(found, "ncbi")
                .and_then(|r| r.get("ids"))
                .and_then(Value::as_array)
                .is_some_and(|ids| !ids.is_empty());
            if ens || ncbi {
                Verdict::accept(format!(
                    "found the gene in {}",
                    match (ens, ncbi) {
                        (true, true) => "Ensembl and NCBI Gene",
                        (true, false) => "Ensembl",
                        _ => "NCBI Gene",
                    }
                ))
            } else {
                Verdict::reject(format!(
                    "neither Ensembl nor NCBI Gene found the gene ({})",
                    findings::error_of(found, "ensembl").unwrap_or("no NCBI Gene ids")
                ))
            }
        }
        None => {
            let ok = found.iter().filter(|f| f.get("result").is_some()).count();
            if ok > 0 {
                Verdict::accept(format!(
                    "every essential step succeeded ({ok} successful call(s))"
                ))
            } else {
                Verdict::reject("no tool call succeeded")
            }
        }
    }
}

/// Parses the LLM's verdict defensively.
pub fn parse_verdict(text: &str) -> Option<Verdict> {
    let v = llm::extract_json_object(text)?;
    let verdict = v.get("verdict")?.as_str()?.trim().to_ascii_lowercase();
    let reason = v
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or("no reason given")
        .trim()
        .to_string();
    match verdict.as_str() {
        "accept" | "accepted" => Some(Verdict::accept(reason)),
        "reject" | "rejected" => Some(Verdict::reject(reason)),
        _ => None,
    }
}

/// Runs the evaluator.
pub fn step(host: &mut dyn Host, mut state: State) -> Outcome {
    let Some(plan) = state.plan.clone() else {
        return Outcome::Fail("the evaluator found no plan in the run state".into());
    };
    let mut verdict = check(&plan, &state.findings);
    let mut by = "checks";
    if plan.template.is_none() && verdict.accept && host.llm_available() {
        let tool_findings: Vec<&Value> = state
            .findings
            .iter()
            .filter(|f| findings::is_tool(f))
            .collect();
        let prompt = format!(
            "Task: {}\nGoal: {}\n\nTool results (JSON):\n{}\n\nDo these results answer the task? \
             Answer with one JSON object only: {{\"verdict\": \"accept\" or \"reject\", \"reason\": \
             \"<one sentence; on reject, what the coder should change>\"}}.",
            state.task,
            plan.goal,
            llm::truncate(
                &serde_json::to_string(&tool_findings).unwrap_or_default(),
                30_000
            ),
        );
        match llm::ask(
            host,
            "You review the results of bioinformatics tool runs strictly and briefly.",
            &prompt,
            400,
        ) {
            Ok(text) => match parse_verdict(&text) {
                Some(v) => {
                    verdict = v;
                    by = "llm";
                }
                None => host.trace(
                    "note",
                    "The LLM's verdict did not parse; using the deterministic checks.",
                    "",
                ),
            },
            Err(e) => host.trace(
                "note",
                &format!("The LLM could not be asked ({e}); using the deterministic checks."),
                "",
            ),
        }
    }
    let outcome = if verdict.accept { "accept" } else { "reject" };
    trace_reasoning(
        host,
        &format!(
            "{} the results: {}",
            if verdict.accept {
                "Accepted"
            } else {
                "Rejected"
            },
            verdict.reason
        ),
        &json!({"verdict": outcome, "by": by, "attempt": state.attempt}),
    );
    state.findings.push(json!({
        "step": "evaluation",
        "kind": "evaluation",
        "verdict": outcome,
        "reason": verdict.reason,
        "by": by,
    }));
    state.feedback = if verdict.accept {
        None
    } else {
        Some(verdict.reason.clone())
    };
    Outcome::handoff(outcome, verdict.reason, state)
}
