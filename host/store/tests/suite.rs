//! The store's test suite: every test runs against SQLite and PostgreSQL.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use bioai_store::*;
use chrono::Utc;
use common::{Fixture, Rng};
use serde_json::json;

/// Runs each listed test function on both backends.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let f = super::common::sqlite().await;
                    super::$name(&f).await;
                    f.finish().await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let f = super::common::postgres(stringify!($name)).await;
                    super::$name(&f).await;
                    f.finish().await;
                }
            )*
        }
    };
}

both_backends!(
    migrations_are_idempotent_and_newer_schema_is_refused,
    api_never_crosses_tenants,
    money_is_integer_fen,
    provider_transaction_id_is_unique,
    usage_events_are_idempotent,
    audit_log_is_append_only,
    recorder_shutdown_loses_nothing,
    recorder_isolates_refused_records,
    dropped_recorder_still_writes_its_queue,
    vector_search_matches_brute_force,
    pricing_plans_round_trip,
    runs_persist_every_step_and_their_trace,
    run_events_page_after_a_seq,
    finished_runs_take_no_more_steps,
    unfinished_runs_span_tenants_oldest_first,
    local_user_is_idempotent,
    runs_never_cross_tenants,
    know_how_hits_cite_and_replace_by_source,
    a_step_journal_charges_once_and_is_cleared_with_the_step,
);

async fn user(store: &Store, name: &str) -> User {
    store
        .create_user(&NewUser {
            email: Some(format!("{name}-{}@example.org", Uuid::new_v4())),
            display_name: name.to_string(),
            auto_pay_limit_fen: 500,
            ..NewUser::default()
        })
        .await
        .expect("create user")
}

fn call(user: Option<UserId>, project: Option<Uuid>, i: u64) -> CallRecord {
    let now = Utc::now();
    CallRecord {
        id: Uuid::now_v7(),
        run_id: None,
        user_id: user,
        project_id: project,
        plugin: "seq".into(),
        tool: "seq.gc_content".into(),
        status: if i.is_multiple_of(7) {
            CallStatus::Failed
        } else {
            CallStatus::Ok
        },
        error_class: (i.is_multiple_of(7)).then(|| "out_of_fuel".to_string()),
        fuel: 1_000 + i,
        peak_memory_bytes: 65_536,
        wall_us: 100 + i,
        net_requests: i % 3,
        net_bytes_out: (i % 3) * 100,
        net_bytes_in: (i % 3) * 1_000,
        started_at: now - chrono::Duration::microseconds(100),
        finished_at: now,
    }
}

async fn raw_execute(f: &Fixture, sql: &'static str) -> Result<u64, String> {
    match f.store.kind() {
        BackendKind::Postgres => sqlx::query(sql)
            .execute(f.store.pg_pool().expect("pg"))
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| e.to_string()),
        BackendKind::Sqlite => sqlx::query(sql)
            .execute(f.store.sqlite_pool().expect("sqlite"))
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| e.to_string()),
    }
}

