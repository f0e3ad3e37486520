//! Guide design: find protospacer + PAM sites on both strands, score, flag
//! and rank them.

use crate::{dna, rule_set_1};
use bioai_sdk::ToolError;
use std::cmp::Ordering;

/// The longest sequence `design-guides` accepts.
pub const MAX_SEQUENCE: usize = 10_000_000;

/// A strand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strand {
    /// As given.
    Plus,
    /// Reverse complement.
    Minus,
}

/// Warnings about a guide.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `TTTT` in the protospacer.
    pub poly_t: bool,
    /// A run of 5 or more identical bases in the protospacer.
    pub homopolymer: bool,
    /// GC fraction outside `[min_gc, max_gc]`.
    pub gc_out_of_range: bool,
}

impl Flags {
    /// No flag set.
    pub fn passes(&self) -> bool {
        !(self.poly_t || self.homopolymer || self.gc_out_of_range)
    }
}

/// One guide.
#[derive(Debug, Clone, PartialEq)]
pub struct Guide {
    /// Upper-case protospacer on the guide's strand.
    pub protospacer: String,
    /// The actual PAM bases on the guide's strand.
    pub pam: String,
    /// The strand.
    pub strand: Strand,
    /// Leftmost + strand position of the protospacer.
    pub start: usize,
    /// GC fraction of the protospacer.
    pub gc: f64,
    /// Rule Set 1 score, when defined.
    pub score: Option<f64>,
    /// Warnings.
    pub flags: Flags,
}

/// The parameters of a design, with defaults applied.
#[derive(Debug, Clone)]
pub struct Params {
    /// The PAM pattern (IUPAC), 3' of the protospacer.
    pub pam: String,
    /// Protospacer length.
    pub guide_length: u32,
    /// Lowest GC fraction not flagged.
    pub min_gc: f64,
    /// Highest GC fraction not flagged.
    pub max_gc: f64,
    /// How many guides to return.
    pub max_results: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            pam: "NGG".into(),
            guide_length: 20,
            min_gc: 0.4,
            max_gc: 0.6,
            max_results: 50,
        }
    }
}

/// The result of a design.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// The best guides, ranked.
    pub guides: Vec<Guide>,
    /// All guides found.
    pub total_found: usize,
    /// Guides with no flag.
    pub total_passing: usize,
}

fn check_params(p: &Params) -> Result<Vec<u8>, ToolError> {
    let pam = dna::iupac_upper("pam", &p.pam)?;
    if pam.is_empty() || pam.len() > 8 {
        return Err(ToolError::invalid_argument(
            "pam",
            format!(
                "is {} nt long; give a PAM pattern of 1 to 8 IUPAC letters, e.g. NGG",
                pam.len()
            ),
        ));
    }
    if !(16..=30).contains(&p.guide_length) {
        return Err(ToolError::invalid_argument(
            "guide_length",
            format!("is {}; use 16 to 30 (20 for SpCas9)", p.guide_length),
        ));
    }
    for (name, v) in [("min_gc", p.min_gc), ("max_gc", p.max_gc)] {
        if !(0.0..=1.0).contains(&v) {
            return Err(ToolError::invalid_argument(
                name,
                format!("is {v}; give a GC fraction between 0.0 and 1.0"),
            ));
        }
    }
    if p.min_gc > p.max_gc {
        return Err(ToolError::invalid_argument(
            "min_gc",
            format!(
                "({}) is above max_gc ({}); give min_gc <= max_gc",
                p.min_gc, p.max_gc
            ),
        ));
    }
    if !(1..=10_000).contains(&p.max_results) {
        return Err(ToolError::invalid_argument(
            "max_results",
            format!("is {}; use 1 to 10000", p.max_results),
        ));
    }
    Ok(pam)
}

/// The flags of a protospacer (upper-case A, C, G, T).
fn flags_of(protospacer: &[u8], gc: f64, p: &Params) -> Flags {
    let mut run = 0;
    let mut longest = 0;
    for (i, &b) in protospacer.iter().enumerate() {
        run = if i > 0 && protospacer[i - 1] == b {
            run + 1
        } else {
            1
        };
        longest = longest.max(run);
    }
    Flags {
        poly_t: protospacer.windows(4).any(|w| w == b"TTTT"),
        homopolymer: longest > 4,
        gc_out_of_range: gc < p.min_gc || gc > p.max_gc,
    }
}

