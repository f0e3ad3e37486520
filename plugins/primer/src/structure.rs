//! Secondary-structure checks of primers: the free energy (ΔG at 37 °C,
//! kcal/mol) of the most stable self-dimer, hetero-dimer and hairpin.
//!
//! A deliberately simplified nearest-neighbour model, not Primer3's full
//! thermodynamic alignment (which also scores larger internal loops and
//! bulges, and finds the optimum by dynamic programming over all of them):
//!
//! - **Duplexes** (dimers): the two strands are aligned antiparallel at
//!   every offset with no gaps; every run of Watson-Crick pairs, possibly
//!   interrupted by isolated single mismatches (scored with the internal
//!   mismatch nearest neighbours of Allawi & SantaLucia, Biopython's
//!   `DNA_IMM1`), is a candidate helix scored as initiation
//!   (SantaLucia & Hicks 2004: ΔH 0.2, ΔS -5.7) + the sum of its
//!   nearest-neighbour stacks (the unified parameters of SantaLucia & Hicks
//!   2004, `DNA_NN4`) + a terminal A·T penalty (ΔH 2.2, ΔS 6.9) for each
//!   A·T end + a terminal mismatch (Biopython's `DNA_TMM1`, SantaLucia &
//!   Peyret 2001) or dangling end (`DNA_DE1`, Bommarito et al. 2000) term
//!   on each side where a strand goes on (not salt-corrected). The most
//!   stable helix wins.
//! - **Hairpins**: a stem of at least two consecutive pairs closing a loop
//!   of at least 3 unpaired bases, scored as the stem's stacks + an A·T
//!   penalty on its outer end + the same terminal mismatch / dangling end
//!   terms on the outer end and on the loop's first mismatch + the hairpin
//!   loop ΔG of SantaLucia & Hicks
//!   2004 (Table 4: 3.5 kcal/mol for 3 and 4 bases ... 6.3 for 30,
//!   interpolated linearly, extrapolated beyond 30 with 2.44·R·T·ln(n/30)).
//! - ΔG = ΔH - T·ΔS at T = 310.15 K, with SantaLucia's (1998) entropy salt
//!   correction ΔS += 0.368 · (stacks) · ln[Na+] (as Biopython's salt
//!   correction 5), Na+ in mol/L.
//!
//! Values are 0.0 when no structure more stable than 0 exists.

use crate::tm::DNA_NN4;

/// Temperature of the ΔG values, K (37 °C).
pub const T37: f64 = 310.15;
/// Gas constant, kcal/(K mol).
const R_KCAL: f64 = 1.987e-3;

/// A dimer is flagged when its ΔG is below this (kcal/mol).
pub const DIMER_FLAG_DG: f64 = -9.0;
/// A hairpin is flagged when its ΔG is below this (kcal/mol).
pub const HAIRPIN_FLAG_DG: f64 = -2.0;

/// Hairpin loop ΔG at 37 °C (kcal/mol), SantaLucia & Hicks (2004) Table 4.
const HAIRPIN_LOOPS: [(usize, f64); 15] = [
    (3, 3.5),
    (4, 3.5),
    (5, 3.3),
    (6, 4.0),
    (7, 4.2),
    (8, 4.3),
    (9, 4.5),
    (10, 4.6),
    (12, 5.0),
    (14, 5.1),
    (16, 5.3),
    (18, 5.5),
    (20, 5.7),
    (25, 6.1),
    (30, 6.3),
];