async fn migrations_are_idempotent_and_newer_schema_is_refused(f: &Fixture) {
    let status = f.store.status().await.expect("status");
    assert!(status.up_to_date(), "{status:?}");
    assert!(!status.applied.is_empty());
    f.store.migrate().await.expect("second migrate is a no-op");

    // A migration from a newer bioai.
    let insert =
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                  VALUES (99991231000000, 'from the future', true, x'00', 0)";
    let insert_pg =
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                  VALUES (99991231000000, 'from the future', true, '\\x00'::bytea, 0)";
    let sql = match f.store.kind() {
        BackendKind::Postgres => insert_pg,
        BackendKind::Sqlite => insert,
    };
    raw_execute(f, sql).await.expect("insert future migration");
    let status = f.store.status().await.expect("status");
    assert_eq!(status.unknown, vec![99991231000000]);
    match f.store.migrate().await {
        Err(StoreError::SchemaTooNew { versions }) => assert_eq!(versions, vec![99991231000000]),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    let message = f.store.migrate().await.expect_err("refused").to_string();
    assert!(message.contains("newer than this bioai"), "{message}");
}

async fn api_never_crosses_tenants(f: &Fixture) {
    let s = &f.store;
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let pa = s
        .create_project(a.id, "crispr screen")
        .await
        .expect("project a");
    let pb = s
        .create_project(b.id, "crispr screen")
        .await
        .expect("same name, other owner");

    assert_eq!(s.projects(a.id).await.expect("projects"), vec![pa.clone()]);
    assert_eq!(s.projects(b.id).await.expect("projects"), vec![pb.clone()]);
    assert_eq!(s.user(a.id).await.expect("user").map(|u| u.id), Some(a.id));

    // A run in someone else's project is refused, by RLS or by the store.
    let err = s
        .start_run(a.id, Some(pb.id), "design guides")
        .await
        .expect_err("foreign project");
    assert!(matches!(err, StoreError::Refused(_)), "{err:?}");
    let run = s
        .start_run(a.id, Some(pa.id), "design guides")
        .await
        .expect("own project");
    // Finishing another tenant's run finds nothing.
    let err = s
        .finish_run(b.id, run, RunStatus::Succeeded, 1, 1)
        .await
        .expect_err("not b's");
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    s.finish_run(a.id, run, RunStatus::Succeeded, 1200, 340)
        .await
        .expect("finish");

    let mut ca = call(Some(a.id), Some(pa.id), 1);
    ca.run_id = Some(run);
    let cb = call(Some(b.id), Some(pb.id), 2);
    s.write_calls(&[ca.clone(), cb.clone()])
        .await
        .expect("write calls");
    let calls_a = s.tool_calls(a.id, 100).await.expect("calls");
    assert_eq!(
        calls_a.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![ca.id]
    );
    assert_eq!(calls_a[0].run_id, Some(run));
    assert!(
        s.usage_events(a.id)
            .await
            .expect("events")
            .iter()
            .all(|e| e.user_id == Some(a.id))
    );
    assert!(
        s.usage_events(b.id)
            .await
            .expect("events")
            .iter()
            .all(|e| e.user_id == Some(b.id))
    );

    // A call record naming another tenant's project is refused.
    let forged = call(Some(a.id), Some(pb.id), 3);
    let err = s.write_calls(&[forged]).await.expect_err("forged project");
    assert!(matches!(err, StoreError::Refused(_)), "{err:?}");

    s.create_payment(
        a.id,
        &NewPayment {
            provider: Provider::Wechat,
            order_no: format!("A-{}", Uuid::new_v4()),
            amount_fen: 100,
        },
    )
    .await
    .expect("payment");
    assert!(s.payments(b.id).await.expect("payments").is_empty());

    let mut rng = Rng::new(7);
    let doc = NewDocument {
        project_id: None,
        source: "a.pdf".into(),
        chunk_index: 0,
        content: "alice's secret".into(),
        embedding: rng.embedding(),
    };
    s.add_document(a.id, &doc).await.expect("doc");
    assert!(
        s.search_documents(b.id, &doc.embedding, 5)
            .await
            .expect("search")
            .is_empty()
    );
    let err = s
        .add_document(
            a.id,
            &NewDocument {
                project_id: Some(pb.id),
                ..doc.clone()
            },
        )
        .await
        .expect_err("document in b's project");
    assert!(matches!(err, StoreError::Refused(_)), "{err:?}");

    s.audit(
        a.id,
        "update",
        "projects",
        &pa.id.to_string(),
        &json!({"name": "x"}),
    )
    .await
    .expect("audit");
    assert_eq!(s.audit_entries(a.id).await.expect("audit").len(), 1);
    assert!(s.audit_entries(b.id).await.expect("audit").is_empty());
}

async fn money_is_integer_fen(f: &Fixture) {
    let money = [
        ("users", "auto_pay_limit_fen"),
        ("payments", "amount_fen"),
        ("pricing_plans", "input_fen_per_mtok"),
        ("pricing_plans", "output_fen_per_mtok"),
    ];
    for (table, column) in money {
        let ty: String = match f.store.kind() {
            BackendKind::Postgres => sqlx::query_scalar(
                "SELECT data_type::text FROM information_schema.columns WHERE table_name = $1 AND column_name = $2",
            )
            .bind(table)
            .bind(column)
            .fetch_one(f.store.pg_pool().expect("pg"))
            .await
            .expect("column type"),
            BackendKind::Sqlite => sqlx::query_scalar("SELECT type FROM pragma_table_info(?) WHERE name = ?")
                .bind(table)
                .bind(column)
                .fetch_one(f.store.sqlite_pool().expect("sqlite"))
                .await
                .expect("column type"),
        };
        let expected = match f.store.kind() {
            BackendKind::Postgres => "bigint",
            BackendKind::Sqlite => "INTEGER",
        };
        assert_eq!(ty, expected, "{table}.{column}");
    }
    // 2^53 + 1 fen: exact only if nothing on the way is floating point.
    let a = user(&f.store, "rich").await;
    let amount = 9_007_199_254_740_993_i64;
    let p = f
        .store
        .create_payment(
            a.id,
            &NewPayment {
                provider: Provider::Alipay,
                order_no: "BIG-1".into(),
                amount_fen: amount,
            },
        )
        .await
        .expect("payment");
    assert_eq!(p.amount_fen, amount);
    assert_eq!(
        f.store.payments(a.id).await.expect("payments")[0].amount_fen,
        amount
    );
    let err = f
        .store
        .create_payment(
            a.id,
            &NewPayment {
                provider: Provider::Alipay,
                order_no: "NEG".into(),
                amount_fen: -1,
            },
        )
        .await
        .expect_err("negative amount");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
}

async fn provider_transaction_id_is_unique(f: &Fixture) {
    let s = &f.store;
    let a = user(s, "payer").await;
    let b = user(s, "other").await;
    let p1 = s
        .create_payment(
            a.id,
            &NewPayment {
                provider: Provider::Wechat,
                order_no: "O-1".into(),
                amount_fen: 990,
            },
        )
        .await
        .expect("p1");
    s.create_payment(
        b.id,
        &NewPayment {
            provider: Provider::Wechat,
            order_no: "O-2".into(),
            amount_fen: 990,
        },
    )
    .await
    .expect("p2");
    let err = s
        .create_payment(
            b.id,
            &NewPayment {
                provider: Provider::Wechat,
                order_no: "O-1".into(),
                amount_fen: 1,
            },
        )
        .await
        .expect_err("duplicate order number");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    let note =
        json!({"transaction_id": "4200001", "trade_state": "SUCCESS", "amount": {"total": 990}});
    let paid = s.mark_paid("O-1", "4200001", &note).await.expect("paid");
    assert_eq!(paid.id, p1.id);
    assert_eq!(paid.status, "paid");
    assert_eq!(paid.raw_notification, Some(note.clone()));
    // The provider repeats its notification: harmless.
    s.mark_paid("O-1", "4200001", &note)
        .await
        .expect("repeat notification");
    // The same provider transaction claimed by another order: refused.
    let err = s
        .mark_paid("O-2", "4200001", &note)
        .await
        .expect_err("reused transaction id");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // A different transaction for an already-paid order: not found.
    let err = s
        .mark_paid("O-1", "4200002", &note)
        .await
        .expect_err("second transaction");
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn usage_events_are_idempotent(f: &Fixture) {
    let s = &f.store;
    let a = user(s, "metered").await;
    // More rows than one INSERT statement takes, so the batch spans several.
    let calls: Vec<CallRecord> = (0..1_201).map(|i| call(Some(a.id), None, i)).collect();
    let expected: u64 = calls.iter().map(|c| c.usage_events().len() as u64).sum();
    assert_eq!(s.write_calls(&calls).await.expect("first"), expected);
    assert_eq!(
        s.write_calls(&calls).await.expect("again"),
        0,
        "re-written events are skipped"
    );
    let stored = s.usage_events(a.id).await.expect("events");
    assert_eq!(stored.len() as u64, expected);
    let ids: HashSet<Uuid> = stored.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), stored.len());
    let fuel: i64 = stored
        .iter()
        .filter(|e| e.kind == "fuel")
        .map(|e| e.quantity)
        .sum();
    assert_eq!(fuel, calls.iter().map(|c| c.fuel as i64).sum::<i64>());

    let extra = UsageEvent {
        id: Uuid::new_v4(),
        user_id: Some(a.id),
        project_id: None,
        tool_call_id: None,
        run_id: None,
        kind: "output_tokens".into(),
        quantity: 1234,
        role: Some("reporter".into()),
        occurred_at: Utc::now(),
    };
    assert_eq!(
        s.insert_usage_events(&[extra.clone(), extra.clone()])
            .await
            .expect("insert"),
        1
    );
    assert_eq!(
        s.insert_usage_events(std::slice::from_ref(&extra))
            .await
            .expect("insert"),
        0
    );
    // The role an LLM usage event belongs to is kept.
    let stored = s.usage_events(a.id).await.expect("usage events");
    let back = stored.iter().find(|e| e.id == extra.id).expect("stored");
    assert_eq!(back.role.as_deref(), Some("reporter"));
    assert!(
        stored
            .iter()
            .filter(|e| e.id != extra.id)
            .all(|e| e.role.is_none())
    );
    assert_eq!(
        s.counts().await.expect("counts").usage_events as u64,
        expected + 1
    );
}

