//! A strict FASTQ parser with line-numbered errors, following the rules of
//! Biopython's `FastqGeneralIterator` (multi-line sequence and quality, a
//! quality line may start with `@`, an optional repeated title on the `+`
//! line that must then match).

use bioai_sdk::ToolError;

/// The Sanger / Illumina 1.8+ quality offset (Biopython `"fastq"`).
pub const SANGER_OFFSET: u8 = 33;
/// The Illumina 1.3-1.7 quality offset (Biopython `"fastq-illumina"`).
pub const ILLUMINA_OFFSET: u8 = 64;
/// The highest quality character, `~`.
const MAX_QUALITY_CHAR: u8 = 126;

/// One FASTQ record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Title text after `@` up to the first whitespace.
    pub id: String,
    /// The rest of the title after the identifier, trimmed (may be empty).
    pub description: String,
    /// Sequence lines joined; case kept.
    pub sequence: String,
    /// Quality lines joined, as in the file.
    pub quality: String,
    /// Decoded PHRED scores, one per base.
    pub phred: Vec<u8>,
}

fn error(line: usize, detail: impl std::fmt::Display) -> ToolError {
    ToolError::invalid_argument("text", format!("line {line}: {detail}"))
}

/// Checks the `phred_offset` argument: 33 or 64.
pub fn check_offset(offset: u8) -> Result<(), ToolError> {
    if offset == SANGER_OFFSET || offset == ILLUMINA_OFFSET {
        Ok(())
    } else {
        Err(ToolError::invalid_argument(
            "phred_offset",
            format!(
                "{offset} is not a FASTQ quality offset; use 33 (Sanger, Illumina 1.8+) or 64 (Illumina 1.3-1.7)"
            ),
        ))
    }
}

