//! Argument checks: each error names the argument and says what is allowed.

use bioai_sdk::ToolError;

/// Entrez databases (EInfo's list), lowercase.
pub const DATABASES: &[&str] = &[
    "annotinfo",
    "assembly",
    "biocollections",
    "bioproject",
    "biosample",
    "blastdbinfo",
    "books",
    "cdd",
    "clinvar",
    "dbvar",
    "gap",
    "gapplus",
    "gds",
    "gene",
    "genome",
    "geoprofiles",
    "grasp",
    "gtr",
    "ipg",
    "medgen",
    "mesh",
    "nlmcatalog",
    "nuccore",
    "nucleotide",
    "omim",
    "orgtrack",
    "pcassay",
    "pccompound",
    "pcsubstance",
    "pmc",
    "popset",
    "protein",
    "proteinclusters",
    "protfam",
    "pubmed",
    "seqannot",
    "snp",
    "sra",
    "structure",
    "taxonomy",
];

/// The databases `efetch` serves sequences from.
pub const SEQUENCE_DATABASES: &[&str] = &["nuccore", "nucleotide", "protein", "popset"];

/// The formats `efetch` accepts.
pub const RETTYPES: &[&str] = &[
    "fasta",
    "fasta_cds_na",
    "fasta_cds_aa",
    "gb",
    "gbwithparts",
    "gp",
    "acc",
];

/// The efetch format when the call names none.
pub const DEFAULT_RETTYPE: &str = "fasta";

/// The longest search term accepted, in characters.
pub const MAX_TERM_CHARS: usize = 4000;
/// The largest `retmax` ESearch serves.
pub const MAX_RETMAX: u32 = 10_000;
/// The default `retmax`.
pub const DEFAULT_RETMAX: u32 = 20;
/// The most ids one `efetch` sends (NCBI asks for POST beyond ~200).
pub const MAX_IDS: usize = 200;
/// The longest id accepted.
pub const MAX_ID_CHARS: usize = 64;

/// `db` is a known Entrez database.
pub fn db(db: &str) -> Result<(), ToolError> {
    if DATABASES.contains(&db) {
        return Ok(());
    }
    let lower = db.trim().to_ascii_lowercase();
    let hint = if DATABASES.contains(&lower.as_str()) {
        format!("write it in lowercase without spaces: `{lower}`")
    } else {
        "use an Entrez database such as pubmed, gene, nuccore, protein, taxonomy, snp or clinvar"
            .to_string()
    };
    Err(ToolError::invalid_argument(
        "db",
        format!("`{db}` is not an Entrez database: {hint}"),
    ))
}

/// `db` is a database `efetch` can fetch sequences from.
pub fn fetch_db(db: &str) -> Result<(), ToolError> {
    self::db(db)?;
    if SEQUENCE_DATABASES.contains(&db) {
        Ok(())
    } else {
        Err(ToolError::invalid_argument(
            "db",
            format!(
                "efetch serves the sequence databases {}; `{db}` is not one of them (search it with esearch)",
                SEQUENCE_DATABASES.join(", ")
            ),
        ))
    }
}

/// The search term: not blank, at most [`MAX_TERM_CHARS`], no control
/// characters. Returns it trimmed.
pub fn term(term: &str) -> Result<&str, ToolError> {
    let t = term.trim();
    if t.is_empty() {
        return Err(ToolError::invalid_argument(
            "term",
            "is empty: give an Entrez query such as `TP53[Gene Name] AND human[Organism]`",
        ));
    }
    let n = t.chars().count();
    if n > MAX_TERM_CHARS {
        return Err(ToolError::invalid_argument(
            "term",
            format!("is {n} characters long; at most {MAX_TERM_CHARS} are accepted"),
        ));
    }
    if let Some((i, c)) = t.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(ToolError::invalid_argument(
            "term",
            format!(
                "contains the control character U+{:04X} at position {}: write the query on one line",
                c as u32,
                i + 1
            ),
        ));
    }
    Ok(t)
}

/// `retmax` in `0..=MAX_RETMAX`, default [`DEFAULT_RETMAX`].
pub fn retmax(retmax: Option<u32>) -> Result<u32, ToolError> {
    match retmax {
        None => Ok(DEFAULT_RETMAX),
        Some(n) if n <= MAX_RETMAX => Ok(n),
        Some(n) => Err(ToolError::invalid_argument(
            "retmax",
            format!("{n} is more than ESearch returns at once: use 0 to {MAX_RETMAX}"),
        )),
    }
}

