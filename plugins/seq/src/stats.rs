//! Summary statistics of a nucleotide sequence: composition, GC content,
//! molecular weight and GC skew, with Biopython's `Bio.SeqUtils` semantics.

use crate::{gc, iupac};
use bioai_sdk::ToolError;

/// The default GC-skew window, in bases (Biopython's default).
pub const DEFAULT_WINDOW: u32 = 100;

/// Average masses of the 5'-monophosphate deoxynucleotides, Biopython
/// `IUPACData.unambiguous_dna_weights`.
const DNA_WEIGHTS: [(u8, f64); 4] = [
    (b'A', 331.2218),
    (b'C', 307.1971),
    (b'G', 347.2212),
    (b'T', 322.2085),
];
/// Average masses of the 5'-monophosphate ribonucleotides, Biopython
/// `IUPACData.unambiguous_rna_weights`.
const RNA_WEIGHTS: [(u8, f64); 4] = [
    (b'A', 347.2212),
    (b'C', 323.1965),
    (b'G', 363.2206),
    (b'U', 324.1813),
];
/// Average mass of water, lost per phosphodiester bond (Biopython).
const WATER: f64 = 18.0153;

/// Counts of each kind of letter, case-insensitive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Composition {
    /// Number of A.
    pub a: u64,
    /// Number of C.
    pub c: u64,
    /// Number of G.
    pub g: u64,
    /// Number of T.
    pub t: u64,
    /// Number of U.
    pub u: u64,
    /// Number of N.
    pub n: u64,
    /// The other IUPAC ambiguity codes: R, Y, S, W, K, M, B, D, H, V.
    pub ambiguous: u64,
}

/// The statistics of one sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Number of letters.
    pub length: u64,
    /// Letter counts.
    pub composition: Composition,
    /// GC fraction, as [`gc::gc_fraction`].
    pub gc_fraction: f64,
    /// Single-stranded, linear molecular weight in daltons, when defined.
    pub molecular_weight: Option<f64>,
    /// Why `molecular_weight` is missing.
    pub molecular_weight_note: Option<String>,
    /// GC skew `(G - C) / (G + C)` per window.
    pub gc_skew: Vec<f64>,
}

/// GC skew per consecutive non-overlapping window of `window` bases (the
/// last one may be shorter), `(G - C) / (G + C)`, 0.0 when a window has no
/// G or C. Case-insensitive; only G and C count (as Biopython's `GC_skew`).
pub fn gc_skew(sequence: &[u8], window: usize) -> Vec<f64> {
    sequence
        .chunks(window.max(1))
        .map(|w| {
            let (mut g, mut c) = (0u64, 0u64);
            for &b in w {
                match b {
                    b'G' | b'g' => g += 1,
                    b'C' | b'c' => c += 1,
                    _ => {}
                }
            }
            if g + c == 0 {
                0.0
            } else {
                (g as f64 - c as f64) / (g + c) as f64
            }
        })
        .collect()
}

/// Molecular weight of a single-stranded linear DNA (or RNA) with a 5'
/// phosphate, as Biopython's `molecular_weight(seq, seq_type)`: the sum of
/// the nucleotide masses minus one water per bond. `Err` says why it is not
/// defined.
fn molecular_weight(sequence: &[u8], c: &Composition) -> Result<f64, String> {
    if sequence.is_empty() {
        return Err("the sequence is empty".into());
    }
    if c.t > 0 && c.u > 0 {
        return Err("the sequence has both T and U, so it is neither DNA nor RNA".into());
    }
    if c.n + c.ambiguous > 0 {
        let first = sequence
            .iter()
            .find(|b| !matches!(b.to_ascii_uppercase(), b'A' | b'C' | b'G' | b'T' | b'U'))
            .map(|&b| b.to_ascii_uppercase() as char)
            .unwrap_or('N');
        return Err(format!(
            "'{first}' is an ambiguity code, whose mass is unknown; only A, C, G, T (or U) have one"
        ));
    }
    let table = if c.u > 0 { &RNA_WEIGHTS } else { &DNA_WEIGHTS };
    let mut weight = 0.0;
    for &b in sequence {
        let b = b.to_ascii_uppercase();
        // Checked above: every letter is in the table.
        weight += table.iter().find(|(k, _)| *k == b).map_or(0.0, |(_, w)| *w);
    }
    Ok(weight - (sequence.len() - 1) as f64 * WATER)
}

