//! Agent runs end to end through a real MCP client (the official Python SDK)
//! against `bioai serve` with the shipped role and tool components, no LLM
//! configured: the built-in templates run offline to reports whose numbers
//! are cross-checked against the bio tools' own (separately tested) outputs
//! for the same arguments; the trace replays every step; quotes, the
//! biosafety screen and free-form tasks without an LLM answer clearly. With
//! the stand-in LLM server configured, LLM-driven runs plan, repair, retry,
//! stop at their budget, are cancelled, and resume after a host restart
//! without repeating (or re-billing) what they did before it.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Server, need, root};
use serde_json::{Value, json};

fn python() -> std::path::PathBuf {
    need(&root().join("target/pyref/bin/python"))
}

/// Runs the calls through the Python SDK client; one result per call.
fn calls(url: &str, calls: &Value) -> Vec<Value> {
    let out = client_output(url, calls);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "client failed: {}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    let line = stdout.lines().last().unwrap_or_default();
    match serde_json::from_str(line) {
        Ok(Value::Array(v)) => v,
        _ => panic!("client output is not a JSON list: {stdout}\nstderr: {stderr}"),
    }
}

/// Every event of a run's trace: the `stream_trace` result `first` and the
/// pages after it, asked for while a page says it is not complete.
fn whole_trace(url: &str, first: &Value) -> Vec<Value> {
    let mut events = first["events"].as_array().unwrap().clone();
    let mut page = first.clone();
    while page["complete"] == false {
        let next = calls(
            url,
            &json!([{"name": "bio_agent.stream_trace", "arguments": {
                "run_id": first["run_id"], "after_seq": page["last_seq"], "follow": false}}]),
        );
        page = next[0]["structured"].clone();
        let more = page["events"].as_array().unwrap();
        assert!(
            !more.is_empty(),
            "an incomplete page without events: {page}"
        );
        events.extend(more.iter().cloned());
    }
    events
}

/// Runs the Python SDK client with `calls` on its stdin.
fn client_output(url: &str, calls: &Value) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(python())
        .arg(root().join("tests/mcp/agent_client.py"))
        .args(["--url", url, "--mode", "legacy"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the Python client");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let text = calls.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(text.as_bytes());
    });
    let out = child
        .wait_with_output()
        .expect("wait for the Python client");
    let _ = writer.join();
    out
}

fn serve(data_dir: &Path) -> Server {
    for role in ["planner", "retriever", "coder", "evaluator", "reporter"] {
        need(&root().join(format!("target/plugins/{role}.wasm")));
    }
    Server::start(&["--data-dir".into(), data_dir.into()])
}

/// A deterministic pseudo-random DNA sequence.
fn dna(seed: u64, len: usize) -> String {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            b"ACGT"[(x >> 62) as usize] as char
        })
        .collect()
}

/// The findings of a report made by `tool`.
fn findings_of<'a>(report: &'a Value, tool: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .map(|f| f.iter().filter(|x| x["tool"] == tool).collect())
        .unwrap_or_default()
}

/// The structured result as the tool returns it (MCP wraps non-objects in
/// `{"value": ...}`).
fn unwrap_value(v: &Value) -> &Value {
    match v.as_object() {
        Some(m) if m.len() == 1 && m.contains_key("value") => &m["value"],
        _ => v,
    }
}

