//! The dynamic-programming kernels: Gotoh's affine-gap recurrences for
//! global (Needleman-Wunsch) and local (Smith-Waterman) alignment, in
//! linear memory (score only) or with a one-byte-per-cell traceback.
//!
//! States at cell `(i, j)` (prefixes `a[..i]`, `b[..j]`):
//! - `M`: the alignment ends with `a[i-1]` aligned to `b[j-1]`;
//! - `X`: it ends with `a[i-1]` against a gap (a gap in `b`);
//! - `Y`: it ends with `b[j-1]` against a gap (a gap in `a`).
//!
//! A gap run of length L scores `open + (L-1) * extend`; a gap in `b` is an
//! end gap when it lies before `b[0]` (`j == 0`) or after `b`'s last letter
//! (`j == len(b)`), and likewise for gaps in `a`. `X` may follow `Y`
//! directly and vice versa (each opens a new gap), as in Biopython's
//! `PairwiseAligner`, so the result is the optimum over all alignments.

use crate::matrix::Scores;

/// Global or local alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Needleman-Wunsch: both sequences end to end.
    Global,
    /// Smith-Waterman: the best-scoring pair of substrings.
    Local,
}

/// Gap scores (added; non-positive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gaps {
    /// Score of the first position of an internal gap.
    pub open: f64,
    /// Score of each further position of an internal gap.
    pub extend: f64,
    /// Score of the first position of an end gap (global mode).
    pub end_open: f64,
    /// Score of each further position of an end gap (global mode).
    pub end_extend: f64,
}

impl Gaps {
    /// The same scores for internal and end gaps, or free end gaps.
    pub fn new(open: f64, extend: f64, end_gaps_free: bool) -> Self {
        let (end_open, end_extend) = if end_gaps_free {
            (0.0, 0.0)
        } else {
            (open, extend)
        };
        Self {
            open,
            extend,
            end_open,
            end_extend,
        }
    }
}

/// The optimal score and where the alignment ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreEnd {
    /// The optimal score.
    pub score: f64,
    /// End (exclusive) of the aligned part of `a`.
    pub a_end: usize,
    /// End (exclusive) of the aligned part of `b`.
    pub b_end: usize,
}

/// One optimal alignment, as columns of codes (`None` for a gap).
#[derive(Debug, Clone, PartialEq)]
pub struct Traced {
    /// The optimal score.
    pub score: f64,
    /// The columns, left to right: (index into `a`, index into `b`).
    pub columns: Vec<(Option<usize>, Option<usize>)>,
    /// Start of the aligned part of `a`.
    pub a_start: usize,
    /// End (exclusive) of the aligned part of `a`.
    pub a_end: usize,
    /// Start of the aligned part of `b`.
    pub b_start: usize,
    /// End (exclusive) of the aligned part of `b`.
    pub b_end: usize,
}

const NEG: f64 = f64::NEG_INFINITY;

