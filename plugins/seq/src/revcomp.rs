//! IUPAC-aware, case-preserving reverse complement of DNA and RNA.

use crate::iupac;
use bioai_sdk::ToolError;

/// Complement of one IUPAC code (upper case), for DNA (`rna == false`: A->T)
/// or RNA (A->U). `None` for non-IUPAC bytes.
fn complement_upper(code: u8, rna: bool) -> Option<u8> {
    Some(match code {
        b'A' if rna => b'U',
        b'A' => b'T',
        b'T' | b'U' => b'A',
        b'C' => b'G',
        b'G' => b'C',
        b'R' => b'Y',
        b'Y' => b'R',
        b'S' => b'S',
        b'W' => b'W',
        b'K' => b'M',
        b'M' => b'K',
        b'B' => b'V',
        b'V' => b'B',
        b'D' => b'H',
        b'H' => b'D',
        b'N' => b'N',
        _ => return None,
    })
}

/// Reverse complement of `sequence`.
///
/// RNA (A complements to U) when the sequence contains U and no T, DNA
/// otherwise; both T and U is an error. Case is preserved per character.
pub fn reverse_complement(sequence: &str) -> Result<String, ToolError> {
    iupac::validate("sequence", sequence)?;
    let bytes = sequence.as_bytes();
    let has = |c: u8| bytes.iter().any(|b| b.to_ascii_uppercase() == c);
    let (t, u) = (has(b'T'), has(b'U'));
    if t && u {
        return Err(ToolError::invalid_argument(
            "sequence",
            "contains both T (DNA) and U (RNA); use T for DNA or U for RNA, not both",
        ));
    }
    let rna = u;
    let out: Vec<u8> = bytes
        .iter()
        .rev()
        .map(|&b| {
            // Validated above: every byte is an ASCII IUPAC letter.
            let c = complement_upper(b.to_ascii_uppercase(), rna).unwrap_or(b'N');
            if b.is_ascii_lowercase() {
                c.to_ascii_lowercase()
            } else {
                c
            }
        })
        .collect();
    Ok(String::from_utf8(out).expect("ASCII"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rc(s: &str) -> String {
        reverse_complement(s).unwrap()
    }

    // Biopython Tutorial, "Sequence objects" (nucleotide sequences and
    // (reverse) complements).
    #[test]
    fn biopython_tutorial() {
        assert_eq!(
            rc("GATCGATGGGCCTATATAGGATCGAAAATCGC"),
            "GCGATTTTCGATCCTATATAGGCCCATCGATC"
        );
    }

    // Biopython `Seq.reverse_complement` and `Seq.complement` docstrings.
    #[test]
    fn biopython_docstrings() {
        assert_eq!(rc("CCCCCGATAGNR"), "YNCTATCGGGGG");
        // Neither T nor U: DNA.
        assert_eq!(rc("CGA"), "TCG");
        // `Seq("CGAU").complement()` is `GCUA` (RNA), so reversed `AUCG`.
        assert_eq!(rc("CGAU"), "AUCG");
        // `Seq("CGAUT").reverse_complement()` raises "Mixed RNA/DNA found".
        assert!(reverse_complement("CGAUT").is_err());
    }

    // Biopython's `Seq.complement` docstring complements the mixed-case
    // "CCCCCgatA-GD" to "GGGGGctaT-CH"; here without the gap, reversed.
    #[test]
    fn case_preserving() {
        assert_eq!(rc("CCCCCgatAGD"), "HCTatcGGGGG");
    }

    #[test]
    fn every_iupac_code() {
        // IUPAC complements: R/Y, K/M, B/V, D/H swap; S, W, N are their own.
        assert_eq!(rc("ACGTRYSWKMBDHVN"), "NBDHVKMWSRYACGT");
        assert_eq!(rc("ACGURYSWKMBDHVN"), "NBDHVKMWSRYACGU");
        assert_eq!(rc(""), "");
        // No T and no U: DNA.
        assert_eq!(rc("AAAC"), "GTTT");
    }

    #[test]
    fn errors() {
        let e = reverse_complement("ACGU T").unwrap_err().to_string();
        assert!(e.contains("' ' at position 5"), "{e}");
        let e = reverse_complement("ACGUT").unwrap_err().to_string();
        assert!(e.contains("both T (DNA) and U (RNA)"), "{e}");
    }
}