/// A guide before its strings are built.
struct Cand {
    /// Offset of the protospacer on its strand's sequence.
    offset: usize,
    strand: Strand,
    start: usize,
    gc: f64,
    score: Option<f64>,
    flags: Flags,
}

/// The ranking: passing first, score descending (none last), start, strand
/// (a total order: one guide per start and strand).
fn rank(a: &Cand, b: &Cand) -> Ordering {
    b.flags
        .passes()
        .cmp(&a.flags.passes())
        .then_with(|| match (a.score, b.score) {
            (Some(x), Some(y)) => y.partial_cmp(&x).unwrap_or(Ordering::Equal),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
        .then_with(|| a.start.cmp(&b.start))
        .then_with(|| a.strand.cmp(&b.strand))
}

/// Designs guides on both strands of `sequence` (IUPAC DNA, any case).
/// The protospacer starts `i` at which `t[i + l..i + l + masks.len()]`
/// matches the PAM (letter `k` has a base in `masks[k]`; a non-ACGT base
/// matches nothing), as a bit set: bit `i % 64` of word `i / 64`.
///
/// This is the per-position work of guide design, so it is branch-free,
/// 64 positions per word: a table lookup, shift and OR per PAM letter and
/// position. (A test per position with an early exit mispredicted on about
/// a quarter of positions, which cost most in WebAssembly.)
fn pam_hits(t: &[u8], l: usize, masks: &[u8]) -> Vec<u64> {
    let windows = (t.len() + 1).saturating_sub(l + masks.len());
    let mut hits = vec![u64::MAX; windows.div_ceil(64)];
    for (k, &mask) in masks.iter().enumerate() {
        let mut matches = [0u64; 256];
        for (b, m) in matches.iter_mut().enumerate() {
            *m = u64::from(dna::ACGT_BIT[b] & mask != 0);
        }
        let letters = &t[l + k..l + k + windows];
        for (word, chunk) in hits.iter_mut().zip(letters.chunks(64)) {
            let mut bits = 0;
            for (j, &b) in chunk.iter().enumerate() {
                bits |= matches[usize::from(b)] << j;
            }
            *word &= bits;
        }
    }
    hits
}

/// The positions of the set bits of a bit set, ascending.
fn set_bits(words: &[u64]) -> impl Iterator<Item = usize> + '_ {
    words.iter().enumerate().flat_map(|(w, &word)| {
        let mut bits = word;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let at = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(w * 64 + at)
        })
    })
}

