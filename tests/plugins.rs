//! The plugin model end to end: tools derived from WIT, metadata, namespaces,
//! progress, the compiled-component cache.

use std::sync::{Arc, Mutex};

use bioai::registry::{CallContext, LoadError};
use bioai::runtime::{Runtime, RuntimeConfig};
use bioai_e2e::{component, registry};
use serde_json::json;

#[tokio::test]
async fn seq_tools_come_from_its_wit_with_docs_and_schemas() {
    let (reg, _d) = registry(&[], &[component("plugins", "seq")]).await;
    let names: Vec<&str> = reg.tools().map(|t| t.name.as_str()).collect();
    for expected in [
        "seq.gc_content",
        "seq.reverse_complement",
        "seq.translate",
        "seq.parse_fasta",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let gc = reg.tool("seq.gc_content").unwrap();
    assert!(
        !gc.description.is_empty() && !gc.description.starts_with('`'),
        "docs become the description: {}",
        gc.description
    );
    assert_eq!(gc.input_schema["type"], "object");
    assert_eq!(gc.input_schema["required"], json!(["sequence"]));
    assert_eq!(gc.input_schema["properties"]["sequence"]["type"], "string");
    // Floats may be NaN, which JSON writes as null.
    assert_eq!(
        gc.output_schema.as_ref().unwrap()["properties"]["value"]["type"],
        json!(["number", "null"])
    );
    assert!(gc.annotations.read_only_hint, "from the plugin's metadata");
    let translate = reg.tool("seq.translate").unwrap();
    assert_eq!(
        translate.input_schema["required"],
        json!(["sequence"]),
        "option params are optional"
    );
    let plugin = reg.plugins().next().unwrap();
    assert_eq!(plugin.namespace, "seq");
    assert!(plugin.info.is_some(), "seq exports metadata");
    assert!(plugin.wit.contains("gc-content"), "{}", plugin.wit);
}

#[tokio::test]
async fn seq_tools_compute_published_values() {
    let (reg, _d) = registry(&[], &[component("plugins", "seq")]).await;
    // Biopython's gc_fraction documentation: gc_fraction("ACTGN") == 0.5
    // (ambiguous N removed from the count by default).
    let out = reg
        .call(
            "seq.gc_content",
            &json!({"sequence": "ACTGN"}),
            CallContext::default(),
        )
        .await
        .unwrap();
    assert_eq!(out.result.unwrap(), json!({"value": 0.5}));
    let out = reg
        .call(
            "seq.reverse_complement",
            &json!({"sequence": "ATGCcgtaN"}),
            CallContext::default(),
        )
        .await
        .unwrap();
    assert_eq!(out.result.unwrap(), json!({"value": "NtacgGCAT"}));
    // Biopython tutorial: the coding sequence below translates to
    // "MAIVMGR*KGAR*" with the standard table.
    let out = reg
        .call(
            "seq.translate",
            &json!({"sequence": "ATGGCCATTGTAATGGGCCGCTGAAAGGGTGCCCGATAG"}),
            CallContext::default(),
        )
        .await
        .unwrap();
    assert_eq!(out.result.unwrap(), json!({"value": "MAIVMGR*KGAR*"}));
    let out = reg
        .call(
            "seq.translate",
            &json!({"sequence": "ATGGCCATTGTAATGGGCCGCTGAAAGGGTGCCCGATAG", "to_stop": true}),
            CallContext::default(),
        )
        .await
        .unwrap();
    assert_eq!(out.result.unwrap(), json!({"value": "MAIVMGR"}));
    // A bad character is the tool's own error, with its position.
    let out = reg
        .call(
            "seq.gc_content",
            &json!({"sequence": "ACGT!"}),
            CallContext::default(),
        )
        .await
        .unwrap();
    let err = out.result.unwrap_err();
    assert_eq!(err.class(), "tool_error");
    assert!(
        err.to_string().contains('5') || err.to_string().contains('4'),
        "{err}"
    );
}

#[tokio::test]
async fn progress_reports_reach_the_caller() {
    let (reg, _d) = registry(&[], &[component("test-plugins", "bench")]).await;
    let seen: Arc<Mutex<Vec<(f64, String)>>> = Arc::default();
    let sink = seen.clone();
    let ctx = CallContext {
        progress: Some(Arc::new(move |f, m| sink.lock().unwrap().push((f, m)))),
        ..CallContext::default()
    };
    let out = reg
        .call("bench.steps", &json!({"n": 4, "delay_ms": 1}), ctx)
        .await
        .unwrap();
    assert_eq!(out.result.unwrap(), json!({"value": 4}));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!((seen[3].0 - 1.0).abs() < 1e-9);
}

#[tokio::test]
async fn a_namespace_clash_is_refused_with_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("hostile2.wasm");
    std::fs::copy(component("test-plugins", "hostile"), &copy).unwrap();
    let (mut reg, _d) = registry(
        &[(
            "hostile2",
            "plugin = \"hostile2\"\nnamespace = \"hostile\"\n",
        )],
        &[component("test-plugins", "hostile")],
    )
    .await;
    let err = reg.load_file(&copy).await.unwrap_err();
    assert!(matches!(err, LoadError::ToolClash { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("hostile2.wasm") && msg.contains("namespace"),
        "{msg}"
    );
    // The first plugin is untouched.
    assert!(reg.tool("hostile.echo").is_some());
}

#[tokio::test]
async fn the_policy_namespace_overrides_the_default() {
    let (reg, _d) = registry(
        &[("hostile", "plugin = \"hostile\"\nnamespace = \"evil\"\n")],
        &[component("test-plugins", "hostile")],
    )
    .await;
    assert!(reg.tool("evil.echo").is_some());
    assert!(reg.tool("hostile.echo").is_none());
}

#[tokio::test]
async fn not_a_component_is_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let bogus = tmp.path().join("bogus.wasm");
    std::fs::write(&bogus, b"\0asm\x01\0\0\0").unwrap();
    let (mut reg, _d) = registry(&[], &[]).await;
    let err = reg.load_file(&bogus).await.unwrap_err().to_string();
    assert!(err.contains("bogus.wasm"), "{err}");
    assert!(
        err.contains("a core WebAssembly module, not a component"),
        "{err}"
    );
    let text = tmp.path().join("text.wasm");
    std::fs::write(&text, b"not wasm at all").unwrap();
    let err = reg.load_file(&text).await.unwrap_err().to_string();
    assert!(
        err.ends_with(
            "text.wasm: not a WebAssembly file; plugins are WASI 0.2 components \
             (e.g. `cargo build --target wasm32-wasip2`)"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn compiled_components_are_cached_on_disk() {
    let cache = tempfile::tempdir().unwrap();
    let config = RuntimeConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        max_concurrent_instances: 4,
        ..RuntimeConfig::default()
    };
    let seq = component("plugins", "seq");
    let first = Runtime::new(&config).unwrap();
    first.load_file(&seq).unwrap();
    // Artifacts only: each has a `.lock` beside it, taken while compiling.
    let entries: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(entries.len(), 1, "one artifact written: {entries:?}");
    let artifact = entries[0].clone();
    let modified = std::fs::metadata(&artifact).unwrap().modified().unwrap();

    // A new runtime (a restart) loads from the artifact without rewriting it.
    let second = Runtime::new(&config).unwrap();
    second.load_file(&seq).unwrap();
    assert_eq!(
        std::fs::metadata(&artifact).unwrap().modified().unwrap(),
        modified
    );

    // A corrupted artifact is discarded and rebuilt, not trusted.
    std::fs::write(&artifact, b"garbage").unwrap();
    let third = Runtime::new(&config).unwrap();
    third.load_file(&seq).unwrap();
    assert!(std::fs::read(&artifact).unwrap().len() > 1000);
}

#[tokio::test]
async fn a_componentize_py_component_loads_without_our_sdk() {
    // Built by `cargo xtask test` from tests/python-plugins/calc with
    // componentize-py: CPython compiled to a component, no bioai-sdk.
    let (reg, _d) = registry(&[], &[component("test-plugins", "calc")]).await;
    let add = reg.tool("calc.add").expect("calc.add is a tool");
    assert_eq!(add.input_schema["required"], json!(["a", "b"]));
    let out = reg
        .call(
            "calc.add",
            &json!({"a": 40, "b": 2}),
            CallContext::default(),
        )
        .await
        .unwrap();
    assert_eq!(out.result.unwrap(), json!({"value": 42}));
    let out = reg
        .call(
            "calc.join",
            &json!({"words": ["BRCA1", "TP53"], "sep": ","}),
            CallContext::default(),
        )
        .await
        .unwrap();
    assert_eq!(out.result.unwrap(), json!({"value": "BRCA1,TP53"}));
    assert!(out.meters.fuel > 0 && out.meters.peak_memory_bytes > 1 << 20);
    let out = reg
        .call("calc.add", &json!({"a": 1}), CallContext::default())
        .await
        .unwrap();
    let err = out.result.unwrap_err().to_string();
    assert!(err.contains("`b`"), "{err}");
}

/// Every argument of every bio tool carries a description in its input
/// schema (from the plugin's `tool-details`), so forms and models need not
/// parse the tool's prose; an argument added without one fails here.
#[tokio::test]
async fn every_bio_tool_describes_its_arguments() {
    let names = [
        "seq",
        "crispr",
        "primer",
        "align",
        "restriction",
        "codon",
        "ncbi",
        "uniprot",
        "ensembl",
    ];
    let components: Vec<_> = names.iter().map(|n| component("plugins", n)).collect();
    let (reg, _d) = registry(&[], &components).await;
    let mut tools = 0;
    for tool in reg.tools().filter(|t| names.contains(&t.plugin.as_str())) {
        tools += 1;
        let properties = tool.input_schema["properties"].as_object();
        for (name, schema) in properties.into_iter().flatten() {
            assert!(
                schema["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{}: `{name}` has no description: {schema}",
                tool.name
            );
        }
    }
    assert!(tools >= 20, "only {tools} bio tools listed");
}
