//! `align.pairwise` end to end: the built component, called through the
//! host, against Biopython's `PairwiseAligner` (tests/bio/align_ref.py) over
//! many generated DNA and protein pairs and parameter sets, plus published
//! examples. Every returned alignment is re-scored here, from its rows, with
//! Biopython's matrices, and checked to be an alignment of the inputs.

use std::collections::HashMap;
use std::time::Instant;

use bioai::registry::{CallContext, CallFailure, Registry};
use bioai_e2e::{
    Rng, assert_schema_defaults, component, defaults_are_what_the_tool_uses, reference, registry,
    root,
};
use serde_json::{Value, json};

async fn align_registry() -> (Registry, tempfile::TempDir) {
    let policy = std::fs::read_to_string(root().join("policies/align.toml")).expect("policy");
    registry(&[("align", &policy)], &[component("plugins", "align")]).await
}

async fn call(reg: &Registry, args: &Value) -> Result<Value, CallFailure> {
    reg.call("align.pairwise", args, CallContext::default())
        .await
        .expect("align.pairwise exists")
        .result
}

/// Generators only these tests need, on the shared [`Rng`].
trait AlignRng {
    fn seq(&mut self, alphabet: &[u8], len: usize) -> Vec<u8>;
    fn mutate(&mut self, s: &[u8], alphabet: &[u8], rate: usize) -> Vec<u8>;
}

impl AlignRng for Rng {
    fn seq(&mut self, alphabet: &[u8], len: usize) -> Vec<u8> {
        (0..len).map(|_| self.pick(alphabet)).collect()
    }
    /// A relative of `s`: substitutions, insertions and deletions at `rate`
    /// percent per position.
    fn mutate(&mut self, s: &[u8], alphabet: &[u8], rate: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(s.len() + 8);
        for &c in s {
            if self.below(100) < rate {
                match self.below(3) {
                    0 => out.push(self.pick(alphabet)),
                    1 => {
                        out.push(c);
                        for _ in 0..=self.below(4) {
                            out.push(self.pick(alphabet));
                        }
                    }
                    _ => {}
                }
            } else {
                out.push(c);
            }
        }
        if out.is_empty() {
            out.push(self.pick(alphabet));
        }
        out
    }
}

const DNA: &[u8] = b"ACGT";
const IUPAC_DNA: &[u8] = b"ACGTACGTACGTACGTACGTNRYSWKMBDHV";
const PROTEIN: &[u8] = b"ARNDCQEGHILKMFPSTWYVARNDCQEGHILKMFPSTWYVBZX*";

/// Scores from Biopython's matrices (via the reference) or match/mismatch.
struct Scorer {
    matrices: HashMap<String, (Vec<u8>, Vec<Vec<f64>>)>,
}

impl Scorer {
    fn pair(&self, case: &Value, x: u8, y: u8) -> f64 {
        match case["matrix"].as_str() {
            Some(name) => {
                let (alphabet, table) = &self.matrices[name];
                let i = alphabet
                    .iter()
                    .position(|&c| c == x)
                    .expect("letter in matrix");
                let j = alphabet
                    .iter()
                    .position(|&c| c == y)
                    .expect("letter in matrix");
                table[i][j]
            }
            None => {
                if x == y {
                    case["match"].as_f64().unwrap_or(1.0)
                } else {
                    case["mismatch"].as_f64().unwrap_or(0.0)
                }
            }
        }
    }

