//! Bio kernels as components versus the same Rust code compiled natively:
//! a 10 kb x 10 kb score-only alignment, guide design on a 100 kb region,
//! and nearest-neighbour Tm of many primers, both as one `primer.tm_many`
//! call for 100k primers and as one `primer.tm` call per primer (where the
//! component figure is mostly the per-call overhead: a fresh instance per
//! call).
//!
//! Run with `cargo bench -p bioai --bench bio` after `cargo xtask build`.
//! Without `--bench` (under `cargo test`) it runs on tiny inputs as a smoke
//! test. `BIOAI_BENCH_PLUGINS=DIR` loads the components from DIR instead of
//! `target/plugins/` (e.g. to compare two builds); a component without
//! `primer.tm_many` skips that line. `BIOAI_BENCH_UNMETERED=1` runs the
//! components on an engine without fuel metering, to show what metering
//! costs (a diagnostic: production always meters). `BIOAI_BENCH_PROFILE=perfmap`
//! (or `jitdump`) tells `perf` about the compiled components, so a profile
//! of the bench names the functions inside them; `BIOAI_BENCH_REPEATS=N` takes the
//! best of N runs of each kernel (default 3) for longer profiles, and
//! `BIOAI_BENCH_ONLY=crispr,tm_many` runs only the kernels named (`align`,
//! `crispr`, `tm_many`, `tm`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bioai::policy::PolicySet;
use bioai::registry::{CallContext, Registry};
use bioai::runtime::{Runtime, RuntimeConfig};
use serde_json::json;
use wasmtime::ProfilingStrategy;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ is inside the workspace")
        .to_path_buf()
}

