//! DNA alphabet helpers: validation, IUPAC masks, complements.

use bioai_sdk::ToolError;

/// The bases an IUPAC nucleotide letter (upper case) stands for, as a bit
/// mask (A = 1, C = 2, G = 4, T = 8); 0 for anything else.
pub const fn iupac_mask(b: u8) -> u8 {
    match b {
        b'A' => 1,
        b'C' => 2,
        b'G' => 4,
        b'T' => 8,
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

/// The base bit (A = 1, C = 2, G = 4, T = 8) of each byte that is an
/// upper-case A, C, G or T; 0 for every other byte.
pub static ACGT_BIT: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'A' as usize] = 1;
    t[b'C' as usize] = 2;
    t[b'G' as usize] = 4;
    t[b'T' as usize] = 8;
    t
};

/// Whether `b` (upper case) is one of A, C, G, T.
pub fn is_acgt(b: u8) -> bool {
    matches!(b, b'A' | b'C' | b'G' | b'T')
}

/// IUPAC complement of an upper-case letter (R<->Y, K<->M, B<->V, D<->H;
/// S, W, N map to themselves); other bytes are returned unchanged.
pub const fn complement(b: u8) -> u8 {
    match b {
        b'A' => b'T',
        b'T' => b'A',
        b'C' => b'G',
        b'G' => b'C',
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

/// [`complement`] of every byte.
static COMPLEMENT: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = complement(b as u8);
        b += 1;
    }
    t
};

/// Each byte upper-cased when it is an IUPAC nucleotide letter (any case),
/// 0 for every other byte.
static IUPAC_UPPER: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let u = (b as u8).to_ascii_uppercase();
        if iupac_mask(u) != 0 {
            t[b] = u;
        }
        b += 1;
    }
    t
};

/// Reverse complement of upper-case IUPAC DNA.
///
/// Table lookups rather than a `match` per base: the same work natively,
/// a branch less per base in WebAssembly.
pub fn reverse_complement(s: &[u8]) -> Vec<u8> {
    s.iter()
        .rev()
        .map(|&b| COMPLEMENT[usize::from(b)])
        .collect()
}

/// The character at byte `i` of `text`, for error messages.
fn char_at(text: &str, i: usize) -> String {
    text[i..]
        .chars()
        .next()
        .map_or_else(String::new, |c| c.to_string())
}

/// Upper-cases `text` and checks every letter is IUPAC DNA (A, C, G, T, R,
/// Y, S, W, K, M, B, D, H, V, N).
pub fn iupac_upper(arg: &str, text: &str) -> Result<Vec<u8>, ToolError> {
    // One lookup per byte, noting whether any was refused (0); the refused
    // byte is looked for only then. (A second scan every time cost as much
    // as the lookups in WebAssembly, which cannot vectorize it.)
    let mut refused = false;
    let out: Vec<u8> = text
        .bytes()
        .map(|b| {
            let u = IUPAC_UPPER[usize::from(b)];
            refused |= u == 0;
            u
        })
        .collect();
    if !refused {
        return Ok(out);
    }
    let i = out.iter().position(|&u| u == 0).unwrap_or_default();
    Err(invalid_char(
        arg,
        text,
        i,
        "IUPAC DNA letters (A, C, G, T, R, Y, S, W, K, M, B, D, H, V, N)",
    ))
}

/// Upper-cases `text` and checks every letter is A, C, G or T.
pub fn acgt_upper(arg: &str, text: &str) -> Result<Vec<u8>, ToolError> {
    let mut out = Vec::with_capacity(text.len());
    for (i, b) in text.bytes().enumerate() {
        let u = b.to_ascii_uppercase();
        if !is_acgt(u) {
            return Err(invalid_char(arg, text, i, "only A, C, G and T (any case)"));
        }
        out.push(u);
    }
    Ok(out)
}

/// An error for a bad character at byte `i`, naming its 1-based position.
pub fn invalid_char(arg: &str, text: &str, i: usize, allowed: &str) -> ToolError {
    let pos = text[..i].chars().count() + 1;
    ToolError::invalid_argument(
        arg,
        format!(
            "contains {:?} at position {pos}; use {allowed}",
            char_at(text, i)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revcomp_iupac() {
        assert_eq!(reverse_complement(b"ACGTRYKMBVDHSWN"), b"NWSDHBVKMRYACGT");
    }

    #[test]
    fn validation() {
        assert_eq!(acgt_upper("g", "acgT").unwrap(), b"ACGT");
        let e = acgt_upper("g", "ACNT").unwrap_err().to_string();
        assert!(e.contains("position 3") && e.contains("`g`"), "{e}");
        assert_eq!(iupac_upper("s", "acgtn").unwrap(), b"ACGTN");
        let e = iupac_upper("s", "ACGU").unwrap_err().to_string();
        assert!(e.contains("position 4"), "{e}");
        assert!(iupac_upper("s", "AC é").is_err());
    }
}
