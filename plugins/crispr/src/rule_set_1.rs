//! Doench et al. 2014 "Rule Set 1" on-target score.
//!
//! Doench JG, Hartenian E, Graham DB, et al. Rational design of highly
//! active sgRNAs for CRISPR-Cas9-mediated gene inactivation. Nat Biotechnol
//! 2014;32(12):1262-1267. doi:10.1038/nbt.3026. The model is the logistic
//! regression of the paper's supplementary on-target score calculator
//! (`on_target_score_calculator.py` / `.m`, function `calc_score`), the same
//! model CRISPOR ships as `doenchScore.py`. The weights below are transcribed
//! from that published calculator: positions are 1-based in the 30-mer
//! (4 nt + 20 nt protospacer + 3 nt PAM + 3 nt), di-nucleotide positions are
//! those of their first base.

/// The intercept of the model.
const INTERCEPT: f64 = 0.597636154;
/// Weight per GC (G or C in the 20-mer) below 10.
const GC_LOW: f64 = -0.202625894;
/// Weight per GC above 10.
const GC_HIGH: f64 = -0.166587752;

/// Position-specific single-nucleotide weights: (1-based position, base,
/// weight).
const SINGLE: [(usize, u8, f64); 39] = [
    (2, b'G', -0.275377128),
    (3, b'A', -0.323887456),
    (3, b'C', 0.172128871),
    (4, b'C', -0.100666209),
    (5, b'C', -0.20180294),
    (5, b'G', 0.245956633),
    (6, b'A', 0.036440041),
    (6, b'C', 0.098376835),
    (7, b'C', -0.741181291),
    (7, b'G', -0.393264397),
    (12, b'A', -0.466099015),
    (15, b'A', 0.085376945),
    (15, b'C', -0.013813972),
    (16, b'A', 0.272620512),
    (16, b'C', -0.119022648),
    (16, b'T', -0.285944222),
    (17, b'A', 0.097454592),
    (17, b'G', -0.17554617),
    (18, b'C', -0.345795451),
    (18, b'G', -0.678096426),
    (19, b'A', 0.22508903),
    (19, b'C', -0.507794051),
    (20, b'G', -0.417373597),
    (20, b'T', -0.054306959),
    (21, b'G', 0.379899366),
    (21, b'T', -0.090712644),
    (22, b'C', 0.057823319),
    (22, b'T', -0.530567296),
    (23, b'T', -0.877007428),
    (24, b'C', -0.876235846),
    (24, b'G', 0.278916259),
    (24, b'T', -0.403102218),
    (25, b'A', -0.077300704),
    (25, b'C', 0.287935617),
    (25, b'T', -0.221637217),
    (28, b'G', -0.689016682),
    (28, b'T', 0.117877577),
    (29, b'C', -0.160445304),
    (30, b'G', 0.386342585),
];

/// Position-specific di-nucleotide weights: (1-based position of the first
/// base, the two bases, weight).
const DOUBLE: [(usize, [u8; 2], f64); 31] = [
    (2, *b"GT", -0.625778696),
    (5, *b"GC", 0.300043317),
    (6, *b"AA", -0.834836245),
    (6, *b"TA", 0.760627772),
    (7, *b"GG", -0.490816749),
    (12, *b"GG", -1.516907439),
    (12, *b"TA", 0.7092612),
    (12, *b"TC", 0.496298609),
    (12, *b"TT", -0.586873894),
    (13, *b"GG", -0.334563735),
    (14, *b"GA", 0.76384993),
    (14, *b"GC", -0.53702517),
    (17, *b"TG", -0.798146133),
    (19, *b"GG", -0.66680873),
    (19, *b"TC", 0.353183252),
    (20, *b"CC", 0.748072092),
    (20, *b"TG", -0.367266772),
    (21, *b"AC", 0.568209132),
    (21, *b"CG", 0.329072074),
    (21, *b"GA", -0.836456755),
    (21, *b"GG", -0.782207584),
    (22, *b"TC", -1.029692957),
    (23, *b"CG", 0.856197823),
    (23, *b"CT", -0.463207679),
    (24, *b"AA", -0.579492389),
    (24, *b"AG", 0.649075537),
    (25, *b"AG", -0.077300704),
    (25, *b"CG", 0.287935617),
    (25, *b"TG", -0.221637217),
    (27, *b"GT", 0.117877577),
    (29, *b"GG", -0.697740024),
];

