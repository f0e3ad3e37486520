//! A strict FASTA parser with line-numbered errors.

use bioai_sdk::ToolError;

/// One FASTA record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Header text after `>` up to the first whitespace.
    pub id: String,
    /// The rest of the header after the identifier, trimmed (may be empty).
    pub description: String,
    /// Sequence lines joined without whitespace; case kept.
    pub sequence: String,
}

/// Parses FASTA `text`.
///
/// `progress(bytes_done, bytes_total)` is called after each line; callers
/// decide how often to forward it.
pub fn parse_with_progress(
    text: &str,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<Record>, ToolError> {
    let mut records: Vec<Record> = Vec::new();
    let mut offset = 0;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line_no = index + 1;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if let Some(header) = line.strip_prefix('>') {
            let header = header.trim();
            let (id, description) = match header.split_once(char::is_whitespace) {
                Some((id, rest)) => (id, rest.trim()),
                None => (header, ""),
            };
            if id.is_empty() {
                return Err(error(
                    line_no,
                    "the header has no identifier; write `>id optional description`",
                ));
            }
            records.push(Record {
                id: id.to_string(),
                description: description.to_string(),
                sequence: String::new(),
            });
        } else if line.trim().is_empty() {
            // Blank lines are allowed anywhere.
        } else {
            let Some(record) = records.last_mut() else {
                return Err(error(
                    line_no,
                    "expected a header line starting with `>` before any sequence",
                ));
            };
            for (column, c) in line.chars().enumerate() {
                if c.is_ascii_alphabetic() || matches!(c, '*' | '-' | '.') {
                    record.sequence.push(c);
                } else if !c.is_whitespace() {
                    return Err(error(
                        line_no,
                        format!(
                            "unexpected {c:?} at column {}; sequence lines may only hold letters, `*`, `-` and `.`",
                            column + 1
                        ),
                    ));
                }
            }
        }
        progress(offset, text.len());
    }
    Ok(records)
}

/// Parses FASTA `text` (see [`parse_with_progress`]).
pub fn parse(text: &str) -> Result<Vec<Record>, ToolError> {
    parse_with_progress(text, |_, _| {})
}

fn error(line: usize, detail: impl std::fmt::Display) -> ToolError {
    ToolError::invalid_argument("text", format!("line {line}: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, description: &str, sequence: &str) -> Record {
        Record {
            id: id.into(),
            description: description.into(),
            sequence: sequence.into(),
        }
    }

    // The header of the first record of `ls_orchid.fasta` from the Biopython
    // Tutorial, whose `record.id` is `gi|2765658|emb|Z78533.1|CIZ78533`,
    // with two 70-column sequence lines.
    #[test]
    fn biopython_tutorial_header() {
        let text = ">gi|2765658|emb|Z78533.1|CIZ78533 C.irapeanum 5.8S rRNA gene and ITS1 and ITS2 DNA\n\
                    CGTAACAAGGTTTCCGTAGGTGAACCTGCGGAAGGATCATTGATGAGACCGTGGAATAAACGATCGAGTG\n\
                    AATCCGGAGGACCGGTGTACTCAGCTCACCGGGGGCATTGCTCCCGTGGTGACCCTGATTTGTTGTTGGG\n";
        let records = parse(text).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].id, "gi|2765658|emb|Z78533.1|CIZ78533");
        assert_eq!(
            records[0].description,
            "C.irapeanum 5.8S rRNA gene and ITS1 and ITS2 DNA"
        );
        assert_eq!(records[0].sequence.len(), 140);
        assert!(records[0].sequence.starts_with("CGTAACAAGG"));
        assert!(records[0].sequence.ends_with("TTGTTGTTGGG"));
    }

    #[test]
    fn several_records_blank_lines_crlf_and_empty_sequence() {
        let text = "\n>a first one\r\nACGT\r\nac gt\r\n\r\n>b\n>c  \t spaced  \nMKV*\nAC-GT.\n";
        assert_eq!(
            parse(text).unwrap(),
            vec![
                rec("a", "first one", "ACGTacgt"),
                rec("b", "", ""),
                rec("c", "spaced", "MKV*AC-GT."),
            ]
        );
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(parse(">x\nACGT").unwrap(), vec![rec("x", "", "ACGT")]);
        // Leading whitespace after `>` is skipped, like Biopython's title split.
        assert_eq!(parse("> x y\n").unwrap(), vec![rec("x", "y", "")]);
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("ACGT\n>a\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid argument `text`: line 1: expected a header line starting with `>` before any sequence"
        );
        let e = parse(">a\nACGT\n>\nAC\n").unwrap_err().to_string();
        assert!(e.contains("line 3: the header has no identifier"), "{e}");
        let e = parse(">a\nACGT\nAC1GT\n").unwrap_err().to_string();
        assert!(e.contains("line 3: unexpected '1' at column 3"), "{e}");
    }

    #[test]
    fn progress_reaches_the_end() {
        let text = ">a\nACGT\n>b\nTT\n";
        let mut last = (0, 0);
        let mut calls = 0;
        parse_with_progress(text, |done, total| {
            assert!(done >= last.0);
            last = (done, total);
            calls += 1;
        })
        .unwrap();
        assert_eq!(calls, 4);
        assert_eq!(last, (text.len(), text.len()));
    }
}
