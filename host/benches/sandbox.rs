//! Python sandbox benchmark:
//!
//! - `print(1)` end to end, p50/p99: in-process (`Sandbox::run`) and over MCP
//!   (`tools/call sandbox.run_python` over real HTTP on loopback, through the
//!   production stack `bioai::http::app`);
//! - a numeric loop (sum of squares to 10^6) in the component versus the
//!   host's native `python3`, timed inside Python so start-up is excluded;
//! - a small script and a bundled package, in the component;
//! - the local bubblewrap fallback's start-up and a numpy script.
//!
//! The component engine is warm (compiled component cached, instance pool
//! warm), as on a running server.
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
        "{label:<44} n={:<4} p50 {:>8.2} ms  p99 {:>8.2} ms  (engine wall p50 {:>8.2} ms)",
        total.len(),
        ms(percentile(total, 0.5)),
        ms(percentile(total, 0.99)),
        ms(percentile(engine, 0.5)),
    );
}

/// Seconds the loop took, measured inside Python (start-up excluded).
const SUM_OF_SQUARES: &str = "import time\nt = time.perf_counter()\ns = sum(i * i for i in range(10**6))\nassert s == 333332833333500000\ntime.perf_counter() - t";

/// The numeric loop in the component (best of `n`), in seconds.
async fn loop_in_component(sandbox: &Sandbox, n: usize) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..n {
        let out = sandbox
            .run(&RunRequest::new(SUM_OF_SQUARES), &RunContext::default())
            .await
            .expect("the run starts");
        let secs = out
            .value
            .as_ref()
            .and_then(|v| v.json.as_ref())
            .and_then(|j| j.as_f64())
            .unwrap_or_else(|| panic!("no loop time: {:?} {:?}", out.exception, out.error));
        best = best.min(secs);
    }
    best
}

/// The numeric loop in the host's `python3` (best of `n`), in seconds.
fn loop_native(n: usize) -> Option<f64> {
    let mut best = f64::MAX;
    for _ in 0..n {
        let script =
            SUM_OF_SQUARES.replace("time.perf_counter() - t", "print(time.perf_counter() - t)");
        let out = std::process::Command::new("python3")
            .args(["-c", &script])
            .output()
            .ok()?;
        let secs: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
        best = best.min(secs);
    }
    Some(best)
}

/// `print(1)` over MCP: a server with the sandbox as its only tool, and
/// one keep-alive client connection sending 2026-07-28 requests.
async fn over_mcp(sandbox: Arc<Sandbox>, runtime: Arc<Runtime>, n: usize) -> Vec<Duration> {
    use bioai::catalog::Catalog;
    use bioai::config::Settings;
    use bioai::mcp::http::McpHttpConfig;
    use bioai::policy::PolicySet;
    use bioai::registry::Registry;
    use bioai::sandbox::RunPython;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};

    let mut registry = Registry::new(runtime, PolicySet::empty());
    registry
        .add_host_tool(Arc::new(RunPython::new(sandbox)))
        .expect("the sandbox tool is added");
    let app = bioai::http::app(
        Catalog::new(registry, &Settings::from_env()),
        &McpHttpConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });

    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (mut send, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(conn);
    let mut latencies = Vec::with_capacity(n);
    for i in 0..n + 5 {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"sandbox.run_python","arguments":{{"code":"print(1)"}},"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}},"io.modelcontextprotocol/clientInfo":{{"name":"bench","version":"1"}}}}}}}}"#
        );
        let request = http::Request::post("/mcp")
            .header("host", addr.to_string())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "sandbox.run_python")
            .body(Full::new(Bytes::from(body)))
            .expect("request builds");
        let t = Instant::now();
        send.ready().await.expect("the connection stays open");
        let response = send.send_request(request).await.expect("response");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let elapsed = t.elapsed();
        let reply: serde_json::Value = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
        assert_eq!(
            reply["result"]["structuredContent"]["stdout"], "1\n",
            "unexpected response: {reply}"
        );
        // The first calls warm the connection and caches.
        if i >= 5 {
            latencies.push(elapsed);
        }
    }
    latencies.sort();
    latencies
}

fn main() {
    // As `bioai` does at start-up, so the figures are the server's.
    // SAFETY: the first statement of `main`; no other thread exists yet.
    unsafe { bioai::tune_process() };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio")
        .block_on(run());
}

async fn run() {
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
        "component: `print(1)` in-process",
        &measure(&sandbox, "print(1)", &[], n).await,
    );
    let sandbox = Arc::new(sandbox);
    let mcp = over_mcp(sandbox.clone(), runtime.clone(), n).await;
    println!(
        "{:<44} n={:<4} p50 {:>8.2} ms  p99 {:>8.2} ms",
        "component: `print(1)` over MCP (HTTP)",
        mcp.len(),
        ms(percentile(&mcp, 0.5)),
        ms(percentile(&mcp, 0.99)),
    );
    let reps = if full { 5 } else { 1 };
    let in_component = loop_in_component(&sandbox, reps).await;
    match loop_native(reps) {
        Some(native) => println!(
            "sum of squares to 10^6: component {:.1} ms   native python3 {:.1} ms   ratio {:.2}x",
            in_component * 1e3,
            native * 1e3,
            in_component / native
        ),
        None => println!(
            "sum of squares to 10^6: component {:.1} ms   native python3: not available",
            in_component * 1e3
        ),
    }
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
