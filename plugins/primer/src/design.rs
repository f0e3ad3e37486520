//! Primer-pair design around a target region, ranked by a Primer3-like
//! penalty.
//!
//! Candidates: every left primer ending at or before the target start and
//! every right primer starting at or after the target end (as a forward-
//! strand interval; the primer itself is the reverse complement), with a
//! length in `primer-min..=primer-max`, GC fraction in `gc-min..=gc-max`,
//! Tm (Biopython `Tm_NN`, `DNA_NN3`, 50 mM Na+, 25/25 nM, salt correction
//! 5) in `tm-min..=tm-max`, and a position that allows a product within
//! `product-min..=product-max`.
//!
//! Penalty of a primer (lower is better; Primer3's default weights for Tm
//! and size): the sum of |Tm - tm-opt|, |length - primer-opt|, a GC clamp
//! term (0 for 1-2 G/C among the last five 3' bases, 0.5 for 3, 1 for 0,
//! 4 or 5), 2 if its hairpin is flagged and 2 if its self-dimer is flagged.
//! Penalty of a pair: the sum of both primers' penalties, 0.5 |Tm(left) -
//! Tm(right)|, and 2 if the cross-dimer is flagged. Pairs whose Tms differ
//! by more than 5 °C (Primer3's `PRIMER_PAIR_MAX_DIFF_TM`) are left out.
//!
//! Work is bounded: the `KEEP` best primers of each side (by penalty before
//! structure checks) get structure checks, the `PAIR_POOL` best pairs get
//! a cross-dimer check, and the best `RETURNED` pairs are returned.

use crate::structure::{DIMER_FLAG_DG, HAIRPIN_FLAG_DG, Model};
use crate::tm::{self, NnOptions};
use bioai_sdk::ToolError;

/// Primers per side kept for structure checks and pairing.
pub const KEEP: usize = 150;
/// Best pairs (before the cross-dimer check) that get a cross-dimer check.
pub const PAIR_POOL: usize = 100;
/// Pairs returned.
pub const RETURNED: usize = 5;
/// Longest template accepted (bases).
pub const MAX_TEMPLATE: usize = 1_000_000;
/// Largest `product_max` accepted.
pub const MAX_PRODUCT: u32 = 10_000;
/// Primer length limits.
pub const MIN_PRIMER: u32 = 10;
/// Longest primer accepted.
pub const MAX_PRIMER: u32 = 36;
/// Largest Tm difference of a pair (°C).
pub const MAX_PAIR_TM_DIFF: f64 = 5.0;

/// Design parameters, with the tool's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Target start, 0-based.
    pub target_start: u32,
    /// Target length (>= 1).
    pub target_length: u32,
    /// Smallest product.
    pub product_min: u32,
    /// Largest product.
    pub product_max: u32,
    /// Shortest primer.
    pub primer_min: u32,
    /// Optimal primer length.
    pub primer_opt: u32,
    /// Longest primer.
    pub primer_max: u32,
    /// Lowest Tm.
    pub tm_min: f64,
    /// Optimal Tm.
    pub tm_opt: f64,
    /// Highest Tm.
    pub tm_max: f64,
    /// Lowest GC fraction.
    pub gc_min: f64,
    /// Highest GC fraction.
    pub gc_max: f64,
}

impl Params {
    /// The defaults for a target.
    pub fn new(target_start: u32, target_length: u32) -> Params {
        Params {
            target_start,
            target_length,
            product_min: 100,
            product_max: 300,
            primer_min: 18,
            primer_opt: 20,
            primer_max: 25,
            tm_min: 57.0,
            tm_opt: 60.0,
            tm_max: 63.0,
            gc_min: 0.4,
            gc_max: 0.6,
        }
    }
}