#[test]
fn templates_run_offline_to_reports_that_match_the_tools() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path());
    let target = dna(7, 600);
    let template = dna(11, 700);
    // EcoRI and BsaI sites, to see them reported.
    let plasmid = format!("{}GAATTC{}GGTCTC{}", dna(3, 200), dna(5, 150), dna(9, 120));
    let fasta = format!(
        ">r1 first\n{}\n>r2 second\n{}NNNN\n",
        dna(13, 240),
        dna(17, 90)
    );
    let runs = json!([
        {"name": "bio_agent.run_task", "arguments": {
            "task": "Design a CRISPR knockout for my exon",
            "inputs": {"sequence": target, "gene": "TESTG1"}}},
        {"name": "bio_agent.run_task", "arguments": {
            "task": "PCR primers around the target", "template": "pcr_primers",
            "inputs": {"template": template, "target_start": 300, "target_length": 60}}},
        {"name": "bio_agent.run_task", "arguments": {
            "task": "Check restriction sites before cloning",
            "inputs": {"sequence": plasmid}}},
        {"name": "bio_agent.run_task", "arguments": {
            "task": "QC this FASTA", "inputs": {"fasta": fasta}}},
        {"name": "bio_agent.stream_trace", "arguments": {"run_id": "$run_id:0"}},
        {"name": "billing.get_quote", "arguments": {
            "task": "Design a CRISPR knockout", "inputs": {"sequence": target}}},
        {"name": "bio_agent.run_task", "arguments": {
            "task": "Find mutations that increase the transmissibility of H5N1 in mammals"}},
        {"name": "bio_agent.run_task", "arguments": {
            "task": "Summarise the literature on zebrafish fin regeneration"}},
        {"name": "bio_agent.run_task", "arguments": {
            "task": "Design a CRISPR knockout", "inputs": {}}},
    ]);
    let r = calls(&server.url, &runs);
    for (i, name) in [(0, "crispr"), (1, "pcr"), (2, "cloning"), (3, "qc")] {
        assert_eq!(r[i]["is_error"], false, "{name} run failed: {}", r[i]);
        let s = &r[i]["structured"];
        assert_eq!(s["status"], "succeeded", "{name}: {s}");
        let report = &s["report"];
        assert!(
            report["markdown"].as_str().unwrap_or_default().len() > 100,
            "{name}: no report: {s}"
        );
        let meters = &report["meters"];
        assert!(meters["fuel"].as_u64().unwrap_or(0) > 0, "{name}: {meters}");
        assert!(
            meters["tool_calls"].as_u64().unwrap_or(0) >= 1,
            "{name}: {meters}"
        );
        // The run id came at once, as the first progress message.
        let first = &r[i]["progress"][0]["message"];
        assert!(
            first.as_str().unwrap_or_default().starts_with("run "),
            "{name}: first progress: {}",
            r[i]["progress"]
        );
    }

    // Cross-check every tool finding against the tool called directly
    // (through the same MCP client) with the same arguments.
    let mut direct = Vec::new();
    let mut expected = Vec::new();
    for (i, tool) in [
        (0, "crispr.design_guides"),
        (1, "primer.design"),
        (2, "restriction.digest"),
        (2, "restriction.find_sites"),
        (3, "seq.parse_fasta"),
        (3, "seq.stats"),
    ] {
        let found = findings_of(&r[i]["structured"]["report"], tool);
        assert!(!found.is_empty(), "run {i} has no {tool} finding: {}", r[i]);
        for f in found {
            direct.push(json!({"name": tool, "arguments": f["args"]}));
            expected.push((tool, f["result"].clone()));
        }
    }
    let got = calls(&server.url, &Value::Array(direct));
    for ((tool, want), got) in expected.iter().zip(&got) {
        assert_eq!(got["is_error"], false, "{tool}: {got}");
        assert_eq!(
            unwrap_value(&got["structured"]),
            unwrap_value(want),
            "{tool}: the report's result differs from the tool's"
        );
    }
    // The report shows the top guide.
    let crispr = &r[0]["structured"]["report"];
    let guides = unwrap_value(&findings_of(crispr, "crispr.design_guides")[0]["result"]).clone();
    let top = guides
        .as_array()
        .or_else(|| guides["guides"].as_array())
        .and_then(|g| g.first())
        .unwrap_or_else(|| panic!("no guides: {guides}"));
    let protospacer = top["protospacer"].as_str().unwrap();
    assert!(
        crispr["markdown"].as_str().unwrap().contains(protospacer),
        "the report lacks the top guide {protospacer}"
    );
    // The cloning report names the enzymes that cut.
    let cloning = r[2]["structured"]["report"]["markdown"].as_str().unwrap();
    assert!(
        cloning.contains("EcoRI") && cloning.contains("BsaI"),
        "{cloning}"
    );

    // The trace replays the run: the task, every role's step with its
    // handoff, the tool calls with arguments, results and meters, the end.
    let trace = &r[4]["structured"];
    assert_eq!(trace["status"], "succeeded", "{trace}");
    let events = trace["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"task"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"finished"), "{kinds:?}");
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    for role in ["planner", "retriever", "coder", "evaluator", "reporter"] {
        assert!(
            events
                .iter()
                .any(|e| e["kind"] == "step" && e["role"] == role),
            "no step of {role}: {kinds:?}"
        );
    }
    let handoffs: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["kind"] == "handoff")
        .map(|e| {
            (
                e["payload"]["from"].as_str().unwrap(),
                e["payload"]["to"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        &handoffs[..4],
        &[
            ("planner", "retriever"),
            ("retriever", "coder"),
            ("coder", "evaluator"),
            ("evaluator", "reporter")
        ],
        "{handoffs:?}"
    );
    let tool_call = events
        .iter()
        .find(|e| e["kind"] == "tool_call" && e["payload"]["tool"] == "crispr.design_guides")
        .unwrap_or_else(|| panic!("no traced tool call: {kinds:?}"));
    assert_eq!(tool_call["payload"]["args"]["sequence"], target);
    assert!(tool_call["payload"]["meters"]["fuel"].as_u64().unwrap() > 0);
    assert!(events.iter().any(|e| e["kind"] == "reasoning"), "{kinds:?}");

    // The quote says what it is based on.
    let quote = &r[5]["structured"];
    assert_eq!(r[5]["is_error"], false, "{}", r[5]);
    assert!(quote["max_fen"].as_i64().unwrap() >= quote["min_fen"].as_i64().unwrap());
    assert_eq!(quote["template"], "crispr_knockout");
    assert!(quote["basis"].as_str().unwrap().contains("fuel"), "{quote}");

    // Dual-use harm is refused with an explanation.
    assert_eq!(r[6]["is_error"], true, "{}", r[6]);
    assert!(
        r[6]["text"].as_str().unwrap().contains("biosafety"),
        "{}",
        r[6]
    );
    // A free-form task without an LLM says how to configure one.
    assert_eq!(r[7]["is_error"], true, "{}", r[7]);
    assert!(
        r[7]["text"]
            .as_str()
            .unwrap()
            .contains("BIOAI_LLM_PROVIDER"),
        "{}",
        r[7]
    );
    // A template without its required input names it.
    assert_eq!(r[8]["is_error"], true, "{}", r[8]);
    assert!(
        r[8]["text"].as_str().unwrap().contains("sequence"),
        "{}",
        r[8]
    );
}

/// A FASTA of `n` records of `len` bases each.
fn many_records(n: usize, len: usize) -> String {
    (0..n)
        .map(|i| format!(">rec{i}\n{}\n", dna(100 + i as u64, len)))
        .collect()
}

#[test]
fn retries_failed_tools_budgets_and_cancellation() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path());
    // Every guide has a homopolymer of five: the evaluator rejects, the
    // coder retries twice with a wider GC window, then the reporter writes
    // up what there is, with the rejection.
    let flagged = "TTTTTCGGAAAAAGCC".repeat(20);
    let runs = json!([
        {"name": "bio_agent.run_task", "arguments": {
            "task": "CRISPR knockout guides", "inputs": {"sequence": flagged}}},
        {"name": "bio_agent.stream_trace", "arguments": {"run_id": "$run_id:0"}},
        // A target outside the template: primer.design fails.
        {"name": "bio_agent.run_task", "arguments": {
            "task": "PCR primers", "template": "pcr_primers",
            "inputs": {"template": dna(21, 300), "target_start": 5000, "target_length": 40}}},
        {"name": "bio_agent.stream_trace", "arguments": {"run_id": "$run_id:2"}},
        // One fen: the planner's step spends it.
        {"name": "bio_agent.run_task", "arguments": {
            "task": "QC this FASTA", "budget_fen": 1,
            "inputs": {"fasta": many_records(2, 100)}}},
        // Abandoned by the client: the run is cancelled.
        {"name": "bio_agent.run_task", "cancel_after_s": 1.5, "arguments": {
            "task": "QC this FASTA", "inputs": {"fasta": many_records(200, 20_000)}}},
        {"name": "bio_agent.stream_trace", "arguments": {"run_id": "$run_id:5", "follow": true}},
    ]);
    let r = calls(&server.url, &runs);

    // Retries, exhausted into the reporter.
    let s = &r[0]["structured"];
    assert_eq!(s["status"], "succeeded", "{}", r[0]);
    let markdown = s["report"]["markdown"].as_str().unwrap();
    let events = r[1]["structured"]["events"].as_array().unwrap();
    let retries: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "handoff" && e["payload"]["from"] == "evaluator")
        .map(|e| &e["payload"])
        .collect();
    assert_eq!(retries.len(), 3, "{retries:?}");
    assert_eq!(retries[0]["to"], "coder");
    assert_eq!(retries[0]["retry"], 1);
    assert_eq!(retries[1]["retry"], 2);
    assert_eq!(retries[2]["to"], "reporter");
    assert_eq!(retries[2]["exhausted"], true);
    let coder_steps = events
        .iter()
        .filter(|e| e["kind"] == "step" && e["role"] == "coder")
        .count();
    assert_eq!(coder_steps, 3, "the coder ran once and was retried twice");
    // The retries widened the GC window (0.4-0.6, then 0.3-0.7, 0.2-0.8).
    let windows: Vec<(f64, f64)> = events
        .iter()
        .filter(|e| e["kind"] == "tool_call" && e["payload"]["tool"] == "crispr.design_guides")
        .map(|e| {
            let a = &e["payload"]["args"];
            (a["min_gc"].as_f64().unwrap(), a["max_gc"].as_f64().unwrap())
        })
        .collect();
    assert_eq!(windows.len(), 3, "{windows:?}");
    assert!(
        windows[1].0 < windows[0].0 && windows[2].1 > windows[1].1,
        "{windows:?}"
    );
    assert!(!markdown.is_empty());

    // A failed tool call is traced with its error and the run still reports.
    let pcr_events = r[3]["structured"]["events"].as_array().unwrap();
    let failed = pcr_events
        .iter()
        .find(|e| e["kind"] == "tool_call" && e["payload"]["tool"] == "primer.design")
        .unwrap_or_else(|| panic!("no primer.design call: {}", r[3]));
    assert!(
        failed["payload"]["error"]["message"].as_str().is_some(),
        "{failed}"
    );

    // Budget exhaustion stops the run with the reason.
    assert_eq!(r[4]["is_error"], true, "{}", r[4]);
    let s = &r[4]["structured"];
    assert_eq!(s["status"], "failed", "{s}");
    assert!(
        s["error"].as_str().unwrap().contains("budget is exhausted"),
        "{s}"
    );

    // The abandoned run was cancelled, and its trace ends saying so.
    assert_eq!(
        r[5]["cancelled"], true,
        "the run finished before the client gave up: {}",
        r[5]
    );
    let trace = &r[6]["structured"];
    assert_eq!(trace["status"], "cancelled", "{}", r[6]);
    // Long enough to come in pages when the run got far before the client
    // gave up (its 200 records each have a traced `seq.stats` call).
    let events = whole_trace(&server.url, trace);
    let last = events.last().unwrap().clone();
    assert_eq!(last["kind"], "finished");
    assert_eq!(last["payload"]["status"], "cancelled");
}

