//! The UniProtKB JSON entry format (`/uniprotkb/{accession}.json`), reduced
//! to the fields the tool returns.

use serde_json::Value;

/// The databases whose cross-references the tool returns.
pub const KEY_DATABASES: &[&str] = &[
    "PDB",
    "AlphaFoldDB",
    "RefSeq",
    "Ensembl",
    "GeneID",
    "HGNC",
    "MIM",
    "KEGG",
    "Reactome",
    "Pfam",
    "InterPro",
];

/// An entry, as the tool returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Primary accession.
    pub accession: String,
    /// Secondary accessions.
    pub secondary_accessions: Vec<String>,
    /// Entry name.
    pub id: String,
    /// Swiss-Prot (true) or TrEMBL.
    pub reviewed: bool,
    /// Full protein name.
    pub protein_name: String,
    /// Gene names.
    pub gene_names: Vec<String>,
    /// Organism scientific name.
    pub organism: String,
    /// Organism common name.
    pub common_name: Option<String>,
    /// NCBI taxonomy id.
    pub taxon_id: u32,
    /// Sequence.
    pub sequence: String,
    /// Sequence length.
    pub length: u32,
    /// Protein existence level.
    pub protein_existence: Option<String>,
    /// FUNCTION comment text.
    pub function: Option<String>,
    /// (database, id) pairs of [`KEY_DATABASES`].
    pub cross_references: Vec<(String, String)>,
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// Parses an entry; `asked` is the accession requested, for messages. An
/// inactive (deleted or merged) entry is a "not found" error that says why.
pub fn parse(body: &str, asked: &str) -> Result<Entry, String> {
    let v: Value = serde_json::from_str(body)
        .map_err(|e| format!("UniProt sent something that is not a JSON entry ({e})"))?;
    let entry_type = str_at(&v, "/entryType").unwrap_or_default();
    if entry_type == "Inactive" {
        let reason = str_at(&v, "/inactiveReason/inactiveReasonType").unwrap_or("inactive");
        let into: Vec<&str> = v
            .pointer("/inactiveReason/mergeDemergeTo")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let detail = if into.is_empty() {
            String::new()
        } else {
            format!(" into {}; ask for that accession instead", into.join(", "))
        };
        return Err(format!(
            "not found: UniProtKB entry {asked} is no longer active ({}{detail})",
            reason.to_ascii_lowercase()
        ));
    }
    let missing = |what: &str| format!("UniProt's entry {asked} has no {what}");
    let accession = str_at(&v, "/primaryAccession")
        .ok_or_else(|| missing("primaryAccession"))?
        .to_string();
    let reviewed = entry_type.contains("reviewed") && !entry_type.contains("unreviewed");
    let protein_name = str_at(&v, "/proteinDescription/recommendedName/fullName/value")
        .or_else(|| str_at(&v, "/proteinDescription/submissionNames/0/fullName/value"))
        .unwrap_or_default()
        .to_string();

    let mut gene_names: Vec<String> = Vec::new();
    let mut push = |name: Option<&str>| {
        if let Some(n) = name
            && !gene_names.iter().any(|g| g == n)
        {
            gene_names.push(n.to_string());
        }
    };
    for gene in v
        .get("genes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        push(str_at(gene, "/geneName/value"));
        for key in ["synonyms", "orderedLocusNames", "orfNames"] {
            for n in gene
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                push(str_at(n, "/value"));
            }
        }
    }

    let sequence = str_at(&v, "/sequence/value")
        .ok_or_else(|| missing("sequence"))?
        .to_string();
    let length = v
        .pointer("/sequence/length")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or_else(|| u32::try_from(sequence.len()).unwrap_or(u32::MAX));

    let function: Vec<&str> = v
        .get("comments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| str_at(c, "/commentType") == Some("FUNCTION"))
        .flat_map(|c| {
            c.get("texts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(|t| str_at(t, "/value"))
        .collect();

    let cross_references = v
        .get("uniProtKBCrossReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|x| Some((str_at(x, "/database")?, str_at(x, "/id")?)))
        .filter(|(db, _)| KEY_DATABASES.contains(db))
        .map(|(db, id)| (db.to_string(), id.to_string()))
        .collect();

    Ok(Entry {
        accession,
        secondary_accessions: v
            .get("secondaryAccessions")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        id: str_at(&v, "/uniProtkbId").unwrap_or_default().to_string(),
        reviewed,
        protein_name,
        gene_names,
        organism: str_at(&v, "/organism/scientificName")
            .unwrap_or_default()
            .to_string(),
        common_name: str_at(&v, "/organism/commonName").map(str::to_string),
        taxon_id: v
            .pointer("/organism/taxonId")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| missing("organism taxonId"))?,
        sequence,
        length,
        protein_existence: str_at(&v, "/proteinExistence").map(str::to_string),
        function: (!function.is_empty()).then(|| function.join("\n\n")),
        cross_references,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduced_entry() {
        let body = r#"{
          "entryType": "UniProtKB reviewed (Swiss-Prot)",
          "primaryAccession": "P69905",
          "secondaryAccessions": ["P01922", "Q1HDT5"],
          "uniProtkbId": "HBA_HUMAN",
          "organism": {"scientificName": "Homo sapiens", "commonName": "Human", "taxonId": 9606},
          "proteinExistence": "1: Evidence at protein level",
          "proteinDescription": {"recommendedName": {"fullName": {"value": "Hemoglobin subunit alpha"}}},
          "genes": [{"geneName": {"value": "HBA1"}}, {"geneName": {"value": "HBA2"}, "synonyms": [{"value": "HBA1"}]}],
          "comments": [
            {"commentType": "FUNCTION", "texts": [{"value": "Involved in oxygen transport."}]},
            {"commentType": "SUBUNIT", "texts": [{"value": "Heterotetramer."}]}
          ],
          "uniProtKBCrossReferences": [
            {"database": "EMBL", "id": "V00488"},
            {"database": "PDB", "id": "1A00", "properties": [{"key": "Method", "value": "X-ray"}]},
            {"database": "GeneID", "id": "3039"}
          ],
          "sequence": {"value": "MVLSPADKTN", "length": 10}
        }"#;
        let e = parse(body, "P69905").unwrap();
        assert_eq!(e.accession, "P69905");
        assert_eq!(e.id, "HBA_HUMAN");
        assert!(e.reviewed);
        assert_eq!(e.gene_names, ["HBA1", "HBA2"]);
        assert_eq!(e.function.as_deref(), Some("Involved in oxygen transport."));
        assert_eq!(
            e.cross_references,
            [
                ("PDB".to_string(), "1A00".to_string()),
                ("GeneID".into(), "3039".into())
            ]
        );
        assert_eq!((e.taxon_id, e.length), (9606, 10));
    }

    #[test]
    fn unreviewed_and_inactive() {
        let body = r#"{"entryType":"UniProtKB unreviewed (TrEMBL)","primaryAccession":"A0A023GPI8","uniProtkbId":"A0A023GPI8_CANAL","organism":{"scientificName":"Canavalia lineata","taxonId":28957},"proteinDescription":{"submissionNames":[{"fullName":{"value":"Lectin alpha chain"}}]},"sequence":{"value":"ADT","length":3}}"#;
        let e = parse(body, "A0A023GPI8").unwrap();
        assert!(!e.reviewed);
        assert_eq!(e.protein_name, "Lectin alpha chain");
        assert_eq!(e.function, None);
        let m = parse(r#"{"entryType":"Inactive","primaryAccession":"P00001","inactiveReason":{"inactiveReasonType":"MERGED","mergeDemergeTo":["P99999"]}}"#, "P00001").unwrap_err();
        assert_eq!(
            m,
            "not found: UniProtKB entry P00001 is no longer active (merged into P99999; ask for that accession instead)"
        );
        assert!(parse("{}", "P1").unwrap_err().contains("primaryAccession"));
    }
}
