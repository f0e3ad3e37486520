//! FASTA as EFetch sends it.

/// One record: header split at the first whitespace, sequence lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The header up to the first whitespace.
    pub id: String,
    /// The rest of the header, trimmed.
    pub description: String,
    /// The sequence with all whitespace removed.
    pub sequence: String,
}

/// Parses FASTA text. Blank lines are skipped; text before the first `>`
/// is an error, because that is how EFetch reports problems (e.g.
/// `Error: ...` or an XML error document). Returns the records or the
/// offending text.
pub fn parse(text: &str) -> Result<Vec<Record>, String> {
    let mut records: Vec<Record> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(header) = line.strip_prefix('>') {
            let header = header.trim();
            let (id, description) = match header.split_once(char::is_whitespace) {
                Some((id, rest)) => (id, rest.trim()),
                None => (header, ""),
            };
            records.push(Record {
                id: id.to_string(),
                description: description.to_string(),
                sequence: String::new(),
            });
        } else if line.trim().is_empty() {
            continue;
        } else if let Some(r) = records.last_mut() {
            r.sequence
                .extend(line.chars().filter(|c| !c.is_whitespace()));
        } else {
            return Err(line.trim().to_string());
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_errors() {
        let text = ">NM_000546.6 Homo sapiens tumor protein p53 (TP53), mRNA\nCTCAAAAGTC\nTGTGC\n\n>X1\r\nAC GT\r\n>empty\n";
        let r = parse(text).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].id, "NM_000546.6");
        assert_eq!(
            r[0].description,
            "Homo sapiens tumor protein p53 (TP53), mRNA"
        );
        assert_eq!(r[0].sequence, "CTCAAAAGTCTGTGC");
        assert_eq!(
            (
                r[1].id.as_str(),
                r[1].description.as_str(),
                r[1].sequence.as_str()
            ),
            ("X1", "", "ACGT")
        );
        assert_eq!(r[2].sequence, "");
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(
            parse("Error: F a i l e d  t o  u n d e r s t a n d  i d:  xyz\n").unwrap_err(),
            "Error: F a i l e d  t o  u n d e r s t a n d  i d:  xyz"
        );
    }
}
