//! DNA alphabet helpers: input validation, IUPAC masks, reverse complements.

use bioai_sdk::ToolError;

/// The longest sequence accepted (bases), bounding work and memory.
pub const MAX_SEQUENCE_LEN: usize = 10_000_000;

/// Checks that `seq` is non-empty DNA of A, C, G, T (either case) and at
/// most [`MAX_SEQUENCE_LEN`] long. `what` names the argument in errors.
pub fn validate(what: &str, seq: &str) -> Result<(), ToolError> {
    if seq.is_empty() {
        return Err(ToolError::invalid_argument(
            what,
            "is empty; give a DNA sequence of A, C, G, T",
        ));
    }
    if seq.len() > MAX_SEQUENCE_LEN {
        return Err(ToolError::invalid_argument(
            what,
            format!(
                "is {} bases long; the limit is {MAX_SEQUENCE_LEN}",
                seq.len()
            ),
        ));
    }
    if let Some((i, c)) = seq
        .char_indices()
        .find(|(_, c)| !matches!(c, 'A' | 'C' | 'G' | 'T' | 'a' | 'c' | 'g' | 't'))
    {
        return Err(ToolError::invalid_argument(
            what,
            format!(
                "has {c:?} at position {} (1-based); only A, C, G, T (either case) are \
                 accepted: remove whitespace, digits and FASTA headers, and resolve \
                 ambiguity codes such as N",
                seq[..i].chars().count() + 1
            ),
        ));
    }
    Ok(())
}

/// The 4-bit mask of an IUPAC nucleotide code (A=1, C=2, G=4, T=8), or 0
/// for anything else. Case-insensitive.
pub fn mask(b: u8) -> u8 {
    match b.to_ascii_uppercase() {
        b'A' => 1,
        b'C' => 2,
        b'G' => 4,
        b'T' | b'U' => 8,
        b'R' => 1 | 4,
        b'Y' => 2 | 8,
        b'S' => 2 | 4,
        b'W' => 1 | 8,
        b'K' => 4 | 8,
        b'M' => 1 | 2,
        b'B' => 2 | 4 | 8,
        b'D' => 1 | 4 | 8,
        b'H' => 1 | 2 | 8,
        b'V' => 1 | 2 | 4,
        b'N' => 15,
        _ => 0,
    }
}

/// The IUPAC complement of one code, upper case (N, S, W map to
/// themselves; unknown bytes are returned unchanged).
pub fn complement(b: u8) -> u8 {
    match b.to_ascii_uppercase() {
        b'A' => b'T',
        b'C' => b'G',
        b'G' => b'C',
        b'T' => b'A',
        b'R' => b'Y',
        b'Y' => b'R',
        b'K' => b'M',
        b'M' => b'K',
        b'B' => b'V',
        b'V' => b'B',
        b'D' => b'H',
        b'H' => b'D',
        other => other,
    }
}

/// The reverse complement of an IUPAC sequence, upper case.
pub fn reverse_complement(seq: &str) -> String {
    seq.bytes().rev().map(|b| complement(b) as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates() {
        assert!(validate("sequence", "ACGTacgt").is_ok());
        let e = validate("sequence", "ACNT").unwrap_err().to_string();
        assert!(e.contains("position 3"), "{e}");
        assert!(validate("sequence", "").is_err());
    }

    #[test]
    fn reverse_complements() {
        assert_eq!(reverse_complement("GGTCTC"), "GAGACC");
        assert_eq!(reverse_complement("RGATCY"), "RGATCY");
        assert_eq!(reverse_complement("ACNNNNGTAYC"), "GRTACNNNNGT");
    }
}