/// One primer of a pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Primer {
    /// 5'->3' sequence (for a right primer, the reverse complement of the
    /// template interval).
    pub sequence: String,
    /// 0-based start of the interval it covers on the template (forward
    /// strand); the interval is `start..start + length`.
    pub start: u32,
    /// Length.
    pub length: u32,
    /// Tm (°C).
    pub tm: f64,
    /// GC fraction.
    pub gc: f64,
    /// G/C among the last five 3' bases.
    pub gc_clamp: u32,
    /// Most stable hairpin ΔG (kcal/mol).
    pub hairpin_dg: f64,
    /// Hairpin ΔG below the threshold.
    pub hairpin_flag: bool,
    /// Most stable self-dimer ΔG (kcal/mol).
    pub self_dimer_dg: f64,
    /// Self-dimer ΔG below the threshold.
    pub self_dimer_flag: bool,
    /// Penalty.
    pub penalty: f64,
}

/// A ranked pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// Forward primer.
    pub left: Primer,
    /// Reverse primer.
    pub right: Primer,
    /// Product length.
    pub product_size: u32,
    /// Most stable left/right dimer ΔG.
    pub cross_dimer_dg: f64,
    /// Cross-dimer ΔG below the threshold.
    pub cross_dimer_flag: bool,
    /// Pair penalty.
    pub penalty: f64,
}

/// The result of a design.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Best pairs first.
    pub pairs: Vec<Pair>,
    /// Left candidates examined.
    pub left_considered: u32,
    /// Left candidates within the GC and Tm limits.
    pub left_ok: u32,
    /// Right candidates examined.
    pub right_considered: u32,
    /// Right candidates within the GC and Tm limits.
    pub right_ok: u32,
    /// Pairs within product size and Tm difference limits (among those
    /// built from the kept primers).
    pub pairs_ok: u32,
}

fn bad(arg: &str, detail: impl std::fmt::Display) -> ToolError {
    ToolError::invalid_argument(arg, detail)
}

fn validate(len: usize, p: &Params) -> Result<(), ToolError> {
    if len > MAX_TEMPLATE {
        return Err(ToolError::limit_exceeded(format!(
            "the template has {len} bases; at most {MAX_TEMPLATE} are accepted: pass only the region around the target"
        )));
    }
    if p.target_length == 0 {
        return Err(bad("target_length", "must be at least 1"));
    }
    let end = p.target_start as u64 + p.target_length as u64;
    if end > len as u64 {
        return Err(bad(
            "target_start",
            format!(
                "the target {}..{end} (0-based, half-open) runs past the end of the {len}-base template",
                p.target_start
            ),
        ));
    }
    if !(MIN_PRIMER..=MAX_PRIMER).contains(&p.primer_min)
        || !(MIN_PRIMER..=MAX_PRIMER).contains(&p.primer_max)
    {
        return Err(bad(
            "primer_min",
            format!("primer lengths must be between {MIN_PRIMER} and {MAX_PRIMER}"),
        ));
    }
    if !(p.primer_min <= p.primer_opt && p.primer_opt <= p.primer_max) {
        return Err(bad(
            "primer_opt",
            format!(
                "needs primer_min <= primer_opt <= primer_max, got {} / {} / {}",
                p.primer_min, p.primer_opt, p.primer_max
            ),
        ));
    }
    if p.product_min > p.product_max || p.product_max > MAX_PRODUCT {
        return Err(bad(
            "product_max",
            format!(
                "needs product_min <= product_max <= {MAX_PRODUCT}, got {} / {}",
                p.product_min, p.product_max
            ),
        ));
    }
    let tm_ok = p.tm_min.is_finite()
        && p.tm_opt.is_finite()
        && p.tm_max.is_finite()
        && p.tm_min <= p.tm_opt
        && p.tm_opt <= p.tm_max;
    if !tm_ok {
        return Err(bad(
            "tm_opt",
            format!(
                "needs finite tm_min <= tm_opt <= tm_max, got {} / {} / {}",
                p.tm_min, p.tm_opt, p.tm_max
            ),
        ));
    }
    if !(0.0..=1.0).contains(&p.gc_min) || !(0.0..=1.0).contains(&p.gc_max) || p.gc_min > p.gc_max {
        return Err(bad(
            "gc_min",
            format!(
                "needs 0 <= gc_min <= gc_max <= 1 (fractions, not percentages), got {} / {}",
                p.gc_min, p.gc_max
            ),
        ));
    }
    Ok(())
}

