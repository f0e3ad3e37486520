//! `seq.parse_fastq`, `seq.find_orfs`, `seq.stats` and `seq.translate` end
//! to end: the built component, called through the host, against Biopython
//! (tests/bio/seq_ref.py) over many generated inputs, plus published
//! examples (Biopython docstrings and Tutorial, the Sanger FASTQ paper).

use bioai::registry::{CallContext, CallFailure, Registry};
use bioai_e2e::{
    Rng, assert_schema_defaults, component, defaults_are_what_the_tool_uses, reference, registry,
    root,
};
use serde_json::{Value, json};

async fn seq_registry() -> (Registry, tempfile::TempDir) {
    let policy = std::fs::read_to_string(root().join("policies/seq.toml")).expect("policy");
    registry(&[("seq", &policy)], &[component("plugins", "seq")]).await
}

async fn call(reg: &Registry, tool: &str, args: &Value) -> Result<Value, CallFailure> {
    reg.call(tool, args, CallContext::default())
        .await
        .unwrap_or_else(|e| panic!("{tool} exists: {e}"))
        .result
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

// ---------------------------------------------------------------- FASTQ

/// Splits `s` into lines of `width` (one line when `width` is 0 or `s` is
/// empty).
fn wrap(s: &str, width: usize) -> Vec<String> {
    if width == 0 || s.is_empty() {
        return vec![s.to_string()];
    }
    s.as_bytes()
        .chunks(width)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect()
}

/// A valid FASTQ file of 1 to 6 records for quality `offset`.
fn fastq_file(rng: &mut Rng, offset: u8) -> String {
    let records = 1 + rng.below(6);
    let eol = if rng.chance(20) { "\r\n" } else { "\n" };
    let width = if rng.chance(30) { 1 + rng.below(40) } else { 0 };
    let mut text = String::new();
    for _ in 0..records {
        let id_len = 1 + rng.below(12);
        let id = format!(
            "{}:{}:{}",
            rng.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.", id_len),
            rng.below(1000),
            rng.below(100_000)
        );
        let desc_len = 1 + rng.below(20);
        let title = if rng.chance(50) {
            format!(
                "{id} {} length={}",
                rng.string(b"abcdef0123456789:_-", desc_len),
                rng.below(500)
            )
        } else {
            id
        };
        let len = rng.below(160);
        let alphabet: &[u8] = if rng.chance(20) {
            b"ACGTNacgtn"
        } else {
            b"ACGT"
        };
        let seq = rng.string(alphabet, len);
        let quality: String = (0..len)
            .map(|_| (offset + rng.below(usize::from(127 - offset)) as u8) as char)
            .collect();
        text.push_str(&format!("@{title}{eol}"));
        for l in wrap(&seq, width) {
            text.push_str(&format!("{l}{eol}"));
        }
        if rng.chance(30) {
            text.push_str(&format!("+{title}{eol}"));
        } else {
            text.push_str(&format!("+{eol}"));
        }
        for l in wrap(&quality, width) {
            text.push_str(&format!("{l}{eol}"));
        }
        if rng.chance(10) {
            text.push_str(eol);
        }
    }
    if rng.chance(20) {
        // No final line ending.
        while text.ends_with(['\n', '\r']) {
            text.pop();
        }
    }
    text
}

/// Breaks a valid FASTQ file in one of several ways.
fn break_fastq(rng: &mut Rng, text: &str, offset: u8) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let plus: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with('+'))
        .collect();
    let target = rng.pick(&plus);
    match rng.below(5) {
        // No `+` line.
        0 => {
            lines.remove(target);
        }
        // A quality line loses its last character (when it has one).
        1 => {
            let q = target + 1;
            if q < lines.len() && !lines[q].is_empty() {
                lines[q].pop();
            } else {
                lines.insert(q, "I".into());
            }
        }
        // A bad quality character (space, or below the offset).
        2 => {
            let q = target + 1;
            let bad = if offset == 64 && rng.chance(50) {
                '5'
            } else {
                ' '
            };
            if q < lines.len() {
                lines[q].insert(0, bad);
                lines[q].pop();
                if lines[q].is_empty() {
                    lines[q].push(bad);
                }
            } else {
                lines.push(bad.to_string());
            }
        }
        // A different title on the `+` line.
        3 => lines[target] = "+other title".into(),
        // An extra quality character.
        _ => {
            let q = target + 1;
            if q < lines.len() {
                lines[q].push('I');
            } else {
                lines.push("I".into());
            }
        }
    }
    lines.join("\n") + "\n"
}

