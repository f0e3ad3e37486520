//! Ensembl's `lookup/symbol` JSON, e.g. (documented example, trimmed):
//!
//! ```json
//! {"source": "ensembl_havana", "object_type": "Gene", "logic_name": "ensembl_havana_gene_homo_sapiens",
//!  "version": 14, "species": "homo_sapiens", "display_name": "BRAF", "assembly_name": "GRCh38",
//!  "description": "B-Raf proto-oncogene, serine/threonine kinase [Source:HGNC Symbol;Acc:HGNC:1097]",
//!  "biotype": "protein_coding", "db_type": "core", "seq_region_name": "7", "start": 140719327,
//!  "end": 140924929, "strand": -1, "id": "ENSG00000157764", "canonical_transcript": "ENST00000646891.2"}
//! ```

use serde_json::Value;

/// The gene fields the tool returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gene {
    /// Stable id.
    pub id: String,
    /// Stable id version.
    pub version: Option<u32>,
    /// Display name.
    pub display_name: String,
    /// Object type.
    pub object_type: String,
    /// Biotype.
    pub biotype: String,
    /// Species.
    pub species: String,
    /// Assembly.
    pub assembly: String,
    /// Sequence region.
    pub seq_region: String,
    /// Start, 1-based.
    pub start: u64,
    /// End, 1-based inclusive.
    pub end: u64,
    /// 1 or -1.
    pub strand: i8,
    /// Description.
    pub description: Option<String>,
    /// Canonical transcript.
    pub canonical_transcript: Option<String>,
    /// Annotation source.
    pub source: Option<String>,
}

/// Parses the body; the error is a sentence for the caller.
pub fn parse(body: &str) -> Result<Gene, String> {
    let v: Value = serde_json::from_str(body)
        .map_err(|e| format!("Ensembl sent something that is not its JSON lookup output ({e})"))?;
    let missing = |k: &str| format!("Ensembl's lookup answer has no valid `{k}`");
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let need = |k: &str| text(k).ok_or_else(|| missing(k));
    let num = |k: &str| v.get(k).and_then(Value::as_u64).ok_or_else(|| missing(k));
    let strand = v
        .get("strand")
        .and_then(Value::as_i64)
        .filter(|s| *s == 1 || *s == -1)
        .ok_or_else(|| missing("strand"))? as i8;
    let start = num("start")?;
    let end = num("end")?;
    if end < start {
        return Err(format!(
            "Ensembl's lookup answer has end {end} before start {start}"
        ));
    }
    Ok(Gene {
        id: need("id")?,
        version: v
            .get("version")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        display_name: text("display_name").unwrap_or_default(),
        object_type: text("object_type").unwrap_or_else(|| "Gene".into()),
        biotype: text("biotype").unwrap_or_default(),
        species: need("species")?,
        assembly: need("assembly_name")?,
        seq_region: need("seq_region_name")?,
        start,
        end,
        strand,
        description: text("description").filter(|d| !d.is_empty()),
        canonical_transcript: text("canonical_transcript"),
        source: text("source"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_shape() {
        let g = parse(r#"{"source":"ensembl_havana","object_type":"Gene","logic_name":"ensembl_havana_gene_homo_sapiens","version":14,"species":"homo_sapiens","display_name":"BRAF","assembly_name":"GRCh38","description":"B-Raf proto-oncogene, serine/threonine kinase [Source:HGNC Symbol;Acc:HGNC:1097]","biotype":"protein_coding","db_type":"core","seq_region_name":"7","start":140719327,"end":140924929,"strand":-1,"id":"ENSG00000157764","canonical_transcript":"ENST00000646891.2"}"#).unwrap();
        assert_eq!(g.id, "ENSG00000157764");
        assert_eq!((g.start, g.end, g.strand), (140719327, 140924929, -1));
        assert_eq!(g.canonical_transcript.as_deref(), Some("ENST00000646891.2"));
        assert_eq!(g.version, Some(14));
    }

    #[test]
    fn bad_answers() {
        assert!(parse("[]").unwrap_err().contains("`strand`"));
        assert!(
            parse(r#"{"strand":1,"start":5,"end":4}"#)
                .unwrap_err()
                .contains("before start")
        );
        assert!(parse("nope").unwrap_err().contains("not its JSON"));
    }
}
