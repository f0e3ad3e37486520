//! Codon Adaptation Index (Sharp & Li 1987).
//!
//! Sharp PM, Li WH, "The codon adaptation index -- a measure of directional
//! synonymous codon usage bias, and its potential applications", Nucleic
//! Acids Res 15(3):1281-1295 (1987), doi:10.1093/nar/15.3.1281.
//!
//! The relative adaptiveness of a codon is `w = f(codon) / max f(c)` over the
//! synonymous codons `c` of its amino acid, with `f` the host table's
//! frequencies. CAI is the geometric mean of `w` over the codons of a CDS,
//! leaving out ATG (Met), TGG (Trp) -- the only codons of their amino acids,
//! so always `w = 1` -- and the stop codons TAA, TAG, TGA. The Kazusa tables
//! shipped have no zero frequency, so no `w` is 0.

use crate::code::{STANDARD, synonymous};
use crate::tables::UsageTable;

/// Relative adaptiveness `w` of every codon index under `table`.
pub fn weights(table: &UsageTable) -> [f64; 64] {
    let mut w = [0.0; 64];
    for (i, wi) in w.iter_mut().enumerate() {
        let max = synonymous(STANDARD[i])
            .into_iter()
            .map(|c| table.freq[c])
            .fold(0.0_f64, f64::max);
        *wi = if max > 0.0 { table.freq[i] / max } else { 0.0 };
    }
    w
}

/// Whether a codon index counts in CAI (not ATG, TGG or a stop).
pub fn counts(codon: usize) -> bool {
    !matches!(STANDARD[codon], b'M' | b'W' | b'*')
}

/// CAI of a list of codon indices with weights `w`; `None` when no codon
/// counts (only ATG, TGG and stops).
pub fn cai(codons: &[usize], w: &[f64; 64]) -> Option<f64> {
    let mut sum = 0.0;
    let mut n = 0usize;
    for &c in codons {
        if counts(c) {
            sum += w[c].ln();
            n += 1;
        }
    }
    (n > 0).then(|| (sum / n as f64).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::codon_index;
    use crate::tables::E_COLI;

    #[test]
    fn best_codons_weigh_one() {
        let w = weights(&E_COLI);
        // E. coli Leu: CTG 0.50 is the most used.
        assert_eq!(w[codon_index(b"CTG").unwrap()], 1.0);
        let ctt = w[codon_index(b"CTT").unwrap()];
        assert!((ctt - 0.10 / 0.50).abs() < 1e-12, "{ctt}");
        let c = |s: &[u8]| codon_index(s).unwrap();
        assert_eq!(cai(&[c(b"ATG"), c(b"TGG"), c(b"TAA")], &w), None);
        let v = cai(&[c(b"ATG"), c(b"CTG"), c(b"CTT"), c(b"TAA")], &w).unwrap();
        assert!((v - (0.2_f64).sqrt()).abs() < 1e-12);
    }
}