#[tokio::test]
async fn parse_fastq_matches_biopython() {
    let (reg, _d) = seq_registry().await;
    let mut rng = Rng(0x5EED_FA57_0001);
    let mut cases = Vec::new();
    for i in 0..400 {
        let offset = if rng.chance(25) { 64 } else { 33 };
        let mut text = fastq_file(&mut rng, offset);
        if i % 3 == 2 {
            text = break_fastq(&mut rng, &text, offset);
        }
        cases.push(json!({"text": text, "offset": offset}));
    }
    let expected = reference("seq_ref", &json!({"fastq": cases}));
    let expected = expected["fastq"].as_array().unwrap();
    let (mut ok, mut errors) = (0, 0);
    for (case, want) in cases.iter().zip(expected) {
        let args = if case["offset"] == 33 && rng.chance(50) {
            json!({"text": case["text"]})
        } else {
            json!({"text": case["text"], "phred_offset": case["offset"]})
        };
        let got = call(&reg, "seq.parse_fastq", &args).await;
        match (&got, want.get("records")) {
            (Ok(got), Some(records)) => {
                assert_eq!(&got["value"], records, "case {case}");
                ok += 1;
            }
            (Err(e), None) => {
                let msg = e.to_string();
                assert!(msg.contains("line "), "errors name the line: {msg}");
                errors += 1;
            }
            _ => panic!("plugin {got:?} vs Biopython {want} for {case}"),
        }
    }
    assert!(ok >= 250 && errors >= 100, "{ok} parsed, {errors} errors");
}

