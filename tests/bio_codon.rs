//! The `codon` plugin end to end: the built component, called through the
//! host, against an independent Python reference (`tests/bio/codon_ref.py`:
//! CAI straight from Sharp & Li 1987 and through Biopython's
//! `CodonAdaptationIndex` with the python-codon-tables weights; Biopython
//! translation, GC and IUPAC site search on both strands) over many
//! generated proteins and CDSs, plus hand-checked values from the Kazusa
//! tables.

use bioai::registry::{CallContext, Registry};
use bioai_e2e::{
    Rng, assert_schema_defaults, component, defaults_are_what_the_tool_uses, reference, registry,
};
use serde_json::{Value, json};

/// Generators only these tests need, on the shared [`Rng`].
trait CodonRng {
    fn protein(&mut self, len: usize) -> String;
    fn cds(&mut self, codons: usize) -> String;
}

impl CodonRng for Rng {
    fn protein(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| b"ACDEFGHIKLMNPQRSTVWY"[self.below(20)] as char)
            .collect()
    }
    /// A CDS of `codons` sense codons, with a final stop half of the time.
    fn cds(&mut self, codons: usize) -> String {
        let mut s = String::new();
        while s.len() < 3 * codons {
            let c: String = (0..3).map(|_| b"ACGT"[self.below(4)] as char).collect();
            if !matches!(c.as_str(), "TAA" | "TAG" | "TGA") {
                s.push_str(&c);
            }
        }
        if self.below(2) == 0 {
            s.push_str(["TAA", "TAG", "TGA"][self.below(3)]);
        }
        s
    }
}

const HOSTS: [&str; 5] = ["e_coli", "s_cerevisiae", "h_sapiens", "m_musculus", "cho"];

async fn codon() -> (Registry, tempfile::TempDir) {
    registry(&[], &[component("plugins", "codon")]).await
}

async fn ok(reg: &Registry, args: Value) -> Value {
    let mut shown = args.to_string();
    if shown.len() > 300 {
        shown.truncate(300);
        shown.push_str("...");
    }
    let out = reg
        .call("codon.optimize", &args, CallContext::default())
        .await
        .unwrap_or_else(|e| panic!("codon.optimize {shown}: {e}"));
    out.result
        .unwrap_or_else(|e| panic!("codon.optimize {shown} failed: {e}"))
}