/// The larger of two scores (never NaN: every input score is finite).
#[inline(always)]
fn max(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

#[inline(always)]
fn max3(m: f64, x: f64, y: f64) -> f64 {
    max(max(m, x), y)
}

/// The three Gotoh states of one cell.
#[derive(Debug, Clone, Copy)]
struct Cell {
    m: f64,
    x: f64,
    y: f64,
}

const EMPTY: Cell = Cell {
    m: NEG,
    x: NEG,
    y: NEG,
};

/// Scores of one letter of `a` against every code, padded to a power of
/// two so that a masked index needs no bounds check.
const PROFILE: usize = 32;

/// The optimal alignment score of the encoded sequences `a` and `b`, in
/// memory linear in `len(b)` (one row of the three Gotoh matrices, updated
/// in place). This is the hot kernel: `len(a) * len(b)` cell updates.
pub fn score_only(a: &[u8], b: &[u8], scores: &Scores, gaps: Gaps, mode: Mode) -> ScoreEnd {
    match mode {
        Mode::Global => score_only_mode::<false>(a, b, scores, gaps),
        Mode::Local => score_only_mode::<true>(a, b, scores, gaps),
    }
}

/// [`score_only`], specialised for one mode.
fn score_only_mode<const LOCAL: bool>(a: &[u8], b: &[u8], scores: &Scores, gaps: Gaps) -> ScoreEnd {
    assert!(scores.size() <= PROFILE, "alphabet fits the profile");
    let (n, m) = (a.len(), b.len());
    let local = LOCAL;
    let (eo, ee) = if local {
        (gaps.open, gaps.extend)
    } else {
        (gaps.end_open, gaps.end_extend)
    };
    let (go, ge) = (gaps.open, gaps.extend);
    let floor = if local { 0.0 } else { NEG };
    if m == 0 {
        // Nothing to align `a` against: one end gap in `b` (global).
        let score = match (local, n) {
            (true, _) | (false, 0) => 0.0,
            (false, n) => eo + (n as f64 - 1.0) * ee,
        };
        return ScoreEnd {
            score,
            a_end: if local { 0 } else { n },
            b_end: 0,
        };
    }
    let mut row = vec![EMPTY; m + 1];
    if !local {
        row[0].m = 0.0;
        for j in 1..=m {
            row[j].y = max(row[j - 1].m + eo, row[j - 1].y + ee);
        }
    }
    let mut best = ScoreEnd {
        score: 0.0,
        a_end: 0,
        b_end: 0,
    };
    let mut profile = [0.0f64; PROFILE];
    for i in 1..=n {
        profile[..scores.size()].copy_from_slice(scores.row(a[i - 1]));
        let (yo, ye) = if i == n { (eo, ee) } else { (go, ge) };
        let mut diag = row[0];
        row[0] = if local {
            EMPTY
        } else {
            Cell {
                m: NEG,
                x: max3(diag.m + eo, diag.x + ee, diag.y + eo),
                y: NEG,
            }
        };
        let mut left = row[0];
        let (inner, last) = row[1..].split_at_mut(m - 1);
        let mut row_best = (NEG, 0usize);
        for (j, (cell, &bj)) in inner.iter_mut().zip(b).enumerate() {
            let up = *cell;
            let mut d = max3(diag.m, diag.x, diag.y);
            if LOCAL {
                d = max(d, 0.0);
            }
            let mv = d + profile[usize::from(bj) & (PROFILE - 1)];
            let xv = max3(up.m + go, up.x + ge, up.y + go);
            let yv = max3(left.m + yo, left.y + ye, left.x + yo);
            if LOCAL && mv > row_best.0 {
                row_best = (mv, j + 1);
            }
            diag = up;
            left = Cell {
                m: mv,
                x: xv,
                y: yv,
            };
            *cell = left;
        }
        // The last column: gaps in `b` here are end gaps.
        let up = last[0];
        let d = max(max3(diag.m, diag.x, diag.y), floor);
        let mv = d + profile[usize::from(b[m - 1]) & (PROFILE - 1)];
        if local && mv > row_best.0 {
            row_best = (mv, m);
        }
        last[0] = Cell {
            m: mv,
            x: max3(up.m + eo, up.x + ee, up.y + eo),
            y: max3(left.m + yo, left.y + ye, left.x + yo),
        };
        if local && row_best.0 > best.score {
            best = ScoreEnd {
                score: row_best.0,
                a_end: i,
                b_end: row_best.1,
            };
        }
    }
    if local {
        best
    } else {
        let c = row[m];
        ScoreEnd {
            score: max3(c.m, c.x, c.y),
            a_end: n,
            b_end: m,
        }
    }
}

// Traceback byte layout: bits 0-1 the predecessor state of M (STATE_*, or
// START for a local alignment starting here), bits 2-3 that of X, bits 4-5
// that of Y.
const STATE_M: u8 = 0;
const STATE_X: u8 = 1;
const STATE_Y: u8 = 2;
const START: u8 = 3;

#[inline(always)]
fn arg3(m: f64, x: f64, y: f64) -> (f64, u8) {
    let mut best = (m, STATE_M);
    if x > best.0 {
        best = (x, STATE_X);
    }
    if y > best.0 {
        best = (y, STATE_Y);
    }
    best
}

/// The optimal score and one optimal alignment, with a traceback of
/// `(len(a) + 1) * (len(b) + 1)` bytes (the caller bounds the size).
pub fn align(a: &[u8], b: &[u8], scores: &Scores, gaps: Gaps, mode: Mode) -> Traced {
    let (n, m) = (a.len(), b.len());
    let w = m + 1;
    let local = mode == Mode::Local;
    let (eo, ee) = if local {
        (gaps.open, gaps.extend)
    } else {
        (gaps.end_open, gaps.end_extend)
    };
    let mut tb = vec![0u8; (n + 1) * w];
    let mut mp = vec![NEG; w];
    let mut xp = vec![NEG; w];
    let mut yp = vec![NEG; w];
    let mut mc = vec![NEG; w];
    let mut xc = vec![NEG; w];
    let mut yc = vec![NEG; w];
    if !local {
        mp[0] = 0.0;
        for j in 1..=m {
            let (v, from) = arg3(mp[j - 1] + eo, NEG, yp[j - 1] + ee);
            yp[j] = v;
            tb[j] = from << 4;
        }
    }
    let (mut best, mut best_i, mut best_j) = (0.0, 0, 0);
    for i in 1..=n {
        let row = scores.row(a[i - 1]);
        let (yo, ye) = if i == n {
            (eo, ee)
        } else {
            (gaps.open, gaps.extend)
        };
        let base = i * w;
        mc[0] = NEG;
        yc[0] = NEG;
        if local {
            xc[0] = NEG;
        } else {
            let (v, from) = arg3(mp[0] + eo, xp[0] + ee, yp[0] + eo);
            xc[0] = v;
            tb[base] = from << 2;
        }
        for j in 1..=m {
            let (xo, xe) = if j == m {
                (eo, ee)
            } else {
                (gaps.open, gaps.extend)
            };
            let (mut diag, mut mfrom) = arg3(mp[j - 1], xp[j - 1], yp[j - 1]);
            if local && diag <= 0.0 {
                diag = 0.0;
                mfrom = START;
            }
            let mv = diag + row[usize::from(b[j - 1])];
            mc[j] = mv;
            let (xv, xfrom) = arg3(mp[j] + xo, xp[j] + xe, yp[j] + xo);
            xc[j] = xv;
            let (yv, yfrom) = arg3(mc[j - 1] + yo, xc[j - 1] + yo, yc[j - 1] + ye);
            // arg3 labels its arguments M, X, Y: here the order is M, X, Y too.
            yc[j] = yv;
            tb[base + j] = mfrom | (xfrom << 2) | (yfrom << 4);
            if local && mv > best {
                (best, best_i, best_j) = (mv, i, j);
            }
        }
        std::mem::swap(&mut mp, &mut mc);
        std::mem::swap(&mut xp, &mut xc);
        std::mem::swap(&mut yp, &mut yc);
    }
    let (score, mut i, mut j, mut state) = if local {
        (best, best_i, best_j, STATE_M)
    } else {
        let (v, s) = arg3(mp[m], xp[m], yp[m]);
        (v, n, m, s)
    };
    let (a_end, b_end) = (i, j);
    let mut columns = Vec::with_capacity(n + m);
    if !(local && score <= 0.0) {
        loop {
            if !local && i == 0 && j == 0 {
                break;
            }
            let t = tb[i * w + j];
            match state {
                STATE_M => {
                    columns.push((Some(i - 1), Some(j - 1)));
                    let from = t & 3;
                    i -= 1;
                    j -= 1;
                    if from == START {
                        break;
                    }
                    state = from;
                }
                STATE_X => {
                    columns.push((Some(i - 1), None));
                    state = (t >> 2) & 3;
                    i -= 1;
                }
                _ => {
                    columns.push((None, Some(j - 1)));
                    state = (t >> 4) & 3;
                    j -= 1;
                }
            }
        }
    } else {
        // An empty local alignment.
        i = 0;
        j = 0;
    }
    columns.reverse();
    let (a_end, b_end) = if local && score <= 0.0 {
        (0, 0)
    } else {
        (a_end, b_end)
    };
    Traced {
        score: if local { score.max(0.0) } else { score },
        columns,
        a_start: i,
        a_end,
        b_start: j,
        b_end,
    }
}
