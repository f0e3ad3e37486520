//! The standard genetic code (NCBI table 1) on codon indices.
//!
//! A codon index is `16 * b1 + 4 * b2 + b3` with A=0, C=1, G=2, T=3.

/// Amino acid (or `*` for stop) of each codon index, standard code.
pub const STANDARD: &[u8; 64] = b"KNKNTTTTRSRSIIMIQHQHPPPPRRRRLLLLEDEDAAAAGGGGVVVV*Y*YSSSS*CWCLFLF";

/// The 20 amino acids plus `*`.
pub const SYMBOLS: &[u8; 21] = b"ACDEFGHIKLMNPQRSTVWY*";

/// Index 0..4 of an upper-case base, or `None`.
pub fn base_index(b: u8) -> Option<usize> {
    match b {
        b'A' => Some(0),
        b'C' => Some(1),
        b'G' => Some(2),
        b'T' => Some(3),
        _ => None,
    }
}

/// The three bases of a codon index.
pub fn codon_str(idx: usize) -> [u8; 3] {
    let b = *b"ACGT";
    [b[idx >> 4], b[(idx >> 2) & 3], b[idx & 3]]
}

/// Codon index of three upper-case bases (A, C, G, T only).
pub fn codon_index(c: &[u8]) -> Option<usize> {
    Some(base_index(c[0])? * 16 + base_index(c[1])? * 4 + base_index(c[2])?)
}

/// The codon indices of amino acid (or `*`) `aa`, in ascending index order
/// (which is alphabetical order of the codons).
pub fn synonymous(aa: u8) -> Vec<usize> {
    (0..64).filter(|&i| STANDARD[i] == aa).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_standard() {
        assert_eq!(STANDARD[codon_index(b"ATG").unwrap()], b'M');
        assert_eq!(STANDARD[codon_index(b"TGG").unwrap()], b'W');
        assert_eq!(STANDARD[codon_index(b"TGA").unwrap()], b'*');
        assert_eq!(synonymous(b'L').len(), 6);
        assert_eq!(synonymous(b'*').len(), 3);
        let total: usize = SYMBOLS.iter().map(|&a| synonymous(a).len()).sum();
        assert_eq!(total, 64);
        assert_eq!(&codon_str(codon_index(b"GCT").unwrap()), b"GCT");
    }
}