#[test]
fn a_restarted_host_resumes_unfinished_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve(dir.path());
    let fasta = many_records(200, 20_000);
    // A long run, its client waiting for it while the host is killed.
    let url = server.url.clone();
    let runner = std::thread::spawn(move || {
        let calls = json!([{"name": "bio_agent.run_task", "arguments": {
            "task": "QC this FASTA", "inputs": {"fasta": fasta}}}]);
        drop(client_output(&url, &calls));
    });
    // Wait until the coder is working (the planner's and retriever's steps
    // are persisted), then kill the host without warning.
    let db = dir.path().join("bioai.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt
        .block_on(bioai::store::Store::open(&format!(
            "sqlite://{}",
            db.display()
        )))
        .expect("open the server's database");
    let started = std::time::Instant::now();
    let run_id = loop {
        assert!(
            started.elapsed().as_secs() < 120,
            "the run never reached the coder"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
        let at_coder = rt.block_on(async {
            for (tenant, id) in store.unfinished_runs().await.ok()? {
                let run = store.run(tenant, id).await.ok()??;
                if run.next_role.as_deref() == Some("coder") {
                    return Some(id);
                }
            }
            None
        });
        if let Some(id) = at_coder {
            break id.to_string();
        }
    };
    rt.block_on(store.close());
    std::thread::sleep(std::time::Duration::from_millis(300));
    let _ = server.child.kill();
    let _ = server.child.wait();
    let _ = runner.join();

    let server = serve(dir.path());
    let r = calls(
        &server.url,
        &json!([{"name": "bio_agent.stream_trace", "arguments": {"run_id": run_id}}]),
    );
    let trace = &r[0]["structured"];
    assert_eq!(trace["status"], "succeeded", "{}", r[0]);
    // A long trace comes in pages.
    let events = whole_trace(&server.url, trace);
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "pages lost events"
    );
    let resumed = events
        .iter()
        .position(|e| e["kind"] == "resumed")
        .unwrap_or_else(|| panic!("no resumed event: {events:?}"));
    assert_eq!(events[resumed]["payload"]["next_role"], "coder");
    assert_eq!(events.last().unwrap()["payload"]["status"], "succeeded");
}