/// Code of a base for the weight tables: A, C, G, T are 0-3, anything else
/// 4 (which has no weight).
const fn code(b: u8) -> usize {
    match b {
        b'A' => 0,
        b'C' => 1,
        b'G' => 2,
        b'T' => 3,
        _ => 4,
    }
}

/// [`code`] of every byte.
static CODE: [u8; 256] = {
    let mut t = [4u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = code(b as u8) as u8;
        b += 1;
    }
    t
};

/// [`SINGLE`] as a table: `[position - 1][code(base)]`, 0 where the model
/// has no weight.
static SINGLE_TABLE: [[f64; 5]; 30] = {
    let mut t = [[0.0; 5]; 30];
    let mut k = 0;
    while k < SINGLE.len() {
        let (pos, base, w) = SINGLE[k];
        t[pos - 1][code(base)] = w;
        k += 1;
    }
    t
};

/// [`DOUBLE`] as a table: `[position - 1][5 * code(first) + code(second)]`.
static DOUBLE_TABLE: [[f64; 25]; 29] = {
    let mut t = [[0.0; 25]; 29];
    let mut k = 0;
    while k < DOUBLE.len() {
        let (pos, pair, w) = DOUBLE[k];
        t[pos - 1][5 * code(pair[0]) + code(pair[1])] = w;
        k += 1;
    }
    t
};

/// Positions per table of [`CHUNKS`].
const CHUNK: usize = 3;

/// The model as one table per 3 positions of the 30-mer. Entry
/// `lo | hi << 4` of table `c` is the sum of the single-nucleotide weights
/// of positions `3c..3c + 3` and the di-nucleotide weights starting there,
/// for the bases whose 2-bit codes (A, C, G, T = 0-3) have low bits `lo`
/// and high bits `hi` at positions `3c..3c + 4` (bit `j` for position
/// `3c + j`; the fourth is the second base of the last di-nucleotide).
///
/// Ten lookups instead of 59 (the model's 30 + 29 table rows) make a score
/// several times cheaper; the tables take 20 KiB.
static CHUNKS: [[f64; 256]; 10] = {
    let mut t = [[0.0; 256]; 10];
    let mut c = 0;
    while c < 10 {
        let mut idx = 0;
        while idx < 256 {
            let (lo, hi) = (idx & 15, idx >> 4);
            let mut sum = 0.0;
            let mut j = 0;
            while j < CHUNK {
                let pos = CHUNK * c + j;
                sum += SINGLE_TABLE[pos][chunk_code(lo, hi, j)];
                if pos < 29 {
                    sum += DOUBLE_TABLE[pos][5 * chunk_code(lo, hi, j) + chunk_code(lo, hi, j + 1)];
                }
                j += 1;
            }
            t[c][idx] = sum;
            idx += 1;
        }
        c += 1;
    }
    t
};

/// The code of position `j` of a [`CHUNKS`] index's low and high bits.
const fn chunk_code(lo: usize, hi: usize, j: usize) -> usize {
    ((lo >> j) & 1) | (((hi >> j) & 1) << 1)
}

/// The Rule Set 1 score (0 to 1) of a 30-mer of upper-case A, C, G, T:
/// 4 nt, the 20-nt protospacer, the 3-nt PAM, 3 nt.
///
/// Returns `None` unless `context` is 30 bytes of A, C, G and T.
pub fn score(context: &[u8]) -> Option<f64> {
    logit(context).map(logistic)
}

