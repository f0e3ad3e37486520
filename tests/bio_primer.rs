//! The `primer` plugin end to end, through the host, against independent
//! references: Biopython 1.85 `Bio.SeqUtils.MeltingTemp` (Tm, to 1e-6) and
//! primer3-py 2.0.3 (design and secondary structures, qualitatively), run by
//! `tests/bio/primer_ref.py`, plus the values published in Biopython's
//! documentation.

use bioai::registry::{CallContext, Registry};
use bioai_e2e::{
    assert_schema_defaults, component, defaults_are_what_the_tool_uses, reference, registry,
};
use serde_json::{Value, json};

/// A small deterministic PRNG (xorshift64) so every run checks the same cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Random DNA of `len` bases with a random GC bias.
    fn dna(&mut self, len: usize) -> String {
        let gc = self.unit();
        (0..len)
            .map(|_| {
                let strong = self.unit() < gc;
                let i = self.below(2) as usize;
                (if strong {
                    [b'G', b'C'][i]
                } else {
                    [b'A', b'T'][i]
                }) as char
            })
            .collect()
    }
}

const TABLES: [&str; 8] = [
    "DNA_NN1",
    "DNA_NN2",
    "DNA_NN3",
    "DNA_NN4",
    "RNA_NN1",
    "RNA_NN2",
    "RNA_NN3",
    "R_DNA_NN1",
];

async fn reg() -> (Registry, tempfile::TempDir) {
    registry(&[], &[component("plugins", "primer")]).await
}

async fn call(reg: &Registry, tool: &str, args: &Value) -> Result<Value, String> {
    reg.call(tool, args, CallContext::default())
        .await
        .unwrap_or_else(|e| panic!("{tool} exists: {e}"))
        .result
        .map_err(|e| {
            assert_eq!(e.class(), "tool_error", "{tool} {args}: {e}");
            e.to_string()
        })
}

async fn tm(reg: &Registry, args: Value) -> Result<f64, String> {
    call(reg, "primer.tm", &args).await.map(|v| {
        v["value"]
            .as_f64()
            .unwrap_or_else(|| panic!("a number: {v}"))
    })
}

/// Random ion concentrations, some of them zero or extreme, in mM.
fn ions(rng: &mut Rng) -> [f64; 5] {
    let mut pick = |zero: f64, scale: f64| {
        if rng.unit() < zero {
            0.0
        } else {
            (rng.unit() * scale * 1000.0).round() / 1000.0
        }
    };
    let na = pick(0.1, 1000.0);
    let k = pick(0.6, 100.0);
    let tris = pick(0.6, 50.0);
    let mg = pick(0.5, 10.0);
    let dntps = pick(0.5, 5.0);
    [na, k, tris, mg, dntps]
}

fn compare(what: &str, case: &Value, ours: &Result<f64, String>, theirs: &Value) {
    match (ours, theirs.get("value").and_then(Value::as_f64)) {
        (Ok(a), Some(b)) => assert!(
            (a - b).abs() <= 1e-6,
            "{what}: {case}: ours {a}, Biopython {b}"
        ),
        (Err(_), None) => {} // both refuse (e.g. zero ion concentration)
        (ours, _) => panic!("{what}: {case}: ours {ours:?}, Biopython {theirs}"),
    }
}