/// Internal single-mismatch nearest neighbours `XY/ZW` (5'XY3'/3'ZW5'),
/// (ΔH kcal/mol, ΔS cal/(K mol)): Biopython's `DNA_IMM1` without inosine
/// (Allawi & SantaLucia 1997-1998, Peyret et al. 1999).
const DNA_IMM1: [(&str, f64, f64); 51] = [
    ("AG/TT", 1.0, 0.9),
    ("AT/TG", -2.5, -8.3),
    ("CG/GT", -4.1, -11.7),
    ("CT/GG", -2.8, -8.0),
    ("GG/CT", 3.3, 10.4),
    ("GG/TT", 5.8, 16.3),
    ("GT/CG", -4.4, -12.3),
    ("GT/TG", 4.1, 9.5),
    ("TG/AT", -0.1, -1.7),
    ("TG/GT", -1.4, -6.2),
    ("TT/AG", -1.3, -5.3),
    ("AA/TG", -0.6, -2.3),
    ("AG/TA", -0.7, -2.3),
    ("CA/GG", -0.7, -2.3),
    ("CG/GA", -4.0, -13.2),
    ("GA/CG", -0.6, -1.0),
    ("GG/CA", 0.5, 3.2),
    ("TA/AG", 0.7, 0.7),
    ("TG/AA", 3.0, 7.4),
    ("AC/TT", 0.7, 0.2),
    ("AT/TC", -1.2, -6.2),
    ("CC/GT", -0.8, -4.5),
    ("CT/GC", -1.5, -6.1),
    ("GC/CT", 2.3, 5.4),
    ("GT/CC", 5.2, 13.5),
    ("TC/AT", 1.2, 0.7),
    ("TT/AC", 1.0, 0.7),
    ("AA/TC", 2.3, 4.6),
    ("AC/TA", 5.3, 14.6),
    ("CA/GC", 1.9, 3.7),
    ("CC/GA", 0.6, -0.6),
    ("GA/CC", 5.2, 14.2),
    ("GC/CA", -0.7, -3.8),
    ("TA/AC", 3.4, 8.0),
    ("TC/AA", 7.6, 20.2),
    ("AA/TA", 1.2, 1.7),
    ("CA/GA", -0.9, -4.2),
    ("GA/CA", -2.9, -9.8),
    ("TA/AA", 4.7, 12.9),
    ("AC/TC", 0.0, -4.4),
    ("CC/GC", -1.5, -7.2),
    ("GC/CC", 3.6, 8.9),
    ("TC/AC", 6.1, 16.4),
    ("AG/TG", -3.1, -9.5),
    ("CG/GG", -4.9, -15.3),
    ("GG/CG", -6.0, -15.8),
    ("TG/AG", 1.6, 3.6),
    ("AT/TT", -2.7, -10.8),
    ("CT/GT", -5.0, -15.8),
    ("GT/CT", -2.2, -8.4),
    ("TT/AT", 0.2, -1.5),
];

