//! Scoring schemes: match/mismatch scores or an embedded substitution matrix
//! (EDNAFULL / NCBI NUC.4.4, BLOSUM62), compiled to a dense table indexed by
//! letter codes.

use bioai_sdk::ToolError;

/// NCBI NUC.4.4 (EMBOSS EDNAFULL), from Biopython's
/// `Bio/Align/substitution_matrices/data/NUC.4.4`.
const EDNAFULL: &str = include_str!("matrices/EDNAFULL");
/// BLOSUM62 (Henikoff & Henikoff 1992), from Biopython's
/// `Bio/Align/substitution_matrices/data/BLOSUM62`.
const BLOSUM62: &str = include_str!("matrices/BLOSUM62");

/// The embedded substitution matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matrix {
    /// NCBI NUC.4.4 for IUPAC nucleotides; U is scored as T.
    Ednafull,
    /// BLOSUM62 for proteins.
    Blosum62,
}

impl Matrix {
    /// Parses a matrix name (case-insensitive): `EDNAFULL` (or `NUC.4.4`),
    /// `BLOSUM62`.
    pub fn parse(name: &str) -> Result<Self, ToolError> {
        match name.trim().to_ascii_uppercase().as_str() {
            "EDNAFULL" | "NUC.4.4" => Ok(Self::Ednafull),
            "BLOSUM62" => Ok(Self::Blosum62),
            _ => Err(ToolError::invalid_argument(
                "matrix",
                format!(
                    "unknown matrix {name:?}; use \"EDNAFULL\" (DNA) or \"BLOSUM62\" (protein), or omit it to use match/mismatch scores"
                ),
            )),
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ednafull => "EDNAFULL",
            Self::Blosum62 => "BLOSUM62",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Self::Ednafull => EDNAFULL,
            Self::Blosum62 => BLOSUM62,
        }
    }
}

/// A compiled scoring scheme: letters map to codes `0..size`, and
/// `table[x * size + y]` is the score of aligning codes `x` and `y`.
#[derive(Debug, Clone)]
pub struct Scores {
    code: [u8; 256],
    size: usize,
    table: Vec<f64>,
    alphabet: Vec<u8>,
    matrix: Option<Matrix>,
}

/// Marks a byte with no code.
const NONE: u8 = u8::MAX;

impl Scores {
    /// Match/mismatch scoring over upper-case letters and `*`.
    pub fn match_mismatch(match_score: f64, mismatch_score: f64) -> Self {
        let mut alphabet: Vec<u8> = (b'A'..=b'Z').collect();
        alphabet.push(b'*');
        let size = alphabet.len();
        let mut table = vec![mismatch_score; size * size];
        for i in 0..size {
            table[i * size + i] = match_score;
        }
        Self::new(alphabet, table, None)
    }

    /// The scores of an embedded matrix.
    pub fn matrix(matrix: Matrix) -> Self {
        let mut lines = matrix
            .text()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
        let header: Vec<u8> = lines
            .next()
            .expect("matrix header")
            .split_whitespace()
            .map(|s| s.as_bytes()[0])
            .collect();
        let size = header.len();
        let mut table = vec![0.0; size * size];
        for (row, line) in lines.enumerate() {
            let mut fields = line.split_whitespace();
            let letter = fields.next().expect("row letter").as_bytes()[0];
            assert_eq!(letter, header[row], "matrix rows follow the header");
            for (col, v) in fields.enumerate() {
                table[row * size + col] = v.parse().expect("matrix entry is a number");
            }
        }
        let mut scores = Self::new(header, table, Some(matrix));
        if matrix == Matrix::Ednafull {
            // EMBOSS EDNAFULL scores U exactly as T.
            scores.code[usize::from(b'U')] = scores.code[usize::from(b'T')];
        }
        scores
    }