/// The statistics of `sequence` (IUPAC DNA or RNA) with GC-skew windows of
/// `window` bases.
pub fn stats(sequence: &str, window: u32) -> Result<Stats, ToolError> {
    if window == 0 {
        return Err(ToolError::invalid_argument(
            "window",
            "must be at least 1 base; the default is 100",
        ));
    }
    iupac::validate("sequence", sequence)?;
    let bytes = sequence.as_bytes();
    let mut c = Composition::default();
    for &b in bytes {
        match b.to_ascii_uppercase() {
            b'A' => c.a += 1,
            b'C' => c.c += 1,
            b'G' => c.g += 1,
            b'T' => c.t += 1,
            b'U' => c.u += 1,
            b'N' => c.n += 1,
            _ => c.ambiguous += 1,
        }
    }
    let (molecular_weight, molecular_weight_note) = match molecular_weight(bytes, &c) {
        Ok(w) => (Some(w), None),
        Err(note) => (None, Some(note)),
    };
    Ok(Stats {
        length: bytes.len() as u64,
        composition: c,
        gc_fraction: gc::gc_fraction(sequence)?,
        molecular_weight,
        molecular_weight_note,
        gc_skew: gc_skew(bytes, window as usize),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Biopython `molecular_weight` docstring: "AGC" is 949.61 as DNA and
    // 997.61 as RNA. RNA is chosen here by the presence of U, so "AGCU" is
    // checked as AGC's RNA weight plus U (324.1813) minus one water.
    #[test]
    fn biopython_molecular_weight_doctests() {
        let w = stats("AGC", 100).unwrap().molecular_weight.unwrap();
        assert_eq!(format!("{w:.2}"), "949.61");
        let w = stats("agc", 100).unwrap().molecular_weight.unwrap();
        assert_eq!(format!("{w:.2}"), "949.61");
        // RNA: 997.61 for AGC plus U (324.1813) minus one water.
        let w = stats("AGCU", 100).unwrap().molecular_weight.unwrap();
        assert_eq!(
            format!("{w:.4}"),
            format!("{:.4}", 997.6077 + 324.1813 - 18.0153)
        );
    }

    #[test]
    fn composition_gc_and_notes() {
        let s = stats("ACGTNNRYacgt", 5).unwrap();
        assert_eq!(s.length, 12);
        assert_eq!(
            s.composition,
            Composition {
                a: 2,
                c: 2,
                g: 2,
                t: 2,
                u: 0,
                n: 2,
                ambiguous: 2
            }
        );
        assert_eq!(s.gc_fraction, 0.5);
        assert_eq!(s.molecular_weight, None);
        assert!(s.molecular_weight_note.unwrap().contains("'N'"));
        assert_eq!(s.gc_skew, [0.0, -1.0, 1.0]);
        let s = stats("", 100).unwrap();
        assert_eq!(s.length, 0);
        assert!(s.gc_skew.is_empty());
        assert!(s.molecular_weight_note.unwrap().contains("empty"));
        let s = stats("ACGTU", 100).unwrap();
        assert!(s.molecular_weight_note.unwrap().contains("both T and U"));
    }

    #[test]
    fn gc_skew_windows() {
        assert_eq!(gc_skew(b"GGGC", 2), [1.0, 0.0]);
        assert_eq!(gc_skew(b"GGGCC", 2), [1.0, 0.0, -1.0]);
        assert_eq!(gc_skew(b"ggsC", 100), [(2.0 - 1.0) / 3.0]);
        assert_eq!(gc_skew(b"AT", 1), [0.0, 0.0]);
    }

    #[test]
    fn errors() {
        let e = stats("ACGT", 0).unwrap_err().to_string();
        assert!(e.starts_with("invalid argument `window`"), "{e}");
        let e = stats("AC-GT", 10).unwrap_err().to_string();
        assert!(e.contains("'-' at position 3"), "{e}");
    }
}
