//! The component glue: WIT bindings, the exported interface, and the HTTP
//! request (through the host, which checks the policy).

bioai_sdk::generate!("bioai:uniprot/uniprot");

use crate::{DEFAULT_BASE_URL, accession, entry, entry_url, service_error};
use bioai_sdk::http::{self, Client};
use exports::bioai::plugin::metadata::{self, Annotations, PluginInfo, ToolInfo};
use exports::bioai::plugin::tool_details::{self, ToolDetail};
use exports::bioai::uniprot::uniprotkb::{self, CrossReference, Organism, ProteinEntry};

/// The plugin's name, as in its policy file `policies/uniprot.toml`.
const PLUGIN: &str = "uniprot";

struct Uniprot;

impl metadata::Guest for Uniprot {
    fn describe() -> PluginInfo {
        PluginInfo {
            namespace: Some("uniprot".into()),
            title: "UniProtKB".into(),
            description: "Protein entries from UniProtKB (Swiss-Prot and TrEMBL): names, genes, \
                          organism, sequence, function and key cross-references."
                .into(),
            version: env!("CARGO_PKG_VERSION").into(),
            annotations: Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: true,
            },
            tools: vec![ToolInfo {
                name: "entry".into(),
                title: Some("UniProtKB entry".into()),
                annotations: None,
            }],
            pricing: None,
        }
    }
}

impl uniprotkb::Guest for Uniprot {
    fn entry(accession: String) -> Result<ProteinEntry, String> {
        let acc = accession::check(&accession)?;
        let base = http::base_url("UNIPROT_BASE_URL", DEFAULT_BASE_URL)?;
        let response =
            Client::new(PLUGIN).get(&entry_url(&base, &acc), &[("accept", "application/json")])?;
        let body = String::from_utf8_lossy(&response.body);
        if !response.is_success() {
            return Err(service_error(response.status, &acc, &body));
        }
        let e = entry::parse(&body, &acc)?;
        Ok(ProteinEntry {
            accession: e.accession,
            secondary_accessions: e.secondary_accessions,
            id: e.id,
            reviewed: e.reviewed,
            protein_name: e.protein_name,
            gene_names: e.gene_names,
            organism: Organism {
                scientific_name: e.organism,
                common_name: e.common_name,
                taxon_id: e.taxon_id,
            },
            sequence: e.sequence,
            length: e.length,
            protein_existence: e.protein_existence,
            function: e.function,
            cross_references: e
                .cross_references
                .into_iter()
                .map(|(database, id)| CrossReference { database, id })
                .collect(),
        })
    }
}

impl tool_details::Guest for Uniprot {
    fn tool_details() -> Vec<ToolDetail> {
        bioai_sdk::argument_details! {
            "entry" => [
                ("accession", "a UniProtKB accession, e.g. P69905 or A0A023GPI8 (no isoform suffix, no entry name)", None),
            ],
        }
    }
}

export!(Uniprot);
