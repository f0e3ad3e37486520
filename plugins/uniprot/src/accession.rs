//! UniProtKB accession syntax.

use bioai_sdk::ToolError;

/// Checks and normalizes (trims, upper-cases) a UniProtKB accession:
/// `[OPQ][0-9][A-Z0-9]{3}[0-9]` or `[A-NR-Z][0-9]([A-Z][A-Z0-9]{2}[0-9]){1,2}`
/// (UniProt's published format).
pub fn check(accession: &str) -> Result<String, ToolError> {
    let a = accession.trim().to_ascii_uppercase();
    if a.is_empty() {
        return Err(ToolError::invalid_argument(
            "accession",
            "is empty: give a UniProtKB accession such as `P69905`",
        ));
    }
    if is_accession(&a) {
        return Ok(a);
    }
    let hint = if a.contains('-') && is_accession(a.split('-').next().unwrap_or("")) {
        "isoform accessions are not supported: give the entry's accession without the `-N` suffix"
            .to_string()
    } else if a.contains('_') {
        "this looks like an entry name; give the accession instead (e.g. `P69905` for HBA_HUMAN)"
            .to_string()
    } else {
        "accessions are 6 or 10 letters and digits such as `P69905`, `Q9Y6K9` or `A0A023GPI8`"
            .to_string()
    };
    Err(ToolError::invalid_argument(
        "accession",
        format!(
            "`{}` is not a UniProtKB accession: {hint}",
            accession.trim()
        ),
    ))
}

/// The accession regular expression, without regex.
pub fn is_accession(a: &str) -> bool {
    let b = a.as_bytes();
    let digit = |i: usize| b[i].is_ascii_digit();
    let upper = |i: usize| b[i].is_ascii_uppercase();
    let alnum = |i: usize| b[i].is_ascii_uppercase() || b[i].is_ascii_digit();
    match b.len() {
        6 if matches!(b[0], b'O' | b'P' | b'Q') => {
            digit(1) && alnum(2) && alnum(3) && alnum(4) && digit(5)
        }
        6 | 10 => {
            let first = upper(0) && !matches!(b[0], b'O' | b'P' | b'Q');
            let block = |s: usize| upper(s) && alnum(s + 1) && alnum(s + 2) && digit(s + 3);
            first && digit(1) && block(2) && (b.len() == 6 || block(6))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessions() {
        for ok in [
            "P69905",
            "P04637",
            "Q9Y6K9",
            "O15530",
            "A0A023GPI8",
            "A2BC19",
            "B1C2D3E4F5",
        ] {
            assert!(is_accession(ok), "{ok}");
        }
        for bad in [
            "",
            "P6990",
            "P699051",
            "PA9905",
            "p69905",
            "A0A023GPI",
            "A0A023GPI8X",
            "A0B0C0D0EX",
            "P6990_",
        ] {
            assert!(!is_accession(bad), "{bad}");
        }
        assert_eq!(check(" p69905 ").unwrap(), "P69905");
        let m = String::from(check("P69905-2").unwrap_err());
        assert!(
            m.starts_with("invalid argument `accession`") && m.contains("isoform"),
            "{m}"
        );
        let m = String::from(check("HBA_HUMAN").unwrap_err());
        assert!(m.contains("entry name"), "{m}");
        assert!(String::from(check("").unwrap_err()).contains("is empty"));
    }
}
