//! Open reading frames: ATG .. stop, in three or six frames.

use crate::{iupac, revcomp, translate};
use bioai_sdk::ToolError;

/// The default shortest ORF reported, in nucleotides including the stop.
pub const DEFAULT_MIN_LENGTH: u32 = 75;

/// The strand an ORF is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strand {
    /// The given sequence.
    Forward,
    /// Its reverse complement.
    Reverse,
}

/// One open reading frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orf {
    /// 0-based start on the forward strand (inclusive).
    pub start: usize,
    /// 0-based end on the forward strand (exclusive).
    pub end: usize,
    /// The strand.
    pub strand: Strand,
    /// Frame 0, 1 or 2, counted from the start of the ORF's strand.
    pub frame: u8,
    /// The nucleotides on the ORF's strand, ATG through the stop codon.
    pub sequence: String,
    /// The translation without the stop.
    pub protein: String,
}

/// ORF spans `[start, end)` on one strand (`seq` as given, IUPAC letters
/// already validated), as byte offsets into `seq`, stop codon included: for
/// each stop codon, from the first ATG after the previous stop in the same
/// frame. Only ORFs of at least `min_length` nucleotides. Grouped by frame
/// (0, 1, 2), increasing within a frame.
///
/// This is the hot kernel of [`find_orfs`] (exposed for native
/// benchmarks): one pass per frame over the sequence, classifying each
/// codon once, with no allocation besides the result.
pub fn orf_spans(
    seq: &[u8],
    code: &crate::codon_tables::GeneticCode,
    min_length: usize,
) -> Vec<(usize, usize)> {
    // Stop codons of the table among the 64 unambiguous codons, by table
    // lookup; a codon with ambiguity codes goes through the translation
    // rules (a stop only when every codon it may stand for is one).
    let mut stop_table = [false; 64];
    for (i, slot) in stop_table.iter_mut().enumerate() {
        *slot = code.amino_acids[i] == b'*';
    }
    let index = |b: u8| -> Option<usize> {
        match b.to_ascii_uppercase() {
            b'T' | b'U' => Some(0),
            b'C' => Some(1),
            b'A' => Some(2),
            b'G' => Some(3),
            _ => None,
        }
    };
    let mut spans = Vec::new();
    for frame in 0..3 {
        let mut open: Option<usize> = None;
        let mut pos = frame;
        while pos + 3 <= seq.len() {
            let c = &seq[pos..pos + 3];
            // ATG (AUG) is TCAG index 16 * 2 + 4 * 0 + 3 = 35.
            let (is_stop, is_start) = match (index(c[0]), index(c[1]), index(c[2])) {
                (Some(a), Some(b), Some(d)) => {
                    let i = 16 * a + 4 * b + d;
                    (stop_table[i], i == 35)
                }
                _ => (translate::translate_codon_bytes(code, c) == b'*', false),
            };
            if is_stop {
                if let Some(start) = open.take()
                    && pos + 3 - start >= min_length
                {
                    spans.push((start, pos + 3));
                }
            } else if open.is_none() && is_start {
                open = Some(pos);
            }
            pos += 3;
        }
    }
    spans
}