    /// Checks that `out` is an alignment of the case's sequences and returns
    /// its score computed from the rows.
    fn rescore(&self, case: &Value, out: &Value) -> f64 {
        let a = case["a"].as_str().unwrap().to_ascii_uppercase();
        let b = case["b"].as_str().unwrap().to_ascii_uppercase();
        let local = case["mode"] == "local";
        let ra = out["aligned_a"].as_str().unwrap().as_bytes();
        let rb = out["aligned_b"].as_str().unwrap().as_bytes();
        assert_eq!(ra.len(), rb.len(), "rows of equal length: {out}");
        let coord = |k: &str| out[k].as_u64().unwrap() as usize;
        let (a0, a1, b0, b1) = (
            coord("a_start"),
            coord("a_end"),
            coord("b_start"),
            coord("b_end"),
        );
        let strip = |r: &[u8]| -> String {
            r.iter()
                .filter(|&&c| c != b'-')
                .map(|&c| char::from(c))
                .collect()
        };
        assert_eq!(strip(ra), a[a0..a1], "row a spells a[{a0}..{a1}]: {out}");
        assert_eq!(strip(rb), b[b0..b1], "row b spells b[{b0}..{b1}]: {out}");
        if local {
            if let (Some(first), Some(last)) = (ra.first(), ra.len().checked_sub(1)) {
                assert!(
                    *first != b'-' && rb[0] != b'-' && ra[last] != b'-' && rb[last] != b'-',
                    "a local alignment starts and ends with an aligned pair: {out}"
                );
            }
        } else {
            assert_eq!((a0, a1, b0, b1), (0, a.len(), 0, b.len()), "global: {out}");
        }
        let (open, extend) = (
            case["gap_open"].as_f64().unwrap_or(0.0),
            case["gap_extend"].as_f64().unwrap_or(0.0),
        );
        let end_free = !local && case["end_gaps_free"] == true;
        let (mut total, mut matches, mut gaps) = (0.0, 0u64, 0u64);
        let mut k = 0;
        while k < ra.len() {
            let (x, y) = (ra[k], rb[k]);
            assert!(!(x == b'-' && y == b'-'), "an empty column: {out}");
            if x != b'-' && y != b'-' {
                total += self.pair(case, x, y);
                matches += u64::from(x == y);
                k += 1;
                continue;
            }
            let row = if x == b'-' { ra } else { rb };
            let start = k;
            while k < row.len() && row[k] == b'-' {
                k += 1;
            }
            let len = k - start;
            gaps += len as u64;
            let before = row[..start].iter().any(|&c| c != b'-');
            let after = row[k..].iter().any(|&c| c != b'-');
            if !(end_free && (!before || !after)) {
                total += open + (len as f64 - 1.0) * extend;
            }
        }
        assert_eq!(out["length"], json!(ra.len()), "{out}");
        assert_eq!(out["matches"], json!(matches), "{out}");
        assert_eq!(out["gaps"], json!(gaps), "{out}");
        let identity = if ra.is_empty() {
            0.0
        } else {
            matches as f64 / ra.len() as f64
        };
        assert!((out["identity"].as_f64().unwrap() - identity).abs() < 1e-12);
        total
    }
}

fn close(x: f64, y: f64) -> bool {
    (x - y).abs() <= 1e-6 * (1.0 + x.abs().max(y.abs()))
}

fn random_cases(rng: &mut Rng, count: usize) -> Vec<Value> {
    let mut cases = Vec::with_capacity(count);
    for n in 0..count {
        let kind = n % 4; // 0, 1: DNA match/mismatch; 2: EDNAFULL; 3: BLOSUM62
        let alphabet = match kind {
            0 | 1 => DNA,
            2 => IUPAC_DNA,
            _ => PROTEIN,
        };
        let len = match rng.below(10) {
            0..=4 => 1 + rng.below(20),
            5..=8 => 20 + rng.below(200),
            _ => 200 + rng.below(600),
        };
        let a = rng.seq(alphabet, len);
        let b = if rng.below(3) == 0 {
            {
                let len_b = 1 + rng.below(len + 20);
                rng.seq(alphabet, len_b)
            }
        } else {
            let rate = rng.pick(&[2, 10, 25]);
            rng.mutate(&a, alphabet, rate)
        };
        let (mut a, mut b) = (String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
        if rng.below(5) == 0 {
            a = a.to_ascii_lowercase();
        }
        if rng.below(5) == 0 {
            b = b.to_ascii_lowercase();
        }
        let mut case = json!({
            "a": a,
            "b": b,
            "mode": rng.pick(&["global", "local"]),
            "gap_open": rng.pick(&[0.0, -0.5, -1.0, -2.0, -5.0, -10.0, -11.0]),
            "gap_extend": rng.pick(&[0.0, -0.1, -0.5, -1.0, -2.0]),
            "end_gaps_free": rng.below(2) == 0,
        });
        match kind {
            2 => case["matrix"] = json!("EDNAFULL"),
            3 => case["matrix"] = json!("BLOSUM62"),
            _ => {
                case["match"] = json!(rng.pick(&[1.0, 2.0, 5.0, 1.5]));
                case["mismatch"] = json!(rng.pick(&[0.0, -1.0, -3.0, -4.0, -0.5]));
            }
        }
        cases.push(case);
    }
    cases
}

#[tokio::test]
async fn pairwise_tool_schema_has_match_and_options() {
    let (reg, _d) = align_registry().await;
    let tool = reg.tool("align.pairwise").expect("align.pairwise");
    assert!(
        !tool.description.is_empty(),
        "the WIT docs are the description"
    );
    assert_eq!(tool.input_schema["required"], json!(["a", "b"]));
    let props = tool.input_schema["properties"].as_object().unwrap();
    for name in [
        "a",
        "b",
        "mode",
        "match",
        "mismatch",
        "gap_open",
        "gap_extend",
        "matrix",
        "end_gaps_free",
        "score_only",
    ] {
        assert!(props.contains_key(name), "{name} missing from {props:?}");
    }
    assert!(!props.contains_key("%match") && !props.contains_key("match_"));
    let out = tool.output_schema.as_ref().unwrap();
    for field in ["score", "aligned_a", "identity", "gaps", "a_start", "b_end"] {
        assert!(
            out["properties"].get(field).is_some(),
            "{field} missing: {out}"
        );
    }
    assert!(tool.annotations.read_only_hint);
    // `match` (a WIT keyword, `%match`) reaches the plugin.
    let r = call(&reg, &json!({"a": "ACGT", "b": "ACGT", "match": 2.5}))
        .await
        .unwrap();
    assert_eq!(r["score"], json!(10.0));
}

#[tokio::test]
async fn random_pairs_equal_biopython_and_rescore() {
    let (reg, _d) = align_registry().await;
    let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ 0xA11C_0FFE);
    let cases = random_cases(&mut rng, 480);
    let refs = reference(
        "align_ref",
        &json!({"cases": cases, "matrices": ["EDNAFULL", "BLOSUM62"]}),
    );
    let mut matrices = HashMap::new();
    for (name, m) in refs["matrices"].as_object().unwrap() {
        let alphabet = m["alphabet"].as_str().unwrap().as_bytes().to_vec();
        let table: Vec<Vec<f64>> = m["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect()
            })
            .collect();
        matrices.insert(name.clone(), (alphabet, table));
    }
    let scorer = Scorer { matrices };
    let scores = refs["scores"].as_array().unwrap();
    assert_eq!(scores.len(), cases.len());
    let mut checked = 0;
    for (case, want) in cases.iter().zip(scores) {
        let want = want.as_f64().unwrap();
        let out = call(&reg, case)
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        let got = out["score"].as_f64().unwrap();
        assert!(close(got, want), "{case}: score {got}, Biopython {want}");
        let rescored = scorer.rescore(case, &out);
        assert!(
            close(rescored, got),
            "{case}: the alignment re-scores to {rescored}, reported {got}: {out}"
        );
        // Score-only mode (linear memory) agrees, with the same end.
        let mut so = case.clone();
        so["score_only"] = json!(true);
        let so = call(&reg, &so).await.unwrap();
        assert!(close(so["score"].as_f64().unwrap(), want), "{case}: {so}");
        assert_eq!((&so["a_end"], &so["b_end"]), (&out["a_end"], &out["b_end"]));
        assert_eq!(so["aligned_a"], Value::Null);
        checked += 1;
    }
    assert_eq!(checked, 480);
}

