//! The `gene_lookup` template end to end, offline: `bio_agent.run_task`
//! through the registry (the MCP adapter's path) with the shipped roles and
//! the `ensembl` and `ncbi` plugins pointed, by test policies, at a local
//! stand-in answering like Ensembl REST `lookup/symbol` and NCBI ESearch
//! (shapes from their documentation, as in `db_plugins.rs`). The report's
//! findings are cross-checked against the same tools called directly.

use bioai::agents::cost::Rates;
use bioai::registry::CallContext;
use bioai_e2e::agent_runs::{agent_host, need_plugins};
use bioai_e2e::gene_standin::{policies, stand_in};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gene_lookup_reports_the_ensembl_and_ncbi_records() {
    need_plugins(&[
        "planner",
        "retriever",
        "coder",
        "evaluator",
        "reporter",
        "ensembl",
        "ncbi",
    ]);
    let port = stand_in().await;
    let data = tempfile::tempdir().unwrap();
    let policy_dir = data.path().join("policies");
    std::fs::create_dir_all(&policy_dir).unwrap();
    policies(&policy_dir, port);
    let (catalog, _swarm, _store) =
        agent_host(vec![policy_dir], data.path(), None, Rates::default()).await;
    let registry = catalog.registry();
    let outcome = registry
        .call(
            "bio_agent.run_task",
            &json!({"task": "Look up the gene BRAF", "inputs": {"symbol": "BRAF"}}),
            CallContext::default(),
        )
        .await
        .unwrap();
    let result = outcome
        .result
        .unwrap_or_else(|e| panic!("the run failed: {e}"));
    assert_eq!(result["status"], "succeeded", "{result}");
    let report = &result["report"];
    let markdown = report["markdown"].as_str().unwrap();
    for expected in ["ENSG00000157764", "140719327", "protein_coding", "673"] {
        assert!(
            markdown.contains(expected),
            "the report lacks {expected}:\n{markdown}"
        );
    }
    // Every tool finding equals the tool's own answer to the same arguments.
    let findings = report["findings"].as_array().unwrap();
    let mut checked = 0;
    for f in findings.iter().filter(|f| f["tool"].is_string()) {
        let tool = f["tool"].as_str().unwrap();
        let direct = registry
            .call(tool, &f["args"], CallContext::default())
            .await
            .unwrap();
        let direct = direct.result.unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert_eq!(
            direct, f["result"],
            "{tool}: the report differs from the tool"
        );
        checked += 1;
    }
    assert!(
        checked >= 2,
        "ensembl.lookup and ncbi.esearch findings: {findings:?}"
    );
}
