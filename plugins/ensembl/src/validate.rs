//! Argument checks: each error names the argument and says what is allowed.

use bioai_sdk::ToolError;

/// The longest symbol accepted.
pub const MAX_SYMBOL_CHARS: usize = 64;
/// The longest species name accepted.
pub const MAX_SPECIES_CHARS: usize = 100;

/// A gene symbol: 1 to 64 of letters, digits, `-`, `_`, `.`, `@`.
pub fn symbol(symbol: &str) -> Result<&str, ToolError> {
    let s = symbol.trim();
    if s.is_empty() {
        return Err(ToolError::invalid_argument(
            "symbol",
            "is empty: give a gene symbol such as `BRAF`",
        ));
    }
    if s.chars().count() > MAX_SYMBOL_CHARS {
        return Err(ToolError::invalid_argument(
            "symbol",
            format!("is longer than {MAX_SYMBOL_CHARS} characters: give one gene symbol"),
        ));
    }
    if let Some((i, c)) = s
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@')))
    {
        return Err(ToolError::invalid_argument(
            "symbol",
            format!(
                "`{s}` contains {c:?} at position {}: symbols are letters, digits, `-`, `_`, `.` and `@`, \
                 e.g. `HLA-A`; look up one gene per call",
                i + 1
            ),
        ));
    }
    Ok(s)
}

/// A species production name or alias: lowercase letters, digits and `_`,
/// starting with a letter, at most 100 characters. Default
/// [`crate::DEFAULT_SPECIES`].
pub fn species(species: Option<&str>) -> Result<String, ToolError> {
    let Some(raw) = species else {
        return Ok(crate::DEFAULT_SPECIES.to_string());
    };
    let s = raw.trim();
    let fixed = s.to_ascii_lowercase().replace([' ', '-'], "_");
    let valid = |x: &str| {
        x.len() <= MAX_SPECIES_CHARS
            && x.starts_with(|c: char| c.is_ascii_lowercase())
            && x.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if valid(s) {
        return Ok(s.to_string());
    }
    let hint = if valid(&fixed) {
        format!("write `{fixed}`")
    } else {
        "use the lowercase production name such as `homo_sapiens` or `mus_musculus`, or an alias such as `human`".into()
    };
    Err(ToolError::invalid_argument(
        "species",
        format!("`{s}` is not an Ensembl species name: {hint}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols() {
        assert_eq!(symbol(" BRAF ").unwrap(), "BRAF");
        for ok in ["HLA-A", "C4orf33", "MT-CO1", "Trp53", "IGH@", "AC004.1"] {
            assert!(symbol(ok).is_ok(), "{ok}");
        }
        let m = String::from(symbol("BRAF/KRAS").unwrap_err());
        assert!(
            m.starts_with("invalid argument `symbol`") && m.contains("'/' at position 5"),
            "{m}"
        );
        assert!(String::from(symbol("").unwrap_err()).contains("is empty"));
        assert!(symbol(&"A".repeat(65)).is_err());
    }

    #[test]
    fn species_names() {
        assert_eq!(species(None).unwrap(), "homo_sapiens");
        assert_eq!(species(Some("mus_musculus")).unwrap(), "mus_musculus");
        let m = String::from(species(Some("Homo sapiens")).unwrap_err());
        assert!(
            m.starts_with("invalid argument `species`") && m.contains("`homo_sapiens`"),
            "{m}"
        );
        assert!(species(Some("9606")).is_err());
        assert!(species(Some("")).is_err());
    }
}
