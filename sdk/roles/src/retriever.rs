//! The retriever: searches the know-how library and the user's documents
//! with the plan's queries, adds the passages' sources to the state and a
//! short `background` finding. It calls no tools (the coder does).

use crate::host::Host;
use crate::llm;
use crate::plan::Template;
use crate::state::{SourceInfo, State, source_from_wit};
use crate::{Outcome, trace_reasoning};
use bioai_sdk::agent::Origin;
use serde_json::{Value, json};

/// Passages asked for per query.
pub const PER_QUERY: u32 = 5;
/// At most this many queries are run.
pub const MAX_QUERIES: usize = 3;

/// The queries for a state: the plan's, else the template's topic, else
/// the task itself.
pub fn queries(state: &State) -> Vec<String> {
    let mut q: Vec<String> = state
        .plan
        .as_ref()
        .map(|p| {
            p.search_queries
                .iter()
                .filter(|s| !s.trim().is_empty())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if q.is_empty()
        && let Some(t) = state.template.as_deref().and_then(Template::from_name)
    {
        q.push(t.topic().to_string());
    }
    if q.is_empty() {
        q.push(llm::truncate(&state.task, 300));
    }
    q.truncate(MAX_QUERIES);
    q
}

/// Runs the retriever.
pub fn step(host: &mut dyn Host, mut state: State) -> Outcome {
    let mut passages_json = Vec::new();
    let mut failures = Vec::new();
    let queries = queries(&state);
    for q in &queries {
        match host.search(q, PER_QUERY) {
            Ok(passages) => {
                for p in passages {
                    if passages_json
                        .iter()
                        .any(|x: &Value| x["uri"] == json!(p.source.uri))
                    {
                        continue;
                    }
                    passages_json.push(json!({
                        "title": p.title,
                        "uri": p.source.uri,
                        "excerpt": llm::truncate(p.text.trim(), 400),
                        "origin": match p.origin { Origin::KnowHow => "know_how", Origin::Document => "document" },
                        "query": q,
                    }));
                    state.add_source(source_from_wit(p.source));
                }
            }
            Err(e) => failures.push(format!("{q}: {e}")),
        }
    }
    let n = passages_json.len();
    state.findings.push(json!({
        "step": "background",
        "kind": "background",
        "queries": queries,
        "passages": passages_json,
        "errors": failures,
    }));
    trace_reasoning(
        host,
        &format!(
            "Searched know-how and documents with {} quer(ies); kept {n} passage(s).",
            queries.len()
        ),
        &json!({"queries": queries, "errors": failures}),
    );
    Outcome::handoff("done", format!("found {n} background passage(s)"), state)
}

/// A tool's source entry (`bioai-tool://<name>`).
pub fn tool_source(tool: &str) -> SourceInfo {
    SourceInfo {
        title: format!("BioAiSaaS tool {tool}"),
        uri: format!("bioai-tool://{tool}"),
        licence: None,
    }
}