/// Terminal mismatches `XY/ZW` (X·Z pair, Y·W mismatch), (ΔH, ΔS):
/// Biopython's `DNA_TMM1` (SantaLucia & Peyret 2001, WO 01/94611).
const DNA_TMM1: [(&str, f64, f64); 48] = [
    ("AA/TA", -3.1, -7.8),
    ("TA/AA", -2.5, -6.3),
    ("CA/GA", -4.3, -10.7),
    ("GA/CA", -8.0, -22.5),
    ("AC/TC", -0.1, 0.5),
    ("TC/AC", -0.7, -1.3),
    ("CC/GC", -2.1, -5.1),
    ("GC/CC", -3.9, -10.6),
    ("AG/TG", -1.1, -2.1),
    ("TG/AG", -1.1, -2.7),
    ("CG/GG", -3.8, -9.5),
    ("GG/CG", -0.7, -19.2),
    ("AT/TT", -2.4, -6.5),
    ("TT/AT", -3.2, -8.9),
    ("CT/GT", -6.1, -16.9),
    ("GT/CT", -7.4, -21.2),
    ("AA/TC", -1.6, -4.0),
    ("AC/TA", -1.8, -3.8),
    ("CA/GC", -2.6, -5.9),
    ("CC/GA", -2.7, -6.0),
    ("GA/CC", -5.0, -13.8),
    ("GC/CA", -3.2, -7.1),
    ("TA/AC", -2.3, -5.9),
    ("TC/AA", -2.7, -7.0),
    ("AC/TT", -0.9, -1.7),
    ("AT/TC", -2.3, -6.3),
    ("CC/GT", -3.2, -8.0),
    ("CT/GC", -3.9, -10.6),
    ("GC/CT", -4.9, -13.5),
    ("GT/CC", -3.0, -7.8),
    ("TC/AT", -2.5, -6.3),
    ("TT/AC", -0.7, -1.2),
    ("AA/TG", -1.9, -4.4),
    ("AG/TA", -2.5, -5.9),
    ("CA/GG", -3.9, -9.6),
    ("CG/GA", -6.0, -15.5),
    ("GA/CG", -4.3, -11.1),
    ("GG/CA", -4.6, -11.4),
    ("TA/AG", -2.0, -4.7),
    ("TG/AA", -2.4, -5.8),
    ("AG/TT", -3.2, -8.7),
    ("AT/TG", -3.5, -9.4),
    ("CG/GT", -3.8, -9.0),
    ("CT/GG", -6.6, -18.7),
    ("GG/CT", -5.7, -15.9),
    ("GT/CG", -5.9, -16.1),
    ("TG/AT", -3.9, -10.5),
    ("TT/AG", -3.6, -9.8),
];
/// Dangling ends (`.` = no base), (ΔH, ΔS): Biopython's `DNA_DE1`
/// (Bommarito et al. 2000, Nucl Acids Res 28: 1929-1934).
const DNA_DE1: [(&str, f64, f64); 32] = [
    ("AA/.T", 0.2, 2.3),
    ("AC/.G", -6.3, -17.1),
    ("AG/.C", -3.7, -10.0),
    ("AT/.A", -2.9, -7.6),
    ("CA/.T", 0.6, 3.3),
    ("CC/.G", -4.4, -12.6),
    ("CG/.C", -4.0, -11.9),
    ("CT/.A", -4.1, -13.0),
    ("GA/.T", -1.1, -1.6),
    ("GC/.G", -5.1, -14.0),
    ("GG/.C", -3.9, -10.9),
    ("GT/.A", -4.2, -15.0),
    ("TA/.T", -6.9, -20.0),
    ("TC/.G", -4.0, -10.9),
    ("TG/.C", -4.9, -13.8),
    ("TT/.A", -0.2, -0.5),
    (".A/AT", -0.7, -0.8),
    (".C/AG", -2.1, -3.9),
    (".G/AC", -5.9, -16.5),
    (".T/AA", -0.5, -1.1),
    (".A/CT", 4.4, 14.9),
    (".C/CG", -0.2, -0.1),
    (".G/CC", -2.6, -7.4),
    (".T/CA", 4.7, 14.2),
    (".A/GT", -1.6, -3.6),
    (".C/GG", -3.9, -11.2),
    (".G/GC", -3.2, -10.4),
    (".T/GA", -4.1, -13.1),
    (".A/TT", 2.9, 10.4),
    (".C/TG", -4.4, -13.1),
    (".G/TC", -5.2, -15.0),
    (".T/TA", -3.8, -12.6),
];

fn code(b: u8) -> usize {
    match b {
        b'A' => 0,
        b'C' => 1,
        b'G' => 2,
        _ => 3,
    }
}

/// Index of a base or `.` (no base) in the end tables.
fn code5(b: Option<u8>) -> usize {
    b.map_or(4, code)
}

fn pairs(a: u8, b: u8) -> bool {
    matches!(
        (a, b),
        (b'A', b'T') | (b'T', b'A') | (b'C', b'G') | (b'G', b'C')
    )
}

fn is_at(b: u8) -> bool {
    b == b'A' || b == b'T'
}

