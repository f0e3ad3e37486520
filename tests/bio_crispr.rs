//! The `crispr` plugin end to end: the built component, called through the
//! host, against an independent Python reference (`tests/bio/crispr_ref.py`:
//! Biopython for sequence handling, separate transcriptions of Doench 2014
//! Rule Set 1 and the MIT/Hsu 2013 scores) over many generated inputs, plus
//! published values.

use bioai::registry::{CallContext, Registry};
use bioai_e2e::{
    Rng, assert_schema_defaults, component, defaults_are_what_the_tool_uses, reference, registry,
};
use serde_json::{Value, json};

fn revcomp(s: &str) -> String {
    s.bytes()
        .rev()
        .map(|b| match b.to_ascii_uppercase() {
            b'A' => 'T',
            b'C' => 'G',
            b'G' => 'C',
            b'T' => 'A',
            _ => 'N',
        })
        .collect()
}

async fn crispr() -> (Registry, tempfile::TempDir) {
    registry(&[], &[component("plugins", "crispr")]).await
}

async fn ok(reg: &Registry, tool: &str, args: Value) -> Value {
    let out = reg
        .call(tool, &args, CallContext::default())
        .await
        .unwrap_or_else(|e| panic!("{tool} {args}: {e}"));
    out.result.unwrap_or_else(|e| panic!("{tool} failed: {e}"))
}

async fn tool_err(reg: &Registry, tool: &str, args: Value) -> String {
    let out = reg
        .call(tool, &args, CallContext::default())
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    let err = out.result.expect_err("the call fails");
    assert_eq!(err.class(), "tool_error", "{err}");
    err.to_string()
}

fn close(a: &Value, b: &Value, tol: f64, what: &str) {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => assert!((x - y).abs() <= tol, "{what}: {x} vs reference {y}"),
        _ => assert!(a.is_null() && b.is_null(), "{what}: {a} vs reference {b}"),
    }
}