/// Finds ORFs in `sequence` (IUPAC DNA or RNA).
///
/// An ORF starts at ATG (only; AUG in RNA) and ends with a stop codon of
/// NCBI table `table`, in the same frame. Per stop codon only the longest
/// ORF is reported: it starts at the first ATG after the previous in-frame
/// stop. ORFs that run off the end without a stop are not reported. A codon
/// with ambiguity codes is a stop only when every codon it may stand for is
/// one (e.g. TAR), and never a start. Sorted by start, then end, then
/// strand.
pub fn find_orfs(
    sequence: &str,
    min_length: u32,
    both_strands: bool,
    table: u8,
) -> Result<Vec<Orf>, ToolError> {
    let code = translate::genetic_code(table)?;
    iupac::validate("sequence", sequence)?;
    let min_length = min_length as usize;
    let len = sequence.len();
    let mut orfs = Vec::new();
    let mut collect = |strand_seq: &str, strand: Strand| -> Result<(), ToolError> {
        for (s, e) in orf_spans(strand_seq.as_bytes(), code, min_length) {
            let nt = &strand_seq[s..e];
            let protein = translate::translate_biopython(nt, table, true)?.protein;
            let (start, end) = match strand {
                Strand::Forward => (s, e),
                Strand::Reverse => (len - e, len - s),
            };
            orfs.push(Orf {
                start,
                end,
                strand,
                frame: (s % 3) as u8,
                sequence: nt.to_string(),
                protein,
            });
        }
        Ok(())
    };
    collect(sequence, Strand::Forward)?;
    if both_strands {
        let rc = revcomp::reverse_complement(sequence)?;
        collect(&rc, Strand::Reverse)?;
    }
    orfs.sort_by_key(|o| (o.start, o.end, o.strand));
    Ok(orfs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(s: &str, min: u32, both: bool) -> Vec<(usize, usize, Strand, u8, String)> {
        find_orfs(s, min, both, 1)
            .unwrap()
            .into_iter()
            .map(|o| (o.start, o.end, o.strand, o.frame, o.protein))
            .collect()
    }

    #[test]
    fn longest_per_stop_and_frames() {
        // Frame 0: ATG AAA ATG TAA -> one ORF from the first ATG.
        let s = "ATGAAAATGTAA";
        assert_eq!(
            spans(s, 0, false),
            [(0, 12, Strand::Forward, 0, "MKM".to_string())]
        );
        // Frame 1 and 2 shifts.
        assert_eq!(
            spans("CATGTGA", 0, false),
            [(1, 7, Strand::Forward, 1, "M".to_string())]
        );
        // Min length counts the stop.
        assert_eq!(spans("ATGTAA", 6, false).len(), 1);
        assert_eq!(spans("ATGTAA", 7, false).len(), 0);
        // No stop: not reported.
        assert!(spans("ATGAAAAAA", 0, false).is_empty());
        // Second ORF after a stop in the same frame.
        assert_eq!(
            spans("ATGTAGCCCATGCCCTGA", 0, false)
                .iter()
                .map(|o| (o.0, o.1))
                .collect::<Vec<_>>(),
            [(0, 6), (9, 18)]
        );
    }

    // The example in the WIT documentation of `find-orfs`.
    #[test]
    fn wit_doc_example() {
        assert_eq!(
            spans("CCATGAAATTTTAGCC", 0, true),
            [(2, 14, Strand::Forward, 2, "MKF".to_string())]
        );
        assert!(spans("CCATGAAATTTTAGCC", DEFAULT_MIN_LENGTH, true).is_empty());
    }

    #[test]
    fn reverse_strand_coordinates() {
        // Reverse complement of ATGCCCTAA is TTAGGGCAT.
        let s = "GGTTAGGGCATGG";
        let o = find_orfs(s, 0, true, 1).unwrap();
        let rev: Vec<_> = o.iter().filter(|o| o.strand == Strand::Reverse).collect();
        assert_eq!(rev.len(), 1);
        assert_eq!((rev[0].start, rev[0].end), (2, 11));
        assert_eq!(rev[0].sequence, "ATGCCCTAA");
        assert_eq!(rev[0].protein, "MP");
        // The reverse complement has length 13; the ORF starts at 2 there.
        assert_eq!(rev[0].frame, 2);
        assert!(find_orfs(s, 0, false, 1).unwrap().is_empty());
    }

    #[test]
    fn tables_case_rna_and_ambiguity() {
        // TGA is Trp in table 2; AGA is a stop there.
        assert!(find_orfs("ATGTGA", 0, false, 2).unwrap().is_empty());
        assert_eq!(find_orfs("ATGAGA", 0, false, 2).unwrap().len(), 1);
        let o = find_orfs("gaugcccuaa", 0, true, 1).unwrap();
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].sequence, "augcccuaa");
        assert_eq!(o[0].protein, "MP");
        // TAR is always a stop; TAN is not.
        assert_eq!(find_orfs("ATGTAR", 0, false, 1).unwrap().len(), 1);
        assert!(find_orfs("ATGTAN", 0, false, 1).unwrap().is_empty());
        // An ambiguous start is not a start.
        assert!(find_orfs("ATNTAA", 0, false, 1).unwrap().is_empty());
    }

    #[test]
    fn errors() {
        let e = find_orfs("ATGX", 0, true, 1).unwrap_err().to_string();
        assert!(e.contains("'X' at position 4"), "{e}");
        let e = find_orfs("ATG", 0, true, 7).unwrap_err().to_string();
        assert!(e.starts_with("invalid argument `table`"), "{e}");
        let e = find_orfs("ATGU", 0, true, 1).unwrap_err().to_string();
        assert!(e.contains("both T"), "{e}");
    }
}