async fn audit_log_is_append_only(f: &Fixture) {
    let a = user(&f.store, "audited").await;
    f.store
        .audit(a.id, "login", "users", &a.id.to_string(), &json!({}))
        .await
        .expect("append");
    // Even the database owner cannot rewrite history.
    let err = raw_execute(f, "UPDATE audit_log SET action = 'nothing happened'")
        .await
        .expect_err("update refused");
    assert!(err.contains("append-only"), "{err}");
    let err = raw_execute(f, "DELETE FROM audit_log")
        .await
        .expect_err("delete refused");
    assert!(err.contains("append-only"), "{err}");
    assert_eq!(
        f.store.audit_entries(a.id).await.expect("entries")[0].action,
        "login"
    );
}

async fn recorder_shutdown_loses_nothing(f: &Fixture) {
    let users = [
        user(&f.store, "u1").await.id,
        user(&f.store, "u2").await.id,
        user(&f.store, "u3").await.id,
    ];
    // A small queue, so producers also hit backpressure.
    let recorder = Recorder::spawn(
        f.store.clone(),
        RecorderConfig {
            capacity: 64,
            batch_size: 200,
            linger: Duration::from_millis(5),
            shutdown_timeout: Duration::from_secs(30),
        },
    );
    const PER_TASK: u64 = 1_000;
    let tasks: Vec<_> = (0..4u64)
        .map(|t| {
            let r = recorder.clone();
            tokio::spawn(async move {
                let mut events = 0;
                for i in 0..PER_TASK {
                    // Every fourth task records operator calls without a tenant.
                    let user = (t < 3).then(|| users[((t + i) % 3) as usize]);
                    let c = call(user, None, i);
                    events += c.usage_events().len() as u64;
                    r.record(c).await.expect("recorder accepts");
                }
                events
            })
        })
        .collect();
    let mut events = 0;
    for t in tasks {
        events += t.await.expect("producer");
    }
    recorder.shutdown().await.expect("flush");
    let counts = f.store.counts().await.expect("counts");
    assert_eq!(counts.tool_calls as u64, 4 * PER_TASK);
    assert_eq!(counts.usage_events as u64, events);
    let stats = recorder.stats();
    assert_eq!(stats.accepted, 4 * PER_TASK);
    assert_eq!(stats.written, 4 * PER_TASK);
    assert_eq!(stats.rejected, 0);
    assert!(
        stats.backpressure_waits > 0,
        "a 64-record queue must have filled: {stats:?}"
    );
    // After shutdown, records are refused and handed back, not dropped.
    match recorder.record(call(None, None, 0)).await {
        Err(RecorderError::Closed(r)) => assert_eq!(&*r.tool, "seq.gc_content"),
        other => panic!("expected Closed, got {other:?}"),
    }
    recorder
        .shutdown()
        .await
        .expect("second shutdown is a no-op");
}

async fn dropped_recorder_still_writes_its_queue(f: &Fixture) {
    let a = user(&f.store, "dropped").await;
    // A long linger: the records are still queued when the recorder goes.
    let recorder = Recorder::spawn(
        f.store.clone(),
        RecorderConfig {
            linger: Duration::from_secs(3600),
            ..RecorderConfig::default()
        },
    );
    let clone = recorder.clone();
    for i in 0..5 {
        clone
            .record(call(Some(a.id), None, i))
            .await
            .expect("queued");
    }
    drop(recorder);
    drop(clone);
    // Without a shutdown the writer notices the last handle is gone and
    // stores what was queued (without waiting out the linger).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if f.store.counts().await.expect("counts").tool_calls == 5 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "queued records not written after the recorder was dropped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn recorder_isolates_refused_records(f: &Fixture) {
    let a = user(&f.store, "good").await;
    let b = user(&f.store, "victim").await;
    let pb = f
        .store
        .create_project(b.id, "private")
        .await
        .expect("project");
    let recorder = Recorder::spawn(f.store.clone(), RecorderConfig::default());
    for i in 0..10 {
        recorder
            .record(call(Some(a.id), None, i))
            .await
            .expect("queued");
    }
    // A record claiming b's project for a: refused by the database, logged.
    recorder
        .record(call(Some(a.id), Some(pb.id), 99))
        .await
        .expect("queued");
    // A record for a user that does not exist.
    recorder
        .record(call(Some(Uuid::new_v4()), None, 98))
        .await
        .expect("queued");
    recorder.shutdown().await.expect("flush");
    let stats = recorder.stats();
    assert_eq!((stats.written, stats.rejected), (10, 2), "{stats:?}");
    assert_eq!(
        f.store.tool_calls(a.id, 100).await.expect("calls").len(),
        10
    );
    assert!(
        f.store
            .tool_calls(b.id, 100)
            .await
            .expect("calls")
            .is_empty()
    );
}