// Every table x every salt correction, over random primers (with random
// case and U for T), random ions, strand concentrations and self-
// complementarity: 120 sequences x 64 = 7680 Tm_NN cases.
#[tokio::test]
async fn tm_nn_matches_biopython_for_every_table_and_salt_correction() {
    let (reg, _d) = reg().await;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut cases = Vec::new();
    for i in 0..120 {
        let len = match i % 4 {
            0 => 2 + rng.below(10) as usize,
            1 | 2 => 15 + rng.below(20) as usize,
            _ => 35 + rng.below(60) as usize,
        };
        let mut seq = rng.dna(len);
        if i % 7 == 0 {
            seq = seq.to_lowercase();
        }
        if i % 5 == 0 {
            seq = seq.replace('T', "U").replace('t', "u");
        }
        for table in TABLES {
            for saltcorr in 0..=7u8 {
                let [na, k, tris, mg, dntps] = if rng.unit() < 0.3 {
                    [50.0, 0.0, 0.0, 0.0, 0.0]
                } else {
                    ions(&mut rng)
                };
                let dnac1 = if rng.unit() < 0.3 {
                    25.0
                } else {
                    (rng.unit() * 1000.0).round() + 1.0
                };
                let dnac2 = if rng.unit() < 0.3 {
                    25.0_f64.min(dnac1)
                } else {
                    (rng.unit() * 2.2 * dnac1).round()
                };
                cases.push(json!({
                    "sequence": seq, "method": "nn", "table": table,
                    "na": na, "k": k, "tris": tris, "mg": mg, "dntps": dntps,
                    "dnac1": dnac1, "dnac2": dnac2, "saltcorr": saltcorr,
                    "selfcomp": rng.unit() < 0.2,
                }));
            }
        }
    }
    let expected = reference("primer_ref", &json!({"op": "tm", "cases": cases}));
    let expected = expected.as_array().unwrap();
    let (mut values, mut errors) = (0, 0);
    for (c, e) in cases.iter().zip(expected) {
        let ours = tm(
            &reg,
            json!({
                "sequence": c["sequence"], "table": c["table"],
                "na_mm": c["na"], "k_mm": c["k"], "tris_mm": c["tris"],
                "mg_mm": c["mg"], "dntps_mm": c["dntps"],
                "dnac1_nm": c["dnac1"], "dnac2_nm": c["dnac2"],
                "saltcorr": c["saltcorr"], "selfcomp": c["selfcomp"],
            }),
        )
        .await;
        if ours.is_ok() {
            values += 1;
        } else {
            errors += 1;
        }
        compare("Tm_NN", c, &ours, e);
    }
    eprintln!("Tm_NN: {values} values within 1e-6 of Biopython, {errors} refused by both");
    assert!(values > 6000, "most cases are valid: {values}");
}

// Defaults (no optional argument): Biopython's Tm_NN(seq).
#[tokio::test]
async fn tm_defaults_match_biopython() {
    let (reg, _d) = reg().await;
    let mut rng = Rng(7);
    let seqs: Vec<String> = (0..200)
        .map(|_| {
            let len = 2 + rng.below(50) as usize;
            rng.dna(len)
        })
        .collect();
    let cases: Vec<Value> = seqs
        .iter()
        .map(|s| {
            json!({"sequence": s, "method": "nn", "table": "DNA_NN3", "na": 50.0,
                   "k": 0.0, "tris": 0.0, "mg": 0.0, "dntps": 0.0, "dnac1": 25.0,
                   "dnac2": 25.0, "saltcorr": 5, "selfcomp": false})
        })
        .collect();
    let expected = reference("primer_ref", &json!({"op": "tm", "cases": cases}));
    for (c, e) in cases.iter().zip(expected.as_array().unwrap()) {
        let ours = tm(&reg, json!({"sequence": c["sequence"]})).await;
        assert!(ours.is_ok(), "{c}: {ours:?}");
        compare("Tm_NN defaults", c, &ours, e);
    }
}

// `primer.tm_many`: one call for many primers (one per line) gives, in
// order, Biopython's Tm_NN of each (defaults, then one table / ion /
// salt-correction set), and names an invalid sequence by its index and line.
#[tokio::test]
async fn tm_many_matches_biopython() {
    let (reg, _d) = reg().await;
    let mut rng = Rng(0x7a11);
    let seqs: Vec<String> = (0..500)
        .map(|_| {
            let len = 2 + rng.below(50) as usize;
            rng.dna(len)
        })
        .collect();
    for (table, na, mg, saltcorr) in [("DNA_NN3", 50.0, 0.0, 5), ("DNA_NN4", 60.0, 1.5, 7)] {
        let cases: Vec<Value> = seqs
            .iter()
            .map(|s| {
                json!({"sequence": s, "method": "nn", "table": table, "na": na,
                       "k": 0.0, "tris": 0.0, "mg": mg, "dntps": 0.0, "dnac1": 25.0,
                       "dnac2": 25.0, "saltcorr": saltcorr, "selfcomp": false})
            })
            .collect();
        let expected = reference("primer_ref", &json!({"op": "tm", "cases": cases}));
        let out = call(
            &reg,
            "primer.tm_many",
            &json!({"sequences": seqs.join("\n"), "table": table, "na_mm": na, "mg_mm": mg,
                    "saltcorr": saltcorr}),
        )
        .await
        .unwrap();
        let values = out["value"]
            .as_array()
            .unwrap_or_else(|| panic!("a list: {out}"));
        assert_eq!(values.len(), seqs.len());
        for ((c, e), v) in cases.iter().zip(expected.as_array().unwrap()).zip(values) {
            compare("tm_many", c, &Ok(v.as_f64().unwrap()), e);
        }
    }
    let err = call(
        &reg,
        "primer.tm_many",
        &json!({"sequences": "ACGTACGTACGT\n\nACGTNACGT\n"}),
    )
    .await
    .unwrap_err();
    assert!(err.contains("sequences[1] (line 3)"), "{err}");
    let empty = call(&reg, "primer.tm_many", &json!({"sequences": " \n"}))
        .await
        .unwrap();
    assert_eq!(empty["value"], json!([]));
}