/// The nearest-neighbour model at a given monovalent salt concentration.
#[derive(Debug, Clone)]
pub struct Model {
    /// ΔG (kcal/mol) of stack `5'ab3'/3'a'b'5'`, `[a][b]` in ACGT order,
    /// salt-corrected.
    stack: [[f64; 4]; 4],
    /// ΔG of `5'xy3'/3'zw5'` with one mismatch, `[x][y][z][w]`; NaN when
    /// the table has no value.
    mismatch: [[[[f64; 4]; 4]; 4]; 4],
    /// ΔG of a terminal mismatch or dangling end `ab/cd` (`.` is index 4);
    /// 0.0 when the tables have no value.
    ends: [[[[f64; 5]; 5]; 5]; 5],
    init: f64,
    terminal_at: f64,
}

fn dg(dh: f64, ds: f64) -> f64 {
    dh - T37 * ds / 1000.0
}

impl Model {
    /// The model at `na_molar` mol/L monovalent cations (> 0).
    pub fn new(na_molar: f64) -> Model {
        let salt_ds = 0.368 * na_molar.ln();
        let s = DNA_NN4.stacks();
        let mut stack = [[0.0; 4]; 4];
        for i in 0..4 {
            for j in 0..4 {
                stack[i][j] = dg(s[i][j].0, s[i][j].1 + salt_ds);
            }
        }
        let mut mismatch = [[[[f64::NAN; 4]; 4]; 4]; 4];
        for (key, dh, ds) in DNA_IMM1 {
            let k = key.as_bytes();
            let g = dg(dh, ds + salt_ds);
            mismatch[code(k[0])][code(k[1])][code(k[3])][code(k[4])] = g;
            // The same stack read from the other strand: WZ/YX.
            mismatch[code(k[4])][code(k[3])][code(k[1])][code(k[0])] = g;
        }
        let mut ends = [[[[0.0; 5]; 5]; 5]; 5];
        let c5 = |b: u8| if b == b'.' { 4 } else { code(b) };
        for (key, dh, ds) in DNA_TMM1.iter().chain(DNA_DE1.iter()) {
            let k = key.as_bytes();
            ends[c5(k[0])][c5(k[1])][c5(k[3])][c5(k[4])] = dg(*dh, *ds);
        }
        Model {
            stack,
            mismatch,
            ends,
            init: dg(0.2, -5.7),
            terminal_at: dg(2.2, 6.9),
        }
    }

    /// ΔG of what lies before a helix starting with pair x·y: top base
    /// `p`, bottom base `q` (`None`: strand end), as Biopython reads
    /// terminal mismatches (`yq/xp`) and dangling ends (`px/qy`).
    fn left_end(&self, p: Option<u8>, x: u8, q: Option<u8>, y: u8) -> f64 {
        match (p, q) {
            (None, None) => 0.0,
            (Some(p), Some(q)) if pairs(p, q) => 0.0,
            (Some(_), Some(_)) => self.ends[code(y)][code5(q)][code(x)][code5(p)],
            _ => self.ends[code5(p)][code(x)][code5(q)][code(y)],
        }
    }

    /// ΔG of what lies after a helix ending with pair x·y: top base `p`,
    /// bottom base `q` (terminal mismatch `xp/yq`, dangling end `qy/px`).
    fn right_end(&self, x: u8, y: u8, p: Option<u8>, q: Option<u8>) -> f64 {
        match (p, q) {
            (None, None) => 0.0,
            (Some(p), Some(q)) if pairs(p, q) => 0.0,
            (Some(_), Some(_)) => self.ends[code(x)][code5(p)][code(y)][code5(q)],
            _ => self.ends[code5(q)][code(y)][code5(p)][code(x)],
        }
    }

    fn st(&self, a: u8, b: u8) -> f64 {
        self.stack[code(a)][code(b)]
    }

