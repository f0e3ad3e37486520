//! Off-target search: NGG sites within a mismatch budget on both strands.

use crate::design::Strand;
use crate::{dna, fasta, mit, reference};
use bioai_sdk::ToolError;

/// Most hits listed in a report (all are counted and scored).
pub const MAX_LISTED: usize = 1000;
/// The largest mismatch budget.
pub const MAX_MISMATCHES: u32 = 6;
/// The mismatch budget when the call gives none.
pub const DEFAULT_MAX_MISMATCHES: u32 = 4;

/// One site.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Index of the record in the FASTA.
    pub record: usize,
    /// Leftmost + strand position of the protospacer.
    pub start: usize,
    /// Strand of the site.
    pub strand: Strand,
    /// The protospacer on its strand.
    pub sequence: String,
    /// The PAM on its strand.
    pub pam: String,
    /// 0-based mismatch positions in the guide, ascending.
    pub mismatch_positions: Vec<u32>,
    /// MIT hit score (20-nt guides).
    pub mit_score: Option<f64>,
}

/// A report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Record ids, in FASTA order (`Hit::record` indexes this).
    pub record_ids: Vec<String>,
    /// The first [`MAX_LISTED`] hits, sorted.
    pub hits: Vec<Hit>,
    /// All hits.
    pub total_hits: usize,
    /// Perfect matches.
    pub perfect_matches: usize,
    /// MIT specificity fraction (20-nt guides).
    pub specificity: Option<f64>,
}