// Tm_Wallace and Tm_GC (Biopython defaults), 300 random sequences each, the
// GC method with random ions (including none, which both refuse).
#[tokio::test]
async fn tm_wallace_and_gc_match_biopython() {
    let (reg, _d) = reg().await;
    let mut rng = Rng(12345);
    let mut cases = Vec::new();
    for i in 0..600 {
        let len = 1 + rng.below(70) as usize;
        let mut seq = rng.dna(len);
        if i % 9 == 0 {
            seq = seq.replacen('G', "S", 2).replacen('A', "W", 2);
        }
        let [na, k, tris, mg, dntps] = if i % 3 == 0 {
            [50.0, 0.0, 0.0, 0.0, 0.0]
        } else {
            ions(&mut rng)
        };
        let method = if i % 2 == 0 { "wallace" } else { "gc" };
        cases.push(json!({
            "sequence": seq, "method": method, "table": "DNA_NN3",
            "na": na, "k": k, "tris": tris, "mg": mg, "dntps": dntps,
            "dnac1": 25.0, "dnac2": 25.0, "saltcorr": 5, "selfcomp": false,
        }));
    }
    let expected = reference("primer_ref", &json!({"op": "tm", "cases": cases}));
    for (c, e) in cases.iter().zip(expected.as_array().unwrap()) {
        let ours = tm(
            &reg,
            json!({
                "sequence": c["sequence"], "method": c["method"],
                "na_mm": c["na"], "k_mm": c["k"], "tris_mm": c["tris"],
                "mg_mm": c["mg"], "dntps_mm": c["dntps"],
            }),
        )
        .await;
        compare(c["method"].as_str().unwrap(), c, &ours, e);
    }
}

// Values printed in Biopython 1.85's MeltingTemp documentation (doctests),
// to two decimals.
#[tokio::test]
async fn tm_published_values() {
    let (reg, _d) = reg().await;
    let s = "CGTTCCAAAGATGTGGGCATGAGCTTAC";
    let cases = [
        (json!({"sequence": s, "method": "wallace"}), "84.00"),
        (json!({"sequence": s, "method": "gc"}), "58.97"),
        (json!({"sequence": s}), "60.32"),
        (json!({"sequence": s, "table": "DNA_NN1"}), "72.19"),
        (json!({"sequence": s, "table": "DNA_NN2"}), "65.47"),
        (json!({"sequence": s, "table": "RNA_NN1"}), "73.35"),
        (json!({"sequence": s, "table": "R_DNA_NN1"}), "58.45"),
        (json!({"sequence": s, "saltcorr": 1}), "54.27"),
        (json!({"sequence": s, "saltcorr": 2}), "54.02"),
        (json!({"sequence": s, "saltcorr": 3}), "59.60"),
        (json!({"sequence": s, "saltcorr": 4}), "60.64"),
        (json!({"sequence": s, "saltcorr": 6}), "59.78"),
        (json!({"sequence": s, "saltcorr": 7}), "59.78"),
        (json!({"sequence": s, "tris_mm": 10}), "60.79"),
        (json!({"sequence": s, "tris_mm": 10, "mg_mm": 1.5}), "67.39"),
        (
            json!({"sequence": s, "tris_mm": 10, "mg_mm": 1.5, "saltcorr": 7}),
            "66.81",
        ),
        (
            json!({"sequence": s, "tris_mm": 10, "mg_mm": 1.5, "dntps_mm": 0.6, "saltcorr": 7}),
            "66.04",
        ),
    ];
    for (args, want) in cases {
        let got = tm(&reg, args.clone()).await.unwrap();
        assert_eq!(format!("{got:.2}"), want, "{args}");
    }
}

