//! The component glue: WIT bindings, the exported interface, and the HTTP
//! request (through the host, which checks the policy and paces requests).

bioai_sdk::generate!("bioai:ensembl/ensembl");

use crate::{DEFAULT_BASE_URL, gene, lookup_url, service_error, validate};
use bioai_sdk::http::{self, Client};
use exports::bioai::ensembl::genes::{self, Gene};
use exports::bioai::plugin::metadata::{self, Annotations, PluginInfo, ToolInfo};
use exports::bioai::plugin::tool_details::{self, ToolDetail};

/// The plugin's name, as in its policy file `policies/ensembl.toml`.
const PLUGIN: &str = "ensembl";

struct Ensembl;

impl metadata::Guest for Ensembl {
    fn describe() -> PluginInfo {
        PluginInfo {
            namespace: Some("ensembl".into()),
            title: "Ensembl".into(),
            description: "Gene lookup in Ensembl: stable id, location, biotype, description and \
                          canonical transcript of a gene symbol in a species."
                .into(),
            version: env!("CARGO_PKG_VERSION").into(),
            annotations: Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: true,
            },
            tools: vec![ToolInfo {
                name: "lookup".into(),
                title: Some("Look up a gene by symbol".into()),
                annotations: None,
            }],
            pricing: None,
        }
    }
}

impl genes::Guest for Ensembl {
    fn lookup(symbol: String, species: Option<String>) -> Result<Gene, String> {
        let symbol = validate::symbol(&symbol)?;
        let species = validate::species(species.as_deref())?;
        let base = http::base_url("ENSEMBL_BASE_URL", DEFAULT_BASE_URL)?;
        let response = Client::new(PLUGIN).get(
            &lookup_url(&base, &species, symbol),
            &[("accept", "application/json")],
        )?;
        let body = String::from_utf8_lossy(&response.body);
        if !response.is_success() {
            return Err(service_error(
                response.status,
                symbol,
                &species,
                &body,
                response.header("retry-after"),
            ));
        }
        let g = gene::parse(&body)?;
        Ok(Gene {
            id: g.id,
            version: g.version,
            display_name: g.display_name,
            object_type: g.object_type,
            biotype: g.biotype,
            species: g.species,
            assembly: g.assembly,
            seq_region: g.seq_region,
            start: g.start,
            end: g.end,
            strand: g.strand,
            description: g.description,
            canonical_transcript: g.canonical_transcript,
            source: g.source,
        })
    }
}

impl tool_details::Guest for Ensembl {
    fn tool_details() -> Vec<ToolDetail> {
        bioai_sdk::argument_details! {
            "lookup" => [
                ("symbol", "the gene symbol, e.g. BRAF, HLA-A", None),
                ("species", "the species' production name or alias, lowercase (homo_sapiens, mus_musculus, human)", Some(format!("{:?}", crate::DEFAULT_SPECIES))),
            ],
        }
    }
}

export!(Ensembl);