fn revcomp(s: &[u8]) -> Vec<u8> {
    s.iter()
        .rev()
        .map(|&b| match b {
            b'A' => b'T',
            b'C' => b'G',
            b'G' => b'C',
            _ => b'A',
        })
        .collect()
}

/// G/C count among the last five bases (3' end).
pub fn gc_clamp(seq: &[u8]) -> u32 {
    seq[seq.len().saturating_sub(5)..]
        .iter()
        .filter(|&&b| b == b'G' || b == b'C')
        .count() as u32
}

fn clamp_penalty(n: u32) -> f64 {
    match n {
        1 | 2 => 0.0,
        3 => 0.5,
        _ => 1.0,
    }
}

struct Cand {
    seq: Vec<u8>,
    start: u32,
    tm: f64,
    gc: f64,
    clamp: u32,
    penalty: f64,
}

/// Designs primer pairs for the `template` (A, C, G, T, U, any case).
pub fn design(template: &str, p: &Params) -> Result<Design, ToolError> {
    let t = tm::normalize_acgt("template", template)?;
    validate(t.len(), p)?;
    let n = t.len() as i64;
    let ts = p.target_start as i64;
    let te = ts + p.target_length as i64;
    let opts = NnOptions::default();
    let nn = tm::NnModel::new(&opts)?;
    let (pmin, pmax) = (p.primer_min as i64, p.primer_max as i64);

    let consider = |seq: Vec<u8>, start: i64, ok: &mut u32| -> Result<Option<Cand>, ToolError> {
        let gc = tm::gc_fraction(&seq);
        if gc < p.gc_min || gc > p.gc_max {
            return Ok(None);
        }
        let tmv = nn.tm(&seq)?;
        if tmv < p.tm_min || tmv > p.tm_max {
            return Ok(None);
        }
        *ok += 1;
        let clamp = gc_clamp(&seq);
        let penalty = (tmv - p.tm_opt).abs()
            + (seq.len() as f64 - p.primer_opt as f64).abs()
            + clamp_penalty(clamp);
        Ok(Some(Cand {
            seq,
            start: start as u32,
            tm: tmv,
            gc,
            clamp,
            penalty,
        }))
    };

    // Left primers: [s, s+len) with s+len <= ts, and the product (at most
    // product_max) must still reach past the target end with a right primer.
    let (mut left, mut left_considered, mut left_ok) = (Vec::new(), 0u32, 0u32);
    let left_lo = (te + pmin - p.product_max as i64).max(0);
    for s in left_lo..ts {
        for len in pmin..=pmax {
            if s + len > ts {
                break;
            }
            left_considered += 1;
            let seq = t[s as usize..(s + len) as usize].to_vec();
            if let Some(c) = consider(seq, s, &mut left_ok)? {
                left.push(c);
            }
        }
    }
    let (mut right, mut right_considered, mut right_ok) = (Vec::new(), 0u32, 0u32);
    let right_hi = (ts + p.product_max as i64 - pmin).min(n);
    for s in te..right_hi {
        for len in pmin..=pmax {
            if s + len > n {
                break;
            }
            right_considered += 1;
            let seq = revcomp(&t[s as usize..(s + len) as usize]);
            if let Some(c) = consider(seq, s, &mut right_ok)? {
                right.push(c);
            }
        }
    }
    let by_penalty = |a: &Cand, b: &Cand| {
        a.penalty
            .total_cmp(&b.penalty)
            .then(a.start.cmp(&b.start))
            .then(a.seq.len().cmp(&b.seq.len()))
    };
    left.sort_by(by_penalty);
    right.sort_by(by_penalty);
    left.truncate(KEEP);
    right.truncate(KEEP);

    let model = Model::new(opts.salt.na * 1e-3);
    let finish = |c: &Cand| -> Primer {
        let hairpin_dg = model.hairpin_dg(&c.seq);
        let self_dimer_dg = model.duplex_dg(&c.seq, &c.seq);
        let hairpin_flag = hairpin_dg < HAIRPIN_FLAG_DG;
        let self_dimer_flag = self_dimer_dg < DIMER_FLAG_DG;
        Primer {
            sequence: String::from_utf8_lossy(&c.seq).into_owned(),
            start: c.start,
            length: c.seq.len() as u32,
            tm: c.tm,
            gc: c.gc,
            gc_clamp: c.clamp,
            hairpin_dg,
            hairpin_flag,
            self_dimer_dg,
            self_dimer_flag,
            penalty: c.penalty
                + if hairpin_flag { 2.0 } else { 0.0 }
                + if self_dimer_flag { 2.0 } else { 0.0 },
        }
    };
    let left: Vec<Primer> = left.iter().map(finish).collect();
    let right: Vec<Primer> = right.iter().map(finish).collect();

    let mut pool: Vec<(f64, usize, usize, u32)> = Vec::new();
    for (i, l) in left.iter().enumerate() {
        for (j, r) in right.iter().enumerate() {
            let product = (r.start + r.length).saturating_sub(l.start);
            if product < p.product_min || product > p.product_max {
                continue;
            }
            let diff = (l.tm - r.tm).abs();
            if diff > MAX_PAIR_TM_DIFF {
                continue;
            }
            pool.push((l.penalty + r.penalty + 0.5 * diff, i, j, product));
        }
    }
    let pairs_ok = pool.len() as u32;
    pool.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    pool.truncate(PAIR_POOL);
    let mut pairs: Vec<Pair> = pool
        .into_iter()
        .map(|(pen, i, j, product)| {
            let (l, r) = (&left[i], &right[j]);
            let cross = model.duplex_dg(l.sequence.as_bytes(), r.sequence.as_bytes());
            let flag = cross < DIMER_FLAG_DG;
            Pair {
                left: l.clone(),
                right: r.clone(),
                product_size: product,
                cross_dimer_dg: cross,
                cross_dimer_flag: flag,
                penalty: pen + if flag { 2.0 } else { 0.0 },
            }
        })
        .collect();
    pairs.sort_by(|a, b| a.penalty.total_cmp(&b.penalty));
    pairs.truncate(RETURNED);
    Ok(Design {
        pairs,
        left_considered,
        left_ok,
        right_considered,
        right_ok,
        pairs_ok,
    })
}

