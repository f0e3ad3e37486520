//! Python sandbox benchmark: start-up latency (a trivial run) and a small
//! script's run time, for the component engine (warm: compiled component
//! cached, instance pool warm) and for the local bubblewrap fallback.
//!
//! Run with `cargo bench -p bioai --bench sandbox` after `cargo xtask build`
//! (which builds `target/sandbox/python.wasm`). Under `cargo test` (no
//! `--bench` argument) it runs a few iterations only, as a smoke test.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bioai::runtime::{Runtime, RuntimeConfig};
use bioai::sandbox::{Fallback, RunContext, RunRequest, Sandbox, SandboxSettings};

const SMALL_SCRIPT: &str = r#"
import json, hashlib, statistics, re
data = [i * 0.5 for i in range(2000)]
digest = hashlib.sha256(json.dumps(data).encode()).hexdigest()
words = re.findall(r"[ACGT]+", "ACGT NNN GATTACA " * 50)
{"mean": statistics.mean(data), "stdev": round(statistics.stdev(data), 6), "digest": digest[:12], "words": len(words)}
"#;

const NUMPY_SCRIPT: &str = r#"
import numpy as np
a = np.arange(100_000, dtype=float)
float(a.mean())
"#;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ is inside the workspace")
        .to_path_buf()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs `code` `n` times; returns the sorted end-to-end latencies of
/// `Sandbox::run` and the sorted engine-reported wall times.
async fn measure(
    sandbox: &Sandbox,
    code: &str,
    requirements: &[&str],
    n: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let mut total = Vec::with_capacity(n);
    let mut engine = Vec::with_capacity(n);
    let ctx = RunContext::default();
    for _ in 0..n {
        let mut req = RunRequest::new(code);
        req.requirements = requirements.iter().map(|s| s.to_string()).collect();
        let t = Instant::now();
        let out = sandbox.run(&req, &ctx).await.expect("the run starts");
        total.push(t.elapsed());
        assert!(
            out.is_success(),
            "benchmark run failed: {:?} {:?}",
            out.exception,
            out.error
        );
        engine.push(Duration::from_micros(out.meters.wall_us));
    }
    total.sort();
    engine.sort();
    (total, engine)
}

fn report(label: &str, (total, engine): &(Vec<Duration>, Vec<Duration>)) {
    println!(
        "{label:<44} n={:<4} p50 {:>8.2} ms  p95 {:>8.2} ms  (engine wall p50 {:>8.2} ms)",
        total.len(),
        ms(percentile(total, 0.5)),
        ms(percentile(total, 0.95)),
        ms(percentile(engine, 0.5)),
    );
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 200 } else { 3 };
    let component = root().join("target/sandbox/python.wasm");
    assert!(
        component.is_file(),
        "{} missing: run `cargo xtask build` first",
        component.display()
    );
    let policy = bioai::policy::load_file(&root().join("policies/python.toml"))
        .unwrap_or_else(|e| panic!("policies/python.toml is valid: {e:?}"));
    let data = tempfile::tempdir().expect("tempdir");
    let runtime = Arc::new(
        Runtime::new(&RuntimeConfig {
            cache_dir: Some(root().join("target/bench-cache")),
            max_concurrent_instances: 16,
            ..RuntimeConfig::default()
        })
        .expect("runtime"),
    );

    let t = Instant::now();
    let settings = SandboxSettings::new(component.clone(), policy.clone(), data.path());
    let sandbox = Sandbox::new(runtime.clone(), settings)
        .await
        .expect("sandbox");
    println!("component load (compiled cache): {:.1} ms", ms(t.elapsed()));
    // Warm up: the first instantiation maps the memory image.
    measure(&sandbox, "None", &[], 3).await;
    report(
        "component: start-up (`1`)",
        &measure(&sandbox, "1", &[], n).await,
    );
    report(
        "component: small script (json/hashlib/stats)",
        &measure(&sandbox, SMALL_SCRIPT, &[], n).await,
    );
    report(
        "component: mpmath (bundled) at 50 digits",
        &measure(
            &sandbox,
            "import mpmath\nmpmath.mp.dps = 50\nstr(mpmath.sqrt(2))",
            &["mpmath"],
            n,
        )
        .await,
    );

    if !Path::new("/usr/bin/bwrap").exists() {
        println!("bwrap fallback: skipped (bubblewrap not installed)");
        return;
    }
    let mut settings = SandboxSettings::new(component, policy, data.path());
    settings.fallback = Fallback::Bwrap(Default::default());
    let native = Sandbox::new(runtime, settings)
        .await
        .expect("bwrap sandbox");
    let m = (n / 4).max(2);
    // `numpy` is not bundled, so these route to the fallback.
    report(
        "bwrap: start-up (`import numpy; 1`)",
        &measure(&native, "import numpy\n1", &["numpy"], m).await,
    );
    report(
        "bwrap: numpy script",
        &measure(&native, NUMPY_SCRIPT, &["numpy"], m).await,
    );
}
