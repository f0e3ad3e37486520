//! A minimal FASTA reader for reference DNA.

use crate::dna;
use bioai_sdk::ToolError;

/// The most reference bases accepted, all records together.
pub const MAX_BASES: usize = 50_000_000;

/// One FASTA record, its sequence upper-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The header text after `>` up to the first whitespace.
    pub id: String,
    /// Upper-case IUPAC DNA.
    pub seq: Vec<u8>,
}

/// Parses FASTA text: `>id description` headers, each followed by sequence
/// lines of IUPAC DNA letters (whitespace inside lines is dropped; blank
/// lines are skipped; `\r\n` is fine). Errors name the 1-based line.
/// More than [`MAX_BASES`] bases in total is an error.
pub fn parse(arg: &str, text: &str) -> Result<Vec<Record>, ToolError> {
    let mut records: Vec<Record> = Vec::new();
    let mut total = 0usize;
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if let Some(header) = line.strip_prefix('>') {
            let id = header.split_whitespace().next().ok_or_else(|| {
                ToolError::invalid_argument(
                    arg,
                    format!("line {line_no}: a header `>` with no identifier; write `>name`"),
                )
            })?;
            records.push(Record {
                id: id.to_string(),
                seq: Vec::new(),
            });
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let Some(rec) = records.last_mut() else {
            return Err(ToolError::invalid_argument(
                arg,
                format!(
                    "line {line_no}: sequence before the first header; start the FASTA with a `>name` line"
                ),
            ));
        };
        let before = rec.seq.len();
        for (col, c) in line.char_indices() {
            if c.is_whitespace() {
                continue;
            }
            let u = (c as u32 <= 0x7f).then(|| (c as u8).to_ascii_uppercase());
            match u {
                Some(u) if dna::iupac_mask(u) != 0 => rec.seq.push(u),
                _ => {
                    return Err(ToolError::invalid_argument(
                        arg,
                        format!(
                            "line {line_no}, column {}: {c:?} is not a DNA letter; use A, C, G, T \
                             or IUPAC codes (R, Y, S, W, K, M, B, D, H, V, N)",
                            line[..col].chars().count() + 1
                        ),
                    ));
                }
            }
        }
        total += rec.seq.len() - before;
        if total > MAX_BASES {
            return Err(ToolError::limit_exceeded(format!(
                "`{arg}` holds more than {MAX_BASES} bases; search at most 50 Mbp per call \
                 (split the reference into several calls)"
            )));
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let r = parse("f", ">a desc\nAC gt\r\n\n>b\n>c x\nNN\n").unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].id, "a");
        assert_eq!(r[0].seq, b"ACGT");
        assert!(r[1].seq.is_empty());
        assert_eq!(r[2].seq, b"NN");
        assert!(parse("f", "").unwrap().is_empty());
    }

    #[test]
    fn errors() {
        let e = parse("f", "ACGT\n").unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
        let e = parse("f", ">a\nAC\nAX\n").unwrap_err().to_string();
        assert!(e.contains("line 3, column 2"), "{e}");
        let e = parse("f", ">\nAC\n").unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
    }
}
