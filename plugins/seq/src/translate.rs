//! Translation of nucleotide sequences with the NCBI genetic codes.

use crate::codon_tables::{self, GeneticCode, SUPPORTED_IDS};
use crate::iupac;
use bioai_sdk::ToolError;

/// The result of [`translate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// The protein sequence, upper case, stops as `*`.
    pub protein: String,
    /// Bases left over after the last whole codon (0, 1 or 2), ignored.
    pub trailing_bases: usize,
}

/// Position of each base bit (A=1, C=2, G=4, T=8) in NCBI's TCAG order.
fn tcag_index(bit: u8) -> usize {
    match bit {
        iupac::T => 0,
        iupac::C => 1,
        iupac::A => 2,
        _ => 3, // G
    }
}

/// The individual bases of a base set, as bits.
fn each_base(set: u8) -> impl Iterator<Item = u8> {
    [iupac::A, iupac::C, iupac::G, iupac::T]
        .into_iter()
        .filter(move |b| set & b != 0)
}

/// Translates one codon given as three base sets. All the codons it may
/// stand for must agree, otherwise `X`.
fn translate_codon(code: &GeneticCode, sets: [u8; 3]) -> u8 {
    translate_codon_with(code, sets, false)
}

/// Translates one codon given as three base sets. When the codons it may
/// stand for disagree: with `protein_codes`, Biopython's IUPAC protein
/// ambiguity letters `B` (N or D), `J` (I or L) and `Z` (Q or E) when the
/// amino acids are within one of those pairs; otherwise `X`.
fn translate_codon_with(code: &GeneticCode, sets: [u8; 3], protein_codes: bool) -> u8 {
    let mut first = None;
    let mut mixed = false;
    let (mut in_b, mut in_j, mut in_z) = (true, true, true);
    for b1 in each_base(sets[0]) {
        for b2 in each_base(sets[1]) {
            for b3 in each_base(sets[2]) {
                let aa =
                    code.amino_acids[16 * tcag_index(b1) + 4 * tcag_index(b2) + tcag_index(b3)];
                in_b &= matches!(aa, b'N' | b'D');
                in_j &= matches!(aa, b'I' | b'L');
                in_z &= matches!(aa, b'Q' | b'E');
                match first {
                    None => first = Some(aa),
                    Some(prev) if prev != aa => mixed = true,
                    Some(_) => {}
                }
            }
        }
    }
    match first {
        None => b'X',
        Some(aa) if !mixed => aa,
        Some(_) if !protein_codes => b'X',
        Some(_) if in_b => b'B',
        Some(_) if in_j => b'J',
        Some(_) if in_z => b'Z',
        Some(_) => b'X',
    }
}

/// Translates one codon of three IUPAC bytes (validated by the caller; any
/// other byte reads as N) with `code`, by the rules of [`translate`].
pub fn translate_codon_bytes(code: &GeneticCode, codon: &[u8]) -> u8 {
    let sets = [codon[0], codon[1], codon[2]].map(|b| iupac::bases(b).unwrap_or(0xF));
    translate_codon(code, sets)
}

/// The genetic code for an NCBI table id, or the error for the `table`
/// argument.
pub fn genetic_code(table: u8) -> Result<&'static GeneticCode, ToolError> {
    codon_tables::by_id(table).ok_or_else(|| {
        let detail = match table {
            7 => "genetic code 7 was merged into 4 by NCBI; use 4".to_string(),
            8 => "genetic code 8 was merged into 1 by NCBI; use 1".to_string(),
            _ => format!("there is no NCBI genetic code {table}; use one of {SUPPORTED_IDS}"),
        };
        ToolError::invalid_argument("table", detail)
    })
}

/// Translates `sequence` codon by codon from its first base with NCBI genetic
/// code `table`.
///
/// Stops are `*`; with `to_stop` the translation ends before the first stop.
/// A codon with ambiguity codes gives the amino acid (or stop) all its
/// possible codons agree on, else `X`. U is read as T. A trailing partial
/// codon is ignored and counted in [`Translation::trailing_bases`].
pub fn translate(sequence: &str, table: u8, to_stop: bool) -> Result<Translation, ToolError> {
    translate_with(sequence, table, to_stop, false)
}

/// [`translate`], but a codon whose possible amino acids are N or D, I or
/// L, or Q or E gives `B`, `J` or `Z` instead of `X`, exactly as Biopython's
/// `Seq.translate` does.
pub fn translate_biopython(
    sequence: &str,
    table: u8,
    to_stop: bool,
) -> Result<Translation, ToolError> {
    translate_with(sequence, table, to_stop, true)
}

