//! `align`: a BioAiSaaS plugin for pairwise sequence alignment.
//!
//! The tool `align.pairwise` is declared in `wit/align.wit`, whose doc
//! comments are the tool description. The logic lives in plain Rust modules
//! so that it is unit-tested natively (`cargo test -p align`); the component
//! glue, built only for WebAssembly, is in `component.rs`.
//!
//! The hot kernel, for native-vs-component benchmarks, is [`dp::score_only`]
//! (or [`pairwise`] with `score_only: Some(true)`).

pub mod dp;
pub mod matrix;

use bioai_sdk::ToolError;
use dp::{Gaps, Mode};
use matrix::{Matrix, Scores};

/// Longest accepted sequence.
pub const MAX_LEN: usize = 100_000;
/// Largest `len(a) * len(b)` for a full alignment (one traceback byte per
/// cell, about 100 MB).
pub const MAX_ALIGN_CELLS: u64 = 100_000_000;
/// Largest `len(a) * len(b)` for a score-only alignment (bounded by time).
pub const MAX_SCORE_CELLS: u64 = 400_000_000;

/// The arguments of `align.pairwise`, `None` meaning the default.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The first sequence.
    pub a: String,
    /// The second sequence.
    pub b: String,
    /// `global` (default) or `local`.
    pub mode: Option<String>,
    /// Score of identical letters (default 1).
    pub match_score: Option<f64>,
    /// Score of different letters (default 0).
    pub mismatch_score: Option<f64>,
    /// Score of a gap's first position (default 0, <= 0).
    pub gap_open: Option<f64>,
    /// Score of each further gap position (default 0, <= 0).
    pub gap_extend: Option<f64>,
    /// `EDNAFULL` or `BLOSUM62` instead of match/mismatch.
    pub matrix: Option<String>,
    /// Global mode: end gaps score 0 (default false).
    pub end_gaps_free: Option<bool>,
    /// Only the score, in linear memory (default false).
    pub score_only: Option<bool>,
}

/// The result of `align.pairwise` (see `wit/align.wit` for the fields).
#[derive(Debug, Clone, PartialEq)]
pub struct Alignment {
    /// The optimal score.
    pub score: f64,
    /// Aligned `a` with `-` gaps (not in score-only mode).
    pub aligned_a: Option<String>,
    /// Aligned `b` with `-` gaps (not in score-only mode).
    pub aligned_b: Option<String>,
    /// Number of columns.
    pub length: Option<u32>,
    /// Number of identical columns.
    pub matches: Option<u32>,
    /// `matches / length`.
    pub identity: Option<f64>,
    /// Number of gap columns.
    pub gaps: Option<u32>,
    /// Start in `a` (not for local score-only).
    pub a_start: Option<u32>,
    /// End in `a` (exclusive).
    pub a_end: u32,
    /// Start in `b` (not for local score-only).
    pub b_start: Option<u32>,
    /// End in `b` (exclusive).
    pub b_end: u32,
}

fn score_arg(name: &str, value: Option<f64>, default: f64) -> Result<f64, ToolError> {
    let v = value.unwrap_or(default);
    if !v.is_finite() {
        return Err(ToolError::invalid_argument(
            name,
            format!("must be a finite number, got {v}"),
        ));
    }
    Ok(v)
}

fn gap_arg(name: &str, value: Option<f64>) -> Result<f64, ToolError> {
    let v = score_arg(name, value, 0.0)?;
    if v > 0.0 {
        return Err(ToolError::invalid_argument(
            name,
            format!(
                "must be <= 0 (gap scores are added to the alignment score, so penalties are negative), got {v}; e.g. EMBOSS gapopen 10 is {name} = -10"
            ),
        ));
    }
    Ok(v)
}

fn length_check(name: &str, seq: &[u8]) -> Result<(), ToolError> {
    if seq.is_empty() {
        return Err(ToolError::invalid_argument(name, "must not be empty"));
    }
    if seq.len() > MAX_LEN {
        return Err(ToolError::limit_exceeded(format!(
            "`{name}` has {} letters; at most {MAX_LEN} are accepted",
            seq.len()
        )));
    }
    Ok(())
}