#[tokio::test]
async fn tm_errors_say_what_to_fix() {
    let (reg, _d) = reg().await;
    let e = tm(&reg, json!({"sequence": "ACGTNACGT"}))
        .await
        .unwrap_err();
    assert!(e.contains("'N' at position 5"), "{e}");
    let e = tm(&reg, json!({"sequence": "ACGT", "table": "DNA_NN5"}))
        .await
        .unwrap_err();
    assert!(e.contains("DNA_NN3"), "{e}");
    let e = tm(&reg, json!({"sequence": "ACGT", "method": "basic"}))
        .await
        .unwrap_err();
    assert!(e.contains("wallace"), "{e}");
    let e = tm(&reg, json!({"sequence": "ACGT", "saltcorr": 9}))
        .await
        .unwrap_err();
    assert!(e.contains("0 (none) to 7"), "{e}");
    let e = tm(
        &reg,
        json!({"sequence": "ACGT", "dnac1_nm": 10, "dnac2_nm": 20}),
    )
    .await
    .unwrap_err();
    assert!(e.contains("dnac2_nm / 2"), "{e}");
}

/// A design request with the tool's defaults, for the reference.
fn design_case(template: &str, start: u32, len: u32) -> Value {
    json!({
        "template": template, "target_start": start, "target_length": len,
        "product_min": 100, "product_max": 300, "primer_min": 18,
        "primer_opt": 20, "primer_max": 25, "tm_min": 57.0, "tm_opt": 60.0,
        "tm_max": 63.0, "gc_min": 0.4, "gc_max": 0.6,
    })
}

