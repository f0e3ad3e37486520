//! The reporter: writes the final report. With an LLM it asks for a short
//! Markdown summary of the findings; the deterministic tables follow in
//! any case. Writes `report.md` and the main table as TSV into the run's
//! workspace and lists them as artifacts.

use crate::findings;
use crate::host::Host;
use crate::llm;
use crate::render::{Rendered, render};
use crate::state::{ArtifactInfo, State};
use crate::trace_reasoning;
use serde_json::{Value, json};

/// The report, before it is converted to WIT.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalReport {
    /// Markdown.
    pub markdown: String,
    /// The final state (findings, artifacts, sources).
    pub state: State,
}

/// Assembles the Markdown report from its parts.
pub fn assemble(state: &State, rendered: &Rendered, summary: Option<&str>) -> String {
    let mut md = format!(
        "# {}\n\n**Task:** {}\n\n",
        rendered.title,
        state.task.trim()
    );
    if let Some(plan) = &state.plan
        && let Some(t) = &plan.template
    {
        md.push_str(&format!("**Template:** `{t}`\n\n"));
    }
    if let Some(eval) = findings::evaluation(&state.findings)
        && eval.get("verdict").and_then(Value::as_str) == Some("reject")
    {
        md.push_str(&format!(
            "> **Warning:** the evaluator rejected these results: {}\n\n",
            eval.get("reason")
                .and_then(Value::as_str)
                .unwrap_or("no reason given")
        ));
    }
    if let Some(text) = summary.map(str::trim).filter(|t| !t.is_empty()) {
        md.push_str("## Summary\n\n");
        md.push_str(text);
        md.push_str("\n\n");
    }
    for sec in &rendered.sections {
        md.push_str(sec);
        md.push('\n');
    }
    let background: Vec<&Value> = state
        .findings
        .iter()
        .filter(|f| f.get("kind").and_then(Value::as_str) == Some("background"))
        .flat_map(|f| {
            f.get("passages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .collect();
    if !background.is_empty() {
        md.push_str("## Background\n\n");
        for p in background.iter().take(5) {
            md.push_str(&format!(
                "- **{}**: {}\n",
                p.get("title").and_then(Value::as_str).unwrap_or("passage"),
                llm::truncate(
                    p.get("excerpt")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .replace('\n', " ")
                        .trim(),
                    240
                ),
            ));
        }
        md.push('\n');
    }
    if !state.sources.is_empty() {
        md.push_str("## Sources\n\n");
        for s in &state.sources {
            md.push_str(&format!("- {} <{}>", s.title, s.uri));
            if let Some(l) = &s.licence {
                md.push_str(&format!(" ({l})"));
            }
            md.push('\n');
        }
    }
    md
}

/// Runs the reporter.
pub fn step(host: &mut dyn Host, mut state: State) -> Result<FinalReport, String> {
    let Some(plan) = state.plan.clone() else {
        return Err("the reporter found no plan in the run state".into());
    };
    let rendered = render(&state.task, &plan, &state.inputs, &state.findings);
    let mut summary = None;
    if host.llm_available() {
        let tool_findings: Vec<&Value> = state
            .findings
            .iter()
            .filter(|f| f.get("kind").is_none() || findings::is_tool(f))
            .collect();
        let prompt = format!(
            "Task: {}\n\nFindings (JSON):\n{}\n\nWrite a concise Markdown summary (at most 200 words, \
             no top-level heading, no tables: the tables are appended) of what was found and what to do \
             next. Only state what the findings support.",
            state.task,
            llm::truncate(
                &serde_json::to_string(&tool_findings).unwrap_or_default(),
                30_000
            ),
        );
        match llm::ask(
            host,
            "You write short, accurate reports of bioinformatics analyses for scientists.",
            &prompt,
            800,
        ) {
            Ok(text) => summary = Some(text),
            Err(e) => host.trace(
                "note",
                &format!("No LLM summary ({e}); the report has the deterministic part only."),
                "",
            ),
        }
    }
    let mut markdown = assemble(&state, &rendered, summary.as_deref());
    let mut written = Vec::new();
    let mut failures = Vec::new();
    for t in &rendered.tables {
        let Some(file) = &t.file else { continue };
        match host.write_file(file, t.to_tsv().as_bytes()) {
            Ok(()) => written.push(ArtifactInfo {
                path: file.clone(),
                media_type: "text/tab-separated-values".into(),
                description: format!("{} ({} rows)", t.title, t.rows.len()),
            }),
            Err(e) => failures.push(format!("{file}: {e}")),
        }
    }
    let report_artifact = ArtifactInfo {
        path: "report.md".into(),
        media_type: "text/markdown".into(),
        description: "The run's report".into(),
    };
    if !failures.is_empty() {
        markdown.push_str(&format!("\n_Could not write: {}_\n", failures.join("; ")));
    }
    match host.write_file("report.md", markdown.as_bytes()) {
        Ok(()) => written.insert(0, report_artifact),
        Err(e) => failures.push(format!("report.md: {e}")),
    }
    for a in written {
        state.artifacts.retain(|x| x.path != a.path);
        state.artifacts.push(a);
    }
    trace_reasoning(
        host,
        &format!(
            "Wrote the report{} with {} table(s){}.",
            if summary.is_some() {
                " (LLM summary + deterministic tables)"
            } else {
                ""
            },
            rendered.tables.len(),
            if failures.is_empty() {
                String::new()
            } else {
                format!("; could not write {}", failures.join(", "))
            }
        ),
        &json!({"artifacts": state.artifacts.iter().map(|a| &a.path).collect::<Vec<_>>()}),
    );
    Ok(FinalReport { markdown, state })
}
