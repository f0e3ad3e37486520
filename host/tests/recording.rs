//! Every call through the registry is recorded — successful, failed and
//! cancelled — with its meters and usage events; and the `bioai db` commands.
//! Uses the embedded SQLite backend (the store's own suite covers PostgreSQL).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use bioai::policy::PolicySet;
use bioai::registry::{CallContext, CancellationToken, Registry};
use bioai::runtime::{Runtime, RuntimeConfig};
use bioai::store::{NewUser, Recorder, RecorderConfig, Store};
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ is inside the workspace")
        .to_path_buf()
}

fn bench_component() -> PathBuf {
    let p = root().join("target/test-plugins/bench.wasm");
    assert!(
        p.is_file(),
        "{} missing: run `cargo xtask test`",
        p.display()
    );
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ok_failed_and_cancelled_calls_are_all_recorded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let store = Store::open(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    let user = store
        .create_user(&NewUser {
            display_name: "caller".into(),
            ..NewUser::default()
        })
        .await
        .expect("user")
        .id;
    let project = store.create_project(user, "p").await.expect("project").id;

    let runtime = Arc::new(
        Runtime::new(&RuntimeConfig {
            cache_dir: Some(dir.path().join("cache")),
            max_concurrent_instances: 4,
            ..RuntimeConfig::default()
        })
        .expect("runtime"),
    );
    let mut reg = Registry::new(runtime, PolicySet::empty());
    reg.load_file(&bench_component()).await.expect("load");
    reg.set_recorder(Recorder::spawn(store.clone(), RecorderConfig::default()));
    let ctx = || CallContext {
        user_id: Some(user),
        project_id: Some(project),
        ..CallContext::default()
    };

    let ok = reg
        .call("bench.sum_squares", &json!({"n": 1000}), ctx())
        .await
        .expect("tool");
    assert!(ok.result.is_ok());
    let bad = reg
        .call("bench.sum_squares", &json!({"n": "many"}), ctx())
        .await
        .expect("tool");
    assert_eq!(
        bad.result.as_ref().err().map(|e| e.class()),
        Some("bad_arguments")
    );
    let cancel = CancellationToken::new();
    cancel.cancel();
    let cancelled = reg
        .call(
            "bench.steps",
            &json!({"n": 100, "delay_ms": 50}),
            CallContext { cancel, ..ctx() },
        )
        .await
        .expect("tool");
    assert_eq!(
        cancelled.result.as_ref().err().map(|e| e.class()),
        Some("cancelled")
    );
    // Not written yet, perhaps; shutdown writes everything queued.
    reg.shutdown_recorder().await.expect("flush");

    let mut rows = store.tool_calls(user, 10).await.expect("rows");
    rows.sort_by(|a, b| a.status.cmp(&b.status));
    let summary: Vec<(&str, Option<&str>, &str)> = rows
        .iter()
        .map(|r| (r.status.as_str(), r.error_class.as_deref(), r.tool.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("cancelled", Some("cancelled"), "bench.steps"),
            ("failed", Some("bad_arguments"), "bench.sum_squares"),
            ("ok", None, "bench.sum_squares"),
        ]
    );
    let ok_row = rows.iter().find(|r| r.status == "ok").expect("ok row");
    assert_eq!(ok_row.fuel as u64, ok.meters.fuel);
    assert_eq!(ok_row.peak_memory_bytes as u64, ok.meters.peak_memory_bytes);
    assert_eq!(ok_row.wall_us as u128, ok.meters.wall.as_micros());
    assert!(ok_row.fuel > 0);
    assert!(
        rows.iter()
            .all(|r| r.project_id == Some(project) && r.plugin == "bench")
    );
    let events = store.usage_events(user).await.expect("events");
    assert_eq!(events.iter().filter(|e| e.kind == "tool_call").count(), 3);
    let fuel: i64 = events
        .iter()
        .filter(|e| e.kind == "fuel")
        .map(|e| e.quantity)
        .sum();
    assert_eq!(
        fuel as u64,
        ok.meters.fuel + bad.meters.fuel + cancelled.meters.fuel
    );
}

fn bioai(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bioai"));
    c.arg("--data-dir")
        .arg(data)
        .env_remove("BIOAI_DATABASE_URL")
        // Compiled components are shared with the other tests.
        .env("BIOAI_CACHE_DIR", root().join("target/test-cache"))
        .env("BIOAI_LOG", "warn");
    c
}

fn json_out(c: &mut Command) -> Value {
    let out = c.output().expect("run bioai");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn db_migrate_status_and_a_recorded_cli_call() {
    let seq = root().join("target/plugins/seq.wasm");
    assert!(seq.is_file(), "run `cargo xtask test` to build the plugins");
    let data = tempfile::tempdir().expect("temp dir");
    let status = json_out(bioai(data.path()).args(["db", "status"]));
    assert_eq!(status["backend"], "sqlite");
    assert_eq!(status["up_to_date"], false, "{status}");
    assert!(!status["pending"].as_array().expect("pending").is_empty());

    let migrated = json_out(bioai(data.path()).args(["db", "migrate"]));
    assert_eq!(migrated["up_to_date"], true, "{migrated}");
    assert_eq!(migrated["counts"]["tool_calls"], 0);
    assert!(data.path().join("bioai.db").is_file());

    let call =
        json_out(bioai(data.path()).args(["call", "seq.gc_content", r#"{"sequence": "ACGT"}"#]));
    assert_eq!(call["result"], json!({"value": 0.5}));
    // `bioai call` flushed its record before exiting.
    let after = json_out(bioai(data.path()).args(["db", "status"]));
    assert_eq!(after["counts"]["tool_calls"], 1, "{after}");
    assert_eq!(after["counts"]["usage_events"], 3, "{after}");
}