// 40 random templates: every returned pair obeys the constraints, its Tms
// are Biopython's Tm_NN (1e-6), and the results agree qualitatively with
// primer3's design_primers; the hairpin / dimer flags are compared with
// primer3's thermodynamic alignment (agreement rate reported).
#[tokio::test]
async fn design_agrees_with_biopython_and_primer3() {
    let (reg, _d) = reg().await;
    let mut rng = Rng(0xC0FF_EE00_1234_5678);
    let mut cases = Vec::new();
    for _ in 0..40 {
        let len = 400 + rng.below(400) as usize;
        // Moderate GC so most templates admit primers.
        let t: String = (0..len)
            .map(|_| b"ACGT"[rng.below(4) as usize] as char)
            .collect();
        let start = 150 + rng.below((len - 350) as u64) as u32;
        let tlen = 10 + rng.below(40) as u32;
        cases.push(design_case(&t, start, tlen));
    }
    let p3 = reference("primer_ref", &json!({"op": "design", "cases": cases}));
    let p3 = p3.as_array().unwrap();
    let mut tm_cases = Vec::new();
    let mut primers = Vec::new();
    let mut pairs = Vec::new();
    let mut ours_flags = Vec::new();
    let (mut both_found, mut only_ours, mut only_p3, mut neither) = (0, 0, 0, 0);
    let mut shared_pairs = 0;
    for (c, theirs) in cases.iter().zip(p3) {
        let out = call(
            &reg,
            "primer.design",
            &json!({"template": c["template"], "target_start": c["target_start"],
                    "target_length": c["target_length"]}),
        )
        .await
        .unwrap();
        let t = c["template"].as_str().unwrap();
        let ts = c["target_start"].as_u64().unwrap();
        let te = ts + c["target_length"].as_u64().unwrap();
        let ours = out["pairs"].as_array().unwrap();
        let theirs = theirs["pairs"].as_array().unwrap();
        match (ours.is_empty(), theirs.is_empty()) {
            (false, false) => both_found += 1,
            (false, true) => only_ours += 1,
            (true, false) => only_p3 += 1,
            (true, true) => neither += 1,
        }
        for tp in theirs {
            // primer3's own pairs obey the same constraints.
            let size = tp["product_size"].as_u64().unwrap();
            assert!((100..=300).contains(&size), "{tp}");
            let (ls, ll) = (
                tp["left_start"].as_u64().unwrap(),
                tp["left_length"].as_u64().unwrap(),
            );
            let rs = tp["right_start"].as_u64().unwrap();
            assert!(ls + ll <= ts && rs >= te, "primer3 flanks the target: {tp}");
            if ours.iter().any(|p| {
                p["left"]["start"] == tp["left_start"]
                    && p["left"]["length"] == tp["left_length"]
                    && p["right"]["start"] == tp["right_start"]
                    && p["right"]["length"] == tp["right_length"]
            }) {
                shared_pairs += 1;
            }
        }
        for p in ours {
            let (l, r) = (&p["left"], &p["right"]);
            let size = p["product_size"].as_u64().unwrap();
            assert!((100..=300).contains(&size), "{p}");
            let (lstart, llen) = (l["start"].as_u64().unwrap(), l["length"].as_u64().unwrap());
            let (rstart, rlen) = (r["start"].as_u64().unwrap(), r["length"].as_u64().unwrap());
            assert!(
                lstart + llen <= ts,
                "left primer ends before the target: {p}"
            );
            assert!(rstart >= te, "right primer starts after the target: {p}");
            assert_eq!(size, rstart + rlen - lstart);
            assert_eq!(l["sequence"], t[lstart as usize..(lstart + llen) as usize]);
            let site: String = t[rstart as usize..(rstart + rlen) as usize]
                .chars()
                .rev()
                .map(|b| match b {
                    'A' => 'T',
                    'C' => 'G',
                    'G' => 'C',
                    _ => 'A',
                })
                .collect();
            assert_eq!(r["sequence"], site.as_str());
            for pr in [l, r] {
                let len = pr["length"].as_u64().unwrap();
                assert!((18..=25).contains(&len));
                let tmv = pr["tm"].as_f64().unwrap();
                assert!((57.0..=63.0).contains(&tmv));
                let gc = pr["gc"].as_f64().unwrap();
                assert!((0.4..=0.6).contains(&gc));
                tm_cases.push((
                    tmv,
                    json!({"sequence": pr["sequence"], "method": "nn", "table": "DNA_NN3",
                           "na": 50.0, "k": 0.0, "tris": 0.0, "mg": 0.0, "dntps": 0.0,
                           "dnac1": 25.0, "dnac2": 25.0, "saltcorr": 5, "selfcomp": false}),
                ));
                primers.push(pr["sequence"].clone());
                ours_flags.push((
                    pr["hairpin_dg"].as_f64().unwrap(),
                    pr["self_dimer_dg"].as_f64().unwrap(),
                ));
            }
            pairs.push((
                json!([l["sequence"], r["sequence"]]),
                p["cross_dimer_dg"].as_f64().unwrap(),
            ));
        }
    }
    eprintln!(
        "design vs primer3 design_primers over {} templates: both found pairs {both_found}, \
         only ours {only_ours}, only primer3 {only_p3}, neither {neither}; \
         {shared_pairs} of primer3's pairs are among ours",
        cases.len()
    );
    assert!(both_found >= 30, "most templates give pairs in both");
    assert!(
        only_p3 <= 3,
        "primer3 rarely finds pairs where we find none"
    );

    // Every returned primer's Tm is Biopython's.
    let cases: Vec<Value> = tm_cases.iter().map(|(_, c)| c.clone()).collect();
    let expected = reference("primer_ref", &json!({"op": "tm", "cases": cases}));
    for ((ours, c), e) in tm_cases.iter().zip(expected.as_array().unwrap()) {
        compare("design Tm", c, &Ok(*ours), e);
    }

    // Structure flags vs primer3's thermodynamic alignment.
    let s = reference(
        "primer_ref",
        &json!({"op": "structures", "primers": primers,
                "pairs": pairs.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>()}),
    );
    let agree = |ours: f64, theirs: f64, threshold: f64| (ours < threshold) == (theirs < threshold);
    let rate = |v: Vec<bool>| v.iter().filter(|&&b| b).count() as f64 / v.len().max(1) as f64;
    let hp: Vec<bool> = ours_flags
        .iter()
        .zip(s["hairpin"].as_array().unwrap())
        .map(|((h, _), t)| agree(*h, t.as_f64().unwrap(), -2.0))
        .collect();
    let homo: Vec<bool> = ours_flags
        .iter()
        .zip(s["homodimer"].as_array().unwrap())
        .map(|((_, d), t)| agree(*d, t.as_f64().unwrap(), -9.0))
        .collect();
    let het: Vec<bool> = pairs
        .iter()
        .zip(s["heterodimer"].as_array().unwrap())
        .map(|((_, d), t)| agree(*d, t.as_f64().unwrap(), -9.0))
        .collect();
    // How close the ΔG values are (ours is a simplified model).
    let within = |ours: &[f64], theirs: &Value, tol: f64| {
        let t = theirs.as_array().unwrap();
        ours.iter()
            .zip(t)
            .filter(|(a, b)| (*a - b.as_f64().unwrap()).abs() <= tol)
            .count() as f64
            / ours.len().max(1) as f64
    };
    let our_hp: Vec<f64> = ours_flags.iter().map(|x| x.0).collect();
    let our_homo: Vec<f64> = ours_flags.iter().map(|x| x.1).collect();
    let our_het: Vec<f64> = pairs.iter().map(|x| x.1).collect();
    let mean_diff = |ours: &[f64], theirs: &Value| {
        let t = theirs.as_array().unwrap();
        ours.iter()
            .zip(t)
            .map(|(a, b)| a - b.as_f64().unwrap())
            .sum::<f64>()
            / ours.len().max(1) as f64
    };
    let (rh, rd, rx) = (rate(hp), rate(homo), rate(het));
    eprintln!(
        "flag agreement with primer3 (hairpin < -2, dimers < -9 kcal/mol): hairpin {:.3} \
         ({} primers), self-dimer {:.3}, cross-dimer {:.3} ({} pairs); ΔG within 2 kcal/mol: \
         hairpin {:.3}, self-dimer {:.3}, cross-dimer {:.3}",
        rh,
        our_hp.len(),
        rd,
        rx,
        our_het.len(),
        within(&our_hp, &s["hairpin"], 2.0),
        within(&our_homo, &s["homodimer"], 2.0),
        within(&our_het, &s["heterodimer"], 2.0),
    );
    eprintln!(
        "mean ΔG difference (ours - primer3, kcal/mol): hairpin {:+.2}, self-dimer {:+.2}, \
         cross-dimer {:+.2}",
        mean_diff(&our_hp, &s["hairpin"]),
        mean_diff(&our_homo, &s["homodimer"]),
        mean_diff(&our_het, &s["heterodimer"]),
    );
    assert!(rd >= 0.8 && rx >= 0.8, "dimer flags mostly agree");
    assert!(rh >= 0.6, "hairpin flags mostly agree");
}