/// Longest sequence `check` accepts.
pub const MAX_CHECK: usize = 100;

/// The result of [`check`].
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Tm (°C), Biopython `Tm_NN` defaults.
    pub tm: f64,
    /// GC fraction.
    pub gc: f64,
    /// G/C among the last five 3' bases.
    pub gc_clamp: u32,
    /// Most stable hairpin ΔG (kcal/mol).
    pub hairpin_dg: f64,
    /// Hairpin ΔG below -2.
    pub hairpin_flag: bool,
    /// Most stable self-dimer ΔG (kcal/mol).
    pub self_dimer_dg: f64,
    /// Self-dimer ΔG below -9.
    pub self_dimer_flag: bool,
    /// Most stable dimer with the partner (kcal/mol), when given.
    pub cross_dimer_dg: Option<f64>,
    /// Cross-dimer ΔG below -9, when a partner is given.
    pub cross_dimer_flag: Option<bool>,
}

fn check_seq(argument: &str, s: &str) -> Result<Vec<u8>, ToolError> {
    let v = tm::normalize_acgt(argument, s)?;
    if v.len() < 2 || v.len() > MAX_CHECK {
        return Err(bad(
            argument,
            format!("has {} bases; give 2 to {MAX_CHECK}", v.len()),
        ));
    }
    Ok(v)
}