async fn tool_err(reg: &Registry, args: Value) -> String {
    let out = reg
        .call("codon.optimize", &args, CallContext::default())
        .await
        .unwrap_or_else(|e| panic!("codon.optimize: {e}"));
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

fn results(v: Value) -> Vec<Value> {
    v["results"].as_array().expect("results").clone()
}

#[tokio::test]
async fn tool_schema_and_metadata() {
    let (reg, _d) = codon().await;
    let t = reg
        .tool("codon.optimize")
        .expect("codon.optimize is loaded");
    assert!(!t.description.is_empty());
    assert!(t.annotations.read_only_hint);
    assert_eq!(t.input_schema["required"], json!(["protein_or_cds"]));
    for p in ["host", "avoid_sites"] {
        assert!(
            t.input_schema["properties"].get(p).is_some(),
            "{p}: {}",
            t.input_schema
        );
    }
    let schema = t.input_schema.to_string();
    for h in HOSTS {
        assert!(schema.contains(&format!("\"{h}\"")), "{h} in {schema}");
    }
}

/// Random CDSs for every host: CAI before and after against both reference
/// CAIs, the output against the reference's best codons, its translation
/// and GC against Biopython, and CAI after >= before.
#[tokio::test]
async fn cds_input_matches_the_reference() {
    let (reg, _d) = codon().await;
    let mut rng = Rng(0x00C0_D0A1_2345_6789);
    let mut outs = Vec::new();
    let mut cases = Vec::new();
    for i in 0..200 {
        let host = HOSTS[i % HOSTS.len()];
        let n = 1 + rng.below(if i % 10 == 0 { 600 } else { 120 });
        let cds = rng.cds(n);
        let got = ok(&reg, json!({"protein_or_cds": cds, "host": host})).await;
        cases.push((cds, host));
        outs.push(got);
    }
    let cai_req: Vec<Value> = cases
        .iter()
        .zip(&outs)
        .flat_map(|((cds, host), got)| {
            [
                json!({"cds": cds, "host": host}),
                json!({"cds": got["cds"], "host": host}),
            ]
        })
        .collect();
    let cai_ref = results(reference(
        "codon_ref",
        &json!({"op": "cai", "cases": cai_req}),
    ));
    let check_req: Vec<Value> = outs
        .iter()
        .map(|g| json!({"cds": g["cds"], "sites": []}))
        .collect();
    let check = results(reference(
        "codon_ref",
        &json!({"op": "check", "cases": check_req}),
    ));
    let input_check: Vec<Value> = cases
        .iter()
        .map(|(cds, _)| json!({"cds": cds, "sites": []}))
        .collect();
    let input_check = results(reference(
        "codon_ref",
        &json!({"op": "check", "cases": input_check}),
    ));
    let best_req: Vec<Value> = cases
        .iter()
        .zip(&input_check)
        .map(|((_, host), c)| json!({"protein": c["protein"], "host": host}))
        .collect();
    let best = results(reference(
        "codon_ref",
        &json!({"op": "best", "cases": best_req}),
    ));
    for (i, ((cds, host), got)) in cases.iter().zip(&outs).enumerate() {
        let what = format!("case {i} ({host}, {cds})");
        let (before, after) = (&cai_ref[2 * i], &cai_ref[2 * i + 1]);
        close(
            &got["cai_before"],
            &before["sharp_li"],
            1e-9,
            &format!("{what} cai_before"),
        );
        close(
            &got["cai_before"],
            &before["biopython"],
            1e-9,
            &format!("{what} cai_before (Biopython)"),
        );
        close(
            &got["cai_after"],
            &after["sharp_li"],
            1e-9,
            &format!("{what} cai_after"),
        );
        close(
            &got["cai_after"],
            &after["biopython"],
            1e-9,
            &format!("{what} cai_after (Biopython)"),
        );
        if let (Some(b), Some(a)) = (got["cai_before"].as_f64(), got["cai_after"].as_f64()) {
            assert!(a >= b, "{what}: CAI after {a} < before {b}");
            assert!(
                (a - 1.0).abs() < 1e-12,
                "{what}: best codons give CAI 1, got {a}"
            );
        }
        assert_eq!(got["protein"], input_check[i]["protein"], "{what}: protein");
        assert_eq!(
            check[i]["protein"], input_check[i]["protein"],
            "{what}: translation"
        );
        assert_eq!(got["cds"], best[i], "{what}: best codons");
        close(
            &got["gc_content"],
            &check[i]["gc"],
            1e-12,
            &format!("{what} gc"),
        );
        assert_eq!(got["sites"], json!([]));
    }
}

/// Random proteins with avoid-sites taken from their own best-codon CDS (so
/// they are there to remove, some with an N): the protein is kept
/// (Biopython translation), the sites left are exactly those Biopython finds
/// on either strand, `found` matches Biopython on the best-codon CDS, and
/// CAI after matches the reference.
#[tokio::test]
async fn avoid_sites_match_the_reference() {
    let (reg, _d) = codon().await;
    let mut rng = Rng(0x5173_5173_0BAD_F00D);
    let mut proteins = Vec::new();
    for i in 0..150 {
        let len = 10 + rng.below(150);
        let mut p = rng.protein(len);
        if i % 3 == 0 {
            p.push('*');
        }
        proteins.push((p, HOSTS[i % HOSTS.len()]));
    }
    let best_req: Vec<Value> = proteins
        .iter()
        .map(|(p, h)| json!({"protein": p, "host": h}))
        .collect();
    let best = results(reference(
        "codon_ref",
        &json!({"op": "best", "cases": best_req}),
    ));
    let mut sites_per_case = Vec::new();
    let mut outs = Vec::new();
    for (i, (p, host)) in proteins.iter().enumerate() {
        let b = best[i].as_str().unwrap();
        let mut sites = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let len = 5 + rng.below(4);
            let start = rng.below(b.len() - len);
            let mut s: Vec<u8> = b.as_bytes()[start..start + len].to_vec();
            if rng.below(4) == 0 {
                s[1 + rng.below(len - 2)] = b'N';
            }
            sites.push(String::from_utf8(s).unwrap());
        }
        if i % 10 == 0 {
            sites.push("GAATTC".into()); // EcoRI
            sites.push("GGTCTC".into()); // BsaI
        }
        let got = ok(
            &reg,
            json!({"protein_or_cds": p, "host": host, "avoid_sites": sites}),
        )
        .await;
        sites_per_case.push(sites);
        outs.push(got);
    }
    let check_req: Vec<Value> = outs
        .iter()
        .zip(&sites_per_case)
        .map(|(g, s)| json!({"cds": g["cds"], "sites": s}))
        .collect();
    let check = results(reference(
        "codon_ref",
        &json!({"op": "check", "cases": check_req}),
    ));
    let best_check_req: Vec<Value> = best
        .iter()
        .zip(&sites_per_case)
        .map(|(b, s)| json!({"cds": b, "sites": s}))
        .collect();
    let best_check = results(reference(
        "codon_ref",
        &json!({"op": "check", "cases": best_check_req}),
    ));
    let cai_req: Vec<Value> = outs
        .iter()
        .zip(&proteins)
        .map(|(g, (_, h))| json!({"cds": g["cds"], "host": h}))
        .collect();
    let cai_ref = results(reference(
        "codon_ref",
        &json!({"op": "cai", "cases": cai_req}),
    ));
    let (mut found_total, mut left_total) = (0, 0);
    for (i, ((p, host), got)) in proteins.iter().zip(&outs).enumerate() {
        let what = format!("case {i} ({host}, {p}, {:?})", sites_per_case[i]);
        assert_eq!(got["protein"], json!(p), "{what}");
        assert_eq!(
            check[i]["protein"],
            json!(p),
            "{what}: Biopython translation"
        );
        close(
            &got["cai_after"],
            &cai_ref[i]["sharp_li"],
            1e-9,
            &format!("{what} cai_after"),
        );
        close(
            &got["cai_after"],
            &cai_ref[i]["biopython"],
            1e-9,
            &format!("{what} cai_after (Biopython)"),
        );
        assert!(got["cai_before"].is_null(), "{what}: protein input");
        close(
            &got["gc_content"],
            &check[i]["gc"],
            1e-12,
            &format!("{what} gc"),
        );
        let reports = got["sites"].as_array().unwrap();
        assert_eq!(reports.len(), sites_per_case[i].len(), "{what}");
        for (k, r) in reports.iter().enumerate() {
            let found = best_check[i]["hits"][k].as_array().unwrap().len();
            assert_eq!(r["found"], json!(found), "{what}: site {k} found");
            let left: Vec<u64> = r["remaining"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["start"].as_u64().unwrap())
                .collect();
            let want: Vec<u64> = check[i]["hits"][k]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            assert_eq!(left, want, "{what}: site {k} remaining");
            assert_eq!(r["remaining_count"], json!(want.len()), "{what}: site {k}");
            assert_eq!(r["removed"], json!(want.is_empty()), "{what}: site {k}");
            found_total += found;
            left_total += want.len();
        }
    }
    // Sites were really there, and nearly all could go.
    eprintln!("avoid-sites: {found_total} found, {left_total} left");
    assert!(found_total > 200, "found {found_total}");
    assert!(
        left_total * 10 < found_total,
        "left {left_total} of {found_total}"
    );
}