#[tokio::test]
async fn design_errors_say_what_to_fix() {
    let (reg, _d) = reg().await;
    let e = call(
        &reg,
        "primer.design",
        &json!({"template": "ACGTACGT", "target_start": 6, "target_length": 5}),
    )
    .await
    .unwrap_err();
    assert!(e.contains("runs past the end"), "{e}");
    let e = call(
        &reg,
        "primer.design",
        &json!({"template": "ACGTXACGT", "target_start": 1, "target_length": 1}),
    )
    .await
    .unwrap_err();
    assert!(e.contains("'X' at position 5"), "{e}");
    let e = call(
        &reg,
        "primer.design",
        &json!({"template": "ACGTACGT", "target_start": 1, "target_length": 1, "gc_min": 40}),
    )
    .await
    .unwrap_err();
    assert!(e.contains("fractions"), "{e}");
}

fn revcomp(s: &str) -> String {
    s.chars()
        .rev()
        .map(|b| match b {
            'A' => 'T',
            'C' => 'G',
            'G' => 'C',
            _ => 'A',
        })
        .collect()
}

// `primer.check` over 600 primers (random, engineered hairpins, engineered
// self-complementary stretches) and 300 pairs (random, and with
// complementary 3' ends): Tm is Biopython's to 1e-6; the hairpin and dimer
// ΔG are compared with primer3's calc_hairpin / calc_homodimer /
// calc_heterodimer (50 mM Na+, 37 °C): flag agreement and |ΔG difference|
// <= 2 kcal/mol rates are reported and must stay above a floor (the model
// is simplified, so they are not exact).
#[tokio::test]
async fn check_structures_agree_with_primer3() {
    let (reg, _d) = reg().await;
    let mut rng = Rng(0x005E_ED0F_9A1D);
    let mut primers = Vec::new();
    for i in 0..600 {
        let s = match i % 3 {
            0 => {
                let len = 15 + rng.below(21) as usize;
                rng.dna(len)
            }
            1 => {
                // tail + stem + loop + revcomp(stem) + tail
                let stem_len = 3 + rng.below(6) as usize;
                let stem = rng.dna(stem_len);
                let loop_len = 3 + rng.below(6) as usize;
                let (t5, t3) = (rng.below(8) as usize, rng.below(5) as usize);
                format!(
                    "{}{}{}{}{}",
                    rng.dna(t5),
                    stem,
                    rng.dna(loop_len),
                    revcomp(&stem),
                    rng.dna(t3)
                )
            }
            _ => {
                let half_len = 2 + rng.below(5) as usize;
                let half = rng.dna(half_len);
                let (t5, t3) = (8 + rng.below(10) as usize, rng.below(6) as usize);
                format!("{}{}{}{}", rng.dna(t5), half, revcomp(&half), rng.dna(t3))
            }
        };
        primers.push(s);
    }
    let mut pairs = Vec::new();
    for i in 0..300 {
        let a = primers[rng.below(600) as usize].clone();
        let b = if i % 2 == 0 {
            primers[rng.below(600) as usize].clone()
        } else {
            // b's 3' end complements a's 3' end.
            let k = 4 + rng.below(6) as usize;
            let len = 12 + rng.below(12) as usize;
            format!(
                "{}{}",
                rng.dna(len),
                revcomp(&a[a.len() - k.min(a.len())..])
            )
        };
        pairs.push((a, b));
    }
    let mut ours_hp = Vec::new();
    let mut ours_homo = Vec::new();
    let mut tm_cases = Vec::new();
    for s in &primers {
        let c = call(&reg, "primer.check", &json!({"sequence": s}))
            .await
            .unwrap();
        assert_eq!(c["cross_dimer_dg"], Value::Null);
        ours_hp.push(c["hairpin_dg"].as_f64().unwrap());
        ours_homo.push(c["self_dimer_dg"].as_f64().unwrap());
        tm_cases.push((
            c["tm"].as_f64().unwrap(),
            json!({"sequence": s, "method": "nn", "table": "DNA_NN3",
                   "na": 50.0, "k": 0.0, "tris": 0.0, "mg": 0.0, "dntps": 0.0,
                   "dnac1": 25.0, "dnac2": 25.0, "saltcorr": 5, "selfcomp": false}),
        ));
    }
    let mut ours_het = Vec::new();
    for (a, b) in &pairs {
        let c = call(&reg, "primer.check", &json!({"sequence": a, "partner": b}))
            .await
            .unwrap();
        let g = c["cross_dimer_dg"].as_f64().unwrap();
        assert_eq!(c["cross_dimer_flag"], json!(g < -9.0));
        ours_het.push(g);
    }
    let cases: Vec<Value> = tm_cases.iter().map(|(_, c)| c.clone()).collect();
    let expected = reference("primer_ref", &json!({"op": "tm", "cases": cases}));
    for ((ours, c), e) in tm_cases.iter().zip(expected.as_array().unwrap()) {
        compare("check Tm", c, &Ok(*ours), e);
    }
    let s = reference(
        "primer_ref",
        &json!({"op": "structures", "primers": primers,
                "pairs": pairs.iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>()}),
    );
    let stats = |ours: &[f64], theirs: &Value, threshold: f64| {
        let t: Vec<f64> = theirs
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let n = ours.len() as f64;
        let agree = ours
            .iter()
            .zip(&t)
            .filter(|(a, b)| (**a < threshold) == (**b < threshold))
            .count() as f64
            / n;
        let within = ours
            .iter()
            .zip(&t)
            .filter(|(a, b)| (**a - **b).abs() <= 2.0)
            .count() as f64
            / n;
        let flagged = t.iter().filter(|b| **b < threshold).count();
        let mean = ours.iter().zip(&t).map(|(a, b)| a - b).sum::<f64>() / n;
        (agree, within, flagged, mean)
    };
    let hp = stats(&ours_hp, &s["hairpin"], -2.0);
    let homo = stats(&ours_homo, &s["homodimer"], -9.0);
    let het = stats(&ours_het, &s["heterodimer"], -9.0);
    for (name, (agree, within, flagged, mean), n) in [
        ("hairpin (< -2)", hp, primers.len()),
        ("self-dimer (< -9)", homo, primers.len()),
        ("cross-dimer (< -9)", het, pairs.len()),
    ] {
        eprintln!(
            "check vs primer3, {name}: {n} cases, {flagged} flagged by primer3, flag agreement \
             {agree:.3}, ΔG within 2 kcal/mol {within:.3}, mean difference (ours - primer3) \
             {mean:+.2} kcal/mol"
        );
    }
    // Measured: 0.925, 0.917, 0.987 (deterministic cases).
    assert!(
        hp.0 >= 0.9 && homo.0 >= 0.9 && het.0 >= 0.95,
        "flags mostly agree"
    );
}