#[test]
fn an_llm_driven_run_through_mcp_plans_repairs_retries_and_reports() {
    use bioai_e2e::agent_runs::{LLM_RUN_TASK, script_llm_run};
    use bioai_e2e::llm_standin::LlmStandIn;
    // The stand-in LLM runs on this runtime for the whole test.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let llm = rt.block_on(LlmStandIn::start());
    script_llm_run(&llm);

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(
        &["--data-dir".into(), dir.path().into()],
        &[
            ("BIOAI_LLM_PROVIDER", "openai".to_string()),
            ("BIOAI_LLM_BASE_URL", llm.openai_base()),
            ("BIOAI_LLM_MODEL", "gpt-standin".to_string()),
            ("BIOAI_LLM_API_KEY", "sk-test".to_string()),
        ],
    );
    let r = calls(
        &server.url,
        &json!([
            {"name": "bio_agent.run_task", "arguments": {"task": LLM_RUN_TASK}},
            {"name": "bio_agent.stream_trace", "arguments": {"run_id": "$run_id:0"}},
        ]),
    );
    let s = &r[0]["structured"];
    assert_eq!(s["status"], "succeeded", "{}", r[0]);
    assert_eq!(llm.pending(), 0, "every scripted answer was used");
    assert!(s["input_tokens"].as_i64().unwrap() >= 2_600, "{s}");
    let events = r[1]["structured"]["events"].as_array().unwrap();
    for role in ["planner", "retriever", "coder", "evaluator", "reporter"] {
        assert!(
            events
                .iter()
                .any(|e| e["kind"] == "step" && e["role"] == role),
            "no step of {role}"
        );
    }
    assert!(
        events.iter().any(|e| e["kind"] == "handoff"
            && e["payload"]["from"] == "evaluator"
            && e["payload"]["to"] == "coder"),
        "no retry handoff"
    );
    let llm_events: Vec<&Value> = events.iter().filter(|e| e["kind"] == "llm").collect();
    assert_eq!(llm_events.len(), 6, "{llm_events:?}");
    assert!(
        llm_events
            .iter()
            .any(|e| e["payload"]["interrupted"] == true)
    );
    assert!(
        events.iter().any(|e| e["kind"] == "tool_call"
            && e["payload"]["tool"] == "seq.translate"
            && e["payload"]["error"].is_object()),
        "the failed call is not in the trace"
    );
    drop(server);
    drop(rt);
}

