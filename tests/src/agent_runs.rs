//! Shared set-up of the agent-run tests: the scripted LLM-driven run and an
//! in-process host with the shipped roles, tools and agent tools.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bioai::agents::cost::Rates;
use bioai::agents::llm::Llm;
use bioai::agents::{Graph, Swarm, SwarmConfig, tools};
use bioai::catalog::Catalog;
use bioai::config::Settings;
use bioai::store::Store;
use serde_json::json;

use crate::llm_standin::{LlmStandIn, Reply};
use crate::root;

/// The free-form task of the scripted LLM-driven run (no template matches).
pub const LLM_RUN_TASK: &str =
    "What is the GC content of GGCCAT, and which peptide does ATGGCCTAA encode?";

/// Scripts the LLM answers of a run of [`LLM_RUN_TASK`], in the order the
/// roles ask: a 429 (retried), the planner's plan (its second step fails),
/// the coder's repair by tool calling, the evaluator's rejection (reason
/// mentions "peptide"), the repair again, the acceptance, and the
/// reporter's summary, whose stream drops after three events. Six LLM calls
/// are billed: 1000+300+500+300+500 input tokens in full, and the summary's.
pub fn script_llm_run(llm: &LlmStandIn) {
    let repair = llm_repair();
    llm.push(Reply::status(429, "slow down").retry_after("0"));
    llm.push(llm_plan());
    llm.push(repair.clone());
    llm.push(Reply::text(
        r#"{"verdict": "reject", "reason": "check the peptide again"}"#,
        500,
        20,
    ));
    llm.push(repair);
    llm.push(Reply::text(
        r#"{"verdict": "accept", "reason": "both results answer the task"}"#,
        500,
        20,
    ));
    llm.push(
        Reply::text(
            "GGCCAT is two-thirds GC, and ATGGCCTAA encodes MA.",
            800,
            40,
        )
        .drop_after(3),
    );
}

/// The planner's answer for [`LLM_RUN_TASK`] (1000 tokens in, 120 out): a
/// plan of two steps, the second of which fails (`ATGXX!` is not DNA).
pub fn llm_plan() -> Reply {
    let plan = json!({
        "goal": "GC content and peptide of a short sequence",
        "search_queries": [],
        "steps": [
            {"id": "gc", "tool": "seq.gc_content", "args": {"sequence": "GGCCAT"}, "essential": true},
            {"id": "peptide", "tool": "seq.translate",
             "args": {"sequence": "ATGXX!", "table": 1}, "essential": true}
        ]
    });
    Reply::text(&plan.to_string(), 1_000, 120)
}

/// The coder's repair of the failed step, by tool calling (300 tokens in, 20 out).
pub fn llm_repair() -> Reply {
    Reply::tool_calls(
        "",
        &[(
            "call_1",
            "seq.translate",
            r#"{"sequence": "ATGGCCTAA", "table": 1}"#,
        )],
        300,
        20,
    )
}

/// Panics with a hint unless `target/plugins/<name>.wasm` exists for each name.
pub fn need_plugins(names: &[&str]) {
    for name in names {
        let p = root().join(format!("target/plugins/{name}.wasm"));
        assert!(
            p.is_file(),
            "{} missing: run `cargo xtask test`",
            p.display()
        );
    }
}

/// A host in process: the shipped plugins and roles under the policies of
/// `policy_dirs`, the embedded database in `data`, the agent tools over a
/// swarm with `llm` (none: templates only) and no know-how library.
pub async fn agent_host(
    policy_dirs: Vec<PathBuf>,
    data: &Path,
    llm: Option<Llm>,
    rates: Rates,
) -> (Arc<Catalog>, Arc<Swarm>, Store) {
    let mut settings = Settings::from_env();
    settings.plugin_dirs = vec![root().join("target/plugins")];
    settings.policy_dirs = policy_dirs;
    settings.data_dir = data.to_path_buf();
    settings.database_url = None;
    settings.compiled_cache = Some(root().join("target/test-cache"));
    settings.sandbox_component = data.join("no-sandbox.wasm");
    let catalog = Catalog::new(
        bioai::start(&settings).await.expect("the host starts"),
        &settings,
    );
    let store = catalog
        .registry()
        .recorder()
        .map(|r| r.store().clone())
        .expect("a recorder");
    let swarm = Swarm::new(
        catalog.clone(),
        store.clone(),
        SwarmConfig {
            graph: Graph::builtin(),
            llm,
            knowhow: None,
            workspaces: data.join("workspaces"),
            rates,
        },
    );
    for t in tools::host_tools(&swarm) {
        catalog.add_host_tool(t).expect("the agent tools are added");
    }
    (catalog, swarm, store)
}