/// Cosine distance computed here, independently of the store.
fn cosine_distance(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    1.0 - dot / (na * nb)
}

fn brute_force(query: &[f32], rows: &[(Uuid, Vec<f32>)], k: usize) -> Vec<(Uuid, f64)> {
    let mut all: Vec<(Uuid, f64)> = rows
        .iter()
        .map(|(id, v)| (*id, cosine_distance(query, v)))
        .collect();
    all.sort_by(|x, y| x.1.total_cmp(&y.1));
    all.truncate(k);
    all
}

fn assert_same_neighbours(got: &[Hit], want: &[(Uuid, f64)], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: result count");
    for (i, (h, (id, d))) in got.iter().zip(want).enumerate() {
        assert!(
            (h.distance - d).abs() < 1e-5,
            "{what}: rank {i}: distance {} vs brute force {d}",
            h.distance
        );
        // Ids must match unless two candidates are tied at float precision.
        if h.id != *id {
            let tie = want
                .iter()
                .any(|(other, od)| *other == h.id && (od - d).abs() < 1e-6);
            assert!(tie, "{what}: rank {i}: got {} want {id}", h.id);
        }
    }
}

async fn vector_search_matches_brute_force(f: &Fixture) {
    let s = &f.store;
    let a = user(s, "reader").await;
    let b = user(s, "neighbour").await;
    let mut rng = Rng::new(42);
    let mut mine = Vec::new();
    for i in 0..300 {
        let v = rng.embedding_values();
        let doc = NewDocument {
            project_id: None,
            source: "paper.pdf".into(),
            chunk_index: i,
            content: format!("chunk {i}"),
            embedding: Embedding::new(v.clone()).expect("embedding"),
        };
        mine.push((s.add_document(a.id, &doc).await.expect("doc"), v));
    }
    // Another tenant's documents, some very close to the queries: must never appear.
    let queries: Vec<Vec<f32>> = (0..5).map(|_| rng.embedding_values()).collect();
    for q in &queries {
        for _ in 0..20 {
            let near: Vec<f32> = q.iter().map(|x| x + rng.unit() * 0.01).collect();
            let doc = NewDocument {
                project_id: None,
                source: "b.pdf".into(),
                chunk_index: 0,
                content: "b".into(),
                embedding: Embedding::new(near).expect("e"),
            };
            s.add_document(b.id, &doc).await.expect("doc");
        }
    }
    for (qi, q) in queries.iter().enumerate() {
        let query = Embedding::new(q.clone()).expect("query");
        let got = s.search_documents(a.id, &query, 10).await.expect("search");
        assert_same_neighbours(
            &got,
            &brute_force(q, &mine, 10),
            &format!("documents, query {qi}"),
        );
    }

    let mut shared = Vec::new();
    for i in 0..200 {
        let v = rng.embedding_values();
        let item = NewKnowHow {
            source: "protocols.io".into(),
            title: format!("protocol {i}"),
            content: format!("step {i}"),
            licence: "CC-BY-4.0".into(),
            attribution: "protocols.io authors".into(),
            url: None,
            embedding: Embedding::new(v.clone()).expect("e"),
        };
        shared.push((s.add_know_how(&item).await.expect("know-how"), v));
    }
    for (qi, q) in queries.iter().enumerate() {
        let query = Embedding::new(q.clone()).expect("query");
        let got = s.search_know_how(&query, 7).await.expect("search");
        assert_same_neighbours(
            &got,
            &brute_force(q, &shared, 7),
            &format!("know-how, query {qi}"),
        );
    }
    assert!(
        Embedding::new(vec![0.0; 3]).is_err(),
        "wrong dimension is refused"
    );
}

async fn know_how_hits_cite_and_replace_by_source(f: &Fixture) {
    let s = &f.store;
    let owner = user(s, "cited").await;
    let mut rng = Rng::new(7);
    let v = rng.embedding_values();
    let mut item = |source: &str, url: Option<&str>| NewKnowHow {
        source: source.into(),
        title: format!("title of {source}"),
        content: format!("text of {source}"),
        licence: "CC-BY-4.0".into(),
        attribution: "the authors".into(),
        url: url.map(str::to_string),
        embedding: Embedding::new(rng.embedding_values()).expect("e"),
    };
    // `%` and `_` in the prefix are literal, not patterns.
    let a = s
        .add_know_how(&item("guide%_://a#1", Some("https://example.org/a")))
        .await
        .expect("a");
    let b = s
        .add_know_how(&item("guide%_://b#1", None))
        .await
        .expect("b");
    let other = s
        .add_know_how(&item("guideXY://c#1", None))
        .await
        .expect("c");
    let listed = s.know_how_sources("guide%_://").await.expect("sources");
    assert_eq!(
        listed,
        vec![
            (a, "guide%_://a#1".to_string()),
            (b, "guide%_://b#1".to_string())
        ]
    );

    let hits = s
        .search_know_how(&Embedding::new(v.clone()).expect("q"), 10)
        .await
        .expect("search");
    let hit_a = hits.iter().find(|h| h.id == a).expect("a found");
    assert_eq!(hit_a.source, "guide%_://a#1");
    assert_eq!(
        hit_a.citation,
        Some(Citation {
            title: "title of guide%_://a#1".into(),
            licence: "CC-BY-4.0".into(),
            attribution: "the authors".into(),
            url: Some("https://example.org/a".into()),
        })
    );
    assert_eq!(
        hits.iter()
            .find(|h| h.id == b)
            .and_then(|h| h.citation.clone())
            .and_then(|c| c.url),
        None
    );

    // Documents carry their source and no citation.
    let doc = NewDocument {
        project_id: None,
        source: "lab-notes.md".into(),
        chunk_index: 0,
        content: "notes".into(),
        embedding: Embedding::new(v.clone()).expect("e"),
    };
    s.add_document(owner.id, &doc).await.expect("doc");
    let docs = s
        .search_documents(owner.id, &Embedding::new(v).expect("q"), 1)
        .await
        .expect("docs");
    assert_eq!(docs[0].source, "lab-notes.md");
    assert_eq!(docs[0].citation, None);

    assert_eq!(
        s.delete_know_how(&[a, Uuid::new_v4()])
            .await
            .expect("delete"),
        1
    );
    assert_eq!(s.delete_know_how(&[]).await.expect("nothing"), 0);
    assert_eq!(
        s.know_how_sources("guide").await.expect("sources"),
        vec![
            (b, "guide%_://b#1".to_string()),
            (other, "guideXY://c#1".to_string())
        ]
    );
}

