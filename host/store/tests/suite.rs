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
    vector_search_matches_brute_force,
    pricing_plans_round_trip,
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
        occurred_at: Utc::now(),
    };
    assert_eq!(
        s.insert_usage_events(&[extra.clone(), extra.clone()])
            .await
            .expect("insert"),
        1
    );
    assert_eq!(s.insert_usage_events(&[extra]).await.expect("insert"), 0);
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
        Err(RecorderError::Closed(r)) => assert_eq!(r.tool, "seq.gc_content"),
        other => panic!("expected Closed, got {other:?}"),
    }
    recorder
        .shutdown()
        .await
        .expect("second shutdown is a no-op");
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
