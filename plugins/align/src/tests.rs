//! Unit tests: an independent cubic-time recurrence (every gap length
//! enumerated explicitly, Waterman-Smith-Beyer style), re-scoring of the
//! returned alignments, and published examples.

use super::*;

/// A small deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn seq(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| char::from(alphabet[self.below(alphabet.len())]))
            .collect()
    }
}

fn gap_score(len: usize, open: f64, extend: f64) -> f64 {
    open + (len as f64 - 1.0) * extend
}

/// The optimum by explicit enumeration of gap lengths: O(n m (n + m)).
fn brute(a: &[u8], b: &[u8], s: &Scores, g: Gaps, mode: Mode) -> f64 {
    let (n, m) = (a.len(), b.len());
    let local = mode == Mode::Local;
    let neg = f64::NEG_INFINITY;
    let mut dm = vec![vec![neg; m + 1]; n + 1];
    let mut dx = vec![vec![neg; m + 1]; n + 1];
    let mut dy = vec![vec![neg; m + 1]; n + 1];
    if !local {
        dm[0][0] = 0.0;
    }
    let mut best = 0.0f64;
    for i in 0..=n {
        for j in 0..=m {
            if i > 0 && j > 0 {
                let mut p = dm[i - 1][j - 1].max(dx[i - 1][j - 1]).max(dy[i - 1][j - 1]);
                if local {
                    p = p.max(0.0);
                }
                dm[i][j] = p + s.score(a[i - 1], b[j - 1]);
                best = best.max(dm[i][j]);
            }
            let end_b = !local && (j == 0 || j == m);
            let (o, e) = if end_b {
                (g.end_open, g.end_extend)
            } else {
                (g.open, g.extend)
            };
            for k in 1..=i {
                let p = dm[i - k][j].max(dy[i - k][j]);
                dx[i][j] = dx[i][j].max(p + gap_score(k, o, e));
            }
            let end_a = !local && (i == 0 || i == n);
            let (o, e) = if end_a {
                (g.end_open, g.end_extend)
            } else {
                (g.open, g.extend)
            };
            for k in 1..=j {
                let p = dm[i][j - k].max(dx[i][j - k]);
                dy[i][j] = dy[i][j].max(p + gap_score(k, o, e));
            }
        }
    }
    if local {
        best
    } else {
        dm[n][m].max(dx[n][m]).max(dy[n][m])
    }
}

/// Re-scores an alignment from its rows, checks that it spells `a` and `b`
/// (or their substrings at the reported coordinates).
fn rescore(req: &Request, r: &Alignment, s: &Scores, g: Gaps, local: bool) -> f64 {
    let ra = r.aligned_a.as_ref().unwrap().as_bytes();
    let rb = r.aligned_b.as_ref().unwrap().as_bytes();
    assert_eq!(ra.len(), rb.len());
    let ua = req.a.to_ascii_uppercase();
    let ub = req.b.to_ascii_uppercase();
    let strip = |x: &[u8]| -> String {
        x.iter()
            .filter(|&&c| c != b'-')
            .map(|&c| char::from(c))
            .collect()
    };
    let (a0, a1) = (r.a_start.unwrap() as usize, r.a_end as usize);
    let (b0, b1) = (r.b_start.unwrap() as usize, r.b_end as usize);
    assert_eq!(strip(ra), ua[a0..a1]);
    assert_eq!(strip(rb), ub[b0..b1]);
    if !local {
        assert_eq!((a0, a1, b0, b1), (0, ua.len(), 0, ub.len()));
    }
    let mut total = 0.0;
    let mut k = 0;
    while k < ra.len() {
        let (ca, cb) = (ra[k], rb[k]);
        assert!(!(ca == b'-' && cb == b'-'), "no empty columns");
        if ca != b'-' && cb != b'-' {
            let x = s.encode("a", &char::from(ca).to_string()).unwrap()[0];
            let y = s.encode("b", &char::from(cb).to_string()).unwrap()[0];
            total += s.score(x, y);
            k += 1;
            continue;
        }
        let in_a = ca == b'-';
        let start = k;
        while k < ra.len() && (if in_a { ra[k] == b'-' } else { rb[k] == b'-' }) {
            k += 1;
        }
        let len = k - start;
        // The gapped sequence's letters before and after the run.
        let gapped = if in_a { ra } else { rb };
        let before = gapped[..start].iter().any(|&c| c != b'-');
        let after = gapped[k..].iter().any(|&c| c != b'-');
        let end = !local && (!before || !after);
        let (o, e) = if end {
            (g.end_open, g.end_extend)
        } else {
            (g.open, g.extend)
        };
        total += gap_score(len, o, e);
    }
    total
}

fn close(x: f64, y: f64) -> bool {
    (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs()))
}

