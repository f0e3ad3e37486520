//! MCP load benchmark: `tools/call` of a trivial tool (`bench.noop`) over
//! real HTTP on loopback, at concurrency 1, 8 and 64; prints throughput and
//! p50/p99 latency per concurrency.
//!
//! The server is the production stack (`bioai::http::app`: axum + rmcp +
//! registry + wasmtime); the client is hyper with one keep-alive connection
//! per concurrent worker, sending 2026-07-28 stateless requests with the
//! required headers and `_meta`. Both share the machine's cores, as any
//! loopback client would.
//!
//! Then, at concurrency 1, latency with call recording off versus on
//! (SQLite), as an MCP client sees it.
//!
//! Run: `cargo bench -p bioai --bench mcp` (after `cargo xtask build` or
//! `cargo xtask test` built the test plugins). Under `cargo test` it runs a
//! few calls only, as a smoke test.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bioai::catalog::Catalog;
use bioai::config::Settings;
use bioai::mcp::http::McpHttpConfig;
use bioai::policy::PolicySet;
use bioai::registry::Registry;
use bioai::runtime::{Runtime, RuntimeConfig};
use bioai::store::{Recorder, RecorderConfig, Store};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};

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

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Starts the production stack on loopback; with `recorder`, every call is
/// recorded through it (as `bioai serve` does with its database).
async fn server(recorder: Option<Recorder>) -> std::net::SocketAddr {
    let bench = root().join("target/test-plugins/bench.wasm");
    assert!(
        bench.is_file(),
        "{} missing: run `cargo xtask build` or `cargo xtask test` first",
        bench.display()
    );
    let runtime = Arc::new(
        Runtime::new(&RuntimeConfig {
            cache_dir: Some(root().join("target/bench-cache")),
            max_concurrent_instances: 128,
            ..RuntimeConfig::default()
        })
        .expect("runtime"),
    );
    let mut registry = Registry::new(runtime, PolicySet::empty());
    registry
        .load_file(&bench)
        .await
        .expect("bench plugin loads");
    if let Some(recorder) = recorder {
        registry.set_recorder(recorder);
    }
    let catalog = Catalog::new(registry, &Settings::from_env());
    let app = bioai::http::app(catalog, &McpHttpConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    // As `bioai serve` does: no Nagle delay on accepted connections.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    addr
}

fn call_request(addr: std::net::SocketAddr, id: u64) -> http::Request<Full<Bytes>> {
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"bench.noop","arguments":{{}},"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}},"io.modelcontextprotocol/clientInfo":{{"name":"bench","version":"1"}}}}}}}}"#
    );
    http::Request::post("/mcp")
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "bench.noop")
        .body(Full::new(Bytes::from(body)))
        .expect("request builds")
}

/// One worker: a keep-alive connection sending `calls` requests in turn.
async fn worker(addr: std::net::SocketAddr, calls: usize) -> Vec<Duration> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut send, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let mut latencies = Vec::with_capacity(calls);
    for i in 0..calls {
        // The connection must have finished the previous exchange.
        send.ready().await.expect("connection ready");
        let start = Instant::now();
        let response = send
            .send_request(call_request(addr, i as u64))
            .await
            .expect("response");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        latencies.push(start.elapsed());
        if status != 200 || !body.windows(8).any(|w| w == b"\"result\"") {
            panic!(
                "unexpected response {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    latencies
}

async fn run(addr: std::net::SocketAddr, concurrency: usize, calls: usize) {
    // Warm-up: connections, pooled instances, caches.
    let warm: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(worker(addr, 20.min(calls))))
        .collect();
    for w in warm {
        w.await.expect("warm-up worker");
    }
    let per_worker = (calls / concurrency).max(1);
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(worker(addr, per_worker)))
        .collect();
    let mut all = Vec::with_capacity(per_worker * concurrency);
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let elapsed = start.elapsed();
    all.sort();
    println!(
        "tools/call bench.noop  concurrency {concurrency:>3}: {:>8.0} calls/s  p50 {:>7.1} us  p99 {:>8.1} us  ({} calls)",
        all.len() as f64 / elapsed.as_secs_f64(),
        us(percentile(&all, 0.50)),
        us(percentile(&all, 0.99)),
        all.len(),
    );
}

fn main() {
    // As `bioai` does at start-up, so the figures are the server's.
    // SAFETY: the first statement of `main`; no other thread exists yet.
    unsafe { bioai::tune_process() };
    let full = std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let addr = server(None).await;
        let calls = if full { 20_000 } else { 64 };
        for concurrency in [1, 8, 64] {
            run(addr, concurrency, calls.max(concurrency)).await;
        }
        recording_overhead(addr, if full { 10 } else { 1 }, calls / 10).await;
    });
}

/// Call recording seen from an MCP client: concurrency 1 against the server
/// above (no recorder) and one recording to SQLite (the embedded default),
/// in alternating rounds; then checks that every call was stored.
async fn recording_overhead(plain: std::net::SocketAddr, rounds: usize, calls: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Store::open(&url).await.expect("sqlite");
    store.migrate().await.expect("migrate");
    let recorder = Recorder::spawn(store.clone(), RecorderConfig::default());
    let recorded = server(Some(recorder.clone())).await;
    worker(recorded, 20).await;
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        off.extend(worker(plain, calls).await);
        on.extend(worker(recorded, calls).await);
    }
    recorder.shutdown().await.expect("flush the recorder");
    let stored = store.counts().await.expect("counts").tool_calls as usize;
    assert_eq!(stored, 20 + on.len(), "recorded calls lost");
    off.sort();
    on.sort();
    let mean = |v: &[Duration]| v.iter().map(Duration::as_secs_f64).sum::<f64>() / v.len() as f64;
    let (off_p50, on_p50) = (us(percentile(&off, 0.5)), us(percentile(&on, 0.5)));
    println!(
        "tools/call bench.noop  recording to sqlite, concurrency 1: off p50 {off_p50:.1} us, on p50 {on_p50:.1} us | added latency mean {:+.1}% p50 {:+.1}% ({stored} calls recorded, none lost)",
        (mean(&on) / mean(&off) - 1.0) * 100.0,
        (on_p50 / off_p50 - 1.0) * 100.0,
    );
}