/// `bioai serve` with the stand-in LLM configured (OpenAI-compatible, streamed).
fn serve_with_llm(data_dir: &Path, llm: &bioai_e2e::llm_standin::LlmStandIn) -> Server {
    for role in ["planner", "retriever", "coder", "evaluator", "reporter"] {
        need(&root().join(format!("target/plugins/{role}.wasm")));
    }
    Server::start_with_env(
        &["--data-dir".into(), data_dir.into()],
        &[
            ("BIOAI_LLM_PROVIDER", "openai".to_string()),
            ("BIOAI_LLM_BASE_URL", llm.openai_base()),
            ("BIOAI_LLM_MODEL", "gpt-standin".to_string()),
            ("BIOAI_LLM_API_KEY", "sk-test".to_string()),
        ],
    )
}

/// Opens the server's embedded database (the tests read what it stored).
fn open_store(rt: &tokio::runtime::Runtime, data_dir: &Path) -> bioai::store::Store {
    let url = format!("sqlite://{}", data_dir.join("bioai.db").display());
    let store = rt
        .block_on(bioai::store::Store::open(&url))
        .expect("open the server's database");
    rt.block_on(store.migrate()).expect("migrate");
    store
}

#[test]
fn an_llm_driven_run_through_mcp_stops_at_its_budget_and_is_cancelled() {
    use bioai_e2e::agent_runs::LLM_RUN_TASK;
    use bioai_e2e::llm_standin::LlmStandIn;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let llm = rt.block_on(LlmStandIn::start());
    let dir = tempfile::tempdir().unwrap();
    // Tokens priced so that the plan alone (1000 in, 120 out) costs 15 fen.
    let store = open_store(&rt, dir.path());
    rt.block_on(store.upsert_pricing_plan(&bioai::store::PricingPlan {
        id: bioai::store::Uuid::new_v4(),
        name: "default".into(),
        input_fen_per_mtok: 10_000,
        output_fen_per_mtok: 40_000,
        outcome_prices: json!({}),
        active: true,
    }))
    .expect("pricing plan");
    rt.block_on(store.close());

    llm.push(bioai_e2e::agent_runs::llm_plan());
    // The second run's plan takes a minute: the client gives up first.
    llm.push(bioai_e2e::agent_runs::llm_plan().delay(std::time::Duration::from_secs(60)));
    let server = serve_with_llm(dir.path(), &llm);
    let r = calls(
        &server.url,
        &json!([
            {"name": "bio_agent.run_task", "arguments": {"task": LLM_RUN_TASK, "budget_fen": 5}},
            {"name": "bio_agent.stream_trace", "arguments": {"run_id": "$run_id:0"}},
            {"name": "bio_agent.run_task", "cancel_after_s": 2.0,
             "arguments": {"task": LLM_RUN_TASK}},
            {"name": "bio_agent.stream_trace", "arguments": {"run_id": "$run_id:2", "follow": true}},
        ]),
    );

    // The plan's tokens spent the budget: no role ran after the planner.
    assert_eq!(r[0]["is_error"], true, "{}", r[0]);
    let s = &r[0]["structured"];
    assert_eq!(s["status"], "failed", "{s}");
    assert!(
        s["error"].as_str().unwrap().contains("budget is exhausted"),
        "{s}"
    );
    assert!(s["cost_fen"].as_i64().unwrap() >= 15, "{s}");
    let events = r[1]["structured"]["events"].as_array().unwrap();
    let llm_calls: Vec<&Value> = events.iter().filter(|e| e["kind"] == "llm").collect();
    assert_eq!(llm_calls.len(), 1, "{llm_calls:?}");
    assert_eq!(llm_calls[0]["payload"]["cost_fen"], 15);
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "budget" && e["payload"]["kind"] == "cost"),
        "no budget event: {events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| e["kind"] == "step" && e["role"] == "coder"),
        "a role ran past the budget"
    );

    // The abandoned run was cancelled while the model was still answering.
    assert_eq!(r[2]["cancelled"], true, "{}", r[2]);
    let trace = &r[3]["structured"];
    assert_eq!(trace["status"], "cancelled", "{}", r[3]);
    let last = trace["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["payload"]["status"], "cancelled");
    assert_eq!(llm.pending(), 0);
    assert_eq!(
        llm.requests().len(),
        2,
        "the plan was asked for once per run"
    );
    drop(server);
    drop(rt);
}

