//! A whole LLM-driven agent run against the scripted stand-in LLM server
//! (OpenAI-compatible, streamed): a free-form task, so every role takes its
//! LLM path. The script: a 429 (retried), the planner's plan (one step that
//! fails), the coder's repair by tool calling, the evaluator's rejection
//! (a handoff back to the coder, i.e. a retry), the repair again, the
//! evaluator's acceptance, and a reporter summary whose stream drops (billed
//! for what arrived, and the trace says so). Runs in process through the
//! registry's `bio_agent.run_task`, the same path the MCP adapter takes.

use bioai::agents::cost::Rates;
use bioai::agents::llm::{Llm, LlmConfig, ProviderKind};
use bioai::registry::CallContext;
use bioai_e2e::agent_runs::{LLM_RUN_TASK, agent_host, need_plugins, script_llm_run};
use bioai_e2e::llm_standin::LlmStandIn;
use bioai_e2e::root;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_llm_driven_run_plans_repairs_retries_and_reports() {
    need_plugins(&[
        "planner",
        "retriever",
        "coder",
        "evaluator",
        "reporter",
        "seq",
    ]);
    let llm_server = LlmStandIn::start().await;
    script_llm_run(&llm_server);
    let mut config = LlmConfig::new(ProviderKind::OpenAi, "gpt-standin");
    config.base_url = llm_server.openai_base();
    config.api_key = Some("sk-test".into());
    config.stream = true;
    let data = tempfile::tempdir().unwrap();
    let rates = Rates {
        input_fen_per_mtok: 1_000,
        output_fen_per_mtok: 4_000,
        ..Rates::default()
    };
    let (catalog, _swarm, store) = agent_host(
        vec![root().join("policies")],
        data.path(),
        Some(Llm::new(config).unwrap()),
        rates,
    )
    .await;
    let registry = catalog.registry();
    let outcome = registry
        .call(
            "bio_agent.run_task",
            &json!({ "task": LLM_RUN_TASK }),
            CallContext::default(),
        )
        .await
        .unwrap();
    let result = outcome
        .result
        .unwrap_or_else(|e| panic!("the run failed: {e}"));
    assert_eq!(result["status"], "succeeded", "{result}");
    assert_eq!(llm_server.pending(), 0, "every scripted answer was used");
    // 1000+300+500+300+500 input tokens answered in full, plus what the
    // dropped stream reported or was estimated at.
    assert!(
        result["input_tokens"].as_i64().unwrap() >= 2_600,
        "{result}"
    );
    assert!(result["cost_fen"].as_i64().unwrap() >= 3, "{result}");

    let run_id: bioai::store::Uuid = result["run_id"].as_str().unwrap().parse().unwrap();
    let tenant = store.local_user().await.unwrap();
    let events = store.run_events(tenant, run_id, 0, 10_000).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    for role in ["planner", "retriever", "coder", "evaluator", "reporter"] {
        assert!(
            events
                .iter()
                .any(|e| e.kind == "step" && e.role.as_deref() == Some(role)),
            "no step of {role}: {kinds:?}"
        );
    }
    // The evaluator's rejection sent the run back to the coder once.
    let retry = events
        .iter()
        .find(|e| {
            e.kind == "handoff" && e.payload["from"] == "evaluator" && e.payload["to"] == "coder"
        })
        .unwrap_or_else(|| panic!("no retry handoff: {kinds:?}"));
    assert_eq!(retry.payload["retry"], 1);
    assert!(
        retry.payload["reason"]
            .as_str()
            .unwrap()
            .contains("peptide")
    );
    // The failed call and its repair are both in the trace.
    let translate: Vec<&Value> = events
        .iter()
        .filter(|e| e.kind == "tool_call" && e.payload["tool"] == "seq.translate")
        .map(|e| &e.payload)
        .collect();
    assert!(
        translate.iter().any(|p| p["error"].is_object()),
        "{translate:?}"
    );
    assert!(
        translate
            .iter()
            .any(|p| p["result"].to_string().contains("MA")),
        "{translate:?}"
    );
    // Every LLM call is billed; the dropped stream says so.
    let llm: Vec<&Value> = events
        .iter()
        .filter(|e| e.kind == "llm")
        .map(|e| &e.payload)
        .collect();
    assert_eq!(llm.len(), 6, "{llm:?}");
    assert!(llm.iter().any(|p| p["interrupted"] == true), "{llm:?}");
    let usage = store.usage_events(tenant).await.unwrap();
    let billed: i64 = usage
        .iter()
        .filter(|u| u.run_id == Some(run_id) && u.kind == "input_tokens")
        .map(|u| u.quantity)
        .sum();
    assert_eq!(billed, result["input_tokens"].as_i64().unwrap());
    // Per role: the planner's plan, the coder's repairs, the evaluator's
    // verdicts and the reporter's summary are each billed to their role.
    for role in ["planner", "coder", "evaluator", "reporter"] {
        assert!(
            usage
                .iter()
                .any(|u| u.run_id == Some(run_id) && u.role.as_deref() == Some(role)),
            "no usage billed to {role}"
        );
    }
    // The report has the deterministic part although the summary dropped.
    let report = &result["report"];
    assert!(report["markdown"].as_str().unwrap().len() > 50, "{report}");
}
