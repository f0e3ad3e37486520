//! Row-level security on PostgreSQL: with two tenants, on every tenant table,
//! select / insert / update / delete across tenants is refused by the
//! database itself, through raw SQL that "forgets" its WHERE clause, on a
//! connection of a role that is neither superuser nor BYPASSRLS.

mod common;

use bioai_store::*;
use chrono::Utc;
use common::Rng;
use serde_json::json;
use sqlx::{Connection, PgConnection};

/// The login role the tests connect as: no superuser, no BYPASSRLS, only
/// membership in `authenticated`, like Supabase's `authenticator`.
const TESTER: &str = "bioai_rls_tester";

async fn ensure_tester(f: &common::Fixture) {
    let pool = f.store.pg_pool().expect("pg");
    // Roles are cluster-wide and tests run in parallel: tolerate a race.
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DO $$ BEGIN
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{TESTER}') THEN
                 CREATE ROLE {TESTER} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
             END IF;
         END $$"
    )))
    .execute(pool)
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "GRANT authenticated TO {TESTER}"
    )))
    .execute(pool)
    .await
    .expect("grant authenticated");
}

/// A connection as the tester role.
async fn tester(f: &common::Fixture) -> PgConnection {
    let url = f.url.replacen("://", &format!("://{TESTER}@"), 1);
    // Drop any user already in the URL: ours comes first.
    let url = match url.split_once('@') {
        Some((head, rest)) if rest.contains('@') => {
            let after = rest.split_once('@').map(|(_, h)| h).unwrap_or(rest);
            format!("{head}@{after}")
        }
        _ => url,
    };
    PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("connect as {TESTER}: {e}"))
}

/// Runs `sql` in a transaction acting as `tenant` (as the store does) and
/// returns rows affected, or the database's error message.
async fn as_tenant(conn: &mut PgConnection, tenant: UserId, sql: &str) -> Result<u64, String> {
    let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
    sqlx::query("SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)")
        .bind(json!({"sub": tenant}).to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    let n = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?
        .rows_affected();
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(n)
}

async fn count_as(conn: &mut PgConnection, tenant: UserId, sql: &str) -> i64 {
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)")
        .bind(json!({"sub": tenant}).to_string())
        .execute(&mut *tx)
        .await
        .expect("act as");
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&mut *tx)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    tx.rollback().await.expect("rollback");
    n
}

/// Rows of every tenant table, for one user.
struct Seeded {
    user: UserId,
    project: Uuid,
    run: Uuid,
}

async fn seed(store: &Store, name: &str, rng: &mut Rng) -> Seeded {
    let u = store
        .create_user(&NewUser {
            display_name: name.into(),
            email: Some(format!("{name}@example.org")),
            ..NewUser::default()
        })
        .await
        .expect("user");
    let p = store.create_project(u.id, "p").await.expect("project");
    let run = store
        .start_run(u.id, Some(p.id), "task")
        .await
        .expect("run");
    let now = Utc::now();
    store
        .write_calls(&[CallRecord {
            id: Uuid::now_v7(),
            run_id: Some(run),
            user_id: Some(u.id),
            project_id: Some(p.id),
            plugin: "seq".into(),
            tool: "seq.stats".into(),
            status: CallStatus::Ok,
            error_class: None,
            fuel: 10,
            peak_memory_bytes: 10,
            wall_us: 10,
            net_requests: 0,
            net_bytes_out: 0,
            net_bytes_in: 0,
            started_at: now,
            finished_at: now,
        }])
        .await
        .expect("call");
    store
        .create_payment(
            u.id,
            &NewPayment {
                provider: Provider::Wechat,
                order_no: format!("order-{name}"),
                amount_fen: 100,
            },
        )
        .await
        .expect("payment");
    store
        .add_document(
            u.id,
            &NewDocument {
                project_id: Some(p.id),
                source: "s".into(),
                chunk_index: 0,
                content: "c".into(),
                embedding: rng.embedding(),
            },
        )
        .await
        .expect("document");
    store
        .audit(u.id, "create", "projects", &p.id.to_string(), &json!({}))
        .await
        .expect("audit");
    store
        .save_step(
            u.id,
            run,
            &json!({"step": 1}),
            Some("reviewer"),
            &[NewRunEvent {
                kind: "message".into(),
                role: Some("planner".into()),
                payload: json!({"text": name}),
                at: now,
            }],
        )
        .await
        .expect("run event");
    store
        .journal_call(
            u.id,
            run,
            2,
            &JournalEntry {
                seq: 0,
                kind: "tool".into(),
                request_hash: "h".into(),
                response: Some(json!({"ok": 1})),
            },
            RunCharge::default(),
            &[],
            &[],
            &[],
        )
        .await
        .expect("journal entry");
    Seeded {
        user: u.id,
        project: p.id,
        run,
    }
}