fn sorted_flags(v: &Value) -> Vec<String> {
    let mut f: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("flags is a list: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    f.sort();
    f
}

#[tokio::test]
async fn tools_schemas_and_metadata() {
    let (reg, _d) = crispr().await;
    for name in [
        "crispr.design_guides",
        "crispr.rule_set_1",
        "crispr.off_targets",
    ] {
        let t = reg.tool(name).unwrap_or_else(|| panic!("{name} missing"));
        assert!(!t.description.is_empty(), "{name} has a description");
        assert!(t.annotations.read_only_hint, "{name} is read-only");
    }
    // The public name from `tool-details` replaces the WIT one (`rule-set1`).
    assert!(reg.tool("crispr.rule_set1").is_none());
    let rs1 = reg.tool("crispr.rule_set_1").expect("listed");
    assert_eq!(rs1.title.as_deref(), Some("Rule Set 1 on-target score"));
    let d = reg.tool("crispr.design_guides").unwrap();
    assert_eq!(d.input_schema["required"], json!(["sequence"]));
    for p in ["pam", "guide_length", "min_gc", "max_gc", "max_results"] {
        assert!(
            d.input_schema["properties"].get(p).is_some(),
            "{p}: {}",
            d.input_schema
        );
    }
    let o = reg.tool("crispr.off_targets").unwrap();
    assert_eq!(
        o.input_schema["required"],
        json!(["guide", "reference_fasta"])
    );
    // The defaults of the public API are in the schemas (that every
    // argument is described, tests/plugins.rs checks for all bio tools).
    assert_schema_defaults(
        &reg,
        "crispr.design_guides",
        &[
            ("sequence", json!(null)),
            ("pam", json!("NGG")),
            ("guide_length", json!(20)),
            ("min_gc", json!(0.4)),
            ("max_gc", json!(0.6)),
            ("max_results", json!(50)),
        ],
    );
    assert_schema_defaults(&reg, "crispr.off_targets", &[("max_mismatches", json!(4))]);
}

#[tokio::test]
async fn the_schema_defaults_are_what_the_tools_use() {
    let (reg, _d) = crispr().await;
    let region = Rng(7).dna(2_000);
    defaults_are_what_the_tool_uses(&reg, "crispr.design_guides", json!({"sequence": region}))
        .await;
    let fa = format!(">r\n{region}\n");
    let guide = &region[100..120];
    defaults_are_what_the_tool_uses(
        &reg,
        "crispr.off_targets",
        json!({"guide": guide, "reference_fasta": fa}),
    )
    .await;
}

#[tokio::test]
async fn off_targets_read_a_reference_file_the_policy_mounts() {
    let genomes = tempfile::tempdir().unwrap();
    let mut rng = Rng(11);
    let guide = rng.dna(20);
    let fa = planted_fasta(&mut rng, &guide);
    std::fs::write(genomes.path().join("planted.fa"), &fa).unwrap();
    let policy = format!(
        "plugin = \"crispr\"\n[[dirs]]\nhost = \"{}\"\nguest = \"/data/genomes\"\n",
        genomes.path().display()
    );
    let (reg, _d) = registry(&[("crispr", &policy)], &[component("plugins", "crispr")]).await;
    let from_text = ok(
        &reg,
        "crispr.off_targets",
        json!({"guide": guide, "reference_fasta": fa}),
    )
    .await;
    let from_file = ok(
        &reg,
        "crispr.off_targets",
        json!({"guide": guide, "reference_fasta": "/data/genomes/planted.fa"}),
    )
    .await;
    assert!(from_text["total_hits"].as_u64().unwrap() > 0);
    assert_eq!(from_file, from_text);

    // Files the policy does not mount are out of reach, and say so.
    for (path, needle) in [
        ("/data/genomes/absent.fa", "no such file"),
        ("/etc/passwd", "no such file"),
        ("/data/genomes/../../etc/passwd", "no such file"),
        ("/data/genomes", "is a directory"),
        ("planted.fa", "absolute path"),
    ] {
        let e = tool_err(
            &reg,
            "crispr.off_targets",
            json!({"guide": guide, "reference_fasta": path}),
        )
        .await;
        assert!(e.contains(needle), "{path}: {e}");
    }
    // Without the mount (the shipped policy) the same path is not found.
    let (plain, _d) = crispr().await;
    let e = tool_err(
        &plain,
        "crispr.off_targets",
        json!({"guide": guide, "reference_fasta": "/data/genomes/planted.fa"}),
    )
    .await;
    assert!(e.contains("[[dirs]]"), "{e}");
}

#[tokio::test]
async fn rule_set_1_matches_published_values_and_the_reference() {
    let (reg, _d) = crispr().await;
    // CRISPOR's doenchScore.py examples (Haeussler et al. 2016), computed by
    // the Doench 2014 calculator.
    for (ctx, want) in [
        ("TATAGCTGCGATCTGAGGTAGGGAGGGACC", 0.713089368437),
        ("TCCGCACCTGTCACGGTCGGGGCTTGGCGC", 0.0189838463593),
    ] {
        let v = ok(&reg, "crispr.rule_set_1", json!({ "context30": ctx })).await;
        close(&v["value"], &json!(want), 1e-9, ctx);
        // Lower case is accepted.
        let v2 = ok(
            &reg,
            "crispr.rule_set_1",
            json!({ "context30": ctx.to_lowercase() }),
        )
        .await;
        assert_eq!(v, v2);
    }
    // Random 30-mers (NGG PAM or not, the model is defined for any) against
    // the reference.
    let mut rng = Rng(0x5eed_0001);
    let contexts: Vec<String> = (0..600)
        .map(|i| {
            let mut s = rng.dna(30);
            if i % 2 == 0 {
                s.replace_range(25..27, "GG");
            }
            s
        })
        .collect();
    let want = reference(
        "crispr_ref",
        &json!({"op": "rule_set_1", "contexts": contexts}),
    );
    for (ctx, w) in contexts.iter().zip(want["scores"].as_array().unwrap()) {
        let v = ok(&reg, "crispr.rule_set_1", json!({ "context30": ctx })).await;
        close(&v["value"], w, 1e-12, ctx);
    }
    // Errors say what is wrong.
    let e = tool_err(&reg, "crispr.rule_set_1", json!({"context30": "ACGT"})).await;
    assert!(e.contains("30"), "{e}");
    let e = tool_err(
        &reg,
        "crispr.rule_set_1",
        json!({"context30": "TATAGCTGCGATCTGAGGTAGGGAGGGACN"}),
    )
    .await;
    assert!(e.contains("position 30"), "{e}");
}

#[tokio::test]
async fn design_guides_matches_the_reference() {
    let (reg, _d) = crispr().await;
    // The CRISPOR example context as a sequence: its guide is found at 4 on
    // + with PAM GGG and the published score.
    let v = ok(
        &reg,
        "crispr.design_guides",
        json!({"sequence": "TATAGCTGCGATCTGAGGTAGGGAGGGACC"}),
    )
    .await;
    let g = v["guides"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["start"] == 4 && g["strand"] == "plus")
        .expect("the guide at 4");
    assert_eq!(g["protospacer"], "GCTGCGATCTGAGGTAGGGA");
    assert_eq!(g["pam"], "GGG");
    close(&g["score"], &json!(0.713089368437), 1e-9, "CRISPOR example");

    let mut rng = Rng(0x5eed_0002);
    let pams = ["NGG", "NAG", "NGA", "NNGRRT", "NRG", "TTN", "G", "ngg"];
    let mut cases = Vec::new();
    for i in 0..160 {
        let len = 20 + rng.below(400);
        let mut s: Vec<u8> = rng.dna(len).into_bytes();
        // Some ambiguity codes, lower case, poly-T and homopolymer runs.
        for _ in 0..rng.below(4) {
            let p = rng.below(len);
            s[p] = b"NRYN"[rng.below(4)];
        }
        if i % 3 == 0 {
            let p = rng.below(len.saturating_sub(6));
            s[p..p + 5].copy_from_slice(if i % 2 == 0 { b"TTTTT" } else { b"GGGGG" });
        }
        if i % 5 == 0 {
            s.make_ascii_lowercase();
        }
        let mut case = json!({"sequence": String::from_utf8(s).unwrap()});
        if i % 4 != 0 {
            case["pam"] = json!(pams[rng.below(pams.len())]);
        }
        if i % 7 == 3 {
            case["guide_length"] = json!([18, 22, 20][rng.below(3)]);
        }
        if i % 2 == 1 {
            let lo = rng.below(6) as f64 / 10.0;
            case["min_gc"] = json!(lo);
            case["max_gc"] = json!(lo + rng.below(5) as f64 / 10.0);
        }
        if i % 3 != 2 {
            case["max_results"] = json!(1 + rng.below(60));
        }
        cases.push(case);
    }
    // Long sequences: many more guides than kept (the plugin trims as it goes).
    for max_results in [7, 300] {
        cases.push(json!({"sequence": rng.dna(6000), "max_results": max_results}));
    }
    cases.push(json!({"sequence": rng.dna(3000), "pam": "NRG", "max_results": 10000}));
    let want = reference("crispr_ref", &json!({"op": "design", "cases": cases}));
    let mut guides_checked = 0;
    for (case, w) in cases.iter().zip(want["results"].as_array().unwrap()) {
        let v = ok(&reg, "crispr.design_guides", case.clone()).await;
        assert_eq!(v["total_found"], w["total_found"], "{case}");
        assert_eq!(v["total_passing"], w["total_passing"], "{case}");
        let got = v["guides"].as_array().unwrap();
        let exp = w["guides"].as_array().unwrap();
        assert_eq!(got.len(), exp.len(), "{case}");
        for (g, e) in got.iter().zip(exp) {
            for f in ["protospacer", "pam", "strand", "start"] {
                assert_eq!(g[f], e[f], "{f} in {case}: {g} vs {e}");
            }
            close(&g["gc"], &e["gc"], 1e-12, "gc");
            close(&g["score"], &e["score"], 1e-12, "score");
            assert_eq!(
                sorted_flags(&g["flags"]),
                sorted_flags(&e["flags"]),
                "{g} vs {e}"
            );
            guides_checked += 1;
        }
    }
    assert!(guides_checked > 2000, "{guides_checked} guides compared");

    // Validation.
    for (args, needle) in [
        (json!({"sequence": "ACGTX"}), "position 5"),
        (json!({"sequence": "ACGT", "pam": "NXG"}), "pam"),
        (
            json!({"sequence": "ACGT", "guide_length": 12}),
            "guide_length",
        ),
        (json!({"sequence": "ACGT", "min_gc": 0.7}), "min_gc"),
        (json!({"sequence": "ACGT", "max_gc": 1.5}), "max_gc"),
        (json!({"sequence": "ACGT", "max_results": 0}), "max_results"),
    ] {
        let e = tool_err(&reg, "crispr.design_guides", args.clone()).await;
        assert!(e.contains(needle), "{args}: {e}");
    }
}

/// A FASTA text with random records and planted, mutated copies of `guide`
/// (with an NGG PAM) on random strands.
fn planted_fasta(rng: &mut Rng, guide: &str) -> String {
    let mut fa = String::new();
    for r in 0..1 + rng.below(3) {
        let len = 300 + rng.below(2500);
        let mut s = rng.dna(len).into_bytes();
        for _ in 0..rng.below(8) {
            let mut site: Vec<u8> = guide.as_bytes().to_vec();
            for _ in 0..rng.below(7) {
                let p = rng.below(site.len());
                site[p] = b"ACGT"[rng.below(4)];
            }
            site.push(b"ACGT"[rng.below(4)]);
            site.extend_from_slice(if rng.below(5) == 0 { b"AG" } else { b"GG" });
            let mut site = String::from_utf8(site).unwrap();
            if rng.below(2) == 0 {
                site = revcomp(&site);
            }
            let p = rng.below(len - site.len());
            s[p..p + site.len()].copy_from_slice(site.as_bytes());
        }
        for _ in 0..rng.below(3) {
            let p = rng.below(len);
            s[p] = b'N';
        }
        if r == 1 {
            s.make_ascii_lowercase();
        }
        fa.push_str(&format!(">rec{r} random record {r}\n"));
        for line in s.chunks(60 + r * 10) {
            fa.push_str(std::str::from_utf8(line).unwrap());
            fa.push('\n');
        }
    }
    fa
}

fn compare_report(got: &Value, want: &Value, what: &str) {
    for f in ["total_hits", "truncated", "perfect_matches"] {
        assert_eq!(got[f], want[f], "{f} in {what}");
    }
    close(&got["specificity"], &want["specificity"], 1e-12, what);
    let g = got["hits"].as_array().unwrap();
    let w = want["hits"].as_array().unwrap();
    assert_eq!(g.len(), w.len(), "{what}");
    for (h, e) in g.iter().zip(w) {
        for f in [
            "record_id",
            "start",
            "strand",
            "sequence",
            "pam",
            "mismatches",
            "mismatch_positions",
        ] {
            assert_eq!(h[f], e[f], "{f} in {what}: {h} vs {e}");
        }
        close(&h["mit_score"], &e["mit_score"], 1e-9, what);
    }
}

#[tokio::test]
async fn off_targets_match_the_reference() {
    let (reg, _d) = crispr().await;
    let mut rng = Rng(0x5eed_0003);
    let mut cases = Vec::new();
    for i in 0..150 {
        let glen = if i % 10 == 9 { 18 + rng.below(5) } else { 20 };
        let guide = rng.dna(glen);
        let fasta = planted_fasta(&mut rng, &guide);
        let mut case = json!({"guide": guide, "fasta": fasta});
        if i % 3 != 0 {
            case["max_mismatches"] = json!(rng.below(7));
        }
        cases.push(case);
    }
    // A low-complexity reference with thousands of sites: truncation.
    let repeat = "GGA".repeat(1500);
    cases.push(json!({
        "guide": "GGAGGAGGAGGAGGAGGAGG",
        "fasta": format!(">rep\n{repeat}\n>rep2\n{}\n", revcomp(&repeat)),
        "max_mismatches": 5,
    }));
    let want = reference("crispr_ref", &json!({"op": "off_targets", "cases": cases}));
    let mut hits = 0;
    for (i, (case, w)) in cases
        .iter()
        .zip(want["results"].as_array().unwrap())
        .enumerate()
    {
        let mut args = json!({"guide": case["guide"], "reference_fasta": case["fasta"]});
        if let Some(m) = case.get("max_mismatches") {
            args["max_mismatches"] = m.clone();
        }
        let v = ok(&reg, "crispr.off_targets", args).await;
        compare_report(&v, w, &format!("case {i}"));
        if i < 150 {
            hits += v["hits"].as_array().unwrap().len();
        }
    }
    assert!(hits > 400, "{hits} hits compared, besides the repeat");
    assert_eq!(want["results"][150]["truncated"], true);
}

#[tokio::test]
async fn off_targets_published_scores_and_errors() {
    let (reg, _d) = crispr().await;
    let guide = "GACGCATAAAGATGAGACGC";
    // On-target + one site with a mismatch at the PAM-proximal position 19:
    // MIT hit score 100 * (1 - 0.583) = 41.7 (Hsu 2013 weight M[19]).
    let mut off = guide.to_string();
    off.replace_range(19..20, "A");
    let fa = format!(">chr1\nTTT{guide}TGGAAAAAAAAAA{off}CGGTTT\n");
    let v = ok(
        &reg,
        "crispr.off_targets",
        json!({"guide": guide, "reference_fasta": fa}),
    )
    .await;
    assert_eq!(v["total_hits"], 2);
    assert_eq!(v["perfect_matches"], 1);
    assert_eq!(v["hits"][0]["mit_score"], json!(100.0));
    assert_eq!(v["hits"][0]["start"], 3);
    close(
        &v["hits"][1]["mit_score"],
        &json!(41.7),
        1e-9,
        "1 mismatch at 19",
    );
    close(
        &v["specificity"],
        &json!(100.0 / 141.7),
        1e-12,
        "specificity",
    );

    for (args, needle) in [
        (
            json!({"guide": "ACGTN", "reference_fasta": ">a\nACGT\n"}),
            "guide",
        ),
        (
            json!({"guide": "ACGT", "reference_fasta": ">a\nACGT\n"}),
            "16 to 30",
        ),
        (
            json!({"guide": guide, "reference_fasta": ">a\nACGT\n", "max_mismatches": 9}),
            "max_mismatches",
        ),
        (
            json!({"guide": guide, "reference_fasta": "ACGT\n"}),
            "line 1",
        ),
        (
            json!({"guide": guide, "reference_fasta": ">a\nAC!T\n"}),
            "line 2",
        ),
    ] {
        let e = tool_err(&reg, "crispr.off_targets", args.clone()).await;
        assert!(e.contains(needle), "{args}: {e}");
    }
    // More than 50 Mbp is refused with a clear message.
    let big = format!(">big\n{}\n", "A".repeat(50_000_001));
    let e = tool_err(
        &reg,
        "crispr.off_targets",
        json!({"guide": guide, "reference_fasta": big}),
    )
    .await;
    assert!(e.contains("50 Mbp"), "{e}");
}