async fn pricing_plans_round_trip(f: &Fixture) {
    let plan = PricingPlan {
        id: Uuid::new_v4(),
        name: "standard".into(),
        input_fen_per_mtok: 1_500,
        output_fen_per_mtok: 6_000,
        outcome_prices: json!({"crispr.design_guides": 990, "primer.design": 200}),
        active: true,
    };
    f.store.upsert_pricing_plan(&plan).await.expect("insert");
    let updated = PricingPlan {
        output_fen_per_mtok: 5_000,
        ..plan.clone()
    };
    f.store
        .upsert_pricing_plan(&updated)
        .await
        .expect("update by name");
    assert_eq!(f.store.pricing_plans().await.expect("plans"), vec![updated]);
}

// ---------------------------------------------------------------- runs as state machines

fn new_run(project: Option<Uuid>, task: &str) -> NewRun {
    NewRun {
        id: None,
        project_id: project,
        task: task.to_string(),
        template: Some("crispr.design_guides".into()),
        inputs: json!({"gene": "TP53", "organism": "human"}),
        graph: "plan-act-review".into(),
        budget_fen: Some(990),
        state: json!({"plan": null, "messages": []}),
        next_role: "planner".into(),
    }
}

fn event(kind: &str, role: Option<&str>, payload: serde_json::Value) -> NewRunEvent {
    NewRunEvent {
        kind: kind.to_string(),
        role: role.map(str::to_string),
        payload,
        // Whole microseconds: what PostgreSQL keeps.
        at: chrono::DateTime::from_timestamp_micros(Utc::now().timestamp_micros())
            .expect("timestamp"),
    }
}

