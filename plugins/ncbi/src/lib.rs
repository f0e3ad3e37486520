//! `ncbi`: a BioAiSaaS plugin for the NCBI Entrez E-utilities.
//!
//! The tools (`ncbi.esearch`, `ncbi.efetch`) are declared in `wit/ncbi.wit`,
//! whose doc comments are the tool descriptions. Validation, request URLs
//! and response parsing live in plain Rust modules, unit-tested natively
//! (`cargo test -p ncbi`); the component glue, built only for WebAssembly,
//! is in `component.rs`.

pub mod esearch;
pub mod fasta;
pub mod request;
pub mod validate;

#[cfg(target_arch = "wasm32")]
mod component;

/// An error from the E-utilities service itself: its HTTP status and what it
/// said, in a sentence for the caller.
pub fn service_error(status: u16, body: &str) -> String {
    let said = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("error")
                .or_else(|| v.pointer("/esearchresult/ERROR"))
                .and_then(|e| e.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| excerpt(body));
    let hint = match status {
        429 => {
            "; too many requests: wait a second and retry (the host paces requests to the policy's rate)"
        }
        400 => "; check the database name, the term and the ids",
        500..=599 => "; NCBI is having trouble: retry later",
        _ => "",
    };
    format!("NCBI E-utilities answered HTTP {status}: {said}{hint}")
}

/// The first line-ish of a text body, bounded, for error messages.
pub fn excerpt(body: &str) -> String {
    let text = body.trim();
    let mut out: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        out.push_str("...");
    }
    if out.is_empty() {
        "(empty response)".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_errors_quote_the_service() {
        let m = service_error(
            429,
            r#"{"error":"API rate limit exceeded","api-key":"1.2.3.4","count":"4","limit":"3"}"#,
        );
        assert!(
            m.starts_with("NCBI E-utilities answered HTTP 429: API rate limit exceeded"),
            "{m}"
        );
        assert!(m.contains("retry"), "{m}");
        let m = service_error(
            400,
            r#"{"esearchresult": {"ERROR": "Invalid db name specified: foo"}}"#,
        );
        assert!(m.contains("Invalid db name specified: foo"), "{m}");
        let m = service_error(502, "");
        assert!(
            m.contains("(empty response)") && m.contains("retry later"),
            "{m}"
        );
        assert_eq!(excerpt(&"x".repeat(400)).len(), 303);
    }
}