    fn new(alphabet: Vec<u8>, table: Vec<f64>, matrix: Option<Matrix>) -> Self {
        let mut code = [NONE; 256];
        for (i, &c) in alphabet.iter().enumerate() {
            code[usize::from(c)] = i as u8;
        }
        Self {
            code,
            size: alphabet.len(),
            table,
            alphabet,
            matrix,
        }
    }

    /// Number of letter codes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The score of codes `x` and `y`.
    #[inline]
    pub fn score(&self, x: u8, y: u8) -> f64 {
        self.table[usize::from(x) * self.size + usize::from(y)]
    }

    /// The row of scores of code `x` against every code.
    #[inline]
    pub fn row(&self, x: u8) -> &[f64] {
        let start = usize::from(x) * self.size;
        &self.table[start..start + self.size]
    }

    /// Upper-cases `sequence` and encodes it, or names the first letter
    /// outside the alphabet (1-based position).
    pub fn encode(&self, argument: &str, sequence: &str) -> Result<Vec<u8>, ToolError> {
        let mut out = Vec::with_capacity(sequence.len());
        for (i, ch) in sequence.chars().enumerate() {
            let code = if ch.is_ascii() {
                self.code[usize::from(ch.to_ascii_uppercase() as u8)]
            } else {
                NONE
            };
            if code == NONE {
                let allowed = match self.matrix {
                    None => "letters A-Z (any case) or '*'".to_string(),
                    Some(m) => format!(
                        "the {} letters {}{}",
                        m.name(),
                        String::from_utf8_lossy(&self.alphabet),
                        if m == Matrix::Ednafull { " and U" } else { "" }
                    ),
                };
                let hint = match self.matrix {
                    Some(Matrix::Ednafull) => "; for protein sequences use matrix \"BLOSUM62\"",
                    Some(Matrix::Blosum62) => "; for DNA use matrix \"EDNAFULL\"",
                    None => "; remove gaps, whitespace and digits",
                };
                return Err(ToolError::invalid_argument(
                    argument,
                    format!(
                        "character {ch:?} at position {} is not allowed; use {allowed}{hint}",
                        i + 1
                    ),
                ));
            }
            out.push(code);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blosum62_published_entries() {
        let s = Scores::matrix(Matrix::Blosum62);
        let c = |x: &str| s.encode("a", x).unwrap()[0];
        assert_eq!(s.size(), 24);
        assert_eq!(s.score(c("W"), c("W")), 11.0);
        assert_eq!(s.score(c("A"), c("A")), 4.0);
        assert_eq!(s.score(c("C"), c("C")), 9.0);
        assert_eq!(s.score(c("A"), c("*")), -4.0);
        assert_eq!(s.score(c("E"), c("D")), 2.0);
        for x in 0..24u8 {
            for y in 0..24u8 {
                assert_eq!(s.score(x, y), s.score(y, x));
            }
        }
    }

    #[test]
    fn ednafull_published_entries() {
        let s = Scores::matrix(Matrix::Ednafull);
        let c = |x: &str| s.encode("a", x).unwrap()[0];
        assert_eq!(s.size(), 15);
        assert_eq!(s.score(c("A"), c("A")), 5.0);
        assert_eq!(s.score(c("A"), c("C")), -4.0);
        assert_eq!(s.score(c("N"), c("N")), -1.0);
        assert_eq!(s.score(c("A"), c("N")), -2.0);
        assert_eq!(s.score(c("u"), c("T")), 5.0);
    }

    #[test]
    fn encode_rejects_with_position() {
        let s = Scores::matrix(Matrix::Ednafull);
        let e = String::from(s.encode("b", "ACGE").unwrap_err());
        assert!(e.contains("position 4") && e.contains("BLOSUM62"), "{e}");
        let s = Scores::match_mismatch(1.0, 0.0);
        let e = String::from(s.encode("a", "AC-G").unwrap_err());
        assert!(e.contains("'-' at position 3"), "{e}");
        assert!(Matrix::parse("blosum62").is_ok());
        assert!(Matrix::parse("PAM250").is_err());
    }
}