/// (table, owner column, a harmless UPDATE assignment or None if tenants may not update).
const TENANT_TABLES: &[(&str, &str, &str)] = &[
    ("users", "id", "display_name = display_name"),
    ("projects", "user_id", "name = name"),
    ("agent_runs", "user_id", "task = task"),
    ("tool_calls", "user_id", "fuel = fuel"),
    ("usage_events", "user_id", "quantity = quantity"),
    ("payments", "user_id", "status = status"),
    ("documents", "user_id", "content = content"),
    ("audit_log", "user_id", "action = action"),
    ("run_events", "user_id", "kind = kind"),
    ("run_journal", "user_id", "kind = kind"),
];

fn insert_for(table: &str, victim: &Seeded, emb: &str) -> String {
    let u = victim.user;
    let p = victim.project;
    let id = Uuid::new_v4();
    match table {
        "users" => format!("INSERT INTO users (id, display_name) VALUES ('{u}', 'impostor')"),
        "projects" => format!("INSERT INTO projects (id, user_id, name) VALUES ('{id}', '{u}', 'planted')"),
        "agent_runs" => format!("INSERT INTO agent_runs (id, user_id, task) VALUES ('{id}', '{u}', 'planted')"),
        "tool_calls" => format!(
            "INSERT INTO tool_calls (id, user_id, plugin, tool, status, fuel, peak_memory_bytes, wall_us, started_at, finished_at)
             VALUES ('{id}', '{u}', 'p', 't', 'ok', 1, 1, 1, now(), now())"
        ),
        "usage_events" => format!(
            "INSERT INTO usage_events (id, user_id, kind, quantity, occurred_at) VALUES ('{id}', '{u}', 'fuel', 1, now())"
        ),
        "payments" => format!(
            "INSERT INTO payments (id, user_id, provider, order_no, amount_fen) VALUES ('{id}', '{u}', 'wechat', 'planted-{id}', 1)"
        ),
        "documents" => format!(
            "INSERT INTO documents (id, user_id, project_id, source, content, embedding) VALUES ('{id}', '{u}', '{p}', 's', 'c', '{emb}')"
        ),
        "audit_log" => format!(
            "INSERT INTO audit_log (user_id, action, table_name, row_id) VALUES ('{u}', 'forged', 'users', '{u}')"
        ),
        "run_events" => format!(
            "INSERT INTO run_events (run_id, seq, user_id, project_id, kind, payload, at)
             VALUES ('{}', 999, '{u}', '{p}', 'planted', '{{}}', now())",
            victim.run
        ),
        "run_journal" => format!(
            "INSERT INTO run_journal (run_id, step, seq, user_id, kind, request_hash)
             VALUES ('{}', 9, 0, '{u}', 'tool', 'planted')",
            victim.run
        ),
        other => panic!("no insert for {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_tenant_access_is_refused_by_the_database() {
    let f = common::postgres("rls_cross_tenant").await;
    ensure_tester(&f).await;
    let mut rng = Rng::new(1);
    let a = seed(&f.store, "alice", &mut rng).await;
    let b = seed(&f.store, "bob", &mut rng).await;
    let mut conn = tester(&f).await;

    // The tester really is an ordinary role, and so is the role it switches to.
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("SELECT set_config('role', 'authenticated', true)")
        .execute(&mut *tx)
        .await
        .expect("role");
    let (sup, bypass): (bool, bool) =
        sqlx::query_as("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&mut *tx)
            .await
            .expect("role flags");
    tx.rollback().await.expect("rollback");
    assert!(
        !sup && !bypass,
        "the RLS test must not run as a superuser or BYPASSRLS role"
    );

    let emb = format!("[{}]", vec!["0.5"; DIM].join(","));
    for (table, owner, assign) in TENANT_TABLES {
        // SELECT without WHERE: only alice's rows are visible.
        let all = count_as(&mut conn, a.user, &format!("SELECT count(*) FROM {table}")).await;
        let own = count_as(
            &mut conn,
            a.user,
            &format!("SELECT count(*) FROM {table} WHERE {owner} = '{}'", a.user),
        )
        .await;
        assert!(own > 0, "{table}: alice must see her own rows (control)");
        assert_eq!(
            all, own,
            "{table}: SELECT without WHERE shows only the tenant's rows"
        );
        let theirs = count_as(
            &mut conn,
            a.user,
            &format!("SELECT count(*) FROM {table} WHERE {owner} = '{}'", b.user),
        )
        .await;
        assert_eq!(theirs, 0, "{table}: bob's rows are invisible to alice");

        // UPDATE and DELETE of bob's rows: nothing affected, or refused outright.
        for sql in [
            format!("UPDATE {table} SET {assign}"),
            format!("UPDATE {table} SET {assign} WHERE {owner} = '{}'", b.user),
            format!("DELETE FROM {table} WHERE {owner} = '{}'", b.user),
        ] {
            match as_tenant(&mut conn, a.user, &sql).await {
                Ok(n) if sql.starts_with("UPDATE") && !sql.contains("WHERE") => {
                    // Touches alice's own rows only (if she may update at all).
                    assert_eq!(
                        n as i64, own,
                        "{table}: `{sql}` touched rows beyond the tenant's"
                    );
                }
                Ok(n) => assert_eq!(n, 0, "{table}: `{sql}` affected bob's rows"),
                Err(e) => assert!(
                    e.contains("permission denied") || e.contains("append-only"),
                    "{table}: `{sql}` failed for another reason: {e}"
                ),
            }
        }

        // INSERT a row owned by bob: refused by the WITH CHECK policy (or the grant).
        let sql = insert_for(table, &b, &emb);
        let err = as_tenant(&mut conn, a.user, &sql)
            .await
            .expect_err(&format!("{table}: planting a row for bob"));
        assert!(
            err.contains("row-level security") || err.contains("permission denied"),
            "{table}: {err}"
        );
    }

    // The trace is append-only for tenants: alice cannot edit or delete even
    // her own events, nor add one to bob's run under her own name.
    for sql in [
        "UPDATE run_events SET kind = 'rewritten'".to_string(),
        "DELETE FROM run_events".to_string(),
        format!(
            "UPDATE run_events SET kind = 'rewritten' WHERE run_id = '{}'",
            a.run
        ),
    ] {
        let err = as_tenant(&mut conn, a.user, &sql)
            .await
            .expect_err(&format!("a tenant ran `{sql}`"));
        assert!(err.contains("permission denied"), "`{sql}`: {err}");
    }
    let sql = format!(
        "INSERT INTO run_events (run_id, seq, user_id, kind, payload, at)
         VALUES ('{}', 999, '{}', 'planted', '{{}}', now())",
        b.run, a.user
    );
    let err = as_tenant(&mut conn, a.user, &sql)
        .await
        .expect_err("an event in bob's run under alice's name");
    assert!(err.contains("row-level security"), "{err}");
    let sql = format!(
        "INSERT INTO run_events (run_id, seq, user_id, project_id, kind, payload, at)
         VALUES ('{}', 999, '{}', '{}', 'planted', '{{}}', now())",
        a.run, a.user, b.project
    );
    let err = as_tenant(&mut conn, a.user, &sql)
        .await
        .expect_err("an event of alice's run in bob's project");
    assert!(err.contains("row-level security"), "{err}");
    // Appending to her own run is what tenants may do.
    let sql = format!(
        "INSERT INTO run_events (run_id, seq, user_id, project_id, kind, payload, at)
         VALUES ('{}', 1000, '{}', '{}', 'note', '{{}}', now())",
        a.run, a.user, a.project
    );
    assert_eq!(as_tenant(&mut conn, a.user, &sql).await, Ok(1));

    // Bob's rows are all still there, unchanged in number.
    for (table, owner, _) in TENANT_TABLES {
        let n = count_as(
            &mut conn,
            b.user,
            &format!("SELECT count(*) FROM {table} WHERE {owner} = '{}'", b.user),
        )
        .await;
        assert!(n > 0, "{table}: bob's rows survived");
    }
    // Without claims, an authenticated session sees nothing at all.
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("SELECT set_config('role', 'authenticated', true)")
        .execute(&mut *tx)
        .await
        .expect("role");
    for (table, _, _) in TENANT_TABLES {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&mut *tx)
                .await
                .expect("count");
        assert_eq!(n, 0, "{table}: visible without a tenant");
    }
    tx.rollback().await.expect("rollback");
    // The login role without a tenant (it inherits `authenticated`'s grants,
    // not a way around the policies) sees no tenant rows either.
    for (table, _, _) in TENANT_TABLES {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&mut conn)
                .await
                .expect("count");
        assert_eq!(n, 0, "{table}: visible to the login role without claims");
    }
    drop(conn);
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_uid_reads_the_jwt_sub_claim() {
    let f = common::postgres("rls_auth_uid").await;
    let pool = f.store.pg_pool().expect("pg");
    let id = Uuid::new_v4();
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query("SELECT set_config('request.jwt.claims', $1, true)")
        .bind(json!({"sub": id, "role": "authenticated"}).to_string())
        .execute(&mut *tx)
        .await
        .expect("claims");
    let got: Option<Uuid> = sqlx::query_scalar("SELECT auth.uid()")
        .fetch_one(&mut *tx)
        .await
        .expect("uid");
    assert_eq!(got, Some(id));
    tx.rollback().await.expect("rollback");
    // Claims are transaction-local: the next transaction on the pool has none.
    let got: Option<Uuid> = sqlx::query_scalar("SELECT auth.uid()")
        .fetch_one(pool)
        .await
        .expect("uid");
    assert_eq!(got, None);
    f.finish().await;
}

/// Pricing plans and the shared know-how library are readable by every
/// tenant but writable by none: only the service role manages them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_tables_are_read_only_to_tenants() {
    let f = common::postgres("rls_shared_tables").await;
    ensure_tester(&f).await;
    let mut rng = Rng::new(2);
    let a = seed(&f.store, "carol", &mut rng).await;
    let pool = f.store.pg_pool().expect("pg");
    let emb = format!("[{}]", vec!["0.25"; DIM].join(","));
    let plan = Uuid::new_v4();
    let chunk = Uuid::new_v4();
    for sql in [
        format!(
            "INSERT INTO pricing_plans (id, name, input_fen_per_mtok) VALUES ('{plan}', 'standard', 100)"
        ),
        format!(
            "INSERT INTO know_how_index (id, source, title, content, licence, embedding)
             VALUES ('{chunk}', 'protocols.io', 'PCR', 'Anneal at Tm - 5', 'CC-BY-4.0', '{emb}')"
        ),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(pool)
            .await
            .expect("seed shared rows as the owner");
    }

    let mut conn = tester(&f).await;
    for table in ["pricing_plans", "know_how_index"] {
        let n = count_as(&mut conn, a.user, &format!("SELECT count(*) FROM {table}")).await;
        assert_eq!(n, 1, "{table}: readable by a tenant");
    }
    let writes = [
        format!(
            "INSERT INTO pricing_plans (id, name) VALUES ('{}', 'free-lunch')",
            Uuid::new_v4()
        ),
        "UPDATE pricing_plans SET input_fen_per_mtok = 0".to_string(),
        "DELETE FROM pricing_plans".to_string(),
        format!(
            "INSERT INTO know_how_index (id, source, title, content, licence, embedding)
             VALUES ('{}', 's', 't', 'planted', 'none', '{emb}')",
            Uuid::new_v4()
        ),
        "UPDATE know_how_index SET content = 'defaced'".to_string(),
        "DELETE FROM know_how_index".to_string(),
    ];
    for sql in &writes {
        let err = as_tenant(&mut conn, a.user, sql)
            .await
            .expect_err(&format!("a tenant ran `{sql}`"));
        assert!(err.contains("permission denied"), "`{sql}`: {err}");
    }
    let (price, content): (i64, String) = sqlx::query_as(
        "SELECT p.input_fen_per_mtok, k.content FROM pricing_plans p, know_how_index k",
    )
    .fetch_one(pool)
    .await
    .expect("shared rows");
    assert_eq!((price, content.as_str()), (100, "Anneal at Tm - 5"));
    drop(conn);
    f.finish().await;
}