#[tokio::test]
async fn tools_and_schemas_come_from_the_wit() {
    let (reg, _d) = reg().await;
    let tm = reg.tool("primer.tm").expect("primer.tm");
    assert_eq!(tm.input_schema["required"], json!(["sequence"]));
    for arg in [
        "na_mm", "dnac1_nm", "saltcorr", "selfcomp", "table", "method",
    ] {
        assert!(
            tm.input_schema["properties"][arg].is_object(),
            "{arg}: {}",
            tm.input_schema
        );
    }
    assert!(tm.annotations.read_only_hint);
    let design = reg.tool("primer.design").expect("primer.design");
    assert_eq!(
        design.input_schema["required"],
        json!(["template", "target_start", "target_length"])
    );
    assert!(reg.tool("primer.check").is_some());
}

// A long template (200 kb, target in the middle) stays within the default
// limits: the work depends on product_max, not on the template length.
#[tokio::test]
async fn design_on_a_long_template() {
    let (reg, _d) = reg().await;
    let mut rng = Rng(99);
    let t: String = (0..200_000)
        .map(|_| b"ACGT"[rng.below(4) as usize] as char)
        .collect();
    let out = call(
        &reg,
        "primer.design",
        &json!({"template": t, "target_start": 100_000, "target_length": 40}),
    )
    .await
    .unwrap();
    assert!(!out["pairs"].as_array().unwrap().is_empty(), "{out}");
}