#[test]
fn random_pairs_match_brute_force_and_rescore() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let params: &[(Option<&str>, f64, f64, f64, f64)] = &[
        (None, 1.0, 0.0, 0.0, 0.0),
        (None, 2.0, -1.0, -2.0, -0.5),
        (None, 1.0, -1.0, -1.0, -1.0),
        (None, 5.0, -4.0, -10.0, -0.5),
        (None, 1.0, -3.0, -0.5, -2.0),
        (Some("EDNAFULL"), 0.0, 0.0, -10.0, -0.5),
        (Some("EDNAFULL"), 0.0, 0.0, -3.0, -3.0),
        (Some("BLOSUM62"), 0.0, 0.0, -11.0, -1.0),
        (Some("BLOSUM62"), 0.0, 0.0, -4.0, -4.0),
    ];
    let mut cases = 0;
    for _ in 0..12 {
        for &(matrix, ms, mm, go, ge) in params {
            for mode in ["global", "local"] {
                for end_free in [false, true] {
                    let alphabet: &[u8] = match matrix {
                        Some("BLOSUM62") => b"ARNDCQEGHILKMFPSTWYVBZX*",
                        Some(_) => b"ACGTACGTACGTN",
                        None => b"ACGT",
                    };
                    let (la, lb) = (1 + rng.below(14), 1 + rng.below(14));
                    let req = Request {
                        a: rng.seq(alphabet, la),
                        b: rng.seq(alphabet, lb),
                        mode: Some(mode.into()),
                        match_score: matrix.is_none().then_some(ms),
                        mismatch_score: matrix.is_none().then_some(mm),
                        gap_open: Some(go),
                        gap_extend: Some(ge),
                        matrix: matrix.map(String::from),
                        end_gaps_free: Some(end_free),
                        score_only: None,
                    };
                    let s = match matrix {
                        Some(name) => Scores::matrix(Matrix::parse(name).unwrap()),
                        None => Scores::match_mismatch(ms, mm),
                    };
                    let g = Gaps::new(go, ge, end_free);
                    let m = if mode == "local" {
                        Mode::Local
                    } else {
                        Mode::Global
                    };
                    let ea = s.encode("a", &req.a).unwrap();
                    let eb = s.encode("b", &req.b).unwrap();
                    let want = brute(&ea, &eb, &s, g, m);
                    let r = pairwise(&req).unwrap();
                    assert!(close(r.score, want), "{req:?}: {} vs {want}", r.score);
                    let again = rescore(&req, &r, &s, g, m == Mode::Local);
                    assert!(close(again, r.score), "{req:?} {r:?}: rescored {again}");
                    let so = pairwise(&Request {
                        score_only: Some(true),
                        ..req.clone()
                    })
                    .unwrap();
                    assert!(close(so.score, r.score));
                    assert_eq!((so.a_end, so.b_end), (r.a_end, r.b_end));
                    cases += 1;
                }
            }
        }
    }
    assert!(cases > 400);
}

#[test]
fn defaults_count_matches_like_biopython() {
    // Biopython PairwiseAligner defaults (match 1, mismatch 0, gaps 0):
    // aligner.score("GAACT", "GAT") == 3.0 (Biopython tutorial).
    let r = pairwise(&Request {
        a: "GAACT".into(),
        b: "GAT".into(),
        ..Request::default()
    })
    .unwrap();
    assert_eq!(r.score, 3.0);
    assert_eq!(r.length, Some(5));
    assert_eq!(r.matches, Some(3));
    assert_eq!(r.gaps, Some(2));
    // Local: Biopython tutorial, aligner.mode = "local" gives 3.0 too.
    let r = pairwise(&Request {
        a: "GAACT".into(),
        b: "GAT".into(),
        mode: Some("local".into()),
        ..Request::default()
    })
    .unwrap();
    assert_eq!(r.score, 3.0);
}

#[test]
fn local_with_nothing_positive_is_empty() {
    let r = pairwise(&Request {
        a: "AAAA".into(),
        b: "CCCC".into(),
        mode: Some("local".into()),
        mismatch_score: Some(-1.0),
        ..Request::default()
    })
    .unwrap();
    assert_eq!(r.score, 0.0);
    assert_eq!(r.aligned_a.as_deref(), Some(""));
    assert_eq!(r.length, Some(0));
    assert_eq!(r.identity, Some(0.0));
}