/// Avoid-sites on CDS input: the protein never changes (Biopython), a site
/// is reported removed exactly when Biopython finds none, and CAI after >=
/// before.
#[tokio::test]
async fn cds_with_sites_keeps_protein() {
    let (reg, _d) = codon().await;
    let mut rng = Rng(0xFEED_FACE_CAFE_BEEF);
    let mut cases = Vec::new();
    for i in 0..60 {
        let n = 20 + rng.below(100);
        let cds = rng.cds(n);
        let host = HOSTS[i % HOSTS.len()];
        let got = ok(
            &reg,
            json!({"protein_or_cds": cds, "host": host,
                   "avoid_sites": ["GAATTC", "GGATCC", "GCNGC", "CTGG", "RGCY"]}),
        )
        .await;
        cases.push((cds, got));
    }
    let req: Vec<Value> = cases
        .iter()
        .flat_map(|(cds, g)| {
            [
                json!({"cds": cds, "sites": []}),
                json!({"cds": g["cds"], "sites": ["GAATTC", "GGATCC", "GCNGC", "CTGG", "RGCY"]}),
            ]
        })
        .collect();
    let check = results(reference(
        "codon_ref",
        &json!({"op": "check", "cases": req}),
    ));
    let mut found = 0;
    for (i, (cds, got)) in cases.iter().enumerate() {
        let (inp, out) = (&check[2 * i], &check[2 * i + 1]);
        assert_eq!(out["protein"], inp["protein"], "{cds}");
        assert_eq!(got["protein"], inp["protein"], "{cds}");
        let all_gone = got["sites"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["removed"] == json!(true));
        let hits_left: usize = out["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_array().unwrap().len())
            .sum();
        assert_eq!(all_gone, hits_left == 0, "{cds}");
        let (b, a) = (got["cai_before"].as_f64(), got["cai_after"].as_f64());
        if let (Some(b), Some(a)) = (b, a) {
            assert!(a >= b, "{cds}: CAI after {a} < before {b}");
        }
        found += got["sites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["found"].as_u64().unwrap())
            .sum::<u64>();
    }
    eprintln!("CDS with sites: {found} occurrences found");
    assert!(found > 100, "{found}");
}

/// Values worked by hand from the python-codon-tables (Kazusa) tables.
#[tokio::test]
async fn hand_checked_values_and_strands() {
    let (reg, _d) = codon().await;
    // E. coli Leu: CTG 0.50, CTT 0.10, so w(CTT) = 0.2; ATG and TAA do not
    // count: CAI(ATG CTT TAA) = 0.2.
    let r = ok(&reg, json!({"protein_or_cds": "ATGCTTTAA"})).await;
    close(&r["cai_before"], &json!(0.2), 1e-12, "ATG CTT TAA");
    assert_eq!(r["cds"], "ATGCTGTAA");
    assert_eq!(r["protein"], "ML*");
    assert!(
        r["codon_table"]
            .as_str()
            .unwrap()
            .starts_with("e_coli_316407")
    );
    // Human Arg: AGA and AGG both 0.20, the alphabetically first wins.
    let r = ok(&reg, json!({"protein_or_cds": "R", "host": "h_sapiens"})).await;
    assert_eq!(r["cds"], "AGA");
    assert_eq!(r["cai_before"], Value::Null);
    assert_eq!(r["cai_after"], json!(1.0));
    // CHO uses Kazusa's Cricetulus griseus table (species=10029), and says
    // so.
    let r = ok(&reg, json!({"protein_or_cds": "MW", "host": "cho"})).await;
    let table = r["codon_table"].as_str().unwrap();
    assert!(table.starts_with("cricetulus_griseus_10029"), "{table}");
    assert!(table.contains("Cricetulus griseus"), "{table}");
    assert!(table.contains("Kazusa"), "{table}");
    assert_eq!(r["cai_after"], Value::Null);
    // Kazusa CHO: Leu CTG 5955 of 15117 (0.39) is the most used Leu codon,
    // Gln CAG 5122 of 6709 (0.76), stop TGA 177 of 354 (0.50; TAA 93, TAG
    // 84); Leu CTT 2023 (0.13) has w = 0.13 / 0.39.
    let r = ok(
        &reg,
        json!({"protein_or_cds": "ATGCTTCAATAA", "host": "cho"}),
    )
    .await;
    assert_eq!(r["cds"], "ATGCTGCAGTGA");
    // CAA 1587 of 6709 = 0.24: w = 0.24 / 0.76.
    let want = ((0.13f64 / 0.39).ln() / 2.0 + (0.24f64 / 0.76).ln() / 2.0).exp();
    close(&r["cai_before"], &json!(want), 1e-9, "CHO ATG CTT CAA TAA");
    // E. coli E F best codons are GAA TTT; the site AAATTC is their reverse
    // complement, so it is found on the reverse strand and removed.
    let r = ok(
        &reg,
        json!({"protein_or_cds": "MEFK", "avoid_sites": ["aaattc"]}),
    )
    .await;
    assert_eq!(r["sites"][0]["site"], "AAATTC");
    assert_eq!(r["sites"][0]["found"], 1);
    assert_eq!(r["sites"][0]["removed"], true);
    assert_eq!(r["protein"], "MEFK");
    // ATG ATG cannot change: reported with where it is.
    let r = ok(
        &reg,
        json!({"protein_or_cds": "KMM", "avoid_sites": ["ATGATG", "CATCAT"]}),
    )
    .await;
    assert_eq!(
        r["sites"][0]["remaining"],
        json!([{"start": 3, "end": 9, "strand": "forward"}])
    );
    assert_eq!(
        r["sites"][1]["remaining"],
        json!([{"start": 3, "end": 9, "strand": "reverse"}])
    );
    assert_eq!(r["sites"][0]["removed"], false);
    assert_eq!(r["sites"][0]["remaining_count"], 1);
}

#[tokio::test]
async fn bad_input_is_explained() {
    let (reg, _d) = codon().await;
    let e = tool_err(&reg, json!({"protein_or_cds": "ATGTAAATG"})).await;
    assert!(e.contains("internal stop") && e.contains("3..6"), "{e}");
    let e = tool_err(&reg, json!({"protein_or_cds": "MKXL"})).await;
    assert!(e.contains("'X'") && e.contains("residue 3"), "{e}");
    let e = tool_err(&reg, json!({"protein_or_cds": "MK*L"})).await;
    assert!(e.contains("residue 3"), "{e}");
    let e = tool_err(&reg, json!({"protein_or_cds": ""})).await;
    assert!(e.contains("empty"), "{e}");
    let e = tool_err(
        &reg,
        json!({"protein_or_cds": "MK", "avoid_sites": ["GAJTC"]}),
    )
    .await;
    assert!(e.contains("position 3") && e.contains("IUPAC"), "{e}");
    let many: Vec<String> = (0..65).map(|_| "GAATTC".to_string()).collect();
    let e = tool_err(&reg, json!({"protein_or_cds": "MK", "avoid_sites": many})).await;
    assert!(e.contains("at most 64"), "{e}");
    let out = reg
        .call(
            "codon.optimize",
            &json!({"protein_or_cds": "MK", "host": "pig"}),
            CallContext::default(),
        )
        .await;
    assert!(
        out.is_err() || out.unwrap().result.is_err(),
        "an unknown host is refused"
    );
}

/// The largest input with the most expensive sites (all `N`, matching
/// everywhere and removable nowhere) stays within the shipped policy's
/// limits: the work limit stops site removal.
#[tokio::test]
async fn worst_case_fits_the_policy() {
    let policy = std::fs::read_to_string(bioai_e2e::root().join("policies/codon.toml"))
        .expect("policies/codon.toml");
    let (reg, _d) = registry(&[("codon", &policy)], &[component("plugins", "codon")]).await;
    let protein: String = (0..100_000)
        .map(|i| b"ACDEFGHIKLMNPQRSTVWY"[i * 7 % 20] as char)
        .collect();
    let sites: Vec<String> = (0..8).map(|_| "N".repeat(64)).collect();
    let t = std::time::Instant::now();
    let out = reg
        .call(
            "codon.optimize",
            &json!({"protein_or_cds": protein, "avoid_sites": sites}),
            CallContext::default(),
        )
        .await
        .expect("the call runs");
    let r = out.result.clone().expect("the worst case fits the policy");
    eprintln!("worst case: {:?}, meters {:?}", t.elapsed(), out.meters);
    assert_eq!(r["protein"].as_str().unwrap().len(), 100_000);
    assert_eq!(r["sites"][0]["found"], 299_937);
    assert_eq!(r["sites"][0]["remaining_count"], 299_937);
    assert_eq!(r["sites"][0]["remaining"].as_array().unwrap().len(), 100);
    assert_eq!(r["sites"][0]["removed"], false);
    assert_eq!(r["sites"][0]["found"], 299_937);
    assert_eq!(r["sites"][0]["remaining_count"], 299_937);
    assert_eq!(r["sites"][0]["remaining"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn the_schema_default_is_what_the_tool_uses() {
    let (reg, _d) = codon().await;
    defaults_are_what_the_tool_uses(
        &reg,
        "codon.optimize",
        json!({"protein_or_cds": "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKWKRQTLGQHDFSAGEGLYTHMKALRPDEDRLSPLHSVYVDQWDWERVMGDGERQFSTLKSTVEAIWAGIKATEAAVSEEFGLAPFLPDQIHFVHSQELLSRYPDLDAKGRERAIAKDLGAVFLVGIGGKLSDGHRHDVRAPDYDDW"}),
    )
    .await;
    assert_schema_defaults(&reg, "codon.optimize", &[("host", json!("e_coli"))]);
}