#[tokio::test]
async fn parse_fastq_published_examples_and_errors() {
    let (reg, _d) = seq_registry().await;
    // Cock et al. (2010) "The Sanger FASTQ file format...", Nucleic Acids
    // Res. 38:1767, and the Biopython Tutorial: the first read of SRR001666,
    // with the title repeated on the `+` line. 'I' is PHRED 40, '9' 24,
    // 'G' 38, 'C' 34.
    let text = "@SRR001666.1 071112_SLXA-EAS1_s_7:5:1:817:345 length=36\n\
                GGGTGATGGCCGCTGCCGATGGCGTCAAATCCCACC\n\
                +SRR001666.1 071112_SLXA-EAS1_s_7:5:1:817:345 length=36\n\
                IIIIIIIIIIIIIIIIIIIIIIIIIIIIII9IG9IC\n";
    let got = call(&reg, "seq.parse_fastq", &json!({"text": text}))
        .await
        .unwrap();
    let r = &got["value"][0];
    assert_eq!(r["id"], "SRR001666.1");
    assert_eq!(
        r["description"],
        "071112_SLXA-EAS1_s_7:5:1:817:345 length=36"
    );
    assert_eq!(r["sequence"], "GGGTGATGGCCGCTGCCGATGGCGTCAAATCCCACC");
    let mut phred = vec![40; 30];
    phred.extend([24, 40, 38, 24, 40, 34]);
    assert_eq!(r["phred"], json!(phred));

    // The WIT doc example.
    let got = call(
        &reg,
        "seq.parse_fastq",
        &json!({"text": "@r1 demo\nACGT\n+\nII5!\n"}),
    )
    .await
    .unwrap();
    assert_eq!(
        got["value"],
        json!([{"id": "r1", "description": "demo", "sequence": "ACGT",
                "quality": "II5!", "phred": [40, 40, 20, 0]}])
    );

    for (text, offset, needle) in [
        ("@a\nACGT\nIIII\n", 33, "line 1:"),
        ("@a\nACGT\n+\nIII\n", 33, "line 4:"),
        ("@a\nACGT\n+\nIIII\n@b\nAC\n+\nI~\x7f\n", 33, "line 8:"),
        ("@a\nACGT\n+\nII;I\n", 64, "';' at column 3"),
        ("@a\nACGT\n+\nIIII\n", 40, "phred_offset"),
    ] {
        let e = call(
            &reg,
            "seq.parse_fastq",
            &json!({"text": text, "phred_offset": offset}),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(e.contains(needle), "{needle} in {e}");
    }
}

// ----------------------------------------------------------------- ORFs

const TABLES: &[u8] = &[
    1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
    32, 33,
];

/// A random sequence with planted ATGs and stops so that ORFs of every
/// length occur.
fn orf_sequence(rng: &mut Rng) -> String {
    let len = rng.below(900);
    let ambiguous = rng.chance(15);
    let mut s = Vec::with_capacity(len + 3);
    while s.len() < len {
        match rng.below(20) {
            0 => s.extend_from_slice(b"ATG"),
            1 => s.extend_from_slice(rng.pick(&[b"TAA", b"TAG", b"TGA", b"AGA"])),
            2 if ambiguous => s.push(rng.pick(b"NRYSWKMBDHV")),
            _ => s.push(rng.pick(b"ACGT")),
        }
    }
    let mut s = String::from_utf8(s).unwrap();
    if rng.chance(15) {
        s = s.replace('T', "U");
    }
    if rng.chance(20) {
        s = s.to_lowercase();
    }
    s
}

#[tokio::test]
async fn find_orfs_matches_the_biopython_reference() {
    let (reg, _d) = seq_registry().await;
    let mut rng = Rng(0x0DF5_0002);
    let mut cases = Vec::new();
    let mut args = Vec::new();
    for _ in 0..400 {
        let sequence = orf_sequence(&mut rng);
        let min_length = rng.pick(&[None, Some(0u32), Some(6), Some(30), Some(75), Some(150)]);
        let both = rng.pick(&[None, Some(true), Some(false)]);
        let table = if rng.chance(50) {
            None
        } else {
            Some(rng.pick(TABLES))
        };
        cases.push(json!({
            "sequence": sequence,
            "min_length": min_length.unwrap_or(75),
            "both_strands": both.unwrap_or(true),
            "table": table.unwrap_or(1),
        }));
        let mut a = json!({"sequence": sequence});
        if let Some(m) = min_length {
            a["min_length"] = json!(m);
        }
        if let Some(b) = both {
            a["both_strands"] = json!(b);
        }
        if let Some(t) = table {
            a["table"] = json!(t);
        }
        args.push(a);
    }
    let expected = reference("seq_ref", &json!({"orfs": cases}));
    let expected = expected["orfs"].as_array().unwrap();
    let mut total = 0;
    for ((a, case), want) in args.iter().zip(&cases).zip(expected) {
        let got = call(&reg, "seq.find_orfs", a)
            .await
            .unwrap_or_else(|e| panic!("{a}: {e}"));
        assert_eq!(got["value"], want["orfs"], "case {case}");
        total += want["orfs"].as_array().unwrap().len();
    }
    assert!(total > 1000, "only {total} ORFs compared");
}

// ------------------------------------------------------------ translate

/// `seq.translate` equals Biopython's `Seq.translate` on random sequences
/// rich in ambiguity codes (so B, J, Z and X all occur), in every table,
/// with and without `to_stop`.
#[tokio::test]
async fn translate_matches_biopython() {
    let (reg, _d) = seq_registry().await;
    let mut rng = Rng(0x7A45_1A7E);
    // Codons that Biopython 1.85 translates to B, J or Z in table 1, planted
    // so that every run exercises them.
    let planted: &[&[u8]] = &[b"RAY", b"MTT", b"WTA", b"HTA", b"SAR", b"MTH", b"YTR"];
    let (mut cases, mut args) = (Vec::new(), Vec::new());
    for _ in 0..600 {
        let len = rng.below(120);
        let mut s = Vec::with_capacity(len + 3);
        while s.len() < len {
            match rng.below(6) {
                0 => s.extend_from_slice(rng.pick(planted)),
                1 => s.push(rng.pick(b"NRYSWKMBDHV")),
                _ => s.push(rng.pick(b"ACGT")),
            }
        }
        let mut s = String::from_utf8(s).unwrap();
        if rng.chance(15) {
            s = s.replace('T', "U");
        }
        if rng.chance(20) {
            s = s.to_lowercase();
        }
        let table = if rng.chance(40) { 1 } else { rng.pick(TABLES) };
        let to_stop = rng.chance(30);
        cases.push(json!({"sequence": s, "table": table, "to_stop": to_stop}));
        args.push(json!({"sequence": s, "table": table, "to_stop": to_stop}));
    }
    let expected = reference("seq_ref", &json!({"translate": cases}));
    let expected = expected["translate"].as_array().unwrap();
    let mut letters = [0usize; 3];
    let mut refused = 0;
    for (a, want) in args.iter().zip(expected) {
        let Some(want) = want["protein"].as_str() else {
            // Biopython refuses `to_stop` with the tables whose stop codons
            // can also code for an amino acid (27, 28, 31); the plugin
            // documents that it translates those codons as amino acids.
            assert!(
                a["to_stop"] == true && [27, 28, 31].contains(&a["table"].as_u64().unwrap()),
                "Biopython refuses {a}: {want}"
            );
            refused += 1;
            continue;
        };
        let got = call(&reg, "seq.translate", a)
            .await
            .unwrap_or_else(|e| panic!("{a}: {e}"));
        assert_eq!(got["value"], want, "{a}");
        for (n, l) in letters.iter_mut().zip(['B', 'J', 'Z']) {
            *n += want.matches(l).count();
        }
    }
    assert!(letters.iter().all(|&n| n > 20), "B, J, Z seen: {letters:?}");
    assert!(refused < 60, "{refused} cases refused by Biopython");
}

#[tokio::test]
async fn find_orfs_published_examples_and_errors() {
    let (reg, _d) = seq_registry().await;
    // Biopython Tutorial ("Translation"): this coding sequence translates
    // to MAIVMGR up to its first stop, TGA at 21..24.
    let got = call(
        &reg,
        "seq.find_orfs",
        &json!({"sequence": "ATGGCCATTGTAATGGGCCGCTGAAAGGGTGCCCGATAG", "min_length": 0}),
    )
    .await
    .unwrap();
    assert_eq!(
        got["value"],
        json!([{"start": 0, "end": 24, "strand": "forward", "frame": 0,
                "sequence": "ATGGCCATTGTAATGGGCCGCTGA", "protein": "MAIVMGR"}])
    );
    // The WIT doc example; the default minimum length (75) drops it.
    let args = json!({"sequence": "CCATGAAATTTTAGCC", "min_length": 0});
    let got = call(&reg, "seq.find_orfs", &args).await.unwrap();
    assert_eq!(got["value"][0]["protein"], "MKF");
    assert_eq!(got["value"][0]["frame"], 2);
    let got = call(
        &reg,
        "seq.find_orfs",
        &json!({"sequence": "CCATGAAATTTTAGCC"}),
    )
    .await
    .unwrap();
    assert_eq!(got["value"], json!([]));

    for (args, needle) in [
        (json!({"sequence": "ATGXTAA"}), "'X' at position 4"),
        (json!({"sequence": "ATGTAA", "table": 8}), "use 1"),
        (json!({"sequence": "ATGUAA"}), "both T"),
    ] {
        let e = call(&reg, "seq.find_orfs", &args)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{needle} in {e}");
    }
}

// ---------------------------------------------------------------- stats

#[tokio::test]
async fn stats_match_biopython() {
    let (reg, _d) = seq_registry().await;
    let mut rng = Rng(0x57A7_0003);
    let mut cases = Vec::new();
    let mut args = Vec::new();
    for i in 0..400 {
        let len = if i < 5 { i } else { rng.below(2000) };
        let alphabet: &[u8] = match rng.below(6) {
            0 => b"ACGTNRYSWKMBDHV",
            1 => b"ACGU",
            2 => b"acgtACGT",
            3 => b"GGGGCA",
            _ => b"ACGT",
        };
        let mut sequence = rng.string(alphabet, len);
        if rng.chance(5) {
            sequence.push('N');
        }
        let window = if rng.chance(30) {
            None
        } else {
            Some(1 + rng.below(300) as u32)
        };
        cases.push(json!({"sequence": sequence, "window": window.unwrap_or(100)}));
        let mut a = json!({"sequence": sequence});
        if let Some(w) = window {
            a["window"] = json!(w);
        }
        args.push(a);
    }
    let expected = reference("seq_ref", &json!({"stats": cases}));
    let expected = expected["stats"].as_array().unwrap();
    let mut weights = 0;
    for ((a, case), want) in args.iter().zip(&cases).zip(expected) {
        let got = call(&reg, "seq.stats", a)
            .await
            .unwrap_or_else(|e| panic!("{a}: {e}"));
        assert_eq!(got["length"], want["length"], "{case}");
        assert_eq!(got["composition"], want["composition"], "{case}");
        let f = |v: &Value| v.as_f64().unwrap();
        assert!(
            close(f(&got["gc_fraction"]), f(&want["gc_fraction"]), 1e-12),
            "{got} vs {want}"
        );
        match want["molecular_weight"].as_f64() {
            Some(w) => {
                assert!(
                    close(f(&got["molecular_weight"]), w, 1e-12),
                    "{got} vs {want}"
                );
                assert!(got["molecular_weight_note"].is_null());
                weights += 1;
            }
            None => {
                assert!(got["molecular_weight"].is_null(), "{got} vs {want}");
                assert!(got["molecular_weight_note"].is_string(), "{got}");
            }
        }
        let (gs, ws) = (
            got["gc_skew"].as_array().unwrap(),
            want["gc_skew"].as_array().unwrap(),
        );
        assert_eq!(gs.len(), ws.len(), "{case}");
        for (g, w) in gs.iter().zip(ws) {
            assert!(close(f(g), f(w), 1e-12), "{got} vs {want}");
        }
    }
    assert!(weights >= 150, "only {weights} molecular weights compared");
}

#[tokio::test]
async fn stats_published_examples_and_errors() {
    let (reg, _d) = seq_registry().await;
    // Biopython `molecular_weight` docstring: "AGC" as DNA is 949.61.
    let got = call(&reg, "seq.stats", &json!({"sequence": "AGC"}))
        .await
        .unwrap();
    assert_eq!(
        format!("{:.2}", got["molecular_weight"].as_f64().unwrap()),
        "949.61"
    );
    assert_eq!(got["length"], 3);
    assert_eq!(got["gc_skew"], json!([0.0]));
    // Biopython Tutorial: gc_fraction of this sequence is 0.46875.
    let got = call(
        &reg,
        "seq.stats",
        &json!({"sequence": "GATCGATGGGCCTATATAGGATCGAAAATCGC", "window": 8}),
    )
    .await
    .unwrap();
    assert_eq!(got["gc_fraction"], 0.46875);
    // Windows GATCGATG, GGCCTATA, TAGGATCG, AAAATCGC by hand:
    // G-C over G+C = 2/4, 0/4, 2/4, -1/3.
    assert_eq!(got["gc_skew"], json!([0.5, 0.0, 0.5, -1.0 / 3.0]));

    let got = call(&reg, "seq.stats", &json!({"sequence": "ACGTN"}))
        .await
        .unwrap();
    assert!(got["molecular_weight"].is_null());
    assert!(
        got["molecular_weight_note"]
            .as_str()
            .unwrap()
            .contains("'N'")
    );
    for (args, needle) in [
        (json!({"sequence": "ACGT", "window": 0}), "window"),
        (json!({"sequence": "AC GT"}), "' ' at position 3"),
    ] {
        let e = call(&reg, "seq.stats", &args)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{needle} in {e}");
    }
}

#[tokio::test]
async fn new_tools_have_schemas_and_docs() {
    let (reg, _d) = seq_registry().await;
    for (name, required) in [
        ("seq.parse_fastq", json!(["text"])),
        ("seq.find_orfs", json!(["sequence"])),
        ("seq.stats", json!(["sequence"])),
    ] {
        let t = reg.tool(name).unwrap_or_else(|| panic!("{name} exists"));
        assert!(!t.description.is_empty(), "{name} has a description");
        assert_eq!(t.input_schema["required"], required, "{name}");
        assert!(t.annotations.read_only_hint, "{name}");
    }
    let orfs = reg.tool("seq.find_orfs").unwrap();
    for arg in ["min_length", "both_strands", "table"] {
        assert!(
            orfs.input_schema["properties"][arg].is_object(),
            "{arg}: {}",
            orfs.input_schema
        );
    }
}

#[tokio::test]
async fn the_schema_defaults_are_what_the_tools_use() {
    let (reg, _d) = seq_registry().await;
    let dna = Rng(0x5eed_0d3f).dna(3_000);
    for tool in ["seq.translate", "seq.find_orfs", "seq.stats"] {
        defaults_are_what_the_tool_uses(&reg, tool, json!({"sequence": dna})).await;
    }
    // The public defaults (translate table 1, to_stop false;
    // find_orfs min_length 75, both strands).
    assert_schema_defaults(
        &reg,
        "seq.translate",
        &[("table", json!(1)), ("to_stop", json!(false))],
    );
    assert_schema_defaults(
        &reg,
        "seq.find_orfs",
        &[("min_length", json!(75)), ("both_strands", json!(true))],
    );
    let fastq = "@r1\nACGT\n+\nII5!\n@r2\nGG\n+\n#I\n";
    defaults_are_what_the_tool_uses(&reg, "seq.parse_fastq", json!({"text": fastq})).await;
}