#[tokio::test]
async fn the_schema_defaults_are_what_the_tools_use() {
    let (reg, _d) = reg().await;
    defaults_are_what_the_tool_uses(
        &reg,
        "primer.tm",
        json!({"sequence": "CGTTCCAAAGATGTGGGCATGAGCTTAC"}),
    )
    .await;
    defaults_are_what_the_tool_uses(
        &reg,
        "primer.tm_many",
        json!({"sequences": "CGTTCCAAAGATGTGGGCATGAGCTTAC\nACGTACGTAGCTAGCTAGGA"}),
    )
    .await;
    // The public defaults, mirroring Biopython's Tm_NN.
    assert_schema_defaults(
        &reg,
        "primer.tm",
        &[
            ("method", json!("nn")),
            ("table", json!("DNA_NN3")),
            ("na_mm", json!(50.0)),
            ("k_mm", json!(0.0)),
            ("tris_mm", json!(0.0)),
            ("mg_mm", json!(0.0)),
            ("dntps_mm", json!(0.0)),
            ("dnac1_nm", json!(25.0)),
            ("dnac2_nm", json!(25.0)),
            ("saltcorr", json!(5)),
        ],
    );
    assert_schema_defaults(
        &reg,
        "primer.design",
        &[
            ("product_min", json!(100)),
            ("product_max", json!(300)),
            ("primer_min", json!(18)),
            ("primer_opt", json!(20)),
            ("primer_max", json!(25)),
            ("tm_min", json!(57.0)),
            ("tm_opt", json!(60.0)),
            ("tm_max", json!(63.0)),
            ("gc_min", json!(0.4)),
            ("gc_max", json!(0.6)),
        ],
    );
}
