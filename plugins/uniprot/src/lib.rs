//! `uniprot`: a BioAiSaaS plugin reading UniProtKB entries through the
//! UniProt REST API.
//!
//! The tool (`uniprot.entry`) is declared in `wit/uniprot.wit`, whose doc
//! comments are the tool descriptions. Validation and JSON parsing live in
//! [`accession`] and [`entry`], unit-tested natively (`cargo test -p
//! uniprot`); the component glue, built only for WebAssembly, is in
//! `component.rs`.

pub mod accession;
pub mod entry;

#[cfg(target_arch = "wasm32")]
mod component;

/// The UniProt REST base URL, unless `UNIPROT_BASE_URL` overrides it.
pub const DEFAULT_BASE_URL: &str = "https://rest.uniprot.org";

/// The URL of an entry's JSON.
pub fn entry_url(base: &str, accession: &str) -> String {
    format!(
        "{base}/uniprotkb/{}.json",
        bioai_sdk::http::encode(accession)
    )
}

/// An error answer of the REST API, as a sentence. UniProt's errors are
/// JSON: `{"url": "...", "messages": ["..."]}`.
pub fn service_error(status: u16, accession: &str, body: &str) -> String {
    let messages = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("messages")?.as_array().map(|m| {
                m.iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        })
        .filter(|m| !m.is_empty());
    match status {
        404 => format!(
            "not found: UniProtKB has no entry {accession}{}",
            messages.map(|m| format!(" ({m})")).unwrap_or_default()
        ),
        _ => {
            let said = messages.unwrap_or_else(|| {
                let t: String = body.trim().chars().take(300).collect();
                if t.is_empty() {
                    "(empty response)".into()
                } else {
                    t
                }
            });
            let hint = match status {
                429 => "; too many requests: retry in a few seconds",
                500..=599 => "; UniProt is having trouble: retry later",
                _ => "",
            };
            format!("UniProt answered HTTP {status}: {said}{hint}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_errors() {
        assert_eq!(
            entry_url(DEFAULT_BASE_URL, "P69905"),
            "https://rest.uniprot.org/uniprotkb/P69905.json"
        );
        assert_eq!(
            service_error(
                404,
                "Q00000",
                r#"{"url":"http://rest.uniprot.org/uniprotkb/Q00000.json","messages":["Resource not found"]}"#
            ),
            "not found: UniProtKB has no entry Q00000 (Resource not found)"
        );
        let m = service_error(
            400,
            "X",
            r#"{"url":"u","messages":["The 'accession' value has invalid format. It should be a valid UniProtKB accession"]}"#,
        );
        assert!(
            m.starts_with("UniProt answered HTTP 400: The 'accession' value"),
            "{m}"
        );
        assert!(
            service_error(503, "X", "").contains("(empty response); UniProt is having trouble")
        );
    }
}
