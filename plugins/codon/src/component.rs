//! The component glue: WIT bindings and the exported interface.

bioai_sdk::generate!("bioai:codon/codon");

use crate::optimize::{self, Host as H};
use crate::sites;
use exports::bioai::codon::optimizer::{self, Host, Optimized, SiteHit, SiteResult, Strand};
use exports::bioai::plugin::metadata::{self, Annotations, PluginInfo, ToolInfo};
use exports::bioai::plugin::tool_details::{self, ToolDetail};

struct Codon;

/// Site occurrences listed per site (all are counted).
const MAX_HITS_SHOWN: usize = 100;

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl metadata::Guest for Codon {
    fn describe() -> PluginInfo {
        PluginInfo {
            namespace: Some("codon".into()),
            title: "Codon optimization".into(),
            description: "Codon optimization of a protein or CDS for E. coli, yeast, human, \
                          mouse or CHO (Chinese hamster) with Kazusa codon usage, CAI \
                          before and after, and removal of unwanted sites on both strands."
                .into(),
            version: env!("CARGO_PKG_VERSION").into(),
            annotations: Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: false,
            },
            tools: vec![ToolInfo {
                name: "optimize".into(),
                title: Some("Codon-optimize a protein or CDS".into()),
                annotations: None,
            }],
            pricing: None,
        }
    }
}

impl optimizer::Guest for Codon {
    fn optimize(
        protein_or_cds: String,
        host: Option<Host>,
        avoid_sites: Option<Vec<String>>,
    ) -> Result<Optimized, String> {
        let host = match host.unwrap_or(Host::EColi) {
            Host::EColi => H::EColi,
            Host::SCerevisiae => H::SCerevisiae,
            Host::HSapiens => H::HSapiens,
            Host::MMusculus => H::MMusculus,
            Host::Cho => H::Cho,
        };
        let r = optimize::optimize(&protein_or_cds, host, &avoid_sites.unwrap_or_default())?;
        bioai_sdk::log!(
            info,
            "optimized";
            codons = r.cds.len() / 3,
            sites = r.sites.len(),
        );
        Ok(Optimized {
            cds: r.cds,
            protein: r.protein,
            cai_before: r.cai_before,
            cai_after: r.cai_after,
            gc_content: r.gc_content,
            codon_table: r.codon_table,
            sites: r
                .sites
                .into_iter()
                .map(|s| SiteResult {
                    site: s.site,
                    found: to_u32(s.found),
                    removed: s.remaining.is_empty(),
                    remaining_count: to_u32(s.remaining.len()),
                    remaining: s
                        .remaining
                        .into_iter()
                        .take(MAX_HITS_SHOWN)
                        .map(|h| SiteHit {
                            start: to_u32(h.start),
                            end: to_u32(h.end),
                            strand: match h.strand {
                                sites::Strand::Forward => Strand::Forward,
                                sites::Strand::Reverse => Strand::Reverse,
                                sites::Strand::Both => Strand::Both,
                            },
                        })
                        .collect(),
                })
                .collect(),
        })
    }
}

impl tool_details::Guest for Codon {
    fn tool_details() -> Vec<ToolDetail> {
        bioai_sdk::argument_details! {
            "optimize" => [
                ("protein-or-cds", "a protein (20 standard amino-acid letters, `*` for stop) or a CDS to re-code", None),
                ("host", "the expression host whose codon usage to follow", Some("\"e_coli\"".into())),
                ("avoid-sites", "DNA sites (IUPAC) to keep out of the optimized CDS, e.g. [\"GAATTC\"]", None),
            ],
        }
    }
}

export!(Codon);