/// 1 to [`MAX_IDS`] ids of letters, digits, `_` and `.`.
pub fn ids(ids: &[String]) -> Result<Vec<&str>, ToolError> {
    if ids.is_empty() {
        return Err(ToolError::invalid_argument(
            "ids",
            "is empty: give at least one id, e.g. [\"NM_000546.6\"]",
        ));
    }
    if ids.len() > MAX_IDS {
        return Err(ToolError::invalid_argument(
            "ids",
            format!("has {} ids; fetch at most {MAX_IDS} per call", ids.len()),
        ));
    }
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let id = id.trim();
        let field = format!("ids[{i}]");
        if id.is_empty() {
            return Err(ToolError::invalid_argument(field, "is empty"));
        }
        if id.len() > MAX_ID_CHARS {
            return Err(ToolError::invalid_argument(
                field,
                format!(
                    "is {} characters long; ids have at most {MAX_ID_CHARS}",
                    id.len()
                ),
            ));
        }
        if let Some(c) = id
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.'))
        {
            return Err(ToolError::invalid_argument(
                field,
                format!(
                    "`{id}` contains {c:?}: ids are UIDs or accessions made of letters, digits, `_` and `.`, \
                     e.g. `NM_000546.6`"
                ),
            ));
        }
        out.push(id);
    }
    Ok(out)
}

/// The efetch format, default `fasta`, and whether it fits the database.
pub fn rettype<'a>(db: &str, rettype: Option<&'a str>) -> Result<&'a str, ToolError> {
    let r = rettype.unwrap_or(DEFAULT_RETTYPE);
    if !RETTYPES.contains(&r) {
        return Err(ToolError::invalid_argument(
            "rettype",
            format!("`{r}` is not supported: use one of {}", RETTYPES.join(", ")),
        ));
    }
    let nucleotide = matches!(db, "nuccore" | "nucleotide" | "popset");
    let ok = match r {
        "gp" => db == "protein",
        "gb" | "gbwithparts" | "fasta_cds_na" | "fasta_cds_aa" => nucleotide,
        _ => true,
    };
    if ok {
        Ok(r)
    } else {
        let fits = if nucleotide {
            "use gb for nucleotide records"
        } else {
            "use gp for protein records"
        };
        Err(ToolError::invalid_argument(
            "rettype",
            format!("`{r}` does not apply to db `{db}`: {fits}, or fasta"),
        ))
    }
}

/// Whether the format is FASTA, so the response is parsed into records.
pub fn is_fasta(rettype: &str) -> bool {
    rettype.starts_with("fasta")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(e: ToolError) -> String {
        String::from(e)
    }

    #[test]
    fn databases() {
        assert!(db("pubmed").is_ok() && db("nuccore").is_ok());
        let m = msg(db("PubMed").unwrap_err());
        assert!(
            m.starts_with("invalid argument `db`") && m.contains("`pubmed`"),
            "{m}"
        );
        let m = msg(db("genbank").unwrap_err());
        assert!(m.contains("not an Entrez database"), "{m}");
        assert!(fetch_db("protein").is_ok());
        let m = msg(fetch_db("pubmed").unwrap_err());
        assert!(m.contains("sequence databases"), "{m}");
    }

    #[test]
    fn terms() {
        assert_eq!(term("  TP53[sym] ").unwrap(), "TP53[sym]");
        assert!(msg(term(" ").unwrap_err()).starts_with("invalid argument `term`: is empty"));
        assert!(msg(term(&"a".repeat(4001)).unwrap_err()).contains("4001 characters"));
        assert!(term(&"a".repeat(4000)).is_ok());
        let m = msg(term("a\nb").unwrap_err());
        assert!(m.contains("U+000A at position 2"), "{m}");
    }

    #[test]
    fn retmax_range() {
        assert_eq!(retmax(None).unwrap(), 20);
        assert_eq!(retmax(Some(0)).unwrap(), 0);
        assert_eq!(retmax(Some(10_000)).unwrap(), 10_000);
        let m = msg(retmax(Some(10_001)).unwrap_err());
        assert!(m.starts_with("invalid argument `retmax`"), "{m}");
    }

    #[test]
    fn id_lists() {
        let good = vec!["NM_000546.6".to_string(), " 1798174254 ".to_string()];
        assert_eq!(ids(&good).unwrap(), ["NM_000546.6", "1798174254"]);
        assert!(msg(ids(&[]).unwrap_err()).contains("`ids`: is empty"));
        let many: Vec<String> = (0..201).map(|i| i.to_string()).collect();
        assert!(msg(ids(&many).unwrap_err()).contains("201 ids"));
        let m = msg(ids(&["NM_1".into(), "a,b".into()]).unwrap_err());
        assert!(
            m.starts_with("invalid argument `ids[1]`") && m.contains("','"),
            "{m}"
        );
        assert!(msg(ids(&["x".repeat(65)]).unwrap_err()).contains("`ids[0]`"));
    }

    #[test]
    fn formats() {
        assert_eq!(rettype("nuccore", None).unwrap(), "fasta");
        assert_eq!(rettype("protein", Some("gp")).unwrap(), "gp");
        assert_eq!(rettype("nuccore", Some("gb")).unwrap(), "gb");
        let m = msg(rettype("protein", Some("gb")).unwrap_err());
        assert!(
            m.starts_with("invalid argument `rettype`") && m.contains("gp"),
            "{m}"
        );
        let m = msg(rettype("nuccore", Some("xml")).unwrap_err());
        assert!(m.contains("not supported"), "{m}");
        assert!(is_fasta("fasta_cds_aa") && !is_fasta("gb"));
    }
}
