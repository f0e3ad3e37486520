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
///
/// When every score is a multiple of 1/64 and small enough that no
/// alignment score can leave the `i32` range, the exact integer kernel
/// [`score_only_int`] runs (the same result: with such scores every f64
/// sum is exact); otherwise the f64 kernel.
pub fn score_only(a: &[u8], b: &[u8], scores: &Scores, gaps: Gaps, mode: Mode) -> ScoreEnd {
    if !a.is_empty()
        && !b.is_empty()
        && let Some(int) = IntScores::new(scores, gaps, a.len() + b.len())
    {
        let (score, a_end, b_end) = match mode {
            Mode::Global => score_only_int::<false>(a, b, &int),
            Mode::Local => score_only_int::<true>(a, b, &int),
        };
        return ScoreEnd {
            score: f64::from(score) / int.scale,
            a_end,
            b_end,
        };
    }
    match mode {
        Mode::Global => score_only_mode::<false>(a, b, scores, gaps),
        Mode::Local => score_only_mode::<true>(a, b, scores, gaps),
    }
}

/// A scoring scheme scaled to exact integers (see [`score_only`]).
#[derive(Debug, Clone)]
pub struct IntScores {
    /// `table[x * size + y]`: the scaled score of codes `x` and `y`.
    table: Vec<i32>,
    size: usize,
    /// Scaled gap scores: internal open, extend; end open, extend.
    go: i32,
    ge: i32,
    eo: i32,
    ee: i32,
    /// The scale: integer scores are the real ones times `scale`.
    scale: f64,
}

/// "Minus infinity" of the integer kernel: far below any reachable score,
/// and far enough above `i32::MIN` that adding a few scores cannot wrap.
const NEG_I: i32 = -(1 << 29);

impl IntScores {
    /// Largest |score| (scaled) times the path length allowed: scores stay
    /// within +-2^27, so `NEG_I` minus a few scores and `2^27` plus a few
    /// scores fit an `i32`.
    const LIMIT: f64 = (1u64 << 27) as f64;

    /// The integer form of `scores` and `gaps` for sequences whose lengths
    /// add up to `total`, if there is an exact one.
    pub fn new(scores: &Scores, gaps: Gaps, total: usize) -> Option<Self> {
        let size = scores.size();
        let values: Vec<f64> = (0..size)
            .flat_map(|x| scores.row(x as u8).iter().copied())
            .chain([gaps.open, gaps.extend, gaps.end_open, gaps.end_extend])
            .collect();
        let max_abs = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        // The smallest power-of-two scale that makes every score an integer.
        let scale = (0..=6)
            .map(|k| f64::from(1u32 << k))
            .find(|&s| values.iter().all(|&v| (v * s).fract() == 0.0))?;
        if max_abs * scale * (total as f64 + 2.0) > Self::LIMIT {
            return None;
        }
        let int = |v: f64| (v * scale) as i32;
        Some(Self {
            table: values[..size * size].iter().map(|&v| int(v)).collect(),
            size,
            go: int(gaps.open),
            ge: int(gaps.extend),
            eo: int(gaps.end_open),
            ee: int(gaps.end_extend),
            scale,
        })
    }
}

/// The larger of two scores, without a branch: which one wins is data
/// dependent and unpredictable, and on x86-64 LLVM otherwise turns the
/// loop-carried maximum of the Y scan into a conditional jump that
/// mispredicts about every other column (several times slower than a
/// `cmov`).
///
/// The test is `a - b > 0` with a wrapping subtraction, which equals `a > b`
/// for the kernel's scores (far from overflow) but which LLVM cannot fold
/// into `smax` (dropping the "unpredictable" hint).
///
/// WebAssembly has no branch to convert to (`select` is always branchless
/// in Cranelift), so there the plain maximum, one operation shorter, is used.
#[inline(always)]
fn max_i(a: i32, b: i32) -> i32 {
    if cfg!(target_arch = "wasm32") {
        a.max(b)
    } else {
        std::hint::select_unpredictable(a.wrapping_sub(b) > 0, a, b)
    }
}

