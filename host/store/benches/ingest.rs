//! Metering ingest benchmark: call records pushed through the [`Recorder`]
//! into PostgreSQL (and SQLite), reporting sustained usage events per second
//! and checking that every record and event arrived.
//!
//! `cargo bench -p bioai-store --bench ingest` runs 100,000 calls per
//! backend. Under `cargo test` (no `--bench` argument) it runs a few hundred,
//! as a smoke test of the harness. PostgreSQL comes from
//! `BIOAI_TEST_DATABASE_URL`, else 127.0.0.1:5432; a fresh database is
//! created and dropped.

use std::time::{Duration, Instant};

use bioai_store::{CallRecord, CallStatus, NewUser, Recorder, RecorderConfig, Store, Uuid};
use chrono::Utc;

fn call(user: Uuid, i: u64) -> CallRecord {
    let now = Utc::now();
    CallRecord {
        id: Uuid::now_v7(),
        run_id: None,
        user_id: Some(user),
        project_id: None,
        plugin: "seq".into(),
        tool: "seq.gc_content".into(),
        status: CallStatus::Ok,
        error_class: None,
        fuel: 5_000 + i % 1_000,
        peak_memory_bytes: 1 << 20,
        wall_us: 400 + i % 100,
        // Every other call made outgoing requests: 6 events, else 3.
        net_requests: i % 2,
        net_bytes_out: (i % 2) * 512,
        net_bytes_in: (i % 2) * 4_096,
        started_at: now,
        finished_at: now,
    }
}

async fn run(name: &str, store: &Store, calls: u64, producers: u64) {
    let mut users = Vec::new();
    for i in 0..50 {
        let u = store
            .create_user(&NewUser {
                display_name: format!("bench user {i}"),
                ..NewUser::default()
            })
            .await
            .expect("create user");
        users.push(u.id);
    }
    let before = store.counts().await.expect("counts");
    let recorder = Recorder::spawn(store.clone(), RecorderConfig::default());
    let per = calls / producers;
    let mut expected_events = 0u64;
    for p in 0..producers {
        for i in 0..per {
            expected_events += call(users[0], p * per + i).usage_events().len() as u64;
        }
    }
    let start = Instant::now();
    let tasks: Vec<_> = (0..producers)
        .map(|p| {
            let r = recorder.clone();
            let users = users.clone();
            tokio::spawn(async move {
                let mut enqueue = Duration::ZERO;
                for i in 0..per {
                    let n = p * per + i;
                    let c = call(users[(n % users.len() as u64) as usize], n);
                    let t = Instant::now();
                    r.record(c).await.expect("recorder accepts");
                    enqueue = enqueue.max(t.elapsed());
                }
                enqueue
            })
        })
        .collect();
    let mut worst_enqueue = Duration::ZERO;
    for t in tasks {
        worst_enqueue = worst_enqueue.max(t.await.expect("producer"));
    }
    let enqueued = start.elapsed();
    recorder.shutdown().await.expect("flush");
    let elapsed = start.elapsed();
    let after = store.counts().await.expect("counts");
    let calls_stored = (after.tool_calls - before.tool_calls) as u64;
    let events_stored = (after.usage_events - before.usage_events) as u64;
    let stats = recorder.stats();
    assert_eq!(calls_stored, per * producers, "{name}: tool_calls lost");
    assert_eq!(events_stored, expected_events, "{name}: usage events lost");
    println!(
        "{name:<10} {:>7} calls -> {:>7} usage events in {:>6.2} s: {:>8.0} events/s, {:>7.0} calls/s sustained \
         ({} transactions, avg {:.0} calls each; enqueue done at {:.2} s, worst single enqueue {:.2} ms, \
         {} backpressure waits); no loss: all {} calls and {} events stored",
        per * producers,
        events_stored,
        elapsed.as_secs_f64(),
        events_stored as f64 / elapsed.as_secs_f64(),
        calls_stored as f64 / elapsed.as_secs_f64(),
        stats.batches,
        stats.written as f64 / stats.batches.max(1) as f64,
        enqueued.as_secs_f64(),
        worst_enqueue.as_secs_f64() * 1e3,
        stats.backpressure_waits,
        calls_stored,
        events_stored,
    );
}

fn pg_base_url() -> String {
    std::env::var("BIOAI_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://root@127.0.0.1:5432/postgres".to_string())
}

fn with_database(url: &str, db: &str) -> String {
    let (head, query) = url
        .split_once('?')
        .map_or((url, None), |(h, q)| (h, Some(q)));
    let cut = head.find("://").map_or(0, |i| i + 3);
    let base = head[cut..].find('/').map_or(head, |i| &head[..cut + i]);
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (calls, producers) = if full { (100_000, 8) } else { (400, 4) };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    rt.block_on(async {
        println!(
            "# metering ingest benchmark ({} mode, {producers} producers)",
            if full { "full" } else { "smoke" }
        );
        let admin_url = pg_base_url();
        let db = format!("bioai_test_bench_{}", std::process::id());
        let admin = sqlx::PgPool::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url}: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
            .execute(&admin)
            .await
            .expect("create bench database");
        let store = Store::open(&with_database(&admin_url, &db))
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        run("postgres", &store, calls, producers).await;
        store.close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE \"{db}\" WITH (FORCE)"
        )))
        .execute(&admin)
        .await
        .expect("drop bench database");

        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let store = Store::open(&url).await.expect("open sqlite");
        store.migrate().await.expect("migrate");
        run("sqlite", &store, calls, producers).await;
        store.close().await;
    });
}