/// Deterministic random DNA (xorshift64*).
fn dna(len: usize, mut seed: u64) -> String {
    (0..len)
        .map(|_| {
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            b"ACGT"[(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 62) as usize] as char
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn report(what: &str, component: Duration, native: Duration) {
    println!(
        "{what:<44} component {:>9.2} ms   native {:>9.2} ms   ratio {:>5.2}x",
        ms(component),
        ms(native),
        component.as_secs_f64() / native.as_secs_f64()
    );
}

/// The best of `repeats` calls of `tool` through the registry (a fresh
/// instance each call, as in production); every call must succeed. Prints
/// where the fastest call's time went: JSON <-> component values on the
/// host, and the runtime call (instantiation, copying the values into and
/// out of the instance, the guest's work).
async fn best_call(
    reg: &Registry,
    tool: &str,
    args: &serde_json::Value,
    repeats: usize,
) -> Duration {
    let (mut fastest, mut in_runtime) = (Duration::MAX, Duration::ZERO);
    for _ in 0..repeats {
        let t = Instant::now();
        let out = reg
            .call(tool, args, CallContext::default())
            .await
            .unwrap_or_else(|e| panic!("{tool}: {e}"));
        let took = t.elapsed();
        assert!(out.result.is_ok(), "{tool}: {:?}", out.result);
        if took < fastest {
            (fastest, in_runtime) = (took, out.meters.wall);
        }
    }
    println!(
        "  {tool}: {:.2} ms in the runtime call, {:.2} ms JSON <-> values on the host",
        ms(in_runtime),
        ms(fastest.saturating_sub(in_runtime))
    );
    fastest
}

fn best<T>(repeats: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..repeats)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    // As `bioai` does at start-up, so the figures are the server's.
    // SAFETY: the first statement of `main`; no other thread exists yet.
    unsafe { bioai::tune_process() };
    let full = std::env::args().any(|a| a == "--bench");
    let (align_len, region_len, primers, batch, mut repeats) = if full {
        (10_000, 100_000, 10_000, 100_000, 3)
    } else {
        (200, 2_000, 20, 200, 1)
    };
    if let Some(n) = std::env::var("BIOAI_BENCH_REPEATS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        repeats = n;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let cache = root().join("target").join("bench-cache");
    let metered = std::env::var_os("BIOAI_BENCH_UNMETERED").is_none();
    let only = std::env::var("BIOAI_BENCH_ONLY").ok();
    let wanted = |kernel: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|k| k.trim() == kernel))
    };
    rt.block_on(async {
        let runtime = Arc::new(
            Runtime::new(&RuntimeConfig {
                cache_dir: Some(cache),
                max_concurrent_instances: 16,
                metered,
                profiler: match std::env::var("BIOAI_BENCH_PROFILE").as_deref() {
                    Ok("perfmap") => ProfilingStrategy::PerfMap,
                    Ok("jitdump") => ProfilingStrategy::JitDump,
                    _ => ProfilingStrategy::None,
                },
                ..RuntimeConfig::default()
            })
            .expect("runtime"),
        );
        let policies =
            PolicySet::load(&[root().join("policies")]).expect("shipped policies are valid");
        let mut reg = Registry::new(runtime, policies);
        let plugins = std::env::var_os("BIOAI_BENCH_PLUGINS")
            .map_or_else(|| root().join("target/plugins"), PathBuf::from);
        for name in ["align", "crispr", "primer"] {
            let path = plugins.join(format!("{name}.wasm"));
            assert!(
                path.is_file(),
                "{} missing: run `cargo xtask build`",
                path.display()
            );
            reg.load_file(&path).await.expect("plugin loads");
        }
        println!(
            "# bio kernels: component vs native ({} mode{})",
            if full { "full" } else { "smoke" },
            if metered {
                ""
            } else {
                ", fuel metering OFF: a diagnostic, production always meters"
            }
        );

        if wanted("align") {
            let a = dna(align_len, 1);
            let b = dna(align_len, 2);
            let args = json!({"a": a, "b": b, "match": 2.0, "mismatch": -1.0,
                "gap_open": -5.0, "gap_extend": -1.0, "score_only": true});
            let component = best_call(&reg, "align.pairwise", &args, repeats).await;
            let req = align::Request {
                a: a.clone(),
                b: b.clone(),
                match_score: Some(2.0),
                mismatch_score: Some(-1.0),
                gap_open: Some(-5.0),
                gap_extend: Some(-1.0),
                score_only: Some(true),
                ..align::Request::default()
            };
            let native = best(repeats, || align::pairwise(&req).expect("aligns"));
            report(
                &format!("align {align_len} x {align_len} score-only"),
                component,
                native,
            );
        }

        if wanted("crispr") {
            let region = dna(region_len, 3);
            let args = json!({"sequence": region});
            let component = best_call(&reg, "crispr.design_guides", &args, repeats).await;
            let params = crispr::design::Params::default();
            let native = best(repeats, || {
                crispr::design::design(&region, &params).expect("designs")
            });
            report(
                &format!("crispr guide design, {region_len} bp"),
                component,
                native,
            );
        }

        let seqs: Vec<String> = (0..batch).map(|i| dna(20, 100 + i as u64)).collect();
        if wanted("tm_many") && reg.tool("primer.tm_many").is_some() {
            let text = seqs.join("\n");
            let args = json!({ "sequences": text });
            let component = best_call(&reg, "primer.tm_many", &args, repeats).await;
            let targs = primer::tm::TmArgs::default();
            let native = best(repeats, || primer::tm::tm_many(&text, &targs).expect("tm"));
            report(
                &format!("primer Tm, {batch} primers (one tm_many call)"),
                component,
                native,
            );
        }
        let seqs = &seqs[..primers];
        if wanted("tm") {
            let t = Instant::now();
            for s in seqs {
                let out = reg
                    .call("primer.tm", &json!({"sequence": s}), CallContext::default())
                    .await
                    .unwrap();
                assert!(out.result.is_ok(), "{:?}", out.result);
            }
            let component = t.elapsed();
            let native = best(repeats, || {
                seqs.iter()
                    .map(|s| primer::tm::tm(s, &primer::tm::TmArgs::default()).expect("tm"))
                    .sum::<f64>()
            });
            report(
                &format!("primer Tm, {primers} primers (one tm call each)"),
                component,
                native,
            );
            let per_call = component.as_secs_f64() / primers as f64;
            println!(
                "  per tm call: component {:.1} us, native {:.3} us",
                per_call * 1e6,
                native.as_secs_f64() / primers as f64 * 1e6
            );
        }
    });
}
