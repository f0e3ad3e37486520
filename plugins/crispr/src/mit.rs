//! The MIT off-target hit score and guide specificity.
//!
//! Hsu PD, Scott DA, Weinstein JA, et al. DNA targeting specificity of
//! RNA-guided Cas9 nucleases. Nat Biotechnol 2013;31(9):827-832.
//! doi:10.1038/nbt.2647; the formula as published on the (retired)
//! crispr.mit.edu "about" page and implemented by CRISPOR (`calcHitScore`,
//! Haeussler et al. 2016, Genome Biol 17:148):
//!
//! ```text
//! score = 100 * prod_{mismatch i} (1 - M[i])
//!             * 1 / ((19 - d) / 19 * 4 + 1)
//!             * 1 / n^2
//! ```
//!
//! with `M` the position weights below (position 0 = the guide's 5' end,
//! 19 = next to the PAM), `n` the number of mismatches and `d` the mean
//! distance between consecutive mismatch positions. As in CRISPOR, the
//! distance term is 1 when `n < 2` and the `1/n^2` term is 1 when `n = 0`,
//! so a perfect match scores 100.

/// Hsu 2013 mismatch position weights, 5' to 3' of a 20-nt protospacer.
pub const M: [f64; 20] = [
    0.0, 0.0, 0.014, 0.0, 0.0, 0.395, 0.317, 0.0, 0.389, 0.079, 0.445, 0.508, 0.613, 0.851, 0.732,
    0.828, 0.615, 0.804, 0.685, 0.583,
];

/// The MIT hit score (0 to 100) of a site with mismatches at the given
/// 0-based, ascending positions of a 20-nt guide. `None` if a position is
/// 20 or more.
pub fn hit_score(positions: &[u32]) -> Option<f64> {
    let mut s1 = 1.0;
    for &p in positions {
        s1 *= 1.0 - M.get(p as usize)?;
    }
    let n = positions.len();
    let s2 = if n < 2 {
        1.0
    } else {
        // Mean of the distances between consecutive mismatches.
        let d = f64::from(positions[n - 1] - positions[0]) / (n - 1) as f64;
        1.0 / ((19.0 - d) / 19.0 * 4.0 + 1.0)
    };
    let s3 = if n == 0 { 1.0 } else { 1.0 / (n * n) as f64 };
    Some(s1 * s2 * s3 * 100.0)
}

/// MIT guide specificity as a fraction: `100 / (100 + sum)`, where `sum` is
/// the sum of the off-target hit scores (the on-target site left out).
pub fn specificity(off_target_sum: f64) -> f64 {
    100.0 / (100.0 + off_target_sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_single() {
        assert_eq!(hit_score(&[]), Some(100.0));
        // One mismatch at position 19 (PAM-proximal): 100 * (1 - 0.583).
        assert!((hit_score(&[19]).unwrap() - 41.7).abs() < 1e-9);
        // Positions 0, 1, 3 weigh 0: only the distance and 1/n^2 terms.
        // d = 3/2 = 1.5: 100 / ((17.5 / 19) * 4 + 1) / 9.
        let want = 100.0 / ((17.5 / 19.0) * 4.0 + 1.0) / 9.0;
        assert!((hit_score(&[0, 1, 3]).unwrap() - want).abs() < 1e-9);
        assert_eq!(hit_score(&[20]), None);
        assert_eq!(specificity(0.0), 1.0);
        assert_eq!(specificity(100.0), 0.5);
    }
}
