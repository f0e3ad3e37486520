//! The component glue: WIT bindings, the exported interface, and the HTTP
//! requests (through the host, which checks the policy and paces them).

bioai_sdk::generate!("bioai:ncbi/ncbi");

use crate::request::{DEFAULT_BASE_URL, Etiquette, efetch_url, esearch_url};
use crate::{esearch, fasta, service_error, validate};
use bioai_sdk::http::{self, Client};
use exports::bioai::ncbi::eutils::{self, FastaRecord, FetchResult, SearchResult, Translation};
use exports::bioai::plugin::metadata::{self, Annotations, PluginInfo, ToolInfo};
use exports::bioai::plugin::tool_details::{self, ToolDetail};

/// The plugin's name, as in its policy file `policies/ncbi.toml`.
const PLUGIN: &str = "ncbi";

struct Ncbi;

fn tool(name: &str, title: &str) -> ToolInfo {
    ToolInfo {
        name: name.into(),
        title: Some(title.into()),
        annotations: None,
    }
}

impl metadata::Guest for Ncbi {
    fn describe() -> PluginInfo {
        PluginInfo {
            namespace: Some("ncbi".into()),
            title: "NCBI E-utilities".into(),
            description: "Search NCBI Entrez databases (PubMed, Gene, Nucleotide, Protein, ...) \
                          and fetch sequence records, through the E-utilities REST service."
                .into(),
            version: env!("CARGO_PKG_VERSION").into(),
            annotations: Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: true,
            },
            tools: vec![
                tool("esearch", "Search an Entrez database"),
                tool("efetch", "Fetch records from NCBI"),
            ],
            pricing: None,
        }
    }
}

fn base() -> Result<String, String> {
    Ok(http::base_url("NCBI_BASE_URL", DEFAULT_BASE_URL)?)
}

/// GETs `url`, returning the body text of a 2xx answer.
fn fetch_text(url: &str, accept: &str) -> Result<String, String> {
    let response = Client::new(PLUGIN).get(url, &[("accept", accept)])?;
    let text = String::from_utf8_lossy(&response.body).into_owned();
    if !response.is_success() {
        return Err(service_error(response.status, &text));
    }
    Ok(text)
}

impl eutils::Guest for Ncbi {
    fn esearch(db: String, term: String, retmax: Option<u32>) -> Result<SearchResult, String> {
        validate::db(&db)?;
        let term = validate::term(&term)?;
        let retmax = validate::retmax(retmax)?;
        let url = esearch_url(&base()?, &db, term, retmax, &Etiquette::from_env());
        let body = fetch_text(&url, "application/json")?;
        let s = esearch::parse(&body)?;
        Ok(SearchResult {
            db,
            count: s.count,
            retmax: s.retmax,
            retstart: s.retstart,
            ids: s.ids,
            query_translation: s.query_translation,
            translations: s
                .translations
                .into_iter()
                .map(|t| Translation {
                    from: t.from,
                    to: t.to,
                })
                .collect(),
            warnings: s.warnings,
        })
    }

    fn efetch(
        db: String,
        ids: Vec<String>,
        rettype: Option<String>,
    ) -> Result<FetchResult, String> {
        validate::fetch_db(&db)?;
        let ids = validate::ids(&ids)?;
        let rettype = validate::rettype(&db, rettype.as_deref())?.to_string();
        let url = efetch_url(&base()?, &db, &ids, &rettype, &Etiquette::from_env());
        let raw = fetch_text(&url, "text/plain")?;
        let records = if validate::is_fasta(&rettype) {
            fasta::parse(&raw)
                .map_err(|line| {
                    format!(
                        "NCBI EFetch did not return FASTA: {}",
                        crate::excerpt(&line)
                    )
                })?
                .into_iter()
                .map(|r| FastaRecord {
                    length: u32::try_from(r.sequence.len()).unwrap_or(u32::MAX),
                    id: r.id,
                    description: r.description,
                    sequence: r.sequence,
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(FetchResult {
            db,
            rettype,
            records,
            raw,
        })
    }
}

impl tool_details::Guest for Ncbi {
    fn tool_details() -> Vec<ToolDetail> {
        bioai_sdk::argument_details! {
            "esearch" => [
                ("db", "the Entrez database, e.g. pubmed, gene, nuccore, protein", None),
                ("term", "the Entrez query, e.g. BRAF[gene] AND human[orgn]", None),
                ("retmax", "how many ids to return, 0 to 10000", Some(validate::DEFAULT_RETMAX.to_string())),
            ],
            "efetch" => [
                ("db", "the sequence database: nuccore (nucleotide) or protein", None),
                ("ids", "1 to 200 UIDs from esearch or accessions", None),
                ("rettype", "the format: fasta, fasta_cds_na, fasta_cds_aa, gb, gbwithparts, gp or acc", Some(format!("{:?}", validate::DEFAULT_RETTYPE))),
            ],
        }
    }
}

export!(Ncbi);