pub fn design(sequence: &str, p: &Params) -> Result<Design, ToolError> {
    let pam = check_params(p)?;
    if sequence.len() > MAX_SEQUENCE {
        return Err(ToolError::limit_exceeded(format!(
            "`sequence` is {} nt; design guides on at most {MAX_SEQUENCE} nt per call \
             (split the region)",
            sequence.len()
        )));
    }
    let plus = dna::iupac_upper("sequence", sequence)?;
    let minus = dna::reverse_complement(&plus);
    let n = plus.len();
    let l = p.guide_length as usize;
    let pam_masks: Vec<u8> = pam.iter().map(|&b| dna::iupac_mask(b)).collect();
    let site = l + pam.len();
    let scored = l == 20 && pam.len() == 3;
    let keep = p.max_results as usize;
    // Candidates stay compact (no strings) and are trimmed to the best
    // `keep` whenever they grow past a bound, so memory does not grow with
    // the number of guides.
    let mut cands: Vec<Cand> = Vec::new();
    let mut total_found = 0usize;
    let mut total_passing = 0usize;
    if n >= site {
        for (strand, t) in [(Strand::Plus, &plus), (Strand::Minus, &minus)] {
            // Only the positions whose PAM matches are visited, in order.
            for i in set_bits(&pam_hits(t, l, &pam_masks)) {
                let proto = &t[i..i + l];
                if !proto.iter().all(|&b| dna::is_acgt(b)) {
                    continue;
                }
                let gc_count = proto.iter().filter(|&&b| b == b'G' || b == b'C').count();
                let gc = gc_count as f64 / l as f64;
                let actual_pam = &t[i + l..i + site];
                let score = if scored && i >= 4 && i + 26 <= n && actual_pam[1..] == *b"GG" {
                    let ctx = &t[i - 4..i + 26];
                    if ctx.iter().all(|&b| dna::is_acgt(b)) {
                        rule_set_1::score(ctx)
                    } else {
                        None
                    }
                } else {
                    None
                };
                let flags = flags_of(proto, gc, p);
                total_found += 1;
                total_passing += usize::from(flags.passes());
                cands.push(Cand {
                    offset: i,
                    strand,
                    start: match strand {
                        Strand::Plus => i,
                        Strand::Minus => n - i - l,
                    },
                    gc,
                    score,
                    flags,
                });
                if cands.len() >= 2 * keep + 1024 {
                    cands.select_nth_unstable_by(keep, rank);
                    cands.truncate(keep);
                }
            }
        }
    }
    cands.sort_by(rank);
    cands.truncate(keep);
    let guides = cands
        .into_iter()
        .map(|c| {
            let t = match c.strand {
                Strand::Plus => &plus,
                Strand::Minus => &minus,
            };
            Guide {
                protospacer: String::from_utf8_lossy(&t[c.offset..c.offset + l]).into_owned(),
                pam: String::from_utf8_lossy(&t[c.offset + l..c.offset + site]).into_owned(),
                strand: c.strand,
                start: c.start,
                gc: c.gc,
                score: c.score,
                flags: c.flags,
            }
        })
        .collect();
    Ok(Design {
        guides,
        total_found,
        total_passing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_both_strands() {
        // + strand guide AAAAC...: protospacer at 4, PAM TGG at 24.
        let seq = "TTTTACGTACGTACGTACGTACGTTGGAAAAAA";
        let d = design(seq, &Params::default()).unwrap();
        let plus: Vec<_> = d
            .guides
            .iter()
            .filter(|g| g.strand == Strand::Plus)
            .collect();
        assert!(plus.iter().any(|g| g.start == 4
            && g.protospacer == "ACGTACGTACGTACGTACGT"
            && g.pam == "TGG"
            && g.score.is_some()));
        // The reverse complement has the mirror guide.
        let rc = String::from_utf8(dna::reverse_complement(seq.as_bytes())).unwrap();
        let d2 = design(&rc, &Params::default()).unwrap();
        assert!(d2.guides.iter().any(|g| g.strand == Strand::Minus
            && g.start == rc.len() - 4 - 20
            && g.protospacer == "ACGTACGTACGTACGTACGT"));
        assert_eq!(d.total_found, d2.total_found);
    }

    #[test]
    fn flags_and_ranking() {
        let f = flags_of(b"ACGTTTTACGAAAAAGGCCA", 0.45, &Params::default());
        assert!(f.poly_t && f.homopolymer && !f.gc_out_of_range);
        let f = flags_of(b"ACGTTTACGAAAAGGCCAAA", 0.3, &Params::default());
        assert!(!f.poly_t && !f.homopolymer && f.gc_out_of_range);
    }

    #[test]
    fn trimming_keeps_the_best() {
        let mut x: u64 = 0x1234_5678;
        let seq: String = (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b"ACGT"[(x % 4) as usize] as char
            })
            .collect();
        let small = Params {
            max_results: 5,
            ..Params::default()
        };
        let big = Params {
            max_results: 10_000,
            ..Params::default()
        };
        let a = design(&seq, &small).unwrap();
        let b = design(&seq, &big).unwrap();
        assert!(b.total_found > 2 * 1024 + 10, "{}", b.total_found);
        assert_eq!(a.total_found, b.total_found);
        assert_eq!(a.total_passing, b.total_passing);
        assert_eq!(a.guides[..], b.guides[..5]);
    }

    #[test]
    fn bad_params() {
        let p = Params {
            guide_length: 10,
            ..Params::default()
        };
        assert!(
            design("ACGT", &p)
                .unwrap_err()
                .to_string()
                .contains("guide_length")
        );
        let p = Params {
            min_gc: 0.7,
            ..Params::default()
        };
        assert!(design("ACGT", &p).is_err());
        let p = Params {
            pam: "NXG".into(),
            ..Params::default()
        };
        assert!(design("ACGT", &p).unwrap_err().to_string().contains("pam"));
        assert!(design("ACGU", &Params::default()).is_err());
        assert_eq!(design("", &Params::default()).unwrap().total_found, 0);
    }
}
