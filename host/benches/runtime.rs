//! Runtime benchmark: per-call overhead of a trivial tool (instantiate, call,
//! drop) at concurrency 1, 2 and 16; compiled-cache load time; and the cost of
//! fuel metering on a CPU-bound function.
//!
//! Run with `cargo xtask bench` (release build, components built first).
//! Under `cargo test` (no `--bench` argument) it runs a few iterations only,
//! as a smoke test of the harness itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bioai::policy::PolicySet;
use bioai::registry::{CallContext, Registry};
use bioai::runtime::{Runtime, RuntimeConfig};
use serde_json::json;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ is inside the workspace")
        .to_path_buf()
}

fn component(dir: &str, name: &str) -> PathBuf {
    let p = root().join("target").join(dir).join(format!("{name}.wasm"));
    assert!(
        p.is_file(),
        "{} missing: run `cargo xtask bench`",
        p.display()
    );
    p
}

struct Scale {
    calls: usize,
    cpu_n: u64,
    repeats: usize,
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

async fn registry(metered: bool, cache: &Path) -> Registry {
    let runtime = Arc::new(
        Runtime::new(&RuntimeConfig {
            cache_dir: Some(cache.to_path_buf()),
            metered,
            max_concurrent_instances: 64,
            ..RuntimeConfig::default()
        })
        .expect("runtime"),
    );
    let mut reg = Registry::new(runtime, PolicySet::empty());
    reg.load_file(&component("test-plugins", "bench"))
        .await
        .expect("bench plugin loads");
    reg
}

async fn trivial_calls(reg: Arc<Registry>, concurrency: usize, calls: usize) {
    // Warm up: first calls populate the pool's warm slots.
    for _ in 0..50.min(calls) {
        let _ = reg
            .call("bench.noop", &json!({}), CallContext::default())
            .await;
    }
    let per_task = calls / concurrency;
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let reg = reg.clone();
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(per_task);
                for _ in 0..per_task {
                    let t = Instant::now();
                    let out = reg
                        .call("bench.noop", &json!({}), CallContext::default())
                        .await
                        .expect("tool exists");
                    assert!(out.result.is_ok(), "{:?}", out.result);
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    let elapsed = start.elapsed();
    all.sort();
    println!(
        "trivial call (bench.noop), concurrency {concurrency:>2}: p50 {:>8.1} us  p99 {:>8.1} us  {:>9.0} calls/s  ({} calls)",
        us(percentile(&all, 0.50)),
        us(percentile(&all, 0.99)),
        all.len() as f64 / elapsed.as_secs_f64(),
        all.len()
    );
}

async fn cpu_bound(reg: &Registry, n: u64, repeats: usize) -> (Duration, u64) {
    let mut best = Duration::MAX;
    let mut fuel = 0;
    for _ in 0..repeats {
        let t = Instant::now();
        let out = reg
            .call(
                "bench.sum_squares",
                &json!({"n": n}),
                CallContext::default(),
            )
            .await
            .expect("tool exists");
        let took = t.elapsed();
        assert!(out.result.is_ok(), "{:?}", out.result);
        best = best.min(took);
        fuel = out.meters.fuel;
    }
    (best, fuel)
}

fn cache_load(cache: &Path) {
    for (dir, name) in [
        ("plugins", "seq"),
        ("test-plugins", "bench"),
        ("test-plugins", "hostile"),
        // CPython compiled to a component by componentize-py (about 18 MB).
        ("test-plugins", "calc"),
    ] {
        let path = component(dir, name);
        let config = RuntimeConfig {
            cache_dir: Some(cache.to_path_buf()),
            max_concurrent_instances: 4,
            ..RuntimeConfig::default()
        };
        let rt = Runtime::new(&config).expect("runtime");
        let t = Instant::now();
        rt.load_file(&path).expect("load");
        let first = t.elapsed();
        let rt2 = Runtime::new(&config).expect("runtime");
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            rt2.load_file(&path).expect("load");
            times.push(t.elapsed());
        }
        times.sort();
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        println!(
            "load {name:<8} ({:>6.0} KiB): first load {:>8.2} ms, from compiled cache {:>6.2} ms (median of 5)",
            size as f64 / 1024.0,
            first.as_secs_f64() * 1e3,
            percentile(&times, 0.5).as_secs_f64() * 1e3
        );
    }
}

fn main() {
    // As `bioai` does at start-up, so the figures are the server's.
    // SAFETY: the first statement of `main`; no other thread exists yet.
    unsafe { bioai::tune_process() };
    let full = std::env::args().any(|a| a == "--bench");
    let scale = if full {
        Scale {
            calls: 20_000,
            cpu_n: 20_000_000,
            repeats: 5,
        }
    } else {
        Scale {
            calls: 64,
            cpu_n: 10_000,
            repeats: 1,
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let cache = tempfile::tempdir().expect("temp dir");
    rt.block_on(async {
        println!("# bioai runtime benchmark ({} mode)", if full { "full" } else { "smoke" });
        let reg = Arc::new(registry(true, cache.path()).await);
        for c in [1, 2, 16] {
            trivial_calls(reg.clone(), c, scale.calls).await;
        }
        let unmetered = registry(false, cache.path()).await;
        let (metered_t, fuel) = cpu_bound(&reg, scale.cpu_n, scale.repeats).await;
        let (plain_t, _) = cpu_bound(&unmetered, scale.cpu_n, scale.repeats).await;
        println!(
            "sum_squares(n={}): metered {:.2} ms ({} fuel), unmetered {:.2} ms, metering overhead {:+.1}%",
            scale.cpu_n,
            metered_t.as_secs_f64() * 1e3,
            fuel,
            plain_t.as_secs_f64() * 1e3,
            (metered_t.as_secs_f64() / plain_t.as_secs_f64() - 1.0) * 100.0
        );
    });
    cache_load(cache.path());
}
