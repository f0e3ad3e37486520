//! `billing.get_quote`: an honest estimate of what a run will cost.
//!
//! Two models, and the quote says which one it used and why:
//!
//! - **outcome**: the active pricing plan (`default` first, then any other
//!   active plan) has a fixed price for the task's template: that price,
//!   charged only when the run succeeds.
//! - **metered**: otherwise, the sum of the run's expected fuel (its role
//!   steps and tool calls: from this user's recorded calls of the same tools
//!   when there are any, else a stated prior range) and, when an LLM is
//!   configured, its expected tokens, at the current rates ([`Rates`]).

use std::collections::BTreeMap;

use bioai_roles::plan::{NO_TEMPLATE_NO_LLM, Template};
use bioai_store::UserId;
use serde_json::{Map, Value, json};

use super::cost::DEFAULT_PLAN;
use super::swarm::Swarm;

/// Fuel of one tool call when this user has no recorded calls of the tool.
const PRIOR_TOOL_FUEL: (u64, u64) = (1_000_000, 5_000_000_000);
/// Fuel of one role step when no role step was recorded.
const PRIOR_ROLE_FUEL: (u64, u64) = (1_000_000, 200_000_000);
/// Tokens of one LLM call (input, output): lowest and highest expected.
const TOKENS_PER_CALL: ((u64, u64), (u64, u64)) = ((1_000, 200), (8_000, 2_000));

/// The quote for a task, as the tool returns it.
pub async fn quote(
    swarm: &Swarm,
    tenant: UserId,
    template: Option<Template>,
    inputs: &Map<String, Value>,
) -> Result<Value, String> {
    let plans = swarm
        .store()
        .pricing_plans()
        .await
        .map_err(|e| format!("pricing plans cannot be read: {e}"))?;
    if let Some(t) = template {
        let mut ordered: Vec<_> = plans.iter().filter(|p| p.active).collect();
        ordered.sort_by_key(|p| p.name != DEFAULT_PLAN);
        for plan in ordered {
            if let Some(price) = plan.outcome_prices.get(t.name()).and_then(Value::as_i64) {
                return Ok(json!({
                    "min_fen": price,
                    "max_fen": price,
                    "currency": "CNY",
                    "model": "outcome",
                    "template": t.name(),
                    "basis": format!(
                        "the fixed outcome-based price of template `{}` in pricing plan `{}`: \
                         charged only when the run succeeds, nothing for a failed or cancelled run",
                        t.name(), plan.name
                    ),
                    "breakdown": [{"item": "outcome price", "min_fen": price, "max_fen": price}],
                }));
            }
        }
    }
    if template.is_none() && !swarm.has_llm() {
        return Err(format!("no quote: {NO_TEMPLATE_NO_LLM}"));
    }
    let rates = swarm.rates();
    let graph = swarm.graph();
    let roles = graph.roles().count() as u64;
    // Retries may send the run round the loop again, up to the step budget.
    let max_steps = u64::from(graph.max_steps).min(roles * 2);

    // Fuel history: this user's recorded calls, per tool.
    let history = swarm
        .store()
        .tool_calls(tenant, 2000)
        .await
        .map_err(|e| format!("recorded calls cannot be read: {e}"))?;
    let mut seen: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    for row in history.iter().filter(|r| r.status == "ok") {
        let fuel = u64::try_from(row.fuel).unwrap_or(0);
        let e = seen.entry(row.tool.as_str()).or_insert((u64::MAX, 0, 0));
        e.0 = e.0.min(fuel);
        e.1 = e.1.max(fuel);
        e.2 += 1;
    }
    let role_fuel = {
        let steps: Vec<_> = seen
            .iter()
            .filter(|(tool, _)| tool.ends_with(".step"))
            .map(|(_, v)| *v)
            .collect();
        if steps.is_empty() {
            (PRIOR_ROLE_FUEL.0, PRIOR_ROLE_FUEL.1, "prior range")
        } else {
            let lo = steps.iter().map(|s| s.0).min().unwrap_or(0);
            let hi = steps.iter().map(|s| s.1).max().unwrap_or(0);
            (lo, hi, "your recorded role steps")
        }
    };

    let mut breakdown = Vec::new();
    let mut min_fen = 0i64;
    let mut max_fen = 0i64;
    let mut add = |item: String, basis: &str, lo: i64, hi: i64| {
        min_fen += lo;
        max_fen += hi;
        breakdown.push(json!({"item": item, "basis": basis, "min_fen": lo, "max_fen": hi}));
    };
    add(
        format!("{roles}..{max_steps} role steps"),
        role_fuel.2,
        rates.fuel(role_fuel.0 * roles),
        rates.fuel(role_fuel.1 * max_steps),
    );

    let mut notes = Vec::new();
    let mut llm_calls = (0u64, 0u64);
    match template {
        Some(t) => {
            let tools: Vec<String> = match t.plan(inputs) {
                Ok(plan) => plan.steps.iter().map(|s| s.tool.clone()).collect(),
                Err(message) => {
                    notes.push(format!(
                        "the inputs are incomplete ({message}); the run would fail at planning, \
                         costing only the first step"
                    ));
                    Vec::new()
                }
            };
            for tool in tools {
                let (lo, hi, basis) = match seen.get(tool.as_str()) {
                    Some((lo, hi, n)) => (*lo, *hi, format!("{n} recorded calls of yours")),
                    None => (
                        PRIOR_TOOL_FUEL.0,
                        PRIOR_TOOL_FUEL.1,
                        "prior range (no recorded calls yet)".to_string(),
                    ),
                };
                // A rejected result is recomputed at most twice.
                add(
                    format!("tool {tool}"),
                    &basis,
                    rates.fuel(lo),
                    rates.fuel(hi.saturating_mul(3)),
                );
            }
            if swarm.has_llm() {
                // Templates plan without the LLM; the evaluator and reporter may use it.
                llm_calls = (0, 2 + 2);
            }
        }
        None => {
            notes.push(
                "a free-form task: its tools are chosen by the LLM, so tool fuel is not included \
                 beyond the role steps"
                    .to_string(),
            );
            llm_calls = (roles, max_steps * 2);
        }
    }
    if llm_calls.1 > 0 {
        let ((in_lo, out_lo), (in_hi, out_hi)) = TOKENS_PER_CALL;
        add(
            format!("{}..{} LLM calls", llm_calls.0, llm_calls.1),
            &format!(
                "{in_lo}..{in_hi} input and {out_lo}..{out_hi} output tokens per call at {} / {} \
                 fen per million tokens",
                rates.input_fen_per_mtok, rates.output_fen_per_mtok
            ),
            rates.tokens(in_lo * llm_calls.0, out_lo * llm_calls.0),
            rates.tokens(in_hi * llm_calls.1, out_hi * llm_calls.1),
        );
    }
    let basis = format!(
        "metered: no outcome price for {}; estimated from fuel at {} fen per 10^9 units{}{}{}",
        template.map_or("a free-form task".to_string(), |t| format!(
            "template `{}`",
            t.name()
        )),
        rates.fen_per_gigafuel,
        if swarm.has_llm() {
            " and LLM tokens at the rates of the `default` pricing plan"
        } else {
            " (no LLM is configured, so no tokens)"
        },
        if notes.is_empty() { "" } else { "; " },
        notes.join("; "),
    );
    Ok(json!({
        "min_fen": min_fen,
        "max_fen": max_fen,
        "currency": "CNY",
        "model": "metered",
        "template": template.map(|t| t.name()),
        "basis": basis,
        "breakdown": breakdown,
    }))
}
