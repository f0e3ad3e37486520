//! The component glue: WIT bindings and the exported interfaces.

bioai_sdk::generate!("bioai:crispr/crispr");

use crate::design::{self, Params};
use crate::{dna, offtarget, rule_set_1};
use bioai_sdk::ToolError;
use exports::bioai::crispr::guides::{
    self, Guide, GuideDesign, GuideFlags, OffTarget, OffTargetReport, Strand,
};
use exports::bioai::plugin::metadata::{self, Annotations, PluginInfo, ToolInfo};
use exports::bioai::plugin::tool_details::{self, ToolDetail};

struct Crispr;

fn tool(name: &str, title: &str) -> ToolInfo {
    ToolInfo {
        name: name.into(),
        title: Some(title.into()),
        annotations: None,
    }
}

fn strand(s: design::Strand) -> Strand {
    match s {
        design::Strand::Plus => Strand::Plus,
        design::Strand::Minus => Strand::Minus,
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl metadata::Guest for Crispr {
    fn describe() -> PluginInfo {
        PluginInfo {
            namespace: Some("crispr".into()),
            title: "CRISPR guide design".into(),
            description: "CRISPR-Cas9 guides: design on both strands with any IUPAC PAM, \
                          Doench 2014 Rule Set 1 on-target scores, and off-target search \
                          with MIT (Hsu 2013) hit scores and guide specificity."
                .into(),
            version: env!("CARGO_PKG_VERSION").into(),
            annotations: Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: false,
            },
            tools: vec![
                tool("design-guides", "Design CRISPR guides"),
                tool("rule-set1", "Rule Set 1 on-target score"),
                tool("off-targets", "Find off-target sites"),
            ],
            pricing: None,
        }
    }
}

impl tool_details::Guest for Crispr {
    fn tool_details() -> Vec<ToolDetail> {
        let d = Params::default();
        let mut details = bioai_sdk::argument_details! {
            "design-guides" => [
                ("sequence", "the region, DNA in IUPAC letters (up to 10 Mb); guides are designed on both strands", None),
                ("pam", "PAM pattern 3' of the protospacer, 1 to 8 IUPAC letters", Some(format!("{:?}", d.pam))),
                ("guide-length", "protospacer length, 16 to 30 nt (Rule Set 1 scores need 20 and a 3-nt PAM)", Some(d.guide_length.to_string())),
                ("min-gc", "lowest protospacer GC fraction not flagged (0.0-1.0)", Some(d.min_gc.to_string())),
                ("max-gc", "highest protospacer GC fraction not flagged (0.0-1.0)", Some(d.max_gc.to_string())),
                ("max-results", "how many ranked guides to return, 1 to 10000", Some(d.max_results.to_string())),
            ],
            "rule-set1" => [
                ("context30", "30 nt: 4 before the protospacer, the 20-nt protospacer, the NGG PAM, 3 after", None),
            ],
            "off-targets" => [
                ("guide", "the protospacer, A/C/G/T without the PAM", None),
                ("reference-fasta", "the reference: FASTA text, or the absolute path of a FASTA file in a directory the policy mounts", None),
                ("max-mismatches", "most mismatches a hit may have, 0 to 6", Some(offtarget::DEFAULT_MAX_MISMATCHES.to_string())),
            ],
        };
        // The public name is `crispr.rule_set_1`; a WIT word cannot start
        // with a digit, so the function is `rule-set1`.
        for detail in &mut details {
            if detail.tool == "rule-set1" {
                detail.name = Some("rule_set_1".into());
            }
        }
        details
    }
}

impl guides::Guest for Crispr {
    fn design_guides(
        sequence: String,
        pam: Option<String>,
        guide_length: Option<u32>,
        min_gc: Option<f64>,
        max_gc: Option<f64>,
        max_results: Option<u32>,
    ) -> Result<GuideDesign, String> {
        let d = Params::default();
        let params = Params {
            pam: pam.unwrap_or(d.pam),
            guide_length: guide_length.unwrap_or(d.guide_length),
            min_gc: min_gc.unwrap_or(d.min_gc),
            max_gc: max_gc.unwrap_or(d.max_gc),
            max_results: max_results.unwrap_or(d.max_results),
        };
        let out = design::design(&sequence, &params)?;
        bioai_sdk::log!(info, "designed guides"; length = sequence.len(), found = out.total_found);
        Ok(GuideDesign {
            guides: out
                .guides
                .into_iter()
                .map(|g| {
                    let mut flags = GuideFlags::empty();
                    if g.flags.poly_t {
                        flags |= GuideFlags::POLY_T;
                    }
                    if g.flags.homopolymer {
                        flags |= GuideFlags::HOMOPOLYMER;
                    }
                    if g.flags.gc_out_of_range {
                        flags |= GuideFlags::GC_OUT_OF_RANGE;
                    }
                    Guide {
                        protospacer: g.protospacer,
                        pam: g.pam,
                        strand: strand(g.strand),
                        start: to_u32(g.start),
                        gc: g.gc,
                        score: g.score,
                        flags,
                    }
                })
                .collect(),
            total_found: to_u32(out.total_found),
            total_passing: to_u32(out.total_passing),
        })
    }

    fn rule_set1(context30: String) -> Result<f64, String> {
        let s = dna::acgt_upper("context30", &context30)?;
        rule_set_1::score(&s).ok_or_else(|| {
            ToolError::invalid_argument(
                "context30",
                format!(
                    "is {} nt long; give exactly 30 nt: 4 nt, the 20-nt protospacer, \
                     the 3-nt PAM and 3 nt",
                    s.len()
                ),
            )
            .into()
        })
    }

    fn off_targets(
        guide: String,
        reference_fasta: String,
        max_mismatches: Option<u32>,
    ) -> Result<OffTargetReport, String> {
        let r = offtarget::off_targets(
            &guide,
            &reference_fasta,
            max_mismatches.unwrap_or(offtarget::DEFAULT_MAX_MISMATCHES),
        )?;
        bioai_sdk::log!(info, "searched off-targets"; bytes = reference_fasta.len(), hits = r.total_hits);
        let truncated = r.total_hits > r.hits.len();
        Ok(OffTargetReport {
            hits: r
                .hits
                .into_iter()
                .map(|h| OffTarget {
                    record_id: r.record_ids[h.record].clone(),
                    start: to_u32(h.start),
                    strand: strand(h.strand),
                    sequence: h.sequence,
                    pam: h.pam,
                    mismatches: to_u32(h.mismatch_positions.len()),
                    mismatch_positions: h.mismatch_positions,
                    mit_score: h.mit_score,
                })
                .collect(),
            total_hits: to_u32(r.total_hits),
            truncated,
            perfect_matches: to_u32(r.perfect_matches),
            specificity: r.specificity,
        })
    }
}

export!(Crispr);