/// Parses FASTQ `text` with quality characters decoded as
/// `code - phred_offset` (33 or 64).
///
/// `progress(bytes_done, bytes_total)` is called after each line.
pub fn parse_with_progress(
    text: &str,
    phred_offset: u8,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<Record>, ToolError> {
    check_offset(phred_offset)?;
    let total = text.len();
    let mut lines = text
        .split_inclusive('\n')
        .scan(0usize, |offset, raw| {
            *offset += raw.len();
            Some((*offset, raw.trim_end()))
        })
        .enumerate()
        .map(|(i, (offset, line))| (i + 1, offset, line))
        .peekable();
    let mut records = Vec::new();
    while let Some((line_no, offset, line)) = lines.next() {
        progress(offset, total);
        if line.is_empty() {
            // Blank lines between records are allowed.
            continue;
        }
        let Some(title) = line.strip_prefix('@') else {
            return Err(error(
                line_no,
                "expected a title line starting with `@` to begin a record",
            ));
        };
        let (id, description) = match title.trim().split_once(char::is_whitespace) {
            Some((id, rest)) => (id, rest.trim()),
            None => (title.trim(), ""),
        };
        if id.is_empty() {
            return Err(error(
                line_no,
                "the title has no identifier; write `@id optional description`",
            ));
        }
        let title_line = line_no;
        let mut last_line;

        // Sequence lines up to the `+` line.
        let mut sequence = String::new();
        loop {
            let Some((n, offset, line)) = lines.next() else {
                return Err(error(
                    title_line,
                    format!(
                        "the record `{id}` ends without a `+` line; each record is `@title`, sequence, `+`, quality"
                    ),
                ));
            };
            progress(offset, total);
            last_line = n;
            if let Some(second) = line.strip_prefix('+') {
                if !second.is_empty() && second != title {
                    return Err(error(
                        n,
                        format!(
                            "the title after `+` ({second:?}) differs from the record's title ({title:?}); leave it out or repeat it exactly"
                        ),
                    ));
                }
                break;
            }
            for (column, c) in line.chars().enumerate() {
                if c.is_ascii_alphabetic() || matches!(c, '*' | '-' | '.') {
                    sequence.push(c);
                } else {
                    return Err(error(
                        n,
                        format!(
                            "unexpected {c:?} at column {} of the sequence of `{id}`; sequence lines may only hold letters, `*`, `-` and `.`",
                            column + 1
                        ),
                    ));
                }
            }
        }

        // Quality lines until there are as many characters as bases.
        let mut quality = String::with_capacity(sequence.len());
        let mut phred = Vec::with_capacity(sequence.len());
        while quality.len() < sequence.len() {
            let Some((n, offset, line)) = lines.next() else {
                return Err(error(
                    last_line,
                    format!(
                        "the quality of `{id}` has {} characters but its sequence has {} bases; the file ends too early",
                        quality.len(),
                        sequence.len()
                    ),
                ));
            };
            progress(offset, total);
            last_line = n;
            for (column, c) in line.chars().enumerate() {
                let code = u32::from(c);
                if code < u32::from(phred_offset) || code > u32::from(MAX_QUALITY_CHAR) {
                    return Err(error(
                        n,
                        format!(
                            "invalid quality character {c:?} at column {} of `{id}`; with offset {phred_offset} quality characters run from {:?} to '~'",
                            column + 1,
                            phred_offset as char
                        ),
                    ));
                }
                quality.push(c);
                phred.push(code as u8 - phred_offset);
            }
        }
        if quality.len() != sequence.len() {
            return Err(error(
                last_line,
                format!(
                    "the quality of `{id}` has {} characters but its sequence has {} bases; they must be the same length",
                    quality.len(),
                    sequence.len()
                ),
            ));
        }
        // A further line that is not blank must start the next record.
        if let Some(&(n, _, line)) = lines.peek()
            && !line.is_empty()
            && !line.starts_with('@')
        {
            return Err(error(
                n,
                format!(
                    "the quality of `{id}` is already as long as its sequence ({} bases); expected a blank line or `@` starting the next record",
                    sequence.len()
                ),
            ));
        }
        records.push(Record {
            id: id.to_string(),
            description: description.to_string(),
            sequence,
            quality,
            phred,
        });
    }
    Ok(records)
}

/// Parses FASTQ `text` (see [`parse_with_progress`]).
pub fn parse(text: &str, phred_offset: u8) -> Result<Vec<Record>, ToolError> {
    parse_with_progress(text, phred_offset, |_, _| {})
}

#[cfg(test)]
mod tests {
    use super::*;

    // The "tricky" example of Biopython's `FastqGeneralIterator` docstring:
    // `+` lines with and without the title, quality lines starting with `@`
    // and `+`, and a record split over several lines.
    const TRICKY: &str = "@071113_EAS56_0053:1:1:998:236
TTTCTTGCCCCCATAGACTGAGACCTTCCCTAAATA
+071113_EAS56_0053:1:1:998:236
IIIIIIIIIIIIIIIIIIIIIIIIIIIIICII+III
@071113_EAS56_0053:1:1:182:712
ACCCAGCTAATTTTTGTATTTTTGTTAGAGACAGTG
+
@IIIIIIIIIIIIIIICDIIIII<%<6&-*).(*%+
@071113_EAS56_0053:1:1:153:10
TGTTCTGAAGGAAGGTGTGCGTGCGTGTGTGTGTGT
+
IIIIIIIIIIIICIIGIIIII>IAIIIE65I=II:6
@071113_EAS56_0053:1:3:990:501
TGGGAGGTTTTATGTGGA
AAGCAGCAATGTACAAGA
+
IIIIIII.IIIIII1@44
@-7.%<&+/$/%4(++(%
";

    #[test]
    fn biopython_tricky_example() {
        let records = parse(TRICKY, 33).unwrap();
        let got: Vec<(&str, &str, &str)> = records
            .iter()
            .map(|r| (r.id.as_str(), r.sequence.as_str(), r.quality.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "071113_EAS56_0053:1:1:998:236",
                    "TTTCTTGCCCCCATAGACTGAGACCTTCCCTAAATA",
                    "IIIIIIIIIIIIIIIIIIIIIIIIIIIIICII+III"
                ),
                (
                    "071113_EAS56_0053:1:1:182:712",
                    "ACCCAGCTAATTTTTGTATTTTTGTTAGAGACAGTG",
                    "@IIIIIIIIIIIIIIICDIIIII<%<6&-*).(*%+"
                ),
                (
                    "071113_EAS56_0053:1:1:153:10",
                    "TGTTCTGAAGGAAGGTGTGCGTGCGTGTGTGTGTGT",
                    "IIIIIIIIIIIICIIGIIIII>IAIIIE65I=II:6"
                ),
                (
                    "071113_EAS56_0053:1:3:990:501",
                    "TGGGAGGTTTTATGTGGAAAGCAGCAATGTACAAGA",
                    "IIIIIII.IIIIII1@44@-7.%<&+/$/%4(++(%"
                ),
            ]
        );
        // 'I' is PHRED 40 and '!' 0 with offset 33.
        assert_eq!(records[0].phred[0], 40);
        assert_eq!(records[3].phred[7], b'.' - 33);
    }

    #[test]
    fn description_offsets_crlf_and_blank_lines() {
        let text = "\n@r1 some read\r\nACgT\r\n+\r\n!5I~\r\n\r\n@r2\n\n+r2\n\n";
        let records = parse(text, 33).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].id, "r1");
        assert_eq!(records[0].description, "some read");
        assert_eq!(records[0].sequence, "ACgT");
        assert_eq!(records[0].phred, [0, 20, 40, 93]);
        assert_eq!(records[1].sequence, "");
        assert!(records[1].phred.is_empty());
        let r = parse("@x\nAC\n+\n@h\n", 64).unwrap();
        assert_eq!(r[0].phred, [0, 40]);
        assert_eq!(parse("", 33).unwrap(), vec![]);
    }

    #[test]
    fn errors_name_the_line() {
        let msg = |t: &str, o: u8| parse(t, o).unwrap_err().to_string();
        let e = msg("ACGT\n", 33);
        assert!(
            e.contains("line 1: expected a title line starting with `@`"),
            "{e}"
        );
        let e = msg("@a\nACGT\nIIII\n", 33);
        assert!(
            e.contains("line 1:") && e.contains("without a `+` line"),
            "{e}"
        );
        let e = msg("@a\nACGT\n+\nIII\n", 33);
        assert!(
            e.contains("line 4:") && e.contains("3 characters but its sequence has 4"),
            "{e}"
        );
        let e = msg("@a\nACGT\n+\nIIIII\n", 33);
        assert!(e.contains("line 4:") && e.contains("5 characters"), "{e}");
        let e = msg("@a\nACGT\n+\nII\nII\nII\n", 33);
        assert!(
            e.contains("line 6:") && e.contains("already as long"),
            "{e}"
        );
        let e = msg("@a\nACGT\n+\nII I\n", 33);
        assert!(
            e.contains("line 4: invalid quality character ' ' at column 3"),
            "{e}"
        );
        let e = msg("@a\nACGT\n+\nII5I\n", 64);
        assert!(
            e.contains("'5' at column 3") && e.contains("from '@'"),
            "{e}"
        );
        let e = msg("@a x\nACGT\n+b\nIIII\n", 33);
        assert!(e.contains("line 3:") && e.contains("differs"), "{e}");
        let e = msg("@a\nAC GT\n+\nIIII\n", 33);
        assert!(e.contains("line 2: unexpected ' ' at column 3"), "{e}");
        let e = msg("@\nAC\n+\nII\n", 33);
        assert!(e.contains("line 1: the title has no identifier"), "{e}");
        let e = msg("@a\nAC\n+\nII\n", 40);
        assert!(e.starts_with("invalid argument `phred_offset`"), "{e}");
    }
}