#[tokio::test]
async fn published_examples() {
    let (reg, _d) = align_registry().await;
    // Wikipedia, Needleman-Wunsch algorithm: GATTACA / GCATGCU with match 1,
    // mismatch -1, gap -1 (linear: open = extend = -1) has optimal score 0.
    let r = call(
        &reg,
        &json!({"a": "GATTACA", "b": "GCATGCU", "match": 1, "mismatch": -1,
                "gap_open": -1, "gap_extend": -1}),
    )
    .await
    .unwrap();
    assert_eq!(r["score"], json!(0.0));
    // Wikipedia, Smith-Waterman algorithm: TGTTACGG / GGTTGACTA, match 3,
    // mismatch -3, linear gap 2 per position: score 13, GTT-AC / GTTGAC.
    let r = call(
        &reg,
        &json!({"a": "TGTTACGG", "b": "GGTTGACTA", "mode": "local", "match": 3,
                "mismatch": -3, "gap_open": -2, "gap_extend": -2}),
    )
    .await
    .unwrap();
    assert_eq!(r["score"], json!(13.0));
    assert_eq!(r["aligned_a"], json!("GTT-AC"));
    assert_eq!(r["aligned_b"], json!("GTTGAC"));
    assert_eq!(
        (&r["a_start"], &r["a_end"], &r["b_start"], &r["b_end"]),
        (&json!(1), &json!(6), &json!(1), &json!(7))
    );
    assert_eq!(r["gaps"], json!(1));
    // Biopython tutorial: default PairwiseAligner, score("GAACT", "GAT") = 3.
    let r = call(&reg, &json!({"a": "GAACT", "b": "GAT"}))
        .await
        .unwrap();
    assert_eq!(r["score"], json!(3.0));
    // Biopython tutorial: BLOSUM62, "KEVLA" / "EVL" scores E+V+L = 5+4+4 = 13.
    let r = call(
        &reg,
        &json!({"a": "KEVLA", "b": "EVL", "matrix": "BLOSUM62"}),
    )
    .await
    .unwrap();
    assert_eq!(r["score"], json!(13.0));
    assert_eq!(r["aligned_b"], json!("-EVL-"));
}

