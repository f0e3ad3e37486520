//! The `gene_lookup` template end to end, offline: `bio_agent.run_task`
//! through the registry (the MCP adapter's path) with the shipped roles and
//! the `ensembl` and `ncbi` plugins pointed, by test policies, at a local
//! stand-in answering like Ensembl REST `lookup/symbol` and NCBI ESearch
//! (shapes from their documentation, as in `db_plugins.rs`). The report's
//! findings are cross-checked against the same tools called directly.

use std::path::Path;

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use bioai::agents::cost::Rates;
use bioai::registry::CallContext;
use bioai_e2e::agent_runs::{agent_host, need_plugins};
use bioai_e2e::root;
use serde_json::{Value, json};

/// Ensembl `lookup/symbol/homo_sapiens/BRAF`, as documented.
fn ensembl_braf() -> Value {
    json!({
        "source": "ensembl_havana",
        "object_type": "Gene",
        "logic_name": "ensembl_havana_gene_homo_sapiens",
        "version": 14,
        "species": "homo_sapiens",
        "description": "B-Raf proto-oncogene, serine/threonine kinase [Source:HGNC Symbol;Acc:HGNC:1097]",
        "display_name": "BRAF",
        "assembly_name": "GRCh38",
        "biotype": "protein_coding",
        "end": 140924929,
        "seq_region_name": "7",
        "db_type": "core",
        "strand": -1,
        "id": "ENSG00000157764",
        "start": 140719327,
        "canonical_transcript": "ENST00000646891.2"
    })
}

/// ESearch JSON (retmode=json) for `BRAF[sym] AND Homo sapiens[orgn]`.
fn esearch_braf() -> Value {
    json!({
        "header": {"type": "esearch", "version": "0.3"},
        "esearchresult": {
            "count": "1", "retmax": "1", "retstart": "0", "idlist": ["673"],
            "translationset": [],
            "querytranslation": "BRAF[sym] AND \"Homo sapiens\"[Organism]"
        }
    })
}

async fn stand_in() -> u16 {
    let app = Router::new()
        .route(
            "/lookup/symbol/{species}/{symbol}",
            get(
                |UrlPath((species, symbol)): UrlPath<(String, String)>| async move {
                    if species == "homo_sapiens" && symbol == "BRAF" {
                        (StatusCode::OK, axum::Json(ensembl_braf())).into_response()
                    } else {
                        let body =
                            json!({"error": format!("No valid lookup found for symbol {symbol}")});
                        (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
                    }
                },
            ),
        )
        .route(
            "/entrez/eutils/esearch.fcgi",
            get(|| async { axum::Json(esearch_braf()) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

/// The shipped policies, with `ensembl` and `ncbi` pointed at the stand-in.
fn policies(dir: &Path, port: u16) {
    for entry in std::fs::read_dir(root().join("policies")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".toml") && name != "ensembl.toml" && name != "ncbi.toml" {
            std::fs::copy(&path, dir.join(&name)).unwrap();
        }
    }
    for (plugin, var, path) in [
        ("ensembl", "ENSEMBL_BASE_URL", ""),
        ("ncbi", "NCBI_BASE_URL", "/entrez/eutils"),
    ] {
        std::fs::write(
            dir.join(format!("{plugin}.toml")),
            format!(
                "plugin = \"{plugin}\"\n[network]\nallow = [\"127.0.0.1:{port}\"]\n\
                 allow_private = true\n[env]\n{var} = \"http://127.0.0.1:{port}{path}\"\n"
            ),
        )
        .unwrap();
    }
}

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
