//! The component glue: WIT bindings and the exported interface.

bioai_sdk::generate!("bioai:restriction/restriction");

use crate::{golden_gate, sites};
use exports::bioai::plugin::metadata::{self, Annotations, PluginInfo, ToolInfo};
use exports::bioai::plugin::tool_details::{self, ToolDetail};
use exports::bioai::restriction::enzymes::{
    self as restriction, Assembly, EnzymeSites, Fragment, OverhangKind, Site, Strand,
};

struct Restriction;

fn tool(name: &str, title: &str) -> ToolInfo {
    ToolInfo {
        name: name.into(),
        title: Some(title.into()),
        annotations: None,
    }
}

impl metadata::Guest for Restriction {
    fn describe() -> PluginInfo {
        PluginInfo {
            namespace: Some("restriction".into()),
            title: "Restriction enzymes".into(),
            description: "Restriction sites, digests and Golden Gate assembly with the \
                          commercially available REBASE enzymes, Type IIS included."
                .into(),
            version: env!("CARGO_PKG_VERSION").into(),
            annotations: Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: false,
            },
            tools: vec![
                tool("find-sites", "Find restriction sites"),
                tool("digest", "Restriction digest"),
                tool("golden-gate", "Golden Gate assembly"),
            ],
            pricing: None,
        }
    }
}

impl restriction::Guest for Restriction {
    fn find_sites(
        sequence: String,
        enzymes: Vec<String>,
        circular: Option<bool>,
    ) -> Result<Vec<EnzymeSites>, String> {
        let all = sites::find_all(&sequence, &enzymes, circular.unwrap_or(false))?;
        Ok(all
            .into_iter()
            .map(|es| {
                let e = es.enzyme;
                let ov = e.overhang();
                EnzymeSites {
                    enzyme: e.name.into(),
                    recognition_site: e.site.into(),
                    palindromic: e.is_palindromic(),
                    top_offset: e.fst5,
                    bottom_offset: e.fst3,
                    overhang_kind: match ov {
                        x if x < 0 => OverhangKind::FivePrime,
                        x if x > 0 => OverhangKind::ThreePrime,
                        _ => OverhangKind::Blunt,
                    },
                    overhang_length: ov.unsigned_abs(),
                    suppliers: e.suppliers.into(),
                    sites: es
                        .sites
                        .into_iter()
                        .map(|s| Site {
                            position: s.position as u32,
                            strand: match s.strand {
                                sites::Strand::Forward => Strand::Forward,
                                sites::Strand::Reverse => Strand::Reverse,
                            },
                            top_cut: s.top_cut.map(|c| c as u32),
                            bottom_cut: s.bottom_cut.map(|c| c as u32),
                            overhang: s.overhang,
                        })
                        .collect(),
                }
            })
            .collect())
    }

    fn digest(
        sequence: String,
        enzymes: Vec<String>,
        circular: Option<bool>,
    ) -> Result<Vec<Fragment>, String> {
        let frags = sites::digest(&sequence, &enzymes, circular.unwrap_or(false))?;
        Ok(frags
            .into_iter()
            .map(|f| Fragment {
                start: f.start as u32,
                end: f.end as u32,
                length: f.length as u32,
                sequence: f.sequence,
                left_enzymes: f.left_enzymes,
                right_enzymes: f.right_enzymes,
            })
            .collect())
    }

    fn golden_gate(parts: Vec<String>, enzyme: Option<String>) -> Result<Assembly, String> {
        let a = golden_gate::assemble(
            &parts,
            enzyme.as_deref().unwrap_or(golden_gate::DEFAULT_ENZYME),
        )?;
        Ok(Assembly {
            enzyme: a.enzyme.into(),
            sequence: a.sequence,
            length: a.length as u32,
            order: a.order.into_iter().map(|i| i as u32).collect(),
            overhangs: a.overhangs,
        })
    }
}

impl tool_details::Guest for Restriction {
    fn tool_details() -> Vec<ToolDetail> {
        bioai_sdk::argument_details! {
            "find-sites" => [
                ("sequence", "DNA (A/C/G/T)", None),
                ("enzymes", "1 to 100 REBASE enzyme names, e.g. [\"EcoRI\", \"BsaI\"]", None),
                ("circular", "treat the sequence as circular (sites and cuts may wrap)", Some("false".into())),
            ],
            "digest" => [
                ("sequence", "DNA (A/C/G/T)", None),
                ("enzymes", "1 to 100 REBASE enzyme names", None),
                ("circular", "treat the sequence as circular (a plasmid)", Some("false".into())),
            ],
            "golden-gate" => [
                ("parts", "1 to 100 DNA parts (A/C/G/T) in assembly order", None),
                ("enzyme", "a Type IIS enzyme leaving a 5' overhang (BsaI, BsmBI, Esp3I, BbsI, SapI, ...)", Some(format!("{:?}", golden_gate::DEFAULT_ENZYME))),
            ],
        }
    }
}

export!(Restriction);
