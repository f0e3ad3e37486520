//! Tool-call latency with call recording on versus off: the trivial tool
//! `bench.noop` (where any added cost shows most), called sequentially
//! through a registry without a recorder and through one whose recorder
//! writes to SQLite (the embedded default) or PostgreSQL, in 200 pairs of
//! short off/on blocks: the median ratio of a pair's means is the added
//! latency, robust to the drift of a shared machine that moves whole-run
//! figures by tens of percent. At the end the recorded rows are counted:
//! every call must be stored.
//!
//! `cargo bench -p bioai --bench recording` (needs `target/test-plugins/bench.wasm`,
//! built by `cargo xtask bench` or `cargo xtask test`). Under `cargo test` it
//! runs a few calls as a smoke test. PostgreSQL: `BIOAI_TEST_DATABASE_URL`,
//! else 127.0.0.1:5432 (skipped with a note when unreachable).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bioai::policy::PolicySet;
use bioai::registry::{CallContext, Registry};
use bioai::runtime::{Runtime, RuntimeConfig};
use bioai::store::{NewUser, Recorder, RecorderConfig, Store, Uuid};
use serde_json::json;

fn component() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ is inside the workspace")
        .join("target/test-plugins/bench.wasm");
    assert!(
        p.is_file(),
        "{} missing: run `cargo xtask bench`",
        p.display()
    );
    p
}

async fn registry(runtime: Arc<Runtime>) -> Registry {
    let mut reg = Registry::new(runtime, PolicySet::empty());
    reg.load_file(&component())
        .await
        .expect("bench plugin loads");
    reg
}

/// The latencies of `n` sequential calls.
async fn measure(reg: &Registry, user: Option<Uuid>, n: usize) -> Vec<Duration> {
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let ctx = CallContext {
            user_id: user,
            ..CallContext::default()
        };
        let t = Instant::now();
        let out = reg
            .call("bench.noop", &json!({}), ctx)
            .await
            .expect("tool exists");
        lat.push(t.elapsed());
        assert!(out.result.is_ok(), "{:?}", out.result);
    }
    lat
}

/// Mean latency in microseconds.
fn mean(lat: &[Duration]) -> f64 {
    lat.iter().map(Duration::as_secs_f64).sum::<f64>() / lat.len().max(1) as f64 * 1e6
}

/// Mean and median latency in microseconds.
fn summary(mut lat: Vec<Duration>) -> (f64, f64) {
    lat.sort();
    let p50 = lat.get(lat.len() / 2).map_or(0.0, Duration::as_secs_f64);
    (mean(&lat), p50 * 1e6)
}

async fn compare(name: &str, runtime: Arc<Runtime>, store: Store, calls: usize, rounds: usize) {
    let user = store
        .create_user(&NewUser {
            display_name: "bench".into(),
            ..NewUser::default()
        })
        .await
        .expect("user")
        .id;
    let off = registry(runtime.clone()).await;
    let mut on = registry(runtime).await;
    on.set_recorder(Recorder::spawn(store.clone(), RecorderConfig::default()));
    let before = store.counts().await.expect("counts").tool_calls;
    // Warm both (pool slots, caches).
    let warm = 50.min(calls);
    measure(&off, None, warm).await;
    measure(&on, Some(user), warm).await;
    let (mut all_off, mut all_on) = (Vec::new(), Vec::new());
    // Short blocks in pairs, the order swapped every other pair: drift on
    // the shared machine (other tenants, frequency changes) over a block
    // pair is small, and the ratio of each pair's means cancels what is
    // left. The median of those ratios is the added latency.
    let mut ratios = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let (off_lat, on_lat) = if round % 2 == 0 {
            let off_lat = measure(&off, None, calls / rounds).await;
            (off_lat, measure(&on, Some(user), calls / rounds).await)
        } else {
            let on_lat = measure(&on, Some(user), calls / rounds).await;
            (measure(&off, None, calls / rounds).await, on_lat)
        };
        ratios.push(mean(&on_lat) / mean(&off_lat));
        all_off.extend(off_lat);
        all_on.extend(on_lat);
    }
    on.shutdown_recorder().await.expect("flush");
    let stored = (store.counts().await.expect("counts").tool_calls - before) as usize;
    assert_eq!(stored, warm + all_on.len(), "{name}: recorded calls lost");
    let (off_mean, off_p50) = summary(all_off);
    let (on_mean, on_p50) = summary(all_on);
    ratios.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        let i = ((ratios.len() - 1) as f64 * q).round() as usize;
        (ratios[i] - 1.0) * 100.0
    };
    println!(
        "bench.noop, recording to {name:<8}: off mean {off_mean:>7.1} us p50 {off_p50:>7.1} us | on mean {on_mean:>7.1} us p50 {on_p50:>7.1} us | added latency mean {:+.1}% p50 {:+.1}% | paired blocks: median {:+.1}% (quartiles {:+.1}%..{:+.1}%, {rounds} pairs) ({stored} calls recorded, none lost)",
        (on_mean / off_mean - 1.0) * 100.0,
        (on_p50 / off_p50 - 1.0) * 100.0,
        quantile(0.5),
        quantile(0.25),
        quantile(0.75),
    );
}

fn main() {
    // As `bioai` does at start-up, so the figures are the server's.
    // SAFETY: the first statement of `main`; no other thread exists yet.
    unsafe { bioai::tune_process() };
    let full = std::env::args().any(|a| a == "--bench");
    let (calls, rounds) = if full { (40_000, 200) } else { (40, 2) };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let cache = tempfile::tempdir().expect("temp dir");
    rt.block_on(async {
        println!(
            "# call recording overhead ({} mode)",
            if full { "full" } else { "smoke" }
        );
        let runtime = Arc::new(
            Runtime::new(&RuntimeConfig {
                cache_dir: Some(cache.path().to_path_buf()),
                max_concurrent_instances: 16,
                ..RuntimeConfig::default()
            })
            .expect("runtime"),
        );
        let url = format!("sqlite://{}", cache.path().join("bench.db").display());
        let store = Store::open(&url).await.expect("sqlite");
        store.migrate().await.expect("migrate");
        compare("sqlite", runtime.clone(), store, calls, rounds).await;

        let admin_url = std::env::var("BIOAI_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "postgres://root@127.0.0.1:5432/postgres".into());
        let db = format!("bioai_test_recording_{}", std::process::id());
        let url = match bioai::store::create_pg_database(&admin_url, &db).await {
            Ok(url) => url,
            Err(e) => {
                println!("postgres: {e}; skipped");
                return;
            }
        };
        let store = Store::open(&url).await.expect("postgres");
        store.migrate().await.expect("migrate");
        compare("postgres", runtime, store.clone(), calls, rounds).await;
        store.close().await;
        bioai::store::drop_pg_database(&admin_url, &db)
            .await
            .expect("drop bench database");
    });
}