    /// ΔG of the most stable ungapped antiparallel duplex between `a` and
    /// `b` (both upper-case ACGT, 5'->3'), allowing isolated internal
    /// single mismatches; 0.0 when none.
    pub fn duplex_dg(&self, a: &[u8], b: &[u8]) -> f64 {
        let (n, m) = (a.len() as isize, b.len() as isize);
        let mut best = 0.0f64;
        // a[i] faces b[d - i] (antiparallel diagonal d).
        for d in 0..(n + m - 1) {
            let lo = (d - (m - 1)).max(0);
            let hi = d.min(n - 1);
            // open[k]: best ΔG of a helix whose last pair is at i = lo + k,
            // without its closing terminal penalty.
            let mut prev1 = f64::INFINITY; // helix ending at i - 1
            let mut prev2 = f64::INFINITY; // helix ending at i - 2
            for i in lo..=hi {
                let (x, y) = (a[i as usize], b[(d - i) as usize]);
                let mut cur = f64::INFINITY;
                if pairs(x, y) {
                    // A new helix starts here.
                    let p = (i > 0).then(|| a[i as usize - 1]);
                    let q = (d - i + 1 < m).then(|| b[(d - i + 1) as usize]);
                    cur = self.init
                        + if is_at(x) { self.terminal_at } else { 0.0 }
                        + self.left_end(p, x, q, y);
                    if i > lo && prev1.is_finite() {
                        cur = cur.min(prev1 + self.st(a[i as usize - 1], x));
                    }
                    if i > lo + 1 && prev2.is_finite() {
                        // One mismatch at i - 1 between pairs at i - 2 and i.
                        let (p, q) = (a[i as usize - 1], b[(d - i + 1) as usize]);
                        if !pairs(p, q) {
                            let (pp, pq) = (a[i as usize - 2], b[(d - i + 2) as usize]);
                            let g1 = self.mismatch[code(pp)][code(p)][code(pq)][code(q)];
                            let g2 = self.mismatch[code(p)][code(x)][code(q)][code(y)];
                            if !(g1.is_nan() || g2.is_nan()) {
                                cur = cur.min(prev2 + g1 + g2);
                            }
                        }
                    }
                    let p = (i + 1 < n).then(|| a[i as usize + 1]);
                    let q = (d - i > 0).then(|| b[(d - i - 1) as usize]);
                    let closed = cur
                        + if is_at(x) { self.terminal_at } else { 0.0 }
                        + self.right_end(x, y, p, q);
                    best = best.min(closed);
                }
                prev2 = prev1;
                prev1 = cur;
            }
        }
        best
    }

    /// Hairpin loop ΔG (kcal/mol) for a loop of `n` >= 3 bases.
    pub fn loop_dg(n: usize) -> f64 {
        let last = HAIRPIN_LOOPS[HAIRPIN_LOOPS.len() - 1];
        if n >= last.0 {
            return last.1 + 2.44 * R_KCAL * T37 * (n as f64 / last.0 as f64).ln();
        }
        for w in HAIRPIN_LOOPS.windows(2) {
            let ((n0, g0), (n1, g1)) = (w[0], w[1]);
            if n == n0 {
                return g0;
            }
            if n > n0 && n < n1 {
                return g0 + (g1 - g0) * (n - n0) as f64 / (n1 - n0) as f64;
            }
        }
        HAIRPIN_LOOPS[0].1
    }