#[test]
fn errors_say_what_to_do() {
    let base = Request {
        a: "ACGT".into(),
        b: "ACGT".into(),
        ..Request::default()
    };
    let err = |r: Request| String::from(pairwise(&r).unwrap_err());
    let e = err(Request {
        gap_open: Some(10.0),
        ..base.clone()
    });
    assert!(e.contains("gap_open") && e.contains("-10"), "{e}");
    let e = err(Request {
        mode: Some("semi".into()),
        ..base.clone()
    });
    assert!(e.contains("global"), "{e}");
    let e = err(Request {
        matrix: Some("BLOSUM62".into()),
        match_score: Some(2.0),
        ..base.clone()
    });
    assert!(e.contains("match") && e.contains("matrix"), "{e}");
    let e = err(Request {
        a: String::new(),
        ..base.clone()
    });
    assert!(e.contains("empty"), "{e}");
    let e = err(Request {
        a: "A".repeat(10_001),
        b: "A".repeat(10_001),
        ..base.clone()
    });
    assert!(e.contains("score_only"), "{e}");
    let e = err(Request {
        match_score: Some(f64::NAN),
        ..base.clone()
    });
    assert!(e.contains("finite"), "{e}");
}

/// Native speed of the score-only kernel on 10 kb x 10 kb (run with
/// `cargo test -p align --release -- --ignored --nocapture`).
#[test]
#[ignore]
fn score_only_kernel_10kb_native() {
    let mut rng = Rng(42);
    let s = Scores::match_mismatch(5.0, -4.0);
    let a = s.encode("a", &rng.seq(b"ACGT", 10_000)).unwrap();
    let b = s.encode("b", &rng.seq(b"ACGT", 10_000)).unwrap();
    let gaps = Gaps::new(-10.0, -0.5, false);
    let start = std::time::Instant::now();
    let r = dp::score_only(&a, &b, &s, gaps, Mode::Global);
    eprintln!(
        "10000 x 10000 score-only (integer kernel): {:?} (score {})",
        start.elapsed(),
        r.score
    );
    let start = std::time::Instant::now();
    let f = dp::score_only_mode::<false>(&a, &b, &s, gaps);
    eprintln!(
        "10000 x 10000 score-only (f64 kernel): {:?} (score {})",
        start.elapsed(),
        f.score
    );
    assert_eq!(r, f);
}

/// The integer kernel (scores that are multiples of 1/64) and the f64
/// kernel (any scores) give the same score and end on random inputs, also
/// on long, repetitive sequences with many ties.
#[test]
fn integer_and_float_kernels_agree() {
    let mut rng = Rng(7);
    let params: &[(Option<&str>, f64, f64, f64, f64)] = &[
        (None, 1.0, 0.0, 0.0, 0.0),
        (None, 2.0, -1.0, -5.0, -1.0),
        (None, 5.0, -4.0, -10.0, -0.5),
        (None, 1.5, -0.25, -2.0, -0.125),
        (Some("EDNAFULL"), 0.0, 0.0, -10.0, -0.5),
        (Some("BLOSUM62"), 0.0, 0.0, -11.0, -1.0),
    ];
    for round in 0..40 {
        for &(matrix, ms, mm, go, ge) in params {
            let (alphabet, s): (&[u8], Scores) = match matrix {
                Some(name) => (
                    if name == "BLOSUM62" {
                        b"ARNDCQEGHILKMFPSTWYV"
                    } else {
                        b"ACGTN"
                    },
                    Scores::matrix(Matrix::parse(name).unwrap()),
                ),
                None => (b"ACGT", Scores::match_mismatch(ms, mm)),
            };
            let max = if round % 4 == 0 { 300 } else { 40 };
            let (la, lb) = (1 + rng.below(max), 1 + rng.below(max));
            let a = s.encode("a", &rng.seq(alphabet, la)).unwrap();
            let b = s.encode("b", &rng.seq(alphabet, lb)).unwrap();
            for end_free in [false, true] {
                let g = Gaps::new(go, ge, end_free);
                assert!(dp::IntScores::new(&s, g, la + lb).is_some());
                for mode in [Mode::Global, Mode::Local] {
                    let want = match mode {
                        Mode::Global => dp::score_only_mode::<false>(&a, &b, &s, g),
                        Mode::Local => dp::score_only_mode::<true>(&a, &b, &s, g),
                    };
                    let got = dp::score_only(&a, &b, &s, g, mode);
                    assert_eq!(
                        got, want,
                        "{matrix:?} {ms} {mm} {go} {ge} {end_free} {mode:?}"
                    );
                }
            }
        }
    }
    // Scores with no exact small integer form use the f64 kernel.
    let s = Scores::match_mismatch(1.0, -1.0 / 3.0);
    assert!(dp::IntScores::new(&s, Gaps::new(-1.0, -1.0, false), 10).is_none());
    let s = Scores::match_mismatch(1e6, -1.0);
    assert!(dp::IntScores::new(&s, Gaps::new(-1.0, -1.0, false), 1000).is_none());
}