/// The exact integer score-only kernel: `(score, a_end, b_end)`, with the
/// same recurrences, ties and end positions as [`score_only_mode`].
///
/// Each row of `a` is two passes over `b`, laid out for SIMD: the `M`
/// (match) and `X` (gap in `b`) states depend only on the previous row, so
/// the first pass has no loop-carried dependency and is auto-vectorised
/// (SSE2 natively, `simd128` in the component); the second pass is the
/// left-to-right scan of the `Y` state (gap in `a`), one add and two maxes
/// per cell. Only the `max(M, Y)` and `X` rows are kept, in two buffers
/// swapped per row: `4 * 4 * (len(b) + 1)` bytes, plus an `i32` score
/// profile of `b` for each distinct letter of `a`.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
pub fn score_only_int<const LOCAL: bool>(a: &[u8], b: &[u8], s: &IntScores) -> (i32, usize, usize) {
    let (n, m) = (a.len(), b.len());
    assert!(n > 0 && m > 0, "the caller handles empty sequences");
    // Local alignments score every gap alike.
    let (eo, ee) = if LOCAL { (s.go, s.ge) } else { (s.eo, s.ee) };
    let (go, ge) = (s.go, s.ge);
    // Score profile: row `slot[x]` holds the scores of code `x` against
    // each letter of `b`.
    let mut slot = vec![usize::MAX; s.size];
    let mut profile: Vec<i32> = Vec::new();
    for &x in a {
        let x = usize::from(x);
        if slot[x] == usize::MAX {
            slot[x] = profile.len();
            let row = &s.table[x * s.size..(x + 1) * s.size];
            profile.extend(b.iter().map(|&y| row[usize::from(y)]));
        }
    }
    // Row 0: `my` = max(M, Y), `x` = X, for columns 0..=m.
    let mut my = vec![NEG_I; m + 1];
    let mut x = vec![NEG_I; m + 1];
    if !LOCAL {
        // A leading end gap in `a`: eo, eo + ee, eo + 2 ee, ...
        my[0] = 0;
        let mut y = eo;
        for v in &mut my[1..] {
            *v = y;
            y += ee;
        }
    }
    let mut my_next = vec![NEG_I; m + 1];
    let mut x_next = vec![NEG_I; m + 1];
    let (mut best, mut best_i, mut best_j) = (0i32, 0usize, 0usize);
    for i in 1..=n {
        let p = &profile[slot[usize::from(a[i - 1])]..][..m];
        let (yo, ye) = if i == n { (eo, ee) } else { (go, ge) };
        // Column 0: only a gap in `b` (an end gap) reaches it.
        my_next[0] = NEG_I;
        x_next[0] = if LOCAL {
            NEG_I
        } else {
            (my[0] + eo).max(x[0] + ee)
        };
        // Pass 1: M into `my_next` and X into `x_next`, columns 1..=m.
        let row_max = {
            let (diag_my, diag_x) = (&my[..m], &x[..m]);
            let (up_my, up_x) = (&my[1..=m], &x[1..=m]);
            let (out_m, out_x) = (&mut my_next[1..=m], &mut x_next[1..=m]);
            let mut row_max = NEG_I;
            for j in 0..m {
                let mut d = diag_my[j].max(diag_x[j]);
                if LOCAL {
                    d = d.max(0);
                }
                let mv = d + p[j];
                out_m[j] = mv;
                if LOCAL {
                    row_max = row_max.max(mv);
                }
                out_x[j] = (up_my[j] + go).max(up_x[j] + ge);
            }
            row_max
        };
        // The last column: gaps in `b` there are end gaps.
        x_next[m] = (my[m] + eo).max(x[m] + ee);
        if LOCAL && row_max > best {
            // The first column reaching the row's maximum, as the f64
            // kernel's strict comparison picks.
            let j = my_next[1..].iter().position(|&v| v == row_max).unwrap_or(0);
            (best, best_i, best_j) = (row_max, i, j + 1);
        }
        // Pass 2: the Y scan, folded into `my_next` = max(M, Y); four
        // columns per loop iteration (fewer loop-header checks, which in the
        // component include the fuel and epoch checks).
        let mut y = NEG_I;
        let mut h_left = my_next[0].max(x_next[0]);
        let mut step = |mj: &mut i32, xj: i32| {
            y = max_i(h_left + yo, y + ye);
            h_left = max_i(*mj, xj);
            *mj = max_i(*mj, y);
        };
        let mut ms = my_next[1..=m].chunks_exact_mut(4);
        let mut xs = x_next[1..=m].chunks_exact(4);
        for (mc, xc) in (&mut ms).zip(&mut xs) {
            for (mj, &xj) in mc.iter_mut().zip(xc) {
                step(mj, xj);
            }
        }
        for (mj, &xj) in ms.into_remainder().iter_mut().zip(xs.remainder()) {
            step(mj, xj);
        }
        std::mem::swap(&mut my, &mut my_next);
        std::mem::swap(&mut x, &mut x_next);
    }
    if LOCAL {
        (best, best_i, best_j)
    } else {
        (my[m].max(x[m]), n, m)
    }
}

/// [`score_only`], specialised for one mode.
pub(crate) fn score_only_mode<const LOCAL: bool>(
    a: &[u8],
    b: &[u8],
    scores: &Scores,
    gaps: Gaps,
) -> ScoreEnd {
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