async fn runs_persist_every_step_and_their_trace(f: &Fixture) {
    let s = &f.store;
    let a = user(s, "swarm").await;
    let p = s.create_project(a.id, "tp53").await.expect("project");
    let id = Uuid::now_v7();
    let spec = NewRun {
        id: Some(id),
        ..new_run(Some(p.id), "design guides for TP53")
    };
    assert_eq!(s.create_run(a.id, &spec).await.expect("create"), id);
    let run = s.run(a.id, id).await.expect("run").expect("exists");
    assert_eq!(
        (run.id, run.user_id, run.project_id),
        (id, a.id, Some(p.id))
    );
    assert_eq!(run.task, spec.task);
    assert_eq!(run.template, spec.template);
    assert_eq!(run.inputs, spec.inputs);
    assert_eq!(run.graph, "plan-act-review");
    assert_eq!(run.budget_fen, Some(990));
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(run.state, Some(spec.state.clone()));
    assert_eq!(run.next_role.as_deref(), Some("planner"));
    assert_eq!((run.steps, run.cost_fen, run.input_tokens), (0, 0, 0));
    assert_eq!((run.report, run.error, run.finished_at), (None, None, None));

    // Step 1: the planner, two events.
    let state1 = json!({"plan": ["design", "score"], "messages": ["planned"]});
    let first = [
        event("role_started", Some("planner"), json!({})),
        event("message", Some("planner"), json!({"text": "two steps"})),
    ];
    let seqs = s
        .save_step(a.id, id, &state1, Some("designer"), &first)
        .await
        .expect("step 1");
    assert_eq!(seqs, vec![1, 2]);
    let run = s.run(a.id, id).await.expect("run").expect("exists");
    assert_eq!(run.steps, 1);
    assert_eq!(run.state, Some(state1));
    assert_eq!(run.next_role.as_deref(), Some("designer"));

    // Step 2: the designer, one event; then nothing left to run.
    let state2 = json!({"plan": ["design", "score"], "guides": ["GGCAGCTACGGTTTCCGTCT"]});
    let seqs = s
        .save_step(
            a.id,
            id,
            &state2,
            None,
            &[event(
                "tool_call",
                Some("designer"),
                json!({"tool": "crispr.design"}),
            )],
        )
        .await
        .expect("step 2");
    assert_eq!(seqs, vec![3]);
    // A step without events is still a step.
    assert!(
        s.save_step(a.id, id, &state2, None, &[])
            .await
            .expect("step 3")
            .is_empty()
    );
    let run = s.run(a.id, id).await.expect("run").expect("exists");
    assert_eq!(run.steps, 3);
    assert_eq!(run.state, Some(state2));
    assert_eq!(run.next_role, None);
    assert_eq!(run.status, RunStatus::Running);

    s.add_run_usage(a.id, id, 1_000, 200, 15)
        .await
        .expect("usage");
    s.add_run_usage(a.id, id, 500, 100, 7).await.expect("usage");
    let err = s
        .add_run_usage(a.id, id, -1, 0, 0)
        .await
        .expect_err("negative usage");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");

    let trace = s.run_events(a.id, id, 0, 100).await.expect("trace");
    assert_eq!(
        trace.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(trace.iter().all(|e| e.run_id == id));
    assert_eq!(trace[0].kind, "role_started");
    assert_eq!(trace[1].role.as_deref(), Some("planner"));
    assert_eq!(trace[1].payload, json!({"text": "two steps"}));
    assert_eq!(trace[1].at, first[1].at);
    assert_eq!(trace[2].payload, json!({"tool": "crispr.design"}));

    let report = json!({"guides": 1, "summary": "one guide"});
    let seqs = s
        .end_run(
            a.id,
            id,
            RunStatus::Succeeded,
            Some(&report),
            None,
            &[event("run_finished", None, json!({"status": "succeeded"}))],
        )
        .await
        .expect("end");
    assert_eq!(seqs, vec![4]);
    let run = s.run(a.id, id).await.expect("run").expect("exists");
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.report, Some(report));
    assert_eq!(run.error, None);
    assert_eq!(run.next_role, None);
    assert!(run.finished_at.is_some_and(|t| t >= run.started_at));
    assert_eq!(
        (run.input_tokens, run.output_tokens, run.cost_fen),
        (1_500, 300, 22)
    );
    // Usage and events may still arrive after the end.
    s.add_run_usage(a.id, id, 1, 1, 1)
        .await
        .expect("late usage");
    assert_eq!(
        s.append_run_events(a.id, id, &[event("note", None, json!("late"))])
            .await
            .expect("late event"),
        vec![5]
    );

    // A failed run keeps its error; runs are listed newest first.
    let second = s
        .create_run(a.id, &new_run(None, "second"))
        .await
        .expect("second run");
    s.end_run(
        a.id,
        second,
        RunStatus::Failed,
        None,
        Some("budget exceeded"),
        &[],
    )
    .await
    .expect("fail");
    let failed = s.run(a.id, second).await.expect("run").expect("exists");
    assert_eq!(failed.status, RunStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("budget exceeded"));
    assert_eq!(failed.steps, 0);
    let listed = s.runs(a.id, 10).await.expect("runs");
    assert_eq!(
        listed.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![second, id]
    );
    assert_eq!(s.runs(a.id, 1).await.expect("runs").len(), 1);

    // Runs of the first migration's API read back with the new columns' defaults.
    let old = s.start_run(a.id, None, "legacy").await.expect("start");
    s.finish_run(a.id, old, RunStatus::Cancelled, 10, 20)
        .await
        .expect("finish");
    let old = s.run(a.id, old).await.expect("run").expect("exists");
    assert_eq!(old.status, RunStatus::Cancelled);
    assert_eq!((old.input_tokens, old.output_tokens), (10, 20));
    assert_eq!(old.inputs, json!({}));
    assert_eq!(old.graph, "default");
    assert_eq!((old.state, old.next_role, old.steps), (None, None, 0));

    // Invalid runs are refused before they reach the database.
    for bad in [
        NewRun {
            budget_fen: Some(-1),
            ..new_run(None, "x")
        },
        NewRun {
            next_role: String::new(),
            ..new_run(None, "x")
        },
    ] {
        let err = s.create_run(a.id, &bad).await.expect_err("invalid run");
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    }
    let err = s
        .create_run(a.id, &spec)
        .await
        .expect_err("the same id twice");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

async fn run_events_page_after_a_seq(f: &Fixture) {
    let s = &f.store;
    let a = user(s, "pager").await;
    let id = s
        .create_run(a.id, &new_run(None, "page"))
        .await
        .expect("run");
    assert!(
        s.run_events(a.id, id, 0, 10)
            .await
            .expect("no events yet")
            .is_empty()
    );
    for step in 0..5 {
        let events: Vec<NewRunEvent> = (0..3)
            .map(|i| event("message", Some("worker"), json!({"step": step, "i": i})))
            .collect();
        let seqs = s
            .save_step(a.id, id, &json!({"step": step}), Some("worker"), &events)
            .await
            .expect("step");
        assert_eq!(seqs, (step * 3 + 1..=step * 3 + 3).collect::<Vec<i64>>());
    }
    // Read it back in pages of 4, as a client streaming the trace would.
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page = s.run_events(a.id, id, after, 4).await.expect("page");
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 4);
        after = page.last().expect("non-empty").seq;
        seen.extend(page);
    }
    assert_eq!(
        seen.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=15).collect::<Vec<i64>>()
    );
    assert_eq!(seen[7].payload, json!({"step": 2, "i": 1}));
    let tail = s.run_events(a.id, id, 13, 100).await.expect("tail");
    assert_eq!(tail.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![14, 15]);
    assert!(
        s.run_events(a.id, id, 15, 100)
            .await
            .expect("caught up")
            .is_empty()
    );
    assert!(
        s.run_events(a.id, id, 0, 0)
            .await
            .expect("limit 0")
            .is_empty()
    );

    // Concurrent appenders still get distinct, consecutive numbers.
    let tasks: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            let tenant = a.id;
            tokio::spawn(async move {
                let mut got = Vec::new();
                for i in 0..5 {
                    got.extend(
                        s.append_run_events(
                            tenant,
                            id,
                            &[
                                event("note", None, json!([t, i])),
                                event("note", None, json!(i)),
                            ],
                        )
                        .await
                        .expect("append"),
                    );
                }
                got
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("appender"));
    }
    all.sort_unstable();
    assert_eq!(all, (16..=55).collect::<Vec<i64>>());
    assert_eq!(
        s.run_events(a.id, id, 0, 1_000).await.expect("all").len(),
        55
    );
}