/// Scans one sequence (upper-case IUPAC) for sites of `guide` (upper-case
/// A, C, G, T) followed by NGG, on both strands, with at most `max_mm`
/// mismatches (non-ACGT reference bases mismatch). Calls `hit(start,
/// strand, mismatch_positions)` for each, + strand sites in order of start,
/// then - strand sites in order of start.
pub fn scan(guide: &[u8], seq: &[u8], max_mm: u32, mut hit: impl FnMut(usize, Strand, &[u32])) {
    let l = guide.len();
    let n = seq.len();
    if l == 0 || n < l + 3 {
        return;
    }
    let mut positions: Vec<u32> = Vec::with_capacity(l);
    // + strand: protospacer [i, i+l), PAM [i+l, i+l+3) = NGG.
    for i in 0..=n - l - 3 {
        if seq[i + l + 1] != b'G' || seq[i + l + 2] != b'G' {
            continue;
        }
        positions.clear();
        let mut ok = true;
        for (k, (&g, &s)) in guide.iter().zip(&seq[i..i + l]).enumerate() {
            if g != s {
                positions.push(k as u32);
                if positions.len() as u32 > max_mm {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            hit(i, Strand::Plus, &positions);
        }
    }
    // - strand: PAM CCN at [j, j+3) on +, protospacer [j+3, j+3+l); guide
    // base k pairs with the complement of seq[j+3+l-1-k].
    for j in 0..=n - l - 3 {
        if seq[j] != b'C' || seq[j + 1] != b'C' {
            continue;
        }
        let start = j + 3;
        positions.clear();
        let mut ok = true;
        for (k, &g) in guide.iter().enumerate() {
            if dna::complement(seq[start + l - 1 - k]) != g {
                positions.push(k as u32);
                if positions.len() as u32 > max_mm {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            hit(start, Strand::Minus, &positions);
        }
    }
}

fn sort_key(h: &Hit) -> (usize, usize, usize, Strand) {
    (h.mismatch_positions.len(), h.record, h.start, h.strand)
}

/// Finds and scores the sites of `guide` in `reference_fasta` (FASTA text,
/// or the path of a FASTA file: see [`reference::load`]).
pub fn off_targets(
    guide: &str,
    reference_fasta: &str,
    max_mismatches: u32,
) -> Result<Report, ToolError> {
    let g = dna::acgt_upper("guide", guide)?;
    if !(16..=30).contains(&g.len()) {
        return Err(ToolError::invalid_argument(
            "guide",
            format!(
                "is {} nt long; give the 16 to 30 nt protospacer without its PAM \
                 (20 nt for SpCas9 and MIT scores)",
                g.len()
            ),
        ));
    }
    if max_mismatches > MAX_MISMATCHES {
        return Err(ToolError::invalid_argument(
            "max_mismatches",
            format!("is {max_mismatches}; use 0 to {MAX_MISMATCHES}"),
        ));
    }
    let reference_fasta = &*reference::load("reference_fasta", reference_fasta)?;
    // Cheap early refusal before parsing (bases <= bytes).
    if reference_fasta.len() > 2 * fasta::MAX_BASES {
        return Err(ToolError::limit_exceeded(format!(
            "`reference_fasta` is {} bytes; search at most 50 Mbp per call \
             (split the reference into several calls)",
            reference_fasta.len()
        )));
    }
    let records = fasta::parse("reference_fasta", reference_fasta)?;
    if records.is_empty() {
        return Err(ToolError::invalid_argument(
            "reference_fasta",
            "has no records; give FASTA text starting with a `>name` header line",
        ));
    }
    let scored = g.len() == 20;
    let l = g.len();
    let mut hits: Vec<Hit> = Vec::new();
    let mut total = 0usize;
    let mut perfect = 0usize;
    let mut sum = 0.0f64;
    for (r, rec) in records.iter().enumerate() {
        let seq = &rec.seq;
        scan(&g, seq, max_mismatches, |start, strand, pos| {
            total += 1;
            let mit_score = if scored { mit::hit_score(pos) } else { None };
            if pos.is_empty() {
                perfect += 1;
            }
            // Every site counts towards the sum except the first perfect
            // match (the on-target).
            if let Some(s) = mit_score
                && !(pos.is_empty() && perfect == 1)
            {
                sum += s;
            }
            let (sequence, pam) = match strand {
                Strand::Plus => (
                    seq[start..start + l].to_vec(),
                    seq[start + l..start + l + 3].to_vec(),
                ),
                Strand::Minus => (
                    dna::reverse_complement(&seq[start..start + l]),
                    dna::reverse_complement(&seq[start - 3..start]),
                ),
            };
            hits.push(Hit {
                record: r,
                start,
                strand,
                sequence: String::from_utf8_lossy(&sequence).into_owned(),
                pam: String::from_utf8_lossy(&pam).into_owned(),
                mismatch_positions: pos.to_vec(),
                mit_score,
            });
            // Keep memory bounded: trim to the best MAX_LISTED now and then.
            if hits.len() >= 4 * MAX_LISTED {
                hits.sort_by_key(sort_key);
                hits.truncate(MAX_LISTED);
            }
        });
    }
    hits.sort_by_key(sort_key);
    hits.truncate(MAX_LISTED);
    Ok(Report {
        record_ids: records.into_iter().map(|r| r.id).collect(),
        hits,
        total_hits: total,
        perfect_matches: perfect,
        specificity: scored.then(|| mit::specificity(sum)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUIDE: &str = "GACGCATAAAGATGAGACGC";

    #[test]
    fn plus_and_minus_sites() {
        // On-target on +, a 1-mismatch copy on - (as reverse complement).
        let mut off = GUIDE.as_bytes().to_vec();
        off[19] = b'A';
        off.extend_from_slice(b"AGG");
        let off_rc = String::from_utf8(dna::reverse_complement(&off)).unwrap();
        let fa = format!(">chr1 test\nTT{GUIDE}TGGAAAA{off_rc}TT\n");
        let r = off_targets(GUIDE, &fa, 4).unwrap();
        assert_eq!(r.total_hits, 2);
        assert_eq!(r.perfect_matches, 1);
        let on = &r.hits[0];
        assert_eq!((on.start, on.strand), (2, Strand::Plus));
        assert_eq!(on.mit_score, Some(100.0));
        assert_eq!(on.pam, "TGG");
        let h = &r.hits[1];
        assert_eq!(h.strand, Strand::Minus);
        assert_eq!(h.start, 2 + 20 + 3 + 4 + 3);
        assert_eq!(h.mismatch_positions, vec![19]);
        assert_eq!(h.pam, "AGG");
        assert_eq!(h.sequence.as_bytes(), &off[..20]);
        let s = 100.0 * (1.0 - 0.583);
        assert!((r.specificity.unwrap() - 100.0 / (100.0 + s)).abs() < 1e-12);
    }

    #[test]
    fn errors() {
        assert!(off_targets("ACGN", ">a\nACGT\n", 4).is_err());
        assert!(
            off_targets("ACGT", ">a\nACGT\n", 4)
                .unwrap_err()
                .to_string()
                .contains("16 to 30")
        );
        assert!(off_targets(GUIDE, ">a\nACGT\n", 7).is_err());
        assert!(
            off_targets(GUIDE, "", 4)
                .unwrap_err()
                .to_string()
                .contains("no records")
        );
    }
}
