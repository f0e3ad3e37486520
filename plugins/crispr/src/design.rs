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

/// A guide before its strings are built.
#[derive(Clone, Copy)]
struct Cand {
    /// Offset of the protospacer on its strand's sequence.
    offset: usize,
    strand: Strand,
    start: usize,
    gc: f64,
    /// The Rule Set 1 logit ([`rule_set_1::logit_codes`]), when scored:
    /// it ranks as the score does, and only returned guides need the score.
    logit: Option<f64>,
    flags: Flags,
}

/// The ranking: passing first, score descending (none last), start, strand
/// (a total order: one guide per start and strand). Scores compare by
/// their logits.
fn rank(a: &Cand, b: &Cand) -> Ordering {
    b.flags
        .passes()
        .cmp(&a.flags.passes())
        .then_with(|| match (a.logit, b.logit) {
            (Some(x), Some(y)) => y.partial_cmp(&x).unwrap_or(Ordering::Equal),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
        .then_with(|| a.start.cmp(&b.start))
        .then_with(|| a.strand.cmp(&b.strand))
}

/// One strand's bases as bit planes: bit `i % 64` of word `i / 64` of
/// plane `X` is set when base `i` is `X` (upper-case A, C, G, T; other
/// letters set no bit), with the planes guide design tests derived once.
///
/// Per-candidate checks (all ACGT, GC count, poly-T, homopolymer, the PAM's
/// GG) are then a 64-bit window read and a mask: a few word operations
/// instead of a loop over the guide's bytes. Byte loops with early exits
/// are where compiled WebAssembly trails native code most, and they were
/// most of a design's time.
struct Planes {
    /// A, C, G, T.
    base: [Vec<u64>; 4],
    /// Any of A, C, G, T.
    acgt: Vec<u64>,
    /// G or C.
    gc: Vec<u64>,
    /// The low bit of each base's 2-bit code (A, C, G, T = 0-3): C or T.
    code_lo: Vec<u64>,
    /// The high bit: G or T.
    code_hi: Vec<u64>,
    /// `TTTT` starts here.
    poly_t: Vec<u64>,
    /// Five identical bases (of A, C, G, T) start here.
    run5: Vec<u64>,
}

impl Planes {
    fn new(t: &[u8]) -> Self {
        // One zero word past the end, so `window` can read any position
        // below `t.len()`.
        let words = t.len() / 64 + 2;
        let mut base = [0; 4].map(|_| vec![0u64; words]);
        for (w, chunk) in t.chunks(64).enumerate() {
            let mut word = [0u64; 4];
            for (j, &b) in chunk.iter().enumerate() {
                let bit = u64::from(dna::ACGT_BIT[usize::from(b)]);
                word[0] |= (bit & 1) << j;
                word[1] |= ((bit >> 1) & 1) << j;
                word[2] |= ((bit >> 2) & 1) << j;
                word[3] |= (bit >> 3) << j;
            }
            for (plane, bits) in base.iter_mut().zip(word) {
                plane[w] = bits;
            }
        }
        let [a, c, g, tt] = &base;
        let acgt = (0..words).map(|w| a[w] | c[w] | g[w] | tt[w]).collect();
        let gc = (0..words).map(|w| c[w] | g[w]).collect();
        let code_lo = (0..words).map(|w| c[w] | tt[w]).collect();
        let code_hi = (0..words).map(|w| g[w] | tt[w]).collect();
        // Runs by doubling: 2 in a row, 4 in a row, then 4 followed by one.
        let mut poly_t = Vec::new();
        let mut run5 = vec![0u64; words];
        for (b, plane) in base.iter().enumerate() {
            let run2 = and_shifted(plane, plane, 1);
            let run4 = and_shifted(&run2, &run2, 2);
            for (r, x) in run5.iter_mut().zip(and_shifted(&run4, plane, 4)) {
                *r |= x;
            }
            if b == 3 {
                poly_t = run4;
            }
        }
        Planes {
            base,
            acgt,
            gc,
            code_lo,
            code_hi,
            poly_t,
            run5,
        }
    }
}

/// `a & (b shifted down by d)`: bit `i` set where `a` has bit `i` and `b`
/// bit `i + d`. The last word of both is padding (zero), and stays so.
fn and_shifted(a: &[u64], b: &[u64], d: usize) -> Vec<u64> {
    let mut out = vec![0u64; a.len()];
    for (w, o) in out[..a.len() - 1].iter_mut().enumerate() {
        *o = a[w] & window(b, w * 64 + d);
    }
    out
}

/// The 64 bits of `plane` from position `i` on (bit 0 is position `i`);
/// positions past the plane read as 0. `i / 64 + 1` must be a word of it.
fn window(plane: &[u64], i: usize) -> u64 {
    let (w, s) = (i / 64, i % 64);
    // Two shifts, so that s == 0 shifts the next word out entirely.
    (plane[w] >> s) | ((plane[w + 1] << 1) << (63 - s))
}

/// The low `n` bits set (`n` < 64).
fn low_bits(n: usize) -> u64 {
    (1u64 << n) - 1
}

/// The protospacer starts `i` at which `t[i + l..i + l + masks.len()]`
/// matches the PAM (letter `k` has a base in `masks[k]`; a non-ACGT base
/// matches nothing), as a bit set: bit `i % 64` of word `i / 64`.
fn pam_hits(planes: &Planes, n: usize, l: usize, masks: &[u8]) -> Vec<u64> {
    let windows = (n + 1).saturating_sub(l + masks.len());
    let mut hits = vec![u64::MAX; windows.div_ceil(64)];
    for (k, &mask) in masks.iter().enumerate() {
        let letter: Vec<u64> = (0..planes.acgt.len())
            .map(|w| {
                (0..4)
                    .filter(|b| mask & (1 << b) != 0)
                    .fold(0, |acc, b| acc | planes.base[b][w])
            })
            .collect();
        // Past the last window the last letter reads the planes' zero
        // padding, so no bit is set beyond it.
        for (w, word) in hits.iter_mut().enumerate() {
            *word &= window(&letter, w * 64 + l + k);
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

/// The best `keep` of `cands`, ranked, with their strings: protospacer and
/// PAM read from the candidate's strand (`strands` is plus, minus); a site
/// is `site` bases long, its protospacer `l`.
fn best_guides(
    mut cands: Vec<Cand>,
    keep: usize,
    strands: [&[u8]; 2],
    l: usize,
    site: usize,
) -> Vec<Guide> {
    cands.sort_by(rank);
    cands.truncate(keep);
    cands
        .into_iter()
        .map(|c| {
            let t = match c.strand {
                Strand::Plus => strands[0],
                Strand::Minus => strands[1],
            };
            Guide {
                protospacer: String::from_utf8_lossy(&t[c.offset..c.offset + l]).into_owned(),
                pam: String::from_utf8_lossy(&t[c.offset + l..c.offset + site]).into_owned(),
                strand: c.strand,
                start: c.start,
                gc: c.gc,
                score: c.logit.map(rule_set_1::logistic),
                flags: c.flags,
            }
        })
        .collect()
}

/// Designs guides on both strands of `sequence` (IUPAC DNA, any case):
/// every protospacer of A, C, G, T followed by a PAM match, scored, flagged
/// and ranked; the best `p.max_results` are returned with the totals.
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
    let proto_bits = low_bits(l);
    // Candidates stay compact (no strings) and are trimmed to the best
    // `keep` whenever they grow past a bound, so memory does not grow with
    // the number of guides. After a trim, `worst_kept` is the `keep`-th
    // best so far: a guide ranking after it can never be returned, so it is
    // only counted (and not scored when its flags alone rank it after).
    let mut cands: Vec<Cand> = Vec::new();
    let mut worst_kept: Option<Cand> = None;
    let mut total_found = 0usize;
    let mut total_passing = 0usize;
    if n >= site {
        for (strand, t) in [(Strand::Plus, &plus), (Strand::Minus, &minus)] {
            let planes = Planes::new(t);
            // Only the positions whose PAM matches are visited, in order.
            for i in set_bits(&pam_hits(&planes, n, l, &pam_masks)) {
                if window(&planes.acgt, i) & proto_bits != proto_bits {
                    continue;
                }
                let gc_count = (window(&planes.gc, i) & proto_bits).count_ones();
                let gc = f64::from(gc_count) / l as f64;
                let flags = Flags {
                    poly_t: window(&planes.poly_t, i) & low_bits(l - 3) != 0,
                    homopolymer: window(&planes.run5, i) & low_bits(l - 4) != 0,
                    gc_out_of_range: gc < p.min_gc || gc > p.max_gc,
                };
                total_found += 1;
                total_passing += usize::from(flags.passes());
                // Flagged guides rank after every passing one, whatever
                // their score.
                if worst_kept.is_some_and(|w| w.flags.passes() && !flags.passes()) {
                    continue;
                }
                // Rule Set 1 needs NGG and the 30-mer around the guide.
                let logit = if scored
                    && i >= 4
                    && i + 26 <= n
                    && window(&planes.base[2], i + l + 1) & 0b11 == 0b11
                    && window(&planes.acgt, i - 4) & low_bits(30) == low_bits(30)
                {
                    let code = |plane: &[u64]| (window(plane, i - 4) & low_bits(30)) as u32;
                    Some(rule_set_1::logit_codes(
                        code(&planes.code_lo),
                        code(&planes.code_hi),
                    ))
                } else {
                    None
                };
                let cand = Cand {
                    offset: i,
                    strand,
                    start: match strand {
                        Strand::Plus => i,
                        Strand::Minus => n - i - l,
                    },
                    gc,
                    logit,
                    flags,
                };
                if worst_kept.is_some_and(|w| rank(&cand, &w) == Ordering::Greater) {
                    continue;
                }
                cands.push(cand);
                if cands.len() >= 2 * keep + 1024 {
                    cands.select_nth_unstable_by(keep - 1, rank);
                    cands.truncate(keep);
                    worst_kept = Some(cands[keep - 1]);
                }
            }
        }
    }
    let guides = best_guides(cands, keep, [&plus, &minus], l, site);
    Ok(Design {
        guides,
        total_found,
        total_passing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The byte-by-byte design the bit planes replaced: the reference the
    // bit-parallel checks must agree with (ranking and the strings of the
    // kept guides are shared, they are not what the planes changed).

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

    fn design_by_bytes(sequence: &str, p: &Params) -> Design {
        let pam = check_params(p).unwrap();
        let plus = dna::iupac_upper("sequence", sequence).unwrap();
        let minus = dna::reverse_complement(&plus);
        let (n, l) = (plus.len(), p.guide_length as usize);
        let site = l + pam.len();
        let scored = l == 20 && pam.len() == 3;
        let mut cands = Vec::new();
        for (strand, t) in [(Strand::Plus, &plus), (Strand::Minus, &minus)] {
            for i in 0..(n + 1).saturating_sub(site) {
                let pam_ok = pam
                    .iter()
                    .zip(&t[i + l..i + site])
                    .all(|(&m, &b)| dna::ACGT_BIT[usize::from(b)] & dna::iupac_mask(m) != 0);
                let proto = &t[i..i + l];
                if !pam_ok || !proto.iter().all(|&b| dna::is_acgt(b)) {
                    continue;
                }
                let gc =
                    proto.iter().filter(|&&b| b == b'G' || b == b'C').count() as f64 / l as f64;
                let logit = if scored && i >= 4 && i + 26 <= n && t[i + l + 1..i + site] == *b"GG" {
                    let ctx = &t[i - 4..i + 26];
                    if ctx.iter().all(|&b| dna::is_acgt(b)) {
                        rule_set_1::logit(ctx)
                    } else {
                        None
                    }
                } else {
                    None
                };
                cands.push(Cand {
                    offset: i,
                    strand,
                    start: if strand == Strand::Plus { i } else { n - i - l },
                    gc,
                    logit,
                    flags: flags_of(proto, gc, p),
                });
            }
        }
        let total_found = cands.len();
        let total_passing = cands.iter().filter(|c| c.flags.passes()).count();
        let guides = best_guides(cands, p.max_results as usize, [&plus, &minus], l, site);
        Design {
            guides,
            total_found,
            total_passing,
        }
    }

    #[test]
    fn bit_planes_agree_with_the_bytes() {
        let mut x: u64 = 0x5eed_cafe;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // Mostly ACGT in both cases, with runs (poly-T, homopolymers) and
        // some IUPAC letters that PAMs may match but guides may not hold.
        let letters = b"ACGTACGTACGTACGTacgtTTTTGGGGNRYSWKMBDHV";
        for round in 0..300 {
            let len = (next() % 700) as usize;
            let seq: String = (0..len)
                .map(|_| {
                    let r = next();
                    let k = if r % 50 == 0 { r >> 8 } else { r >> 8 & 15 };
                    letters[(k % letters.len() as u64) as usize] as char
                })
                .collect();
            let (pam, guide_length) = [
                ("NGG", 20),
                ("NAG", 20),
                ("NNGRRT", 21),
                ("TTTV", 23),
                ("NG", 16),
                ("NGG", 30),
                ("N", 17),
            ][round % 7];
            let p = Params {
                pam: pam.into(),
                guide_length,
                max_results: 1 + (next() % 400) as u32,
                ..Params::default()
            };
            assert_eq!(
                design(&seq, &p).unwrap(),
                design_by_bytes(&seq, &p),
                "{pam} {guide_length} on {seq}"
            );
        }
        // AT-rich regions: thousands of guides, few or none passing, so
        // the kept set holds flagged guides when it is trimmed.
        let mut flagged_kept = 0;
        for round in 0..20 {
            let seq: String = (0..3000)
                .map(|_| b"AATATTAAGC"[(next() % (8 + round % 3)) as usize] as char)
                .collect();
            let p = Params {
                pam: "N".into(),
                max_results: 1 + round as u32,
                ..Params::default()
            };
            let d = design(&seq, &p).unwrap();
            assert!(d.total_found > 2 * 1024);
            flagged_kept += usize::from(d.guides.iter().any(|g| !g.flags.passes()));
            assert_eq!(d, design_by_bytes(&seq, &p), "{seq}");
        }
        assert!(flagged_kept >= 5, "{flagged_kept}");
    }

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
