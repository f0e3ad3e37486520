//! Agent runs: the swarm engine's own cost per step (everything but the
//! role components and the tools they call: reading and persisting the
//! state, routing, trace events, dispatch) and the wall time of whole
//! offline template runs, in process, on the embedded SQLite store.
//!
//! Overhead per step = (run wall time - sum of the role steps' wall time) /
//! steps, where a role step's wall time (its meters) includes the tool
//! calls it makes. No LLM is involved (the built-in templates).
//!
//! `cargo bench -p bioai --bench agents` (needs the plugins and roles in
//! `target/plugins`, built by `cargo xtask bench` or `cargo xtask test`).
//! Under `cargo test` it runs one run of each template as a smoke test.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bioai::agents::{RunRequest, Swarm};
use bioai::catalog::Catalog;
use bioai::config::Settings;
use bioai::store::RunStatus;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

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

fn templates() -> Vec<(&'static str, Value)> {
    vec![
        (
            "crispr_knockout",
            json!({"sequence": dna(1, 2_000), "gene": "BENCH1"}),
        ),
        (
            "pcr_primers",
            json!({"template": dna(2, 1_000), "target_start": 400, "target_length": 80}),
        ),
        (
            "cloning_check",
            json!({"sequence": format!("{}GAATTC{}GGTCTC{}", dna(3, 800), dna(4, 600), dna(5, 400))}),
        ),
        (
            "sequence_qc",
            json!({"fasta": (0..5).map(|i| format!(">r{i}\n{}\n", dna(10 + i, 1_500))).collect::<String>()}),
        ),
    ]
}

struct RunFigures {
    wall: Duration,
    roles: Duration,
    steps: u64,
    tool_calls: u64,
}

async fn one_run(
    swarm: &Arc<Swarm>,
    tenant: bioai::store::UserId,
    template: &str,
    inputs: &Value,
) -> RunFigures {
    let t = Instant::now();
    let id = swarm
        .start(
            tenant,
            RunRequest {
                task: format!("bench {template}"),
                template: Some(template.to_string()),
                inputs: inputs.clone(),
                ..RunRequest::default()
            },
            None,
        )
        .await
        .expect("the run starts");
    let run = swarm
        .wait(tenant, id, &CancellationToken::new())
        .await
        .expect("the run ends");
    let wall = t.elapsed();
    assert_eq!(
        run.status,
        RunStatus::Succeeded,
        "{template}: {:?}",
        run.error
    );
    let events = swarm
        .store()
        .run_events(tenant, id, 0, 100_000)
        .await
        .expect("trace");
    let mut roles = Duration::ZERO;
    let mut steps = 0;
    let mut tool_calls = 0;
    for e in &events {
        match e.kind.as_str() {
            "handoff" | "report" => {
                steps += 1;
                roles +=
                    Duration::from_micros(e.payload["meters"]["wall_us"].as_u64().unwrap_or(0));
            }
            "tool_call" => tool_calls += 1,
            _ => {}
        }
    }
    RunFigures {
        wall,
        roles,
        steps,
        tool_calls,
    }
}

fn main() {
    // SAFETY: first thing in main, before any other thread exists.
    unsafe { bioai::tune_process() };
    let bench = std::env::args().any(|a| a == "--bench");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(bench));
}

async fn run(bench: bool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ is inside the workspace")
        .to_path_buf();
    let plugins = root.join("target/plugins");
    for role in [
        "planner",
        "retriever",
        "coder",
        "evaluator",
        "reporter",
        "crispr",
    ] {
        let p = plugins.join(format!("{role}.wasm"));
        assert!(
            p.is_file(),
            "{} missing: run `cargo xtask bench`",
            p.display()
        );
    }
    let data = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::from_env();
    settings.plugin_dirs = vec![plugins];
    settings.policy_dirs = vec![root.join("policies")];
    settings.data_dir = data.path().to_path_buf();
    settings.database_url = None;
    settings.compiled_cache = Some(root.join("target/test-cache"));
    let registry = bioai::start(&settings).await.expect("the host starts");
    let catalog = Catalog::new(registry, &settings);
    let swarm = bioai::start_agents(&settings, &catalog, false)
        .await
        .expect("the agents start");
    let tenant = swarm.store().local_user().await.expect("local user");

    let runs = if bench { 20 } else { 1 };
    println!("agent runs, offline templates, SQLite, {runs} runs each (after 1 warm-up run)");
    println!(
        "{:<16} {:>10} {:>10} {:>6} {:>6} {:>14} {:>14}",
        "template", "run p50", "run mean", "steps", "tools", "overhead/step", "(p50 of runs)"
    );
    let mut all_overheads = Vec::new();
    for (template, inputs) in templates() {
        one_run(&swarm, tenant, template, &inputs).await;
        let mut walls = Vec::new();
        let mut overheads = Vec::new();
        let mut last = None;
        for _ in 0..runs {
            let f = one_run(&swarm, tenant, template, &inputs).await;
            walls.push(f.wall);
            let per_step = f.wall.saturating_sub(f.roles) / (f.steps.max(1) as u32);
            overheads.push(per_step);
            last = Some((f.steps, f.tool_calls));
        }
        walls.sort();
        overheads.sort();
        let mean = walls.iter().sum::<Duration>() / walls.len() as u32;
        let (steps, tools) = last.unwrap_or_default();
        let mean_overhead = overheads.iter().sum::<Duration>() / overheads.len() as u32;
        all_overheads.extend(overheads.iter().copied());
        println!(
            "{:<16} {:>8.1}ms {:>8.1}ms {:>6} {:>6} {:>12.2}ms {:>12.2}ms",
            template,
            walls[walls.len() / 2].as_secs_f64() * 1e3,
            mean.as_secs_f64() * 1e3,
            steps,
            tools,
            mean_overhead.as_secs_f64() * 1e3,
            overheads[overheads.len() / 2].as_secs_f64() * 1e3,
        );
    }
    all_overheads.sort();
    println!(
        "orchestration overhead per step over all runs: p50 {:.2} ms, p99 {:.2} ms (target: under 5 ms)",
        all_overheads[all_overheads.len() / 2].as_secs_f64() * 1e3,
        all_overheads[(all_overheads.len() * 99 / 100).min(all_overheads.len() - 1)].as_secs_f64()
            * 1e3,
    );
    if let Some(r) = catalog.registry().recorder() {
        let _ = r.shutdown().await;
    }
}
