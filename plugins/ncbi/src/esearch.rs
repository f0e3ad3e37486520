//! ESearch's JSON output (`retmode=json`).
//!
//! ```json
//! {"header": {"type": "esearch", "version": "0.3"},
//!  "esearchresult": {"count": "2", "retmax": "2", "retstart": "0",
//!    "idlist": ["7157", "22059"],
//!    "translationset": [{"from": "human", "to": "\"Homo sapiens\"[Organism] OR human[All Fields]"}],
//!    "querytranslation": "TP53[sym] AND ...",
//!    "errorlist": {"phrasesnotfound": [], "fieldsnotfound": []},
//!    "warninglist": {"phrasesignored": [], "quotedphrasesnotfound": [], "outputmessages": []}}}
//! ```
//!
//! Numbers are strings. A failed search has `esearchresult.ERROR`.

use serde_json::Value;

/// One translation of part of the term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// As given.
    pub from: String,
    /// As searched.
    pub to: String,
}

/// The parsed search result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// Total matches.
    pub count: u64,
    /// Ids asked for.
    pub retmax: u32,
    /// Index of the first id.
    pub retstart: u32,
    /// The ids.
    pub ids: Vec<String>,
    /// The query as run.
    pub query_translation: String,
    /// Translations of parts of the term.
    pub translations: Vec<Translation>,
    /// Warnings and notes.
    pub warnings: Vec<String>,
}

/// Parses the body; the error is a sentence for the caller.
pub fn parse(body: &str) -> Result<Search, String> {
    let v: Value = serde_json::from_str(body).map_err(|e| {
        format!(
            "NCBI ESearch sent something that is not its JSON output ({e}): {}",
            crate::excerpt(body)
        )
    })?;
    let r = v
        .get("esearchresult")
        .ok_or_else(|| "NCBI ESearch's answer has no `esearchresult`".to_string())?;
    if let Some(err) = r.get("ERROR").and_then(Value::as_str) {
        return Err(format!("NCBI ESearch refused the search: {err}"));
    }
    let number = |key: &str| -> Result<u64, String> {
        match r.get(key) {
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        }
        .ok_or_else(|| format!("NCBI ESearch's answer has no valid `{key}`"))
    };
    let small = |key: &str| -> Result<u32, String> {
        u32::try_from(number(key)?).map_err(|_| format!("NCBI ESearch's `{key}` is out of range"))
    };
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let translations = r
        .get("translationset")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| {
                    Some(Translation {
                        from: t.get("from")?.as_str()?.to_string(),
                        to: t.get("to")?.as_str()?.to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut warnings = Vec::new();
    for (list, key, label) in [
        ("errorlist", "phrasesnotfound", "phrase not found"),
        ("errorlist", "fieldsnotfound", "field not found"),
        ("warninglist", "phrasesignored", "phrase ignored"),
        (
            "warninglist",
            "quotedphrasesnotfound",
            "quoted phrase not found",
        ),
    ] {
        for s in strings(r.get(list).and_then(|l| l.get(key))) {
            warnings.push(format!("{label}: {s}"));
        }
    }
    warnings.extend(strings(
        r.get("warninglist").and_then(|l| l.get("outputmessages")),
    ));
    Ok(Search {
        count: number("count")?,
        retmax: small("retmax")?,
        retstart: small("retstart")?,
        ids: strings(r.get("idlist")),
        query_translation: r
            .get("querytranslation")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        translations,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_shape() {
        let body = r#"{"header":{"type":"esearch","version":"0.3"},"esearchresult":{"count":"31","retmax":"2","retstart":"0","idlist":["7157","22059"],"translationset":[{"from":"human","to":"\"Homo sapiens\"[Organism] OR human[All Fields]"}],"translationstack":[],"querytranslation":"TP53[sym] AND (\"Homo sapiens\"[Organism] OR human[All Fields])","warninglist":{"phrasesignored":["and"],"quotedphrasesnotfound":[],"outputmessages":["No items found."]},"errorlist":{"phrasesnotfound":["zzqx"],"fieldsnotfound":[]}}}"#;
        let s = parse(body).unwrap();
        assert_eq!((s.count, s.retmax, s.retstart), (31, 2, 0));
        assert_eq!(s.ids, ["7157", "22059"]);
        assert_eq!(s.translations[0].from, "human");
        assert!(s.query_translation.starts_with("TP53[sym] AND"));
        assert_eq!(
            s.warnings,
            [
                "phrase not found: zzqx",
                "phrase ignored: and",
                "No items found."
            ]
        );
    }

    #[test]
    fn errors() {
        let e = parse(r#"{"header":{"type":"esearch","version":"0.3"},"esearchresult":{"ERROR":"Invalid db name specified: foo"}}"#).unwrap_err();
        assert_eq!(
            e,
            "NCBI ESearch refused the search: Invalid db name specified: foo"
        );
        assert!(parse("<html>").unwrap_err().contains("not its JSON output"));
        assert!(
            parse(r#"{"esearchresult":{"count":"x"}}"#)
                .unwrap_err()
                .contains("`count`")
        );
    }
}