    /// ΔG of the most stable hairpin of `s` (upper-case ACGT); 0.0 when
    /// none.
    pub fn hairpin_dg(&self, s: &[u8]) -> f64 {
        let n = s.len();
        let mut best = 0.0f64;
        // (i, j): the pair closing the loop s[i+1..j].
        for i in 0..n {
            for j in (i + 4)..n {
                if !pairs(s[i], s[j]) {
                    continue;
                }
                let mut sum = 0.0;
                let (mut a, mut b) = (i, j);
                while a > 0 && b + 1 < n && pairs(s[a - 1], s[b + 1]) {
                    sum += self.st(s[a - 1], s[a]);
                    a -= 1;
                    b += 1;
                }
                if a == i {
                    continue; // a single pair is not a stem
                }
                let mut g = sum + Self::loop_dg(j - i - 1);
                if is_at(s[a]) {
                    g += self.terminal_at;
                }
                // The outer end (the 5' and 3' tails) and the first
                // mismatch inside the loop, as a duplex's ends.
                let p = (a > 0).then(|| s[a - 1]);
                let q = (b + 1 < n).then(|| s[b + 1]);
                g += self.left_end(p, s[a], q, s[b]);
                g += self.right_end(s[i], s[j], Some(s[i + 1]), Some(s[j - 1]));
                best = best.min(g);
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> Model {
        Model::new(1.0)
    }

    #[test]
    fn stacks_match_santalucia_2004_dg37() {
        // SantaLucia & Hicks (2004) Table 1, ΔG37 (kcal/mol): AA/TT -1.00,
        // GC/CG -2.24, CG/GC -2.17 (to rounding of the ΔH/ΔS).
        let m = m();
        assert!((m.st(b'A', b'A') - (-1.00)).abs() < 0.02);
        assert!((m.st(b'G', b'C') - (-2.24)).abs() < 0.02);
        assert!((m.st(b'C', b'G') - (-2.17)).abs() < 0.02);
        assert!((m.init - 1.96).abs() < 0.02);
    }

    #[test]
    fn duplex_of_a_perfect_complement() {
        let m = m();
        // GCGC/GCGC: init + GC + CG + GC.
        let g = m.duplex_dg(b"GCGC", b"GCGC");
        let want = m.init + 2.0 * m.st(b'G', b'C') + m.st(b'C', b'G');
        assert!((g - want).abs() < 1e-12, "{g} {want}");
        assert_eq!(m.duplex_dg(b"AAAA", b"AAAA"), 0.0);
        // Symmetric in its arguments.
        let (a, b) = (b"ACGTTGCAAGGT", b"TTGCAACGGA");
        assert!((m.duplex_dg(a, b) - m.duplex_dg(b, a)).abs() < 1e-12);
    }

    #[test]
    fn duplex_spans_a_single_mismatch() {
        let m = m();
        // CCCCCCGCCCCCC against GGGGGGTGGGGGG: the middle G·T mismatch is
        // bridged with the Allawi & SantaLucia mismatch stacks CG/GT and
        // GC/TG (DNA_IMM1; GC/TG is read as GT/CG).
        let g = m.duplex_dg(b"CCCCCCGCCCCCC", b"GGGGGGTGGGGGG");
        let half = m.duplex_dg(b"CCCCCC", b"GGGGGG");
        let want = m.init + 10.0 * m.st(b'C', b'C') + dg(-4.1, -11.7) + dg(-4.4, -12.3);
        assert!((g - want).abs() < 1e-9, "{g} {want}");
        assert!(g < half);
    }

    #[test]
    fn hairpin_needs_a_loop_of_three() {
        let m = m();
        // GGGG AAA CCCC: 4-pair stem, 3-base loop whose first mismatch
        // (A·A on G·C) is the terminal mismatch GA/CA of DNA_TMM1.
        let g = m.hairpin_dg(b"GGGGAAACCCC");
        let want = 3.0 * m.st(b'G', b'G') + Model::loop_dg(3) + dg(-8.0, -22.5);
        assert!((g - want).abs() < 1e-12, "{g} {want}");
        assert_eq!(m.hairpin_dg(b"GGAACC"), 0.0);
        assert_eq!(m.hairpin_dg(b"AAAAAAAAAA"), 0.0);
    }

    #[test]
    fn loop_table() {
        assert_eq!(Model::loop_dg(3), 3.5);
        assert_eq!(Model::loop_dg(11), 4.8);
        assert!(Model::loop_dg(40) > 6.3);
    }
}
