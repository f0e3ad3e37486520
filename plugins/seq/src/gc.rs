//! GC content with Biopython's `gc_fraction(seq, ambiguous="remove")` rules.

use crate::iupac;
use bioai_sdk::ToolError;

/// GC fraction of `sequence` (0.0 to 1.0).
///
/// Numerator: G, C, S. Denominator: A, C, G, T, S, W and U. Other IUPAC
/// codes (R, Y, K, M, B, D, H, V, N) are in neither. Case-insensitive. Zero
/// when the denominator is zero (including the empty sequence). Characters
/// outside the IUPAC nucleotide alphabet are an error.
///
/// This is `Bio.SeqUtils.gc_fraction(seq, ambiguous="remove")` except that
/// Biopython leaves U out of the denominator (so it overestimates the GC
/// content of RNA), and silently skips non-IUPAC characters.
pub fn gc_fraction(sequence: &str) -> Result<f64, ToolError> {
    let mut gc: u64 = 0;
    let mut counted: u64 = 0;
    for (i, b) in sequence.bytes().enumerate() {
        match b.to_ascii_uppercase() {
            b'G' | b'C' | b'S' => {
                gc += 1;
                counted += 1;
            }
            b'A' | b'T' | b'U' | b'W' => counted += 1,
            b'R' | b'Y' | b'K' | b'M' | b'B' | b'D' | b'H' | b'V' | b'N' => {}
            _ => return Err(iupac::invalid_char("sequence", sequence, i)),
        }
    }
    Ok(if counted == 0 {
        0.0
    } else {
        gc as f64 / counted as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gc(s: &str) -> f64 {
        gc_fraction(s).unwrap()
    }

    // Expected values from the doctests of Biopython's
    // `Bio.SeqUtils.gc_fraction` (default `ambiguous="remove"`).
    #[test]
    fn biopython_gc_fraction_doctests() {
        assert_eq!(format!("{:.2}", gc("ACTG")), "0.50");
        assert_eq!(format!("{:.2}", gc("ACTGSSSS")), "0.75");
        assert_eq!(format!("{:.2}", gc("ACTGN")), "0.50");
        assert_eq!(format!("{:.2}", gc("GDVV")), "1.00");
        assert_eq!(gc(""), 0.0);
    }

    // Biopython Tutorial, "Sequence objects": gc_fraction of this sequence
    // is 0.46875.
    #[test]
    fn biopython_tutorial_sequence() {
        assert_eq!(gc("GATCGATGGGCCTATATAGGATCGAAAATCGC"), 0.46875);
    }

    #[test]
    fn case_insensitive_and_rna() {
        assert_eq!(gc("gatcgatgggcctatataggatcgaaaatcgc"), 0.46875);
        // U counts like T (documented deviation from Biopython).
        assert_eq!(gc("ACUG"), gc("ACTG"));
        assert_eq!(gc("W"), 0.0);
        assert_eq!(gc("S"), 1.0);
        assert_eq!(gc("NNRY"), 0.0);
    }

    #[test]
    fn rejects_non_iupac() {
        let e = gc_fraction("ACGT-ACGT").unwrap_err().to_string();
        assert!(e.contains("'-' at position 5"), "{e}");
        assert!(e.starts_with("invalid argument `sequence`"), "{e}");
    }
}
