//! The IUPAC nucleotide alphabet and input validation.

use bioai_sdk::ToolError;

/// Bit for A in a base set.
pub const A: u8 = 1;
/// Bit for C in a base set.
pub const C: u8 = 2;
/// Bit for G in a base set.
pub const G: u8 = 4;
/// Bit for T (or U) in a base set.
pub const T: u8 = 8;

/// What the error messages suggest instead of an invalid character.
pub const ALPHABET_HINT: &str =
    "use A, C, G, T, U or the IUPAC ambiguity codes R, Y, S, W, K, M, B, D, H, V, N";

/// The set of bases an IUPAC nucleotide code stands for (case-insensitive),
/// as a bit set of [`A`], [`C`], [`G`], [`T`]; `None` for any other byte.
/// U is T.
pub fn bases(code: u8) -> Option<u8> {
    Some(match code.to_ascii_uppercase() {
        b'A' => A,
        b'C' => C,
        b'G' => G,
        b'T' | b'U' => T,
        b'R' => A | G,
        b'Y' => C | T,
        b'S' => C | G,
        b'W' => A | T,
        b'K' => G | T,
        b'M' => A | C,
        b'B' => C | G | T,
        b'D' => A | G | T,
        b'H' => A | C | T,
        b'V' => A | C | G,
        b'N' => A | C | G | T,
        _ => return None,
    })
}

/// The error for the first character of `sequence` that is not an IUPAC
/// nucleotide code, if any. `argument` names the tool argument in the message.
pub fn validate(argument: &str, sequence: &str) -> Result<(), ToolError> {
    match sequence.bytes().position(|b| bases(b).is_none()) {
        None => Ok(()),
        Some(i) => Err(invalid_char(argument, sequence, i)),
    }
}

/// The error for the invalid character starting at byte `index` of `sequence`.
pub fn invalid_char(argument: &str, sequence: &str, index: usize) -> ToolError {
    // Positions are 1-based and count characters, not bytes.
    let position = sequence[..index].chars().count() + 1;
    let c = sequence[index..].chars().next().unwrap_or('?');
    ToolError::invalid_argument(
        argument,
        format!("contains {c:?} at position {position}; {ALPHABET_HINT}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_iupac_code_in_both_cases() {
        let codes = "ACGTURYSWKMBDHVN";
        assert!(validate("s", codes).is_ok());
        assert!(validate("s", &codes.to_lowercase()).is_ok());
    }

    #[test]
    fn rejects_with_one_based_character_position() {
        let e = validate("sequence", "ACGTACGTACGXA").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("invalid argument `sequence`: contains 'X' at position 12; {ALPHABET_HINT}")
        );
        // Non-ASCII: positions count characters.
        let e = validate("sequence", "ÄC-").unwrap_err();
        assert!(e.to_string().contains("'Ä' at position 1"), "{e}");
        let e = validate("sequence", "éA-").unwrap_err();
        assert!(e.to_string().contains("'é' at position 1"), "{e}");
        let e = validate("sequence", "AéA").unwrap_err();
        assert!(e.to_string().contains("at position 2"), "{e}");
        let e = validate("sequence", "ACG T").unwrap_err();
        assert!(e.to_string().contains("' ' at position 4"), "{e}");
    }
}