/// Validates the request and aligns.
pub fn pairwise(req: &Request) -> Result<Alignment, ToolError> {
    let mode = match req
        .mode
        .as_deref()
        .map(|m| m.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("global") => Mode::Global,
        Some("local") => Mode::Local,
        Some(other) => {
            return Err(ToolError::invalid_argument(
                "mode",
                format!(
                    "unknown mode {other:?}; use \"global\" (end to end) or \"local\" (best matching substrings)"
                ),
            ));
        }
    };
    let scores = match req.matrix.as_deref() {
        Some(name) => {
            let matrix = Matrix::parse(name)?;
            for (arg, v) in [("match", req.match_score), ("mismatch", req.mismatch_score)] {
                if v.is_some() {
                    return Err(ToolError::invalid_argument(
                        arg,
                        format!(
                            "cannot be combined with `matrix` ({}), which scores every pair of letters; omit `{arg}` or `matrix`",
                            matrix.name()
                        ),
                    ));
                }
            }
            Scores::matrix(matrix)
        }
        None => Scores::match_mismatch(
            score_arg("match", req.match_score, 1.0)?,
            score_arg("mismatch", req.mismatch_score, 0.0)?,
        ),
    };
    let open = gap_arg("gap_open", req.gap_open)?;
    let extend = gap_arg("gap_extend", req.gap_extend)?;
    let gaps = Gaps::new(open, extend, req.end_gaps_free.unwrap_or(false));
    let a = scores.encode("a", &req.a)?;
    let b = scores.encode("b", &req.b)?;
    length_check("a", &a)?;
    length_check("b", &b)?;
    let cells = a.len() as u64 * b.len() as u64;
    if req.score_only.unwrap_or(false) {
        if cells > MAX_SCORE_CELLS {
            return Err(ToolError::limit_exceeded(format!(
                "len(a) * len(b) = {} * {} = {cells} cells is over the score-only limit of {MAX_SCORE_CELLS}; align shorter regions",
                a.len(),
                b.len()
            )));
        }
        let r = dp::score_only(&a, &b, &scores, gaps, mode);
        let global = mode == Mode::Global;
        return Ok(Alignment {
            score: r.score,
            aligned_a: None,
            aligned_b: None,
            length: None,
            matches: None,
            identity: None,
            gaps: None,
            a_start: global.then_some(0),
            a_end: r.a_end as u32,
            b_start: global.then_some(0),
            b_end: r.b_end as u32,
        });
    }
    if cells > MAX_ALIGN_CELLS {
        return Err(ToolError::limit_exceeded(format!(
            "len(a) * len(b) = {} * {} = {cells} cells is over the full-alignment limit of {MAX_ALIGN_CELLS}; set score_only to true to get the score (and end coordinates) in linear memory, or align shorter regions",
            a.len(),
            b.len()
        )));
    }
    let t = dp::align(&a, &b, &scores, gaps, mode);
    let (ua, ub) = (req.a.to_ascii_uppercase(), req.b.to_ascii_uppercase());
    let (ua, ub) = (ua.as_bytes(), ub.as_bytes());
    let mut aligned_a = String::with_capacity(t.columns.len());
    let mut aligned_b = String::with_capacity(t.columns.len());
    let (mut matches, mut gap_cols) = (0u32, 0u32);
    for &(x, y) in &t.columns {
        aligned_a.push(x.map_or('-', |i| char::from(ua[i])));
        aligned_b.push(y.map_or('-', |j| char::from(ub[j])));
        match (x, y) {
            (Some(i), Some(j)) if ua[i] == ub[j] => matches += 1,
            (Some(_), Some(_)) => {}
            _ => gap_cols += 1,
        }
    }
    let length = t.columns.len() as u32;
    Ok(Alignment {
        score: t.score,
        aligned_a: Some(aligned_a),
        aligned_b: Some(aligned_b),
        length: Some(length),
        matches: Some(matches),
        identity: Some(if length == 0 {
            0.0
        } else {
            f64::from(matches) / f64::from(length)
        }),
        gaps: Some(gap_cols),
        a_start: Some(t.a_start as u32),
        a_end: t.a_end as u32,
        b_start: Some(t.b_start as u32),
        b_end: t.b_end as u32,
    })
}

#[cfg(target_arch = "wasm32")]
mod component;

#[cfg(test)]
mod tests;