fn translate_with(
    sequence: &str,
    table: u8,
    to_stop: bool,
    protein_codes: bool,
) -> Result<Translation, ToolError> {
    let code = genetic_code(table)?;
    iupac::validate("sequence", sequence)?;
    let bytes = sequence.as_bytes();
    let mut protein = String::with_capacity(bytes.len() / 3);
    for codon in bytes.chunks_exact(3) {
        // Validated above, so every byte has a base set.
        let sets = [codon[0], codon[1], codon[2]].map(|b| iupac::bases(b).unwrap_or(0xF));
        let aa = translate_codon_with(code, sets, protein_codes);
        if to_stop && aa == b'*' {
            break;
        }
        protein.push(aa as char);
    }
    Ok(Translation {
        protein,
        trailing_bases: bytes.len() % 3,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(s: &str, table: u8, to_stop: bool) -> String {
        translate(s, table, to_stop).unwrap().protein
    }

    // Biopython Tutorial ("Translation") and `Seq.translate` docstring.
    #[test]
    fn biopython_examples() {
        let coding_dna = "ATGGCCATTGTAATGGGCCGCTGAAAGGGTGCCCGATAG";
        assert_eq!(tr(coding_dna, 1, false), "MAIVMGR*KGAR*");
        assert_eq!(tr(coding_dna, 1, true), "MAIVMGR");
        assert_eq!(tr(coding_dna, 2, false), "MAIVMGRWKGAR*");
        assert_eq!(tr(coding_dna, 2, true), "MAIVMGRWKGAR");
        let messenger_rna = "AUGGCCAUUGUAAUGGGCCGCUGAAAGGGUGCCCGAUAG";
        assert_eq!(tr(messenger_rna, 1, false), "MAIVMGR*KGAR*");

        let coding_dna = "GTGGCCATTGTAATGGGCCGCTGAAAGGGTGCCCGATAG";
        assert_eq!(tr(coding_dna, 1, false), "VAIVMGR*KGAR*");
        assert_eq!(tr(coding_dna, 1, true), "VAIVMGR");
        assert_eq!(tr(coding_dna, 2, false), "VAIVMGRWKGAR*");
        assert_eq!(tr(coding_dna, 2, true), "VAIVMGRWKGAR");
        // No in-frame stop: to_stop changes nothing.
        assert_eq!(tr("TTGGCCATTGTAATGGGCCGC", 1, false), "LAIVMGR");
        assert_eq!(tr("TTGGCCATTGTAATGGGCCGC", 1, true), "LAIVMGR");
    }

    // Biopython `_translate_str` doctests and the `Seq.translate` note:
    // "TAN" and "NNN" could be an amino acid or a stop, so "X"; "TAR" is
    // TAA or TAG, both stops.
    #[test]
    fn ambiguous_codons() {
        assert_eq!(tr("AAA", 1, false), "K");
        assert_eq!(tr("TAR", 1, false), "*");
        assert_eq!(tr("TAN", 1, false), "X");
        assert_eq!(tr("NNN", 1, false), "X");
        // Fourfold-degenerate codons: every third base gives the same amino
        // acid in the standard code (GCN Ala, GGN Gly, CCN Pro, ACN Thr,
        // GTN Val, CTN Leu, TCN Ser, CGN Arg).
        assert_eq!(tr("GCNGGNCCNACNGTNCTNTCNCGN", 1, false), "AGPTVLSR");
        // ATH is ATA/ATC/ATT: Ile in table 1, Ile/Met in table 2.
        assert_eq!(tr("ATH", 1, false), "I");
        assert_eq!(tr("ATH", 2, false), "X");
        // Biopython's protein ambiguity letters, only on request: RAY is
        // AAC/AAT (N) or GAC/GAT (D); HTA is ATA (I), CTA/TTA (L) in table 1;
        // SAR is CAA/CAG (Q) or GAA/GAG (E).
        assert_eq!(tr("RAYHTASAR", 1, false), "XXX");
        let bio = translate_biopython("RAYHTASARNNN", 1, false)
            .unwrap()
            .protein;
        assert_eq!(bio, "BJZX");
        // More of Biopython 1.85's Seq(...).translate(table=...) outputs:
        // MTT (ATT/CTT), WTA (ATA/TTA), MTH J in table 1; in table 2 ATA is
        // M, so MTH and HTA are X; TRA is TAA/TGA, both stops in table 1,
        // a stop or W in table 2; GAS (D/E), CAS (H/Q) and ATN (I/M) are X.
        let b = |s: &str, t: u8, to_stop: bool| translate_biopython(s, t, to_stop).unwrap().protein;
        assert_eq!(b("MTTWTAMTH", 1, false), "JJJ");
        assert_eq!(b("MTHHTARAYSAR", 2, false), "XXBZ");
        assert_eq!(b("TRA", 1, false), "*");
        assert_eq!(b("TRA", 2, false), "X");
        assert_eq!(b("GASCASATN", 1, false), "XXX");
        assert_eq!(b("ATGRAYTAR", 1, true), "MB");
        // An ambiguous stop does not end a to_stop translation.
        assert_eq!(tr("ATGTANAAA", 1, true), "MXK");
    }

    // Stop codons given for the standard and vertebrate mitochondrial
    // tables in the Biopython Tutorial ("Translation Tables"):
    // ['TAA', 'TAG', 'TGA'] and ['TAA', 'TAG', 'AGA', 'AGG'].
    #[test]
    fn stop_codons_tables_1_and_2() {
        let stops = |table| {
            let mut v = Vec::new();
            for a in ["T", "C", "A", "G"] {
                for b in ["T", "C", "A", "G"] {
                    for c in ["T", "C", "A", "G"] {
                        let codon = format!("{a}{b}{c}");
                        if tr(&codon, table, false) == "*" {
                            v.push(codon);
                        }
                    }
                }
            }
            v.sort();
            v
        };
        assert_eq!(stops(1), ["TAA", "TAG", "TGA"]);
        assert_eq!(stops(2), ["AGA", "AGG", "TAA", "TAG"]);
        // Table 11 translates exactly like table 1 (they differ in starts).
        assert_eq!(stops(11), stops(1));
    }

    // Codon reassignments listed on NCBI's "The Genetic Codes" page for each
    // table, as (table, codon, amino acid).
    #[test]
    fn ncbi_reassignments() {
        let cases: &[(u8, &str, &str)] = &[
            (1, "TGA", "*"),
            (1, "ATA", "I"),
            (1, "AGA", "R"),
            (2, "ATA", "M"),
            (2, "TGA", "W"),
            (3, "ATA", "M"),
            (3, "CTT", "T"),
            (3, "CTG", "T"),
            (3, "TGA", "W"),
            (4, "TGA", "W"),
            (5, "AGA", "S"),
            (5, "AGG", "S"),
            (5, "ATA", "M"),
            (5, "TGA", "W"),
            (6, "TAA", "Q"),
            (6, "TAG", "Q"),
            (6, "TGA", "*"),
            (9, "AAA", "N"),
            (9, "AGA", "S"),
            (9, "TGA", "W"),
            (10, "TGA", "C"),
            (12, "CTG", "S"),
            (13, "AGA", "G"),
            (13, "AGG", "G"),
            (13, "ATA", "M"),
            (14, "AAA", "N"),
            (14, "AGG", "S"),
            (14, "TAA", "Y"),
            (14, "TAG", "*"),
            (15, "TAG", "Q"),
            (16, "TAG", "L"),
            (21, "TGA", "W"),
            (21, "ATA", "M"),
            (21, "AGA", "S"),
            (21, "AAA", "N"),
            (22, "TCA", "*"),
            (22, "TAG", "L"),
            (23, "TTA", "*"),
            (24, "AGA", "S"),
            (24, "AGG", "K"),
            (24, "TGA", "W"),
            (25, "TGA", "G"),
            (26, "CTG", "A"),
            (27, "TAG", "Q"),
            (27, "TAA", "Q"),
            (28, "TAA", "Q"),
            (29, "TAA", "Y"),
            (29, "TAG", "Y"),
            (30, "TAA", "E"),
            (30, "TAG", "E"),
            (31, "TGA", "W"),
            (31, "TAG", "E"),
            (32, "TAG", "W"),
            (33, "TAA", "Y"),
            (33, "TGA", "W"),
            (33, "AGA", "S"),
            (33, "AGG", "K"),
        ];
        for &(table, codon, aa) in cases {
            assert_eq!(tr(codon, table, false), aa, "table {table} codon {codon}");
        }
    }

    #[test]
    fn case_rna_and_partial_codons() {
        assert_eq!(tr("atggcc", 1, false), "MA");
        assert_eq!(tr("AuGgCc", 1, false), "MA");
        let t = translate("ATGGCCAT", 1, false).unwrap();
        assert_eq!(t.protein, "MA");
        assert_eq!(t.trailing_bases, 2);
        assert_eq!(translate("", 1, false).unwrap().protein, "");
        assert_eq!(translate("AT", 1, false).unwrap().trailing_bases, 2);
    }

    #[test]
    fn errors() {
        for t in [0, 7, 8, 17, 20, 34, 255] {
            let e = translate("ATG", t, false).unwrap_err().to_string();
            assert!(e.starts_with("invalid argument `table`"), "{e}");
        }
        assert!(
            translate("ATG", 7, false)
                .unwrap_err()
                .to_string()
                .contains("use 4")
        );
        let e = translate("ATGXCC", 1, false).unwrap_err().to_string();
        assert!(e.contains("'X' at position 4"), "{e}");
    }
}