async fn a_step_journal_charges_once_and_is_cleared_with_the_step(f: &Fixture) {
    let s = &f.store;
    let a = user(s, "journaled").await;
    let b = user(s, "other").await;
    let id = s
        .create_run(a.id, &new_run(None, "journal"))
        .await
        .expect("run");
    let entry = |seq: i32, response: Option<serde_json::Value>| JournalEntry {
        seq,
        kind: "llm".into(),
        request_hash: format!("h{seq}"),
        response,
    };
    let charge = RunCharge {
        input_tokens: 1_000,
        output_tokens: 50,
        cost_fen: 7,
    };
    let usage = |kind: &str, n: i64| UsageEvent {
        id: Uuid::new_v5(&id, kind.as_bytes()),
        user_id: Some(a.id),
        project_id: None,
        tool_call_id: None,
        run_id: Some(id),
        kind: kind.into(),
        quantity: n,
        role: Some("planner".into()),
        occurred_at: Utc::now(),
    };
    let billed = [usage("input_tokens", 1_000), usage("output_tokens", 50)];
    let first = s
        .journal_call(
            a.id,
            id,
            1,
            &entry(0, Some(json!({"text": "plan"}))),
            charge,
            &[],
            &billed,
            &[event("llm", Some("planner"), json!({"cost_fen": 7}))],
        )
        .await
        .expect("journal");
    assert!(first.recorded);
    assert_eq!(first.cost_fen, 7);
    assert_eq!(first.seqs.len(), 1);
    // The same entry again (a re-run that got as far): nothing more is charged or traced.
    let again = s
        .journal_call(
            a.id,
            id,
            1,
            &entry(0, Some(json!({"text": "other"}))),
            charge,
            &[],
            &billed,
            &[event("llm", Some("planner"), json!({}))],
        )
        .await
        .expect("journal again");
    assert!(!again.recorded);
    assert!(again.seqs.is_empty());
    assert_eq!(again.cost_fen, 7);
    s.journal_call(
        a.id,
        id,
        1,
        &entry(1, None),
        RunCharge::default(),
        &[],
        &[],
        &[],
    )
    .await
    .expect("an entry too large to keep");
    let journal = s.step_journal(a.id, id, 1).await.expect("journal");
    assert_eq!(
        journal,
        vec![entry(0, Some(json!({"text": "plan"}))), entry(1, None)]
    );
    assert!(
        s.step_journal(a.id, id, 2)
            .await
            .expect("step 2")
            .is_empty()
    );
    assert!(
        s.step_journal(b.id, id, 1)
            .await
            .expect("other tenant")
            .is_empty()
    );
    let run = s.run(a.id, id).await.expect("run").expect("exists");
    assert_eq!(
        (run.input_tokens, run.output_tokens, run.cost_fen),
        (1_000, 50, 7)
    );
    let events = s.usage_events(a.id).await.expect("usage");
    assert_eq!(events.iter().filter(|e| e.run_id == Some(id)).count(), 2);
    assert_eq!(
        s.run_events(a.id, id, 0, 100).await.expect("trace").len(),
        1
    );

    // Another tenant cannot journal into the run; bad numbers are refused.
    let err = s
        .journal_call(b.id, id, 1, &entry(2, None), charge, &[], &[], &[])
        .await
        .expect_err("another tenant's run");
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let err = s
        .journal_call(a.id, id, 0, &entry(2, None), charge, &[], &[], &[])
        .await
        .expect_err("step 0");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    let mut foreign = usage("fuel", 1);
    foreign.user_id = Some(b.id);
    let err = s
        .journal_call(a.id, id, 1, &entry(2, None), charge, &[], &[foreign], &[])
        .await
        .expect_err("a usage event of another user");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");

    // A tool call's record goes in with its entry, once, and is not
    // duplicated when the recorder writes it again.
    let mut record = call(Some(a.id), None, 1);
    record.run_id = Some(id);
    let done = s
        .journal_call(
            a.id,
            id,
            1,
            &JournalEntry {
                seq: 2,
                kind: "tool".into(),
                request_hash: "t".into(),
                response: Some(json!({"ok": 0.5})),
            },
            RunCharge::default(),
            std::slice::from_ref(&record),
            &[],
            &[],
        )
        .await
        .expect("a tool call");
    assert!(done.recorded);
    s.write_calls(std::slice::from_ref(&record))
        .await
        .expect("the recorder's copy");
    let rows = s.tool_calls(a.id, 100).await.expect("tool calls");
    assert_eq!(rows.iter().filter(|r| r.id == record.id).count(), 1);
    let events = s.usage_events(a.id).await.expect("usage");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.tool_call_id == Some(record.id))
            .count(),
        record.usage_events().len()
    );
    let mut stray = record.clone();
    stray.id = Uuid::now_v7();
    stray.run_id = None;
    let err = s
        .journal_call(a.id, id, 1, &entry(3, None), charge, &[stray], &[], &[])
        .await
        .expect_err("a call of no run");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");

    // Saving the step clears its journal; ending the run clears the next one's.
    s.save_step(a.id, id, &json!({}), Some("coder"), &[])
        .await
        .expect("step");
    assert!(
        s.step_journal(a.id, id, 1)
            .await
            .expect("cleared")
            .is_empty()
    );
    s.journal_call(
        a.id,
        id,
        2,
        &entry(0, None),
        RunCharge::default(),
        &[],
        &[],
        &[],
    )
    .await
    .expect("step 2");
    s.end_run(a.id, id, RunStatus::Cancelled, None, None, &[])
        .await
        .expect("end");
    assert!(
        s.step_journal(a.id, id, 2)
            .await
            .expect("cleared")
            .is_empty()
    );
    let err = s
        .journal_call(
            a.id,
            id,
            3,
            &entry(0, None),
            RunCharge::default(),
            &[],
            &[],
            &[],
        )
        .await
        .expect_err("a finished run");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
}