/// The model's logit of a 30-mer (see [`logit_codes`]); `None` as for
/// [`score`].
pub fn logit(context: &[u8]) -> Option<f64> {
    let context: &[u8; 30] = context.try_into().ok()?;
    let (mut lo, mut hi) = (0u32, 0u32);
    for (j, &b) in context.iter().enumerate() {
        let c = u32::from(CODE[usize::from(b)]);
        if c > 3 {
            return None;
        }
        lo |= (c & 1) << j;
        hi |= (c >> 1) << j;
    }
    Some(logit_codes(lo, hi))
}

/// The model's logit (its weighted sum; the score is [`logistic`] of it)
/// of the 30-mer whose base `j` has 2-bit code (A, C, G, T = 0-3)
/// `(lo >> j & 1) | (hi >> j & 1) << 1`; bits 30 and 31 are ignored. The
/// logistic is increasing, so guides rank by logit as by score, and guide
/// design takes the exponential (a software routine in WebAssembly) only
/// for the guides it returns.
///
/// The model's weights are added chunk by chunk rather than in the order of
/// its lists, which moves the result by a few units in the last place at
/// most (see the tests).
pub fn logit_codes(lo: u32, hi: u32) -> f64 {
    // G and C are the codes whose two bits differ; the protospacer is
    // positions 4..24.
    let gc = f64::from(((lo ^ hi) >> 4 & 0xF_FFFF).count_ones());
    let mut sum = INTERCEPT;
    if gc < 10.0 {
        sum += (10.0 - gc) * GC_LOW;
    } else if gc > 10.0 {
        sum += (gc - 10.0) * GC_HIGH;
    }
    for (c, table) in CHUNKS.iter().enumerate() {
        let shift = CHUNK * c;
        sum += table[((lo >> shift) & 15 | ((hi >> shift) & 15) << 4) as usize];
    }
    sum
}

/// The score of a logit: `1 / (1 + e^-x)`.
pub fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Examples from CRISPOR's doenchScore.py (Haeussler et al. 2016), which
    // wraps the Doench 2014 calculator.
    #[test]
    fn crispor_examples() {
        let s = score(b"TATAGCTGCGATCTGAGGTAGGGAGGGACC").unwrap();
        assert!((s - 0.713089368437).abs() < 1e-9, "{s}");
        let s = score(b"TCCGCACCTGTCACGGTCGGGGCTTGGCGC").unwrap();
        assert!((s - 0.0189838463593).abs() < 1e-9, "{s}");
    }

    /// The model summed straight from its lists, as the published
    /// calculator does (matching weights only).
    fn score_from_lists(context: &[u8]) -> f64 {
        let gc = context[4..24]
            .iter()
            .filter(|&&b| b == b'G' || b == b'C')
            .count() as f64;
        let mut sum = INTERCEPT;
        if gc < 10.0 {
            sum += (10.0 - gc) * GC_LOW;
        } else if gc > 10.0 {
            sum += (gc - 10.0) * GC_HIGH;
        }
        for &(pos, base, w) in &SINGLE {
            if context[pos - 1] == base {
                sum += w;
            }
        }
        for &(pos, pair, w) in &DOUBLE {
            if context[pos - 1..pos + 1] == pair {
                sum += w;
            }
        }
        1.0 / (1.0 + (-sum).exp())
    }

    #[test]
    fn tables_equal_the_lists() {
        // Each (position, base) and (position, pair) appears once.
        for (i, a) in SINGLE.iter().enumerate() {
            assert!(SINGLE[..i].iter().all(|b| (a.0, a.1) != (b.0, b.1)));
        }
        for (i, a) in DOUBLE.iter().enumerate() {
            assert!(DOUBLE[..i].iter().all(|b| (a.0, a.1) != (b.0, b.1)));
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            let ctx: Vec<u8> = (0..30)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    b"ACGT"[(x >> 60) as usize & 3]
                })
                .collect();
            let (a, b) = (score(&ctx).unwrap(), score_from_lists(&ctx));
            assert!((a - b).abs() <= 1e-14, "{a} {b}");
        }
    }

    #[test]
    fn wrong_length() {
        assert_eq!(score(b"ACGT"), None);
    }
}
