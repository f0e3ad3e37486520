//! `ensembl`: a BioAiSaaS plugin looking up genes through the Ensembl REST
//! API.
//!
//! The tool (`ensembl.lookup`) is declared in `wit/ensembl.wit`, whose doc
//! comments are the tool descriptions. Validation and JSON parsing live in
//! [`validate`] and [`gene`], unit-tested natively (`cargo test -p
//! ensembl`); the component glue, built only for WebAssembly, is in
//! `component.rs`.

pub mod gene;
pub mod validate;

#[cfg(target_arch = "wasm32")]
mod component;

/// The Ensembl REST base URL, unless `ENSEMBL_BASE_URL` overrides it.
pub const DEFAULT_BASE_URL: &str = "https://rest.ensembl.org";

/// The default species.
pub const DEFAULT_SPECIES: &str = "homo_sapiens";

/// The `lookup/symbol` URL with JSON output.
pub fn lookup_url(base: &str, species: &str, symbol: &str) -> String {
    use bioai_sdk::http::encode;
    format!(
        "{base}/lookup/symbol/{}/{}?content-type=application/json",
        encode(species),
        encode(symbol)
    )
}

/// An error answer of the REST API as a sentence. Ensembl's errors are JSON
/// `{"error": "..."}`; an unknown symbol is a 400 or 404 whose error says
/// "No valid lookup found".
pub fn service_error(
    status: u16,
    symbol: &str,
    species: &str,
    body: &str,
    retry_after: Option<&str>,
) -> String {
    let said = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error")?.as_str().map(str::to_string));
    if let Some(e) = &said
        && (e.contains("No valid lookup found") || e.contains("not found"))
    {
        return format!(
            "not found: Ensembl has no gene `{symbol}` in {species} ({e}); check the symbol and the species"
        );
    }
    if status == 404 {
        return format!("not found: Ensembl has no gene `{symbol}` in {species}");
    }
    let said = said.unwrap_or_else(|| {
        let t: String = body.trim().chars().take(300).collect();
        if t.is_empty() {
            "(empty response)".into()
        } else {
            t
        }
    });
    let hint = match (status, retry_after) {
        (429, Some(s)) => format!("; rate limited: retry after {} s", s.trim()),
        (429, None) => "; rate limited: retry in a few seconds".into(),
        (500..=599, _) => "; Ensembl is having trouble: retry later".into(),
        _ => String::new(),
    };
    format!("Ensembl answered HTTP {status}: {said}{hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_errors() {
        assert_eq!(
            lookup_url(DEFAULT_BASE_URL, "homo_sapiens", "BRAF"),
            "https://rest.ensembl.org/lookup/symbol/homo_sapiens/BRAF?content-type=application/json"
        );
        assert_eq!(
            service_error(
                400,
                "NOPE1",
                "homo_sapiens",
                r#"{"error":"No valid lookup found for symbol NOPE1"}"#,
                None
            ),
            "not found: Ensembl has no gene `NOPE1` in homo_sapiens (No valid lookup found for symbol NOPE1); check the symbol and the species"
        );
        let m = service_error(
            429,
            "A",
            "b",
            r#"{"error":"You have exceeded the limit of 15 requests per second"}"#,
            Some("1"),
        );
        assert!(m.ends_with("retry after 1 s"), "{m}");
        assert!(service_error(503, "A", "b", "", None).contains("(empty response)"));
    }
}