async fn finished_runs_take_no_more_steps(f: &Fixture) {
    let s = &f.store;
    let a = user(s, "finisher").await;
    let id = s
        .create_run(a.id, &new_run(None, "stop"))
        .await
        .expect("run");
    s.save_step(
        a.id,
        id,
        &json!({"n": 1}),
        Some("b"),
        &[event("step", Some("a"), json!({}))],
    )
    .await
    .expect("step");
    let err = s
        .end_run(a.id, id, RunStatus::Running, None, None, &[])
        .await
        .expect_err("running is not an end");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    s.end_run(
        a.id,
        id,
        RunStatus::Cancelled,
        None,
        None,
        &[event("cancelled", None, json!({"by": "user"}))],
    )
    .await
    .expect("cancel");
    let err = s
        .save_step(
            a.id,
            id,
            &json!({"n": 2}),
            Some("c"),
            &[event("step", Some("b"), json!({}))],
        )
        .await
        .expect_err("step after the end");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    let err = s
        .end_run(
            a.id,
            id,
            RunStatus::Succeeded,
            Some(&json!({})),
            None,
            &[event("again", None, json!({}))],
        )
        .await
        .expect_err("second end");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    // Neither refused call changed anything: one transaction each.
    let run = s.run(a.id, id).await.expect("run").expect("exists");
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(run.steps, 1);
    assert_eq!(run.state, Some(json!({"n": 1})));
    assert_eq!((run.next_role, run.report), (None, None));
    assert_eq!(
        s.run_events(a.id, id, 0, 100)
            .await
            .expect("trace")
            .iter()
            .map(|e| e.kind.as_str())
            .collect::<Vec<_>>(),
        vec!["step", "cancelled"]
    );
    // An unknown run: not found.
    let err = s
        .save_step(a.id, Uuid::now_v7(), &json!({}), None, &[])
        .await
        .expect_err("no such run");
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn unfinished_runs_span_tenants_oldest_first(f: &Fixture) {
    let s = &f.store;
    let a = user(s, "resumer-a").await;
    let b = user(s, "resumer-b").await;
    assert!(s.unfinished_runs().await.expect("none").is_empty());
    let a1 = s.create_run(a.id, &new_run(None, "a1")).await.expect("a1");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let b1 = s.create_run(b.id, &new_run(None, "b1")).await.expect("b1");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let a2 = s.create_run(a.id, &new_run(None, "a2")).await.expect("a2");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let b2 = s.create_run(b.id, &new_run(None, "b2")).await.expect("b2");
    s.save_step(a.id, a1, &json!({"n": 1}), Some("next"), &[])
        .await
        .expect("step");
    s.end_run(a.id, a2, RunStatus::Succeeded, Some(&json!({})), None, &[])
        .await
        .expect("end a2");
    s.end_run(b.id, b2, RunStatus::Failed, None, Some("crashed"), &[])
        .await
        .expect("end b2");
    let legacy = s.start_run(b.id, None, "legacy").await.expect("legacy");
    s.finish_run(b.id, legacy, RunStatus::Succeeded, 0, 0)
        .await
        .expect("finish legacy");
    assert_eq!(
        s.unfinished_runs().await.expect("unfinished"),
        vec![(a.id, a1), (b.id, b1)]
    );
    // What a resumed engine reads back: the last persisted state and role.
    let run = s.run(a.id, a1).await.expect("run").expect("exists");
    assert_eq!(
        (run.state, run.next_role.as_deref(), run.steps),
        (Some(json!({"n": 1})), Some("next"), 1)
    );
}

async fn local_user_is_idempotent(f: &Fixture) {
    let s = &f.store;
    let before = s.counts().await.expect("counts").users;
    // Several callers at once (e.g. two processes starting): one user.
    let (x, y, z) = tokio::join!(s.local_user(), s.local_user(), s.local_user());
    let id = x.expect("local user");
    assert_eq!(y.expect("local user"), id);
    assert_eq!(z.expect("local user"), id);
    assert_eq!(s.local_user().await.expect("again"), id);
    assert_eq!(s.counts().await.expect("counts").users, before + 1);
    let u = s.user(id).await.expect("user").expect("exists");
    assert_eq!(u.email.as_deref(), Some("local@bioai.localhost"));
    assert_eq!(u.display_name, "Local user");
    // It is an ordinary tenant.
    let run = s
        .create_run(id, &new_run(None, "local"))
        .await
        .expect("run");
    assert_eq!(s.runs(id, 10).await.expect("runs")[0].id, run);
}

async fn runs_never_cross_tenants(f: &Fixture) {
    let s = &f.store;
    let a = user(s, "owner").await;
    let b = user(s, "intruder").await;
    let pa = s.create_project(a.id, "private").await.expect("project");
    let pb = s.create_project(b.id, "own").await.expect("project");
    let run = s
        .create_run(a.id, &new_run(Some(pa.id), "secret"))
        .await
        .expect("run");
    s.save_step(
        a.id,
        run,
        &json!({"secret": 1}),
        Some("next"),
        &[event("message", Some("planner"), json!("private"))],
    )
    .await
    .expect("step");

    // A run in another tenant's project is refused, by RLS or by the store.
    let err = s
        .create_run(b.id, &new_run(Some(pa.id), "planted"))
        .await
        .expect_err("foreign project");
    assert!(matches!(err, StoreError::Refused(_)), "{err:?}");
    s.create_run(b.id, &new_run(Some(pb.id), "own"))
        .await
        .expect("own project");

    // b can neither see nor touch a's run.
    assert_eq!(s.run(b.id, run).await.expect("run"), None);
    assert!(
        s.runs(b.id, 100)
            .await
            .expect("runs")
            .iter()
            .all(|r| r.user_id == b.id)
    );
    let not_found = |what: &str, r: Result<Vec<i64>, StoreError>| match r {
        Err(StoreError::NotFound(_) | StoreError::Refused(_)) => {}
        other => panic!("{what}: expected NotFound or Refused, got {other:?}"),
    };
    match s.run_events(b.id, run, 0, 100).await {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("reading a's trace: {other:?}"),
    }
    not_found(
        "appending to a's trace",
        s.append_run_events(b.id, run, &[event("forged", None, json!({}))])
            .await,
    );
    not_found(
        "a step of a's run",
        s.save_step(b.id, run, &json!({"hijacked": true}), Some("evil"), &[])
            .await,
    );
    not_found(
        "ending a's run",
        s.end_run(b.id, run, RunStatus::Cancelled, None, None, &[])
            .await,
    );
    let err = s
        .add_run_usage(b.id, run, 1, 1, 1)
        .await
        .expect_err("usage on a's run");
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");

    // a's run is untouched.
    let r = s.run(a.id, run).await.expect("run").expect("exists");
    assert_eq!(r.status, RunStatus::Running);
    assert_eq!((r.steps, r.cost_fen), (1, 0));
    assert_eq!(r.state, Some(json!({"secret": 1})));
    assert_eq!(r.next_role.as_deref(), Some("next"));
    let trace = s.run_events(a.id, run, 0, 100).await.expect("trace");
    assert_eq!(trace.len(), 1);
    assert_eq!(trace[0].kind, "message");
}