/// Checks one primer (and its dimer with `partner`, if given) with the
/// same Tm and structure models as [`design`].
pub fn check(sequence: &str, partner: Option<&str>) -> Result<Check, ToolError> {
    let s = check_seq("sequence", sequence)?;
    let other = partner.map(|p| check_seq("partner", p)).transpose()?;
    let model = Model::new(NnOptions::default().salt.na * 1e-3);
    let hairpin_dg = model.hairpin_dg(&s);
    let self_dimer_dg = model.duplex_dg(&s, &s);
    let cross = other.map(|o| model.duplex_dg(&s, &o));
    Ok(Check {
        tm: tm::tm_nn(&s, &NnOptions::default())?,
        gc: tm::gc_fraction(&s),
        gc_clamp: gc_clamp(&s),
        hairpin_dg,
        hairpin_flag: hairpin_dg < HAIRPIN_FLAG_DG,
        self_dimer_dg,
        self_dimer_flag: self_dimer_dg < DIMER_FLAG_DG,
        cross_dimer_dg: cross,
        cross_dimer_flag: cross.map(|g| g < DIMER_FLAG_DG),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random template (xorshift64).
    fn template(len: usize, mut x: u64) -> String {
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b"ACGT"[(x % 4) as usize] as char
            })
            .collect()
    }

    #[test]
    fn pairs_flank_the_target_and_meet_the_constraints() {
        let t = template(600, 42);
        let p = Params::new(250, 50);
        let d = design(&t, &p).unwrap();
        assert!(!d.pairs.is_empty());
        for w in d.pairs.windows(2) {
            assert!(w[0].penalty <= w[1].penalty);
        }
        for pair in &d.pairs {
            let (l, r) = (&pair.left, &pair.right);
            assert!(l.start + l.length <= 250);
            assert!(r.start >= 300);
            assert_eq!(pair.product_size, r.start + r.length - l.start);
            assert!((100..=300).contains(&pair.product_size));
            for pr in [l, r] {
                assert!((18..=25).contains(&pr.length));
                assert!((57.0..=63.0).contains(&pr.tm));
                assert!((0.4..=0.6).contains(&pr.gc));
                let tmv = tm::tm_nn(pr.sequence.as_bytes(), &NnOptions::default()).unwrap();
                assert_eq!(tmv, pr.tm);
            }
            assert_eq!(
                l.sequence,
                &t[l.start as usize..(l.start + l.length) as usize]
            );
            let site = &t[r.start as usize..(r.start + r.length) as usize];
            assert_eq!(r.sequence.as_bytes(), revcomp(site.as_bytes()));
        }
    }

    #[test]
    fn rejects_bad_parameters() {
        let t = template(300, 7);
        assert!(design(&t, &Params::new(290, 20)).is_err());
        assert!(design(&t, &Params::new(10, 0)).is_err());
        let mut p = Params::new(100, 20);
        p.gc_min = 40.0;
        let e = design(&t, &p).unwrap_err().to_string();
        assert!(e.contains("fractions"), "{e}");
        let mut p = Params::new(100, 20);
        p.primer_opt = 30;
        assert!(design(&t, &p).is_err());
        assert!(design("ACGN", &Params::new(0, 1)).is_err());
    }

    #[test]
    fn check_one_primer() {
        let c = check("GGGGAAACCCCTTTT", Some("AAAAGGGG")).unwrap();
        assert!(c.hairpin_flag && c.hairpin_dg < -2.0);
        assert_eq!(c.gc_clamp, 1);
        assert!(c.cross_dimer_dg.unwrap() < 0.0);
        assert!(check("A", None).is_err());
        assert!(check("ACGT", Some("ACGN")).is_err());
        assert_eq!(check("ACGTACGTAC", None).unwrap().cross_dimer_flag, None);
    }

    #[test]
    fn no_room_gives_no_pairs() {
        let t = template(120, 3);
        let d = design(&t, &Params::new(5, 100)).unwrap();
        assert!(d.pairs.is_empty());
    }
}