#[tokio::test]
async fn bad_input_is_a_clear_tool_error() {
    let (reg, _d) = align_registry().await;
    let cases = [
        (json!({"a": "ACGT", "b": "AC-T"}), "position 3"),
        (json!({"a": "ACGT", "b": "ACGT", "gap_open": 10}), "-10"),
        (json!({"a": "ACGT", "b": "ACGT", "mode": "glocal"}), "local"),
        (
            json!({"a": "ACGJ", "b": "ACGT", "matrix": "EDNAFULL"}),
            "BLOSUM62",
        ),
        (
            json!({"a": "ACGT", "b": "ACGT", "matrix": "PAM250"}),
            "EDNAFULL",
        ),
        (
            json!({"a": "ACGT", "b": "ACGT", "matrix": "BLOSUM62", "mismatch": -1}),
            "matrix",
        ),
        (json!({"a": "", "b": "ACGT"}), "empty"),
        (
            json!({"a": "A".repeat(10_001), "b": "C".repeat(10_001)}),
            "score_only",
        ),
    ];
    for (args, needle) in cases {
        let err = call(&reg, &args).await.unwrap_err();
        assert_eq!(err.class(), "tool_error", "{err}");
        assert!(err.to_string().contains(needle), "{err} lacks {needle:?}");
    }
}

#[tokio::test]
async fn score_only_10kb_by_10kb() {
    let (reg, _d) = align_registry().await;
    let mut rng = Rng(0x0001_0000_1000_0000);
    let a = rng.seq(DNA, 10_000);
    let b = rng.mutate(&a, DNA, 10);
    let b = &b[..b.len().min(10_000)];
    let case = json!({
        "a": String::from_utf8(a.clone()).unwrap(),
        "b": String::from_utf8(b.to_vec()).unwrap(),
        "match": 5, "mismatch": -4, "gap_open": -10, "gap_extend": -0.5,
        "score_only": true,
    });
    let start = Instant::now();
    let out = reg
        .call("align.pairwise", &case, CallContext::default())
        .await
        .unwrap();
    let elapsed = start.elapsed();
    let result = out.result.unwrap_or_else(|e| panic!("{e}"));
    let start = Instant::now();
    let refs = reference("align_ref", &json!({"cases": [case]}));
    let ref_elapsed = start.elapsed();
    eprintln!(
        "align.pairwise score_only {} x {}: {elapsed:?} (wall {:?}, fuel {}, peak memory {} bytes); Biopython {ref_elapsed:?}",
        a.len(),
        b.len(),
        out.meters.wall,
        out.meters.fuel,
        out.meters.peak_memory_bytes
    );
    let want = refs["scores"][0].as_f64().unwrap();
    assert!(
        close(result["score"].as_f64().unwrap(), want),
        "{result} vs {want}"
    );
    assert!(
        out.meters.peak_memory_bytes < 64 << 20,
        "linear memory: {}",
        out.meters.peak_memory_bytes
    );
}

/// The largest full alignment accepted (1e8 cells, a 100 MB traceback) runs
/// within the policy's limits. Slow; run with `--ignored`.
#[tokio::test]
#[ignore]
async fn full_alignment_at_the_cell_limit() {
    let (reg, _d) = align_registry().await;
    let mut rng = Rng(0xF011_A11C);
    let a = rng.seq(DNA, 10_000);
    let mut b = rng.mutate(&a, DNA, 10);
    b.resize(10_000, b'A');
    let case = json!({
        "a": String::from_utf8(a).unwrap(),
        "b": String::from_utf8(b).unwrap(),
        "match": 5, "mismatch": -4, "gap_open": -10, "gap_extend": -0.5,
    });
    let start = Instant::now();
    let out = reg
        .call("align.pairwise", &case, CallContext::default())
        .await
        .unwrap();
    let elapsed = start.elapsed();
    let result = out.result.unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "align.pairwise full 10000 x 10000: {elapsed:?} (fuel {}, peak memory {} bytes)",
        out.meters.fuel, out.meters.peak_memory_bytes
    );
    let refs = reference("align_ref", &json!({"cases": [case]}));
    let want = refs["scores"][0].as_f64().unwrap();
    assert!(close(result["score"].as_f64().unwrap(), want));
}

#[tokio::test]
async fn the_schema_defaults_are_what_the_tool_uses() {
    let (reg, _d) = align_registry().await;
    let mut rng = Rng(0x5eed_a119);
    let (a, b) = (rng.dna(300), rng.dna(280));
    defaults_are_what_the_tool_uses(&reg, "align.pairwise", json!({"a": a, "b": b})).await;
    // The public defaults.
    assert_schema_defaults(
        &reg,
        "align.pairwise",
        &[
            ("mode", json!("global")),
            ("match", json!(1.0)),
            ("mismatch", json!(0.0)),
            ("gap_open", json!(0.0)),
            ("gap_extend", json!(0.0)),
            ("end_gaps_free", json!(false)),
            // No matrix unless asked.
            ("matrix", json!(null)),
        ],
    );
}