#[test]
fn an_llm_driven_run_resumes_after_a_host_restart_without_repeating_its_calls() {
    use bioai_e2e::agent_runs::LLM_RUN_TASK;
    use bioai_e2e::llm_standin::{LlmStandIn, Reply};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let llm = rt.block_on(LlmStandIn::start());
    // The plan; the coder's request for a repair, which the host is killed
    // while waiting for; after the restart: the repair, the evaluator's
    // acceptance and the reporter's summary.
    llm.push(bioai_e2e::agent_runs::llm_plan());
    llm.push(bioai_e2e::agent_runs::llm_repair().delay(std::time::Duration::from_secs(120)));
    llm.push(bioai_e2e::agent_runs::llm_repair());
    llm.push(Reply::text(
        r#"{"verdict": "accept", "reason": "both results answer the task"}"#,
        500,
        20,
    ));
    llm.push(Reply::text(
        "GGCCAT is two-thirds GC; ATGGCCTAA encodes MA.",
        800,
        40,
    ));

    let dir = tempfile::tempdir().unwrap();
    let mut server = serve_with_llm(dir.path(), &llm);
    let url = server.url.clone();
    let runner = std::thread::spawn(move || {
        let calls = json!([{"name": "bio_agent.run_task", "arguments": {"task": LLM_RUN_TASK}}]);
        drop(client_output(&url, &calls));
    });
    // Wait until the coder has run the plan (both calls journaled) and asks
    // the model for a repair; then kill the host without warning.
    let started = std::time::Instant::now();
    while llm.requests().len() < 2 {
        assert!(
            started.elapsed().as_secs() < 120,
            "the coder never asked for a repair"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // At once: a run's calls are recorded with their journal entries, not
    // left in the call recorder's batch.
    let _ = server.child.kill();
    let _ = server.child.wait();
    let _ = runner.join();

    let store = open_store(&rt, dir.path());
    let (tenant, run_id) = rt
        .block_on(store.unfinished_runs())
        .expect("unfinished runs")
        .first()
        .copied()
        .expect("the run is unfinished");
    let journal = rt
        .block_on(store.step_journal(tenant, run_id, 3))
        .expect("journal");
    assert_eq!(
        journal.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["tool", "tool"],
        "the coder's two plan calls are journaled"
    );
    let cost_before = rt
        .block_on(store.run(tenant, run_id))
        .unwrap()
        .unwrap()
        .cost_fen;
    rt.block_on(store.close());

    let server = serve_with_llm(dir.path(), &llm);
    let r = calls(
        &server.url,
        &json!([{"name": "bio_agent.stream_trace",
                 "arguments": {"run_id": run_id.to_string(), "follow": true}}]),
    );
    let trace = &r[0]["structured"];
    assert_eq!(trace["status"], "succeeded", "{}", r[0]);
    assert_eq!(llm.pending(), 0, "every scripted answer was used");
    let asked: Vec<String> = llm
        .requests()
        .iter()
        .map(|q| q.body["messages"][0]["content"].to_string())
        .collect();
    assert_eq!(
        asked.len(),
        5,
        "the plan was not asked for again: {asked:?}"
    );

    let events = trace["events"].as_array().unwrap();
    let resumed = events
        .iter()
        .position(|e| e["kind"] == "resumed")
        .unwrap_or_else(|| panic!("no resumed event: {events:?}"));
    let coder_again = events[resumed + 1..]
        .iter()
        .find(|e| e["kind"] == "step")
        .expect("a step after the restart");
    assert_eq!(coder_again["role"], "coder");
    assert_eq!(coder_again["payload"]["replaying"], 2);
    // Each plan call is in the trace once: the re-run replayed them.
    let gc = events
        .iter()
        .filter(|e| e["kind"] == "tool_call" && e["payload"]["tool"] == "seq.gc_content")
        .count();
    assert_eq!(gc, 1, "seq.gc_content traced {gc} times");
    let translate = events
        .iter()
        .filter(|e| e["kind"] == "tool_call" && e["payload"]["tool"] == "seq.translate")
        .count();
    assert_eq!(translate, 2, "the failed call and its repair");

    // Executed and billed once: one tool_calls row per call, and the run's
    // cost grew only by what ran after the restart.
    let store = open_store(&rt, dir.path());
    let rows = rt
        .block_on(store.tool_calls(tenant, 1_000))
        .expect("tool calls");
    let gc_rows = rows
        .iter()
        .filter(|c| c.run_id == Some(run_id) && c.tool.ends_with("gc_content"))
        .count();
    assert_eq!(gc_rows, 1, "seq.gc_content ran more than once");
    let run = rt.block_on(store.run(tenant, run_id)).unwrap().unwrap();
    assert!(
        run.cost_fen >= cost_before,
        "{} < {cost_before}",
        run.cost_fen
    );
    let usage = rt.block_on(store.usage_events(tenant)).expect("usage");
    let billed: i64 = usage
        .iter()
        .filter(|u| u.run_id == Some(run_id) && u.kind == "input_tokens")
        .map(|u| u.quantity)
        .sum();
    // The plan, the repair, the verdict and the summary: the request the
    // killed host never got an answer to is not billed.
    assert_eq!(billed, 1_000 + 300 + 500 + 800);
    assert_eq!(run.input_tokens, billed);
    rt.block_on(store.close());
    drop(server);
    drop(rt);
}

#[test]
fn run_task_as_an_mcp_task_with_the_official_tasks_client() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path());
    let node = need(&root().join("tests/mcp/node_modules/.bin/node"));
    let given = json!({
        "inputs": {"sequence": dna(7, 600)},
        "longInputs": {"fasta": many_records(200, 20_000)},
    });
    let mut child = Command::new(node)
        .arg(root().join("tests/mcp/tasks_client.mjs"))
        .args(["--url", &server.url])
        .current_dir(root().join("tests/mcp"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the Tasks client");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(given.to_string().as_bytes());
    });
    let out = child.wait_with_output().expect("wait for the Tasks client");
    let _ = writer.join();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the Tasks client failed: {}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    let r: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {stderr}"));
    assert!(
        r["extensions"]["io.modelcontextprotocol/tasks"].is_object(),
        "the tasks extension is not advertised: {r}"
    );
    // A task, seen working, then completed with the run's report.
    assert_eq!(r["kind"], "task", "{r}");
    assert!(r["taskId"].as_str().is_some_and(|t| !t.is_empty()), "{r}");
    assert_eq!(r["outcome"], "completed", "{r}");
    assert_eq!(r["lastStatus"], "completed", "{r}");
    assert_eq!(r["isError"], false, "{r}");
    let s = &r["structured"];
    assert_eq!(s["status"], "succeeded", "{s}");
    assert!(
        !findings_of(&s["report"], "crispr.design_guides").is_empty(),
        "no guides in the report: {s}"
    );
    // Cancelling the task cancels the run.
    assert_eq!(r["longKind"], "task", "{r}");
    assert_eq!(r["longOutcome"], "cancelled", "{r}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = open_store(&rt, dir.path());
    let tenant = rt.block_on(store.local_user()).unwrap();
    let started = std::time::Instant::now();
    loop {
        let runs = rt.block_on(store.runs(tenant, 10)).unwrap();
        let qc = runs
            .iter()
            .find(|run| run.task == "QC this FASTA")
            .expect("the long run exists");
        if qc.status.is_finished() {
            assert_eq!(qc.status.as_str(), "cancelled", "{qc:?}");
            break;
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "the cancelled task's run is still {}",
            qc.status.as_str()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    rt.block_on(store.close());
}

#[test]
fn gene_lookup_through_mcp_reports_what_the_database_tools_answer() {
    use bioai_e2e::gene_standin::{policies, stand_in};
    for p in ["ensembl", "ncbi"] {
        need(&root().join(format!("target/plugins/{p}.wasm")));
    }
    // Ensembl and NCBI stand-ins, and the shipped policies with those two
    // plugins pointed at them, replacing `policies/` (BIOAI_POLICY_DIRS).
    let rt = tokio::runtime::Runtime::new().unwrap();
    let port = rt.block_on(stand_in());
    let dir = tempfile::tempdir().unwrap();
    let policy_dir = dir.path().join("policies");
    std::fs::create_dir_all(&policy_dir).unwrap();
    policies(&policy_dir, port);
    let server = Server::start_with_env(
        &["--data-dir".into(), dir.path().join("data").into()],
        &[(
            "BIOAI_POLICY_DIRS",
            policy_dir.to_string_lossy().into_owned(),
        )],
    );
    let r = calls(
        &server.url,
        &json!([{"name": "bio_agent.run_task", "arguments": {
            "task": "Look up the gene BRAF", "inputs": {"symbol": "BRAF"}}}]),
    );
    let s = &r[0]["structured"];
    assert_eq!(s["status"], "succeeded", "{}", r[0]);
    let markdown = s["report"]["markdown"].as_str().unwrap();
    for expected in ["ENSG00000157764", "140719327", "protein_coding", "673"] {
        assert!(
            markdown.contains(expected),
            "the report lacks {expected}:\n{markdown}"
        );
    }
    // Each finding equals the tool's own answer, called by the same client.
    let findings: Vec<&Value> = s["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["tool"].is_string())
        .collect();
    assert!(findings.len() >= 2, "{findings:?}");
    let direct = calls(
        &server.url,
        &Value::Array(
            findings
                .iter()
                .map(|f| json!({"name": f["tool"], "arguments": f["args"]}))
                .collect(),
        ),
    );
    for (f, d) in findings.iter().zip(&direct) {
        assert_eq!(d["is_error"], false, "{}: {d}", f["tool"]);
        assert_eq!(
            unwrap_value(&d["structured"]),
            &f["result"],
            "{}: the report differs from the tool",
            f["tool"]
        );
    }
    drop(server);
    drop(rt);
}
